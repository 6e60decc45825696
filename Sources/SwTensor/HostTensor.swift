/// A row-major, contiguous array of any `DType` with a shape, owning its bytes.
///
/// The counterpart of `Tensor` (Float32 only) for storage and exchange: bf16 / f16 weights,
/// int8 data, int32 labels, u8 images, and safetensors files of those dtypes. The bytes are
/// one 64-byte aligned allocation of `count * dtype.size` bytes, little-endian, element
/// `(i0, ..., ik)` at the C-array offset. A reference type like `Tensor`; `copy()` duplicates.
///
/// Typed access goes through `withUnsafeBufferPointer(as:)` / `withUnsafeMutableBufferPointer(as:)`,
/// which check the Swift type against the dtype (`Float` for f32, `BFloat16`, `Half`, `Int8`,
/// `Int32`, `UInt8`); `withUnsafeBytes` gives the raw bytes of any dtype.
public final class HostTensor: @unchecked Sendable {
    /// The element type.
    public let dtype: DType
    /// The size of each dimension, outermost first; `[]` is a scalar.
    public let shape: [Int]
    /// The number of elements (product of `shape`).
    public let count: Int
    /// `count * dtype.size`.
    public var byteCount: Int { count * dtype.size }
    /// The first byte (64-byte aligned). Valid for `byteCount` bytes while this tensor is alive.
    public var rawPointer: UnsafeMutableRawPointer { base }
    private let base: UnsafeMutableRawPointer

    /// A tensor of `dtype` zeros (all bytes 0: +0.0 for the float dtypes).
    public init(zeros shape: [Int], dtype: DType) {
        precondition(shape.allSatisfy { $0 >= 0 }, "HostTensor(zeros: \(shape)): negative dimension")
        self.dtype = dtype
        self.shape = shape
        self.count = shape.reduce(1, *)
        base = UnsafeMutableRawPointer.allocate(byteCount: max(count * dtype.size, 1), alignment: 64)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: max(count * dtype.size, 1))
    }

    /// A tensor holding `values` (row-major); the dtype is `T.dtype`.
    public convenience init<T: DTypeScalar>(shape: [Int], values: [T]) {
        self.init(zeros: shape, dtype: T.dtype)
        precondition(count == values.count, "HostTensor(shape: \(shape)) needs \(count) values, got \(values.count)")
        values.withUnsafeBytes { if $0.count > 0 { base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
    }

    /// A tensor from raw little-endian bytes, which must be exactly `product(shape) * dtype.size`.
    public convenience init(shape: [Int], dtype: DType, bytes: UnsafeRawBufferPointer) throws(HostTensorError) {
        let expected = shape.reduce(1, *) * dtype.size
        guard shape.allSatisfy({ $0 >= 0 }), bytes.count == expected else {
            throw .byteCountMismatch(dtype: dtype, shape: shape, expected: expected, actual: bytes.count)
        }
        self.init(zeros: shape, dtype: dtype)
        if expected > 0 { base.copyMemory(from: bytes.baseAddress!, byteCount: expected) }
    }

    /// `tensor`'s elements converted to the floating-point `dtype` (f32 copies; bf16 and f16
    /// round to nearest even, see `DTypeConversion`).
    public convenience init(converting tensor: Tensor, to dtype: DType) throws(HostTensorError) {
        guard dtype.isFloatingPoint else { throw .notFloatingPoint(dtype: dtype, operation: "HostTensor(converting:to:)") }
        self.init(zeros: tensor.shape, dtype: dtype)
        DTypeConversion.fromFloat(tensor.pointer, to: dtype, base, count: count)
    }

    deinit { base.deallocate() }

    /// A new Float32 `Tensor` with this shape and the values converted (exact for bf16 and
    /// f16). Integer dtypes are refused rather than silently converted.
    public func floatTensor() throws(HostTensorError) -> Tensor {
        guard dtype.isFloatingPoint else { throw .notFloatingPoint(dtype: dtype, operation: "floatTensor()") }
        let t = Tensor(zeros: shape)
        DTypeConversion.toFloat(base, from: dtype, t.pointer, count: count)
        return t
    }

    /// The elements as `T`, copied; `T.dtype` must be the dtype.
    public func values<T: DTypeScalar>(as type: T.Type = T.self) throws(HostTensorError) -> [T] {
        guard T.dtype == dtype else { throw .dtypeMismatch(stored: dtype, requested: T.dtype) }
        return Array(UnsafeBufferPointer(start: base.assumingMemoryBound(to: T.self), count: count))
    }

    /// A deep copy.
    public func copy() -> HostTensor {
        let c = HostTensor(zeros: shape, dtype: dtype)
        c.base.copyMemory(from: base, byteCount: byteCount)
        return c
    }

    /// Calls `body` with the raw bytes (valid only inside `body`).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: byteCount))
    }

    /// Calls `body` with the raw bytes, writable (valid only inside `body`).
    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: base, count: byteCount))
    }

    /// Calls `body` with the elements as `T`; throws `HostTensorError.dtypeMismatch` unless `T.dtype == dtype`.
    public func withUnsafeBufferPointer<T: DTypeScalar, R>(as type: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R) throws -> R {
        guard T.dtype == dtype else { throw HostTensorError.dtypeMismatch(stored: dtype, requested: T.dtype) }
        return try body(UnsafeBufferPointer(start: base.assumingMemoryBound(to: T.self), count: count))
    }

    /// Calls `body` with the elements as `T`, writable; throws `HostTensorError.dtypeMismatch` unless `T.dtype == dtype`.
    public func withUnsafeMutableBufferPointer<T: DTypeScalar, R>(as type: T.Type, _ body: (UnsafeMutableBufferPointer<T>) throws -> R) throws -> R {
        guard T.dtype == dtype else { throw HostTensorError.dtypeMismatch(stored: dtype, requested: T.dtype) }
        return try body(UnsafeMutableBufferPointer(start: base.assumingMemoryBound(to: T.self), count: count))
    }
}

/// Why a `HostTensor` operation was refused.
public enum HostTensorError: Error, Equatable, CustomStringConvertible {
    /// A typed access asked for a Swift type of another dtype.
    case dtypeMismatch(stored: DType, requested: DType)
    /// A float conversion was asked of an integer dtype.
    case notFloatingPoint(dtype: DType, operation: String)
    /// Raw bytes of the wrong length for the shape and dtype.
    case byteCountMismatch(dtype: DType, shape: [Int], expected: Int, actual: Int)

    public var description: String {
        switch self {
        case let .dtypeMismatch(stored, requested):
            return "HostTensor holds \(stored.rawValue), accessed as \(requested.rawValue): use the Swift type of \(stored.rawValue)"
        case let .notFloatingPoint(dtype, operation):
            return "HostTensor.\(operation): \(dtype.rawValue) is an integer dtype; convert integers explicitly (values(as:))"
        case let .byteCountMismatch(dtype, shape, expected, actual):
            return "HostTensor of \(dtype.rawValue) \(shape) needs \(expected) bytes, got \(actual)"
        }
    }
}
