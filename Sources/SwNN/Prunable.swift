import SwTensor

/// A layer that pruning can act on (Torch-Pruning style dependency groups: removing output
/// units of one layer removes the matching inputs of the next).
///
/// - Unstructured: a mask over `prunableWeight` (set pruned entries to zero, keep them zero
///   after each update).
/// - Structured: `keeping(outputUnits:)` builds the smaller layer that computes only the kept
///   output units (dense outputs, conv output channels: index `o` of `prunableWeight`'s first
///   axis and of the bias), and the layer after it is rebuilt with `keeping(inputFeatures:)`
///   for the same indices, so the shapes chain again; `Model.rewrite` swaps both in.
///
/// Both builders copy the kept values and return a layer bound to its own buffer (so a
/// rewrite carries them into the model as fresh tensors). The source layer must be bound.
public protocol Prunable: Layer {
    /// The weight a mask applies to: a view of the layer's parameters, output unit first
    /// (`[out, in]`, `[out, in, k]`, `[out, in, kh, kw]`). Writing to it changes the layer.
    var prunableWeight: Tensor { get }
    /// Output units a structured pruning can remove (dense out features, conv out channels).
    var outputUnits: Int { get }
    /// Input features the layer reads along its pruned axis (dense in features, conv input
    /// channels): the units of the previous layer they correspond to.
    var inputFeatures: Int { get }
    /// The layer computing only output units `kept` (distinct, in `0..<outputUnits`, in the
    /// order given): its output unit `i` equals this layer's output unit `kept[i]`.
    func keeping(outputUnits kept: [Int]) -> Self
    /// The layer reading only input features `kept` (distinct, in `0..<inputFeatures`): fed
    /// with those features of this layer's input it gives the same output whenever the
    /// removed features are zero (or were removed upstream).
    func keeping(inputFeatures kept: [Int]) -> Self
}

extension Prunable {
    /// The L1 (`order` 1) or L2 (`order` 2) norm of each output unit's weights, the usual
    /// ranking of structured magnitude pruning.
    public func outputUnitNorms(order: Int = 2) -> [Float] {
        precondition(order == 1 || order == 2, "outputUnitNorms: order must be 1 or 2, got \(order)")
        let w = prunableWeight
        let per = w.count / outputUnits
        return (0..<outputUnits).map { o in
            var s = 0.0
            for i in 0..<per {
                let v = Double(w.pointer[o * per + i])
                s += order == 1 ? abs(v) : v * v
            }
            return Float(order == 1 ? s : s.squareRoot())
        }
    }
}

/// Checks a list of kept indices (a programmer error when it is empty, repeats an index or
/// leaves `0..<count`).
func checkKept(_ kept: [Int], of count: Int, _ what: String, _ layer: String) {
    precondition(!kept.isEmpty, "\(layer).keeping(\(what):): keep at least one")
    precondition(kept.allSatisfy { $0 >= 0 && $0 < count }, "\(layer).keeping(\(what):): indices \(kept) outside 0..<\(count)")
    precondition(Set(kept).count == kept.count, "\(layer).keeping(\(what):): indices \(kept) repeat")
}

/// The first parameter of `layer` (its weight), which must be bound.
func boundWeight(of layer: any Layer) -> Tensor {
    let p = layer.parameterTensors
    precondition(!p.isEmpty, "\(layer.typeName): the layer is not bound to parameters yet")
    return p[0]
}

/// The body of `keeping(outputUnits:)` (`rows`) and `keeping(inputFeatures:)` (`columns`) for a
/// layer whose parameters are a weight `[out, in, inner]` and, with `bias`, a bias `[out]`:
/// binds `cut` (the smaller layer, unbound) to parameters of its own, copies into them the kept
/// part of `source`'s weight and bias, and records in `cut.parameterOrigin` where they came from.
func cutWeightAndBias<L: Layer>(_ cut: L, from source: any Layer, out: Int, in inputs: Int, inner: Int, bias: Bool,
                                rows: [Int]? = nil, columns: [Int]? = nil) -> L {
    _ = ParameterStore(root: cut)
    let (src, dst) = (source.parameterTensors, cut.parameterTensors)
    copyWeight(boundWeight(of: source), out: out, in: inputs, inner: inner, rows: rows, columns: columns, into: dst[0])
    if bias {
        if let rows { copySelected(src[1], rows, into: dst[1]) } else { copyAll(src[1], into: dst[1]) }
    }
    cut.parameterOrigin = ParameterOrigin(cutFrom: source, [.init(sourceParameter: 0, sourceIndex: weightIndex(out: out, in: inputs, inner: inner, rows: rows, columns: columns))]
                                          + (bias ? [.init(sourceParameter: 1, sourceIndex: rows ?? Array(0..<out))] : []))
    return cut
}

/// For a weight laid out `[out, in, inner]`: copies `src`'s output rows `rows` (all of their
/// inputs) or, with `inputs`, every output row restricted to inputs `inputs`, into `dst`.
func copyWeight(_ src: Tensor, out: Int, in inputs: Int, inner: Int, rows: [Int]? = nil, columns: [Int]? = nil, into dst: Tensor) {
    let rowList = rows ?? Array(0..<out)
    let colList = columns ?? Array(0..<inputs)
    var d = dst.pointer
    for o in rowList {
        for c in colList {
            d.update(from: src.pointer + (o * inputs + c) * inner, count: inner)
            d += inner
        }
    }
    precondition(d == dst.pointer + dst.count, "copyWeight: \(rowList.count) x \(colList.count) x \(inner) does not fill \(dst.shape)")
}

/// Copies `src[kept[i]]` into `dst[i]` (a bias).
func copySelected(_ src: Tensor, _ kept: [Int], into dst: Tensor) {
    for (i, k) in kept.enumerated() { dst.pointer[i] = src.pointer[k] }
}

/// Copies all of `src` into `dst` (same element count).
func copyAll(_ src: Tensor, into dst: Tensor) {
    precondition(src.count == dst.count, "copyAll: \(src.shape) into \(dst.shape)")
    dst.pointer.update(from: src.pointer, count: src.count)
}
