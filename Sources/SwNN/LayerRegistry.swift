/// The layer types a config may name, by config name (`"dense"` -> `Dense.builder`).
///
/// A layer type is its own file, holding the layer and its `static let builder`, plus one
/// line in `standard` below. Another module adds its own types with `adding(_:)` and passes
/// the result to `Model(config:registry:)`.
public struct LayerRegistry: Sendable {
    /// The builders by type name.
    public let builders: [String: LayerBuilder]

    /// A registry of `builders`; two with the same type name are a programmer error.
    public init(_ builders: [LayerBuilder]) {
        var byName: [String: LayerBuilder] = [:]
        for b in builders {
            precondition(byName[b.type] == nil, "LayerRegistry: layer type \"\(b.type)\" registered twice")
            byName[b.type] = b
        }
        self.builders = byName
    }

    /// This registry with `more` types added.
    public func adding(_ more: [LayerBuilder]) -> LayerRegistry {
        LayerRegistry(Array(builders.values) + more)
    }

    /// The accepted type names, sorted.
    public var names: [String] { builders.keys.sorted() }

    /// Every layer type of SwNN: one line per type.
    public static let standard = LayerRegistry([
        Dense.builder,
        LowRankDense.builder,
        ReLU.builder,
        Residual.builder,
        Conv1D.builder,
        Conv2D.builder,
        MaxPool.builder1D,
        AvgPool.builder1D,
        MaxPool.builder2D,
        AvgPool.builder2D,
        Flatten.builder,
        Reshape.builder,
        GELU.builder,
        Tanh.builder,
        Sigmoid.builder,
        SiLU.builder,
        Dropout.builder,
        LayerNorm.builder,
        Embedding.builder,
        TokenPositionEmbedding.builder,
        CausalSelfAttention.builder,
        TransformerBlock.builder,
        QuantizedDense.builder,
        QuantizedConv1D.builder,
        QuantizedConv2D.builder,
        QuantizedEmbedding.builder,
        QuantizedTokenPositionEmbedding.builder,
    ])

    /// The builders of `standard`, by type name.
    public static var builders: [String: LayerBuilder] { standard.builders }
    /// The type names of `standard`, sorted.
    public static var names: [String] { standard.names }
}
