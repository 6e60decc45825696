import SwConfig
import SwTensor

/// Flattens each sample to one dimension, `[d1, d2, ...] -> [d1 * d2 * ...]`, like
/// `torch.nn.Flatten()` (start_dim 1). Row-major order is kept, so forward returns a view of
/// its input and backward a view of `dy`. No parameters.
public final class Flatten: Layer {
    public let typeName = "flatten"
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var needsInputGradient = true
    private var views = ViewCache()

    public init(inputShape: [Int]) {
        self.inputShape = inputShape
        self.outputShape = [Tensor.elementCount(inputShape)]
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor { views.forward(x, inputShape, as: outputShape) }   // (B, n)
    public func backward(_ dy: Tensor) -> Tensor { needsInputGradient ? views.backward(dy, outputShape, as: inputShape) : dy }
}

extension Flatten {
    /// The config entry of type `"flatten"`.
    public static let builder = LayerBuilder("flatten", keys: []) { _, input, _ in Flatten(inputShape: input) }
}

extension Flatten {
    /// A new layer of the same kind and sizes, unbound, with its own activations.
    public func replica() -> any Layer {
        let r = Flatten(inputShape: inputShape)
        r.needsInputGradient = needsInputGradient
        return r
    }
}
