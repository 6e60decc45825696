import Foundation
import Testing
import SwCheckpoint
import SwComm
import SwCommands
import SwCompress
import SwConfig
import SwNN
import SwTrain

/// `swtrain lowrank` end to end: a trained model, factorized into a folder whose config
/// evaluates and fine-tunes, whose weights are the truncated SVD of the checkpoint's.
@Suite struct LowRankFolderTests {
    static let config = """
        {"name": "lr-test", "seed": 5,
         "data": {"train": {"kind": "mnist1d", "split": "train", "samples": 600},
                  "test": {"kind": "mnist1d", "split": "test", "samples": 600}},
         "model": {"input": [40], "layers": [
            {"type": "dense", "units": 48}, {"type": "relu"},
            {"type": "residual", "layers": [{"type": "dense", "units": 48}, {"type": "relu"}]},
            {"type": "dense", "units": 48}, {"type": "relu"},
            {"type": "dense", "units": 10}]},
         "optimizer": {"type": "adam", "lr": 0.003},
         "training": {"batch_size": 50, "max_steps": 30, "log_every_steps": 1000}}
        """

    /// Trains `config` 30 steps under `dir` and returns the config file and the checkpoint.
    static func trained(_ dir: String) throws -> (config: String, checkpoint: String) {
        let path = dir + "/config.json"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let c = try TrainConfig.load(path: path, overrides: ["checkpoint.dir=\"\(dir)/run\""])
        let t = try Trainer(config: c, comm: LocalCommunicator())
        while t.step < 30 { _ = try t.trainStep() }
        return (path, try #require(try t.saveCheckpoint()))
    }

    static func temporaryFolder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swtrain-lowrank-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test(arguments: [false, true])
    func folderHoldsTheTruncatedSVDAndRunsAsAConfig(activationAware: Bool) throws {
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (configPath, checkpoint) = try Self.trained(dir)
        var o = LowRankOptions(rule: .fixed(9))
        o.activationAware = activationAware
        o.calibrationSamples = 200
        o.skip = ["3"]
        o.latencyBatches = [8]
        let out = dir + "/lowrank"
        try LowRankCompression.run(configPath: configPath, overrides: [], checkpoint: checkpoint, outDir: out, options: o, log: { _ in })

        // The config names the factorized layers; the weights load into it strictly.
        let written = try TrainConfig.load(path: out + "/config.json", overrides: ["checkpoint.dir=\"\(dir)/finetune\""])
        let model = try Model(config: written.model)
        try InitFrom.apply(to: model)
        #expect(model.parameters.entries.map(\.name) == [
            "0.0.weight", "0.1.weight", "0.1.bias",
            "2.layers.0.0.weight", "2.layers.0.1.weight", "2.layers.0.1.bias",
            "3.weight", "3.bias",                               // skipped
            "5.weight", "5.bias",                               // 9 · (48 + 10) >= 480: stays dense
        ])

        // Each factorized weight is the rank-9 (scaled) SVD of the checkpoint's: for plain SVD
        // the residual is the discarded energy (reported per layer).
        let original = try SafeTensorsFile(path: checkpoint + "/model.safetensors")
        let report = try JSON.parse(String(contentsOfFile: out + "/compression.json", encoding: .utf8))
        guard case .object(let r) = report, case .array(let layers)? = r["layers"] else { Issue.record("no layers in \(report)"); return }
        #expect(layers.count == 4)
        for (path, name) in [("0", "0"), ("2.layers.0", "2.layers.0")] {
            let w = try original.floats(name + ".weight")
            let d = model.parameters.value(name + ".0.weight")!, u = model.parameters.value(name + ".1.weight")!
            #expect(d.shape[0] == 9)
            let (outF, inF) = (u.shape[0], d.shape[1])
            var approx = [Float](repeating: 0, count: outF * inF)
            for a in 0..<outF { for j in 0..<inF { var s: Float = 0; for k in 0..<9 { s += u.array[a * 9 + k] * d.array[k * inF + j] }; approx[a * inF + j] = s } }
            let res = zip(w, approx).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +)
            let tot = w.map { Double($0) * Double($0) }.reduce(0, +)
            let row = layers.compactMap { l -> JSONObject? in if case .object(let o) = l, o["path"] == .string(path) { return o }; return nil }.first
            guard let kept = row?["kept_energy"]?.doubleValue, let err = row?["relative_output_error"]?.doubleValue else {
                Issue.record("layer \(path): no kept_energy / relative_output_error"); continue
            }
            #expect(err > 0 && err < 1)
            if !activationAware { #expect(abs(res / tot - (1 - kept)) < 1e-3, "layer \(path)") }
            #expect(res / tot > 0.001)   // rank 9 of 40 or 48 is a real truncation
            #expect(original.entries.contains { $0.name == name + ".bias" })
            #expect(try original.floats(name + ".bias") == model.parameters.value(name + ".1.bias")!.array)
        }
        guard case .object(let before)? = r["before"], case .object(let after)? = r["after"],
              let pb = before["parameters"]?.doubleValue, let pa = after["parameters"]?.doubleValue else {
            Issue.record("no before/after in compression.json"); return
        }
        #expect(Int(pa) == model.parameters.count && pa < pb)

        // `swtrain eval DIR/config.json --checkpoint DIR` and a short fine-tune run.
        try EvalCommand.run(configPath: out + "/config.json", overrides: [], checkpoint: out)
        let t = try Trainer(config: written, comm: LocalCommunicator())
        #expect(t.model.parameters.values.array == model.parameters.values.array)
        let start = try t.evaluate(t.test!).loss
        while t.step < 20 { _ = try t.trainStep() }
        #expect(try t.evaluate(t.test!).loss < start)
    }

    @Test func refusesAnUnknownSkipPath() throws {
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (configPath, checkpoint) = try Self.trained(dir)
        var o = LowRankOptions(rule: .fixed(4))
        o.skip = ["1"]                                   // a relu
        #expect {
            try LowRankCompression.run(configPath: configPath, overrides: [], checkpoint: checkpoint, outDir: dir + "/x", options: o, log: { _ in })
        } throws: { error in
            "\(error)".contains("--skip 1") && "\(error)".contains("0, 2.layers.0, 3, 5")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/x"))
    }
}
