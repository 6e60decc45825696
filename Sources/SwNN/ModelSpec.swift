import SwConfig
import SwTensor

/// How one layer type is read from a config entry like `{"type": "dense", "units": 100}`.
///
/// Each layer file declares its own builder (`Dense.builder`); `LayerRegistry.standard` lists
/// them, one line each.
public struct LayerBuilder: Sendable {
    /// The config name of the type (`"dense"`).
    public let type: String
    /// The keys the entry may have besides "type".
    public let keys: [String]
    /// Builds the layer for samples of `input` shape. `entry.path` is the entry's JSON path,
    /// for errors; composites call `nested` to build their own `layers` list.
    public let build: @Sendable (_ entry: ConfigObject, _ input: [Int], _ nested: LayerListBuilder) throws(ConfigError) -> any Layer

    public init(_ type: String, keys: [String],
                build: @escaping @Sendable (ConfigObject, [Int], LayerListBuilder) throws(ConfigError) -> any Layer) {
        self.type = type
        self.keys = keys
        self.build = build
    }
}

/// Builds a `Sequential` from a JSON array of layer entries, starting from an input shape,
/// with the layer types of `registry`.
public struct LayerListBuilder: Sendable {
    public let registry: LayerRegistry

    public init(registry: LayerRegistry = .standard) { self.registry = registry }

    public func build(_ list: ConfigValue, input: [Int]) throws(ConfigError) -> Sequential {
        let entries = try list.array()
        if entries.isEmpty { throw list.fail("a non-empty list of layers") }
        var layers: [any Layer] = []
        var shape = input
        for entry in entries {
            let layer = try buildOne(entry, input: shape)
            layers.append(layer)
            shape = layer.outputShape
        }
        return Sequential(layers, inputShape: input)
    }

    func buildOne(_ entry: ConfigValue, input: [Int]) throws(ConfigError) -> any Layer {
        guard case .object(let raw) = entry.json else { throw entry.fail("a layer object like {\"type\": \"dense\", \"units\": 10}") }
        let head = ConfigObject(object: raw, path: entry.path, file: entry.file)
        let type = try head.string("type", oneOf: registry.names)
        let builder = registry.builders[type]!
        let obj = try entry.object(allowed: ["type"] + builder.keys)
        return try builder.build(obj, input, self)
    }
}

/// A network with its loss and its flat parameters, as the `model` config section describes:
/// `{"input": [40], "layers": [...], "loss": "cross_entropy"}`, optionally with
/// `"init_from": PATH` (start from saved weights: a safetensors file or a checkpoint folder).
///
/// Names and layouts match `torch.nn.Sequential` of the same layers: parameter `i.weight` is
/// layer `i`'s weight; layers without parameters (relu, flatten, ...) take an index and add no
/// names; a `residual` at index `i` names its body's parameters `i.layers.<j>.<name>`. A dense
/// weight is `[out, in]`, a conv1d weight `[out, in, kernel]`, a conv2d weight
/// `[out, in, kh, kw]`, an embedding `[vocab, dim]`, a layernorm `weight`/`bias` `[dim]`.
/// Transformer layers nest like a nanoGPT-style PyTorch module: a `token_position_embedding`
/// at `i` has `i.tok.weight` `[vocab, C]` and `i.pos.weight` `[context, C]`; a
/// `causal_attention` has `i.qkv.weight` `[3C, C]`, `i.qkv.bias`, `i.proj.weight` `[C, C]`,
/// `i.proj.bias`; a `transformer_block` has `i.ln1.*`, `i.attn.qkv.*`, `i.attn.proj.*`,
/// `i.ln2.*`, `i.mlp.0.*` (C -> rC) and `i.mlp.2.*` (rC -> C) (see `TransformerBlock`).
public final class Model {
    /// The layers; `rewrite` replaces it (and `parameters`) with a rewritten network.
    public internal(set) var network: Sequential
    public let loss: any Loss
    public internal(set) var parameters: ParameterStore
    /// `model.init_from`: the safetensors file or checkpoint folder whose weights the run
    /// starts from instead of the seeded initialisation (SwTrain's `InitFrom` loads it; a
    /// training config has made it absolute). Nil when the config has no such key.
    public internal(set) var initFrom: String?
    public var inputShape: [Int] { network.inputShape }
    public var outputShape: [Int] { network.outputShape }

    /// Wraps `network` and `loss`; allocates the flat buffers. Parameters start at zero:
    /// call `initialize(seed:)`.
    public init(network: Sequential, loss: any Loss, sharingParametersWith other: Model? = nil) {
        self.network = network
        self.loss = loss
        self.parameters = other.map { ParameterStore(root: network, sharingWith: $0.parameters) } ?? ParameterStore(root: network)
        network.needsInputGradient = false
    }

