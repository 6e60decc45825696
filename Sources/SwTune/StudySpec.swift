import Foundation
import SwConfig

/// A study file (`swtrain tune STUDY.json`), validated strictly: an unknown key, a wrong type
/// or an out-of-range value is a `ConfigError` naming the file, the JSON path, what was
/// expected and what was found, with a hint.
///
/// ```json
/// {"name": "mlp-search", "base": "quickstart.json",
///  "space": {"optimizer.lr": {"log_uniform": [1e-4, 1e-1]},
///            "model.layers[0].units": {"choice": [64, 128, 256]}},
///  "sampler": "tpe", "pruner": "asha", "trials": 30, "metric": "accuracy", "seed": 1}
/// ```
public struct StudySpec: Sendable {
    public enum SamplerKind: String, Sendable { case random, grid, tpe }
    public enum PrunerKind: String, Sendable { case none, median, asha, hyperband }
    public enum Metric: String, Sendable { case accuracy, loss }

    public var name: String
    /// The base train config, resolved against the study file's folder.
    public var basePath: String
    public var space: SearchSpace
    public var samplerKind: SamplerKind
    public var sampler: any Sampler
    public var prunerKind: PrunerKind
    public var pruner: any Pruner
    /// How many trials finish (complete, pruned or failed) before the study ends.
    public var trials: Int
    public var metric: Metric
    public var direction: Direction
    public var seed: UInt64
    public var ranksPerTrial: Int
    /// Seconds after which no new trial starts (running ones finish).
    public var timeout: Double?
    /// The study folder (relative to the working directory): journal.log, best.json,
    /// trials.csv, trial-<n>/.
    public var dir: String
    public var file: String?
    /// The study file as written (stored in the journal as a study user attribute).
    public var json: JSON

    static let keys = ["name", "base", "space", "sampler", "pruner", "trials", "metric", "direction", "seed",
                       "ranks_per_trial", "timeout", "dir"]

