#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SwTensor

/// Builds a safetensors file from tensors in a fixed order.
///
/// Tensors are laid out in the order they are added, back to back from offset 0; the header
/// is compact JSON (`__metadata__` first with sorted keys, then the tensors in order), padded
/// with spaces to a multiple of 8 bytes as the reference writer does, so the same tensors give
/// a byte-identical file and every tensor starts 8-byte aligned relative to the buffer.
///
/// `Tensor`s and `HostTensor`s are held by reference and read when the file is written, with no copy;
/// neighbouring tensors that are views of one flat buffer go out in one `write`.
public struct SafeTensorsWriter {
    private enum Source {
        case tensor(Tensor)
        case host(HostTensor)
        case bytes([UInt8])
    }

    private var items: [(entry: SafeTensorsEntry, source: Source)] = []
    private var names = Set<String>()
    private var end = 0
    /// The `__metadata__` map written in the header.
    public var metadata: [String: String]

    /// An empty file with `metadata`.
    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// The entries added so far, in file order.
    public var entries: [SafeTensorsEntry] { items.map(\.entry) }

    /// Adds an F32 tensor with `tensor`'s shape; its elements are read at write time.
    public mutating func add(_ name: String, _ tensor: Tensor) throws(CheckpointError) {
        try append(name, dtype: .f32, shape: tensor.shape, byteCount: tensor.count * 4, .tensor(tensor))
    }

    /// Adds a `HostTensor` (F32, BF16, F16, I8, I32 or U8) with its shape and dtype; its bytes
    /// are read at write time, with no copy.
    public mutating func add(_ name: String, _ tensor: HostTensor) throws(CheckpointError) {
        try append(name, dtype: SafeTensorsDType(tensor.dtype), shape: tensor.shape, byteCount: tensor.byteCount,
                   .host(tensor))
    }

    /// Adds a tensor from typed values (`[Int64]` becomes I64, and so on).
    public mutating func add<T: SafeTensorsScalar>(_ name: String, shape: [Int], values: [T]) throws(CheckpointError) {
        let bytes = values.withUnsafeBytes { [UInt8]($0) }
        try add(name, dtype: T.safeTensorsDType, shape: shape, bytes: bytes)
    }

    /// Adds a tensor from raw little-endian bytes, which must hold product(shape) * dtype size bytes.
    public mutating func add(_ name: String, dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8]) throws(CheckpointError) {
        try append(name, dtype: dtype, shape: shape, byteCount: bytes.count, .bytes(bytes))
    }

    private mutating func append(_ name: String, dtype: SafeTensorsDType, shape: [Int], byteCount: Int,
                                 _ source: Source) throws(CheckpointError) {
        guard name != "__metadata__", names.insert(name).inserted else {
            throw .duplicateTensor(file: "<writer>", tensor: name)
        }
        var expected: Int? = dtype.size
        for d in shape {
            guard let e = expected, d >= 0 else { expected = nil; break }
            let (p, overflow) = e.multipliedReportingOverflow(by: d)
            expected = overflow ? nil : p
        }
        guard expected == byteCount else {
            names.remove(name)
            throw .sizeMismatch(file: "<writer>", tensor: name, dtype: dtype.rawValue, shape: shape,
                                expectedBytes: expected ?? -1, actualBytes: byteCount)
        }
        items.append((SafeTensorsEntry(name: name, dtype: dtype, shape: shape, dataOffsets: end..<(end + byteCount)), source))
        end += byteCount
    }

    /// The 8-byte length followed by the padded JSON header.
    public func header() -> [UInt8] {
        var json = "{"
        var first = true
        if !metadata.isEmpty {
            json += "\"__metadata__\":{"
            json += metadata.sorted { $0.key < $1.key }
                .map { jsonStringLiteral($0.key) + ":" + jsonStringLiteral($0.value) }
                .joined(separator: ",")
            json += "}"
            first = false
        }
        for (e, _) in items {
            if !first { json += "," }
            first = false
            json += jsonStringLiteral(e.name) + ":{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":["
                + e.shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":["
                + "\(e.dataOffsets.lowerBound),\(e.dataOffsets.upperBound)]}"
        }
        json += "}"
        var body = Array(json.utf8)
        body.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - body.count % 8) % 8))
        var out = withUnsafeBytes(of: UInt64(body.count).littleEndian) { [UInt8]($0) }
        out.append(contentsOf: body)
        return out
    }

    /// The whole file in memory.
    public func serialized() -> [UInt8] {
        var out = header()
        out.reserveCapacity(out.count + end)
        forEachChunk { out.append(contentsOf: $0) }
        return out
    }

    /// Writes the file to `path` (replacing it); with `sync`, fsyncs it before returning.
    public func write(to path: String, sync: Bool = true) throws(CheckpointError) {
        let fd = try FileIO.openFile(path, O_WRONLY | O_CREAT | O_TRUNC)
        defer { close(fd) }
        let head = header()
        try FileIO.writeAll(fd, head, path: path)
        var failure: CheckpointError? = nil
        forEachChunk { chunk in
            guard failure == nil else { return }
            do throws(CheckpointError) {
                try FileIO.writeAll(fd, chunk.baseAddress, chunk.count, path: path)
            } catch { failure = error }
        }
        if let failure { throw failure }
        if sync { try FileIO.sync(fd, path: path) }
    }

    /// Calls `body` with the data in file order, merging neighbours that are adjacent in memory.
    private func forEachChunk(_ body: (UnsafeRawBufferPointer) -> Void) {
        var pending: UnsafeRawBufferPointer? = nil
        func emit(_ next: UnsafeRawBufferPointer) {
            if let p = pending, let pb = p.baseAddress, let nb = next.baseAddress, pb + p.count == nb {
                pending = UnsafeRawBufferPointer(start: pb, count: p.count + next.count)
                return
            }
            if let p = pending { body(p) }
            pending = next
        }
        for (e, source) in items where e.dataOffsets.count > 0 {
            switch source {
            case let .tensor(t):
                emit(UnsafeRawBufferPointer(start: t.pointer, count: e.dataOffsets.count))
            case let .host(h):
                emit(UnsafeRawBufferPointer(start: h.rawPointer, count: e.dataOffsets.count))
            case let .bytes(b):
                // Arrays do not promise a stable address, so these go out on their own.
                if let p = pending { body(p); pending = nil }
                b.withUnsafeBytes(body)
            }
        }
        if let p = pending { body(p) }
    }
}
