/* The fused attention kernels, written once over 16-float vectors (clang vector extensions)
 * and included twice by attention.c: ATT_SUFFIX names the copy, ATT_ATTR carries its target
 * (AVX-512 or none: the portable copy, lowered to whatever the baseline has). */

#define ATT_CAT2(a, b) a##b
#define ATT_CAT(a, b) ATT_CAT2(a, b)
#define ATT_NAME(n) ATT_CAT(n, ATT_SUFFIX)
#define ATT_INL ATT_ATTR __attribute__((always_inline)) static inline

ATT_INL v16 ATT_NAME(vload)(const float *p) { v16 v; __builtin_memcpy(&v, p, sizeof v); return v; }
ATT_INL void ATT_NAME(vstore)(float *p, v16 v) { __builtin_memcpy(p, &v, sizeof v); }
#define VM_NAME ATT_NAME
#define VM_INL ATT_INL
#include "vmath_body.h"
#undef VM_NAME
#undef VM_INL

ATT_INL float ATT_NAME(hsum)(v16 v)
{
    float lo[8], hi[8];
    for (int t = 0; t < 8; t++) { lo[t] = v[t]; hi[t] = v[t + 8]; }
    for (int t = 0; t < 8; t++) lo[t] += hi[t];
    for (int t = 0; t < 4; t++) lo[t] += lo[t + 4];
    return (lo[0] + lo[2]) + (lo[1] + lo[3]);
}

ATT_INL float ATT_NAME(hmax)(v16 v)
{
    float m = v[0];
    for (int t = 1; t < 16; t++) m = v[t] > m ? v[t] : m;
    return m;
}


/* Lanes >= n (the future) set to -inf. */
ATT_INL v16 ATT_NAME(causal)(v16 s, int n)
{
    if (n >= 16) return s;
    const i16 iota = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    i16 keep = iota < n;
    return (v16)(((i16)s & keep) | ((i16)ATT_NAME(vsplat)(-INFINITY) & ~keep));
}

/* The dropout factors of 16 keys from flat index `index`: 1 / (1 - p) or 0
 * (swt_attention_keep, lane by lane). */
ATT_INL v16 ATT_NAME(keepmask)(uint32_t seed, uint32_t index, float p)
{
    const u16 iota = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    u16 x = (iota + index) * 0x9E3779B9u + seed;
    x ^= x >> 16; x *= 0x7FEB352Du; x ^= x >> 15; x *= 0x846CA68Bu; x ^= x >> 16;
    v16 u = __builtin_convertvector(x >> 8, v16);
    i16 keep = u >= p * 16777216.0f;
    return (v16)((i16)ATT_NAME(vsplat)(1.0f / (1.0f - p)) & keep);
}

/* Scores of query qs (already scaled) against keys j0 ..< j0 + 16: kt is K^T, (d, Tp). */
ATT_INL v16 ATT_NAME(scores)(const float *qs, const float *kt, int Tp, int j0, int d)
{
    v16 s0 = {0}, s1 = {0};
    int c = 0;
    for (; c + 2 <= d; c += 2) {
        s0 += qs[c] * ATT_NAME(vload)(kt + (long)c * Tp + j0);
        s1 += qs[c + 1] * ATT_NAME(vload)(kt + (long)(c + 1) * Tp + j0);
    }
    for (; c < d; c++) s0 += qs[c] * ATT_NAME(vload)(kt + (long)c * Tp + j0);
    return s0 + s1;
}

/* Src rows (T, d) at stride ld -> dst (d, Tp), zero-padded to Tp columns. */
ATT_INL void ATT_NAME(transpose)(const float *src, long ld, int T, int d, int Tp, float *dst)
{
    for (int c = 0; c < d; c++) {
        float *row = dst + (long)c * Tp;
        for (int j = 0; j < T; j++) row[j] = src[(long)j * ld + c];
        for (int j = T; j < Tp; j++) row[j] = 0.0f;
    }
}

