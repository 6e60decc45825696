import Foundation
import Testing
import SwConfig
@testable import SwTune

/// The fields each operation code carries (besides op_code and worker_id), as Optuna's
/// JournalStorage writes them; `datetime_complete` only with a finished state.
let journalFields: [Int: [String]] = [
    0: ["study_name", "directions"], 2: ["study_id", "user_attr"], 3: ["study_id", "system_attr"],
    4: ["study_id", "datetime_start"], 5: ["trial_id", "param_name", "param_value_internal", "distribution"],
    6: ["trial_id", "state", "values"], 7: ["trial_id", "step", "intermediate_value"],
    8: ["trial_id", "user_attr"], 9: ["trial_id", "system_attr"],
]

/// The value of a learning curve: a synthetic objective with a clear optimum at x = 0.3.
func syntheticCurve(_ v: [Double]) -> [Double] {
    let q = 1 - abs(v[0] - 0.3)
    return (1...8).map { q * (1 - 1 / Double($0 + 1)) }
}

@Suite struct JournalTests {
    let fields = """
        "space": {"x": {"uniform": [0, 1]}, "w": {"choice": [16, "wide", true]}, "n": {"int": [1, 9], "step": 2}},
        "sampler": "tpe", "pruner": "asha", "trials": 14, "seed": 9, "metric": "accuracy"
        """

