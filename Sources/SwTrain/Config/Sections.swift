import Foundation
import SwConfig
import SwParallel
import SwTensor

/// `optimizer.type`: the optimizers swtrain builds (the JSON value is the raw value).
public enum OptimizerType: String, CaseIterable, Sendable {
    case sgd, adam, adamw
}

/// `schedule.type`: the learning-rate decays (see SwOptim.LRSchedule).
public enum ScheduleType: String, CaseIterable, Sendable {
    case constant, step, exponential, cosine
}

extension ConfigObject {
    /// The string at `key` (or `def`) as one of `T`'s cases; any other string is a
    /// `ConfigError` listing the cases.
    func choice<T: RawRepresentable & CaseIterable>(_ key: String, default def: T) throws(ConfigError) -> T
        where T.RawValue == String {
        let s = try string(key, default: def.rawValue, oneOf: T.allCases.map(\.rawValue))
        return T(rawValue: s)!   // `string(oneOf:)` admitted only raw values
    }
}

/// `optimizer`: {"type": "sgd"|"adam"|"adamw", "lr", ...}. Keys depend on the type:
/// sgd takes momentum, dampening, nesterov, weight_decay; adam and adamw take betas, eps,
/// weight_decay (adamw defaults to 0.01 like torch.optim.AdamW).
public struct OptimizerConfig: Sendable {
    public var type: OptimizerType
    public var lr: Double
    public var momentum = 0.0, dampening = 0.0, nesterov = false
    public var beta1 = 0.9, beta2 = 0.999, eps = 1e-8
    public var weightDecay: Double
    var json: JSON

    init(_ v: ConfigValue) throws(ConfigError) {
        guard case .object(let raw) = v.json else { throw v.fail("an object") }
        let type = try ConfigObject(object: raw, path: v.path, file: v.file).choice("type", default: OptimizerType.adam)
        let keys = type == .sgd ? ["type", "lr", "momentum", "dampening", "nesterov", "weight_decay"]
                                 : ["type", "lr", "betas", "eps", "weight_decay"]
        let o = try v.object(allowed: keys)
        self.type = type
        lr = try o.double("lr", default: type == .sgd ? 0.1 : 0.001, "a positive number", where: { $0 > 0 })
        weightDecay = try o.double("weight_decay", default: type == .adamw ? 0.01 : 0, "a number >= 0", where: { $0 >= 0 })
        var out = JSONObject()
        out["type"] = .string(type.rawValue)
        out["lr"] = .number(lr, isInteger: false)
        if type == .sgd {
            momentum = try o.double("momentum", default: 0, "a number >= 0", where: { $0 >= 0 })
            dampening = try o.double("dampening", default: 0, "a number >= 0", where: { $0 >= 0 })
            nesterov = try o.bool("nesterov", default: false)
            if nesterov && (momentum <= 0 || dampening != 0) {
                throw ConfigError(file: v.file, path: v.path + ".nesterov",
                                  message: "Nesterov momentum needs momentum > 0 and dampening 0, got momentum \(momentum) and dampening \(dampening)",
                                  hint: "set optimizer.momentum (e.g. 0.9) and dampening 0, or nesterov false")
            }
            out["momentum"] = .number(momentum, isInteger: false)
            out["dampening"] = .number(dampening, isInteger: false)
            out["nesterov"] = .bool(nesterov)
        } else {
            if let b = o["betas"] {
                let arr = try b.array()
                guard arr.count == 2 else { throw b.fail("two numbers [beta1, beta2], each in [0, 1)") }
                beta1 = try arr[0].double("a number in [0, 1)", where: { $0 >= 0 && $0 < 1 })
                beta2 = try arr[1].double("a number in [0, 1)", where: { $0 >= 0 && $0 < 1 })
            }
            eps = try o.double("eps", default: 1e-8, "a positive number", where: { $0 > 0 })
            out["betas"] = .array([.number(beta1, isInteger: false), .number(beta2, isInteger: false)])
            out["eps"] = .number(eps, isInteger: false)
        }
        out["weight_decay"] = .number(weightDecay, isInteger: false)
        json = .object(out)
    }
}

