import ArgumentParser
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

    func run() throws {
        try TrainCommand.run(configPath: config, overrides: overrides, resume: resume, plainProgress: plain)
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
