import Foundation
import SwComm
import SwNN
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
        if usesNodeWeightGradients(s) { try setUpNodeWeightGradients(s) }
    }

    /// Whether the dense layers' weight gradients are computed once per node, by rows
    /// (`parallel.weight_gradients` "auto"): when the summed gradient goes straight to the
    /// optimizer, that is one micro-batch per step, no clipping, no L1/L2 and one node (across
    /// nodes the gradients must be all-reduced before the update). Only with shared memory, so
    /// with two or more ranks on the node: a process alone gains nothing from it (dense1024 with
    /// the path forced at one rank: 12.7-13.5 against 12.7-13.3 ms, three alternating runs; the
    /// staging copy and the moved GEMMs cost what the gradient buffer's traffic saved).
    func usesNodeWeightGradients(_ s: SharedMemorySync) -> Bool {
        config.parallel.weightGradients == "auto" && s.crossNode == nil && regularization.isZero
            && config.training.gradClip == nil && config.training.accumulationSteps == 1
            && model.network.allLayers().contains { $0.layer is Dense }
    }

    /// Stages every dense layer for `NodeWeightGradients` and finds the rest of this rank's
    /// shard. Collective over the node.
    func setUpNodeWeightGradients(_ s: SharedMemorySync) throws {
        let params = model.parameters
        let localBatch = (config.training.batchSize + topology.dataParallelSize - 1) / topology.dataParallelSize
        var layers: [(layer: Dense, weightOffset: Int, biasOffset: Int?, rowsPerRank: Int)] = []
        for (name, layer) in model.network.allLayers() {
            guard let d = layer as? Dense, let w = params.entry(name + ".weight") else { continue }
            let rowsPerSample = Tensor.elementCount(d.inputShape) / d.inFeatures
            layers.append((d, w.offset, params.entry(name + ".bias")?.offset, localBatch * rowsPerSample))
        }
        let wg = try NodeWeightGradients(sync: s, layers: layers)
        wg.attach()
        nodeWeightGradients = wg
        updatedBuffers = [s.parameters] + optimizer.stateTensors.map(\.tensor)
        var rest = [s.shard]
        for r in wg.ranges {
            rest = rest.flatMap { piece -> [Range<Int>] in
                let cut = piece.clamped(to: r)
                guard !cut.isEmpty else { return [piece] }
                return [piece.lowerBound..<cut.lowerBound, cut.upperBound..<piece.upperBound].filter { !$0.isEmpty }
            }
        }
        sharedRest = rest
    }

    /// The end of a step with node weight gradients: wait for the node's staging and gradients,
    /// then compute this rank's rows of every dense layer's gradient a block at a time and
    /// update each block at once; sum and update the rest of the shard from the per-rank
    /// buffers; publish the parameters. One optimizer step, applied in pieces.
    func finishNodeWeightGradientStep(_ s: SharedMemorySync, _ wg: NodeWeightGradients, lr: Float,
                                      times: inout StepTimes) throws {
        var t0 = monotonicSeconds()
        try s.waitForGradients()
        var t1 = monotonicSeconds()
        times.commWait += t1 - t0
        t0 = t1
        optimizer.stepCount += 1
        var updating = 0.0
        wg.forEachBlock(prefetching: updatedBuffers) { range, gradient in
            let u0 = monotonicSeconds()
            optimizer.update(parameters: s.parameters, gradient: gradient, lr: lr, range: range, zeroGradient: false)
            updating += monotonicSeconds() - u0
        }
        for r in sharedRest {
            sumGradients(s.sources, into: s.gradients, range: r, zeroOthers: true)
            optimizer.update(parameters: s.parameters, gradient: s.gradients.pointer + r.lowerBound, lr: lr, range: r,
                             zeroGradient: true)
        }
        t1 = monotonicSeconds()
        // The weight-gradient GEMMs are backward's work, moved here; the updates are the optimizer's.
        times.backward += t1 - t0 - updating
        times.optimizer += updating
        t0 = t1
        try s.publishParameters()
        times.commWait += monotonicSeconds() - t0
    }

    /// Bytes this rank reads from its peers per step with shared memory.
    func sharedBytesPerStep(_ s: SharedMemorySync) -> Int {
        guard let wg = nodeWeightGradients else { return s.bytesPerStep }
        let rest = sharedRest.reduce(0) { $0 + $1.count }
        return wg.bytesPerStep + rest * (s.node.size - 1) * MemoryLayout<Float>.stride
    }

    /// The end of a step with shared memory: wait for the node's gradients, reduce and update
    /// this rank's shard (zeroing the gradients it read), publish the parameters.
    func finishSharedStep(_ s: SharedMemorySync, lr: Float, times: inout StepTimes) throws {
        if let wg = nodeWeightGradients {
            return try finishNodeWeightGradientStep(s, wg, lr: lr, times: &times)
        }
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
