import ArgumentParser
import SwCompress

/// `swtrain predict CONFIG --checkpoint P --input x.npy --output y.npy`.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model on every sample of an .npy array and save its outputs (float32 .npy).",
        discussion: "swtrain predict runs/wide-r64/config.json --checkpoint runs/wide-r64 --input x.npy --output y.npy")

    @Argument(help: "The JSON config file of the model.")
    var config: String

    @Option(help: ArgumentHelp("A checkpoint folder, a model.safetensors, a compressed-model folder or a run folder.", valueName: "PATH"))
    var checkpoint: String

    @Option(help: ArgumentHelp("Inputs, an .npy array (N, sample shape...).", valueName: "FILE"))
    var input: String

    @Option(help: ArgumentHelp("Where to write the outputs, float32 (N, output shape...).", valueName: "FILE"))
    var output: String

    @Option(help: "Rows per forward pass.")
    var batch = 256

    @Option(name: .customLong("set"), parsing: .singleValue, help: "Override a config field (repeatable).")
    var overrides: [String] = []

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be positive") }
    }

    func run() throws {
        try Predictor.run(configPath: config, overrides: overrides, checkpoint: checkpoint, input: input, output: output, batch: batch)
    }
}
