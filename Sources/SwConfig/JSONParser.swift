/// Why a text is not JSON: where (1-based line and column, 0-based byte offset, and the path
/// of the object or array that holds the fault), and what.
public struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    /// Byte offset of the fault from the start of the text.
    public let offset: Int
    public let message: String
    /// Keys and `[index]`es from the root to the object or array holding the fault
    /// (empty at the top level).
    public internal(set) var path: [String]
    /// For a key written twice in one object (the object is at `path`), that key.
    public let duplicateKey: String?
    public var description: String { "line \(line), column \(column): \(message)" }
}

extension JSON {
    /// Parses JSON text (RFC 8259, strictly: no trailing commas, leading zeros, unescaped
    /// control characters, unpaired surrogates or duplicate keys). `maxDepth` bounds the
    /// nesting so hostile input cannot exhaust the stack.
    public static func parse(_ text: String, maxDepth: Int = 512) throws(JSONSyntaxError) -> JSON {
        var text = text
        let result = text.withUTF8 { utf8 in
            Result { () throws(JSONSyntaxError) -> JSON in try parse(UnsafeRawBufferPointer(utf8), maxDepth: maxDepth) }
        }
        return try result.get()
    }

    /// Parses UTF-8 bytes as one JSON value with optional surrounding whitespace (a safetensors
    /// header is padded with spaces). The bytes must be valid UTF-8 for strings to be exact.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 512) throws(JSONSyntaxError) -> JSON {
        var p = JSONParser(bytes: bytes, maxDepth: maxDepth)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        if p.i != bytes.count { throw p.fail("unexpected text after the JSON value") }
        return v
    }
}

/// A recursive-descent parser over UTF-8 bytes.
private struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    let maxDepth: Int
    var i = 0

    init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    func fail(_ message: String, duplicateKey: String? = nil) -> JSONSyntaxError {
        var line = 1, col = 1
        for b in bytes[0..<min(i, bytes.count)] {
            if b == UInt8(ascii: "\n") { line += 1; col = 1 } else { col += 1 }
        }
        return JSONSyntaxError(line: line, column: col, offset: i, message: message, path: [], duplicateKey: duplicateKey)
    }

    var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 }
    }

    mutating func value(depth: Int) throws(JSONSyntaxError) -> JSON {
        guard depth < maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        guard let c = peek else { throw fail("unexpected end of input, expected a value") }
        switch c {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw fail("unexpected character '\(Unicode.Scalar(c))', expected a value")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw fail("unexpected end of input in a literal") }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { throw fail("unexpected character, expected \(word)") }
        i += n
    }

    mutating func object(depth: Int) throws(JSONSyntaxError) -> JSON {
        i += 1
        var obj = JSONObject()
        skipSpace()
        if peek == UInt8(ascii: "}") { i += 1; return .object(obj) }
        while true {
            skipSpace()
            guard peek == UInt8(ascii: "\"") else { throw fail("expected a key in double quotes") }
            let keyStart = i
            let key = try string()
            if obj[key] != nil {
                i = keyStart
                throw fail("duplicate key \"\(key)\"", duplicateKey: key)
            }
            skipSpace()
            guard peek == UInt8(ascii: ":") else { throw fail("expected ':' after key \"\(key)\"") }
            i += 1
            skipSpace()
            do {
                obj[key] = try value(depth: depth + 1)
            } catch {
                var e = error
                e.path.insert(key, at: 0)
                throw e
            }
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "}"): i += 1; return .object(obj)
            case nil: throw fail("unexpected end of input inside an object")
            default: throw fail("expected ',' or '}' in an object")
            }
        }
    }

    mutating func array(depth: Int) throws(JSONSyntaxError) -> JSON {
        i += 1
        var items: [JSON] = []
        skipSpace()
        if peek == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipSpace()
            do {
                items.append(try value(depth: depth + 1))
            } catch {
                var e = error
                e.path.insert("[\(items.count)]", at: 0)
                throw e
            }
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "]"): i += 1; return .array(items)
            case nil: throw fail("unexpected end of input inside an array")
            default: throw fail("expected ',' or ']' in an array")
            }
        }
    }

    /// A number; integer literals accumulate their magnitude exactly (no text, no Double).
    mutating func number() throws(JSONSyntaxError) -> JSONNumber {
        let start = i
        let negative = peek == UInt8(ascii: "-")
        if negative { i += 1 }
        var magnitude: UInt64? = 0
        let digitsStart = i
        while let c = peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
            if let m = magnitude {
                let (t, o1) = m.multipliedReportingOverflow(by: 10)
                let (s, o2) = t.addingReportingOverflow(UInt64(c - UInt8(ascii: "0")))
                magnitude = o1 || o2 ? nil : s
            }
            i += 1
        }
        let intDigits = i - digitsStart
        if intDigits == 0 { throw fail("expected digits in a number") }
        if intDigits > 1, bytes[digitsStart] == UInt8(ascii: "0") {
            i = digitsStart + 1
            throw fail("leading zero in a number")
        }
        var isInteger = true
        if peek == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            if skipDigits() == 0 { throw fail("expected digits after '.'") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            isInteger = false
            i += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
            if skipDigits() == 0 { throw fail("expected digits in the exponent") }
        }
        if isInteger, magnitude != nil {
            return JSONNumber(integerMagnitude: magnitude, negative: negative, approximate: 0)
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        guard let d = Double(text) else { throw fail("bad number \(text)") }
        return isInteger ? JSONNumber(integerMagnitude: nil, negative: negative, approximate: d)
                         : JSONNumber(d, isInteger: false)
    }

    mutating func skipDigits() -> Int {
        let s = i
        while let c = peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { i += 1 }
        return i - s
    }

    mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("unexpected end of input in a \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw fail("bad \\u escape")
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }

    mutating func string() throws(JSONSyntaxError) -> String {
        i += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw fail("unterminated string") }
            i += 1
            switch c {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case 0..<0x20:
                i -= 1
                throw fail("control character in a string (write it as an escape)")
            case UInt8(ascii: "\\"):
                guard let e = peek else { throw fail("unterminated string") }
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
                        else { throw fail("unpaired surrogate in a \\u escape") }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate in a \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("unpaired surrogate in a \\u escape") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default:
                    throw fail("bad escape '\\\(Unicode.Scalar(e))' in a string")
                }
            default:
                out.append(c)
            }
        }
    }
}
