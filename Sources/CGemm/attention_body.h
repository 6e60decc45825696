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

/* Scores of R queries qs[r] (already scaled) against keys j0 ..< j0 + 16, each K^T vector
 * loaded once for all R: per query the sums of scores() in its order. */
ATT_INL void ATT_NAME(scores_rows)(const int R, const float (*qs)[ATT_DMAX], const float *kt, int Tp,
                                   int j0, int d, v16 *out)
{
    v16 s0[2] = {{0}}, s1[2] = {{0}};
    for (int c = 0; c + 2 <= d; c += 2) {
        v16 k0 = ATT_NAME(vload)(kt + (long)c * Tp + j0), k1 = ATT_NAME(vload)(kt + (long)(c + 1) * Tp + j0);
        for (int r = 0; r < R; r++) { s0[r] += qs[r][c] * k0; s1[r] += qs[r][c + 1] * k1; }
    }
    for (int r = 0; r < R; r++) out[r] = s0[r] + s1[r];
}

/* Queries i ..< i + R (R = 1 or 2) of one head: dQ rows, and their terms of dK and dV added
 * into dk, dv (key j gets its terms in query order, as one query at a time would add them;
 * K rows, dK and dV rows loaded once per key for both queries). */
ATT_INL void ATT_NAME(backward_rows)(const att_args *a, const int R, int i, const int nv,
                                     const float *Q, const float *K, const float *kt, const float *vt,
                                     float *dk, float *dv, float *dQ, int b, int h)
{
    const int T = a->T, C = a->C, H = a->H, d = nv * 16, Tp = (T + 15) & ~15;
    const long ld = 3L * C;
    const float scale = a->scale, p = a->dropout;
    const uint32_t base = (uint32_t)((long)(b * H + h) * T * T);
    float qs[2][ATT_DMAX], dos[2][ATT_DMAX];
    v16 dov[2][ATT_DMAX / 16], qv[2][ATT_DMAX / 16], dq[2][ATT_DMAX / 16];
    float D[2], L[2];
    for (int r = 0; r < R; r++) {
        const float *q = Q + (long)(i + r) * ld;
        const float *doi = a->dout + ((long)b * T + i + r) * C + (long)h * d;
        const float *oi = a->out + ((long)b * T + i + r) * C + (long)h * d;
        for (int c = 0; c < d; c++) { qs[r][c] = q[c] * scale; dos[r][c] = doi[c]; }
        v16 dsum = {0};
        for (int v = 0; v < nv; v++) {
            dov[r][v] = ATT_NAME(vload)(doi + 16 * v);
            qv[r][v] = ATT_NAME(vload)(q + 16 * v);
            dq[r][v] = ATT_NAME(vsplat)(0.0f);
            dsum += dov[r][v] * ATT_NAME(vload)(oi + 16 * v);
        }
        D[r] = ATT_NAME(hsum)(dsum);
        L[r] = a->lse[(long)(b * H + h) * T + i + r];
    }
    for (int j0 = 0; j0 <= i + R - 1; j0 += 16) {
        v16 s[2], dA[2];
        ATT_NAME(scores_rows)(R, (const float (*)[ATT_DMAX])qs, kt, Tp, j0, d, s);
        ATT_NAME(scores_rows)(R, (const float (*)[ATT_DMAX])dos, vt, Tp, j0, d, dA);
        float pa[2][16], dsa[2][16];
        int nj[2] = {0, 0};
        for (int r = 0; r < R; r++) {
            int n = i + r + 1 - j0;   /* 0 for query i in the block that starts at key i + 1 */
            nj[r] = n < 0 ? 0 : n < 16 ? n : 16;
            v16 pr = ATT_NAME(vexp)(ATT_NAME(causal)(s[r], n) - L[r]);
            v16 pm = pr, dAr = dA[r];
            if (p > 0) {
                v16 mk = ATT_NAME(keepmask)(a->seed, base + (uint32_t)((i + r) * T + j0), p);
                dAr *= mk;
                pm = pr * mk;
            }
            ATT_NAME(vstore)(pa[r], pm);
            ATT_NAME(vstore)(dsa[r], pr * (dAr - D[r]) * scale);
        }
        const int both = R == 2 ? nj[0] : 0, last = nj[R - 1];
        int jj = 0;
        for (; jj < both; jj++) {
            const float *kr = K + (long)(j0 + jj) * ld;
            float *dkr = dk + (long)(j0 + jj) * d, *dvr = dv + (long)(j0 + jj) * d;
            for (int v = 0; v < nv; v++) {
                v16 kv = ATT_NAME(vload)(kr + 16 * v);
                dq[0][v] += dsa[0][jj] * kv;
                dq[1][v] += dsa[1][jj] * kv;
                v16 x = ATT_NAME(vload)(dkr + 16 * v);
                x += dsa[0][jj] * qv[0][v];
                x += dsa[1][jj] * qv[1][v];
                ATT_NAME(vstore)(dkr + 16 * v, x);
                v16 y = ATT_NAME(vload)(dvr + 16 * v);
                y += pa[0][jj] * dov[0][v];
                y += pa[1][jj] * dov[1][v];
                ATT_NAME(vstore)(dvr + 16 * v, y);
            }
        }
        const int r = R - 1;   /* the last query's remaining keys */
        for (; jj < last; jj++) {
            const float *kr = K + (long)(j0 + jj) * ld;
            float *dkr = dk + (long)(j0 + jj) * d, *dvr = dv + (long)(j0 + jj) * d;
            for (int v = 0; v < nv; v++) {
                dq[r][v] += dsa[r][jj] * ATT_NAME(vload)(kr + 16 * v);
                ATT_NAME(vstore)(dkr + 16 * v, ATT_NAME(vload)(dkr + 16 * v) + dsa[r][jj] * qv[r][v]);
                ATT_NAME(vstore)(dvr + 16 * v, ATT_NAME(vload)(dvr + 16 * v) + pa[r][jj] * dov[r][v]);
            }
        }
    }
    for (int r = 0; r < R; r++) {
        float *dqr = dQ + (long)(i + r) * ld;
        for (int v = 0; v < nv; v++) ATT_NAME(vstore)(dqr + 16 * v, dq[r][v]);
    }
}

