/* bf16 GEMM with fp32 accumulation (csbgemm.h): dispatch, the AVX512-BF16 register tile, the
 * portable loop, and the split over the pool. op(B) is packed into panels of 32 columns, op(A)
 * into groups of 12 rows (sbgemm_pack.c); a 12 x 32 tile of C keeps 24 zmm accumulators, and
 * each k pair costs two panel loads, 12 broadcasts of A and 24 vdpbf16ps. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cgemm.h"
#include "cpool.h"
#include "ccpu.h"
#include "sbgemm_internal.h"
#include "simd.h"

/* Rows x columns of C per compute task: 4 groups of A (which stay in L1 across the panels)
 * against 8 panels of B (in L2: 512 KB at K = 1024). */
#define SB_ROW_BLOCK (4 * SB_MR)
#define SB_COL_BLOCK (8 * SB_NR)

/* Below this many multiply-adds the caller runs every task itself: waking the pool costs more
 * than it saves (the fp32 kernels' rule, GEMMKernels.minParallelWork). Same tasks, same bits. */
#define SB_MIN_PARALLEL_WORK (1L << 20)

#define SB_VECTOR_NEED (SWT_CPU_AVX512F | SWT_CPU_AVX512BW | SWT_CPU_AVX512VL | SWT_CPU_AVX512BF16)

int swt_sbgemm_path_available(int path)
{
    switch (path) {
    case SWT_SBGEMM_PORTABLE: return 1;
    case SWT_SBGEMM_AVX512BF16: return (swt_cpu_features() & SB_VECTOR_NEED) == SB_VECTOR_NEED;
    /* AMX-BF16 (tdpbf16ps on 16 x 32 bf16 tiles) would go here, behind swt_cpu_request_amx():
     * not written, since no machine it could be tested on was at hand. */
    case SWT_SBGEMM_AMX: return 0;
    default: return 0;
    }
}

int swt_sbgemm_path(void)
{
    if (swt_kernels_portable()) return SWT_SBGEMM_PORTABLE;
    if (swt_sbgemm_path_available(SWT_SBGEMM_AMX)) return SWT_SBGEMM_AMX;
    if (swt_sbgemm_path_available(SWT_SBGEMM_AVX512BF16)) return SWT_SBGEMM_AVX512BF16;
    return SWT_SBGEMM_PORTABLE;
}

/* A bf16 as float, subnormals as zero (vdpbf16ps's DAZ). */
static inline float widen(uint32_t h)
{
    h &= 0xFFFFu;
    if ((h & 0x7F80u) == 0) h &= 0x8000u;
    uint32_t x = h << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* C = alpha * acc + beta * C for one element (beta 0: C ignored). */
static inline float finish(float acc, float alpha, float beta, float c)
{
    float r = alpha == 1.0f ? acc : alpha * acc;
    return beta == 0.0f ? r : fmaf(beta, c, r);
}

/* mr rows x nc columns of C from group Ap (SB_MR words a pair) and panel Bp (SB_NR words). */
static void tile_portable(int mr, int nc, int pairs, const uint32_t *Ap, const uint32_t *Bp,
                          float *C, long ldc, float alpha, float beta)
{
    for (int i = 0; i < mr; i++) {
        float acc[SB_NR];
        for (int c = 0; c < SB_NR; c++) acc[c] = 0.0f;
        for (int p = 0; p < pairs; p++) {
            uint32_t a = Ap[(long)p * SB_MR + i];
            float alo = widen(a), ahi = widen(a >> 16);
            const uint32_t *b = Bp + (long)p * SB_NR;
            for (int c = 0; c < SB_NR; c++) {
                acc[c] = acc[c] + ahi * widen(b[c] >> 16);
                acc[c] = acc[c] + alo * widen(b[c]);
            }
        }
        for (int c = 0; c < nc; c++) C[i * ldc + c] = finish(acc[c], alpha, beta, C[i * ldc + c]);
    }
}

#if CGEMM_X86
#define SB_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define SB_INLINE SB_TARGET __attribute__((always_inline)) static inline

/* MR rows x NV vectors of 16 columns; `last` masks the columns of the last vector. */
SB_INLINE void tile_bf16(const int MR, const int NV, int pairs, const uint32_t *Ap, const uint32_t *Bp,
                         float *C, long ldc, float alpha, float beta, __mmask16 last)
{
    __m512 acc[SB_MR * 2];
    UNROLL for (int t = 0; t < MR * NV; t++) acc[t] = _mm512_setzero_ps();
    for (int p = 0; p < pairs; p++) {
        __m512bh b[2];
        UNROLL for (int v = 0; v < NV; v++) b[v] = (__m512bh)_mm512_loadu_si512(Bp + (long)p * SB_NR + 16 * v);
        UNROLL for (int i = 0; i < MR; i++) {
            __m512bh a = (__m512bh)_mm512_set1_epi32((int)Ap[(long)p * SB_MR + i]);
            UNROLL for (int v = 0; v < NV; v++) acc[i * NV + v] = _mm512_dpbf16_ps(acc[i * NV + v], a, b[v]);
        }
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    UNROLL for (int i = 0; i < MR; i++)
        UNROLL for (int v = 0; v < NV; v++) {
            __mmask16 m = v == NV - 1 ? last : 0xFFFF;
            float *c = C + i * ldc + 16 * v;
            __m512 r = alpha == 1.0f ? acc[i * NV + v] : _mm512_mul_ps(va, acc[i * NV + v]);
            if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, c), r);
            _mm512_mask_storeu_ps(c, m, r);
        }
}

