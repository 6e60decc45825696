/* Shared by the kernel files: target attributes and helpers (internal). */
#ifndef CGEMM_SIMD_H
#define CGEMM_SIMD_H

#include <stddef.h>

/* The AVX-512 kernels exist only on x86; elsewhere the entry points are stubs that abort
 * (swt_gemm_available() is 0 there, so callers never reach them). */
#if defined(__x86_64__) || defined(__i386__)
#define CGEMM_X86 1
#include <immintrin.h>

/* AVX512VL matters for clang: without it the 256-bit halves that the horizontal
 * reductions work on can only live in ymm0-15, which pins the accumulators to
 * 16 registers and made the forward tile spill (half speed). */
#define CGEMM_TARGET __attribute__((target("avx512f,avx512vl")))
#define CGEMM_INLINE CGEMM_TARGET __attribute__((always_inline)) static inline
#define CGEMM_NOINLINE CGEMM_TARGET __attribute__((noinline)) static
#define UNROLL _Pragma("GCC unroll 64")

/* Mask of the low n lanes, 1 <= n <= 16. */
static inline __mmask16 lane_mask(int n)
{
    return (__mmask16)(n >= 16 ? 0xFFFF : (1u << n) - 1);
}
#else
#define CGEMM_X86 0
#endif

/* Per-thread float buffer `slot` of at least `count` floats, 64-byte aligned;
 * grows, never shrinks; NULL when out of memory. Slots: B^T of the NT short-K
 * path, the packed A tiles of TN, attention's transposed keys and key gradients, B packed by swt_sgemm_tn_blocked,
 * op(A) and op(B) packed as bf16 pairs by swt_sbgemm. */
#define CGEMM_WORKSPACE_NT 0
#define CGEMM_WORKSPACE_TN 1
#define CGEMM_WORKSPACE_ATTENTION 2
#define CGEMM_WORKSPACE_TN_PACKED 3
#define CGEMM_WORKSPACE_BF16_A 4
#define CGEMM_WORKSPACE_BF16_B 5
#define CGEMM_WORKSPACES 6
float *cgemm_workspace(int slot, size_t count);

/* C = beta * C for the degenerate K == 0 case (beta 0: write zeros). */
static inline void scale_c(int M, int N, float *C, int ldc, float beta)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++)
            C[(long)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(long)i * ldc + j];
}

#endif
