import Foundation
import Testing
import _TestSupport

/// Guarantee: a job across two hosts trains exactly as on one node. The two hosts are two
/// network namespaces of this machine joined by a veth pair (`launch/netns-mpirun`: Open MPI
/// over TCP, ranks launched into each namespace by a launch agent, each namespace its own
/// hostname, so MPI sees two nodes); every case compares the final parameters bit for bit with
/// the same run on one node. Skipped, with the reason printed, where namespaces cannot be made
/// (not root, no iproute2).
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "mpirun or the swtrain executable is missing: two-host tests skipped"))
struct TwoHostTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("launch/netns-mpirun").path

    /// Nil when two namespaces can be made here, else why not (the script's "skipped:" line).
    static let unavailable: String? = {
        guard let r = try? MPIRun.run(ranks: 0, program: script, ["-np", "2", "true"], timeout: 30) else {
            return "launch/netns-mpirun could not be started"
        }
        if r.status == 0 { return nil }
        return r.stderr.split(separator: "\n").first { $0.hasPrefix("skipped:") }.map(String.init)
            ?? "launch/netns-mpirun -np 2 true exited \(r.status): \(r.stderr)"
    }()

    /// `swtrain train` across the two hosts (`slots` ranks on each).
    static func trainAcross(_ folder: String, run: String, ranks: Int, slots: Int, _ extra: [String],
                            environment: [String: String] = [:]) throws -> MPIRun.Result {
        guard let exe = MPIRun.executable("swtrain") else { throw MPIRun.RunError(description: "swtrain not built") }
        var env = environment
        env["SWTRAIN_NETNS_SLOTS"] = "\(slots)"
        return try MPIRun.run(ranks: 0, program: script,
                              ["-np", "\(ranks)", exe, "train", folder + "/config.json", "--plain",
                               "--set", "checkpoint.dir=\(folder)/\(run)"] + extra,
                              timeout: 120, environment: env)
    }

    /// Each layout across two hosts against the same on one node: the all-reduce sync (one rank
    /// per host), pipeline stages on different hosts, and the shared-memory sync's cross-node
    /// path (two ranks per host; on one node `ranks_per_node=2` makes the same two groups).
    @Test(arguments: [
        ("allreduce", 2, 1, ["--set", "parallel.sync=allreduce", "--set", "parallel.overlap=on"], [String]()),
        ("pipeline", 2, 1, ["--set", "parallel.pipeline_stages=2", "--set", "parallel.micro_batches=2"], []),
        ("shared_memory", 4, 2, ["--set", "parallel.sync=shared_memory"], ["--set", "parallel.ranks_per_node=2"]),
    ])
    func acrossHostsEqualsOneNode(mode: String, ranks: Int, slots: Int, sets: [String], oneNodeOnly: [String]) throws {
        if let why = Self.unavailable {
            print("skipped: two-host test \(mode): \(why)")
            return
        }
        let folder = try TrainJobs.folder(config: TrainJobs.config(maxSteps: 6, checkpointEvery: 6))
        defer { TrainJobs.remove(folder) }
        let across = try Self.trainAcross(folder, run: "across", ranks: ranks, slots: slots, sets)
        try #require(across.status == 0 && !across.timedOut, "\(mode) across hosts: exit \(across.status)\n\(across.stderr)")
        let local = try TrainJobs.train(folder, run: "local", ranks: ranks, sets + oneNodeOnly)
        try #require(local.status == 0, "\(mode) one node: exit \(local.status)\n\(local.stderr)")
        let a = try TrainJobs.tensors(folder + "/across"), b = try TrainJobs.tensors(folder + "/local")
        #expect(!a.isEmpty && a.keys.sorted() == b.keys.sorted())
        for (name, values) in a {
            #expect(values == b[name], "\(mode): \(name) differs across hosts (max relative error \(TrainJobs.relativeError(values, b[name] ?? values)))")
        }
    }

    /// A rank stopped on the second host: the first host's rank names it and the step, exit 1.
    @Test func stoppedRemoteRankEndsTheJob() throws {
        if let why = Self.unavailable {
            print("skipped: two-host watchdog test: \(why)")
            return
        }
        let folder = try TrainJobs.folder(config: TrainJobs.config(maxSteps: 12, checkpointEvery: 2))
        defer { TrainJobs.remove(folder) }
        let r = try Self.trainAcross(folder, run: "run", ranks: 2, slots: 1, ["--set", "parallel.timeout_s=3"],
                                     environment: ["SWTRAIN_TEST_HANG_RANK": "1:5"])
        #expect(!r.timedOut, "the job still ran after 120 s\n\(r.stderr)")
        #expect(r.status == 1, "exit \(r.status)\n\(r.stderr)")
        #expect(r.stderr.contains("rank 0: watchdog: no progress for"), "stderr:\n\(r.stderr)")
        #expect(r.stderr.contains("at step 5 waiting in MPI_"), "stderr:\n\(r.stderr)")
        #expect(r.stderr.contains("not heard from: rank 1"), "stderr:\n\(r.stderr)")
        #expect(try TrainJobs.latest(folder + "/run")?.checkpoint.name == "checkpoint-4")
    }
}
