import Foundation
import Testing
import SwData
import SwTensor

func dataError(_ body: () throws -> Void) -> DataError? {
    do { try body(); return nil } catch { return error as? DataError }
}

func csvFile(_ text: String, _ name: String = "data.csv") -> String {
    let url = temporaryFolder().appendingPathComponent(name)
    try! Data(text.utf8).write(to: url)
    return url.path
}

/// RFC 4180 syntax and the hints of `CSVDataset`.
@Suite struct CSVSyntaxTests {
    @Test func quotedFieldsEscapesAndEmbeddedNewlines() throws {
        let path = csvFile("\u{FEFF}\"a, the first\",\"b \"\"quoted\"\"\",\"la\nbel\"\r\n\"1\",\" 2 \",0\r\n3 , \"4\" ,1\r\n")
        let d = try CSVDataset(path: path, labelColumn: "la\nbel")
        #expect(d.featureNames == ["a, the first", "b \"quoted\""])
        #expect(d.inputs.array == [1, 2, 3, 4] && d.targets.array == [0, 1])
    }

    @Test(arguments: ["\n", "\r\n", "\r"])
    func lineEndings(_ eol: String) throws {
        let path = csvFile(["x,y,label", "1,2,0", "", "3,4,1", ""].joined(separator: eol))
        let d = try CSVDataset(path: path, labelColumn: "label")
        #expect(d.inputs.array == [1, 2, 3, 4] && d.targets.array == [0, 1])
        let bad = csvFile(["x,y,label", "1,2,0", "3,zz,1"].joined(separator: eol))
        #expect(dataError { _ = try CSVDataset(path: bad, labelColumn: "label") }
                == .notNumeric(file: bad, line: 3, column: 2, columnName: "y", cell: "zz"))
    }

    /// The line count goes on across a quoted line break.
    @Test func lineNumbersCountLinesInsideQuotes() {
        let path = csvFile("x,\"y\ny\",label\n1,2,0\n3,4,q\n")
        #expect(dataError { _ = try CSVDataset(path: path, labelColumn: "label") }
                == .notNumeric(file: path, line: 4, column: 3, columnName: "label", cell: "q"))
    }

    @Test func unterminatedQuoteAndTextAfterQuote() {
        let open = csvFile("x,label\n1,0\n\"2,1\n3,0\n")
        guard case .csvSyntax(_, 3, 1, _, let ex)? = dataError({ _ = try CSVDataset(path: open, labelColumn: "label") }) else {
            Issue.record("expected csvSyntax at line 3"); return
        }
        #expect(ex == "\"2,1")
        let after = csvFile("x,label\n\"1\"2,0\n")
        guard case .csvSyntax(_, 2, 4, _, _)? = dataError({ _ = try CSVDataset(path: after, labelColumn: "label") }) else {
            Issue.record("expected csvSyntax at line 2 character 4"); return
        }
    }

    /// A CR-only file of 2000 lines with a bad cell: the message quotes the cell, not the file.
    @Test func errorsNeverPrintTheWholeFile() {
        var lines = ["x,label"] + (0..<2000).map { "\($0),1" }
        lines[1500] = String(repeating: "a", count: 500) + ",1"
        let path = csvFile(lines.joined(separator: "\r"))
        let e = dataError { _ = try CSVDataset(path: path, labelColumn: "label") }
        guard case .notNumeric(_, 1501, 1, _, let cell)? = e else { Issue.record("\(String(describing: e))"); return }
        #expect(cell.count <= 81)
        #expect(e!.description.count < 300, "\(e!.description)")
        let unclosed = csvFile("x,label\n\"" + String(repeating: "b", count: 10_000))
        let u = dataError { _ = try CSVDataset(path: unclosed, labelColumn: "label") }
        #expect(u != nil && u!.description.count < 400, "\(String(describing: u))")
    }

    @Test(arguments: [(";", ";"), ("\t", "\t")])
    func otherDelimiterIsHinted(_ sep: String, _ found: String) throws {
        let text = ["x", "y", "label"].joined(separator: sep) + "\n" + ["1", "2", "0"].joined(separator: sep) + "\n"
        let path = csvFile(text)
        guard case .csvDelimiter(_, 1, found, _)? = dataError({ _ = try CSVDataset(path: path, labelColumn: "label") }) else {
            Issue.record("expected a delimiter hint"); return
        }
        let d = try CSVDataset(path: path, labelColumn: "label", delimiter: UInt8(ascii: sep.unicodeScalars.first!))
        #expect(d.inputs.array == [1, 2] && d.featureNames == ["x", "y"])
    }

    @Test func headerMismatchIsSaid() {
        let numeric = csvFile("1,2,0\n3,4,1\n")
        if case .csvHeader(_, true, _)? = dataError({ _ = try CSVDataset(path: numeric, labelColumn: -1) }) {} else {
            Issue.record("expected csvHeader(hasHeader: true)")
        }
        let named = csvFile("x,y,label\n3,4,1\n")
        let e = dataError { _ = try CSVDataset(path: named, labelColumn: -1, hasHeader: false) }
        if case .csvHeader(_, false, _)? = e {} else { Issue.record("expected csvHeader(hasHeader: false)") }
        #expect(e?.hint?.contains("\"header\": true") == true)
    }

    @Test func nonFiniteCellsNameLineAndColumn() {
        for cell in ["nan", "inf", "-Infinity", "1e39"] {
            let path = csvFile("x,y,label\n1,2,0\n3,\(cell),1\n")
            let e = dataError { _ = try CSVDataset(path: path, labelColumn: "label") }
            #expect(e == .notFinite(file: path, role: "inputs", sample: 1, element: 1, value: cell,
                                    at: "line 3, column 2 (\"y\")"), "\(cell)")
        }
        let label = csvFile("x,label\n1,nan\n")
        if case .badLabel? = dataError({ _ = try CSVDataset(path: label, labelColumn: "label") }) {} else {
            Issue.record("expected badLabel for a NaN label")
        }
    }

    @Test func directoryIsNotAFile() {
        let dir = temporaryFolder().path
        #expect(dataError { _ = try CSVDataset(path: dir, labelColumn: "label") } == .isDirectory(file: dir))
        #expect(dataError { _ = try TextDataset(path: dir, context: 4) } == .isDirectory(file: dir))
        #expect(dataError { _ = try Vocabulary.load(path: dir) } == .isDirectory(file: dir))
        #expect(DataError.isDirectory(file: dir).description.contains("is a directory, expected a file"))
    }
}

