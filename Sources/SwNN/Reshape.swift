import SwConfig
import SwTensor

/// Views each sample with another shape of the same element count, like `x.reshape(B, *shape)`
/// (`{"type": "reshape", "shape": [1, 40]}`). Row-major order is kept, so no data moves:
/// forward returns a view of its input and backward a view of `dy`. No parameters.
public final class Reshape: Layer {
    public let typeName = "reshape"
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var needsInputGradient = true
    private var views = ViewCache()

    /// Samples of `inputShape` seen as `shape` (same element count).
    public init(inputShape: [Int], shape: [Int]) {
        precondition(Tensor.elementCount(inputShape) == Tensor.elementCount(shape),
                     "reshape: cannot view \(inputShape) as \(shape): element counts differ")
        self.inputShape = inputShape
        self.outputShape = shape
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor { views.forward(x, inputShape, as: outputShape) }   // (B, shape...)
    public func backward(_ dy: Tensor) -> Tensor { needsInputGradient ? views.backward(dy, outputShape, as: inputShape) : dy }
}

/// Views of a tensor with another shape, remembered so that the steady state (same buffer,
/// same batch) creates no new `Tensor`.
struct ViewCache {
    private var out: Tensor?
    private var dx: Tensor?

    /// `x`, a batch of samples of shape `from` (checked), seen as samples of shape `to`.
    mutating func forward(_ x: Tensor, _ from: [Int], as to: [Int]) -> Tensor {
        ViewCache.view(&out, x, batchSize(x, from), to)
    }

    /// `dy`, a batch of samples of shape `from`, seen as samples of shape `to`.
    mutating func backward(_ dy: Tensor, _ from: [Int], as to: [Int]) -> Tensor {
        ViewCache.view(&dx, dy, dy.count / Tensor.elementCount(from), to)
    }

    private static func view(_ cache: inout Tensor?, _ t: Tensor, _ batch: Int, _ sample: [Int]) -> Tensor {
        if let v = cache, v.pointer == t.pointer, v.count == t.count, v.shape.first == batch { return v }
        let v = Tensor(viewing: t.pointer, shape: [batch] + sample, owner: t)
        cache = v
        return v
    }
}

extension Reshape {
    /// The config entry of type `"reshape"`.
    public static let builder = LayerBuilder("reshape", keys: ["shape"]) { e, input, _ throws(ConfigError) in
        let value = try e.required("shape", "the shape of one sample, like [1, 40]")
        var shape = try value.intArray(in: -1...Int.max)
        let n = Tensor.elementCount(input)
        if shape.isEmpty || shape.contains(0) || shape.filter({ $0 == -1 }).count > 1 {
            throw value.fail("a non-empty list of positive sizes (at most one -1, inferred)")
        }
        if let i = shape.firstIndex(of: -1) {
            let known = shape.reduce(1) { $1 == -1 ? $0 : $0 * $1 }
            if n % known == 0 { shape[i] = n / known }
        }
        guard !shape.contains(-1), Tensor.elementCount(shape) == n else {
            throw ConfigError(file: e.file, path: e.path,
                              message: "reshape cannot view samples of shape \(input) (\(n) values) as \(shape) (\(shape.contains(-1) ? "no whole size for -1" : "\(Tensor.elementCount(shape)) values"))",
                              hint: "the new shape must hold the same number of values")
        }
        return Reshape(inputShape: input, shape: shape)
    }
}

extension Reshape {
    /// A new layer of the same kind and sizes, unbound, with its own activations.
    public func replica() -> any Layer {
        let r = Reshape(inputShape: inputShape, shape: outputShape)
        r.needsInputGradient = needsInputGradient
        return r
    }
}
