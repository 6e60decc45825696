import SwTensor

/// When each part of a step's gradient exchange started and completed, for the run's trace
/// (`monitor.trace`): every `GradientSync` fills one, whatever its mode.
///
/// | mode | events |
/// |---|---|
/// | `BucketedAllReduce`, `PipelineStageSync` | each bucket's all-reduce (`bucket`, started during backward and seen complete by MPI_Test or the final wait), the rest in one blocking all-reduce (`buckets`) |
/// | `NodeSharedZeRO1` | the node barrier after which every local gradient buffer is final (`gradientBarrier`); with clipping, L1/L2 or several nodes the sum of the node's buffers over this rank's shard (`shardSum`) and the shard's all-reduce across nodes (`crossNode`); the barrier publishing the updated parameters (`parameterBarrier`) |
/// | `NodeWeightGradientSync` | `gradientBarrier`, `parameterBarrier` (the weight gradients formed per node are backward's work, timed in the optimizer phase's blocks) |
///
/// Times are `monotonicSeconds()`. The events of a step are replaced when its exchange
/// begins (`finishGradients`); `parameterBarrier` is added by `publishParameters`. Storage
/// is kept across steps: no allocation once the first step has run.
public final class ExchangeTimeline {
    /// What an event is.
    public enum Kind: Int, Sendable {
        case bucket, buckets, gradientBarrier, shardSum, crossNode, parameterBarrier
    }

    /// One part of the exchange: `first...last` are bucket indices (0 for the others).
    public struct Event: Sendable {
        public var kind: Kind
        public var first: Int, last: Int
        public var start: Double, end: Double
    }

    /// The events of the last step, in the order they were recorded.
    public private(set) var events: [Event] = []

    public init() { events.reserveCapacity(64) }

    /// Starts a step's events.
    public func reset() { events.removeAll(keepingCapacity: true) }

    public func add(_ kind: Kind, first: Int = 0, last: Int = 0, start: Double, end: Double) {
        events.append(Event(kind: kind, first: first, last: last, start: start, end: end))
    }

    /// The step's bucket events from `reducer`'s timestamps (after its `finish()`): buckets
    /// `0..<blockingFrom` one by one, the rest as one blocking all-reduce.
    public func addBuckets(of reducer: DataParallelSync) {
        guard reducer.communicator.size > 1 else { return }
        let n = reducer.bucketStart.count, blocking = reducer.blockingFrom
        for b in 0..<min(blocking, n) { add(.bucket, first: b, last: b, start: reducer.bucketStart[b], end: reducer.bucketDone[b]) }
        if blocking < n {
            add(.buckets, first: blocking, last: n - 1, start: reducer.bucketStart[blocking], end: reducer.bucketDone[blocking])
        }
    }
}
