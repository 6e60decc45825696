import Foundation
import SwComm
import SwConfig
import SwTensor
import SwTrain

/// `swtrain tune STUDY.json [--resume]`: runs a study, alone or under mpirun.
///
/// Under `mpirun -np N` the world splits into N / ranks_per_trial groups of consecutive
/// ranks (`split(color: rank / ranks_per_trial)`); each group trains one trial at a time as a
/// data-parallel job on its communicator. Rank 0 (the leader of group 0) owns the study: it
/// samples, decides pruning and is the only process that writes the study folder; the other
/// groups' leaders ask it for trials and report eval values over MPI (`Wire`).
///
/// At the end rank 0 writes `trials.csv` and `best.json` (the best trial's config, runnable
/// with `swtrain train`) and prints the best trial.
public enum TuneCommand {
    public struct Summary: Sendable {
        public var finished: Int
        public var best: TrialRecord?
        public var totalSteps: Int
        public var seconds: Double
    }

    public static func run(studyPath: String, resume: Bool) throws {
        let world = try MPIRuntime.makeWorldCommunicator()
        let local = Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? 1
        if local > 1 { BLAS.setThreads(max(1, ProcessInfo.processInfo.activeProcessorCount / local)) }
        let spec: StudySpec
        do {
            spec = try StudySpec.load(path: studyPath)
            if world.size % spec.ranksPerTrial != 0 {
                throw ConfigError(file: studyPath, path: "ranks_per_trial",
                                  message: "expected a divisor of the world size \(world.size), got \(spec.ranksPerTrial)",
                                  hint: "launch a multiple of \(spec.ranksPerTrial) ranks, or change ranks_per_trial")
            }
        } catch {
            try failTogether(world, error, code: 2)
        }
        _ = try run(spec: spec, resume: resume, world: world, objective: TrainObjective(spec: spec), quiet: false)
    }

    /// Every rank read the same file, so a config error is the same on every rank: rank 0
    /// prints it, the others wait for it and leave with the same code.
    static func failTogether(_ world: any Communicator, _ error: any Error, code: Int32) throws -> Never {
        if world.size == 1 { throw error }
        if world.rank == 0 { FileHandle.standardError.write(Data("swtrain: error: \(error)\n".utf8)) }
        try? world.barrier()
        exit(code)
    }

    /// Runs the study on `world` with the training objective (or any objective, for tests).
    /// Returns the summary on rank 0 (nil elsewhere).
    public static func run(spec: StudySpec, resume: Bool, world: any Communicator, objective: TrainObjective,
                           quiet: Bool) throws -> Summary? {
        try run(spec: spec, resume: resume, world: world, quiet: quiet,
                prepare: { try objective.prepare($0) },
                objective: { try objective.run($0, $1) },
                bestConfig: { try? objective.bestConfig($0).resolved })
    }

    public static func run(spec: StudySpec, resume: Bool, world: any Communicator, quiet: Bool,
                           prepare: ((Assignment) throws -> Void)?,
                           objective: (Assignment, GroupChannel) throws -> TrialOutcome,
                           bestConfig: ([Double]) -> JSON?) throws -> Summary? {
        let start = Date()
        let rpt = spec.ranksPerTrial
        let groups = world.size / rpt
        let group: any Communicator = rpt == 1 ? LocalCommunicator() : try world.split(color: world.rank / rpt, key: world.rank)
        // Rank 0 opens the study; the others learn whether it could.
        var study: Study?
        var openError: (any Error)?
        if world.rank == 0 {
            do { study = try Study(spec: spec, resume: resume) } catch { openError = error }
        }
        if world.size > 1 {
            var ok: [Float] = [openError == nil ? 1 : 0]
            try ok.withUnsafeMutableBufferPointer { try world.broadcast($0, root: 0) }
            if ok[0] == 0 {
                if let openError { throw openError }
                exit(1)
            }
        } else if let openError {
            throw openError
        }
        let source: (any TrialSource)?
        if let study {
            study.prepare = prepare
            let s = StudySource(study: study, world: world.size > 1 ? world : nil, leaders: (1..<groups).map { $0 * rpt })
            s.onFinish = { n, o in
                try? study.writeTrialsCSV()
                if !quiet { print(describe(study, n, o, seconds: Date().timeIntervalSince(start))) }
            }
            source = s
            if !quiet {
                let resumed = study.trials.count
                print("study \(spec.name): \(spec.samplerKind.rawValue) sampler, pruner \(spec.prunerKind.rawValue), \(spec.trials) trials, \(groups) group\(groups == 1 ? "" : "s") of \(rpt) rank\(rpt == 1 ? "" : "s")" + (resumed > 0 ? ", resuming with \(study.finishedCount) finished" : ""))
            }
        } else if group.rank == 0 {
            source = RemoteSource(world: world, waitsForDecisions: spec.prunerKind != .none)
        } else {
            source = nil
        }
        let channel = GroupChannel(source: source, group: group)
        try channel.runAll(objective)
        if let s = source as? StudySource { try s.serveUntilDone() }
        if world.size > 1 { try world.barrier() }
        guard let study else { return nil }
        try study.writeTrialsCSV()
        if let best = study.best, let values = best.values(in: spec.space), let config = bestConfig(values) {
            try (config.serialized(pretty: true) + "\n").write(toFile: spec.dir + "/best.json", atomically: true, encoding: .utf8)
        }
        let summary = Summary(finished: study.finishedCount, best: study.best, totalSteps: study.totalSteps,
                              seconds: Date().timeIntervalSince(start))
        if !quiet {
            var line = "done: \(summary.finished) trials finished, \(summary.totalSteps) training steps in \(String(format: "%.1f", summary.seconds)) s"
            if let b = summary.best {
                line += "; best trial \(b.number): \(spec.metric.rawValue) \(String(format: "%.4f", b.value!)) (\(params(spec, b)))"
                line += "\nbest config: \(spec.dir)/best.json"
            }
            print(line)
        }
        return summary
    }

    static func params(_ spec: StudySpec, _ t: TrialRecord) -> String {
        spec.space.parameters.compactMap { p in
            t.params[p.path].map { "\(p.path)=\(p.distribution.externalValue($0).serialized())" }
        }.joined(separator: " ")
    }

    static func describe(_ study: Study, _ n: Int, _ o: TrialOutcome, seconds: Double) -> String {
        let t = study.trials[n]
        var s = "trial \(n) \(t.state.name.lowercased())"
        if let v = t.value { s += " \(study.spec.metric.rawValue) \(String(format: "%.4f", v))" }
        s += " after \(o.steps) steps [\(params(study.spec, t))]"
        if case .failed(let why) = o.kind { s += ": " + (why.split(separator: "\n").first.map(String.init) ?? why) }
        return s + "  (\(study.finishedCount)/\(study.spec.trials), \(String(format: "%.0f", seconds)) s)"
    }
}
