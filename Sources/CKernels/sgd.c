// SGD (torch.optim.SGD): scalar and AVX-512 loops doing the same Float32 operations in the
// same order (see ckernels.h).
#include "ckernels.h"
#include "sources.h"

// No a*b+c fused into FMA: both loops must round every product and sum separately.
#pragma clang fp contract(off)

void swt_sgd_step_scalar(float *restrict p, float *restrict b, float *const *sources, size_t nsources,
                         int zero_sources, size_t n, swt_sgd_params hp) {
    float g[SWT_BLOCK];
    for (size_t i0 = 0; i0 < n; i0 += SWT_BLOCK) {
        size_t len = n - i0 < SWT_BLOCK ? n - i0 : SWT_BLOCK;
        swt_gather_block(g, sources, nsources, zero_sources, NULL, i0, len);
        float *restrict pb = p + i0;
        if (hp.weight_decay != 0) for (size_t j = 0; j < len; j++) g[j] = pb[j] * hp.weight_decay + g[j];
        if (b) {
            float *restrict bb = b + i0;
            // One simple loop per case (a select per element keeps clang from vectorizing).
            if (hp.first_step) for (size_t j = 0; j < len; j++) bb[j] = g[j];
            else for (size_t j = 0; j < len; j++) bb[j] = bb[j] * hp.momentum + g[j] * hp.keep;
            if (hp.nesterov) for (size_t j = 0; j < len; j++) g[j] = bb[j] * hp.momentum + g[j];
            else for (size_t j = 0; j < len; j++) g[j] = bb[j];
        }
        for (size_t j = 0; j < len; j++) pb[j] = pb[j] - g[j] * hp.lr;
    }
}

#if SWT_HAVE_AVX512
SWT_AVX512 void swt_sgd_step_avx512(float *p, float *b, float *const *sources, size_t nsources,
                                    int zero_sources, size_t n, swt_sgd_params hp) {
    const __m512 lr = _mm512_set1_ps(hp.lr), wd = _mm512_set1_ps(hp.weight_decay);
    const __m512 mu = _mm512_set1_ps(hp.momentum), keep = _mm512_set1_ps(hp.keep);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = swt_tail_mask(i, n);
        __m512 pv = _mm512_maskz_loadu_ps(k, p + i);
        __m512 g = swt_gather16(sources, nsources, zero_sources, NULL, i, k);
        if (hp.weight_decay != 0) g = _mm512_add_ps(_mm512_mul_ps(pv, wd), g);
        if (b) {
            __m512 bv = hp.first_step
                ? g
                : _mm512_add_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(k, b + i), mu), _mm512_mul_ps(g, keep));
            _mm512_mask_storeu_ps(b + i, k, bv);
            g = hp.nesterov ? _mm512_add_ps(_mm512_mul_ps(bv, mu), g) : bv;
        }
        _mm512_mask_storeu_ps(p + i, k, _mm512_sub_ps(pv, _mm512_mul_ps(g, lr)));
    }
}
#else
void swt_sgd_step_avx512(float *p, float *b, float *const *sources, size_t nsources,
                         int zero_sources, size_t n, swt_sgd_params hp) {
    swt_sgd_step_scalar(p, b, sources, nsources, zero_sources, n, hp);
}
#endif
