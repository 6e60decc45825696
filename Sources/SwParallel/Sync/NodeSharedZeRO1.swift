import SwComm
import SwNN
import SwOptim
import SwTensor

/// ZeRO stage 1 inside a node (`parallel.sync` "shared_memory", or "auto" with several ranks on
/// a node): one copy of the parameters and optimizer state per node in `SharedMemorySync`'s
/// windows; each rank updates its shard from every local rank's gradient buffer.
///
/// `finishGradients(summed: false)` on one node is one barrier: the update then reads the
/// node's gradient buffers in place (one piece, the shard, summing `sources` in local-rank
/// order). With `summed` (L1/L2 or clipping) or across nodes, the shard of the node's buffers is
/// first summed into this rank's buffer and, across nodes, all-reduced with the same shard of
/// the other nodes; the piece's gradient is then this rank's buffer alone. The gradient norm is
/// summed over the node (its shards partition the model; other nodes hold the same sums).
/// `publishParameters` is the barrier after the update.
public final class NodeSharedZeRO1: NodeSharedGradientSync {
    /// The node groups (kept for `rebuilt`).
    public let groups: (node: any Communicator, crossNode: (any Communicator)?)
    /// The node-shared buffers.
    public let shared: SharedMemorySync
    public let ownedRanges: [Range<Int>]
    public var observesBackward: Bool { false }
    public var hasComputedBlocks: Bool { false }
    public var bytesLastStep: Int { shared.bytesPerStep }
    public let timeline = ExchangeTimeline()
    public private(set) var updates: [GradientUpdate]
    private let fused: [GradientUpdate], summedPieces: [GradientUpdate]

    /// Allocates the node's windows for `model`'s layout with room for `stateBuffers`
    /// optimizer state buffers. Collective over the node. Call `adopt(model)` next.
    public init(groups: (node: any Communicator, crossNode: (any Communicator)?), model: Model, stateBuffers: Int) throws {
        self.groups = groups
        let s = try SharedMemorySync(groups: groups, count: model.parameters.count, stateBuffers: stateBuffers)
        shared = s
        fused = [GradientUpdate(range: s.shard, parameters: s.parameters, sources: s.sources, accumulator: s.gradients)]
        summedPieces = [GradientUpdate(range: s.shard, parameters: s.parameters, sources: s.summed)]
        updates = fused
        ownedRanges = [s.shard]
    }

    public func adopt(_ model: Model) throws {
        try shared.adopt(model)
    }

    public func makeStateBuffer(count: Int) -> Tensor { shared.allocateState(count) }
    public func backwardProgress(finalFrom offset: Int) throws {}

    public func finishGradients(summed: Bool) throws -> Double {
        timeline.reset()
        var t0 = monotonicSeconds()
        try shared.waitForGradients()
        var t1 = monotonicSeconds()
        timeline.add(.gradientBarrier, start: t0, end: t1)
        var wait = t1 - t0
        if !summed && shared.crossNode == nil {
            updates = fused
            return wait
        }
        sumGradients(shared.sources, into: shared.gradients, range: shared.shard, zeroOthers: true)
        t0 = monotonicSeconds()
        timeline.add(.shardSum, start: t1, end: t0)
        try shared.reduceAcrossNodes()
        t1 = monotonicSeconds()
        if shared.crossNode != nil { timeline.add(.crossNode, start: t0, end: t1) }
        wait += t1 - t0
        updates = summedPieces
        return wait
    }

    public func forEachComputedBlock(prefetching: [Tensor], _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {}

    public func detach() {}

    public func rebuilt(for model: Model, stateBuffers: Int) throws -> any GradientSync {
        try NodeSharedZeRO1(groups: groups, model: model, stateBuffers: stateBuffers)
    }
}

extension SharedMemorySync {
    /// Copies `model`'s parameter values into `parameters` (local rank 0 writes, a barrier
    /// publishes them) and binds the model's layers to `parameters` and this rank's `gradients`.
    /// Collective over the node.
    func adopt(_ model: Model) throws {
        precondition(model.parameters.count == count, "SharedMemorySync: built for \(count) parameters, the model has \(model.parameters.count)")
        if isNodeLeader { _ = parameters.buffer.update(from: model.parameters.values.buffer) }
        try publishParameters()
        model.useBuffers(values: parameters, gradients: gradients)
    }
}
