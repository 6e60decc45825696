import Testing
import SwConfig
import SwNN
import SwTensor

/// Parameter names and shapes must be those of `torch.nn.Sequential` of the same layers, so a
/// checkpoint loads into PyTorch with `load_state_dict(strict=True)`. Expected lists are
/// written by hand from torch's rules: `"<index>.weight"`; a residual body nests as
/// `"<index>.layers.<j>.weight"`; layers without parameters take an index and add no names.
@Suite struct TorchNamingTests {
    typealias Expected = [(String, [Int])]

    func check(_ json: String, _ expected: Expected, total: Int, output: [Int]) throws {
        let model = try Model(config: ConfigValue.parse(json, file: nil))
        let got = model.parameters.entries.map { ($0.name, $0.shape) }
        #expect(got.map(\.0) == expected.map(\.0))
        #expect(got.map(\.1) == expected.map(\.1), "shapes")
        #expect(model.parameters.count == total)
        #expect(model.outputShape == output)
        // The layout is packed in order.
        var offset = 0
        for e in model.parameters.entries {
            #expect(e.offset == offset)
            offset += e.count
        }
        // The model runs: forward and backward on a batch of 2.
        model.initialize(seed: 1)
        let x = Tensor(zeros: [2] + model.inputShape)
        var rng = RNG(seed: 2)
        for i in 0..<x.count { x.pointer[i] = Float(rng.below(5)) }   // valid token ids too
        let y = model.forward(x, training: true)
        #expect(y.shape == [2] + output)
        model.backward(Tensor(repeating: 0.1, shape: y.shape))
        #expect(model.parameters.gradients.array.contains { $0 != 0 })
    }

    @Test func mnist1dMLP() throws {
        // nn.Sequential(Linear(40,100), ReLU(), Residual(Sequential(Linear(100,100), ReLU())), Linear(100,10))
        try check("""
            {"input": [40], "layers": [
              {"type": "dense", "units": 100}, {"type": "relu"},
              {"type": "residual", "layers": [{"type": "dense", "units": 100}, {"type": "relu"}]},
              {"type": "dense", "units": 10}]}
            """, [
                ("0.weight", [100, 40]), ("0.bias", [100]),
                ("2.layers.0.weight", [100, 100]), ("2.layers.0.bias", [100]),
                ("3.weight", [10, 100]), ("3.bias", [10]),
            ], total: 15_210, output: [10])
    }

    @Test func mnist1dCNN() throws {
        // Lengths 40 -> 19 -> 10 -> 5; flatten 25 * 5 = 125.
        try check("""
            {"input": [1, 40], "layers": [
              {"type": "conv1d", "channels": 25, "kernel": 5, "stride": 2, "padding": 1}, {"type": "relu"},
              {"type": "conv1d", "channels": 25, "kernel": 3, "stride": 2, "padding": 1}, {"type": "relu"},
              {"type": "conv1d", "channels": 25, "kernel": 3, "stride": 2, "padding": 1}, {"type": "relu"},
              {"type": "flatten"}, {"type": "dense", "units": 10}]}
            """, [
                ("0.weight", [25, 1, 5]), ("0.bias", [25]),
                ("2.weight", [25, 25, 3]), ("2.bias", [25]),
                ("4.weight", [25, 25, 3]), ("4.bias", [25]),
                ("7.weight", [10, 125]), ("7.bias", [10]),
            ], total: 5_210, output: [10])
    }

    @Test func embeddingConv2dPoolLayerNorm() throws {
        // [8] -> embedding [8, 16] -> reshape [1, 8, 16] -> conv2d [4, 8, 16] -> maxpool2d [4, 4, 8]
        // -> layernorm(8) -> avgpool2d [4, 2, 4] -> flatten 32 -> dropout -> dense 5
        try check("""
            {"input": [8], "layers": [
              {"type": "embedding", "vocab": 20, "dim": 16},
              {"type": "reshape", "shape": [1, 8, 16]},
              {"type": "conv2d", "channels": 4, "kernel": 3, "padding": 1}, {"type": "gelu"},
              {"type": "maxpool2d", "kernel": 2},
              {"type": "layernorm"},
              {"type": "avgpool2d", "kernel": [2, 2]},
              {"type": "flatten"}, {"type": "dropout", "p": 0.1},
              {"type": "dense", "units": 5}]}
            """, [
                ("0.weight", [20, 16]),
                ("2.weight", [4, 1, 3, 3]), ("2.bias", [4]),
                ("5.weight", [8]), ("5.bias", [8]),
                ("9.weight", [5, 32]), ("9.bias", [5]),
            ], total: 541, output: [5])
    }

