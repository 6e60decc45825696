import SwConfig
import SwNN

/// One prunable layer of a structured pruning: a top-level `dense` / `conv1d` / `conv2d`
/// (the producer) whose output units reach the next prunable layer (the consumer) only
/// through layers that keep units apart: elementwise activations, dropout, pools over
/// channel-first maps, flatten.
public struct StructuredGroup: Sendable {
    /// Top-level index of the producer in `model.layers`.
    public var producer: Int
    /// Top-level indices between producer and consumer (rebuilt for the new width).
    public var between: [Int]
    /// Top-level index of the layer reading the producer's units.
    public var consumer: Int
}

/// Structured magnitude pruning: removes whole output units (dense features, conv channels)
/// ranked by the L2 norm of their weights, together with the next layer's matching inputs,
/// so the model really gets smaller (`Model.rewrite` over `Prunable.keeping`).
///
/// Only chains of the top-level `model.layers` list are cut. A layer whose units feed a
/// `residual`, `transformer_block`, `causal_attention`, `layernorm`, `reshape`, `embedding`
/// or `lowrank_dense` (or the model's output) cannot lose units: `plan` says why, and a
/// pruning that asks for it is refused by name.
public enum StructuredPruning {
    /// Layers units pass through one for one (elementwise or per channel).
    static let passThrough: Set<String> = ["relu", "gelu", "tanh", "sigmoid", "silu", "dropout", "flatten",
                                            "maxpool1d", "avgpool1d", "maxpool2d", "avgpool2d"]
    static let prunableTypes: Set<String> = ["dense", "conv1d", "conv2d"]

    /// For every top-level prunable layer: its group, or the reason it cannot lose units.
    public static func plan(_ model: Model) -> [(index: Int, group: StructuredGroup?, reason: String?)] {
        let layers = model.network.layers
        var out: [(Int, StructuredGroup?, String?)] = []
        for (i, l) in layers.enumerated() where l is any Prunable && prunableTypes.contains(l.typeName) {
            var between: [Int] = []
            var reason: String? = nil
            var consumer: Int? = nil
            var j = i + 1
            while j < layers.count {
                let t = layers[j].typeName
                if layers[j] is any Prunable && prunableTypes.contains(t) { consumer = j; break }
                if !passThrough.contains(t) {
                    reason = "its units feed the \(t) at \(j) (model.layers[\(j)]); structured pruning cuts only chains of "
                        + "dense/conv1d/conv2d through elementwise activations, dropout, pools and flatten"
                        + (t == "residual" || t == "transformer_block" ? " (the \(t) adds its input to its output, so its width is fixed)" : "")
                    break
                }
                between.append(j)
                j += 1
            }
            if reason == nil && consumer == nil { reason = "it produces the model's output" }
            if reason == nil, let c = consumer, let why = axisProblem(layers, from: i, through: between, to: c) { reason = why }
            out.append((i, reason == nil ? StructuredGroup(producer: i, between: between, consumer: consumer!) : nil, reason))
        }
        return out
    }

    /// Why the units of `layers[p]` cannot be followed to `layers[c]` (nil when they can).
    static func axisProblem(_ layers: [any Layer], from p: Int, through between: [Int], to c: Int) -> String? {
        var axis = layers[p] is Dense ? layers[p].outputShape.count - 1 : 0
        for j in between {
            let t = layers[j].typeName
            if t.hasSuffix("pool1d") || t.hasSuffix("pool2d") {
                if axis != 0 { return "the \(t) at \(j) pools over the units' axis" }
            } else if t == "flatten" {
                axis = 0
            }
        }
        let want = layers[c] is Dense ? layers[c].inputShape.count - 1 : 0
        return axis == want ? nil : "the \(layers[c].typeName) at \(c) reads another axis than the one holding the units"
    }

    /// Kept unit indices of `layer` keeping `keep` units by L2 norm.
    public static func keptUnits(_ layer: any Prunable, keep: Int) -> [Int] {
        MagnitudePruning.keptUnits(norms: layer.outputUnitNorms(order: 2), keep: keep)
    }

    /// The input features of a consumer reading `kept` units of the producer through
    /// `between`: the kept units themselves, or after a flatten every flat position whose
    /// coordinate on the units' axis is kept (ascending).
    static func consumerInputs(_ layers: [any Layer], producer p: Int, between: [Int], kept: [Int]) -> [Int] {
        var shape = layers[p].outputShape
        var axis = layers[p] is Dense ? shape.count - 1 : 0
        var features = kept
        for j in between {
            if layers[j].typeName == "flatten" {
                let keptSet = Set(features)
                let stride = shape[(axis + 1)...].reduce(1, *)
                let n = shape.reduce(1, *)
                features = (0..<n).filter { keptSet.contains(($0 / stride) % shape[axis]) }
                axis = 0
            }
            shape = layers[j].outputShape
        }
        return features
    }

    /// Rewrites `model` keeping `kept[producer]` units of every planned producer, rebuilding
    /// the layers in between from their config entries (`layersJSON`) for the new widths.
    /// Returns the config's `model.layers` with the new `units` / `channels`.
    public static func apply(_ model: Model, groups: [StructuredGroup], kept: [Int: [Int]], layersJSON: JSON) throws -> JSON {
        let layers = model.network.layers
        var inputsKept: [Int: [Int]] = [:]
        var betweenOf: [Int: Int] = [:]
        for g in groups {
            inputsKept[g.consumer] = consumerInputs(layers, producer: g.producer, between: g.between, kept: kept[g.producer]!)
            for b in g.between { betweenOf[b] = g.producer }
        }
        // New top-level layers, built in order so each rebuilt one sees its new input shape.
        var replaced: [Int: any Layer] = [:]
        var shape = model.network.inputShape
        for (i, l) in layers.enumerated() {
            var n: any Layer = l
            if kept[i] != nil || inputsKept[i] != nil {
                if let d = l as? Dense {
                    var x = d
                    if let k = kept[i] { x = x.keeping(outputUnits: k) }
                    if let k = inputsKept[i] { x = x.keeping(inputFeatures: k) }
                    n = x
                } else if let c = l as? Conv1D {
                    var x = c
                    if let k = kept[i] { x = x.keeping(outputUnits: k) }
                    if let k = inputsKept[i] { x = x.keeping(inputFeatures: k) }
                    n = x
                } else if let c = l as? Conv2D {
                    var x = c
                    if let k = kept[i] { x = x.keeping(outputUnits: k) }
                    if let k = inputsKept[i] { x = x.keeping(inputFeatures: k) }
                    n = x
                }
            } else if betweenOf[i] != nil {
                guard let entry = ConfigLayers.entry(at: String(i), in: layersJSON), case .object(let o) = entry,
                      let type = ConfigLayers.type(of: entry), let builder = LayerRegistry.standard.builders[type] else {
                    throw CompressError("model.layers[\(i)]: no config entry to rebuild the \(l.typeName) for the new width")
                }
                var body = o
                body["type"] = nil
                n = try builder.build(ConfigObject(object: body, path: "model.layers[\(i)]", file: nil), shape, LayerListBuilder())
            }
            if n !== l { replaced[i] = n }
            shape = n.outputShape
        }
        try model.rewrite { path, _ in Int(path).flatMap { replaced[$0] } }
        var newLayers = layersJSON
        for (p, k) in kept {
            let key = layers[p] is Dense ? "units" : "channels"
            newLayers = ConfigLayers.replacing(at: String(p), in: newLayers) { e in
                guard case .object(var o) = e else { return e }
                o[key] = .number(Double(k.count), isInteger: true)
                return .object(o)
            }
        }
        return newLayers
    }
}
