import CGemm

/// Fused multi-head causal self-attention kernels (target `CGemm`, `cattention.h`),
/// FlashAttention-2 style: for each query row, blocks of 16 keys with an online softmax; the
/// forward keeps only the output and one log-sum-exp per row, the backward recomputes the
/// probabilities. No `T x T` matrix is stored.
///
/// Layout: `qkv` `(B, T, 3C)` holds `[q | k | v]` per token, head `h` at columns
/// `h d ..< (h + 1) d` of each part (`d = C / heads`); `out` and `dOut` are `(B, T, C)`,
/// `lse` `(B, heads, T)`, `dQKV` `(B, T, 3C)` (overwritten). Dropout on the probabilities
/// (probability `dropout`) uses a hash of `(seed, position)` (`keeps`), so backward needs
/// the forward's `seed` and the result does not depend on threads.
///
/// Work: one `ThreadPool` task per (batch, head), each writing only its own columns, so the
/// result is bit-identical at any thread count. The AVX-512 copy runs when swtrain's kernels
/// are enabled on the calling thread (`CPU` / `SWTRAIN_KERNELS`), the portable copy (the
/// same algorithm and order, without AVX-512) otherwise.
public enum FusedAttention {
    /// Whether the kernels handle a head width: a multiple of 16, at most 128.
    public static func supports(headWidth d: Int) -> Bool { d > 0 && d % 16 == 0 && d <= 128 }

    /// The forward: `out` (the heads side by side) and `lse`.
    public static func forward(batch B: Int, heads H: Int, context T: Int, width C: Int,
                               qkv: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                               lse: UnsafeMutablePointer<Float>, dropout: Float, seed: UInt32) {
        check(B, H, T, C)
        swt_attention_forward(Int32(B), Int32(H), Int32(T), Int32(C), qkv, out, lse,
                              scale(C / H), dropout, seed, GEMMKernels.enabled ? 0 : 1)
    }

    /// The backward: `dQKV` from the forward's `qkv`, `out`, `lse` and the output gradient.
    public static func backward(batch B: Int, heads H: Int, context T: Int, width C: Int,
                                qkv: UnsafePointer<Float>, out: UnsafePointer<Float>,
                                dOut: UnsafePointer<Float>, lse: UnsafePointer<Float>,
                                dQKV: UnsafeMutablePointer<Float>, dropout: Float, seed: UInt32) {
        check(B, H, T, C)
        swt_attention_backward(Int32(B), Int32(H), Int32(T), Int32(C), qkv, out, dOut, lse, dQKV,
                               scale(C / H), dropout, seed, GEMMKernels.enabled ? 0 : 1)
    }

    /// Whether dropout keeps probability `index` (flat in `(B, heads, T, T)`) for `seed`:
    /// the kernels' mask, for reference computations.
    public static func keeps(seed: UInt32, index: Int, dropout: Float) -> Bool {
        swt_attention_keep(seed, UInt32(truncatingIfNeeded: index), dropout) != 0
    }

    /// Rounds `count` floats at `p` in place to the nearest bf16 value (ties to even), kept
    /// as fp32: `BFloat16(x).float` through `DTypeConversion` (the same bits on every path
    /// and thread count). The bf16 mode of the attention layer rounds its operands with it.
    public static func roundToBF16(_ p: UnsafeMutablePointer<Float>, count: Int) {
        ThreadPool.forBlocks(count: count, block: roundBlock) { r in
            withUnsafeTemporaryAllocation(of: UInt16.self, capacity: r.count) { h in
                let base = h.baseAddress!
                DTypeConversion.floatToBF16(p + r.lowerBound, base, count: r.count)
                DTypeConversion.bf16ToFloat(base, p + r.lowerBound, count: r.count)
            }
        }
    }

    private static let roundBlock = 16 * 1024

    private static func scale(_ d: Int) -> Float { 1 / Float(d).squareRoot() }

    private static func check(_ B: Int, _ H: Int, _ T: Int, _ C: Int) {
        precondition(H > 0 && C % H == 0 && supports(headWidth: C / H) && T > 0 && B >= 0,
                     "fused attention needs C a multiple of heads with head width a multiple of 16 up to 128, got C \(C), \(H) heads")
        precondition(B * H * T * T <= Int(UInt32.max) && 3 * C <= Int(Int32.max), "fused attention: (B, heads, T, T) too large for 32-bit indices")
    }
}
