import Foundation

/// Reads a data file for the CSV and text loaders and the vocabulary: like `readFileBytes`,
/// but a directory is `DataError.isDirectory` ("is a directory, expected a file").
func readDataFile(_ path: String) throws(DataError) -> Data {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        throw .isDirectory(file: path)
    }
    return try readFileBytes(path)
}

/// At most `width` characters of the line holding byte `offset` of `bytes`, around that
/// offset, with "…" where it is cut: what an error quotes instead of a whole (maybe huge,
/// maybe one-line) file.
func excerpt(_ bytes: UnsafeBufferPointer<UInt8>, around offset: Int, width: Int = 80) -> String {
    let end = bytes.count
    let at = min(max(offset, 0), end)
    func newline(_ c: UInt8) -> Bool { c == 10 || c == 13 }
    var lineStart = at
    while lineStart > 0 && !newline(bytes[lineStart - 1]) && at - lineStart < width / 2 { lineStart -= 1 }
    let cutLeft = lineStart > 0 && !newline(bytes[lineStart - 1])
    var lineEnd = lineStart
    while lineEnd < end && !newline(bytes[lineEnd]) && bytes[lineEnd] != 0 && lineEnd - lineStart < width { lineEnd += 1 }
    let cutRight = lineEnd < end && !newline(bytes[lineEnd]) && bytes[lineEnd] != 0
    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[lineStart..<lineEnd]), as: UTF8.self)
    return (cutLeft ? "…" : "") + text + (cutRight ? "…" : "")
}

/// `s` cut to `width` characters with a trailing "…".
func shortened(_ s: String, width: Int = 80) -> String {
    s.count <= width ? s : String(s.prefix(width)) + "…"
}
