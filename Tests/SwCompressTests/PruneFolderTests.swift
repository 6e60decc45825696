import Foundation
import Testing
import SwCheckpoint
import SwComm
import SwCommands
import SwCompress
import SwConfig
import SwNN
import SwTensor
import SwTrain

/// `swtrain prune` end to end on a tiny trained MLP: structured folders evaluate (`swtrain
/// eval DIR/config.json --checkpoint DIR`), fine-tune and predict; unstructured folders hold
/// the exact zeros, the `prune` section of the fine-tune contract and the kernel choice,
/// which `bench infer --compare` follows; PyTorch's names and shapes of the smaller model.
@Suite(.serialized) struct PruneFolderTests {
    static let config = """
        {"name": "prune-test", "seed": 5,
         "data": {"train": {"kind": "mnist1d", "split": "train", "samples": 600},
                  "test": {"kind": "mnist1d", "split": "test", "samples": 300}},
         "model": {"input": [40], "layers": [
            {"type": "dense", "units": 48}, {"type": "relu"},
            {"type": "dense", "units": 32}, {"type": "relu"},
            {"type": "dense", "units": 10}]},
         "optimizer": {"type": "adam", "lr": 0.003},
         "training": {"batch_size": 50, "max_steps": 30, "log_every_steps": 1000}}
        """

