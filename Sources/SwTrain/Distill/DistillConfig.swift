import Foundation
import SwConfig

/// `distill`: {"teacher": {"config": PATH, "checkpoint": PATH}, "temperature": 1, "alpha": 0.5,
/// "cache_logits": false}.
///
/// Knowledge distillation (Hinton et al. 2015): the student (the config's `model`) learns from
/// `α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1 − α)·CE(z_s, y)` per row. The teacher is
/// the model of its own config file, with the weights at `checkpoint` (anything `model.init_from`
/// takes: a safetensors file, a checkpoint or run folder, a compressed-model folder). Both
/// paths resolve against this config file's folder and are stored absolute in the resolved config;
/// they are read at set-up (a teacher trained by an earlier command need not exist when the
/// config is only parsed).
public struct DistillConfig: Sendable {
    /// The teacher's config file (absolute).
    public var teacherConfig: String
    /// The teacher's weights (absolute): a `.safetensors` file or a folder `InitFrom` reads.
    public var teacherCheckpoint: String
    /// The softmax temperature T (> 0).
    public var temperature: Double
    /// The weight α of the distillation term, in [0, 1].
    public var alpha: Double
    /// Compute the teacher's outputs for the whole training set once at set-up (each rank its
    /// share, then gathered) and reuse them every epoch instead of running the teacher per step.
    public var cacheLogits: Bool
    var json: JSON

    init(_ v: ConfigValue, baseDirectory: String) throws(ConfigError) {
        let o = try v.object(allowed: ["teacher", "temperature", "alpha", "cache_logits"])
        let t = try o.required("teacher", "an object with \"config\" and \"checkpoint\"").object(allowed: ["config", "checkpoint"])
        func path(_ key: String, _ what: String) throws(ConfigError) -> String {
            let raw = try t.required(key, what)
            let p = try raw.string()
            if p.isEmpty { throw raw.fail(what) }
            let joined = p.hasPrefix("/") ? p : (baseDirectory as NSString).appendingPathComponent(p)
            let absolute = joined.hasPrefix("/") ? joined : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(joined)
            let full = (absolute as NSString).standardizingPath
            return full
        }
        teacherConfig = try path("config", "the path of the teacher's JSON config")
        teacherCheckpoint = try path("checkpoint", "the path of the teacher's weights (a checkpoint or run folder, a .safetensors file, a compressed-model folder)")
        temperature = try o.double("temperature", default: 1, "a positive number", where: { $0 > 0 && $0.isFinite })
        alpha = try o.double("alpha", default: 0.5, "a number in [0, 1]", where: { $0 >= 0 && $0 <= 1 })
        cacheLogits = try o.bool("cache_logits", default: false)
        json = .object(JSONObject([
            ("teacher", .object(JSONObject([("config", .string(teacherConfig)), ("checkpoint", .string(teacherCheckpoint))]))),
            ("temperature", .number(temperature, isInteger: false)),
            ("alpha", .number(alpha, isInteger: false)),
        ] + (cacheLogits ? [("cache_logits", JSON.bool(true))] : [])))   // only when set: keeps earlier config hashes
    }
}
