/* dgrad, C[M,N] = A[M,K].B[K,N] + beta*C: A = dY (small), B = W (big); and the
 * weight gradient C[M,N] = A[K,M]^T.B[K,N] (swt_sgemm_tn: A = stacked dY, B =
 * stacked X), the same tile with A read down its columns.
 * Nothing is packed. Loop nest: K block (NN_KC rows of B) > 48-column strip of
 * B > 8-row tile of A. The strip (NN_KC x 192 B) is reused by all row tiles
 * from L2; it cannot stay in L1 because W rows 4 KB apart share L1 sets, so
 * rows are prefetched NN_PF ahead (+10-15% measured). NN_KC 256 (128 equal,
 * 512 and 1024 clearly worse, Emerald Rapids). */
#include "cgemm.h"
#include "cpool.h"
#include "simd.h"
#include <stdlib.h>

#define OP_MR 8     /* rows of C per tile                          */
#define OP_NV 3     /* 16-float vectors per tile row: 8 x 48 = 24 zmm */
#define NN_KC 256   /* reduction block (rows of B)                  */
#define NN_PF 8     /* prefetch distance in rows of B               */

#if CGEMM_X86
/* One MR x (NV*16) tile of C, accumulated in registers over K.
 * a(i,p) = A[i*lda + p] (TA: A[p*lda + i]) is broadcast; B rows are vector loads.
 * With `bias` (the tile's first column of a row vector) the sums start from it instead of
 * from C: the bits of C = bias followed by beta 1, without writing and reading C first.
 * The last vector of a row may be partial (mask nm) unless FULL. */
CGEMM_INLINE void op_kernel(const int TA, const int MR, const int NV, const int FULL, int K,
                            const float *A, long lda, const float *B, long ldb,
                            float *C, long ldc, float beta, const float *bias, __mmask16 nm)
{
    __m512 acc[OP_MR][OP_NV];
    if (bias) {   /* every row starts from the tile's bias columns (C is write-only) */
        UNROLL for (int v = 0; v < NV; v++) {
            __m512 x = (!FULL && v == NV - 1) ? _mm512_maskz_loadu_ps(nm, bias + 16 * v) : _mm512_loadu_ps(bias + 16 * v);
            UNROLL for (int i = 0; i < MR; i++) acc[i][v] = x;
        }
    } else if (beta == 0.0f) {
        UNROLL for (int i = 0; i < MR; i++)
            UNROLL for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
    } else {
        __m512 vb = _mm512_set1_ps(beta);
        UNROLL for (int i = 0; i < MR; i++)
            UNROLL for (int v = 0; v < NV; v++) {
                const float *c = C + i * ldc + 16 * v;
                __m512 x = (!FULL && v == NV - 1) ? _mm512_maskz_loadu_ps(nm, c) : _mm512_loadu_ps(c);
                acc[i][v] = beta == 1.0f ? x : _mm512_mul_ps(x, vb);
            }
    }
    for (int p = 0; p < K; p++) {
        const float *b = B + p * ldb;
        __m512 bv[OP_NV];
        UNROLL for (int v = 0; v < NV; v++)
            _mm_prefetch((const char *)(b + NN_PF * ldb + 16 * v), _MM_HINT_T0);
        if (TA) _mm_prefetch((const char *)(A + (p + NN_PF) * lda), _MM_HINT_T0);
        UNROLL for (int v = 0; v < NV; v++)
            bv[v] = (!FULL && v == NV - 1) ? _mm512_maskz_loadu_ps(nm, b + 16 * v)
                                           : _mm512_loadu_ps(b + 16 * v);
        UNROLL for (int i = 0; i < MR; i++) {
            __m512 a = _mm512_set1_ps(TA ? A[p * lda + i] : A[i * lda + p]);
            UNROLL for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(a, bv[v], acc[i][v]);
        }
    }
    UNROLL for (int i = 0; i < MR; i++)
        UNROLL for (int v = 0; v < NV; v++) {
            float *c = C + i * ldc + 16 * v;
            if (!FULL && v == NV - 1) _mm512_mask_storeu_ps(c, nm, acc[i][v]);
            else _mm512_storeu_ps(c, acc[i][v]);
        }
}

