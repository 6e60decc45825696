/// A row-major, contiguous Float32 array with a shape.
///
/// `Tensor` is a reference type on purpose: a layer allocates its activation tensors once and
/// rewrites them every step (no allocation in the steady-state step), and parameters are views
/// into one flat buffer (`ParameterStore`), so the optimizer, the all-reduce and the checkpoint
/// writer each make one pass over one allocation. A view keeps its owner alive.
///
/// Element `(i0, i1, ..., ik)` lives at `i0 * stride0 + ... + ik` with strides of a C array.
/// Hot loops use `pointer` or `buffer` directly; subscripts are for tests and set-up code.
public final class Tensor: @unchecked Sendable {
    /// The size of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// The number of elements (product of `shape`).
    public private(set) var count: Int
    /// The first element. Valid for `count` elements while this tensor is alive.
    public let pointer: UnsafeMutablePointer<Float>
    /// Elements allocated; `reshape` may use up to this many.
    public let capacity: Int
    private let owner: AnyObject?
    private let owned: Bool

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        let n = Tensor.elementCount(shape)
        self.shape = shape
        self.count = n
        self.capacity = n
        // 64-byte alignment so AVX-512 loads never split a cache line.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1) * 4, alignment: 64)
        self.pointer = raw.bindMemory(to: Float.self, capacity: max(n, 1))
        self.pointer.initialize(repeating: 0, count: max(n, 1))
        self.owner = nil
        self.owned = true
    }

    /// A tensor holding `values` (row-major) with `shape`.
    public convenience init(shape: [Int], values: [Float]) {
        precondition(Tensor.elementCount(shape) == values.count,
                     "Tensor(shape: \(shape)) needs \(Tensor.elementCount(shape)) values, got \(values.count)")
        self.init(zeros: shape)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A tensor filled with `value`.
    public convenience init(repeating value: Float, shape: [Int]) {
        self.init(zeros: shape)
        pointer.update(repeating: value, count: count)
    }

    /// A view of `count(shape)` elements starting at `pointer`, kept alive by `owner`.
    public init(viewing pointer: UnsafeMutablePointer<Float>, shape: [Int], owner: AnyObject?) {
        self.shape = shape
        self.count = Tensor.elementCount(shape)
        self.capacity = self.count
        self.pointer = pointer
        self.owner = owner
        self.owned = false
    }

    deinit {
        if owned { UnsafeMutableRawPointer(pointer).deallocate() }
    }

    /// Product of the dimensions; 1 for a scalar shape `[]`.
    @inlinable
    public static func elementCount(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape {
            precondition(d >= 0, "negative dimension in shape \(shape)")
            n *= d
        }
        return n
    }

    /// The elements as a mutable buffer (no copy).
    @inlinable
    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }

    /// Leading dimension (the batch, for activations).
    public var rows: Int { shape.first ?? 1 }
    /// Elements per leading index.
    public var rowSize: Int { shape.isEmpty ? 1 : count / max(shape[0], 1) }

    /// Changes the shape in place; the element count must not grow past the allocation.
    /// Used by layers whose batch dimension varies between steps (a last partial batch).
    public func reshape(_ newShape: [Int]) {
        let n = Tensor.elementCount(newShape)
        precondition(n <= capacity, "reshape to \(newShape) exceeds capacity \(capacity)")
        shape = newShape
        count = n
    }

    /// `existing` reshaped to `shape` when its allocation is large enough, else a new tensor.
    /// Layers keep their outputs this way: allocated on the first step, reused after.
    public static func reuse(_ existing: Tensor?, shape: [Int]) -> Tensor {
        let n = elementCount(shape)
        if let t = existing, t.capacity >= n {
            if t.shape != shape { t.reshape(shape) }
            return t
        }
        return Tensor(zeros: shape)
    }

    /// A view with another shape and the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(Tensor.elementCount(newShape) == count,
                     "cannot view \(shape) as \(newShape): element counts differ")
        return Tensor(viewing: pointer, shape: newShape, owner: self)
    }

    /// A view of rows `range` of the leading dimension.
    public func rows(_ range: Range<Int>) -> Tensor {
        var s = shape
        s[0] = range.count
        return Tensor(viewing: pointer + range.lowerBound * rowSize, shape: s, owner: self)
    }

    /// Flat element access (checks bounds).
    public subscript(flat i: Int) -> Float {
        get { precondition(i >= 0 && i < count, "index \(i) out of range 0..<\(count)"); return pointer[i] }
        set { precondition(i >= 0 && i < count, "index \(i) out of range 0..<\(count)"); pointer[i] = newValue }
    }

    /// Multi-dimensional element access (checks bounds).
    public subscript(_ index: Int...) -> Float {
        get { pointer[flatIndex(index)] }
        set { pointer[flatIndex(index)] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) for shape \(shape)")
        var flat = 0
        for (i, d) in zip(index, shape) {
            precondition(i >= 0 && i < d, "index \(index) out of range for shape \(shape)")
            flat = flat * d + i
        }
        return flat
    }

    /// The elements copied into an array.
    public var array: [Float] { Array(buffer) }

    /// A deep copy with its own storage.
    public func copy() -> Tensor {
        let t = Tensor(zeros: shape)
        t.pointer.update(from: pointer, count: count)
        return t
    }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }

    /// Sets every element to `value`.
    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }

    /// Copies `other`'s elements (same count) into this tensor.
    public func assign(_ other: Tensor) {
        precondition(other.count == count, "assign: \(other.shape) into \(shape)")
        pointer.update(from: other.pointer, count: count)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = buffer.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(\(shape): [\(head)\(count > 8 ? ", ..." : "")])"
    }
}
