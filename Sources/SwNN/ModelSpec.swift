import SwConfig
import SwTensor

/// How one layer type is read from a config entry like `{"type": "dense", "units": 100}`.
public struct LayerBuilder: Sendable {
    /// The keys the entry may have besides "type".
    public let keys: [String]
    /// Builds the layer for samples of `input` shape. `entry.path` is the entry's JSON path,
    /// for errors; composites call `nested` to build their own `layers` list.
    public let build: @Sendable (_ entry: ConfigObject, _ input: [Int], _ nested: LayerListBuilder) throws(ConfigError) -> any Layer

    public init(keys: [String], build: @escaping @Sendable (ConfigObject, [Int], LayerListBuilder) throws(ConfigError) -> any Layer) {
        self.keys = keys
        self.build = build
    }
}

/// Builds a `Sequential` from a JSON array of layer entries, starting from an input shape.
public struct LayerListBuilder: Sendable {
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
        let type = try head.string("type", oneOf: LayerRegistry.names)
        let builder = LayerRegistry.builders[type]!
        let obj = try entry.object(allowed: ["type"] + builder.keys)
        return try builder.build(obj, input, self)
    }
}

/// Every layer type the config accepts, by its config name.
public enum LayerRegistry {
    public static let builders: [String: LayerBuilder] = [
        "dense": LayerBuilder(keys: ["units", "bias"]) { e, input, _ throws(ConfigError) in
            let units = try e.int("units", in: 1...Int.max)
            guard !input.isEmpty else { throw shapeError(e, "dense", "[..., features]", input) }
            return Dense(inputShape: input, units: units, bias: try e.bool("bias", default: true))
        },
        "relu": LayerBuilder(keys: []) { _, input, _ in ReLU(shape: input) },
        "residual": LayerBuilder(keys: ["layers"]) { e, input, nested throws(ConfigError) in
            let list = try e.required("layers", "a list of layers")
            let body = try nested.build(list, input: input)
            guard body.outputShape == input else {
                throw ConfigError(file: e.file, path: e.path + ".layers",
                                  message: "a residual body must keep the shape: it maps \(input) to \(body.outputShape)",
                                  hint: "make the last layer of the body output \(input)")
            }
            return Residual(body)
        },
    ]

    /// The accepted type names, sorted.
    public static var names: [String] { builders.keys.sorted() }

    /// "conv1d needs input of shape [channels, length], got [40]".
    public static func shapeError(_ e: ConfigObject, _ type: String, _ expected: String, _ actual: [Int], hint: String? = nil) -> ConfigError {
        ConfigError(file: e.file, path: e.path, message: "\(type) needs input of shape \(expected), got \(actual)", hint: hint)
    }
}

/// A network with its loss and its flat parameters, as the `model` config section describes:
/// `{"input": [40], "layers": [...], "loss": "cross_entropy"}`.
///
/// Names and layouts match `torch.nn.Sequential` of the same layers: parameter `i.weight` is
/// layer `i`'s weight; layers without parameters (relu, flatten, ...) take an index and add no
/// names; a `residual` at index `i` names its body's parameters `i.layers.<j>.<name>`. A dense
/// weight is `[out, in]`, a conv1d weight `[out, in, kernel]`, a conv2d weight
/// `[out, in, kh, kw]`, an embedding `[vocab, dim]`, a layernorm `weight`/`bias` `[dim]`.
public final class Model {
    public let network: Sequential
    public let loss: any Loss
    public let parameters: ParameterStore
    public var inputShape: [Int] { network.inputShape }
    public var outputShape: [Int] { network.outputShape }

    /// Wraps `network` and `loss`; allocates the flat buffers. Parameters start at zero:
    /// call `initialize(seed:)`.
    public init(network: Sequential, loss: any Loss) {
        self.network = network
        self.loss = loss
        self.parameters = ParameterStore(root: network)
        network.needsInputGradient = false
    }

    /// Builds the model described by the `model` section.
    public convenience init(config: ConfigValue) throws(ConfigError) {
        let obj = try config.object(allowed: ["input", "layers", "loss"])
        let input = try obj.required("input", "the shape of one sample, like [40]").intArray(in: 1...Int.max)
        if input.isEmpty { throw try obj.required("input", "a shape").fail("a non-empty shape like [40]") }
        let network = try LayerListBuilder().build(try obj.required("layers", "a list of layers"), input: input)
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
        self.init(network: network, loss: loss)
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
            g = layer.backward(g)
            afterLayer(layerOffsets[i])
        }
    }

    /// For each top-level layer, the flat offset where its parameters start (or where the
    /// next layer's start, for a layer without parameters).
    public private(set) lazy var layerOffsets: [Int] = {
        var offsets = [Int](repeating: parameters.count, count: network.layers.count + 1)
        for e in parameters.entries {
            if let dot = e.name.firstIndex(of: "."), let i = Int(e.name[..<dot]) {
                offsets[i] = min(offsets[i], e.offset)
            }
        }
        for i in stride(from: network.layers.count - 1, through: 0, by: -1) {
            offsets[i] = min(offsets[i], offsets[i + 1])
        }
        return Array(offsets.prefix(network.layers.count))
    }()
}
