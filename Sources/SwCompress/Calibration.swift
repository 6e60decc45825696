import SwComm
import SwData
import SwNN
import SwTensor

/// Runs calibration samples through a model and shows each watched layer its inputs.
///
/// The watched layers (by path, `"2"`, `"1.layers.0"`) are wrapped in a pass-through `Probe`
/// in a copy of the network's tree (`Layer.rewritingChildren`; the copy shares the model's
/// layers and parameters), so inputs of nested layers are seen too. Under mpirun each rank
/// takes its shard of the first `samples` training samples (sample `i` on rank `i % size`);
/// callers all-reduce what they accumulate, so the result does not depend on the rank count.
public enum Calibration {
    /// Calls `observe(path, rows)` with every watched layer's input as `rows` `[n, in]` (a view
    /// valid during the call) for batches of this rank's shard of samples `0..<samples`.
    public static func run(model: Model, paths: Set<String>, data: any Dataset, samples: Int,
                           comm: any Communicator, batch: Int = 256,
                           observe: @escaping (_ path: String, _ rows: Tensor) -> Void) throws {
        guard !paths.isEmpty else { return }
        let net = try model.network.rewritingChildren(path: "") { path, layer in
            paths.contains(path) ? Probe(layer, path: path, observe: observe) : nil
        }
        let n = min(samples, data.count)
        let mine = Array(stride(from: comm.rank, to: n, by: comm.size))
        var start = 0
        while start < mine.count {
            let m = min(batch, mine.count - start)
            let (x, _) = data.batch(Array(mine[start..<start + m]))
            _ = net.forward(x, training: false)
            start += m
        }
    }

    /// Per-feature mean absolute input of each watched layer over the calibration samples of
    /// every rank (all-reduced in Double): `mean_j = Σ_rows |x_j| / rows`.
    public static func meanAbsoluteInputs(model: Model, paths: [String], data: any Dataset, samples: Int,
                                          comm: any Communicator) throws -> [String: [Double]] {
        var sums: [String: [Double]] = [:], rows: [String: Double] = [:]
        try run(model: model, paths: Set(paths), data: data, samples: samples, comm: comm) { path, x in
            let f = x.shape.last!, n = x.count / f
            var s = sums[path] ?? [Double](repeating: 0, count: f)
            let p = x.pointer
            for r in 0..<n { for j in 0..<f { s[j] += Double(abs(p[r * f + j])) } }
            sums[path] = s
            rows[path, default: 0] += Double(n)
        }
        // One all-reduce over every layer's sums, in `paths` order (every rank has the layout).
        var flat: [Double] = []
        let widths = paths.map { model.network.layer(at: $0)!.inputShape.last! }
        for (p, w) in zip(paths, widths) { flat += sums[p] ?? [Double](repeating: 0, count: w); flat.append(rows[p] ?? 0) }
        try comm.allReduce(&flat, op: .sum)
        var out: [String: [Double]] = [:], at = 0
        for (p, w) in zip(paths, widths) {
            let total = max(flat[at + w], 1)
            out[p] = flat[at..<at + w].map { $0 / total }
            at += w + 1
        }
        return out
    }
}

/// A pass-through wrapper that shows `observe` the input of `inner` (flattened to rows of
/// its last dimension) before running it.
final class Probe: Layer {
    let inner: any Layer
    let path: String
    let observe: (String, Tensor) -> Void
    init(_ inner: any Layer, path: String, observe: @escaping (String, Tensor) -> Void) {
        self.inner = inner; self.path = path; self.observe = observe
    }
    var typeName: String { inner.typeName }
    var inputShape: [Int] { inner.inputShape }
    var outputShape: [Int] { inner.outputShape }
    var needsInputGradient: Bool {
        get { inner.needsInputGradient }
        set { inner.needsInputGradient = newValue }
    }
    func replica() -> any Layer { Probe(inner.replica(), path: path, observe: observe) }
    func forward(_ x: Tensor, training: Bool) -> Tensor {
        let f = inner.inputShape.last!
        observe(path, Tensor(viewing: x.pointer, shape: [x.count / f, f], owner: x))
        return inner.forward(x, training: training)
    }
    func backward(_ dy: Tensor) -> Tensor { inner.backward(dy) }
}
