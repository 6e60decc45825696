import Foundation
import Testing
import SwConfig
import _TestSupport
@testable import SwData

/// Mutation fuzzing of the parsers of user files in SwData (CSV, text, vocabulary JSON) and
/// the config JSON parser: every input parses or throws the typed error; a trap ends the test
/// process (a failure) after `Fuzzer` wrote the input to its crash file. Messages stay short:
/// no error quotes more than a bounded part of the input.
/// `SWTRAIN_FUZZ_ITERATIONS=200000 swift test --filter FuzzTests` runs longer.
@Suite(.serialized) struct FuzzTests {
    static let csvSeeds: [String] = [
        "x,y,label\n1,2,0\n3.5,-4e-2,1\n",
        "\u{FEFF}\"a, b\",\"c \"\"d\"\"\",label\r\n\"1\",\" 2 \",0\r\n3 , \"4\" ,1\r\n",
        "1,2,3\r4,5,0\r",
        "x;y;label\n1;2;0\n",
        "a,\"multi\nline\",label\n1,2,1\n\n\n5,6,0",
        "x,label\n1,nan\n2,inf\n",
    ]
    static let csvTokens: [[UInt8]] = [",", "\"", "\"\"", "\n", "\r", "\r\n", ";", "\t", " ", "nan", "-inf", "1e39", "0x1p3",
                                       "label", "\u{FEFF}", "9999999999999999999999", "-", "."].map { Array($0.utf8) } + [[0], [0xFF]]

    /// Parses one input in each way of `variants` (all of them, even after a success) and
    /// returns whether any parsed; every refusal's message must stay under 1200 characters.
    static func parsesAny<Variant>(_ variants: [Variant], _ parse: (Variant) throws -> Void,
                                   sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        var ok = false
        for variant in variants {
            do {
                try parse(variant)
                ok = true
            } catch {
                #expect("\(error)".count < 1200, "\(String(describing: error).prefix(2000))", sourceLocation: sourceLocation)
            }
        }
        return ok
    }

    @Test func csv() {
        let report = Fuzzer.run("csv", seeds: FuzzTests.csvSeeds.map { Array($0.utf8) }, tokens: FuzzTests.csvTokens,
                                iterations: 15000) { input in
            FuzzTests.parsesAny([(CSVColumn.name("label"), true), (.index(-1), false), (.index(0), true)]) { column, header in
                let d = try CSVDataset(contents: input, path: "fuzz.csv", labelColumn: column, hasHeader: header,
                                       classes: header ? nil : 3)
                #expect(d.count > 0 && d.inputs.count == d.count * d.sampleSize)
            }
        }
        print(report)
        #expect(report.parsed > 0 && report.refused > 0, "\(report)")
    }

    @Test func text() {
        let seeds = ["hello world\nthe quick brown fox\n", "caf\u{E9} na\u{EF}ve \u{1F600}\n", "\u{FEFF}abcabcabc"]
            .map { Array($0.utf8) } + [[0x61, 0xE9, 0x62, 0x63, 0x64, 0x65]]
        let tokens: [[UInt8]] = [[0xC3], [0xA9], [0xE2, 0x82], [0xF0, 0x9F, 0x98, 0x80], [0xED, 0xA0, 0x80], [0xEF, 0xBB, 0xBF],
                                 [0xFF], [0x80], [0], [10], [13]]
        let vocab = Vocabulary(text: "abcdefghij \n")
        let report = Fuzzer.run("text", seeds: seeds, tokens: tokens, iterations: 15000) { input in
            FuzzTests.parsesAny([(2, TextDataset.Split.train, nil), (3, .validation, nil), (1, .train, vocab)]) {
                context, split, vocabulary in
                let d = try TextDataset(contents: Data(input), path: "fuzz.txt", context: context, split: split,
                                        validationFraction: 0.25, vocabulary: vocabulary)
                #expect(d.count > 0 && d.stream.count == d.tokenCount)
            }
        }
        print(report)
        #expect(report.parsed > 0 && report.refused > 0, "\(report)")
    }

    @Test func vocabularyJSON() {
        let seeds = [#"{"tokens": ["\n", " ", "a", "é"]}"#, #"{"tokens": []}"#, #"{"tokens": ["\u00e9", "\ud83d\ude00"]}"#]
            .map { Array($0.utf8) }
        let tokens: [[UInt8]] = ["\"", "\\", "\\u", "[", "]", "{", "}", ",", ":", "null", "\"ab\""].map { Array($0.utf8) }
        let report = Fuzzer.run("vocabulary", seeds: seeds, tokens: tokens, iterations: 20000) { input in
            do {
                let v = try JSONDecoder().decode(Vocabulary.self, from: Data(input))
                #expect(v.decode(try v.encode(v.tokens.joined())) == v.tokens.joined())
                return true
            } catch {
                return false
            }
        }
        print(report)
        #expect(report.parsed > 0 && report.refused > 0, "\(report)")
    }

    /// Found by `configJSON` (SWTRAIN_FUZZ_SEED=20261201): a high-surrogate escape followed by
    /// a `\u` escape that is not a low surrogate traps (UInt32 underflow of `low - 0xDC00` in
    /// `JSONParser.string`). The parser now refuses it as an unpaired surrogate; a trap would
    /// end the test process.
    @Test func highSurrogateFollowedByNonLowSurrogate() {
        for text in [#"{"k": "\ud800\u00e9\n"}"#, #""\udbff\u0041""#, #""\ud800\ud800""#] {
            #expect(throws: JSONSyntaxError.self) { try JSON.parse(text) }
        }
    }

    /// The config JSON parser (SwConfig): any text parses or throws `JSONSyntaxError`, and
    /// what parses serializes back to text that parses to the same value.
    @Test func configJSON() {
        let seeds = [
            #"{"name": "t", "seed": 1, "data": {"train": {"kind": "mnist1d", "samples": 200}}, "x": [1, 2.5, -3e-2, true, null, "\u00e9\n"]}"#,
            #"[[[[{"a": {"b": [1e308, -0.0, 123456789012345678901234567890]}}]]]]"#,
            "{\"k\": \"caf\u{E9} \\\"q\\\" \\\\ \\/ \\t\"}",
        ].map { Array($0.utf8) }
        let tokens: [[UInt8]] = ["{", "}", "[", "]", "\"", "\\", "\\u", "\\ud800", ":", ",", "1e999", "-", "0.", "true",
                                 "null", " ", "\n"].map { Array($0.utf8) } + [[0xFF], [0]]
        let report = Fuzzer.run("config-json", seeds: seeds, tokens: tokens, iterations: 40000) { input in
            do {
                let v = try JSON.parse(String(decoding: input, as: UTF8.self))
                let again = try JSON.parse(v.serialized())
                #expect(again.serialized() == v.serialized())
                return true
            } catch {
                #expect("\(error)".count < 1200)
                return false
            }
        }
        print(report)
        #expect(report.parsed > 0 && report.refused > 0, "\(report)")
    }
}
