import Foundation
import SwComm
import SwOptim
import SwParallel
import SwTensor

/// Data parallelism through node-shared memory (`parallel.sync`): one copy of the parameters
/// and optimizer state per node, each rank reducing and updating its shard (see
/// `SharedMemorySync`).
extension Trainer {
    /// Whether this run combines gradients through node-shared memory: `parallel.sync`
    /// "shared_memory", or "auto" with more than one data-parallel rank and no pipeline.
    /// "auto" picks it over the bucketed all-reduce because on a node it reads the peers'
    /// gradients in place instead of copying them twice, and shards the optimizer pass
    /// (dense1024 at np=2: see README, "Data parallel").
    var usesSharedMemorySync: Bool {
        let p = config.parallel
        guard p.pipelineStages == 1, comm.size > 1 else { return false }
        return p.sync != "allreduce"
    }

    /// Moves the parameters, gradients and optimizer state into node-shared memory (collective;
    /// after the parameters were broadcast). With one rank per node there is nothing to share:
    /// the bucketed all-reduce stays.
    func setUpSharedMemory() throws {
        let params = model.parameters
        let stateBuffers = optimizer.stateTensors.count
        let groups = try SharedMemorySync.groups(dataParallel: comm,
                                                 ranksPerNode: config.parallel.ranksPerNode.map { min($0, comm.size) })
        if groups.node.size == 1 && config.parallel.sync == "auto" { return }
        let s = try SharedMemorySync(groups: groups, count: params.count, stateBuffers: stateBuffers)
        if s.isNodeLeader { _ = s.parameters.buffer.update(from: params.values.buffer) }
        try s.publishParameters()
        model.useBuffers(values: s.parameters, gradients: s.gradients)
        optimizer = Builders.optimizer(config.optimizer, count: params.count, allocate: s.allocateState)
        shared = s
    }

    /// The end of a step with shared memory: wait for the node's gradients, reduce and update
    /// this rank's shard (zeroing the gradients it read), publish the parameters.
    func finishSharedStep(_ s: SharedMemorySync, lr: Float, times: inout StepTimes) throws {
        var t0 = monotonicSeconds()
        try s.waitForGradients()
        var t1 = monotonicSeconds()
        times.commWait += t1 - t0
        t0 = t1
        let r = s.shard
        let clip = config.training.gradClip
        if s.crossNode == nil && regularization.isZero && clip == nil {
            optimizer.step(parameters: s.parameters, summing: s.sources, lr: lr, range: r, zeroSources: true)
        } else {
            sumGradients(s.sources, into: s.gradients, range: r, zeroOthers: true)
            t1 = monotonicSeconds()
            try s.reduceAcrossNodes()
            let t2 = monotonicSeconds()
            times.commWait += t2 - t1
            t0 += t2 - t1   // the optimizer's time leaves the cross-node wait out
            let g = s.shardGradients
            if !regularization.isZero { _ = regularization.apply(parameters: s.shardParameters, gradients: g) }
            if let clip {
                // The node's shards partition the buffer (other nodes hold the same sums).
                let squared = try s.node.allReduce(GradClip.squaredNorm(g), op: .sum)
                if let c = GradClip.coefficient(norm: squared.squareRoot(), maxNorm: Float(clip)) {
                    GradClip.scale(g, by: c)
                }
            }
            optimizer.step(parameters: s.parameters, summing: s.summed, lr: lr, range: r, zeroSources: true)
        }
        t1 = monotonicSeconds()
        times.optimizer += t1 - t0
        t0 = t1
        try s.publishParameters()
        times.commWait += monotonicSeconds() - t0
    }
}
