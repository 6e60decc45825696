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

    @OptionGroup var pass: CompressionPassOptions

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

    func validate() throws {
        switch (rank, energy) {
        case (nil, nil), (.some, .some): throw ValidationError("give exactly one of --rank R and --energy E")
        case (let r?, nil) where r < 1: throw ValidationError("--rank must be at least 1, got \(r)")
        case (nil, let e?) where !(e > 0 && e <= 1): throw ValidationError("--energy must be in (0, 1], got \(e)")
        default: break
        }
        guard calibrationSamples >= 1, alpha >= 0 else {
            throw ValidationError("--calibration-samples must be positive and --alpha >= 0, got \(calibrationSamples) and \(alpha)")
        }
    }

    func run() throws {
        var o = LowRankOptions(rule: rank.map { .fixed($0) } ?? .energy(energy!))
        o.activationAware = activationAware
        o.alpha = alpha
        o.calibrationSamples = calibrationSamples
        o.skip = skip
        o.latencyBatches = pass.batches
        o.threads = pass.threads
        try LowRankCompression.run(configPath: pass.config, overrides: pass.overrides, checkpoint: pass.checkpoint, outDir: pass.out, options: o)
    }
}
