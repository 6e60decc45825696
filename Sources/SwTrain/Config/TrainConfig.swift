import Foundation
import SwConfig

/// A training run's configuration: the JSON document docs/config.md describes, validated.
///
/// Every field has the default docs/config.md lists except `data` and `model`, which are required.
/// Reading is strict: an unknown key, a wrong type or an out-of-range value is a `ConfigError`
/// naming the file, the JSON path, the expected and the actual value (and for an unknown key
/// the nearest valid one). `resolved` is the whole document with defaults filled in: it is
/// what the run writes to `config.json`, and what its hash is computed from.
public struct TrainConfig: Sendable {
    public var name: String
    public var seed: UInt64
    public var data: DataConfig
    /// The raw `model` section; `Model(config:)` builds and validates it.
    public var model: ConfigValue
    public var optimizer: OptimizerConfig
    public var regularization: RegularizationConfig
    public var schedule: ScheduleConfig
    public var training: TrainingConfig
    public var parallel: ParallelConfig
    public var checkpoint: CheckpointConfig
    /// Knowledge distillation from a teacher model (nil: plain training).
    public var distill: DistillConfig?
    /// Quantization-aware training (nil: no `quantization` section).
    public var quantization: QuantizationConfig?
    /// Gradual pruning during training (nil: none).
    public var prune: PruneConfig?
    /// What the run records about itself: trace, stragglers, resources, TensorBoard.
    public var monitor: MonitorConfig
    /// The document with every default filled in, in a stable key order.
    public var resolved: JSON
    /// The file the config came from (nil when built from text).
    public var file: String?
    /// The folder relative paths resolve against (the config file's folder).
    public var baseDirectory: String

    static let topKeys = ["name", "seed", "data", "model", "optimizer", "regularization", "schedule",
                          "training", "parallel", "checkpoint", "distill", "prune", "monitor", "quantization"]

