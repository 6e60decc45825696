/// A JSON value that keeps the order of object keys (so a resolved config is written back in
/// the order the user wrote it, and a safetensors header's tensors in file order) and keeps
/// integer literals exact (`JSONNumber`). The one JSON type of the package: configs, metrics
/// lines and safetensors headers all parse and print through it.
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    /// A number from a `Double`; `isInteger` prints it without a fraction.
    public static func number(_ value: Double, isInteger: Bool) -> JSON {
        .number(JSONNumber(value, isInteger: isInteger))
    }

    /// The exact integer `value`.
    public static func integer(_ value: Int) -> JSON { .number(JSONNumber(value)) }

    /// The value of a number as a `Double`, or nil when this is not a number.
    public var doubleValue: Double? {
        if case .number(let n) = self { return n.double }
        return nil
    }

    /// The JSON type's name ("object", "array", "string", "number", "boolean", "null").
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// A short name of the value's kind with the value, for error messages ("the string \"x\"").
    public var describedForError: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "the boolean \(b)"
        case .number(let n):
            if n.isInteger && n.int == nil && n.uint64 == nil { return "an integer beyond the 64-bit range (about \(n.double))" }
            return n.isInteger ? "the integer \(n)" : "the number \(n)"
        case .string(let s): return "the string \"\(s)\""
        case .array(let a): return "an array of \(a.count) element\(a.count == 1 ? "" : "s")"
        case .object: return "an object"
        }
    }
}

/// A JSON object with its keys in source order.
public struct JSONObject: Equatable, Sendable {
    public private(set) var keys: [String] = []
    private var values: [String: JSON] = [:]

    public init() {}

    public init(_ pairs: [(String, JSON)]) {
        for (k, v) in pairs { self[k] = v }
    }

    public subscript(key: String) -> JSON? {
        get { values[key] }
        set {
            if let v = newValue {
                if values[key] == nil { keys.append(key) }
                values[key] = v
            } else if values.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public var pairs: [(String, JSON)] { keys.map { ($0, values[$0]!) } }
    public var isEmpty: Bool { keys.isEmpty }
    public var count: Int { keys.count }
}

extension JSON {
    /// Compact or pretty JSON text. Exact integers print in digits; other numbers with
    /// enough digits to read back the same Double (NaN and infinities as null).
    public func serialized(pretty: Bool = false, indent: String = "") -> String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n):
            if n.double.isNaN || n.double.isInfinite { return "null" }
            return n.description
        case .string(let s): return JSON.quote(s)
        case .array(let a):
            if a.isEmpty { return "[]" }
            let scalarOnly = a.allSatisfy { if case .object = $0 { return false }; if case .array = $0 { return false }; return true }
            if !pretty || scalarOnly { return "[" + a.map { $0.serialized() }.joined(separator: pretty ? ", " : ",") + "]" }
            let inner = indent + "  "
            return "[\n" + a.map { inner + $0.serialized(pretty: true, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case .object(let o):
            if o.isEmpty { return "{}" }
            if !pretty { return "{" + o.pairs.map { JSON.quote($0.0) + ":" + $0.1.serialized() }.joined(separator: ",") + "}" }
            let inner = indent + "  "
            return "{\n" + o.pairs.map { inner + JSON.quote($0.0) + ": " + $0.1.serialized(pretty: true, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "}"
        }
    }

    /// A JSON string literal for `s`, escaped as serde_json does (the safetensors reference
    /// writer): `"` and `\` escaped, `\b \f \n \r \t` short forms, other control characters
    /// as `\u00xx`, everything else written as UTF-8.
    public static func quote(_ s: String) -> String {
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
}
