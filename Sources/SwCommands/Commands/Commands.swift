import Foundation
import SwCheckpoint
import SwComm
import SwConfig
import SwNN
import SwTensor
import SwTrain

/// Process start-up shared by the commands: the communicator and the BLAS threads.
enum Launch {
    /// MPI's world when launched by mpirun, else a local size-1 communicator. With as many
    /// ranks on this node as cores or more, BLAS runs one thread per rank.
    static func worldCommunicator() throws -> any Communicator {
        let comm = try MPIRuntime.makeWorldCommunicator()
        let local = Int(Foundation.ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? 1
        if local > 1 {
            let cores = Foundation.ProcessInfo.processInfo.activeProcessorCount
            BLAS.setThreads(max(1, cores / local))
        }
        return comm
    }
}

/// `swtrain train`: loads and validates the config, then runs the trainer.
///
/// Failures in a distributed run never hang the job: an error every rank met the same way
/// before training (a config error) is printed once by rank 0 and every rank exits with its
/// code (2); any other error prints `swtrain: error: rank R: step S: ...` on the rank that
/// met it and aborts the whole job (`MPI_Abort`, exit 1).
public enum TrainCommand {
    /// Hidden test hooks of `swtrain train`.
    public struct Hooks: Sendable {
        /// Throw on rank `rank` when step `step` (1-based) begins.
        public var failAt: (rank: Int, step: Int)?
        /// End cleanly with a checkpoint after this many steps (the schedule is unchanged).
        public var stopAfter: Int?
        public init(failAt: (rank: Int, step: Int)? = nil, stopAfter: Int? = nil) {
            self.failAt = failAt
            self.stopAfter = stopAfter
        }
    }

    public static func run(configPath: String, overrides: [String], resume: String?, plainProgress: Bool,
                           hooks: Hooks = Hooks()) throws {
        let config = try loadConfig(configPath, overrides: overrides)
        let comm = try Launch.worldCommunicator()
        var trainer: Trainer?
        do {
            let t = try Trainer(config: config, comm: comm)
            trainer = t
            try train(t, resume: resume, plainProgress: plainProgress, hooks: hooks)
        } catch let e as CollectiveFailure {
            reportOnce(e, comm)
        } catch {
            guard comm.size > 1 else { throw error }
            let code: Int32 = error is ConfigError ? 2 : 1
            comm.fail(RuntimeError(describe(error, step: trainer?.step)), code: code)
        }
    }

    /// Loads the config; under mpirun a load error (the same on every rank, which all read the
    /// same file) is printed by rank 0 alone and every rank exits 2.
    static func loadConfig(_ path: String, overrides: [String]) throws -> TrainConfig {
        do {
            return try TrainConfig.load(path: path, overrides: overrides)
        } catch {
            guard MPIRuntime.isLaunchedByMPI, let comm = try? Launch.worldCommunicator(), comm.size > 1 else { throw error }
            reportOnce(CollectiveFailure(underlying: SendableError(error), report: comm.rank == 0, code: 2), comm)
        }
    }

    /// Prints a failure every rank met (on the rank that reports it), waits for every rank so
    /// the message is out before any rank exits (mpirun ends the job at the first non-zero
    /// exit), then ends this rank with the failure's code after a clean MPI finalise.
    static func reportOnce(_ failure: CollectiveFailure, _ comm: any Communicator) -> Never {
        if failure.report {
            FileHandle.standardError.write(Data("swtrain: error: \(failure.underlying)\n".utf8))
        }
        try? comm.barrier()
        exit(failure.code)
    }

    private static func train(_ trainer: Trainer, resume: String?, plainProgress: Bool, hooks: Hooks) throws {
        let comm = trainer.comm, config = trainer.config
        if comm.rank == 0 { print(trainer.threadsLine) }
        if let resume {
            let reader = CheckpointReader(directory: config.checkpoint.dir)
            guard let found = try reader.resolve(resume == "latest" ? nil : resume) else {
                throw RuntimeError("\(config.checkpoint.dir): no complete checkpoint to resume from\n  hint: run without --resume to start afresh")
            }
            if let fb = found.fallback, comm.rank == 0 {
                FileHandle.standardError.write(Data("swtrain: note: latest\(fb.latestNamed.map { " (\($0))" } ?? "") is unusable: \(fb.reason); resuming from \(found.checkpoint.name), the newest complete checkpoint\n".utf8))
            }
            try trainer.restore(from: found.checkpoint)
            if comm.rank == 0 { print("resumed from \(found.checkpoint.path) at step \(trainer.step)") }
        }
        if trainer.step >= trainer.totalSteps {
            if comm.rank == 0 {
                print("the run is already complete: step \(trainer.step) of \(trainer.totalSteps); nothing to train"
                      + "\n  hint: raise training.max_steps or training.epochs to train on from this checkpoint")
            }
            return
        }
        let run = try TrainingRun(trainer: trainer, plainProgress: plainProgress)
        run.failAt = hooks.failAt
        run.stopAfter = hooks.stopAfter
        let s = try run.run()
        if comm.rank == 0 {
            var line = "done: \(s.steps) steps in \(String(format: "%.1f", s.seconds)) s, \(Int(s.samplesPerSecond)) samples/s, train loss \(String(format: "%.4f", s.trainLoss))"
            if let l = s.testLoss { line += ", test loss \(String(format: "%.4f", l))" }
            if let a = s.testAccuracy { line += ", test accuracy \(String(format: "%.4f", a))" }
            print(line)
        }
    }

    /// `step S: what` for an error of a rank (the rank is added by `Communicator.fail`).
    static func describe(_ error: any Error, step: Int?) -> String {
        switch error {
        case let e as StepError: return "step \(e.step): \(e.underlying)"
        case let e as CommError: return "step \(step ?? 0): \(e.operation): \(e.message)"
        default: return step.map { "step \($0): \(error)" } ?? "start-up: \(error)"
        }
    }

}
