import Foundation
import Testing
import SwCheckpoint
import SwComm
import SwNN
import SwTensor
import _TestSupport
@testable import SwTrain

/// Training hooks (`PostUpdateHook`, `LossTermHook`) and the rebuild after a model change,
/// end to end through `swtrain train` (the environment test hooks of `TestHooks`).
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "mpirun or the swtrain executable is missing: hook tests skipped"))
struct HookTests {
    /// Elements on both ranks' shards at np=2 (the flat buffer has 1642 elements; rank 1's
    /// shard starts at 832): 0.weight [32, 40] at 0, 5, 700 and 1279, 2.weight at 3 and 319.
    static let zeroed = "0.weight:0,5,700,1279;2.weight:3,319"
    static let zeroedElements: [(String, [Int])] = [("0.weight", [0, 5, 700, 1279]), ("2.weight", [3, 319])]

    /// A post-update hook that zeroes fixed weights keeps them exactly 0, alone and in the
    /// node-shared modes at np=2 (per-node weight gradients, and per-rank gradients), where
    /// each rank may change only its own shard; the other parameters match np=1.
    @Test(arguments: [(1, [String]()), (2, []), (2, ["--set", "parallel.weight_gradients=\"off\""])])
    func zeroedWeightsStayZero(ranks: Int, settings: [String]) throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config(maxSteps: 20))
        defer { TrainJobs.remove(folder) }
        let env = ["SWTRAIN_TEST_ZERO_WEIGHTS": Self.zeroed]
        let plain = try TrainJobs.train(folder, run: "plain", ranks: 1)
        try #require(plain.status == 0, "\(plain.stderr)")
        let r = try TrainJobs.train(folder, run: "run", ranks: ranks, settings, environment: env)
        try #require(r.status == 0, "exit \(r.status)\n\(r.stderr)")
        let params = try TrainJobs.tensors("\(folder)/run"), reference = try TrainJobs.tensors("\(folder)/plain")
        // Zero in the checkpoint mid-run and at the end.
        let middle = try SafeTensorsFile(path: "\(folder)/run/checkpoint-10/model.safetensors")
        for (name, indices) in Self.zeroedElements {
            let t = try #require(params[name]), m = try middle.floats(name)
            for i in indices { #expect(t[i] == 0 && m[i] == 0, "np=\(ranks) \(name)[\(i)] = \(m[i]) at step 10, \(t[i]) at 20") }
            #expect(indices.allSatisfy { reference[name]![$0] != 0 }, "without the hook these weights train")
        }
        if ranks > 1 {
            let one = try TrainJobs.train(folder, run: "one", ranks: 1, environment: env)
            try #require(one.status == 0, "\(one.stderr)")
            let single = try TrainJobs.tensors("\(folder)/one")
            for (name, ref) in single {
                let err = TrainJobs.relativeError(ref, params[name] ?? [])
                #expect(err <= 1e-5, "np=\(ranks) vs np=1 with the hook, \(name): relative error \(err)")
            }
        }
    }

    /// A hook's state (a tensor and its call count) is checkpointed and restored: a run stopped
    /// after 10 of 20 steps and resumed ends with the same bytes as an uninterrupted one.
    @Test(arguments: [1, 2])
    func hookStateResumesByteIdentical(ranks: Int) throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config(maxSteps: 20))
        defer { TrainJobs.remove(folder) }
        let env = ["SWTRAIN_TEST_ZERO_WEIGHTS": Self.zeroed]
        let full = try TrainJobs.train(folder, run: "full", ranks: ranks, environment: env)
        try #require(full.status == 0, "\(full.stderr)")
        let stop = try TrainJobs.train(folder, run: "resumed", ranks: ranks, ["--stop-after", "10"], environment: env)
        try #require(stop.status == 0, "\(stop.stderr)")
        let resumed = try TrainJobs.train(folder, run: "resumed", ranks: ranks, ["--resume", "latest"], environment: env)
        try #require(resumed.status == 0, "\(resumed.stderr)")
        for file in ["model.safetensors", "optimizer.safetensors", "hooks.safetensors"] {
            let a = try TrainJobs.latestBytes("\(folder)/full", file), b = try TrainJobs.latestBytes("\(folder)/resumed", file)
            #expect(a == b, "np=\(ranks) \(file) differs after resume")
        }
        let hooks = try TrainJobs.latestBytes("\(folder)/full", "hooks.safetensors")
        #expect(String(decoding: hooks, as: UTF8.self).contains(#"{\"calls\":20}"#), "the hook ran once per step")
    }

    /// Rebuilding the sync and optimizer for the model's (same) layout in new buffers after step
    /// 7 (`rebuildAfterModelChange`, new node-shared windows in the shared modes) changes
    /// nothing: the run ends byte-identical to one without the rebuild.
    @Test(arguments: [(1, [String]()), (2, []), (2, ["--set", "parallel.weight_gradients=\"off\""]),
                      (2, ["--set", "parallel.sync=\"allreduce\"", "--set", "parallel.overlap=\"on\""]),
                      (2, ["--set", "parallel.pipeline_stages=2"])])
    func rebuildAfterModelChangeKeepsTraining(ranks: Int, settings: [String]) throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config(optimizer: #"{"type": "adam", "lr": 0.01}"#, maxSteps: 15))
        defer { TrainJobs.remove(folder) }
        let plain = try TrainJobs.train(folder, run: "plain", ranks: ranks, settings)
        try #require(plain.status == 0, "\(plain.stderr)")
        let rebuilt = try TrainJobs.train(folder, run: "rebuilt", ranks: ranks, settings,
                                          environment: ["SWTRAIN_TEST_REBUILD_AT_STEP": "7"])
        try #require(rebuilt.status == 0, "\(rebuilt.stderr)")
        for file in ["model.safetensors", "optimizer.safetensors"] {
            let a = try TrainJobs.latestBytes("\(folder)/plain", file), b = try TrainJobs.latestBytes("\(folder)/rebuilt", file)
            #expect(a == b, "np=\(ranks) \(settings) \(file) differs after the rebuild")
        }
    }
}

