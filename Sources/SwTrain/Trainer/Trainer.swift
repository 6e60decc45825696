import Foundation
import SwComm
import SwConfig
import SwData
import SwNN
import SwOptim
import SwParallel
import SwTensor

/// Runs training as the config says, on one process or as one rank of a data-parallel job.
///
/// One optimizer step (DESIGN.md section 3): for each of `accumulation_steps` micro-steps the
/// sampler gives this rank its slice of the global batch, forward, loss (its gradient scaled
/// by 1 / terms in the global batch, so summing over ranks and micro-steps gives the gradient
/// of the global mean), backward with gradient buckets all-reduced as soon as they are final;
/// then regularization, clipping by global norm, one optimizer pass over the flat buffer.
/// Every buffer is allocated before the first step; the step itself does not allocate.
public final class Trainer {
    public let config: TrainConfig
    public let comm: any Communicator
    public let model: Model
    public internal(set) var optimizer: any Optimizer
    public let schedule: LRSchedule
    public let train: any Dataset
    public let test: (any Dataset)?
    public internal(set) var sampler: Sampler
    public let totalSteps: Int
    /// Completed optimizer steps.
    public internal(set) var step = 0
    /// Samples consumed over all ranks.
    public internal(set) var samplesSeen = 0
    /// The epoch the next batch comes from.
    public var epoch: Int { sampler.state.epoch }

    /// The metrics window to save with the next checkpoint, or the one restored from it.
    var logWindow: TrainerState.LogWindow?
    let regularization: Regularization
    /// Gradient all-reduce over this rank's data-parallel group (over its stage's slice when
    /// pipelined).
    var sync: DataParallelSync
    /// Where this rank sits: pipeline stage and data-parallel replica.
    let topology: Topology
    /// The node-shared buffers and shard, when gradients are combined through shared memory.
    var shared: SharedMemorySync?
    /// The dense layers' weight gradients, computed once per node by rows (with `shared`).
    var nodeWeightGradients: NodeWeightGradients?
    /// This rank's shard minus the ranges `nodeWeightGradients` updates: the parameters whose
    /// gradients still go through the per-rank buffers.
    var sharedRest: [Range<Int>] = []
    /// The parameters and optimizer state, which `nodeWeightGradients` prefetches block by block.
    var updatedBuffers: [Tensor] = []
    /// The pipeline stage this rank runs, when `parallel.pipeline_stages` > 1.
    var pipeline: PipelineStage?
    /// Whether gradient buckets start all-reducing during backward (`parallel.overlap`).
    /// "auto" turns it off when every rank is on this node: there Open MPI's non-blocking
    /// all-reduce costs about twice the blocking one (16 MB: 7.5 vs 3.4 ms, measured) and
    /// its progress runs on the same cores as backward, so one blocking all-reduce after
    /// backward is faster (dense1024 at np=2: 11.0 vs 12.7 ms per step).
    lazy var overlapGradientSync: Bool = {
        if shared != nil { return false }
        switch config.parallel.overlap {
        case "on": return true
        case "off": return false
        default:
            let local = Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? comm.size
            return local < comm.size
        }
    }()
    let x: Tensor, y: Tensor
    var dOut: Tensor?
    let termsPerSample: Int
    let isRoot: Bool

    /// Builds the model, data, optimizer and schedule for `config` on `comm`'s ranks. Every
    /// rank starts from the same parameters (rank 0's, broadcast).
    ///
    /// In a distributed run this is a collective: the ranks first agree that each set up
    /// cleanly (a set-up error met by every rank becomes a `CollectiveFailure` that rank 0
    /// reports), then check that they all run the same config and parameter layout.
    public convenience init(config: TrainConfig, comm: any Communicator) throws {
        do {
            try self.init(setUp: config, comm: comm)
        } catch {
            try Startup.agree(comm, failure: error)
            throw error
        }
        try Startup.agree(comm, failure: nil)
        try Startup.checkConsistency(comm, config: config, model: model)
        try comm.broadcast(model.parameters.values.buffer, root: 0)
        if config.parallel.pipelineStages > 1 { try setUpPipeline() }
        if usesSharedMemorySync { try setUpSharedMemory() }
    }

