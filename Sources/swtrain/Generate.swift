import ArgumentParser
import SwCommands
import SwTrain

/// `swtrain generate CHECKPOINT --prompt TEXT --tokens N --temperature T --seed S [--config CONFIG]`.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sample text from a character-level language model checkpoint.")

    @Argument(help: "A checkpoint folder, its model.safetensors, or a run folder (uses latest).")
    var checkpoint: String

    @Option(help: "The text to continue.")
    var prompt: String

    // `.unconditional`: a negative value ("-1") is read as the value, so validate() can say what is wrong.
    @Option(parsing: .unconditional, help: "How many characters to generate.")
    var tokens: Int = 200

    @Option(parsing: .unconditional, help: "Sampling temperature; 0 takes the most likely character (greedy).")
    var temperature: Double = 1

    @Option(help: "Random seed of the sampler.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("The config the checkpoint was trained with (default: the run folder's config.json).", valueName: "CONFIG"))
    var config: String?

    func validate() throws {
        guard tokens >= 0 else { throw ValidationError("--tokens must be at least 0, got \(tokens)") }
        guard temperature >= 0, temperature.isFinite else { throw ValidationError("--temperature must be a number >= 0, got \(temperature)") }
    }

    func run() throws {
        try GenerateCommand.run(checkpoint: checkpoint, prompt: prompt, tokens: tokens, temperature: temperature,
                                seed: seed, configPath: config)
    }
}
