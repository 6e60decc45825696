import SwData
import SwTensor

/// `trainer_state.json` of a checkpoint: everything besides tensors that an exact resume
/// needs, plus what a reader wants to know about the run that wrote it. The checkpoint writer
/// adds `"files"`: the SHA-256 of each file of the folder.
public struct TrainerState: Codable, Sendable {
    public var formatVersion = 1
    /// Completed optimizer steps.
    public var step: Int
    /// The epoch the next batch comes from.
    public var epoch: Int
    /// Samples consumed over all ranks.
    public var samplesSeen: Int
    /// The sampler's position (global: valid for any data-parallel size).
    public var sampler: SamplerState
    /// Each dropout layer's random stream, by layer name.
    public var rng: [String: RNG.State]
    public var optimizer: String
    public var optimizerSteps: Int
    /// The learning rate of the next step (the schedule is a function of `step`).
    public var nextLR: Float
    public var worldSize: Int
    public var dataParallelSize: Int
    public var pipelineStages: Int
    /// `TrainConfig.hash` in hex: a resume with another config is allowed but reported.
    public var configHash: String
    public var configName: String
    public var parameters: Int
    /// The global loss sum and sample count logged since the last metrics.jsonl line, so a
    /// resume at a step that is not a log step writes the same next line.
    public var logWindow: LogWindow?

    /// Training figures accumulated since the last `train` line of metrics.jsonl.
    public struct LogWindow: Codable, Sendable {
        public var lossSum: Double
        public var samples: Int
        enum CodingKeys: String, CodingKey { case lossSum = "loss_sum", samples }
    }

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", step, epoch, samplesSeen = "samples_seen", sampler, rng, optimizer
        case optimizerSteps = "optimizer_steps", nextLR = "next_lr", worldSize = "world_size"
        case dataParallelSize = "data_parallel_size", pipelineStages = "pipeline_stages"
        case configHash = "config_hash", configName = "config_name", parameters, logWindow = "log_window"
    }
}

extension SamplerState {
    enum CodingKeys: String, CodingKey { case epoch, stepInEpoch = "step_in_epoch" }
}
