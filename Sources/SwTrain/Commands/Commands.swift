import Foundation
import SwConfig
import SwCheckpoint
import SwComm
import SwNN
import SwTensor

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

/// A failure while running (I/O, bad data, a diverged loss): exit code 1.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// `swtrain train`: loads and validates the config, then runs the trainer.
public enum TrainCommand {
    public static func run(configPath: String, overrides: [String], resume: String?, plainProgress: Bool) throws {
        let config = try TrainConfig.load(path: configPath, overrides: overrides)
        let comm = try Launch.worldCommunicator()
        let trainer = try Trainer(config: config, comm: comm)
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
        let run = try TrainingRun(trainer: trainer, plainProgress: plainProgress)
        let s = try run.run()
        if comm.rank == 0 {
            var line = "done: \(s.steps) steps in \(String(format: "%.1f", s.seconds)) s, \(Int(s.samplesPerSecond)) samples/s, train loss \(String(format: "%.4f", s.trainLoss))"
            if let l = s.testLoss { line += ", test loss \(String(format: "%.4f", l))" }
            if let a = s.testAccuracy { line += ", test accuracy \(String(format: "%.4f", a))" }
            print(line)
        }
    }
}