    /// Builds the model described by the `model` section. With `other`, the new model's
    /// layers use `other`'s parameter and gradient buffers (same config required): a copy
    /// with its own activations, as a pipeline stage needs for each micro-batch in flight.
    public convenience init(config: ConfigValue, registry: LayerRegistry = .standard,
                            sharingParametersWith other: Model? = nil) throws(ConfigError) {
        let obj = try config.object(allowed: ["input", "layers", "loss", "init_from"])
        let initFrom = try obj.optionalString("init_from")
        if initFrom?.isEmpty == true {
            throw try obj.required("init_from", "").fail("the path of a safetensors file or a checkpoint folder")
        }
        let input = try obj.required("input", "the shape of one sample, like [40]").intArray(in: 1...Int.max)
        if input.isEmpty { throw try obj.required("input", "a shape").fail("a non-empty shape like [40]") }
        let network = try LayerListBuilder(registry: registry).build(try obj.required("layers", "a list of layers"), input: input)
        let lossName = try obj.string("loss", default: "cross_entropy", oneOf: ["cross_entropy", "mse"])
        let out = network.outputShape
        let loss: any Loss
        switch lossName {
        case "cross_entropy":
            guard let classes = out.last, classes >= 2 else {
                throw ConfigError(file: obj.file, path: obj.path.isEmpty ? "loss" : obj.path + ".loss",
                                  message: "cross_entropy needs an output of at least 2 classes, the model outputs \(out)")
            }
            loss = SoftmaxCrossEntropy(classes: classes)
        default:
            loss = MeanSquaredError(features: Tensor.elementCount(out))
        }
        try ModelSize.check(network, file: obj.file, path: obj.path.isEmpty ? "model" : obj.path)
        self.init(network: network, loss: loss, sharingParametersWith: other)
        self.initFrom = initFrom
    }

    /// A model of the same layers (replicas, see `Layer.replica`) bound to this model's
    /// parameter and gradient buffers, with its own activations: what a pipeline stage needs
    /// for each micro-batch in flight. Unlike `Model(config:sharingParametersWith:)` it
    /// follows a rewritten network.
    public func replicaSharingParameters() -> Model {
        Model(network: network.replica() as! Sequential, loss: loss, sharingParametersWith: self)
    }

    /// Moves the parameters and gradients into `values` and `gradients` (buffers of
    /// `parameters.count` elements the caller owns, e.g. node-shared memory): every layer is
    /// rebound to them. Copies nothing: fill `values` first.
    public func useBuffers(values: Tensor, gradients: Tensor) {
        parameters = ParameterStore(root: network, values: values, gradients: gradients)
    }

    /// Initialises every parameter as PyTorch would for the same layers, from `seed`.
    public func initialize(seed: UInt64) {
        var rng = RNG(seed: seed).fork(0x1A17)
        network.resetAllParameters(rng: &rng)
    }

    /// The layers that draw random numbers in training, with their names (for checkpoints).
    public var stochasticLayers: [(name: String, layer: any StochasticLayer)] {
        network.allLayers().compactMap { n, l in (l as? any StochasticLayer).map { (n, $0) } }
    }

    /// Forward pass on a batch `(B, input...)`.
    public func forward(_ x: Tensor, training: Bool) -> Tensor { network.forward(x, training: training) }

    /// Backward pass from the loss gradient; accumulates into `parameters.gradients`.
    public func backward(_ dOutput: Tensor) { _ = network.backward(dOutput) }

    /// Backward pass that reports progress: `afterLayer(offset)` runs after each top-level layer's backward with the flat offset
    /// from which every gradient is final (layers own increasing offsets in model order, and
    /// backward runs from the last layer), so gradient buckets can start reducing early.
    public func backward(_ dOutput: Tensor, afterLayer: (Int) -> Void) {
        var g = dOutput
        for (i, layer) in network.layers.enumerated().reversed() {
            if i > 0 { network.layers[i - 1].recomputeOutput() }   // as `Sequential.backward`
            g = layer.backward(g)
            afterLayer(layerOffsets[i])
        }
    }

    /// For each top-level layer, the flat offset where its parameters start (or where the
    /// next layer's start, for a layer without parameters). Computed once per layout (a
    /// rewrite resets it).
    public var layerOffsets: [Int] {
        if let cached = layerOffsetsCache { return cached }
        var offsets = [Int](repeating: parameters.count, count: network.layers.count + 1)
        for e in parameters.entries {
            if let dot = e.name.firstIndex(of: "."), let i = Int(e.name[..<dot]) {
                offsets[i] = min(offsets[i], e.offset)
            }
        }
        for i in stride(from: network.layers.count - 1, through: 0, by: -1) {
            offsets[i] = min(offsets[i], offsets[i + 1])
        }
        let result = Array(offsets.prefix(network.layers.count))
        layerOffsetsCache = result
        return result
    }
    var layerOffsetsCache: [Int]?
}
