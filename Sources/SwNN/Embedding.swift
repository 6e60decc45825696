import SwConfig
import SwTensor

/// A lookup table, like `torch.nn.Embedding(vocab, dim)`: `y[b, t, :] = weight[x[b, t], :]`.
///
/// Input `(B, T...)` of token ids stored as Float (integers in `0..<vocab`; anything else is a
/// precondition failure), output `(B, T..., dim)`. Parameter `weight` `[vocab, dim]`,
/// initialised N(0, 1) as PyTorch. Backward adds each `dy` row to its token's row of `dweight`;
/// ids have no gradient, so the input gradient is zero (or `dy` is passed on when not needed).
public final class Embedding: Layer, TokenEmbedding {
    public let typeName = "embedding"
    public let vocab: Int
    public let dim: Int
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var needsInputGradient = true

    private var weight: Tensor!, dWeight: Tensor!
    private var input: Tensor?
    private var out: Tensor?
    private var dx: Tensor?

    public init(inputShape: [Int], vocab: Int, dim: Int) {
        precondition(vocab > 0 && dim > 0)
        self.inputShape = inputShape
        self.vocab = vocab
        self.dim = dim
        self.outputShape = inputShape + [dim]
    }

    public var parameterShapes: [(name: String, shape: [Int])] { [("weight", [vocab, dim])] }

    public var parameterTensors: [Tensor] { weight == nil ? [] : [weight] }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        weight = parameters[0]; dWeight = gradients[0]
    }

    public func resetParameters(rng: inout RNG) {
        rng.fillNormal(weight)
    }

    @inline(__always)
    private func token(_ x: Tensor, _ i: Int) -> Int { tokenID(x, i, vocab: vocab, layer: "embedding") }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let b = batchSize(x, inputShape)
        let y = reuseBatch(out, batch: b, sample: outputShape)   // (B, T, D)
        out = y
        input = x
        EmbeddingLookup.forward(x, into: y, dim: dim, vocab: vocab, layer: "embedding", tok: .init(values: weight.pointer))
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let x = input!
        let D = dim
        for i in 0..<x.count {
            let dst = dWeight.pointer + token(x, i) * D, src = dy.pointer + i * D
            for j in 0..<D { dst[j] += src[j] }
        }
        guard needsInputGradient else { return dy }
        let g = Tensor.reuse(dx, shape: x.shape)
        dx = g
        g.zero()
        return g
    }
}

extension Embedding {
    /// The config entry of type `"embedding"`.
    public static let builder = LayerBuilder("embedding", keys: ["vocab", "dim"]) { e, input, _ throws(ConfigError) in
        let vocab = try e.int("vocab", in: 1...Int.max)
        let dim = try e.int("dim", in: 1...Int.max)
        return Embedding(inputShape: input, vocab: vocab, dim: dim)
    }
}

extension Embedding {
    /// A new layer of the same kind and sizes, unbound, with its own activations.
    public func replica() -> any Layer {
        let r = Embedding(inputShape: inputShape, vocab: vocab, dim: dim)
        r.needsInputGradient = needsInputGradient
        return r
    }
}
