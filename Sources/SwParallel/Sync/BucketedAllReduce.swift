import SwComm
import SwNN
import SwTensor

/// Gradients all-reduced in buckets over the data-parallel group (`parallel.sync` "allreduce",
/// or "auto" with one rank per node), in the model's own buffers. Two modes of one type:
/// - blocking (`overlapped: false`): nothing happens during backward; `finishGradients`
///   reduces the whole buffer in one blocking all-reduce (on one node Open MPI's blocking
///   all-reduce beats its non-blocking one, see `DataParallelSync.finish`);
/// - overlapped (`overlapped: true`): each bucket's `MPI_Iallreduce` starts as soon as
///   backward has made it final (`backwardProgress`), MPI_Test is polled after every layer,
///   and `finishGradients` waits for the rest.
///
/// Every rank then holds the sum of all ranks' gradients over the whole buffer and updates
/// all of it (one piece, `0..<count`); the gradient norm is local.
public final class BucketedAllReduce: GradientSync {
    /// The data-parallel group.
    public let communicator: any Communicator
    /// Whether buckets start during backward.
    public let overlapped: Bool
    /// The bucket cap in MiB (`parallel.bucket_mb`; bucket 0 at most 1 MiB).
    public let bucketMB: Double
    public let parameters: Tensor
    public let gradients: Tensor
    public let updates: [GradientUpdate]
    public let ownedRanges: [Range<Int>]
    public var writesSharedState: Bool { true }
    public var observesBackward: Bool { overlapped }
    public var hasComputedBlocks: Bool { false }
    public private(set) var bytesLastStep = 0
    public let timeline = ExchangeTimeline()
    /// The bucket reducer.
    public let reducer: DataParallelSync
    private var bytesAtLastFinish = 0

    /// Buckets over `model`'s gradient buffer.
    public init(model: Model, communicator: any Communicator, bucketMB: Double, overlapped: Bool) {
        self.communicator = communicator
        self.overlapped = overlapped
        self.bucketMB = bucketMB
        let store = model.parameters
        parameters = store.values
        gradients = store.gradients
        reducer = DataParallelSync(gradients: gradients, communicator: communicator, bucketMB: bucketMB,
                                   firstBucketMB: min(1, bucketMB), average: false)
        ownedRanges = [0..<store.count]
        updates = [GradientUpdate(range: 0..<store.count, parameters: parameters, sources: store.gradientSources)]
    }

    public func adopt(_ model: Model) throws {
        precondition(model.parameters.values === parameters, "BucketedAllReduce: built for another parameter store")
    }

    public func makeStateBuffer(count: Int) -> Tensor { Tensor(zeros: [count]) }

    public func backwardProgress(finalFrom offset: Int) throws {
        try reducer.markReady(upTo: offset)
        try reducer.poll()
    }

    public func finishGradients(summed: Bool) throws -> Double {
        let t0 = monotonicSeconds()
        try reducer.finish()
        timeline.reset()
        timeline.addBuckets(of: reducer)
        let total = reducer.metrics.bytesReduced
        bytesLastStep = total - bytesAtLastFinish
        bytesAtLastFinish = total
        return monotonicSeconds() - t0
    }

    public func forEachComputedBlock(prefetching: [Tensor], _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {}
    public func totalSquaredNorm(_ local: Double) throws -> Double { local }
    public func publishParameters() throws -> Double { 0 }
    public func publishState() throws {}
    public func detach() {}

    public func rebuilt(for model: Model, stateBuffers: Int) throws -> any GradientSync {
        BucketedAllReduce(model: model, communicator: communicator, bucketMB: bucketMB, overlapped: overlapped)
    }
}
