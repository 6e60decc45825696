import Testing
import SwConfig
import SwNN
import SwTensor

/// `Model.rewrite`: layers addressed by path, replaced, the flat parameters rebuilt with every
/// surviving tensor's values carried, composites rebuilt, broken shape chains refused.
@Suite struct RewriteTests {
    static let mlp = """
        {"input": [6], "layers": [
          {"type": "dense", "units": 8}, {"type": "relu"},
          {"type": "residual", "layers": [{"type": "dense", "units": 8}, {"type": "tanh"}]},
          {"type": "dense", "units": 3}]}
        """

    static func model(_ json: String = mlp, seed: UInt64 = 3) throws -> Model {
        let m = try Model(config: ConfigValue.parse(json, file: nil))
        m.initialize(seed: seed)
        return m
    }

    static func batch(_ shape: [Int], seed: UInt64 = 9, tokens: Int? = nil) -> Tensor {
        var rng = RNG(seed: seed)
        let x = Tensor(zeros: shape)
        for i in 0..<x.count { x.pointer[i] = tokens.map { Float(rng.below($0)) } ?? rng.uniform(-1, 1) }
        return x
    }

    /// Values of every tensor, by name.
    static func values(_ store: ParameterStore) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: store.entries.map { ($0.name, store.value($0.name)!.array) })
    }

    @Test func pathsAreTheParameterPrefixes() throws {
        let m = try Self.model()
        #expect(m.network.descendants.map(\.path) == ["0", "1", "2", "2.layers", "2.layers.0", "2.layers.1", "3"])
        #expect(m.network.layer(at: "2.layers.0") is Dense)
        #expect(m.network.layer(at: "2.layers.7") == nil)
        var seen: [String] = []
        let remap = try m.rewrite { path, _ in seen.append(path); return nil }
        #expect(seen == ["0", "1", "2", "2.layers", "2.layers.0", "2.layers.1", "3"])
        #expect(remap.isIdentity && remap.newCount == m.parameters.count)
    }

    /// The low-rank case: dense 6 -> 8 becomes dense 6 -> 2 -> 8, named like
    /// `Sequential(Linear(6, 2, bias=False), Linear(2, 8))` at index 0.
    @Test func denseBecomesTwoDensesNamedLikeTorch() throws {
        let m = try Self.model()
        let before = Self.values(m.parameters)
        let oldEntries = m.parameters.entries
        let x = Self.batch([4, 6])
        let remap = try m.rewrite { path, layer in
            guard path == "0", let d = layer as? Dense else { return nil }
            return Sequential([Dense(inputShape: [6], units: 2, bias: false), Dense(inputShape: [2], units: 8)],
                              inputShape: d.inputShape)
        }
        #expect(m.parameters.entries.map(\.name) == ["0.0.weight", "0.1.weight", "0.1.bias", "2.layers.0.weight",
                                                     "2.layers.0.bias", "3.weight", "3.bias"])
        #expect(m.parameters.entries.map(\.shape) == [[2, 6], [8, 2], [8], [8, 8], [8], [3, 8], [3]])
        // Survivors carried bit for bit; the map names their old and new ranges.
        let after = Self.values(m.parameters)
        for name in ["2.layers.0.weight", "2.layers.0.bias", "3.weight", "3.bias"] {
            #expect(after[name] == before[name], "\(name)")
        }
        #expect(remap.carried.map(\.name) == ["2.layers.0.weight", "2.layers.0.bias", "3.weight", "3.bias"])
        for c in remap.carried {
            let o = oldEntries.first { $0.name == c.name }!, n = m.parameters.entry(c.name)!
            #expect(c.old == o.offset..<o.offset + o.count && c.new == n.offset..<n.offset + n.count)
        }
        #expect(remap.fresh.map(\.name) == ["0.0.weight", "0.1.weight", "0.1.bias"])
        #expect(remap.dropped.map(\.name) == ["0.weight", "0.bias"])
        #expect(remap.oldCount == 6 * 8 + 8 + 64 + 8 + 24 + 3 && remap.newCount == m.parameters.count)
        // Fresh tensors were initialised (an unbound replacement), not left at zero.
        #expect(after["0.0.weight"]!.contains { $0 != 0 } && after["0.1.weight"]!.contains { $0 != 0 })
        // Offsets follow the new layout; the model trains: backward reaches every tensor.
        #expect(m.layerOffsets == [0, 36, 36, 108])
        let y = m.forward(x, training: true)
        #expect(y.shape == [4, 3])
        m.backward(Tensor(repeating: 0.1, shape: y.shape))
        for e in m.parameters.entries { #expect(m.parameters.gradient(e.name)!.array.contains { $0 != 0 }, "\(e.name)") }
    }

    /// The replacement's own values go in: a dense layer of rank 2 replaced by its exact
    /// factors leaves the model's output as it was.
    @Test func factorizedReplacementKeepsTheModelsOutput() throws {
        let m = try Self.model()
        let up = Self.batch([3, 2], seed: 1), down = Self.batch([2, 8], seed: 2)
        let w = m.parameters.value("3.weight")!
        for o in 0..<3 { for i in 0..<8 { w.pointer[o * 8 + i] = up.pointer[o * 2] * down.pointer[i] + up.pointer[o * 2 + 1] * down.pointer[8 + i] } }
        let x = Self.batch([5, 6])
        let before = m.forward(x, training: false).array
        let bias = m.parameters.value("3.bias")!.array
        let remap = try m.rewrite { path, layer in path == "3" ? (layer as! any Factorizable).factorized(down: down, up: up) : nil }
        #expect(remap.fresh.map(\.name) == ["3.0.weight", "3.1.weight", "3.1.bias"])
        #expect(m.parameters.value("3.0.weight")!.array == down.array && m.parameters.value("3.1.weight")!.array == up.array)
        #expect(m.parameters.value("3.1.bias")!.array == bias)
        let after = m.forward(x, training: false).array
        #expect(zip(before, after).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(before) vs \(after)")
    }

    @Test func aReplacementThatBreaksTheChainNamesPathAndShapes() throws {
        let m = try Self.model()
        let before = m.parameters.values.array
        #expect(throws: RewriteError.inputShape(path: "1", expected: [5], found: [8])) {
            try m.rewrite { path, _ in path == "0" ? Dense(inputShape: [6], units: 5) : nil }
        }
        #expect(throws: RewriteError.inputShape(path: "2.layers.1", expected: [4], found: [8])) {
            try m.rewrite { path, _ in path == "2.layers.0" ? Dense(inputShape: [8], units: 4) : nil }
        }
        #expect(throws: RewriteError.outputShape(path: "3", expected: [3], found: [4])) {
            try m.rewrite { path, _ in path == "3" ? Dense(inputShape: [8], units: 4) : nil }
        }
        #expect(throws: RewriteError.unsupported(path: "2.layers", reason: "a residual body must be a sequential (replace the layers inside it instead)")) {
            try m.rewrite { path, _ in path == "2.layers" ? Dense(inputShape: [8], units: 8) : nil }
        }
        let message = "\(RewriteError.inputShape(path: "1", expected: [5], found: [8]))"
        #expect(message.contains("layer 1") && message.contains("[8]") && message.contains("[5]"))
        // A refused rewrite leaves the model as it was.
        #expect(m.parameters.values.array == before)
        #expect(m.network.layer(at: "0") is Dense && m.parameters.entries.first?.name == "0.weight")
    }

    /// Inside a transformer: the attention's qkv projection becomes two denses; the block and
    /// the attention are rebuilt around it, and everything else is carried.
    @Test func transformerPartsAreReplaceable() throws {
        let json = """
            {"input": [4], "layers": [
              {"type": "token_position_embedding", "vocab": 7, "dim": 8},
              {"type": "transformer_block", "heads": 2, "dropout": 0.1},
              {"type": "dense", "units": 7}]}
            """
        let m = try Self.model(json)
        let before = Self.values(m.parameters)
        let streams = m.stochasticLayers.map { ($0.name, $0.layer.rng) }
        try m.rewrite { path, layer in
            guard path == "1.attn.qkv", let d = layer as? Dense else { return nil }
            let r = 3
            return Sequential([Dense(inputShape: d.inputShape, units: r, bias: false),
                               Dense(inputShape: [4, r], units: d.outFeatures)], inputShape: d.inputShape)
        }
        let names = m.parameters.entries.map(\.name)
        #expect(names.contains("1.attn.qkv.0.weight") && names.contains("1.attn.qkv.1.weight") && names.contains("1.attn.qkv.1.bias"))
        #expect(!names.contains("1.attn.qkv.weight"))
        #expect(m.parameters.entry("1.attn.qkv.0.weight")!.shape == [3, 8])
        let after = Self.values(m.parameters)
        for (name, v) in before where !name.hasPrefix("1.attn.qkv") { #expect(after[name] == v, "\(name)") }
        // The dropout layers (and their streams) are still found, under the same names.
        #expect(m.stochasticLayers.map(\.name) == streams.map(\.0))
        #expect(m.stochasticLayers.map(\.layer.rng) == streams.map(\.1))
        #expect(m.layerOffsets[2] == m.parameters.entry("2.weight")!.offset)
        let y = m.forward(Self.batch([2, 4], tokens: 7), training: true)
        #expect(y.shape == [2, 4, 7] && y.array.allSatisfy(\.isFinite))
        // A wrong projection is refused with the path inside the block.
        #expect(throws: RewriteError.outputShape(path: "1.attn.proj", expected: [4, 8], found: [4, 5])) {
            try m.rewrite { path, _ in path == "1.attn.proj" ? Dense(inputShape: [4, 8], units: 5) : nil }
        }
    }

    /// Replicas (what a pipeline stage runs micro-batches through) follow the rewritten
    /// network and compute what the model computes, for every layer type.
    @Test(arguments: [
        mlp,
        """
        {"input": [40], "layers": [{"type": "reshape", "shape": [2, 20]},
          {"type": "conv1d", "channels": 4, "kernel": 3, "stride": 2, "padding": 1}, {"type": "gelu"},
          {"type": "maxpool1d", "kernel": 2}, {"type": "avgpool1d", "kernel": 2, "stride": 1, "padding": 1}, {"type": "flatten"},
          {"type": "layernorm"}, {"type": "dropout", "p": 0.3}, {"type": "silu"}, {"type": "sigmoid"}, {"type": "dense", "units": 5}]}
        """,
        """
        {"input": [1, 6, 6], "layers": [{"type": "conv2d", "channels": 3, "kernel": [3, 2], "padding": [1, 0]},
          {"type": "maxpool2d", "kernel": 2}, {"type": "avgpool2d", "kernel": [1, 2]}, {"type": "flatten"}, {"type": "dense", "units": 4}]}
        """,
        """
        {"input": [4], "layers": [{"type": "embedding", "vocab": 7, "dim": 8},
          {"type": "transformer_block", "heads": 2}, {"type": "causal_attention", "heads": 4}, {"type": "dense", "units": 7}]}
        """,
    ])
    func replicasShareParametersAndCompute(json: String) throws {
        let m = try Self.model(json)
        try m.rewrite { _, layer in
            guard let d = layer as? Dense, d.outFeatures > 4 else { return nil }
            return d.factorized(down: Self.batch([2, d.inFeatures]), up: Self.batch([d.outFeatures, 2]))
        }
        let twin = m.replicaSharingParameters()
        #expect(twin.parameters.entries == m.parameters.entries && twin.parameters.values === m.parameters.values)
        #expect(twin.network !== m.network)
        let isTokens = m.network.layers[0] is Embedding
        let x = Self.batch([3] + m.inputShape, tokens: isTokens ? 7 : nil)
        let a = m.forward(x, training: false).array, b = twin.forward(x, training: false).array
        #expect(a == b)
        #expect(twin.stochasticLayers.map(\.name) == m.stochasticLayers.map(\.name))
    }
}
