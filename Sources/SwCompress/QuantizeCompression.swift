import Foundation
import SwCheckpoint
import SwComm
import SwConfig
import SwData
import SwNN
import SwTensor
import SwTrain

/// Settings of `swtrain quantize`.
public struct QuantizeOptions: Sendable {
    public var activations: ActivationQuantization
    public var granularity: WeightGranularity = .perChannel
    /// Training samples for the activation ranges (static) and the reported per-layer SQNR.
    public var calibrationSamples = 512
    public var observer: ObserverKind = .minmax
    public var percentile = 99.99
    /// Histogram bins of the `histogram` and `percentile` observers.
    public var bins = 2048
    /// Layer paths (`"2"`, `"1.layers.0"`) kept fp32.
    public var skip: [String] = []
    /// Batch sizes and BLAS threads of the latency measured before and after.
    public var latencyBatches: [Int] = [1, 32, 256]
    public var threads = 1
    public init(activations: ActivationQuantization) { self.activations = activations }
}

/// One quantizable layer's outcome.
public struct QuantizedLayerResult: Sendable {
    public var path: String
    public var type: String
    /// Range of the weight scales (one value per tensor when per tensor).
    public var weightScale: (min: Float, max: Float)?
    /// Static: the calibrated input range and its scale / zero point.
    public var inputRange: (Double, Double)?
    public var inputScale: Float?, inputZeroPoint: Int32?
    /// `10 log10(Σ y² / Σ (y − y_int8)²)` of the layer's output on the calibration inputs.
    public var sqnrDB: Double?
    /// Why the layer stays fp32.
    public var note: String?
}