#define SB_CASE(mr) \
    case mr: if (nv == 2) tile_bf16(mr, 2, pairs, Ap, Bp, C, ldc, alpha, beta, last); \
             else tile_bf16(mr, 1, pairs, Ap, Bp, C, ldc, alpha, beta, last); break;

SB_TARGET __attribute__((noinline)) static void tile_vector(int mr, int nc, int pairs, const uint32_t *Ap,
                                                            const uint32_t *Bp, float *C, long ldc,
                                                            float alpha, float beta)
{
    int nv = nc > 16 ? 2 : 1;
    __mmask16 last = lane_mask(nc - 16 * (nv - 1));
    switch (mr) {
    SB_CASE(1) SB_CASE(2) SB_CASE(3) SB_CASE(4) SB_CASE(5) SB_CASE(6)
    SB_CASE(7) SB_CASE(8) SB_CASE(9) SB_CASE(10) SB_CASE(11) SB_CASE(12)
    default: break;
    }
}
#else
static void tile_vector(int mr, int nc, int pairs, const uint32_t *Ap, const uint32_t *Bp, float *C, long ldc,
                        float alpha, float beta)
{
    tile_portable(mr, nc, pairs, Ap, Bp, C, ldc, alpha, beta);   /* never reached: not available */
}
#endif

typedef struct {
    int vector, M, N, K, pairs, mblocks;
    const float *A, *B;
    long ars, aks, brs, bks;
    uint32_t *Ap, *Bp;
    float *C;
    long ldc;
    float alpha, beta;
} sb_job;

/* Pairs of op(B) per packing task when it is packed by pairs (rows of B contiguous). */
#define SB_PACK_PAIRS 16

static void pack_b_task(void *ctx, long t)
{
    const sb_job *j = ctx;
    sbgemm_pack_group(j->vector, j->N, j->K, j->B, j->brs, j->bks, SB_NR, (int)t, j->Bp);
}

static void pack_b_pairs_task(void *ctx, long t)
{
    const sb_job *j = ctx;
    int p0 = (int)t * SB_PACK_PAIRS, p1 = p0 + SB_PACK_PAIRS < j->pairs ? p0 + SB_PACK_PAIRS : j->pairs;
    sbgemm_pack_pairs(j->N, j->K, j->B, j->bks, SB_NR, p0, p1, j->Bp);
}

static void pack_a_task(void *ctx, long t)
{
    const sb_job *j = ctx;
    int groups = (j->M + SB_MR - 1) / SB_MR, per = SB_ROW_BLOCK / SB_MR;
    for (int g = (int)t * per; g < groups && g < (int)(t + 1) * per; g++)
        sbgemm_pack_group(j->vector, j->M, j->K, j->A, j->ars, j->aks, SB_MR, g, j->Ap);
}

