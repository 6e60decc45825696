import CBLAS
import SwNN
import SwTensor

/// The floating-point work of a model's GEMMs per step, for `bench step`'s GFLOP/s: 2 m n k per
/// product (a multiply-add is two operations), summed over the layers that run GEMMs.
///
/// - `dense` over `rows` = batch × leading dimensions: forward `X Wᵀ` (2 rows in out), backward
///   the weight gradient `dYᵀ X` and, when the layer needs its input gradient, `dY W`.
/// - `conv1d` / `conv2d` (im2col): rows = batch × output positions, k = in channels × kernel.
/// - `causal_attention`: `Q Kᵀ` and `P V` per head, counted as full `T × T` products (the
///   unfused path's sgemm work; the fused kernel skips the masked half), 4 B T² C forward;
///   backward twice that (`dV`, `dP`, `dQ`, `dK`). Its `qkv` and `proj` projections are dense
///   children, counted as dense.
/// Other layers (norms, activations, embeddings, int8 or low-rank layers) count nothing.
public struct StepFlops: Sendable, Equatable {
    public var forward: Double = 0
    public var backward: Double = 0
    /// The GEMM with the most forward work: (m, n, k) of its `X Wᵀ` product.
    public var mainShape: (m: Int, n: Int, k: Int) = (0, 0, 0)
    private var mainWork: Double = 0

    public static func == (a: StepFlops, b: StepFlops) -> Bool {
        a.forward == b.forward && a.backward == b.backward && a.mainShape == b.mainShape
    }

    /// No work.
    public init() {}

    /// The work of `model` at `batch` samples.
    public init(model: Model, batch: Int) {
        for (_, layer) in model.network.allLayers() { add(layer, batch: batch) }
    }

    private mutating func product(m: Int, n: Int, k: Int, input: Bool) {
        let f = 2 * Double(m) * Double(n) * Double(k)
        forward += f
        backward += input ? 2 * f : f
        if f > mainWork { mainWork = f; mainShape = (m, n, k) }
    }

    private mutating func add(_ layer: any Layer, batch: Int) {
        switch layer {
        case let d as Dense:
            let rows = batch * Tensor.elementCount(Array(d.inputShape.dropLast()))
            product(m: rows, n: d.outFeatures, k: d.inFeatures, input: d.needsInputGradient)
        case let c as Conv1D:
            product(m: batch * c.outputShape[1], n: c.outChannels, k: c.inChannels * c.kernel, input: c.needsInputGradient)
        case let c as Conv2D:
            product(m: batch * c.outputShape[1] * c.outputShape[2], n: c.outChannels,
                    k: c.inChannels * c.kernel.0 * c.kernel.1, input: c.needsInputGradient)
        case let a as CausalSelfAttention:
            let f = 4 * Double(batch) * Double(a.context * a.context) * Double(a.width)
            forward += f
            backward += 2 * f
        default:
            break
        }
    }
}

/// OpenBLAS `cblas_sgemm` at one shape, `C = A Bᵀ` (the dense forward's layout), timed in the
/// calling process: the peer figure `bench step` prints next to the model's GFLOP/s. Also
/// times `BLAS.gemm` at the same shape and names the path it takes there.
enum SGEMMProbe {
    struct Result {
        var peerGflops: Double
        var ownGflops: Double
        var path: String
    }

    /// Medians of `repeats` alternating calls of each.
    static func measure(m: Int, n: Int, k: Int, repeats: Int = 9) -> Result {
        let a = Tensor(zeros: [m, k]), b = Tensor(zeros: [n, k]), c = Tensor(zeros: [m, n])
        var rng = RNG(seed: 4)
        rng.fillUniform(a, -1, 1)
        rng.fillUniform(b, -1, 1)
        BLAS.ensureSetUp()
        func peer() {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, a.pointer, Int32(k),
                        b.pointer, Int32(k), 0, c.pointer, Int32(n))
        }
        func ours() { BLAS.gemm(transA: false, transB: true, m: m, n: n, k: k, a: a.pointer, b: b.pointer, beta: 0, c: c.pointer) }
        peer(); ours()
        var tp: [Double] = [], to: [Double] = []
        for _ in 0..<repeats {
            var t = monotonicSeconds(); peer(); tp.append(monotonicSeconds() - t)
            t = monotonicSeconds(); ours(); to.append(monotonicSeconds() - t)
        }
        let f = 2 * Double(m) * Double(n) * Double(k) / 1e9
        return Result(peerGflops: f / median(tp), ownGflops: f / median(to), path: BLAS.gemmPath(transA: false, transB: true, m: m, n: n, k: k))
    }
}