@Suite struct TextEncodingTests {
    @Test func latin1IsRefusedAtTheFirstBadByte() {
        let url = temporaryFolder().appendingPathComponent("t.txt")
        try! Data(Array("hello\nna".utf8) + [0xEF] + Array("ve caf".utf8) + [0xE9]).write(to: url)
        #expect(dataError { _ = try TextDataset(path: url.path, context: 2) }
                == .notUTF8(file: url.path, offset: 8, line: 2, column: 3, byte: 0xEF))
    }

    @Test func byteOrderMarkIsSkipped() throws {
        let url = temporaryFolder().appendingPathComponent("t.txt")
        try Data([0xEF, 0xBB, 0xBF] + Array("abcabc".utf8)).write(to: url)
        let d = try TextDataset(path: url.path, context: 2, validationFraction: 0)
        #expect(d.vocabulary.tokens == ["a", "b", "c"] && d.tokenCount == 6)
    }
}

/// `DataChecks` over any dataset.
@Suite struct DataChecksTests {
    final class Wrapped: Dataset {
        let inner: InMemoryDataset
        init(_ inner: InMemoryDataset) { self.inner = inner }
        var count: Int { inner.count }
        var sampleShape: [Int] { inner.sampleShape }
        var targetShape: [Int] { inner.targetShape }
        var classes: Int? { inner.classes }
        func gather(_ i: UnsafeBufferPointer<Int>, inputs: Tensor, targets: Tensor) { inner.gather(i, inputs: inputs, targets: targets) }
    }

