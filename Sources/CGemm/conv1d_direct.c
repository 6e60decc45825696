/* Direct 1-D convolution (cconv1d.h): pool tasks of SWT_CONV1D_DW_CHUNK samples; per sample a
 * zero-padded copy of the input rows and (backward) dy transposed to (position, channel) in a
 * per-thread buffer, then register tiles over 16-float vectors of channels. The loops are in
 * conv1d_direct_body.h, compiled twice, AVX-512 and portable. */
#include <stdio.h>
#include <stdlib.h>
#include "cconv1d.h"
#include "cgemm.h"
#include "cpool.h"
#include "simd.h"

#pragma clang fp contract(fast)
#pragma clang diagnostic ignored "-Wpsabi"

typedef float v16 __attribute__((vector_size(64)));

/* Largest register tile (positions or pairs): 12 by 2 vectors is 24 accumulators of 32 zmm. */
#define CV_TMAX 12

typedef struct {
    long B, C, W, O, K, S, P, Lo;
    long ldx;             /* floats per padded input row (W + 2P, more if the last tile reads past) */
    long no, nc;          /* vectors over the output / input channels (1 or 2) */
    long ldo, ldc;        /* 16 no, 16 nc */
    long tf, nf;          /* forward: positions per tile, tiles */
    long td, nd;          /* dx: positions per tile, tiles */
    long tw, nw;          /* dw: (channel, tap) pairs per tile, tiles */
    long ldy;             /* rows of dyT (Lo, more if the last dx tile reads past) */
    long buffer;          /* floats of per-thread buffer a task needs */
    const float *x, *bias, *dy;
    float *y, *dw, *dx;
    float *wf;            /* (C K, ldo): wf[c K + j, o] = w[o, c, j] */
    float *wb;            /* (K O, ldc): wb[j O + o, c] = w[o, c, j] */
    float *part;          /* (tasks, C K, ldo): each task's dw sums */
    float *bp;            /* (ldo): the bias, zero past O (all zero without one) */
    float *db;            /* the bias gradient (NULL: none) */
    float *bpart;         /* (tasks, ldo): each task's bias gradient sums */
    int fast;
} cv_job;

typedef void (*cv_fwd_fn)(const cv_job *, const float *, float *);
typedef void (*cv_dx_fn)(const cv_job *, const float *, float *);
typedef void (*cv_dw_fn)(const cv_job *, const float *, const float *, long, float *);

/* dst[j ld + i] = src[i ls + j] for i < r, j < c (both 1...16); with `full`, lanes r..15 of
 * every dst row are written too, as zeros. */
static void transpose_portable(const float *src, long ls, int r, int c, float *dst, long ld, int full)
{
    for (int j = 0; j < c; j++) {
        for (int i = 0; i < r; i++) dst[j * ld + i] = src[i * ls + j];
        if (full) for (int i = r; i < 16; i++) dst[j * ld + i] = 0.0f;
    }
}

/* dst[i] = src[i - P] for P <= i < P + W, 0 elsewhere in [0, n). */
static void pad_row_portable(const float *src, long W, long P, float *dst, long n)
{
    for (long i = 0; i < n; i++) dst[i] = i >= P && i < P + W ? src[i - P] : 0.0f;
}

#if CGEMM_X86
/* The same, one masked load (lanes inside the row) and one store per 16 floats; dst must have
 * room up to n rounded up to 16. */
CGEMM_TARGET static void pad_row_avx512(const float *src, long W, long P, float *dst, long n)
{
    for (long i = 0; i < n; i += 16) {
        long lo = P - i, hi = P + W - i;   /* lanes [lo, hi) of this block read the row */
        lo = lo < 0 ? 0 : lo;
        hi = hi > 16 ? 16 : hi;
        __mmask16 m = hi > lo ? (__mmask16)(lane_mask((int)hi) & ~(lo > 0 ? lane_mask((int)lo) : 0)) : 0;
        _mm512_storeu_ps(dst + i, _mm512_maskz_loadu_ps(m, src + (i - P)));
    }
}

/* The same as a 16 x 16 register transpose: rows unpacked in pairs (ps), then quads (pd), then
 * 128-bit lanes gathered across rows by two rounds of shuffle_f32x4. */
