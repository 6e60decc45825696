// Adam/AdamW (torch.optim.Adam/AdamW): scalar and AVX-512 loops doing the same Float32
// operations in the same order (see ckernels.h). The square root is correctly rounded in
// both (IEEE sqrt, vsqrtps), and so is the division.
#include "ckernels.h"
#include "sources.h"

// No a*b+c fused into FMA: both loops must round every product and sum separately.
#pragma clang fp contract(off)

#include <math.h>

// The correctly rounded square root without errno, so the compiler may vectorize the scalar
// loop (sqrtf sets errno for negative inputs, which a second moment never is).
#if __has_builtin(__builtin_elementwise_sqrt)
#define SWT_SQRTF(x) __builtin_elementwise_sqrt(x)
#else
#define SWT_SQRTF(x) sqrtf(x)
#endif

void swt_adam_step_scalar(float *restrict p, float *restrict m, float *restrict v, float *const *sources,
                          size_t nsources, int zero_sources, size_t n, swt_adam_params hp) {
    float g[SWT_BLOCK];
    for (size_t i0 = 0; i0 < n; i0 += SWT_BLOCK) {
        size_t len = n - i0 < SWT_BLOCK ? n - i0 : SWT_BLOCK;
        swt_gather_block(g, sources, nsources, zero_sources, NULL, i0, len);
        float *restrict pb = p + i0, *restrict mb = m + i0, *restrict vb = v + i0;
        if (hp.l2 != 0) for (size_t j = 0; j < len; j++) g[j] = pb[j] * hp.l2 + g[j];
        for (size_t j = 0; j < len; j++) {
            float mv = (g[j] - mb[j]) * hp.w1 + mb[j];
            float vv = vb[j] * hp.beta2 + g[j] * g[j] * hp.w2;
            mb[j] = mv;
            vb[j] = vv;
            float denom = SWT_SQRTF(vv) / hp.bc2_sqrt + hp.eps;
            float pv = pb[j];
            if (hp.decay != 1) pv = pv * hp.decay;
            pb[j] = pv - hp.step_size * mv / denom;
        }
    }
}

#if SWT_HAVE_AVX512
SWT_AVX512 void swt_adam_step_avx512(float *p, float *m, float *v, float *const *sources,
                                     size_t nsources, int zero_sources, size_t n, swt_adam_params hp) {
    const __m512 l2 = _mm512_set1_ps(hp.l2), w1 = _mm512_set1_ps(hp.w1), w2 = _mm512_set1_ps(hp.w2);
    const __m512 b2 = _mm512_set1_ps(hp.beta2), bc2s = _mm512_set1_ps(hp.bc2_sqrt);
    const __m512 eps = _mm512_set1_ps(hp.eps), decay = _mm512_set1_ps(hp.decay);
    const __m512 step = _mm512_set1_ps(hp.step_size);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = swt_tail_mask(i, n);
        __m512 pv = _mm512_maskz_loadu_ps(k, p + i);
        __m512 g = swt_gather16(sources, nsources, zero_sources, NULL, i, k);
        if (hp.l2 != 0) g = _mm512_add_ps(_mm512_mul_ps(pv, l2), g);
        __m512 mv = _mm512_maskz_loadu_ps(k, m + i);
        mv = _mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(g, mv), w1), mv);
        __m512 vv = _mm512_maskz_loadu_ps(k, v + i);
        vv = _mm512_add_ps(_mm512_mul_ps(vv, b2), _mm512_mul_ps(_mm512_mul_ps(g, g), w2));
        _mm512_mask_storeu_ps(m + i, k, mv);
        _mm512_mask_storeu_ps(v + i, k, vv);
        __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vv), bc2s), eps);
        if (hp.decay != 1) pv = _mm512_mul_ps(pv, decay);
        pv = _mm512_sub_ps(pv, _mm512_div_ps(_mm512_mul_ps(step, mv), denom));
        _mm512_mask_storeu_ps(p + i, k, pv);
    }
}
#else
void swt_adam_step_avx512(float *p, float *m, float *v, float *const *sources, size_t nsources,
                          int zero_sources, size_t n, swt_adam_params hp) {
    swt_adam_step_scalar(p, m, v, sources, nsources, zero_sources, n, hp);
}
#endif
