import Foundation

/// A character-level vocabulary: token `i` is the Unicode scalar `tokens[i]`.
///
/// Built from a text as its sorted unique Unicode scalars (by code point), so the same text
/// always gives the same ids. Its JSON form is `{"tokens": ["\n", " ", "!", ...]}`, saved next
/// to a checkpoint (`vocab.json`) so generation decodes with the ids the model was trained on.
public struct Vocabulary: Sendable, Equatable, Codable {
    /// The token strings, one Unicode scalar each, in id order.
    public let tokens: [String]
    private let scalars: [Unicode.Scalar]
    private let index: [Unicode.Scalar: Int]

    /// Characters not in the vocabulary, in order of first appearance.
    public struct UnknownCharacters: Error, Sendable, Equatable, CustomStringConvertible {
        public let characters: [String]
        public init(characters: [String]) { self.characters = characters }
        public var description: String {
            "characters not in the vocabulary: " + characters.map { $0.debugDescription }.joined(separator: ", ")
        }
    }

    /// A vocabulary of `tokens` (each one Unicode scalar, no repeats; a precondition).
    public init(tokens: [String]) {
        let s = tokens.map { t -> Unicode.Scalar in
            precondition(t.unicodeScalars.count == 1, "vocabulary token \(t.debugDescription) is not one Unicode scalar")
            return t.unicodeScalars.first!
        }
        self.init(scalars: s)
    }

    /// The sorted unique scalars of `text`.
    public init(text: String) {
        self.init(scalars: Set(text.unicodeScalars).sorted { $0.value < $1.value })
    }

    init(scalars: [Unicode.Scalar]) {
        var index: [Unicode.Scalar: Int] = [:]
        for (i, s) in scalars.enumerated() {
            precondition(index[s] == nil, "vocabulary token \(String(s).debugDescription) appears twice")
            index[s] = i
        }
        self.scalars = scalars
        self.index = index
        self.tokens = scalars.map { String($0) }
    }

    /// The number of tokens.
    public var count: Int { tokens.count }

    /// The id of each Unicode scalar of `text`.
    public func encode(_ text: String) throws(UnknownCharacters) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.unicodeScalars.count)
        var unknown: [String] = []
        for s in text.unicodeScalars {
            if let i = index[s] { ids.append(i) } else if !unknown.contains(String(s)) { unknown.append(String(s)) }
        }
        if !unknown.isEmpty { throw UnknownCharacters(characters: unknown) }
        return ids
    }

    /// The text of `ids` (each in `0..<count`; a precondition).
    public func decode(_ ids: [Int]) -> String {
        var view = String.UnicodeScalarView()
        for i in ids {
            precondition(i >= 0 && i < count, "token id \(i) outside the vocabulary 0..<\(count)")
            view.append(scalars[i])
        }
        return String(view)
    }

    // MARK: JSON: {"tokens": [...]}

    enum CodingKeys: String, CodingKey { case tokens }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let tokens = try c.decode([String].self, forKey: .tokens)
        if let bad = tokens.first(where: { $0.unicodeScalars.count != 1 }) {
            throw DecodingError.dataCorruptedError(forKey: .tokens, in: c,
                                                   debugDescription: "token \(bad.debugDescription) is not one Unicode scalar")
        }
        if Set(tokens).count != tokens.count {
            throw DecodingError.dataCorruptedError(forKey: .tokens, in: c, debugDescription: "repeated tokens")
        }
        self.init(tokens: tokens)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tokens, forKey: .tokens)
    }

    public static func == (a: Vocabulary, b: Vocabulary) -> Bool { a.tokens == b.tokens }

    /// The JSON form, `{"tokens": [...]}`.
    public func jsonData() -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        return try! e.encode(self)
    }

    /// Reads the JSON form; an error names the file.
    public static func load(path: String) throws(DataError) -> Vocabulary {
        let data = try readDataFile(path)
        do {
            return try JSONDecoder().decode(Vocabulary.self, from: data)
        } catch {
            throw .badVocabulary(file: path, reason: "\(error)")
        }
    }
}