/// `regularization`: {"l1": 0, "l2": 0}: penalties added to the loss, their gradients added
/// to the parameter gradients before the optimizer (see SwOptim.Regularization).
public struct RegularizationConfig: Sendable {
    public var l1: Double
    public var l2: Double
    var json: JSON

    init(_ v: ConfigValue) throws(ConfigError) {
        let o = try v.object(allowed: ["l1", "l2"])
        l1 = try o.double("l1", default: 0, "a number >= 0", where: { $0 >= 0 })
        l2 = try o.double("l2", default: 0, "a number >= 0", where: { $0 >= 0 })
        json = .object(JSONObject([("l1", .number(l1, isInteger: false)), ("l2", .number(l2, isInteger: false))]))
    }
}

/// `schedule`: {"type": "constant"|"step"|"exponential"|"cosine", "warmup_steps": 0, ...}.
/// step takes step_size and gamma; exponential takes gamma; cosine takes min_lr.
public struct ScheduleConfig: Sendable {
    public var type: ScheduleType
    public var warmupSteps: Int
    public var minLR = 0.0
    public var stepSize = 1
    public var gamma = 0.1
    var json: JSON

    init(_ v: ConfigValue) throws(ConfigError) {
        guard case .object(let raw) = v.json else { throw v.fail("an object") }
        type = try ConfigObject(object: raw, path: v.path, file: v.file).choice("type", default: ScheduleType.constant)
        var keys = ["type", "warmup_steps"]
        switch type {
        case .step: keys += ["step_size", "gamma"]
        case .exponential: keys += ["gamma"]
        case .cosine: keys += ["min_lr"]
        case .constant: break
        }
        let o = try v.object(allowed: keys)
        warmupSteps = try o.int("warmup_steps", default: 0, in: 0...Int.max)
        var out = JSONObject([("type", .string(type.rawValue)), ("warmup_steps", .number(Double(warmupSteps), isInteger: true))])
        switch type {
        case .step:
            stepSize = try o.int("step_size", in: 1...Int.max)
            gamma = try o.double("gamma", default: 0.1, "a number in (0, 1]", where: { $0 > 0 && $0 <= 1 })
            out["step_size"] = .number(Double(stepSize), isInteger: true)
            out["gamma"] = .number(gamma, isInteger: false)
        case .exponential:
            gamma = try o.double("gamma", "a number in (0, 1]", where: { $0 > 0 && $0 <= 1 })
            out["gamma"] = .number(gamma, isInteger: false)
        case .cosine:
            minLR = try o.double("min_lr", default: 0, "a number >= 0", where: { $0 >= 0 })
            out["min_lr"] = .number(minLR, isInteger: false)
        case .constant: break
        }
        json = .object(out)
    }
}

/// `training`: batch size (global, over all data-parallel ranks), epochs or max_steps,
/// clipping, accumulation, evaluation and logging intervals.
public struct TrainingConfig: Sendable {
    public var batchSize: Int
    public var epochs: Int
    public var maxSteps: Int?
    public var gradClip: Double?
    public var accumulationSteps: Int
    public var evalEverySteps: Int
    public var logEverySteps: Int
    /// Stop with an error when the loss is NaN or infinite.
    public var stopOnNaN: Bool
    /// Keep the last partial batch of an epoch (false: drop it, the same on every rank).
    public var dropLast: Bool
    /// Compute threads per process (`ThreadPool`, OpenBLAS); nil: the cores this process may
    /// run on ÷ the ranks on its node.
    public var threads: Int?
    /// The layers' GEMMs: "fp32" (default) or "bf16" operands with fp32 accumulation; master
    /// weights, gradients and optimizer state are fp32 either way (docs/precision.md).
    public var precision: GEMMPrecision
    var json: JSON

