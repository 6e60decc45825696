import SwConfig
import SwTensor

/// Layer normalisation over the last dimension, like `torch.nn.LayerNorm(dim, eps)`:
/// for each row `x` of `dim` values, `mean = Σx / dim`, `var = Σ(x - mean)² / dim` (biased),
/// `n = (x - mean) / sqrt(var + eps)`, `y = n * weight + bias`.
///
/// Input and output `(B, ..., dim)`. Parameters: `weight` `[dim]` (init ones), `bias` `[dim]`
/// (init zeros), as PyTorch. Backward (with `g = dy * weight`):
/// `dx = rstd (g - mean(g) - n mean(g n))`, `dweight += Σ dy n`, `dbias += Σ dy`.
public final class LayerNorm: Layer {
    public let typeName = "layernorm"
    public let dim: Int
    public let eps: Float
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var needsInputGradient = true

    private var weight: Tensor!, bias: Tensor!
    private var dWeight: Tensor!, dBias: Tensor!
    private var input: Tensor?
    private var stats: Tensor?     // (rows, 2): mean, 1 / sqrt(var + eps)
    private var out: Tensor?
    private var dx: Tensor?

    public init(inputShape: [Int], eps: Float = 1e-5) {
        precondition(!inputShape.isEmpty && inputShape.last! > 0 && eps >= 0)
        self.inputShape = inputShape
        self.dim = inputShape.last!
        self.eps = eps
    }

    public var parameterShapes: [(name: String, shape: [Int])] { [("weight", [dim]), ("bias", [dim])] }

    public var parameterTensors: [Tensor] { weight == nil ? [] : [weight, bias] }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        weight = parameters[0]; bias = parameters[1]
        dWeight = gradients[0]; dBias = gradients[1]
    }

    public func resetParameters(rng: inout RNG) {
        weight.fill(1)
        bias.zero()
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let D = dim, rows = x.count / D
        let y = Tensor.reuse(out, shape: x.shape)               // (rows, D)
        out = y
        input = x
        let st = scratch(&stats, count: 2 * rows)
        let wp = weight.pointer, bp = bias.pointer
        for r in 0..<rows {
            let xr = x.pointer + r * D, yr = y.pointer + r * D
            var sum: Float = 0
            for i in 0..<D { sum += xr[i] }
            let mean = sum / Float(D)
            var sq: Float = 0
            for i in 0..<D { let d = xr[i] - mean; sq += d * d }
            let rstd = 1 / (sq / Float(D) + eps).squareRoot()
            for i in 0..<D { yr[i] = (xr[i] - mean) * rstd * wp[i] + bp[i] }
            st[2 * r] = mean
            st[2 * r + 1] = rstd
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let x = input!
        let D = dim, rows = x.count / D
        let st = stats!.pointer
        let wp = weight.pointer, dwp = dWeight.pointer, dbp = dBias.pointer
        let g: Tensor? = needsInputGradient ? Tensor.reuse(dx, shape: x.shape) : nil
        if let g { dx = g }
        for r in 0..<rows {
            let xr = x.pointer + r * D, dyr = dy.pointer + r * D
            let mean = st[2 * r], rstd = st[2 * r + 1]
            var sumG: Float = 0, sumGN: Float = 0
            for i in 0..<D {
                let n = (xr[i] - mean) * rstd
                let gi = dyr[i] * wp[i]
                sumG += gi
                sumGN += gi * n
                dwp[i] += dyr[i] * n
                dbp[i] += dyr[i]
            }
            guard let g else { continue }
            let meanG = sumG / Float(D), meanGN = sumGN / Float(D)
            let dxr = g.pointer + r * D
            for i in 0..<D {
                let n = (xr[i] - mean) * rstd
                dxr[i] = rstd * (dyr[i] * wp[i] - meanG - n * meanGN)
            }
        }
        return g ?? dy
    }
}

extension LayerNorm {
    /// The config entry of type `"layernorm"`.
    public static let builder = LayerBuilder("layernorm", keys: ["eps"]) { e, input, _ throws(ConfigError) in
        let eps = try e.double("eps", default: 1e-5, "a positive number") { $0 > 0 }
        return LayerNorm(inputShape: input, eps: Float(eps))
    }
}

extension LayerNorm {
    /// A new layer of the same kind and sizes, unbound, with its own activations.
    public func replica() -> any Layer {
        let r = LayerNorm(inputShape: inputShape, eps: eps)
        r.needsInputGradient = needsInputGradient
        return r
    }
}