static void compute_task(void *ctx, long t)
{
    const sb_job *j = ctx;
    int i0 = (int)(t % j->mblocks) * SB_ROW_BLOCK, c0 = (int)(t / j->mblocks) * SB_COL_BLOCK;
    int i1 = j->M < i0 + SB_ROW_BLOCK ? j->M : i0 + SB_ROW_BLOCK;
    int c1 = j->N < c0 + SB_COL_BLOCK ? j->N : c0 + SB_COL_BLOCK;
    for (int i = i0; i < i1; i += SB_MR) {
        int mr = i1 - i < SB_MR ? i1 - i : SB_MR;
        const uint32_t *Ap = j->Ap + (long)(i / SB_MR) * j->pairs * SB_MR;
        for (int c = c0; c < c1; c += SB_NR) {
            int nc = c1 - c < SB_NR ? c1 - c : SB_NR;
            const uint32_t *Bp = j->Bp + (long)(c / SB_NR) * j->pairs * SB_NR;
            float *C = j->C + (long)i * j->ldc + c;
            if (j->vector) tile_vector(mr, nc, j->pairs, Ap, Bp, C, j->ldc, j->alpha, j->beta);
            else tile_portable(mr, nc, j->pairs, Ap, Bp, C, j->ldc, j->alpha, j->beta);
        }
    }
}

void swt_sbgemm_path_run(int path, int transA, int transB, int M, int N, int K, float alpha,
                         const float *A, int lda, const float *B, int ldb,
                         float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (int i = 0; i < M; i++)
            for (int c = 0; c < N; c++) C[(long)i * ldc + c] = finish(0.0f, alpha, beta, C[(long)i * ldc + c]);
        return;
    }
    /* The AMX path is never available (csbgemm.h), so it falls to the next one down. */
    int vector = path != SWT_SBGEMM_PORTABLE && swt_sbgemm_path_available(SWT_SBGEMM_AVX512BF16);
    sb_job j;
    j.vector = vector;
    j.M = M; j.N = N; j.K = K; j.pairs = (K + 1) / 2;
    j.mblocks = (M + SB_ROW_BLOCK - 1) / SB_ROW_BLOCK;
    j.A = A; j.B = B;
    j.ars = transA ? 1 : lda; j.aks = transA ? lda : 1;   /* op(A)[i][k] */
    j.brs = transB ? ldb : 1; j.bks = transB ? 1 : ldb;   /* op(B)[k][n] as row n of the panel */
    j.Ap = (uint32_t *)cgemm_workspace(CGEMM_WORKSPACE_BF16_A, (size_t)swt_sbgemm_packed_words(M, K, SB_MR));
    j.Bp = (uint32_t *)cgemm_workspace(CGEMM_WORKSPACE_BF16_B, (size_t)swt_sbgemm_packed_words(N, K, SB_NR));
    if (!j.Ap || !j.Bp) abort();
    j.C = C; j.ldc = ldc; j.alpha = alpha; j.beta = beta;
    long tasks[3] = {(N + SB_NR - 1) / SB_NR, j.mblocks, (long)j.mblocks * ((N + SB_COL_BLOCK - 1) / SB_COL_BLOCK)};
    swt_pool_fn fns[3] = {pack_b_task, pack_a_task, compute_task};
    if (sbgemm_pack_by_pairs(vector, j.brs, j.bks)) {
        tasks[0] = (j.pairs + SB_PACK_PAIRS - 1) / SB_PACK_PAIRS;
        fns[0] = pack_b_pairs_task;
    }
    int parallel = (long)M * N * K >= SB_MIN_PARALLEL_WORK;
    for (int s = 0; s < 3; s++) {
        if (parallel) swt_pool_run(tasks[s], fns[s], &j);
        else for (long t = 0; t < tasks[s]; t++) fns[s](&j, t);
    }
}

void swt_sbgemm(int transA, int transB, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb,
                float beta, float *C, int ldc)
{
    swt_sbgemm_path_run(swt_sbgemm_path(), transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
