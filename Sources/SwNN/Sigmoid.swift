import Foundation
import SwConfig
import SwTensor

/// `y = 1 / (1 + exp(-x))` elementwise, like `torch.nn.Sigmoid()`. Backward from the output:
/// `dx = dy y (1 - y)`. Any shape; no parameters.
public final class Sigmoid: Layer {
    public let typeName = "sigmoid"
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var needsInputGradient = true
    private var out: Tensor?
    private var dx: Tensor?

    public init(shape: [Int]) { inputShape = shape }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let y = Tensor.reuse(out, shape: x.shape)
        out = y
        let xp = x.pointer, yp = y.pointer
        for i in 0..<x.count { yp[i] = 1 / (1 + exp(-xp[i])) }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard needsInputGradient else { return dy }
        let y = out!
        let g = Tensor.reuse(dx, shape: dy.shape)
        dx = g
        let yp = y.pointer, dp = dy.pointer, gp = g.pointer
        for i in 0..<dy.count { gp[i] = dp[i] * yp[i] * (1 - yp[i]) }
        return g
    }
}

extension Sigmoid {
    /// The config entry of type `"sigmoid"`.
    public static let builder = LayerBuilder("sigmoid", keys: []) { _, input, _ in Sigmoid(shape: input) }
}

extension Sigmoid {
    /// A new layer of the same kind and sizes, unbound, with its own activations.
    public func replica() -> any Layer {
        let r = Sigmoid(shape: inputShape)
        r.needsInputGradient = needsInputGradient
        return r
    }
}
