// Private to the int8 kernels: the packed weight layout every path reads, and the per-path
// entry points behind the dispatch in int8_dispatch.c.
//
// Packed layout of W [n, k]: n in panels of 16 columns (the last one zero-padded), each panel
// holding k rounded up to 64 (zero-padded) as k-groups of 4: panel j/16 starts at
// (j/16) * kpad * 16 bytes, and inside it W[j, p] sits at (p/4) * 64 + (j%16) * 4 + p%4.
// So one k-group of a panel is 64 bytes = 16 columns x 4 k: one zmm for vpdpbusd, and 16
// k-groups (64 k) of a panel are one 16 x 64-byte AMX B tile (stride 64).
#ifndef SWTRAIN_CKERNELS_INT8_INTERNAL_H
#define SWTRAIN_CKERNELS_INT8_INTERNAL_H

#pragma clang fp contract(off)

#include <stddef.h>
#include <stdint.h>

#include "ckernels_int8.h"

#if defined(__x86_64__) || defined(__i386__)
#define SWT_Q_X86 1
#else
#define SWT_Q_X86 0
#endif

/// Columns per panel of the packed layout.
#define SWT_Q_PANEL 16
/// k is padded to a multiple of this (one AMX tile's depth).
#define SWT_Q_KALIGN 64

/// k rounded up to SWT_Q_KALIGN.
static inline size_t swt_q_kpad(int k) {
    return ((size_t)(k < 0 ? 0 : k) + SWT_Q_KALIGN - 1) / SWT_Q_KALIGN * SWT_Q_KALIGN;
}
/// Bytes of one 16-column panel.
static inline size_t swt_q_panel_bytes(int k) { return swt_q_kpad(k) * SWT_Q_PANEL; }
/// Offset of W[j, p] in the packed layout.
static inline size_t swt_q_offset(int k, int j, int p) {
    return (size_t)(j / SWT_Q_PANEL) * swt_q_panel_bytes(k) + (size_t)(p / 4) * 64 +
           (size_t)(j % SWT_Q_PANEL) * 4 + (size_t)(p % 4);
}

/// The 64-byte LDTILECFG operand (palette 1: 8 tiles; reserved bytes must be zero), shared by
/// the AMX kernel and the tile model the tests run it on.
typedef struct {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved0[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} swt_tilecfg;
_Static_assert(sizeof(swt_tilecfg) == 64, "LDTILECFG operand is 64 bytes");

// Columns [n0, n1) of C = A W^T (n0 a multiple of 16, or the portable loop); every path.
void swt_qgemm_cols_portable(int m, int n0, int n1, int k, const uint8_t *a, size_t lda,
                             const int8_t *packed, int32_t *c, size_t ldc);
void swt_qgemm_cols_vnni(int m, int n0, int n1, int k, const uint8_t *a, size_t lda,
                         const int8_t *packed, int32_t *c, size_t ldc);
void swt_qgemm_cols_amx(int m, int n0, int n1, int k, const uint8_t *a, size_t lda,
                        const int8_t *packed, int32_t *c, size_t ldc);

// The scalar conversions (the reference) and their AVX-512 twins.
void swt_quantize_u8_scalar(size_t n, const float *x, float inv_scale, int32_t zero_point, uint8_t *q);
void swt_quantize_u8_avx512(size_t n, const float *x, float inv_scale, int32_t zero_point, uint8_t *q);
void swt_quantize_rows_u8_scalar(int m, int k, const float *x, size_t ldx, uint8_t *q, size_t ldq,
                                 float *scale, int32_t *zero_point);
void swt_quantize_rows_u8_avx512(int m, int k, const float *x, size_t ldx, uint8_t *q, size_t ldq,
                                 float *scale, int32_t *zero_point);
// The output stage (ckernels_int8.h) over rows [0, m) and columns [n0, n1) of an int32 C.
void swt_qgemm_out_rows_scalar(int m, int n0, int n1, const int32_t *c, size_t ldc, const swt_qgemm_out *o);
void swt_qgemm_out_rows_avx512(int m, int n0, int n1, const int32_t *c, size_t ldc, const swt_qgemm_out *o);
// The VNNI GEMM with the output stage applied in registers (n0 a multiple of 16).
void swt_qgemm_cols_vnni_out(int m, int n0, int n1, int k, const uint8_t *a, size_t lda,
                             const int8_t *packed, int32_t *c, size_t ldc, const swt_qgemm_out *o);

/// One value quantized to uint8 (the scalar reference of `swt_quantize_u8`): round to nearest
/// even, clamped in float first so huge values, infinities and NaN (which goes to the bottom,
/// like -inf) never reach the int conversion out of range.
static inline uint8_t swt_q_quantize_one(float x, float inv_scale, int32_t zp) {
    float r = __builtin_nearbyintf(x * inv_scale);
    if (!(r >= -512.0f)) r = -512.0f;
    if (r > 512.0f) r = 512.0f;
    int32_t q = (int32_t)r + zp;
    return (uint8_t)(q < 0 ? 0 : (q > 255 ? 255 : q));
}

/// The output stage's float value of C[i, j] = c (ckernels_int8.h), before the uint8 step.
static inline float swt_q_out_value(const swt_qgemm_out *o, int i, int j, int32_t c) {
    float as = o->a_per_row ? o->a_scale[i] : o->a_scale[0];
    int32_t az = o->a_per_row ? o->a_zero[i] : o->a_zero[0];
    float s = as * o->w_scale[j];
    float v = (float)(c - az * o->colsum[j]) * s;
    if (o->bias) v = v + o->bias[j];
    if (o->relu) v = (0.0f >= v) ? 0.0f : v;
    return v;
}

#if SWT_Q_X86
#include <immintrin.h>
#define SWT_Q_VEC_INLINE static inline __attribute__((target("avx512f"), always_inline))

/// 16 lanes of `swt_q_quantize_one` as int32 in 0...255: one multiply, vrndscaleps in the
/// current rounding mode (nearbyintf), vmaxps(r, -512) puts NaN at -512 like `!(r >= -512)`.
SWT_Q_VEC_INLINE __m512i swt_q_quantize16(__m512 x, __m512 inv, __m512i zp) {
    __m512 v = _mm512_roundscale_ps(_mm512_mul_ps(x, inv), _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-512.0f)), _mm512_set1_ps(512.0f));
    __m512i r = _mm512_add_epi32(_mm512_cvtps_epi32(v), zp);
    return _mm512_min_epi32(_mm512_max_epi32(r, _mm512_setzero_si512()), _mm512_set1_epi32(255));
}

