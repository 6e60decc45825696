/* forward, C[M,N] = A[M,K].B[N,K]^T + beta*C: A = X (small), B = W (big).
 * Register-blocked dot-product tile, 4 rows of A x 6 rows of B: 24 zmm
 * accumulators run along k (both operands contiguous in k, so no packing),
 * one combined horizontal reduction per tile and K block. Loop nest: K block
 * > 6 rows of B (6 x 4 KB stay in L1) > 4 rows of A (stream from L2), so B
 * is read from memory once per call. */
#include <stdlib.h>
#include "cgemm.h"
#include "cpool.h"
#include "simd.h"

#define NT_MR 4        /* rows of A per tile                                  */
#define NT_NR 6        /* rows of B per tile                                  */
#define NT_KC 1024     /* K block: (MR+NR) rows of KC floats fit L1 (512 worse) */
#define NT_SMALLK 128  /* K up to this (or 4x at M >= 128): transpose B + NN,  */
                       /* where the horizontal sums would dominate; at M >= 128 */
                       /* the transpose is cheap next to the product, and NN    */
                       /* ran a char GPT's 4096 x 128 x 512 (fc2) 1.05x faster  */
                       /* than the dot tile (AMD Zen 4)                         */

#if CGEMM_X86
/* 16 vectors -> one vector whose lane t is the sum of v[t]:
 * 15 shuffle pairs + 15 adds + 1 permute instead of 16 full reductions. */
CGEMM_INLINE __m512 reduce16(const __m512 v[16])
{
    __m512 p[8], q[4], r[2], f;
    UNROLL for (int j = 0; j < 8; j++)   /* 256-bit halves: lanes 0-7 from v[2j], 8-15 from v[2j+1] */
        p[j] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2*j], v[2*j+1], 0x44),
                             _mm512_shuffle_f32x4(v[2*j], v[2*j+1], 0xEE));
    UNROLL for (int j = 0; j < 4; j++)   /* 128-bit block l holds v[4j+l], 4 partials */
        q[j] = _mm512_add_ps(_mm512_shuffle_f32x4(p[2*j], p[2*j+1], 0x88),
                             _mm512_shuffle_f32x4(p[2*j], p[2*j+1], 0xDD));
    UNROLL for (int j = 0; j < 2; j++)   /* 2 partials each */
        r[j] = _mm512_add_ps(_mm512_shuffle_ps(q[2*j], q[2*j+1], 0x44),
                             _mm512_shuffle_ps(q[2*j], q[2*j+1], 0xEE));
    f = _mm512_add_ps(_mm512_shuffle_ps(r[0], r[1], 0x88),
                      _mm512_shuffle_ps(r[0], r[1], 0xDD));
    /* lane 4l+e holds sum(v[l+4e]): transpose 4x4 back to natural order */
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0,4,8,12,1,5,9,13,2,6,10,14,3,7,11,15), f);
}

/* One MR x NR tile of C: acc[i*NR+j] holds 16 partial sums of A[i,:].B[j,:].
 * Per 16-wide k step: MR+NR loads, MR*NR FMAs; masked loads for the K tail.
 * With `bias` (the tile's first column) C = sums + bias[j] (C write-only): the bits of
 * C = bias followed by beta 1. */
