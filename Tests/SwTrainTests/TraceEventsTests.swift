import Foundation
import Testing
import _TestSupport

/// trace.json's finer events (docs/monitor.md, "trace.json"): each top-level layer's forward
/// and backward with `monitor.trace.layers`, nested in the step's phases and ordered per
/// thread; and the gradient exchange on tid 1 in every sync mode, each event inside its step.
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "mpirun or the swtrain executable is missing: trace event tests skipped"))
struct TraceEventsTests {
    static let monitor = #""monitor": {"trace": {"enabled": true, "layers": true}},"#

    /// The X events of a short traced run with `extra` settings on `ranks` ranks.
    static func events(ranks: Int, _ extra: [String]) throws -> [Event] {
        let text = TrainJobs.config(maxSteps: 6).replacingOccurrences(of: #""name": "dp-test","#, with: #""name": "dp-test", "# + monitor)
        let folder = try TrainJobs.folder(config: text)
        defer { TrainJobs.remove(folder) }
        let r = try TrainJobs.train(folder, run: "run", ranks: ranks,
                                    ["--set", "checkpoint.every_steps=0", "--set", "training.eval_every_steps=0"] + extra)
        try #require(r.status == 0, "exit \(r.status)\n\(r.stdout)\n\(r.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/run/trace.json"))
        let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(doc["traceEvents"] as? [[String: Any]]).filter { $0["ph"] as? String == "X" }.map(Event.init)
    }

    struct Event {
        var name: String, cat: String, pid: Int, tid: Int, start: Double, end: Double
        init(_ e: [String: Any]) {
            name = e["name"] as? String ?? ""
            cat = e["cat"] as? String ?? ""
            pid = (e["pid"] as? NSNumber)?.intValue ?? -1
            tid = (e["tid"] as? NSNumber)?.intValue ?? -1
            start = (e["ts"] as? NSNumber)?.doubleValue ?? -1
            end = start + ((e["dur"] as? NSNumber)?.doubleValue ?? 0)
        }
        func inside(_ o: Event) -> Bool { start >= o.start && end <= o.end }
    }

    /// The layers of `TrainJobs.config`'s model, by path and type.
    static let layers = ["0 dense", "1 relu", "2 dense"]

    @Test func layerEventsNestInTheirPhasesInModelOrder() throws {
        let events = try Self.events(ranks: 2, ["--set", #"parallel.sync="allreduce""#, "--set", #"parallel.overlap="on""#,
                                                "--set", "parallel.bucket_mb=0.002"])
        for rank in 0..<2 {
            let mine = events.filter { $0.pid == rank && $0.tid == 0 }
            #expect(zip(mine, mine.dropFirst()).allSatisfy { $0.start <= $1.start }, "rank \(rank): timestamps go back")
            let steps = mine.filter { $0.cat == "step" }
            #expect(steps.count == 6)
            for step in steps {
                let inStep = mine.filter { $0.cat != "step" && $0.inside(step) }
                let forward = try #require(inStep.first { $0.name == "forward" }, "\(step.name): no forward phase")
                let backward = try #require(inStep.first { $0.name == "backward" }, "\(step.name): no backward phase")
                let f = inStep.filter { $0.cat == "layer.forward" }, b = inStep.filter { $0.cat == "layer.backward" }
                #expect(f.map(\.name) == Self.layers.map { "forward " + $0 }, "rank \(rank) \(step.name): \(f.map(\.name))")
                #expect(b.map(\.name) == Self.layers.reversed().map { "backward " + $0 }, "rank \(rank) \(step.name): \(b.map(\.name))")
                #expect(f.allSatisfy { $0.inside(forward) } && b.allSatisfy { $0.inside(backward) })
                for list in [f, b] {   // one after another, none overlapping the next
                    #expect(zip(list, list.dropFirst()).allSatisfy { $0.end <= $1.start }, "rank \(rank) \(step.name): layers overlap")
                }
            }
            #expect(mine.filter { $0.cat.hasPrefix("layer.") }.count == 6 * 6, "rank \(rank): layer events outside the steps")
        }
    }

    /// With the node-shared sync and rank 1 slowed by 20 ms a step, the trace puts the wait where
    /// it is: rank 0, early, waits in the gradient barrier; rank 1, last to arrive, does not.
    @Test func theNodeSharedBarrierShowsWhoWaitsForTheStraggler() throws {
        let text = TrainJobs.config(maxSteps: 10).replacingOccurrences(of: #""name": "dp-test","#, with: #""name": "dp-test", "# + Self.monitor)
        let folder = try TrainJobs.folder(config: text)
        defer { TrainJobs.remove(folder) }
        let r = try TrainJobs.train(folder, run: "run", ranks: 2,
                                    ["--set", #"parallel.sync="shared_memory""#, "--set", "checkpoint.every_steps=0",
                                     "--set", "training.eval_every_steps=0"], environment: ["SWTRAIN_TEST_SLOW_RANK": "1:20ms"])
        try #require(r.status == 0, "exit \(r.status)\n\(r.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/run/trace.json"))
        let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let events = try #require(doc["traceEvents"] as? [[String: Any]]).filter { $0["ph"] as? String == "X" }.map(Event.init)
        func barriers(_ rank: Int) -> [Double] {
            events.filter { $0.pid == rank && $0.name == "gradient barrier" }.map { $0.end - $0.start }
        }
        let b0 = barriers(0), b1 = barriers(1)
        try #require(b0.count == 10 && b1.count == 10)
        let longer = zip(b0, b1).filter { $0 > $1 }.count
        #expect(longer >= 8, "rank 0's gradient barrier should be the long one: rank 0 \(b0), rank 1 \(b1)")
    }

    /// Timing the layers runs the same model: parameters and optimizer state bit-identical to
    /// an untraced run (overlapped buckets: the sync's progress calls between the layers too).
    @Test func tracingLayersLeavesTheRunBitIdentical() throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config(optimizer: #"{"type": "adam", "lr": 0.01}"#, maxSteps: 8))
        defer { TrainJobs.remove(folder) }
        let sync = ["--set", #"parallel.sync="allreduce""#, "--set", #"parallel.overlap="on""#, "--set", "parallel.bucket_mb=0.002"]
        let plain = try TrainJobs.train(folder, run: "plain", ranks: 2, sync)
        try #require(plain.status == 0, "exit \(plain.status)\n\(plain.stderr)")
        let traced = try TrainJobs.train(folder, run: "traced", ranks: 2,
                                         sync + ["--set", "monitor.trace.enabled=true", "--set", "monitor.trace.layers=true"])
        try #require(traced.status == 0, "exit \(traced.status)\n\(traced.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder + "/traced/trace.json"))
        try PrefetchTests.expectSameState(folder + "/plain", folder + "/traced", "layers traced")
    }

    /// `sync`'s settings, ranks, and the tid-1 event names every step of every rank must have.
    static let modes: [(String, Int, [String], [String])] = [
        ("overlapped all-reduce", 2, ["parallel.sync=\"allreduce\"", "parallel.overlap=\"on\"", "parallel.bucket_mb=0.002"],
         ["all-reduce bucket 0", "all-reduce bucket 1"]),
        ("blocking all-reduce", 2, ["parallel.sync=\"allreduce\"", "parallel.overlap=\"off\"", "parallel.bucket_mb=0.002"],
         ["all-reduce buckets 0-"]),
        ("node-shared ZeRO-1", 2, ["parallel.sync=\"shared_memory\"", "parallel.weight_gradients=\"off\""],
         ["gradient barrier", "parameter barrier"]),
        ("node-shared ZeRO-1 with clipping", 2, ["parallel.sync=\"shared_memory\"", "training.grad_clip=1"],
         ["gradient barrier", "shard sum", "parameter barrier"]),
        ("node-shared ZeRO-1 across nodes", 2, ["parallel.sync=\"shared_memory\"", "parallel.ranks_per_node=1"],
         ["gradient barrier", "shard sum", "all-reduce shard across nodes", "parameter barrier"]),
        ("node weight-gradients", 2, ["parallel.sync=\"shared_memory\"", "parallel.weight_gradients=\"auto\""],
         ["gradient barrier", "parameter barrier"]),
        ("pipeline stage sync", 4, ["parallel.pipeline_stages=2", "parallel.micro_batches=2", "parallel.bucket_mb=0.002"],
         ["all-reduce buckets 0-"]),
    ]

    @Test(arguments: 0..<modes.count)
    func everySyncModeRecordsItsExchange(mode: Int) throws {
        let (what, ranks, settings, expected) = Self.modes[mode]
        let events = try Self.events(ranks: ranks, settings.flatMap { ["--set", $0] })
        for rank in 0..<ranks {
            let steps = events.filter { $0.pid == rank && $0.cat == "step" }
            let comm = events.filter { $0.pid == rank && $0.tid == 1 }
            #expect(steps.count == 6, "\(what), rank \(rank): \(steps.count) steps")
            #expect(zip(comm, comm.dropFirst()).allSatisfy { $0.start <= $1.start }, "\(what), rank \(rank): tid 1 goes back")
            for step in steps {
                let mine = comm.filter { $0.inside(step) }
                if expected.contains("parameter barrier") {   // its wait drawn on the training thread where it happens
                    let barrier = try #require(mine.first { $0.name == "parameter barrier" })
                    let wait = events.filter { $0.pid == rank && $0.tid == 0 && $0.name == "parameter wait" && $0.inside(step) }
                    #expect(wait.count == 1 && wait[0].start == barrier.start && wait[0].end == barrier.end,
                            "\(what), rank \(rank) \(step.name): parameter wait \(wait) vs barrier \(barrier)")
                }
                for name in expected {
                    #expect(mine.contains { $0.name.hasPrefix(name) && $0.cat == "comm" },
                            "\(what), rank \(rank) \(step.name): no \(name) event in \(mine.map(\.name))")
                }
            }
            #expect(comm.allSatisfy { e in steps.contains { e.inside($0) } }, "\(what), rank \(rank): an exchange event outside its step")
        }
    }
}
