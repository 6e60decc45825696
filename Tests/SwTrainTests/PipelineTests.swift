import Foundation
import Testing
import _TestSupport

/// A model with enough top-level layers for 4 stages, a residual block inside a stage.
let pipelineConfig = """
{
  "name": "pp-test", "seed": 11,
  "data": {"train": {"kind": "mnist1d", "split": "train", "samples": 500},
           "test": {"kind": "mnist1d", "split": "test", "samples": 100}},
  "model": {"input": [40],
            "layers": [{"type": "dense", "units": 32}, {"type": "relu"},
                       {"type": "residual", "layers": [{"type": "dense", "units": 32}, {"type": "tanh"}]},
                       {"type": "dense", "units": 24}, {"type": "relu"},
                       {"type": "dense", "units": 10}],
            "loss": "cross_entropy"},
  "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9},
  "schedule": {"type": "constant"},
  "training": {"batch_size": 40, "max_steps": 20, "eval_every_steps": 10, "log_every_steps": 5},
  "parallel": {"micro_batches": 4, "partition": "params"},
  "checkpoint": {"dir": "run", "every_steps": 10, "keep_last": 3}
}
"""

/// Guarantee (pipeline): s stages with m micro-batches end with the same parameters
/// as one process, for both schedules, alone and with data parallelism (2 stages x 2).
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "mpirun or the swtrain executable is missing: pipeline tests skipped"))
struct PipelineTests {
    @Test(arguments: ["gpipe", "1f1b"])
    func sameParametersAsOneProcess(schedule: String) throws {
        let folder = try TrainJobs.folder(config: pipelineConfig)
        defer { TrainJobs.remove(folder) }
        let one = try TrainJobs.train(folder, run: "np1", ranks: 1)
        try #require(one.status == 0, "np=1: \(one.stderr)")
        let reference = try TrainJobs.tensors("\(folder)/np1")
        for ranks in [2, 4] {
            let r = try TrainJobs.train(folder, run: "pp\(ranks)", ranks: ranks,
                                        ["--set", "parallel.pipeline_stages=2", "--set", "parallel.schedule=\"\(schedule)\""])
            try #require(r.status == 0, "\(schedule) np=\(ranks): exit \(r.status)\n\(r.stderr)")
            #expect(r.stdout.contains("pipeline plan: 2 stages over 6 layers"), "\(r.stdout)")
            let params = try TrainJobs.tensors("\(folder)/pp\(ranks)")
            #expect(Set(params.keys) == Set(reference.keys))
            var worst = 0.0
            for (tensor, ref) in reference {
                let err = TrainJobs.relativeError(ref, params[tensor] ?? [])
                worst = max(worst, err)
                #expect(err <= 1e-5, "\(schedule) np=\(ranks) \(tensor): relative error \(err)")
            }
            print("pipeline \(schedule) 2 stages, np=\(ranks) vs one process: worst relative error \(worst)")
        }
    }

    /// A checkpoint saved with 2 stages holds the whole model: it resumes with 1 stage and
    /// with 4, and the 1-stage continuation ends where the uninterrupted 2-stage run does.
    @Test func resumesOnAnotherStageSplit() throws {
        let folder = try TrainJobs.folder(config: pipelineConfig)
        defer { TrainJobs.remove(folder) }
        let two = ["--set", "parallel.pipeline_stages=2"]
        let full = try TrainJobs.train(folder, run: "full", ranks: 2, two)
        try #require(full.status == 0, "\(full.stderr)")
        let reference = try TrainJobs.tensors("\(folder)/full")
        for (ranks, stages) in [(1, 1), (4, 4)] {
            let run = "split\(stages)"
            let first = try TrainJobs.train(folder, run: run, ranks: 2, two + ["--stop-after", "10"])
            try #require(first.status == 0, "\(first.stderr)")
            let resumed = try TrainJobs.train(folder, run: run, ranks: ranks,
                                              ["--resume", "latest", "--set", "parallel.pipeline_stages=\(stages)",
                                               "--set", "parallel.micro_batches=\(stages == 4 ? 2 : 4)"])
            try #require(resumed.status == 0, "resume with \(stages) stage(s): \(resumed.stderr)")
            #expect(resumed.stdout.contains("resumed from"), "\(resumed.stdout)")
            let params = try TrainJobs.tensors("\(folder)/\(run)")
            for (tensor, ref) in reference {
                let err = TrainJobs.relativeError(ref, params[tensor] ?? [])
                #expect(err <= 1e-5, "resumed on \(stages) stage(s): \(tensor): relative error \(err)")
            }
        }
    }

