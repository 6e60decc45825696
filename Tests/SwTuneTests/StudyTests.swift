import Foundation
import Testing
import SwComm
import SwConfig
import SwTrain
@testable import SwTune

@Suite struct StudySpecTests {
    func error(_ fields: String) throws -> ConfigError? {
        let dir = try scratch("spec")
        do {
            _ = try spec(dir, fields)
            return nil
        } catch let e as ConfigError {
            return e
        }
    }

    @Test func badStudyFilesNameThePathTheExpectedAndTheFound() throws {
        var e = try error("\"space\": {\"x\": {\"uniform\": [0, 1]}}, \"samplr\": \"tpe\"")
        #expect(e?.path == "samplr" && e?.hint?.contains("\"sampler\"") == true)
        e = try error("\"space\": {\"x\": {\"unifrom\": [0, 1]}}")
        #expect(e?.path == "space.x" && e?.hint?.contains("\"uniform\"") == true)
        e = try error("\"space\": {\"x\": {\"log_uniform\": [0, 1]}}")
        #expect(e?.path == "space.x.log_uniform[0]" && e?.message.contains("got the integer 0") == true)
        e = try error("\"space\": {\"x\": {\"int\": [1, 10], \"step\": 4}}")
        #expect(e?.path == "space.x.step" && e?.hint?.contains("9") == true)
        e = try error("\"space\": {\"x\": {\"choice\": [[1], 2]}}")
        #expect(e?.path == "space.x.choice[0]")
        e = try error("\"space\": {\"layers..units\": {\"choice\": [1]}}")
        #expect(e?.path == "space.layers..units")
        e = try error("\"space\": {\"x\": {\"uniform\": [0, 1]}}, \"pruner\": {\"type\": \"asha\", \"reduction\": 3}")
        #expect(e?.path == "pruner.reduction" && e?.hint?.contains("reduction_factor") == true)
        e = try error("\"space\": {\"x\": {\"uniform\": [0, 1]}}, \"metric\": \"accuray\"")
        #expect(e?.path == "metric" && e?.hint?.contains("accuracy") == true)
        e = try error("\"space\": {}")
        #expect(e?.path == "space")
        let dir = try scratch("spec-base")
        try "{\"name\": \"s\", \"base\": \"nope.json\", \"space\": {\"x\": {\"uniform\": [0, 1]}}}".write(toFile: dir + "/s.json", atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try StudySpec.load(path: dir + "/s.json") }
    }

    @Test func defaultsFollowTheMetric() throws {
        let dir = try scratch("defaults")
        let a = try spec(dir, "\"space\": {\"x\": {\"uniform\": [0, 1]}}")
        #expect(a.direction == .maximize && a.metric == .accuracy && a.samplerKind == .tpe && a.prunerKind == .none)
        #expect(a.dir == dir + "/study" && a.ranksPerTrial == 1 && a.trials == 20)
        let b = try spec(dir, "\"space\": {\"x\": {\"uniform\": [0, 1]}}, \"metric\": \"loss\", \"sampler\": {\"type\": \"tpe\", \"n_startup_trials\": 3}")
        #expect(b.direction == .minimize)
        #expect((b.sampler as? TPESampler)?.nStartupTrials == 3)
    }
}

/// Studies whose trials really train (a tiny MNIST-1D MLP, 20 SGD steps).
@Suite(.serialized) struct TrainingStudyTests {
    @Test func trialsTrainWithTheirValuesAndFailuresDoNotStopTheStudy() throws {
        let dir = try scratch("train")
        // lr 1e9 diverges (NaN), units -3 is a bad config: both fail, the study goes on.
        let s = try spec(dir, """
            "space": {"optimizer.lr": {"choice": [0.05, 1e9]}, "model.layers[0].units": {"choice": [8, 32, -3]}},
            "sampler": "grid", "trials": 6, "seed": 1
            """)
        let summary = try TuneCommand.run(spec: s, resume: false, world: LocalCommunicator(), objective: TrainObjective(spec: s), quiet: true)!
        #expect(summary.finished == 6)
        let trials = try JournalReplay.read(path: s.dir + "/journal.log", studyName: "s").trials
        for t in trials {
            let lr = t.params["optimizer.lr"]!, units = t.params["model.layers[0].units"]!
            if units == 2 {
                #expect(t.state == .fail)
                #expect({ if case .string(let e)? = t.userAttrs["error"] { return e.contains("model.layers[0].units") }; return false }(), "\(t.userAttrs)")
            } else if lr == 1 {
                #expect(t.state == .fail, "lr 1e9 trial \(t.number): \(t.state)")
            } else {
                #expect(t.state == .complete)
                // The run folder holds the resolved config with the sampled values at their paths.
                let c = try TrainConfig.load(path: s.dir + "/trial-\(t.number)/config.json")
                #expect(c.optimizer.lr == 0.05)
                guard case .object(let m) = c.model.json, case .array(let layers)? = m["layers"], case .object(let l0) = layers[0] else { Issue.record("model"); continue }
                #expect(l0["units"] == .number(units == 0 ? 8 : 32, isInteger: true))
                #expect(c.checkpoint.dir == s.dir + "/trial-\(t.number)")
                // The reported value is what the trained model scores: rebuild and retrain it.
                let trainer = try Trainer(config: c, comm: LocalCommunicator())
                while trainer.step < trainer.totalSteps { _ = try trainer.trainStep() }
                let acc = try trainer.evaluate(trainer.test!).accuracy!
                #expect(acc == t.value, "trial \(t.number): \(acc) vs \(t.value ?? -1)")
                #expect(t.intermediate.map(\.step) == [5, 10, 15, 20])
            }
        }
        // best.json is a runnable config of the best trial.
        let best = try TrainConfig.load(path: s.dir + "/best.json")
        let b = summary.best!
        #expect(best.optimizer.lr == 0.05)
        #expect(trials.filter { $0.state == .complete }.allSatisfy { $0.value! <= b.value! })
        #expect(best.checkpoint.dir == s.dir + "/best")
    }
}
