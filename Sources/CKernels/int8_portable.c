// The portable int8 kernels (the reference every vector path must match bit for bit).
#pragma clang fp contract(off)

#include "ckernels_int8.h"
#include "ccpu.h"

#include <math.h>
#include <string.h>

size_t swt_qgemm_packed_bytes(int n, int k) { return (size_t)n * (size_t)k; }

void swt_qgemm_pack(int n, int k, const int8_t *w, int8_t *packed, int32_t *colsum) {
    memcpy(packed, w, (size_t)n * (size_t)k);
    for (int j = 0; j < n; j++) {
        int32_t s = 0;
        for (int p = 0; p < k; p++) s += w[(size_t)j * k + p];
        colsum[j] = s;
    }
}

void swt_qgemm_u8s8(int m, int n, int k, const uint8_t *a, size_t lda, const int8_t *packed,
                    int32_t *c, size_t ldc) {
    for (int i = 0; i < m; i++) {
        const uint8_t *ai = a + (size_t)i * lda;
        for (int j = 0; j < n; j++) {
            const int8_t *wj = packed + (size_t)j * k;
            int32_t s = 0;
            for (int p = 0; p < k; p++) s += (int32_t)ai[p] * (int32_t)wj[p];
            c[(size_t)i * ldc + j] = s;
        }
    }
}

int swt_qgemm_path(void) { return SWT_QGEMM_PORTABLE; }

static inline uint8_t quantize_one(float x, float inv_scale, int32_t zp) {
    float r = nearbyintf(x * inv_scale);
    // Clamp in float first so huge values and infinities do not overflow the int conversion.
    if (r < -512.0f) r = -512.0f;
    if (r > 512.0f) r = 512.0f;
    int32_t q = (int32_t)r + zp;
    return (uint8_t)(q < 0 ? 0 : (q > 255 ? 255 : q));
}

void swt_quantize_u8(size_t n, const float *x, float inv_scale, int32_t zero_point, uint8_t *q) {
    for (size_t i = 0; i < n; i++) q[i] = quantize_one(x[i], inv_scale, zero_point);
}

void swt_quantize_rows_u8(int m, int k, const float *x, size_t ldx, uint8_t *q, size_t ldq,
                          float *scale, int32_t *zero_point) {
    for (int i = 0; i < m; i++) {
        const float *xi = x + (size_t)i * ldx;
        float lo = 0.0f, hi = 0.0f;
        for (int p = 0; p < k; p++) { if (xi[p] < lo) lo = xi[p]; if (xi[p] > hi) hi = xi[p]; }
        float s = (hi - lo) / 255.0f;
        if (!(s > 0.0f)) s = 1.0f;
        float z = nearbyintf(-lo / s);
        int32_t zp = (int32_t)(z < 0.0f ? 0.0f : (z > 255.0f ? 255.0f : z));
        scale[i] = s;
        zero_point[i] = zp;
        swt_quantize_u8((size_t)k, xi, 1.0f / s, zp, q + (size_t)i * ldq);
    }
}

void swt_qgemm_dequant(int m, int n, const int32_t *c, size_t ldc, const float *a_scale,
                       const int32_t *a_zero, int a_per_row, const float *w_scale,
                       const int32_t *colsum, const float *bias, float *y, size_t ldy) {
    for (int i = 0; i < m; i++) {
        float as = a_per_row ? a_scale[i] : a_scale[0];
        int32_t az = a_per_row ? a_zero[i] : a_zero[0];
        for (int j = 0; j < n; j++) {
            float s = as * w_scale[j];
            float v = (float)(c[(size_t)i * ldc + j] - az * colsum[j]) * s;
            y[(size_t)i * ldy + j] = bias ? v + bias[j] : v;
        }
    }
}
