import ArgumentParser
import SwCompress

/// `swtrain lowrank CONFIG --checkpoint P --out DIR (--rank R | --energy E)`.
struct LowRank: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lowrank",
        abstract: "Factorize a trained model's dense layers by truncated SVD into a runnable compressed-model folder.",
        discussion: """
            swtrain lowrank examples/mnist1d-wide.json --checkpoint runs/mnist1d-wide --out runs/wide-r64 --rank 64
            Then: swtrain eval runs/wide-r64/config.json --checkpoint runs/wide-r64
                  swtrain train runs/wide-r64/config.json --set training.epochs=1   (fine-tune)
            See docs/compress.md.
            """)

    @Argument(help: "The JSON config file the checkpoint was trained with.")
    var config: String

    @Option(help: ArgumentHelp("A checkpoint folder, a model.safetensors, or a run folder (uses latest).", valueName: "PATH"))
    var checkpoint: String

    @Option(help: ArgumentHelp("The output folder (config.json, model.safetensors, compression.json).", valueName: "DIR"))
    var out: String

    @Option(help: "Keep this many singular values per layer.")
    var rank: Int?

    @Option(help: "Keep the smallest rank whose squared singular values hold this fraction of the total (0 < E <= 1).")
    var energy: Double?

    @Flag(help: "ASVD: scale input columns by mean |x|^alpha from calibration data before the SVD.")
    var activationAware = false

    @Option(help: "ASVD exponent.")
    var alpha = 0.5

    @Option(help: "Training samples for calibration statistics and the reported output errors.")
    var calibrationSamples = 1024

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Layer paths left dense (\"0\", \"2.layers.0\").", valueName: "PATH"))
    var skip: [String] = []

    @Option(name: .customLong("batch"), parsing: .upToNextOption, help: "Batch sizes of the latency measured before and after.")
    var batches: [Int] = [1, 32, 256]

    @Option(help: "BLAS threads for the latency measurement.")
    var threads = 1

    @Option(name: .customLong("set"), parsing: .singleValue, help: "Override a config field (repeatable).")
    var overrides: [String] = []

    func validate() throws {
        switch (rank, energy) {
        case (nil, nil), (.some, .some): throw ValidationError("give exactly one of --rank R and --energy E")
        case (let r?, nil) where r < 1: throw ValidationError("--rank must be at least 1, got \(r)")
        case (nil, let e?) where !(e > 0 && e <= 1): throw ValidationError("--energy must be in (0, 1], got \(e)")
        default: break
        }
        guard calibrationSamples >= 1, threads >= 1, batches.allSatisfy({ $0 >= 1 }), alpha >= 0 else {
            throw ValidationError("--calibration-samples, --threads and --batch must be positive, --alpha >= 0")
        }
    }

    func run() throws {
        var o = LowRankOptions(rule: rank.map { .fixed($0) } ?? .energy(energy!))
        o.activationAware = activationAware
        o.alpha = alpha
        o.calibrationSamples = calibrationSamples
        o.skip = skip
        o.latencyBatches = batches
        o.threads = threads
        try LowRankCompression.run(configPath: config, overrides: overrides, checkpoint: checkpoint, outDir: out, options: o)
    }
}
