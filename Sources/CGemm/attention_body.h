/* The fused attention kernels, written once over 16-float vectors (clang vector extensions)
 * and included twice by attention.c: ATT_SUFFIX names the copy, ATT_ATTR carries its target
 * (AVX-512 or none: the portable copy, lowered to whatever the baseline has). */

#define ATT_CAT2(a, b) a##b
#define ATT_CAT(a, b) ATT_CAT2(a, b)
#define ATT_NAME(n) ATT_CAT(n, ATT_SUFFIX)
#define ATT_INL ATT_ATTR __attribute__((always_inline)) static inline
/* Loops that must be unrolled whole, so their vector arrays live in registers (the package
 * builds C at -O2, whose unroll threshold left the transpose's 16 rows on the stack). */
#define ATT_FULL _Pragma("clang loop unroll(full)")

ATT_INL v16 ATT_NAME(vload)(const float *p) { v16 v; __builtin_memcpy(&v, p, sizeof v); return v; }
ATT_INL void ATT_NAME(vstore)(float *p, v16 v) { __builtin_memcpy(p, &v, sizeof v); }
#define VM_NAME ATT_NAME
#define VM_INL ATT_INL
#include "vmath_body.h"
#undef VM_NAME
#undef VM_INL

/* Sum of the lanes as halves added to halves (8 + 8, 4 + 4, then (0 + 2) + (1 + 3)), in
 * registers: the order is fixed, so the bits are too. */
ATT_INL float ATT_NAME(hsum)(v16 v)
{
    v8 h = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7)
         + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
    v4 q = __builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7);
    v2 w = __builtin_shufflevector(q, q, 0, 1) + __builtin_shufflevector(q, q, 2, 3);
    return w[0] + w[1];
}

/* Largest lane, by halves (exact, so any order gives the same value). */
ATT_INL float ATT_NAME(hmax)(v16 v)
{
    v8 h = __builtin_elementwise_max(__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7),
                                     __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15));
    v4 q = __builtin_elementwise_max(__builtin_shufflevector(h, h, 0, 1, 2, 3), __builtin_shufflevector(h, h, 4, 5, 6, 7));
    v2 w = __builtin_elementwise_max(__builtin_shufflevector(q, q, 0, 1), __builtin_shufflevector(q, q, 2, 3));
    return w[0] > w[1] ? w[0] : w[1];
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

/* Stage b (8, 4, 2, 1) of a 16 x 16 butterfly transpose on rows x and y = x + b: lanes k with
 * (k & b) set trade places, so four stages over all eight row pairs transpose the block. */
