#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything that can go wrong reading or writing a safetensors file or a checkpoint folder.
///
/// Every case names the file, and the tensor when one is involved, so a message read in a log
/// says where to look. Bad input never traps: the reader checks each header field before it
/// touches the data.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    // MARK: file layout
    /// The file is shorter than the 8-byte header length.
    case fileTooSmall(file: String, size: Int)
    /// The declared header length is over the 100 MB limit of the reference implementation.
    case headerTooLarge(file: String, headerLength: UInt64)
    /// The declared header length runs past the end of the file.
    case headerPastEnd(file: String, headerLength: UInt64, fileSize: Int)
    /// The header is not UTF-8, not JSON, or not a JSON object.
    case invalidHeader(file: String, reason: String)
    /// Two header entries share a name.
    case duplicateTensor(file: String, tensor: String)
    /// A tensor entry lacks `dtype`, `shape` or `data_offsets`.
    case missingField(file: String, tensor: String, field: String)
    /// A tensor entry field has the wrong JSON type or an impossible value.
    case invalidField(file: String, tensor: String, field: String, reason: String)
    /// The `dtype` string is not a safetensors dtype.
    case unknownDType(file: String, tensor: String, dtype: String)
    /// `__metadata__` is not an object of strings.
    case invalidMetadata(file: String, reason: String)

    // MARK: data offsets
    /// `data_offsets` has begin > end.
    case offsetsOutOfOrder(file: String, tensor: String, begin: Int, end: Int)
    /// The byte range does not hold product(shape) * dtype size bytes.
    case sizeMismatch(file: String, tensor: String, dtype: String, shape: [Int], expectedBytes: Int, actualBytes: Int)
    /// The tensor's bytes start inside another tensor's bytes.
    case overlappingTensors(file: String, tensor: String, other: String)
    /// Bytes between two tensors (or before the first) belong to no tensor.
    case gapBeforeTensor(file: String, tensor: String, gapBegin: Int, gapEnd: Int)
    /// The tensor's bytes run past the end of the file (a truncated file).
    case dataPastEnd(file: String, tensor: String, end: Int, bufferSize: Int)
    /// Bytes after the last tensor belong to no tensor.
    case trailingBytes(file: String, dataEnd: Int, bufferSize: Int)

    // MARK: access
    /// No tensor of that name in the file.
    case tensorNotFound(file: String, tensor: String)
    /// The stored dtype cannot be read as the requested type.
    case dtypeMismatch(file: String, tensor: String, stored: String, requested: String)
    /// The stored shape differs from the destination's.
    case shapeMismatch(file: String, tensor: String, stored: [Int], destination: [Int])

    // MARK: checkpoint folders
    /// A system call failed.
    case io(path: String, operation: String, errno: Int32)
    /// A file listed in `trainer_state.json` is absent.
    case missingFile(file: String)
    /// A file's SHA-256 differs from the one recorded in `trainer_state.json`.
    case hashMismatch(file: String, expected: String, actual: String)
    /// `trainer_state.json` is unreadable or lacks its `files` map, or the state to save is not
    /// a JSON object.
    case invalidState(file: String, reason: String)
    /// A checkpoint folder was asked for by name and holds no complete checkpoint.
    case notACheckpoint(path: String, reason: String)
    /// The run folder has checkpoint folders but none of them is complete.
    case noCompleteCheckpoint(directory: String, problems: [String])

    public var description: String {
        switch self {
        case let .fileTooSmall(file, size):
            return "\(file): \(size) bytes, shorter than the 8-byte safetensors header length"
        case let .headerTooLarge(file, n):
            return "\(file): header length \(n) exceeds the 100 MB limit (not a safetensors file?)"
        case let .headerPastEnd(file, n, size):
            return "\(file): header length \(n) runs past the end of the \(size)-byte file"
        case let .invalidHeader(file, reason):
            return "\(file): invalid safetensors header: \(reason)"
        case let .duplicateTensor(file, tensor):
            return "\(file): tensor '\(tensor)' appears twice in the header"
        case let .missingField(file, tensor, field):
            return "\(file): tensor '\(tensor)' has no '\(field)'"
        case let .invalidField(file, tensor, field, reason):
            return "\(file): tensor '\(tensor)': invalid '\(field)': \(reason)"
        case let .unknownDType(file, tensor, dtype):
            return "\(file): tensor '\(tensor)': unknown dtype '\(dtype)'"
                + " (known: \(SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))"
        case let .invalidMetadata(file, reason):
            return "\(file): invalid __metadata__: \(reason)"
        case let .offsetsOutOfOrder(file, tensor, begin, end):
            return "\(file): tensor '\(tensor)': data_offsets [\(begin), \(end)] end before they begin"
        case let .sizeMismatch(file, tensor, dtype, shape, expected, actual):
            return "\(file): tensor '\(tensor)': \(dtype) \(shape) needs \(expected) bytes, data_offsets give \(actual)"
        case let .overlappingTensors(file, tensor, other):
            return "\(file): tensor '\(tensor)' overlaps tensor '\(other)'"
        case let .gapBeforeTensor(file, tensor, begin, end):
            return "\(file): bytes [\(begin), \(end)) before tensor '\(tensor)' belong to no tensor"
                + " (safetensors requires tensors to cover the buffer contiguously)"
        case let .dataPastEnd(file, tensor, end, size):
            return "\(file): tensor '\(tensor)' ends at byte \(end) of a \(size)-byte data buffer (truncated file?)"
        case let .trailingBytes(file, end, size):
            return "\(file): tensors end at byte \(end) but the data buffer holds \(size) bytes"
        case let .tensorNotFound(file, tensor):
            return "\(file): no tensor named '\(tensor)'"
        case let .dtypeMismatch(file, tensor, stored, requested):
            return "\(file): tensor '\(tensor)' is \(stored), cannot read it as \(requested)"
        case let .shapeMismatch(file, tensor, stored, destination):
            return "\(file): tensor '\(tensor)' has shape \(stored), destination has \(destination)"
        case let .io(path, operation, code):
            return "\(path): \(operation) failed: \(String(cString: strerror(code))) (errno \(code))"
        case let .missingFile(file):
            return "\(file): missing (listed in trainer_state.json)"
        case let .hashMismatch(file, expected, actual):
            return "\(file): sha256 \(actual) differs from \(expected) recorded in trainer_state.json"
        case let .invalidState(file, reason):
            return "\(file): \(reason)"
        case let .notACheckpoint(path, reason):
            return "\(path): not a complete checkpoint: \(reason)"
        case let .noCompleteCheckpoint(directory, problems):
            return "\(directory): no complete checkpoint; "
                + (problems.isEmpty ? "none found" : problems.joined(separator: "; "))
        }
    }
}
