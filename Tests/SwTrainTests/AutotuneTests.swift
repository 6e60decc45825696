import Foundation
import Testing
import SwTrain
import _TestSupport

/// `swtrain autotune`: the config it writes is the fastest fitting trial of its table, with
/// the learning rate scaled by the stated rule, and a memory limit nothing fits is an error.
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "the swtrain executable is missing: autotune tests skipped"))
struct AutotuneTests {
    static func number(_ v: Any?) -> Double? { (v as? NSNumber)?.doubleValue }

    @Test(arguments: ["linear", "sqrt"])
    func choosesTheFastestFittingTrialAndScalesTheLearningRate(rule: String) throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config())
        defer { TrainJobs.remove(folder) }
        let out = folder + "/tuned.json"
        let r = try MPIRun.run(ranks: 0, program: "swtrain", ["autotune", folder + "/config.json", "--budget-s", "60", "--steps", "2",
                                                              "--warmup", "1", "--lr-rule", rule, "--out", out])
        try #require(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let table = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/tuned.autotune.json"))) as? [String: Any])
        #expect(table["lr_rule"] as? String == rule)
        let trials = try #require(table["trials"] as? [[String: Any]])
        #expect(trials.count >= 4, "batch sizes 40, 20, 80, 160 and a thread count at least")
        let chosen = Int(try #require(Self.number(table["chosen"])))
        let fitting = trials.indices.filter { trials[$0]["fits"] as? Bool == true }
        let fastest = try #require(fitting.max { Self.number(trials[$0]["samples_per_sec"])! < Self.number(trials[$1]["samples_per_sec"])! })
        #expect(Self.number(trials[chosen]["samples_per_sec"]) == Self.number(trials[fastest]["samples_per_sec"]))
        for t in trials {
            let k = try #require(Self.number(t["batch_size"])) / 40
            let expected = 0.1 * (rule == "linear" ? k : k.squareRoot())
            #expect(abs(try #require(Self.number(t["lr"])) - expected) < 1e-9, "\(t)")
        }
        // The last stage tries data prefetch 1 and 2 on the best so far; the choice carries its depth.
        let prefetch = trials.map { (($0["overrides"] as? [String]) ?? []).first { $0.hasPrefix("data.prefetch=") } }
        #expect(prefetch.compactMap { $0 } == ["data.prefetch=1", "data.prefetch=2"], "\(prefetch)")
        let tuned = try TrainConfig.load(path: out)
        #expect(tuned.data.prefetch == (prefetch[chosen].flatMap { Int($0.dropFirst("data.prefetch=".count)) } ?? 0))
        #expect(Double(tuned.training.batchSize) == Self.number(trials[chosen]["batch_size"]))
        #expect(abs(tuned.optimizer.lr - (Self.number(trials[chosen]["lr"]) ?? 0)) < 1e-9)
    }

    @Test func aLimitNothingFitsIsAnError() throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config())
        defer { TrainJobs.remove(folder) }
        let r = try MPIRun.run(ranks: 0, program: "swtrain", ["autotune", folder + "/config.json", "--steps", "1", "--warmup", "0",
                                                              "--memory-mb", "1", "--out", folder + "/t.json"])
        #expect(r.status == 1 && r.stderr.contains("no configuration fits in 1 MiB"), "\(r.status) \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/t.json"))
    }
}
