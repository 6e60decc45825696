import Foundation

/// Reads a whole file (memory-mapped when the system allows), turning failures into
/// `DataError.unreadable` naming the file.
func readFileBytes(_ path: String) throws(DataError) -> Data {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw .unreadable(file: path, reason: "no such file")
    }
    if isDirectory.boolValue { throw .unreadable(file: path, reason: "is a directory") }
    do {
        return try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
    } catch {
        throw .unreadable(file: path, reason: posixReadFailure(path) ?? error.localizedDescription)
    }
}

/// Why `path` cannot be read, in POSIX words ("Permission denied", "Input/output error"),
/// found by opening and reading it again: Foundation on Linux says only "NSCocoaErrorDomain
/// error 256". Nil when the retry succeeds.
func posixReadFailure(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return String(cString: strerror(errno)) }
    defer { close(fd) }
    var byte: UInt8 = 0
    if read(fd, &byte, 1) < 0 { return String(cString: strerror(errno)) }
    return nil
}

/// Runs `body` on the bytes of `data`, keeping `body`'s typed error.
func withBytes<T>(_ data: Data, _ body: (UnsafeRawBufferPointer) throws(DataError) -> T) throws(DataError) -> T {
    let result: Result<T, DataError> = data.withUnsafeBytes { bytes in
        do throws(DataError) { return .success(try body(bytes)) } catch { return .failure(error) }
    }
    return try result.get()
}

/// Bounds-checked little-endian reads from a byte buffer; running past the end throws
/// `DataError.truncated` naming `file` and the part being read.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let file: String

    func need(_ offset: Int, _ count: Int, _ what: String) throws(DataError) {
        guard offset >= 0, count >= 0, offset <= bytes.count, count <= bytes.count - offset else {
            throw .truncated(file: file, what: what, expected: offset + count, actual: bytes.count)
        }
    }

    func u16(_ offset: Int, _ what: String) throws(DataError) -> Int {
        try need(offset, 2, what)
        return Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    func u32(_ offset: Int, _ what: String) throws(DataError) -> Int {
        try need(offset, 4, what)
        return Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
    }

    func u64(_ offset: Int, _ what: String) throws(DataError) -> Int {
        try need(offset, 8, what)
        let v = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        guard let i = Int(exactly: v), i >= 0 else {
            throw .truncated(file: file, what: what, expected: Int.max, actual: bytes.count)
        }
        return i
    }

    /// The bytes `offset..<offset+count` as a string (UTF-8, invalid bytes replaced).
    func string(_ offset: Int, _ count: Int, _ what: String) throws(DataError) -> String {
        try need(offset, count, what)
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]), as: UTF8.self)
    }
}
