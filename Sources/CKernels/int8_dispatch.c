// Run-time choice of the int8 kernel path through CCPU: AMX when the CPU and OS have AMX-TILE
// and AMX-INT8 and Linux granted the tile permission, else AVX-512 VNNI, else the portable
// loops; SWTRAIN_KERNELS=portable and the thread override force the portable ones.
#include "ckernels_int8.h"
#include "int8_internal.h"
#include "ccpu.h"

#define NEED_VNNI (SWT_CPU_AVX512F | SWT_CPU_AVX512BW | SWT_CPU_AVX512VL | SWT_CPU_AVX512VNNI)
#define NEED_AMX (SWT_CPU_AMX_TILE | SWT_CPU_AMX_INT8)

int swt_qgemm_path_available(int path) {
    switch (path) {
    case SWT_QGEMM_PORTABLE: return 1;
    case SWT_QGEMM_VNNI: return swt_kernels_may_use(NEED_VNNI);
    // The permission request runs once per process; before it the first tile instruction
    // would raise SIGILL.
    case SWT_QGEMM_AMX: return swt_kernels_may_use(NEED_AMX) && swt_cpu_request_amx();
    default: return 0;
    }
}

int swt_qgemm_path(void) {
    if (swt_qgemm_path_available(SWT_QGEMM_AMX)) return SWT_QGEMM_AMX;
    if (swt_qgemm_path_available(SWT_QGEMM_VNNI)) return SWT_QGEMM_VNNI;
    return SWT_QGEMM_PORTABLE;
}

const char *swt_qgemm_path_name(int path) {
    switch (path) {
    case SWT_QGEMM_PORTABLE: return "portable";
    case SWT_QGEMM_VNNI: return "vnni";
    case SWT_QGEMM_AMX: return "amx";
    default: return "unknown";
    }
}

/// Columns [n0, n1) on `path` (which must be available): a head before the first panel
/// boundary goes through the portable loop (same integers), the rest through the path.
static void run_cols(int path, int m, int n0, int n1, int k, const uint8_t *a, size_t lda,
                     const int8_t *packed, int32_t *c, size_t ldc) {
    if (m <= 0 || n1 <= n0) return;
    if (path != SWT_QGEMM_PORTABLE && n0 % SWT_Q_PANEL != 0) {
        int head = (n0 / SWT_Q_PANEL + 1) * SWT_Q_PANEL;
        if (head > n1) head = n1;
        swt_qgemm_cols_portable(m, n0, head, k, a, lda, packed, c, ldc);
        n0 = head;
        if (n0 >= n1) return;
    }
    switch (path) {
    case SWT_QGEMM_AMX: swt_qgemm_cols_amx(m, n0, n1, k, a, lda, packed, c, ldc); break;
    case SWT_QGEMM_VNNI: swt_qgemm_cols_vnni(m, n0, n1, k, a, lda, packed, c, ldc); break;
    default: swt_qgemm_cols_portable(m, n0, n1, k, a, lda, packed, c, ldc); break;
    }
}

void swt_qgemm_u8s8(int m, int n, int k, const uint8_t *a, size_t lda, const int8_t *packed,
                    int32_t *c, size_t ldc) {
    run_cols(swt_qgemm_path(), m, 0, n, k, a, lda, packed, c, ldc);
}

int swt_qgemm_u8s8_path(int path, int m, int n, int k, const uint8_t *a, size_t lda,
                        const int8_t *packed, int32_t *c, size_t ldc) {
    while (path > SWT_QGEMM_PORTABLE && !swt_qgemm_path_available(path)) path--;
    if (path < SWT_QGEMM_PORTABLE || path > SWT_QGEMM_AMX) path = SWT_QGEMM_PORTABLE;
    run_cols(path, m, 0, n, k, a, lda, packed, c, ldc);
    return path;
}

void swt_qgemm_split(int n, int parts, int index, int *n0, int *n1) {
    if (n <= 0 || parts <= 0 || index < 0 || index >= parts) { *n0 = 0; *n1 = 0; return; }
    long long panels = (n + SWT_Q_PANEL - 1) / SWT_Q_PANEL;
    long long a = panels * index / parts * SWT_Q_PANEL, b = panels * (index + 1) / parts * SWT_Q_PANEL;
    *n0 = (int)(a < n ? a : n);
    *n1 = (int)(b < n ? b : n);
}

