import SwComm
import SwTensor

/// Data-parallel gradient reduction through node-shared memory, with the optimizer sharded over
/// the ranks of each node (ZeRO stage 1 inside a node, no copies).
///
/// Per node there is ONE copy of the parameters and of the optimizer state, in memory every
/// rank of the node maps; each rank accumulates its gradients in its own shared buffer. Rank
/// `r` of a node of `L` ranks owns the shard `shards[r]` of the flat buffer (boundaries on
/// 64-byte lines). One step:
/// ```
/// backward                                   // into `gradients` (this rank's buffer)
/// try sync.waitForGradients()                // barrier: every buffer of the node is final
/// optimizer.step(parameters: sync.parameters, summing: sync.sources, lr: lr,
///                range: sync.shard, zeroSources: true)   // reads the peers' buffers in place
/// try sync.publishParameters()               // barrier: the new parameters are visible
/// ```
/// The gradient of element `i` is `sources[0][i] + sources[1][i] + ...` in local-rank order,
/// the same on every run. Across nodes (`crossNode`, the ranks with the same local rank), each
/// rank first sums its shard into its own buffer (`sumGradients`), all-reduces that shard with
/// its counterparts (`reduceAcrossNodes`) and then updates: every node ends with the same
/// parameters and state, so every node holds a full replica.
///
/// Against a bucketed all-reduce on one node (2 ranks, 8.6 MB of gradients) this removes the
/// two copies through Open MPI's shared-memory transport and halves each rank's optimizer pass.
public final class SharedMemorySync {
    /// The ranks of this node (sharing memory), in data-parallel rank order.
    public let node: any Communicator
    /// The ranks with this rank's local rank on every node; `nil` when the group is one node.
    public let crossNode: (any Communicator)?
    /// Elements in the flat buffers.
    public let count: Int
    /// The node's parameters (one copy per node, shared by its ranks).
    public let parameters: Tensor
    /// This rank's gradient accumulation buffer (in shared memory).
    public let gradients: Tensor
    /// Every local rank's gradient buffer, in local-rank order (`sources[node.rank] === gradients`).
    public let sources: [Tensor]
    /// `[gradients]`: the optimizer's one source once `sumGradients` has summed the node's.
    public let summed: [Tensor]
    /// Each local rank's shard of the flat buffer.
    public let shards: [Range<Int>]
    /// The elements this rank reduces and updates.
    public var shard: Range<Int> { shards[node.rank] }
    /// True on local rank 0, which writes whatever the node holds once (restored checkpoints).
    public var isNodeLeader: Bool { node.rank == 0 }

    /// This rank's shard of `gradients` and of `parameters` (views kept for the clipping and
    /// regularization path, so a step allocates nothing).
    public let shardGradients: Tensor, shardParameters: Tensor

    private let replica: SharedMemory
    private let grads: SharedMemory
    /// Further node buffers (`allocateNodeBuffer`), ordered with the others at each barrier.
    private var extra: [SharedMemory] = []
    /// `count` rounded up to whole 64-byte lines: the stride between buffers in `replica`.
    private let padded: Int
    private let stateCapacity: Int
    private var stateUsed = 0

    /// The node groups of `dataParallel`: the ranks sharing this rank's node (or, with
    /// `ranksPerNode`, consecutive groups of that many ranks, which must still share a node:
    /// for tests and odd launchers) and, across nodes, the ranks with this rank's local rank
    /// (`nil` on one node). Collective over `dataParallel`; throws when nodes run different
    /// numbers of ranks.
    public static func groups(dataParallel: any Communicator, ranksPerNode: Int? = nil) throws
        -> (node: any Communicator, crossNode: (any Communicator)?) {
        let node: any Communicator
        if let k = ranksPerNode {
            precondition(k >= 1 && dataParallel.size % k == 0, "ranksPerNode \(k) must divide \(dataParallel.size)")
            node = try dataParallel.split(color: dataParallel.rank / k, key: dataParallel.rank)
        } else {
            node = try dataParallel.splitByNode()
        }
        var sizes: [Int64] = [Int64(node.size), -Int64(node.size)]
        try sizes.withUnsafeMutableBufferPointer { try dataParallel.allReduce($0, op: .max) }
        if sizes[0] != -sizes[1] {
            throw CommError(rank: dataParallel.worldRank, operation: "shared-memory gradient sync",
                            message: "nodes run different numbers of ranks (\(-sizes[1]) to \(sizes[0])); launch the same number per node or set parallel.sync to \"allreduce\"")
        }
        let cross = node.size < dataParallel.size
            ? try dataParallel.split(color: node.rank, key: dataParallel.rank) : nil
        return (node, cross)
    }

