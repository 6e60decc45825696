import Foundation
import SwConfig
#if canImport(Glibc)
import Glibc
#endif

/// A trial handed to a runner: its number and parameter values (internal representation).
public struct Assignment: Sendable, Equatable {
    public var number: Int
    public var values: [Double]

    public init(number: Int, values: [Double]) {
        self.number = number
        self.values = values
    }
}

/// How a trial ended, and how many training steps it ran.
public struct TrialOutcome: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case complete(Double)
        case pruned
        case failed(String)
    }
    public var kind: Kind
    public var steps: Int

    public init(_ kind: Kind, steps: Int) {
        self.kind = kind
        self.steps = steps
    }
}

/// The study as its one writer (rank 0) keeps it: the trials, the sampler and pruner, and the
/// journal every change is appended to before it takes effect anywhere else.
///
/// Opening a study folder with `resume` replays `journal.log`: finished trials come back as
/// they were, and trials still RUNNING (the study was killed while they ran) are marked
/// failed with the system attribute `swtrain_interrupted` and queued to run again first, with
/// the same parameters (a new trial whose system attribute `failed_trial` names the old one,
/// as Optuna's `RetryFailedTrialCallback` does). Interrupted trials do not count against
/// `trials`; every other finished trial does, so a resumed study ends with as many finished
/// trials as an uninterrupted one. Without `resume` an existing journal is an error.
public final class Study {
    public let spec: StudySpec
    public private(set) var trials: [TrialRecord]
    private var trialIDs: [Int]
    private var nextTrialID: Int
    private let studyID: Int
    private let journal: JournalWriter
    private var rerun: [Int] = []
    private let started = Date()
    /// Checks a trial's values before it runs (the trial's config builds); a thrown error
    /// fails the trial with its text and the study samples again.
    public var prepare: ((Assignment) throws -> Void)?

    public var journalPath: String { spec.dir + "/journal.log" }

