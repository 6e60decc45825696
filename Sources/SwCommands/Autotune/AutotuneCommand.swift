import Foundation
import SwComm
import SwConfig
import SwTensor
import SwTrain

/// `swtrain autotune CONFIG [--budget-s 60] --out tuned.json`: short measured runs of the
/// config with other settings, and the fastest that fits in memory written as a config.
///
/// The search is greedy, one setting at a time, each stage keeping the best of the previous:
/// 1. the per-rank batch size × {1, 1/2, 2, 4} (the global batch scaled with it), with the
///    learning rate scaled by the rule (`linear`: lr · k, Goyal et al. 2017; `sqrt`: lr · √k);
/// 2. with two or more data-parallel ranks, the gradient sync: the config's, `allreduce` without
///    overlap, and `allreduce` overlapped with `bucket_mb` 1, 4 and 25;
/// 3. BLAS threads per rank: 1 and the cores of the node / its ranks (when that is more);
/// 4. data prefetch (`data.prefetch`): 1 and 2 batches gathered ahead on a worker thread when
///    the config has none, none when it has some (the batches are the same either way).
/// Each trial trains `warmup` + `steps` steps in this process; its speed is samples per second
/// from the slowest rank's median step. A trial fits when the largest resident set of any rank
/// is under the memory limit (`--memory-mb`, default 80% of MemAvailable at start / ranks on
/// the node). Trials stop when the budget is spent (the stage under way is cut short).
public enum AutotuneCommand {
    public enum LRRule: String, CaseIterable, Sendable { case linear, sqrt }

