import Foundation
import SwCheckpoint
import SwComm
import SwConfig
import SwData
import SwNN
import SwTrain

/// `swtrain eval CONFIG --checkpoint PATH`: loss and accuracy of a checkpoint's model on the
/// config's test data (or its training data when there is no test set).
public enum EvalCommand {
    public static func run(configPath: String, overrides: [String], checkpoint: String) throws {
        let config = try TrainConfig.load(path: configPath, overrides: overrides)
        let comm = try Launch.worldCommunicator()
        let trainer = try Trainer(config: config, comm: comm)
        trainer.disableFakeQuantization()          // a quantization-aware config evaluates its fp32 model
        let file = try modelFile(checkpoint)
        try trainer.model.loadParameters(from: file)
        if comm.rank == 0, let bad = firstNonFiniteParameter(trainer.model.parameters) {
            FileHandle.standardError.write(Data("swtrain: warning: \(file): tensor \(bad.name) holds \(bad.value) at element \(bad.index); the figures below are not meaningful\n".utf8))
        }
        let data = trainer.test ?? trainer.train
        let r = try trainer.evaluate(data)
        if comm.rank == 0 {
            var line = "\(file): \(trainer.test == nil ? "train" : "test") loss \(String(format: "%.4f", r.loss))"
            if let a = r.accuracy { line += "  accuracy \(String(format: "%.4f", a))" }
            print(line + "  (\(data.count) samples)")
        }
    }

    /// The first parameter tensor holding a NaN or an infinity, with the element and its value.
    static func firstNonFiniteParameter(_ store: ParameterStore) -> (name: String, index: Int, value: Float)? {
        for e in store.entries {
            let v = store.value(e.name)!
            if let i = DataChecks.firstNonFinite(UnsafeBufferPointer(start: v.pointer, count: v.count)) {
                return (e.name, i, v.pointer[i])
            }
        }
        return nil
    }

    /// The model file for a checkpoint folder (hashes verified), a `.safetensors` file (verified
    /// when it sits in a checkpoint folder), a compressed-model folder, or a run folder (its
    /// newest complete checkpoint, saying so when `latest` was unusable). See `InitFrom`.
    static func modelFile(_ path: String) throws -> String {
        do {
            return try InitFrom.weightsFile(path)
        } catch .noWeights(_, let reason) {
            throw RuntimeError("\(path): \(reason)\n  hint: give a checkpoint folder, its model.safetensors, or a run folder")
        } catch .unreadable(_, let reason) {
            throw RuntimeError(reason + "\n  hint: give the run folder to use the newest checkpoint that verifies")
        } catch {
            throw error
        }
    }
}
