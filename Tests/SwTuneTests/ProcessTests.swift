import Foundation
import Testing
import SwConfig
import _TestSupport
@testable import SwTune

/// `swtrain tune` as a process: under mpirun (trial groups) and killed then resumed.
@Suite(.serialized) struct ProcessTests {
    /// A study folder with a tiny base config (`steps` SGD steps, eval every `steps / 4`).
    func studyFile(_ tag: String, _ fields: String, steps: Int = 40) throws -> (path: String, dir: String) {
        let dir = try scratch(tag)
        try tinyBase.replacingOccurrences(of: "\"max_steps\": 20, \"eval_every_steps\": 5", with: "\"max_steps\": \(steps), \"eval_every_steps\": \(steps / 4)")
            .write(toFile: dir + "/base.json", atomically: true, encoding: .utf8)
        let text = "{\"name\": \"p\", \"base\": \"base.json\", \"dir\": \"\(dir)/study\", \(fields)}"
        try text.write(toFile: dir + "/study.json", atomically: true, encoding: .utf8)
        return (dir + "/study.json", dir + "/study")
    }

    let space = "\"space\": {\"optimizer.lr\": {\"log_uniform\": [0.005, 0.5]}, \"model.layers[0].units\": {\"choice\": [8, 16, 32]}}"

    @Test func twoGroupsOfOneRankShareTheStudy() throws {
        guard MPIRun.mpirun != nil else { return }
        let (path, dir) = try studyFile("np2", space + ", \"sampler\": \"random\", \"trials\": 8, \"seed\": 5")
        let r = try MPIRun.run(ranks: 2, program: "swtrain", ["tune", path], timeout: 240)
        #expect(r.status == 0, "\(r.stderr)")
        let trials = try JournalReplay.read(path: dir + "/journal.log", studyName: "p").trials
        #expect(trials.count == 8 && trials.allSatisfy { $0.state == .complete })
        // Both groups ran trials; rank 0 wrote every line (one worker id).
        let ranks = Set(trials.compactMap { t -> Int? in if let d = t.userAttrs["rank"]?.doubleValue { return Int(d) }; return nil })
        #expect(ranks == [0, 1], "\(ranks)")
        let workers = Set(try journalLines(dir + "/journal.log").compactMap { o -> String? in if case .string(let w)? = o["worker_id"] { return w }; return nil })
        #expect(workers.count == 1)
        // The random sampler's values do not depend on who ran what: same as one process.
        let (path1, dir1) = try studyFile("np1", space + ", \"sampler\": \"random\", \"trials\": 8, \"seed\": 5")
        let r1 = try MPIRun.run(ranks: 0, program: "swtrain", ["tune", path1], timeout: 240)
        #expect(r1.status == 0, "\(r1.stderr)")
        let alone = try JournalReplay.read(path: dir1 + "/journal.log", studyName: "p").trials
        #expect(alone.map(\.params) == trials.map(\.params))
        #expect(alone.map(\.value) == trials.map(\.value))
        #expect(FileManager.default.fileExists(atPath: dir + "/best.json"))
    }

    @Test func oneGroupOfTwoRanksTrainsDataParallel() throws {
        guard MPIRun.mpirun != nil else { return }
        let f = space + ", \"sampler\": \"random\", \"trials\": 4, \"seed\": 8, \"pruner\": \"median\""
        let (path, dir) = try studyFile("dp", f + ", \"ranks_per_trial\": 2")
        let r = try MPIRun.run(ranks: 2, program: "swtrain", ["tune", path], timeout: 240)
        #expect(r.status == 0, "\(r.stderr)")
        let (path1, dir1) = try studyFile("dp1", f)
        #expect(try MPIRun.run(ranks: 0, program: "swtrain", ["tune", path1], timeout: 240).status == 0)
        let a = try JournalReplay.read(path: dir + "/journal.log", studyName: "p").trials
        let b = try JournalReplay.read(path: dir1 + "/journal.log", studyName: "p").trials
        #expect(a.count == 4 && a.allSatisfy { $0.state.isFinished })
        // Data-parallel over two ranks trains the same model: the same eval values (accuracy
        // over 300 samples; a flipped prediction would move it by 1/300).
        #expect(a.map(\.params) == b.map(\.params))
        for (x, y) in zip(a, b) {
            #expect(x.intermediate.map(\.step) == y.intermediate.map(\.step))
            for (u, v) in zip(x.intermediate, y.intermediate) { #expect(abs(u.value - v.value) <= 1.0 / 300 + 1e-12) }
        }
        // A world size that ranks_per_trial does not divide is a config error (exit 2).
        let (bad, _) = try studyFile("dp3", f + ", \"ranks_per_trial\": 2")
        let r3 = try MPIRun.run(ranks: 3, program: "swtrain", ["tune", bad], timeout: 120)
        #expect(r3.status == 2 && r3.stderr.contains("ranks_per_trial"), "\(r3.status) \(r3.stderr)")
    }

    /// SIGKILL while trials run, then `--resume`: the study ends with `trials` finished
    /// trials, none left RUNNING, the interrupted one run again with its parameters.
    @Test func killedStudyResumes() throws {
        let (path, dir) = try studyFile("kill", space + ", \"sampler\": \"tpe\", \"pruner\": \"asha\", \"trials\": 6, \"seed\": 3", steps: 400)
        let running = try MPIRun.start(ranks: 0, program: "swtrain", ["tune", path])
        let deadline = Date().addingTimeInterval(120)
        var killedWith: JournalReplay?
        while Date() < deadline && running.process.isRunning {
            let r = try JournalReplay.read(path: dir + "/journal.log", studyName: "p")
            // Kill once trial 1 has reported at least once (it is then mid-training).
            if r.trials.count >= 2, !r.trials[1].intermediate.isEmpty, r.trials[1].state == .running {
                kill(running.process.processIdentifier, SIGKILL)
                killedWith = r
                break
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
        _ = running.wait()
        guard killedWith != nil else { Issue.record("the study ended before the kill"); return }
        let before = try JournalReplay.read(path: dir + "/journal.log", studyName: "p")
        let interrupted = before.trials.filter { $0.state == .running }
        #expect(!interrupted.isEmpty)
        let r = try MPIRun.run(ranks: 0, program: "swtrain", ["tune", path, "--resume"], timeout: 240)
        #expect(r.status == 0, "\(r.stderr)")
        let after = try JournalReplay.read(path: dir + "/journal.log", studyName: "p")
        #expect(after.trials.filter(\.countsAsDone).count == 6)
        #expect(after.trials.allSatisfy { $0.state.isFinished })
        for t in interrupted where t.values(in: after.trials.isEmpty ? SearchSpace([]) : try StudySpec.load(path: path).space) != nil {
            #expect(after.trials[t.number].interrupted)
            #expect(after.trials.contains { $0.systemAttrs["failed_trial"] == .number(Double(t.number), isInteger: true) && $0.params == t.params })
        }
        // Without --resume an existing study is refused (exit 1, a hint to resume).
        let again = try MPIRun.run(ranks: 0, program: "swtrain", ["tune", path], timeout: 60)
        #expect(again.status == 1 && again.stderr.contains("--resume"))
    }
}