/// Post-training int8 quantization (dynamic or static) of a trained model, written as a
/// `CompressedModelFolder` (see docs/quantize.md).
///
/// Every `dense`, `conv1d`, `conv2d`, `embedding` and `token_position_embedding` whose config entry is reachable by its path
/// (`model.layers[i]`, inside a `residual`, or a projection of a `transformer_block` /
/// `causal_attention`, written into the entry's `parts`: `"3.attn.qkv"`, `"3.mlp.2"`) becomes
/// `quantized_dense` / `quantized_conv1d` / `quantized_conv2d` / `quantized_embedding` /
/// `quantized_token_position_embedding`, unless skipped.
public enum QuantizeCompression {
    /// Runs the whole pass: every rank calls it (calibration is all-reduced); rank 0 writes.
    public static func run(configPath: String, overrides: [String], checkpoint: String, outDir: String,
                           options: QuantizeOptions, log: @escaping (String) -> Void = { print($0) }) throws {
        // A quantization-aware config: its fp32 model (fake-quant off).
        let src = try CompressionSource(configPath: configPath, overrides: overrides, checkpoint: checkpoint, log: log,
                                        prepare: { $0.disableFakeQuantization() })
        let config = src.config, comm = src.comm, isRoot = src.isRoot, say = src.say, trainer = src.trainer
        let weights = src.weights, model = src.model, evalData = src.evalData, before = src.before
        let original = src.original
        let layersJSON = src.layersJSON
        let (targets, kept) = try selectLayers(model: model, layers: layersJSON, skip: options.skip)
        var results = kept
        let paths = targets.map(\.path)
        // Layers whose input is quantized (embeddings take token ids: nothing to calibrate).
        let inputPaths = targets.filter { Int8LayerBuilder.takesActivations($0.type) }.map(\.path)

        // Static: activation ranges from calibration (all-reduced: the same at every rank count).
        // A quantization-aware checkpoint's learned ranges take precedence.
        var ranges: [String: (Double, Double)] = [:]
        var rangesFrom = "calibration"
        if options.activations == .static {
            let learned = config.quantization?.aware == true ? try learnedRanges(weightsFile: weights) : [:]
            if !inputPaths.isEmpty, inputPaths.allSatisfy({ learned[$0] != nil }) {
                ranges = learned
                rangesFrom = "quantization-aware training"
                say("activation ranges: learned by quantization-aware training (\(weights))")
            } else {
                ranges = try QuantCalibration.ranges(model: model, paths: inputPaths, data: trainer.train, samples: options.calibrationSamples,
                                                     comm: comm, observer: options.observer, percentile: options.percentile, bins: options.bins)
            }
        }
        var replacements: [String: any Layer] = [:]
        for (path, layer, type) in targets {
            let q = Int8LayerBuilder.build(layer, granularity: options.granularity, activations: options.activations, inputRange: ranges[path])!
            replacements[path] = q
            var r = QuantizedLayerResult(path: path, type: type)
            // Every weight scale tensor (an embedding's token and position tables have one each).
            let scales = zip(q.parameterShapes, q.parameterTensors).filter { $0.0.name.hasSuffix("weight_scale") }
                .flatMap { UnsafeBufferPointer(start: $0.1.pointer, count: $0.1.count) }
            r.weightScale = (scales.min()!, scales.max()!)
            if options.activations == .static, Int8LayerBuilder.takesActivations(type) {
                r.inputRange = ranges[path]
                r.inputScale = q.parameterTensors[2].pointer[0]
                r.inputZeroPoint = Int32(q.parameterTensors[3].pointer[0])
            }
            results.append(r)
        }
        let sqnr = try outputSQNR(model: model, replacements: replacements, data: trainer.train,
                                  samples: options.calibrationSamples, comm: comm)
        for i in results.indices { results[i].sqnrDB = sqnr[results[i].path] }
        results.sort { $0.path.localizedStandardCompare($1.path) == .orderedAscending }

        // Rewrite the model (then restore the int8 values a same-named fp32 tensor was carried over) and the config.
        let held = replacements.mapValues { q in q.parameterTensors.map { Array(UnsafeBufferPointer(start: $0.pointer, count: $0.count)) } }
        try model.rewrite { path, _ in replacements[path] }
        for (path, values) in held {
            for ((name, _), v) in zip(replacements[path]!.parameterShapes, values) {
                model.parameters.value(childPath(path, name))!.pointer.update(from: v, count: v.count)
            }
        }
        // A transformer projection's implicit dense entry comes from the fp32 network (the model is rewritten by now).
        var newLayers = layersJSON
        for path in paths {
            newLayers = ConfigLayers.replacing(at: path, in: newLayers, network: original.network) { quantizedEntry($0, options) }
        }
        let newRoot = src.folderConfig(layers: newLayers, nameSuffix: "int8-\(options.activations.rawValue)", outDir: outDir)
        let folder = CompressedModelFolder(path: outDir)
        if isRoot {
            try folder.write(config: .object(newRoot), model: model,
                             metadata: ["compression": "int8-\(options.activations.rawValue)", "granularity": options.granularity.rawValue])
        }
        try comm.barrier()

        // The folder as `swtrain eval DIR/config.json --checkpoint DIR` reads it.
        let written = try TrainConfig.load(path: folder.file(CompressedModelFolder.configFile))
        let compressed = try Model(config: written.model)
        try InitFrom.apply(to: compressed)
        try Int8Fusion.apply(compressed)
        let after = try LowRankCompression.evaluate(compressed, data: evalData, comm: comm)
        say("accuracy \(fmt(before.accuracy)) -> \(fmt(after.accuracy)), loss \(fmt(before.loss)) -> \(fmt(after.loss))")

        guard isRoot else { return }
        let latency = InferenceBench.run(model: compressed, name: "int8-\(options.activations.rawValue)", peer: original, peerName: "fp32",
                                         data: evalData, batches: options.latencyBatches, threads: options.threads)
        var layerRows: [JSON] = []
        for r in results {
            var o = JSONObject([("path", .string(r.path)), ("type", .string(r.type))])
            o["quantized"] = .bool(r.note == nil)
            if let w = r.weightScale { o["weight_scale_min"] = .real(Double(w.min)); o["weight_scale_max"] = .real(Double(w.max)) }
            if let (a, b) = r.inputRange { o["input_range"] = .array([.real(a), .real(b)]) }
            if let s = r.inputScale { o["input_scale"] = .real(Double(s)) }
            if let z = r.inputZeroPoint { o["input_zero_point"] = .int(Int(z)) }
            o["sqnr_db"] = r.sqnrDB.map { .real($0) } ?? .null
            if let n = r.note { o["note"] = .string(n) }
            layerRows.append(.object(o))
            say("  \(r.path): \(r.type) " + (r.note.map { "kept fp32 (\($0))" } ?? "int8")
                + (r.inputScale.map { ", input scale \($0) zero point \(r.inputZeroPoint!)" } ?? "")
                + (r.sqnrDB.map { String(format: ", output SQNR %.1f dB", $0) } ?? ""))
        }
        func side(_ m: Model, _ file: String, _ e: (loss: Double, accuracy: Double?), _ ms: [Double]) -> JSON {
            .object(JSONObject([
                ("parameters", .int(m.parameters.count)),
                ("file_bytes", .int(CompressedModelFolder.fileBytes(file))),
                ("test_loss", .real(e.loss)), ("test_accuracy", e.accuracy.map { .real($0) } ?? .null),
                ("latency_ms", .object(JSONObject(zip(options.latencyBatches, ms).map { ("batch_\($0)", .real($1)) }))),
            ]))
        }
        let settings = JSONObject([
            ("mode", .string(options.activations.rawValue)), ("granularity", .string(options.granularity.rawValue)),
            ("calibration_samples", .int(options.calibrationSamples)),
            ("observer", options.activations == .static ? .string(options.observer.rawValue) : .null),
            ("percentile", options.activations == .static && options.observer == .percentile ? .real(options.percentile) : .null),
            ("skip", .array(options.skip.map { .string($0) })),
            ("world_size", .int(comm.size)),
            ("ranges_from", options.activations == .static ? .string(rangesFrom) : .null),
        ])
        let bytesBefore = CompressedModelFolder.fileBytes(weights), bytesAfter = CompressedModelFolder.fileBytes(folder.file(CompressedModelFolder.modelFile))
        let report = JSONObject([
            ("method", .string("int8-\(options.activations.rawValue)")),
            ("settings", .object(settings)),
            ("source", .object(JSONObject([("config", .string(configPath)), ("checkpoint", .string(weights))]))),
            ("evaluated_on", .string(trainer.test == nil ? "train" : "test")),
            ("kernel_path", .string(Int8Kernels.pathName)),
            ("latency", .object(JSONObject([("threads", .int(options.threads)), ("batches", .array(options.latencyBatches.map { .int($0) })),
                                            ("statistic", .string("median forward ms, fp32 and int8 alternating"))]))),
            ("before", side(original, weights, before, latency.map(\.peerMedianMs))),
            ("after", side(compressed, folder.file(CompressedModelFolder.modelFile), after, latency.map(\.medianMs))),
            ("file_bytes_ratio", .real(Double(bytesAfter) / Double(max(bytesBefore, 1)))),
            ("layers", .array(layerRows)),
        ])
        try folder.writeReport(.object(report))
        for row in latency { say(row.tableLine) }
        say("file bytes \(bytesBefore) -> \(bytesAfter) (\(String(format: "%.1f", 100 * Double(bytesAfter) / Double(max(bytesBefore, 1))))%), int8 kernel path: \(Int8Kernels.pathName)")
        say("wrote \(outDir)/{config.json, model.safetensors, compression.json}")
    }

