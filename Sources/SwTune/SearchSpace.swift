import Foundation
import SwConfig

/// One searched parameter: its config path and the distribution its values come from.
///
/// Values travel in Optuna's internal representation (a Double): the value itself for
/// `float` and `int`, the index into `choices` for `categorical`. `overrideValue` turns it
/// into the JSON that goes at `path` in the trial's config.
public struct Parameter: Sendable, Equatable {
    /// The config path the value is written to (`optimizer.lr`, `model.layers[0].units`).
    public var path: String
    public var distribution: Distribution

    public init(path: String, distribution: Distribution) {
        self.path = path
        self.distribution = distribution
    }
}

/// The distributions of a study file's `space`, mirroring Optuna's `FloatDistribution`,
/// `IntDistribution` and `CategoricalDistribution`.
public enum Distribution: Sendable, Equatable {
    /// `{"uniform": [lo, hi]}` (log false) or `{"log_uniform": [lo, hi]}` (log true, lo > 0).
    case float(low: Double, high: Double, log: Bool)
    /// `{"int": [lo, hi], "step": s}`: lo, lo + s, ..., hi (hi - lo a multiple of s).
    case int(low: Int, high: Int, step: Int)
    /// `{"choice": [a, b, ...]}`: scalars (numbers, strings, booleans, null).
    case categorical([JSON])

    /// The values a grid visits, in internal representation; nil for continuous ranges.
    public var gridValues: [Double]? {
        switch self {
        case .float: return nil
        case .int(let lo, let hi, let step): return stride(from: lo, through: hi, by: step).map(Double.init)
        case .categorical(let c): return c.indices.map(Double.init)
        }
    }

    /// The JSON written into the config for an internal value.
    public func overrideValue(_ v: Double) -> JSON {
        switch self {
        case .float: return .number(v, isInteger: false)
        case .int: return .number(v.rounded(), isInteger: true)
        case .categorical(let c): return c[min(max(Int(v), 0), c.count - 1)]
        }
    }

    /// The value as Optuna reports it (`trial.params`): the number, or the chosen element.
    public func externalValue(_ v: Double) -> JSON { overrideValue(v) }

    /// The distribution as Optuna's `distribution_to_json` writes it: Python's `json.dumps`
    /// of `{"name": class name, "attributes": __dict__}` (", " and ": " separators, the
    /// attributes in the order the class's `__init__` sets them).
    public var optunaJSON: String {
        func num(_ d: Double) -> String { pythonFloat(d) }
        switch self {
        case .float(let lo, let hi, let log):
            return "{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": null, \"low\": \(num(lo)), \"high\": \(num(hi)), \"log\": \(log)}}"
        case .int(let lo, let hi, let step):
            return "{\"name\": \"IntDistribution\", \"attributes\": {\"log\": false, \"step\": \(step), \"low\": \(lo), \"high\": \(hi)}}"
        case .categorical(let c):
            let items = c.map { v -> String in
                if case .number(let n) = v, !n.isInteger { return num(n.double) }
                return v.serialized()
            }
            return "{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [\(items.joined(separator: ", "))]}}"
        }
    }

    /// Reads back `optunaJSON` (what a journal's `distribution` field holds).
    public static func fromOptunaJSON(_ text: String) -> Distribution? {
        guard case .object(let o)? = try? JSON.parse(text), case .string(let name)? = o["name"],
              case .object(let a)? = o["attributes"] else { return nil }
        func d(_ k: String) -> Double? { if let v = a[k]?.doubleValue { return v }; return nil }
        switch name {
        case "FloatDistribution":
            guard let lo = d("low"), let hi = d("high"), case .bool(let log)? = a["log"] else { return nil }
            return .float(low: lo, high: hi, log: log)
        case "IntDistribution":
            guard let lo = d("low"), let hi = d("high"), let s = d("step") else { return nil }
            return .int(low: Int(lo), high: Int(hi), step: Int(s))
        case "CategoricalDistribution":
            guard case .array(let c)? = a["choices"] else { return nil }
            return .categorical(c)
        default: return nil
        }
    }

    /// Whether an internal value lies in the distribution's range (and on its grid).
    public func contains(_ v: Double) -> Bool {
        switch self {
        case .float(let lo, let hi, _): return v >= lo && v <= hi
        case .int(let lo, let hi, let step):
            return v >= Double(lo) && v <= Double(hi) && (v - Double(lo)).truncatingRemainder(dividingBy: Double(step)) == 0
        case .categorical(let c): return v >= 0 && Int(v) < c.count && v.rounded() == v
        }
    }
}

/// A float as Python's `repr` writes it (what `json.dumps` emits): `0.001`, `1e-05`, `64.0`.
func pythonFloat(_ d: Double) -> String {
    if d.isNaN { return "NaN" }
    if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
    var s = "\(d)"
    // Swift writes 1e-05 and 1e+16 like Python; both write integral values with ".0".
    if !s.contains(".") && !s.contains("e") { s += ".0" }
    return s
}