ATT_INL void ATT_NAME(forward_head)(const att_args *a, int b, int h, const int nv)
{
    const int T = a->T, C = a->C, H = a->H, d = nv * 16, Tp = (T + 15) & ~15;
    const long ld = 3L * C;
    const float *Q = a->qkv + (long)b * T * ld + (long)h * d, *K = Q + C, *V = Q + 2 * C;
    float *kt = cgemm_workspace(CGEMM_WORKSPACE_ATTENTION, (size_t)d * Tp);
    if (!kt) abort();
    ATT_NAME(transpose)(K, ld, T, d, Tp, kt);
    const float scale = a->scale, p = a->dropout;
    const uint32_t base = (uint32_t)((long)(b * H + h) * T * T);
    for (int i = 0; i < T; i++) {
        const float *q = Q + (long)i * ld;
        float qs[ATT_DMAX];
        for (int c = 0; c < d; c++) qs[c] = q[c] * scale;
        v16 acc[ATT_DMAX / 16];
        for (int v = 0; v < nv; v++) acc[v] = ATT_NAME(vsplat)(0.0f);
        float m = -INFINITY, l = 0.0f;
        for (int j0 = 0; j0 <= i; j0 += 16) {
            int n = i + 1 - j0;
            v16 s = ATT_NAME(causal)(ATT_NAME(scores)(qs, kt, Tp, j0, d), n);
            float mx = ATT_NAME(hmax)(s), mn = mx > m ? mx : m;
            float corr = m == -INFINITY ? 0.0f : expf(m - mn);
            v16 pr = ATT_NAME(vexp)(s - mn);
            l = l * corr + ATT_NAME(hsum)(pr);
            if (p > 0) pr *= ATT_NAME(keepmask)(a->seed, base + (uint32_t)(i * T + j0), p);
            for (int v = 0; v < nv; v++) acc[v] *= corr;
            float pa[16];
            ATT_NAME(vstore)(pa, pr);
            int nj = n < 16 ? n : 16;
            for (int jj = 0; jj < nj; jj++) {
                const float *vr = V + (long)(j0 + jj) * ld;
                for (int v = 0; v < nv; v++) acc[v] += pa[jj] * ATT_NAME(vload)(vr + 16 * v);
            }
            m = mn;
        }
        float inv = 1.0f / l;
        float *o = a->out + ((long)b * T + i) * C + (long)h * d;
        for (int v = 0; v < nv; v++) ATT_NAME(vstore)(o + 16 * v, acc[v] * inv);
        a->lse[(long)(b * H + h) * T + i] = m + logf(l);
    }
}

