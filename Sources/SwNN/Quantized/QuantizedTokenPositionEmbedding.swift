import SwConfig
import SwTensor

/// An int8 `token_position_embedding` (inference only):
/// `y[b, t, :] = tok[x[b, t], :] · tok_scale[x[b, t]] + pos[t, :] · pos_scale[t]`.
///
/// Parameters: `tok.weight` `[vocab, dim]` and `pos.weight` `[context, dim]` (int8 values,
/// stored `I8`), each followed by its `weight_scale` (`[vocab]` / `[context]`: one symmetric
/// scale per table row; `[1]` per tensor, F32). The sum is that of the two dequantized rows.
public final class QuantizedTokenPositionEmbedding: Layer, IntegerParameters, TokenEmbedding {
    public let typeName = "quantized_token_position_embedding"
    public let vocab: Int
    public let dim: Int
    public let context: Int
    public let granularity: WeightGranularity
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var needsInputGradient = false

    private var params: [Tensor] = []
    private var out: Tensor?

    public init(inputShape: [Int], vocab: Int, dim: Int, context: Int, granularity: WeightGranularity = .perChannel) {
        precondition(inputShape.count == 1 && vocab > 0 && dim > 0 && context >= inputShape[0])
        self.inputShape = inputShape
        self.vocab = vocab
        self.dim = dim
        self.context = context
        self.granularity = granularity
        self.outputShape = inputShape + [dim]
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        let per = granularity == .perChannel
        return [("tok.weight", [vocab, dim]), ("tok.weight_scale", [per ? vocab : 1]),
                ("pos.weight", [context, dim]), ("pos.weight_scale", [per ? context : 1])]
    }

    public var integerParameterDTypes: [String: DType] { ["tok.weight": .i8, "pos.weight": .i8] }

    public var parameterTensors: [Tensor] { params }

    public func bind(parameters: [Tensor], gradients: [Tensor]) { params = parameters }

    /// Zero tables, unit scales: a placeholder until real values are loaded.
    public func resetParameters(rng: inout RNG) {
        params[0].zero(); params[2].zero()
        params[1].pointer.update(repeating: 1, count: params[1].count)
        params[3].pointer.update(repeating: 1, count: params[3].count)
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let y = reuseBatch(out, batch: batchSize(x, inputShape), sample: outputShape)   // (B, T, D)
        out = y
        EmbeddingLookup.forward(x, into: y, dim: dim, vocab: vocab, layer: typeName, tok: Int8Quantization.table(params[0], params[1]),
                                pos: Int8Quantization.table(params[2], params[3]), period: inputShape[0])
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        preconditionFailure("quantized_token_position_embedding is inference-only: train the fp32 model and quantize it again")
    }

    public func replica() -> any Layer {
        QuantizedTokenPositionEmbedding(inputShape: inputShape, vocab: vocab, dim: dim, context: context, granularity: granularity)
    }
}

extension QuantizedTokenPositionEmbedding {
    /// The config entry of type `"quantized_token_position_embedding"`.
    public static let builder = LayerBuilder("quantized_token_position_embedding", keys: ["vocab", "dim", "context", "granularity"]) { e, input, _ throws(ConfigError) in
        let vocab = try e.int("vocab", in: 1...Int.max)
        let dim = try e.int("dim", in: 1...Int.max)
        guard input.count == 1 else { throw LayerRegistry.shapeError(e, "quantized_token_position_embedding", "[T] (token ids)", input) }
        let context = try e.int("context", default: input[0], in: input[0]...Int.max)
        let (g, _) = try LayerRegistry.quantizationKeys(e)
        return QuantizedTokenPositionEmbedding(inputShape: input, vocab: vocab, dim: dim, context: context, granularity: g)
    }
}
