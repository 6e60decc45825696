/* B packed for swt_sgemm_tn: 48-column strips P[s][p][48] (zero-padded), so the NN tile
 * reads contiguous panels (read in place, rows of B are 4 KB apart at 1024 features and
 * share L1 sets). Pure copies, so any split of the rows over the pool gives the same bytes;
 * the pack of a weight gradient over B*T = 8192 rows ran on one thread while the other
 * waited (3% of a 2-thread char GPT step). */
#include "cgemm.h"
#include "cpool.h"
#include "simd.h"

#define TN_NC 48               /* columns per strip: the NN tile's 3 x 16          */
#define TN_PACK_ROWS 256       /* rows of B per pool task                           */
#define TN_PACK_SERIAL 65536   /* below this many floats of B, one task             */

long swt_sgemm_tn_pack_size(int K, int N)
{
    return (long)((N + TN_NC - 1) / TN_NC) * TN_NC * (K > 0 ? K : 0);
}

#if CGEMM_X86
/* Rows [p0, p1) of B into every strip, strip by strip (each strip written in order; the
 * padding lanes of the last one zero through the masked loads). */
CGEMM_TARGET static void pack_rows(int K, int N, const float *B, int ldb, float *P, int p0, int p1)
{
    for (int j0 = 0; j0 < N; j0 += TN_NC) {
        float *strip = P + (long)(j0 / TN_NC) * TN_NC * K;
        int left = N - j0;   /* lane_mask(0) is empty: zeros past N */
        __mmask16 m0 = lane_mask(left), m1 = lane_mask(left > 16 ? left - 16 : 0),
                  m2 = lane_mask(left > 32 ? left - 32 : 0);
        for (int p = p0; p < p1; p++) {
            const float *b = B + (long)p * ldb + j0;
            float *d = strip + (long)p * TN_NC;
            _mm512_storeu_ps(d, _mm512_maskz_loadu_ps(m0, b));
            _mm512_storeu_ps(d + 16, _mm512_maskz_loadu_ps(m1, b + 16));
            _mm512_storeu_ps(d + 32, _mm512_maskz_loadu_ps(m2, b + 32));
        }
    }
}
#else
static void pack_rows(int K, int N, const float *B, int ldb, float *P, int p0, int p1)
{
    int full = (N + TN_NC - 1) / TN_NC * TN_NC;
    for (int p = p0; p < p1; p++)
        for (int j = 0; j < full; j++)
            P[(long)(j / TN_NC) * TN_NC * K + (long)p * TN_NC + j % TN_NC] = j < N ? B[(long)p * ldb + j] : 0.0f;
}
#endif

typedef struct {
    int K, N, ldb;
    const float *B;
    float *P;
} pack_job;

static void pack_task(void *ctx, long t)
{
    const pack_job *j = ctx;
    int p0 = (int)t * TN_PACK_ROWS, p1 = j->K - p0 < TN_PACK_ROWS ? j->K : p0 + TN_PACK_ROWS;
    pack_rows(j->K, j->N, j->B, j->ldb, j->P, p0, p1);
}

void swt_sgemm_tn_pack(int K, int N, const float *B, int ldb, float *P)
{
    if (K <= 0 || N <= 0) return;
    if ((long)K * N < TN_PACK_SERIAL) { pack_rows(K, N, B, ldb, P, 0, K); return; }
    pack_job j = {K, N, ldb, B, P};
    swt_pool_run((K + TN_PACK_ROWS - 1) / TN_PACK_ROWS, pack_task, &j);
}
