import Foundation
import SwComm
import SwNN
import SwTensor

/// Quantization-aware training: attaches a `FakeQuant` to every `dense`, `conv1d` and `conv2d`
/// of the model and keeps their activation observers in step across ranks.
///
/// After every optimizer step (a `PostUpdateHook`, called on every rank) the step's per-rank
/// input minima and maxima are all-reduced (min / max: exact), and each layer's range is moved
/// (`minmax`: widened; `ema`: `r += 0.01 (step − r)`, the first step sets it) unless the step is
/// past `freeze_observers_step`. Fake quantization is on from `start_step`. Weights need no
/// synchronisation: every rank holds the same parameters. The ranges and the step are the
/// hook's checkpoint state (`hooks.safetensors`: `quantization.ranges` `[layers, 2]`,
/// `quantization.observed` `[layers]`, layer paths in the metadata), so a resume continues
/// byte-identically and `swtrain quantize --mode static` can use the learned ranges.
public final class QuantizationAwareTraining: PostUpdateHook {
    public let name = "quantization"
    public let config: QuantizationConfig
    /// The fake-quantized layers' paths, in model order, and their observers.
    public let layers: [(path: String, fakeQuant: FakeQuant)]
    private let comm: any Communicator
    private var step = 0

    /// Attaches fake quantization to `model`'s dense and conv layers.
    public init(model: Model, config: QuantizationConfig, comm: any Communicator) {
        self.config = config
        self.comm = comm
        var list: [(String, FakeQuant)] = []
        for (path, layer) in model.network.descendants {
            switch layer {
            case let d as Dense: let f = FakeQuant(channels: d.outFeatures); d.fakeQuant = f; list.append((path, f))
            case let c as Conv1D: let f = FakeQuant(channels: c.outChannels); c.fakeQuant = f; list.append((path, f))
            case let c as Conv2D: let f = FakeQuant(channels: c.outChannels); c.fakeQuant = f; list.append((path, f))
            default: break
            }
        }
        layers = list
        apply()
    }

    /// Sets each observer's flags for the current step.
    private func apply() {
        for (_, f) in layers {
            f.enabled = step >= config.startStep
            f.observing = config.freezeObserversStep.map { step < $0 } ?? true
        }
    }

    public func afterUpdate(step: Int, parameters: ParameterStore, ranges: [Range<Int>]) throws {
        var lo = layers.map { Double($0.fakeQuant.stepLow) }, hi = layers.map { Double($0.fakeQuant.stepHigh) }
        try comm.allReduce(&lo, op: .min)
        try comm.allReduce(&hi, op: .max)
        let observing = config.freezeObserversStep.map { self.step < $0 } ?? true
        for (i, (_, f)) in layers.enumerated() {
            f.resetStep()
            guard observing, lo[i] <= hi[i] else { continue }
            let (a, b) = (Float(lo[i]), Float(hi[i]))
            if !f.hasRange {
                f.low = a; f.high = b; f.hasRange = true
            } else if config.observer == "minmax" {
                f.low = min(f.low, a); f.high = max(f.high, b)
            } else {
                f.low += 0.01 * (a - f.low); f.high += 0.01 * (b - f.high)
            }
        }
        self.step = step
        apply()
    }

    public func checkpointState() -> HookState {
        let r = Tensor(zeros: [layers.count, 2]), o = Tensor(zeros: [layers.count])
        for (i, (_, f)) in layers.enumerated() {
            r.pointer[2 * i] = f.low; r.pointer[2 * i + 1] = f.high; o.pointer[i] = f.hasRange ? 1 : 0
        }
        let paths = layers.map { "\"\($0.path)\"" }.joined(separator: ", ")
        return HookState(tensors: [("ranges", r), ("observed", o)], json: "{\"step\": \(step), \"paths\": [\(paths)]}")
    }

    public func restore(_ state: HookState) throws {
        guard let r = state.tensors.first(where: { $0.name == "ranges" })?.tensor,
              let o = state.tensors.first(where: { $0.name == "observed" })?.tensor,
              r.count == 2 * layers.count, o.count == layers.count else {
            throw RuntimeError("hooks.safetensors: quantization state does not match the model's \(layers.count) quantized layers\n  hint: resume with the config the checkpoint was written with")
        }
        for (i, (_, f)) in layers.enumerated() {
            f.low = r.pointer[2 * i]; f.high = r.pointer[2 * i + 1]; f.hasRange = o.pointer[i] != 0
            f.resetStep()
        }
        if let data = state.json.data(using: .utf8), let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let s = obj["step"] as? Int {
            step = s
        }
        apply()
    }

    /// The learned ranges saved in a checkpoint's `hooks.safetensors` state, by layer path.
    public static func ranges(tensors: [String: [Float]], metadata: String) -> [String: (Double, Double)] {
        guard let data = metadata.data(using: .utf8), let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let paths = obj["paths"] as? [String], let r = tensors["ranges"], let o = tensors["observed"],
              r.count == 2 * paths.count, o.count == paths.count else { return [:] }
        var out: [String: (Double, Double)] = [:]
        for (i, p) in paths.enumerated() where o[i] != 0 { out[p] = (Double(r[2 * i]), Double(r[2 * i + 1])) }
        return out
    }
}

extension Trainer {
    /// Turns fake quantization and the observers off (the model computes in fp32): for passes
    /// that read a quantization-aware checkpoint as a plain model (`swtrain eval`, `swtrain quantize`).
    public func disableFakeQuantization() {
        for case let h as QuantizationAwareTraining in postUpdateHooks {
            for (_, f) in h.layers { f.enabled = false; f.observing = false }
        }
    }
}
