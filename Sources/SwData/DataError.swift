/// An error reading a data file: names the file and what is wrong with it, with a hint.
///
/// Printed by the CLI as `swtrain: error: <description>`; the cases carry the facts (file,
/// expected, actual) so tests and callers can match on them.
public enum DataError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened or read.
    case unreadable(file: String, reason: String)
    /// The file ends before `expected` bytes (`what` says which part).
    case truncated(file: String, what: String, expected: Int, actual: Int)
    /// The file does not start with the expected magic bytes.
    case badMagic(file: String, expected: String)
    /// The .npy header could not be parsed.
    case badHeader(file: String, reason: String)
    /// The array's dtype is not one we read (`role` is "inputs" or "labels").
    case unsupportedDtype(file: String, dtype: String, role: String)
    /// The array is stored in Fortran (column-major) order.
    case fortranOrder(file: String)
    /// The array is stored big-endian.
    case bigEndian(file: String, dtype: String)
    /// A .npz member is compressed with a method other than stored (0) or deflated (8).
    case compressed(file: String, member: String, method: Int)
    /// A .npz archive has no member of that name.
    case missingMember(file: String, member: String, available: [String])
    /// The number of labels differs from the number of input samples.
    case countMismatch(file: String, inputs: Int, labels: Int)
    /// The per-sample element count differs from the requested sample shape.
    case shapeMismatch(file: String, fileShape: [Int], sampleShape: [Int])
    /// A label is not an integer, negative, or not below `classes`.
    case badLabel(file: String, index: Int, value: String, classes: Int?)
    /// A CSV cell that should be a number is not (line and column are 1-based).
    case notNumeric(file: String, line: Int, column: Int, columnName: String?, cell: String)
    /// A CSV line has the wrong number of cells.
    case raggedRow(file: String, line: Int, expected: Int, actual: Int)
    /// The named or numbered label column does not exist.
    case noSuchColumn(file: String, column: String, available: [String])
    /// The file holds no samples.
    case empty(file: String)
    /// A text split holds `tokens` tokens, fewer than the `context + 1` one window needs.
    case textTooShort(file: String, split: String, tokens: Int, context: Int)
    /// The text holds characters the given vocabulary does not.
    case unknownCharacters(file: String, characters: [String])
    /// A vocabulary file is not `{"tokens": [...]}` of single characters.
    case badVocabulary(file: String, reason: String)
    /// The path names a directory where a file was expected.
    case isDirectory(file: String)
    /// A value is NaN or infinite: `role` "inputs" or "targets", 0-based `sample` and
    /// `element` within it; `at` says where in the file when known (a CSV line and column).
    case notFinite(file: String, role: String, sample: Int, element: Int, value: String, at: String?)
    /// A class label is outside `0..<classes`: the first such at 0-based `sample`, and the
    /// largest label of the file (`largest`, nil when the first bad one is not a too large
    /// integer but negative, fractional or NaN).
    case labelOutOfRange(file: String, sample: Int, label: String, classes: Int, largest: String?)
    /// The bytes at 0-based `offset` (1-based `line` and byte `column`) are not UTF-8.
    case notUTF8(file: String, offset: Int, line: Int, column: Int, byte: UInt8)
    /// A CSV quoting error at 1-based `line` and character `column`; `excerpt` is at most
    /// about 80 characters of the line.
    case csvSyntax(file: String, line: Int, column: Int, reason: String, excerpt: String)
    /// The first line of a CSV splits into one column but holds another likely delimiter.
    case csvDelimiter(file: String, line: Int, found: String, excerpt: String)
    /// `header` says the first line is (or is not) a header, but its cells say otherwise.
    case csvHeader(file: String, hasHeader: Bool, excerpt: String)

    /// The file the error is about.
    public var file: String {
        switch self {
        case .unreadable(let f, _), .truncated(let f, _, _, _), .badMagic(let f, _), .badHeader(let f, _),
             .unsupportedDtype(let f, _, _), .fortranOrder(let f), .bigEndian(let f, _),
             .compressed(let f, _, _), .missingMember(let f, _, _), .countMismatch(let f, _, _),
             .shapeMismatch(let f, _, _), .badLabel(let f, _, _, _), .notNumeric(let f, _, _, _, _),
             .raggedRow(let f, _, _, _), .noSuchColumn(let f, _, _), .empty(let f),
             .textTooShort(let f, _, _, _), .unknownCharacters(let f, _), .badVocabulary(let f, _),
             .isDirectory(let f), .notFinite(let f, _, _, _, _, _), .labelOutOfRange(let f, _, _, _, _),
             .notUTF8(let f, _, _, _, _), .csvSyntax(let f, _, _, _, _), .csvDelimiter(let f, _, _, _),
             .csvHeader(let f, _, _):
            return f
        }
    }

    /// What is wrong, without the file name.
    public var message: String {
        switch self {
        case .unreadable(_, let reason):
            return "cannot read the file: \(reason)"
        case .truncated(_, let what, let expected, let actual):
            return "file is truncated: \(what) needs \(expected) bytes, only \(actual) present"
        case .badMagic(_, let expected):
            return "not a \(expected) file (bad magic bytes)"
        case .badHeader(_, let reason):
            return "invalid .npy header: \(reason)"
        case .unsupportedDtype(_, let dtype, let role):
            return "unsupported dtype '\(dtype)' for \(role)"
        case .fortranOrder:
            return "array is stored in Fortran order"
        case .bigEndian(_, let dtype):
            return "array is big-endian ('\(dtype)')"
        case .compressed(_, let member, let method):
            return "member '\(member)' is compressed with zip method \(method); only stored (0) and deflated (8) members are read"
        case .missingMember(_, let member, let available):
            return "no array '\(member)' in the archive (it holds: \(available.joined(separator: ", ")))"
        case .countMismatch(_, let inputs, let labels):
            return "\(labels) labels for \(inputs) input samples"
        case .shapeMismatch(_, let fileShape, let sampleShape):
            return "array of shape \(fileShape) cannot be read as samples of shape \(sampleShape): "
                + "element counts per sample differ"
        case .badLabel(_, let index, let value, let classes):
            if let classes { return "label \(value) of sample \(index) is not a class index in 0..<\(classes)" }
            return "label \(value) of sample \(index) is not a non-negative integer class index"
        case .notNumeric(_, let line, let column, let name, let cell):
            let col = name.map { "column \(column) (\"\($0)\")" } ?? "column \(column)"
            return "line \(line), \(col): expected a number, got \"\(cell)\""
        case .raggedRow(_, let line, let expected, let actual):
            return "line \(line): expected \(expected) cells, got \(actual)"
        case .noSuchColumn(_, let column, let available):
            return "no label column \(column) (columns: \(available.joined(separator: ", ")))"
        case .empty:
            return "no samples"
        case .textTooShort(_, let split, let tokens, let context):
            return "the \(split) split holds \(tokens) characters; a context of \(context) needs at least \(context + 1)"
        case .unknownCharacters(_, let characters):
            return "characters not in the vocabulary: " + characters.prefix(10).map { $0.debugDescription }.joined(separator: ", ")
        case .badVocabulary(_, let reason):
            return "not a vocabulary {\"tokens\": [...]}: \(reason)"
        case .isDirectory:
            return "is a directory, expected a file"
        case .notFinite(_, let role, let sample, let element, let value, let at):
            let place = at.map { " (\($0))" } ?? ""
            return "\(role) of sample \(sample), element \(element)\(place) is \(value); training needs finite numbers"
        case .labelOutOfRange(_, let sample, let label, let classes, let largest):
            if let largest {
                return "labels go up to \(largest) but there are \(classes) classes (0..<\(classes)): the first outside is label \(label) of sample \(sample)"
            }
            return "label \(label) of sample \(sample) is not a class index in 0..<\(classes)"
        case .notUTF8(_, let offset, let line, let column, let byte):
            return "byte 0x\(String(byte, radix: 16, uppercase: true)) at offset \(offset) (line \(line), byte \(column) of the line) is not UTF-8"
        case .csvSyntax(_, let line, let column, let reason, let excerpt):
            return "line \(line), character \(column): \(reason): \(excerpt)"
        case .csvDelimiter(_, let line, let found, let excerpt):
            return "line \(line) is one column but holds \(found == "\t" ? "tabs" : "'\(found)'"): \(excerpt)"
        case .csvHeader(_, let hasHeader, let excerpt):
            return hasHeader
                ? "the first line is all numbers, but it is read as the header (column names): \(excerpt)"
                : "the first line holds no number, but the file is read without a header: \(excerpt)"
        }
    }

    /// How to fix it, when there is something useful to say.
    public var hint: String? {
        switch self {
        case .unsupportedDtype:
            return "save inputs as float32/float64 and labels as an integer array, e.g. np.save(path, y.astype(np.int64))"
        case .fortranOrder:
            return "save a C-ordered copy: np.save(path, np.ascontiguousarray(a))"
        case .bigEndian:
            return "save a little-endian copy: np.save(path, a.astype(a.dtype.newbyteorder('<')))"
        case .compressed:
            return "save with np.savez or np.savez_compressed"
        case .shapeMismatch:
            return "make model.input match the per-sample shape of the array"
        case .countMismatch:
            return "inputs and labels must have the same first dimension"
        case .truncated:
            return "the file may have been cut short while copying; write it again"
        case .textTooShort:
            return "use a smaller context, a longer text, or another validation_fraction"
        case .unknownCharacters:
            return "build the vocabulary from a text that holds every character"
        case .isDirectory:
            return "give the path of a file inside it"
        case .notFinite:
            return "clean the data (e.g. np.nan_to_num, or drop the rows with NaN: df.dropna()) before training"
        case .labelOutOfRange:
            return "give the last layer as many units as there are classes, or fix the label"
        case .notUTF8:
            return "the text seems to be in another encoding (Latin-1?); convert it: iconv -f latin1 -t utf-8 in.txt > out.txt"
        case .csvSyntax:
            return "inside a quoted cell write a quote as \"\" (RFC 4180); end every quoted cell with a quote"
        case .csvDelimiter(_, _, let found, _):
            return "the cells seem to be separated by \(found == "\t" ? "tabs" : "'\(found)'"); write the file with commas (pandas: df.to_csv(path, index=False))"
        case .csvHeader(_, let hasHeader, _):
            return hasHeader ? "set \"header\": false for a file without a header line"
                : "set \"header\": true when the first line names the columns"
        default:
            return nil
        }
    }

    public var description: String {
        var s = "\(file): \(message)"
        if let hint { s += "\n  hint: \(hint)" }
        return s
    }
}
