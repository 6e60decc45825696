import Foundation
import Testing
import _TestSupport

/// Every reader of a checkpoint checks its hashes: `swtrain eval` (and `generate`, which loads
/// through the same function) refuses a corrupted model.safetensors, whether given the
/// checkpoint folder or the file itself, and given the run folder it falls back to the newest
/// checkpoint that verifies, saying which one it used.
@Suite struct CheckpointReadersTests {
    @Test func evalVerifiesHashesAndNamesTheFallback() throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config(maxSteps: 10, checkpointEvery: 5))
        defer { TrainJobs.remove(folder) }
        let trained = try TrainJobs.train(folder, run: "run", ranks: 0)
        try #require(trained.status == 0, "\(trained.stderr)")
        let run = folder + "/run", newest = run + "/checkpoint-10", model = newest + "/model.safetensors"
        try #require(FileManager.default.fileExists(atPath: model))
        func eval(_ checkpoint: String) throws -> MPIRun.Result {
            try MPIRun.run(ranks: 0, program: "swtrain", ["eval", folder + "/config.json", "--checkpoint", checkpoint,
                                                          "--set", "checkpoint.dir=\(run)"], timeout: 60)
        }
        let clean = try eval(newest)
        #expect(clean.status == 0, "\(clean.stderr)")

        // One flipped byte near the end of the tensor data.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: model))
        bytes[bytes.count - 3] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: model))

        for target in [newest, model] {
            let r = try eval(target)
            #expect(r.status == 1, "eval \(target): exit \(r.status)\n\(r.stdout)")
            #expect(r.stderr.contains("model.safetensors") && r.stderr.lowercased().contains("sha"),
                    "eval \(target) names the file and the hash: \(r.stderr)")
            #expect(!r.stdout.contains("accuracy"), "no figures from a corrupted model")
        }
        let fellBack = try eval(run)
        #expect(fellBack.status == 0, "\(fellBack.stderr)")
        #expect(fellBack.stderr.contains("using checkpoint-5"), "names the checkpoint it used: \(fellBack.stderr)")
        #expect(fellBack.stdout.contains("checkpoint-5/model.safetensors"))
    }

    /// `--resume` takes a run folder as `eval` does; resuming a finished run says so instead of
    /// printing a summary of no steps.
    @Test func resumeFromARunFolderAndAFinishedRun() throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config(maxSteps: 10, checkpointEvery: 5,
                                                                   schedule: #"{"type": "constant"}"#))
        defer { TrainJobs.remove(folder) }
        let first = try TrainJobs.train(folder, run: "run", ranks: 0, ["--set", "training.max_steps=5"])
        try #require(first.status == 0, "\(first.stderr)")
        let resumed = try TrainJobs.train(folder, run: "run", ranks: 0, ["--resume", folder + "/run"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("resumed from") && resumed.stdout.contains("at step 5"), "\(resumed.stdout)")
        let again = try TrainJobs.train(folder, run: "run", ranks: 0, ["--resume", "latest"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("already complete: step 10 of 10"), "\(again.stdout)")
        #expect(!again.stdout.contains("samples/s"))
    }

    /// A model file with a NaN weight evaluates with a warning naming the tensor and element.
    @Test func evalWarnsAboutNonFiniteWeights() throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config(maxSteps: 5, checkpointEvery: 5,
                                                                   schedule: #"{"type": "constant"}"#))
        defer { TrainJobs.remove(folder) }
        let trained = try TrainJobs.train(folder, run: "run", ranks: 0)
        try #require(trained.status == 0, "\(trained.stderr)")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/run/checkpoint-5/model.safetensors"))
        let header = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let first = 8 + header + 4 * 3   // element 3 of the first tensor
        bytes.replaceSubrange(first..<first + 4, with: [0x00, 0x00, 0xC0, 0x7F])   // a quiet NaN
        let file = folder + "/nan.safetensors"
        try bytes.write(to: URL(fileURLWithPath: file))
        let r = try MPIRun.run(ranks: 0, program: "swtrain", ["eval", folder + "/config.json", "--checkpoint", file], timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("warning") && r.stderr.contains("tensor 0.weight holds nan at element 3"), "\(r.stderr)")
    }
}
