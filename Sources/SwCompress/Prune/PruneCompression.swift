import Foundation
import SwComm
import SwConfig
import SwNN
import SwTensor
import SwTrain

/// Settings of `swtrain prune`.
public struct PruneOptions: Sendable {
    /// Unstructured: fraction of the weights zeroed. Structured: fraction of each layer's
    /// units removed (`keep = units - round(sparsity · units)`, at least 1).
    public var sparsity: Double?
    /// Structured: units (channels) each pruned layer keeps, instead of `sparsity`.
    public var keepUnits: Int?
    public var scope: PruningScope = .global
    public var structured = false
    /// Layer paths to prune (default: every dense/conv weight; structured: every
    /// dense/conv whose units can be cut).
    public var layers: [String] = []
    /// Batch sizes and BLAS threads of the latency measured before and after.
    public var latencyBatches: [Int] = [1, 32, 256]
    public var threads = 1
    /// Unstructured: how the inference kernel of the dense layers is chosen.
    public var sparseKernel: SparseInference.Choice = .auto
    /// Unstructured: the lowest layer sparsity for which the CSR kernel is considered.
    public var sparseMinSparsity = 0.9
    public init() {}
}

/// One-shot magnitude pruning of a trained model into a `CompressedModelFolder` (see
/// docs/prune.md): unstructured (zeros in the weights, the folder's config carries a `prune`
/// section so a fine-tune keeps them) or structured (whole units and channels removed, the
/// folder's model is a smaller dense network).
public enum PruneCompression {
    /// Runs the whole pass: every rank calls it (evaluation is all-reduced); rank 0 writes and measures.
    public static func run(configPath: String, overrides: [String], checkpoint: String, outDir: String,
                           options: PruneOptions, log: @escaping (String) -> Void = { print($0) }) throws {
        let src = try CompressionSource(configPath: configPath, overrides: overrides, checkpoint: checkpoint, log: log)
        let comm = src.comm, isRoot = src.isRoot, say = src.say, trainer = src.trainer
        let weights = src.weights, model = src.model, evalData = src.evalData, before = src.before
        let countsBefore = src.countsBefore, original = src.original
        let layersJSON = src.layersJSON

        var newLayers = layersJSON
        var layerRows: [JSON] = []
        if options.structured {
            let (rows, layers) = try structured(model, layersJSON: layersJSON, options: options)
            layerRows = rows
            newLayers = layers
            for case .object(let o) in rows {
                guard case .string(let path)? = o["path"] else { continue }
                if let u = o["units"], let k = o["kept_units"] {
                    say("  \(path): \(u.serialized()) -> \(k.serialized()) units")
                } else if case .string(let note)? = o["note"] {
                    say("  \(path): \(note)")
                }
            }
        } else {
            let targets = try UnstructuredPruning.targets(model, paths: options.layers)
            guard !targets.isEmpty else { throw CompressError("\(configPath): the model has no dense or conv layer to prune") }
            let counts = UnstructuredPruning.apply(targets, sparsity: options.sparsity!, scope: options.scope)
            for c in counts {
                layerRows.append(.object(JSONObject([("path", .string(c.path)), ("weights", .int(c.weights)),
                                                     ("zeros", .int(c.zeros)), ("sparsity", .real(c.sparsity))])))
                say("  \(c.path): \(c.zeros) of \(c.weights) weights zero (\(String(format: "%.4f", c.sparsity)))")
            }
        }

        var newRoot = src.folderConfig(layers: newLayers, nameSuffix: "pruned", outDir: outDir)
        if !options.structured { newRoot["prune"] = pruneSection(options) }
        let folder = CompressedModelFolder(path: outDir)
        if isRoot {
            try folder.write(config: .object(newRoot), model: model,
                             metadata: ["compression": options.structured ? "prune-structured" : "prune-unstructured"])
        }
        try comm.barrier()

        let compressed = try folder.loadInferenceModel()
        let after = try LowRankCompression.evaluate(compressed, data: evalData, comm: comm)
        let countsAfter = CompressedModelFolder.counts(compressed)
        say("accuracy \(LowRankCompression.fmt(before.accuracy)) -> \(LowRankCompression.fmt(after.accuracy)), parameters \(countsBefore.parameters) -> \(countsAfter.parameters), non-zeros \(countsBefore.nonZeros) -> \(countsAfter.nonZeros)")
        guard isRoot else { return }

        var inference: JSON = .null
        if !options.structured {
            let ms = SparseInference.choose(compressed, minSparsity: options.sparseMinSparsity, batches: options.latencyBatches,
                                            threads: options.threads, choice: options.sparseKernel)
            inference = SparseInference.report(ms, minSparsity: options.sparseMinSparsity, choice: options.sparseKernel, threads: options.threads)
            try SparseInference.apply(compressed, paths: Set(ms.filter(\.chosen).map(\.path)))
            for m in ms {
                say("  \(m.path): sparsity \(String(format: "%.4f", m.sparsity)) -> \(m.chosen ? "csr" : "dense") kernel"
                    + zip(m.batches, zip(m.denseMs, m.csrMs)).map { " [b\($0) dense \(String(format: "%.4f", $1.0)) ms, csr \(String(format: "%.4f", $1.1)) ms]" }.joined())
            }
        }
        let name = CompressedModelFolder.usesCSR(compressed) ? "pruned-csr" : "pruned"
        let latency = InferenceBench.run(model: compressed, name: name, peer: original, peerName: "original", data: evalData,
                                         batches: options.latencyBatches, threads: options.threads)
        func side(_ c: (parameters: Int, nonZeros: Int), _ file: String, _ e: (loss: Double, accuracy: Double?), _ ms: [Double]) -> JSON {
            .object(JSONObject([
                ("parameters", .int(c.parameters)), ("non_zeros", .int(c.nonZeros)),
                ("file_bytes", .int(CompressedModelFolder.fileBytes(file))),
                ("test_loss", .real(e.loss)), ("test_accuracy", e.accuracy.map { .real($0) } ?? .null),
                ("latency_ms", .object(JSONObject(zip(options.latencyBatches, ms).map { ("batch_\($0)", .real($1)) }))),
            ]))
        }
        var settings = JSONObject([("structured", .bool(options.structured)), ("scope", .string(options.structured ? "layer" : options.scope.rawValue)),
                                   ("layers", .array(options.layers.map { .string($0) }))])
        if let s = options.sparsity { settings["sparsity"] = .real(s) }
        if let k = options.keepUnits { settings["keep_units"] = .int(k) }
        settings[options.structured ? "ranking" : "criterion"] = .string(options.structured ? "l2 norm of each unit's weights" : "l1 (|w|)")
        var report = JSONObject([
            ("method", .string(options.structured ? "prune-structured" : "prune-magnitude")),
            ("settings", .object(settings)),
            ("source", .object(JSONObject([("config", .string(configPath)), ("checkpoint", .string(weights))]))),
            ("evaluated_on", .string(trainer.test == nil ? "train" : "test")),
            ("latency", .object(JSONObject([("threads", .int(options.threads)), ("batches", .array(options.latencyBatches.map { .int($0) })),
                                            ("kernel", .string(name == "pruned-csr" ? "csr" : "dense")),
                                            ("statistic", .string("median forward ms, original and pruned alternating"))]))),
            ("before", side(countsBefore, weights, before, latency.map(\.peerMedianMs))),
            ("after", side(countsAfter, folder.file(CompressedModelFolder.modelFile), after, latency.map(\.medianMs))),
            ("layers", .array(layerRows)),
        ])
        if inference != .null { report["inference"] = inference }
        try folder.writeReport(.object(report))
        for row in latency { say(row.tableLine) }
        say("wrote \(outDir)/{config.json, model.safetensors, compression.json}")
    }

