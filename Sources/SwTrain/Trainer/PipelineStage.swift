import Foundation
import SwComm
import SwConfig
import SwData
import SwNN
import SwParallel
import SwTensor

/// A rank's part of a pipeline-parallel run: the stage plan, its pipeline communicator, the
/// engine running its micro-batches, and the slice of the flat buffers its layers own.
///
/// Every rank keeps the full logical model (all parameters and optimizer state), so a
/// checkpoint is the full model whatever the split. Only the rank's own slice is trained;
/// `broadcastSlices` refreshes the other slices from the stages that own them before an
/// evaluation or a save.
final class PipelineStage {
    let topology: Topology
    let comm: any Communicator
    let plan: StagePlan
    let engine: PipelineEngine
    /// The flat ranges of parameters owned by each stage.
    let slices: [Range<Int>]
    /// This rank's slice.
    var slice: Range<Int> { slices[topology.stage] }
    /// Views of micro-batch j's inputs and targets within the rank's local batch.
    let inputViews: [Tensor], targetViews: [Tensor]
    /// The last step's engine figures.
    var stats = PipelineStats()
    /// Bytes of one micro-batch's activations on this stage (layer outputs).
    let activationBytesPerMicroBatch: Int

    /// The stage of `plan` this rank runs, over `model` (the first micro-batch slot) and
    /// copies of it sharing its parameters for the other slots, made by `copy` (by default
    /// built again from `config.model`), with micro-batch views of the batch buffers `x`, `y`.
    init(config: TrainConfig, model: Model, x: Tensor, y: Tensor, topology: Topology, pipelineComm: any Communicator,
         plan: StagePlan, copy: ((Model) throws -> Model)? = nil) throws {
        self.topology = topology
        comm = pipelineComm
        self.plan = plan
        let m = config.parallel.microBatches
        let local = config.training.batchSize / topology.dataParallelSize
        let mb = local / m
        let offsets = model.layerOffsets + [model.parameters.count]
        slices = plan.stages.map { offsets[$0.lowerBound]..<offsets[$0.upperBound] }
        let schedule = config.parallel.schedule
        let slots = PipelineEngine.slots(schedule: schedule, stage: topology.stage, stages: topology.stages, microBatches: m)
        let range = plan.stages[topology.stage]
        let makeCopy = copy ?? { try Model(config: config.model, sharingParametersWith: $0) }
        var copies: [Sequential] = []
        for k in 0..<slots {
            let replica = k == 0 ? model : try makeCopy(model)
            let layers = Array(replica.network.layers[range])
            copies.append(Sequential(layers, inputShape: layers[0].inputShape))
        }
        engine = PipelineEngine(stage: topology.stage, stages: topology.stages, microBatches: m, microBatchSize: mb,
                                schedule: schedule, comm: pipelineComm, copies: copies)
        inputViews = (0..<m).map { x.rows($0 * mb..<($0 + 1) * mb) }
        targetViews = (0..<m).map { y.rows($0 * mb..<($0 + 1) * mb) }
        activationBytesPerMicroBatch = plan.activationBytes(ofStage: topology.stage)
    }

    /// Decides the stage plan: every rank measures (for "time") and the figures are averaged
    /// over the world, so all ranks compute the same plan.
    static func plan(config: TrainConfig, model: Model, train: any Dataset, world: any Communicator) throws -> StagePlan {
        let p = config.parallel
        let layers = model.network.layers.count
        guard p.pipelineStages <= layers else {
            throw ConfigError(file: config.file, path: "parallel.pipeline_stages",
                              message: "expected at most the model's \(layers) top-level layers, got \(p.pipelineStages)")
        }
        let dp = world.size / p.pipelineStages
        let mb = max(1, config.training.batchSize / dp / p.microBatches)
        // The first micro-batch of training data (the same samples on every rank).
        let sample = train.batch(Array(0..<min(mb, train.count))).inputs
        var costs = Partitioner.profile(model.network, gradients: model.parameters.gradients,
                                        input: sample.reshaped([sample.rows] + model.inputShape),
                                        repeats: p.partition == .time ? 5 : 1)
        if p.partition == .time, world.size > 1 {
            var times = costs.flatMap { [$0.forwardSeconds, $0.backwardSeconds] }
            try times.withUnsafeMutableBufferPointer { try world.allReduce($0, op: .sum) }
            for i in costs.indices {
                costs[i].forwardSeconds = times[2 * i] / Double(world.size)
                costs[i].backwardSeconds = times[2 * i + 1] / Double(world.size)
            }
        }
        let stages: [Range<Int>]
        switch p.partition {
        case .time: stages = Partitioner.minMaxSplit(costs.map(\.seconds), parts: p.pipelineStages)
        case .params: stages = Partitioner.minMaxSplit(costs.map { Double($0.parameters) }, parts: p.pipelineStages)
        case .boundaries(let b):
            guard let s = Partitioner.fromBoundaries(b, layers: layers) else {
                throw ConfigError(file: config.file, path: "parallel.partition",
                                  message: "expected increasing layer indices below \(layers), got \(b)")
            }
            stages = s
        }
        return StagePlan(stages: stages, costs: costs)
    }

    /// Copies every stage's slice of `buffers` from the stage that owns it to the other stages
    /// of this pipeline (a collective over the pipeline communicator).
    func broadcastSlices(_ buffers: [Tensor]) throws {
        for (s, r) in slices.enumerated() where !r.isEmpty {
            for b in buffers {
                try comm.broadcast(UnsafeMutableBufferPointer(start: b.pointer + r.lowerBound, count: r.count), root: s)
            }
        }
    }
}