    /// The activation ranges a quantization-aware run saved beside `weightsFile` (its
    /// checkpoint's `hooks.safetensors`), by layer path; empty when there are none.
    static func learnedRanges(weightsFile: String) throws -> [String: (Double, Double)] {
        let hooks = ((weightsFile as NSString).deletingLastPathComponent as NSString).appendingPathComponent("hooks.safetensors")
        guard FileManager.default.fileExists(atPath: hooks) else { return [:] }
        let f = try SafeTensorsFile(path: hooks)
        guard let meta = f.metadata["quantization"] else { return [:] }
        var t: [String: [Float]] = [:]
        for name in ["ranges", "observed"] where f.entries.contains(where: { $0.name == "quantization." + name }) {
            t[name] = try f.floats("quantization." + name)
        }
        return QuantizationAwareTraining.ranges(tensors: t, metadata: meta)
    }

    /// The layers to quantize (path, layer, config type) and the quantizable layers kept fp32
    /// (with the reason). A `--skip` path that names no quantizable layer is an error naming those that exist.
    static func selectLayers(model: Model, layers: JSON, skip: [String]) throws
        -> (targets: [(path: String, layer: any Layer, type: String)], kept: [QuantizedLayerResult]) {
        var targets: [(path: String, layer: any Layer, type: String)] = []
        var kept: [QuantizedLayerResult] = []
        for (path, layer) in model.network.descendants {
            guard layer is Dense || layer is Conv1D || layer is Conv2D || layer is Embedding || layer is TokenPositionEmbedding else { continue }
            let type = layer.typeName
            if skip.contains(path) {
                kept.append(QuantizedLayerResult(path: path, type: type, note: "skipped (--skip)"))
            } else if ConfigLayers.entry(at: path, in: layers, network: model.network).flatMap(ConfigLayers.type(of:)) != type {
                kept.append(QuantizedLayerResult(path: path, type: type, note: "inside a layer whose config entry cannot name an int8 part"))
            } else {
                targets.append((path, layer, type))
            }
        }
        let known = Set(targets.map(\.path) + kept.map(\.path))
        if let bad = skip.first(where: { !known.contains($0) }) {
            let list = known.sorted { $0.localizedStandardCompare($1) == .orderedAscending }
            throw CompressError("--skip \(bad): no quantizable layer (dense, conv1d, conv2d, embedding, token_position_embedding) has this path\n  hint: the quantizable layers are at \(list.isEmpty ? "(none)" : list.joined(separator: ", "))")
        }
        return (targets, kept)
    }

