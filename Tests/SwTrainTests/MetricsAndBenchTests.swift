import Foundation
import Testing
import _TestSupport

/// metrics.jsonl's communication and per-rank figures, `swtrain bench step|allreduce`, and
/// the `launch/mpirun` wrapper.
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "mpirun or the swtrain executable is missing: tests skipped"))
struct MetricsAndBenchTests {
    /// Parameters of `TrainJobs.config()`: 40*32+32 + 32*10+10.
    static let parameterCount = 40 * 32 + 32 + 32 * 10 + 10

    /// comm_bytes: with "allreduce" every rank hands the whole gradient to MPI; with shared
    /// memory ("auto" on one node) and the weight gradients computed per node, rank 0 reads its
    /// peer's 20 staged rows of each dense layer's input and output gradient; with
    /// `weight_gradients` "off" it reads its peer's half of the gradients (shards on 16-float lines).
    @Test(arguments: [("allreduce", "auto"), ("auto", "auto"), ("auto", "off")])
    func metricsHaveCommBytesAndRankStepTimes(sync: String, weightGradients: String) throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config(maxSteps: 10))
        defer { TrainJobs.remove(folder) }
        let r = try TrainJobs.train(folder, run: "run", ranks: 2, ["--set", "parallel.sync=\"\(sync)\"",
                                                                 "--set", "parallel.weight_gradients=\"\(weightGradients)\""])
        try #require(r.status == 0, "exit \(r.status)\n\(r.stderr)")
        let lines = try TrainJobs.metrics("\(folder)/run").filter { $0.event == "train" }
        #expect(lines.map(\.step) == [5, 10])
        for l in lines {
            let lines16 = (Self.parameterCount + 15) / 16
            let expected = sync == "allreduce" ? Self.parameterCount * 4
                : weightGradients == "auto" ? ((40 + 32) + (32 + 10)) * 20 * 4
                : lines16 / 2 * 16 * 4
            #expect(l.line["comm_bytes"] as? Int == expected, "\(l.line)")
            let ms = l.line["rank_step_ms"] as? [Double]
            #expect(ms?.count == 2 && ms!.allSatisfy { $0 > 0 }, "\(l.line)")
            #expect(l.line["straggler_ratio"] is Double, "\(l.line)")
            #expect((l.line["time_ms"] as? [String: Any])?["comm_wait"] is Double)
        }
    }

    @Test func benchStepPrintsBreakdownOnce() throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config())
        defer { TrainJobs.remove(folder) }
        let r = try MPIRun.run(ranks: 2, program: "swtrain",
                               ["bench", "step", folder + "/config.json", "--json", "--steps", "10", "--warmup", "2",
                                "--set", "parallel.sync=\"allreduce\""])
        try #require(r.status == 0, "exit \(r.status)\n\(r.stderr)")
        let rows = r.stdout.split(separator: "\n")
        try #require(rows.count == 1, "rank 0 alone prints one line:\n\(r.stdout)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(rows[0].utf8)) as? [String: Any])
        #expect(o["bench"] as? String == "step")
        #expect(o["ranks"] as? Int == 2)
        for key in ["median_ms", "data_ms", "forward_ms", "backward_ms", "comm_wait_ms", "optimizer_ms", "samples_per_sec"] {
            #expect(o[key] is Double, "\(key) missing: \(rows[0])")
        }
        #expect(o["comm_bytes"] as? Int == Self.parameterCount * 4)
    }

    @Test func benchAllReduce() throws {
        let alone = try MPIRun.run(ranks: 0, program: "swtrain", ["bench", "allreduce"])
        #expect(alone.status == 1 && alone.stderr.contains("needs several ranks"), "\(alone.stderr)")
        let r = try MPIRun.run(ranks: 2, program: "swtrain", ["bench", "allreduce", "--json", "--max-mb", "1", "--repeats", "3"])
        try #require(r.status == 0, "exit \(r.status)\n\(r.stderr)")
        let cases = r.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["case"] as? String
        }
        #expect(cases == ["4KB", "4KB/async", "64KB", "64KB/async", "1MB", "1MB/async"], "\(r.stdout)")
    }

    /// `launch/mpirun -np 4 swtrain train examples/quickstart.json` (shortened) works without
    /// any mpirun flag of ours, and np=4 reaches np=1's test accuracy.
    @Test func launchWrapperRunsQuickstart() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let swtrain = try #require(MPIRun.executable("swtrain"))
        let folder = try TrainJobs.folder(config: "{}")
        defer { TrainJobs.remove(folder) }
        var accuracy: [Double] = []
        for ranks in [1, 4] {
            let r = try MPIRun.run(ranks: 0, program: root + "/launch/mpirun",
                                   ["-np", "\(ranks)", swtrain, "train", root + "/examples/quickstart.json", "--plain",
                                    "--set", "training.max_steps=400", "--set", "checkpoint.dir=\(folder)/np\(ranks)"],
                                   environment: ["OMPI_ALLOW_RUN_AS_ROOT": "", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": ""])
            try #require(r.status == 0, "np=\(ranks): exit \(r.status)\n\(r.stderr)")
            let eval = try TrainJobs.metrics("\(folder)/np\(ranks)").last { $0.event == "eval" }
            accuracy.append(try #require(eval?.line["accuracy"] as? Double))
        }
        print("launch/mpirun quickstart (400 steps): accuracy np=1 \(accuracy[0]), np=4 \(accuracy[1])")
        #expect(abs(accuracy[0] - accuracy[1]) <= 0.02)
        #expect(accuracy[1] > 0.3)
    }
}