    public static func run(configPath: String, overrides: [String], budgetSeconds: Double, out: String,
                           rule: LRRule, steps: Int, warmup: Int, memoryMB: Double?) throws {
        let base = try TrainConfig.load(path: configPath, overrides: overrides)
        let comm = try Launch.worldCommunicator()
        let isRoot = comm.rank == 0
        let dp = comm.size / base.parallel.pipelineStages
        let local = Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? 1
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let limitMB = try memoryMB ?? comm.allReduce(Double(AutotuneTrial.availableBytes() ?? Int(1 << 40)) * 0.8 / Double(max(local, 1)) / 1_048_576, op: .min)
        let start = monotonicSeconds()
        let baseThreads = BLAS.threads
        var table: [AutotuneTrial] = []
        var best: AutotuneTrial?

        func spent() throws -> Bool { try comm.allReduce(monotonicSeconds() - start, op: .max) > budgetSeconds }
        func runStage(_ candidates: [AutotuneTrial]) throws {
            for var c in candidates {
                if !table.isEmpty, try spent() { return }
                try c.measure(configPath: configPath, base: overrides, comm: comm, warmup: warmup, steps: steps)
                c.fits = c.error == nil && c.rssMB <= limitMB
                if isRoot { print(row(c, index: table.count)) }
                table.append(c)
                if c.fits, best == nil || c.samplesPerSecond > best!.samplesPerSecond { best = c }
            }
        }
        if isRoot {
            print("autotune: \(configPath) on \(comm.size) rank(s), budget \(Int(budgetSeconds)) s, \(warmup) + \(steps) steps a trial, lr rule \(rule.rawValue), memory limit \(Int(limitMB)) MiB a rank")
            print(header)
        }
        // 1. Batch size per rank, lr scaled.
        let perRank = base.training.batchSize / max(dp, 1)
        var batches: [AutotuneTrial] = []
        for (k, name) in [(1.0, "as written"), (0.5, "batch / 2"), (2.0, "batch x 2"), (4.0, "batch x 4")] {
            let b = Int((Double(perRank) * k).rounded())
            if b < 1 || (k != 1 && b == perRank) { continue }
            let factor = Double(b) / Double(perRank)
            let lr = base.optimizer.lr * (rule == .linear ? factor : factor.squareRoot())
            let o = k == 1 ? [] : ["training.batch_size=\(b * dp)", "optimizer.lr=\(lr)"]
            batches.append(AutotuneTrial(label: name, overrides: o, threads: baseThreads))
        }
        try runStage(batches)
        // 2. Gradient sync (data parallel only).
        if dp > 1, let b = best {
            var syncs: [AutotuneTrial] = []
            let mode = #"parallel.sync="allreduce""#
            syncs.append(AutotuneTrial(label: b.label + ", allreduce", overrides: b.overrides + [mode, #"parallel.overlap="off""#], threads: baseThreads))
            for mb in [1, 4, 25] {
                syncs.append(AutotuneTrial(label: b.label + ", allreduce overlap \(mb) MB",
                                           overrides: b.overrides + [mode, #"parallel.overlap="on""#, "parallel.bucket_mb=\(mb)"], threads: baseThreads))
            }
            try runStage(syncs)
        }
        // 3. BLAS threads.
        let more = max(1, cores / max(local, 1))
        if let b = best {
            let other = baseThreads == 1 ? more : 1
            if other != baseThreads { try runStage([AutotuneTrial(label: b.label + ", \(other) BLAS threads", overrides: b.overrides, threads: other)]) }
        }
        // 4. Data prefetch (the same batches; gathered on a worker thread or when needed).
        if let b = best {
            let depths = base.data.prefetch == 0 ? [1, 2] : [0]
            try runStage(depths.map { d in
                AutotuneTrial(label: b.label + (d == 0 ? ", no prefetch" : ", prefetch \(d)"),
                              overrides: b.overrides + ["data.prefetch=\(d)"], threads: b.threads)
            })
        }
        BLAS.setThreads(baseThreads)
        guard let chosen = best else {
            throw RuntimeError("autotune: no configuration fits in \(Int(limitMB)) MiB a rank (of \(table.count) measured)\n  hint: raise --memory-mb, or lower training.batch_size")
        }
        guard isRoot else { return }
        let config = try TrainConfig.load(path: configPath, overrides: overrides + chosen.overrides)
        let asWritten = table.first { $0.overrides.isEmpty && $0.threads == baseThreads && $0.error == nil }
        let speedup = asWritten.map { chosen.samplesPerSecond / $0.samplesPerSecond }
        do {
            try writeFileAtomically(Array((config.resolved.serialized(pretty: true) + "\n").utf8), to: out)
            try writeFileAtomically(Array((summary(table, chosen: chosen, rule: rule, limitMB: limitMB, speedup: speedup, ranks: comm.size).serialized(pretty: true) + "\n").utf8),
                                    to: tablePath(out))
        } catch {
            throw RuntimeError("\(out): cannot write the tuned config: \(error)\n  hint: check the folder exists and is writable")
        }
        print("chosen: \(chosen.label): " + String(format: "%.0f", chosen.samplesPerSecond) + " samples/s" + (speedup.map { String(format: " (%.2fx the config as written)", $0) } ?? "")
              + (chosen.threads != baseThreads ? "; run it with OPENBLAS_NUM_THREADS=\(chosen.threads)" : ""))
        print("wrote \(out) and \(tablePath(out))")
    }

    /// `tuned.json` -> `tuned.autotune.json`.
    public static func tablePath(_ out: String) -> String {
        (out.hasSuffix(".json") ? String(out.dropLast(5)) : out) + ".autotune.json"
    }

    static let header = "trial  setting                                       batch  lr         threads  step ms  samples/s  RSS MiB  fits"

    static func row(_ t: AutotuneTrial, index: Int) -> String {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        if let e = t.error { return pad("\(index)", 7) + pad(t.label, 46) + "failed: \(e.split(separator: "\n").first ?? "")" }
        return pad("\(index)", 7) + pad(t.label, 46) + pad("\(t.globalBatch)", 7) + pad(String(format: "%.4g", t.lr), 11)
            + pad("\(t.threads)", 9) + pad(String(format: "%.2f", t.medianStepMs), 9) + pad(String(format: "%.0f", t.samplesPerSecond), 11)
            + pad(String(format: "%.0f", t.rssMB), 9) + (t.fits ? "yes" : "no")
    }

    static func summary(_ table: [AutotuneTrial], chosen: AutotuneTrial, rule: LRRule, limitMB: Double, speedup: Double?, ranks: Int) -> JSON {
        func n(_ x: Double) -> JSON { .number(x, isInteger: false) }
        let rows: [JSON] = table.map { t in
            var o = JSONObject([("setting", .string(t.label)), ("overrides", .array(t.overrides.map { .string($0) })),
                                ("blas_threads", .number(Double(t.threads), isInteger: true))])
            if let e = t.error { o["error"] = .string(e) } else {
                o["batch_size"] = .number(Double(t.globalBatch), isInteger: true)
                o["lr"] = n(t.lr)
                o["median_step_ms"] = n((t.medianStepMs * 1000).rounded() / 1000)
                o["samples_per_sec"] = n(t.samplesPerSecond.rounded())
                o["rss_mb"] = n(t.rssMB.rounded())
            }
            o["fits"] = .bool(t.fits)
            return .object(o)
        }
        var o = JSONObject([("ranks", .number(Double(ranks), isInteger: true)), ("lr_rule", .string(rule.rawValue)),
                            ("memory_limit_mb", n(limitMB.rounded())),
                            ("chosen", .number(Double(table.firstIndex { $0.label == chosen.label && $0.threads == chosen.threads } ?? 0), isInteger: true)),
                            ("chosen_blas_threads", .number(Double(chosen.threads), isInteger: true)),
                            ("trials", .array(rows))])
        if let s = speedup { o["speedup_over_config"] = n((s * 1000).rounded() / 1000) }
        return .object(o)
    }
}
