// AVX-512 twins of the scalar quantize / dequantize loops in int8_portable.c, giving the same
// bits: one multiply and no FMA; vrndscaleps in the current rounding mode (nearbyintf);
// vmaxps(r, -512) puts NaN at -512 exactly like `!(r >= -512)`, then vminps(r, 512); the
// integer clamp to 0...255 after adding the zero point; the row range by vminps/vmaxps with
// the running value second (NaN ignored, -0 never replacing +0, as `x < lo`); int -> float
// conversions in the current rounding mode as the C casts.
#pragma clang fp contract(off)

#include "ckernels_int8.h"
#include "int8_internal.h"

#if SWT_Q_X86
#include <immintrin.h>

#define Q_TARGET __attribute__((target("avx512f")))

static inline __mmask16 q_mask(size_t i, size_t n) {
    size_t left = n - i;
    return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
}

Q_TARGET void swt_quantize_u8_avx512(size_t n, const float *x, float inv_scale, int32_t zero_point,
                                     uint8_t *q) {
    const __m512 inv = _mm512_set1_ps(inv_scale);
    const __m512i zp = _mm512_set1_epi32(zero_point);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = q_mask(i, n);
        _mm512_mask_cvtepi32_storeu_epi8(q + i, k, swt_q_quantize16(_mm512_maskz_loadu_ps(k, x + i), inv, zp));
    }
}

Q_TARGET void swt_quantize_rows_u8_avx512(int m, int k, const float *x, size_t ldx, uint8_t *q, size_t ldq,
                                          float *scale, int32_t *zero_point) {
    for (int i = 0; i < m; i++) {
        const float *xi = x + (size_t)i * ldx;
        __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
        for (size_t p = 0; p < (size_t)k; p += 16) {
            __m512 v = _mm512_maskz_loadu_ps(q_mask(p, (size_t)k), xi + p);   // masked lanes read +0
            lo = _mm512_min_ps(v, lo);
            hi = _mm512_max_ps(v, hi);
        }
        // Every lane is +0 or a number of the right sign, so any reduction order agrees.
        swt_q_row_params(_mm512_reduce_min_ps(lo), _mm512_reduce_max_ps(hi), &scale[i], &zero_point[i]);
        swt_quantize_u8_avx512((size_t)k, xi, 1.0f / scale[i], zero_point[i], q + (size_t)i * ldq);
    }
}

Q_TARGET void swt_qgemm_out_rows_avx512(int m, int n0, int n1, const int32_t *c, size_t ldc, const swt_qgemm_out *o) {
    for (int i = 0; i < m; i++) {
        const int32_t *ci = c + (size_t)i * ldc;
        for (size_t j = (size_t)n0; j < (size_t)n1; j += 16) {
            __mmask16 k = q_mask(j, (size_t)n1);
            swt_q_out16(o, i, (int)j, _mm512_maskz_loadu_epi32(k, ci + j), k);
        }
    }
}
#else
void swt_quantize_u8_avx512(size_t n, const float *x, float inv_scale, int32_t zero_point, uint8_t *q) {
    swt_quantize_u8_scalar(n, x, inv_scale, zero_point, q);
}
void swt_quantize_rows_u8_avx512(int m, int k, const float *x, size_t ldx, uint8_t *q, size_t ldq,
                                 float *scale, int32_t *zero_point) {
    swt_quantize_rows_u8_scalar(m, k, x, ldx, q, ldq, scale, zero_point);
}
void swt_qgemm_out_rows_avx512(int m, int n0, int n1, const int32_t *c, size_t ldc, const swt_qgemm_out *o) {
    swt_qgemm_out_rows_scalar(m, n0, n1, c, ldc, o);
}
#endif
