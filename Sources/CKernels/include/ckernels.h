// CKernels: the optimizer inner loops of SwOptim and the Float32 <-> bf16 / f16 conversions
// as C kernels, AVX-512 with a portable scalar fallback chosen at run time (CCPU).
//
// Every kernel exists in three forms: `swt_X` dispatches (AVX-512 when the CPU and OS
// support it and the portable path is not forced: CCPU's `SWTRAIN_KERNELS=portable` or its
// thread override `swt_kernels_set_thread_override`), `swt_X_scalar` is the portable loop and
// `swt_X_avx512` the vector loop (call it only when `swt_kernels_cpu_has_avx512()` is 1).
// The two loops do the same IEEE-754 Float32 operations in the same order, with no fused
// multiply-add, so they give bit-identical results.
//
// Gradient sources: the gradient of element i is sources[0][i] + sources[1][i] + ...,
// summed left to right in Float32 (one source: just sources[0][i]). With `zero_sources`
// each source element is set to +0 right after it is read. `nsources` must be >= 1, the
// sources must not overlap each other or the parameter/state buffers (the kernels read and
// write exactly elements [0, n) of every pointer). All pointers are to the first element
// of the range to update; no alignment is required.
#ifndef SWTRAIN_CKERNELS_H
#define SWTRAIN_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Per-step scalars of SGD (torch.optim.SGD), computed by the caller.
typedef struct swt_sgd_params {
    float lr;            ///< learning rate γ
    float weight_decay;  ///< λ; 0 skips `g ← λ p + g`
    float momentum;      ///< μ (used only with a momentum buffer)
    float keep;          ///< 1 − τ (dampening)
    int first_step;      ///< nonzero on step 1: the buffer becomes g
    int nesterov;        ///< nonzero: g ← μ b + g, else g ← b
} swt_sgd_params;

/// Per-step scalars of Adam/AdamW (torch.optim.Adam/AdamW), computed by the caller.
typedef struct swt_adam_params {
    float step_size;     ///< Float(γ / (1 − β1ᵗ)) (bias correction in Double, then rounded)
    float bc2_sqrt;      ///< Float(√(1 − β2ᵗ))
    float w1;            ///< 1 − β1
    float w2;            ///< 1 − β2
    float beta2;         ///< β2
    float eps;           ///< ε
    float l2;            ///< coupled weight decay λ (Adam); 0 skips `g ← λ p + g`
    float decay;         ///< decoupled factor 1 − γλ (AdamW); 1 skips `p ← decay · p`
} swt_adam_params;

/// 1 when the CPU and OS support AVX-512F, else 0 (CCPU's cached features).
int swt_kernels_cpu_has_avx512(void);
/// 1 when the dispatching kernels called on this thread use the AVX-512 loops (AVX-512F
/// present and the portable path not forced).
int swt_kernels_using_avx512(void);

/// SGD over n elements: with g the summed sources,
/// `g ← λp + g` (λ ≠ 0); with a buffer b: `b ← g` (first step) or `b ← μb + (1−τ)g`,
/// then `g ← μb + g` (nesterov) or `g ← b`; finally `p ← p − gγ`.
/// `b` is NULL for plain SGD (no momentum).
void swt_sgd_step(float *p, float *b, float *const *sources, size_t nsources, int zero_sources,
                  size_t n, swt_sgd_params hp);
void swt_sgd_step_scalar(float *p, float *b, float *const *sources, size_t nsources,
                         int zero_sources, size_t n, swt_sgd_params hp);
void swt_sgd_step_avx512(float *p, float *b, float *const *sources, size_t nsources,
                         int zero_sources, size_t n, swt_sgd_params hp);

/// Adam/AdamW over n elements: with g the summed sources,
/// `g ← l2·p + g` (l2 ≠ 0); `m ← (g − m)w1 + m`; `v ← v·β2 + g·g·w2`;
/// `p ← p·decay` (decay ≠ 1); `p ← p − step_size·m / (√v / bc2_sqrt + ε)`.
void swt_adam_step(float *p, float *m, float *v, float *const *sources, size_t nsources,
                   int zero_sources, size_t n, swt_adam_params hp);
void swt_adam_step_scalar(float *p, float *m, float *v, float *const *sources, size_t nsources,
                          int zero_sources, size_t n, swt_adam_params hp);
void swt_adam_step_avx512(float *p, float *m, float *v, float *const *sources, size_t nsources,
                          int zero_sources, size_t n, swt_adam_params hp);

/// `dst[i] = sources[0][i] + sources[1][i] + ...` over n elements. `dst` may equal one of
/// the sources (same pointer); with `zero_others` every source whose pointer is not `dst`
/// is set to +0 right after it is read.
void swt_sum_gradients(float *dst, float *const *sources, size_t nsources, int zero_others, size_t n);
void swt_sum_gradients_scalar(float *dst, float *const *sources, size_t nsources, int zero_others,
                              size_t n);
void swt_sum_gradients_avx512(float *dst, float *const *sources, size_t nsources, int zero_others,
                              size_t n);

/// Element conversions, n elements from `src` to `dst` (no overlap, no alignment needed).
/// Float32 -> bfloat16 and -> binary16 round to nearest, ties to even, subnormals included
/// (binary16: |x| >= 65520 becomes inf); a NaN keeps its sign and top payload bits and gets
/// the quiet bit. bfloat16 -> Float32 is exact (a shift); binary16 -> Float32 is exact, with
/// a NaN made quiet as vcvtph2ps does. `_portable` is integer C, `_avx512` the vector form
/// (bit-identical; binary16 also has `_f16c`, below; call `_avx512` only when `swt_convert_has_avx512(1)` for f32 -> bf16, else
/// `swt_convert_has_avx512(0)`; on non-x86 it is the portable loop); the plain name dispatches.
void swt_f32_to_bf16(const float *src, uint16_t *dst, size_t n);
void swt_f32_to_bf16_portable(const float *src, uint16_t *dst, size_t n);
void swt_f32_to_bf16_avx512(const float *src, uint16_t *dst, size_t n);
void swt_bf16_to_f32(const uint16_t *src, float *dst, size_t n);
void swt_bf16_to_f32_portable(const uint16_t *src, float *dst, size_t n);
void swt_bf16_to_f32_avx512(const uint16_t *src, float *dst, size_t n);
void swt_f32_to_f16(const float *src, uint16_t *dst, size_t n);
void swt_f32_to_f16_portable(const float *src, uint16_t *dst, size_t n);
void swt_f32_to_f16_avx512(const float *src, uint16_t *dst, size_t n);
void swt_f16_to_f32(const uint16_t *src, float *dst, size_t n);
void swt_f16_to_f32_portable(const uint16_t *src, float *dst, size_t n);
void swt_f16_to_f32_avx512(const uint16_t *src, float *dst, size_t n);
/// The binary16 conversions with F16C (8 lanes, for CPUs with F16C but no AVX-512; the
/// dispatchers prefer AVX-512). Call only when `swt_cpu_features()` has SWT_CPU_F16C.
void swt_f32_to_f16_f16c(const float *src, uint16_t *dst, size_t n);
void swt_f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n);
/// 1 when this CPU runs the `_avx512` conversions: AVX-512F, plus (bf16 != 0, for
/// f32 -> bf16) AVX512-BF16, BW and VL.
int swt_convert_has_avx512(int bf16);

#ifdef __cplusplus
}
#endif

#endif
