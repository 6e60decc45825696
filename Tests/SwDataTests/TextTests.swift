import Foundation
import Testing
import SwData
import SwTensor

@Suite struct VocabularyTests {
    @Test func sortedUniqueScalarsRoundTrip() throws {
        let v = Vocabulary(text: "hello, wörld\n")
        #expect(v.tokens == ["\n", " ", ",", "d", "e", "h", "l", "o", "r", "w", "ö"])
        let ids = try v.encode("world")
        #expect(ids == [9, 7, 8, 6, 3])
        #expect(v.decode(ids) == "world")
        #expect(v.decode(try v.encode("hello, wörld\n")) == "hello, wörld\n")
    }

    @Test func unknownCharactersAreNamed() {
        let v = Vocabulary(text: "abc")
        #expect(throws: Vocabulary.UnknownCharacters(characters: ["x", "Z"])) { try v.encode("axZbx") }
    }

    @Test func jsonForm() throws {
        let v = Vocabulary(text: "a\"b\n/é")
        let data = v.jsonData()
        let object = try JSONSerialization.jsonObject(with: data) as? [String: [String]]
        #expect(object == ["tokens": v.tokens])
        let url = temporaryFolder().appendingPathComponent("vocab.json")
        try data.write(to: url)
        #expect(try Vocabulary.load(path: url.path) == v)
        try Data(#"{"tokens": ["ab"]}"#.utf8).write(to: url)
        #expect {
            _ = try Vocabulary.load(path: url.path)
        } throws: { e in
            guard let e = e as? DataError, case .badVocabulary = e else { return false }
            return true
        }
    }
}

@Suite struct TextDatasetTests {
    func file(_ text: String) -> String {
        let url = temporaryFolder().appendingPathComponent("text.txt")
        try! Data(text.utf8).write(to: url)
        return url.path
    }

    @Test func windowsAndNextTokenTargets() throws {
        let text = "abcdefghijklmnopqrst"                          // 20 characters
        let path = file(text)
        let train = try TextDataset(path: path, context: 4, split: .train, validationFraction: 0.25)
        let valid = try TextDataset(path: path, context: 4, split: .validation, validationFraction: 0.25)
        #expect(train.vocabulary.count == 20 && train.classes == 20)
        #expect(valid.vocabulary == train.vocabulary)
        #expect(train.tokenCount == 15 && valid.tokenCount == 5)
        #expect(train.count == 11 && valid.count == 1)
        #expect(train.sampleShape == [4] && train.targetShape == [4])
        let (x, y) = train.batch([0, 10, 3])
        let v = train.vocabulary
        func str(_ t: Tensor, _ row: Int) -> String { v.decode((0..<4).map { Int(t[row, $0]) }) }
        #expect(str(x, 0) == "abcd" && str(y, 0) == "bcde")
        #expect(str(x, 1) == "klmn" && str(y, 1) == "lmno")     // the last train window ends at 'o'
        #expect(str(x, 2) == "defg" && str(y, 2) == "efgh")
        let (vx, vy) = valid.batch([0])
        #expect(str(vx, 0) == "pqrs" && str(vy, 0) == "qrst")
    }

    @Test func givenVocabularyAndUnknownCharacters() throws {
        let path = file("abba cab")
        let vocab = Vocabulary(tokens: [" ", "a", "b", "c", "z"])
        let d = try TextDataset(path: path, context: 3, validationFraction: 0, vocabulary: vocab)
        #expect(d.vocabulary.count == 5 && d.count == 5)
        #expect(throws: DataError.unknownCharacters(file: path, characters: ["c"])) {
            try TextDataset(path: path, context: 3, vocabulary: Vocabulary(tokens: [" ", "a", "b"]))
        }
    }

    @Test func errors() {
        #expect(throws: DataError.unreadable(file: "/nonexistent/t.txt", reason: "no such file")) {
            try TextDataset(path: "/nonexistent/t.txt", context: 4)
        }
        let path = file("0123456789")
        #expect(throws: DataError.textTooShort(file: path, split: "train", tokens: 10, context: 10)) {
            try TextDataset(path: path, context: 10, validationFraction: 0)
        }
        #expect(throws: DataError.textTooShort(file: path, split: "validation", tokens: 1, context: 2)) {
            try TextDataset(path: path, context: 2, split: .validation, validationFraction: 0.1)
        }
        let e = DataError.textTooShort(file: path, split: "validation", tokens: 1, context: 2)
        #expect(e.description.contains("at least 3") && e.hint != nil)
    }
}
