import SwConfig
import SwNN

/// `prune`: {"method": "magnitude", "scope": "global"|"layer", "structured": false,
/// "initial_sparsity": 0, "target_sparsity", "start_step": 0, "end_step", "frequency": 100,
/// "layers": [paths]}.
///
/// Gradual magnitude pruning during training (Zhu & Gupta 2017): at every pruning event
/// (`start_step`, then every `frequency` steps up to `end_step`, and `end_step` itself) the
/// sparsity of the cubic schedule `MagnitudePruning.cubicSparsity` is reached. Unstructured:
/// the smallest `|w|` of the pruned weights (over all of them with `global`, per layer with
/// `layer`) are masked and stay exactly 0. Structured: each pruned layer keeps
/// `units − round(s · units)` of its original output units (the largest L2 norms) and the
/// live model shrinks. An event at step `t` happens after the optimizer step that completes
/// step `t`; `start_step` 0 is an event at set-up, before the first step.
public struct PruneConfig: Sendable {
    /// `"magnitude"` (the only method: |w| for weights, the L2 norm for units).
    public var method: String
    public var scope: PruningScope
    public var structured: Bool
    public var initialSparsity: Double
    public var targetSparsity: Double
    public var startStep: Int
    public var endStep: Int
    public var frequency: Int
    /// Paths of the pruned layers (`"0"`, `"1.layers.0"`); nil: every dense and conv layer
    /// (structured: every one whose output feeds another).
    public var layers: [String]?
    var json: JSON

    static let keys = ["method", "scope", "structured", "initial_sparsity", "target_sparsity", "start_step", "end_step",
                       "frequency", "layers"]

    init(_ v: ConfigValue) throws(ConfigError) {
        let o = try v.object(allowed: Self.keys)
        method = try o.string("method", default: "magnitude", oneOf: ["magnitude"])
        structured = try o.bool("structured", default: false)
        // Units of different layers have no common scale: structured pruning is per layer.
        let scopeName = try o.string("scope", default: structured ? "layer" : "global", oneOf: PruningScope.allCases.map(\.rawValue))
        scope = PruningScope(rawValue: scopeName)!
        if structured && scope == .global {
            throw ConfigError(file: v.file, path: v.path + ".scope",
                              message: "expected \"layer\" with structured pruning, got \"global\"",
                              hint: "structured pruning keeps the same fraction of each layer's units; set scope \"layer\" or leave it out")
        }
        let fraction = "a number in [0, 1)"
        initialSparsity = try o.double("initial_sparsity", default: 0, fraction, where: { $0 >= 0 && $0 < 1 })
        targetSparsity = try o.required("target_sparsity", fraction).double(fraction, where: { $0 >= 0 && $0 < 1 })
        if targetSparsity < initialSparsity {
            throw ConfigError(file: v.file, path: v.path + ".target_sparsity",
                              message: "expected at least initial_sparsity \(initialSparsity), got \(targetSparsity)",
                              hint: "gradual pruning only removes weights; lower initial_sparsity")
        }
        startStep = try o.int("start_step", default: 0, in: 0...Int.max)
        endStep = try o.required("end_step", "a step >= start_step").int(in: 0...Int.max, "a step >= start_step \(startStep)")
        if endStep < startStep {
            throw ConfigError(file: v.file, path: v.path + ".end_step",
                              message: "expected a step >= start_step \(startStep), got \(endStep)")
        }
        frequency = try o.int("frequency", default: 100, in: 1...Int.max)
        if let l = o["layers"] {
            var paths: [String] = []
            for item in try l.array() {
                let p = try item.string()
                if p.isEmpty { throw item.fail("the path of a dense or conv layer, like \"0\" or \"1.layers.0\"") }
                if paths.contains(p) { throw item.fail("a path listed once") }
                paths.append(p)
            }
            if paths.isEmpty { throw l.fail("a non-empty list of layer paths (leave the key out for every dense and conv layer)") }
            layers = paths
        } else {
            layers = nil
        }
        var out = JSONObject([
            ("method", .string(method)), ("scope", .string(scope.rawValue)), ("structured", .bool(structured)),
            ("initial_sparsity", .number(initialSparsity, isInteger: false)),
            ("target_sparsity", .number(targetSparsity, isInteger: false)),
            ("start_step", .number(Double(startStep), isInteger: true)),
            ("end_step", .number(Double(endStep), isInteger: true)),
            ("frequency", .number(Double(frequency), isInteger: true)),
        ])
        if let layers { out["layers"] = .array(layers.map { .string($0) }) }
        json = .object(out)
    }

    /// The schedule's sparsity at `step` (snapped to the events).
    public func sparsity(at step: Int) -> Double {
        MagnitudePruning.cubicSparsity(step: step, initial: initialSparsity, target: targetSparsity,
                                       start: startStep, end: endStep, frequency: frequency)
    }

    /// Whether `step` is a pruning event (step 0: at set-up).
    public func isEvent(_ step: Int) -> Bool {
        MagnitudePruning.isEvent(step: step, start: startStep, end: endStep, frequency: frequency)
    }
}
