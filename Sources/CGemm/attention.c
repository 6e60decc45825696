/* Fused causal attention (cattention.h): one pool task per (batch, head); the kernels are in
 * attention_body.h, compiled twice, AVX-512 and portable. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include "cattention.h"
#include "cgemm.h"
#include "cpool.h"
#include "simd.h"

/* Products and sums may fuse into FMA; each copy fixes its order at compile time. */
#pragma clang fp contract(fast)
/* The portable copy passes 64-byte vectors between always-inline helpers only. */
#pragma clang diagnostic ignored "-Wpsabi"

#define ATT_DMAX 128   /* head width d: a multiple of 16, at most this */

typedef float v16 __attribute__((vector_size(64)));
typedef float v8 __attribute__((vector_size(32)));
typedef float v4 __attribute__((vector_size(16)));
typedef float v2 __attribute__((vector_size(8)));
typedef int32_t i16 __attribute__((vector_size(64)));
typedef uint32_t u16 __attribute__((vector_size(64)));

typedef struct {
    int B, H, T, C;
    const float *qkv;
    float *out;
    const float *dout;
    float *lse;
    float *dqkv;
    float scale, dropout;
    uint32_t seed;
} att_args;

#define ATT_SUFFIX _portable
#define ATT_ATTR
#include "attention_body.h"
#undef ATT_SUFFIX
#undef ATT_ATTR

#if CGEMM_X86
#define ATT_SUFFIX _avx512
#define ATT_ATTR __attribute__((target("avx512f,avx512vl,avx512dq,fma")))
#include "attention_body.h"
#undef ATT_SUFFIX
#undef ATT_ATTR
#endif

static swt_pool_fn pick(int portable, swt_pool_fn generic, swt_pool_fn fast)
{
#if CGEMM_X86
    if (!portable && swt_gemm_available()) return fast;
#else
    (void)fast;
#endif
    (void)portable;
    return generic;
}

void swt_attention_forward(int B, int H, int T, int C, const float *qkv, float *out, float *lse,
                           float scale, float dropout, uint32_t seed, int portable)
{
    att_args a = {B, H, T, C, qkv, out, NULL, lse, NULL, scale, dropout, seed};
#if CGEMM_X86
    swt_pool_fn f = pick(portable, forward_task_portable, forward_task_avx512);
#else
    swt_pool_fn f = pick(portable, forward_task_portable, NULL);
#endif
    swt_pool_run((long)B * H, f, &a);
}

void swt_attention_backward(int B, int H, int T, int C, const float *qkv, const float *out,
                            const float *dout, const float *lse, float *dqkv,
                            float scale, float dropout, uint32_t seed, int portable)
{
    att_args a = {B, H, T, C, qkv, (float *)out, dout, (float *)lse, dqkv, scale, dropout, seed};
#if CGEMM_X86
    swt_pool_fn f = pick(portable, backward_task_portable, backward_task_avx512);
#else
    swt_pool_fn f = pick(portable, backward_task_portable, NULL);
#endif
    swt_pool_run((long)B * H, f, &a);
}
