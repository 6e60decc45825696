import Foundation
import SwConfig
import SwTensor

/// Multi-head causal self-attention, like nanoGPT's `CausalSelfAttention`:
///
/// ```
/// qkv = x Wqkv^T + bqkv                      // (B, T, 3C): [q | k | v] per token
/// q, k, v = split(qkv); head h uses columns h*d ..< (h+1)*d of each, d = C / heads
/// S = q_h k_h^T / sqrt(d), S[i, j] = -inf for j > i   // (B, h, T, T)
/// P = softmax(S) over j (then dropout(P) in training)
/// o_h = P v_h, heads side by side                     // (B, T, C)
/// y = o Wproj^T + bproj (then dropout(y) in training)
/// ```
///
/// Input and output `(B, T, C)`. Children (PyTorch names): `qkv` = `Dense` C -> 3C (weight
/// `[3C, C]`, bias `[3C]`) and `proj` = `Dense` C -> C, so a model names them
/// `<i>.qkv.weight`, `<i>.qkv.bias`, `<i>.proj.weight`, `<i>.proj.bias`. The PyTorch module it
/// matches is a custom one with `self.qkv = nn.Linear(C, 3C)` and `self.proj = nn.Linear(C, C)`
/// (nanoGPT's `c_attn` / `c_proj`, renamed); `nn.MultiheadAttention` holds the same numbers
/// (`in_proj_weight` `[3C, C]`, `out_proj`) under other names. Initialisation: as `nn.Linear`.
///
/// Two paths compute the same function. `fused` (the default when the head width `d` is a
/// multiple of 16 up to 128): `FusedAttention`, FlashAttention-2 style, blocks of keys with
/// an online softmax, one pool task per (batch, head); it keeps only the heads' output and
/// one log-sum-exp per row (`(B, h, T)`), and backward recomputes `P`. Its attention dropout
/// mask is a hash of (a seed drawn from `rng` per forward, position), not `rng`'s sequence.
/// Unfused (`fused = false`, or other head widths): the per-(batch, head) products `q k^T`,
/// `P v` and their backward go through `sgemm` addressing heads inside the `(B, T, 3C)`
/// buffer with leading dimension `3C` (no copies); `P` is kept for backward, `(B, h, T, T)`
/// floats, and its dropout mask is drawn from `rng`. Dropout (probability `dropout`) applies
/// to `P` and to the output; the output mask is drawn from `rng` on both paths.
///
/// `gemmPrecision = .bf16` (mixed precision; the projections have their own switch): bf16
/// operands with fp32 accumulation by operand rounding. Forward rounds `q`, `k`, `v` (a copy
/// of the `qkv` output) to bf16 values held in fp32 (`FusedAttention.roundToBF16`) before the
/// fp32 kernels, so `S = q k^T` and `o = P v` take bf16 operands; backward uses the same
/// rounded `q`, `k`, `v` and rounds the output gradient `dO` too, so `dP = dO v^T` and
/// `dV = P^T dO` do as well. `P` and `dS` (the other operands of `P v`, `P^T dO`, `dS k`,
/// `dS^T q`) stay fp32, as do the softmax, the log-sum-exp and all accumulation. The gradient
/// is taken with respect to the rounded `qkv` (passed straight through the rounding). Both
/// paths round the same operands, so they still compute the same function.
public final class CausalSelfAttention: StochasticLayer {
    public let typeName = "causal_attention"
    public let heads: Int
    public let context: Int
    public let width: Int
    public let dropout: Float
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var needsInputGradient = true {
        didSet { qkv.needsInputGradient = needsInputGradient }
    }
    public var rng = RNG(seed: 0)
    /// Whether forward and backward run the fused kernels (`FusedAttention`); settable
    /// between steps (not between a forward and its backward). False when the head width is
    /// not supported.
    public var fused: Bool {
        didSet { if !FusedAttention.supports(headWidth: width / heads) { fused = false } }
    }

    /// The fused query/key/value projection, C -> 3C (a `Dense`, or what a rewrite put in
    /// its place: any layer mapping `[T, C]` to `[T, 3C]`).
    public let qkv: any Layer
    /// The output projection, C -> C (a `Dense`, or any layer mapping `[T, C]` to `[T, C]`).
    public let proj: any Layer