/* Edge tiles: one instance per (A read across or down, rows, vectors). */
#define OP_CASE(ta, mr, nv) case ((ta) * 9 + (mr)) * 4 + (nv): \
    op_kernel(ta, mr, nv, 0, K, A, lda, B, ldb, C, ldc, beta, bias, nm); break;
#define OP_ROW(ta, mr) OP_CASE(ta, mr, 1) OP_CASE(ta, mr, 2) OP_CASE(ta, mr, 3)
#define OP_ROWS(ta) OP_ROW(ta, 1) OP_ROW(ta, 2) OP_ROW(ta, 3) OP_ROW(ta, 4) \
                    OP_ROW(ta, 5) OP_ROW(ta, 6) OP_ROW(ta, 7) OP_ROW(ta, 8)

CGEMM_NOINLINE void op_edge(int ta, int mr, int nv, int K, const float *A, long lda,
                            const float *B, long ldb, float *C, long ldc,
                            float beta, const float *bias, __mmask16 nm)
{
    switch ((ta * 9 + mr) * 4 + nv) {
    OP_ROWS(0) OP_ROWS(1)
    default: break;
    }
}

CGEMM_TARGET void swt_sgemm_nn_bias(int M, int N, int K, const float *A, int lda,
                                    const float *B, int ldb, float *C, int ldc, float beta,
                                    const float *bias)
{
    const int NC = OP_NV * 16;
    if (K <= 0) {
        if (bias) { for (int i = 0; i < M; i++) for (int j = 0; j < N; j++) C[(long)i * ldc + j] = bias[j]; }
        else scale_c(M, N, C, ldc, beta);
        return;
    }
    for (int p0 = 0; p0 < K; p0 += NN_KC) {
        int kc = K - p0 < NN_KC ? K - p0 : NN_KC;
        float bk = p0 == 0 ? beta : 1.0f;   /* later blocks accumulate */
        for (int j0 = 0; j0 < N; j0 += NC) {
            int nc = N - j0 < NC ? N - j0 : NC;
            const float *Bj = B + (long)p0 * ldb + j0;
            const float *bj = bias && p0 == 0 ? bias + j0 : NULL;   /* later blocks accumulate */
            for (int i0 = 0; i0 < M; i0 += OP_MR) {
                int mr = M - i0 < OP_MR ? M - i0 : OP_MR;
                const float *Ai = A + (long)i0 * lda + p0;
                float *Ci = C + (long)i0 * ldc + j0;
                /* The next tile's lines of C, for writing (a wide C does not stay in L2
                 * between strips: 1.04-1.13x at 4096 rows x 384-512 columns, level at 128). */
                if (i0 + 2 * OP_MR <= M)
                    for (int r = OP_MR; r < 2 * OP_MR; r++)
                        for (int c = 0; c < nc; c += 16) __builtin_prefetch(Ci + (long)r * ldc + c, 1, 3);
                if (mr == OP_MR && nc == NC)
                    op_kernel(0, OP_MR, OP_NV, 1, kc, Ai, lda, Bj, ldb, Ci, ldc, bk, bj, 0xFFFF);
                else
                    op_edge(0, mr, (nc + 15) / 16, kc, Ai, lda, Bj, ldb, Ci, ldc, bk, bj, lane_mask(nc % 16 ? nc % 16 : 16));
            }
        }
    }
}

CGEMM_TARGET void swt_sgemm_nn(int M, int N, int K, const float *A, int lda,
                               const float *B, int ldb, float *C, int ldc, float beta)
{
    swt_sgemm_nn_bias(M, N, K, A, lda, B, ldb, C, ldc, beta, NULL);
}

#else
void swt_sgemm_nn(int M, int N, int K, const float *A, int lda,
                  const float *B, int ldb, float *C, int ldc, float beta)
{
    (void)M; (void)N; (void)K; (void)A; (void)lda; (void)B; (void)ldb; (void)C; (void)ldc; (void)beta;
    abort();   /* no AVX-512 on this architecture: swt_gemm_available() is 0 */
}

void swt_sgemm_nn_bias(int M, int N, int K, const float *A, int lda,
                       const float *B, int ldb, float *C, int ldc, float beta, const float *bias)
{
    (void)M; (void)N; (void)K; (void)A; (void)lda; (void)B; (void)ldb; (void)C; (void)ldc; (void)beta; (void)bias;
    abort();   /* no AVX-512 on this architecture: swt_gemm_available() is 0 */
}
#endif

