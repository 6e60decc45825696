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
void swt_qgemm_dequant_scalar(int m, int n, const int32_t *c, size_t ldc, const float *a_scale,
                              const int32_t *a_zero, int a_per_row, const float *w_scale,
                              const int32_t *colsum, const float *bias, float *y, size_t ldy);
void swt_qgemm_dequant_avx512(int m, int n, const int32_t *c, size_t ldc, const float *a_scale,
                              const int32_t *a_zero, int a_per_row, const float *w_scale,
                              const int32_t *colsum, const float *bias, float *y, size_t ldy);

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
