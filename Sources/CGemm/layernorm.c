/* Layer norm rows (celementwise.h): the math is in layernorm_body.h, compiled twice,
 * AVX-512 and portable. The caller splits rows over the pool. */
#include "celementwise.h"
#include "cgemm.h"
#include "simd.h"

#pragma clang fp contract(fast)
#pragma clang diagnostic ignored "-Wpsabi"

typedef float v16 __attribute__((vector_size(64)));
typedef float v8 __attribute__((vector_size(32)));
typedef float v4 __attribute__((vector_size(16)));
typedef float v2 __attribute__((vector_size(8)));

#define LN_SUFFIX _portable
#define LN_ATTR
#include "layernorm_body.h"
#undef LN_SUFFIX
#undef LN_ATTR

#if CGEMM_X86
#define LN_SUFFIX _avx512
#define LN_ATTR __attribute__((target("avx512f,avx512vl,avx512dq,fma")))
#include "layernorm_body.h"
#undef LN_SUFFIX
#undef LN_ATTR
#endif

void swt_layernorm_forward_rows(long rows, long D, const float *x, float *y, const float *w,
                                const float *b, float eps, float *stats, int portable)
{
#if CGEMM_X86
    if (!portable && swt_gemm_available()) { ln_fwd_avx512(rows, D, x, y, w, b, eps, stats); return; }
#endif
    (void)portable;
    ln_fwd_portable(rows, D, x, y, w, b, eps, stats);
}

void swt_layernorm_backward_rows(long rows, long D, const float *x, const float *dy, float *dx,
                                 const float *w, const float *stats, float *dw, float *db, int portable)
{
#if CGEMM_X86
    if (!portable && swt_gemm_available()) { ln_bwd_avx512(rows, D, x, dy, dx, w, stats, dw, db); return; }
#endif
    (void)portable;
    ln_bwd_portable(rows, D, x, dy, dx, w, stats, dw, db);
}
