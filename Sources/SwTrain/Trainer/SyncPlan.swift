import Foundation
import SwTensor
import SwComm
import SwNN
import SwParallel

/// How a run combines gradients: decided once from the config and the world size, before
/// any buffer is allocated, and built once (`build`).
///
/// - `pipelineStage`: `parallel.pipeline_stages` > 1 (`PipelineStageSync`).
/// - `nodeShared`: `parallel.sync` "shared_memory", or "auto" with more than one rank and no
///   pipeline. "auto" prefers it to the bucketed all-reduce because on a node it reads the
///   peers' gradients in place instead of copying them twice and shards the optimizer pass
///   (dense1024 at np=2: see README, "Data parallel"). It becomes `NodeWeightGradientSync`
///   when `parallel.weight_gradients` is "auto", the summed gradient goes straight to the
///   optimizer (one micro-batch a step, no clipping, no L1/L2), there is one node, the
///   model has dense layers and `training.precision` is fp32; otherwise `NodeSharedZeRO1`. With "auto" and one rank per node
///   there is nothing to share: the bucketed all-reduce.
/// - `allReduce`: `BucketedAllReduce`, overlapped during backward when `parallel.overlap` is
///   "on", or "auto" and some ranks are on other nodes: on one node Open MPI's non-blocking
///   all-reduce costs about twice the blocking one (16 MB: 7.5 vs 3.4 ms, measured) and its
///   progress runs on the same cores as backward (dense1024 at np=2: 11.0 vs 12.7 ms a step).
enum SyncPlan: Equatable {
    case allReduce(overlapped: Bool)
    case nodeShared
    case pipelineStage

    init(config: TrainConfig, worldSize: Int) {
        let p = config.parallel
        if p.pipelineStages > 1 {
            self = .pipelineStage
        } else if worldSize > 1 && p.sync != .allreduce {
            self = .nodeShared
        } else {
            self = .allReduce(overlapped: SyncPlan.overlaps(config, worldSize: worldSize))
        }
    }

    /// `parallel.overlap` resolved: "auto" overlaps when some ranks are on other nodes.
    static func overlaps(_ config: TrainConfig, worldSize: Int) -> Bool {
        switch config.parallel.overlap {
        case .on: return true
        case .off: return false
        case .auto:
            let local = Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? worldSize
            return local < worldSize
        }
    }

    /// Builds the sync of this plan for `local.model` (and, for a pipeline, the stage that runs
    /// its micro-batches; the plan is printed on rank 0). Collective over the world.
    func build(config: TrainConfig, comm: any Communicator, local: LocalSetUp) throws
        -> (sync: any GradientSync, stage: PipelineStage?) {
        let p = config.parallel
        let model = local.model
        switch self {
        case .allReduce(let overlapped):
            return (BucketedAllReduce(model: model, communicator: comm, bucketMB: p.bucketMB, overlapped: overlapped), nil)
        case .pipelineStage:
            let (dataComm, pipeComm) = try local.topology.communicators(world: comm)
            let plan = try PipelineStage.plan(config: config, model: model, train: local.train, world: comm)
            if comm.rank == 0 { print(plan.description) }
            let stage = try PipelineStage(config: config, model: model, x: local.x, y: local.y, topology: local.topology,
                                          pipelineComm: pipeComm, plan: plan)
            let sync = PipelineStageSync(model: model, layers: plan.stages[local.topology.stage], dataParallel: dataComm,
                                         pipeline: pipeComm, bucketMB: p.bucketMB)
            return (sync, stage)
        case .nodeShared:
            let groups = try SharedMemorySync.groups(dataParallel: comm, ranksPerNode: p.ranksPerNode.map { min($0, comm.size) })
            if groups.node.size == 1 && p.sync == .auto {
                let overlapped = SyncPlan.overlaps(config, worldSize: comm.size)
                return (BucketedAllReduce(model: model, communicator: comm, bucketMB: p.bucketMB, overlapped: overlapped), nil)
            }
            let states = Builders.stateBufferCount(config.optimizer)
            let t = config.training
            // bf16 layers compute their own weight gradients: the node blocks run fp32 GEMMs.
            if p.weightGradients == .auto && groups.crossNode == nil && local.regularization.isZero && t.gradClip == nil
                && t.accumulationSteps == 1 && t.precision == .fp32 && model.network.allLayers().contains(where: { $0.layer is Dense }) {
                let rows = local.localBatch
                let sync = try NodeWeightGradientSync(groups: groups, model: model, stateBuffers: states) { d in
                    rows * (Tensor.elementCount(d.inputShape) / d.inFeatures)
                }
                return (sync, nil)
            }
            return (try NodeSharedZeRO1(groups: groups, model: model, stateBuffers: states), nil)
        }
    }
}
