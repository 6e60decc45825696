import SwNN
import SwTensor

/// Per-layer forward and backward times of one traced step (`monitor.trace.layers`), taken by
/// `LocalBatches` while it runs the model and turned into trace events by `RunMonitor`.
///
/// The model runs as it always does: forward is `Model.forward`'s own loop over the top-level
/// layers with a timestamp between layers, backward is `Model.backward(_:afterLayer:)` with a
/// timestamp in the callback (before the gradient sync's work there, which is not the layer's).
/// With layers traced, the step's data, forward and backward phases are recorded at their
/// real times too (one of each per micro-batch), so the layer events nest inside them.
/// Composite layers (residual, transformer blocks) are one event each. Records four numbers per
/// event into a buffer kept across steps: no allocation once it has grown.
final class LayerTrace {
    /// What a record is.
    enum Kind: Int { case data, forward, backward, layerForward, layerBackward }

    /// (kind, layer index or -1, start, end) per record, on `monotonicSeconds()`.
    private(set) var records: [Double] = []

    init() { records.reserveCapacity(1024) }

    func reset() { records.removeAll(keepingCapacity: true) }

    func add(_ kind: Kind, layer: Int = -1, start: Double, end: Double) {
        records.append(Double(kind.rawValue)); records.append(Double(layer)); records.append(start); records.append(end)
    }

    var count: Int { records.count / 4 }

    /// The model's forward in training mode, timing each top-level layer.
    func forward(_ model: Model, _ x: Tensor) -> Tensor {
        var h = x
        var t0 = monotonicSeconds()
        for (i, l) in model.network.layers.enumerated() {
            h = l.forward(h, training: true)
            let t1 = monotonicSeconds()
            add(.layerForward, layer: i, start: t0, end: t1)
            t0 = t1
        }
        return h
    }

    /// The model's backward from `g`, timing each top-level layer; `progress` (the sync's
    /// `backwardProgress`, when it observes backward) runs after each layer, outside its event.
    func backward(_ model: Model, _ g: Tensor, progress: (Int) -> Void) {
        var i = model.network.layers.count
        var t0 = monotonicSeconds()
        model.backward(g) { offset in
            i -= 1
            add(.layerBackward, layer: i, start: t0, end: monotonicSeconds())
            progress(offset)
            t0 = monotonicSeconds()
        }
    }

    /// `"path type"` of each top-level layer: what its events are called.
    static func names(_ model: Model) -> [String] {
        model.network.layers.enumerated().map { "\($0.offset) \($0.element.typeName)" }
    }
}
