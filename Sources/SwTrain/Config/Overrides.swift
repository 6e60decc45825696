import Foundation
import SwConfig

/// `--set key.path=value` overrides, applied to the JSON document before validation.
/// The path uses dots and `[i]` (`model.layers[0].units=64`); the value is read as JSON when
/// it parses (`0.1`, `true`, `[0.9, 0.99]`, `null`) and as a string otherwise.
enum Overrides {
    static func apply(_ assignment: String, to doc: JSON) throws(ConfigError) -> JSON {
        guard let eq = assignment.firstIndex(of: "="), eq != assignment.startIndex else {
            throw ConfigError(path: "", message: "--set expects key.path=value, got \"\(assignment)\"",
                              hint: "for example --set training.batch_size=64")
        }
        let key = String(assignment[..<eq])
        let text = String(assignment[assignment.index(after: eq)...])
        let value: JSON
        do {
            value = try JSON.parse(text)
        } catch {
            // Text that starts like an array, an object or a quoted string is meant as JSON.
            if let first = text.first(where: { !$0.isWhitespace }), "[{\"".contains(first) {
                throw ConfigError(path: key, message: "--set value \(JSON.quote(text)) is not valid JSON: \(error.description)",
                                  hint: "write arrays like [0.9, 0.99] and strings like '\"adam\"' (quote the whole --set argument for the shell)")
            }
            value = .string(text)
        }
        var parts: [Component] = []
        for piece in key.split(separator: ".", omittingEmptySubsequences: false) {
            var name = Substring(piece)
            var indices: [Int] = []
            while name.hasSuffix("]"), let open = name.lastIndex(of: "[") {
                guard let i = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]), i >= 0 else {
                    throw ConfigError(path: key, message: "bad index in --set path")
                }
                indices.insert(i, at: 0)
                name = name[..<open]
            }
            guard !name.isEmpty else { throw ConfigError(path: key, message: "empty key in --set path") }
            parts.append(.key(String(name)))
            parts += indices.map { .index($0) }
        }
        return try set(doc, parts[...], value, key)
    }

    enum Component { case key(String), index(Int) }

    private static func set(_ node: JSON, _ path: ArraySlice<Component>, _ value: JSON, _ full: String) throws(ConfigError) -> JSON {
        guard let head = path.first else { return value }
        switch (head, node) {
        case (.key(let k), .object(var o)):
            o[k] = try set(o[k] ?? .object(JSONObject()), path.dropFirst(), value, full)
            return .object(o)
        case (.key(let k), .null):
            var o = JSONObject()
            o[k] = try set(.object(JSONObject()), path.dropFirst(), value, full)
            return .object(o)
        case (.index(let i), .array(var a)):
            guard i < a.count else {
                throw ConfigError(path: full, message: "--set index \(i) is past the end of an array of \(a.count)")
            }
            a[i] = try set(a[i], path.dropFirst(), value, full)
            return .array(a)
        case (.key(let k), .array) where Int(k) != nil:
            throw ConfigError(path: full, message: "--set path: \"\(k)\" names an element of an array with a dot",
                              hint: "index arrays with brackets: \(full.replacingOccurrences(of: ".\(k)", with: "[\(k)]"))")
        default:
            throw ConfigError(path: full, message: "--set cannot follow this path: found \(node.describedForError)")
        }
    }
}
