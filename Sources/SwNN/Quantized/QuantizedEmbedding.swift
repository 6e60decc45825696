import SwConfig
import SwTensor

/// An int8 `embedding` (inference only): `y[b, t, :] = weight[x[b, t], :] · weight_scale[x[b, t]]`,
/// what `swtrain quantize` turns an `embedding` into (docs/quantize.md).
///
/// Parameters: `weight` `[vocab, dim]` (int8 values, stored `I8`) and `weight_scale` `[vocab]`
/// (one symmetric scale per table row, the row a lookup dequantizes; `[1]` per tensor, F32).
/// A lookup returns exactly the dequantized row, so `|y − w_fp32| ≤ scale / 2`.
public final class QuantizedEmbedding: Layer, IntegerParameters, TokenEmbedding {
    public let typeName = "quantized_embedding"
    public let vocab: Int
    public let dim: Int
    public let granularity: WeightGranularity
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var needsInputGradient = false

    private var params: [Tensor] = []
    private var out: Tensor?

    public init(inputShape: [Int], vocab: Int, dim: Int, granularity: WeightGranularity = .perChannel) {
        precondition(vocab > 0 && dim > 0)
        self.inputShape = inputShape
        self.vocab = vocab
        self.dim = dim
        self.granularity = granularity
        self.outputShape = inputShape + [dim]
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        [("weight", [vocab, dim]), ("weight_scale", [granularity == .perChannel ? vocab : 1])]
    }

    public var integerParameterDTypes: [String: DType] { ["weight": .i8] }

    public var parameterTensors: [Tensor] { params }

    public func bind(parameters: [Tensor], gradients: [Tensor]) { params = parameters }

    /// Zero table, unit scales: a placeholder until real values are loaded.
    public func resetParameters(rng: inout RNG) {
        params[0].zero()
        params[1].pointer.update(repeating: 1, count: params[1].count)
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let y = reuseBatch(out, batch: batchSize(x, inputShape), sample: outputShape)   // (B, T, D)
        out = y
        EmbeddingLookup.forward(x, into: y, dim: dim, vocab: vocab, layer: typeName, tok: Int8Quantization.table(params[0], params[1]))
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        preconditionFailure("quantized_embedding is inference-only: train the fp32 model and quantize it again")
    }

    public func replica() -> any Layer {
        QuantizedEmbedding(inputShape: inputShape, vocab: vocab, dim: dim, granularity: granularity)
    }
}

extension Int8Quantization {
    /// The lookup table of int8 values `q` with their `scales`.
    static func table(_ q: Tensor, _ scales: Tensor) -> EmbeddingLookup.Table {
        .init(values: q.pointer, scales: scales.pointer, scaleCount: scales.count)
    }
}

extension QuantizedEmbedding {
    /// The config entry of type `"quantized_embedding"`.
    public static let builder = LayerBuilder("quantized_embedding", keys: ["vocab", "dim", "granularity"]) { e, input, _ throws(ConfigError) in
        let vocab = try e.int("vocab", in: 1...Int.max)
        let dim = try e.int("dim", in: 1...Int.max)
        let (g, _) = try LayerRegistry.quantizationKeys(e)
        return QuantizedEmbedding(inputShape: input, vocab: vocab, dim: dim, granularity: g)
    }
}
