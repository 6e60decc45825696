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
///    tiny (a 10-class output layer's input gradient, k = 10) OpenBLAS is ahead. From 8 K
///    elements too (measured on an AMD Zen 4 against OpenBLAS's Haswell kernels): a 100 x 100 weight's input gradient at
///    batch 100-128 runs 1.05-1.2x faster than OpenBLAS (`swtrain bench gemm --widths 100`).
/// Taller products (a transformer's B·T = 8192 rows) run as blocks of 128 / 256 rows
/// (`swt_sgemm_blocked`; short-K `A Bᵀ` transposes B once for all blocks). On AMD Zen 5,
/// where Debian's OpenBLAS 0.3.21 runs its Haswell (AVX2) SGEMM, the blocks reach 160-220
/// GFLOP/s against OpenBLAS's 90-105 (`swtrain bench gemm`, one thread).
/// Everything else, including every `Aᵀ B` through `gemm` (a layer's own weight gradient),
/// stays with OpenBLAS; `BLAS.gemmTN` (the node weight-gradient blocks) packs for its own kernel.
/// `SWTRAIN_KERNELS=portable` in the environment (read once) turns the kernels off.
///
/// Threads: with more than one pool thread (`ThreadPool`) and at least `minParallelWork`
/// multiply-adds, C is split into blocks of `rowBlock` rows by `columnBlock` columns, one pool
/// task each. The blocks line up with the kernels' own tiles (4 or 8 rows; 6 or 48 columns)
/// and each element still sums over k in the same order, so the result is bit-identical to
/// the single-thread call at any thread count (SwTensorTests checks it).
enum GEMMKernels {
    /// Columns of C per task: a multiple of the NT tile (6 rows of B) and the NN strip (48).
    static let columnBlock = 192
    /// Rows of C per task of a product of at most 128 / 256 rows: a multiple of the NT (4) and
    /// NN (8) row tiles.
    static let rowBlock = 64
    /// Below this many multiply-adds one thread does the whole product. 2^21 keeps a 128 x 100
    /// x 100 product (the MNIST-1D MLP at batch 128, 1.3 M multiply-adds) on one thread: split
    /// in two pool tasks it was slower (docs/performance.md).
    static let minParallelWork = 1 << 21

    /// Whether the kernels may run on this thread: the CPU has AVX-512 F and VL (`CPU`), and
    /// the portable path is not forced. Two cached loads (`swt_gemm_enabled`).
    @inline(__always)
    static var enabled: Bool { swt_gemm_enabled() != 0 }

    /// Runs C = op(A) B + beta C through the kernels if the call is one they win; returns
    /// false (nothing done) otherwise.
    /// With `bias` (n floats) C = op(A) B + bias in every row instead (beta ignored), the
    /// bits of C filled with the bias rows and beta 1.
    @inline(__always)
    static func run(transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                    bias: UnsafePointer<Float>? = nil) -> Bool {
        guard alpha == 1, beta == 0 || beta == 1, max(m, n, k, lda, ldb, ldc) <= Int(Int32.max),
              covers(transB: transB, m: m, n: n, k: k) else { return false }
        // The kernels win at up to 128 (NT) / 256 (NN) rows a call, where B stays in L2: a
        // taller product runs as row blocks of that many (fixed, whatever the threads).
        let tall = transB ? 128 : 256
        let parallel = ThreadPool.threads > 1 && m * n * k >= minParallelWork
        let rb = m > tall ? tall : (parallel ? rowBlock : m)
        let mBlocks = (m + rb - 1) / rb
        let cb = parallel && mBlocks < 2 * ThreadPool.threads ? columnBlock : n
        swt_sgemm_blocked(transB ? 1 : 0, Int32(m), Int32(n), Int32(k), a, Int32(lda), b, Int32(ldb),
                          c, Int32(ldc), beta, bias, Int32(rb), Int32(cb))
        return true
    }

