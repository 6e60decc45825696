/* The direct 1-D convolution over 16-float vectors, included twice by conv1d_direct.c (as
 * elementwise_body.h): CV_SUFFIX names the copy, CV_ATTR its target. Register tiles of T
 * positions (forward, dx) or T (channel, tap) pairs (dw) by NV vectors of channels; T and NV
 * are constants in every instantiation, so the tiles stay in registers. */
#define CV_CAT2(a, b) a##b
#define CV_CAT(a, b) CV_CAT2(a, b)
#define CV_NAME(n) CV_CAT(n, CV_SUFFIX)
#define CV_INL CV_ATTR __attribute__((always_inline)) static inline
#define CV_UNROLL _Pragma("GCC unroll 16")

CV_INL v16 CV_NAME(load)(const float *p) { v16 v; __builtin_memcpy(&v, p, sizeof v); return v; }
CV_INL void CV_NAME(store)(float *p, v16 v) { __builtin_memcpy(p, &v, sizeof v); }

/* yT[l, :] = sum_{c, j} wf[c, j, :] xs[c, l S + j] + bias for the T positions from l0 (those
 * below Lo stored): a chain of FMAs per output in (c, j) order, then the bias added. */
CV_INL void CV_NAME(fwd_tile)(const cv_job *g, const float *xs, long l0, float *yT, const int T, const int NV)
{
    v16 acc[CV_TMAX][2];
    CV_UNROLL for (int t = 0; t < T; t++) CV_UNROLL for (int v = 0; v < NV; v++) acc[t][v] = (v16){0};
    const long S = g->S, K = g->K, ldo = g->ldo;
    for (long c = 0; c < g->C; c++) {
        const float *xr = xs + c * g->ldx + l0 * S;
        const float *wp = g->wf + c * K * ldo;
        for (long j = 0; j < K; j++, wp += ldo) {
            v16 w0 = CV_NAME(load)(wp), w1 = NV > 1 ? CV_NAME(load)(wp + 16) : (v16){0};
            CV_UNROLL for (int t = 0; t < T; t++) {
                float xv = xr[t * S + j];
                acc[t][0] += w0 * xv;
                if (NV > 1) acc[t][1] += w1 * xv;
            }
        }
    }
    v16 b0 = CV_NAME(load)(g->bp), b1 = NV > 1 ? CV_NAME(load)(g->bp + 16) : (v16){0};
    CV_UNROLL for (int t = 0; t < T; t++) {
        if (l0 + t >= g->Lo) break;
        CV_NAME(store)(yT + (l0 + t) * ldo, acc[t][0] + b0);
        if (NV > 1) CV_NAME(store)(yT + (l0 + t) * ldo + 16, acc[t][1] + b1);
    }
}

/* For tap j and the T positions from l0: acc[l, :] = sum_o wb[j, o, :] dyT[l, o] (o in
 * order), added into dxT row l S + j (positions below Lo only). */
CV_INL void CV_NAME(dx_tile)(const cv_job *g, const float *dyT, float *dxT, long l0, long j, const int T, const int NV)
{
    v16 acc[CV_TMAX][2];
    CV_UNROLL for (int t = 0; t < T; t++) CV_UNROLL for (int v = 0; v < NV; v++) acc[t][v] = (v16){0};
    const long O = g->O, ldo = g->ldo, ldc = g->ldc;
    const float *wp = g->wb + j * O * ldc;
    const float *dr = dyT + l0 * ldo;
    for (long o = 0; o < O; o++, wp += ldc) {
        v16 w0 = CV_NAME(load)(wp), w1 = NV > 1 ? CV_NAME(load)(wp + 16) : (v16){0};
        CV_UNROLL for (int t = 0; t < T; t++) {
            float dv = dr[t * ldo + o];
            acc[t][0] += w0 * dv;
            if (NV > 1) acc[t][1] += w1 * dv;
        }
    }
    CV_UNROLL for (int t = 0; t < T; t++) {
        if (l0 + t >= g->Lo) break;
        float *row = dxT + ((l0 + t) * g->S + j) * ldc;
        CV_NAME(store)(row, CV_NAME(load)(row) + acc[t][0]);
        if (NV > 1) CV_NAME(store)(row + 16, CV_NAME(load)(row + 16) + acc[t][1]);
    }
}

