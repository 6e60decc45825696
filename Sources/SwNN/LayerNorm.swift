import SwConfig
import SwTensor

/// Layer normalisation over the last dimension, like `torch.nn.LayerNorm(dim, eps)`:
/// for each row `x` of `dim` values, `mean = Σx / dim`, `var = Σ(x - mean)² / dim` (biased),
/// `n = (x - mean) / sqrt(var + eps)`, `y = n * weight + bias`.
///
/// Input and output `(B, ..., dim)`. Parameters: `weight` `[dim]` (init ones), `bias` `[dim]`
/// (init zeros), as PyTorch. Backward (with `g = dy * weight`):
/// `dx = rstd (g - mean(g) - n mean(g n))`, `dweight += Σ dy n`, `dbias += Σ dy`.
/// Rows run over `ThreadPool` in fixed blocks through the C row kernels
/// (`swt_layernorm_forward_rows` / `swt_layernorm_backward_rows`, AVX-512 when the CPU has it,
/// a portable copy otherwise), 16 lanes at a time.
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
    private var out = BufferSlot()
    private var outShared = false  // the output lives in shared memory: recomputed for backward
    private var dx = BufferSlot()
    private var partials = BufferSlot()  // (blocks, 2, dim) weight and bias gradients per row block

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
        input = x
        return normalize(x)
    }

    /// y = layernorm(x) into the output buffer, with the row statistics.
    private func normalize(_ x: Tensor) -> Tensor {
        let D = dim, rows = x.count / D
        let y = out.reuse(x.shape)                              // (rows, D)
        let st = scratch(&stats, count: 2 * rows)
        let wp = UnsafePointer(weight.pointer), bp = UnsafePointer(bias.pointer)
        let xp = UnsafePointer(x.pointer), yp = y.pointer, eps = eps
        let native = VectorKernels.native
        ThreadPool.forBlocks(count: rows, block: Self.rowBlock) { r in
            let o = r.lowerBound * D
            VectorKernels.layerNormForward(rows: r.count, dim: D, x: xp + o, y: yp + o, weight: wp, bias: bp, eps: eps,
                                           stats: st + 2 * r.lowerBound, native: native)
        }
        return y
    }

    /// Rows per pool task. The weight and bias gradients are summed per block of this many
    /// rows, then over the blocks in order: the split, and so the bits, never depend on the
    /// thread count.
    static let rowBlock = 256

    public func backward(_ dy: Tensor) -> Tensor {
        let x = input!
        let D = dim, rows = x.count / D
        let st = UnsafePointer(stats!.pointer)
        let wp = UnsafePointer(weight.pointer)
        let g: Tensor? = needsInputGradient ? dx.reuse(x.shape) : nil
        let blocks = (rows + Self.rowBlock - 1) / Self.rowBlock
        let part = partials.scratch(count: 2 * D * blocks)       // per block: dweight, dbias
        let xp = UnsafePointer(x.pointer), dyp = UnsafePointer(dy.pointer), gp = g?.pointer
        let native = VectorKernels.native
        ThreadPool.run(blocks) { t in
            let dw = part + 2 * D * t, db = dw + D
            dw.initialize(repeating: 0, count: 2 * D)
            let r0 = t * Self.rowBlock, o = r0 * D
            VectorKernels.layerNormBackward(rows: min(rows, r0 + Self.rowBlock) - r0, dim: D, x: xp + o, dy: dyp + o,
                                            dx: gp.map { $0 + o }, weight: wp, stats: st + 2 * r0, dw: dw, db: db, native: native)
        }
        let dwp = dWeight.pointer, dbp = dBias.pointer
        for t in 0..<blocks {
            let dw = part + 2 * D * t, db = dw + D
            for i in 0..<D { dwp[i] += dw[i]; dbp[i] += db[i] }
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
    public func shareBackwardMemory(with other: any Layer) {
        guard let o = other as? LayerNorm, o !== self, o.inputShape == inputShape else { return }
        dx = o.dx
        partials = o.partials
    }

    /// The output is written again from the kept input (the same function, so the same bits).
    public func shareRecomputedOutput(with other: any Layer) {
        guard let o = other as? LayerNorm, o !== self, o.inputShape == inputShape else { return }
        out = o.out
        outShared = true
        o.outShared = true
    }

    public func recomputeOutput() {
        guard outShared, let x = input else { return }
        _ = normalize(x)
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