ATT_INL void ATT_NAME(backward_head)(const att_args *a, int b, int h, const int nv)
{
    const int T = a->T, C = a->C, H = a->H, d = nv * 16, Tp = (T + 15) & ~15;
    const long ld = 3L * C;
    const float *Q = a->qkv + (long)b * T * ld + (long)h * d, *K = Q + C, *V = Q + 2 * C;
    float *ws = cgemm_workspace(CGEMM_WORKSPACE_ATTENTION, (size_t)2 * d * Tp + (size_t)2 * T * d);
    if (!ws) abort();
    float *kt = ws, *vt = ws + (long)d * Tp, *dk = vt + (long)d * Tp, *dv = dk + (long)T * d;
    ATT_NAME(transpose)(K, ld, T, d, Tp, kt);
    ATT_NAME(transpose)(V, ld, T, d, Tp, vt);
    for (long t = 0; t < 2L * T * d; t++) dk[t] = 0.0f;
    const float scale = a->scale, p = a->dropout;
    const uint32_t base = (uint32_t)((long)(b * H + h) * T * T);
    float *dQ = a->dqkv + (long)b * T * ld + (long)h * d;
    for (int i = 0; i < T; i++) {
        const float *q = Q + (long)i * ld;
        const float *doi = a->dout + ((long)b * T + i) * C + (long)h * d;
        const float *oi = a->out + ((long)b * T + i) * C + (long)h * d;
        float qs[ATT_DMAX];
        for (int c = 0; c < d; c++) qs[c] = q[c] * scale;
        v16 dov[ATT_DMAX / 16], qv[ATT_DMAX / 16], dq[ATT_DMAX / 16];
        v16 dsum = {0};
        for (int v = 0; v < nv; v++) {
            dov[v] = ATT_NAME(vload)(doi + 16 * v);
            qv[v] = ATT_NAME(vload)(q + 16 * v);
            dq[v] = ATT_NAME(vsplat)(0.0f);
            dsum += dov[v] * ATT_NAME(vload)(oi + 16 * v);
        }
        const float D = ATT_NAME(hsum)(dsum);
        const float L = a->lse[(long)(b * H + h) * T + i];
        for (int j0 = 0; j0 <= i; j0 += 16) {
            int n = i + 1 - j0;
            v16 s = ATT_NAME(causal)(ATT_NAME(scores)(qs, kt, Tp, j0, d), n);
            v16 pr = ATT_NAME(vexp)(s - L);
            v16 dA = ATT_NAME(scores)(doi, vt, Tp, j0, d);
            v16 pm = pr;
            if (p > 0) {
                v16 mk = ATT_NAME(keepmask)(a->seed, base + (uint32_t)(i * T + j0), p);
                dA *= mk;
                pm = pr * mk;
            }
            v16 ds = pr * (dA - D) * scale;
            float pa[16], dsa[16];
            ATT_NAME(vstore)(pa, pm);
            ATT_NAME(vstore)(dsa, ds);
            int nj = n < 16 ? n : 16;
            for (int jj = 0; jj < nj; jj++) {
                const float *kr = K + (long)(j0 + jj) * ld;
                float *dkr = dk + (long)(j0 + jj) * d, *dvr = dv + (long)(j0 + jj) * d;
                for (int v = 0; v < nv; v++) {
                    dq[v] += dsa[jj] * ATT_NAME(vload)(kr + 16 * v);
                    ATT_NAME(vstore)(dkr + 16 * v, ATT_NAME(vload)(dkr + 16 * v) + dsa[jj] * qv[v]);
                    ATT_NAME(vstore)(dvr + 16 * v, ATT_NAME(vload)(dvr + 16 * v) + pa[jj] * dov[v]);
                }
            }
        }
        float *dqr = dQ + (long)i * ld;
        for (int v = 0; v < nv; v++) ATT_NAME(vstore)(dqr + 16 * v, dq[v]);
    }
    for (int j = 0; j < T; j++) {
        float *dkr = dQ + (long)j * ld + C, *dvr = dkr + C;
        for (int c = 0; c < d; c++) { dkr[c] = dk[(long)j * d + c]; dvr[c] = dv[(long)j * d + c]; }
    }
}

ATT_ATTR static void ATT_NAME(forward_task)(void *ctx, long t)
{
    const att_args *a = ctx;
    int b = (int)(t / a->H), h = (int)(t % a->H);
    switch (a->C / a->H / 16) {
    case 1: ATT_NAME(forward_head)(a, b, h, 1); break;
    case 2: ATT_NAME(forward_head)(a, b, h, 2); break;
    case 3: ATT_NAME(forward_head)(a, b, h, 3); break;
    case 4: ATT_NAME(forward_head)(a, b, h, 4); break;
    case 5: ATT_NAME(forward_head)(a, b, h, 5); break;
    case 6: ATT_NAME(forward_head)(a, b, h, 6); break;
    case 7: ATT_NAME(forward_head)(a, b, h, 7); break;
    default: ATT_NAME(forward_head)(a, b, h, 8); break;
    }
}

ATT_ATTR static void ATT_NAME(backward_task)(void *ctx, long t)
{
    const att_args *a = ctx;
    int b = (int)(t / a->H), h = (int)(t % a->H);
    switch (a->C / a->H / 16) {
    case 1: ATT_NAME(backward_head)(a, b, h, 1); break;
    case 2: ATT_NAME(backward_head)(a, b, h, 2); break;
    case 3: ATT_NAME(backward_head)(a, b, h, 3); break;
    case 4: ATT_NAME(backward_head)(a, b, h, 4); break;
    case 5: ATT_NAME(backward_head)(a, b, h, 5); break;
    case 6: ATT_NAME(backward_head)(a, b, h, 6); break;
    case 7: ATT_NAME(backward_head)(a, b, h, 7); break;
    default: ATT_NAME(backward_head)(a, b, h, 8); break;
    }
}

#undef ATT_INL
