import SwConfig

/// One pruning event as metrics.jsonl and the log report it:
/// `{"event": "prune", "step": t, "target_sparsity": s, "sparsity": reached, ...}`; unstructured
/// adds `"pruned"`/`"weights"` (over every pruned weight) and `"layers"` (per weight tensor:
/// its sparsity); structured adds `"units"` (per pruned layer: units kept) and `"parameters"`.
struct PruneEvent {
    let json: JSONObject
    /// The line the log prints.
    let line: String
    /// Whether the model's architecture changed (the run folder's config.json is rewritten).
    let changedArchitecture: Bool

    /// An unstructured event: `pruned` of `total` weights are masked.
    init(step: Int, target: Double, pruned: Int, of total: Int, perTensor: [(String, Int, Int)]) {
        let reached = total > 0 ? Double(pruned) / Double(total) : 0
        json = JSONObject([
            ("event", .string("prune")), ("step", .integer(step)),
            ("target_sparsity", .number(target, isInteger: false)), ("sparsity", .number(reached, isInteger: false)),
            ("pruned", .integer(pruned)), ("weights", .integer(total)),
            ("layers", .object(JSONObject(perTensor.map { name, p, n in
                (name, JSON.number(n > 0 ? Double(p) / Double(n) : 0, isInteger: false))
            }))),
        ])
        line = "prune step \(step): sparsity \(Self.format(reached)) (target \(Self.format(target))), \(pruned) of \(total) weights masked"
        changedArchitecture = false
    }

    /// A structured event: `result` lists each pruned layer's units before and after.
    init(step: Int, target: Double, structured result: StructuredPruning.EventResult, parameters: Int) {
        let original = result.layers.reduce(0) { $0 + $1.original }, kept = result.layers.reduce(0) { $0 + $1.kept }
        let reached = original > 0 ? 1 - Double(kept) / Double(original) : 0
        json = JSONObject([
            ("event", .string("prune")), ("step", .integer(step)),
            ("target_sparsity", .number(target, isInteger: false)), ("sparsity", .number(reached, isInteger: false)),
            ("units", .object(JSONObject(result.layers.map { ($0.path, JSON.integer($0.kept)) }))),
            ("parameters", .integer(parameters)),
        ])
        let units = result.layers.map { "\($0.path): \($0.kept)/\($0.original)" }.joined(separator: ", ")
        line = "prune step \(step): units kept \(units) (sparsity \(Self.format(reached)), target \(Self.format(target))), \(parameters) parameters"
        changedArchitecture = result.changed
    }

    static func format(_ x: Double) -> String { String(format: "%.4f", x) }
}