    public static func load(path: String) throws(ConfigError) -> StudySpec {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw ConfigError(file: path, path: "", message: exists ? "cannot read the file as UTF-8 text" : "no such file",
                              hint: exists ? "check its permissions" : "give the path of a study file, like examples/tune/mnist1d-tpe-asha.json")
        }
        let base = (path as NSString).deletingLastPathComponent
        return try parse(text: text, file: path, baseDirectory: base.isEmpty ? "." : base)
    }

    public static func parse(text: String, file: String? = nil, baseDirectory: String = ".") throws(ConfigError) -> StudySpec {
        try StudySpec(ConfigValue.parse(text, file: file), baseDirectory: baseDirectory)
    }

    init(_ root: ConfigValue, baseDirectory: String) throws(ConfigError) {
        let o = try root.object(allowed: StudySpec.keys)
        file = root.file
        json = root.json
        name = try o.string("name")
        if name.isEmpty || name.contains("/") { throw o["name"]!.fail("a non-empty name without '/'") }
        let base = try o.string("base")
        basePath = base.hasPrefix("/") ? base : (baseDirectory as NSString).appendingPathComponent(base)
        if !FileManager.default.fileExists(atPath: basePath) {
            throw ConfigError(file: file, path: "base", message: "no such file: \(basePath)",
                              hint: "base is a train config, relative to the study file's folder (\(baseDirectory))")
        }
        space = try SearchSpace(o.required("space", "an object of config paths to distributions"))
        seed = UInt64(try o.int("seed", default: 0, in: 0...Int.max))
        trials = try o.int("trials", default: 20, in: 1...1_000_000)
        metric = Metric(rawValue: try o.string("metric", default: "accuracy", oneOf: ["accuracy", "loss"]))!
        let dir = try o.optionalString("direction", oneOf: ["maximize", "minimize"])
        direction = dir.map { $0 == "maximize" ? .maximize : .minimize } ?? (metric == .accuracy ? .maximize : .minimize)
        ranksPerTrial = try o.int("ranks_per_trial", default: 1, in: 1...Int.max)
        timeout = try o.optionalDouble("timeout", "a number of seconds > 0", where: { $0 > 0 })
        self.dir = try o.string("dir", default: "studies/\(name)")
        (samplerKind, sampler) = try StudySpec.sampler(o["sampler"], seed: seed, space: space, file: file)
        (prunerKind, pruner) = try StudySpec.pruner(o["pruner"])
    }

    /// `"tpe"` or `{"type": "tpe", "n_startup_trials": 10, "n_ei_candidates": 24, ...}`.
    static func sampler(_ v: ConfigValue?, seed: UInt64, space: SearchSpace, file: String?) throws(ConfigError) -> (SamplerKind, any Sampler) {
        let kinds = ["random", "grid", "tpe"]
        guard let v else { return (.tpe, TPESampler(seed: seed)) }
        var kind: String
        var o: ConfigObject?
        if case .string = v.json {
            kind = try v.string(oneOf: kinds)
        } else {
            guard case .object(let raw) = v.json else { throw v.fail("one of \"random\", \"grid\", \"tpe\" or an object with \"type\"") }
            kind = try ConfigObject(object: raw, path: v.path, file: v.file).string("type", oneOf: kinds)
            let allowed = kind == "tpe" ? ["type", "n_startup_trials", "n_ei_candidates", "prior_weight", "consider_endpoints",
                                           "consider_magic_clip", "constant_liar"] : ["type"]
            o = try v.object(allowed: allowed)
        }
        switch kind {
        case "random": return (.random, RandomSampler(seed: seed))
        case "grid":
            if let bad = space.parameters.first(where: { $0.distribution.gridValues == nil }) {
                throw ConfigError(file: file, path: "space.\(bad.path)", message: "expected a \"choice\" or \"int\" distribution for the grid sampler, got a continuous range",
                                  hint: "list the grid values with {\"choice\": [...]}, or use sampler \"random\" or \"tpe\"")
            }
            return (.grid, GridSampler(seed: seed))
        default:
            var t = TPESampler(seed: seed)
            if let o {
                t.nStartupTrials = try o.int("n_startup_trials", default: 10, in: 0...Int.max)
                t.nEICandidates = try o.int("n_ei_candidates", default: 24, in: 1...100_000)
                t.priorWeight = try o.double("prior_weight", default: 1, "a number > 0", where: { $0 > 0 })
                t.considerEndpoints = try o.bool("consider_endpoints", default: false)
                t.magicClip = try o.bool("consider_magic_clip", default: true)
                t.constantLiar = try o.bool("constant_liar", default: true)
            }
            return (.tpe, t)
        }
    }

    /// `"asha"` or `{"type": "asha", "min_resource": 100, "reduction_factor": 4}`.
    static func pruner(_ v: ConfigValue?) throws(ConfigError) -> (PrunerKind, any Pruner) {
        let kinds = ["none", "median", "asha", "hyperband"]
        guard let v else { return (.none, NoPruner()) }
        var kind: String
        var o: ConfigObject?
        if case .string = v.json {
            kind = try v.string(oneOf: kinds)
        } else {
            guard case .object(let raw) = v.json else { throw v.fail("one of \"none\", \"median\", \"asha\", \"hyperband\" or an object with \"type\"") }
            kind = try ConfigObject(object: raw, path: v.path, file: v.file).string("type", oneOf: kinds)
            let allowed: [String]
            switch kind {
            case "median": allowed = ["type", "n_startup_trials", "n_warmup_steps"]
            case "asha": allowed = ["type", "min_resource", "reduction_factor", "min_early_stopping_rate"]
            case "hyperband": allowed = ["type", "min_resource", "max_resource", "reduction_factor"]
            default: allowed = ["type"]
            }
            o = try v.object(allowed: allowed)
        }
        switch kind {
        case "median":
            return (.median, MedianPruner(nStartupTrials: try o?.int("n_startup_trials", default: 5, in: 0...Int.max) ?? 5,
                                          nWarmupSteps: try o?.int("n_warmup_steps", default: 0, in: 0...Int.max) ?? 0))
        case "asha":
            return (.asha, SuccessiveHalvingPruner(minResource: try o?.optionalInt("min_resource", in: 1...Int.max),
                                                   reductionFactor: try o?.int("reduction_factor", default: 4, in: 2...Int.max) ?? 4,
                                                   minEarlyStoppingRate: try o?.int("min_early_stopping_rate", default: 0, in: 0...Int.max) ?? 0))
        case "hyperband":
            return (.hyperband, HyperbandPruner(minResource: try o?.optionalInt("min_resource", in: 1...Int.max),
                                                maxResource: try o?.optionalInt("max_resource", in: 1...Int.max),
                                                reductionFactor: try o?.int("reduction_factor", default: 3, in: 2...Int.max) ?? 3))
        default:
            return (.none, NoPruner())
        }
    }
}
