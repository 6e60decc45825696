import ArgumentParser
import SwCommands
import SwTrain

/// `swtrain train CONFIG [--resume latest|PATH] [--set key.path=value ...]`.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model from a JSON config (under mpirun: data- and pipeline-parallel).")

    @Argument(help: "The JSON config file.")
    var config: String

    @Option(name: .customLong("set"), parsing: .singleValue,
            help: ArgumentHelp("Override a config field, like training.batch_size=64 (repeatable).", valueName: "key.path=value"))
    var overrides: [String] = []

    @Option(help: ArgumentHelp("Resume from the newest complete checkpoint (latest) or a checkpoint folder.", valueName: "latest|PATH"))
    var resume: String?

    @Flag(help: "Plain log lines even on a terminal.")
    var plain = false

    @Option(help: "Compute threads per process (sets training.threads; default: cores / ranks on the node).")
    var threads: Int?

    @Option(help: .hidden)
    var failAt: String?

    @Option(help: .hidden)
    var stopAfter: Int?

    /// `--fail-at RANK:STEP` (fault injection for tests).
    var parsedFailAt: (rank: Int, step: Int)? {
        guard let failAt else { return nil }
        let parts = failAt.split(separator: ":").compactMap { Int($0) }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }

    func validate() throws {
        if failAt != nil && parsedFailAt == nil {
            throw ValidationError("--fail-at expects RANK:STEP, like 1:5, got '\(failAt!)'")
        }
        if let t = threads, !(1...256).contains(t) { throw ValidationError("--threads must be in 1...256, got \(t)") }
        if let s = stopAfter, s < 1 { throw ValidationError("--stop-after expects a positive step count, got \(s)") }
    }

    func run() throws {
        try TrainCommand.run(configPath: config, overrides: overrides + (threads.map { ["training.threads=\($0)"] } ?? []), resume: resume, plainProgress: plain,
                             hooks: .init(failAt: parsedFailAt, stopAfter: stopAfter))
    }
}

/// `swtrain eval CONFIG --checkpoint PATH`.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint on the config's test data (loss and accuracy).")

    @Argument(help: "The JSON config file the checkpoint was trained with.")
    var config: String

    @Option(help: ArgumentHelp("A checkpoint folder, its model.safetensors, or a run folder (uses latest).", valueName: "PATH"))
    var checkpoint: String

    @Option(name: .customLong("set"), parsing: .singleValue, help: "Override a config field (repeatable).")
    var overrides: [String] = []

    func run() throws {
        try EvalCommand.run(configPath: config, overrides: overrides, checkpoint: checkpoint)
    }
}

/// `swtrain inspect PATH`.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a checkpoint's tensors, dtypes, shapes, step and config summary.")

    @Argument(help: "A .safetensors file, a checkpoint folder or a run folder.")
    var path: String

    func run() throws {
        try InspectCommand.run(path: path)
    }
}
