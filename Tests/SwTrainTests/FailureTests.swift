import Foundation
import Testing
import _TestSupport

/// Guarantee: a rank that fails ends the whole job within seconds, naming the rank;
/// config errors found by every rank are printed once and exit 2.
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "mpirun or the swtrain executable is missing: failure tests skipped"))
struct FailureTests {
    @Test(arguments: [(2, 1), (4, 3)])
    func failingRankAbortsJob(ranks: Int, failRank: Int) throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config(maxSteps: 30))
        defer { TrainJobs.remove(folder) }
        let r = try TrainJobs.train(folder, run: "run", ranks: ranks, ["--fail-at", "\(failRank):5"], timeout: 10)
        #expect(!r.timedOut, "job still running after 10 s")
        #expect(r.status != 0)
        #expect(r.seconds < 10)
        #expect(r.stderr.contains("swtrain: error: rank \(failRank): step 5: injected failure"), "stderr:\n\(r.stderr)")
        #expect(!r.stdout.contains("done:"))
    }

    @Test func configErrorExitsTwoPrintedOnce() throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config())
        defer { TrainJobs.remove(folder) }
        // Found after MPI starts (the batch does not split over 4 ranks) and before it (unknown key).
        for extra in [["--set", "training.batch_size=42"], ["--set", "training.bogus=1"]] {
            let r = try TrainJobs.train(folder, run: "run", ranks: 4, extra, timeout: 20)
            #expect(r.status == 2, "\(extra): exit \(r.status)\n\(r.stderr)")
            #expect(r.stderr.components(separatedBy: "swtrain: error:").count == 2, "\(extra): stderr:\n\(r.stderr)")
        }
    }

    /// A set-up error on some ranks only (test hook): the failed rank's error, naming it, is the
    /// one message, and the job exits non-zero (the healthy ranks wait for it in a barrier).
    @Test func startUpFailureOnOneRankIsReported() throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config())
        defer { TrainJobs.remove(folder) }
        let r = try TrainJobs.train(folder, run: "run", ranks: 4, timeout: 20,
                                    environment: ["SWTRAIN_TEST_FAIL_SETUP_RANK": "2"])
        #expect(!r.timedOut)
        #expect(r.status == 1, "exit \(r.status)\n\(r.stderr)")
        #expect(r.stderr.contains("swtrain: error: rank 2: start-up: injected start-up failure"), "stderr:\n\(r.stderr)")
        #expect(r.stderr.components(separatedBy: "swtrain: error:").count == 2, "stderr:\n\(r.stderr)")
    }

    /// Start-up consistency: a rank whose config differs (test hook) is named, exit 2.
    @Test func configMismatchNamesRank() throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config())
        defer { TrainJobs.remove(folder) }
        let r = try TrainJobs.train(folder, run: "run", ranks: 4, timeout: 20,
                                    environment: ["SWTRAIN_TEST_PERTURB_CONFIG_RANK": "2"])
        #expect(r.status == 2, "exit \(r.status)\n\(r.stderr)")
        #expect(r.stderr.contains("rank(s) 2 differ from rank 0 in the config"), "stderr:\n\(r.stderr)")
    }

    /// Start-up agreement covers the data: a rank whose data content differs (test hook on its
    /// fingerprint, as a host with an older copy of the file would give) is named, exit 2.
    @Test func dataMismatchNamesRank() throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config())
        defer { TrainJobs.remove(folder) }
        let r = try TrainJobs.train(folder, run: "run", ranks: 2, timeout: 20,
                                    environment: ["SWTRAIN_TEST_PERTURB_DATA_RANK": "1"])
        #expect(r.status == 2, "exit \(r.status)\n\(r.stderr)")
        #expect(r.stderr.contains("rank(s) 1 differ from rank 0 in the data.train content"), "stderr:\n\(r.stderr)")
        #expect(!r.stderr.contains("in the config"), "only the data differs")
    }
}
