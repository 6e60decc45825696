#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One tensor listed in a safetensors header.
public struct SafeTensorsEntry: Sendable, Equatable {
    /// The tensor's name (`"0.weight"`).
    public var name: String
    /// The element type.
    public var dtype: SafeTensorsDType
    /// The dimensions, outermost first; `[]` is a scalar.
    public var shape: [Int]
    /// The byte range in the data buffer (which starts right after the header).
    public var dataOffsets: Range<Int>

    /// Number of elements (product of `shape`).
    public var count: Int { shape.reduce(1, *) }
}

/// A safetensors file read into memory and validated.
///
/// Layout: an 8-byte little-endian u64 `N`, then `N` bytes of UTF-8 JSON
/// `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {..}}`,
/// then the data buffer; offsets are relative to the buffer's start.
///
/// The file is read with one `read` into one allocation; accessors copy F32 bytes with
/// `memcpy`. Validation follows the reference implementation (huggingface/safetensors
/// `Metadata::validate`): sorted by offsets, the tensors must tile the buffer exactly, with no
/// gap, overlap or trailing byte, each holding product(shape) * dtype size bytes. It adds
/// checks the reference leaves to serde: duplicate names are an error (JSON readers differ on
/// which one wins), and `__metadata__` must map strings to strings.
public struct SafeTensorsFile: @unchecked Sendable {
    /// The path read, or the name given to `init(bytes:name:)`; used in every error.
    public let path: String
    /// The tensors in header order.
    public let entries: [SafeTensorsEntry]
    /// The `__metadata__` map (empty when absent).
    public let metadata: [String: String]
    /// Length of the JSON header in bytes (padding included).
    public let headerLength: Int

    private let storage: ByteStorage
    private let index: [String: Int]

    /// Reads and validates the file at `path`.
    public init(path: String) throws(CheckpointError) {
        let fd = try FileIO.openFile(path, O_RDONLY)
        defer { close(fd) }
        let size = try FileIO.fileSize(fd, path: path)
        let storage = ByteStorage(count: size)
        let n = try FileIO.readAll(fd, storage.base, size, path: path)
        storage.count = n  // a file shrinking under us reads as truncated
        try self.init(storage: storage, name: path)
    }

    /// Parses and validates a whole file held in memory; `name` stands for the path in errors.
    public init(bytes: [UInt8], name: String = "<memory>") throws(CheckpointError) {
        let storage = ByteStorage(count: bytes.count)
        bytes.withUnsafeBytes { if $0.count > 0 { storage.base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        try self.init(storage: storage, name: name)
    }

    private init(storage: ByteStorage, name file: String) throws(CheckpointError) {
        let all = UnsafeRawBufferPointer(start: storage.base, count: storage.count)
        guard all.count >= 8 else { throw .fileTooSmall(file: file, size: all.count) }
        let n = all.loadUnaligned(as: UInt64.self).littleEndian
        guard n <= 100_000_000 else { throw .headerTooLarge(file: file, headerLength: n) }
        guard Int(n) <= all.count - 8 else { throw .headerPastEnd(file: file, headerLength: n, fileSize: all.count) }
        let headerBytes = UnsafeRawBufferPointer(rebasing: all[8..<(8 + Int(n))])
        let bufferSize = all.count - 8 - Int(n)

        let (entries, metadata) = try Self.parseHeader(headerBytes, file: file)
        try Self.validateLayout(entries, bufferSize: bufferSize, file: file)

        self.path = file
        self.entries = entries
        self.metadata = metadata
        self.headerLength = Int(n)
        self.storage = storage
        self.index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
    }

    /// The header entry named `name`.
    public func entry(_ name: String) throws(CheckpointError) -> SafeTensorsEntry {
        guard let i = index[name] else { throw .tensorNotFound(file: path, tensor: name) }
        return entries[i]
    }

    /// Calls `body` with the tensor's raw little-endian bytes (valid only inside `body`).
    public func withBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let e = try entry(name)
        let start = storage.base + 8 + headerLength + e.dataOffsets.lowerBound
        return try body(UnsafeRawBufferPointer(start: start, count: e.dataOffsets.count))
    }

    /// The tensor's raw little-endian bytes, copied.
    public func bytes(_ name: String) throws(CheckpointError) -> [UInt8] {
        let e = try entry(name)
        return [UInt8](UnsafeRawBufferPointer(start: dataStart(e), count: e.dataOffsets.count))
    }

    /// The first byte of `e`'s data.
    func dataStart(_ e: SafeTensorsEntry) -> UnsafeRawPointer {
        UnsafeRawPointer(storage.base + 8 + headerLength + e.dataOffsets.lowerBound)
    }
}

/// One heap allocation holding a whole file, 64-byte aligned.
final class ByteStorage: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    var count: Int

    init(count: Int) {
        base = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        self.count = count
    }

    deinit { base.deallocate() }
}
