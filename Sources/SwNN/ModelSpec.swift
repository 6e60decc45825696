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
        "conv1d": LayerBuilder(keys: ["channels", "kernel", "stride", "padding", "bias"]) { e, input, _ throws(ConfigError) in
            let channels = try e.int("channels", in: 1...Int.max)
            let k = try e.int("kernel", in: 1...Int.max)
            let s = try e.int("stride", default: 1, in: 1...Int.max)
            let p = try e.int("padding", default: 0, in: 0...Int.max)
            guard input.count == 2 else { throw shapeError(e, "conv1d", "[channels, length]", input, hint: reshapeHint(input, rank: 2)) }
            let w = Window.line(channels: input[0], length: input[1], kernel: k, stride: s, padding: p)
            try checkFits(e, "conv1d", w, input)
            return Conv1D(inputShape: input, channels: channels, kernel: k, stride: s, padding: p,
                          bias: try e.bool("bias", default: true))
        },
        "conv2d": LayerBuilder(keys: ["channels", "kernel", "stride", "padding", "bias"]) { e, input, _ throws(ConfigError) in
            let channels = try e.int("channels", in: 1...Int.max)
            let k = try pair(e, "kernel", default: nil, min: 1)
            let s = try pair(e, "stride", default: 1, min: 1)
            let p = try pair(e, "padding", default: 0, min: 0)
            guard input.count == 3 else { throw shapeError(e, "conv2d", "[channels, height, width]", input, hint: reshapeHint(input, rank: 3)) }
            let w = Window(channels: input[0], height: input[1], width: input[2], kh: k.0, kw: k.1, sh: s.0, sw: s.1, ph: p.0, pw: p.1)
            try checkFits(e, "conv2d", w, input)
            return Conv2D(inputShape: input, channels: channels, kernel: k, stride: s, padding: p,
                          bias: try e.bool("bias", default: true))
        },
        "maxpool1d": pool1d("maxpool1d") { MaxPool(inputShape: $0, kernel: $1, stride: $2, padding: $3) },
        "avgpool1d": pool1d("avgpool1d") { AvgPool(inputShape: $0, kernel: $1, stride: $2, padding: $3) },
        "maxpool2d": pool2d("maxpool2d") { MaxPool(inputShape: $0, kernel: $1, stride: $2, padding: $3) },
        "avgpool2d": pool2d("avgpool2d") { AvgPool(inputShape: $0, kernel: $1, stride: $2, padding: $3) },
        "flatten": LayerBuilder(keys: []) { _, input, _ in Flatten(inputShape: input) },
        "reshape": LayerBuilder(keys: ["shape"]) { e, input, _ throws(ConfigError) in
            let value = try e.required("shape", "the shape of one sample, like [1, 40]")
            var shape = try value.intArray(in: -1...Int.max)
            let n = Tensor.elementCount(input)
            if shape.isEmpty || shape.contains(0) || shape.filter({ $0 == -1 }).count > 1 {
                throw value.fail("a non-empty list of positive sizes (at most one -1, inferred)")
            }
            if let i = shape.firstIndex(of: -1) {
                let known = shape.reduce(1) { $1 == -1 ? $0 : $0 * $1 }
                if n % known == 0 { shape[i] = n / known }
            }
            guard !shape.contains(-1), Tensor.elementCount(shape) == n else {
                throw ConfigError(file: e.file, path: e.path,
                                  message: "reshape cannot view samples of shape \(input) (\(n) values) as \(shape) (\(shape.contains(-1) ? "no whole size for -1" : "\(Tensor.elementCount(shape)) values"))",
                                  hint: "the new shape must hold the same number of values")
            }
            return Reshape(inputShape: input, shape: shape)
        },
        "gelu": LayerBuilder(keys: []) { _, input, _ in GELU(shape: input) },
        "tanh": LayerBuilder(keys: []) { _, input, _ in Tanh(shape: input) },
        "sigmoid": LayerBuilder(keys: []) { _, input, _ in Sigmoid(shape: input) },
        "dropout": LayerBuilder(keys: ["p"]) { e, input, _ throws(ConfigError) in
            let p = try e.double("p", default: 0.5, "a probability from 0 to 1") { $0 >= 0 && $0 <= 1 }
            return Dropout(shape: input, p: Float(p))
        },
        "layernorm": LayerBuilder(keys: ["eps"]) { e, input, _ throws(ConfigError) in
            let eps = try e.double("eps", default: 1e-5, "a positive number") { $0 > 0 }
            return LayerNorm(inputShape: input, eps: Float(eps))
        },
        "embedding": LayerBuilder(keys: ["vocab", "dim"]) { e, input, _ throws(ConfigError) in
            let vocab = try e.int("vocab", in: 1...Int.max)
            let dim = try e.int("dim", in: 1...Int.max)
            return Embedding(inputShape: input, vocab: vocab, dim: dim)
        },
        "token_position_embedding": LayerBuilder(keys: ["vocab", "dim", "context"]) { e, input, _ throws(ConfigError) in
            let vocab = try e.int("vocab", in: 1...Int.max)
            let dim = try e.int("dim", in: 1...Int.max)
            guard input.count == 1 else { throw shapeError(e, "token_position_embedding", "[T] (token ids)", input) }
            let context = try e.int("context", default: input[0], in: input[0]...Int.max)
            return TokenPositionEmbedding(inputShape: input, vocab: vocab, dim: dim, context: context)
        },
        "causal_attention": LayerBuilder(keys: ["heads", "dropout"]) { e, input, _ throws(ConfigError) in
            let (heads, p) = try attentionKeys(e, "causal_attention", input)
            return CausalSelfAttention(inputShape: input, heads: heads, dropout: p)
        },
        "transformer_block": LayerBuilder(keys: ["heads", "mlp_ratio", "dropout"]) { e, input, _ throws(ConfigError) in
            let (heads, p) = try attentionKeys(e, "transformer_block", input)
            let ratio = try e.int("mlp_ratio", default: 4, in: 1...Int.max)
            return TransformerBlock(inputShape: input, heads: heads, mlpRatio: ratio, dropout: p)
        },
    ]

    /// The accepted type names, sorted.
    public static var names: [String] { builders.keys.sorted() }

    /// `e.path.key`, the path of one key of an entry.
    static func keyPath(_ e: ConfigObject, _ key: String) -> String { e.path.isEmpty ? key : e.path + "." + key }

    /// An int or a pair `[a, b]` (both at least `min`); an int `n` means `(n, n)`.
    static func pair(_ e: ConfigObject, _ key: String, default def: Int?, min: Int) throws(ConfigError) -> (Int, Int) {
        guard let v = e[key] else {
            if let def { return (def, def) }
            throw ConfigError(file: e.file, path: keyPath(e, key), message: "missing required field (expected an integer or a pair [h, w])")
        }
        if case .array = v.json {
            let a = try v.intArray(in: min...Int.max)
            guard a.count == 2 else { throw v.fail("an integer or a pair [h, w]") }
            return (a[0], a[1])
        }
        let n = try v.int(in: min...Int.max)
        return (n, n)
    }

    /// `heads` (dividing the width of a `[T, C]` input) and `dropout` (in [0, 1)).
    static func attentionKeys(_ e: ConfigObject, _ type: String, _ input: [Int]) throws(ConfigError) -> (Int, Float) {
        let heads = try e.int("heads", in: 1...Int.max)
        let p = try e.double("dropout", default: 0, "a probability from 0 up to (not including) 1") { $0 >= 0 && $0 < 1 }
        guard input.count == 2 else {
            throw shapeError(e, type, "[T, C]", input, hint: "put a token_position_embedding (or embedding) before it")
        }
        guard input[1] % heads == 0 else {
            throw ConfigError(file: e.file, path: keyPath(e, "heads"),
                              message: "\(heads) heads do not divide the width \(input[1])",
                              hint: "use a number of heads that divides \(input[1])")
        }
        return (heads, Float(p))
    }

    /// A hint to reshape an input of the wrong rank to `rank` dimensions.
    static func reshapeHint(_ input: [Int], rank: Int) -> String? {
        guard input.count < rank else { return nil }
        let shape = [Int](repeating: 1, count: rank - input.count) + input
        return "add {\"type\": \"reshape\", \"shape\": \(shape)} before it (or set model.input to \(shape))"
    }

    /// A window whose output would be empty is an error at the entry's `kernel`.
    static func checkFits(_ e: ConfigObject, _ type: String, _ w: Window, _ input: [Int]) throws(ConfigError) {
        guard w.isValid else {
            let k = w.kh == 1 && w.height == 1 ? "\(w.kw)" : "[\(w.kh), \(w.kw)]"
            let p = w.kh == 1 && w.height == 1 ? "\(w.pw)" : "[\(w.ph), \(w.pw)]"
            throw ConfigError(file: e.file, path: keyPath(e, "kernel"),
                              message: "\(type) with kernel \(k) and padding \(p) has no output positions on input \(input)",
                              hint: "use a smaller kernel or more padding")
        }
    }

    /// A pooling window's padding may be at most half its kernel (as in PyTorch).
    static func checkPoolPadding(_ e: ConfigObject, _ w: Window) throws(ConfigError) {
        guard 2 * w.ph <= w.kh && 2 * w.pw <= w.kw else {
            throw ConfigError(file: e.file, path: keyPath(e, "padding"),
                              message: "pooling padding must be at most half the kernel, got padding \(max(w.ph, w.pw)) for kernel \(w.kh == 1 ? w.kw : max(w.kh, w.kw))")
        }
    }

    static func pool1d(_ type: String, _ make: @escaping @Sendable ([Int], Int, Int, Int) -> any Layer) -> LayerBuilder {
        LayerBuilder(keys: ["kernel", "stride", "padding"]) { e, input, _ throws(ConfigError) in
            let k = try e.int("kernel", in: 1...Int.max)
            let s = try e.int("stride", default: k, in: 1...Int.max)
            let p = try e.int("padding", default: 0, in: 0...Int.max)
            guard input.count == 2 else { throw shapeError(e, type, "[channels, length]", input, hint: reshapeHint(input, rank: 2)) }
            let w = Window.line(channels: input[0], length: input[1], kernel: k, stride: s, padding: p)
            try checkPoolPadding(e, w)
            try checkFits(e, type, w, input)
            return make(input, k, s, p)
        }
    }

    static func pool2d(_ type: String, _ make: @escaping @Sendable ([Int], (Int, Int), (Int, Int), (Int, Int)) -> any Layer) -> LayerBuilder {
        LayerBuilder(keys: ["kernel", "stride", "padding"]) { e, input, _ throws(ConfigError) in
            let k = try pair(e, "kernel", default: nil, min: 1)
            let s = e["stride"] == nil ? k : try pair(e, "stride", default: nil, min: 1)
            let p = try pair(e, "padding", default: 0, min: 0)
            guard input.count == 3 else { throw shapeError(e, type, "[channels, height, width]", input, hint: reshapeHint(input, rank: 3)) }
            let w = Window(channels: input[0], height: input[1], width: input[2], kh: k.0, kw: k.1, sh: s.0, sw: s.1, ph: p.0, pw: p.1)
            try checkPoolPadding(e, w)
            try checkFits(e, type, w, input)
            return make(input, k, s, p)
        }
    }

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
/// Transformer layers nest like a nanoGPT-style PyTorch module: a `token_position_embedding`
/// at `i` has `i.tok.weight` `[vocab, C]` and `i.pos.weight` `[context, C]`; a
/// `causal_attention` has `i.qkv.weight` `[3C, C]`, `i.qkv.bias`, `i.proj.weight` `[C, C]`,
/// `i.proj.bias`; a `transformer_block` has `i.ln1.*`, `i.attn.qkv.*`, `i.attn.proj.*`,
/// `i.ln2.*`, `i.mlp.0.*` (C -> rC) and `i.mlp.2.*` (rC -> C) (see `TransformerBlock`).
public final class Model {
    public let network: Sequential
    public let loss: any Loss
    public private(set) var parameters: ParameterStore
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
    public convenience init(config: ConfigValue, sharingParametersWith other: Model? = nil) throws(ConfigError) {
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
        self.init(network: network, loss: loss, sharingParametersWith: other)
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
