#include "cgemm.h"
#include "ccpu.h"

int swt_gemm_available(void)
{
    const uint32_t need = SWT_CPU_AVX512F | SWT_CPU_AVX512VL;
    return (swt_cpu_features() & need) == need;
}

int swt_gemm_enabled(void)
{
    return swt_kernels_may_use(SWT_CPU_AVX512F | SWT_CPU_AVX512VL);
}
