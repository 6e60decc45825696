import Foundation
import Testing
import SwCheckpoint
import SwComm
import SwCommands
import SwCompress
import SwConfig
import SwData
import SwNN
import SwTensor
import SwTrain

/// `swtrain quantize` end to end: the folder holds I8 weights with F32 scales, its config loads
/// strictly (eval, predict), and its outputs equal the in-memory int8 model's.
@Suite struct QuantizeFolderTests {
    static func read(_ path: String) throws -> JSONObject {
        guard case .object(let o) = try JSON.parse(String(contentsOfFile: path, encoding: .utf8)) else { throw CompressError("\(path): not an object") }
        return o
    }

    /// `swtrain predict` of the folder `folder` on `x` (written as .npy under `scratch`): its outputs.
    static func predict(folder: String, _ x: Tensor, scratch: String) throws -> [Float] {
        try Predictor.writeNPY(x.array, shape: x.shape, to: scratch + "/x.npy")
        try Predictor.run(configPath: folder + "/config.json", overrides: [], checkpoint: folder, input: scratch + "/x.npy", output: scratch + "/y.npy")
        let bytes = try #require(FileManager.default.contents(atPath: scratch + "/y.npy"))
        return try bytes.withUnsafeBytes { raw in
            let h = try NPYHeader(bytes: raw, file: "y.npy", role: "outputs")
            var v = [Float](repeating: 0, count: h.count)
            v.withUnsafeMutableBufferPointer { h.readFloats(raw, into: $0.baseAddress!) }
            return v
        }
    }

    @Test(arguments: [(ActivationQuantization.static, ObserverKind.histogram), (.static, .percentile), (.dynamic, .minmax)])
    func folderRoundTripGivesTheInMemoryInt8Outputs(mode: ActivationQuantization, observer: ObserverKind) throws {
        let dir = try LowRankFolderTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (configPath, checkpoint) = try LowRankFolderTests.trained(dir)
        var o = QuantizeOptions(activations: mode)
        o.observer = observer
        o.calibrationSamples = 300
        o.skip = ["3"]
        o.latencyBatches = [4]
        let out = dir + "/int8"
        try QuantizeCompression.run(configPath: configPath, overrides: [], checkpoint: checkpoint, outDir: out, options: o, log: { _ in })

        // Stored dtypes: I8 weights, F32 scales, I32 zero points; the skipped layer stays F32.
        let file = try SafeTensorsFile(path: out + "/model.safetensors")
        #expect(try file.entry("0.weight").dtype == .i8)
        #expect(try file.entry("0.weight_scale").dtype == .f32 && file.entry("0.weight_scale").shape == [48])
        #expect(try file.entry("0.bias").dtype == .f32)
        #expect(try file.entry("3.weight").dtype == .f32)
        #expect(try file.entry("2.layers.0.weight").dtype == .i8)
        if mode == .static {
            #expect(try file.entry("0.input_scale").dtype == .f32)
            #expect(try file.entry("0.input_zero_point").dtype == .i32)
        } else {
            #expect(!file.entries.contains { $0.name.hasSuffix("input_scale") })
        }

        // In memory: the fp32 model with the same layers replaced (same calibration, one rank).
        let config = try TrainConfig.load(path: configPath)
        let fp = try Model(config: config.model)
        try InitFrom.load(fp, from: checkpoint)
        let trainData = try Trainer(config: config, comm: LocalCommunicator()).train
        let paths = ["0", "2.layers.0", "5"]
        let ranges = mode == .static ? try QuantCalibration.ranges(model: fp, paths: paths, data: trainData, samples: 300,
                                                                   comm: LocalCommunicator(), observer: observer) : [:]
        var repl: [String: any Layer] = [:]
        for p in paths { repl[p] = Int8LayerBuilder.build(fp.network.layer(at: p)!, granularity: .perChannel, activations: mode, inputRange: ranges[p]) }
        let held = repl.mapValues { $0.parameterTensors.map(\.array) }
        try fp.rewrite { path, _ in repl[path] }
        for (p, values) in held { for ((name, _), v) in zip(repl[p]!.parameterShapes, values) { fp.parameters.value(childPath(p, name))!.pointer.update(from: v, count: v.count) } }

        // The folder through `model.init_from` (train / bench infer / predict) and through `swtrain eval`'s loader.
        let written = try TrainConfig.load(path: out + "/config.json")
        let viaInit = try Model(config: written.model)
        try InitFrom.apply(to: viaInit)
        let viaEval = try Model(config: written.model)
        try viaEval.loadParameters(from: out + "/model.safetensors")
        var rng = RNG(seed: 11)
        let x = Tensor(shape: [37, 40], values: (0..<37 * 40).map { _ in rng.uniform(-3, 3) })
        let want = fp.forward(x, training: false).array
        #expect(viaInit.forward(x, training: false).array == want)
        #expect(viaEval.forward(x, training: false).array == want)
        try EvalCommand.run(configPath: out + "/config.json", overrides: [], checkpoint: out)
        // Training an int8 folder is refused with a config error, not a crash.
        #expect { _ = try TrainingRun(trainer: try Trainer(config: written, comm: LocalCommunicator()), plainProgress: true) } throws: { error in
            "\(error)".contains("inference-only") && "\(error)".contains("layer 0 is quantized_dense")
        }

