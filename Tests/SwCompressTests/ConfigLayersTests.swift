import Testing
import SwCompress
import SwConfig
import SwNN

/// `ConfigLayers` finds and replaces entries by layer path, including the parts of a
/// transformer block, which are written into the entry's `parts` object.
@Suite struct ConfigLayersTests {
    static let layers = """
        [{"type": "token_position_embedding", "vocab": 7, "dim": 8},
         {"type": "transformer_block", "heads": 2},
         {"type": "dense", "units": 7}]
        """

    @Test func implicitPartsComeFromTheNetwork() throws {
        let layers = try JSON.parse(Self.layers)
        let model = try Model(config: ConfigValue.parse("{\"input\": [4], \"layers\": \(Self.layers)}", file: nil))
        #expect(ConfigLayers.entry(at: "1.attn.qkv", in: layers) == nil)
        let qkv = try #require(ConfigLayers.entry(at: "1.attn.qkv", in: layers, network: model.network))
        #expect(qkv == (try JSON.parse(#"{"type": "dense", "units": 24, "bias": true}"#)))
        #expect(ConfigLayers.entry(at: "1.mlp.2", in: layers, network: model.network).flatMap(ConfigLayers.type(of:)) == "dense")
        #expect(ConfigLayers.entry(at: "1.ln1", in: layers, network: model.network) == nil)
        #expect(ConfigLayers.entry(at: "2", in: layers, network: model.network).flatMap(ConfigLayers.type(of:)) == "dense")
    }

    /// Replacing two parts writes both into `parts`, a second replacement of the same part sees
    /// the first, and the result builds the rewritten network.
    @Test func replacedPartsBuild() throws {
        let layers = try JSON.parse(Self.layers)
        let model = try Model(config: ConfigValue.parse("{\"input\": [4], \"layers\": \(Self.layers)}", file: nil))
        var out = ConfigLayers.replacing(at: "1.attn.qkv", in: layers, network: model.network) { ConfigLayers.lowRank($0, rank: 3) }
        out = ConfigLayers.replacing(at: "1.mlp.0", in: out, network: model.network) { ConfigLayers.lowRank($0, rank: 2) }
        #expect(ConfigLayers.entry(at: "1.attn.qkv", in: out).flatMap(ConfigLayers.type(of:)) == "lowrank_dense")
        let again = ConfigLayers.replacing(at: "1.attn.qkv", in: out, network: model.network) { e in
            #expect(ConfigLayers.type(of: e) == "lowrank_dense")
            return e
        }
        #expect(again == out)
        let built = try Model(config: ConfigValue.parse("{\"input\": [4], \"layers\": \(out.serialized())}", file: nil))
        let names = built.parameters.entries.map(\.name)
        #expect(names.contains("1.attn.qkv.0.weight") && names.contains("1.mlp.0.1.bias") && names.contains("1.attn.proj.weight"))
        #expect(built.parameters.entry("1.attn.qkv.0.weight")?.shape == [3, 8])
    }
}