CGEMM_INLINE void dot_kernel(const int MR, const int NR, int K,
                             const float *A, long lda, const float *B, long ldb,
                             float *C, long ldc, float beta, const float *bias)
{
    __m512 acc[NT_MR * 8];
    UNROLL for (int t = 0; t < MR * NR; t++) acc[t] = _mm512_setzero_ps();
    int k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 a[NT_MR];
        UNROLL for (int i = 0; i < MR; i++) a[i] = _mm512_loadu_ps(A + i * lda + k);
        UNROLL for (int j = 0; j < NR; j++) {
            __m512 b = _mm512_loadu_ps(B + j * ldb + k);
            UNROLL for (int i = 0; i < MR; i++) acc[i * NR + j] = _mm512_fmadd_ps(a[i], b, acc[i * NR + j]);
        }
    }
    if (k < K) {
        __mmask16 m = lane_mask(K - k);
        __m512 a[NT_MR];
        UNROLL for (int i = 0; i < MR; i++) a[i] = _mm512_maskz_loadu_ps(m, A + i * lda + k);
        UNROLL for (int j = 0; j < NR; j++) {
            __m512 b = _mm512_maskz_loadu_ps(m, B + j * ldb + k);
            UNROLL for (int i = 0; i < MR; i++) acc[i * NR + j] = _mm512_fmadd_ps(a[i], b, acc[i * NR + j]);
        }
    }
    float out[NT_MR * 8 + 16] __attribute__((aligned(64)));
    UNROLL for (int g = 0; g < MR * NR; g += 16) {
        __m512 v[16];
        UNROLL for (int t = 0; t < 16; t++) v[t] = g + t < MR * NR ? acc[g + t] : _mm512_setzero_ps();
        _mm512_store_ps(out + g, reduce16(v));
    }
    UNROLL for (int i = 0; i < MR; i++)
        UNROLL for (int j = 0; j < NR; j++) {
            float *c = C + i * ldc + j;
            *c = bias ? out[i * NR + j] + bias[j]
                 : beta == 0.0f ? out[i * NR + j] : out[i * NR + j] + beta * *c;
        }
}

/* Edge tiles: one instance per (rows, columns) pair up to 4 x 8. */
#define DOT_CASE(mr, nr) case (mr) * 8 + (nr): \
    dot_kernel(mr, nr, K, A, lda, B, ldb, C, ldc, beta, bias); break;
#define DOT_ROW(mr) DOT_CASE(mr, 1) DOT_CASE(mr, 2) DOT_CASE(mr, 3) DOT_CASE(mr, 4) \
                    DOT_CASE(mr, 5) DOT_CASE(mr, 6) DOT_CASE(mr, 7) DOT_CASE(mr, 8)

CGEMM_NOINLINE void dot_edge(int mr, int nr, int K, const float *A, long lda,
                             const float *B, long ldb, float *C, long ldc, float beta,
                             const float *bias)
{
    switch (mr * 8 + nr) {
    DOT_ROW(1) DOT_ROW(2) DOT_ROW(3) DOT_ROW(4)
    default: break;
    }
}

/* Bt[K,N] = B[N,K]^T, 16 columns of Bt per gather. */
CGEMM_INLINE void transpose_b(int N, int K, const float *B, long ldb, float *Bt)
{
    const __m512i idx = _mm512_mullo_epi32(
        _mm512_setr_epi32(0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15), _mm512_set1_epi32((int)ldb));
    for (int j0 = 0; j0 < N; j0 += 16) {
        __mmask16 m = lane_mask(N - j0);
        for (int k = 0; k < K; k++) {
            __m512 g = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, B + (long)j0 * ldb + k, 4);
            _mm512_mask_storeu_ps(Bt + (long)k * N + j0, m, g);
        }
    }
}

/* swt_sgemm_nt with an optional bias row added to every row of C (beta ignored then). */
CGEMM_TARGET static void nt_run(int M, int N, int K, const float *A, int lda,
                                const float *B, int ldb, float *C, int ldc, float beta,
                                const float *bias)
{
    if (K <= 0) { swt_sgemm_nn_bias(M, N, 0, A, lda, B, ldb, C, ldc, beta, bias); return; }
    int short_k = K <= NT_SMALLK || (K <= 4 * NT_SMALLK && M >= 128);
    if (short_k && (long)ldb * 15 < 0x7fffffffL) {   /* gather offsets are int32 */
        float *Bt = cgemm_workspace(CGEMM_WORKSPACE_NT, (size_t)K * N);
        if (Bt) {
            transpose_b(N, K, B, ldb, Bt);
            swt_sgemm_nn_bias(M, N, K, A, lda, Bt, N, C, ldc, beta, bias);
            return;
        }
    }
    for (int k0 = 0; k0 < K; k0 += NT_KC) {
        int kc = K - k0 < NT_KC ? K - k0 : NT_KC;
        float bk = k0 == 0 ? beta : 1.0f;   /* later blocks accumulate */
        for (int j0 = 0; j0 < N; j0 += NT_NR) {
            int nr = N - j0 < NT_NR ? N - j0 : NT_NR;
            const float *Bj = B + (long)j0 * ldb + k0;
            const float *bj = bias && k0 == 0 ? bias + j0 : NULL;
            int i0 = 0;
            if (nr == NT_NR)
                for (; i0 + NT_MR <= M; i0 += NT_MR)
                    dot_kernel(NT_MR, NT_NR, kc, A + (long)i0 * lda + k0, lda, Bj, ldb,
                               C + (long)i0 * ldc + j0, ldc, bk, bj);
            for (; i0 < M; i0 += NT_MR) {
                int mr = M - i0 < NT_MR ? M - i0 : NT_MR;
                dot_edge(mr, nr, kc, A + (long)i0 * lda + k0, lda, Bj, ldb,
                         C + (long)i0 * ldc + j0, ldc, bk, bj);
            }
        }
    }
}

