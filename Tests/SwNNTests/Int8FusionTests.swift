import Testing
import SwConfig
import SwNN
import SwTensor

/// `Int8Fusion`: an int8 MLP with relus fused into the GEMM's output stage and static layers fed
/// their uint8 input directly gives bit for bit the unfused model's outputs, on the native and
/// the portable kernels, at several batch sizes and over repeated calls.
@Suite struct Int8FusionTests {
    static let layers = """
        [{"type": "quantized_dense", "units": 48},
         {"type": "relu"},
         {"type": "quantized_dense", "units": 40, "activations": "static"},
         {"type": "relu"},
         {"type": "residual", "layers": [{"type": "quantized_dense", "units": 40, "activations": "static"}, {"type": "relu"}]},
         {"type": "quantized_dense", "units": 33, "activations": "static", "granularity": "per_tensor"},
         {"type": "quantized_dense", "units": 30, "activations": "static"},
         {"type": "relu"},
         {"type": "quantized_dense", "units": 10}]
        """

    /// The model with random int8 parameters (the same for every `seed`).
    static func model(seed: UInt64) throws -> Model {
        let m = try Model(config: ConfigValue.parse("{\"input\": [37], \"layers\": \(layers)}", file: nil))
        var rng = RNG(seed: seed)
        for e in m.parameters.entries {
            let t = m.parameters.value(e.name)!
            for i in 0..<t.count {
                let v: Float
                if e.name.hasSuffix(".weight") { v = Float(Int(rng.nextUInt32() % 255) - 127) }
                else if e.name.hasSuffix("weight_scale") { v = rng.uniform() * 0.004 + 1e-4 }
                else if e.name.hasSuffix("input_scale") { v = rng.uniform() * 0.02 + 0.01 }
                else if e.name.hasSuffix("input_zero_point") { v = Float(rng.nextUInt32() % 64) }
                else { v = rng.uniform() - 0.5 }
                t.pointer[i] = v
            }
        }
        return m
    }

    @Test func fusedModelGivesTheUnfusedOutputsBitForBit() throws {
        let plain = try Self.model(seed: 3), fused = try Self.model(seed: 3)
        let done = try Int8Fusion.apply(fused)
        #expect(done.filter { $0.contains("relu") }.count == 4)
        #expect(done.filter { $0.contains("uint8") }.count == 2)   // 0->2 and 5->6; the residual reads 2 as float
        #expect(fused.network.layer(at: "1") is FusedReLU && fused.network.layer(at: "4.layers.1") is FusedReLU)
        #expect((fused.network.layer(at: "0") as? QuantizedDense)?.feeds === fused.network.layer(at: "2"))
        #expect(fused.parameters.entries == plain.parameters.entries)
        var rng = RNG(seed: 9)
        for path in [CPU.KernelPath.native, .portable] {
            for batch in [1, 7, 64, 7] {
                let x = Tensor(shape: [batch, 37], values: (0..<batch * 37).map { _ in 3 * rng.uniform() - 1 })
                let (want, got) = CPU.withKernelPath(path) {
                    (plain.forward(x, training: false).array, fused.forward(x, training: false).array)
                }
                #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "\(path) batch \(batch)")
            }
        }
    }
}
