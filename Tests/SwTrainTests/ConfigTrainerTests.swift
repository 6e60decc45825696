import Foundation
import Testing
import SwComm
import SwConfig
import SwTrain

/// Trains `baseConfig` with `overrides` in process and returns the final parameters.
func trainParameters(_ overrides: [String]) throws -> (params: [Float], trainer: Trainer) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swtrain-trainer-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let config = try TrainConfig.parse(text: baseConfig, overrides: ["checkpoint.dir=\"\(dir)\""] + overrides)
    let trainer = try Trainer(config: config, comm: LocalCommunicator())
    while trainer.step < trainer.totalSteps { _ = try trainer.trainStep() }
    return (trainer.model.parameters.values.array, trainer)
}

func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Double {
    let scale = Double(a.map { abs($0) }.max() ?? 1)
    return zip(a, b).map { Double(abs($0 - $1)) }.max()! / scale
}

@Suite struct ConfigTrainerTests {
    @Test func sameConfigSameBytes() throws {
        let a = try trainParameters(["training.max_steps=8"]).params
        let b = try trainParameters(["training.max_steps=8"]).params
        #expect(a == b)
        let c = try trainParameters(["training.max_steps=8", "seed=2"]).params
        #expect(a != c)
    }

    /// Accumulating two half batches is the same optimizer step as one full batch: the sampler
    /// takes the same samples and the loss gradient is scaled by the same 1 / 32.
    @Test(arguments: ["adam", "sgd"])
    func accumulationEqualsFullBatch(optimizer: String) throws {
        let common = ["training.max_steps=10", "optimizer.type=\"\(optimizer)\"", "optimizer.lr=0.05"]
        let full = try trainParameters(common + ["training.batch_size=32"]).params
        let accumulated = try trainParameters(common + ["training.batch_size=16", "training.accumulation_steps=2"]).params
        let d = maxRelativeDifference(full, accumulated)
        #expect(d < 1e-5, "max relative difference \(d)")
        let single = try trainParameters(common + ["training.batch_size=16"]).params
        #expect(maxRelativeDifference(full, single) > 1e-3, "a different batch must train differently")
    }

    @Test func lossFallsOnMNIST1D() throws {
        let (_, trainer) = try trainParameters(["training.max_steps=1"])
        let before = try trainer.evaluate(trainer.train).loss
        let (_, trained) = try trainParameters(["training.max_steps=150"])
        let after = try trained.evaluate(trained.train)
        #expect(after.loss < before * 0.8, "loss \(before) -> \(after.loss)")
        #expect((after.accuracy ?? 0) > 0.3)
    }

    @Test func l2RegularizationShrinksWeights() throws {
        let plain = try trainParameters(["training.max_steps=30"]).params
        let l2 = try trainParameters(["training.max_steps=30", "regularization.l2=0.5"]).params
        let norm = { (p: [Float]) in p.reduce(0) { $0 + Double($1 * $1) } }
        #expect(norm(l2) < norm(plain) * 0.95, "\(norm(l2)) vs \(norm(plain))")
    }
}

@Suite(.enabled(if: swtrainBinary != nil, "the swtrain executable is not built"))
struct EvalCommandTests {
    /// `swtrain eval` on the final checkpoint reproduces the run's last evaluation, and
    /// `swtrain inspect` lists the tensors with their torch names.
    @Test func evalMatchesTheRunsLastEvaluation() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swtrain-eval-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try baseConfig.write(toFile: dir + "/c.json", atomically: true, encoding: .utf8)
        let run = dir + "/run"
        let t = try runSwtrain(["train", dir + "/c.json", "--plain", "--set", "checkpoint.dir=\"\(run)\"",
                                "--set", "training.max_steps=40", "--set", "training.eval_every_steps=20"])
        #expect(t.status == 0, "\(t.stderr)")
        let lines = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let evals = lines.filter { $0.contains("\"event\":\"eval\"") }
        #expect(evals.count == 2)
        let last = try JSON.parse(String(evals.last!))
        guard case .object(let o) = last, case .number(let accuracy)? = o["accuracy"] else {
            Issue.record("no accuracy in \(evals.last!)")
            return
        }
        let acc = accuracy.double
        let e = try runSwtrain(["eval", dir + "/c.json", "--checkpoint", run, "--set", "checkpoint.dir=\"\(run)\""])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(e.stdout.contains(String(format: "accuracy %.4f", acc)), "\(e.stdout) vs \(acc)")
        let i = try runSwtrain(["inspect", run])
        #expect(i.status == 0)
        #expect(i.stdout.contains("0.weight  F32  [16, 40]"), "\(i.stdout)")
        #expect(i.stdout.contains("step 40"))
    }
}
