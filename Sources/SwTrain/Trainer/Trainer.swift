import Foundation
import SwComm
import SwConfig
import SwData
import SwNN
import SwOptim
import SwParallel
import SwTensor

/// Runs training as the config says, on one process or as one rank of a distributed job.
///
/// One optimizer step, the same in every mode: `batches` runs the step's micro-batches (the
/// sampler gives this rank its slice of the global batch; forward; the loss, its gradient
/// scaled by 1 / terms in the global batch so that summing over ranks and micro-steps gives
/// the gradient of the global mean, plus the `lossTermHooks`; backward, telling `sync` which
/// gradients are final when it asks); then `ParameterUpdate` finishes the gradient exchange
/// and runs regularization, clipping and the optimizer over the pieces `sync` hands out; the
/// `postUpdateHooks` run; `sync` publishes the parameters. The sync mode (`GradientSync`) is
/// chosen once at set-up from the config (`SyncPlan`). Every buffer is allocated before the
/// first step; the step itself does not allocate.
public final class Trainer {
    public let config: TrainConfig
    public let comm: any Communicator
    public let model: Model
    public internal(set) var optimizer: any Optimizer
    public let schedule: LRSchedule
    public let train: any Dataset
    public let test: (any Dataset)?
    public internal(set) var sampler: Sampler
    /// Per-layer timing of the next step, set by the run's monitor for the steps it traces
    /// with `monitor.trace.layers` (nil otherwise: the model runs untimed).
    var layerTrace: LayerTrace?
    /// Gathers the next batches on a worker thread (`data.prefetch` > 0), else nil.
    let loader: PrefetchingLoader?
    public let totalSteps: Int
    /// Completed optimizer steps.
    public internal(set) var step = 0
    /// Samples consumed over all ranks.
    public internal(set) var samplesSeen = 0
    /// The epoch the next batch comes from.
    public var epoch: Int { sampler.state.epoch }
    /// How gradients are combined (one type per mode, chosen at set-up).
    public internal(set) var sync: any GradientSync
    /// Extra loss terms, called after the model's loss on every micro-batch.
    public var lossTermHooks: [any LossTermHook] = []
    /// Called after every optimizer step, before the parameters are published to peers.
    public var postUpdateHooks: [any PostUpdateHook] = []

    /// The metrics window to save with the next checkpoint, or the one restored from it.
    var logWindow: TrainerState.LogWindow?
    /// Where this rank sits: pipeline stage and data-parallel replica.
    let topology: Topology
    /// Forward, loss and backward of a step: this rank's batch, or its pipeline stage's schedule.
    var batches: any BatchRunner
    /// L1/L2, clipping and the optimizer pass.
    let update: ParameterUpdate
    /// The parameters and the optimizer state (what computed gradient blocks prefetch).
    var prefetch: [Tensor]
    /// The parameter layout `sync` and `optimizer` were built for.
    var layout: [ParameterStore.Entry]
    let x: Tensor, y: Tensor
    var dOut: Tensor?
    let termsPerSample: Int
    let isRoot: Bool
    /// The `distill` hook (also in `lossTermHooks`), whose teacher time the step reports apart.
    let distillation: DistillationLoss?
    /// The `prune` hook (also in `postUpdateHooks`), whose events run between steps.
    let pruning: GradualPruning?

    /// What the process computes with: threads, OpenBLAS threads, kernel path, precision (one line).
    public let threadsLine: String

    /// The pipeline stage this rank runs, when `parallel.pipeline_stages` > 1.
    var pipeline: PipelineStage? { batches as? PipelineStage }