    /// The `prune` section of an unstructured folder's config: the same sparsity from step 0,
    /// so a fine-tune recomputes the mask from the loaded weights (their zeros are the
    /// smallest, hence exactly the pruned set) and keeps them zero after every update.
    static func pruneSection(_ o: PruneOptions) -> JSON {
        var p = JSONObject([
            ("method", .string("magnitude")), ("scope", .string(o.scope.rawValue)), ("structured", .bool(false)),
            ("initial_sparsity", .real(o.sparsity!)), ("target_sparsity", .real(o.sparsity!)),
            ("start_step", .int(0)), ("end_step", .int(0)), ("frequency", .int(1)),
        ])
        if !o.layers.isEmpty { p["layers"] = .array(o.layers.map { .string($0) }) }
        return .object(p)
    }

    /// Structured pruning of `model` in place; the per-layer rows of the report and the new `model.layers`.
    static func structured(_ model: Model, layersJSON: JSON, options: PruneOptions) throws -> ([JSON], JSON) {
        let plan = StructuredPruning.plan(model)
        let candidates = plan.filter { $0.group != nil }.map(\.path).joined(separator: ", ")
        let blocks = model.network.descendants.filter { ["transformer_block", "causal_attention"].contains($0.layer.typeName) }
        var chosen: [StructuredGroup] = []
        if options.layers.isEmpty {
            chosen = plan.compactMap(\.group)
            guard !chosen.isEmpty else {
                let why = plan.map { "\($0.path): \($0.reason ?? "")" }.joined(separator: "; ")
                throw CompressError("structured pruning: no layer of the model can lose units (\(why.isEmpty ? "no dense or conv layer" : why))\n  hint: structured pruning cuts dense/conv layers followed by another dense/conv through activations, pools or flatten, in model.layers or inside a residual body")
            }
        } else {
            for p in options.layers {
                guard let row = plan.first(where: { $0.path == p }) else {
                    let inside = blocks.first { p.hasPrefix($0.path + ".") }
                    throw CompressError("--layers \(p): " + (inside.map { "the layer is inside the \($0.layer.typeName) at \($0.path); structured pruning of transformer blocks is not supported (their projections' widths are tied to the heads and to the residual stream)" }
                        ?? "no dense or conv layer in model.layers or a residual body has this path")
                        + "\n  hint: structured pruning candidates are at \(candidates.isEmpty ? "(none)" : candidates)")
                }
                guard let g = row.group else {
                    throw CompressError("--layers \(p): the \(model.network.layer(at: p)!.typeName) at \(p) cannot lose units: \(row.reason!)\n  hint: structured pruning candidates are at \(candidates.isEmpty ? "(none)" : candidates)")
                }
                chosen.append(g)
            }
        }
        var kept: [String: [Int]] = [:]
        var rows: [JSON] = []
        for g in chosen {
            let layer = model.network.layer(at: g.producerPath) as! any Prunable
            let units = layer.outputUnits
            let keep: Int
            if let k = options.keepUnits {
                guard k <= units else {
                    throw CompressError("--keep-units \(k): the \(layer.typeName) at \(g.producerPath) has only \(units) units\n  hint: give at most \(units), or --layers to choose the layers")
                }
                keep = k
            } else {
                keep = max(1, units - MagnitudePruning.prunedCount(sparsity: options.sparsity!, count: units))
            }
            let k = StructuredPruning.keptUnits(layer, keep: keep)
            kept[g.producerPath] = k
            rows.append(.object(JSONObject([
                ("path", .string(g.producerPath)), ("type", .string(layer.typeName)), ("units", .int(units)),
                ("kept_units", .int(k.count)), ("sparsity", .real(1 - Double(k.count) / Double(units))),
                ("kept", .array(k.map { .int($0) })), ("inputs_cut_at", .string(g.consumerPath)),
            ])))
        }
        for s in plan where !chosen.contains(where: { $0.producerPath == s.path }) {
            rows.append(.object(JSONObject([("path", .string(s.path)), ("type", .string(model.network.layer(at: s.path)!.typeName)),
                                            ("note", .string(s.reason.map { "kept whole: \($0)" } ?? "kept whole (not in --layers)"))])))
        }
        let newLayers = try StructuredPruning.apply(model, groups: chosen, kept: kept, layersJSON: layersJSON)
        return (rows, newLayers)
    }
}
