import SwComm
import SwNN
import SwOptim
import SwTensor

/// `NodeSharedZeRO1` with the dense layers' weight gradients formed once per node
/// (`parallel.weight_gradients` "auto", see `NodeWeightGradients`): each dense layer's backward
/// stages its input and output gradient in node-shared memory, and after the barrier this rank
/// computes its rows of every dense weight and bias gradient over the node's batch, block by
/// block (`forEachComputedBlock`), each block updated at once. The rest of the shard (other
/// layers' parameters) keeps the per-rank buffers: one piece per range, summed from the node's
/// buffers into this rank's.
///
/// Only for steps whose summed gradient goes straight to the optimizer: one micro-batch a step,
/// no clipping, no L1/L2, one node (`finishGradients(summed: true)` is a programmer error).
public final class NodeWeightGradientSync: NodeSharedGradientSync {
    public let groups: (node: any Communicator, crossNode: (any Communicator)?)
    public let shared: SharedMemorySync
    /// The staged dense layers.
    public let weightGradients: NodeWeightGradients
    /// Rows (samples times leading dimensions) a rank feeds a dense layer per step, by its
    /// rows per sample.
    public let rowsPerRank: (Dense) -> Int
    /// This rank's rows of every dense layer (weight and bias) and the rest of its shard.
    public let ownedRanges: [Range<Int>]
    public var observesBackward: Bool { false }
    public var hasComputedBlocks: Bool { true }
    public let bytesLastStep: Int
    public let timeline = ExchangeTimeline()
    public let updates: [GradientUpdate]

    /// Allocates the node's windows and every dense layer's staging for `model` and attaches
    /// the layers' sinks. Collective over the node. Call `adopt(model)` next.
    public init(groups: (node: any Communicator, crossNode: (any Communicator)?), model: Model, stateBuffers: Int,
                rowsPerRank: @escaping (Dense) -> Int) throws {
        precondition(groups.crossNode == nil, "NodeWeightGradientSync: one node only")
        self.groups = groups
        self.rowsPerRank = rowsPerRank
        let store = model.parameters
        let s = try SharedMemorySync(groups: groups, count: store.count, stateBuffers: stateBuffers)
        shared = s
        var layers: [(layer: Dense, weightOffset: Int, biasOffset: Int?, rowsPerRank: Int)] = []
        for (name, layer) in model.network.allLayers() {
            guard let d = layer as? Dense, let w = store.entry(name + ".weight") else { continue }
            layers.append((d, w.offset, store.entry(name + ".bias")?.offset, rowsPerRank(d)))
        }
        let wg = try NodeWeightGradients(sync: s, layers: layers)
        wg.attach()
        weightGradients = wg
        var rest = [s.shard]
        for r in wg.ranges {
            rest = rest.flatMap { piece -> [Range<Int>] in
                let cut = piece.clamped(to: r)
                guard !cut.isEmpty else { return [piece] }
                return [piece.lowerBound..<cut.lowerBound, cut.upperBound..<piece.upperBound].filter { !$0.isEmpty }
            }
        }
        updates = rest.map { GradientUpdate(range: $0, parameters: s.parameters, sources: s.sources, accumulator: s.gradients) }
        ownedRanges = (wg.ownRanges + rest).filter { !$0.isEmpty }.sorted { $0.lowerBound < $1.lowerBound }
        let restCount = rest.reduce(0) { $0 + $1.count }
        bytesLastStep = wg.bytesPerStep + restCount * (s.node.size - 1) * MemoryLayout<Float>.stride
    }

    public func adopt(_ model: Model) throws { try shared.adopt(model) }
    public func makeStateBuffer(count: Int) -> Tensor { shared.allocateState(count) }
    public func backwardProgress(finalFrom offset: Int) throws {}

    public func finishGradients(summed: Bool) throws -> Double {
        precondition(!summed, "NodeWeightGradientSync: the summed gradient goes straight to the optimizer")
        timeline.reset()
        let t0 = monotonicSeconds()
        try shared.waitForGradients()
        let t1 = monotonicSeconds()
        timeline.add(.gradientBarrier, start: t0, end: t1)
        return t1 - t0
    }

    public func forEachComputedBlock(prefetching: [Tensor], _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        weightGradients.forEachBlock(prefetching: prefetching, body)
    }

    public func detach() { weightGradients.detach() }

    public func rebuilt(for model: Model, stateBuffers: Int) throws -> any GradientSync {
        detach()
        return try NodeWeightGradientSync(groups: groups, model: model, stateBuffers: stateBuffers, rowsPerRank: rowsPerRank)
    }
}
