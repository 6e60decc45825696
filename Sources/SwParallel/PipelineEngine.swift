import SwComm
import SwNN
import SwTensor

/// The order in which a stage runs its micro-batches' forward and backward passes.
public enum PipelineSchedule: String, CaseIterable, Sendable {
    /// GPipe: every forward, then every backward (fill, drain). Keeps all m micro-batches'
    /// activations alive at once.
    case gpipe
    /// 1F1B (PipeDream-Flush): after s - stage - 1 warm-up forwards, one forward then one
    /// backward; at most s - stage micro-batches are alive on a stage.
    case oneFOneB = "1f1b"
}

/// What one pipelined step cost this stage.
public struct PipelineStats: Sendable {
    /// Time in forward compute (with the loss, on the last stage).
    public var forwardSeconds = 0.0
    /// Time in backward compute.
    public var backwardSeconds = 0.0
    /// Time in forward and backward compute (the stage was busy).
    public var busySeconds: Double { forwardSeconds + backwardSeconds }
    /// Wall time of the whole schedule, waits included.
    public var wallSeconds = 0.0
    /// The most micro-batches whose activations were alive at once on this stage.
    public var peakInFlight = 0

    public init(forwardSeconds: Double = 0, backwardSeconds: Double = 0, wallSeconds: Double = 0, peakInFlight: Int = 0) {
        self.forwardSeconds = forwardSeconds
        self.backwardSeconds = backwardSeconds
        self.wallSeconds = wallSeconds
        self.peakInFlight = peakInFlight
    }
    /// 1 - busy / wall: the share of the step this stage sat idle (the bubble).
    public var bubbleFraction: Double { wallSeconds > 0 ? max(0, 1 - busySeconds / wallSeconds) : 0 }
    /// The theoretical bubble of a balanced pipeline: (s - 1) / (m + s - 1).
    public static func idealBubble(stages s: Int, microBatches m: Int) -> Double { Double(s - 1) / Double(m + s - 1) }
}

/// Runs one stage of a pipeline: its slice of the layers on micro-batches, receiving
/// activations from the previous stage and gradients from the next over the pipeline
/// communicator (rank i = stage i), with non-blocking sends and blocking receives, so neither
/// schedule can deadlock.
///
/// Each in-flight micro-batch needs its own activations, so the engine holds `slots` copies of
/// the stage's layers sharing one set of parameters and gradients (build each copy's network
/// with `ParameterStore(root:sharingWith:)`): m copies for GPipe, min(m, s - stage) for 1F1B.
/// Micro-batch j runs on copy j % slots; gradients of all micro-batches accumulate in the
/// shared buffer.
public final class PipelineEngine {
    public let stage: Int
    public let stages: Int
    public let microBatches: Int
    public let microBatchSize: Int
    public let schedule: PipelineSchedule
    let comm: any Communicator
    let copies: [Sequential]
    let inputShape: [Int], outputShape: [Int]
    let receivedInputs: [Tensor]
    let receivedGradients: [Tensor]
    let lossGradients: [Tensor]
    let forwardSends: [CommRequest]
    let backwardSends: [CommRequest]

    /// How many copies of the stage's layers `schedule` needs.
    public static func slots(schedule: PipelineSchedule, stage: Int, stages: Int, microBatches: Int) -> Int {
        schedule == .gpipe ? microBatches : min(microBatches, stages - stage)
    }

    /// `copies` are the stage's layers, `slots(...)` times, each over shared parameters.
    public init(stage: Int, stages: Int, microBatches: Int, microBatchSize: Int, schedule: PipelineSchedule,
                comm: any Communicator, copies: [Sequential]) {
        precondition(copies.count == PipelineEngine.slots(schedule: schedule, stage: stage, stages: stages, microBatches: microBatches))
        self.stage = stage
        self.stages = stages
        self.microBatches = microBatches
        self.microBatchSize = microBatchSize
        self.schedule = schedule
        self.comm = comm
        self.copies = copies
        inputShape = copies[0].inputShape
        outputShape = copies[0].outputShape
        for c in copies { c.needsInputGradient = stage > 0 }
        let n = copies.count
        receivedInputs = stage > 0 ? (0..<n).map { _ in Tensor(zeros: [microBatchSize] + copies[0].inputShape) } : []
        receivedGradients = stage < stages - 1 ? (0..<n).map { _ in Tensor(zeros: [microBatchSize] + copies[0].outputShape) } : []
        lossGradients = stage == stages - 1 ? (0..<n).map { _ in Tensor(zeros: [microBatchSize] + copies[0].outputShape) } : []
        forwardSends = (0..<n).map { _ in CommRequest() }
        backwardSends = (0..<n).map { _ in CommRequest() }
    }

    /// Forward and backward of every micro-batch of one step.
    /// - `input(j)`: micro-batch j's inputs `(microBatchSize, input...)`; called on stage 0 only.
    /// - `loss(j, output, gradient)`: on the last stage only; returns the loss sum of micro-batch
    ///   j and writes the loss gradient with respect to `output` into `gradient`.
    /// Returns the loss sum (0 on other stages) and this stage's timing.
    public func step(input: (Int) -> Tensor, loss: (Int, Tensor, Tensor) throws -> Double) throws -> (loss: Double, stats: PipelineStats) {
        var stats = PipelineStats()
        let start = monotonicSeconds()
        var lossSum = 0.0
        var inFlight = 0
        func forward(_ j: Int) throws {
            let slot = j % copies.count
            let x: Tensor
            if stage == 0 {
                x = input(j)
            } else {
                x = receivedInputs[slot]
                try comm.recv(x.buffer, from: stage - 1, tag: 2 * j)
            }
            try forwardSends[slot].wait()              // the output buffer is about to be rewritten
            let t = monotonicSeconds()
            let out = copies[slot].forward(x, training: true)
            if stage == stages - 1 {
                lossSum += try loss(j, out, lossGradients[slot])
            }
            stats.forwardSeconds += monotonicSeconds() - t
            if stage < stages - 1 {
                try comm.isend(UnsafeBufferPointer(out.buffer), to: stage + 1, tag: 2 * j, into: forwardSends[slot])
            }
            inFlight += 1
            stats.peakInFlight = max(stats.peakInFlight, inFlight)
        }
        func backward(_ j: Int) throws {
            let slot = j % copies.count
            let dy: Tensor
            if stage == stages - 1 {
                dy = lossGradients[slot]
            } else {
                dy = receivedGradients[slot]
                try comm.recv(dy.buffer, from: stage + 1, tag: 2 * j + 1)
            }
            try backwardSends[slot].wait()             // the input-gradient buffer is about to be rewritten
            let t = monotonicSeconds()
            let dx = copies[slot].backward(dy)
            stats.backwardSeconds += monotonicSeconds() - t
            if stage > 0 {
                try comm.isend(UnsafeBufferPointer(dx.buffer), to: stage - 1, tag: 2 * j + 1, into: backwardSends[slot])
            }
            inFlight -= 1
        }
        let m = microBatches
        switch schedule {
        case .gpipe:
            for j in 0..<m { try forward(j) }
            for j in (0..<m).reversed() { try backward(j) }
        case .oneFOneB:
            let warmup = min(stages - stage - 1, m)
            for j in 0..<warmup { try forward(j) }
            for k in 0..<(m - warmup) {
                try forward(warmup + k)
                try backward(k)
            }
            for j in (m - warmup)..<m { try backward(j) }
        }
        for r in forwardSends { try r.wait() }
        for r in backwardSends { try r.wait() }
        stats.wallSeconds = monotonicSeconds() - start
        return (lossSum, stats)
    }
}
