import Foundation
import SwCheckpoint
import _TestSupport

/// Small `swtrain train` jobs for the end-to-end tests: a tiny MNIST-1D config written to a
/// fresh folder, run alone or under `mpirun`, and readers for what the runs leave behind.
enum TrainJobs {
    /// A 2-layer MLP on 500 MNIST-1D samples (400 train: 10 steps of 40 per epoch).
    /// `dropout` adds a dropout layer (its random stream must survive a resume).
    static func config(optimizer: String = #"{"type": "sgd", "lr": 0.1, "momentum": 0.9}"#,
                       dropout: Bool = false, layerNorm: Bool = false, maxSteps: Int = 30, checkpointEvery: Int = 10,
                       schedule: String = #"{"type": "cosine", "warmup_steps": 5}"#) -> String {
        """
        {
          "name": "dp-test", "seed": 7,
          "data": {"train": {"kind": "mnist1d", "split": "train", "samples": 500},
                   "test": {"kind": "mnist1d", "split": "test", "samples": 100}},
          "model": {"input": [40],
                    "layers": [{"type": "dense", "units": 32}, {"type": "relu"},
                               \(dropout ? #"{"type": "dropout", "p": 0.2},"# : "")
                               \(layerNorm ? #"{"type": "layernorm"},"# : "")
                               {"type": "dense", "units": 10}],
                    "loss": "cross_entropy"},
          "optimizer": \(optimizer),
          "schedule": \(schedule),
          "training": {"batch_size": 40, "max_steps": \(maxSteps), "eval_every_steps": 10, "log_every_steps": 5},
          "checkpoint": {"dir": "run", "every_steps": \(checkpointEvery), "keep_last": 3}
        }
        """
    }

    /// A fresh temporary folder holding `config.json` with `text`.
    static func folder(config text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swtrain-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try text.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        return dir
    }

    /// `swtrain train <folder>/config.json --plain --set checkpoint.dir=<folder>/<run> ...` on
    /// `ranks` ranks (0: alone, without mpirun).
    static func train(_ folder: String, run: String, ranks: Int, _ extra: [String] = [],
                      timeout: Double = 60, environment: [String: String] = [:]) throws -> MPIRun.Result {
        try MPIRun.run(ranks: ranks, program: "swtrain",
                       ["train", folder + "/config.json", "--plain", "--set", "checkpoint.dir=\(folder)/\(run)"] + extra,
                       timeout: timeout, environment: environment)
    }

    /// Starts the same job and returns at once (for killing it).
    static func start(_ folder: String, run: String, _ extra: [String] = []) throws -> MPIRun.Running {
        try MPIRun.start(ranks: 0, program: "swtrain",
                         ["train", folder + "/config.json", "--plain", "--set", "checkpoint.dir=\(folder)/\(run)"] + extra)
    }

    /// The newest complete checkpoint of a run folder (hashes verified by `CheckpointReader`).
    static func latest(_ runFolder: String) throws -> CheckpointResolution? {
        try CheckpointReader(directory: runFolder).resolve(nil)
    }

    /// Every tensor of the latest checkpoint's model.safetensors, by name.
    static func tensors(_ runFolder: String) throws -> [String: [Float]] {
        guard let found = try latest(runFolder) else { throw MPIRun.RunError(description: "\(runFolder): no checkpoint") }
        let file = try SafeTensorsFile(path: found.checkpoint.filePath("model.safetensors"))
        var out: [String: [Float]] = [:]
        for e in file.entries { out[e.name] = try file.floats(e.name) }
        return out
    }

    /// The bytes of `file` in the latest checkpoint.
    static func latestBytes(_ runFolder: String, _ file: String) throws -> Data {
        guard let found = try latest(runFolder) else { throw MPIRun.RunError(description: "\(runFolder): no checkpoint") }
        return try Data(contentsOf: URL(fileURLWithPath: found.checkpoint.filePath(file)))
    }

    /// Relative difference of two tensors: max|a - b| / max|a| (max|a| floored at 1e-12), a
    /// measure that ignores elements near zero, which carry no relative precision.
    static func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count)
        var diff = 0.0, scale = 1e-12
        for i in a.indices {
            diff = max(diff, Double(abs(a[i] - b[i])))
            scale = max(scale, Double(abs(a[i])))
        }
        return diff / scale
    }

    /// The `(event, step, loss, accuracy)` of each metrics.jsonl line, in order.
    static func metrics(_ runFolder: String) throws -> [(event: String, step: Int, loss: Double, line: [String: Any])] {
        let text = try String(contentsOfFile: runFolder + "/metrics.jsonl", encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let e = o["event"] as? String, let s = o["step"] as? Int, let l = o["loss"] as? Double else { return nil }
            return (e, s, l, o)
        }
    }

    static func remove(_ folder: String) { try? FileManager.default.removeItem(atPath: folder) }

    /// Whether the tests can run: mpirun on PATH and the swtrain executable built.
    static var canRun: Bool { MPIRun.mpirun != nil && MPIRun.executable("swtrain") != nil }
}
