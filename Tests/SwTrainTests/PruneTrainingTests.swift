import Foundation
import Testing
import SwCheckpoint
import SwNN
import SwTensor
import _TestSupport
@testable import SwTrain

/// Gradual pruning during training (`prune` section), end to end through `swtrain train`:
/// masks in every sync mode, the schedule's exact counts, np=1 vs np=2, resume, fine-tuning a
/// pruned folder, and structured pruning that shrinks the live model.
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "mpirun or the swtrain executable is missing: prune tests skipped"))
struct PruneTrainingTests {
    /// 40 -> 32 -> relu -> `hidden2` (when set) -> 10 on 400 MNIST-1D samples, Adam, 20 steps.
    static func config(prune: String, hidden2: Int? = nil, initFrom: String? = nil, maxSteps: Int = 20) -> String {
        let middle = hidden2.map { #"{"type": "dense", "units": \#($0)}, {"type": "relu"},"# } ?? ""
        return """
        {
          "name": "prune-test", "seed": 7,
          "data": {"train": {"kind": "mnist1d", "split": "train", "samples": 500},
                   "test": {"kind": "mnist1d", "split": "test", "samples": 100}},
          "model": {"input": [40],
                    "layers": [{"type": "dense", "units": 32}, {"type": "relu"}, \(middle) {"type": "dense", "units": 10}],
                    \(initFrom.map { "\"init_from\": \"\($0)\"," } ?? "")
                    "loss": "cross_entropy"},
          "optimizer": {"type": "adam", "lr": 0.01},
          "schedule": {"type": "constant"},
          "training": {"batch_size": 40, "max_steps": \(maxSteps), "eval_every_steps": 10, "log_every_steps": 5},
          "checkpoint": {"dir": "run", "every_steps": 10, "keep_last": 3},
          "prune": \(prune)
        }
        """
    }

    /// Events at 2, 7 and 12 (sparsity 0.3375, 0.7, 0.8 of the 1600 weights of 0.weight and 2.weight).
    static let gradual = #"{"scope": "global", "target_sparsity": 0.8, "start_step": 2, "end_step": 12, "frequency": 5}"#
    static let weights = ["0.weight", "2.weight"]
    static let modes: [(String, [String])] = [
        ("shared memory, per-node weight gradients", []),
        ("shared memory ZeRO-1", ["--set", "parallel.weight_gradients=\"off\""]),
        ("blocking all-reduce", ["--set", "parallel.sync=\"allreduce\"", "--set", "parallel.overlap=\"off\""]),
        ("overlapped all-reduce", ["--set", "parallel.sync=\"allreduce\"", "--set", "parallel.overlap=\"on\""]),
        ("two pipeline stages", ["--set", "parallel.pipeline_stages=2"]),
    ]

    static func zeros(_ values: [Float]) -> Set<Int> { Set(values.indices.filter { values[$0] == 0 }) }

    /// The masks of a checkpoint's hooks.safetensors, by weight (true = kept).
    static func masks(_ checkpoint: String) throws -> [String: [Bool]] {
        let file = try SafeTensorsFile(path: checkpoint + "/hooks.safetensors")
        var out: [String: [Bool]] = [:]
        for w in weights { out[w] = try file.floats("prune.mask.\(w)").map { $0 != 0 } }
        return out
    }

    /// The masked weights are exactly 0 mid-run and at the end, the masks only grow, every event
    /// prunes exactly `round(s_t · 1600)` weights, at np=1 and np=2 in every sync mode, and np=2
    /// ends with the parameters of np=1.
    @Test func masksHoldInEverySyncModeAndMatchNp1() throws {
        let folder = try TrainJobs.folder(config: Self.config(prune: Self.gradual))
        defer { TrainJobs.remove(folder) }
        var reference: [String: [Float]] = [:]
        for (ranks, (mode, settings)) in [(1, ("one process", [String]()))] + Self.modes.map({ (2, $0) }) {
            let run = "run\(reference.isEmpty ? 1 : 2)-\(settings.count)-\(mode.count)"
            let r = try TrainJobs.train(folder, run: run, ranks: ranks, settings)
            try #require(r.status == 0, "np=\(ranks) \(mode): exit \(r.status)\n\(r.stderr)")
            let dir = "\(folder)/\(run)"
            // The schedule's exact counts at the events, from the metrics lines.
            let events = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
                .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .filter { $0["event"] as? String == "prune" }
            #expect(events.compactMap { $0["step"] as? Int } == [2, 7, 12], "np=\(ranks) \(mode): event steps")
            for e in events {
                let step = e["step"] as! Int
                let s = MagnitudePruning.cubicSparsity(step: step, initial: 0, target: 0.8, start: 2, end: 12, frequency: 5)
                #expect(e["pruned"] as? Int == MagnitudePruning.prunedCount(sparsity: s, count: 1600), "np=\(ranks) \(mode) step \(step): \(e)")
                #expect(e["weights"] as? Int == 1600)
            }
            // Masked weights are 0 at step 10 (after the event of step 7) and 20; masks only grow.
            let middleMasks = try Self.masks(dir + "/checkpoint-10"), finalMasks = try Self.masks(dir + "/checkpoint-20")
            let middle = try SafeTensorsFile(path: dir + "/checkpoint-10/model.safetensors")
            let final = try TrainJobs.tensors(dir)
            var prunedMiddle = 0, prunedFinal = 0
            for w in Self.weights {
                let m = try middle.floats(w), f = try #require(final[w])
                let keptMiddle = try #require(middleMasks[w]), keptFinal = try #require(finalMasks[w])
                for i in m.indices where !keptMiddle[i] {
                    #expect(m[i] == 0 && !keptFinal[i], "np=\(ranks) \(mode) \(w)[\(i)]: \(m[i]) at step 10")
                }
                for i in f.indices where !keptFinal[i] { #expect(f[i] == 0, "np=\(ranks) \(mode) \(w)[\(i)]: \(f[i]) at step 20") }
                #expect(Self.zeros(f).count >= keptFinal.count { !$0 })
                prunedMiddle += keptMiddle.count { !$0 }
                prunedFinal += keptFinal.count { !$0 }
            }
            #expect(prunedMiddle == MagnitudePruning.prunedCount(sparsity: 0.7, count: 1600))
            #expect(prunedFinal == MagnitudePruning.prunedCount(sparsity: 0.8, count: 1600))
            if ranks == 1 { reference = final; continue }
            for (name, ref) in reference {
                let err = TrainJobs.relativeError(ref, final[name] ?? [])
                #expect(err <= 1e-5, "np=2 \(mode) vs np=1, \(name): relative error \(err)")
            }
        }
    }

    /// A run stopped after step 10 (between the events of steps 7 and 12), and one that dies
    /// at step 14 (after the event of step 12, its last checkpoint at step 10), resumed, end
    /// with the bytes of an uninterrupted one: weights, optimizer state and masks.
    @Test(arguments: [1, 2])
    func resumeDuringGradualPruningIsByteIdentical(ranks: Int) throws {
        let folder = try TrainJobs.folder(config: Self.config(prune: Self.gradual))
        defer { TrainJobs.remove(folder) }
        let full = try TrainJobs.train(folder, run: "full", ranks: ranks)
        try #require(full.status == 0, "\(full.stderr)")
        let stop = try TrainJobs.train(folder, run: "resumed", ranks: ranks, ["--stop-after", "10"])
        try #require(stop.status == 0, "\(stop.stderr)")
        let resumed = try TrainJobs.train(folder, run: "resumed", ranks: ranks, ["--resume", "latest"])
        try #require(resumed.status == 0, "\(resumed.stderr)")
        let crash = try TrainJobs.train(folder, run: "crashed", ranks: ranks, ["--fail-at", "0:14"])
        try #require(crash.status != 0, "the injected failure ends the run")
        let again = try TrainJobs.train(folder, run: "crashed", ranks: ranks, ["--resume", "latest"])
        try #require(again.status == 0, "\(again.stderr)")
        for run in ["resumed", "crashed"] {
            for file in ["model.safetensors", "optimizer.safetensors", "hooks.safetensors"] {
                let a = try TrainJobs.latestBytes("\(folder)/full", file), b = try TrainJobs.latestBytes("\(folder)/\(run)", file)
                #expect(a == b, "np=\(ranks) \(run): \(file) differs after resume")
            }
        }
    }

    /// Fine-tuning a pruned model (what `swtrain prune` writes into its folder's config: the
    /// same sparsity from step 0 to 0): the zeros of the `init_from` weights stay exactly zero
    /// through training at np=2, and the others train.
    @Test func fineTuningKeepsTheZerosOfInitFrom() throws {
        let folder = try TrainJobs.folder(config: Self.config(prune: #"{"target_sparsity": 0, "end_step": 0}"#, maxSteps: 10))
        defer { TrainJobs.remove(folder) }
        let dense = try TrainJobs.train(folder, run: "dense", ranks: 1)
        try #require(dense.status == 0, "\(dense.stderr)")
        // One-shot global magnitude pruning to 70% by the shared rules.
        let trained = try TrainJobs.tensors("\(folder)/dense")
        var values = Self.weights.map { trained[$0]! }
        let buffers = values.map { v -> UnsafeMutableBufferPointer<Float> in
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: v.count)
            _ = b.initialize(from: v)
            return b
        }
        defer { buffers.forEach { $0.deallocate() } }
        let keep = MagnitudePruning.unstructuredMasks(buffers.map { UnsafeBufferPointer($0) }, sparsity: 0.7, scope: .global)
        for k in values.indices { for i in values[k].indices where !keep[k][i] { values[k][i] = 0 } }
        var writer = SafeTensorsWriter()
        let file = try SafeTensorsFile(path: try #require(try TrainJobs.latest("\(folder)/dense")).checkpoint.filePath("model.safetensors"))
        for e in file.entries {
            let v = try Self.weights.firstIndex(of: e.name).map { values[$0] } ?? file.floats(e.name)
            try writer.add(e.name, shape: e.shape, values: v)
        }
        try writer.write(to: folder + "/pruned.safetensors")
        let prune = #"{"method": "magnitude", "scope": "global", "structured": false, "initial_sparsity": 0.7, "target_sparsity": 0.7, "start_step": 0, "end_step": 0, "frequency": 1}"#
        try Self.config(prune: prune, initFrom: folder + "/pruned.safetensors").write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        let r = try TrainJobs.train(folder, run: "tuned", ranks: 2)
        try #require(r.status == 0, "\(r.stderr)")
        let tuned = try TrainJobs.tensors("\(folder)/tuned")
        for (k, w) in Self.weights.enumerated() {
            let t = try #require(tuned[w])
            var moved = 0
            for i in t.indices {
                if !keep[k][i] { #expect(t[i] == 0, "\(w)[\(i)] = \(t[i]) after fine-tuning") } else if t[i] != values[k][i] { moved += 1 }
            }
            #expect(moved > keep[k].count { $0 } / 2, "\(w): the kept weights train")
        }
        #expect(r.stdout.contains("prune step 0: sparsity 0.7000"), "\(r.stdout)")
    }

    /// Structured gradual pruning: the hidden layers shrink 32 -> 16 and 24 -> 12 at np=2, the
    /// checkpoints and the run folder's config.json hold the smaller model (`swtrain eval` runs
    /// on it), a run stopped after step 10 resumes byte-identical, so does one that dies at step
    /// 14 (its config.json already describes the model of step 12, its checkpoint that of
    /// step 10), and np=1 agrees with np=2.
    @Test func structuredPruningShrinksAndResumesAtNp2() throws {
        let prune = #"{"structured": true, "target_sparsity": 0.5, "start_step": 2, "end_step": 12, "frequency": 5}"#
        let folder = try TrainJobs.folder(config: Self.config(prune: prune, hidden2: 24))
        defer { TrainJobs.remove(folder) }
        let full = try TrainJobs.train(folder, run: "full", ranks: 2)
        try #require(full.status == 0, "\(full.stderr)")
        let params = try TrainJobs.tensors("\(folder)/full")
        let shapes = try SafeTensorsFile(path: try #require(try TrainJobs.latest("\(folder)/full")).checkpoint.filePath("model.safetensors"))
            .entries.reduce(into: [String: [Int]]()) { $0[$1.name] = $1.shape }
        #expect(shapes["0.weight"] == [16, 40] && shapes["2.weight"] == [12, 16] && shapes["4.weight"] == [10, 12], "\(shapes)")
        let runConfig = try String(contentsOfFile: "\(folder)/full/config.json", encoding: .utf8)
        #expect(runConfig.contains("\"units\": 16") && runConfig.contains("\"units\": 12"), "\(runConfig)")
        let eval = try MPIRun.run(ranks: 0, program: "swtrain", ["eval", "\(folder)/full/config.json", "--checkpoint", "\(folder)/full"], timeout: 60)
        #expect(eval.status == 0 && eval.stdout.contains("accuracy"), "\(eval.stdout)\n\(eval.stderr)")

        let stop = try TrainJobs.train(folder, run: "resumed", ranks: 2, ["--stop-after", "10"])
        try #require(stop.status == 0, "\(stop.stderr)")
        let resumed = try TrainJobs.train(folder, run: "resumed", ranks: 2, ["--resume", "latest"])
        try #require(resumed.status == 0, "\(resumed.stderr)")
        let crash = try TrainJobs.train(folder, run: "crashed", ranks: 2, ["--fail-at", "0:14"])
        try #require(crash.status != 0, "the injected failure ends the run")
        let again = try TrainJobs.train(folder, run: "crashed", ranks: 2, ["--resume", "latest"])
        try #require(again.status == 0, "\(again.stderr)")
        for run in ["resumed", "crashed"] {
            for file in ["model.safetensors", "optimizer.safetensors", "hooks.safetensors"] {
                let a = try TrainJobs.latestBytes("\(folder)/full", file), b = try TrainJobs.latestBytes("\(folder)/\(run)", file)
                #expect(a == b, "structured \(run): \(file) differs after resume")
            }
        }
        let crashedConfig = try String(contentsOfFile: "\(folder)/crashed/config.json", encoding: .utf8)
        #expect(crashedConfig.contains("\"units\": 16") && crashedConfig.contains("\"units\": 12"), "\(crashedConfig)")
        let one = try TrainJobs.train(folder, run: "one", ranks: 1)
        try #require(one.status == 0, "\(one.stderr)")
        for (name, ref) in try TrainJobs.tensors("\(folder)/one") {
            let err = TrainJobs.relativeError(ref, params[name] ?? [])
            #expect(err <= 1e-4, "structured np=2 vs np=1, \(name): relative error \(err)")
        }
    }
}
