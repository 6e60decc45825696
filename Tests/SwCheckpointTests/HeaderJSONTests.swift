import Testing
import SwCheckpoint
import SwConfig

/// The one JSON parser (SwConfig's) as the safetensors header and the config use it: integer
/// literals exact to 64 bits, duplicate keys named with their object's path, strict grammar.
@Suite struct HeaderJSONTests {
    static func file(_ header: String) -> [UInt8] {
        let h = Array(header.utf8)
        return withUnsafeBytes(of: UInt64(h.count).littleEndian) { [UInt8]($0) } + h
    }

    func numbers(_ text: String) throws -> [JSONNumber] {
        guard case .array(let items) = try JSON.parse(text) else { Issue.record("not an array"); return [] }
        return items.compactMap { if case .number(let n) = $0 { return n } else { return nil } }
    }

    /// 2^53 + 1 is the first integer a Double cannot hold; 2^64 - 1 and -2^63 are the ends of
    /// UInt64 and Int.
    @Test func integersAreExact() throws {
        let n = try numbers("[9007199254740993, 18446744073709551615, -9223372036854775808, 18446744073709551616, 2.5, 1e2, -0]")
        try #require(n.count == 7)
        #expect(n[0].uint64 == 9_007_199_254_740_993 && n[0].int == 9_007_199_254_740_993)
        #expect(n[1].uint64 == .max && n[1].int == nil)
        #expect(n[2].int == .min && n[2].uint64 == nil)
        #expect(n[3].isInteger && n[3].uint64 == nil && n[3].int == nil && n[3].double == 18446744073709551616.0)
        #expect(!n[4].isInteger && n[4].double == 2.5 && n[4].int == nil)
        #expect(!n[5].isInteger && n[5].double == 100 && n[5].uint64 == nil)
        #expect(n[6].int == 0 && n[6].uint64 == 0)
        #expect(JSON.number(n[0]).serialized() == "9007199254740993")
        #expect(JSON.number(n[1]).serialized() == "18446744073709551615")
        #expect(JSON.number(n[2]).serialized() == "-9223372036854775808")
        let minusFive = try JSON.parse("-5"), three = try JSON.parse("3")
        #expect(JSON.integer(-5) == minusFive && JSON.number(3, isInteger: true) == three)
    }

    /// A tensor's end offset past 2^53 is reported as written, not rounded through Double.
    @Test func offsetsPastDoublePrecisionAreExact() {
        let h = #"{"a":{"dtype":"U8","shape":[9007199254740993],"data_offsets":[0,9007199254740993]}}"#
        #expect(throws: CheckpointError.dataPastEnd(file: "big", tensor: "a", end: 9_007_199_254_740_993, bufferSize: 0)) {
            _ = try SafeTensorsFile(bytes: Self.file(h), name: "big")
        }
    }

    @Test func duplicateKeysAreNamedWithTheirPlace() throws {
        #expect(throws: CheckpointError.invalidMetadata(file: "d", reason: "key 'k' appears twice")) {
            _ = try SafeTensorsFile(bytes: Self.file(#"{"__metadata__":{"k":"1","k":"2"}}"#), name: "d")
        }
        #expect(throws: CheckpointError.invalidField(file: "d", tensor: "a", field: "dtype", reason: "appears twice")) {
            _ = try SafeTensorsFile(bytes: Self.file(#"{"a":{"dtype":"F32","dtype":"F32","shape":[],"data_offsets":[0,4]}}"#), name: "d")
        }
        do {
            _ = try JSON.parse(#"{"x": [1, {"k": 1, "k": 2}]}"#)
            Issue.record("duplicate key accepted")
        } catch {
            #expect(error.duplicateKey == "k" && error.path == ["x", "[1]"])
            #expect(error.line == 1 && error.column == 20 && error.offset == 19, "\(error)")
        }
        #expect {
            _ = try ConfigValue.parse("{\"seed\": 1,\n \"seed\": 2}", file: "c.json")
        } throws: { e in
            let d = (e as? ConfigError)?.description ?? ""
            return d.contains("c.json") && d.contains("duplicate key \"seed\"") && d.contains("line 2")
        }
    }

    @Test func grammarIsStrict() {
        for bad in ["01", "-01", "-", "1.", ".5", "1e", "[1,]", #"{"a":1,}"#, #""\ud800""#, #""\udc00x""#,
                    "\"\u{01}\"", "tru", "1 2", "[", #"{"a" 1}"#, "NaN"] {
            #expect(throws: JSONSyntaxError.self, "accepted \(bad)") { _ = try JSON.parse(bad) }
        }
        #expect(throws: JSONSyntaxError.self) { _ = try JSON.parse(String(repeating: "[", count: 65) + String(repeating: "]", count: 65), maxDepth: 64) }
        #expect((try? JSON.parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64), maxDepth: 64)) != nil)
        #expect((try? JSON.parse(#"["\ud83d\ude00", "\u00e9", 0, -0.5e-3]"#)) == .array([.string("😀"), .string("é"), .integer(0), .number(-0.0005, isInteger: false)]))
    }

    /// Strings are escaped as serde_json does, and read back the same.
    @Test func quoteRoundTrips() throws {
        let s = "a\"b\\c\u{08}\u{0C}\n\r\t\u{01}é😀/"
        #expect(JSON.quote(s) == #""a\"b\\c\b\f\n\r\t\u0001é😀/""#)
        #expect(try JSON.parse(JSON.quote(s)) == .string(s))
    }
}