    /// Reads and validates the config at `path`, applying `overrides` (`key.path=value`) first.
    public static func load(path: String, overrides: [String] = []) throws(ConfigError) -> TrainConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw ConfigError(file: path, path: "", message: exists ? "cannot read the file: \(posixCause(path))" : "no such file",
                              hint: exists ? "check its permissions" : "give the path of a JSON config, like examples/quickstart.json")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, path: "", message: "the file is not UTF-8 text")
        }
        let base = (path as NSString).deletingLastPathComponent
        return try parse(text: text, file: path, baseDirectory: base.isEmpty ? "." : base, overrides: overrides)
    }

    /// Parses and validates config text.
    public static func parse(text: String, file: String? = nil, baseDirectory: String = ".",
                             overrides: [String] = []) throws(ConfigError) -> TrainConfig {
        var doc = try ConfigValue.parse(text, file: file).json
        for o in overrides { doc = try Overrides.apply(o, to: doc) }
        return try TrainConfig(ConfigValue(doc, path: "", file: file), baseDirectory: baseDirectory)
    }

    init(_ root: ConfigValue, baseDirectory: String) throws(ConfigError) {
        let o = try root.object(allowed: TrainConfig.topKeys)
        file = root.file
        self.baseDirectory = baseDirectory
        name = try o.string("name", default: "run")
        if name.isEmpty || name.contains("/") {
            throw try o.required("name", "").fail("a non-empty name without '/'")
        }
        seed = UInt64(try o.int("seed", default: 42, in: 0...Int.max))
        data = try DataConfig(o.required("data", "an object with \"train\" (and \"test\")"), baseDirectory: baseDirectory)
        model = try InitFrom.resolvingPath(in: o.required("model", "an object with \"input\", \"layers\" and \"loss\""),
                                           baseDirectory: baseDirectory)
        optimizer = try OptimizerConfig(o["optimizer"] ?? ConfigValue(.object(JSONObject()), path: "optimizer", file: file))
        regularization = try RegularizationConfig(o["regularization"] ?? ConfigValue(.object(JSONObject()), path: "regularization", file: file))
        schedule = try ScheduleConfig(o["schedule"] ?? ConfigValue(.object(JSONObject()), path: "schedule", file: file))
        training = try TrainingConfig(o["training"] ?? ConfigValue(.object(JSONObject()), path: "training", file: file))
        parallel = try ParallelConfig(o["parallel"] ?? ConfigValue(.object(JSONObject()), path: "parallel", file: file))
        checkpoint = try CheckpointConfig(o["checkpoint"] ?? ConfigValue(.object(JSONObject()), path: "checkpoint", file: file),
                                          defaultDir: "runs/\(name)")
        if let d = o["distill"] { distill = try DistillConfig(d, baseDirectory: baseDirectory) } else { distill = nil }
        monitor = try MonitorConfig(o["monitor"], file: file)
        if distill != nil && parallel.pipelineStages > 1 {
            throw ConfigError(file: file, path: "distill",
                              message: "expected parallel.pipeline_stages 1 with distillation, got \(parallel.pipelineStages)",
                              hint: "the teacher runs on the whole input, which only the first stage sees; distil data-parallel")
        }
        if let q = o["quantization"] { quantization = try QuantizationConfig(q) } else { quantization = nil }
        if quantization?.aware == true && parallel.pipelineStages > 1 {
            throw ConfigError(file: file, path: "quantization.aware",
                              message: "expected parallel.pipeline_stages 1 with quantization-aware training, got \(parallel.pipelineStages)",
                              hint: "train quantization-aware data-parallel (any number of ranks), or on one process")
        }
        if let p = o["prune"] { prune = try PruneConfig(p) } else { prune = nil }
        if let prune, prune.structured && parallel.pipelineStages > 1 {
            throw ConfigError(file: file, path: "prune.structured",
                              message: "expected false with parallel.pipeline_stages \(parallel.pipelineStages), got true",
                              hint: "structured pruning reshapes layers across stage boundaries; prune data-parallel, or use unstructured pruning")
        }
        if let prune, prune.structured, quantization?.aware == true {
            throw ConfigError(file: file, path: "prune.structured",
                              message: "expected false with quantization.aware true, got true",
                              hint: "a structured event rebuilds the pruned layers without their fake-quant ranges; prune unstructured during QAT, or prune first and train quantization-aware on the pruned folder")
        }
        var out = JSONObject()
        out["name"] = .string(name)
        out["seed"] = .number(Double(seed), isInteger: true)
        out["data"] = data.json
        out["model"] = model.json
        out["optimizer"] = optimizer.json
        out["regularization"] = regularization.json
        out["schedule"] = schedule.json
        out["training"] = training.json
        out["parallel"] = parallel.json
        out["checkpoint"] = checkpoint.json
        if let distill { out["distill"] = distill.json }
        if let quantization { out["quantization"] = quantization.json }
        if let prune { out["prune"] = prune.json }
        if let m = monitor.json { out["monitor"] = m }
        resolved = .object(out)
    }

    /// Checks what depends on the world size: the global batch must split evenly over the
    /// data-parallel ranks (world size / pipeline stages).
    public func validate(worldSize: Int) throws(ConfigError) {
        if worldSize % parallel.pipelineStages != 0 {
            throw ConfigError(file: file, path: "parallel.pipeline_stages",
                              message: "expected a divisor of the world size \(worldSize), got \(parallel.pipelineStages)",
                              hint: "launch a multiple of \(parallel.pipelineStages) ranks or change pipeline_stages")
        }
        let dp = worldSize / parallel.pipelineStages
        if training.batchSize % dp != 0 {
            throw ConfigError(file: file, path: "training.batch_size",
                              message: "expected a multiple of the data-parallel size \(dp), got \(training.batchSize)",
                              hint: "the global batch is split evenly over \(dp) ranks; use \(max(dp, training.batchSize / dp * dp)) or \((training.batchSize / dp + 1) * dp)")
        }
        if let k = parallel.ranksPerNode, dp % min(k, dp) != 0 {
            throw ConfigError(file: file, path: "parallel.ranks_per_node",
                              message: "expected a divisor of the data-parallel size \(dp), got \(k)",
                              hint: "leave it out to let MPI find which ranks share a node")
        }
        if parallel.pipelineStages > 1 {
            let local = training.batchSize / dp
            if local % parallel.microBatches != 0 {
                throw ConfigError(file: file, path: "parallel.micro_batches",
                                  message: "expected a divisor of the per-replica batch \(local) (batch_size \(training.batchSize) / \(dp) data-parallel replicas), got \(parallel.microBatches)",
                                  hint: "pick micro_batches so that batch_size / (world size / pipeline_stages) splits evenly")
            }
            if !training.dropLast {
                throw ConfigError(file: file, path: "training.drop_last",
                                  message: "expected true with pipeline stages (micro-batches need full batches), got false")
            }
        }
    }

    /// A stable hash of the resolved config (FNV-1a 64 of its compact JSON), to check that all
    /// ranks run the same config and that a checkpoint matches the run resuming it.
    public var hash: UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in resolved.serialized().utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01B3
        }
        return h
    }
}
