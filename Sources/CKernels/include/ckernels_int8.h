// Int8 kernels of quantized inference: u8 activations x s8 weights with exact int32
// accumulation, and the float <-> int8 conversions around them.
//
// Contract (every path gives the same integers and the same floats):
// - `swt_qgemm_*`: C[m, n] = sum_k A[m, k] * W[n, k], A uint8 row-major (lda), W int8 given
//   row-major [n, k] (output unit first, as a dense weight) and packed once with
//   `swt_qgemm_pack` into the layout every path reads. Products are summed exactly in int32
//   (no saturation; |C| <= k * 255 * 128 must fit, i.e. k <= 65793).
// - Paths: AMX tiles (when the CPU has AMX-INT8 and the process obtained the tile permission),
//   AVX-512 VNNI, a portable loop; chosen per call through CCPU (SWTRAIN_KERNELS=portable and
//   the thread override force the portable loop). `swt_qgemm_path()` names the path taken.
// - Quantize: q = clamp(nearbyint(x * inv_scale) + zero_point, 0, 255), rounding to nearest
//   even, one multiply (no FMA). Dequantize of a GEMM result:
//   y[i, j] = (float)(C[i, j] - a_zero[i] * colsum[j]) * (a_scale[i] * w_scale[j]) + bias[j]
//   with the product a_scale[i] * w_scale[j] rounded to float first and no FMA.
//   NaN inputs quantize like -inf (to 0); +-inf and huge values clamp to 0 or 255.
// - Packed layout (private to these functions, read by every path): W in panels of 16 output
//   columns, k zero-padded to a multiple of 64, each panel as k-groups of 4 x 16 columns
//   (64 bytes: one zmm for vpdpbusd; 16 groups = one AMX B tile). See docs/kernels.md.
// - The AMX path is written to the Intel documentation but has not run on AMX hardware yet
//   (the development machine has none); it is taken only with AMX-TILE + AMX-INT8 and the
//   Linux tile permission. Its code also runs on a C model of the tile unit
//   (`swt_qgemm_cols_amx_model`), which the tests compare with the portable loop on any CPU.
#ifndef SWTRAIN_CKERNELS_INT8_H
#define SWTRAIN_CKERNELS_INT8_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Kernel paths of the int8 GEMM (the value of `swt_qgemm_path`).
enum { SWT_QGEMM_PORTABLE = 0, SWT_QGEMM_VNNI = 1, SWT_QGEMM_AMX = 2 };

/// Bytes of the packed form of an int8 weight W [n, k].
size_t swt_qgemm_packed_bytes(int n, int k);

/// Packs W [n, k] (row-major, row stride k) into `packed` (`swt_qgemm_packed_bytes(n, k)`
/// bytes) and writes colsum[j] = sum_k W[j, k] (needed to remove the activations' zero point).
void swt_qgemm_pack(int n, int k, const int8_t *w, int8_t *packed, int32_t *colsum);

/// C[m, n] (row stride ldc) = A[m, k] (uint8, row stride lda) x W^T for a packed W [n, k].
void swt_qgemm_u8s8(int m, int n, int k, const uint8_t *a, size_t lda, const int8_t *packed,
                    int32_t *c, size_t ldc);

/// The path the next `swt_qgemm_u8s8` call on this thread takes (SWT_QGEMM_*). May ask Linux
/// for the AMX tile permission (once per process) when the CPU has AMX.
int swt_qgemm_path(void);

/// 1 when `path` (SWT_QGEMM_*) may run on this thread: the CPU and OS have its features, the
/// portable path is not forced, and for AMX the tile permission was granted (asked once).
int swt_qgemm_path_available(int path);

/// "portable", "vnni", "amx" (or "unknown") for a SWT_QGEMM_* value.
const char *swt_qgemm_path_name(int path);

/// `swt_qgemm_u8s8` on the given path, or the best available path below it (AMX, then VNNI,
/// then portable) when it cannot run here; returns the path taken. For tests and benchmarks.
int swt_qgemm_u8s8_path(int path, int m, int n, int k, const uint8_t *a, size_t lda,
                        const int8_t *packed, int32_t *c, size_t ldc);

/// Columns [n0, n1) (n0 a multiple of 16, n1 <= n) of C = A W^T, W packed for n columns, by
/// the AMX kernel's own code run on a C model of the tile unit (int8_amx_model.c), on any CPU:
/// for tests. Returns 0, or 1 when the code broke a rule the hardware enforces (#GP / #UD
/// conditions of LDTILECFG, TILELOADD, TILESTORED, TDPBUSD) or a tile load or store left the
/// buffers it was given or declared; `swt_qgemm_amx_model_fault()` then names the first one.
int swt_qgemm_cols_amx_model(int m, int n, int n0, int n1, int k, const uint8_t *a, size_t lda,
                             const int8_t *packed, int32_t *c, size_t ldc);
