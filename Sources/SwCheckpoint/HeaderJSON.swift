/// A JSON value as the safetensors header reader needs it: objects keep their keys in file
/// order with duplicates (so the reader can report them), numbers keep their text (so offsets
/// convert to integers exactly, with no trip through Double).
enum HeaderJSON {
    case object([(key: String, value: HeaderJSON)])
    case array([HeaderJSON])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    /// The JSON type's name, for error messages.
    var typeName: String {
        switch self {
        case .object: return "object"
        case .array: return "array"
        case .string: return "string"
        case .number: return "number"
        case .bool: return "boolean"
        case .null: return "null"
        }
    }

    /// A non-negative integer that fits in `Int`, or nil (fractions, exponents, signs, overflow).
    var nonNegativeInt: Int? {
        guard case let .number(text) = self, !text.isEmpty else { return nil }
        var n = 0
        for c in text.utf8 {
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int(c - UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            n = s
        }
        return n
    }
}

/// Why the header is not JSON, with the byte offset inside the header.
struct HeaderJSONError: Error {
    var message: String
    var offset: Int
}

/// A strict recursive-descent JSON parser (RFC 8259) over UTF-8 bytes, nesting limited so a
/// hostile header cannot exhaust the stack.
struct HeaderJSONParser {
    private let bytes: UnsafeRawBufferPointer
    private var i = 0
    private static let maxDepth = 64

    /// Parses `bytes` as one JSON value, allowing surrounding whitespace (the writer pads the
    /// header with spaces).
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(HeaderJSONError) -> HeaderJSON {
        var p = HeaderJSONParser(bytes: bytes)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        if p.i != bytes.count { throw p.fail("unexpected text after the JSON value") }
        return v
    }

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private func fail(_ message: String) -> HeaderJSONError { HeaderJSONError(message: message, offset: i) }

    private var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    private mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 }
    }

    private mutating func expect(_ literal: StaticString) throws(HeaderJSONError) {
        let n = literal.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw fail("truncated literal") }
        for k in 0..<n where bytes[i + k] != literal.utf8Start[k] { throw fail("invalid literal") }
        i += n
    }

    private mutating func value(depth: Int) throws(HeaderJSONError) -> HeaderJSON {
        guard depth < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
        guard let c = peek else { throw fail("unexpected end of header") }
        switch c {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character '\(Unicode.Scalar(c))'")
        }
    }

    private mutating func object(depth: Int) throws(HeaderJSONError) -> HeaderJSON {
        i += 1
        var members: [(key: String, value: HeaderJSON)] = []
        skipSpace()
        if peek == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard peek == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try string()
            skipSpace()
            guard peek == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            skipSpace()
            members.append((key, try value(depth: depth + 1)))
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "}"): i += 1; return .object(members)
            default: throw fail("expected ',' or '}'")
            }
        }
    }

    private mutating func array(depth: Int) throws(HeaderJSONError) -> HeaderJSON {
        i += 1
        var items: [HeaderJSON] = []
        skipSpace()
        if peek == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try value(depth: depth + 1))
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "]"): i += 1; return .array(items)
            default: throw fail("expected ',' or ']'")
            }
        }
    }

    private mutating func number() throws(HeaderJSONError) -> HeaderJSON {
        let start = i
        if peek == UInt8(ascii: "-") { i += 1 }
        func digits(_ p: inout HeaderJSONParser) -> Int {
            let s = p.i
            while let c = p.peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { p.i += 1 }
            return p.i - s
        }
        if peek == UInt8(ascii: "0") { i += 1 } else if digits(&self) == 0 { throw fail("invalid number") }
        if peek == UInt8(ascii: ".") {
            i += 1
            if digits(&self) == 0 { throw fail("invalid number") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            i += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
            if digits(&self) == 0 { throw fail("invalid number") }
        }
        return .number(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self))
    }

    private mutating func hex4() throws(HeaderJSONError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }

    private mutating func string() throws(HeaderJSONError) -> String {
        i += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw fail("unterminated string") }
            i += 1
            switch c {
            case UInt8(ascii: "\""):
                // The header was checked to be UTF-8 as a whole, so this cannot repair anything.
                return String(decoding: out, as: UTF8.self)
            case 0..<0x20:
                throw fail("control character in string")
            case UInt8(ascii: "\\"):
                guard let e = peek else { throw fail("unterminated escape") }
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard i + 2 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u")
                        else { throw fail("unpaired surrogate") }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("unpaired surrogate") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default:
                    throw fail("invalid escape '\\\(Unicode.Scalar(e))'")
                }
            default:
                out.append(c)
            }
        }
    }
}

/// JSON string literal for `s`, escaped as serde_json does (the safetensors reference writer):
/// `"` and `\` escaped, `\b \f \n \r \t` short forms, other control characters as `\u00xx`,
/// everything else written as UTF-8.
func jsonStringLiteral(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{00}"..."\u{1F}":
            let hex = String(u.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(u)
        }
    }
    return out + "\""
}
