/// A configuration error that says where (file and JSON path, like `model.layers[3].units`),
/// what was expected and what was found, and how to fix it.
///
/// Printed by the CLI as `swtrain: error: <file>: <path>: <message>` followed by the hint,
/// with exit code 2.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// The file the value came from, when known.
    public var file: String?
    /// The JSON path of the offending value ("" for the whole document).
    public var path: String
    /// What is wrong: "expected a positive integer, got the integer -5".
    public var message: String
    /// How to fix it, when there is something useful to say.
    public var hint: String?
    /// The MPI rank that found the error, in a distributed run.
    public var rank: Int?

    public init(file: String? = nil, path: String, message: String, hint: String? = nil, rank: Int? = nil) {
        self.file = file
        self.path = path
        self.message = message
        self.hint = hint
        self.rank = rank
    }

    /// "expected X, got Y".
    public static func expected(_ expected: String, got actual: JSON, at path: String, file: String?, hint: String? = nil) -> ConfigError {
        ConfigError(file: file, path: path, message: "expected \(expected), got \(actual.describedForError)", hint: hint)
    }

    public var description: String {
        var parts: [String] = []
        if let rank { parts.append("rank \(rank)") }
        if let file { parts.append(file) }
        if !path.isEmpty { parts.append(path) }
        parts.append(message)
        var s = parts.joined(separator: ": ")
        if let hint { s += "\n  hint: \(hint)" }
        return s
    }
}

/// Edit distance, for "did you mean" suggestions.
public func levenshtein(_ a: String, _ b: String) -> Int {
    let x = Array(a.lowercased()), y = Array(b.lowercased())
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev = Array(0...y.count)
    var cur = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        cur[0] = i
        for j in 1...y.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[y.count]
}

/// The candidate nearest to `word` when it is near enough to be a likely typo.
public func nearest(_ word: String, in candidates: [String]) -> String? {
    let scored = candidates.map { ($0, levenshtein(word, $0)) }.min { $0.1 < $1.1 }
    guard let (best, d) = scored else { return nil }
    return d <= max(2, word.count / 3) ? best : nil
}
