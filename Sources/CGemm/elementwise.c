/* Vector GELU (celementwise.h): pool tasks of fixed 32 K-element blocks; the math is in
 * elementwise_body.h, compiled twice, AVX-512 and portable. */
#include <stdint.h>
#include "celementwise.h"
#include "cgemm.h"
#include "cpool.h"
#include "simd.h"

#pragma clang fp contract(fast)
#pragma clang diagnostic ignored "-Wpsabi"

typedef float v16 __attribute__((vector_size(64)));
typedef int32_t i16 __attribute__((vector_size(64)));

#define EW_SUFFIX _portable
#define EW_ATTR
#include "elementwise_body.h"
#undef EW_SUFFIX
#undef EW_ATTR

#if CGEMM_X86
#define EW_SUFFIX _avx512
#define EW_ATTR __attribute__((target("avx512f,avx512vl,avx512dq,fma")))
#include "elementwise_body.h"
#undef EW_SUFFIX
#undef EW_ATTR
#endif

#define EW_BLOCK (32L * 1024)

typedef struct { long n; const float *x, *dy; float *y; int fast; } ew_job;

static void fwd_task(void *ctx, long t)
{
    const ew_job *j = ctx;
    long lo = t * EW_BLOCK, len = j->n - lo < EW_BLOCK ? j->n - lo : EW_BLOCK;
#if CGEMM_X86
    if (j->fast) { gelu_fwd_avx512(len, j->x + lo, j->y + lo); return; }
#endif
    gelu_fwd_portable(len, j->x + lo, j->y + lo);
}

static void bwd_task(void *ctx, long t)
{
    const ew_job *j = ctx;
    long lo = t * EW_BLOCK, len = j->n - lo < EW_BLOCK ? j->n - lo : EW_BLOCK;
#if CGEMM_X86
    if (j->fast) { gelu_bwd_avx512(len, j->x + lo, j->dy + lo, j->y + lo); return; }
#endif
    gelu_bwd_portable(len, j->x + lo, j->dy + lo, j->y + lo);
}

void swt_gelu_forward(long n, const float *x, float *y, int portable)
{
    ew_job j = {n, x, NULL, y, !portable && swt_gemm_available()};
    swt_pool_run((n + EW_BLOCK - 1) / EW_BLOCK, fwd_task, &j);
}

void swt_gelu_backward(long n, const float *x, const float *dy, float *dx, int portable)
{
    ew_job j = {n, x, dy, dx, !portable && swt_gemm_available()};
    swt_pool_run((n + EW_BLOCK - 1) / EW_BLOCK, bwd_task, &j);
}
