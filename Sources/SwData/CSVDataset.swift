import Foundation
import SwTensor

/// A column of a CSV file: by header name, or by 0-based index (negative counts from the end,
/// -1 is the last column). Literals work: `labelColumn: "label"` or `labelColumn: -1`.
public enum CSVColumn: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
                       CustomStringConvertible {
    /// The column whose header cell is this name.
    case name(String)
    /// The column at this 0-based position (negative: from the end).
    case index(Int)
    public init(stringLiteral value: String) { self = .name(value) }
    public init(integerLiteral value: Int) { self = .index(value) }
    public var description: String {
        switch self {
        case .name(let n): return "\"\(n)\""
        case .index(let i): return "#\(i)"
        }
    }
}

/// A classification dataset from a comma-separated file of numbers (RFC 4180): every column
/// but the label column is a feature (in file order), the label column holds integer class
/// indices.
///
/// Syntax: cells are separated by `delimiter` (a comma by default), records by CRLF, LF or a
/// lone CR; a UTF-8 byte-order mark is skipped; blank lines are skipped. A cell may be quoted
/// (`"1.5"`); inside quotes `""` is one quote and delimiters and line breaks are literal (a
/// quoted header name may hold commas). Spaces and tabs around a cell are ignored.
/// Errors name the file, the 1-based line and column, and quote at most ~80 characters of
/// the line: a cell that is not a number (`DataError.notNumeric`), or not finite, or a float
/// that overflows Float32 (`notFinite`), an unterminated quote (`csvSyntax`), a one-column
/// first line that holds ';' or tabs (`csvDelimiter`), a first line of numbers read as a
/// header or a first line of names read as data (`csvHeader`).
/// Each sample has shape `[features]`, or `sampleShape` when given and the counts match.
public final class CSVDataset: InMemoryDataset {
    /// The feature columns' header names (empty without a header).
    public let featureNames: [String]
    /// The file read.
    public let path: String

    /// Reads `path`; `labelColumn` names (needs `hasHeader`) or numbers the label column.
    /// `classes` checks labels against `0..<classes`; by default it is the largest label + 1.
    /// `delimiter` is an ASCII byte other than a quote or a line break (else `csvSyntax`).
    public convenience init(path: String, labelColumn: CSVColumn, hasHeader: Bool = true, sampleShape: [Int]? = nil,
                            classes: Int? = nil, delimiter: UInt8 = UInt8(ascii: ",")) throws(DataError) {
        try self.init(contents: [UInt8](try readDataFile(path)), path: path, labelColumn: labelColumn, hasHeader: hasHeader,
                      sampleShape: sampleShape, classes: classes, delimiter: delimiter)
    }

    /// Parses `contents` as the file `path` (which is only named in errors).
    public init(contents: [UInt8], path: String, labelColumn: CSVColumn, hasHeader: Bool = true, sampleShape: [Int]? = nil,
                classes: Int? = nil, delimiter: UInt8 = UInt8(ascii: ",")) throws(DataError) {
        guard delimiter < 128, delimiter != UInt8(ascii: "\""), delimiter != 10, delimiter != 13, delimiter != 0 else {
            throw .csvSyntax(file: path, line: 0, column: 0, reason: "delimiter byte \(delimiter) cannot separate cells",
                             excerpt: "use an ASCII character such as ',' ';' or a tab")
        }
        var bytes = contents
        bytes.append(0)                                  // strtod never reads past the end
        let parsed = try bytes.withUnsafeBufferPointer { (b: UnsafeBufferPointer<UInt8>) throws(DataError) in
            try CSVParser(bytes: b, file: path, delimiter: delimiter)
                .parse(labelColumn: labelColumn, hasHeader: hasHeader, classes: classes)
        }
        let n = parsed.labels.count
        guard n > 0 else { throw .empty(file: path) }
        let features = parsed.features.count / n
        let shape = sampleShape ?? [features]
        guard features > 0, shape.reduce(1, *) == features else {
            throw .shapeMismatch(file: path, fileShape: [n, features], sampleShape: shape)
        }
        featureNames = parsed.names
        self.path = path
        super.init(inputs: Tensor(shape: [n, features], values: parsed.features), sampleShape: shape,
                   targets: Tensor(shape: [n], values: parsed.labels.map(Float.init)), targetShape: [],
                   classes: classes ?? (parsed.labels.max()! + 1))
    }
}

