import Testing
import SwData

/// The fingerprint ranks compare at start-up changes with the count, the shapes and the
/// content of a sampled sample, and not otherwise.
@Suite struct DataFingerprintTests {
    static func csv(_ rows: [String]) throws -> CSVDataset {
        try CSVDataset(contents: Array((["a,b,label"] + rows).joined(separator: "\n").utf8), path: "t.csv", labelColumn: .name("label"))
    }

    @Test func changesWithCountShapeAndContent() throws {
        let rows = (0..<10).map { "\($0).5,\($0 * 2),\($0 % 3)" }
        let base = DataFingerprint.of(try Self.csv(rows))
        let same = DataFingerprint.of(try Self.csv(rows))
        #expect(base.count == 10 && base == same)
        var edited = rows; edited[9] = "9.25,18,0"        // the last sample is always sampled
        let content = DataFingerprint.of(try Self.csv(edited))
        #expect(content.count == base.count && content.shapes == base.shapes && content.content != base.content)
        let fewer = DataFingerprint.of(try Self.csv(Array(rows.prefix(9))))
        #expect(fewer.count == 9 && fewer.content != base.content)
        let wider = DataFingerprint.of(try CSVDataset(contents: Array((["a,b,c,label"] + rows.map { "1," + $0 }).joined(separator: "\n").utf8),
                                                      path: "t.csv", labelColumn: .name("label")))
        #expect(wider.shapes != base.shapes)
    }
}
