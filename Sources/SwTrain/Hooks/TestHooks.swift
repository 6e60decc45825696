import Foundation
import SwNN
import SwTensor

/// Hooks the end-to-end tests install through the environment (the tests run the `swtrain`
/// executable, under mpirun too):
/// - `SWTRAIN_TEST_ZERO_WEIGHTS="0.weight:0,5,1000;2.weight:3"` registers a `ZeroWeightsHook`
///   for those elements of those tensors;
/// - `SWTRAIN_TEST_REBUILD_AT_STEP=k` moves the parameters into a new store of the same layout
///   after step k and calls `rebuildAfterModelChange()`, as a model rewrite would;
/// - `SWTRAIN_TEST_SPLIT_DENSE="k:path:r"` replaces the dense layer at `path` by two (in -> r
///   without bias, r -> out) after step k through `Trainer.rewriteModel`, as a low-rank pass would;
/// - `SWTRAIN_TEST_SLOW_RANK="1:20ms"` makes rank 1 sleep 20 ms in every forward (`SlowRankHook`).
/// - `SWTRAIN_TEST_HANG_RANK="rank:step"` makes that rank SIGSTOP itself as the step begins.
enum TestHooks {
    static let rebuildAtStep = ProcessInfo.processInfo.environment["SWTRAIN_TEST_REBUILD_AT_STEP"].flatMap { Int($0) }
    static let splitDense: (step: Int, path: String, rank: Int)? = {
        guard let spec = ProcessInfo.processInfo.environment["SWTRAIN_TEST_SPLIT_DENSE"] else { return nil }
        let parts = spec.split(separator: ":").map(String.init)
        guard parts.count == 3, let k = Int(parts[0]), let r = Int(parts[2]), r > 0 else {
            preconditionFailure("SWTRAIN_TEST_SPLIT_DENSE: expected step:path:rank, got \(spec)")
        }
        return (k, parts[1], r)
    }()

    /// `SWTRAIN_TEST_HANG_RANK=rank:step`: that rank stops itself (SIGSTOP) when the step
    /// begins, as a stopped or stuck host would; the watchdog of its peers must end the job.
    static let hangAt: (rank: Int, step: Int)? = {
        guard let spec = ProcessInfo.processInfo.environment["SWTRAIN_TEST_HANG_RANK"] else { return nil }
        let parts = spec.split(separator: ":").compactMap { Int($0) }
        guard parts.count == 2 else { preconditionFailure("SWTRAIN_TEST_HANG_RANK: expected rank:step, got \(spec)") }
        return (parts[0], parts[1])
    }()

    /// Runs the test hooks due before step `step` (1-based) begins.
    static func beforeStep(_ t: Trainer, step: Int) {
        if let h = hangAt, h.rank == t.comm.worldRank, h.step == step {
            fflush(nil)
            raise(SIGSTOP)
        }
    }

    /// Runs the test hooks due after the step just taken.
    static func afterStep(_ t: Trainer) throws {
        if t.step == rebuildAtStep { try simulateModelChange(t) }
        if let s = splitDense, t.step == s.step { try split(t, path: s.path, rank: s.rank) }
    }

    /// The dense layer at `path` becomes dense(in -> rank, no bias) then dense(rank -> out).
    static func split(_ t: Trainer, path: String, rank: Int) throws {
        try t.rewriteModel { p, layer in
            guard p == path, let d = layer as? Dense else { return nil }
            let inner = Array(d.inputShape.dropLast()) + [rank]
            return Sequential([Dense(inputShape: d.inputShape, units: rank, bias: false),
                               Dense(inputShape: inner, units: d.outFeatures)], inputShape: d.inputShape)
        }
    }

    /// A model change that keeps the layout: fresh private buffers holding the values.
    static func simulateModelChange(_ t: Trainer) throws {
        let store = t.model.parameters
        let values = Tensor(zeros: [store.count])
        _ = values.buffer.update(from: store.values.buffer)
        t.model.useBuffers(values: values, gradients: Tensor(zeros: [store.count]))
        try t.rebuildAfterModelChange(stageCopy: { try Model(config: t.config.model, sharingParametersWith: $0) })
    }

    static func install(on trainer: Trainer) {
        if let spec = ProcessInfo.processInfo.environment["SWTRAIN_TEST_SLOW_RANK"] {
            trainer.lossTermHooks.append(SlowRankHook.parse(spec, rank: trainer.comm.rank))
        }
        guard let spec = ProcessInfo.processInfo.environment["SWTRAIN_TEST_ZERO_WEIGHTS"] else { return }
        var offsets: [Int] = []
        for part in spec.split(separator: ";") {
            let kv = part.split(separator: ":")
            guard kv.count == 2, let e = trainer.model.parameters.entry(String(kv[0])) else {
                preconditionFailure("SWTRAIN_TEST_ZERO_WEIGHTS: expected tensor:i,j,... with a tensor of the model, got \(part)")
            }
            offsets += kv[1].split(separator: ",").compactMap { Int($0) }.filter { $0 < e.count }.map { e.offset + $0 }
        }
        trainer.postUpdateHooks.append(ZeroWeightsHook(offsets: offsets))
    }
}

/// A post-update hook that sets fixed flat elements of the parameters to 0 after every step
/// (a fixed pruning mask), counting its calls. State: tensor `offsets`, JSON `{"calls": n}`.
final class ZeroWeightsHook: PostUpdateHook {
    let name = "test_zero_weights"
    private var offsets: [Int]
    private(set) var calls = 0

    init(offsets: [Int]) { self.offsets = offsets.sorted() }

    func afterUpdate(step: Int, parameters: ParameterStore, ranges: [Range<Int>]) throws {
        let p = parameters.values.pointer
        for o in offsets where ranges.contains(where: { $0.contains(o) }) { p[o] = 0 }
        calls += 1
    }

    func checkpointState() -> HookState {
        HookState(tensors: [("offsets", Tensor(shape: [offsets.count], values: offsets.map(Float.init)))], json: "{\"calls\":\(calls)}")
    }

    func restore(_ state: HookState) throws {
        guard let t = state.tensors.first(where: { $0.name == "offsets" })?.tensor,
              let n = state.json.split(separator: ":").last.flatMap({ Int($0.dropLast()) }) else {
            throw RuntimeError("\(name): malformed state \(state.json)")
        }
        offsets = t.array.map { Int($0) }
        calls = n
    }
}
