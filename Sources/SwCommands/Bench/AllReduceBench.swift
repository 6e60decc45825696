import SwComm
import SwParallel
import SwTensor
import SwTrain

/// `swtrain bench allreduce`: the trainer's gradient sync (`DataParallelSync`, the buckets
/// the trainer would make) against one blocking in-place all-reduce of the same floats
/// (`Communicator.allReduce`, a single `MPI_Allreduce` call), for sizes 4 KB .. `maxMB` MB:
/// - case `"<size>"`: `finish()` alone (the path of a step whose backward marked nothing ready);
/// - case `"<size>/async"`: every bucket started by `markReady` (`MPI_Iallreduce`), then
///   `finish()`: the asynchronous path with no compute to hide it.
/// A repetition's time is the slowest rank's (ranks start together after a barrier).
/// Needs mpirun (size > 1); every rank takes part, rank 0 prints.
public enum AllReduceBench {
    /// Runs on the world communicator; returns the rows and whether this rank prints them.
    public static func run(maxMB: Int, repeats: Int?, bucketMB: Double) throws -> ([BenchRow], Bool) {
        let comm = try Launch.worldCommunicator()
        do {
            return (try run(comm: comm, maxMB: maxMB, repeats: repeats, bucketMB: bucketMB), comm.rank == 0)
        } catch {
            guard comm.size > 1 else { throw error }
            comm.fail(RuntimeError(TrainCommand.describe(error, step: nil)))
        }
    }

    public static func run(comm: any Communicator, maxMB: Int = 64, repeats: Int? = nil,
                           bucketMB: Double = 4) throws -> [BenchRow] {
        guard comm.size > 1 else {
            throw RuntimeError("bench allreduce needs several ranks\n  hint: launch/mpirun -np 2 swtrain bench allreduce")
        }
        let cases: [(name: String, bytes: Int, repeats: Int)] = [
            ("4KB", 4 << 10, 200), ("64KB", 64 << 10, 100), ("1MB", 1 << 20, 40),
            ("16MB", 16 << 20, 10), ("64MB", 64 << 20, 5),
        ].filter { $0.1 <= maxMB << 20 }
        var rows: [BenchRow] = []
        for c in cases {
            let n = c.bytes / 4
            let grads = Tensor(repeating: 1, shape: [n])
            let sync = DataParallelSync(gradients: grads, communicator: comm, bucketMB: bucketMB,
                                        firstBucketMB: min(1, bucketMB), average: false)
            let reps = repeats ?? c.repeats
            var ours: [Double] = [], async: [Double] = [], peer: [Double] = []
            for rep in -1..<reps {          // rep -1 warms up every path
                grads.fill(1)
                let a = try timed(comm) { try sync.finish() }
                grads.fill(1)
                let b = try timed(comm) {
                    for range in sync.layout.ranges { try sync.markReady(upTo: range.lowerBound) }
                    try sync.finish()
                }
                grads.fill(1)
                let p = try timed(comm) {
                    try comm.allReduce(UnsafeMutableBufferPointer(start: grads.pointer, count: n), op: .sum)
                }
                if rep >= 0 { ours.append(a); async.append(b); peer.append(p) }
            }
            let pm = median(peer) * 1000
            let extra: [(String, Double)] = [("ranks", Double(comm.size)), ("buckets", Double(sync.layout.bucketCount)),
                                             ("repeats", Double(reps))]
            rows.append(BenchRow(bench: "allreduce", caseName: c.name, medianMs: median(ours) * 1000,
                                 peer: "MPI_Allreduce", peerMedianMs: pm, extra: extra))
            rows.append(BenchRow(bench: "allreduce", caseName: c.name + "/async", medianMs: median(async) * 1000,
                                 peer: "MPI_Allreduce", peerMedianMs: pm, extra: extra))
        }
        return rows
    }

    /// Seconds `body` took on the slowest rank.
    private static func timed(_ comm: any Communicator, _ body: () throws -> Void) throws -> Double {
        try comm.barrier()
        let t0 = monotonicSeconds()
        try body()
        return try comm.allReduce(monotonicSeconds() - t0, op: .max)
    }
}