    public init(spec: StudySpec, resume: Bool) throws {
        self.spec = spec
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: spec.dir, withIntermediateDirectories: true)
        } catch {
            throw TuneError("\(spec.dir): cannot create the study folder (\(error.localizedDescription))\n  hint: set dir in the study file to a writable folder")
        }
        let path = spec.dir + "/journal.log"
        let exists = (try? fm.attributesOfItem(atPath: path)[.size] as? Int).flatMap { $0 } ?? 0 > 0
        if exists && !resume {
            throw TuneError("\(path): the study folder already holds a journal\n  hint: continue it with --resume, or remove \(spec.dir) (or set dir) to start afresh")
        }
        var replay = try JournalReplay.read(path: path, studyName: spec.name)
        if let size = try? fm.attributesOfItem(atPath: path)[.size] as? Int, size > replay.validBytes {
            // A kill cut the last line short: drop it so the next line starts clean.
            if truncate(path, off_t(replay.validBytes)) != 0 {
                throw TuneError("\(path): cannot drop the incomplete last line (\(String(cString: strerror(errno))))")
            }
        }
        let writer = try JournalWriter(path: path)
        if let id = replay.studyID {
            if let d = replay.direction, d != spec.direction {
                throw TuneError("\(path): the journal's study \"\(spec.name)\" was run to \(d == .maximize ? "maximize" : "minimize"), the study file says \(spec.direction == .maximize ? "maximize" : "minimize")\n  hint: resume with the study file it was started with, or give a new name or dir")
            }
            for p in spec.space.parameters {
                if let d = replay.distributions[p.path], d != p.distribution {
                    throw TuneError("\(path): parameter \(p.path) was searched over \(d.optunaJSON) in the journal, the study file gives \(p.distribution.optunaJSON)\n  hint: resume with the study file it was started with, or give a new name or dir")
                }
            }
            studyID = id
        } else {
            try writer.append(.createStudy, [("study_name", .string(spec.name)),
                                             ("directions", .array([.number(Double(spec.direction.rawValue), isInteger: true)]))])
            replay = try JournalReplay.read(path: path, studyName: spec.name)
            let id = replay.studyID ?? 0
            try writer.append(.setStudyUserAttr, [("study_id", .number(Double(id), isInteger: true)),
                                                   ("user_attr", .object(JSONObject([("swtrain_study", spec.json)])))])
            studyID = id
        }
        journal = writer
        trials = replay.trials
        trialIDs = replay.trialIDs
        nextTrialID = replay.nextTrialID
        for t in trials where t.state == .running {
            try setSystemAttr(t.number, TrialRecord.interruptedKey, .bool(true))
            try setUserAttr(t.number, "error", .string("interrupted: the study stopped while this trial ran"))
            try setState(t.number, .fail, value: nil)
            if t.values(in: spec.space) != nil { rerun.append(t.number) }
        }
    }

    public var finishedCount: Int { trials.filter(\.countsAsDone).count }
    public var runningCount: Int { trials.filter { $0.state == .running }.count }
    var timedOut: Bool { spec.timeout.map { Date().timeIntervalSince(started) >= $0 } ?? false }

    /// The next trial to run, or nil when the study starts no more (enough trials finished or
    /// running, the timeout passed, or the grid is exhausted).
    public func next() throws -> Assignment? {
        while finishedCount + runningCount < spec.trials && !timedOut {
            let number = trials.count
            var values: [Double]
            var attrs: [(String, JSON)] = []
            if !rerun.isEmpty {
                let old = trials[rerun.removeFirst()]
                values = old.values(in: spec.space)!
                if let g = old.systemAttrs["grid_id"] { attrs.append(("grid_id", g)) }
                attrs.append(("failed_trial", .number(Double(old.number), isInteger: true)))
            } else {
                guard let s = spec.sampler.sample(number: number, trials: trials, space: spec.space, direction: spec.direction) else { return nil }
                values = s.values
                attrs = s.systemAttrs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            }
            try create(number: number, values: values, systemAttrs: attrs)
            let a = Assignment(number: number, values: values)
            do {
                try prepare?(a)
            } catch {
                try finish(number, TrialOutcome(.failed("\(error)"), steps: 0))
                continue
            }
            return a
        }
        return nil
    }

    private func create(number: Int, values: [Double], systemAttrs: [(String, JSON)]) throws {
        var t = TrialRecord(number: number)
        t.datetimeStart = JournalWriter.now()
        try journal.append(.createTrial, [("study_id", .number(Double(studyID), isInteger: true)), ("datetime_start", .string(t.datetimeStart!))])
        trials.append(t)
        trialIDs.append(nextTrialID)
        nextTrialID += 1
        for (k, v) in systemAttrs { try setSystemAttr(number, k, v) }
        for (p, v) in zip(spec.space.parameters, values) {
            let stored: JSON
            if case .categorical = p.distribution { stored = .number(v, isInteger: true) } else { stored = .number(v, isInteger: false) }
            try journal.append(.setTrialParam, [("trial_id", id(number)), ("param_name", .string(p.path)),
                                                ("param_value_internal", stored), ("distribution", .string(p.distribution.optunaJSON))])
            trials[number].params[p.path] = v
        }
    }

    /// Records an intermediate value of a running trial and returns whether to stop it.
    public func report(_ number: Int, step: Int, value: Double, context: PruneContext) throws -> Bool {
        guard trials.indices.contains(number), trials[number].state == .running else { return true }
        try journal.append(.setTrialIntermediateValue, [("trial_id", id(number)), ("step", .number(Double(step), isInteger: true)),
                                                        ("intermediate_value", .number(value, isInteger: false))])
        trials[number].intermediate.append((step, value))
        appendTrialLog(number, JSONObject([("event", .string("eval")), ("step", .number(Double(step), isInteger: true)),
                                           (spec.metric.rawValue, .number(value, isInteger: false))]))
        let others = trials.filter { $0.number != number }
        let d = spec.pruner.decide(trial: trials[number], step: step, trials: others, direction: spec.direction, context: context)
        for (k, v) in d.systemAttrs { try setSystemAttr(number, k, v) }
        return d.prune
    }

    /// Records how a trial ended (complete with its value, pruned with its last reported
    /// value, or failed with the reason as user attribute `error`).
    /// `rank` is the world rank of the group leader that ran it (user attribute `rank`).
    public func finish(_ number: Int, _ outcome: TrialOutcome, rank: Int? = nil) throws {
        guard trials.indices.contains(number), trials[number].state == .running else { return }
        try setUserAttr(number, "steps", .number(Double(outcome.steps), isInteger: true))
        if let rank { try setUserAttr(number, "rank", .number(Double(rank), isInteger: true)) }
        switch outcome.kind {
        case .complete(let v) where v.isFinite:
            try setState(number, .complete, value: v)
        case .complete(let v):
            try setUserAttr(number, "error", .string("the objective is \(v)"))
            try setState(number, .fail, value: nil)
        case .pruned:
            let last = trials[number].lastStep.flatMap { trials[number].intermediate(at: $0) }
            try setState(number, .pruned, value: last.flatMap { $0.isFinite ? $0 : nil })
        case .failed(let why):
            try setUserAttr(number, "error", .string(why))
            try setState(number, .fail, value: nil)
        }
    }

    private func id(_ number: Int) -> JSON { .number(Double(trialIDs[number]), isInteger: true) }

    private func setState(_ number: Int, _ state: TrialState, value: Double?) throws {
        var f: [(String, JSON)] = [("trial_id", id(number)), ("state", .number(Double(state.rawValue), isInteger: true)),
                                   ("values", value.map { .array([.number($0, isInteger: false)]) } ?? .null)]
        let now = JournalWriter.now()
        if state.isFinished { f.append(("datetime_complete", .string(now))) }
        try journal.append(.setTrialStateValues, f)
        trials[number].state = state
        trials[number].value = value
        if state.isFinished { trials[number].datetimeComplete = now }
    }

    private func setSystemAttr(_ number: Int, _ key: String, _ value: JSON) throws {
        try journal.append(.setTrialSystemAttr, [("trial_id", id(number)), ("system_attr", .object(JSONObject([(key, value)])))])
        trials[number].systemAttrs[key] = value
    }

    private func setUserAttr(_ number: Int, _ key: String, _ value: JSON) throws {
        try journal.append(.setTrialUserAttr, [("trial_id", id(number)), ("user_attr", .object(JSONObject([(key, value)])))])
        trials[number].userAttrs[key] = value
    }

    /// The trial's run folder, `DIR/trial-<n>`.
    public func trialDirectory(_ number: Int) -> String { "\(spec.dir)/trial-\(number)" }

    private func appendTrialLog(_ number: Int, _ line: JSONObject) {
        let dir = trialDirectory(number)
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/metrics.jsonl"
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        if let h = FileHandle(forWritingAtPath: path) {
            h.seekToEndOfFile()
            h.write(Data((JSON.object(line).serialized() + "\n").utf8))
            try? h.close()
        }
    }

    /// The best complete trial.
    public var best: TrialRecord? {
        trials.filter { $0.state == .complete && $0.value != nil }
            .min { spec.direction.loss($0.value!) < spec.direction.loss($1.value!) || (spec.direction.loss($0.value!) == spec.direction.loss($1.value!) && $0.number < $1.number) }
    }

    /// Total training steps over every trial (the cost of the study).
    public var totalSteps: Int {
        trials.reduce(0) { s, t in if let d = t.userAttrs["steps"]?.doubleValue { return s + Int(d) }; return s }
    }

    /// Writes `trials.csv`: number, state, value, steps, each parameter (its external value),
    /// start and end times.
    public func writeTrialsCSV() throws {
        var rows = ["number,state,value,steps," + spec.space.parameters.map { csvField($0.path) }.joined(separator: ",") + ",datetime_start,datetime_complete,error"]
        for t in trials {
            var f = [String(t.number), t.state.name, t.value.map { "\($0)" } ?? ""]
            if let d = t.userAttrs["steps"]?.doubleValue { f.append(String(Int(d))) } else { f.append("") }
            for p in spec.space.parameters {
                f.append(t.params[p.path].map { csvField(p.distribution.externalValue($0).serialized()) } ?? "")
            }
            f.append(t.datetimeStart ?? "")
            f.append(t.datetimeComplete ?? "")
            if case .string(let e)? = t.userAttrs["error"] { f.append(csvField(e)) } else { f.append("") }
            rows.append(f.joined(separator: ","))
        }
        try (rows.joined(separator: "\n") + "\n").write(toFile: spec.dir + "/trials.csv", atomically: true, encoding: .utf8)
    }

    private func csvField(_ s: String) -> String {
        if s.contains(",") || s.contains("\"") || s.contains("\n") { return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        return s
    }
}