    /// Allocates the shared buffers for `count` parameters and up to `stateBuffers` optimizer
    /// state buffers of the same size over `groups` (from `groups(dataParallel:ranksPerNode:)`).
    /// Collective over the node. Everything starts at 0.
    public init(groups: (node: any Communicator, crossNode: (any Communicator)?), count: Int,
                stateBuffers: Int) throws {
        let node = groups.node
        self.node = node
        crossNode = groups.crossNode
        self.count = count
        let padded = (count + 15) / 16 * 16
        self.padded = padded
        stateCapacity = stateBuffers * padded
        let floatBytes = MemoryLayout<Float>.stride
        let rep = try node.allocateShared(bytes: node.rank == 0 ? (padded + stateCapacity) * floatBytes : 0)
        let gr = try node.allocateShared(bytes: padded * floatBytes)
        if node.rank == 0 { rep.floats(of: 0, count: padded + stateCapacity).initialize(repeating: 0) }
        gr.floats(of: node.rank, count: padded).initialize(repeating: 0)
        replica = rep
        grads = gr
        parameters = Tensor(viewing: rep.floats(of: 0, count: count).baseAddress!, shape: [count], owner: rep)
        sources = (0..<node.size).map { r in
            Tensor(viewing: gr.floats(of: r, count: count).baseAddress!, shape: [count], owner: gr)
        }
        gradients = sources[node.rank]
        summed = [gradients]
        shards = SharedMemorySync.split(count, into: node.size)
        let r = shards[node.rank]
        shardGradients = Tensor(viewing: gradients.pointer + r.lowerBound, shape: [r.count], owner: gradients)
        shardParameters = Tensor(viewing: parameters.pointer + r.lowerBound, shape: [r.count], owner: parameters)
        try publish()
    }

    /// `groups(dataParallel:ranksPerNode:)`, then the buffers. Collective over `dataParallel`.
    public convenience init(dataParallel: any Communicator, count: Int, stateBuffers: Int,
                            ranksPerNode: Int? = nil) throws {
        try self.init(groups: try SharedMemorySync.groups(dataParallel: dataParallel, ranksPerNode: ranksPerNode),
                      count: count, stateBuffers: stateBuffers)
    }

    /// A zeroed, node-shared buffer of `count` floats for optimizer state (the `allocate` hook
    /// of the optimizers). At most `stateBuffers` of them.
    public func allocateState(_ n: Int) -> Tensor {
        precondition(n == count, "SharedMemorySync: state buffers have \(count) elements, asked for \(n)")
        precondition(stateUsed + padded <= stateCapacity, "SharedMemorySync: more optimizer state buffers than reserved")
        let offset = padded + stateUsed
        stateUsed += padded
        return Tensor(viewing: replica.floats(of: 0, offset: offset, count: n).baseAddress!, shape: [n], owner: replica)
    }

    /// A zeroed buffer of `count` floats in node-shared memory, one copy per node (local rank 0
    /// allocates it), 64-byte aligned, ordered by the same barriers as the gradients: what a
    /// rank stores before `waitForGradients` its peers see after it. Collective over the node.
    public func allocateNodeBuffer(floats count: Int) throws -> UnsafeMutablePointer<Float> {
        let m = try node.allocateShared(bytes: isNodeLeader ? count * MemoryLayout<Float>.stride : 0)
        if isNodeLeader { m.floats(of: 0, count: count).initialize(repeating: 0) }
        extra.append(m)
        try publish()
        return m.floats(of: 0, count: count).baseAddress!
    }

    /// Waits until every rank of the node has finished writing its gradients.
    public func waitForGradients() throws { try publish() }

    /// All-reduces (sum) this rank's shard of `gradients` with the same shard on the other
    /// nodes. Does nothing on one node. Call after summing the node's sources into `gradients`.
    public func reduceAcrossNodes() throws {
        guard let crossNode else { return }
        try crossNode.allReduce(shardGradients.buffer, op: .sum)
    }

    /// Waits until every rank of the node has written its shard of the parameters (and zeroed
    /// the gradients it read).
    public func publishParameters() throws { try publish() }

    /// Bytes this rank reads from the other ranks' buffers, plus bytes all-reduced across
    /// nodes, per step.
    public var bytesPerStep: Int {
        let floats = shard.count * (node.size - 1) + (crossNode == nil ? 0 : shard.count)
        return floats * MemoryLayout<Float>.stride
    }

    private func publish() throws {
        try replica.synchronize()
        try grads.synchronize()
        for m in extra { try m.synchronize() }
        try node.barrier()
        try replica.synchronize()
        try grads.synchronize()
        for m in extra { try m.synchronize() }
    }

    /// `count` elements in `parts` contiguous ranges, as equal as 16-element (64-byte) lines allow.
    static func split(_ count: Int, into parts: Int) -> [Range<Int>] {
        let lines = (count + 15) / 16
        var bounds = (0...parts).map { min(count, (lines * $0 / parts) * 16) }
        bounds[parts] = count
        return (0..<parts).map { bounds[$0]..<bounds[$0 + 1] }
    }
}