    private var probs: Tensor?      // (B, h, T, T) softmax, before dropout
    private var dropMask: Tensor?   // (B, h, T, T) 0 or 1 / (1 - p), when dropping
    private var dropped: Tensor?    // (B, h, T, T) P * mask
    private var outMask: Tensor?    // (B, T, C)
    private var attOut: Tensor?     // (B, T, C) heads side by side
    private var out = BufferSlot()  // (B, T, C) after output dropout
    private var dQKV = BufferSlot() // (B, T, 3C)
    private var dAtt = BufferSlot() // (B, T, C) after output dropout backward
    private var dP = BufferSlot()   // (T, T) scratch
    private var qkvOut: Tensor?     // (B, T, 3C) the qkv layer's output, for backward
    private var masked = false
    private var lse: Tensor?        // (B, h, T) log-sum-exp of each score row (fused)
    private var dropSeed: UInt32 = 0   // the fused dropout mask of the last forward
    private var ranFused = false
    private var roundedQKV: Tensor?  // (B, T, 3C) qkv rounded to bf16 (gemmPrecision .bf16)
    /// `.bf16`: the attention products take Q, K, V and dO rounded to bf16 (see above).
    public var gemmPrecision: GEMMPrecision = .fp32

    /// Attention over samples `[T, C]` with `heads` heads (`C` a multiple of `heads`).
    public init(inputShape: [Int], heads: Int, dropout: Float = 0) {
        precondition(inputShape.count == 2 && heads > 0 && inputShape[1] % heads == 0,
                     "causal_attention needs input [T, C] with C a multiple of heads, got \(inputShape) and \(heads) heads")
        precondition(dropout >= 0 && dropout < 1, "attention dropout must be in [0, 1), got \(dropout)")
        self.inputShape = inputShape
        self.context = inputShape[0]
        self.width = inputShape[1]
        self.heads = heads
        self.dropout = dropout
        fused = FusedAttention.supports(headWidth: inputShape[1] / heads)
        qkv = Dense(inputShape: inputShape, units: 3 * inputShape[1])
        proj = Dense(inputShape: inputShape, units: inputShape[1])
    }

    public var children: [(name: String, layer: any Layer)] { [("qkv", qkv), ("proj", proj)] }

    private init(_ other: CausalSelfAttention, qkv: any Layer, proj: any Layer) {
        inputShape = other.inputShape
        context = other.context
        width = other.width
        heads = other.heads
        dropout = other.dropout
        fused = other.fused
        rng = other.rng
        self.qkv = qkv
        self.proj = proj
        needsInputGradient = other.needsInputGradient
        qkv.needsInputGradient = other.needsInputGradient
        gemmPrecision = other.gemmPrecision
    }

    /// Replicas of the projections in a new attention layer (same stream).
    public func replica() -> any Layer {
        CausalSelfAttention(self, qkv: qkv.replica(), proj: proj.replica())
    }

    /// The same attention with new projections: `qkv` must map `[T, C]` to `[T, 3C]` and
    /// `proj` `[T, C]` to `[T, C]`. The dropout stream carries over.
    public func replacingChildren(_ children: [any Layer], path: String) throws(RewriteError) -> any Layer {
        precondition(children.count == 2)
        let (q, p) = (children[0], children[1])
        let T = context, C = width
        let (qPath, pPath) = (childPath(path, "qkv"), childPath(path, "proj"))
        guard q.inputShape == inputShape else { throw .inputShape(path: qPath, expected: inputShape, found: q.inputShape) }
        guard q.outputShape == [T, 3 * C] else { throw .outputShape(path: qPath, expected: [T, 3 * C], found: q.outputShape) }
        guard p.inputShape == inputShape else { throw .inputShape(path: pPath, expected: inputShape, found: p.inputShape) }
        guard p.outputShape == inputShape else { throw .outputShape(path: pPath, expected: inputShape, found: p.outputShape) }
        return CausalSelfAttention(self, qkv: q, proj: p)
    }

