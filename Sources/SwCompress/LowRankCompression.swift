import Foundation
import SwCheckpoint
import SwComm
import SwConfig
import SwData
import SwNN
import SwTensor
import SwTrain

/// Settings of `swtrain lowrank`.
public struct LowRankOptions: Sendable {
    public var rule: RankRule
    /// ASVD: scale the weight's input columns by `mean |x_j| ^ alpha` before the SVD.
    public var activationAware = false
    public var alpha = 0.5
    /// Training samples for the activation statistics and the reported output errors.
    public var calibrationSamples = 1024
    /// Layer paths (`"2"`, `"1.layers.0"`) left dense.
    public var skip: [String] = []
    /// Batch sizes and BLAS threads of the latency measured before and after.
    public var latencyBatches: [Int] = [1, 32, 256]
    public var threads = 1
    public init(rule: RankRule) { self.rule = rule }
}

/// One factorizable layer's outcome.
public struct LowRankLayerResult: Sendable {
    public var path: String
    public var inFeatures: Int, outFeatures: Int
    /// The rank kept, nil when the layer stays dense.
    public var rank: Int?
    public var keptEnergy: Double?
    /// `‖X Wᵀ − X Dᵀ Uᵀ‖_F / ‖X Wᵀ‖_F` on the calibration inputs (bias excluded).
    public var relativeOutputError: Double?
    /// Why the layer stays dense.
    public var note: String?
}