/* The dw sums of the T (c, j) pairs from p0 over n samples (xs, dyT one after another):
 * part[p, :] = sum_{s, l} dyT_s[l, :] xs_s[c, l S + j], in (s, l) order. Pairs past C K
 * compute pair 0 again and are not stored. */
CV_INL void CV_NAME(dw_tile)(const cv_job *g, const float *xs, const float *dyT, long n, long p0, float *part,
                             const int T, const int NV)
{
    v16 acc[CV_TMAX][2];
    long off[CV_TMAX];
    const long CK = g->C * g->K, S = g->S, ldo = g->ldo, xstep = g->C * g->ldx, dstep = g->ldy * ldo;
    CV_UNROLL for (int t = 0; t < T; t++) {
        long p = p0 + t < CK ? p0 + t : 0;
        off[t] = (p / g->K) * g->ldx + p % g->K;
        CV_UNROLL for (int v = 0; v < NV; v++) acc[t][v] = (v16){0};
    }
    for (long s = 0; s < n; s++) {
        const float *xr = xs + s * xstep, *dr = dyT + s * dstep;
        for (long l = 0; l < g->Lo; l++, xr += S, dr += ldo) {
            v16 d0 = CV_NAME(load)(dr), d1 = NV > 1 ? CV_NAME(load)(dr + 16) : (v16){0};
            CV_UNROLL for (int t = 0; t < T; t++) {
                float xv = xr[off[t]];
                acc[t][0] += d0 * xv;
                if (NV > 1) acc[t][1] += d1 * xv;
            }
        }
    }
    CV_UNROLL for (int t = 0; t < T; t++) {
        if (p0 + t >= CK) break;
        CV_NAME(store)(part + (p0 + t) * ldo, acc[t][0]);
        if (NV > 1) CV_NAME(store)(part + (p0 + t) * ldo + 16, acc[t][1]);
    }
}

/* One function per (T, NV): the loops over every tile of one sample (forward, dx) or of a
 * task's samples (dw). */