    /// GPipe keeps all m micro-batches alive on every stage; 1F1B at most s - stage.
    @Test func oneFOneBHoldsFewerActivations() throws {
        let folder = try TrainJobs.folder(config: pipelineConfig)
        defer { TrainJobs.remove(folder) }
        var peaks: [String: [Int]] = [:]
        for schedule in ["gpipe", "1f1b"] {
            let r = try TrainJobs.train(folder, run: schedule, ranks: 2,
                                        ["--set", "parallel.pipeline_stages=2", "--set", "parallel.micro_batches=8",
                                         "--set", "parallel.schedule=\"\(schedule)\"", "--set", "training.max_steps=5"])
            try #require(r.status == 0, "\(r.stderr)")
            let lines = try TrainJobs.metrics("\(folder)/\(schedule)").filter { $0.event == "train" }
            let p = try #require(lines.last?.line["pipeline"] as? [String: Any])
            peaks[schedule] = (p["peak_in_flight"] as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue } ?? []
            let bubble = (p["bubble"] as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue } ?? []
            #expect(bubble.count == 2 && bubble.allSatisfy { $0 >= 0 && $0 < 1 }, "\(p)")
        }
        #expect(peaks["gpipe"] == [8, 8], "\(peaks)")
        #expect(peaks["1f1b"] == [2, 1], "\(peaks)")
    }
}

/// A character language model (embedding first, (B, T, C) activations between stages): the
/// stage plan profiles real token ids, and 2 stages end where one process does.
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "mpirun or the swtrain executable is missing: pipeline tests skipped"))
struct PipelineTransformerTests {
    static let config = """
    {
      "name": "pp-lm", "seed": 5,
      "data": {"train": {"kind": "text", "path": "corpus.txt", "context": 8, "split": "train"},
               "test": {"kind": "text", "path": "corpus.txt", "context": 8, "split": "validation"}},
      "model": {"input": [8],
                "layers": [{"type": "token_position_embedding", "vocab": 32, "dim": 16},
                           {"type": "transformer_block", "heads": 2, "mlp_ratio": 2},
                           {"type": "transformer_block", "heads": 2, "mlp_ratio": 2},
                           {"type": "layernorm"}, {"type": "dense", "units": 32}],
                "loss": "cross_entropy"},
      "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9},
      "training": {"batch_size": 16, "max_steps": 6, "eval_every_steps": 3, "log_every_steps": 3},
      "parallel": {"micro_batches": 4},
      "checkpoint": {"dir": "run", "every_steps": 3, "keep_last": 1}
    }
    """

    @Test func twoStagesMatchOneProcess() throws {
        let folder = try TrainJobs.folder(config: PipelineTransformerTests.config)
        defer { TrainJobs.remove(folder) }
        let words = ["the", "licence", "grants", "you", "permission", "to", "copy", "and", "share", "software"]
        var rng = SystemRandomNumberGenerator()
        let text = (0..<600).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ")
        try text.write(toFile: folder + "/corpus.txt", atomically: true, encoding: .utf8)
        let one = try TrainJobs.train(folder, run: "np1", ranks: 1)
        try #require(one.status == 0, "np=1: \(one.stderr)")
        let two = try TrainJobs.train(folder, run: "pp2", ranks: 2, ["--set", "parallel.pipeline_stages=2"])
        try #require(two.status == 0, "2 stages: \(two.stderr)")
        let reference = try TrainJobs.tensors("\(folder)/np1"), params = try TrainJobs.tensors("\(folder)/pp2")
        for (tensor, ref) in reference {
            let err = TrainJobs.relativeError(ref, params[tensor] ?? [])
            #expect(err <= 1e-5, "\(tensor): relative error \(err)")
        }
        #expect(FileManager.default.fileExists(atPath: "\(folder)/pp2/vocab.json"))
    }
}
