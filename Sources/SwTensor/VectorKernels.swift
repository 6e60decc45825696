import CGemm

/// Elementwise and row kernels in C (target `CGemm`, `celementwise.h`), 16 lanes at a time with FMA:
/// the AVX-512 copy when swtrain's kernels are enabled on the calling thread, else the same
/// C compiled for the baseline. GELU runs over `ThreadPool` in fixed blocks of 32 K elements;
/// every element is computed alone, so the bits do not depend on the thread count.
/// (Swift code here is compiled for baseline x86-64: its `SIMD16` loops run as SSE without
/// FMA, a quarter of what the C copy does.)
public enum VectorKernels {
    /// `y = x Φ(x)` (exact-form GELU with a rational `erf` within 5e-7).
    public static func geluForward(count: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        swt_gelu_forward(count, x, y, GEMMKernels.enabled ? 0 : 1)
    }

    /// `dx = dy (Φ(x) + x φ(x))`.
    public static func geluBackward(count: Int, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                    dx: UnsafeMutablePointer<Float>) {
        swt_gelu_backward(count, x, dy, dx, GEMMKernels.enabled ? 0 : 1)
    }

    /// Whether the AVX-512 copies run on this thread. Read it on the calling thread and pass
    /// it to the row kernels below, which run inside the caller's pool tasks.
    public static var native: Bool { GEMMKernels.enabled }

    /// Layer norm of `rows` rows of `dim` floats (`swt_layernorm_forward_rows`):
    /// `y = (x - mean) rstd w + b`, and per row `stats = [mean, rstd]`. Each row alone: any
    /// split of the rows gives the same bits.
    @inline(__always)
    public static func layerNormForward(rows: Int, dim: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                                        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float,
                                        stats: UnsafeMutablePointer<Float>, native: Bool) {
        swt_layernorm_forward_rows(rows, dim, x, y, weight, bias, eps, stats, native ? 0 : 1)
    }

    /// Its backward over the same rows in order (`swt_layernorm_backward_rows`): `dw += dy n`,
    /// `db += dy`, and `dx` (when given) `= rstd (dy w - mean(dy w) - n mean(dy w n))`.
    @inline(__always)
    public static func layerNormBackward(rows: Int, dim: Int, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                         dx: UnsafeMutablePointer<Float>?, weight: UnsafePointer<Float>,
                                         stats: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>,
                                         db: UnsafeMutablePointer<Float>, native: Bool) {
        swt_layernorm_backward_rows(rows, dim, x, dy, dx, weight, stats, dw, db, native ? 0 : 1)
    }
}
