import CBLAS
import CGemm
import SwTensor

/// `swtrain bench peak`: the fp32 FMA peak of one core, measured (`swt_fma_peak`: 16
/// independent FMA chains, AVX-512 or AVX2), and the dense-layer GEMMs at width `width`,
/// batch `batch` on one thread as a fraction of it: forward `X Wᵀ`, input gradient `dY W`
/// and weight gradient `dYᵀ X` through `BLAS.gemm` (with the kernel path each takes), each
/// against OpenBLAS `cblas_sgemm` at the same shape. Every repeat runs a short FMA loop, ours
/// and the peer in turn, so all three see the same machine load; the figures are medians, and
/// each GEMM's fraction of the peak is the median over the repeats of its rate / the loop's.
public enum PeakBench {
    /// The FMA peak in GFLOP/s and the median loop time in ms: `repeats` timed loops of
    /// `iterations` rounds.
    public static func fmaPeak(wide: Bool = true, iterations: Int = 100_000, repeats: Int = 31) -> (gflops: Double, ms: Double) {
        _ = swt_fma_peak(iterations / 10, wide ? 1 : 0)
        var rates: [Double] = [], times: [Double] = []
        for _ in 0..<repeats {
            let t = monotonicSeconds()
            let flops = swt_fma_peak(iterations, wide ? 1 : 0)
            let s = monotonicSeconds() - t
            rates.append(flops / s / 1e9)
            times.append(s * 1e3)
        }
        return (median(rates), median(times))
    }

    public static func run(width w: Int = 1024, batch b: Int = 128, repeats: Int = 30) -> [BenchRow] {
        let saved = ThreadPool.threads
        ThreadPool.setThreads(1)
        BLAS.setThreads(1)
        defer { ThreadPool.setThreads(saved) }
        let wide = CPU.features.contains(.avx512f)
        let (peak, loopMs) = fmaPeak(wide: wide)
        var rows = [BenchRow(bench: "peak", caseName: wide ? "fma-avx512" : "fma-avx2", medianMs: loopMs, peer: "fma loop",
                             peerMedianMs: loopMs, extra: [("gflops", peak)])]
        var rng = RNG(seed: 6)
        let x = Tensor(zeros: [b, w]), weight = Tensor(zeros: [w, w]), dy = Tensor(zeros: [b, w])
        let y = Tensor(zeros: [b, w]), dx = Tensor(zeros: [b, w]), dW = Tensor(zeros: [w, w])
        for t in [x, weight, dy] { rng.fillUniform(t, -1, 1) }
        let bi = Int32(b), wi = Int32(w)
        typealias Case = (name: String, path: String, ours: () -> Void, peer: () -> Void)
        let cases: [Case] = [
            ("fwd", BLAS.gemmPath(transA: false, transB: true, m: b, n: w, k: w),
             { BLAS.gemm(transA: false, transB: true, m: b, n: w, k: w, a: x.pointer, b: weight.pointer, beta: 0, c: y.pointer) },
             { cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, bi, wi, wi, 1, x.pointer, wi, weight.pointer, wi, 0, y.pointer, wi) }),
            ("dgrad", BLAS.gemmPath(transA: false, transB: false, m: b, n: w, k: w),
             { BLAS.gemm(transA: false, transB: false, m: b, n: w, k: w, a: dy.pointer, b: weight.pointer, beta: 0, c: dx.pointer) },
             { cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, bi, wi, wi, 1, dy.pointer, wi, weight.pointer, wi, 0, dx.pointer, wi) }),
            ("wgrad", BLAS.gemmPath(transA: true, transB: false, m: w, n: w, k: b),
             { BLAS.gemm(transA: true, transB: false, m: w, n: w, k: b, a: dy.pointer, b: x.pointer, beta: 1, c: dW.pointer) },
             { cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, wi, wi, bi, 1, dy.pointer, wi, x.pointer, wi, 1, dW.pointer, wi) }),
        ]
        let flops = 2 * Double(b) * Double(w) * Double(w)
        for c in cases {
            for _ in 0..<3 { c.ours(); c.peer() }
            var to: [Double] = [], tp: [Double] = [], fo: [Double] = [], fp: [Double] = [], pk: [Double] = []
            for _ in 0..<repeats {
                let p = fmaPeak(wide: wide, iterations: 100_000, repeats: 1).gflops
                var t = monotonicSeconds(); c.ours(); to.append(monotonicSeconds() - t)
                t = monotonicSeconds(); c.peer(); tp.append(monotonicSeconds() - t)
                pk.append(p)
                fo.append(flops / to.last! / 1e9 / p)
                fp.append(flops / tp.last! / 1e9 / p)
            }
            let go = flops / median(to) / 1e9, gp = flops / median(tp) / 1e9
            var row = BenchRow(bench: "peak", caseName: "\(c.name)-\(w)-b\(b)", medianMs: median(to) * 1e3, peer: "cblas_sgemm",
                               peerMedianMs: median(tp) * 1e3,
                               extra: [("gflops", go), ("peer_gflops", gp), ("fma_gflops", median(pk)),
                                       ("peak_fraction", median(fo)), ("peer_peak_fraction", median(fp))])
            row.path = c.path
            rows.append(row)
        }
        return rows
    }
}
