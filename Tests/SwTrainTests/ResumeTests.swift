import Foundation
import SwCheckpoint
import Testing
import _TestSupport

/// Guarantee (resume): a run stopped (or killed) at step n and resumed ends
/// byte-identical to an uninterrupted run on the same world size; on another world size the
/// loss curve continues within float tolerance.
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "mpirun or the swtrain executable is missing: resume tests skipped"))
struct ResumeTests {
    /// Adam (moments, step count), cosine schedule, dropout (random streams), 4 epochs
    /// (sampler position): everything a resume must restore.
    static let config = TrainJobs.config(optimizer: #"{"type": "adam", "lr": 0.01}"#, dropout: true, maxSteps: 40)

    /// Stopped cleanly after 20 of 40 steps (`--stop-after`, same schedule) and resumed.
    @Test(arguments: [1, 2])
    func stopAndResumeIsByteIdentical(ranks: Int) throws {
        let folder = try TrainJobs.folder(config: Self.config)
        defer { TrainJobs.remove(folder) }
        let full = try TrainJobs.train(folder, run: "full", ranks: ranks)
        try #require(full.status == 0, "exit \(full.status)\n\(full.stderr)")
        let stop = try TrainJobs.train(folder, run: "resumed", ranks: ranks, ["--stop-after", "20"])
        try #require(stop.status == 0, "exit \(stop.status)\n\(stop.stderr)")
        #expect(try TrainJobs.latest("\(folder)/resumed")?.checkpoint.name == "checkpoint-20")
        let resumed = try TrainJobs.train(folder, run: "resumed", ranks: ranks, ["--resume", "latest"])
        try #require(resumed.status == 0, "exit \(resumed.status)\n\(resumed.stderr)")
        #expect(resumed.stdout.contains("at step 20"))
        try expectSameEnd("\(folder)/full", "\(folder)/resumed", ranks: ranks)
    }

    /// Killed with SIGKILL at random moments (often inside a checkpoint save: one every 2
    /// steps) and resumed from `latest` until done. After every kill, `latest` (when present)
    /// names a folder whose files verify; the end is byte-identical to an uninterrupted run.
    @Test func killAndResumeIsByteIdentical() throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config(
            optimizer: #"{"type": "adam", "lr": 0.01}"#, dropout: true, maxSteps: 300, checkpointEvery: 2))
        defer { TrainJobs.remove(folder) }
        let full = try TrainJobs.train(folder, run: "full", ranks: 0)
        try #require(full.status == 0, "exit \(full.status)\n\(full.stderr)")
        let run = "\(folder)/killed"
        var generator = SystemRandomNumberGenerator()
        var kills = 0, midSave = 0
        for attempt in 0..<20 {
            let resume = FileManager.default.fileExists(atPath: run + "/latest") ? ["--resume", "latest"] : []
            let child = try TrainJobs.start(folder, run: "killed", resume)
            let delay = Double.random(in: 0.05...max(0.15, full.seconds * 0.35), using: &generator)
            Thread.sleep(forTimeInterval: delay)
            let wasRunning = child.process.isRunning
            if wasRunning { kill(child.process.processIdentifier, SIGKILL) }
            let r = child.wait()
            if wasRunning && r.signaled {
                kills += 1
                // A kill inside a save leaves the writer's temporary folder behind.
                if (try? FileManager.default.contentsOfDirectory(atPath: run))?.contains(where: { $0.hasPrefix(".tmp-") }) == true {
                    midSave += 1
                }
            }
            let latest = run + "/latest"
            if let name = try? String(contentsOfFile: latest, encoding: .utf8) {
                let path = run + "/" + name.trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(throws: Never.self, "attempt \(attempt): latest names \(name) which does not verify") {
                    _ = try CheckpointReader.open(folder: path)
                }
            }
            if !r.signaled && r.status == 0 {
                if kills >= 2 { break }
                // Finished before enough kills landed (the uninterrupted run was timed on a
                // busier moment than this one): start the killed run over.
                try? FileManager.default.removeItem(atPath: run)
                kills = 0; midSave = 0
            }
        }
        print("kill-and-resume: \(kills) SIGKILLs landed (\(midSave) inside a save); uninterrupted run \(full.seconds) s")
        #expect(kills >= 2, "only \(kills) kills landed")
        // Finish (resuming if the loop did not).
        if (try? TrainJobs.latest(run))??.checkpoint.name != "checkpoint-300" {
            let resume = FileManager.default.fileExists(atPath: run + "/latest") ? ["--resume", "latest"] : []
            let r = try TrainJobs.train(folder, run: "killed", ranks: 0, resume)
            try #require(r.status == 0, "exit \(r.status)\n\(r.stderr)")
        }
        try expectSameEnd("\(folder)/full", run, ranks: 0)
    }

    /// Saved at 4 ranks, resumed at 2: the loss curve follows the uninterrupted 4-rank run.
    @Test func resumeOnAnotherWorldSize() throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config(optimizer: #"{"type": "adam", "lr": 0.01}"#, maxSteps: 40))
        defer { TrainJobs.remove(folder) }
        let full = try TrainJobs.train(folder, run: "full", ranks: 4)
        try #require(full.status == 0, "exit \(full.status)\n\(full.stderr)")
        let stop = try TrainJobs.train(folder, run: "moved", ranks: 4, ["--stop-after", "20"])
        try #require(stop.status == 0, "exit \(stop.status)\n\(stop.stderr)")
        let resumed = try TrainJobs.train(folder, run: "moved", ranks: 2, ["--resume", "latest"])
        try #require(resumed.status == 0, "exit \(resumed.status)\n\(resumed.stderr)")
        let a = try TrainJobs.metrics("\(folder)/full"), b = try TrainJobs.metrics("\(folder)/moved")
        #expect(a.map { "\($0.event)@\($0.step)" } == b.map { "\($0.event)@\($0.step)" }, "log/eval cadence differs")
        for (x, y) in zip(a, b) where x.event == y.event && x.step == y.step {
            let rel = abs(x.loss - y.loss) / max(abs(x.loss), 1e-12)
            #expect(rel <= 1e-4, "\(x.event) step \(x.step): loss \(y.loss) vs \(x.loss) (relative \(rel))")
        }
        let ranks = b.last { $0.event == "train" }?.line["rank_step_ms"] as? [Double]
        #expect(ranks?.count == 2, "the resumed run's rank_step_ms has one entry per rank")
    }

    /// Same model and optimizer bytes in the latest checkpoints, same metrics.jsonl losses
    /// (each log and eval step once, in order).
    private func expectSameEnd(_ a: String, _ b: String, ranks: Int) throws {
        for file in ["model.safetensors", "optimizer.safetensors"] {
            #expect(try TrainJobs.latestBytes(a, file) == TrainJobs.latestBytes(b, file), "np=\(ranks): \(file) differs")
        }
        // A resume between log steps adds the saved partial loss sum: same value up to rounding.
        let ma = try TrainJobs.metrics(a), mb = try TrainJobs.metrics(b)
        #expect(ma.map { "\($0.event)@\($0.step)" } == mb.map { "\($0.event)@\($0.step)" }, "np=\(ranks): log/eval cadence differs")
        for (x, y) in zip(ma, mb) {
            #expect(abs(x.loss - y.loss) <= 1e-12 * abs(x.loss), "np=\(ranks): \(x.event) step \(x.step): loss \(y.loss) vs \(x.loss)")
        }
    }
}