CGEMM_TARGET void swt_sgemm_nt(int M, int N, int K, const float *A, int lda,
                               const float *B, int ldb, float *C, int ldc, float beta)
{
    nt_run(M, N, K, A, lda, B, ldb, C, ldc, beta, NULL);
}

/* One block of swt_sgemm_blocked: rows i0.., columns j0.. of C. */
typedef struct {
    int M, N, K, lda, ldb, ldc, rb, cb, mblocks, nn;
    const float *A, *B, *bias;
    float *C;
    float beta;
} blocked_job;

static void blocked_task(void *ctx, long t)
{
    const blocked_job *j = ctx;
    int i0 = (int)(t % j->mblocks) * j->rb, j0 = (int)(t / j->mblocks) * j->cb;
    int mb = j->M - i0 < j->rb ? j->M - i0 : j->rb, nb = j->N - j0 < j->cb ? j->N - j0 : j->cb;
    const float *A = j->A + (long)i0 * j->lda;
    float *C = j->C + (long)i0 * j->ldc + j0;
    const float *bias = j->bias ? j->bias + j0 : NULL;
    if (j->nn) swt_sgemm_nn_bias(mb, nb, j->K, A, j->lda, j->B + j0, j->ldb, C, j->ldc, j->beta, bias);
    else nt_run(mb, nb, j->K, A, j->lda, j->B + (long)j0 * j->ldb, j->ldb, C, j->ldc, j->beta, bias);
}

CGEMM_TARGET void swt_sgemm_blocked(int transB, int M, int N, int K, const float *A, int lda,
                                    const float *B, int ldb, float *C, int ldc, float beta,
                                    const float *bias, int row_block, int col_block)
{
    if (K <= 0) { swt_sgemm_nn_bias(M, N, 0, A, lda, B, ldb, C, ldc, beta, bias); return; }
    blocked_job j = {M, N, K, lda, ldb, ldc, row_block, col_block, (M + row_block - 1) / row_block,
                     !transB, A, B, bias, C, beta};
    if (transB) {
        /* The path swt_sgemm_nt would take for the whole product: short K transposes B
         * once here (the caller's workspace) and every block runs NN on it. */
        int short_k = K <= NT_SMALLK || (K <= 4 * NT_SMALLK && M >= 128);
        if (short_k && (long)ldb * 15 < 0x7fffffffL) {
            float *Bt = cgemm_workspace(CGEMM_WORKSPACE_NT, (size_t)K * N);
            if (Bt) {
                transpose_b(N, K, B, ldb, Bt);
                j.B = Bt;
                j.ldb = N;
                j.nn = 1;
            }
        }
    }
    long tasks = (long)j.mblocks * ((N + col_block - 1) / col_block);
    swt_pool_run(tasks, blocked_task, &j);
}
#else
void swt_sgemm_nt(int M, int N, int K, const float *A, int lda,
                  const float *B, int ldb, float *C, int ldc, float beta)
{
    (void)M; (void)N; (void)K; (void)A; (void)lda; (void)B; (void)ldb; (void)C; (void)ldc; (void)beta;
    abort();   /* no AVX-512 on this architecture: swt_gemm_available() is 0 */
}

void swt_sgemm_blocked(int transB, int M, int N, int K, const float *A, int lda,
                       const float *B, int ldb, float *C, int ldc, float beta,
                       const float *bias, int row_block, int col_block)
{
    (void)transB; (void)M; (void)N; (void)K; (void)A; (void)lda; (void)B; (void)ldb; (void)C; (void)ldc;
    (void)beta; (void)bias; (void)row_block; (void)col_block;
    abort();   /* no AVX-512 on this architecture: swt_gemm_available() is 0 */
}
#endif