/// The output stage of 16 sums `acc` = C[i, j ..< j + 16] (lanes outside `mk` not written):
/// the same operations as `swt_q_out_value` (and `swt_q_quantize_one`) lane by lane.
SWT_Q_VEC_INLINE void swt_q_out16(const swt_qgemm_out *o, int i, int j, __m512i acc, __mmask16 mk) {
    const __m512 as = _mm512_set1_ps(o->a_per_row ? o->a_scale[i] : o->a_scale[0]);
    const __m512i az = _mm512_set1_epi32(o->a_per_row ? o->a_zero[i] : o->a_zero[0]);
    __m512 s = _mm512_mul_ps(as, _mm512_maskz_loadu_ps(mk, o->w_scale + j));
    __m512i d = _mm512_sub_epi32(acc, _mm512_mullo_epi32(az, _mm512_maskz_loadu_epi32(mk, o->colsum + j)));
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(d), s);
    if (o->bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mk, o->bias + j));
    if (o->relu) {   // (0 >= v) ? 0 : v; ordered compare, so NaN stays
        const __m512 zero = _mm512_setzero_ps();
        v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(zero, v, _CMP_GE_OQ), zero);
    }
    if (o->y) {
        _mm512_mask_storeu_ps(o->y + (size_t)i * o->ldy + j, mk, v);
    } else {
        __m512i r = swt_q_quantize16(v, _mm512_set1_ps(o->q_inv_scale), _mm512_set1_epi32(o->q_zero));
        _mm512_mask_cvtepi32_storeu_epi8(o->q + (size_t)i * o->ldq + j, mk, r);
    }
}
#endif

/// A row's scale and zero point from its range [lo, hi] (lo <= 0 <= hi), as the portable
/// `swt_quantize_rows_u8` defines them; shared so both paths compute them identically.
static inline void swt_q_row_params(float lo, float hi, float *scale, int32_t *zero_point) {
    float s = (hi - lo) / 255.0f;
    if (!(s > 0.0f)) s = 1.0f;
    float z = __builtin_nearbyintf(-lo / s);
    // NaN (an infinite range: -inf / inf) maps to 0 like anything below the range.
    int32_t zp = (int32_t)(!(z > 0.0f) ? 0.0f : (z > 255.0f ? 255.0f : z));
    *scale = s;
    *zero_point = zp;
}

#endif
