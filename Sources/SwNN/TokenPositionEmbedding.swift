import SwConfig
import SwTensor

/// Token plus learned position embedding, like GPT-2's `wte` + `wpe`:
/// `y[b, t, :] = tok[x[b, t], :] + pos[t, :]`.
///
/// Input `(B, T)` token ids stored as Float (integers in `0..<vocab`; anything else is a
/// precondition failure), output `(B, T, dim)`. Parameters `tok.weight` `[vocab, dim]` and
/// `pos.weight` `[context, dim]` (`context >= T`; positions `T..<context` are unused), both
/// N(0, 1) as `nn.Embedding`. The PyTorch module it matches holds
/// `self.tok = nn.Embedding(vocab, dim)` and `self.pos = nn.Embedding(context, dim)` and
/// returns `tok(x) + pos(arange(T))`. Backward adds each `dy` row to its token's row of
/// `dtok` and to its position's row of `dpos`; ids have no gradient (`dx` is zero).
public final class TokenPositionEmbedding: Layer, TokenEmbedding {
    public let typeName = "token_position_embedding"
    public let vocab: Int
    public let dim: Int
    public let context: Int
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var needsInputGradient = true

    private var tok: Tensor!, pos: Tensor!
    private var dTok: Tensor!, dPos: Tensor!
    private var input: Tensor?
    private var out: Tensor?
    private var dx: Tensor?

    /// An embedding of `[T]` ids into `[T, dim]`, with positions for up to `context` (default `T`).
    public init(inputShape: [Int], vocab: Int, dim: Int, context: Int? = nil) {
        precondition(inputShape.count == 1 && vocab > 0 && dim > 0)
        let ctx = context ?? inputShape[0]
        precondition(ctx >= inputShape[0], "context \(ctx) is shorter than the input length \(inputShape[0])")
        self.inputShape = inputShape
        self.vocab = vocab
        self.dim = dim
        self.context = ctx
        self.outputShape = inputShape + [dim]
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        [("tok.weight", [vocab, dim]), ("pos.weight", [context, dim])]
    }

    public var parameterTensors: [Tensor] { tok == nil ? [] : [tok, pos] }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        tok = parameters[0]; pos = parameters[1]
        dTok = gradients[0]; dPos = gradients[1]
    }

    public func resetParameters(rng: inout RNG) {
        rng.fillNormal(tok)
        rng.fillNormal(pos)
    }

    @inline(__always)
    private func token(_ x: Tensor, _ i: Int) -> Int { tokenID(x, i, vocab: vocab, layer: "token_position_embedding") }

    /// Columns per pool task of backward.
    static let columnBlock = 64

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let b = batchSize(x, inputShape)
        let y = reuseBatch(out, batch: b, sample: outputShape)   // (B, T, D)
        out = y
        input = x
        EmbeddingLookup.forward(x, into: y, dim: dim, vocab: vocab, layer: "token_position_embedding",
                                tok: .init(values: tok.pointer), pos: .init(values: pos.pointer), period: inputShape[0])
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let x = input!
        let T = inputShape[0], D = dim
        // Columns in fixed blocks over the pool: every element still adds the tokens in order.
        let dyp = dy.pointer, dtp = dTok.pointer, dpp = dPos.pointer
        ThreadPool.forBlocks(count: D, block: Self.columnBlock) { c in
            for i in 0..<x.count {
                let src = dyp + i * D + c.lowerBound
                let dt = dtp + self.token(x, i) * D + c.lowerBound
                let dp = dpp + (i % T) * D + c.lowerBound
                for j in 0..<c.count { dt[j] += src[j]; dp[j] += src[j] }
            }
        }
        guard needsInputGradient else { return dy }
        let g = Tensor.reuse(dx, shape: x.shape)
        dx = g
        g.zero()
        return g
    }
}

extension TokenPositionEmbedding {
    /// The config entry of type `"token_position_embedding"`.
    public static let builder = LayerBuilder("token_position_embedding", keys: ["vocab", "dim", "context"]) { e, input, _ throws(ConfigError) in
        let vocab = try e.int("vocab", in: 1...Int.max)
        let dim = try e.int("dim", in: 1...Int.max)
        guard input.count == 1 else { throw LayerRegistry.shapeError(e, "token_position_embedding", "[T] (token ids)", input) }
        let context = try e.int("context", default: input[0], in: input[0]...Int.max)
        return TokenPositionEmbedding(inputShape: input, vocab: vocab, dim: dim, context: context)
    }
}

extension TokenPositionEmbedding {
    /// A new layer of the same kind and sizes, unbound, with its own activations.
    public func replica() -> any Layer {
        let r = TokenPositionEmbedding(inputShape: inputShape, vocab: vocab, dim: dim, context: context)
        r.needsInputGradient = needsInputGradient
        return r
    }
}
