import SwConfig
import SwTensor

/// A pre-norm GPT block:
///
/// ```
/// h = x + attn(ln1(x))                       // (B, T, C)
/// y = h + mlp(ln2(h)),  mlp = dense(C -> rC), gelu, dense(rC -> C) [, dropout]
/// ```
///
/// Input and output `(B, T, C)`. Children, with the PyTorch names of the module
/// `Block(ln1=nn.LayerNorm(C), attn=CausalSelfAttention(C, heads), ln2=nn.LayerNorm(C),
/// mlp=nn.Sequential(nn.Linear(C, rC), nn.GELU(), nn.Linear(rC, C)[, nn.Dropout(p)]))`:
/// `ln1.weight [C]`, `ln1.bias [C]`, `attn.qkv.weight [3C, C]`, `attn.qkv.bias [3C]`,
/// `attn.proj.weight [C, C]`, `attn.proj.bias [C]`, `ln2.weight [C]`, `ln2.bias [C]`,
/// `mlp.0.weight [rC, C]`, `mlp.0.bias [rC]`, `mlp.2.weight [C, rC]`, `mlp.2.bias [C]`:
/// `12 C² + 13 C` numbers for r = 4 (in general `(4 + 2r) C² + (9 + r) C`).
/// Dropout `p` applies to attention probabilities, the attention output and the MLP output.
public final class TransformerBlock: Layer {
    public let typeName = "transformer_block"
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var needsInputGradient = true {
        didSet { ln1.needsInputGradient = needsInputGradient }
    }

    /// The parts (a rewrite may put any layer mapping `[T, C]` to `[T, C]` in their place).
    public let ln1: any Layer
    public let attn: any Layer
    public let ln2: any Layer
    public let mlp: any Layer

    private var mid: Tensor?    // (B, T, C) h = x + attn(ln1(x))
    private var out: Tensor?    // (B, T, C)
    private var dMid = BufferSlot()   // (B, T, C)
    private var dx = BufferSlot()     // (B, T, C)

    /// A block over samples `[T, C]` with `heads` attention heads and an MLP of `mlpRatio * C`.
    public init(inputShape: [Int], heads: Int, mlpRatio: Int = 4, dropout: Float = 0) {
        precondition(inputShape.count == 2 && mlpRatio > 0)
        let T = inputShape[0], C = inputShape[1]
        self.inputShape = inputShape
        ln1 = LayerNorm(inputShape: inputShape)
        attn = CausalSelfAttention(inputShape: inputShape, heads: heads, dropout: dropout)
        ln2 = LayerNorm(inputShape: inputShape)
        var layers: [any Layer] = [Dense(inputShape: inputShape, units: mlpRatio * C),
                                   GELU(shape: [T, mlpRatio * C]),
                                   Dense(inputShape: [T, mlpRatio * C], units: C)]
        if dropout > 0 { layers.append(Dropout(shape: inputShape, p: dropout)) }
        mlp = Sequential(layers, inputShape: inputShape)
    }

    public var children: [(name: String, layer: any Layer)] {
        [("ln1", ln1), ("attn", attn), ("ln2", ln2), ("mlp", mlp)]
    }

    private init(inputShape: [Int], parts: [any Layer], needsInputGradient: Bool) {
        self.inputShape = inputShape
        (ln1, attn, ln2, mlp) = (parts[0], parts[1], parts[2], parts[3])
        self.needsInputGradient = needsInputGradient
        ln1.needsInputGradient = needsInputGradient
    }

    /// Replicas of the four parts, in a new block.
    public func replica() -> any Layer {
        TransformerBlock(inputShape: inputShape, parts: children.map { $0.layer.replica() }, needsInputGradient: needsInputGradient)
    }

