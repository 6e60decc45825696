import SwNN
import SwOptim
import SwTensor

extension OptimizerStateCarry {
    /// Every state buffer moved element for element through `remap` (the map a model rewrite
    /// returned): carried elements keep their momentum or Adam moments, fresh ones start at
    /// zero. The step count carries over.
    public static func remapping(_ remap: ParameterRemap) -> OptimizerStateCarry {
        OptimizerStateCarry { old, _, new, _ in
            new.stepCount = old.stepCount
            for ((_, from), (_, to)) in zip(old.stateTensors, new.stateTensors) {
                remap.apply(from: from, to: to)
            }
        }
    }
}

extension Trainer {
    /// Rewrites the live model between steps: `transform(path, layer)` returns a replacement for
    /// the layer at `path` ("2", "3.attn.qkv") or nil to keep it (see `Model.rewrite`). Tensors
    /// that keep their name and shape keep their values and optimizer state; new ones take the
    /// replacement layer's values (or a fresh initialisation from `seed`, default the config's)
    /// and zero optimizer state. Then the gradient sync, the optimizer and any pipeline copies
    /// are rebuilt for the new layout (`rebuildAfterModelChange`), so training goes on at once.
    ///
    /// A compression pass needs nothing else from the trainer. Collective: every rank makes the
    /// same rewrite at the same step. A rewrite that breaks the chain of shapes is a `RewriteError` and changes nothing;
    /// checkpoints written afterwards hold the new architecture (`config.model` no longer
    /// describes it), so the pass that rewrote it must also say how to rebuild it on resume.
    @discardableResult
    public func rewriteModel(seed: UInt64? = nil,
                             _ transform: (_ path: String, _ layer: any Layer) throws -> (any Layer)?) throws -> ParameterRemap {
        let remap = try model.rewrite(seed: seed ?? config.seed, transform)
        try rebuildAfterModelChange(carrying: .remapping(remap), stageCopy: { $0.replicaSharingParameters() })
        return remap
    }
}