    @Test func pools1dTanhSigmoid() throws {
        try check("""
            {"input": [2, 30], "layers": [
              {"type": "conv1d", "channels": 6, "kernel": 3, "bias": false}, {"type": "tanh"},
              {"type": "maxpool1d", "kernel": 2},
              {"type": "conv1d", "channels": 3, "kernel": 3, "padding": 1}, {"type": "sigmoid"},
              {"type": "avgpool1d", "kernel": 3, "stride": 2, "padding": 1},
              {"type": "reshape", "shape": [-1]}, {"type": "dense", "units": 2}]}
            """, [
                ("0.weight", [6, 2, 3]),
                ("3.weight", [3, 6, 3]), ("3.bias", [3]),
                ("7.weight", [2, 21]), ("7.bias", [2]),
            ], total: 36 + 54 + 3 + 42 + 2, output: [2])
    }
}

/// Bad configs fail with a `ConfigError` at the exact JSON path.
@Suite struct LayerConfigErrorTests {
    func error(_ model: String) -> ConfigError? {
        do {
            let doc = try ConfigValue.parse(#"{"model": "# + model + "}", file: "config.json")
            _ = try Model(config: try doc.object(allowed: ["model"])["model"]!)
            return nil
        } catch {
            return error
        }
    }

    @Test func unknownLayerTypeSuggestsNearest() throws {
        let e = try #require(error(#"{"input": [40], "layers": [{"type": "dense", "units": 4}, {"type": "desne", "units": 4}]}"#))
        #expect(e.path == "model.layers[1].type")
        #expect(e.hint?.contains("\"dense\"") == true, "\(e)")
        #expect(e.file == "config.json")
    }

    @Test func missingUnits() throws {
        let e = try #require(error(#"{"input": [40], "layers": [{"type": "dense"}]}"#))
        #expect(e.path == "model.layers[0].units")
        #expect(e.message.contains("missing"))
    }

    @Test func conv1dOnAVectorAsksForAReshape() throws {
        let e = try #require(error(#"{"input": [40], "layers": [{"type": "conv1d", "channels": 4, "kernel": 3}]}"#))
        #expect(e.path == "model.layers[0]")
        #expect(e.message == "conv1d needs input of shape [channels, length], got [40]")
        #expect(e.hint?.contains("[1, 40]") == true, "\(e)")
    }

    @Test func negativeKernel() throws {
        let e = try #require(error(#"""
            {"input": [1, 40], "layers": [{"type": "conv1d", "channels": 4, "kernel": 3}, {"type": "relu"},
                                          {"type": "conv1d", "channels": 4, "kernel": -3}]}
            """#))
        #expect(e.path == "model.layers[2].kernel")
        #expect(e.message.contains("positive integer"))
    }

    @Test func otherBadEntries() throws {
        let cases: [(String, String)] = [
            (#"{"input": [1, 4], "layers": [{"type": "conv1d", "channels": 2, "kernel": 7}]}"#, "model.layers[0].kernel"),
            (#"{"input": [1, 4, 4], "layers": [{"type": "conv2d", "channels": 2, "kernel": [3, 0]}]}"#, "model.layers[0].kernel[1]"),
            (#"{"input": [1, 4, 4], "layers": [{"type": "conv2d", "channels": 0, "kernel": 3}]}"#, "model.layers[0].channels"),
            (#"{"input": [3, 8], "layers": [{"type": "maxpool1d", "kernel": 2, "padding": 2}]}"#, "model.layers[0].padding"),
            (#"{"input": [3, 8], "layers": [{"type": "avgpool2d", "kernel": 2}]}"#, "model.layers[0]"),
            (#"{"input": [3, 8], "layers": [{"type": "maxpool1d", "kernel": 2, "strides": 2}]}"#, "model.layers[0].strides"),
            (#"{"input": [40], "layers": [{"type": "reshape", "shape": [3, 7]}]}"#, "model.layers[0]"),
            (#"{"input": [40], "layers": [{"type": "dropout", "p": 1.5}]}"#, "model.layers[0].p"),
            (#"{"input": [4], "layers": [{"type": "embedding", "vocab": 10}]}"#, "model.layers[0].dim"),
            (#"{"input": [4], "layers": [{"type": "layernorm", "eps": 0}]}"#, "model.layers[0].eps"),
        ]
        for (json, path) in cases {
            let e = error(json)
            #expect(e?.path == path, "\(json): \(e.map(String.init(describing:)) ?? "no error")")
        }
        let reshape = try #require(error(#"{"input": [40], "layers": [{"type": "reshape", "shape": [3, 7]}]}"#))
        #expect(reshape.message.contains("[40]") && reshape.message.contains("[3, 7]"), "\(reshape)")
    }
}
