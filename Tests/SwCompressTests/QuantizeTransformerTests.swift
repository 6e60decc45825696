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

/// `swtrain quantize` of a char GPT: every projection of the transformer block (and the head)
/// becomes a `quantized_dense` written into the block's `parts`, the folder loads strictly, and
/// each int8 projection stays within the error bound its scales imply.
@Suite struct QuantizeTransformerTests {
    static let text = String(repeating: "the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. ", count: 14)

    /// A 1-block char GPT (context 8, width 16) trained 20 steps under `dir`.
    static func trained(_ dir: String) throws -> (config: String, checkpoint: String) {
        try text.write(toFile: dir + "/t.txt", atomically: true, encoding: .utf8)
        let vocab = Set(text.unicodeScalars).count
        let json = """
            {"name": "q-gpt", "seed": 3,
             "data": {"train": {"kind": "text", "path": "t.txt", "context": 8, "split": "train", "validation_fraction": 0.2},
                      "test": {"kind": "text", "path": "t.txt", "context": 8, "split": "validation", "validation_fraction": 0.2}},
             "model": {"input": [8], "layers": [
                {"type": "token_position_embedding", "vocab": \(vocab), "dim": 16},
                {"type": "transformer_block", "heads": 2, "mlp_ratio": 2},
                {"type": "layernorm"},
                {"type": "dense", "units": \(vocab)}], "loss": "cross_entropy"},
             "optimizer": {"type": "adam", "lr": 0.01},
             "training": {"batch_size": 32, "max_steps": 20, "log_every_steps": 1000}}
            """
        let path = dir + "/config.json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        let c = try TrainConfig.load(path: path, overrides: ["checkpoint.dir=\"\(dir)/run\""])
        let t = try Trainer(config: c, comm: LocalCommunicator())
        while t.step < 20 { _ = try t.trainStep() }
        return (path, try #require(try t.saveCheckpoint()))
    }

    @Test(arguments: [ActivationQuantization.dynamic, .static])
    func everyProjectionIsInt8WithinItsBound(mode: ActivationQuantization) throws {
        let dir = try LowRankFolderTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (configPath, checkpoint) = try Self.trained(dir)
        var o = QuantizeOptions(activations: mode)
        o.observer = .minmax                              // every calibration input inside its range
        o.calibrationSamples = 200
        o.skip = ["1.attn.proj"]
        o.latencyBatches = [2]
        let out = dir + "/int8"
        try QuantizeCompression.run(configPath: configPath, overrides: [], checkpoint: checkpoint, outDir: out, options: o, log: { _ in })

        // I8 projections (the skipped one F32), embeddings and layer norms F32.
        let quantized = ["1.attn.qkv", "1.mlp.0", "1.mlp.2", "3"]
        let file = try SafeTensorsFile(path: out + "/model.safetensors")
        for p in quantized { #expect(try file.entry(p + ".weight").dtype == .i8, "\(p)") }
        #expect(try file.entry("1.attn.proj.weight").dtype == .f32)
        #expect(try file.entry("1.ln1.weight").dtype == .f32 && file.entry("2.weight").dtype == .f32)
        // The token and position tables: I8 with one F32 scale per row.
        #expect(try file.entry("0.tok.weight").dtype == .i8 && file.entry("0.pos.weight").dtype == .i8)
        #expect(try file.entry("0.tok.weight_scale").dtype == .f32 && file.entry("0.tok.weight_scale").shape == [file.entry("0.tok.weight").shape[0]])

        // The folder's config names the parts; it builds and loads strictly both ways.
        let written = try TrainConfig.load(path: out + "/config.json")
        guard case .object(let root) = written.resolved, case .object(let model)? = root["model"], case .array(let layers)? = model["layers"],
              case .object(let block) = layers[1], case .object(let parts)? = block[LayerParts.key] else {
            Issue.record("no parts in the folder's config"); return
        }
        #expect(Set(parts.pairs.map(\.0)) == ["attn.qkv", "mlp.0", "mlp.2"])
        #expect(ConfigLayers.entry(at: "1.mlp.0", in: .array(layers)) == (try JSON.parse(
            #"{"type": "quantized_dense", "units": 32, "bias": true, "granularity": "per_channel", "activations": "\#(mode.rawValue)"}"#)))
        let viaInit = try Model(config: written.model)
        try InitFrom.apply(to: viaInit)
        let viaEval = try Model(config: written.model)
        try viaEval.loadParameters(from: out + "/model.safetensors")
        for p in quantized { #expect(viaInit.network.layer(at: p) is QuantizedDense, "\(p)") }
        #expect(viaInit.network.layer(at: "0") is QuantizedTokenPositionEmbedding)

        // Each int8 projection of the folder against the fp32 one on the fp32 model's inputs:
        // |y − y_int8| ≤ (s_x / 2) Σ|ŵ| + (s_w / 2) Σ|x| (weight and input each within half a
        // step; s_x per token for dynamic, the calibrated scale for static) plus float rounding.
        let config = try TrainConfig.load(path: configPath)
        let fp = try Model(config: config.model)
        try InitFrom.load(fp, from: checkpoint)
        let train = try Trainer(config: config, comm: LocalCommunicator()).train
        var checked = 0, worst = 0.0
        try QuantCalibration.run(model: fp, paths: Set(quantized), data: train, samples: 200, comm: LocalCommunicator()) { path, x in
            let f = fp.network.layer(at: path)!, q = viaInit.network.layer(at: path) as! QuantizedDense
            let y = f.forward(x, training: false).array, yq = q.forward(x, training: false).array
            let (wq, sw) = (q.parameterTensors[0].array, q.parameterTensors[1].array)
            let w = f.parameterTensors[0].array, xs = x.array
            let (k, n) = (q.inFeatures, q.outFeatures)
            for r in 0..<xs.count / k {
                let row = xs[r * k..<(r + 1) * k]
                let sx = mode == .static ? Double(q.parameterTensors[2].pointer[0])
                                         : Double(max(0, row.max()!) - min(0, row.min()!)) / 255
                let sumX = row.reduce(0.0) { $0 + Double(abs($1)) }
                for j in 0..<n {
                    var sumW = 0.0, mag = 0.0
                    for i in 0..<k {
                        sumW += Double(abs(wq[j * k + i])) * Double(sw[j])
                        mag += Double(abs(row[row.startIndex + i])) * Double(abs(w[j * k + i]))
                    }
                    let bound = sx / 2 * sumW + Double(sw[j]) / 2 * sumX + 1e-5 * mag + 1e-6
                    let err = abs(Double(y[r * n + j]) - Double(yq[r * n + j]))
                    worst = max(worst, err / bound)
                    if err > bound { Issue.record("\(path) row \(r) output \(j): |error| \(err) > bound \(bound)"); return }
                }
            }
            checked += 1
        }
        #expect(checked >= quantized.count)
        #expect(worst > 0)                                // the int8 outputs do differ from fp32

        // eval and predict run the folder; both loaders give the same outputs.
        try EvalCommand.run(configPath: out + "/config.json", overrides: [], checkpoint: out)
        let (xb, _) = train.batch(Array(0..<5))
        let want = viaEval.forward(xb, training: false).array
        #expect(viaInit.forward(xb, training: false).array == want)
        #expect(try QuantizeFolderTests.predict(folder: out, xb, scratch: dir) == want)

        // The report: every projection with its SQNR, the skipped one kept fp32.
        let report = try QuantizeFolderTests.read(out + "/compression.json")
        guard case .array(let rows)? = report["layers"] else { Issue.record("no layers"); return }
        var seen: Set<String> = []
        for l in rows {
            guard case .object(let row) = l, case .string(let p)? = row["path"] else { continue }
            seen.insert(p)
            #expect(row["quantized"] == .bool(p != "1.attn.proj"), "\(p)")
            if p != "1.attn.proj" { #expect(row["sqnr_db"]?.doubleValue.map { $0 > 10 } == true, "\(p)") }
        }
        #expect(seen == Set(quantized + ["0", "1.attn.proj"]))
    }
}
