import SwComm

/// Where a rank sits in a data-parallel x pipeline job: the scheduler's view of the world.
///
/// With world size W and `stages` pipeline stages there are D = W / stages data-parallel
/// replicas of the pipeline. Rank r runs stage `r / D` of replica `r % D`:
///
/// ```
///             replica 0   replica 1        (W = 4, stages = 2, D = 2)
/// stage 0      rank 0      rank 1      <- data-parallel group of stage 0: {0, 1}
/// stage 1      rank 2      rank 3      <- data-parallel group of stage 1: {2, 3}
///              pipeline    pipeline
///              {0, 2}      {1, 3}
/// ```
/// Gradients of a stage are all-reduced within its data-parallel group; activations flow
/// along a pipeline. Rank 0 is stage 0 of replica 0 (it writes checkpoints and metrics).
public struct Topology: Sendable, Equatable {
    public let worldSize: Int
    public let stages: Int
    public let dataParallelSize: Int
    public let rank: Int

    /// This rank's pipeline stage (0 is the first).
    public var stage: Int { rank / dataParallelSize }
    /// This rank's replica: its index within its stage's data-parallel group.
    public var dataParallelRank: Int { rank % dataParallelSize }
    public var isFirstStage: Bool { stage == 0 }
    public var isLastStage: Bool { stage == stages - 1 }

    /// The topology of `rank` in a world of `worldSize` with `stages` stages; nil when the
    /// stages do not divide the world (the config check reports that as an error).
    public init?(worldSize: Int, stages: Int, rank: Int) {
        guard stages >= 1, worldSize >= 1, worldSize % stages == 0, (0..<worldSize).contains(rank) else { return nil }
        self.worldSize = worldSize
        self.stages = stages
        self.dataParallelSize = worldSize / stages
        self.rank = rank
    }

    /// World ranks of this rank's data-parallel group, by replica.
    public var dataParallelGroup: [Int] { (0..<dataParallelSize).map { stage * dataParallelSize + $0 } }
    /// World ranks of this rank's pipeline, by stage.
    public var pipelineGroup: [Int] { (0..<stages).map { $0 * dataParallelSize + dataParallelRank } }

    /// Splits `world` into this rank's data-parallel and pipeline communicators. In the
    /// pipeline communicator, rank i is stage i; in the data-parallel one, rank d is replica d.
    public func communicators(world: any Communicator) throws -> (dataParallel: any Communicator, pipeline: any Communicator) {
        if worldSize == 1 { return (world, world) }
        let dp = stages == 1 ? world : try world.split(color: stage, key: dataParallelRank)
        let pipe = try world.split(color: dataParallelRank, key: stage)
        return (dp, pipe)
    }
}
