/// The element type of a .npy array, from its `descr` string (`'<f4'`, `'|u1'`, ...).
public struct NPYDType: Sendable, Equatable, CustomStringConvertible {
    /// Numeric kinds we convert from.
    public enum Kind: Character, Sendable { case float = "f", signed = "i", unsigned = "u", bool = "b" }
    /// Float, signed or unsigned integer, or bool.
    public let kind: Kind
    /// Bytes per element.
    public let size: Int
    /// The `descr` as written in the file.
    public let descr: String

    /// Parses a little-endian (or byte-order-free) numeric descr; throws for anything else.
    init(descr: String, file: String, role: String) throws(DataError) {
        var chars = Array(descr)
        var order: Character = "|"
        if let first = chars.first, "<>|=".contains(first) { order = first; chars.removeFirst() }
        guard let k = chars.first, let kind = Kind(rawValue: k), let size = Int(String(chars.dropFirst())) else {
            throw .unsupportedDtype(file: file, dtype: descr, role: role)
        }
        let valid: Set<Int> = switch kind {
        case .float: [2, 4, 8]
        case .signed, .unsigned: [1, 2, 4, 8]
        case .bool: [1]
        }
        guard valid.contains(size) else { throw .unsupportedDtype(file: file, dtype: descr, role: role) }
        if order == ">" && size > 1 { throw .bigEndian(file: file, dtype: descr) }
        self.kind = kind
        self.size = size
        self.descr = descr
    }

    public var description: String { descr }
}

/// The header of a .npy array (format versions 1.0, 2.0 and 3.0) and where its data starts.
///
/// Layout: magic `\x93NUMPY`, major and minor version bytes, header length (u16 little-endian
/// for 1.x, u32 for 2.x and 3.x), a Python dict literal with `descr`, `fortran_order` and
/// `shape`, padded with spaces and a newline; then the raw elements in C order.
public struct NPYHeader: Sendable, Equatable {
    /// The array's shape (`[]` for a scalar).
    public let shape: [Int]
    /// The element type.
    public let dtype: NPYDType
    /// Byte offset of the first element from the start of the .npy bytes.
    public let dataOffset: Int
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// Parses the header at the start of `bytes`; checks that the data is all present.
    /// `file` names the source in errors; `role` ("inputs"/"labels") names the array's use.
    public init(bytes: UnsafeRawBufferPointer, file: String, role: String) throws(DataError) {
        let r = ByteReader(bytes: bytes, file: file)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]      // \x93NUMPY
        guard bytes.count >= 6, Array(bytes[0..<6]) == magic else {
            if bytes.count < 6 && Array(bytes) == Array(magic.prefix(bytes.count)) {
                throw .truncated(file: file, what: "the .npy magic", expected: 10, actual: bytes.count)
            }
            throw .badMagic(file: file, expected: ".npy")
        }
        try r.need(6, 2, "the .npy version")
        let major = Int(bytes[6])
        let headerLength: Int, headerStart: Int
        switch major {
        case 1: headerLength = try r.u16(8, "the .npy header length"); headerStart = 10
        case 2, 3: headerLength = try r.u32(8, "the .npy header length"); headerStart = 12
        default: throw .badHeader(file: file, reason: "unknown format version \(major).\(bytes[7])")
        }
        let text = try r.string(headerStart, headerLength, "the .npy header")
        let dict = try NPYHeader.parseDict(text, file: file)

        guard let descrValue = dict["descr"] else { throw .badHeader(file: file, reason: "no 'descr' key in \(text)") }
        guard descrValue.first == "'" && descrValue.last == "'" && descrValue.count >= 2 else {
            throw .unsupportedDtype(file: file, dtype: descrValue, role: role)    // a structured dtype
        }
        let dtype = try NPYDType(descr: String(descrValue.dropFirst().dropLast()), file: file, role: role)

        guard let shapeValue = dict["shape"], shapeValue.first == "(", shapeValue.last == ")" else {
            throw .badHeader(file: file, reason: "no 'shape' tuple in \(text)")
        }
        var shape: [Int] = []
        for part in shapeValue.dropFirst().dropLast().split(separator: ",") {
            let trimmed = part.trimmingSpaces.filter { $0 != "L" }       // Python 2 wrote 3L
            if trimmed.isEmpty { continue }
            guard let d = Int(trimmed), d >= 0 else { throw .badHeader(file: file, reason: "bad shape \(shapeValue)") }
            shape.append(d)
        }
        switch dict["fortran_order"] {
        case "False": break
        case "True": if shape.filter({ $0 > 1 }).count > 1 { throw .fortranOrder(file: file) }
        default: throw .badHeader(file: file, reason: "no 'fortran_order' True/False in \(text)")
        }
        var bytesNeeded = dtype.size
        for d in shape {
            let (product, overflow) = bytesNeeded.multipliedReportingOverflow(by: d)
            guard !overflow, product <= Int.max / 2 else { throw .badHeader(file: file, reason: "shape \(shape) is too large") }
            bytesNeeded = product
        }
        bytesNeeded += headerStart + headerLength
        try r.need(0, bytesNeeded, "an array of shape \(shape) and dtype \(dtype)")
        self.shape = shape
        self.dtype = dtype
        self.dataOffset = headerStart + headerLength
    }

    /// Splits `{'a': x, 'b': (1, 2), }` into keys and raw value strings (quotes kept on
    /// string values, brackets kept on tuples and lists).
    static func parseDict(_ text: String, file: String) throws(DataError) -> [String: String] {
        let s = Array(text.trimmingSpaces)
        guard s.first == "{", let close = s.lastIndex(of: "}") else {
            throw .badHeader(file: file, reason: "header is not a dict: \(text)")
        }
        var result: [String: String] = [:]
        var i = 1
        func skipSpace() { while i < close, s[i] == " " || s[i] == "," || s[i] == "\n" { i += 1 } }
        while true {
            skipSpace()
            if i >= close { break }
            guard s[i] == "'" || s[i] == "\"", let end = s[(i + 1)...].firstIndex(of: s[i]) else {
                throw .badHeader(file: file, reason: "expected a quoted key at position \(i) of \(text)")
            }
            let key = String(s[(i + 1)..<end])
            i = end + 1
            while i < close, s[i] == " " { i += 1 }
            guard i < close, s[i] == ":" else { throw .badHeader(file: file, reason: "expected ':' after '\(key)' in \(text)") }
            i += 1
            while i < close, s[i] == " " { i += 1 }
            let start = i
            var depth = 0
            var quote: Character? = nil
            while i < close {
                let c = s[i]
                if let q = quote { if c == q { quote = nil } }
                else if c == "'" || c == "\"" { quote = c }
                else if c == "(" || c == "[" || c == "{" { depth += 1 }
                else if c == ")" || c == "]" || c == "}" { depth -= 1 }
                else if c == "," && depth == 0 { break }
                i += 1
            }
            var value = String(s[start..<i]).trimmingSpaces
            if value.first == "\"" && value.last == "\"" && value.count >= 2 {
                value = "'" + value.dropFirst().dropLast() + "'"
            }
            result[key] = value
        }
        return result
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and newlines.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