        // `swtrain predict` on the folder.
        #expect(try Self.predict(folder: out, x, scratch: dir) == want)

        // The report: every quantizable layer with its SQNR, bytes and accuracy before and after.
        let report = try Self.read(out + "/compression.json")
        guard case .array(let layers)? = report["layers"] else { Issue.record("no layers"); return }
        #expect(layers.count == 4)
        for l in layers {
            guard case .object(let row) = l, case .string(let p)? = row["path"] else { continue }
            if p == "3" { #expect(row["quantized"] == .bool(false)) } else {
                let sqnr = try #require(row["sqnr_db"]?.doubleValue, "layer \(p)")
                #expect(sqnr > 15 && sqnr < 80, "layer \(p) SQNR \(sqnr)")
            }
        }
        guard case .object(let before)? = report["before"], case .object(let after)? = report["after"],
              let bb = before["file_bytes"]?.doubleValue, let ba = after["file_bytes"]?.doubleValue,
              let ab = before["test_accuracy"]?.doubleValue, let aa = after["test_accuracy"]?.doubleValue else {
            Issue.record("no before/after"); return
        }
        #expect(ba < 0.6 * bb)                           // small layers, one kept fp32: header and scales weigh in
        #expect(abs(aa - ab) < 0.05)
    }

    @Test func refusesAnUnknownSkipPathNamingTheQuantizableLayers() throws {
        let dir = try LowRankFolderTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (configPath, checkpoint) = try LowRankFolderTests.trained(dir)
        var o = QuantizeOptions(activations: .static)
        o.skip = ["4"]                                   // a relu
        #expect {
            try QuantizeCompression.run(configPath: configPath, overrides: [], checkpoint: checkpoint, outDir: dir + "/x", options: o, log: { _ in })
        } throws: { error in
            "\(error)".contains("--skip 4") && "\(error)".contains("0, 2.layers.0, 3, 5")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/x"))
    }

    @Test func histogramObserverClipsGaussianTailsAndPercentileFindsTheTails() {
        // A standard normal over [-8, 8]: the MSE-optimal 8-bit range clips the tails (about ±4σ),
        // with a lower expected error than the full range.
        let (lo, hi, bins) = (-8.0, 8.0, 2048)
        let w = (hi - lo) / Double(bins)
        let gauss = (0..<bins).map { i -> Double in let c = lo + (Double(i) + 0.5) * w; return 1e9 * w * exp(-c * c / 2) / (2 * Double.pi).squareRoot() }
        let (a, b) = HistogramRange.minimisingMSE(gauss, lo: lo, hi: hi)
        #expect(a > -6 && a < -2.5 && b > 2.5 && b < 6, "range [\(a), \(b)]")
        #expect(HistogramRange.error(gauss, lo: lo, hi: hi, a: a, b: b) < 0.8 * HistogramRange.error(gauss, lo: lo, hi: hi, a: lo, b: hi))
        // 10 000 values uniform in [0, 1) and 10 outliers at 50: the 99.5th percentile is 1.
        var counts = [Double](repeating: 0, count: 2000)
        for i in 0..<40 { counts[i] = 250 }              // [0, 1): 40 bins of width 0.025
        counts[1999] = 10
        let (pa, pb) = HistogramRange.percentile(counts, lo: 0, hi: 50, p: 99.5)
        #expect(pa == 0 && abs(pb - 1.0) < 1e-9, "percentile range [\(pa), \(pb)]")
    }
}
