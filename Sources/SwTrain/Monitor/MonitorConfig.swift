import SwConfig

/// `monitor`: what a run records about itself beyond the train and eval lines of metrics.jsonl
/// (see docs/monitor.md). Parsed on every config (so a wrong key is an error even when the
/// section is absent elsewhere); written to `config.json` only when the config has the section,
/// so configs without it keep their hash.
public struct MonitorConfig: Sendable {
    /// `monitor.enabled`: false turns every part off (no start-up exchange, no `ranks` array,
    /// no event files, no trace): the run as it was before monitoring.
    public var enabled = true
    /// `monitor.trace`: Chrome trace events of the steps `firstStep...lastStep` to `trace.json`.
    public var traceEnabled = false
    public var traceFirstStep = 1
    public var traceLastStep = Int.max
    /// `monitor.trace.layers`: each top-level layer's forward and backward as events too.
    public var traceLayers = false
    /// `monitor.stragglers`: steps in the straggler history and the compute ratio to name a rank.
    public var stragglerWindow = 100
    public var stragglerRatio = 1.25
    /// `monitor.resources`: per-rank RSS, CPU use, threads in each train line.
    public var resources = true
    /// `monitor.tensorboard`: TensorBoard event files beside metrics.jsonl.
    public var tensorboard = true
    /// The section as written to config.json, when the config has it.
    var json: JSON?

    static let keys = ["enabled", "trace", "stragglers", "resources", "tensorboard"]

    init(_ v: ConfigValue?, file: String?) throws(ConfigError) {
        let present = v != nil
        let v = v ?? ConfigValue(.object(JSONObject()), path: "monitor", file: file)
        let o = try v.object(allowed: MonitorConfig.keys)
        enabled = try o.bool("enabled", default: true)
        let traceValue = o["trace"] ?? ConfigValue(.object(JSONObject()), path: "monitor.trace", file: file)
        let trace = try traceValue.object(allowed: ["enabled", "steps", "layers"])
        traceEnabled = try trace.bool("enabled", default: false)
        traceLayers = try trace.bool("layers", default: false)
        var stepsJSON: JSON = .string("all")
        if let s = trace["steps"] {
            if case .string = s.json {
                _ = try s.string(oneOf: ["all"])
            } else {
                let r = try s.intArray(in: 1...Int.max)
                guard r.count == 2, r[0] <= r[1] else {
                    throw s.fail("\"all\" or [first, last]: two step numbers >= 1, first <= last")
                }
                traceFirstStep = r[0]
                traceLastStep = r[1]
                stepsJSON = .array(r.map { .number(Double($0), isInteger: true) })
            }
        }
        let stragglerValue = o["stragglers"] ?? ConfigValue(.object(JSONObject()), path: "monitor.stragglers", file: file)
        let st = try stragglerValue.object(allowed: ["window_steps", "ratio"])
        stragglerWindow = try st.int("window_steps", default: 100, in: 1...1_000_000)
        stragglerRatio = try st.double("ratio", default: 1.25, "a number > 1", where: { $0 > 1 })
        resources = try o.bool("resources", default: true)
        tensorboard = try o.bool("tensorboard", default: true)
        guard present else { json = nil; return }
        json = .object(JSONObject([
            ("enabled", .bool(enabled)),
            ("trace", .object(JSONObject([("enabled", .bool(traceEnabled)), ("steps", stepsJSON), ("layers", .bool(traceLayers))]))),
            ("stragglers", .object(JSONObject([("window_steps", .number(Double(stragglerWindow), isInteger: true)),
                                               ("ratio", .number(stragglerRatio, isInteger: false))]))),
            ("resources", .bool(resources)), ("tensorboard", .bool(tensorboard)),
        ]))
    }

    /// Whether step `step` (1-based) is traced.
    func traces(step: Int) -> Bool { enabled && traceEnabled && step >= traceFirstStep && step <= traceLastStep }
}