    /// Builds the model, data, gradient sync, optimizer and schedule for `config` on `comm`'s
    /// ranks. Every rank starts from the same parameters (rank 0's, broadcast).
    ///
    /// In a distributed run this is a collective: the ranks first agree that each set up
    /// cleanly (a set-up error met by every rank becomes a `CollectiveFailure` that rank 0
    /// reports), then check that they all run the same config and parameter layout.
    public init(config: TrainConfig, comm: any Communicator) throws {
        threadsLine = Startup.configureThreads(config)
        let local: LocalSetUp
        do {
            local = try LocalSetUp(config: config, comm: comm)
        } catch {
            try Startup.agree(comm, failure: error)
            throw error
        }
        try Startup.agree(comm, failure: nil)
        try Startup.checkConsistency(comm, config: config, model: local.model,
                                     data: [("data.train", local.train)] + (local.test.map { [("data.test", $0)] } ?? []))
        try comm.broadcast(local.model.parameters.values.buffer, root: 0)
        if let d = local.distillation, config.distill?.cacheLogits == true {
            try d.buildCache(data: local.train, comm: comm, chunkRows: local.x.rows)
            if comm.rank == 0, let c = d.cache {
                print("distill: cached the teacher's outputs for \(c.logits.rows) samples (\(c.logits.count * 4 / 1024) KiB) in \(String(format: "%.2f", c.seconds)) s")
            }
        }
        let plan = SyncPlan(config: config, worldSize: comm.size)
        let (sync, stage) = try plan.build(config: config, comm: comm, local: local)
        try sync.adopt(local.model)
        let optimizer = Builders.optimizer(config.optimizer, count: local.model.parameters.count,
                                           allocate: { sync.makeStateBuffer(count: $0) })
        self.config = config
        self.comm = comm
        isRoot = comm.rank == 0
        model = local.model
        train = local.train
        test = local.test
        topology = local.topology
        sampler = local.sampler
        loader = config.data.prefetch > 0
            ? PrefetchingLoader(dataset: local.train, batchRows: local.x.rows, inputShape: local.model.inputShape,
                                depth: config.data.prefetch)
            : nil
        totalSteps = local.totalSteps
        schedule = local.schedule
        x = local.x
        y = local.y
        termsPerSample = local.termsPerSample
        update = ParameterUpdate(regularization: local.regularization, gradClip: config.training.gradClip.map(Float.init))
        self.sync = sync
        self.optimizer = optimizer
        prefetch = [sync.parameters] + optimizer.stateTensors.map(\.tensor)
        layout = local.model.parameters.entries
        batches = stage ?? LocalBatches()
        distillation = local.distillation
        if let d = local.distillation { lossTermHooks.append(d) }
        pruning = local.pruning
        if let p = local.pruning { postUpdateHooks.append(p) }
        if let q = config.quantization, q.aware {
            postUpdateHooks.append(QuantizationAwareTraining(model: local.model, config: q, comm: comm))
        }
        TestHooks.install(on: self)
    }

    /// The outcome of one optimizer step (global figures, identical on every rank).
    public struct StepResult: Sendable {
        public var loss: Double
        public var samples: Int
        public var times: StepTimes
        /// Gradient bytes this rank exchanged in the step (0 on one process).
        public var commBytes: Int
    }

    /// Runs one optimizer step.
    public func trainStep() throws -> StepResult {
        var times = StepTimes()
        if step == 0, let p = pruning {   // an event at set-up (start_step 0), on the starting weights
            let t0 = monotonicSeconds()
            try p.beforeFirstStep(self)
            times.optimizer += monotonicSeconds() - t0
        }
        let pass = try batches.run(self, times: &times)
        if let d = distillation {   // the teacher ran inside the loss: report it as its own phase
            times.teacher = d.teacherSeconds
            times.forward -= d.teacherSeconds
            d.teacherSeconds = 0
        }
        try update.run(sync, optimizer, lr: schedule.lr(at: step), prefetch: prefetch, times: &times)
        step += 1
        if !postUpdateHooks.isEmpty {
            let t0 = monotonicSeconds()
            let ranges = sync.ownedRanges
            for h in postUpdateHooks { try h.afterUpdate(step: step, parameters: model.parameters, ranges: ranges) }
            times.optimizer += monotonicSeconds() - t0
        }
        times.commWait += try sync.publishParameters()
        if let p = pruning {   // the event of this step, on the published (synchronized) parameters
            let t0 = monotonicSeconds()
            try p.afterStep(self)
            times.optimizer += monotonicSeconds() - t0
        }
        samplesSeen += pass.samples
        if config.training.stopOnNaN && !pass.lossSum.isFinite {
            let localMean = pass.lossSum / Double(max(pass.localTerms, 1))
            throw RuntimeError("the loss is \(localMean)\n  hint: lower optimizer.lr, set training.grad_clip, or set training.stop_on_nan false")
        }
        return StepResult(loss: pass.lossSum, samples: pass.samples, times: times, commBytes: sync.bytesLastStep)
    }

    /// The model's loss on one micro-batch plus the loss-term hooks' terms (their gradients
    /// added to `gradient`, scaled by `scale`). Returns the summed loss.
    func loss(input: Tensor, output: Tensor, targets: Tensor, gradient: Tensor, scale: Float) -> Double {
        var sum = model.loss.evaluate(output: output, targets: targets, gradient: gradient, gradientScale: scale).sum
        for h in lossTermHooks {
            sum += h.addLossTerm(input: input, output: output, targets: targets, outputGradient: gradient, gradientScale: scale)
        }
        return sum
    }

    /// Loss and accuracy on `data` (all ranks take part; each evaluates a strided share), in
    /// batches of `batch` samples; by default this rank's training batch, so evaluation runs
    /// in the activation buffers training already holds (a larger batch would grow every
    /// layer's buffers, and they would stay that large for the rest of the run).
    public func evaluate(_ data: any Dataset, batch: Int? = nil) throws -> (loss: Double, accuracy: Double?) {
        let batch = max(1, batch ?? x.capacity / max(x.rowSize, 1))
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