    /// Splits the world into data-parallel and pipeline groups, plans the stages (printing the
    /// plan on rank 0) and builds this rank's stage (collective).
    func setUpPipeline() throws {
        let (dataComm, pipeComm) = try topology.communicators(world: comm)
        let plan = try PipelineStage.plan(for: self, world: comm)
        if isRoot { print(plan.description) }
        let stage = try PipelineStage(trainer: self, topology: topology, pipelineComm: pipeComm, plan: plan)
        let r = stage.slice
        sync = DataParallelSync(gradients: Tensor(viewing: model.parameters.gradients.pointer + r.lowerBound, shape: [r.count],
                                                  owner: model.parameters.gradients),
                                communicator: dataComm, bucketMB: config.parallel.bucketMB,
                                firstBucketMB: min(1, config.parallel.bucketMB), average: false)
        pipeline = stage
    }

    /// The local part of set-up: no communication.
    init(setUp config: TrainConfig, comm: any Communicator) throws {
        try config.validate(worldSize: comm.size)
        self.config = config
        self.comm = comm
        isRoot = comm.rank == 0
        model = try Model(config: config.model)
        model.initialize(seed: config.seed)
        try InitFrom.apply(to: model)
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
        optimizer = Builders.optimizer(config.optimizer, count: model.parameters.count)
        regularization = Regularization(l1: Float(config.regularization.l1), l2: Float(config.regularization.l2))
        sync = DataParallelSync(gradients: model.parameters.gradients, communicator: comm,
                                bucketMB: config.parallel.bucketMB, firstBucketMB: min(1, config.parallel.bucketMB),
                                average: false)
        let local = (t.batchSize + dp - 1) / dp
        x = Tensor(zeros: [local] + model.inputShape)
        y = Tensor(zeros: [local] + train.targetShape)
        let probe = Tensor(zeros: [1] + model.inputShape)
        termsPerSample = model.loss.terms(outputCount: model.forward(probe, training: false).count)
    }

    /// The outcome of one optimizer step (global figures, identical on every rank).
    public struct StepResult: Sendable {
        public var loss: Double
        public var samples: Int
        public var times: StepTimes
        /// Gradient bytes this rank handed to all-reduce in the step (0 on one process).
        public var commBytes: Int
    }

