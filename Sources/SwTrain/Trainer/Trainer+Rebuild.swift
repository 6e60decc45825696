import SwNN
import SwOptim
import SwParallel
import SwTensor

/// How optimizer state moves from the layout before a model change to the layout after it.
///
/// `carry(old, oldLayout, new, newLayout)` runs on the ranks that write shared state (one per
/// node with node-shared buffers) after `new` was built over the new layout with zeroed state;
/// it copies whatever survives and sets `new.stepCount`.
public struct OptimizerStateCarry {
    public let carry: (_ old: any Optimizer, _ oldLayout: [ParameterStore.Entry],
                       _ new: any Optimizer, _ newLayout: [ParameterStore.Entry]) -> Void

    public init(_ carry: @escaping (_ old: any Optimizer, _ oldLayout: [ParameterStore.Entry],
                                    _ new: any Optimizer, _ newLayout: [ParameterStore.Entry]) -> Void) {
        self.carry = carry
    }

    /// Each state buffer's values of every parameter whose name and shape are unchanged; new
    /// or reshaped parameters start from zero state. The step count carries over.
    public static var byName: OptimizerStateCarry {
        OptimizerStateCarry { old, oldLayout, new, newLayout in
            new.stepCount = old.stepCount
            let before = Dictionary(oldLayout.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            for ((_, from), (_, to)) in zip(old.stateTensors, new.stateTensors) {
                for e in newLayout {
                    guard let o = before[e.name], o.shape == e.shape else { continue }
                    (to.pointer + e.offset).update(from: from.pointer + o.offset, count: e.count)
                }
            }
        }
    }
}

extension Trainer {
    /// Rebinds training to the model's new parameter layout after a model change
    /// (`model.parameters` was rebuilt, carrying the values, e.g. by a layer rewrite).
    /// Collective: every rank calls it after the same change, between steps.
    ///
    /// 1. the sync is built again for the new layout, in the same mode over the same
    ///    communicators (node-shared modes allocate new windows and copy the values in;
    ///    per-node weight gradients re-stage the dense layers);
    /// 2. a new optimizer of the configured type is built over it, and `carrying` moves the
    ///    old optimizer's state across (on the ranks that write shared state; then published);
    /// 3. a pipeline stage rebuilds its micro-batch copies with `stageCopy` (a model sharing
    ///    the given model's parameters; required with pipeline stages, since `config.model`
    ///    no longer describes the model).
    /// The model's input and output shapes must not change.
    public func rebuildAfterModelChange(carrying: OptimizerStateCarry = .byName,
                                        stageCopy: ((Model) throws -> Model)? = nil) throws {
        model.network.setGEMMPrecision(config.training.precision)   // new layers start fp32
        if let stage = pipeline {
            guard let stageCopy else {
                throw RuntimeError("rebuildAfterModelChange: a pipeline stage needs stageCopy to rebuild its micro-batch copies")
            }
            batches = try PipelineStage(config: config, model: model, x: x, y: y, topology: topology,
                                        pipelineComm: stage.comm, plan: stage.plan, copy: stageCopy)
        }
        let oldOptimizer = optimizer, oldLayout = layout
        sync.detach()
        let newSync = try sync.rebuilt(for: model, stateBuffers: Builders.stateBufferCount(config.optimizer))
        try newSync.adopt(model)
        let newOptimizer = Builders.optimizer(config.optimizer, count: model.parameters.count,
                                              allocate: { newSync.makeStateBuffer(count: $0) })
        if newSync.writesSharedState { carrying.carry(oldOptimizer, oldLayout, newOptimizer, model.parameters.entries) }
        try newSync.publishState()
        if !newSync.writesSharedState { newOptimizer.stepCount = oldOptimizer.stepCount }
        sync = newSync
        optimizer = newOptimizer
        prefetch = [newSync.parameters] + newOptimizer.stateTensors.map(\.tensor)
        layout = model.parameters.entries
    }
}
