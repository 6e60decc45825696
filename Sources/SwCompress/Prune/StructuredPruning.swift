import SwConfig
import SwNN

/// One prunable layer of a structured pruning: a `dense` / `conv1d` / `conv2d` of `model.layers` or a residual body
/// (the producer) whose output units reach the next prunable layer (the consumer) only
/// through layers that keep units apart: elementwise activations, dropout, pools over
/// channel-first maps, flatten.
public struct StructuredGroup: Sendable {
    /// The list the three live in: `""` for `model.layers`, `"2.layers"` for the body of the
    /// residual at 2 (the body's own width is the residual's and stays; units inside it can go).
    public var container: String = ""
    /// Index of the producer in the container.
    public var producer: Int
    /// Indices between producer and consumer (rebuilt for the new width).
    public var between: [Int]
    /// Index of the layer reading the producer's units.
    public var consumer: Int

    public var producerPath: String { childPath(container, String(producer)) }
    public var consumerPath: String { childPath(container, String(consumer)) }
}

/// Structured magnitude pruning: removes whole output units (dense features, conv channels)
/// ranked by the L2 norm of their weights, together with the next layer's matching inputs,
/// so the model really gets smaller (`Model.rewrite` over `Prunable.keeping`).
///
/// Chains of the top-level `model.layers` list are cut, and chains inside a residual's body
/// (`"2.layers.0"` feeding `"2.layers.2"`: the body's input and output width, the residual's,
/// stays). A layer whose units feed a `residual`, `transformer_block`, `causal_attention`,
/// `layernorm`, `reshape`, `embedding` or `lowrank_dense`, or that produces the model's (or a
/// residual body's) output, cannot lose units: `plan` says why, and a pruning that asks for it
/// is refused by name.
public enum StructuredPruning {
    /// Layers units pass through one for one (elementwise or per channel).
    static let passThrough: Set<String> = ["relu", "gelu", "tanh", "sigmoid", "silu", "dropout", "flatten",
                                            "maxpool1d", "avgpool1d", "maxpool2d", "avgpool2d"]
    static let prunableTypes: Set<String> = ["dense", "conv1d", "conv2d"]

    /// The lists whose chains can be cut: `model.layers` and every residual body, by path.
    static func containers(_ model: Model) -> [(path: String, layers: [any Layer])] {
        [("", model.network.layers)] + model.network.descendants.compactMap { d in
            (d.layer as? Residual).map { (childPath(d.path, "layers"), $0.body.layers) }
        }
    }

    /// For every prunable layer of `model.layers` and of residual bodies, by path: its group,
    /// or the reason it cannot lose units.
    public static func plan(_ model: Model) -> [(path: String, group: StructuredGroup?, reason: String?)] {
        containers(model).flatMap { plan(container: $0.path, layers: $0.layers) }
    }

    static func plan(container: String, layers: [any Layer]) -> [(path: String, group: StructuredGroup?, reason: String?)] {
        var out: [(String, StructuredGroup?, String?)] = []
        let at = { (j: Int) in childPath(container, String(j)) }
        for (i, l) in layers.enumerated() where l is any Prunable && prunableTypes.contains(l.typeName) {
            var between: [Int] = []
            var reason: String? = nil
            var consumer: Int? = nil
            var j = i + 1
            while j < layers.count {
                let t = layers[j].typeName
                if layers[j] is any Prunable && prunableTypes.contains(t) { consumer = j; break }
                if !passThrough.contains(t) {
                    reason = "its units feed the \(t) at \(at(j)); structured pruning cuts only chains of "
                        + "dense/conv1d/conv2d through elementwise activations, dropout, pools and flatten"
                        + (t == "residual" || t == "transformer_block" ? " (the \(t) adds its input to its output, so its width is fixed)" : "")
                    break
                }
                between.append(j)
                j += 1
            }
            if reason == nil && consumer == nil {
                reason = container.isEmpty ? "it produces the model's output"
                    : "it produces the output of the residual body \(container) (its width is the residual's)"
            }
            if reason == nil, let c = consumer, let why = axisProblem(layers, from: i, through: between, to: c, at: at) { reason = why }
            out.append((at(i), reason == nil ? StructuredGroup(container: container, producer: i, between: between, consumer: consumer!) : nil, reason))
        }
        return out
    }

