#ifndef CGEMM_H
#define CGEMM_H

/// Hand-written single-thread AVX-512 SGEMM kernels for the two dense-layer
/// products whose big operand (the weight) can be read in place, never repacked:
///
///   forward  Y[B,out] = X[B,in] . W[out,in]^T   -> swt_sgemm_nt
///   dgrad   dX[B,in]  = dY[B,out] . W[out,in]   -> swt_sgemm_nn
///   wgrad   dW[rows,in] = dY[B,rows]^T . X[B,in]  -> swt_sgemm_tn (a block of a
///           weight gradient's rows against X packed once, with the optimizer
///           state of the next block prefetched while it computes)
///
/// All matrices are row-major float32 with leading dimensions (row strides, in
/// elements) lda, ldb, ldc >= the row length. alpha is 1. When beta == 0, C is
/// write-only (its old contents, NaNs included, are ignored); otherwise
/// C = A.B + beta * C. Columns of C beyond N (the ldc padding) are never touched.
/// Correct for any M, N >= 1 and K >= 0 (K == 0 gives C = beta * C).
///
/// Call only when swt_gemm_available() returns 1 (on a non-x86 host the kernels
/// are stubs that abort).

/// 1 when the CPU has the AVX-512 subsets the kernels use (F and VL), else 0
/// (CCPU's swt_cpu_features, cached).
int swt_gemm_available(void);
/// 1 when swt_gemm_available() and the portable path is not forced on this
/// thread (SWTRAIN_KERNELS=portable or CCPU's thread override): whether
/// dispatching code should use the kernels.
int swt_gemm_enabled(void);

/// C[M,N] = A[M,K] . B[N,K]^T + beta * C. Each output is a dot product of two
/// contiguous rows; B is read once per call. For short K (<= 128, or <= 512 when
/// M >= 128) B is transposed into
/// a thread-local buffer (reused across calls) and the NN kernel runs instead.
void swt_sgemm_nt(int M, int N, int K, const float *A, int lda,
                  const float *B, int ldb, float *C, int ldc, float beta);

/// C[M,N] = A[M,K] . B[K,N] + beta * C. Outer-product tiles of 8 rows x 48
/// columns; B is read in place with software prefetch.
void swt_sgemm_nn(int M, int N, int K, const float *A, int lda,
                  const float *B, int ldb, float *C, int ldc, float beta);

/// C[M,N] = A[M,K] . B[K,N] + bias, bias a row of N floats added to every row of C (beta
/// ignored, C write-only), or with bias NULL exactly swt_sgemm_nn. Each sum starts from the
/// bias: the bits of filling C with the bias rows and calling swt_sgemm_nn with beta 1.
void swt_sgemm_nn_bias(int M, int N, int K, const float *A, int lda,
                       const float *B, int ldb, float *C, int ldc, float beta, const float *bias);

/// C = A.B^T (transB 1, as swt_sgemm_nt) or A.B (transB 0, as swt_sgemm_nn) + beta * C,
/// as blocks of row_block rows x col_block columns of C, one pool task each (cpool.h).
/// With bias (N floats; NULL: none) C = op product + bias in every row instead, beta
/// ignored: the bits of C filled with the bias rows and beta 1, without that pass over C
/// (a dense layer's forward with its bias).
/// With transB and a short K (the path swt_sgemm_nt takes for the whole M), B is transposed
/// once and every block runs the NN kernel on it. Blocks aligned with the tiles (row_block a
/// multiple of 8, col_block of 48) give the bits of the unsplit call.
void swt_sgemm_blocked(int transB, int M, int N, int K, const float *A, int lda,
                       const float *B, int ldb, float *C, int ldc, float beta,
                       const float *bias, int row_block, int col_block);

/// Floats needed by swt_sgemm_tn_pack for B[K,N].
long swt_sgemm_tn_pack_size(int K, int N);
/// Packs B[K,N] (row-major, ldb) for swt_sgemm_tn: 48-column strips, each K
/// rows of 48 contiguous floats (the last strip zero-padded). Pack once, then
/// run any number of swt_sgemm_tn calls (row blocks of C) against it. Large B is packed
/// over the pool (cpool.h) in fixed row chunks: the bytes do not depend on the split.
void swt_sgemm_tn_pack(int K, int N, const float *B, int ldb, float *P);

/// C[M,N] = A[K,M]^T . B[K,N] + beta * C with B packed by swt_sgemm_tn_pack
/// (same K and N). The NN tile over packed panels: A's 8-row tiles are packed
/// per call into a thread-local buffer (so A may be read down its columns,
/// lda >= M). While it computes, it prefetches into L2 the first
/// `prefetch_floats` floats of each of the `nprefetch` arrays `prefetch[q]`
/// (NULL / 0: none), spread evenly over the tiles: a caller that updates
/// parameters block by block passes the next block's parameters and optimizer
/// state, so the update after this call finds them in cache.
void swt_sgemm_tn(int M, int N, int K, const float *A, int lda,
                  const float *P, float *C, int ldc, float beta,
                  const float *const *prefetch, int nprefetch, long prefetch_floats);

/// C[M,N] = A[K,M]^T . B[K,N] + beta * C (B row-major, ldb): B packed once (swt_sgemm_tn_pack,
/// into the caller's workspace), then row blocks of row_block rows of C (a multiple of 8),
/// one pool task each, through swt_sgemm_tn. Every element sums over K in the same order
/// whatever the split. A layer's weight gradient over many rows (K = B*T).
/// column_sums (NULL: none), M floats: column_sums[i] += sum over k of A[k,i], the rows added
/// one by one in order from k = 0 (the bits of that plain loop), while A is packed: a dense
/// layer's bias gradient from the same read of dY.
void swt_sgemm_tn_blocked(int M, int N, int K, const float *A, int lda,
                          const float *B, int ldb, float *C, int ldc, float beta, int row_block,
                          float *column_sums);

#include "cpool.h"
#include "cattention.h"
#include "celementwise.h"
#include "csbgemm.h"

#endif
