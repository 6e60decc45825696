import Foundation
import SwCheckpoint
import SwComm
import SwConfig

/// `swtrain eval CONFIG --checkpoint PATH`: loss and accuracy of a checkpoint's model on the
/// config's test data (or its training data when there is no test set).
public enum EvalCommand {
    public static func run(configPath: String, overrides: [String], checkpoint: String) throws {
        let config = try TrainConfig.load(path: configPath, overrides: overrides)
        let comm = try Launch.worldCommunicator()
        let trainer = try Trainer(config: config, comm: comm)
        let file = try modelFile(checkpoint)
        try trainer.loadModel(from: file)
        let data = trainer.test ?? trainer.train
        let r = try trainer.evaluate(data)
        if comm.rank == 0 {
            var line = "\(file): \(trainer.test == nil ? "train" : "test") loss \(String(format: "%.4f", r.loss))"
            if let a = r.accuracy { line += "  accuracy \(String(format: "%.4f", a))" }
            print(line + "  (\(data.count) samples)")
        }
    }

    /// The model file for a checkpoint folder, a `.safetensors` file, or a run folder (its
    /// newest complete checkpoint).
    static func modelFile(_ path: String) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw RuntimeError("\(path): no such file or folder\n  hint: give a checkpoint folder, its model.safetensors, or a run folder")
        }
        if !isDir.boolValue { return path }
        let direct = path + "/" + Trainer.modelFile
        if FileManager.default.fileExists(atPath: direct) { return direct }
        guard let found = try CheckpointReader(directory: path).resolve(nil) else {
            throw RuntimeError("\(path): no model.safetensors and no complete checkpoint in this folder")
        }
        return found.checkpoint.filePath(Trainer.modelFile)
    }
}

extension Trainer {
    /// Loads parameters from a model.safetensors file; names and shapes must match exactly.
    public func loadModel(from path: String) throws {
        let file = try SafeTensorsFile(path: path)
        let store = model.parameters
        let expected = Set(store.entries.map(\.name)), found = Set(file.entries.map(\.name))
        if expected != found {
            let missing = expected.subtracting(found).sorted(), extra = found.subtracting(expected).sorted()
            throw RuntimeError("\(path): does not match the config's model: missing \(missing.prefix(5)), unexpected \(extra.prefix(5))\n  hint: use the config the checkpoint was trained with")
        }
        for e in store.entries {
            do {
                try file.read(e.name, into: store.value(e.name)!)
            } catch {
                throw RuntimeError("\(path): tensor \(e.name): \(error)")
            }
        }
    }
}
