// The portable int8 kernels: the reference every vector path must match bit for bit. The
// GEMM reads the same packed layout as the VNNI and AMX paths (see int8_internal.h).
#pragma clang fp contract(off)

#include "ckernels_int8.h"
#include "int8_internal.h"

#include <math.h>
#include <string.h>

size_t swt_qgemm_packed_bytes(int n, int k) {
    if (n <= 0 || k <= 0) return 0;
    size_t panels = ((size_t)n + SWT_Q_PANEL - 1) / SWT_Q_PANEL;
    return panels * swt_q_panel_bytes(k);
}

void swt_qgemm_pack(int n, int k, const int8_t *w, int8_t *packed, int32_t *colsum) {
    size_t bytes = swt_qgemm_packed_bytes(n, k);
    if (bytes) memset(packed, 0, bytes);
    for (int j = 0; j < n; j++) {
        const int8_t *wj = w + (size_t)j * (size_t)k;
        int32_t s = 0;
        for (int p = 0; p < k; p++) {
            packed[swt_q_offset(k, j, p)] = wj[p];
            s += wj[p];
        }
        colsum[j] = s;
    }
}

void swt_qgemm_cols_portable(int m, int n0, int n1, int k, const uint8_t *a, size_t lda,
                             const int8_t *packed, int32_t *c, size_t ldc) {
    const size_t pb = swt_q_panel_bytes(k);
    for (int i = 0; i < m; i++) {
        const uint8_t *ai = a + (size_t)i * lda;
        for (int j = n0; j < n1; j++) {
            const int8_t *wj = packed + (size_t)(j / SWT_Q_PANEL) * pb + (size_t)(j % SWT_Q_PANEL) * 4;
            int32_t s = 0;
            for (int p = 0; p < k; p++) s += (int32_t)ai[p] * (int32_t)wj[(size_t)(p / 4) * 64 + p % 4];
            c[(size_t)i * ldc + j] = s;
        }
    }
}

void swt_quantize_u8_scalar(size_t n, const float *x, float inv_scale, int32_t zero_point, uint8_t *q) {
    for (size_t i = 0; i < n; i++) q[i] = swt_q_quantize_one(x[i], inv_scale, zero_point);
}

void swt_quantize_rows_u8_scalar(int m, int k, const float *x, size_t ldx, uint8_t *q, size_t ldq,
                                 float *scale, int32_t *zero_point) {
    for (int i = 0; i < m; i++) {
        const float *xi = x + (size_t)i * ldx;
        float lo = 0.0f, hi = 0.0f;
        for (int p = 0; p < k; p++) { if (xi[p] < lo) lo = xi[p]; if (xi[p] > hi) hi = xi[p]; }
        swt_q_row_params(lo, hi, &scale[i], &zero_point[i]);
        swt_quantize_u8_scalar((size_t)k, xi, 1.0f / scale[i], zero_point[i], q + (size_t)i * ldq);
    }
}

void swt_qgemm_out_rows_scalar(int m, int n0, int n1, const int32_t *c, size_t ldc, const swt_qgemm_out *o) {
    for (int i = 0; i < m; i++) {
        const int32_t *ci = c + (size_t)i * ldc;
        for (int j = n0; j < n1; j++) {
            float v = swt_q_out_value(o, i, j, ci[j]);
            if (o->y) o->y[(size_t)i * o->ldy + j] = v;
            else o->q[(size_t)i * o->ldq + j] = swt_q_quantize_one(v, o->q_inv_scale, o->q_zero);
        }
    }
}
