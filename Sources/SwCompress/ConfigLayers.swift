import SwConfig
import SwNN

/// Finds and replaces layer entries of a config's `model.layers` by a layer's path: a numeric
/// component indexes a list, any other names a key (`"1.layers.0"` is
/// `model.layers[1].layers[0]`, the dense inside a residual). Inside a `transformer_block` or
/// `causal_attention` entry the rest of the path names one of its parts (`"3.attn.qkv"`, see
/// `LayerParts`): its entry is `parts["attn.qkv"]` when the entry has one, and otherwise the
/// implicit `{"type": "dense", "units": N, "bias": B}` of the built layer `network` holds at
/// that path (no entry when `network` is not given).
public enum ConfigLayers {
    /// The entry at `path` in `layers` (the `model.layers` list), or nil. `network` (the model
    /// built from these layers) supplies the implicit entries of unreplaced parts.
    public static func entry(at path: String, in layers: JSON, network: (any Layer)? = nil) -> JSON? {
        var cur = layers
        let parts = path.split(separator: ".").map(String.init)
        for (k, part) in parts.enumerated() {
            if let i = Int(part), case .array(let a) = cur {
                guard i < a.count else { return nil }
                cur = a[i]
            } else if case .object(let o) = cur, let next = o[part] {
                cur = next
            } else if let type = type(of: cur), let names = LayerParts.replaceable[type] {
                let rest = parts[k...].joined(separator: ".")
                guard names.contains(rest) else { return nil }
                if case .object(let o) = cur, case .object(let given)? = o[LayerParts.key], let e = given[rest] { return e }
                return network.flatMap { implicitPart(path, in: $0) }
            } else {
                return nil
            }
        }
        return cur
    }

    /// `{"type": "dense", "units": N, "bias": B}` for the `Dense` at `path` of `network`.
    static func implicitPart(_ path: String, in network: any Layer) -> JSON? {
        guard let d = network.layer(at: path) as? Dense else { return nil }
        return .object(JSONObject([("type", .string("dense")), ("units", .integer(d.outFeatures)), ("bias", .bool(d.useBias))]))
    }

    /// The `"type"` of a layer entry.
    public static func type(of entry: JSON) -> String? {
        guard case .object(let o) = entry, case .string(let t)? = o["type"] else { return nil }
        return t
    }

    /// `layers` with the entry at `path` replaced by `transform(entry)` (unchanged when absent).
    /// A part of a `transformer_block` or `causal_attention` is written into the entry's
    /// `parts` object (the implicit dense entry, from `network`, is what `transform` sees).
    public static func replacing(at path: String, in layers: JSON, network: (any Layer)? = nil, _ transform: (JSON) -> JSON) -> JSON {
        replace(ArraySlice(path.split(separator: ".").map(String.init)), layers, path: path, network: network, transform)
    }

    private static func replace(_ parts: ArraySlice<String>, _ cur: JSON, path: String, network: (any Layer)?,
                                _ transform: (JSON) -> JSON) -> JSON {
        guard let head = parts.first else { return transform(cur) }
        let rest = parts.dropFirst()
        if let i = Int(head), case .array(var a) = cur, i < a.count {
            a[i] = replace(rest, a[i], path: path, network: network, transform)
            return .array(a)
        }
        if case .object(var o) = cur, let next = o[head] {
            o[head] = replace(rest, next, path: path, network: network, transform)
            return .object(o)
        }
        if case .object(var o) = cur, let type = type(of: cur), let names = LayerParts.replaceable[type] {
            let part = parts.joined(separator: ".")
            guard names.contains(part) else { return cur }
            var given: JSONObject
            if case .object(let g)? = o[LayerParts.key] { given = g } else { given = JSONObject() }
            guard let current = given[part] ?? network.flatMap({ implicitPart(path, in: $0) }) else { return cur }
            given[part] = transform(current)
            o[LayerParts.key] = .object(given)
            return .object(o)
        }
        return cur
    }

    /// The `lowrank_dense` entry for a `dense` entry: same units and bias, with `rank`.
    public static func lowRank(_ dense: JSON, rank: Int) -> JSON {
        guard case .object(let o) = dense else { return dense }
        var n = JSONObject([("type", .string("lowrank_dense"))])
        if let u = o["units"] { n["units"] = u }
        n["rank"] = .number(Double(rank), isInteger: true)
        if let b = o["bias"] { n["bias"] = b }
        return .object(n)
    }
}