/// Byte-level RFC 4180 scanning for `CSVDataset`.
struct CSVParser {
    let bytes: UnsafeBufferPointer<UInt8>          // ends with a 0 byte
    let file: String
    let delimiter: UInt8
    private static let newline = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r"), quote = UInt8(ascii: "\"")

    struct Result { var names: [String]; var features: [Float]; var labels: [Int] }

    /// A cell: its bytes (inside the quotes when quoted), whether `""` escapes occur in it, and
    /// where it starts (byte offset, 1-based line).
    struct Cell {
        var range: Range<Int>
        var escaped: Bool
        var offset: Int
        var line: Int
        var isEmpty: Bool { range.isEmpty }
    }

    init(bytes: UnsafeBufferPointer<UInt8>, file: String, delimiter: UInt8 = UInt8(ascii: ",")) {
        self.bytes = bytes
        self.file = file
        self.delimiter = delimiter
    }

    private func isSpace(_ c: UInt8) -> Bool { (c == 32 || c == 9) && c != delimiter }

    /// Each non-blank record's cells with its 1-based first line and first byte offset.
    func records(_ body: (Int, Int, [Cell]) throws(DataError) -> Void) throws(DataError) {
        let end = bytes.count - 1
        var i = 0
        if end >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { i = 3 }
        var line = 1, lineStart = i
        var cells: [Cell] = []
        while i < end {
            let recordLine = line, recordStart = i
            cells.removeAll(keepingCapacity: true)
            var blank = true
            fields: while true {
                var j = i
                while j < end && isSpace(bytes[j]) { j += 1 }
                if j < end && bytes[j] == CSVParser.quote {
                    blank = false
                    let openLine = line, openColumn = j - lineStart + 1, openOffset = j
                    j += 1
                    let contentStart = j
                    var escaped = false
                    while true {
                        guard j < end else {
                            throw .csvSyntax(file: file, line: openLine, column: openColumn,
                                             reason: "the quote opened here is never closed",
                                             excerpt: excerpt(bytes, around: openOffset))
                        }
                        let c = bytes[j]
                        if c == CSVParser.quote {
                            if j + 1 < end && bytes[j + 1] == CSVParser.quote { escaped = true; j += 2; continue }
                            break
                        }
                        if c == CSVParser.newline || (c == CSVParser.cr && !(j + 1 < end && bytes[j + 1] == CSVParser.newline)) {
                            line += 1
                            lineStart = j + 1
                        }
                        j += 1
                    }
                    cells.append(Cell(range: contentStart..<j, escaped: escaped, offset: openOffset, line: openLine))
                    j += 1
                    while j < end && isSpace(bytes[j]) { j += 1 }
                    if j < end && bytes[j] == delimiter { i = j + 1; continue fields }
                    if j >= end || bytes[j] == CSVParser.newline || bytes[j] == CSVParser.cr { i = j; break fields }
                    throw .csvSyntax(file: file, line: line, column: j - lineStart + 1,
                                     reason: "a quoted cell goes on after its closing quote",
                                     excerpt: excerpt(bytes, around: j))
                } else {
                    var k = j
                    while k < end && bytes[k] != delimiter && bytes[k] != CSVParser.newline && bytes[k] != CSVParser.cr {
                        k += 1
                    }
                    var stop = k
                    while stop > j && isSpace(bytes[stop - 1]) { stop -= 1 }
                    if stop > j || (k < end && bytes[k] == delimiter) { blank = false }
                    cells.append(Cell(range: j..<stop, escaped: false, offset: j, line: line))
                    if k < end && bytes[k] == delimiter { i = k + 1; continue fields }
                    i = k
                    break fields
                }
            }
            if i < end {
                if bytes[i] == CSVParser.cr && i + 1 < end && bytes[i + 1] == CSVParser.newline { i += 1 }
                i += 1
                line += 1
                lineStart = i
            }
            if !blank { try body(recordLine, recordStart, cells) }
        }
    }

    /// The cell's text (quotes unescaped).
    private func text(_ c: Cell) -> String {
        let s = String(decoding: bytes[c.range], as: UTF8.self)
        return c.escaped ? s.replacingOccurrences(of: "\"\"", with: "\"") : s
    }

    /// The cell as a Double, or nil unless the whole cell is a number.
    private func number(_ c: Cell) -> Double? {
        var lo = c.range.lowerBound, hi = c.range.upperBound     // a quoted " 2 " is the number 2
        while lo < hi && isSpace(bytes[lo]) { lo += 1 }
        while hi > lo && isSpace(bytes[hi - 1]) { hi -= 1 }
        let r = lo..<hi
        guard !r.isEmpty, !c.escaped else { return nil }
        let first = bytes[r.lowerBound]
        guard first != 10, first != 13, first != 9, first != 32, first != 11, first != 12 else { return nil }  // strtod would skip it
        let start = UnsafeMutablePointer(mutating: bytes.baseAddress! + r.lowerBound)
        return start.withMemoryRebound(to: CChar.self, capacity: r.count) { p -> Double? in
            var endPointer: UnsafeMutablePointer<CChar>? = nil
            let v = strtod(p, &endPointer)
            return endPointer == p + r.count ? v : nil
        }
    }

    func parse(labelColumn: CSVColumn, hasHeader: Bool, classes: Int?) throws(DataError) -> Result {
        var result = Result(names: [], features: [], labels: [])
        result.features.reserveCapacity(bytes.count / 4)
        var header: [String] = []
        var width = -1, label = -1
        try records { (line: Int, start: Int, cells: [Cell]) throws(DataError) in
            if width < 0 {
                width = cells.count
                if width == 1 {
                    var k = start
                    while k < bytes.count - 1 && bytes[k] != CSVParser.newline && bytes[k] != CSVParser.cr {
                        if bytes[k] == UInt8(ascii: ";") || bytes[k] == 9 {
                            throw .csvDelimiter(file: file, line: line, found: bytes[k] == 9 ? "\t" : ";",
                                                excerpt: excerpt(bytes, around: start))
                        }
                        k += 1
                    }
                }
                let numeric = cells.filter { number($0) != nil }.count
                if hasHeader && numeric == width {
                    throw .csvHeader(file: file, hasHeader: true, excerpt: excerpt(bytes, around: start))
                }
                if !hasHeader && numeric == 0 {
                    throw .csvHeader(file: file, hasHeader: false, excerpt: excerpt(bytes, around: start))
                }
                if hasHeader { header = cells.map(text) }
                let names = hasHeader ? header : (0..<width).map { "#\($0)" }
                switch labelColumn {
                case .name(let n):
                    guard hasHeader, let i = header.firstIndex(of: n) else {
                        throw .noSuchColumn(file: file, column: labelColumn.description, available: names.map { shortened($0) })
                    }
                    label = i
                case .index(let i):
                    let j = i < 0 ? width + i : i
                    guard j >= 0 && j < width else {
                        throw .noSuchColumn(file: file, column: labelColumn.description, available: names.map { shortened($0) })
                    }
                    label = j
                }
                if hasHeader {
                    result.names = header.enumerated().filter { $0.offset != label }.map(\.element)
                    return
                }
            }
            guard cells.count == width else { throw .raggedRow(file: file, line: line, expected: width, actual: cells.count) }
            let sample = result.labels.count
            var element = 0
            for (c, cell) in cells.enumerated() {
                guard let v = number(cell) else {
                    throw .notNumeric(file: file, line: cell.line, column: c + 1,
                                      columnName: hasHeader ? shortened(header[c]) : nil, cell: shortened(text(cell)))
                }
                if c == label {
                    guard let k = Int(exactly: v), k >= 0, k < (classes ?? Int.max) else {
                        throw .badLabel(file: "\(file): line \(cell.line)", index: result.labels.count,
                                        value: shortened(text(cell)), classes: classes)
                    }
                    result.labels.append(k)
                } else {
                    let f = Float(v)
                    guard f.isFinite else {
                        let name = hasHeader ? " (\"\(shortened(header[c]))\")" : ""
                        throw .notFinite(file: file, role: "inputs", sample: sample, element: element,
                                         value: shortened(text(cell)), at: "line \(cell.line), column \(c + 1)\(name)")
                    }
                    result.features.append(f)
                    element += 1
                }
            }
        }
        return result
    }
}
