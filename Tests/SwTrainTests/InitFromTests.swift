import Foundation
import Testing
import SwCheckpoint
import SwComm
import SwConfig
import SwTrain

/// `model.init_from`: a run starts from saved weights, bit for bit, and refuses weights that
/// do not fit the model, naming the file, the tensor and both shapes.
@Suite struct InitFromTests {
    /// Trains 5 steps of `baseConfig` into `<dir>/first`, saves a checkpoint and returns its
    /// folder and the parameters saved.
    static func savedRun(_ dir: String) throws -> (checkpoint: String, params: [Float]) {
        let config = try TrainConfig.parse(text: baseConfig, overrides: ["checkpoint.dir=\"\(dir)/first\""])
        let trainer = try Trainer(config: config, comm: LocalCommunicator())
        while trainer.step < 5 { _ = try trainer.trainStep() }
        let folder = try #require(try trainer.saveCheckpoint())
        return (folder, trainer.model.parameters.values.array)
    }

    /// A trainer for `baseConfig` read from `<dir>/config.json` (so relative paths resolve
    /// against `dir`) with `overrides`.
    static func trainer(_ dir: String, _ overrides: [String]) throws -> Trainer {
        try baseConfig.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        let config = try TrainConfig.load(path: dir + "/config.json", overrides: ["checkpoint.dir=\"\(dir)/second\""] + overrides)
        return try Trainer(config: config, comm: LocalCommunicator())
    }

    static func temporaryFolder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swtrain-initfrom-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func startsFromSavedWeightsBitForBit() throws {
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (checkpoint, saved) = try Self.savedRun(dir)
        let fresh = try Self.trainer(dir, []).model.parameters.values.array
        #expect(fresh != saved)
        // A run folder (via latest, relative to the config's folder), a checkpoint folder, the file itself.
        for path in ["first", checkpoint, checkpoint + "/model.safetensors"] {
            let t = try Self.trainer(dir, ["model.init_from=\"\(path)\""])
            #expect(t.model.parameters.values.array == saved, "\(path)")
            // The resolved config (what config.json gets) holds the absolute path.
            guard case .object(let top) = t.config.resolved, case .object(let model)? = top["model"],
                  case .string(let written)? = model["init_from"] else {
                Issue.record("no model.init_from in the resolved config"); continue
            }
            #expect(written.hasPrefix("/") && FileManager.default.fileExists(atPath: written), "\(written)")
        }
        // A folder holding model.safetensors directly (a compression pass's output).
        let out = dir + "/compressed"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: checkpoint + "/model.safetensors", toPath: out + "/model.safetensors")
        #expect(try Self.trainer(dir, ["model.init_from=\"compressed\""]).model.parameters.values.array == saved)
    }

    @Test func weightsThatDoNotFitAreRefusedByName() throws {
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (checkpoint, _) = try Self.savedRun(dir)
        let file = checkpoint + "/model.safetensors"
        func error(_ layers: String) -> InitFromError? {
            do {
                _ = try Self.trainer(dir, ["model.init_from=\"first\"", "model.layers=\(layers)"])
                return nil
            } catch let e as InitFromError {
                return e
            } catch {
                Issue.record("expected an InitFromError, got \(error)")
                return nil
            }
        }
        let wider = error(#"[{"type": "dense", "units": 17}, {"type": "relu"}, {"type": "dense", "units": 10}]"#)
        #expect(wider == .shapeMismatch(file: file, tensor: "0.weight", expected: [17, 40], found: [16, 40]))
        #expect("\(wider!)".contains("0.weight") && "\(wider!)".contains("[17, 40]") && "\(wider!)".contains("[16, 40]"))
        #expect(error(#"[{"type": "dense", "units": 16}, {"type": "relu"}, {"type": "dense", "units": 10}, {"type": "layernorm"}]"#)
                == .missingTensor(file: file, tensor: "3.weight", expected: [10]))
        #expect(error(#"[{"type": "dense", "units": 16}, {"type": "relu"}, {"type": "dense", "units": 10, "bias": false}]"#)
                == .extraTensor(file: file, tensor: "2.bias", found: [10]))
        // A path that does not exist is a config error at the key.
        let missing = configError(["model.init_from=\"/nonexistent/weights.safetensors\""])
        #expect(missing?.path == "model.init_from")
    }
}
