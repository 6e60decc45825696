import Foundation
import SwComm
import SwConfig
import SwData
import SwNN
import SwTensor

/// An error of a distributed run's start-up that every rank knows about: the ranks that report
/// it print it (rank 0 for an error every rank met, each failed rank for its own error when
/// only some failed), every rank waits for the others and exits with `code` after a clean MPI
/// finalise, so the messages are out before `mpirun` ends the job and returns `code` (2 for a
/// config error).
public struct CollectiveFailure: Error, CustomStringConvertible, Sendable {
    /// What went wrong (a `ConfigError` or a `RuntimeError`).
    public let underlying: any Error & Sendable
    /// True on the rank(s) that print `underlying`.
    public let report: Bool
    /// The exit code of every rank.
    public let code: Int32
    public var description: String { "\(underlying)" }

    public init(underlying: any Error & Sendable, report: Bool, code: Int32) {
        self.underlying = underlying
        self.report = report
        self.code = code
    }
}

/// Start-up agreement of a distributed run (a collective over the world, called by every rank
/// from `Trainer.init`, in the same order).
enum Startup {
    /// Tells every rank whether the others set up cleanly (one `MPI_Allgather` of a flag).
    /// Returns when every rank succeeded. Otherwise every rank throws a `CollectiveFailure`:
    /// when every rank failed, rank 0 reports its own error; when only some failed, each of
    /// those reports its own error, naming its rank, and the healthy ranks print nothing. The
    /// caller's `CollectiveFailure` handling (print, then a barrier, then exit) orders the
    /// messages before any rank exits: nothing waits on a clock.
    static func agree(_ comm: any Communicator, failure: (any Error)?) throws {
        if comm.size == 1 { if let failure { throw failure }; return }
        let flag: Int64 = failure == nil ? 0 : (failure is ConfigError ? 2 : 1)
        let flags = try comm.allGather(flag)
        let failed = flags.indices.filter { flags[$0] != 0 }
        if failed.isEmpty { return }
        if failed.count == comm.size {
            let code: Int32 = flags.allSatisfy({ $0 == 2 }) ? 2 : 1
            throw CollectiveFailure(underlying: SendableError(failure!), report: comm.rank == 0, code: code)
        }
        let code: Int32 = failed.allSatisfy({ flags[$0] == 2 }) ? 2 : 1
        let error = failure.map { RuntimeError("rank \(comm.worldRank): start-up: \(SendableError($0))") }
            ?? RuntimeError("start-up failed on rank(s) \(failed.map(String.init).joined(separator: ", "))")
        throw CollectiveFailure(underlying: error, report: failure != nil, code: code)
    }

    /// Checks that every rank runs the same config (`TrainConfig.hash`), the same parameter
    /// layout (count and a hash of names, shapes and offsets) and the same data (`DataFingerprint`
    /// of each data set: a host with another copy of a file at the same path). A mismatch is a config error
    /// naming the ranks that differ from rank 0, thrown on every rank (rank 0 reports it).
    static func checkConsistency(_ comm: any Communicator, config: TrainConfig, model: Model,
                                 data: [(path: String, data: any Dataset)] = []) throws {
        if comm.size == 1 { return }
        var configHash = config.hash
        // Test hook: make one rank's config look different (SwTrainTests uses it).
        if let r = ProcessInfo.processInfo.environment["SWTRAIN_TEST_PERTURB_CONFIG_RANK"].flatMap(Int.init),
           r == comm.rank {
            configHash ^= 1
        }
        let store = model.parameters
        var layout: UInt64 = 0xCBF2_9CE4_8422_2325
        for e in store.entries {
            for b in "\(e.name)\(e.shape)@\(e.offset);".utf8 { layout = (layout ^ UInt64(b)) &* 0x100_0000_01B3 }
        }
        var mine: [Int64] = [Int64(bitPattern: configHash), Int64(store.count), Int64(bitPattern: layout)]
        var what = ["config (hash of the resolved config)", "parameter count", "parameter layout"]
        // The data each rank loaded: sample count, shapes, and a fingerprint of sampled content.
        let perturbData = ProcessInfo.processInfo.environment["SWTRAIN_TEST_PERTURB_DATA_RANK"].flatMap(Int.init) == comm.rank
        for (path, d) in data {
            let f = DataFingerprint.of(d)
            mine += [f.count, Int64(bitPattern: f.shapes), Int64(bitPattern: perturbData ? f.content ^ 1 : f.content)]
            what += ["\(path) sample count", "\(path) sample and target shapes",
                     "\(path) content (a hash of 64 evenly spaced samples)"]
        }
        let width = mine.count
        var all = [Int64](repeating: 0, count: width * comm.size)
        try mine.withUnsafeBufferPointer { p in
            try all.withUnsafeMutableBufferPointer { try comm.allGather(p, into: $0) }
        }
        var problems: [String] = []
        for (k, what) in what.enumerated() {
            let differ = (1..<comm.size).filter { all[width * $0 + k] != all[k] }
            if differ.isEmpty { continue }
            let isCount = k == 1 || (k >= 3 && (k - 3) % 3 == 0)
            let show: (Int) -> String = { r in
                isCount ? "\(all[width * r + k])" : String(UInt64(bitPattern: all[width * r + k]), radix: 16)
            }
            problems.append("rank(s) \(differ.map(String.init).joined(separator: ", ")) differ from rank 0 in the \(what): "
                + "rank 0 has \(show(0)), rank \(differ[0]) has \(show(differ[0]))")
        }
        if problems.isEmpty { return }
        let error = ConfigError(file: config.file, path: "",
                                message: "ranks do not run the same model and data: " + problems.joined(separator: "; "),
                                hint: "start every rank with the same config file, --set overrides, data files and swtrain build")
        throw CollectiveFailure(underlying: error, report: comm.rank == 0, code: 2)
    }
}

/// Carries any error across a `Sendable` boundary by its description and kind.
public struct SendableError: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// True when the error was a `ConfigError`.
    public let isConfig: Bool
    public init(_ error: any Error) {
        if let e = error as? CommError {
            description = "\(e.operation): \(e.message)"   // the rank is named by whoever prints it
        } else {
            description = "\(error)"
        }
        isConfig = error is ConfigError
    }
}

extension Startup {
    /// Sets this process's compute threads (`ThreadPool` and OpenBLAS) from `training.threads`,
    /// or the cores it may run on ÷ the ranks on its node, and returns the start-up line that
    /// says what is used (`swtrain train` prints it on rank 0).
    static func configureThreads(_ config: TrainConfig) -> String {
        let (_, source) = ThreadPool.configure(config.training.threads)
        return ThreadPool.describe(source: source) + "; " + describePrecision(config.training.precision)
    }

    /// The precision part of the start-up line: fp32, or bf16 with the GEMM path that runs it.
    static func describePrecision(_ precision: GEMMPrecision) -> String {
        switch precision {
        case .fp32: return "precision fp32"
        case .bf16: return "precision bf16 (GEMM \(BF16GEMM.path.name), fp32 accumulation; fp32 weights, gradients, optimizer state)"
        }
    }
}
