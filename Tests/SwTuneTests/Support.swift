import Foundation
import SwComm
import SwConfig
@testable import SwTune

/// A small, valid train config (a tiny MNIST-1D MLP) for studies that really train.
let tinyBase = """
{
  "name": "tiny", "seed": 3,
  "data": {"train": {"kind": "mnist1d", "split": "train", "samples": 300},
           "test": {"kind": "mnist1d", "split": "test", "samples": 300}},
  "model": {"input": [40], "layers": [{"type": "dense", "units": 16}, {"type": "relu"}, {"type": "dense", "units": 10}],
            "loss": "cross_entropy"},
  "optimizer": {"type": "sgd", "lr": 0.05},
  "training": {"batch_size": 20, "max_steps": 20, "eval_every_steps": 5, "log_every_steps": 20},
  "checkpoint": {"dir": "/tmp/unused", "every_steps": 0}
}
"""

/// A fresh folder holding `base.json` (tinyBase) for a study.
func scratch(_ tag: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swtune-\(tag)-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try tinyBase.write(toFile: dir + "/base.json", atomically: true, encoding: .utf8)
    return dir
}

/// A study spec in `dir` with the given fields (JSON text without braces) added.
func spec(_ dir: String, _ fields: String, name: String = "s") throws -> StudySpec {
    let text = "{\"name\": \"\(name)\", \"base\": \"base.json\", \"dir\": \"\(dir)/study\", \(fields)}"
    try text.write(toFile: dir + "/study.json", atomically: true, encoding: .utf8)
    return try StudySpec.load(path: dir + "/study.json")
}

/// Runs a study in process on one rank with a synthetic objective that reports
/// `curve(values)` at steps 1...n and completes with the last value.
@discardableResult
func runSynthetic(_ s: StudySpec, resume: Bool = false, curve: @escaping ([Double]) -> [Double]) throws -> TuneCommand.Summary {
    try TuneCommand.run(spec: s, resume: resume, world: LocalCommunicator(), quiet: true, prepare: nil, objective: { a, channel in
        let c = curve(a.values)
        for (i, v) in c.enumerated() {
            let prune = try channel.report(a.number, step: i + 1, value: v, context: PruneContext(evalEvery: 1, totalSteps: c.count, studyName: s.name))
            if i == c.count - 1 { return TrialOutcome(.complete(v), steps: i + 1) }
            if prune { return TrialOutcome(.pruned, steps: i + 1) }
        }
        return TrialOutcome(.failed("empty curve"), steps: 0)
    }, bestConfig: { _ in nil })!
}

/// The journal's lines as JSON objects.
func journalLines(_ path: String) throws -> [JSONObject] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return try text.split(separator: "\n").map { line in
        guard case .object(let o) = try JSON.parse(String(line)) else { throw TuneError("not an object: \(line)") }
        return o
    }
}