/* swt_sgemm_tn reads B packed by swt_sgemm_tn_pack (sgemm_tn_pack.c) and packs A per
 * K block as 8-row tiles, Ap[t][p][8]. */

#if CGEMM_X86
/* The TN loop nest over B either packed (strip s, row p at P + s*48*K + p*48: strip_stride
 * 48*K, row_stride 48) or in place (strip_stride 48, row_stride ldb): the same tiles and
 * the same sums, only where the tile reads B differs. */
CGEMM_TARGET static void tn_run(int M, int N, int K, const float *A, int lda,
                                const float *P, long strip_stride, long row_stride,
                                float *C, int ldc, float beta, float *sums,
                                const float *const *prefetch, int nprefetch, long prefetch_floats)
{
    const int NC = OP_NV * 16;
    if (K <= 0) { scale_c(M, N, C, ldc, beta); return; }
    int tilesM = (M + OP_MR - 1) / OP_MR;
    float *Ap = cgemm_workspace(CGEMM_WORKSPACE_TN, (size_t)tilesM * OP_MR * NN_KC);
    if (!Ap) abort();
    /* The prefetch lines, spread evenly over the tiles (into L2: the tiles keep L1). */
    long lines = prefetch_floats > 0 && nprefetch > 0 ? (prefetch_floats + 15) / 16 : 0;
    long total = lines * nprefetch, issued = 0;
    long tiles = (long)((K + NN_KC - 1) / NN_KC) * ((N + NC - 1) / NC) * tilesM;
    long per = total ? (total + tiles - 1) / tiles : 0;
    for (int p0 = 0; p0 < K; p0 += NN_KC) {
        int kc = K - p0 < NN_KC ? K - p0 : NN_KC;
        float bk = p0 == 0 ? beta : 1.0f;   /* later blocks accumulate */
        for (int t = 0; t < tilesM; t++) {
            int i0 = t * OP_MR, mr = M - i0 < OP_MR ? M - i0 : OP_MR;
            float *d = Ap + (long)t * OP_MR * kc;
            /* One 8-float row per k: a masked 256-bit copy (zeros past M). With `sums`, each
             * lane also adds its column's rows in order, continuing across K blocks. */
            __mmask8 am = (__mmask8)lane_mask(mr);
            if (sums) {
                __m256 acc = _mm256_maskz_loadu_ps(am, sums + i0);
                for (int p = 0; p < kc; p++) {
                    __m256 row = _mm256_maskz_loadu_ps(am, A + (long)(p0 + p) * lda + i0);
                    _mm256_storeu_ps(d + p * OP_MR, row);
                    acc = _mm256_add_ps(acc, row);
                }
                _mm256_mask_storeu_ps(sums + i0, am, acc);
            } else {
                for (int p = 0; p < kc; p++)
                    _mm256_storeu_ps(d + p * OP_MR, _mm256_maskz_loadu_ps(am, A + (long)(p0 + p) * lda + i0));
            }
        }
        for (int j0 = 0; j0 < N; j0 += NC) {
            int nc = N - j0 < NC ? N - j0 : NC;
            const float *Bj = P + (long)(j0 / NC) * strip_stride + (long)p0 * row_stride;
            /* The next panel of B (next strip, or the first of the next K block) into L2, a
             * share of its rows per tile: read in place from a big X, its first tile missed. */
            int nj0 = j0 + NC < N ? j0 + NC : 0, np0 = j0 + NC < N ? p0 : p0 + NN_KC;
            int nrows = np0 < K ? (K - np0 < NN_KC ? K - np0 : NN_KC) : 0;
            int nnc = N - nj0 < NC ? N - nj0 : NC;
            const float *Bn = nrows ? P + (long)(nj0 / NC) * strip_stride + (long)np0 * row_stride : Bj;
            int share = (nrows + tilesM - 1) / tilesM;
            for (int t = 0; t < tilesM; t++) {
                int i0 = t * OP_MR, mr = M - i0 < OP_MR ? M - i0 : OP_MR;
                const float *Ai = Ap + (long)t * OP_MR * kc;
                float *Ci = C + (long)i0 * ldc + j0;
                for (int r = t * share; r < (t + 1) * share && r < nrows; r++)
                    for (int c = 0; c < nnc; c += 16)
                        _mm_prefetch((const char *)(Bn + (long)r * row_stride + c), _MM_HINT_T1);
                for (long q = 0; q < per && issued < total; q++, issued++)
                    _mm_prefetch((const char *)(prefetch[issued / lines] + (issued % lines) * 16), _MM_HINT_T1);
                if (mr == OP_MR && nc == NC)
                    op_kernel(1, OP_MR, OP_NV, 1, kc, Ai, OP_MR, Bj, row_stride, Ci, ldc, bk, NULL, 0xFFFF);
                else
                    op_edge(1, mr, (nc + 15) / 16, kc, Ai, OP_MR, Bj, row_stride, Ci, ldc, bk, NULL, lane_mask(nc % 16 ? nc % 16 : 16));
            }
        }
    }
}

