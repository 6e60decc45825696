import CGemm

/// When `BLAS.gemm` uses swtrain's own AVX-512 kernels (target `CGemm`) instead of OpenBLAS.
///
/// The kernels cover the two dense-layer products whose big operand, the weight, they read in
/// place once per call: `C = A Bᵀ` (forward) and `C = A B` (input gradient), with alpha 1 and
/// beta 0 or 1. OpenBLAS packs the weight on every call, which dominates at small batch.
/// Measured single-thread on Emerald Rapids (SwiftPM release build), the kernels win for
///  - `A Bᵀ`: m <= 128 rows and a weight of at least 16 K elements (1.1-1.9x at 1024 features,
///    3x at batch 1-4); from m = 256 OpenBLAS is level or ahead;
///  - `A B`: m <= 256 rows, k >= 16 and n >= 16, weight of at least 16 K elements; with k
///    tiny (a 10-class output layer's input gradient, k = 10) OpenBLAS is ahead.
/// Everything else, including every `Aᵀ B` through `gemm` (a layer's own weight gradient),
/// stays with OpenBLAS; `BLAS.gemmTN` (the node weight-gradient blocks) packs for its own kernel.
/// `SWTRAIN_KERNELS=portable` in the environment (read once) turns the kernels off.
enum GEMMKernels {
    /// Whether the kernels may run on this thread: the CPU has AVX-512 F and VL (`CPU`), and
    /// the portable path is not forced. Two cached loads (`swt_gemm_enabled`).
    @inline(__always)
    static var enabled: Bool { swt_gemm_enabled() != 0 }

    /// Runs C = op(A) B + beta C through the kernels if the call is one they win; returns
    /// false (nothing done) otherwise.
    @inline(__always)
    static func run(transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) -> Bool {
        guard alpha == 1, beta == 0 || beta == 1, enabled,
              max(m, n, k, lda, ldb, ldc) <= Int(Int32.max), n * k >= 16 * 1024 else { return false }
        if transB {
            guard m <= 128 else { return false }
            swt_sgemm_nt(Int32(m), Int32(n), Int32(k), a, Int32(lda), b, Int32(ldb), c, Int32(ldc), beta)
        } else {
            guard m <= 256, n >= 16, k >= 16 else { return false }
            swt_sgemm_nn(Int32(m), Int32(n), Int32(k), a, Int32(lda), b, Int32(ldb), c, Int32(ldc), beta)
        }
        return true
    }
}
