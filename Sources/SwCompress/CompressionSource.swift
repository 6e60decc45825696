import Foundation
import SwComm
import SwConfig
import SwData
import SwNN
import SwTrain

/// The trained model a post-training pass (`lowrank`, `prune`, `quantize`) starts from: the
/// config and the world, a trainer holding the checkpoint's weights, its test metrics and counts
/// before compression, an untouched copy for the latency comparison, and the config's layer list
/// that the pass rewrites into the folder's `config.json`.
///
/// Every rank builds one (evaluation and calibration are all-reduced); `say` prints on rank 0 only.
struct CompressionSource {
    let config: TrainConfig
    let comm: any Communicator
    let isRoot: Bool
    let say: (String) -> Void
    let trainer: Trainer
    /// The weights file the checkpoint path resolved to.
    let weights: String
    /// The trainer's model, holding the checkpoint's weights (the pass rewrites it).
    let model: Model
    /// The test set, or the training set when the config has none.
    let evalData: any Dataset
    let before: (loss: Double, accuracy: Double?)
    let countsBefore: (parameters: Int, nonZeros: Int)
    /// A copy of the model before compression, for `InferenceBench`.
    let original: Model
    /// The resolved config, its `model` section and `model.layers` (the folder's config is these, rewritten).
    let root: JSONObject
    let modelJSON: JSONObject
    let layersJSON: JSON

    /// Loads `checkpoint` into the model of the config at `configPath` (with `overrides`);
    /// `prepare` runs on the trainer before the weights are loaded.
    init(configPath: String, overrides: [String], checkpoint: String, log: @escaping (String) -> Void,
         prepare: (Trainer) -> Void = { _ in }) throws {
        config = try TrainConfig.load(path: configPath, overrides: overrides)
        comm = try MPIRuntime.makeWorldCommunicator()
        let isRoot = comm.rank == 0
        self.isRoot = isRoot
        say = { if isRoot { log($0) } }
        trainer = try Trainer(config: config, comm: comm)
        prepare(trainer)
        weights = try InitFrom.weightsFile(checkpoint)
        try trainer.model.loadParameters(from: weights)
        model = trainer.model
        evalData = trainer.test ?? trainer.train
        before = try trainer.evaluate(evalData)
        countsBefore = CompressedModelFolder.counts(model)
        original = try Model(config: config.model)
        original.parameters.values.pointer.update(from: model.parameters.values.pointer, count: model.parameters.count)
        guard case .object(let root) = config.resolved, case .object(let modelJSON)? = root["model"],
              let layers = modelJSON["layers"] else { throw CompressError("\(configPath): no model.layers") }
        self.root = root
        self.modelJSON = modelJSON
        layersJSON = layers
    }

    /// The output folder's config: the resolved config with `model.layers` replaced by `layers`,
    /// the name suffixed (`"mnist1d-wide-pruned"`), and `checkpoint.dir` set to `OUT/finetune`, so a
    /// fine-tune never resumes from the original's (or another folder's) run.
    func folderConfig(layers: JSON, nameSuffix: String, outDir: String) -> JSONObject {
        var newRoot = root, newModel = modelJSON
        newModel["layers"] = layers
        newRoot["model"] = .object(newModel)
        newRoot["name"] = .string(config.name + "-" + nameSuffix)
        if case .object(var ck)? = newRoot["checkpoint"] {
            let absolute = outDir.hasPrefix("/") ? outDir : FileManager.default.currentDirectoryPath + "/" + outDir
            ck["dir"] = .string(((absolute as NSString).standardizingPath as NSString).appendingPathComponent("finetune"))
            newRoot["checkpoint"] = .object(ck)
        }
        return newRoot
    }
}
