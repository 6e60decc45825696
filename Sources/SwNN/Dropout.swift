import SwConfig
import SwTensor

/// Inverted dropout, like `torch.nn.Dropout(p)`: in training `y = x m / (1 - p)` with
/// `m ~ Bernoulli(1 - p)` drawn per element, in evaluation `y = x`. Backward: `dx = dy m / (1 - p)`.
///
/// The mask comes from the layer's own stream `rng` (a `StochasticLayer`, so checkpoints save
/// it): element `i` of the batch, in row-major order, is kept when the `i`-th `rng.uniform()`
/// of the step is `>= p`. `resetParameters(rng:)` seeds the stream from the model's seed.
/// `p = 1` drops everything (output zero). Any shape; no parameters.
public final class Dropout: StochasticLayer {
    public let typeName = "dropout"
    public let p: Float
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var needsInputGradient = true
    public var rng = RNG(seed: 0)

    private var mask: Tensor?      // (B, ...) 0 or 1 / (1 - p)
    private var out = BufferSlot()
    private var dx = BufferSlot()
    private var masked = false     // whether the last forward applied a mask

    public init(shape: [Int], p: Float = 0.5) {
        precondition(p >= 0 && p <= 1, "dropout probability must be in [0, 1], got \(p)")
        self.inputShape = shape
        self.p = p
    }

    public func resetParameters(rng: inout RNG) {
        self.rng = rng.fork(0xD209)
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        masked = training && p > 0
        guard masked else { return x }
        let m = Tensor.reuse(mask, shape: x.shape)
        mask = m
        let y = out.reuse(x.shape)
        let scale: Float = p < 1 ? 1 / (1 - p) : 0
        let mp = m.pointer, xp = x.pointer, yp = y.pointer
        let n = x.count
        rng.fillDropoutMask(mp, count: n, p: p, keep: scale)
        ThreadPool.forBlocks(count: n, block: elementwiseBlock) { r in for i in r { yp[i] = xp[i] * mp[i] } }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard needsInputGradient, masked else { return dy }
        let g = dx.reuse(dy.shape)
        let mp = mask!.pointer, dp = dy.pointer, gp = g.pointer
        ThreadPool.forBlocks(count: dy.count, block: elementwiseBlock) { r in for i in r { gp[i] = dp[i] * mp[i] } }
        return g
    }
}

extension Dropout {
    /// The config entry of type `"dropout"`.
    public static let builder = LayerBuilder("dropout", keys: ["p"]) { e, input, _ throws(ConfigError) in
        let p = try e.double("p", default: 0.5, "a probability from 0 to 1") { $0 >= 0 && $0 <= 1 }
        return Dropout(shape: input, p: Float(p))
    }
}

extension Dropout {
    public func shareBackwardMemory(with other: any Layer) {
        guard let o = other as? Dropout, o !== self, o.inputShape == inputShape else { return }
        dx = o.dx
    }

    public func shareTransientOutput(with other: any Layer) {
        guard let o = other as? Dropout, o !== self, o.inputShape == inputShape else { return }
        out = o.out
    }
}

extension Dropout {
    /// A new dropout layer of the same rate, continuing the same random stream.
    public func replica() -> any Layer {
        let r = Dropout(shape: inputShape, p: p)
        r.rng = rng
        r.needsInputGradient = needsInputGradient
        return r
    }
}