    /// Whether `run` takes a product `A Bᵀ` / `A B` of these sizes (alpha 1, beta 0 or 1): a
    /// weight of at least 16 K elements, or of at least `tallMinWeight` (n, k >= 16) in a
    /// product of at least `tallRows` rows, where OpenBLAS ran on one thread (a char GPT's
    /// 96-token head over B·T = 8192 rows, n·k = 12 K: 3% of a 2-thread step).
    @inline(__always)
    static func covers(transB: Bool, m: Int, n: Int, k: Int) -> Bool {
        guard enabled else { return false }
        if n * k >= 16 * 1024 { return transB || (n >= 16 && k >= 16) }
        if !transB, n * k >= nnMinWeight, n >= 16, k >= 16 { return true }
        return m >= tallRows && n * k >= tallMinWeight && n >= 16 && k >= 16
    }

    /// The smallest weight (n·k, n and k >= 16) of an input-gradient product `A B` that runs on
    /// the kernels at any row count: a 100 x 100 weight's input gradient at batch 100-128.
    static let nnMinWeight = 8 * 1024

    /// Rows from which a product with a weight of `tallMinWeight` elements runs on the kernels.
    static let tallRows = 4096
    /// The smallest weight (n·k) of a product of `tallRows` rows that runs on the kernels.
    static let tallMinWeight = 8 * 1024

    /// Rows of C per task of `runTN`: C's rows split evenly over the threads in whole 8-row
    /// tiles, at least `rowBlock` and at most `tnMaxRowBlock`. Each task streams all of B
    /// (a layer's input over B·T rows) once, so fewer, taller blocks read it fewer times: at
    /// one thread a char GPT's `qkv` and `fc1` weight gradients (384 and 512 rows of C over
    /// 4096 rows) ran 1.05-1.1x faster in one or two blocks than in blocks of 64. Every
    /// element sums over k in the same order in any block, so the bits do not depend on it.
    static func tnRowBlock(m: Int, threads: Int) -> Int {
        let share = (m + max(1, threads) - 1) / max(1, threads)
        return min(tnMaxRowBlock, max(rowBlock, (share + 7) / 8 * 8))
    }

    /// The tallest `runTN` block: its packed A (rows x 256 floats) stays within 512 KB.
    static let tnMaxRowBlock = 512

    /// Whether `runTN` takes a product `Aᵀ B` of these sizes (alpha 1, beta 0 or 1).
    @inline(__always)
    static func coversTN(m: Int, n: Int, k: Int) -> Bool {
        enabled && k >= 64 && m >= 16 && n >= 16 && m * n * k >= 1 << 22
    }

    /// C = Aᵀ B + beta C (A `(k, m)`, B `(k, n)`, alpha 1, beta 0 or 1) on `swt_sgemm_tn_blocked`
    /// when k >= 64 rows and at least 2^22 multiply-adds (a layer's weight gradient over a
    /// large batch; B is packed once per call), in blocks of `tnRowBlock` rows of C; returns false
    /// (nothing done) otherwise. With `columnSums` (m floats) it also adds each column of A's
    /// rows into it, in row order, while it packs A (`swt_sgemm_tn_blocked`).
    @inline(__always)
    static func runTN(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                      columnSums: UnsafeMutablePointer<Float>? = nil) -> Bool {
        guard alpha == 1, beta == 0 || beta == 1, coversTN(m: m, n: n, k: k),
              max(m, n, k, lda, ldb, ldc) <= Int(Int32.max), swt_sgemm_tn_pack_size(Int32(k), Int32(n)) <= Int(Int32.max) else { return false }
        swt_sgemm_tn_blocked(Int32(m), Int32(n), Int32(k), a, Int32(lda), b, Int32(ldb), c, Int32(ldc), beta,
                             Int32(tnRowBlock(m: m, threads: ThreadPool.threads)), columnSums)
        return true
    }
}
