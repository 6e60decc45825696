import SwComm
import SwNN
import SwTensor

/// A pipeline stage's gradients (`parallel.pipeline_stages` > 1): the slice of the flat buffer
/// its top-level layers own, all-reduced in buckets over the stage's data-parallel group (one
/// blocking all-reduce after the micro-batches), in the model's own buffers. The rank updates
/// only its slice; the gradient norm is summed over the pipeline (each stage holds its slice's
/// part), so clipping sees the whole model's norm.
public final class PipelineStageSync: GradientSync {
    /// The ranks holding the same stage (data-parallel replicas).
    public let dataParallel: any Communicator
    /// The ranks of this rank's pipeline, one per stage.
    public let pipeline: any Communicator
    /// This stage's top-level layers.
    public let layers: Range<Int>
    public let bucketMB: Double
    public let parameters: Tensor
    public let gradients: Tensor
    public let updates: [GradientUpdate]
    /// The flat elements of this stage's layers.
    public let slice: Range<Int>
    public let ownedRanges: [Range<Int>]
    public var writesSharedState: Bool { true }
    public var observesBackward: Bool { false }
    public var hasComputedBlocks: Bool { false }
    public private(set) var bytesLastStep = 0
    public let timeline = ExchangeTimeline()
    private let reducer: DataParallelSync

    /// The stage owning top-level `layers` of `model`.
    public init(model: Model, layers: Range<Int>, dataParallel: any Communicator, pipeline: any Communicator,
                bucketMB: Double) {
        self.dataParallel = dataParallel
        self.pipeline = pipeline
        self.layers = layers
        self.bucketMB = bucketMB
        let store = model.parameters
        let offsets = model.layerOffsets + [store.count]
        slice = offsets[layers.lowerBound]..<offsets[layers.upperBound]
        parameters = store.values
        gradients = store.gradients
        reducer = DataParallelSync(gradients: Tensor(viewing: gradients.pointer + slice.lowerBound, shape: [slice.count],
                                                     owner: gradients),
                                   communicator: dataParallel, bucketMB: bucketMB, firstBucketMB: min(1, bucketMB),
                                   average: false)
        ownedRanges = [slice]
        updates = [GradientUpdate(range: slice, parameters: parameters, sources: store.gradientSources)]
    }

    public func adopt(_ model: Model) throws {
        precondition(model.parameters.values === parameters, "PipelineStageSync: built for another parameter store")
    }

    public func makeStateBuffer(count: Int) -> Tensor { Tensor(zeros: [count]) }
    public func backwardProgress(finalFrom offset: Int) throws {}

    public func finishGradients(summed: Bool) throws -> Double {
        let before = reducer.metrics.bytesReduced
        let t0 = monotonicSeconds()
        try reducer.finish()
        timeline.reset()
        timeline.addBuckets(of: reducer)
        bytesLastStep = reducer.metrics.bytesReduced - before
        return monotonicSeconds() - t0
    }

    public func forEachComputedBlock(prefetching: [Tensor], _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {}

    public func totalSquaredNorm(_ local: Double) throws -> Double {
        try pipeline.allReduce(local, op: .sum)
    }

    public func publishParameters() throws -> Double { 0 }
    public func publishState() throws {}
    public func detach() {}

    public func rebuilt(for model: Model, stateBuffers: Int) throws -> any GradientSync {
        PipelineStageSync(model: model, layers: layers, dataParallel: dataParallel, pipeline: pipeline, bucketMB: bucketMB)
    }
}
