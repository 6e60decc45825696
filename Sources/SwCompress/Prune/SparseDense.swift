import CKernels
import SwNN
import SwTensor

/// A dense weight `[out, in]` in compressed sparse row form: row `o`'s non-zeros are
/// `values[rowStart[o]..<rowStart[o + 1]]` at columns `columns[...]`, in ascending column order.
public struct CSRMatrix: Sendable {
    public let rows: Int, columns: Int
    public let rowStart: [Int32]
    public let columnIndex: [Int32]
    public let values: [Float]

    /// The non-zero entries of `weight` (`[rows, columns]`, row-major); exact zeros (±0) are dropped.
    public init(weight: UnsafePointer<Float>, rows: Int, columns: Int) {
        precondition(rows * columns <= Int(Int32.max), "CSRMatrix: \(rows) x \(columns) exceeds 32-bit indices")
        var start: [Int32] = [0], cols: [Int32] = [], vals: [Float] = []
        start.reserveCapacity(rows + 1)
        for o in 0..<rows {
            for j in 0..<columns where weight[o * columns + j] != 0 {
                cols.append(Int32(j))
                vals.append(weight[o * columns + j])
            }
            start.append(Int32(cols.count))
        }
        self.rows = rows
        self.columns = columns
        rowStart = start
        columnIndex = cols
        values = vals
    }

    public var nonZeros: Int { values.count }
    /// Fraction of entries that are zero.
    public var sparsity: Double { 1 - Double(nonZeros) / Double(max(1, rows * columns)) }

    /// `y[b, :] = W x[b, :] + bias` for `batch` rows (see ckernels_sparse.h: the AVX-512 and
    /// portable paths give the same bits). `scratch` grows as needed.
    public func forward(batch: Int, x: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                        scratch: inout [Float]) {
        let need = swt_csr_scratch_floats(Int32(batch), Int32(columns), Int32(rows))
        if scratch.count < need { scratch = [Float](repeating: 0, count: need) }
        rowStart.withUnsafeBufferPointer { r in
            columnIndex.withUnsafeBufferPointer { c in
                values.withUnsafeBufferPointer { v in
                    scratch.withUnsafeMutableBufferPointer { s in
                        swt_csr_forward(Int32(batch), Int32(rows), Int32(columns), r.baseAddress, c.baseAddress, v.baseAddress,
                                        bias, x, y, s.baseAddress)
                    }
                }
            }
        }
    }
}

/// A dense layer whose inference forward runs on the CSR form of its weight (for weights
/// pruned to high unstructured sparsity); training and the backward are the wrapped `Dense`'s.
///
/// It declares the same parameters as the dense layer (`weight` `[out, in]`, `bias`), so a
/// `Model.rewrite` swapping it in carries the values and the names stay PyTorch's. The CSR
/// form is built from the bound weight at the first forward with `training: false` and kept
/// until the next `bind` or training forward (the weights are assumed frozen in between).
public final class SparseDense: Layer {
    public let typeName = "dense"
    /// The layer computing the same function densely (its parameters are this layer's).
    public let dense: Dense
    private var csr: CSRMatrix?
    private var out: Tensor?
    private var scratch: [Float] = []

    public init(_ dense: Dense) { self.dense = dense }

    public var inputShape: [Int] { dense.inputShape }
    public var outputShape: [Int] { dense.outputShape }
    public var needsInputGradient: Bool {
        get { dense.needsInputGradient }
        set { dense.needsInputGradient = newValue }
    }
    public var parameterShapes: [(name: String, shape: [Int])] { dense.parameterShapes }
    public var parameterTensors: [Tensor] { dense.parameterTensors }
    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        dense.bind(parameters: parameters, gradients: gradients)
        csr = nil
    }
    public func resetParameters(rng: inout RNG) {
        dense.resetParameters(rng: &rng)
        csr = nil
    }
    public func replica() -> any Layer { SparseDense(dense.replica() as! Dense) }

    /// The CSR form of the current weight (built now if needed).
    public var matrix: CSRMatrix {
        if let csr { return csr }
        let w = dense.parameterTensors[0]
        let m = CSRMatrix(weight: w.pointer, rows: dense.outFeatures, columns: dense.inFeatures)
        csr = m
        return m
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        if training {
            csr = nil
            return dense.forward(x, training: true)
        }
        let m = matrix
        let rows = x.count / dense.inFeatures
        let y = Tensor.reuse(out, shape: Array(x.shape.dropLast()) + [dense.outFeatures])
        out = y
        let bias = dense.useBias ? UnsafePointer(dense.parameterTensors[1].pointer) : nil
        m.forward(batch: rows, x: x.pointer, bias: bias, y: y.pointer, scratch: &scratch)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor { dense.backward(dy) }
}