/// A study's search space: the parameters in the order the study file lists them.
public struct SearchSpace: Sendable, Equatable {
    public var parameters: [Parameter]

    public init(_ parameters: [Parameter]) { self.parameters = parameters }

    /// Reads `space`: an object keyed by config paths, each value one distribution object.
    public init(_ v: ConfigValue) throws(ConfigError) {
        let o = try v.object(allowed: v.json.objectKeys)
        guard !o.object.isEmpty else {
            throw v.fail("an object with at least one parameter", hint: "for example {\"optimizer.lr\": {\"log_uniform\": [1e-4, 1e-1]}}")
        }
        var out: [Parameter] = []
        for key in o.object.keys {
            let pv = o[key]!
            try SearchSpace.checkPath(key, pv)
            out.append(Parameter(path: key, distribution: try SearchSpace.distribution(pv)))
        }
        parameters = out
    }

    static let kinds = ["uniform", "log_uniform", "int", "choice"]

    static func checkPath(_ key: String, _ v: ConfigValue) throws(ConfigError) {
        let ok = !key.isEmpty && key.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { piece in
            var name = Substring(piece)
            while name.hasSuffix("]"), let open = name.lastIndex(of: "[") {
                guard Int(name[name.index(after: open)..<name.index(before: name.endIndex)]).map({ $0 >= 0 }) == true else { return false }
                name = name[..<open]
            }
            return !name.isEmpty && !name.contains("[") && !name.contains("]") && !name.contains("=")
        }
        if !ok {
            throw ConfigError(file: v.file, path: v.path, message: "expected a config path like optimizer.lr or model.layers[0].units, got \"\(key)\"",
                              hint: "keys are joined with '.', array elements are [i]")
        }
    }

    static func distribution(_ v: ConfigValue) throws(ConfigError) -> Distribution {
        guard case .object(let raw) = v.json else {
            throw v.fail("a distribution object: {\"uniform\": [lo, hi]}, {\"log_uniform\": [lo, hi]}, {\"int\": [lo, hi], \"step\": s} or {\"choice\": [...]}")
        }
        let kind = raw.keys.first { kinds.contains($0) }
        guard let kind else {
            let near = raw.keys.first.flatMap { nearest($0, in: kinds) }
            throw ConfigError(file: v.file, path: v.path, message: "expected one of the keys \(kinds.map { "\"\($0)\"" }.joined(separator: ", ")), got \(raw.keys.isEmpty ? "an empty object" : raw.keys.map { "\"\($0)\"" }.joined(separator: ", "))",
                              hint: near.map { "did you mean \"\($0)\"?" })
        }
        let o = try v.object(allowed: kind == "int" ? ["int", "step"] : [kind])
        let arg = o[kind]!
        switch kind {
        case "uniform", "log_uniform":
            let a = try arg.array()
            guard a.count == 2 else { throw arg.fail("an array [lo, hi]") }
            let lo = try a[0].double(), hi = try a[1].double()
            let log = kind == "log_uniform"
            if log && lo <= 0 { throw a[0].fail("a number > 0 (log_uniform needs a positive range)", hint: "use uniform for ranges that include 0") }
            if hi < lo { throw a[1].fail("a number >= lo = \(lo)") }
            return .float(low: lo, high: hi, log: log)
        case "int":
            let a = try arg.array()
            guard a.count == 2 else { throw arg.fail("an array [lo, hi] of integers") }
            let lo = try a[0].int(), hi = try a[1].int(in: lo...Int.max, "an integer >= lo = \(lo)")
            let step = try o.int("step", default: 1, in: 1...Int.max)
            if (hi - lo) % step != 0 {
                throw ConfigError(file: v.file, path: o.path + ".step", message: "expected a step that divides hi - lo = \(hi - lo), got \(step)",
                                  hint: "hi = \(lo + (hi - lo) / step * step) or \(lo + ((hi - lo) / step + 1) * step) fits step \(step)")
            }
            return .int(low: lo, high: hi, step: step)
        default:
            let items = try arg.array()
            guard !items.isEmpty else { throw arg.fail("a non-empty array of choices") }
            for item in items {
                switch item.json {
                case .object, .array: throw item.fail("a number, string, boolean or null", hint: "Optuna stores only scalar choices")
                default: break
                }
            }
            return .categorical(items.map(\.json))
        }
    }

    /// `--set`-style assignments (`path=json`) that put `values` (internal) into a config.
    public func overrides(_ values: [Double]) -> [String] {
        zip(parameters, values).map { p, v in "\(p.path)=\(p.distribution.overrideValue(v).serialized())" }
    }
}

extension JSON {
    /// The keys of an object (empty for other values).
    var objectKeys: [String] { if case .object(let o) = self { return o.keys }; return [] }
}
