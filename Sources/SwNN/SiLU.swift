import Foundation
import SwConfig
import SwTensor

/// Sigmoid-weighted linear unit (swish), `y = x σ(x)` with `σ(x) = 1 / (1 + exp(-x))`, like
/// `torch.nn.SiLU()`. Backward: `dx = dy σ(x) (1 + x (1 − σ(x)))`, with `σ(x)` kept from the
/// forward. Elementwise; any shape; no parameters.
public final class SiLU: Layer {
    public let typeName = "silu"
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var needsInputGradient = true
    private var input: Tensor?
    private var sigma: Tensor?   // σ(x), same shape as x
    private var out: Tensor?
    private var dx: Tensor?

    public init(shape: [Int]) { inputShape = shape }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let y = Tensor.reuse(out, shape: x.shape)
        let s = Tensor.reuse(sigma, shape: x.shape)
        out = y
        sigma = s
        input = x
        let xp = x.pointer, yp = y.pointer, sp = s.pointer
        for i in 0..<x.count {
            sp[i] = 1 / (1 + exp(-xp[i]))
            yp[i] = xp[i] * sp[i]
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard needsInputGradient else { return dy }
        let x = input!, s = sigma!
        let g = Tensor.reuse(dx, shape: dy.shape)
        dx = g
        let xp = x.pointer, sp = s.pointer, dp = dy.pointer, gp = g.pointer
        for i in 0..<dy.count { gp[i] = dp[i] * sp[i] * (1 + xp[i] * (1 - sp[i])) }
        return g
    }
}

extension SiLU {
    /// The config entry of type `"silu"`.
    public static let builder = LayerBuilder("silu", keys: []) { _, input, _ in SiLU(shape: input) }
}

extension SiLU {
    /// A new layer of the same kind and sizes, unbound, with its own activations.
    public func replica() -> any Layer {
        let r = SiLU(shape: inputShape)
        r.needsInputGradient = needsInputGradient
        return r
    }
}
