import Foundation
import SwConfig
import SwTensor

/// `y = tanh(x)` elementwise, like `torch.nn.Tanh()`. Backward from the output:
/// `dx = dy (1 - y²)`. Any shape; no parameters.
public final class Tanh: Layer {
    public let typeName = "tanh"
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
        for i in 0..<x.count { yp[i] = tanh(xp[i]) }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard needsInputGradient else { return dy }
        let y = out!
        let g = Tensor.reuse(dx, shape: dy.shape)
        dx = g
        let yp = y.pointer, dp = dy.pointer, gp = g.pointer
        for i in 0..<dy.count { gp[i] = dp[i] * (1 - yp[i] * yp[i]) }
        return g
    }
}

extension Tanh {
    /// The config entry of type `"tanh"`.
    public static let builder = LayerBuilder("tanh", keys: []) { _, input, _ in Tanh(shape: input) }
}

extension Tanh {
    /// A new layer of the same kind and sizes, unbound, with its own activations.
    public func replica() -> any Layer {
        let r = Tanh(shape: inputShape)
        r.needsInputGradient = needsInputGradient
        return r
    }
}