/// An L2 penalty on the model output, `T = (λ/2) Σ o²`, whose gradient is `λ o`.
final class OutputPenalty: LossTermHook {
    let name = "output_penalty"
    let lambda: Float
    init(lambda: Float) { self.lambda = lambda }

    func addLossTerm(input: Tensor, output: Tensor, targets: Tensor, outputGradient: Tensor, gradientScale: Float) -> Double {
        var term = 0.0
        let o = output.pointer, g = outputGradient.pointer
        for i in 0..<output.count {
            term += Double(o[i]) * Double(o[i])
            g[i] += gradientScale * (lambda * o[i])
        }
        return Double(lambda) / 2 * term
    }

    func checkpointState() -> HookState { HookState(json: "{}") }
    func restore(_ state: HookState) throws {}
}

@Suite struct LossTermHookTests {
    /// The trainer with an output-penalty hook ends with the same parameter bytes as the same
    /// SGD steps written out by hand (forward, loss, the penalty's gradient added to the output
    /// gradient, backward, optimizer), and reports the penalty inside the loss.
    @Test func hookEqualsTheTermAddedByHand() throws {
        let overrides = ["optimizer.type=\"sgd\"", "optimizer.lr=0.1", "training.max_steps=6", "checkpoint.dir=\"/tmp/swtrain-hook-test\""]
        let config = try TrainConfig.parse(text: baseConfig, overrides: overrides)
        let hooked = try Trainer(config: config, comm: LocalCommunicator())
        hooked.lossTermHooks.append(OutputPenalty(lambda: 0.5))
        let byHand = try Trainer(config: config, comm: LocalCommunicator())
        let plain = try Trainer(config: config, comm: LocalCommunicator())
        var sampler = byHand.sampler
        let model = byHand.model, store = model.parameters
        let x = Tensor(zeros: [16, 40]), y = Tensor(zeros: [16] + byHand.train.targetShape)
        for step in 0..<6 {
            let reported = try hooked.trainStep().loss
            _ = try plain.trainStep()
            let batch = sampler.next()
            byHand.train.gather(batch.indices, inputs: x, targets: y)
            let out = model.forward(x, training: true)
            let g = Tensor(zeros: out.shape)
            let scale = 1 / Float(batch.globalBatchSize * model.loss.terms(outputCount: out.count / batch.indices.count))
            var loss = model.loss.evaluate(output: out, targets: y, gradient: g, gradientScale: scale).sum
            var penalty = 0.0
            for i in 0..<out.count {
                penalty += Double(out.pointer[i]) * Double(out.pointer[i])
                g.pointer[i] += scale * (0.5 * out.pointer[i])
            }
            loss += 0.25 * penalty
            model.backward(g)
            byHand.optimizer.step(parameters: store.values, summing: store.gradientSources, lr: byHand.schedule.lr(at: step),
                                  range: 0..<store.count, zeroSources: true)
            #expect(abs(reported - loss) <= 1e-9 * abs(loss), "step \(step + 1): loss \(reported) vs \(loss) by hand")
        }
        #expect(hooked.model.parameters.values.array == store.values.array)
        #expect(hooked.model.parameters.values.array != plain.model.parameters.values.array, "the penalty must change training")
    }
}