    /// Runs one optimizer step.
    public func trainStep() throws -> StepResult {
        if let pipeline { return try pipelineStep(pipeline) }
        var times = StepTimes()
        let params = model.parameters
        let accumulation = config.training.accumulationSteps
        var lossSum = 0.0, samples = 0, localSamples = 0
        var syncError: (any Error)?
        let bytesBefore = sync.metrics.bytesReduced
        for micro in 0..<accumulation {
            var t0 = monotonicSeconds()
            let batch = sampler.next()
            let n = batch.indices.count
            if x.rows != n {   // only a short last batch changes the shape
                x.reshape([n] + model.inputShape)
                y.reshape([n] + train.targetShape)
            }
            train.gather(batch.indices, inputs: x, targets: y)
            var t1 = monotonicSeconds()
            times.data += t1 - t0
            t0 = t1
            let out = model.forward(x, training: true)
            let g = Tensor.reuse(dOut, shape: out.shape)
            dOut = g
            let scale = 1 / Float(batch.globalBatchSize * termsPerSample * accumulation)
            let result = model.loss.evaluate(output: out, targets: y, gradient: g, gradientScale: scale)
            lossSum += result.sum
            samples += batch.globalBatchSize
            localSamples += n
            t1 = monotonicSeconds()
            times.forward += t1 - t0
            t0 = t1
            if micro == accumulation - 1 && overlapGradientSync {
                model.backward(g) { offset in
                    do {
                        try sync.markReady(upTo: offset)
                        try sync.poll()
                    } catch {
                        syncError = error
                    }
                }
                if let syncError { throw syncError }
            } else {
                model.backward(g)
            }
            times.backward += monotonicSeconds() - t0
        }
        let lr = schedule.lr(at: step)
        if let shared {
            try finishSharedStep(shared, lr: lr, times: &times)
            return try endStep(lossSum: lossSum, samples: samples, localSamples: localSamples, times: times,
                               commBytes: sharedBytesPerStep(shared))
        }
        var t0 = monotonicSeconds()
        try sync.finish()
        var t1 = monotonicSeconds()
        times.commWait = t1 - t0
        t0 = t1
        if !regularization.isZero { _ = regularization.apply(parameters: params.values, gradients: params.gradients) }
        if let clip = config.training.gradClip {
            _ = clipGradNorm(gradients: params.gradients, maxNorm: Float(clip))
        }
        optimizer.step(parameters: params.values, summing: params.gradientSources, lr: lr, range: 0..<params.count,
                       zeroSources: true)
        t1 = monotonicSeconds()
        times.optimizer = t1 - t0
        return try endStep(lossSum: lossSum, samples: samples, localSamples: localSamples, times: times,
                           commBytes: sync.metrics.bytesReduced - bytesBefore)
    }

    /// Counts the step and checks the loss.
    private func endStep(lossSum: Double, samples: Int, localSamples: Int, times: StepTimes,
                         commBytes: Int) throws -> StepResult {
        step += 1
        samplesSeen += samples
        let localMean = lossSum / Double(max(localSamples * termsPerSample, 1))
        if config.training.stopOnNaN && !localMean.isFinite {
            throw RuntimeError("the loss is \(localMean)\n  hint: lower optimizer.lr, set training.grad_clip, or set training.stop_on_nan false")
        }
        return StepResult(loss: lossSum, samples: samples, times: times, commBytes: commBytes)
    }

    /// Loss and accuracy on `data` (all ranks take part; each evaluates a strided share).
    public func evaluate(_ data: any Dataset, batch: Int = 500) throws -> (loss: Double, accuracy: Double?) {
        // Pipelined: every rank first gets the current parameters of every stage.
        try pipeline?.broadcastSlices([model.parameters.values])
        let mine = Array(stride(from: comm.rank, to: data.count, by: comm.size))
        let ex = Tensor(zeros: [batch] + model.inputShape)
        let ey = Tensor(zeros: [batch] + data.targetShape)
        var sums = [0.0, 0.0, 0.0]   // loss sum, terms, correct
        var start = 0
        while start < mine.count {
            let n = min(batch, mine.count - start)
            ex.reshape([n] + model.inputShape)
            ey.reshape([n] + data.targetShape)
            mine[start..<start + n].withUnsafeBufferPointer { data.gather($0, inputs: ex, targets: ey) }
            let out = model.forward(ex, training: false)
            let r = model.loss.evaluate(output: out, targets: ey, gradient: nil, gradientScale: 0)
            sums[0] += r.sum
            sums[1] += Double(r.terms)
            sums[2] += Double(r.correct ?? 0)
            start += n
        }
        try sums.withUnsafeMutableBufferPointer { try comm.allReduce($0, op: .sum) }
        let isClassification = model.loss is SoftmaxCrossEntropy
        return (sums[0] / max(sums[1], 1), isClassification ? sums[2] / max(sums[1], 1) : nil)
    }

    /// The global mean loss over the steps since the last call (a collective call).
    func reduceLoss(sum: Double, samples: Int) throws -> Double {
        var v = [sum]
        try v.withUnsafeMutableBufferPointer { try comm.allReduce($0, op: .sum) }
        return v[0] / Double(max(samples * termsPerSample, 1))
    }
}
