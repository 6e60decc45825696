import Testing
import SwConfig
import SwNN
import SwCommands

/// `StepFlops` against the work written out by hand from the layer sizes.
@Suite struct StepFlopsTests {
    @Test func denseConvAndAttention() throws {
        let mlp = try Model(config: ConfigValue.parse("""
            {"input": [40], "layers": [{"type": "dense", "units": 100}, {"type": "relu"},
              {"type": "residual", "layers": [{"type": "dense", "units": 100}]}, {"type": "dense", "units": 10}]}
            """, file: nil))
        let f = StepFlops(model: mlp, batch: 8)
        let macs: Int = 40 * 100 + 100 * 100 + 100 * 10, first: Int = 40 * 100
        let fwd = Double(2 * 8 * macs)
        #expect(f.forward == fwd)
        // Weight gradients everywhere; no input gradient for the first layer.
        #expect(f.backward == 2 * fwd - Double(2 * 8 * first))
        #expect(f.mainShape.m == 8 && f.mainShape.n == 100 && f.mainShape.k == 100)

        let cnn = try Model(config: ConfigValue.parse("""
            {"input": [1, 40], "layers": [{"type": "conv1d", "channels": 4, "kernel": 5, "stride": 2, "padding": 1},
              {"type": "flatten"}, {"type": "dense", "units": 10}]}
            """, file: nil))
        let L = (40 + 2 - 5) / 2 + 1
        let c = StepFlops(model: cnn, batch: 3)
        let convMacs: Int = 3 * L * 4 * 5, headMacs: Int = 3 * 4 * L * 10
        #expect(c.forward == Double(2 * (convMacs + headMacs)))

        let (T, C) = (8, 16)
        let gpt = try Model(config: ConfigValue.parse("""
            {"input": [\(T)], "layers": [{"type": "token_position_embedding", "vocab": 11, "dim": \(C)},
              {"type": "transformer_block", "heads": 2}, {"type": "dense", "units": 11}]}
            """, file: nil))
        let rows: Int = 2 * T
        let perRow: Int = 3 * C * C + C * C + 4 * C * C + 4 * C * C + 11 * C
        let dense = Double(2 * rows * perRow)
        let attention = Double(4 * 2 * T * T * C)
        let g = StepFlops(model: gpt, batch: 2)
        #expect(g.forward == dense + attention)
        #expect(g.backward == 2 * dense + 2 * attention)
    }
}
