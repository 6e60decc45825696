import CBLAS
import CGemm
import Foundation

/// Matrix multiply through OpenBLAS (or swtrain's own kernels), and the process-wide BLAS set-up.
///
/// On first use the BLAS picks its fastest kernels: Debian's OpenBLAS 0.3.21 does not know
/// AMD Zen 5 and falls back to old SSE3 or AVX2 kernels, about half the speed of its AVX-512
/// ("SkylakeX") kernels on that CPU. When the CPU has AVX-512 (F, BW, VL, DQ, CD, from `CPU`) and
/// the user has not chosen a core with `OPENBLAS_CORETYPE`, swtrain switches the kernel table in
/// process. This is OpenBLAS's own code, so `SWTRAIN_KERNELS=portable` does not change it.
///
/// Threads: one BLAS thread per process until `ThreadPool.configure` / `ThreadPool.setThreads`
/// (the trainer sets the process's compute threads, see docs/kernels.md), unless
/// `OPENBLAS_NUM_THREADS` says otherwise. `setThreads` changes OpenBLAS's count alone.
public enum BLAS {
    /// The OpenBLAS core in use after set-up (for example "SkylakeX").
    public static var coreName: String {
        _ = setUp
        return String(cString: gotoblas_corename())
    }

    /// Runs the one-time set-up (kernel choice). Cheap after the first call.
    @inline(__always)
    public static func ensureSetUp() { _ = setUp }

    private static let setUp: Bool = {
        let env = Foundation.ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
        let current = String(cString: gotoblas_corename())
        let avx512Cores: Set<String> = ["SkylakeX", "Cooperlake", "SapphireRapids"]
        if env == nil, !avx512Cores.contains(current), CPU.has(.avx512Core) {
            _ = swt_openblas_force_core("SkylakeX")
        }
        if Foundation.ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil {
            openblas_set_num_threads(1)
        }
        return true
    }()

    /// Sets the number of threads OpenBLAS uses in this process.
    public static func setThreads(_ n: Int) {
        ensureSetUp()
        openblas_set_num_threads(Int32(max(1, n)))
    }

    /// Whether `gemm` may route dense-layer shapes to swtrain's AVX-512 kernels on this thread
    /// (CPU support, and the portable path is not forced: `SWTRAIN_KERNELS=portable` or
    /// `CPU.withKernelPath(.portable)`).
    public static var ownKernelsEnabled: Bool { GEMMKernels.enabled }