/// Low-rank factorization of a trained model by truncated SVD (optionally activation-aware),
/// written as a `CompressedModelFolder` (see docs/compress.md).
///
/// Every `Factorizable` layer whose config entry is a `dense` reachable by its path is
/// factorized, unless skipped: `model.layers[i]`, `model.layers[i].layers[j]` inside a
/// residual, and the projections of a `transformer_block` (`"3.attn.qkv"`, `"3.attn.proj"`,
/// `"3.mlp.0"`, `"3.mlp.2"`) or `causal_attention` (`"2.qkv"`, `"2.proj"`), which the folder's
/// config names in the entry's `parts` (see `ConfigLayers`, `LayerParts`). A layer is replaced
/// by a `lowrank_dense` only where `r (in + out) < in · out`.
public enum LowRankCompression {
    /// Runs the whole pass: every rank calls it (calibration is all-reduced); rank 0 writes.
    public static func run(configPath: String, overrides: [String], checkpoint: String, outDir: String,
                           options: LowRankOptions, log: @escaping (String) -> Void = { print($0) }) throws {
        let src = try CompressionSource(configPath: configPath, overrides: overrides, checkpoint: checkpoint, log: log)
        let comm = src.comm, isRoot = src.isRoot, say = src.say, trainer = src.trainer
        let weights = src.weights, model = src.model, evalData = src.evalData, before = src.before
        let countsBefore = src.countsBefore, original = src.original
        let layersJSON = src.layersJSON
        var results: [LowRankLayerResult] = []
        var targets: [(path: String, layer: any Factorizable)] = []
        for (path, layer) in model.network.descendants {
            guard let f = layer as? any Factorizable else { continue }
            let w = f.factorizableMatrix
            var r = LowRankLayerResult(path: path, inFeatures: w.shape[1], outFeatures: w.shape[0])
            if options.skip.contains(path) {
                r.note = "skipped (--skip)"
            } else if ConfigLayers.entry(at: path, in: layersJSON, network: model.network).map({ ConfigLayers.type(of: $0) == "dense" }) != true {
                r.note = "skipped: inside a layer whose config entry cannot name a low-rank part"
            } else {
                targets.append((path, f))
                continue
            }
            results.append(r)
        }
        let known = Set(results.map(\.path) + targets.map(\.path))
        if let bad = options.skip.first(where: { !known.contains($0) }) {
            throw CompressError("--skip \(bad): no factorizable layer has this path\n  hint: the dense layers are at \(known.sorted { $0.localizedStandardCompare($1) == .orderedAscending }.joined(separator: ", "))")
        }
        let paths = targets.map(\.path)
        var scales: [String: [Float]] = [:]
        if options.activationAware {
            let means = try Calibration.meanAbsoluteInputs(model: model, paths: paths, data: trainer.train,
                                                           samples: options.calibrationSamples, comm: comm)
            for p in paths { scales[p] = activationScale(means[p]!, alpha: options.alpha) }
        }
        var factors: [String: LowRankFactors] = [:]
        for (path, f) in targets {
            let w = f.factorizableMatrix
            let fac = try LowRankFactors(weight: w, rule: options.rule, columnScale: scales[path])
            var r = LowRankLayerResult(path: path, inFeatures: w.shape[1], outFeatures: w.shape[0])
            r.keptEnergy = fac.keptEnergy
            if LowRankFactors.saves(rank: fac.rank, inFeatures: r.inFeatures, outFeatures: r.outFeatures) {
                r.rank = fac.rank
                factors[path] = fac
            } else {
                r.note = "stays dense: rank \(fac.rank) · (\(r.inFeatures) + \(r.outFeatures)) >= \(r.inFeatures) · \(r.outFeatures)"
            }
            results.append(r)
        }
        let errors = try outputErrors(model: model, factors: factors, data: trainer.train,
                                      samples: options.calibrationSamples, comm: comm)
        for i in results.indices { results[i].relativeOutputError = errors[results[i].path] }
        results.sort { $0.path.localizedStandardCompare($1.path) == .orderedAscending }

        // Rewrite the config (its implicit projection entries come from the dense network), then the model.
        var newLayers = layersJSON
        for (path, fac) in factors {
            newLayers = ConfigLayers.replacing(at: path, in: newLayers, network: model.network) { ConfigLayers.lowRank($0, rank: fac.rank) }
        }
        try model.rewrite { path, layer in
            guard let fac = factors[path], let d = layer as? Dense else { return nil }
            return LowRankDense.holding(inputShape: d.inputShape,
                                        down: Tensor(shape: [fac.rank, d.inFeatures], values: fac.down),
                                        up: Tensor(shape: [d.outFeatures, fac.rank], values: fac.up),
                                        bias: d.useBias ? d.parameterTensors[1] : nil)
        }
        let newRoot = src.folderConfig(layers: newLayers, nameSuffix: "lowrank", outDir: outDir)
        let folder = CompressedModelFolder(path: outDir)
        if isRoot {
            try folder.write(config: .object(newRoot), model: model, metadata: ["compression": "lowrank", "rule": options.rule.description])
        }
        try comm.barrier()

        // The folder's config, as `swtrain eval DIR/config.json --checkpoint DIR` reads it.
        let written = try TrainConfig.load(path: folder.file(CompressedModelFolder.configFile))
        let compressed = try Model(config: written.model)
        try InitFrom.apply(to: compressed)
        let after = try evaluate(compressed, data: evalData, comm: comm)
        let countsAfter = CompressedModelFolder.counts(compressed)
        say("accuracy \(fmt(before.accuracy)) -> \(fmt(after.accuracy)), parameters \(countsBefore.parameters) -> \(countsAfter.parameters)")

        guard isRoot else { return }
        let latency = InferenceBench.run(model: compressed, name: "lowrank", peer: original, peerName: "original", data: evalData,
                                         batches: options.latencyBatches, threads: options.threads)
        var layerRows: [JSON] = []
        for r in results {
            var o = JSONObject([("path", .string(r.path)), ("in", .int(r.inFeatures)), ("out", .int(r.outFeatures))])
            o["rank"] = r.rank.map { .int($0) } ?? .null
            o["kept_energy"] = r.keptEnergy.map { .real($0) } ?? .null
            o["relative_output_error"] = r.relativeOutputError.map { .real($0) } ?? .null
            if let n = r.note { o["note"] = .string(n) }
            layerRows.append(.object(o))
            say("  \(r.path): [\(r.outFeatures), \(r.inFeatures)] " + (r.rank.map { "rank \($0)" } ?? "dense")
                + (r.keptEnergy.map { ", kept energy \(fmt($0))" } ?? "")
                + (r.relativeOutputError.map { ", relative output error \(fmt($0))" } ?? "") + (r.note.map { " (\($0))" } ?? ""))
        }
        func side(_ c: (parameters: Int, nonZeros: Int), _ file: String, _ e: (loss: Double, accuracy: Double?), _ ms: [Double]) -> JSON {
            .object(JSONObject([
                ("parameters", .int(c.parameters)), ("non_zeros", .int(c.nonZeros)),
                ("file_bytes", .int(CompressedModelFolder.fileBytes(file))),
                ("test_loss", .real(e.loss)), ("test_accuracy", e.accuracy.map { .real($0) } ?? .null),
                ("latency_ms", .object(JSONObject(zip(options.latencyBatches, ms).map { ("batch_\($0)", .real($1)) }))),
            ]))
        }
        var settings = JSONObject([("activation_aware", .bool(options.activationAware)),
                                   ("calibration_samples", .int(options.calibrationSamples)),
                                   ("skip", .array(options.skip.map { .string($0) }))])
        switch options.rule {
        case .fixed(let r): settings["rank"] = .int(r)
        case .energy(let e): settings["energy"] = .real(e)
        }
        if options.activationAware { settings["alpha"] = .real(options.alpha) }
        let report = JSONObject([
            ("method", .string(options.activationAware ? "lowrank-asvd" : "lowrank-svd")),
            ("settings", .object(settings)),
            ("source", .object(JSONObject([("config", .string(configPath)), ("checkpoint", .string(weights))]))),
            ("evaluated_on", .string(trainer.test == nil ? "train" : "test")),
            ("latency", .object(JSONObject([("threads", .int(options.threads)), ("batches", .array(options.latencyBatches.map { .int($0) })),
                                            ("statistic", .string("median forward ms, original and compressed alternating"))]))),
            ("before", side(countsBefore, weights, before, latency.map(\.peerMedianMs))),
            ("after", side(countsAfter, folder.file(CompressedModelFolder.modelFile), after, latency.map(\.medianMs))),
            ("layers", .array(layerRows)),
        ])
        try folder.writeReport(.object(report))
        for row in latency { say(row.tableLine) }
        say("wrote \(outDir)/{config.json, model.safetensors, compression.json}")
    }