#define CV_DEFINE(T, NV)                                                                          \
    CV_ATTR static void CV_NAME(fwd_##T##_##NV)(const cv_job *g, const float *xs, float *yT)     \
    {                                                                                            \
        for (long i = 0; i < g->nf; i++) CV_NAME(fwd_tile)(g, xs, i * T, yT, T, NV);            \
    }                                                                                            \
    CV_ATTR static void CV_NAME(dx_##T##_##NV)(const cv_job *g, const float *dyT, float *dxT)    \
    {                                                                                            \
        for (long i = 0; i < g->nd; i++)                                                        \
            for (long j = 0; j < g->K; j++) CV_NAME(dx_tile)(g, dyT, dxT, i * T, j, T, NV);     \
    }                                                                                            \
    CV_ATTR static void CV_NAME(dw_##T##_##NV)(const cv_job *g, const float *xs, const float *dyT, \
                                               long n, float *part)                              \
    {                                                                                            \
        for (long i = 0; i < g->nw; i++) CV_NAME(dw_tile)(g, xs, dyT, n, i * T, part, T, NV);   \
    }

CV_DEFINE(1, 1) CV_DEFINE(2, 1) CV_DEFINE(3, 1) CV_DEFINE(4, 1) CV_DEFINE(5, 1) CV_DEFINE(6, 1)
CV_DEFINE(7, 1) CV_DEFINE(8, 1) CV_DEFINE(9, 1) CV_DEFINE(10, 1) CV_DEFINE(11, 1) CV_DEFINE(12, 1)
CV_DEFINE(1, 2) CV_DEFINE(2, 2) CV_DEFINE(3, 2) CV_DEFINE(4, 2) CV_DEFINE(5, 2) CV_DEFINE(6, 2)
CV_DEFINE(7, 2) CV_DEFINE(8, 2) CV_DEFINE(9, 2) CV_DEFINE(10, 2) CV_DEFINE(11, 2) CV_DEFINE(12, 2)

#define CV_ROW(k, NV) { CV_NAME(k##_1_##NV), CV_NAME(k##_2_##NV), CV_NAME(k##_3_##NV), CV_NAME(k##_4_##NV), \
                        CV_NAME(k##_5_##NV), CV_NAME(k##_6_##NV), CV_NAME(k##_7_##NV), CV_NAME(k##_8_##NV)
static const cv_fwd_fn CV_NAME(fwd_fns)[2][CV_TMAX] = {
    CV_ROW(fwd, 1), CV_NAME(fwd_9_1), CV_NAME(fwd_10_1), CV_NAME(fwd_11_1), CV_NAME(fwd_12_1) },
    CV_ROW(fwd, 2), CV_NAME(fwd_9_2), CV_NAME(fwd_10_2), CV_NAME(fwd_11_2), CV_NAME(fwd_12_2) },
};
static const cv_dx_fn CV_NAME(dx_fns)[2][CV_TMAX] = {
    CV_ROW(dx, 1), CV_NAME(dx_9_1), CV_NAME(dx_10_1), CV_NAME(dx_11_1), CV_NAME(dx_12_1) },
    CV_ROW(dx, 2), CV_NAME(dx_9_2), CV_NAME(dx_10_2), CV_NAME(dx_11_2), CV_NAME(dx_12_2) },
};
static const cv_dw_fn CV_NAME(dw_fns)[2][CV_TMAX] = {
    CV_ROW(dw, 1), CV_NAME(dw_9_1), CV_NAME(dw_10_1), CV_NAME(dw_11_1), CV_NAME(dw_12_1) },
    CV_ROW(dw, 2), CV_NAME(dw_9_2), CV_NAME(dw_10_2), CV_NAME(dw_11_2), CV_NAME(dw_12_2) },
};
#undef CV_ROW
#undef CV_DEFINE

/* The padded input rows of sample s: xs[c, i] = x[s, c, i - P], zero outside (ldx per row). */
CV_INL void CV_NAME(pad_input)(const cv_job *g, long s, float *xs)
{
    for (long c = 0; c < g->C; c++)
        CV_NAME(pad_row)(g->x + (s * g->C + c) * g->W, g->W, g->P, xs + c * g->ldx, g->ldx);
}

/* dst (cols, rows) = src (rows, cols) transposed, in blocks of 16 x 16 (lanes past `rows` of
 * every dst row zeroed up to the next multiple of 16 when `full`). */
CV_INL void CV_NAME(transpose_all)(const float *src, long ls, long rows, long cols, float *dst, long ld, int full)
{
    for (long i0 = 0; i0 < rows; i0 += 16)
        for (long j0 = 0; j0 < cols; j0 += 16)
            CV_NAME(transpose)(src + i0 * ls + j0, ls, rows - i0 < 16 ? (int)(rows - i0) : 16,
                               cols - j0 < 16 ? (int)(cols - j0) : 16, dst + j0 * ld + i0, ld, full);
}

/* dyT[l, o] = dy[s, o, l], zero for o >= O and for rows l >= Lo (ldy rows). */
CV_INL void CV_NAME(transpose_dy)(const cv_job *g, long s, float *dyT)
{
    const long O = g->O, Lo = g->Lo, ldo = g->ldo;
    for (long i = Lo * ldo; i < g->ldy * ldo; i++) dyT[i] = 0;
    CV_NAME(transpose_all)(g->dy + s * O * Lo, Lo, O, Lo, dyT, ldo, 1);
}

