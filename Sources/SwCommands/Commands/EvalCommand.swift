import Foundation
import SwCheckpoint
import SwComm
import SwConfig
import SwTrain

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
        try model.loadParameters(from: path)
    }
}
