import SwConfig

/// The `"parts"` key of a composite layer entry: some of the layer's inner projections
/// replaced by other layers, so a compressed transformer can be written as a config.
///
/// ```json
/// {"type": "transformer_block", "heads": 4,
///  "parts": {"attn.qkv": {"type": "lowrank_dense", "units": 384, "rank": 32},
///            "mlp.2":    {"type": "quantized_dense", "units": 128, "granularity": "per_channel", "activations": "dynamic"}}}
/// ```
///
/// Each key is a path relative to the layer, one of the layer type's `replaceable` parts
/// (`transformer_block`: `attn.qkv`, `attn.proj`, `mlp.0`, `mlp.2`; `causal_attention`: `qkv`,
/// `proj`), each of them a `dense` when not replaced. Each value is any layer entry; it is built
/// for the part's input shape and must give the part's output shape. Parameter names follow
/// the path (`3.attn.qkv.0.weight` for a `lowrank_dense`, `3.mlp.2.weight_scale`), as `Model.rewrite` would name them.
public enum LayerParts {
    /// The config key.
    public static let key = "parts"

    /// The replaceable parts by layer type name: the paths, relative to the layer, of the
    /// projections that are `dense` layers unless the entry's `parts` replaces them.
    public static let replaceable: [String: [String]] = [
        "transformer_block": ["attn.qkv", "attn.proj", "mlp.0", "mlp.2"],
        "causal_attention": ["qkv", "proj"],
    ]

    /// `layer` (just built from entry `e` of type `type`) with the parts `e` names replaced,
    /// or `layer` itself when `e` has no `parts`. Errors name the entry's JSON path.
    static func apply(_ e: ConfigObject, type: String, to layer: any Layer, nested: LayerListBuilder) throws(ConfigError) -> any Layer {
        guard let value = e[key] else { return layer }
        let allowed = replaceable[type] ?? []
        guard case .object(let raw) = value.json else {
            throw value.fail("an object of part path -> layer entry, like {\"attn.qkv\": {\"type\": \"lowrank_dense\", \"units\": 384, \"rank\": 32}}")
        }
        var built: [String: any Layer] = [:]
        for (name, json) in raw.pairs {
            guard allowed.contains(name), let part = layer.layer(at: name) else {
                throw ConfigError(file: e.file, path: value.path + "." + name,
                                  message: "\(type) has no replaceable part \"\(name)\"",
                                  hint: "the parts are \(allowed.joined(separator: ", "))")
            }
            let sub = ConfigValue(json, path: value.path + "." + name, file: e.file)
            let replacement = try nested.buildOne(sub, input: part.inputShape)
            guard replacement.outputShape == part.outputShape else {
                throw ConfigError(file: e.file, path: sub.path,
                                  message: "the part \(name) must output \(part.outputShape), this entry outputs \(replacement.outputShape)",
                                  hint: "set its units to \(part.outputShape.last ?? 0)")
            }
            built[name] = replacement
        }
        do {
            return try layer.rewritingChildren(path: "") { path, _ in built[path] }
        } catch {
            throw ConfigError(file: e.file, path: value.path, message: "the parts do not fit the \(type): \(error)")
        }
    }
}