CV_ATTR static void CV_NAME(forward_task)(const cv_job *g, long t, float *buf)
{
    long s0 = t * SWT_CONV1D_DW_CHUNK, s1 = s0 + SWT_CONV1D_DW_CHUNK < g->B ? s0 + SWT_CONV1D_DW_CHUNK : g->B;
    float *xs = buf, *yT = buf + g->C * g->ldx;
    cv_fwd_fn fn = CV_NAME(fwd_fns)[g->no - 1][g->tf - 1];
    const long O = g->O, Lo = g->Lo, ldo = g->ldo;
    for (long s = s0; s < s1; s++) {
        CV_NAME(pad_input)(g, s, xs);
        fn(g, xs, yT);
        CV_NAME(transpose_all)(yT, ldo, Lo, O, g->y + s * O * Lo, Lo, 0);
    }
}

CV_ATTR static void CV_NAME(backward_task)(const cv_job *g, long t, float *buf)
{
    long s0 = t * SWT_CONV1D_DW_CHUNK, s1 = s0 + SWT_CONV1D_DW_CHUNK < g->B ? s0 + SWT_CONV1D_DW_CHUNK : g->B;
    long n = s1 - s0, xstep = g->C * g->ldx, dstep = g->ldy * g->ldo;
    float *xs = buf, *dyT = xs + SWT_CONV1D_DW_CHUNK * xstep, *dxT = dyT + SWT_CONV1D_DW_CHUNK * dstep;
    for (long s = 0; s < n; s++) {
        CV_NAME(pad_input)(g, s0 + s, xs + s * xstep);
        CV_NAME(transpose_dy)(g, s0 + s, dyT + s * dstep);
    }
    CV_NAME(dw_fns)[g->no - 1][g->tw - 1](g, xs, dyT, n, g->part + t * g->C * g->K * g->ldo);
    if (g->db) {
        /* The task's bias sums: dyT rows added in (s, l) order. */
        v16 a0 = (v16){0}, a1 = (v16){0};
        for (long s = 0; s < n; s++)
            for (long l = 0; l < g->Lo; l++) {
                const float *r = dyT + s * dstep + l * g->ldo;
                a0 += CV_NAME(load)(r);
                if (g->no > 1) a1 += CV_NAME(load)(r + 16);
            }
        CV_NAME(store)(g->bpart + t * g->ldo, a0);
        if (g->no > 1) CV_NAME(store)(g->bpart + t * g->ldo + 16, a1);
    }
    if (!g->dx) return;
    cv_dx_fn fn = CV_NAME(dx_fns)[g->nc - 1][g->td - 1];
    const long C = g->C, W = g->W, P = g->P, ldc = g->ldc, Lp = W + 2 * P;
    for (long s = 0; s < n; s++) {
        for (long i = 0; i < Lp * ldc; i++) dxT[i] = 0;
        fn(g, dyT + s * dstep, dxT);
        CV_NAME(transpose_all)(dxT + P * ldc, ldc, W, C, g->dx + (s0 + s) * C * W, W, 0);
    }
}

/* dw[o, c, j] = ((dw + part_0) + part_1) + ... over the tasks, in task order; db the same. */
CV_ATTR static void CV_NAME(reduce_dw)(const cv_job *g, long tasks)
{
    const long C = g->C, K = g->K, O = g->O, ldo = g->ldo, CK = C * K;
    for (long p = 0; p < CK; p++) {
        float a[32];
        for (long o = 0; o < O; o++) a[o] = g->dw[o * CK + p];
        for (long t = 0; t < tasks; t++) {
            const float *src = g->part + (t * CK + p) * ldo;
            for (long o = 0; o < O; o++) a[o] += src[o];
        }
        for (long o = 0; o < O; o++) g->dw[o * CK + p] = a[o];
    }
    if (g->db) {
        for (long o = 0; o < O; o++) {
            float a = g->db[o];
            for (long t = 0; t < tasks; t++) a += g->bpart[t * ldo + o];
            g->db[o] = a;
        }
    }
}

#undef CV_CAT2
#undef CV_CAT
#undef CV_NAME
#undef CV_INL
#undef CV_UNROLL
