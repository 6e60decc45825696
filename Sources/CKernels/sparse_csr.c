// CSR forward of a pruned dense layer (see ckernels_sparse.h for the contract).
#pragma clang fp contract(off)

#include "ckernels_sparse.h"
#include "ccpu.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/// Samples per AVX-512 tile: four 16-lane accumulators per output row.
#define SWT_CSR_TILE 64

void swt_csr_forward_portable(int batch, int out, int in, const int32_t *rowptr, const int32_t *cols,
                              const float *vals, const float *bias, const float *x, float *y) {
    for (int b = 0; b < batch; b++) {
        const float *xb = x + (size_t)b * in;
        float *yb = y + (size_t)b * out;
        for (int o = 0; o < out; o++) {
            float acc = 0.0f;
            for (int32_t p = rowptr[o]; p < rowptr[o + 1]; p++) {
                float prod = vals[p] * xb[cols[p]];
                acc = acc + prod;
            }
            yb[o] = bias ? acc + bias[o] : acc;
        }
    }
}

static int use_avx512(int batch) {
    return batch >= 16 && swt_kernels_may_use(SWT_CPU_AVX512F);
}

int swt_csr_path(int batch) { return use_avx512(batch) ? SWT_CSR_AVX512 : SWT_CSR_PORTABLE; }

size_t swt_csr_scratch_floats(int batch, int in, int out) {
    if (!use_avx512(batch)) return 0;
    return (size_t)SWT_CSR_TILE * (size_t)in + (size_t)SWT_CSR_TILE * (size_t)out;
}

#if defined(__x86_64__)
/// One tile of `tb` <= 64 samples: XT[j][t] = X[b0 + t, j] (zero past tb), then for each output
/// row the four accumulators walk the row's entries, YT[o][t] is written and transposed back.
__attribute__((target("avx512f")))
static void csr_tile_avx512(int tb, int out, int in, const int32_t *rowptr, const int32_t *cols,
                            const float *vals, const float *bias, const float *x, float *y,
                            float *xt, float *yt) {
    for (int j = 0; j < in; j++) {
        float *d = xt + (size_t)j * SWT_CSR_TILE;
        for (int t = 0; t < tb; t++) d[t] = x[(size_t)t * in + j];
        for (int t = tb; t < SWT_CSR_TILE; t++) d[t] = 0.0f;
    }
    for (int o = 0; o < out; o++) {
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
        for (int32_t p = rowptr[o]; p < rowptr[o + 1]; p++) {
            const __m512 w = _mm512_set1_ps(vals[p]);
            const float *xr = xt + (size_t)cols[p] * SWT_CSR_TILE;
            a0 = _mm512_add_ps(a0, _mm512_mul_ps(w, _mm512_loadu_ps(xr)));
            a1 = _mm512_add_ps(a1, _mm512_mul_ps(w, _mm512_loadu_ps(xr + 16)));
            a2 = _mm512_add_ps(a2, _mm512_mul_ps(w, _mm512_loadu_ps(xr + 32)));
            a3 = _mm512_add_ps(a3, _mm512_mul_ps(w, _mm512_loadu_ps(xr + 48)));
        }
        if (bias) {
            const __m512 bv = _mm512_set1_ps(bias[o]);
            a0 = _mm512_add_ps(a0, bv); a1 = _mm512_add_ps(a1, bv);
            a2 = _mm512_add_ps(a2, bv); a3 = _mm512_add_ps(a3, bv);
        }
        float *d = yt + (size_t)o * SWT_CSR_TILE;
        _mm512_storeu_ps(d, a0); _mm512_storeu_ps(d + 16, a1);
        _mm512_storeu_ps(d + 32, a2); _mm512_storeu_ps(d + 48, a3);
    }
    for (int t = 0; t < tb; t++) {
        float *yr = y + (size_t)t * out;
        for (int o = 0; o < out; o++) yr[o] = yt[(size_t)o * SWT_CSR_TILE + t];
    }
}
#endif

void swt_csr_forward(int batch, int out, int in, const int32_t *rowptr, const int32_t *cols,
                     const float *vals, const float *bias, const float *x, float *y, float *scratch) {
#if defined(__x86_64__)
    if (use_avx512(batch) && scratch) {
        float *xt = scratch, *yt = scratch + (size_t)SWT_CSR_TILE * in;
        for (int b0 = 0; b0 < batch; b0 += SWT_CSR_TILE) {
            int tb = batch - b0 < SWT_CSR_TILE ? batch - b0 : SWT_CSR_TILE;
            csr_tile_avx512(tb, out, in, rowptr, cols, vals, bias, x + (size_t)b0 * in, y + (size_t)b0 * out, xt, yt);
        }
        return;
    }
#endif
    (void)scratch;
    swt_csr_forward_portable(batch, out, in, rowptr, cols, vals, bias, x, y);
}