    init(_ v: ConfigValue) throws(ConfigError) {
        let o = try v.object(allowed: ["batch_size", "epochs", "max_steps", "grad_clip", "accumulation_steps",
                                       "eval_every_steps", "log_every_steps", "stop_on_nan", "drop_last", "threads",
                                       "precision"])
        batchSize = try o.int("batch_size", default: 128, in: 1...Int.max)
        epochs = try o.int("epochs", default: 1, in: 1...Int.max)
        maxSteps = try o.optionalInt("max_steps", in: 1...Int.max)
        gradClip = try o.optionalDouble("grad_clip", "a positive number or null", where: { $0 > 0 })
        accumulationSteps = try o.int("accumulation_steps", default: 1, in: 1...Int.max)
        evalEverySteps = try o.int("eval_every_steps", default: 500, in: 0...Int.max)
        logEverySteps = try o.int("log_every_steps", default: 50, in: 1...Int.max)
        stopOnNaN = try o.bool("stop_on_nan", default: true)
        dropLast = try o.bool("drop_last", default: true)
        threads = try o.optionalInt("threads", in: 1...256)
        // A typed error naming training.precision, the choices and the nearest one otherwise.
        precision = GEMMPrecision(rawValue: try o.string("precision", default: "fp32",
                                                         oneOf: GEMMPrecision.allCases.map(\.rawValue)))!
        var fields = JSONObject([
            ("batch_size", .number(Double(batchSize), isInteger: true)),
            ("epochs", .number(Double(epochs), isInteger: true)),
            ("max_steps", maxSteps.map { .number(Double($0), isInteger: true) } ?? .null),
            ("grad_clip", gradClip.map { .number($0, isInteger: false) } ?? .null),
            ("accumulation_steps", .number(Double(accumulationSteps), isInteger: true)),
            ("eval_every_steps", .number(Double(evalEverySteps), isInteger: true)),
            ("log_every_steps", .number(Double(logEverySteps), isInteger: true)),
            ("stop_on_nan", .bool(stopOnNaN)),
            ("drop_last", .bool(dropLast)),
        ])
        // Only when set, so configs without it keep their hash.
        if let threads { fields["threads"] = .number(Double(threads), isInteger: true) }
        if precision != .fp32 { fields["precision"] = .string(precision.rawValue) }
        json = .object(fields)
    }
}

/// `parallel`: pipeline stages, micro-batches, pipeline schedule, partitioning and the
/// gradient bucket size in MiB.
public struct ParallelConfig: Sendable {
    public var pipelineStages: Int
    public var microBatches: Int
    public var schedule: PipelineSchedule
    /// "time", "params", or explicit stage boundaries (layer indices where stages 2... start).
    public var partition: Partition
    public var bucketMB: Double
    /// "auto", "on" or "off": start bucket all-reduces during backward (see `SyncPlan`).
    public var overlap: Overlap
    /// "auto", "shared_memory" or "allreduce": how data-parallel gradients are combined
    /// (see `SyncPlan`).
    public var sync: Sync
    /// Ranks per node for the shared-memory sync, when not detected (`nil`: ask MPI). Each
    /// group of this many consecutive ranks must still share a node.
    public var ranksPerNode: Int?
    /// "auto" or "off": with shared-memory sync, compute the dense layers' weight gradients once
    /// per node, split by rows (see `SyncPlan`).
    public var weightGradients: WeightGradients
    /// Seconds a rank may wait in one communication call before the watchdog ends the job
    /// naming the step and the call (`CommWatchdog`); 0 disables it.
    public var timeoutSeconds: Double
    var json: JSON

    /// `parallel.sync`.
    public enum Sync: String, CaseIterable, Sendable {
        case auto, sharedMemory = "shared_memory", allreduce
    }

