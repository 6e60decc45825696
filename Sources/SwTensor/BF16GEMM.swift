import CGemm

/// What the layers' GEMMs compute in: `fp32` (the default) or `bf16` operands with fp32
/// accumulation (`training.precision`). Parameters, gradients and optimizer state stay fp32 in
/// both; only the operands of the products are rounded (see docs/precision.md).
public enum GEMMPrecision: String, Sendable, CaseIterable, CustomStringConvertible {
    case fp32
    case bf16

    public var description: String { rawValue }
}

/// The bf16 GEMM with fp32 accumulation (target `CGemm`, `csbgemm.h`): C = alpha op(A) op(B) +
/// beta C on fp32 matrices whose operands are rounded to bf16 (nearest, ties to even) as they
/// are packed, each element summed over k pairs in order on fp32 (what `vdpbf16ps` does).
///
/// Paths, chosen per call through `CPU`: AMX-BF16 (not written: no AMX machine to test it on,
/// never available), AVX512-BF16 (`vdpbf16ps`, AVX-512 F + BW + VL + BF16), and the portable C
/// loop over the same packed layout, which gives the same bits when no partial sum falls below
/// 2^-126. `SWTRAIN_KERNELS=portable` and `CPU.withKernelPath(.portable)` force the portable
/// loop. Calls split over the `ThreadPool` with shape-only blocks: bit-identical at any thread
/// count.
public enum BF16GEMM {
    /// One implementation of the bf16 GEMM.
    public enum Path: Int32, Sendable, CaseIterable, CustomStringConvertible {
        /// The plain C loop (fp32 arithmetic on the packed bf16 pairs).
        case portable = 0
        /// AVX512-BF16 (`vdpbf16ps`), 12 x 32 register tiles.
        case avx512bf16 = 1
        /// AMX-BF16 tiles: not implemented, never available.
        case amx = 2

        /// `"portable"`, `"avx512bf16"` or `"amx"`.
        public var name: String {
            switch self {
            case .portable: return "portable"
            case .avx512bf16: return "avx512bf16"
            case .amx: return "amx"
            }
        }
        public var description: String { name }

        /// Whether this CPU can run the path (ignoring the portable switch).
        public var isAvailable: Bool { swt_sbgemm_path_available(rawValue) != 0 }
    }

    /// The path a call on this thread takes now.
    public static var path: Path { Path(rawValue: swt_sbgemm_path()) ?? .portable }

    /// The paths this CPU can run, portable first.
    public static var availablePaths: [Path] { Path.allCases.filter(\.isAvailable) }

    /// C = alpha op(A) op(B) + beta C, row-major, in the argument order of `BLAS.gemm`: op(A)
    /// is m x k, op(B) is k x n, C is m x n; `lda`, `ldb`, `ldc` default to the stored row
    /// lengths. With beta 0, C is write-only. `path` nil takes `path`; a path this CPU cannot
    /// run falls to the best one below it.
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
        b: UnsafePointer<Float>, ldb: Int? = nil,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil, path: Path? = nil
    ) {
        if m == 0 || n == 0 { return }
        let la = lda ?? (transA ? m : k), lb = ldb ?? (transB ? k : n), lc = ldc ?? n
        precondition(max(m, n, k, la, lb, lc) <= Int(Int32.max), "bf16 GEMM dimensions must fit Int32")
        swt_sbgemm_path_run((path ?? self.path).rawValue, transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k),
                            alpha, a, Int32(la), b, Int32(lb), beta, c, Int32(lc))
    }
}