    static func trained(_ dir: String) throws -> (config: String, checkpoint: String) {
        let path = dir + "/config.json"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let c = try TrainConfig.load(path: path, overrides: ["checkpoint.dir=\"\(dir)/run\""])
        let t = try Trainer(config: c, comm: LocalCommunicator())
        while t.step < 30 { _ = try t.trainStep() }
        return (path, try #require(try t.saveCheckpoint()))
    }

    static func temporaryFolder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swtrain-prune-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func report(_ dir: String) throws -> JSONObject {
        guard case .object(let r) = try JSON.parse(String(contentsOfFile: dir + "/compression.json", encoding: .utf8)) else {
            throw CompressError("compression.json is not an object")
        }
        return r
    }

    /// PyTorch's state-dict names and shapes of `torch_step.py`'s `build(layers, input)` (Benchmarks/peer/torch_prune.py
    /// loads the folder strictly into it): `i.weight`/`i.bias` per dense/conv at index i, shapes from the entries.
    static func torchNames(_ layers: [JSON], input: [Int]) -> [(String, [Int])] {
        var shape = input
        var out: [(String, [Int])] = []
        for (i, e) in layers.enumerated() {
            guard case .object(let o) = e, case .string(let t)? = o["type"] else { continue }
            let bias = o["bias"] != .bool(false)
            switch t {
            case "dense":
                let u = Int(o["units"]!.doubleValue!)
                out.append(("\(i).weight", [u, shape.last!]))
                if bias { out.append(("\(i).bias", [u])) }
                shape = shape.dropLast() + [u]
            case "flatten": shape = [shape.reduce(1, *)]
            default: break
            }
        }
        return out
    }

    @Test func structuredFolderEvaluatesFineTunesAndNamesLikeTorch() throws {
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (configPath, checkpoint) = try Self.trained(dir)
        var o = PruneOptions()
        o.structured = true
        o.keepUnits = 16
        o.scope = .layer
        o.latencyBatches = [4]
        let out = dir + "/u16"
        try PruneCompression.run(configPath: configPath, overrides: [], checkpoint: checkpoint, outDir: out, options: o, log: { _ in })

        let file = try SafeTensorsFile(path: out + "/model.safetensors")
        #expect(file.entries.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"])
        #expect(file.entries.map(\.shape) == [[16, 40], [16], [16, 16], [16], [10, 16], [10]])
        guard case .object(let root) = try JSON.parse(String(contentsOfFile: out + "/config.json", encoding: .utf8)),
              case .object(let m)? = root["model"], case .array(let layers)? = m["layers"] else { Issue.record("no model.layers"); return }
        let torch = Self.torchNames(layers, input: [40])
        #expect(torch.map(\.0) == file.entries.map(\.name))
        #expect(torch.map(\.1) == file.entries.map(\.shape))
        #expect(m["init_from"] == .string("."))
        #expect(root["prune"] == nil)

        let r = try Self.report(out)
        #expect(r["method"] == .string("prune-structured"))
        guard case .object(let before)? = r["before"], case .object(let after)? = r["after"],
              case .array(let rows)? = r["layers"] else { Issue.record("no before/after/layers"); return }
        #expect(after["parameters"]?.doubleValue == Double(16 * 40 + 16 + 16 * 16 + 16 + 10 * 16 + 10))
        #expect(before["parameters"]!.doubleValue! > after["parameters"]!.doubleValue!)
        #expect(after["file_bytes"]!.doubleValue! < before["file_bytes"]!.doubleValue!)
        #expect(after["test_accuracy"]?.doubleValue != nil)
        if case .object(let lat)? = after["latency_ms"] { #expect(lat["batch_4"]?.doubleValue != nil) } else { Issue.record("no latency") }
        #expect(rows.count == 3)   // two pruned, the output layer kept whole with its reason

        // The kept units are the largest-norm rows of the checkpoint's weight.
        let original = try SafeTensorsFile(path: checkpoint + "/model.safetensors")
        let w0 = try original.floats("0.weight")
        let norms = (0..<48).map { o in (0..<40).map { Double(w0[o * 40 + $0]) * Double(w0[o * 40 + $0]) }.reduce(0, +) }
        let kept = try file.floats("0.weight")
        let expectedRows = Array((0..<48).sorted { norms[$0] > norms[$1] }.prefix(16)).sorted()
        #expect(kept == expectedRows.flatMap { o in w0[(o * 40)..<(o * 40 + 40)] })

        // swtrain eval DIR/config.json --checkpoint DIR, predict, and a short fine-tune.
        try EvalCommand.run(configPath: out + "/config.json", overrides: [], checkpoint: out)
        let written = try TrainConfig.load(path: out + "/config.json")
        let t = try Trainer(config: written, comm: LocalCommunicator())
        let start = try t.evaluate(t.test!).loss
        #expect(abs(start - after["test_loss"]!.doubleValue!) <= 1e-4 * max(1, start))
        while t.step < 20 { _ = try t.trainStep() }
        #expect(try t.evaluate(t.test!).loss < start)
        let x = FileManager.default.temporaryDirectory.appendingPathComponent("x-\(UUID().uuidString).npy").path
        try Predictor.writeNPY([Float](repeating: 0.25, count: 3 * 40), shape: [3, 40], to: x)
        defer { try? FileManager.default.removeItem(atPath: x) }
        try Predictor.run(configPath: out + "/config.json", overrides: [], checkpoint: out, input: x, output: out + "/y.npy")
        #expect(FileManager.default.fileExists(atPath: out + "/y.npy"))
    }

    @Test func unstructuredFolderKeepsExactZerosTheFineTuneContractAndTheKernelChoice() throws {
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (configPath, checkpoint) = try Self.trained(dir)
        var o = PruneOptions()
        o.sparsity = 0.93
        o.scope = .global
        o.latencyBatches = [2, 64]
        o.sparseKernel = .csr
        let out = dir + "/s93"
        try PruneCompression.run(configPath: configPath, overrides: [], checkpoint: checkpoint, outDir: out, options: o, log: { _ in })

        let file = try SafeTensorsFile(path: out + "/model.safetensors")
        let weights = try ["0.weight", "2.weight", "4.weight"].map { try file.floats($0) }
        let total = weights.reduce(0) { $0 + $1.count }
        #expect(weights.reduce(0) { $0 + $1.filter { $0 == 0 }.count } == MagnitudePruning.prunedCount(sparsity: 0.93, count: total))
        let originalFile = try SafeTensorsFile(path: checkpoint + "/model.safetensors")
        #expect(try file.floats("0.bias") == originalFile.floats("0.bias"))

        guard case .object(let root) = try JSON.parse(String(contentsOfFile: out + "/config.json", encoding: .utf8)) else { return }
        let expected = try JSON.parse("""
            {"method": "magnitude", "scope": "global", "structured": false, "initial_sparsity": 0.93, "target_sparsity": 0.93,
             "start_step": 0, "end_step": 0, "frequency": 1}
            """)
        #expect(root["prune"]?.serialized() == expected.serialized())

        let r = try Self.report(out)
        #expect(r["method"] == .string("prune-magnitude"))
        guard case .object(let inf)? = r["inference"], case .array(let csrLayers)? = inf["csr_layers"] else { Issue.record("no inference"); return }
        // Forced CSR: every layer at or above 0.9 (a global threshold leaves each layer's own sparsity).
        let sparseEnough = weights.enumerated().filter { Double($0.element.filter { $0 == 0 }.count) / Double($0.element.count) >= 0.9 }
            .map { ["0", "2", "4"][$0.offset] }
        #expect(csrLayers.map { $0.serialized() } == sparseEnough.map { JSON.string($0).serialized() })
        #expect(!sparseEnough.isEmpty)
        guard case .object(let after)? = r["after"] else { return }
        #expect(after["non_zeros"]!.doubleValue! < after["parameters"]!.doubleValue! * 0.2)

        // The folder's inference model runs the chosen CSR layers and gives the dense outputs.
        let model = try CompressedModelFolder(path: out).loadInferenceModel()
        #expect(model.network.descendants.filter { $0.layer is SparseDense }.map(\.path) == sparseEnough)
        let rows = try InferenceBench.run(configPath: configPath, overrides: [], checkpoint: checkpoint, compare: out,
                                          batches: [3], threads: 1, repeats: 2)
        #expect(rows.map(\.caseName) == ["compressed-csr-b3-t1"])
        let dense = try Model(config: ConfigValue(JSON.parse(#"{"input": [40], "layers": [{"type": "dense", "units": 48}, {"type": "relu"}, {"type": "dense", "units": 32}, {"type": "relu"}, {"type": "dense", "units": 10}]}"#)))
        try InitFrom.load(dense, from: out + "/model.safetensors")
        let x = Tensor(shape: [2, 40], values: (0..<80).map { Float($0 % 7) / 7 - 0.4 })
        let a = dense.forward(x, training: false).array, b = model.forward(x, training: false).array
        for i in 0..<a.count { #expect(abs(a[i] - b[i]) <= 1e-5 * max(1, abs(a[i]))) }
    }

    @Test func structuredRefusalsNameTheLayer() throws {
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (configPath, checkpoint) = try Self.trained(dir)
        var o = PruneOptions()
        o.structured = true
        o.keepUnits = 8
        o.layers = ["4"]
        #expect { try PruneCompression.run(configPath: configPath, overrides: [], checkpoint: checkpoint, outDir: dir + "/x", options: o, log: { _ in }) }
            throws: { "\($0)".contains("--layers 4") && "\($0)".contains("model's output") && "\($0)".contains("candidates are at 0, 2") }
        o.layers = ["1"]
        #expect { try PruneCompression.run(configPath: configPath, overrides: [], checkpoint: checkpoint, outDir: dir + "/x", options: o, log: { _ in }) }
            throws: { "\($0)".contains("--layers 1") && "\($0)".contains("no dense or conv layer") }
        o.layers = []
        o.keepUnits = 100
        #expect { try PruneCompression.run(configPath: configPath, overrides: [], checkpoint: checkpoint, outDir: dir + "/x", options: o, log: { _ in }) }
            throws: { "\($0)".contains("--keep-units 100") && "\($0)".contains("only 48 units") }
        #expect(!FileManager.default.fileExists(atPath: dir + "/x"))
    }

    @Test func residualModelsAreRefusedByName() throws {
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/config.json"
        try Self.config.replacingOccurrences(of: #"{"type": "dense", "units": 32}, {"type": "relu"},"#,
                                             with: #"{"type": "residual", "layers": [{"type": "dense", "units": 48}, {"type": "relu"}]},"#)
            .write(toFile: path, atomically: true, encoding: .utf8)
        let c = try TrainConfig.load(path: path, overrides: ["checkpoint.dir=\"\(dir)/run\""])
        let t = try Trainer(config: c, comm: LocalCommunicator())
        _ = try t.trainStep()
        let checkpoint = try #require(try t.saveCheckpoint())
        var o = PruneOptions()
        o.structured = true
        o.keepUnits = 8
        #expect { try PruneCompression.run(configPath: path, overrides: [], checkpoint: checkpoint, outDir: dir + "/x", options: o, log: { _ in }) }
            throws: { "\($0)".contains("no layer of the model can lose units") && "\($0)".contains("residual at 2") }
        o.layers = ["2.layers.0"]
        #expect { try PruneCompression.run(configPath: path, overrides: [], checkpoint: checkpoint, outDir: dir + "/x", options: o, log: { _ in }) }
            throws: { "\($0)".contains("--layers 2.layers.0") && "\($0)".contains("output of the residual body 2.layers") }
        // Unstructured pruning reaches inside the block.
        o = PruneOptions()
        o.sparsity = 0.5
        o.layers = ["2.layers.0"]
        o.latencyBatches = [2]
        try PruneCompression.run(configPath: path, overrides: [], checkpoint: checkpoint, outDir: dir + "/y", options: o, log: { _ in })
        let w = try SafeTensorsFile(path: dir + "/y/model.safetensors").floats("2.layers.0.weight")
        #expect(w.filter { $0 == 0 }.count == 48 * 48 / 2)
    }
}