    /// `parallel.overlap`.
    public enum Overlap: String, CaseIterable, Sendable {
        case auto, on, off
    }

    /// `parallel.weight_gradients`.
    public enum WeightGradients: String, CaseIterable, Sendable {
        case auto, off
    }

    public enum Partition: Sendable, Equatable {
        case time, params
        case boundaries([Int])
    }

    init(_ v: ConfigValue) throws(ConfigError) {
        let o = try v.object(allowed: ["pipeline_stages", "micro_batches", "schedule", "partition", "bucket_mb", "overlap",
                                              "sync", "ranks_per_node", "weight_gradients", "timeout_s"])
        pipelineStages = try o.int("pipeline_stages", default: 1, in: 1...Int.max)
        microBatches = try o.int("micro_batches", default: 4, in: 1...Int.max)
        schedule = try o.choice("schedule", default: PipelineSchedule.oneFOneB)
        var pj: JSON = .string("time")
        if let p = o["partition"] {
            if case .array = p.json {
                let b = try p.intArray(in: 1...Int.max)
                guard b.count == pipelineStages - 1, b == b.sorted(), Set(b).count == b.count else {
                    throw p.fail("\(pipelineStages - 1) increasing layer indices (where stages 2...\(pipelineStages) start)")
                }
                partition = .boundaries(b)
                pj = p.json
            } else {
                let s = try p.string(oneOf: ["time", "params"])
                partition = s == "time" ? .time : .params
                pj = .string(s)
            }
        } else {
            partition = .time
        }
        bucketMB = try o.double("bucket_mb", default: 4, "a positive number", where: { $0 > 0 })
        overlap = try o.choice("overlap", default: Overlap.auto)
        sync = try o.choice("sync", default: Sync.auto)
        ranksPerNode = o["ranks_per_node"] == nil ? nil : try o.int("ranks_per_node", in: 1...Int.max)
        weightGradients = try o.choice("weight_gradients", default: WeightGradients.auto)
        timeoutSeconds = try o.double("timeout_s", default: 60, "a number >= 0 (0 disables the watchdog)", where: { $0 >= 0 && $0.isFinite })
        json = .object(JSONObject([
            ("pipeline_stages", .number(Double(pipelineStages), isInteger: true)),
            ("micro_batches", .number(Double(microBatches), isInteger: true)),
            ("schedule", .string(schedule.rawValue)), ("partition", pj),
            ("bucket_mb", .number(bucketMB, isInteger: false)), ("overlap", .string(overlap.rawValue)),
            ("sync", .string(sync.rawValue)),
        ] + (ranksPerNode.map { [("ranks_per_node", JSON.number(Double($0), isInteger: true))] } ?? [])
          + (weightGradients == .auto ? [] : [("weight_gradients", JSON.string(weightGradients.rawValue))])
          // Written only when set: the default keeps earlier runs' config hashes (resume).
          + (timeoutSeconds == 60 ? [] : [("timeout_s", JSON.number(timeoutSeconds, isInteger: false))])))
    }
}

/// `checkpoint`: the run folder, save interval (0: only at the end) and how many to keep.
public struct CheckpointConfig: Sendable {
    public var dir: String
    public var everySteps: Int
    public var keepLast: Int
    var json: JSON

    init(_ v: ConfigValue, defaultDir: String) throws(ConfigError) {
        let o = try v.object(allowed: ["dir", "every_steps", "keep_last"])
        dir = try o.string("dir", default: defaultDir)
        if dir.isEmpty { throw try o.required("dir", "").fail("a folder path") }
        everySteps = try o.int("every_steps", default: 500, in: 0...Int.max)
        keepLast = try o.int("keep_last", default: 3, in: 1...Int.max)
        json = .object(JSONObject([
            ("dir", .string(dir)), ("every_steps", .number(Double(everySteps), isInteger: true)),
            ("keep_last", .number(Double(keepLast), isInteger: true)),
        ]))
    }
}
