import CMPI
import SwComm
import SwParallel
import SwTensor
#if canImport(Glibc)
import Glibc
#endif

/// Times the bucket sync against one raw in-place `MPI_Allreduce` of the same floats, for sizes
/// 4 KB .. `maxMB` MB, in two ways:
/// - case `"16MB"`: `finish()` alone (nothing overlapped: the path a step takes when backward
///   marked nothing ready);
/// - case `"16MB/async"`: `markReady` bucket by bucket (each starts an `MPI_Iallreduce`), then
///   `finish()`: the cost of the asynchronous path with no compute to hide it.
/// A repetition's time is the slowest rank's; rank 0 prints medians, one JSON object per line.
func runBench(_ comm: any Communicator, options: Options) throws {
    guard let mpi = comm as? MPICommunicator else {
        throw CheckFailure(description: "--bench needs mpirun (the peer is MPI_Allreduce)")
    }
    let cases: [(name: String, bytes: Int, repeats: Int)] = [
        ("4KB", 4 << 10, 200), ("64KB", 64 << 10, 100), ("1MB", 1 << 20, 40),
        ("16MB", 16 << 20, 10), ("64MB", 64 << 20, 5),
    ].filter { $0.1 <= options.maxMB << 20 }

    for c in cases {
        let n = c.bytes / 4
        let grads = Tensor(repeating: 1, shape: [n])
        let sync = DataParallelSync(gradients: grads, communicator: mpi, average: false)
        let repeats = options.repeats ?? c.repeats
        var ours: [Double] = [], async: [Double] = [], peer: [Double] = []
        for rep in -1..<repeats {          // rep -1 warms up both paths
            grads.fill(1)
            let a = try timed(mpi) { try sync.finish() }
            grads.fill(1)
            let c = try timed(mpi) {
                for range in sync.layout.ranges { try sync.markReady(upTo: range.lowerBound) }
                try sync.finish()
            }
            grads.fill(1)
            let b = try timed(mpi) {
                let rc = MPI_Allreduce(swt_mpi_in_place(), grads.pointer, Int32(n), swt_mpi_float(),
                                       swt_mpi_sum(), mpi.handle)
                if rc != swt_mpi_success() { throw CheckFailure(description: "MPI_Allreduce returned \(rc)") }
            }
            if rep >= 0 { ours.append(a); async.append(c); peer.append(b) }
        }
        if mpi.rank == 0 {
            let pm = median(peer)
            for (name, times) in [(c.name, ours), (c.name + "/async", async)] {
                let m = median(times)
                print(#"{"bench":"allreduce","case":"\#(name)","median_ms":\#(fmt(m * 1e3)),"#
                    + #""peer":"MPI_Allreduce","peer_median_ms":\#(fmt(pm * 1e3)),"ratio":\#(fmt(pm / m)),"#
                    + #""ranks":\#(mpi.size),"buckets":\#(sync.layout.bucketCount),"repeats":\#(repeats)}"#)
            }
            fflush(nil)
        }
    }
}

/// Seconds `body` took on the slowest rank (ranks start together after a barrier).
private func timed(_ comm: any Communicator, _ body: () throws -> Void) throws -> Double {
    try comm.barrier()
    let t0 = monotonicSeconds()
    try body()
    let local = monotonicSeconds() - t0
    return try comm.allReduce(local, op: .max)
}

private func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

private func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

private func fmt(_ x: Double) -> String {
    let scaled = (x * 10_000).rounded() / 10_000
    return "\(scaled)"
}
