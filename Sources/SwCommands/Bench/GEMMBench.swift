import CBLAS
import SwNN
import SwTensor

/// `swtrain bench gemm`: a dense layer's forward + backward (three GEMMs plus bias work)
/// against the same three GEMMs through raw `cblas_sgemm` (always OpenBLAS), in the same run,
/// interleaved so both see the same machine noise; then the layer's forward (`X Wᵀ`) and input
/// gradient (`dY W`) products alone through `BLAS.gemm` (which picks swtrain's AVX-512 kernels
/// for these shapes, see `BLAS.gemm`) against `cblas_sgemm`; plus the peak of one large square
/// sgemm. `kernels=1` in a row means `BLAS.gemm` may use the own kernels in this process.
public enum GEMMBench {
    /// Runs every case; `widths` are the layer widths, `batches` the rows.
    public static func run(widths: [Int] = [256, 1024, 2048], batches: [Int] = [64, 128], threads: Int = 1,
                           repeats: Int = 0) -> [BenchRow] {
        BLAS.setThreads(threads)
        var rows: [BenchRow] = []
        for b in batches {
            for w in widths {
                let r = repeats > 0 ? repeats : max(10, 40 * 1024 * 1024 / (w * w) / 4)
                rows.append(layerCase(width: w, batch: b, repeats: r))
                rows.append(productCase(width: w, batch: b, dgrad: false, repeats: 3 * r))
                rows.append(productCase(width: w, batch: b, dgrad: true, repeats: 3 * r))
            }
        }
        rows.append(peakCase(n: 2048, repeats: repeats > 0 ? max(3, repeats / 4) : 8))
        return rows
    }

    static func layerCase(width w: Int, batch b: Int, repeats: Int) -> BenchRow {
        let layer = Dense(inputShape: [w], units: w)
        let store = ParameterStore(root: layer)
        var rng = RNG(seed: 1)
        layer.resetAllParameters(rng: &rng)
        layer.needsInputGradient = true
        let x = Tensor(zeros: [b, w]), dy = Tensor(zeros: [b, w])
        rng.fillUniform(x, -1, 1)
        rng.fillUniform(dy, -1, 1)
        // Peer buffers: the same shapes, raw sgemm.
        let weight = store.values.pointer, dW = Tensor(zeros: [w, w])
        let y = Tensor(zeros: [b, w]), dx = Tensor(zeros: [b, w])
        let bi = Int32(b), wi = Int32(w)
        func peer() {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, bi, wi, wi, 1, x.pointer, wi, weight, wi, 0, y.pointer, wi)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, wi, wi, bi, 1, dy.pointer, wi, x.pointer, wi, 1, dW.pointer, wi)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, bi, wi, wi, 1, dy.pointer, wi, weight, wi, 0, dx.pointer, wi)
        }
        func ours() {
            _ = layer.forward(x, training: true)
            _ = layer.backward(dy)
        }
        for _ in 0..<3 { ours(); peer() }
        var tOurs: [Double] = [], tPeer: [Double] = []
        for _ in 0..<repeats {
            var t = monotonicSeconds(); ours(); tOurs.append(monotonicSeconds() - t)
            t = monotonicSeconds(); peer(); tPeer.append(monotonicSeconds() - t)
        }
        let flops = 3 * 2 * Double(b) * Double(w) * Double(w)
        let mo = median(tOurs), mp = median(tPeer)
        return BenchRow(bench: "gemm", caseName: "dense-\(w)-b\(b)", medianMs: mo * 1e3, peer: "cblas_sgemm",
                        peerMedianMs: mp * 1e3, extra: [("gflops", flops / mo / 1e9), ("peer_gflops", flops / mp / 1e9),
                                                        ("kernels", BLAS.ownKernelsEnabled ? 1 : 0)])
    }

    /// One product of a `w`-wide layer at batch `b`: forward Y = X Wᵀ, or dgrad dX = dY W.
    static func productCase(width w: Int, batch b: Int, dgrad: Bool, repeats: Int) -> BenchRow {
        let a = Tensor(zeros: [b, w]), weight = Tensor(zeros: [w, w])
        let c = Tensor(zeros: [b, w]), cPeer = Tensor(zeros: [b, w])
        var rng = RNG(seed: 3)
        rng.fillUniform(a, -1, 1)
        rng.fillUniform(weight, -1, 1)
        let bi = Int32(b), wi = Int32(w)
        func ours() {
            BLAS.gemm(transA: false, transB: !dgrad, m: b, n: w, k: w, a: a.pointer, b: weight.pointer, beta: 0, c: c.pointer)
        }
        func peer() {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, dgrad ? CblasNoTrans : CblasTrans, bi, wi, wi,
                        1, a.pointer, wi, weight.pointer, wi, 0, cPeer.pointer, wi)
        }
        for _ in 0..<3 { ours(); peer() }
        var tOurs: [Double] = [], tPeer: [Double] = []
        for _ in 0..<repeats {
            var t = monotonicSeconds(); ours(); tOurs.append(monotonicSeconds() - t)
            t = monotonicSeconds(); peer(); tPeer.append(monotonicSeconds() - t)
        }
        let flops = 2 * Double(b) * Double(w) * Double(w)
        let mo = median(tOurs), mp = median(tPeer)
        return BenchRow(bench: "gemm", caseName: "\(dgrad ? "dgrad" : "fwd")-\(w)-b\(b)", medianMs: mo * 1e3, peer: "cblas_sgemm",
                        peerMedianMs: mp * 1e3, extra: [("gflops", flops / mo / 1e9), ("peer_gflops", flops / mp / 1e9)])
    }

    static func peakCase(n: Int, repeats: Int) -> BenchRow {
        let a = Tensor(zeros: [n, n]), b = Tensor(zeros: [n, n]), c = Tensor(zeros: [n, n])
        var rng = RNG(seed: 2)
        rng.fillUniform(a, -1, 1)
        rng.fillUniform(b, -1, 1)
        let ni = Int32(n)
        func run() {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, ni, ni, 1, a.pointer, ni, b.pointer, ni, 0, c.pointer, ni)
        }
        BLAS.ensureSetUp()
        run()
        var ts: [Double] = []
        for _ in 0..<repeats {
            let t = monotonicSeconds(); run(); ts.append(monotonicSeconds() - t)
        }
        let m = median(ts)
        let gf = 2 * Double(n) * Double(n) * Double(n) / m / 1e9
        return BenchRow(bench: "gemm", caseName: "sgemm-\(n)x\(n)x\(n)", medianMs: m * 1e3, peer: "cblas_sgemm",
                        peerMedianMs: m * 1e3, extra: [("gflops", gf), ("peer_gflops", gf), ("threads", Double(BLAS.threads))])
    }
}