ATT_INL void ATT_NAME(backward_head)(const att_args *a, int b, int h, const int nv)
{
    const int T = a->T, C = a->C, d = nv * 16, Tp = (T + 15) & ~15;
    const long ld = 3L * C;
    const float *Q = a->qkv + (long)b * T * ld + (long)h * d, *K = Q + C, *V = Q + 2 * C;
    float *ws = cgemm_workspace(CGEMM_WORKSPACE_ATTENTION, (size_t)2 * d * Tp + (size_t)2 * T * d);
    if (!ws) abort();
    float *kt = ws, *vt = ws + (long)d * Tp, *dk = vt + (long)d * Tp, *dv = dk + (long)T * d;
    ATT_NAME(transpose)(K, ld, T, d, Tp, kt);
    ATT_NAME(transpose)(V, ld, T, d, Tp, vt);
    for (long t = 0; t < 2L * T * d; t++) dk[t] = 0.0f;
    float *dQ = a->dqkv + (long)b * T * ld + (long)h * d;
    int i = 0;
    for (; i + 2 <= T; i += 2) ATT_NAME(backward_rows)(a, 2, i, nv, Q, K, kt, vt, dk, dv, dQ, b, h);
    if (i < T) ATT_NAME(backward_rows)(a, 1, i, nv, Q, K, kt, vt, dk, dv, dQ, b, h);
    /* Whole vectors: as a plain loop the compiler could not rule out overlap and copied floats. */
    for (int j = 0; j < T; j++) {
        float *dkr = dQ + (long)j * ld + C, *dvr = dkr + C;
        for (int v = 0; v < nv; v++) {
            ATT_NAME(vstore)(dkr + 16 * v, ATT_NAME(vload)(dk + (long)j * d + 16 * v));
            ATT_NAME(vstore)(dvr + 16 * v, ATT_NAME(vload)(dv + (long)j * d + 16 * v));
        }
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
