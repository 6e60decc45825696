import Foundation
import SwCheckpoint
import SwConfig
import SwNN
import SwTensor

/// Saving and restoring a `Trainer`'s complete state: `model.safetensors` (PyTorch names and
/// layouts), `optimizer.safetensors` (each state buffer split per parameter as
/// `"<parameter>.<state>"`, e.g. `"0.weight.exp_avg"`), `trainer_state.json`, and, when hooks
/// are registered, `hooks.safetensors` (see `HookState`).
extension Trainer {
    /// The model file of a checkpoint folder.
    public static let modelFile = "model.safetensors"
    static let optimizerFile = "optimizer.safetensors"
    static let hooksFile = "hooks.safetensors"

    /// Every registered hook (loss terms first, then post-update hooks).
    var hooks: [any TrainingHook] { lossTermHooks.map { $0 as any TrainingHook } + postUpdateHooks.map { $0 as any TrainingHook } }

    /// The hooks' states as one safetensors file: tensors `"<hook>.<tensor>"`, JSON texts as
    /// metadata under the hook's name.
    func hooksFile() throws -> SafeTensorsWriter {
        var writer = SafeTensorsWriter()
        for h in hooks {
            let state = h.checkpointState()
            writer.metadata[h.name] = state.json
            for (name, tensor) in state.tensors { try writer.add("\(h.name).\(name)", tensor) }
        }
        return writer
    }

    /// Hands every registered hook its state from `checkpoint`'s hooks file.
    func restoreHooks(from checkpoint: Checkpoint) throws {
        let list = hooks
        if list.isEmpty { return }
        let path = checkpoint.filePath(Trainer.hooksFile)
        guard FileManager.default.fileExists(atPath: path) else {
            throw RuntimeError("\(path): missing, but hooks \(list.map(\.name)) are registered\n  hint: resume from a checkpoint written with the same hooks")
        }
        let file = try checkpoint.safetensors(Trainer.hooksFile)
        for h in list {
            guard let json = file.metadata[h.name] else {
                throw RuntimeError("\(path): no state for hook \(h.name) (saved: \(file.metadata.keys.sorted()))\n  hint: resume with the hooks the checkpoint was written with")
            }
            let prefix = h.name + "."
            var tensors: [(name: String, tensor: Tensor)] = []
            for e in file.entries where e.name.hasPrefix(prefix) {
                tensors.append((String(e.name.dropFirst(prefix.count)), try file.tensor(e.name)))
            }
            try h.restore(HookState(tensors: tensors, json: json))
        }
    }

    /// The current state as checkpoint files (views of the flat buffers, no copies).
    func checkpointFiles() throws -> ([String: CheckpointFile], TrainerState) {
        let store = model.parameters
        var modelWriter = SafeTensorsWriter(metadata: ["format": "pt", "step": String(step)])
        for e in store.entries { try modelWriter.add(e.name, store.value(e.name)!) }
        var optWriter = SafeTensorsWriter(metadata: ["optimizer": optimizer.name, "step": String(optimizer.stepCount)])
        for (stateName, buffer) in optimizer.stateTensors {
            for e in store.entries {
                try optWriter.add("\(e.name).\(stateName)",
                                  Tensor(viewing: buffer.pointer + e.offset, shape: e.shape, owner: buffer))
            }
        }
        var rngs: [String: RNG.State] = [:]
        for (name, layer) in model.stochasticLayers { rngs[name] = layer.rng.state }
        let state = TrainerState(step: step, epoch: epoch, samplesSeen: samplesSeen, sampler: sampler.state, rng: rngs,
                                 optimizer: optimizer.name, optimizerSteps: optimizer.stepCount,
                                 nextLR: schedule.lr(at: step), worldSize: comm.size,
                                 dataParallelSize: comm.size / config.parallel.pipelineStages,
                                 pipelineStages: config.parallel.pipelineStages,
                                 configHash: String(config.hash, radix: 16), configName: config.name,
                                 parameters: store.count, logWindow: logWindow)
        var files: [String: CheckpointFile] = [Trainer.modelFile: .safetensors(modelWriter),
                                               Trainer.optimizerFile: .safetensors(optWriter)]
        if !hooks.isEmpty { files[Trainer.hooksFile] = .safetensors(try hooksFile()) }
        return (files, state)
    }

    /// Writes a checkpoint of the current step (rank 0 only; the others have the same state).
    /// Returns the folder written, or nil on other ranks.
    @discardableResult
    public func saveCheckpoint() throws -> String? {
        // Pipelined: rank 0 first gets every stage's parameters and optimizer state.
        try pipeline?.broadcastSlices([model.parameters.values] + optimizer.stateTensors.map(\.tensor))
        guard comm.rank == 0 else { return nil }
        let (files, state) = try checkpointFiles()
        let writer = CheckpointWriter(directory: config.checkpoint.dir, keepLast: config.checkpoint.keepLast)
        return try writer.write(step: step, files: files, state: state)
    }

    /// Restores everything from `checkpoint`: parameters, optimizer state, step, sampler
    /// position and random streams. Names and shapes must match this model exactly.
    public func restore(from checkpoint: Checkpoint) throws {
        let state = try checkpoint.state(as: TrainerState.self)
        guard state.optimizer == optimizer.name else {
            throw RuntimeError("\(checkpoint.filePath("trainer_state.json")): the checkpoint's optimizer is \(state.optimizer), the config's is \(optimizer.name)\n  hint: resume with the same optimizer.type")
        }
        // Structured pruning shrank the model: first give it the checkpoint's architecture.
        try pruning?.structured?.shrinkForResume(self, from: checkpoint)
        let store = model.parameters
        // With node-shared buffers one rank per node writes them; the others wait for it.
        if sync.writesSharedState {
            try model.loadParameters(from: checkpoint.filePath(Trainer.modelFile))
            let optFile = try checkpoint.safetensors(Trainer.optimizerFile)
            for (stateName, buffer) in optimizer.stateTensors {
                for e in store.entries {
                    let view = Tensor(viewing: buffer.pointer + e.offset, shape: e.shape, owner: buffer)
                    try optFile.read("\(e.name).\(stateName)", into: view)
                }
            }
        }
        try sync.publishState()
        try restoreHooks(from: checkpoint)
        optimizer.stepCount = state.optimizerSteps
        for (name, layer) in model.stochasticLayers {
            if let s = state.rng[name] { layer.rng = RNG(state: s) }
        }
        do {
            try sampler.restore(state.sampler)
        } catch {
            // The data or batch changed in a way the saved position cannot follow: a user error.
            throw ConfigError(file: checkpoint.filePath(CheckpointWriter.stateFileName), path: "sampler",
                              message: error.message, hint: error.hint)
        }
        step = state.step
        logWindow = state.logWindow
        samplesSeen = state.samplesSeen
        if state.configHash != String(config.hash, radix: 16), comm.rank == 0 {
            FileHandle.standardError.write(Data("swtrain: note: resuming \(checkpoint.name) with a config that differs from the one it was saved with\n".utf8))
        }
    }
}