    /// The same block with new parts; each must map `[T, C]` to `[T, C]`.
    public func replacingChildren(_ children: [any Layer], path: String) throws(RewriteError) -> any Layer {
        precondition(children.count == 4)
        for ((name, _), part) in zip(self.children, children) {
            let at = childPath(path, name)
            guard part.inputShape == inputShape else { throw .inputShape(path: at, expected: inputShape, found: part.inputShape) }
            guard part.outputShape == inputShape else { throw .outputShape(path: at, expected: inputShape, found: part.outputShape) }
        }
        return TransformerBlock(inputShape: inputShape, parts: children, needsInputGradient: needsInputGradient)
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let a = attn.forward(ln1.forward(x, training: training), training: training)
        let h = Tensor.reuse(mid, shape: x.shape); mid = h
        let n = x.count
        let xp = x.pointer, ap = a.pointer, hp = h.pointer
        ThreadPool.forBlocks(count: n, block: elementwiseBlock) { r in for i in r { hp[i] = xp[i] + ap[i] } }
        let m = mlp.forward(ln2.forward(h, training: training), training: training)
        let y = Tensor.reuse(out, shape: x.shape); out = y
        let mp = m.pointer, yp = y.pointer
        ThreadPool.forBlocks(count: n, block: elementwiseBlock) { r in for i in r { yp[i] = hp[i] + mp[i] } }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let n = dy.count
        // dh = dy + ln2'(mlp'(dy))
        ln2.recomputeOutput()                    // the MLP's input, when shared
        let d2 = ln2.backward(mlp.backward(dy))
        let dh = dMid.reuse(dy.shape)
        let dyp = dy.pointer, d2p = d2.pointer, dhp = dh.pointer
        ThreadPool.forBlocks(count: n, block: elementwiseBlock) { r in for i in r { dhp[i] = dyp[i] + d2p[i] } }
        // dx = dh + ln1'(attn'(dh))
        ln1.recomputeOutput()                    // the attention's input, when shared
        let d1 = ln1.backward(attn.backward(dh))
        guard needsInputGradient else { return dh }
        // With shared backward memory (`Sequential.linkBlockMemory`), `g` may be the memory of
        // `dy` (the next block's returned gradient): `dy` is dead once `dh` is written.
        let g = dx.reuse(dy.shape)
        let d1p = d1.pointer, gp = g.pointer
        ThreadPool.forBlocks(count: n, block: elementwiseBlock) { r in for i in r { gp[i] = dhp[i] + d1p[i] } }
        return g
    }
}

extension TransformerBlock {
    public func shareBackwardMemory(with other: any Layer) {
        guard let o = other as? TransformerBlock, o !== self, o.inputShape == inputShape else { return }
        (dMid, dx) = (o.dMid, o.dx)
        for (a, b) in zip(children, o.children) { a.layer.shareBackwardMemory(with: b.layer) }
    }

    /// The layer norms' and the MLP's GELU outputs (recomputed in backward).
    public func shareRecomputedOutput(with other: any Layer) {
        guard let o = other as? TransformerBlock, o !== self, o.inputShape == inputShape else { return }
        for (a, b) in zip(children, o.children) { a.layer.shareRecomputedOutput(with: b.layer) }
    }

    /// The attention's and the MLP's outputs, which forward adds to the residual stream at once.
    public func shareTransientOutput(with other: any Layer) {
        guard let o = other as? TransformerBlock, o !== self, o.inputShape == inputShape else { return }
        attn.shareTransientOutput(with: o.attn)
        mlp.shareTransientOutput(with: o.mlp)
    }
}

extension TransformerBlock {
    /// The config entry of type `"transformer_block"`.
    public static let builder = LayerBuilder("transformer_block", keys: ["heads", "mlp_ratio", "dropout", LayerParts.key]) { e, input, nested throws(ConfigError) in
        let (heads, p) = try LayerRegistry.attentionKeys(e, "transformer_block", input)
        let ratio = try e.int("mlp_ratio", default: 4, in: 1...Int.max)
        let block = TransformerBlock(inputShape: input, heads: heads, mlpRatio: ratio, dropout: p)
        return try LayerParts.apply(e, type: "transformer_block", to: block, nested: nested)
    }
}
