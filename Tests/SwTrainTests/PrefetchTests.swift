import Foundation
import SwCheckpoint
import Testing
import _TestSupport

/// `data.prefetch` changes when a batch is gathered, never which: runs with and without it end
/// with the same parameters and optimizer state bit for bit, at np=1 and np=2, and a prefetching
/// run stopped and resumed ends like the uninterrupted run without prefetch.
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "mpirun or the swtrain executable is missing: prefetch tests skipped"))
struct PrefetchTests {
    /// Adam, dropout, 25 steps over 10-step epochs (the prefetched batch crosses epochs).
    static let config = TrainJobs.config(optimizer: #"{"type": "adam", "lr": 0.01}"#, dropout: true, maxSteps: 25, checkpointEvery: 5)

    /// Every tensor of `file` in the latest checkpoint of `runFolder`, as bit patterns.
    static func bits(_ runFolder: String, _ file: String) throws -> [String: [UInt32]] {
        guard let found = try TrainJobs.latest(runFolder) else { throw MPIRun.RunError(description: "\(runFolder): no checkpoint") }
        let f = try SafeTensorsFile(path: found.checkpoint.filePath(file))
        var out: [String: [UInt32]] = [:]
        for e in f.entries { out[e.name] = try f.floats(e.name).map(\.bitPattern) }
        return out
    }

    static func expectSameState(_ a: String, _ b: String, _ what: String) throws {
        for file in ["model.safetensors", "optimizer.safetensors"] {
            let x = try bits(a, file), y = try bits(b, file)
            #expect(!x.isEmpty && x == y, "\(what): \(file) differs")
        }
    }

    /// A fresh folder with `config` and its run `plain` (no prefetch) on `ranks` ranks.
    static func plainRun(ranks: Int) throws -> String {
        let folder = try TrainJobs.folder(config: Self.config)
        try train(folder, "plain", ranks: ranks)
        return folder
    }

    @discardableResult
    static func train(_ folder: String, _ run: String, ranks: Int, _ extra: [String] = []) throws -> MPIRun.Result {
        let r = try TrainJobs.train(folder, run: run, ranks: ranks, extra)
        try #require(r.status == 0, "\(run): exit \(r.status)\n\(r.stderr)")
        return r
    }

    @Test(arguments: [0, 2])
    func withAndWithoutPrefetchTheParametersAreBitIdentical(ranks: Int) throws {
        let folder = try Self.plainRun(ranks: ranks)
        defer { TrainJobs.remove(folder) }
        for depth in [1, 3] {
            let run = "prefetch\(depth)"
            try Self.train(folder, run, ranks: ranks, ["--set", "data.prefetch=\(depth)"])
            try Self.expectSameState("\(folder)/plain", "\(folder)/\(run)", "np=\(max(ranks, 1)) prefetch \(depth)")
            let a = try TrainJobs.metrics("\(folder)/plain"), b = try TrainJobs.metrics("\(folder)/\(run)")
            #expect(a.map(\.loss) == b.map(\.loss), "np=\(max(ranks, 1)) prefetch \(depth): the logged losses differ")
        }
    }

    @Test(arguments: [0, 2])
    func aPrefetchingRunResumesByteIdentically(ranks: Int) throws {
        let folder = try Self.plainRun(ranks: ranks)
        defer { TrainJobs.remove(folder) }
        let prefetch = ["--set", "data.prefetch=true"]
        // Stopped inside an epoch, with a batch of the next step already gathered.
        try Self.train(folder, "resumed", ranks: ranks, prefetch + ["--stop-after", "15"])
        let resumed = try Self.train(folder, "resumed", ranks: ranks, prefetch + ["--resume", "latest"])
        #expect(resumed.stdout.contains("at step 15"))
        try Self.expectSameState("\(folder)/plain", "\(folder)/resumed", "np=\(max(ranks, 1)) resumed with prefetch")
    }
}