#define ATT_LO8 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define ATT_HI8 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define ATT_LO4 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define ATT_HI4 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define ATT_LO2 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define ATT_HI2 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define ATT_LO1 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define ATT_HI1 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
#define ATT_STAGE(b) \
    ATT_FULL for (int x = 0; x < 16; x++) if (!(x & b)) { \
        v16 u = r[x], w = r[x + b]; \
        r[x] = __builtin_shufflevector(u, w, ATT_LO##b); \
        r[x + b] = __builtin_shufflevector(u, w, ATT_HI##b); \
    }

/* Src rows (T, d) at stride ld -> dst (d, Tp), zero-padded to Tp columns: whole 16 x 16
 * blocks through registers, the last partial block of keys one float at a time. */
ATT_INL void ATT_NAME(transpose)(const float *src, long ld, int T, int d, int Tp, float *dst)
{
    const int T16 = T & ~15;
    for (int j0 = 0; j0 < T16; j0 += 16)
        for (int c0 = 0; c0 < d; c0 += 16) {
            v16 r[16];
            ATT_FULL for (int x = 0; x < 16; x++) r[x] = ATT_NAME(vload)(src + (long)(j0 + x) * ld + c0);
            ATT_STAGE(8) ATT_STAGE(4) ATT_STAGE(2) ATT_STAGE(1)
            ATT_FULL for (int x = 0; x < 16; x++) ATT_NAME(vstore)(dst + (long)(c0 + x) * Tp + j0, r[x]);
        }
    for (int c = 0; c < d; c++) {
        float *row = dst + (long)c * Tp;
        for (int j = T16; j < T; j++) row[j] = src[(long)j * ld + c];
        for (int j = T; j < Tp; j++) row[j] = 0.0f;
    }
}

/* Src rows (T, d) at stride ld times `scale` -> dst (T, d). */
ATT_INL void ATT_NAME(scaled)(const float *src, long ld, int T, int nv, float scale, float *dst)
{
    for (int j = 0; j < T; j++)
        for (int v = 0; v < nv; v++)
            ATT_NAME(vstore)(dst + (long)j * nv * 16 + 16 * v, ATT_NAME(vload)(src + (long)j * ld + 16 * v) * scale);
}

/* Scores of R rows x (R <= 4, row r at x + r * xld) against keys j0 ..< j0 + 16: kt is K^T,
 * (d, Tp). Each K^T vector is loaded once for all R; per row two sums (even and odd channels),
 * so R rows run 2R independent chains. */
ATT_INL void ATT_NAME(scores_rows)(const int R, const float *x, long xld, const float *kt, int Tp,
                                   int j0, int d, v16 *out)
{
    v16 s0[4] = {{0}}, s1[4] = {{0}};
    for (int c = 0; c + 2 <= d; c += 2) {
        v16 k0 = ATT_NAME(vload)(kt + (long)c * Tp + j0), k1 = ATT_NAME(vload)(kt + (long)(c + 1) * Tp + j0);
        for (int r = 0; r < R; r++) { s0[r] += x[r * xld + c] * k0; s1[r] += x[r * xld + c + 1] * k1; }
    }
    for (int r = 0; r < R; r++) out[r] = s0[r] + s1[r];
}

/* Queries i ..< i + R (R <= 4) of one head against all their keys, in blocks of 16 with an
 * online softmax. Each query's sums, maxima and exponentials are taken in the order one query
 * at a time would take them (the same bits); K^T vectors and V rows are loaded once for all R,
 * and the R queries' chains run side by side. */
ATT_INL void ATT_NAME(forward_rows)(const att_args *a, const int R, int i, const int nv,
                                    const float *qs, const float *V, const float *kt, int b, int h)
{
    const int T = a->T, C = a->C, H = a->H, d = nv * 16, Tp = (T + 15) & ~15;
    const long ld = 3L * C;
    const float p = a->dropout;
    const uint32_t base = (uint32_t)((long)(b * H + h) * T * T);
    float m[4], l[4];
    v16 acc[4][ATT_DMAX / 16];
    for (int r = 0; r < R; r++) {
        for (int v = 0; v < nv; v++) acc[r][v] = ATT_NAME(vsplat)(0.0f);
        m[r] = -INFINITY; l[r] = 0.0f;
    }
    for (int j0 = 0; j0 <= i + R - 1; j0 += 16) {
        v16 s[4];
        ATT_NAME(scores_rows)(R, qs + (long)i * d, d, kt, Tp, j0, d, s);
        float pa[4][16];
        int nj[4];
        for (int r = 0; r < R; r++) {
            int n = i + r + 1 - j0;   /* keys of this block query i + r sees */
            nj[r] = n < 0 ? 0 : n < 16 ? n : 16;
            if (n <= 0) continue;
            v16 sr = ATT_NAME(causal)(s[r], n);
            float mx = ATT_NAME(hmax)(sr), mn = mx > m[r] ? mx : m[r];
            float corr = m[r] == -INFINITY ? 0.0f : expf(m[r] - mn);
            v16 pr = ATT_NAME(vexp)(sr - mn);
            l[r] = l[r] * corr + ATT_NAME(hsum)(pr);
            if (p > 0) pr *= ATT_NAME(keepmask)(a->seed, base + (uint32_t)((i + r) * T + j0), p);
            for (int v = 0; v < nv; v++) acc[r][v] *= corr;
            ATT_NAME(vstore)(pa[r], pr);
            m[r] = mn;
        }
        /* Keys in order; nj grows with r, so keys nj[r0 - 1] ..< nj[r0] go to queries r0 ..< R.
         * The row loops run over all R with a test, not from r0: a constant trip count that
         * -O2 unrolls whole (from r0 it was peeled, and the rows' sums left registers). */
        int jj = 0;
        for (int r0 = 0; r0 < R; r0++)
            for (; jj < nj[r0]; jj++) {
                const float *vr = V + (long)(j0 + jj) * ld;
                for (int v = 0; v < nv; v++) {
                    v16 vv = ATT_NAME(vload)(vr + 16 * v);
                    for (int r = 0; r < R; r++) if (r >= r0) acc[r][v] += pa[r][jj] * vv;
                }
            }
    }
    for (int r = 0; r < R; r++) {
        float inv = 1.0f / l[r];
        float *o = a->out + ((long)b * T + i + r) * C + (long)h * d;
        for (int v = 0; v < nv; v++) ATT_NAME(vstore)(o + 16 * v, acc[r][v] * inv);
        a->lse[(long)(b * H + h) * T + i + r] = m[r] + logf(l[r]);
    }
}

/* Rows i ..< i + n of the next (batch, head) task towards the cache while this one computes:
 * a thread runs consecutive tasks (cpool.h), and a head's rows are strided pieces of 4 d
 * bytes that the hardware prefetcher does not find in time (in-cache heads ran 1.7x faster).
 * Forward reads q, k, v and writes o; backward reads q, k, v, dO, O and writes dq, dk, dv. */
ATT_INL void ATT_NAME(prefetch_next)(const att_args *a, int b, int h, int i, int n, const int nv,
                                     const int backward)
{
    const int nb = h + 1 < a->H ? b : b + 1, nh = h + 1 < a->H ? h + 1 : 0;
    if (nb >= a->B) return;
    const int T = a->T, C = a->C, d = nv * 16;
    const long ld = 3L * C;
    for (int r = i; r < i + n && r < T; r++) {
        const float *q = a->qkv + ((long)nb * T + r) * ld + (long)nh * d;
        const long o = ((long)nb * T + r) * C + (long)nh * d;
        for (int v = 0; v < nv; v++)
            for (int part = 0; part < 3; part++) __builtin_prefetch(q + part * C + 16 * v, 0, 3);
        for (int v = 0; v < nv; v++) {
            if (backward) {
                const float *dq = a->dqkv + ((long)nb * T + r) * ld + (long)nh * d;
                __builtin_prefetch(a->dout + o + 16 * v, 0, 3);
                __builtin_prefetch(a->out + o + 16 * v, 0, 3);
                for (int part = 0; part < 3; part++) __builtin_prefetch(dq + part * C + 16 * v, 1, 3);
            } else {
                __builtin_prefetch(a->out + o + 16 * v, 1, 3);
            }
        }
    }
}

ATT_INL void ATT_NAME(forward_head)(const att_args *a, int b, int h, const int nv)
{
    const int T = a->T, C = a->C, d = nv * 16, Tp = (T + 15) & ~15;
    const long ld = 3L * C;
    const float *Q = a->qkv + (long)b * T * ld + (long)h * d, *K = Q + C, *V = Q + 2 * C;
    float *kt = cgemm_workspace(CGEMM_WORKSPACE_ATTENTION, (size_t)d * Tp + (size_t)T * d);
    if (!kt) abort();
    float *qs = kt + (long)d * Tp;   /* the head's queries times scale, (T, d) */
    ATT_NAME(transpose)(K, ld, T, d, Tp, kt);
    ATT_NAME(scaled)(Q, ld, T, nv, a->scale, qs);
    int i = 0;
    for (; i + 4 <= T; i += 4) {
        ATT_NAME(prefetch_next)(a, b, h, i, 4, nv, 0);
        ATT_NAME(forward_rows)(a, 4, i, nv, qs, V, kt, b, h);
    }
    ATT_NAME(prefetch_next)(a, b, h, i, T - i, nv, 0);
    switch (T - i) {
    case 3: ATT_NAME(forward_rows)(a, 3, i, nv, qs, V, kt, b, h); break;
    case 2: ATT_NAME(forward_rows)(a, 2, i, nv, qs, V, kt, b, h); break;
    case 1: ATT_NAME(forward_rows)(a, 1, i, nv, qs, V, kt, b, h); break;
    default: break;
    }
}

/* Queries i ..< i + R (R <= 4) of one head: dQ rows, and their terms of dK and dV added
 * into dk, dv. Key j gets its terms in query order, as one query at a time would add them, and
 * each query its keys in key order (the same bits); K rows, dK and dV rows are loaded once per
 * key for all the queries that see it. */
ATT_INL void ATT_NAME(backward_rows)(const att_args *a, const int R, int i, const int nv,
                                     const float *Q, const float *qs, const float *K, const float *kt,
                                     const float *vt, float *dk, float *dv, float *dQ, int b, int h)
{
    const int T = a->T, C = a->C, H = a->H, d = nv * 16, Tp = (T + 15) & ~15;
    const long ld = 3L * C;
    const float scale = a->scale, p = a->dropout;
    const uint32_t base = (uint32_t)((long)(b * H + h) * T * T);
    const float *dO = a->dout + ((long)b * T + i) * C + (long)h * d;
    v16 dov[4][ATT_DMAX / 16], qv[4][ATT_DMAX / 16], dq[4][ATT_DMAX / 16];
    float D[4], L[4];
    for (int r = 0; r < R; r++) {
        const float *q = Q + (long)(i + r) * ld;
        const float *doi = dO + (long)r * C;
        const float *oi = a->out + ((long)b * T + i + r) * C + (long)h * d;
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
        v16 s[4], dA[4];
        ATT_NAME(scores_rows)(R, qs + (long)i * d, d, kt, Tp, j0, d, s);
        ATT_NAME(scores_rows)(R, dO, C, vt, Tp, j0, d, dA);
        float pa[4][16], dsa[4][16];
        int nj[4];
        for (int r = 0; r < R; r++) {
            int n = i + r + 1 - j0;   /* keys of this block query i + r sees */
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
        /* nj grows with r, so keys nj[r0 - 1] ..< nj[r0] go to queries r0 ..< R (the row loop
         * over all R with a test: see forward_rows). */
        int jj = 0;
        for (int r0 = 0; r0 < R; r0++)
            for (; jj < nj[r0]; jj++) {
                const float *kr = K + (long)(j0 + jj) * ld;
                float *dkr = dk + (long)(j0 + jj) * d, *dvr = dv + (long)(j0 + jj) * d;
                for (int v = 0; v < nv; v++) {
                    v16 kv = ATT_NAME(vload)(kr + 16 * v);
                    v16 x = ATT_NAME(vload)(dkr + 16 * v), y = ATT_NAME(vload)(dvr + 16 * v);
                    for (int r = 0; r < R; r++) if (r >= r0) {
                        dq[r][v] += dsa[r][jj] * kv;
                        x += dsa[r][jj] * qv[r][v];
                        y += pa[r][jj] * dov[r][v];
                    }
                    ATT_NAME(vstore)(dkr + 16 * v, x);
                    ATT_NAME(vstore)(dvr + 16 * v, y);
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
    float *ws = cgemm_workspace(CGEMM_WORKSPACE_ATTENTION, (size_t)2 * d * Tp + (size_t)3 * T * d);
    if (!ws) abort();
    float *kt = ws, *vt = ws + (long)d * Tp, *dk = vt + (long)d * Tp, *dv = dk + (long)T * d;
    float *qs = dv + (long)T * d;   /* the head's queries times scale, (T, d) */
    ATT_NAME(transpose)(K, ld, T, d, Tp, kt);
    ATT_NAME(transpose)(V, ld, T, d, Tp, vt);
    ATT_NAME(scaled)(Q, ld, T, nv, a->scale, qs);
    for (long t = 0; t < 2L * T * d; t++) dk[t] = 0.0f;
    float *dQ = a->dqkv + (long)b * T * ld + (long)h * d;
    int i = 0;
    for (; i + 2 <= T; i += 2) {
        ATT_NAME(prefetch_next)(a, b, h, i, 2, nv, 1);
        ATT_NAME(backward_rows)(a, 2, i, nv, Q, qs, K, kt, vt, dk, dv, dQ, b, h);
    }
    ATT_NAME(prefetch_next)(a, b, h, i, T - i, nv, 1);
    if (i < T) ATT_NAME(backward_rows)(a, 1, i, nv, Q, qs, K, kt, vt, dk, dv, dQ, b, h);
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
