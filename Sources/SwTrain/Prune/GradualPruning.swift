import Foundation
import SwConfig
import SwNN
import SwTensor

/// The config's `prune` section during training: pruning events on the cubic schedule and,
/// unstructured, the masks that keep pruned weights exactly 0 after every optimizer step.
///
/// Timing (the contract with `swtrain prune`): the event of step `t` runs after the optimizer
/// step that completes step `t` (after the post-update hooks and the parameter publish), and
/// an event at step 0 (`start_step` 0) runs at set-up, before the first step, on the weights
/// the run starts from (`model.init_from` or the seeded initialisation).
///
/// Every rank computes the same event from the same weights: the parameters are synchronized
/// when an event runs (identical on every data-parallel rank, one node-shared copy with
/// ZeRO-1; a pipeline first gathers every stage's slice), and the selection rules of
/// `MagnitudePruning` are deterministic. A rank then zeroes only the elements it owns (its
/// `ownedRanges`) and the parameters are published again, so shared memory stays race-free.
///
/// Unstructured state, saved in the checkpoint's `hooks.safetensors` under the hook name
/// `prune`: one 0/1 tensor `mask.<weight>` per pruned weight (1 = kept) and JSON
/// `{"sparsity": s, "last_event": t}`. Structured pruning (`StructuredPruning`) has no
/// masks: its state is the units of each pruned layer, which a resume uses to shrink the
/// freshly built model before it loads the checkpoint.
///
/// Optimizer moments of masked weights are left alone: the optimizers update element by
/// element, so they only ever feed their own (masked) weight, which the mask resets to 0 after
/// every step; they are saved and restored like every other moment, which keeps a resume
/// byte-identical and np=1 equal to np=2.
final class GradualPruning: PostUpdateHook {
    let name = "prune"
    let config: PruneConfig
    /// Unstructured: the pruned weight tensors (`"0.weight"`), in model order.
    let tensors: [String]
    /// Unstructured: per tensor, the keep mask (empty before the first event).
    private(set) var masks: [[Bool]] = []
    /// Unstructured: each pruned tensor's flat offset in the parameter buffer and its mask as
    /// bit patterns (all ones kept, 0 masked), ANDed into the weights after every step.
    private var placed: [MaskBits]? = []
    /// The parameter store `placed` was laid out for (a model change re-places the masks).
    private var placedFor: ParameterStore?
    /// Structured: the layers that shrink and their units.
    let structured: StructuredPruning?
    /// The sparsity of the last event (the schedule's), and its step.
    private(set) var sparsity = 0.0
    private(set) var lastEvent: Int?
    /// Event lines not yet written to metrics.jsonl (`TrainingRun` takes them).
    private var pending: [PruneEvent] = []

    /// Finds the pruned layers in `model` (built from `run`'s config); a `layers` path that is
    /// no dense or conv layer (or, structured, none whose units can be removed) is a `ConfigError`.
    init(_ config: PruneConfig, model: Model, run: TrainConfig) throws {
        self.config = config
        if config.structured {
            structured = try StructuredPruning(config, model: model, modelJSON: run.model.json, file: run.file)
            tensors = []
        } else {
            structured = nil
            tensors = try Self.prunedWeights(config, model: model, file: run.file)
        }
    }