    /// The number of threads OpenBLAS uses in this process.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// C = alpha * op(A) * op(B) + beta * C, row-major. op(A) is m x k, op(B) is k x n, C is m x n.
    /// `lda`, `ldb`, `ldc` default to the row length of each matrix as stored. With beta 0, C is
    /// write-only (NaNs in it are ignored).
    ///
    /// Dense-layer shapes with `transA == false`, alpha 1 and beta 0 or 1 (forward `A Bᵀ` and
    /// input gradient `A B`, weight n·k >= 16 K (`A B`: 8 K), or 8 K over 4096 rows or more, in row blocks
    /// of 128 / 256, see `GEMMKernels`)
    /// run on swtrain's AVX-512 kernels over the `ThreadPool`, which read the weight in place
    /// instead of packing it (1.1-1.9x at batch 32-128, 1024 features). So does a weight
    /// gradient `Aᵀ B` over at least 64 rows (`GEMMKernels.runTN`). Everything else calls
    /// `cblas_sgemm`.
    /// Set `SWTRAIN_KERNELS=portable` (read once per process) to send every call to OpenBLAS.
    ///
    /// `precision: .bf16` (the layers' mixed precision, `training.precision`) sends the call to
    /// `BF16GEMM` instead: the operands rounded to bf16, fp32 accumulation, on the best bf16
    /// path of this thread (`BF16GEMM.path`).
    @inline(__always)
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
        b: UnsafePointer<Float>, ldb: Int? = nil,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
        precision: GEMMPrecision = .fp32
    ) {
        ensureSetUp()
        if m == 0 || n == 0 { return }
        let la = lda ?? (transA ? m : k)
        let lb = ldb ?? (transB ? k : n)
        let lc = ldc ?? n
        if precision == .bf16 {
            BF16GEMM.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: la,
                          b: b, ldb: lb, beta: beta, c: c, ldc: lc)
            return
        }
        if !transA, GEMMKernels.run(transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: la,
                                    b: b, ldb: lb, beta: beta, c: c, ldc: lc) {
            return
        }
        if transA, !transB, GEMMKernels.runTN(m: m, n: n, k: k, alpha: alpha, a: a, lda: la, b: b, ldb: lb,
                                              beta: beta, c: c, ldc: lc) {
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(la), b, Int32(lb), beta, c, Int32(lc))
    }

    /// A dense layer's forward with its bias in one pass: C = A Bᵀ + bias, the `n` floats of
    /// `bias` added to every row (A `(m, k)`, B `(n, k)`, C `(m, n)`, row-major, contiguous).
    /// Each sum starts from the bias in the kernel's registers, so the bits are those of C
    /// filled with the bias rows followed by `gemm` with beta 1, without that write and read of
    /// C. Only on the path `gemm` takes for this product in fp32 when it is
    /// `swt_sgemm_blocked`; returns false (nothing done) otherwise, and the caller fills C and
    /// runs `gemm`.
    public static func gemmAddingBias(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                                      bias: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) -> Bool {
        ensureSetUp()
        if m == 0 || n == 0 { return true }
        return GEMMKernels.run(transB: true, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: k,
                               beta: 1, c: c, ldc: n, bias: bias)
    }

    /// A dense layer's weight and bias gradients from one read of the output gradient:
    /// C += Aᵀ B (A `(k, m)` = dY, B `(k, n)` = X, row-major and contiguous) and
    /// `columnSums[i] += Σ_r A[r, i]`, the rows added one by one in order (the bits of that plain
    /// loop), summed while the weight-gradient kernel packs A. Only on the path `gemm` takes for
    /// this product in fp32 when it is `swt_sgemm_tn_blocked`; returns false (nothing done)
    /// otherwise, and the caller runs `gemm` and its own sums.
    public static func gemmTNAccumulatingColumnSums(m: Int, n: Int, k: Int, a: UnsafePointer<Float>,
                                                     b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                                                     columnSums: UnsafeMutablePointer<Float>) -> Bool {
        ensureSetUp()
        if m == 0 { return true }   // no columns to sum; n == 0 is not the kernel's (false)
        return GEMMKernels.runTN(m: m, n: n, k: k, alpha: 1, a: a, lda: m, b: b, ldb: n, beta: 1, c: c, ldc: n,
                                 columnSums: columnSums)
    }

    /// The kernel `gemm` runs for a product of these sizes with alpha 1 and beta 0 or 1:
    /// `"swt_sgemm_blocked nt|nn (avx512)"`, `"swt_sgemm_tn_blocked (avx512)"` or `"cblas_sgemm"`.
    public static func gemmPath(transA: Bool, transB: Bool, m: Int, n: Int, k: Int) -> String {
        if !transA, GEMMKernels.covers(transB: transB, m: m, n: n, k: k) { return "swt_sgemm_blocked \(transB ? "nt" : "nn") (avx512)" }
        if transA, !transB, GEMMKernels.coversTN(m: m, n: n, k: k) { return "swt_sgemm_tn_blocked (avx512)" }
        return "cblas_sgemm"
    }

    /// Floats of the packed copy of a `(k, n)` matrix for `gemmTN`, or nil when swtrain's
    /// kernels are off (then `gemmTN` takes the matrix unpacked, through OpenBLAS).
    public static func packedCountForGemmTN(k: Int, n: Int) -> Int? {
        GEMMKernels.enabled ? Int(swt_sgemm_tn_pack_size(Int32(k), Int32(n))) : nil
    }

    /// Packs B `(k, n)` (row-major, `ldb`) into `packed` (`packedCountForGemmTN` floats) for
    /// any number of `gemmTN` calls against it.
    public static func packForGemmTN(k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int,
                                     into packed: UnsafeMutablePointer<Float>) {
        precondition(GEMMKernels.enabled && max(k, n, ldb) <= Int(Int32.max))
        swt_sgemm_tn_pack(Int32(k), Int32(n), b, Int32(ldb), packed)
    }

    /// C = Aᵀ B (beta 0) for A `(k, m)` row-major with `lda`, B `(k, n)`: with swtrain's
    /// kernels `b` is B packed by `packForGemmTN` and the kernel (`swt_sgemm_tn`) prefetches
    /// into L2 the first `prefetchCount` floats of each of the `prefetchPointers` arrays at
    /// `prefetch` while it computes; without them `b` is B itself (row-major, `ldb`) and
    /// OpenBLAS runs it, with no prefetch. For a weight-gradient block whose parameters are
    /// updated right after (`NodeWeightGradients` passes the next block's parameters and state).
    public static func gemmTN(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                              b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                              prefetch: UnsafePointer<UnsafePointer<Float>?>? = nil, prefetchPointers: Int = 0,
                              prefetchCount: Int = 0) {
        ensureSetUp()
        if m == 0 || n == 0 { return }
        guard GEMMKernels.enabled else {
            gemm(transA: true, transB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c, ldc: ldc)
            return
        }
        precondition(max(m, n, k, lda, ldc) <= Int(Int32.max))
        swt_sgemm_tn(Int32(m), Int32(n), Int32(k), a, Int32(lda), b, c, Int32(ldc), 0,
                     prefetch, Int32(prefetchPointers), prefetchCount)
    }
}
