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

/// A classification dataset from a comma-separated file of numbers: every column but the
/// label column is a feature (in file order), the label column holds integer class indices.
///
/// Blank lines are skipped; cells may be surrounded by spaces or double quotes (quoted commas
/// are not supported). A cell that is not a number is a `DataError.notNumeric` naming the
/// file, the 1-based line and column, and the column's header name.
/// Each sample has shape `[features]`, or `sampleShape` when given and the counts match.
public final class CSVDataset: InMemoryDataset {
    /// The feature columns' header names (empty without a header).
    public let featureNames: [String]

    /// Reads `path`; `labelColumn` names (needs `hasHeader`) or numbers the label column.
    /// `classes` checks labels against `0..<classes`; by default it is the largest label + 1.
    public init(path: String, labelColumn: CSVColumn, hasHeader: Bool = true, sampleShape: [Int]? = nil,
                classes: Int? = nil) throws(DataError) {
        var bytes = [UInt8](try readFileBytes(path))
        bytes.append(0)                                  // strtod never reads past the end
        let parsed = try bytes.withUnsafeBufferPointer { (b: UnsafeBufferPointer<UInt8>) throws(DataError) in
            try CSVParser(bytes: b, file: path).parse(labelColumn: labelColumn, hasHeader: hasHeader, classes: classes)
        }
        let n = parsed.labels.count
        guard n > 0 else { throw .empty(file: path) }
        let features = parsed.features.count / n
        let shape = sampleShape ?? [features]
        guard shape.reduce(1, *) == features else {
            throw .shapeMismatch(file: path, fileShape: [n, features], sampleShape: shape)
        }
        featureNames = parsed.names
        super.init(inputs: Tensor(shape: [n, features], values: parsed.features), sampleShape: shape,
                   targets: Tensor(shape: [n], values: parsed.labels.map(Float.init)), targetShape: [],
                   classes: classes ?? (parsed.labels.max()! + 1))
    }
}

/// Byte-level CSV scanning for `CSVDataset`.
struct CSVParser {
    let bytes: UnsafeBufferPointer<UInt8>          // ends with a 0 byte
    let file: String
    private static let comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n"), quote = UInt8(ascii: "\"")

    struct Result { var names: [String]; var features: [Float]; var labels: [Int] }

    init(bytes: UnsafeBufferPointer<UInt8>, file: String) {
        self.bytes = bytes
        self.file = file
    }

    /// Cells of each non-blank line as trimmed byte ranges, with the 1-based line number.
    private func lines(_ body: (Int, [Range<Int>]) throws(DataError) -> Void) throws(DataError) {
        let end = bytes.count - 1
        var start = 0, lineNumber = 1
        var cells: [Range<Int>] = []
        while start < end {
            var stop = start
            while stop < end && bytes[stop] != CSVParser.newline { stop += 1 }
            cells.removeAll(keepingCapacity: true)
            var cellStart = start
            for i in start...stop where i == stop || bytes[i] == CSVParser.comma {
                cells.append(trim(cellStart..<i))
                cellStart = i + 1
            }
            if !(cells.count == 1 && cells[0].isEmpty) { try body(lineNumber, cells) }
            start = stop + 1
            lineNumber += 1
        }
    }

    private func trim(_ r: Range<Int>) -> Range<Int> {
        var lo = r.lowerBound, hi = r.upperBound
        func space(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 13 }
        while lo < hi && space(bytes[lo]) { lo += 1 }
        while hi > lo && space(bytes[hi - 1]) { hi -= 1 }
        if hi - lo >= 2 && bytes[lo] == CSVParser.quote && bytes[hi - 1] == CSVParser.quote { lo += 1; hi -= 1 }
        return lo..<hi
    }

    private func text(_ r: Range<Int>) -> String { String(decoding: bytes[r], as: UTF8.self) }

    /// The cell as a Double, or nil unless the whole cell is a number.
    private func number(_ r: Range<Int>) -> Double? {
        guard !r.isEmpty else { return nil }
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
        try lines { (line: Int, cells: [Range<Int>]) throws(DataError) in
            if width < 0 {
                width = cells.count
                if hasHeader { header = cells.map(text) }
                let names = hasHeader ? header : (0..<width).map { "#\($0)" }
                switch labelColumn {
                case .name(let n):
                    guard hasHeader, let i = header.firstIndex(of: n) else {
                        throw .noSuchColumn(file: file, column: labelColumn.description, available: names)
                    }
                    label = i
                case .index(let i):
                    let j = i < 0 ? width + i : i
                    guard j >= 0 && j < width else { throw .noSuchColumn(file: file, column: labelColumn.description, available: names) }
                    label = j
                }
                if hasHeader {
                    result.names = header.enumerated().filter { $0.offset != label }.map(\.element)
                    return
                }
            }
            guard cells.count == width else { throw .raggedRow(file: file, line: line, expected: width, actual: cells.count) }
            for (c, cell) in cells.enumerated() {
                guard let v = number(cell) else {
                    throw .notNumeric(file: file, line: line, column: c + 1, columnName: hasHeader ? header[c] : nil,
                                      cell: text(cell))
                }
                if c == label {
                    guard let k = Int(exactly: v), k >= 0, k < (classes ?? Int.max) else {
                        throw .badLabel(file: "\(file): line \(line)", index: result.labels.count, value: text(cell),
                                        classes: classes)
                    }
                    result.labels.append(k)
                } else {
                    result.features.append(Float(v))
                }
            }
        }
        return result
    }
}
