import ArgumentParser
import SwCompress
import SwNN

/// `swtrain quantize CONFIG --checkpoint P --out DIR --mode dynamic|static`.
struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a trained model's dense and conv layers to int8 into a runnable compressed-model folder.",
        discussion: """
            swtrain quantize examples/mnist1d-cnn.json --checkpoint runs/mnist1d-cnn --out runs/cnn-int8 --mode static --observer histogram
            mpirun -np 2 swtrain quantize ...   (calibration: each rank observes its shard; same scales at every rank count)
            Then: swtrain eval runs/cnn-int8/config.json --checkpoint runs/cnn-int8
                  swtrain bench infer examples/mnist1d-cnn.json --checkpoint runs/mnist1d-cnn --compare runs/cnn-int8
            See docs/quantize.md.
            """)

    @OptionGroup var pass: CompressionPassOptions

    @Option(help: "dynamic: activations quantized per row at run time; static: calibrated activation scales.")
    var mode: String

    @Flag(help: "One weight scale per tensor instead of one per output channel.")
    var perTensor = false

    @Option(help: "Training samples for calibration (static ranges) and the per-layer SQNR report.")
    var calibrationSamples = 512

    @Option(help: "Static activation range observer: minmax, histogram (MSE-optimal range) or percentile.")
    var observer = "minmax"

    @Option(help: "The percentile observer's upper percentile (the lower one is 100 - P).")
    var percentile = 99.99

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Layer paths kept fp32 (\"0\", \"2.layers.0\").", valueName: "PATH"))
    var skip: [String] = []

    func validate() throws {
        guard ActivationQuantization(rawValue: mode) != nil else { throw ValidationError("--mode must be dynamic or static, got \(mode)") }
        guard ObserverKind(rawValue: observer) != nil else { throw ValidationError("--observer must be minmax, histogram or percentile, got \(observer)") }
        guard percentile > 50, percentile <= 100 else { throw ValidationError("--percentile must be in (50, 100], got \(percentile)") }
        guard calibrationSamples >= 1 else { throw ValidationError("--calibration-samples must be positive, got \(calibrationSamples)") }
    }

    func run() throws {
        var o = QuantizeOptions(activations: ActivationQuantization(rawValue: mode)!)
        o.granularity = perTensor ? .perTensor : .perChannel
        o.calibrationSamples = calibrationSamples
        o.observer = ObserverKind(rawValue: observer)!
        o.percentile = percentile
        o.skip = skip
        o.latencyBatches = pass.batches
        o.threads = pass.threads
        try QuantizeCompression.run(configPath: pass.config, overrides: pass.overrides, checkpoint: pass.checkpoint, outDir: pass.out, options: o)
    }
}
