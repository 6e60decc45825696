/* GELU over 16-float vectors, included twice by elementwise.c (see attention_body.h). */
#define EW_CAT2(a, b) a##b
#define EW_CAT(a, b) EW_CAT2(a, b)
#define EW_NAME(n) EW_CAT(n, EW_SUFFIX)
#define EW_INL EW_ATTR __attribute__((always_inline)) static inline

#define VM_NAME EW_NAME
#define VM_INL EW_INL
#include "vmath_body.h"
#undef VM_NAME
#undef VM_INL

EW_INL v16 EW_NAME(erf16)(v16 v)
{
    v16 x = __builtin_elementwise_min(__builtin_elementwise_max(v, EW_NAME(vsplat)(-4.0f)), EW_NAME(vsplat)(4.0f));
    v16 x2 = x * x;
    v16 p = EW_NAME(vsplat)(-2.72614225801306e-10f);
    p = p * x2 + 2.77068142495902e-08f;
    p = p * x2 - 2.10102402082508e-06f;
    p = p * x2 - 5.69250639462346e-05f;
    p = p * x2 - 7.34990630326855e-04f;
    p = p * x2 - 2.95459980854025e-03f;
    p = p * x2 - 1.60960333262415e-02f;
    v16 q = EW_NAME(vsplat)(-1.45660718464996e-05f);
    q = q * x2 - 2.13374055278905e-04f;
    q = q * x2 - 1.68282697438203e-03f;
    q = q * x2 - 7.37332916720468e-03f;
    q = q * x2 - 1.42647390514189e-02f;
    return x * p / q;
}


EW_ATTR static void EW_NAME(gelu_fwd)(long n, const float *x, float *y)
{
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        v16 v;
        __builtin_memcpy(&v, x + i, sizeof v);
        v16 r = 0.5f * v * (1.0f + EW_NAME(erf16)(v * 0.7071067811865476f));
        __builtin_memcpy(y + i, &r, sizeof r);
    }
    if (i < n) {
        float a[16] = {0}, b[16];
        for (long t = 0; t < n - i; t++) a[t] = x[i + t];
        v16 v;
        __builtin_memcpy(&v, a, sizeof v);
        v16 r = 0.5f * v * (1.0f + EW_NAME(erf16)(v * 0.7071067811865476f));
        __builtin_memcpy(b, &r, sizeof r);
        for (long t = 0; t < n - i; t++) y[i + t] = b[t];
    }
}

EW_INL v16 EW_NAME(gelu_grad)(v16 v, v16 g)
{
    v16 cdf = 0.5f * (1.0f + EW_NAME(erf16)(v * 0.7071067811865476f));
    v16 pdf = 0.3989422804014327f * EW_NAME(vexp)(-0.5f * v * v);
    return g * (cdf + v * pdf);
}

EW_ATTR static void EW_NAME(gelu_bwd)(long n, const float *x, const float *dy, float *dx)
{
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        v16 v, g;
        __builtin_memcpy(&v, x + i, sizeof v);
        __builtin_memcpy(&g, dy + i, sizeof g);
        v16 r = EW_NAME(gelu_grad)(v, g);
        __builtin_memcpy(dx + i, &r, sizeof r);
    }
    if (i < n) {
        float a[16] = {0}, c[16] = {0}, b[16];
        for (long t = 0; t < n - i; t++) { a[t] = x[i + t]; c[t] = dy[i + t]; }
        v16 v, g;
        __builtin_memcpy(&v, a, sizeof v);
        __builtin_memcpy(&g, c, sizeof g);
        v16 r = EW_NAME(gelu_grad)(v, g);
        __builtin_memcpy(b, &r, sizeof r);
        for (long t = 0; t < n - i; t++) dx[i + t] = b[t];
    }
}

#undef EW_INL
