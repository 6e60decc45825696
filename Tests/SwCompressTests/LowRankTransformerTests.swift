import Foundation
import Testing
import SwComm
import SwCompress
import SwConfig
import SwNN
import SwTensor
import SwTrain

/// `swtrain lowrank` on a transformer: every projection of a `transformer_block` and of a
/// `causal_attention` is factorized and named in the entry's `parts`; a model whose projections
/// have rank 2 is reproduced by the rank-2 folder to float tolerance.
@Suite struct LowRankTransformerTests {
    static let config = """
        {"name": "lr-gpt", "seed": 3,
         "data": {"train": {"kind": "text", "path": "t.txt", "context": 8},
                  "test": {"kind": "text", "path": "t.txt", "context": 8, "split": "validation", "validation_fraction": 0.3}},
         "model": {"input": [8], "layers": [
            {"type": "token_position_embedding", "vocab": 9, "dim": 16},
            {"type": "transformer_block", "heads": 2},
            {"type": "causal_attention", "heads": 2},
            {"type": "dense", "units": 9}]},
         "optimizer": {"type": "adam", "lr": 0.01},
         "training": {"batch_size": 16, "max_steps": 40, "log_every_steps": 1000}}
        """
    static let projections = ["1.attn.qkv", "1.attn.proj", "1.mlp.0", "1.mlp.2", "2.qkv", "2.proj", "3"]

    /// A trained model whose projection weights are then set to random rank-2 products,
    /// saved as a checkpoint: (config file, checkpoint, the trainer holding that model).
    static func rankTwoModel(_ dir: String) throws -> (config: String, checkpoint: String, trainer: Trainer) {
        var text = ""
        for i in 0..<400 { text += ["abcde", "bad", "faced", "cafe", "hig", "deaf"][(i * 7 + i / 3) % 6] }
        try text.write(toFile: dir + "/t.txt", atomically: true, encoding: .utf8)
        try config.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        let c = try TrainConfig.load(path: dir + "/config.json", overrides: ["checkpoint.dir=\"\(dir)/run\""])
        let t = try Trainer(config: c, comm: LocalCommunicator())
        while t.step < 10 { _ = try t.trainStep() }
        var rng = RNG(seed: 11)
        for path in projections {
            let w = try #require(t.model.parameters.value(path + ".weight"))
            let (out, inF) = (w.shape[0], w.shape[1])
            let a = (0..<(out * 2)).map { _ in rng.uniform() - 0.5 }, b = (0..<(2 * inF)).map { _ in rng.uniform() - 0.5 }
            for o in 0..<out { for j in 0..<inF { w.pointer[o * inF + j] = a[o * 2] * b[j] + a[o * 2 + 1] * b[inF + j] } }
        }
        return (dir + "/config.json", try #require(try t.saveCheckpoint()), t)
    }

    @Test(arguments: [false, true])
    func rankTwoProjectionsAreReproducedThroughTheFolder(activationAware: Bool) throws {
        let dir = try LowRankFolderTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (configPath, checkpoint, trainer) = try Self.rankTwoModel(dir)
        var o = LowRankOptions(rule: .fixed(2))
        o.activationAware = activationAware
        o.calibrationSamples = 64
        o.latencyBatches = [4]
        let out = dir + "/lowrank"
        try LowRankCompression.run(configPath: configPath, overrides: [], checkpoint: checkpoint, outDir: out, options: o, log: { _ in })

        // The folder's config names every projection as a lowrank_dense part and builds.
        let written = try TrainConfig.load(path: out + "/config.json", overrides: ["checkpoint.dir=\"\(dir)/finetune\""])
        guard case .object(let root) = written.resolved, case .object(let m)? = root["model"], let layers = m["layers"] else {
            Issue.record("no model.layers in the folder's config"); return
        }
        for p in Self.projections {
            #expect(ConfigLayers.entry(at: p, in: layers).flatMap(ConfigLayers.type(of:)) == "lowrank_dense", "\(p)")
        }
        let model = try Model(config: written.model)
        try InitFrom.apply(to: model)
        for p in Self.projections { #expect(model.parameters.entry(p + ".0.weight")?.shape.first == 2, "\(p)") }

        // Same outputs as the dense model on the test windows.
        let test = try #require(trainer.test)
        let (x, _) = test.batch(Array(0..<min(12, test.count)))
        let ref = trainer.model.forward(x, training: false).array
        let got = model.forward(x, training: false).array
        let scale = ref.map { abs($0) }.max()!
        let diff = zip(ref, got).map { abs($0 - $1) }.max()!
        #expect(diff <= 1e-4 * max(scale, 1), "max |dense - factorized| = \(diff) (scale \(scale))")

        // A row per projection: rank 2, all the energy, no output error.
        let report = try JSON.parse(String(contentsOfFile: out + "/compression.json", encoding: .utf8))
        guard case .object(let r) = report, case .array(let rows)? = r["layers"] else { Issue.record("no layers in \(report)"); return }
        let byPath = Dictionary(uniqueKeysWithValues: rows.compactMap { row -> (String, JSONObject)? in
            guard case .object(let o) = row, case .string(let p)? = o["path"] else { return nil }
            return (p, o)
        })
        #expect(Set(byPath.keys) == Set(Self.projections))
        for p in Self.projections {
            #expect(byPath[p]?["rank"]?.doubleValue == 2, "\(p)")
            #expect((byPath[p]?["kept_energy"]?.doubleValue ?? 0) > 1 - 1e-5, "\(p)")
            #expect((byPath[p]?["relative_output_error"]?.doubleValue ?? 1) < 1e-3, "\(p)")
        }

        // `swtrain train DIR/config.json` fine-tunes it.
        let t = try Trainer(config: written, comm: LocalCommunicator())
        #expect(t.model.parameters.values.array == model.parameters.values.array)
        let start = try t.evaluate(t.test!).loss
        while t.step < 30 { _ = try t.trainStep() }
        #expect(try t.evaluate(t.test!).loss < start)
    }

    /// `--skip` names a projection by its path; it stays dense (no `parts` entry for it).
    @Test func skipsAProjectionByPath() throws {
        let dir = try LowRankFolderTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (configPath, checkpoint, _) = try Self.rankTwoModel(dir)
        var o = LowRankOptions(rule: .energy(0.999))
        o.calibrationSamples = 32
        o.latencyBatches = [4]
        o.skip = ["1.mlp.2", "2.qkv"]
        let out = dir + "/lowrank"
        try LowRankCompression.run(configPath: configPath, overrides: [], checkpoint: checkpoint, outDir: out, options: o, log: { _ in })
        let written = try TrainConfig.load(path: out + "/config.json")
        let model = try Model(config: written.model)
        let names = Set(model.parameters.entries.map(\.name))
        #expect(names.isSuperset(of: ["1.mlp.2.weight", "2.qkv.weight", "1.attn.qkv.0.weight", "1.mlp.0.1.bias", "2.proj.1.weight"]))
        #expect(model.parameters.entry("1.attn.proj.0.weight")?.shape == [2, 16])   // energy 0.999 of a rank-2 matrix
        guard case .object(let root) = written.resolved, case .object(let m)? = root["model"], let layers = m["layers"] else {
            Issue.record("no model.layers in the folder's config"); return
        }
        #expect(ConfigLayers.entry(at: "1.mlp.2", in: layers) == nil && ConfigLayers.entry(at: "2.qkv", in: layers) == nil)
        #expect(ConfigLayers.entry(at: "2.proj", in: layers).flatMap(ConfigLayers.type(of:)) == "lowrank_dense")
    }
}
