import Foundation
import SwCheckpoint
import SwConfig
import SwNN
import SwTensor

/// Gradual structured pruning (`prune.structured: true`): at each event every pruned layer
/// keeps `units − round(s · units)` of its original output units, those with the largest L2
/// norms (`MagnitudePruning.keptUnits`), and the layer it feeds keeps the matching inputs. The
/// live model shrinks through `Trainer.rewriteModel` on every rank in lock-step (the same
/// norms from the same synchronized weights): parameter store rebuilt, optimizer moments of the
/// kept elements carried, gradient sync rebuilt in every mode.
///
/// A pruned layer is a top-level `dense`, `conv1d` or `conv2d` whose output reaches another
/// layer of the same kind through parameterless element-wise layers only (activations,
/// dropout, and pooling between convs); the last layer (the model's output) and layers
/// inside residual or transformer blocks are never pruned, so the output shape is kept.
///
/// The architecture lives in two places that stay in step: `modelJSON` (the config's `model`
/// section with the kept units; the run folder's `config.json` gets it, so `swtrain eval`
/// works on the smaller model) and the hook state (`{"0": [original, kept], ...}`), from which
/// a resume shrinks the freshly built model before loading the checkpoint (`shrinkForResume`).
final class StructuredPruning {
    /// A layer whose units are pruned.
    struct PrunedLayer {
        /// Its path (its index in `model.layers`) and the index of the layer it feeds.
        let index: Int, consumer: Int
        var path: String { String(index) }
        /// Its units before any pruning, and now.
        var original: Int, current: Int
        /// The config key holding its units: `units` (dense) or `channels` (conv).
        let key: String
    }

    /// What an event did, per pruned layer.
    struct EventResult {
        var layers: [(path: String, original: Int, kept: Int)]
        var changed: Bool
    }

    private(set) var layers: [PrunedLayer]
    /// The `model` section describing the live architecture (no `init_from` once it shrank).
    private(set) var modelJSON: JSON
    /// Whether the architecture differs from the config's model.
    var hasShrunk: Bool { layers.contains { $0.current != $0.original } }
    let file: String?

    static let passThrough: [String: Set<String>] = [
        "dense": ["relu", "gelu", "silu", "tanh", "sigmoid", "dropout"],
        "conv1d": ["relu", "gelu", "silu", "tanh", "sigmoid", "dropout", "maxpool1d", "avgpool1d"],
        "conv2d": ["relu", "gelu", "silu", "tanh", "sigmoid", "dropout", "maxpool2d", "avgpool2d"],
    ]

    init(_ config: PruneConfig, model: Model, modelJSON: JSON, file: String?) throws {
        self.file = file
        self.modelJSON = modelJSON
        let top = model.network.layers
        var candidates: [Int: Int] = [:]   // producer -> consumer
        var reasons: [Int: String] = [:]
        for (i, l) in top.enumerated() {
            guard let through = Self.passThrough[l.typeName] else { continue }
            var j = i + 1
            while j < top.count && through.contains(top[j].typeName) { j += 1 }
            if j < top.count && top[j].typeName == l.typeName {
                candidates[i] = j
            } else {
                reasons[i] = j == top.count ? "it is the model's output layer"
                    : "its output feeds layer \(j) (\(top[j].typeName)), which is no \(l.typeName)"
            }
        }
        var chosen = candidates.keys.sorted()
        if let wanted = config.layers {
            chosen = []
            for (n, p) in wanted.enumerated() {
                let i = Int(p)
                guard let i, i >= 0, candidates[i] != nil else {
                    let why = i.flatMap { reasons[$0] }
                        ?? "structured pruning removes the units of top-level dense and conv layers that feed another layer of their kind"
                    throw ConfigError(file: file, path: "prune.layers[\(n)]",
                                      message: "expected a layer whose units can be removed, got \"\(p)\": \(why)",
                                      hint: "layers that can be: \(candidates.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", "))")
                }
                chosen.append(i)
            }
            chosen.sort()
        }
        if chosen.isEmpty {
            throw ConfigError(file: file, path: "prune.structured",
                              message: "the model has no layer whose units can be removed (a top-level dense or conv feeding another of its kind)",
                              hint: "use unstructured pruning (structured false) for this model")
        }
        guard case .object(let m) = modelJSON, case .array(let entries)? = m["layers"], entries.count == top.count else {
            throw RuntimeError("prune: the model section does not list one entry per layer")
        }
        for i in chosen where ConfigLayersType.of(entries[i]) != top[i].typeName {
            throw RuntimeError("prune: model.layers[\(i)] is not the model's layer \(i) (\(top[i].typeName))")
        }
        layers = chosen.map { i in
            let p = top[i] as! any Prunable
            return PrunedLayer(index: i, consumer: candidates[i]!, original: p.outputUnits, current: p.outputUnits,
                               key: top[i].typeName == "dense" ? "units" : "channels")
        }
    }