    /// The config entry of the int8 layer replacing `entry`: same keys, type `quantized_*`, plus
    /// `granularity` and `activations`.
    static func quantizedEntry(_ entry: JSON, _ options: QuantizeOptions) -> JSON {
        guard case .object(var o) = entry, let t = ConfigLayers.type(of: entry), let q = Int8LayerBuilder.quantizedType(of: t) else { return entry }
        o["type"] = .string(q)
        o["granularity"] = .string(options.granularity.rawValue)
        if Int8LayerBuilder.takesActivations(t) { o["activations"] = .string(options.activations.rawValue) }
        return .object(o)
    }

    /// Output SQNR in dB of each int8 layer against its fp32 layer on the same calibration
    /// inputs, all-reduced (signal and noise power summed over ranks).
    static func outputSQNR(model: Model, replacements: [String: any Layer], data: any Dataset, samples: Int,
                           comm: any Communicator) throws -> [String: Double] {
        let paths = replacements.keys.sorted()
        var sums: [String: (Double, Double)] = [:]
        try QuantCalibration.run(model: model, paths: Set(paths), data: data, samples: samples, comm: comm) { path, x in
            let fp = model.network.layer(at: path)!
            let ref = fp.forward(x, training: false)
            let r = Array(UnsafeBufferPointer(start: ref.pointer, count: ref.count))
            let q = replacements[path]!.forward(x, training: false)
            var (s, n) = sums[path] ?? (0, 0)
            for i in 0..<r.count { let d = Double(r[i]) - Double(q.pointer[i]); s += Double(r[i]) * Double(r[i]); n += d * d }
            sums[path] = (s, n)
        }
        var flat: [Double] = []
        for p in paths { let v = sums[p] ?? (0, 0); flat += [v.0, v.1] }
        try comm.allReduce(&flat, op: .sum)
        var out: [String: Double] = [:]
        for (i, p) in paths.enumerated() { out[p] = 10 * log10(max(flat[2 * i], 1e-300) / max(flat[2 * i + 1], 1e-300)) }
        return out
    }

    static func fmt(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "-" }
}