/// The first fault of this thread's last `swt_qgemm_cols_amx_model` call ("" if none).
const char *swt_qgemm_amx_model_fault(void);

/// Columns [n0, n1) of `swt_qgemm_u8s8` (0 <= n0 <= n1 <= n; C's other columns untouched),
/// on the current path. Ranges starting on a multiple of 16 run fully vectorized.
void swt_qgemm_u8s8_cols(int m, int n0, int n1, int k, const uint8_t *a, size_t lda,
                         const int8_t *packed, int32_t *c, size_t ldc);

/// Static partition of n columns into `parts` ranges, range `index` is [*n0, *n1): whole
/// 16-column panels spread evenly, the last range ending at n (empty ranges are possible).
void swt_qgemm_split(int n, int parts, int index, int *n0, int *n1);

/// Part `index` of `parts` of `swt_qgemm_u8s8` (the columns of `swt_qgemm_split`), for a
/// thread pool: running every index once, on any threads in any order, writes exactly the
/// C of one `swt_qgemm_u8s8` call (the integers do not depend on the split).
void swt_qgemm_u8s8_part(int parts, int index, int m, int n, int k, const uint8_t *a, size_t lda,
                         const int8_t *packed, int32_t *c, size_t ldc);

/// 1 when the quantize / dequantize functions below take their AVX-512 loops on this thread
/// (same bits as the portable ones).
int swt_quantize_vectorized(void);

/// q[i] = clamp(nearbyint(x[i] * inv_scale) + zero_point, 0, 255) for i in [0, n).
void swt_quantize_u8(size_t n, const float *x, float inv_scale, int32_t zero_point, uint8_t *q);

/// Per-row asymmetric quantization of X [m, k] (row stride ldx) into Q (row stride ldq): each
/// row's range [min(0, min x), max(0, max x)] maps onto 0...255; scale[i] = (hi - lo) / 255
/// (1 when the row is all zero), zero_point[i] = clamp(nearbyint(-lo / scale), 0, 255).
void swt_quantize_rows_u8(int m, int k, const float *x, size_t ldx, uint8_t *q, size_t ldq,
                          float *scale, int32_t *zero_point);

/// Y[m, n] (row stride ldy) from a GEMM result C (see the contract above). `a_per_row`: 1 when
/// a_scale/a_zero hold m entries, 0 when they hold one for every row. `bias` may be NULL.
void swt_qgemm_dequant(int m, int n, const int32_t *c, size_t ldc, const float *a_scale,
                       const int32_t *a_zero, int a_per_row, const float *w_scale,
                       const int32_t *colsum, const float *bias, float *y, size_t ldy);

/// The output stage of `swt_qgemm_u8s8_out`: for each C[i, j] the dequantized value
///   v = (float)(C[i, j] - a_zero[i] * colsum[j]) * (a_scale[i] * w_scale[j]) (+ bias[j])
/// (as `swt_qgemm_dequant`), then with `relu` v = (0 >= v) ? 0 : v (the relu layer's
/// max(v, 0): NaN kept, -0 -> +0), written either as float y[i, j] (`y` not NULL) or, for a
/// next layer with static input quantization, as uint8
///   q[i, j] = clamp(nearbyint(v * q_inv_scale) + q_zero, 0, 255)   (as `swt_quantize_u8`).
/// So the fused result equals dequantize, relu and quantize run one after another, bit for bit.
typedef struct swt_qgemm_out {
    const float *a_scale;    ///< m entries (a_per_row) or 1
    const int32_t *a_zero;   ///< m entries (a_per_row) or 1
    int a_per_row;
    const float *w_scale;    ///< n entries
    const int32_t *colsum;   ///< n entries (from swt_qgemm_pack)
    const float *bias;       ///< n entries, or NULL
    int relu;
    float *y;                ///< float output (row stride ldy), or NULL for the uint8 one
    size_t ldy;
    uint8_t *q;              ///< uint8 output (row stride ldq) when y is NULL
    size_t ldq;
    float q_inv_scale;
    int32_t q_zero;
} swt_qgemm_out;

/// C = A W^T (as `swt_qgemm_u8s8`) written through the output stage `out` instead of as int32.
/// `c` (row stride ldc >= n) is int32 scratch of m x n: the VNNI path keeps the sums in
/// registers and touches it only for k above 1024 (partial sums of the k blocks); other paths
/// write the sums there and then apply the output stage.
void swt_qgemm_u8s8_out(int m, int n, int k, const uint8_t *a, size_t lda, const int8_t *packed,
                        int32_t *c, size_t ldc, const swt_qgemm_out *out);

/// `swt_qgemm_u8s8_out` on the given path (or the best available below it); returns the path
/// taken. For tests and benchmarks.
int swt_qgemm_u8s8_out_path(int path, int m, int n, int k, const uint8_t *a, size_t lda,
                            const int8_t *packed, int32_t *c, size_t ldc, const swt_qgemm_out *out);

#ifdef __cplusplus
}
#endif

#endif