    /// Shrinks every pruned layer to the units of `sparsity` (collective: every rank, same step).
    func prune(_ t: Trainer, sparsity s: Double) throws -> EventResult {
        var plan: [Int: [Int]] = [:]
        for l in layers {
            let keep = max(1, l.original - MagnitudePruning.prunedCount(sparsity: s, count: l.original))
            guard keep < l.current else { continue }
            let layer = t.model.network.layers[l.index] as! any Prunable
            plan[l.index] = MagnitudePruning.keptUnits(norms: layer.outputUnitNorms(order: 2), keep: keep)
        }
        if !plan.isEmpty { try apply(t, plan) }
        return EventResult(layers: layers.map { ($0.path, $0.original, $0.current) }, changed: !plan.isEmpty)
    }

    /// Rewrites the model so that layer `i` keeps output units `plan[i]` and its consumer the
    /// matching inputs; the parameterless layers between them are rebuilt for the new width.
    private func apply(_ t: Trainer, _ plan: [Int: [Int]]) throws {
        var next = layers
        for k in next.indices { if let kept = plan[next[k].index] { next[k].current = kept.count } }
        let json = Self.describe(modelJSON, next)
        let built = try Model(config: ConfigValue(json, path: "model", file: file))
        var producerOf: [Int: Int] = [:]
        var between: Set<Int> = []
        for l in layers where plan[l.index] != nil {
            producerOf[l.consumer] = l.index
            between.formUnion(l.index + 1..<l.consumer)
        }
        try t.rewriteModel { path, layer in
            guard let i = Int(path) else { return nil }   // nested layers are never touched
            if between.contains(i) {
                let fresh = built.network.layers[i]
                if let old = layer as? any StochasticLayer, var s = fresh as? any StochasticLayer { s.rng = old.rng }
                return fresh
            }
            var out: (any Prunable)?
            if let kept = plan[i], let p = layer as? any Prunable { out = p.keeping(outputUnits: kept) }
            if let producer = producerOf[i], let kept = plan[producer], let p = out ?? (layer as? any Prunable) {
                out = p.keeping(inputFeatures: kept)
            }
            return out.map { $0 as any Layer }
        }
        layers = next
        modelJSON = json
    }

    /// `model` with each pruned layer's units set to `layers`' current count and no `init_from`
    /// (the weights of a shrunk model come from its checkpoint).
    static func describe(_ model: JSON, _ layers: [PrunedLayer]) -> JSON {
        guard case .object(var m) = model, case .array(var entries)? = m["layers"] else { return model }
        for l in layers {
            guard case .object(var e) = entries[l.index] else { continue }
            e[l.key] = .integer(l.current)
            entries[l.index] = .object(e)
        }
        m["layers"] = .array(entries)
        m["init_from"] = nil
        return .object(m)
    }

    // MARK: - State

    /// `{"<path>": [original, current], ...}`.
    var stateJSON: JSON {
        .object(JSONObject(layers.map { ($0.path, JSON.array([.integer($0.original), .integer($0.current)])) }))
    }

    /// Reads the units of `state` (the model must already have them: see `shrinkForResume`).
    func restore(_ state: JSON) throws {
        let saved = try units(state)
        for k in layers.indices {
            guard let pair = saved[layers[k].path], pair.1 == layers[k].current else {
                throw RuntimeError("prune: the checkpoint's units of layer \(layers[k].path) (\(saved[layers[k].path].map { "\($0.1)" } ?? "none")) differ from the model's \(layers[k].current)\n  hint: resume with the config the run was started with, or the run folder's config.json")
            }
            layers[k].original = pair.0
        }
    }

    /// Before a resume loads `checkpoint`: shrinks the freshly built model to the units the
    /// checkpoint's hook state records (the kept values are overwritten by the load).
    func shrinkForResume(_ t: Trainer, from checkpoint: Checkpoint) throws {
        let path = checkpoint.filePath(Trainer.hooksFile)
        guard FileManager.default.fileExists(atPath: path),
              let text = try checkpoint.safetensors(Trainer.hooksFile).metadata["prune"] else { return }   // restoreHooks reports it
        guard let units = try GradualPruning.parse(text)["units"] else { return }
        let saved = try self.units(units)
        var plan: [Int: [Int]] = [:]
        for l in layers {
            guard let c = saved[l.path]?.1 else {
                throw RuntimeError("\(path): no units saved for layer \(l.path) (saved: \(saved.keys.sorted()))\n  hint: resume with the prune layers the run was started with")
            }
            if c > l.current {
                throw RuntimeError("\(path): layer \(l.path) has \(c) units in the checkpoint, more than the model's \(l.current)\n  hint: resume with the config the run was started with")
            }
            if c < l.current { plan[l.index] = Array(0..<c) }
        }
        if !plan.isEmpty { try apply(t, plan) }
    }

    private func units(_ state: JSON) throws -> [String: (Int, Int)] {
        guard case .object(let o) = state else { throw RuntimeError("prune: malformed units in the checkpoint's hook state") }
        var out: [String: (Int, Int)] = [:]
        for (k, v) in o.pairs {
            guard case .array(let a) = v, a.count == 2, let x = a[0].doubleValue, let y = a[1].doubleValue else {
                throw RuntimeError("prune: malformed units of layer \(k) in the checkpoint's hook state")
            }
            out[k] = (Int(x), Int(y))
        }
        return out
    }
}

/// The `"type"` of a config layer entry.
enum ConfigLayersType {
    static func of(_ entry: JSON) -> String? {
        guard case .object(let o) = entry, case .string(let t)? = o["type"] else { return nil }
        return t
    }
}
