import SwConfig
import SwTensor

/// Layer normalisation over the last dimension, like `torch.nn.LayerNorm(dim, eps)`:
/// for each row `x` of `dim` values, `mean = Σx / dim`, `var = Σ(x - mean)² / dim` (biased),
/// `n = (x - mean) / sqrt(var + eps)`, `y = n * weight + bias`.
///
/// Input and output `(B, ..., dim)`. Parameters: `weight` `[dim]` (init ones), `bias` `[dim]`
/// (init zeros), as PyTorch. Backward (with `g = dy * weight`):
/// `dx = rstd (g - mean(g) - n mean(g n))`, `dweight += Σ dy n`, `dbias += Σ dy`.
/// Rows run over `ThreadPool` in fixed blocks, 16 lanes at a time (`LayerNormKernels`).
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
        ThreadPool.forBlocks(count: rows, block: Self.rowBlock) { r in
            for row in r {
                let (mean, rstd) = LayerNormKernels.forwardRow(xp + row * D, yp + row * D, wp, bp, D, eps)
                st[2 * row] = mean
                st[2 * row + 1] = rstd
            }
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
        ThreadPool.run(blocks) { t in
            let dw = part + 2 * D * t, db = dw + D
            dw.initialize(repeating: 0, count: 2 * D)
            for row in (t * Self.rowBlock)..<min(rows, (t + 1) * Self.rowBlock) {
                LayerNormKernels.backwardRow(xp + row * D, dyp + row * D, gp.map { $0 + row * D }, wp,
                                             mean: st[2 * row], rstd: st[2 * row + 1], dw, db, D)
            }
        }
        let dwp = dWeight.pointer, dbp = dBias.pointer
        for t in 0..<blocks {
            let dw = part + 2 * D * t, db = dw + D
            for i in 0..<D { dwp[i] += dw[i]; dbp[i] += db[i] }
        }
        return g ?? dy
    }
}

/// Layer norm over one row, 16 lanes at a time (`SIMD16<Float>` partial sums, then the lanes
/// in a fixed order), a scalar tail for `D % 16`.
enum LayerNormKernels {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    /// y = (x - mean) rstd w + b; returns (mean, rstd).
    @inline(__always)
    static func forwardRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ D: Int, _ eps: Float) -> (Float, Float) {
        let V = D / 16 * 16
        var acc = SIMD16<Float>(repeating: 0)
        var i = 0
        while i < V { acc += load(x + i); i += 16 }
        var sum = acc.sum()
        for j in V..<D { sum += x[j] }
        let mean = sum / Float(D)
        let m = SIMD16<Float>(repeating: mean)
        var sq = SIMD16<Float>(repeating: 0)
        i = 0
        while i < V { let d = load(x + i) - m; sq += d * d; i += 16 }
        var sqs = sq.sum()
        for j in V..<D { let d = x[j] - mean; sqs += d * d }
        let rstd = 1 / (sqs / Float(D) + eps).squareRoot()
        let r = SIMD16<Float>(repeating: rstd)
        i = 0
        while i < V { store((load(x + i) - m) * r * load(w + i) + load(b + i), y + i); i += 16 }
        for j in V..<D { y[j] = (x[j] - mean) * rstd * w[j] + b[j] }
        return (mean, rstd)
    }

    /// dw += dy n, db += dy; dx (when given) = rstd (dy w - mean(dy w) - n mean(dy w n)).
    @inline(__always)
    static func backwardRow(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>?,
                            _ w: UnsafePointer<Float>, mean: Float, rstd: Float,
                            _ dw: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>, _ D: Int) {
        let V = D / 16 * 16
        let m = SIMD16<Float>(repeating: mean), r = SIMD16<Float>(repeating: rstd)
        var sg = SIMD16<Float>(repeating: 0), sgn = SIMD16<Float>(repeating: 0)
        var i = 0
        while i < V {
            let n = (load(x + i) - m) * r, d = load(dy + i), gi = d * load(w + i)
            sg += gi
            sgn += gi * n
            store(load(dw + i) + d * n, dw + i)
            store(load(db + i) + d, db + i)
            i += 16
        }
        var sumG = sg.sum(), sumGN = sgn.sum()
        for j in V..<D {
            let n = (x[j] - mean) * rstd, gi = dy[j] * w[j]
            sumG += gi
            sumGN += gi * n
            dw[j] += dy[j] * n
            db[j] += dy[j]
        }
        guard let dx else { return }
        let meanG = sumG / Float(D), meanGN = sumGN / Float(D)
        let mg = SIMD16<Float>(repeating: meanG), mgn = SIMD16<Float>(repeating: meanGN)
        i = 0
        while i < V {
            let n = (load(x + i) - m) * r
            store(r * (load(dy + i) * load(w + i) - mg - n * mgn), dx + i)
            i += 16
        }
        for j in V..<D {
            let n = (x[j] - mean) * rstd
            dx[j] = rstd * (dy[j] * w[j] - meanG - n * meanGN)
        }
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