    public func resetParameters(rng: inout RNG) {
        self.rng = rng.fork(0xA77E)
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let T = context, C = width, H = heads, d = C / H
        let B = batchSize(x, inputShape)
        var q = qkv.forward(x, training: training)                       // (B, T, 3C)
        if gemmPrecision == .bf16 {
            let r = reuseBatch(roundedQKV, batch: B, sample: [T, 3 * C]); roundedQKV = r
            r.pointer.update(from: q.pointer, count: q.count)
            FusedAttention.roundToBF16(r.pointer, count: r.count)
            q = r
        }
        qkvOut = q
        masked = training && dropout > 0
        ranFused = fused
        if fused {
            let o = reuseBatch(attOut, batch: B, sample: [T, C]); attOut = o
            let l = reuseBatch(lse, batch: B, sample: [H, T]); lse = l
            dropSeed = masked ? rng.nextUInt32() : 0
            FusedAttention.forward(batch: B, heads: H, context: T, width: C, qkv: q.pointer, out: o.pointer,
                                   lse: l.pointer, dropout: masked ? dropout : 0, seed: dropSeed)
            return outputDropout(proj.forward(o, training: training), batch: B)
        }
        let P = reuseBatch(probs, batch: B, sample: [H, T, T]); probs = P
        let o = reuseBatch(attOut, batch: B, sample: [T, C]); attOut = o
        let scale = 1 / Float(d).squareRoot()
        let qp = q.pointer, pp = P.pointer
        var mp: UnsafeMutablePointer<Float>? = nil, pdp: UnsafeMutablePointer<Float>? = nil
        if masked {
            let m = reuseBatch(dropMask, batch: B, sample: [H, T, T]); dropMask = m
            let pd = reuseBatch(dropped, batch: B, sample: [H, T, T]); dropped = pd
            mp = m.pointer; pdp = pd.pointer
        }
        let keep = 1 / (1 - dropout)
        for b in 0..<B {
            for h in 0..<H {
                let Q = qp + b * T * 3 * C + h * d, K = Q + C, V = Q + 2 * C
                let S = pp + (b * H + h) * T * T                          // (T, T)
                // S = scale * Q K^T
                BLAS.gemm(transA: false, transB: true, m: T, n: T, k: d, alpha: scale,
                          a: Q, lda: 3 * C, b: K, ldb: 3 * C, beta: 0, c: S, ldc: T)
                for i in 0..<T { softmaxCausalRow(S + i * T, i + 1, T) }
                var A = UnsafePointer(S)
                if let mp, let pdp {
                    let m = mp + (b * H + h) * T * T, pd = pdp + (b * H + h) * T * T
                    for j in 0..<(T * T) {
                        m[j] = rng.uniform() >= dropout ? keep : 0
                        pd[j] = S[j] * m[j]
                    }
                    A = UnsafePointer(pd)
                }
                // o_h (T, d) = A (T, T) V (T, d), written into its columns of (B, T, C)
                BLAS.gemm(transA: false, transB: false, m: T, n: d, k: T,
                          a: A, lda: T, b: V, ldb: 3 * C, beta: 0, c: o.pointer + b * T * C + h * d, ldc: C)
            }
        }
        return outputDropout(proj.forward(o, training: training), batch: B)   // (B, T, C)
    }

    /// Dropout on the projection's output `y` when training with dropout, else `y`.
    private func outputDropout(_ y: Tensor, batch B: Int) -> Tensor {
        guard masked else { return y }
        let T = context, C = width, keep = 1 / (1 - dropout)
        let m = reuseBatch(outMask, batch: B, sample: [T, C]); outMask = m
        let z = out.reuse(batch: B, sample: [T, C])
        let mp = m.pointer, yp = y.pointer, zp = z.pointer
        rng.fillDropoutMask(mp, count: y.count, p: dropout, keep: keep)
        ThreadPool.forBlocks(count: y.count, block: elementwiseBlock) { r in for j in r { zp[j] = yp[j] * mp[j] } }
        return z
    }

