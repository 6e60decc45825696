import SwConfig

/// Finds and replaces layer entries of a config's `model.layers` by a layer's path: a numeric
/// component indexes a list, any other names a key (`"1.layers.0"` is
/// `model.layers[1].layers[0]`, the dense inside a residual).
public enum ConfigLayers {
    /// The entry at `path` in `layers` (the `model.layers` list), or nil.
    public static func entry(at path: String, in layers: JSON) -> JSON? {
        var cur = layers
        for part in path.split(separator: ".") {
            if let i = Int(part) {
                guard case .array(let a) = cur, i < a.count else { return nil }
                cur = a[i]
            } else {
                guard case .object(let o) = cur, let next = o[String(part)] else { return nil }
                cur = next
            }
        }
        return cur
    }

    /// The `"type"` of a layer entry.
    public static func type(of entry: JSON) -> String? {
        guard case .object(let o) = entry, case .string(let t)? = o["type"] else { return nil }
        return t
    }

    /// `layers` with the entry at `path` replaced by `transform(entry)` (unchanged when absent).
    public static func replacing(at path: String, in layers: JSON, _ transform: (JSON) -> JSON) -> JSON {
        replace(ArraySlice(path.split(separator: ".").map(String.init)), layers, transform)
    }

    private static func replace(_ parts: ArraySlice<String>, _ cur: JSON, _ transform: (JSON) -> JSON) -> JSON {
        guard let head = parts.first else { return transform(cur) }
        let rest = parts.dropFirst()
        if let i = Int(head), case .array(var a) = cur, i < a.count {
            a[i] = replace(rest, a[i], transform)
            return .array(a)
        }
        if case .object(var o) = cur, let next = o[head] {
            o[head] = replace(rest, next, transform)
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
