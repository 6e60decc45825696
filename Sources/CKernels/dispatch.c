// Run-time choice between the AVX-512 and the scalar loops: CCPU's cached feature bits and
// its portable switch (SWTRAIN_KERNELS=portable, or the thread override), one load each.
#include "ckernels.h"
#include "sources.h"
#include "ccpu.h"

int swt_kernels_cpu_has_avx512(void) {
    return (swt_cpu_features() & SWT_CPU_AVX512F) != 0;
}

int swt_kernels_using_avx512(void) {
    return swt_kernels_may_use(SWT_CPU_AVX512F);
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
