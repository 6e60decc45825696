#ifndef CGEMM_CSBGEMM_H
#define CGEMM_CSBGEMM_H

/// bf16 GEMM with fp32 accumulation ("sbgemm"): C = alpha * op(A) . op(B) + beta * C, where
/// A, B and C are row-major float32 and op(A) (M x K), op(B) (K x N) are rounded to bf16
/// (round to nearest, ties to even; a NaN stays NaN) while they are packed. Each element of C
/// is a sum over k in pairs, in order, on fp32: for every pair (k, k+1),
/// acc = (acc + a[k+1] b[k+1]) + a[k] b[k], each product of two bf16 exact in fp32 and each
/// addition rounded to fp32, starting from 0; then C = alpha * acc + beta * C (beta 0: C is
/// write-only). That is what `vdpbf16ps` computes lane by lane (Intel SDM; the same bits on
/// AMD Zen 5, checked), and the portable loop computes it too, so both paths give the same
/// bits as long as no partial sum or product is below 2^-126 (FLT_MIN): `vdpbf16ps` treats
/// bf16 subnormal inputs as zero (the portable loop does too) and flushes subnormal results
/// to zero (the portable loop does not).
///
/// Paths, best first: AMX-BF16 tiles (`tdpbf16ps`; not written yet: the development machine
/// has no AMX, so `swt_sbgemm_path_available(SWT_SBGEMM_AMX)` is always 0 and this is where
/// that kernel would be dispatched), AVX512-BF16 (`vdpbf16ps`, needs AVX-512 F, BW, VL and
/// BF16), and the portable C loop over the same packed layout. `swt_sbgemm` takes the best
/// path the calling thread may use (CCPU: `SWTRAIN_KERNELS=portable` or the thread override
/// force the portable loop).
///
/// Threads: B is packed, then A, then C is computed in blocks of 48 rows x 256 columns, each
/// step one pool task per panel or block (cpool.h; a B whose rows are contiguous is packed on
/// the vector path one task per 16 k pairs across all panels, so its rows stream); below 2^20
/// multiply-adds the caller runs the same tasks alone. The vector packing rounds with
/// `vcvtne2ps2bf16` (the integer rounding for a vector holding a subnormal, where the
/// instruction would give 0), the same bits as the portable rounding. Every element of C is
/// computed by the same instructions in the same order whatever the split, so the result is
/// bit-identical at any thread count.

enum {
    SWT_SBGEMM_PORTABLE = 0,   ///< C loop over the packed layout (any CPU)
    SWT_SBGEMM_AVX512BF16 = 1, ///< vdpbf16ps, 12 rows x 32 columns per register tile
    SWT_SBGEMM_AMX = 2,        ///< AMX-BF16 tiles: not implemented (never available)
};

/// 1 when `path` can run on this CPU (ignoring the portable switch), else 0.
int swt_sbgemm_path_available(int path);

/// The path `swt_sbgemm` takes on the calling thread: the best available one, or
/// SWT_SBGEMM_PORTABLE when the portable kernels are forced.
int swt_sbgemm_path(void);

/// C[M,N] = alpha * op(A) . op(B) + beta * C (see above) on `swt_sbgemm_path()`. op(A) is A
/// (M x K, lda) or, with transA, A^T for A (K x M, lda); op(B) is B (K x N, ldb) or, with
/// transB, B^T for B (N x K, ldb). M, N >= 1, K >= 0 (K == 0: C = beta * C).
void swt_sbgemm(int transA, int transB, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb,
                float beta, float *C, int ldc);

/// `swt_sbgemm` on a given path, or the best available path below it.
void swt_sbgemm_path_run(int path, int transA, int transB, int M, int N, int K, float alpha,
                         const float *A, int lda, const float *B, int ldb,
                         float beta, float *C, int ldc);

/// The packed layout, exposed for tests. A logical R x K matrix X (element (r, k) at
/// src[r * rs + k * ks]; either rs or ks is 1) is stored as groups of `width` rows
/// (12 for A, 32 for B); group g holds ceil(K / 2) pairs, pair p as `width` 32-bit words,
/// word r = bf16(X[g width + r, 2p]) | bf16(X[g width + r, 2p + 1]) << 16, zero past R or K.
/// Returns the number of 32-bit words the packed matrix takes.
long swt_sbgemm_packed_words(int R, int K, int width);
/// Packs X (above) into `dst` (`swt_sbgemm_packed_words` words) on `path` (portable or
/// vector; both give the same bits).
void swt_sbgemm_pack(int path, int R, int K, const float *src, long rs, long ks, int width,
                     unsigned int *dst);
/// The same words as `swt_sbgemm_pack` with rows contiguous (rs == 1, ks > 1), packed as
/// `swt_sbgemm` packs such an op(B) on the vector path: by blocks of 16 pairs across all groups
/// (each source row read from start to end) instead of a group at a time. On the portable path,
/// or when ks == 1, this is `swt_sbgemm_pack`.
void swt_sbgemm_pack_by_pairs(int path, int R, int K, const float *src, long ks, int width,
                              unsigned int *dst);

#endif
