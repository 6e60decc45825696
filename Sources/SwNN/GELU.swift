import Foundation
import SwTensor

/// Gaussian error linear unit, exact form: `y = x Φ(x) = x (1 + erf(x / sqrt 2)) / 2`, like
/// `torch.nn.GELU()` (approximate="none"). Backward: `dx = dy (Φ(x) + x φ(x))` with
/// `φ(x) = exp(-x² / 2) / sqrt(2 π)`. Elementwise; any shape; no parameters.
public final class GELU: Layer {
    public let typeName = "gelu"
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var needsInputGradient = true
    private var input: Tensor?
    private var out: Tensor?
    private var dx: Tensor?

    public init(shape: [Int]) { inputShape = shape }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let y = Tensor.reuse(out, shape: x.shape)
        out = y
        input = x
        let xp = x.pointer, yp = y.pointer
        let r: Float = 0.707_106_781_186_547_6                  // 1 / sqrt 2
        for i in 0..<x.count { yp[i] = 0.5 * xp[i] * (1 + erf(xp[i] * r)) }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard needsInputGradient else { return dy }
        let x = input!
        let g = Tensor.reuse(dx, shape: dy.shape)
        dx = g
        let xp = x.pointer, dp = dy.pointer, gp = g.pointer
        let r: Float = 0.707_106_781_186_547_6                  // 1 / sqrt 2
        let c: Float = 0.398_942_280_401_432_7                  // 1 / sqrt(2 π)
        for i in 0..<dy.count {
            let v = xp[i]
            let cdf = 0.5 * (1 + erf(v * r))
            let pdf = c * exp(-0.5 * v * v)
            gp[i] = dp[i] * (cdf + v * pdf)
        }
        return g
    }
}