void swt_qgemm_u8s8_cols(int m, int n0, int n1, int k, const uint8_t *a, size_t lda,
                         const int8_t *packed, int32_t *c, size_t ldc) {
    run_cols(swt_qgemm_path(), m, n0, n1, k, a, lda, packed, c, ldc);
}

void swt_qgemm_u8s8_part(int parts, int index, int m, int n, int k, const uint8_t *a, size_t lda,
                         const int8_t *packed, int32_t *c, size_t ldc) {
    int n0, n1;
    swt_qgemm_split(n, parts, index, &n0, &n1);
    run_cols(swt_qgemm_path(), m, n0, n1, k, a, lda, packed, c, ldc);
}

int swt_quantize_vectorized(void) { return swt_kernels_may_use(SWT_CPU_AVX512F); }

void swt_quantize_u8(size_t n, const float *x, float inv_scale, int32_t zero_point, uint8_t *q) {
    if (swt_quantize_vectorized()) swt_quantize_u8_avx512(n, x, inv_scale, zero_point, q);
    else swt_quantize_u8_scalar(n, x, inv_scale, zero_point, q);
}

void swt_quantize_rows_u8(int m, int k, const float *x, size_t ldx, uint8_t *q, size_t ldq,
                          float *scale, int32_t *zero_point) {
    if (swt_quantize_vectorized()) swt_quantize_rows_u8_avx512(m, k, x, ldx, q, ldq, scale, zero_point);
    else swt_quantize_rows_u8_scalar(m, k, x, ldx, q, ldq, scale, zero_point);
}

/// The output stage over rows [0, m) and columns [n0, n1) of an int32 C.
static void out_rows(int m, int n0, int n1, const int32_t *c, size_t ldc, const swt_qgemm_out *o) {
    if (swt_quantize_vectorized()) swt_qgemm_out_rows_avx512(m, n0, n1, c, ldc, o);
    else swt_qgemm_out_rows_scalar(m, n0, n1, c, ldc, o);
}

void swt_qgemm_dequant(int m, int n, const int32_t *c, size_t ldc, const float *a_scale,
                       const int32_t *a_zero, int a_per_row, const float *w_scale,
                       const int32_t *colsum, const float *bias, float *y, size_t ldy) {
    const swt_qgemm_out o = {a_scale, a_zero, a_per_row, w_scale, colsum, bias, 0, y, ldy, NULL, 0, 1.0f, 0};
    if (m > 0 && n > 0) out_rows(m, 0, n, c, ldc, &o);
}

/// `swt_qgemm_u8s8_out` on `path` (available): VNNI applies the output stage in registers;
/// the other paths write C and then run the stage over it.
static void run_out(int path, int m, int n, int k, const uint8_t *a, size_t lda, const int8_t *packed,
                    int32_t *c, size_t ldc, const swt_qgemm_out *o) {
    if (m <= 0 || n <= 0) return;
    if (path == SWT_QGEMM_VNNI) swt_qgemm_cols_vnni_out(m, 0, n, k, a, lda, packed, c, ldc, o);
    else {
        run_cols(path, m, 0, n, k, a, lda, packed, c, ldc);
        out_rows(m, 0, n, c, ldc, o);
    }
}

void swt_qgemm_u8s8_out(int m, int n, int k, const uint8_t *a, size_t lda, const int8_t *packed,
                        int32_t *c, size_t ldc, const swt_qgemm_out *out) {
    run_out(swt_qgemm_path(), m, n, k, a, lda, packed, c, ldc, out);
}

int swt_qgemm_u8s8_out_path(int path, int m, int n, int k, const uint8_t *a, size_t lda,
                            const int8_t *packed, int32_t *c, size_t ldc, const swt_qgemm_out *out) {
    while (path > SWT_QGEMM_PORTABLE && !swt_qgemm_path_available(path)) path--;
    if (path < SWT_QGEMM_PORTABLE || path > SWT_QGEMM_AMX) path = SWT_QGEMM_PORTABLE;
    run_out(path, m, n, k, a, lda, packed, c, ldc, out);
    return path;
}
