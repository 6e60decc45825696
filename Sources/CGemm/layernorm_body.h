/* Layer norm rows over 16-float vectors, included twice by layernorm.c (see
 * elementwise_body.h): LN_NAME(n) appends the copy's suffix, LN_ATTR its target. */
#define LN_CAT2(a, b) a##b
#define LN_CAT(a, b) LN_CAT2(a, b)
#define LN_NAME(n) LN_CAT(n, LN_SUFFIX)
#define LN_INL LN_ATTR __attribute__((always_inline)) static inline

LN_INL v16 LN_NAME(load)(const float *p) { v16 v; __builtin_memcpy(&v, p, sizeof v); return v; }
LN_INL void LN_NAME(store)(float *p, v16 v) { __builtin_memcpy(p, &v, sizeof v); }

/* The 16 lanes added as halves: 8 + 8, 4 + 4, 2 + 2, 1 + 1 (one fixed order). */
LN_INL float LN_NAME(hsum)(v16 v)
{
    v8 a = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
    v4 b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
    v2 c = __builtin_shufflevector(b, b, 0, 1) + __builtin_shufflevector(b, b, 2, 3);
    return c[0] + c[1];
}

/* y = (x - mean) rstd w + b for rows [0, rows) of D; stats[2 r] = mean, stats[2 r + 1] = rstd. */
LN_ATTR static void LN_NAME(ln_fwd)(long rows, long D, const float *x, float *y, const float *w,
                                    const float *b, float eps, float *stats)
{
    long V = D / 16 * 16;
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * D;
        float *yr = y + r * D;
        v16 acc = {0};
        for (long i = 0; i < V; i += 16) acc += LN_NAME(load)(xr + i);
        float sum = LN_NAME(hsum)(acc);
        for (long j = V; j < D; j++) sum += xr[j];
        float mean = sum / (float)D;
        v16 sq = {0};
        for (long i = 0; i < V; i += 16) { v16 d = LN_NAME(load)(xr + i) - mean; sq += d * d; }
        float sqs = LN_NAME(hsum)(sq);
        for (long j = V; j < D; j++) { float d = xr[j] - mean; sqs += d * d; }
        float rstd = 1.0f / __builtin_sqrtf(sqs / (float)D + eps);
        for (long i = 0; i < V; i += 16)
            LN_NAME(store)(yr + i, (LN_NAME(load)(xr + i) - mean) * rstd * LN_NAME(load)(w + i) + LN_NAME(load)(b + i));
        for (long j = V; j < D; j++) yr[j] = (xr[j] - mean) * rstd * w[j] + b[j];
        stats[2 * r] = mean;
        stats[2 * r + 1] = rstd;
    }
}

/* For rows [0, rows) in order: dw += dy n, db += dy; dx (when not NULL) =
 * rstd (dy w - mean(dy w) - n mean(dy w n)), n = (x - mean) rstd. */
LN_ATTR static void LN_NAME(ln_bwd)(long rows, long D, const float *x, const float *dy, float *dx,
                                    const float *w, const float *stats, float *dw, float *db)
{
    long V = D / 16 * 16;
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * D, *dr = dy + r * D;
        float mean = stats[2 * r], rstd = stats[2 * r + 1];
        v16 sg = {0}, sgn = {0};
        for (long i = 0; i < V; i += 16) {
            v16 n = (LN_NAME(load)(xr + i) - mean) * rstd, d = LN_NAME(load)(dr + i), g = d * LN_NAME(load)(w + i);
            sg += g;
            sgn += g * n;
            LN_NAME(store)(dw + i, LN_NAME(load)(dw + i) + d * n);
            LN_NAME(store)(db + i, LN_NAME(load)(db + i) + d);
        }
        float sumG = LN_NAME(hsum)(sg), sumGN = LN_NAME(hsum)(sgn);
        for (long j = V; j < D; j++) {
            float n = (xr[j] - mean) * rstd, g = dr[j] * w[j];
            sumG += g;
            sumGN += g * n;
            dw[j] += dr[j] * n;
            db[j] += dr[j];
        }
        if (!dx) continue;
        float *gr = dx + r * D;
        float mg = sumG / (float)D, mgn = sumGN / (float)D;
        for (long i = 0; i < V; i += 16) {
            v16 n = (LN_NAME(load)(xr + i) - mean) * rstd;
            LN_NAME(store)(gr + i, rstd * (LN_NAME(load)(dr + i) * LN_NAME(load)(w + i) - mg - n * mgn));
        }
        for (long j = V; j < D; j++) {
            float n = (xr[j] - mean) * rstd;
            gr[j] = rstd * (dr[j] * w[j] - mg - n * mgn);
        }
    }
}

#undef LN_INL
