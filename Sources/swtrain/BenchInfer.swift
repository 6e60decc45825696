import ArgumentParser
import SwCompress
import SwTrain

extension Bench {
    /// `swtrain bench infer CONFIG --checkpoint P [--compare DIR] --batch 1 32 256`.
    struct Infer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forward-only latency and throughput of a model, against a compressed-model folder in the same run.",
            discussion: "swtrain bench infer examples/mnist1d-wide.json --checkpoint runs/mnist1d-wide --compare runs/wide-r64 --batch 1 32 256")

        @OptionGroup var output: Output

        @Argument(help: "The JSON config file the checkpoint was trained with.")
        var config: String

        @Option(help: ArgumentHelp("A checkpoint folder, a model.safetensors, or a run folder.", valueName: "PATH"))
        var checkpoint: String

        @Option(help: ArgumentHelp("A compressed-model folder (config.json + model.safetensors) to time against the original.", valueName: "DIR"))
        var compare: String?

        @Option(name: .customLong("batch"), parsing: .upToNextOption, help: "Batch sizes.")
        var batches: [Int] = [1, 32, 256]

        @Option(help: "Threads (swtrain's pool and OpenBLAS).")
        var threads = 1

        @Option(help: "Timed forward passes per model and batch (0: chosen by size).")
        var repeats = 0

        @Option(name: .customLong("set"), parsing: .singleValue, help: "Override a config field of CONFIG (repeatable).")
        var overrides: [String] = []

        func validate() throws {
            guard threads >= 1, !batches.isEmpty, batches.allSatisfy({ $0 >= 1 }), repeats >= 0 else {
                throw ValidationError("threads and batch must be positive, repeats >= 0")
            }
        }

        func run() throws {
            output.emit(try InferenceBench.run(configPath: config, overrides: overrides, checkpoint: checkpoint, compare: compare,
                                               batches: batches, threads: threads, repeats: repeats))
        }
    }
}
