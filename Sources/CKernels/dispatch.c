// Run-time choice between the AVX-512 and the scalar loops, resolved once.
#include "ckernels.h"
#include "sources.h"

#include <stdatomic.h>

// -1: not checked yet; 0 or 1 after the first call.
static atomic_int cpu_has_avx512 = -1;
static atomic_int force_scalar = 0;

int swt_kernels_cpu_has_avx512(void) {
    int known = atomic_load_explicit(&cpu_has_avx512, memory_order_relaxed);
    if (known >= 0) return known;
#if SWT_HAVE_AVX512
    __builtin_cpu_init();
    known = __builtin_cpu_supports("avx512f") ? 1 : 0;   // CPU flag and OS-enabled ZMM state
#else
    known = 0;
#endif
    atomic_store_explicit(&cpu_has_avx512, known, memory_order_relaxed);
    return known;
}

void swt_kernels_force_scalar(int force) {
    atomic_store_explicit(&force_scalar, force != 0, memory_order_relaxed);
}

int swt_kernels_using_avx512(void) {
    return !atomic_load_explicit(&force_scalar, memory_order_relaxed) && swt_kernels_cpu_has_avx512();
}

void swt_sgd_step(float *p, float *b, float *const *sources, size_t nsources, int zero_sources,
                  size_t n, swt_sgd_params hp) {
    if (swt_kernels_using_avx512()) swt_sgd_step_avx512(p, b, sources, nsources, zero_sources, n, hp);
    else swt_sgd_step_scalar(p, b, sources, nsources, zero_sources, n, hp);
}

void swt_adam_step(float *p, float *m, float *v, float *const *sources, size_t nsources,
                   int zero_sources, size_t n, swt_adam_params hp) {
    if (swt_kernels_using_avx512()) swt_adam_step_avx512(p, m, v, sources, nsources, zero_sources, n, hp);
    else swt_adam_step_scalar(p, m, v, sources, nsources, zero_sources, n, hp);
}

void swt_sum_gradients(float *dst, float *const *sources, size_t nsources, int zero_others, size_t n) {
    if (swt_kernels_using_avx512()) swt_sum_gradients_avx512(dst, sources, nsources, zero_others, n);
    else swt_sum_gradients_scalar(dst, sources, nsources, zero_others, n);
}