CGEMM_TARGET static void transpose_avx512(const float *src, long ls, int r, int c, float *dst, long ld, int full)
{
    __m512 a[16], b[16];
    __mmask16 cm = lane_mask(c);
    UNROLL for (int i = 0; i < 16; i++) a[i] = i < r ? _mm512_maskz_loadu_ps(cm, src + i * ls) : _mm512_setzero_ps();
    UNROLL for (int k = 0; k < 8; k++) {
        b[2 * k] = _mm512_unpacklo_ps(a[2 * k], a[2 * k + 1]);
        b[2 * k + 1] = _mm512_unpackhi_ps(a[2 * k], a[2 * k + 1]);
    }
    /* a[4 m + q]: in 128-bit lane L, column 4 L + q of rows 4 m ... 4 m + 3. */
    UNROLL for (int m = 0; m < 4; m++) {
        __m512d t0 = _mm512_castps_pd(b[4 * m]), t1 = _mm512_castps_pd(b[4 * m + 1]);
        __m512d t2 = _mm512_castps_pd(b[4 * m + 2]), t3 = _mm512_castps_pd(b[4 * m + 3]);
        a[4 * m] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
        a[4 * m + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
        a[4 * m + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
        a[4 * m + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    /* Column 4 L + q = lane L of a[q], a[4 + q], a[8 + q], a[12 + q]. */
    __mmask16 rm = full ? (__mmask16)0xFFFF : lane_mask(r);
    UNROLL for (int q = 0; q < 4; q++) {
        __m512 x0 = _mm512_shuffle_f32x4(a[q], a[4 + q], 0x44), x1 = _mm512_shuffle_f32x4(a[q], a[4 + q], 0xEE);
        __m512 y0 = _mm512_shuffle_f32x4(a[8 + q], a[12 + q], 0x44), y1 = _mm512_shuffle_f32x4(a[8 + q], a[12 + q], 0xEE);
        __m512 col[4] = {_mm512_shuffle_f32x4(x0, y0, 0x88), _mm512_shuffle_f32x4(x0, y0, 0xDD),
                         _mm512_shuffle_f32x4(x1, y1, 0x88), _mm512_shuffle_f32x4(x1, y1, 0xDD)};
        UNROLL for (int L = 0; L < 4; L++)
            if (4 * L + q < c) _mm512_mask_storeu_ps(dst + (4 * L + q) * ld, rm, col[L]);
    }
}
#endif

#define CV_SUFFIX _portable
#define CV_ATTR
#include "conv1d_direct_body.h"
#undef CV_SUFFIX
#undef CV_ATTR

#if CGEMM_X86
#define CV_SUFFIX _avx512
#define CV_ATTR __attribute__((target("avx512f,avx512vl,fma")))
#include "conv1d_direct_body.h"
#undef CV_SUFFIX
#undef CV_ATTR
#endif

int swt_conv1d_direct_supports(long in_channels, long out_channels)
{
    return in_channels >= 1 && in_channels <= 32 && out_channels >= 1 && out_channels <= 32;
}

static long tasks_of(long batch) { return (batch + SWT_CONV1D_DW_CHUNK - 1) / SWT_CONV1D_DW_CHUNK; }
static long max_l(long a, long b) { return a > b ? a : b; }

/* Splits n into the fewest tiles of at most tmax, as even as possible: returns the tile size. */
static long split(long n, long tmax, long *tiles)
{
    *tiles = (n + tmax - 1) / tmax;
    return (n + *tiles - 1) / *tiles;
}

static cv_job plan(const swt_conv1d_geometry *g)
{
    cv_job j = {0};
    j.B = g->batch; j.C = g->in_channels; j.W = g->width; j.O = g->out_channels;
    j.K = g->kernel; j.S = g->stride; j.P = g->padding;
    long Lp = j.W + 2 * j.P;
    j.Lo = (Lp - j.K) / j.S + 1;
    j.no = (j.O + 15) / 16; j.nc = (j.C + 15) / 16;
    j.ldo = 16 * j.no; j.ldc = 16 * j.nc;
    j.tf = split(j.Lo, CV_TMAX, &j.nf);
    j.td = split(j.Lo, CV_TMAX, &j.nd);
    j.tw = split(j.C * j.K, CV_TMAX, &j.nw);
    j.ldx = (max_l(Lp, (j.nf * j.tf - 1) * j.S + j.K) + 15) / 16 * 16;
    j.ldy = max_l(j.Lo, j.nd * j.td);
    long fwd = j.C * j.ldx + j.Lo * j.ldo;
    long bwd = SWT_CONV1D_DW_CHUNK * (j.C * j.ldx + j.ldy * j.ldo) + Lp * j.ldc;
    j.buffer = max_l(fwd, bwd);
    return j;
}

long swt_conv1d_direct_workspace(const swt_conv1d_geometry *g)
{
    cv_job j = plan(g);
    return j.ldo + j.C * j.K * j.ldo + j.K * j.O * j.ldc + tasks_of(j.B) * (j.C * j.K + 1) * j.ldo;
}

static void attach(cv_job *j, float *ws, int portable)
{
    j->bp = ws;
    j->wf = ws + j->ldo;
    j->wb = j->wf + j->C * j->K * j->ldo;
    j->part = j->wb + j->K * j->O * j->ldc;
    j->bpart = j->part + tasks_of(j->B) * j->C * j->K * j->ldo;
    j->fast = !portable && swt_gemm_available();
}

/* This thread's task buffer of at least n floats (grows, never shrinks). */
static float *task_buffer(long n)
{
    static _Thread_local float *buf;
    static _Thread_local long cap;
    if (n > cap) {
        free(buf);
        buf = aligned_alloc(64, (size_t)((n * (long)sizeof(float) + 63) / 64 * 64));
        cap = buf ? n : 0;
        if (!buf) {
            fprintf(stderr, "swtrain: out of memory for a conv1d buffer of %ld floats\n", n);
            abort();
        }
    }
    return buf;
}

static void forward_run(void *ctx, long t)
{
    const cv_job *g = ctx;
    float *buf = task_buffer(g->buffer);
#if CGEMM_X86
    if (g->fast) { forward_task_avx512(g, t, buf); return; }
#endif
    forward_task_portable(g, t, buf);
}

static void backward_run(void *ctx, long t)
{
    const cv_job *g = ctx;
    float *buf = task_buffer(g->buffer);
#if CGEMM_X86
    if (g->fast) { backward_task_avx512(g, t, buf); return; }
#endif
    backward_task_portable(g, t, buf);
}

void swt_conv1d_direct_forward(const swt_conv1d_geometry *geo, const float *x, const float *w,
                               const float *bias, float *y, float *workspace, int portable)
{
    cv_job j = plan(geo);
    attach(&j, workspace, portable);
    j.x = x; j.bias = bias; j.y = y;
    const long CK = j.C * j.K;
    for (long p = 0; p < CK; p++)
        for (long o = 0; o < j.ldo; o++) j.wf[p * j.ldo + o] = o < j.O ? w[o * CK + p] : 0.0f;
    for (long o = 0; o < j.ldo; o++) j.bp[o] = bias && o < j.O ? bias[o] : 0.0f;
    swt_pool_run(tasks_of(j.B), forward_run, &j);
}

void swt_conv1d_direct_backward(const swt_conv1d_geometry *geo, const float *x, const float *dy,
                                const float *w, float *dw, float *db, float *dx, float *workspace, int portable)
{
    cv_job j = plan(geo);
    attach(&j, workspace, portable);
    j.x = x; j.dy = dy; j.dw = dw; j.db = db; j.dx = dx;
    if (dx) {
        for (long k = 0; k < j.K; k++)
            for (long o = 0; o < j.O; o++)
                for (long c = 0; c < j.ldc; c++)
                    j.wb[(k * j.O + o) * j.ldc + c] = c < j.C ? w[(o * j.C + c) * j.K + k] : 0.0f;
    }
    long tasks = tasks_of(j.B);
    swt_pool_run(tasks, backward_run, &j);
#if CGEMM_X86
    if (j.fast) { reduce_dw_avx512(&j, tasks); return; }
#endif
    reduce_dw_portable(&j, tasks);
}