    /// The vectorised scan finds the first non-finite value at every position of a buffer
    /// longer than a few blocks, and agrees with a plain loop on random buffers.
    @Test func firstNonFiniteAtEveryPosition() {
        var values = [Float](repeating: 1.5, count: 700)
        for bad in [Float.nan, .infinity, -.infinity, Float(bitPattern: 0x7FC0_0001)] {
            for i in 0..<values.count {
                values[i] = bad
                #expect(values.withUnsafeBufferPointer(DataChecks.firstNonFinite) == i)
                values[i] = 1.5
            }
        }
        #expect(values.withUnsafeBufferPointer(DataChecks.firstNonFinite) == nil)
        values[3] = .greatestFiniteMagnitude; values[300] = -.greatestFiniteMagnitude; values[600] = .leastNonzeroMagnitude
        #expect(values.withUnsafeBufferPointer(DataChecks.firstNonFinite) == nil)
        values[650] = .nan; values[640] = .infinity
        #expect(values.withUnsafeBufferPointer(DataChecks.firstNonFinite) == 640)
    }

    @Test func nonFiniteInputsAndTargetsNameSampleAndElement() {
        var x = [Float](repeating: 0, count: 3000 * 4)
        x[2345 * 4 + 2] = .nan
        let d = InMemoryDataset(inputs: x, sampleShape: [4], targets: [Float](repeating: 1, count: 3000), classes: 3)
        let expected = DataError.notFinite(file: "data", role: "inputs", sample: 2345, element: 2, value: "nan", at: nil)
        #expect(dataError { try DataChecks.check(d) } == expected)
        #expect(dataError { try DataChecks.check(Wrapped(d)) } == expected)
        var t = [Float](repeating: 0.5, count: 3000 * 2)
        t[1001 * 2 + 1] = -.infinity
        let r = InMemoryDataset(inputs: [Float](repeating: 0, count: 3000), sampleShape: [1], targets: t, targetShape: [2],
                                classes: nil)
        let te = DataError.notFinite(file: "data", role: "targets", sample: 1001, element: 1, value: "-inf", at: nil)
        #expect(dataError { try DataChecks.check(r) } == te)
        #expect(dataError { try DataChecks.check(Wrapped(r)) } == te)
    }

    @Test func labelsOutsideTheModelsClasses() throws {
        var y = (0..<600).map { Float($0 % 5) }
        let d = InMemoryDataset(inputs: [Float](repeating: 0, count: 600), sampleShape: [1], targets: y, classes: 5)
        try DataChecks.check(d)
        try DataChecks.check(d, classes: 5)
        #expect(dataError { try DataChecks.check(d, classes: 4) }
                == .labelOutOfRange(file: "data", sample: 4, label: "4", classes: 4, largest: "4"))
        #expect(dataError { try DataChecks.check(Wrapped(d), classes: 4) }
                == .labelOutOfRange(file: "data", sample: 4, label: "4", classes: 4, largest: "4"))
        let g = InMemoryDataset(inputs: [0, 0, 0, 0], sampleShape: [1], targets: [0, 5, 9, 1], classes: 10)
        let e = dataError { try DataChecks.check(g, classes: 4) }
        #expect(e == .labelOutOfRange(file: "data", sample: 1, label: "5", classes: 4, largest: "9"))
        #expect(e?.description.contains("labels go up to 9") == true)
        y[517] = 1.5
        let f = InMemoryDataset(inputs: [Float](repeating: 0, count: 600), sampleShape: [1], targets: y, classes: 5)
        #expect(dataError { try DataChecks.check(Wrapped(f)) }
                == .labelOutOfRange(file: "data", sample: 517, label: "1.5", classes: 5, largest: nil))
    }

    @Test func csvSourceIsNamed() throws {
        let path = csvFile("x,label\n1,0\n2,3\n")
        let d = try CSVDataset(path: path, labelColumn: "label")
        #expect(dataError { try DataChecks.check(d, classes: 2) } == .labelOutOfRange(file: path, sample: 1, label: "3", classes: 2, largest: "3"))
    }
}
