import Foundation
import Testing
import SwData

@Suite struct CSVTests {
    func file(_ text: String) -> String {
        let url = temporaryFolder().appendingPathComponent("data.csv")
        try! text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func error(_ body: () throws -> Void) -> DataError? {
        do { try body(); return nil } catch { return error as? DataError }
    }

    @Test func headerAndLabelByName() throws {
        let path = file("a, b ,label,c\n1,2,0,3\n\n4.5,-5e-1,2,6\r\n\"7\",8,1,9\n")
        let d = try CSVDataset(path: path, labelColumn: "label", hasHeader: true)
        #expect(d.count == 3 && d.sampleShape == [3] && d.classes == 3)
        #expect(d.featureNames == ["a", "b", "c"])
        #expect(d.inputs.array == [1, 2, 3, 4.5, -0.5, 6, 7, 8, 9])
        #expect(d.targets.array == [0, 2, 1])
    }

    @Test func noHeaderAndLabelByIndex() throws {
        let path = file("1,2,3\n4,5,0")
        let last = try CSVDataset(path: path, labelColumn: -1, hasHeader: false)
        #expect(last.inputs.array == [1, 2, 4, 5] && last.targets.array == [3, 0] && last.classes == 4)
        let first = try CSVDataset(path: path, labelColumn: 0, hasHeader: false, sampleShape: [2, 1], classes: 5)
        #expect(first.inputs.array == [2, 3, 5, 0] && first.targets.array == [1, 4] && first.sampleShape == [2, 1])
    }

    @Test func errorsNameFileLineAndColumn() {
        let path = file("x,y,label\n1,2,0\n3,abc,1\n")
        let e = error { _ = try CSVDataset(path: path, labelColumn: "label") }
        #expect(e == .notNumeric(file: path, line: 3, column: 2, columnName: "y", cell: "abc"))
        let text = e.map { "\($0)" } ?? ""
        #expect(text.contains(path) && text.contains("line 3") && text.contains("column 2") && text.contains("\"y\""))

        let ragged = file("1,2,0\n3,1\n")
        #expect(error { _ = try CSVDataset(path: ragged, labelColumn: -1, hasHeader: false) }
                == .raggedRow(file: ragged, line: 2, expected: 3, actual: 2))

        let p2 = file("x,label\n1,0\n")
        if case .noSuchColumn(_, _, let available) = error({ _ = try CSVDataset(path: p2, labelColumn: "lable") }) {
            #expect(available == ["x", "label"])
        } else { Issue.record("expected noSuchColumn") }

        let p3 = file("x,label\n1,0\n2,1.5\n")
        if case .badLabel(_, 1, "1.5", nil) = error({ _ = try CSVDataset(path: p3, labelColumn: "label") }) {} else {
            Issue.record("expected badLabel")
        }
        let p4 = file("x,label\n1,0\n2,3\n")
        if case .badLabel(_, 1, "3", 3) = error({ _ = try CSVDataset(path: p4, labelColumn: "label", classes: 3) }) {} else {
            Issue.record("expected badLabel out of range")
        }
        let p5 = file("x,label\n")
        #expect(error { _ = try CSVDataset(path: p5, labelColumn: "label") } == .empty(file: p5))
        let p6 = file("a,b,label\n1,2,0\n")
        if case .shapeMismatch = error({ _ = try CSVDataset(path: p6, labelColumn: "label", sampleShape: [3]) }) {} else {
            Issue.record("expected shapeMismatch")
        }
    }
}
