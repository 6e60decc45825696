import SwTensor

/// A `GradientSync` whose parameters and gradients live in one node's shared windows
/// (`SharedMemorySync`): `NodeSharedZeRO1` and `NodeWeightGradientSync`. The extension gives
/// them the parts that only read `shared`: the buffers, the node leader as the state writer,
/// the gradient norm summed over the node, and publishing through the node barrier.
public protocol NodeSharedGradientSync: GradientSync {
    /// The node-shared buffers.
    var shared: SharedMemorySync { get }
}

extension NodeSharedGradientSync {
    public var parameters: Tensor { shared.parameters }
    public var gradients: Tensor { shared.gradients }
    public var writesSharedState: Bool { shared.isNodeLeader }

    public func totalSquaredNorm(_ local: Double) throws -> Double {
        try shared.node.allReduce(local, op: .sum)
    }

    public func publishParameters() throws -> Double {
        let t0 = monotonicSeconds()
        try shared.publishParameters()
        let t1 = monotonicSeconds()
        timeline.add(.parameterBarrier, start: t0, end: t1)
        return t1 - t0
    }

    public func publishState() throws { try shared.publishParameters() }
}