    /// `max(mean_j, floor) ^ alpha` with `floor = 1e-6 · max mean` (a feature never active in
    /// calibration keeps a small positive scale, so the division by S stays finite).
    public static func activationScale(_ means: [Double], alpha: Double) -> [Float] {
        let top = means.max() ?? 0
        let floor = top > 0 ? top * 1e-6 : 1
        return means.map { Float(pow(max($0, floor), alpha)) }
    }

    /// Relative output error of each factorized layer on the calibration inputs, all-reduced.
    static func outputErrors(model: Model, factors: [String: LowRankFactors], data: any Dataset, samples: Int,
                             comm: any Communicator) throws -> [String: Double] {
        let paths = factors.keys.sorted()
        var sums: [String: (Double, Double)] = [:]
        try Calibration.run(model: model, paths: Set(paths), data: data, samples: samples, comm: comm) { path, x in
            let f = factors[path]!
            let w = (model.network.layer(at: path) as! any Factorizable).factorizableMatrix
            let (out, inF, r) = (w.shape[0], w.shape[1], f.rank)
            let rows = x.count / inF
            var ref = [Float](repeating: 0, count: rows * out), h = [Float](repeating: 0, count: rows * r)
            var approx = [Float](repeating: 0, count: rows * out)
            BLAS.gemm(transA: false, transB: true, m: rows, n: out, k: inF, a: x.pointer, b: w.pointer, beta: 0, c: &ref)
            f.down.withUnsafeBufferPointer { d in
                BLAS.gemm(transA: false, transB: true, m: rows, n: r, k: inF, a: x.pointer, b: d.baseAddress!, beta: 0, c: &h)
            }
            f.up.withUnsafeBufferPointer { u in
                h.withUnsafeBufferPointer { hp in
                    BLAS.gemm(transA: false, transB: true, m: rows, n: out, k: r, a: hp.baseAddress!, b: u.baseAddress!, beta: 0, c: &approx)
                }
            }
            var (num, den) = sums[path] ?? (0, 0)
            for i in 0..<ref.count { let d = Double(ref[i] - approx[i]); num += d * d; den += Double(ref[i]) * Double(ref[i]) }
            sums[path] = (num, den)
        }
        var flat: [Double] = []
        for p in paths {
            let s = sums[p] ?? (0, 0)
            flat.append(s.0)
            flat.append(s.1)
        }
        try comm.allReduce(&flat, op: .sum)
        var out: [String: Double] = [:]
        for (i, p) in paths.enumerated() { out[p] = (flat[2 * i] / max(flat[2 * i + 1], 1e-300)).squareRoot() }
        return out
    }

    /// Loss and accuracy of `model` on `data` (this rank's shard, all-reduced), as `swtrain eval`.
    public static func evaluate(_ model: Model, data: any Dataset, comm: any Communicator, batch: Int = 500) throws -> (loss: Double, accuracy: Double?) {
        let mine = Array(stride(from: comm.rank, to: data.count, by: comm.size))
        var sums = [0.0, 0.0, 0.0]
        var start = 0
        while start < mine.count {
            let n = min(batch, mine.count - start)
            let (x, y) = data.batch(Array(mine[start..<start + n]))
            let out = model.forward(x, training: false)
            let r = model.loss.evaluate(output: out, targets: y, gradient: nil, gradientScale: 0)
            sums[0] += r.sum; sums[1] += Double(r.terms); sums[2] += Double(r.correct ?? 0)
            start += n
        }
        try comm.allReduce(&sums, op: .sum)
        return (sums[0] / max(sums[1], 1), model.loss is SoftmaxCrossEntropy ? sums[2] / max(sums[1], 1) : nil)
    }

    static func fmt(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "-" }
}
