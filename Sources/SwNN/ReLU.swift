import SwConfig
import SwTensor

/// `max(x, 0)` elementwise. No parameters; any shape.
public final class ReLU: Layer {
    public let typeName = "relu"
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
        for i in 0..<x.count { yp[i] = max(xp[i], 0) }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard needsInputGradient else { return dy }
        let y = out!
        let g = Tensor.reuse(dx, shape: dy.shape)
        dx = g
        let yp = y.pointer, dp = dy.pointer, gp = g.pointer
        for i in 0..<dy.count { let d = dp[i]; gp[i] = yp[i] > 0 ? d : 0 }   // unconditional load: vectorises
        return g
    }
}

extension ReLU {
    /// The config entry of type `"relu"`.
    public static let builder = LayerBuilder("relu", keys: []) { _, input, _ in ReLU(shape: input) }
}

extension ReLU {
    /// A new layer of the same kind and sizes, unbound, with its own activations.
    public func replica() -> any Layer {
        let r = ReLU(shape: inputShape)
        r.needsInputGradient = needsInputGradient
        return r
    }
}
