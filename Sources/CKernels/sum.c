// Summing gradient sources into one buffer (for clipping or regularization before the
// optimizer): scalar and AVX-512 loops with the same left-to-right Float32 sums.
#include "ckernels.h"
#include "sources.h"

// No a*b+c fused into FMA: both loops must round every product and sum separately.
#pragma clang fp contract(off)

void swt_sum_gradients_scalar(float *dst, float *const *sources, size_t nsources, int zero_others,
                              size_t n) {
    float g[SWT_BLOCK];
    for (size_t i0 = 0; i0 < n; i0 += SWT_BLOCK) {
        size_t len = n - i0 < SWT_BLOCK ? n - i0 : SWT_BLOCK;
        swt_gather_block(g, sources, nsources, zero_others, dst, i0, len);
        for (size_t j = 0; j < len; j++) dst[i0 + j] = g[j];
    }
}

#if SWT_HAVE_AVX512
SWT_AVX512 void swt_sum_gradients_avx512(float *dst, float *const *sources, size_t nsources,
                                         int zero_others, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = swt_tail_mask(i, n);
        _mm512_mask_storeu_ps(dst + i, k, swt_gather16(sources, nsources, zero_others, dst, i, k));
    }
}
#else
void swt_sum_gradients_avx512(float *dst, float *const *sources, size_t nsources, int zero_others,
                              size_t n) {
    swt_sum_gradients_scalar(dst, sources, nsources, zero_others, n);
}
#endif
