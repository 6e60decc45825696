/// A JSON value together with where it came from, with typed accessors that throw a
/// `ConfigError` naming the path, the expected and the actual value.
public struct ConfigValue: Sendable {
    public let json: JSON
    /// The JSON path of this value ("model.layers[3]").
    public let path: String
    /// The file it was read from, when known.
    public let file: String?

    public init(_ json: JSON, path: String = "", file: String? = nil) {
        self.json = json
        self.path = path
        self.file = file
    }

    /// Parses a document; a syntax error names the file, line and column.
    public static func parse(_ text: String, file: String?) throws(ConfigError) -> ConfigValue {
        do {
            return ConfigValue(try JSON.parse(text), path: "", file: file)
        } catch {
            throw ConfigError(file: file, path: "", message: "invalid JSON at \(error.description)",
                              hint: "check for a missing comma or quote near that position")
        }
    }

    func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func fail(_ expected: String, hint: String? = nil) -> ConfigError {
        ConfigError.expected(expected, got: json, at: path, file: file, hint: hint)
    }

    public var isNull: Bool { if case .null = json { return true }; return false }

    /// This value as an object whose keys must all be in `allowed` (order is irrelevant).
    /// An unknown key is an error suggesting the nearest allowed one.
    public func object(allowed: [String]) throws(ConfigError) -> ConfigObject {
        guard case .object(let o) = json else { throw fail("an object") }
        ConfigSchema.report(.object(path: path, variant: ConfigSchema.variant(of: o, allowed: allowed), allowed: allowed))
        for key in o.keys where !allowed.contains(key) {
            let suggestion = nearest(key, in: allowed)
            throw ConfigError(file: file, path: childPath(key), message: "unknown key \"\(key)\"",
                              hint: suggestion.map { "did you mean \"\($0)\"? valid keys here: \(allowed.joined(separator: ", "))" }
                                ?? "valid keys here: \(allowed.joined(separator: ", "))")
        }
        return ConfigObject(object: o, path: path, file: file)
    }

    /// This value as an array of values with paths `path[i]`.
    public func array() throws(ConfigError) -> [ConfigValue] {
        guard case .array(let a) = json else { throw fail("an array") }
        return a.enumerated().map { ConfigValue($0.element, path: "\(path)[\($0.offset)]", file: file) }
    }

    /// An integer in `range`: an integer literal (read exactly), or a number whose value is
    /// integral (`2.0`, `1e2`).
    public func int(in range: ClosedRange<Int> = Int.min...Int.max, _ what: String? = nil) throws(ConfigError) -> Int {
        guard case .number(let n) = json, let i = n.int ?? Int(exactly: n.double) else {
            throw fail(what ?? describe(range, "an integer"))
        }
        guard range.contains(i) else { throw fail(what ?? describe(range, "an integer")) }
        return i
    }

    /// A finite number satisfying `check` (described by `what` in the error).
    public func double(_ what: String = "a number", where check: (Double) -> Bool = { _ in true }) throws(ConfigError) -> Double {
        guard case .number(let n) = json, n.double.isFinite, check(n.double) else { throw fail(what) }
        return n.double
    }

    /// A string, one of `choices` when given (the error suggests the nearest).
    public func string(oneOf choices: [String]? = nil) throws(ConfigError) -> String {
        if let choices { ConfigSchema.report(.choice(path: path, choices: choices)) }
        guard case .string(let s) = json else {
            throw fail(choices.map { "one of " + $0.map { "\"\($0)\"" }.joined(separator: ", ") } ?? "a string")
        }
        if let choices, !choices.contains(s) {
            let suggestion = nearest(s, in: choices)
            throw fail("one of " + choices.map { "\"\($0)\"" }.joined(separator: ", "),
                       hint: suggestion.map { "did you mean \"\($0)\"?" })
        }
        return s
    }

    /// A boolean.
    public func bool() throws(ConfigError) -> Bool {
        guard case .bool(let b) = json else { throw fail("true or false") }
        return b
    }

    /// An array of integers each in `range`.
    public func intArray(in range: ClosedRange<Int> = Int.min...Int.max) throws(ConfigError) -> [Int] {
        var out: [Int] = []
        for v in try array() { out.append(try v.int(in: range)) }
        return out
    }

    private func describe(_ r: ClosedRange<Int>, _ base: String) -> String {
        switch (r.lowerBound, r.upperBound) {
        case (Int.min, Int.max): return base
        case (1, Int.max): return "a positive integer"
        case (0, Int.max): return "a non-negative integer"
        case (let lo, Int.max): return "an integer >= \(lo)"
        default: return "an integer from \(r.lowerBound) to \(r.upperBound)"
        }
    }
}

/// An object read through `ConfigValue.object(allowed:)`: its keys are known to be valid.
public struct ConfigObject: Sendable {
    public let object: JSONObject
    public let path: String
    public let file: String?

    public init(object: JSONObject, path: String, file: String?) {
        self.object = object
        self.path = path
        self.file = file
    }

    func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The value at `key`, or nil when absent or null.
    public subscript(key: String) -> ConfigValue? {
        guard let v = object[key] else { return nil }
        if case .null = v { return nil }
        return ConfigValue(v, path: childPath(key), file: file)
    }

    /// The value at `key`; absent or null is an error saying what was expected.
    public func required(_ key: String, _ expected: String) throws(ConfigError) -> ConfigValue {
        guard let v = self[key] else {
            throw ConfigError(file: file, path: childPath(key), message: "missing required field (expected \(expected))")
        }
        return v
    }

    public func int(_ key: String, default def: Int? = nil, in range: ClosedRange<Int> = Int.min...Int.max) throws(ConfigError) -> Int {
        if let v = self[key] { return try v.int(in: range) }
        if let def { return def }
        throw ConfigError(file: file, path: childPath(key), message: "missing required field (expected an integer)")
    }

    public func optionalInt(_ key: String, in range: ClosedRange<Int> = Int.min...Int.max) throws(ConfigError) -> Int? {
        guard let v = self[key] else { return nil }
        return try v.int(in: range)
    }

    public func double(_ key: String, default def: Double? = nil, _ what: String = "a number",
                       where check: (Double) -> Bool = { _ in true }) throws(ConfigError) -> Double {
        if let v = self[key] { return try v.double(what, where: check) }
        if let def { return def }
        throw ConfigError(file: file, path: childPath(key), message: "missing required field (expected \(what))")
    }

    public func optionalDouble(_ key: String, _ what: String = "a number", where check: (Double) -> Bool = { _ in true }) throws(ConfigError) -> Double? {
        guard let v = self[key] else { return nil }
        return try v.double(what, where: check)
    }

    public func string(_ key: String, default def: String? = nil, oneOf choices: [String]? = nil) throws(ConfigError) -> String {
        if let choices { ConfigSchema.report(.choice(path: childPath(key), choices: choices)) }
        if let v = self[key] { return try v.string(oneOf: choices) }
        if let def { return def }
        let expected = choices.map { "one of " + $0.map { "\"\($0)\"" }.joined(separator: ", ") } ?? "a string"
        throw ConfigError(file: file, path: childPath(key), message: "missing required field (expected \(expected))")
    }

    public func optionalString(_ key: String, oneOf choices: [String]? = nil) throws(ConfigError) -> String? {
        if let choices { ConfigSchema.report(.choice(path: childPath(key), choices: choices)) }
        guard let v = self[key] else { return nil }
        return try v.string(oneOf: choices)
    }

    public func bool(_ key: String, default def: Bool) throws(ConfigError) -> Bool {
        guard let v = self[key] else { return def }
        return try v.bool()
    }
}