CGEMM_TARGET void swt_sgemm_tn(int M, int N, int K, const float *A, int lda,
                               const float *P, float *C, int ldc, float beta,
                               const float *const *prefetch, int nprefetch, long prefetch_floats)
{
    tn_run(M, N, K, A, lda, P, (long)OP_NV * 16 * K, OP_NV * 16, C, ldc, beta, NULL, prefetch, nprefetch, prefetch_floats);
}

typedef struct {
    int M, N, K, lda, ldc, rb;
    const float *A, *P;
    long strip_stride, row_stride;
    float *C;
    float beta;
    float *sums;
} tn_job;

static void tn_task(void *ctx, long t)
{
    const tn_job *j = ctx;
    int i0 = (int)t * j->rb, mb = j->M - i0 < j->rb ? j->M - i0 : j->rb;
    tn_run(mb, j->N, j->K, j->A + i0, j->lda, j->P, j->strip_stride, j->row_stride,
           j->C + (long)i0 * j->ldc, j->ldc, j->beta, j->sums ? j->sums + i0 : NULL, NULL, 0, 0);
}

/* B is read in place when its rows are short (ldb <= TN_INPLACE_LDB floats) and many
 * (K >= TN_INPLACE_K): rows 4 KB apart (1024 features) share L1 sets, rows of 128-512
 * floats do not, and there the pack (a copy of all of B over B*T = 8192 rows, memory bound)
 * cost more than it saved. Over few rows the pack is cheap and its aligned 48-float rows
 * are the faster read (an MLP's first layer, 40 features, batch 128). */
#define TN_INPLACE_LDB 512
#define TN_INPLACE_K 1024

CGEMM_TARGET void swt_sgemm_tn_blocked(int M, int N, int K, const float *A, int lda,
                                       const float *B, int ldb, float *C, int ldc, float beta,
                                       int row_block, float *column_sums)
{
    if (K <= 0) { scale_c(M, N, C, ldc, beta); return; }
    tn_job j = {M, N, K, lda, ldc, row_block, A, B, OP_NV * 16, ldb, C, beta, column_sums};
    if (ldb > TN_INPLACE_LDB || K < TN_INPLACE_K) {
        float *P = cgemm_workspace(CGEMM_WORKSPACE_TN_PACKED, (size_t)swt_sgemm_tn_pack_size(K, N));
        if (!P) abort();
        swt_sgemm_tn_pack(K, N, B, ldb, P);
        j.P = P; j.strip_stride = (long)OP_NV * 16 * K; j.row_stride = OP_NV * 16;
    }
    swt_pool_run((M + row_block - 1) / row_block, tn_task, &j);
}
#else
void swt_sgemm_tn(int M, int N, int K, const float *A, int lda,
                  const float *P, float *C, int ldc, float beta,
                  const float *const *prefetch, int nprefetch, long prefetch_floats)
{
    (void)M; (void)N; (void)K; (void)A; (void)lda; (void)P; (void)C; (void)ldc; (void)beta;
    (void)prefetch; (void)nprefetch; (void)prefetch_floats;
    abort();   /* no AVX-512 on this architecture: swt_gemm_available() is 0 */
}

void swt_sgemm_tn_blocked(int M, int N, int K, const float *A, int lda,
                          const float *B, int ldb, float *C, int ldc, float beta, int row_block,
                          float *column_sums)
{
    (void)M; (void)N; (void)K; (void)A; (void)lda; (void)B; (void)ldb; (void)C; (void)ldc; (void)beta;
    (void)row_block; (void)column_sums;
    abort();   /* no AVX-512 on this architecture: swt_gemm_available() is 0 */
}
#endif
