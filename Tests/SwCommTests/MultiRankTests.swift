import Testing
import _TestSupport

/// Runs `swtrain-commcheck` under `mpirun` with 2 and 4 ranks (oversubscribed on small
/// machines). Serialized: concurrent jobs on two cores would only slow each other down.
@Suite(.serialized, .enabled(if: MPIRun.mpirun != nil, "mpirun is not on PATH: multi-rank tests skipped"))
struct MultiRankTests {
    static let checks = ["allreduce-float", "allreduce-double-int64", "allreduce-async", "broadcast",
                         "allgather", "send-recv", "split", "errors-return", "bucket-sync", "shared-memory"]

    @Test(arguments: [2, 4])
    func allChecksPass(ranks: Int) throws {
        let r = try MPIRun.run(ranks: ranks)
        #expect(!r.timedOut, "mpirun -np \(ranks) timed out; stderr:\n\(r.stderr)")
        #expect(r.status == 0, "exit \(r.status); stdout:\n\(r.stdout)\nstderr:\n\(r.stderr)")
        for name in Self.checks {
            #expect(r.stdout.contains("ok \(name)\n"), "missing 'ok \(name)'; stdout:\n\(r.stdout)")
        }
        #expect(r.stdout.contains("commcheck: all checks passed on \(ranks) ranks"))
    }

    /// A rank that throws takes the whole job down quickly, non-zero, naming itself.
    @Test(arguments: [(2, 1), (4, 2)])
    func failingRankEndsJob(ranks: Int, failRank: Int) throws {
        let r = try MPIRun.run(ranks: ranks, ["--fail-rank", "\(failRank)"], timeout: 10)
        #expect(!r.timedOut, "job still running after 10 s: a failing rank must not hang the others")
        #expect(r.status != 0)
        #expect(r.seconds < 10)
        #expect(r.stderr.contains("swtrain: error: rank \(failRank): injected failure"),
                "stderr:\n\(r.stderr)")
        #expect(!r.stdout.contains("all checks passed"))
    }
}