    @Test func journalParsesLineByLineAsTheDocumentedRecords() throws {
        let dir = try scratch("journal")
        let s = try spec(dir, fields)
        try runSynthetic(s, curve: syntheticCurve)
        let lines = try journalLines(s.dir + "/journal.log")
        var workers = Set<String>()
        var trialsCreated = 0, lastState: [Int: Int] = [:]
        for (i, o) in lines.enumerated() {
            guard case .number(let codeNumber)? = o["op_code"], codeNumber.isInteger, case let code = codeNumber.double, let expected = journalFields[Int(code)] else {
                Issue.record("line \(i + 1): bad op_code"); continue
            }
            #expect(o.keys.prefix(2) == ["op_code", "worker_id"], "line \(i + 1)")
            if case .string(let w)? = o["worker_id"] { workers.insert(w) }
            var keys = Array(o.keys.dropFirst(2))
            if code == 6, keys.last == "datetime_complete" { keys.removeLast() }
            #expect(keys == expected, "line \(i + 1): \(keys)")
            switch Int(code) {
            case 0:
                #expect(o["study_name"] == .string("s"))
                #expect(o["directions"] == .array([.number(2, isInteger: true)]))   // maximize
            case 4:
                trialsCreated += 1
                if case .string(let d)? = o["datetime_start"] { #expect(d.count == 26 && d.dropFirst(10).first == "T", "\(d)") }
            case 5:
                guard case .string(let text)? = o["distribution"], case .string(let name)? = o["param_name"] else { Issue.record("param"); break }
                let d = Distribution.fromOptunaJSON(text)
                #expect(d == s.space.parameters.first { $0.path == name }?.distribution, "\(text)")
                // Python's json.dumps layout, the way Optuna's distribution_to_json writes it.
                #expect(text.hasPrefix("{\"name\": \"") && text.contains("\"attributes\": {"))
                if let v = o["param_value_internal"]?.doubleValue { #expect(d?.contains(v) == true) }
            case 6:
                if let t = o["trial_id"]?.doubleValue, let st = o["state"]?.doubleValue {
                    lastState[Int(t)] = Int(st)
                    #expect((st == 0) != (o["datetime_complete"] != nil))
                    if st == 1 { if case .array(let v)? = o["values"] { #expect(v.count == 1) } else { Issue.record("complete without values") } }
                    if st == 3 { #expect(o["values"] == .null) }
                }
            default: break
            }
        }
        #expect(workers.count == 1)
        #expect(trialsCreated == 14)
        #expect(lastState.count == 14 && lastState.values.allSatisfy { $0 == 1 || $0 == 2 })
        #expect(lastState.values.contains(2), "ASHA pruned no trial")
        // Categorical values are stored by index, the choices as written.
        #expect(s.space.parameters[1].distribution.optunaJSON == "{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [16, \"wide\", true]}}")
        #expect(s.space.parameters[2].distribution.optunaJSON == "{\"name\": \"IntDistribution\", \"attributes\": {\"log\": false, \"step\": 2, \"low\": 1, \"high\": 9}}")
        // The replay gives back what the study had.
        let r = try JournalReplay.read(path: s.dir + "/journal.log", studyName: "s")
        #expect(r.trials.count == 14 && r.trials.allSatisfy { $0.countsAsDone && $0.values(in: s.space) != nil })
        // trials.csv: a header and one row per trial.
        let csv = try String(contentsOfFile: s.dir + "/trials.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 15 && csv[0].hasPrefix("number,state,value,steps,x,w,n"))
    }

    /// Cuts the journal of a finished study after every line (and inside one), as a kill
    /// would leave it, resumes each cut, and checks that every resumed study ends with the same
    /// number of finished trials, re-runs interrupted trials with their parameters, and (for the
    /// grid) visits every point exactly once among the trials that count.
    @Test(arguments: ["tpe", "grid"])
    func killedStudyResumesToTheSameNumberOfFinishedTrials(sampler: String) throws {
        let dir = try scratch("kill-\(sampler)")
        let space = sampler == "grid"
            ? "\"space\": {\"x\": {\"choice\": [0.1, 0.3, 0.5]}, \"n\": {\"int\": [1, 4]}}"
            : "\"space\": {\"x\": {\"uniform\": [0, 1]}, \"n\": {\"int\": [1, 4]}}"
        let s = try spec(dir, space + ", \"sampler\": \"\(sampler)\", \"pruner\": \"median\", \"trials\": 12, \"seed\": 2")
        try runSynthetic(s, curve: syntheticCurve)
        let full = try Data(contentsOf: URL(fileURLWithPath: s.dir + "/journal.log"))
        let ends = full.indices.filter { full[$0] == 0x0A }
        var cuts = stride(from: 2, to: ends.count, by: 3).map { ends[$0] + 1 }
        cuts.append(ends[ends.count / 2] + 9)   // inside a line
        for cut in cuts {
            let d2 = try scratch("resume")
            let s2 = try spec(d2, space + ", \"sampler\": \"\(sampler)\", \"pruner\": \"median\", \"trials\": 12, \"seed\": 2")
            try FileManager.default.createDirectory(atPath: s2.dir, withIntermediateDirectories: true)
            try full.prefix(cut).write(to: URL(fileURLWithPath: s2.dir + "/journal.log"))
            let before = try JournalReplay.read(path: s2.dir + "/journal.log", studyName: "s")
            let interrupted = before.trials.filter { $0.state == .running && $0.values(in: s2.space) != nil }
            let summary = try runSynthetic(s2, resume: true, curve: syntheticCurve)
            #expect(summary.finished == 12, "cut at byte \(cut)")
            let after = try JournalReplay.read(path: s2.dir + "/journal.log", studyName: "s")
            #expect(after.trials.allSatisfy { $0.state.isFinished }, "a trial left RUNNING after resume (cut \(cut))")
            #expect(after.trials.filter(\.countsAsDone).count == 12)
            for t in interrupted {
                #expect(after.trials[t.number].interrupted)
                let rerun = after.trials.first { $0.systemAttrs["failed_trial"] == .number(Double(t.number), isInteger: true) }
                #expect(rerun?.params == t.params, "trial \(t.number) was not re-run with its parameters (cut \(cut))")
            }
            if sampler == "grid" {
                let counted = after.trials.filter(\.countsAsDone)
                #expect(Set(counted.compactMap(\.gridID)) == Set(0..<12) && counted.count == 12, "cut \(cut)")
            }
            // The sampler is rebuilt from the journal: trials created after the cut are what
            // the uninterrupted study proposed (TPE depends only on seed, number and history).
            if sampler == "tpe" && before.trials.allSatisfy({ $0.state.isFinished }) {
                let original = try JournalReplay.read(path: s.dir + "/journal.log", studyName: "s").trials
                for t in after.trials where t.number >= before.trials.count && t.number < original.count {
                    #expect(t.params == original[t.number].params, "trial \(t.number) after a clean cut at \(cut)")
                }
            }
        }
    }

    @Test func existingJournalNeedsResume() throws {
        let dir = try scratch("exists")
        let s = try spec(dir, "\"space\": {\"x\": {\"uniform\": [0, 1]}}, \"sampler\": \"random\", \"trials\": 2")
        try runSynthetic(s) { [$0[0]] }
        #expect(throws: TuneError.self) { try runSynthetic(s) { [$0[0]] } }
        // Resuming a finished study runs nothing more.
        let again = try runSynthetic(s, resume: true) { [$0[0]] }
        #expect(again.finished == 2)
        // A changed space is refused on resume.
        let changed = try spec(dir, "\"space\": {\"x\": {\"uniform\": [0, 2]}}, \"sampler\": \"random\", \"trials\": 3")
        #expect(throws: TuneError.self) { try runSynthetic(changed, resume: true) { [$0[0]] } }
    }

    @Test func resumeCanRaiseTheTrialCountAndTimeoutStopsNewTrials() throws {
        let dir = try scratch("extend")
        let s = try spec(dir, "\"space\": {\"x\": {\"uniform\": [0, 1]}}, \"sampler\": \"tpe\", \"trials\": 3, \"seed\": 4")
        try runSynthetic(s) { [$0[0]] }
        let more = try spec(dir, "\"space\": {\"x\": {\"uniform\": [0, 1]}}, \"sampler\": \"tpe\", \"trials\": 5, \"seed\": 4")
        #expect(try runSynthetic(more, resume: true) { [$0[0]] }.finished == 5)
        // A timeout that has passed before the first trial: the study starts none.
        let d2 = try scratch("timeout")
        let t = try spec(d2, "\"space\": {\"x\": {\"uniform\": [0, 1]}}, \"trials\": 5, \"timeout\": 1e-9")
        #expect(try runSynthetic(t) { [$0[0]] }.finished == 0)
        #expect(try JournalReplay.read(path: t.dir + "/journal.log", studyName: "s").trials.isEmpty)
    }
}