    /// Softmax of `row[0..<n]` in place; `row[n..<T]` (the future) set to zero.
    @inline(__always)
    private func softmaxCausalRow(_ row: UnsafeMutablePointer<Float>, _ n: Int, _ T: Int) {
        var mx = row[0]
        for j in 1..<n where row[j] > mx { mx = row[j] }
        var z: Float = 0
        for j in 0..<n { let e = expf(row[j] - mx); row[j] = e; z += e }
        let inv = 1 / z
        for j in 0..<n { row[j] *= inv }
        for j in n..<T { row[j] = 0 }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let T = context, C = width, H = heads, d = C / H
        let B = dy.count / (T * C)
        var g = dy
        if masked {
            let ga = dAtt.reuse(batch: B, sample: [T, C])
            let m = outMask!.pointer, dp = dy.pointer, gp = ga.pointer
            ThreadPool.forBlocks(count: dy.count, block: elementwiseBlock) { r in for j in r { gp[j] = dp[j] * m[j] } }
            g = ga
        }
        var dO = proj.backward(g)                                          // (B, T, C)
        if gemmPrecision == .bf16 {
            // g (possibly dAtt) is consumed: dAtt holds the rounded dO.
            let r = dAtt.reuse(batch: B, sample: [T, C])
            r.pointer.update(from: dO.pointer, count: dO.count)
            FusedAttention.roundToBF16(r.pointer, count: r.count)
            dO = r
        }
        let q = qkvOut!                                         // (B, T, 3C)
        let dq = dQKV.reuse(batch: B, sample: [T, 3 * C])
        if ranFused {
            FusedAttention.backward(batch: B, heads: H, context: T, width: C, qkv: q.pointer, out: attOut!.pointer,
                                    dOut: dO.pointer, lse: lse!.pointer, dQKV: dq.pointer,
                                    dropout: masked ? dropout : 0, seed: dropSeed)
            return qkv.backward(dq)
        }
        let dp = dP.scratch(count: T * T)
        let scale = 1 / Float(d).squareRoot()
        for b in 0..<B {
            for h in 0..<H {
                let Q = q.pointer + b * T * 3 * C + h * d, K = Q + C, V = Q + 2 * C
                let dQ = dq.pointer + b * T * 3 * C + h * d, dK = dQ + C, dV = dQ + 2 * C
                let dOh = dO.pointer + b * T * C + h * d
                let P = probs!.pointer + (b * H + h) * T * T
                let A = masked ? UnsafePointer(dropped!.pointer + (b * H + h) * T * T) : UnsafePointer(P)
                // dV (T, d) = A^T (T, T) dO (T, d)
                BLAS.gemm(transA: true, transB: false, m: T, n: d, k: T,
                          a: A, lda: T, b: dOh, ldb: C, beta: 0, c: dV, ldc: 3 * C)
                // dA (T, T) = dO (T, d) V^T (d, T)
                BLAS.gemm(transA: false, transB: true, m: T, n: T, k: d,
                          a: dOh, lda: C, b: V, ldb: 3 * C, beta: 0, c: dp, ldc: T)
                if masked {
                    let m = dropMask!.pointer + (b * H + h) * T * T
                    for j in 0..<(T * T) { dp[j] *= m[j] }
                }
                // dS = P (dA - Σ_j dA P) on j <= i, scaled by 1/sqrt(d) for the product
                for i in 0..<T {
                    let pr = P + i * T, gr = dp + i * T
                    var dot: Float = 0
                    for j in 0...i { dot += gr[j] * pr[j] }
                    for j in 0...i { gr[j] = scale * pr[j] * (gr[j] - dot) }
                    for j in (i + 1)..<T { gr[j] = 0 }
                }
                // dQ (T, d) = dS (T, T) K (T, d);  dK (T, d) = dS^T (T, T) Q (T, d)
                BLAS.gemm(transA: false, transB: false, m: T, n: d, k: T,
                          a: dp, lda: T, b: K, ldb: 3 * C, beta: 0, c: dQ, ldc: 3 * C)
                BLAS.gemm(transA: true, transB: false, m: T, n: d, k: T,
                          a: dp, lda: T, b: Q, ldb: 3 * C, beta: 0, c: dK, ldc: 3 * C)
            }
        }
        return qkv.backward(dq)
    }
}

extension CausalSelfAttention {
    public func shareBackwardMemory(with other: any Layer) {
        guard let o = other as? CausalSelfAttention, o !== self, o.inputShape == inputShape, o.heads == heads else { return }
        (dQKV, dAtt, dP) = (o.dQKV, o.dAtt, o.dP)
        qkv.shareBackwardMemory(with: o.qkv)
        proj.shareBackwardMemory(with: o.proj)
    }

    /// The output is the projection's, or the output dropout's.
    public func shareTransientOutput(with other: any Layer) {
        guard let o = other as? CausalSelfAttention, o !== self, o.inputShape == inputShape, o.heads == heads else { return }
        out = o.out
        proj.shareTransientOutput(with: o.proj)
    }
}

extension CausalSelfAttention {
    /// The config entry of type `"causal_attention"`.
    public static let builder = LayerBuilder("causal_attention", keys: ["heads", "dropout", LayerParts.key]) { e, input, nested throws(ConfigError) in
        let (heads, p) = try LayerRegistry.attentionKeys(e, "causal_attention", input)
        let attention = CausalSelfAttention(inputShape: input, heads: heads, dropout: p)
        return try LayerParts.apply(e, type: "causal_attention", to: attention, nested: nested)
    }
}