    /// Why the units of `layers[p]` cannot be followed to `layers[c]` (nil when they can).
    static func axisProblem(_ layers: [any Layer], from p: Int, through between: [Int], to c: Int, at: (Int) -> String) -> String? {
        var axis = layers[p] is Dense ? layers[p].outputShape.count - 1 : 0
        for j in between {
            let t = layers[j].typeName
            if t.hasSuffix("pool1d") || t.hasSuffix("pool2d") {
                if axis != 0 { return "the \(t) at \(at(j)) pools over the units' axis" }
            } else if t == "flatten" {
                axis = 0
            }
        }
        let want = layers[c] is Dense ? layers[c].inputShape.count - 1 : 0
        return axis == want ? nil : "the \(layers[c].typeName) at \(at(c)) reads another axis than the one holding the units"
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

    /// Rewrites `model` keeping `kept[producerPath]` units of every planned producer,
    /// rebuilding the layers in between from their config entries (`layersJSON`) for the new
    /// widths. Returns the config's `model.layers` with the new `units` / `channels`.
    public static func apply(_ model: Model, groups: [StructuredGroup], kept: [String: [Int]], layersJSON: JSON) throws -> JSON {
        var replaced: [String: any Layer] = [:]
        for (container, layers) in containers(model) {
            let mine = groups.filter { $0.container == container }
            guard !mine.isEmpty else { continue }
            var keptHere: [Int: [Int]] = [:], inputsKept: [Int: [Int]] = [:], rebuilt = Set<Int>()
            for g in mine {
                keptHere[g.producer] = kept[g.producerPath]!
                inputsKept[g.consumer] = consumerInputs(layers, producer: g.producer, between: g.between, kept: kept[g.producerPath]!)
                rebuilt.formUnion(g.between)
            }
            // New layers, built in order so each rebuilt one sees its new input shape.
            var shape = layers.first!.inputShape
            for (i, l) in layers.enumerated() {
                var n: any Layer = l
                if keptHere[i] != nil || inputsKept[i] != nil {
                    n = cut(l, outputs: keptHere[i], inputs: inputsKept[i])
                } else if rebuilt.contains(i) {
                    let path = childPath(container, String(i))
                    guard let entry = ConfigLayers.entry(at: path, in: layersJSON), case .object(var body) = entry,
                          let type = ConfigLayers.type(of: entry), let builder = LayerRegistry.standard.builders[type] else {
                        throw CompressError("model.layers path \(path): no config entry to rebuild the \(l.typeName) for the new width")
                    }
                    body["type"] = nil
                    n = try builder.build(ConfigObject(object: body, path: "model.layers path \(path)", file: nil), shape, LayerListBuilder())
                }
                if n !== l { replaced[childPath(container, String(i))] = n }
                shape = n.outputShape
            }
        }
        try model.rewrite { path, _ in replaced[path] }
        var newLayers = layersJSON
        for g in groups {
            let key = model.network.layer(at: g.producerPath) is Dense ? "units" : "channels"
            let count = kept[g.producerPath]!.count
            newLayers = ConfigLayers.replacing(at: g.producerPath, in: newLayers) { e in
                guard case .object(var o) = e else { return e }
                o[key] = .number(Double(count), isInteger: true)
                return .object(o)
            }
        }
        return newLayers
    }

    /// `layer` keeping output units `outputs` and / or input features `inputs`.
    static func cut(_ layer: any Layer, outputs: [Int]?, inputs: [Int]?) -> any Layer {
        func both<L: Prunable>(_ x: L) -> L {
            var y = x
            if let k = outputs { y = y.keeping(outputUnits: k) }
            if let k = inputs { y = y.keeping(inputFeatures: k) }
            return y
        }
        switch layer {
        case let d as Dense: return both(d)
        case let c as Conv1D: return both(c)
        case let c as Conv2D: return both(c)
        default: preconditionFailure("StructuredPruning.cut: \(layer.typeName) is not a dense or conv layer")
        }
    }
}
