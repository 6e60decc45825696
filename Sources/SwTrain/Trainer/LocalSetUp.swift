import Foundation
import SwComm
import SwConfig
import SwData
import SwNN
import SwOptim
import SwParallel
import SwTensor

/// The local part of a trainer's set-up (no communication): model, data, sampler, schedule,
/// the batch buffers. A failure here is agreed on by every rank before it is reported.
struct LocalSetUp {
    let model: Model
    let train: any Dataset
    let test: (any Dataset)?
    let topology: Topology
    let sampler: Sampler
    let totalSteps: Int
    let schedule: LRSchedule
    let regularization: Regularization
    /// Samples per step on this data-parallel rank (at most: the global batch rounded up).
    let localBatch: Int
    let x: Tensor, y: Tensor
    let termsPerSample: Int
    /// The `distill` loss term with its teacher, when the config has one.
    let distillation: DistillationLoss?
    /// The `prune` section's events and masks, when the config has one.
    let pruning: GradualPruning?

    init(config: TrainConfig, comm: any Communicator) throws {
        try config.validate(worldSize: comm.size)
        // Test hook: one rank fails its set-up (FailureTests uses it).
        if let r = ProcessInfo.processInfo.environment["SWTRAIN_TEST_FAIL_SETUP_RANK"].flatMap(Int.init), r == comm.rank {
            throw RuntimeError("injected start-up failure")
        }
        model = try Model(config: config.model)
        model.initialize(seed: config.seed)
        model.network.setGEMMPrecision(config.training.precision)
        try InitFrom.apply(to: model)
        if let d = config.distill {
            distillation = try Teacher.hook(d, student: model, config: config)
        } else {
            distillation = nil
        }
        if let p = config.prune { pruning = try GradualPruning(p, model: model, run: config) } else { pruning = nil }
        train = try Builders.dataset(config.data.train, path: "data.train", config: config)
        try Builders.check(train, feeds: model, path: "data.train", config: config)
        if let t = config.data.test {
            let d = try Builders.dataset(t, path: "data.test", config: config)
            try Builders.check(d, feeds: model, path: "data.test", config: config)
            test = d
        } else {
            test = nil
        }
        let t = config.training
        topology = Topology(worldSize: comm.size, stages: config.parallel.pipelineStages, rank: comm.rank)!
        let dp = topology.dataParallelSize
        if t.dropLast && train.count < t.batchSize {
            throw ConfigError(file: config.file, path: "training.batch_size",
                              message: "expected at most the \(train.count) training samples, got \(t.batchSize)")
        }
        sampler = Sampler(datasetCount: train.count, globalBatch: t.batchSize, dataParallelRank: topology.dataParallelRank,
                          dataParallelSize: dp, seed: config.seed, shuffle: true, dropLast: t.dropLast)
        let stepsPerEpoch = max(1, sampler.stepsPerEpoch / t.accumulationSteps)
        totalSteps = t.maxSteps ?? t.epochs * stepsPerEpoch
        schedule = try Builders.schedule(config.schedule, lr: config.optimizer.lr, totalSteps: totalSteps, config: config)
        regularization = Regularization(l1: Float(config.regularization.l1), l2: Float(config.regularization.l2))
        localBatch = (t.batchSize + dp - 1) / dp
        x = Tensor(zeros: [localBatch] + model.inputShape)
        y = Tensor(zeros: [localBatch] + train.targetShape)
        let probe = Tensor(zeros: [1] + model.inputShape)
        termsPerSample = model.loss.terms(outputCount: model.forward(probe, training: false).count)
    }
}

