import Foundation
import Testing
import _TestSupport

/// Guarantee: a rank that stops (SIGSTOP, through the `SWTRAIN_TEST_HANG_RANK` hook) never
/// leaves its peers waiting silently: within `parallel.timeout_s` (+ the monitor's 1 s period)
/// a waiting rank names the step, the call it waits in and the rank it has not heard from,
/// writes that to stderr and `watchdog.log`, and ends the job with exit 1; the checkpoint
/// saved before stays loadable.
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "mpirun or the swtrain executable is missing: watchdog tests skipped"))
struct WatchdogTests {
    static let timeout = 3.0

    /// Each sync mode waits in a different call: the node barrier (shared memory), a gradient
    /// bucket's all-reduce (allreduce with overlap), a pipeline receive from the next stage.
    @Test(arguments: [
        ("shared_memory", ["--set", "parallel.sync=shared_memory"], "MPI_"),
        ("allreduce", ["--set", "parallel.sync=allreduce", "--set", "parallel.overlap=on"], "MPI_"),
        ("pipeline", ["--set", "parallel.pipeline_stages=2", "--set", "parallel.micro_batches=2"], "from rank 1"),
    ])
    func stoppedRankEndsTheJob(mode: String, sets: [String], waitsOn: String) throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config(maxSteps: 12, checkpointEvery: 2))
        defer { TrainJobs.remove(folder) }
        let r = try TrainJobs.train(folder, run: "run", ranks: 2,
                                    sets + ["--set", "parallel.timeout_s=\(Self.timeout)"], timeout: 60,
                                    environment: ["SWTRAIN_TEST_HANG_RANK": "1:5"])
        #expect(!r.timedOut, "\(mode): the job still ran after 60 s: the watchdog did not end it\n\(r.stderr)")
        #expect(r.status == 1, "\(mode): exit \(r.status)\n\(r.stderr)")
        #expect(!r.stdout.contains("done:"))
        let line = r.stderr.split(separator: "\n").first { $0.contains("watchdog: no progress") }.map(String.init) ?? ""
        #expect(line.contains("swtrain: error: rank 0: watchdog"), "\(mode): stderr:\n\(r.stderr)")
        #expect(line.contains("at step 5 waiting in "), "\(mode): \(line)")
        #expect(line.contains(waitsOn), "\(mode): \(line)")
        #expect(line.contains("not heard from: rank 1"), "\(mode): \(line)")
        #expect(line.contains("parallel.timeout_s = 3"), "\(mode): \(line)")
        if mode == "allreduce" { #expect(line.contains("gradient bucket"), "\(mode): \(line)") }
        // The reported wait: at least the timeout, at most timeout + 5 s.
        if let range = line.range(of: #"no progress for [0-9.]+ s"#, options: .regularExpression) {
            let waited = Double(line[range].split(separator: " ")[3]) ?? -1
            #expect(waited >= Self.timeout && waited <= Self.timeout + 5, "\(mode): waited \(waited) s")
        } else {
            Issue.record("\(mode): no wait time in \(line)")
        }
        let log = (try? String(contentsOfFile: folder + "/run/watchdog.log", encoding: .utf8)) ?? ""
        #expect(log.contains("watchdog: no progress"), "\(mode): watchdog.log: \(log)")
        // The checkpoint of step 4 (saved before the stop) is complete and its hashes check,
        // and it is the last one: MPI_Abort wakes the stopped rank (SIGCONT before SIGTERM), and
        // the waiting rank must not go on to finish steps 5 and 6 and save again meanwhile.
        #expect(!r.stdout.contains("step 5/"), "\(mode): a step after the stop completed\n\(r.stdout)")
        let latest = try TrainJobs.latest(folder + "/run")
        #expect(latest?.checkpoint.name == "checkpoint-4", "\(mode): latest \(String(describing: latest?.checkpoint.name))")
        let tensors = try TrainJobs.tensors(folder + "/run")
        #expect(!tensors.isEmpty)
    }
}
