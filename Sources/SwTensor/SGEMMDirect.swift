import CGemm

/// swtrain's own AVX-512 forward sgemm (`swt_sgemm_nt`, target `CGemm`) called directly, with
/// none of `BLAS.gemm`'s shape rules: for benchmarks that compare it with other kernels at
/// shapes where `BLAS.gemm` would pick OpenBLAS (e.g. `swtrain bench gemm --int8` at batch 256).
public enum SGEMMDirect {
    /// Whether the kernel may run on this thread (AVX-512 F + VL, portable path not forced).
    public static var available: Bool { swt_gemm_enabled() != 0 }

    /// C[m, n] = A[m, k] · B[n, k]ᵀ (row-major, leading dimensions lda, ldb, ldc); only when
    /// `available` (returns false and does nothing otherwise).
    @discardableResult
    public static func nt(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                          c: UnsafeMutablePointer<Float>, ldc: Int) -> Bool {
        guard available, max(m, n, k, lda, ldb, ldc) <= Int(Int32.max) else { return false }
        swt_sgemm_nt(Int32(m), Int32(n), Int32(k), a, Int32(lda), b, Int32(ldb), c, Int32(ldc), 0)
        return true
    }
}
