import CGemm

/// Elementwise kernels in C (target `CGemm`, `celementwise.h`), 16 lanes at a time with FMA:
/// the AVX-512 copy when swtrain's kernels are enabled on the calling thread, else the same
/// C compiled for the baseline. They run over `ThreadPool` in fixed blocks of 32 K elements;
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
}
