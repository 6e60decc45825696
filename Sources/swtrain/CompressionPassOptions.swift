import ArgumentParser

/// The arguments every post-training pass (`lowrank`, `prune`, `quantize`) takes: the trained
/// model (config and checkpoint), the output folder, the latency measurement and `--set`.
struct CompressionPassOptions: ParsableArguments {
    @Argument(help: "The JSON config file the checkpoint was trained with.")
    var config: String

    @Option(help: ArgumentHelp("A checkpoint folder, a model.safetensors, or a run folder (uses latest).", valueName: "PATH"))
    var checkpoint: String

    @Option(help: ArgumentHelp("The output folder (config.json, model.safetensors, compression.json).", valueName: "DIR"))
    var out: String

    @Option(name: .customLong("batch"), parsing: .upToNextOption, help: "Batch sizes of the latency measured before and after.")
    var batches: [Int] = [1, 32, 256]

    @Option(help: "BLAS threads for the latency measurement.")
    var threads = 1

    @Option(name: .customLong("set"), parsing: .singleValue, help: "Override a config field (repeatable).")
    var overrides: [String] = []

    func validate() throws {
        guard threads >= 1, batches.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--threads and --batch must be positive")
        }
    }
}