    /// `"<path>.weight"` of every prunable layer `config.layers` names (default: all of them).
    static func prunedWeights(_ config: PruneConfig, model: Model, file: String?) throws -> [String] {
        let prunable = model.network.descendants.filter { $0.layer is any Prunable }
        let paths = prunable.map(\.path)
        var chosen = paths
        if let wanted = config.layers {
            for (i, p) in wanted.enumerated() where !paths.contains(p) {
                throw ConfigError(file: file, path: "prune.layers[\(i)]",
                                  message: "expected the path of a dense or conv layer of the model, got \"\(p)\"",
                                  hint: "the model's dense and conv layers are \(paths.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
            chosen = paths.filter { wanted.contains($0) }   // model order
        }
        if chosen.isEmpty {
            throw ConfigError(file: file, path: "prune", message: "the model has no dense or conv layer to prune")
        }
        return chosen.map { p in
            let l = model.network.layer(at: p)!
            return childPath(p, l.parameterShapes[0].name)
        }
    }

    // MARK: - Masks after every step

    func afterUpdate(step: Int, parameters: ParameterStore, ranges: [Range<Int>]) throws {
        guard !masks.isEmpty else { return }
        Self.zero(try placedMasks(parameters), in: parameters.values.pointer, ranges: ranges)
    }

    /// Sets the masked elements inside `ranges` to +0 (the weights' bits ANDed with the mask's:
    /// a vectorized pass over the pruned tensors, exact for any weight, NaN included).
    static func zero(_ masks: [MaskBits], in p: UnsafeMutablePointer<Float>, ranges: [Range<Int>]) {
        let bits = UnsafeMutableRawPointer(p).assumingMemoryBound(to: UInt32.self)
        for m in masks {
            for r in ranges {
                let lo = max(r.lowerBound, m.offset), hi = min(r.upperBound, m.offset + m.bits.count)
                guard lo < hi else { continue }
                m.bits.withUnsafeBufferPointer { mask in
                    let w = bits + lo, k = mask.baseAddress! + (lo - m.offset)
                    for i in 0..<(hi - lo) { w[i] &= k[i] }
                }
            }
        }
    }

    // MARK: - Events

    /// Runs the set-up event (before the first step of a fresh run, when `start_step` is 0).
    func beforeFirstStep(_ t: Trainer) throws {
        guard t.step == 0, lastEvent == nil, config.isEvent(0) else { return }
        try event(t, step: 0)
    }

    /// Runs the event of the step just completed, if it is one.
    func afterStep(_ t: Trainer) throws {
        guard config.isEvent(t.step), lastEvent != t.step else { return }
        try event(t, step: t.step)
    }

    /// The event lines since the last call.
    func takeEvents() -> [PruneEvent] {
        defer { pending = [] }
        return pending
    }

    private func event(_ t: Trainer, step: Int) throws {
        let s = config.sparsity(at: step)
        if let structured {
            let result = try structured.prune(t, sparsity: s)
            pending.append(PruneEvent(step: step, target: s, structured: result, parameters: t.model.parameters.count))
        } else {
            try pruneUnstructured(t, sparsity: s)
            let perLayer = zip(tensors, masks).map { name, m in (name, m.count { kept in !kept }, m.count) }
            let pruned = perLayer.reduce(0) { sum, l in sum + l.1 }, total = perLayer.reduce(0) { sum, l in sum + l.2 }
            pending.append(PruneEvent(step: step, target: s, pruned: pruned, of: total, perTensor: perLayer))
        }
        sparsity = s
        lastEvent = step
    }

    /// New masks at `sparsity` from the synchronized weights, applied to this rank's elements.
    private func pruneUnstructured(_ t: Trainer, sparsity s: Double) throws {
        // A pipeline stage holds only its own slice up to date: gather every stage's first.
        try t.pipeline?.broadcastSlices([t.model.parameters.values])
        let store = t.model.parameters
        let entries = tensors.map { store.entry($0)! }
        let weights = entries.map { UnsafeBufferPointer(start: store.values.pointer + $0.offset, count: $0.count) }
        var next = MagnitudePruning.unstructuredMasks(weights, sparsity: s, scope: config.scope)
        if !masks.isEmpty {
            let groups = config.scope == .global ? [Array(tensors.indices)] : tensors.indices.map { [$0] }
            for g in groups { Self.keepEarlierPruned(&next, previous: masks, group: g) }
        }
        masks = next
        placed = nil
        Self.zero(try placedMasks(store), in: store.values.pointer, ranges: t.sync.ownedRanges)
        _ = try t.sync.publishParameters()
    }

    /// Makes `next` contain every element `previous` pruned, with the same count per group.
    ///
    /// Pruned weights are exactly 0, so they rank first; only a tie with other exact zeros can
    /// leave an earlier-pruned one out. It is then swapped for a newly pruned element, which is
    /// itself 0 (the selection stays a smallest-magnitude one): the masks only grow.
    static func keepEarlierPruned(_ next: inout [[Bool]], previous: [[Bool]], group: [Int]) {
        var fresh: [(Int, Int)] = []
        var missing = 0
        for l in group {
            for i in next[l].indices {
                let wasPruned = !previous[l][i], isPruned = !next[l][i]
                if isPruned && !wasPruned { fresh.append((l, i)) }
                if wasPruned && !isPruned { missing += 1; next[l][i] = false }
            }
        }
        for (l, i) in fresh.suffix(missing) { next[l][i] = true }
    }

    // MARK: - Checkpoint state

    func checkpointState() -> HookState {
        var json = JSONObject([("sparsity", .number(sparsity, isInteger: false)),
                               ("last_event", lastEvent.map { JSON.integer($0) } ?? JSON.null)])
        if let structured { json["units"] = structured.stateJSON }
        var tensorsOut: [(name: String, tensor: Tensor)] = []
        for (name, m) in zip(tensors, masks) {
            tensorsOut.append(("mask.\(name)", Tensor(shape: [m.count], values: m.map { $0 ? 1 : 0 })))
        }
        return HookState(tensors: tensorsOut, json: JSON.object(json).serialized())
    }

    func restore(_ state: HookState) throws {
        let json = try Self.parse(state.json)
        sparsity = json["sparsity"]?.doubleValue ?? 0
        lastEvent = json["last_event"]?.doubleValue.map { Int($0) }
        if let structured {
            guard let units = json["units"] else { throw RuntimeError("prune: the checkpoint's hook state has no units (was it written by unstructured pruning?)\n  hint: resume with the prune settings the run was started with") }
            try structured.restore(units)
            return
        }
        guard lastEvent != nil else { masks = []; placed = []; return }
        var restored: [[Bool]] = []
        for name in tensors {
            guard let t = state.tensors.first(where: { $0.name == "mask.\(name)" })?.tensor else {
                throw RuntimeError("prune: the checkpoint has no mask for \(name) (masks saved: \(state.tensors.map(\.name)))\n  hint: resume with the prune layers the run was started with")
            }
            restored.append(t.array.map { $0 != 0 })
        }
        masks = restored
        placed = nil   // recomputed against the model's layout at the next use
    }

    /// The masks placed in `store`'s layout (computed once per mask).
    private func placedMasks(_ store: ParameterStore) throws -> [MaskBits] {
        if let placed, placedFor === store { return placed }
        var out: [MaskBits] = []
        for (name, m) in zip(tensors, masks) {
            guard let e = store.entry(name), e.count == m.count else {
                throw RuntimeError("prune: the mask of \(name) has \(m.count) elements, the model's tensor \(store.entry(name)?.count ?? 0)\n  hint: resume with the model and prune layers the run was started with")
            }
            out.append(MaskBits(offset: e.offset, bits: m.map { $0 ? UInt32.max : 0 }))
        }
        placed = out
        placedFor = store
        return out
    }

    /// The hook's JSON state as an object.
    static func parse(_ text: String) throws -> JSONObject {
        guard let json = try? JSON.parse(text), case .object(let o) = json else {
            throw RuntimeError("prune: malformed hook state \(text) in the checkpoint")
        }
        return o
    }
}

/// A pruned tensor's place in the flat parameters and its mask as `UInt32` bit patterns.
struct MaskBits {
    let offset: Int
    let bits: [UInt32]
}
