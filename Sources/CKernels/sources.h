// Private helpers shared by the kernels: reading the gradient as a sum of sources (and
// zeroing them), a block at a time (scalar) or 16 lanes at a time (AVX-512).
#ifndef SWTRAIN_CKERNELS_SOURCES_H
#define SWTRAIN_CKERNELS_SOURCES_H

#pragma clang fp contract(off)

#include <stddef.h>

#if defined(__x86_64__) || defined(__i386__)
#define SWT_HAVE_AVX512 1
#include <immintrin.h>
#else
#define SWT_HAVE_AVX512 0
#endif

/// Elements per block of the scalar loops: the summed gradient of one block is gathered
/// into a stack buffer first, so the update loop over the block is simple enough for the
/// compiler to vectorize with the baseline instruction set.
#define SWT_BLOCK 256

/// g[j] = sources[0][i+j] + sources[1][i+j] + ... (left to right) for j in [0, len), source
/// by source: each source is read once and, with `zero`, set to +0 right after (unless it
/// is `keep`).
static inline void swt_gather_block(float *restrict g, float *const *sources, size_t nsources, int zero,
                                    const float *keep, size_t i, size_t len) {
    float *s0 = sources[0] + i;
    for (size_t j = 0; j < len; j++) g[j] = s0[j];
    if (zero && sources[0] != keep) for (size_t j = 0; j < len; j++) s0[j] = 0.0f;
    for (size_t s = 1; s < nsources; s++) {
        float *sk = sources[s] + i;
        for (size_t j = 0; j < len; j++) g[j] = g[j] + sk[j];
        if (zero && sources[s] != keep) for (size_t j = 0; j < len; j++) sk[j] = 0.0f;
    }
}

#if SWT_HAVE_AVX512
#define SWT_AVX512 __attribute__((target("avx512f")))
#define SWT_AVX512_INLINE static inline __attribute__((target("avx512f"), always_inline))

/// The mask of the lanes of the 16-element block at i that fall before n.
static inline __mmask16 swt_tail_mask(size_t i, size_t n) {
    size_t left = n - i;
    return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
}

/// The gradient of the lanes `k` of the 16-element block at i, summed and zeroed as
/// `swt_gather_block` does (other lanes read as 0 and are not written).
SWT_AVX512_INLINE __m512 swt_gather16(float *const *sources, size_t nsources, int zero,
                                      const float *keep, size_t i, __mmask16 k) {
    const __m512 zeros = _mm512_setzero_ps();
    __m512 g = _mm512_maskz_loadu_ps(k, sources[0] + i);
    if (zero && sources[0] != keep) _mm512_mask_storeu_ps(sources[0] + i, k, zeros);
    for (size_t s = 1; s < nsources; s++) {
        __m512 x = _mm512_maskz_loadu_ps(k, sources[s] + i);
        if (zero && sources[s] != keep) _mm512_mask_storeu_ps(sources[s] + i, k, zeros);
        g = _mm512_add_ps(g, x);
    }
    return g;
}
#endif

#endif
