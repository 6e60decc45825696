import ArgumentParser
import SwCommands

/// `swtrain autotune CONFIG [--budget-s 60] --out tuned.json`.
struct Autotune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure short runs of a config with other batch sizes, gradient syncs and threads; write the fastest that fits in memory.")

    @Argument(help: "The JSON config file.")
    var config: String

    @Option(name: .customLong("set"), parsing: .singleValue, help: "Override a config field (repeatable).")
    var overrides: [String] = []

    @Option(name: .customLong("budget-s"), help: "Seconds to spend measuring (default 60).")
    var budget: Double = 60

    @Option(help: ArgumentHelp("The tuned config to write; the measured table goes beside it as NAME.autotune.json.", valueName: "FILE"))
    var out: String

    @Option(name: .customLong("lr-rule"), help: "How the learning rate follows the batch size: linear or sqrt (default linear).")
    var lrRule: String = "linear"

    @Option(help: "Measured steps per trial (after the warm-up).")
    var steps: Int = 20

    @Option(help: "Warm-up steps per trial (not measured).")
    var warmup: Int = 3

    @Option(name: .customLong("memory-mb"), help: "Memory limit per rank in MiB (default 80% of available memory / ranks on the node).")
    var memoryMB: Double?

    func validate() throws {
        guard AutotuneCommand.LRRule(rawValue: lrRule) != nil else { throw ValidationError("--lr-rule expects linear or sqrt, got '\(lrRule)'") }
        if budget <= 0 { throw ValidationError("--budget-s expects a positive number of seconds, got \(budget)") }
        if steps < 1 || warmup < 0 { throw ValidationError("--steps expects >= 1 and --warmup >= 0, got \(steps) and \(warmup)") }
        if let m = memoryMB, m <= 0 { throw ValidationError("--memory-mb expects a positive number, got \(m)") }
    }

    func run() throws {
        try AutotuneCommand.run(configPath: config, overrides: overrides, budgetSeconds: budget, out: out,
                                rule: AutotuneCommand.LRRule(rawValue: lrRule)!, steps: steps, warmup: warmup, memoryMB: memoryMB)
    }
}
