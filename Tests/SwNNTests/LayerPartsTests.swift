import Testing
import SwConfig
import SwNN
import SwTensor

/// `"parts"` of a `transformer_block` / `causal_attention` entry: the config form of a rewrite
/// of its projections, so a compressed transformer can be written and read back as a config.
@Suite struct LayerPartsTests {
    static let plain = """
        {"input": [4], "layers": [
          {"type": "token_position_embedding", "vocab": 7, "dim": 8},
          {"type": "transformer_block", "heads": 2},
          {"type": "causal_attention", "heads": 2},
          {"type": "dense", "units": 7}]}
        """
    static let withParts = """
        {"input": [4], "layers": [
          {"type": "token_position_embedding", "vocab": 7, "dim": 8},
          {"type": "transformer_block", "heads": 2, "parts": {
            "attn.qkv": {"type": "lowrank_dense", "units": 24, "rank": 3},
            "mlp.2": {"type": "lowrank_dense", "units": 8, "rank": 2, "bias": false}}},
          {"type": "causal_attention", "heads": 2, "parts": {"proj": {"type": "lowrank_dense", "units": 8, "rank": 4}}},
          {"type": "dense", "units": 7}]}
        """

    /// The config with parts builds the same network as the plain config rewritten in code:
    /// same tensor names and shapes in the same order, and (given the same values) the same
    /// outputs bit for bit.
    @Test func partsEqualTheRewrite() throws {
        let rewritten = try Model(config: ConfigValue.parse(Self.plain, file: nil))
        rewritten.initialize(seed: 5)
        try rewritten.rewrite { path, layer in
            guard let d = layer as? Dense else { return nil }
            switch path {
            case "1.attn.qkv": return LowRankDense(inputShape: d.inputShape, units: 24, rank: 3, bias: true)
            case "1.mlp.2": return LowRankDense(inputShape: d.inputShape, units: 8, rank: 2, bias: false)
            case "2.proj": return LowRankDense(inputShape: d.inputShape, units: 8, rank: 4, bias: true)
            default: return nil
            }
        }
        let built = try Model(config: ConfigValue.parse(Self.withParts, file: nil))
        #expect(built.parameters.entries == rewritten.parameters.entries)
        #expect(built.parameters.entries.map(\.name).contains("1.attn.qkv.0.weight"))
        #expect(built.parameters.entries.map(\.name).contains("2.proj.1.weight"))
        #expect(!built.parameters.entries.map(\.name).contains("1.mlp.2.1.bias"))
        built.parameters.values.pointer.update(from: rewritten.parameters.values.pointer, count: rewritten.parameters.count)
        var rng = RNG(seed: 11)
        let x = Tensor(zeros: [3, 4])
        for i in 0..<x.count { x.pointer[i] = Float(rng.below(7)) }
        let a = rewritten.forward(x, training: false).array
        let b = built.forward(x, training: false).array
        #expect(a == b)
    }

    @Test func unknownPartIsNamed() throws {
        let json = """
            {"input": [4], "layers": [
              {"type": "token_position_embedding", "vocab": 7, "dim": 8},
              {"type": "transformer_block", "heads": 2, "parts": {"attn.out": {"type": "dense", "units": 8}}}]}
            """
        do {
            _ = try Model(config: ConfigValue.parse(json, file: "m.json"))
            Issue.record("expected an error")
        } catch {
            let text = "\(error)"
            #expect(text.contains("attn.out") && text.contains("attn.qkv, attn.proj, mlp.0, mlp.2"), "\(text)")
        }
    }

    @Test func wrongOutputWidthIsNamed() throws {
        let json = Self.withParts.replacingOccurrences(of: "\"units\": 24, \"rank\": 3", with: "\"units\": 16, \"rank\": 3")
        do {
            _ = try Model(config: ConfigValue.parse(json, file: "m.json"))
            Issue.record("expected an error")
        } catch {
            let text = "\(error)"
            #expect(text.contains("attn.qkv") && text.contains("[4, 24]") && text.contains("[4, 16]"), "\(text)")
        }
    }
}
