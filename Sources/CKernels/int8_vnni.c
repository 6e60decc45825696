// The AVX-512 VNNI int8 GEMM: C = A W^T with vpdpbusd (u8 x s8, four products summed into
// each int32 lane, wrapping, never saturating), reading the packed layout of int8_internal.h.
//
// Register blocking: MR rows of A by NR panels (16 columns each) of W, MR x NR zmm
// accumulators. Per k-group (4 k) the tile loads NR 64-byte panel rows of W, broadcasts one
// dword (4 bytes of k) of each of the MR rows of A, and issues MR x NR vpdpbusd. k runs in
// blocks of KC groups (1024 k: the NR panels' 64 KB slice of W stays in L2 while every row
// block of A, MC rows, passes over it); blocks after the first add into C. With an output
// stage (swt_qgemm_u8s8_out) the last k block hands its sums, still in registers, to
// swt_q_out16 instead of storing int32, so for k <= 1024 C is never written. The last group of
// a k that is not a multiple of 4 reads A through a zero-padded dword (never past the row's
// end); the packed W is zero there, so those lanes add nothing. Edges: any mr in 1...MR and nr
// in 1...NR has its own unrolled tile, and the columns of the last panel past n are masked off
// on store. KC 256 groups measured 0.57 ms against 0.61 ms for 128 (m 256, n = k = 1024, one
// Zen 5 core, best of 200).
#pragma clang fp contract(off)

#include "ckernels_int8.h"
#include "int8_internal.h"

#include <string.h>

#if SWT_Q_X86
#include <immintrin.h>

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define VNNI_INLINE static inline VNNI_TARGET __attribute__((always_inline))

#ifndef SWT_Q_MR
#define SWT_Q_MR 6
#endif
#ifndef SWT_Q_NR
#define SWT_Q_NR 4
#endif
/// Narrow and flat special cases: a single panel (n <= 16 left, e.g. a 10-class output) runs
/// up to 12 rows per tile, so 12 independent accumulator chains hide the vpdpbusd latency; a
/// single row (m = 1) runs 8 panels per tile for the same reason.
#define SWT_Q_MR1 12
#define SWT_Q_NR1 8
#define SWT_Q_MR_MAX 12
#define SWT_Q_NR_MAX 8
#ifndef SWT_Q_MC
#define SWT_Q_MC 48
#endif
#ifndef SWT_Q_KC
#define SWT_Q_KC 256
#endif

/// One MR x NR tile over `ng` full k-groups (plus one partial group of `tail` bytes when
/// tail > 0); `acc_in`: add into C instead of overwriting it; `lm`: columns of the last panel.
/// With an output stage `o` the sums (plus C when acc_in) go through it for rows i0... and
/// columns j0... of the call instead of into C.
VNNI_INLINE void vnni_tile(const int MR, const int NR, const uint8_t *a, size_t lda, const int8_t *b,
                           size_t pb, int ng, int tail, int32_t *c, size_t ldc, int acc_in, __mmask16 lm,
                           const swt_qgemm_out *o, int i0, int j0) {
    __m512i acc[SWT_Q_MR_MAX][SWT_Q_NR_MAX];
    for (int r = 0; r < MR; r++)
        for (int q = 0; q < NR; q++) acc[r][q] = _mm512_setzero_si512();
    const int8_t *bp = b;
    const uint8_t *ap = a;
    for (int g = 0; g < ng; g++) {
        __m512i bv[SWT_Q_NR_MAX];
        for (int q = 0; q < NR; q++) bv[q] = _mm512_loadu_si512((const void *)(bp + (size_t)q * pb));
        for (int r = 0; r < MR; r++) {
            int32_t d;
            memcpy(&d, ap + (size_t)r * lda, 4);
            __m512i av = _mm512_set1_epi32(d);
            for (int q = 0; q < NR; q++) acc[r][q] = _mm512_dpbusd_epi32(acc[r][q], av, bv[q]);
        }
        bp += 64;
        ap += 4;
    }
    if (tail) {
        __m512i bv[SWT_Q_NR_MAX];
        for (int q = 0; q < NR; q++) bv[q] = _mm512_loadu_si512((const void *)(bp + (size_t)q * pb));
        for (int r = 0; r < MR; r++) {
            int32_t d = 0;
            memcpy(&d, ap + (size_t)r * lda, (size_t)tail);
            __m512i av = _mm512_set1_epi32(d);
            for (int q = 0; q < NR; q++) acc[r][q] = _mm512_dpbusd_epi32(acc[r][q], av, bv[q]);
        }
    }
    for (int r = 0; r < MR; r++) {
        int32_t *cr = c + (size_t)r * ldc;
        for (int q = 0; q < NR; q++) {
            __mmask16 mk = q == NR - 1 ? lm : (__mmask16)0xFFFF;
            __m512i v = acc[r][q];
            if (acc_in) v = _mm512_add_epi32(v, _mm512_maskz_loadu_epi32(mk, cr + 16 * q));
            if (o) swt_q_out16(o, i0 + r, j0 + 16 * q, v, mk);
            else _mm512_mask_storeu_epi32(cr + 16 * q, mk, v);
        }
    }
}

typedef void (*vnni_tile_fn)(const uint8_t *, size_t, const int8_t *, size_t, int, int, int32_t *,
                             size_t, int, __mmask16, const swt_qgemm_out *, int, int);

#define TILE(MR, NR)                                                                              \
    static VNNI_TARGET void vnni_tile_##MR##_##NR(const uint8_t *a, size_t lda, const int8_t *b,   \
                                                  size_t pb, int ng, int tail, int32_t *c,          \
                                                  size_t ldc, int acc_in, __mmask16 lm,             \
                                                  const swt_qgemm_out *o, int i0, int j0) {         \
        vnni_tile(MR, NR, a, lda, b, pb, ng, tail, c, ldc, acc_in, lm, o, i0, j0);                  \
    }
#define TILES_NR(NR) TILE(1, NR) TILE(2, NR) TILE(3, NR) TILE(4, NR) TILE(5, NR) TILE(6, NR)
TILES_NR(1)
TILES_NR(2)
TILES_NR(3)
TILES_NR(4)
#define ROW(NR) {vnni_tile_1_##NR, vnni_tile_2_##NR, vnni_tile_3_##NR, vnni_tile_4_##NR, \
                 vnni_tile_5_##NR, vnni_tile_6_##NR}
static const vnni_tile_fn vnni_tiles[SWT_Q_NR][SWT_Q_MR] = {ROW(1), ROW(2), ROW(3), ROW(4)};
TILE(7, 1) TILE(8, 1) TILE(9, 1) TILE(10, 1) TILE(11, 1) TILE(12, 1)
TILE(1, 5) TILE(1, 6) TILE(1, 7) TILE(1, 8)
/// One panel: 1...12 rows.
static const vnni_tile_fn vnni_tiles_n1[SWT_Q_MR1] = {
    vnni_tile_1_1, vnni_tile_2_1, vnni_tile_3_1, vnni_tile_4_1, vnni_tile_5_1, vnni_tile_6_1,
    vnni_tile_7_1, vnni_tile_8_1, vnni_tile_9_1, vnni_tile_10_1, vnni_tile_11_1, vnni_tile_12_1};
/// One row: 1...8 panels.
static const vnni_tile_fn vnni_tiles_m1[SWT_Q_NR1] = {
    vnni_tile_1_1, vnni_tile_1_2, vnni_tile_1_3, vnni_tile_1_4, vnni_tile_1_5, vnni_tile_1_6,
    vnni_tile_1_7, vnni_tile_1_8};

/// The blocked driver of both entry points: `o` NULL writes int32 C, else the output stage.
static VNNI_TARGET void vnni_cols(int m, int n0, int n1, int k, const uint8_t *a, size_t lda,
                                  const int8_t *packed, int32_t *c, size_t ldc, const swt_qgemm_out *o) {
    const size_t pb = swt_q_panel_bytes(k);
    const int rem = k % 4, ngroups = k / 4 + (rem ? 1 : 0);
    const int p0 = n0 / SWT_Q_PANEL, p1 = (n1 + SWT_Q_PANEL - 1) / SWT_Q_PANEL;
    // Rows in blocks of MC so the block's C stays in L2 across the k blocks.
    for (int i0 = 0; i0 < m; i0 += SWT_Q_MC) {
        const int mb = m - i0 < SWT_Q_MC ? m - i0 : SWT_Q_MC;
        const uint8_t *a0 = a + (size_t)i0 * lda;
        int32_t *c0 = c + (size_t)i0 * ldc;
        for (int g0 = 0; g0 < ngroups; g0 += SWT_Q_KC) {
            const int g1 = g0 + SWT_Q_KC < ngroups ? g0 + SWT_Q_KC : ngroups;
            const int tail = (g1 == ngroups) ? rem : 0;
            const int nfull = g1 - g0 - (tail ? 1 : 0);
            const swt_qgemm_out *ob = g1 == ngroups ? o : NULL;   // the output stage after the last k block
            const int step = mb == 1 ? SWT_Q_NR1 : SWT_Q_NR;
            for (int p = p0; p < p1; p += step) {
                const int nr = p1 - p < step ? p1 - p : step;
                const int last = n1 - (p + nr - 1) * SWT_Q_PANEL;
                const __mmask16 lm = last >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << last) - 1u);
                const int8_t *b = packed + (size_t)p * pb + (size_t)g0 * 64;
                const int j0 = p * SWT_Q_PANEL;
                int32_t *cp = c0 + (size_t)j0;
                const uint8_t *ag = a0 + (size_t)g0 * 4;
                if (mb == 1) {
                    vnni_tiles_m1[nr - 1](ag, lda, b, pb, nfull, tail, cp, ldc, g0 > 0, lm, ob, i0, j0);
                } else if (nr == 1) {
                    for (int i = 0; i < mb; i += SWT_Q_MR1) {
                        const int mr = mb - i < SWT_Q_MR1 ? mb - i : SWT_Q_MR1;
                        vnni_tiles_n1[mr - 1](ag + (size_t)i * lda, lda, b, pb, nfull, tail, cp + (size_t)i * ldc, ldc,
                                              g0 > 0, lm, ob, i0 + i, j0);
                    }
                } else {
                    for (int i = 0; i < mb; i += SWT_Q_MR) {
                        const int mr = mb - i < SWT_Q_MR ? mb - i : SWT_Q_MR;
                        vnni_tiles[nr - 1][mr - 1](ag + (size_t)i * lda, lda, b, pb, nfull, tail,
                                                   cp + (size_t)i * ldc, ldc, g0 > 0, lm, ob, i0 + i, j0);
                    }
                }
            }
        }
    }
}

VNNI_TARGET void swt_qgemm_cols_vnni(int m, int n0, int n1, int k, const uint8_t *a, size_t lda,
                                     const int8_t *packed, int32_t *c, size_t ldc) {
    if (m <= 0 || n1 <= n0) return;
    if (k <= 0) {
        for (int i = 0; i < m; i++) memset(c + (size_t)i * ldc + n0, 0, (size_t)(n1 - n0) * 4);
        return;
    }
    vnni_cols(m, n0, n1, k, a, lda, packed, c, ldc, NULL);
}

VNNI_TARGET void swt_qgemm_cols_vnni_out(int m, int n0, int n1, int k, const uint8_t *a, size_t lda,
                                         const int8_t *packed, int32_t *c, size_t ldc, const swt_qgemm_out *o) {
    if (m <= 0 || n1 <= n0) return;
    if (k <= 0) {
        swt_qgemm_cols_vnni(m, n0, n1, k, a, lda, packed, c, ldc);
        swt_qgemm_out_rows_avx512(m, n0, n1, c, ldc, o);
        return;
    }
    vnni_cols(m, n0, n1, k, a, lda, packed, c, ldc, o);
}
#else
void swt_qgemm_cols_vnni(int m, int n0, int n1, int k, const uint8_t *a, size_t lda,
                         const int8_t *packed, int32_t *c, size_t ldc) {
    swt_qgemm_cols_portable(m, n0, n1, k, a, lda, packed, c, ldc);
}
void swt_qgemm_cols_vnni_out(int m, int n0, int n1, int k, const uint8_t *a, size_t lda,
                             const int8_t *packed, int32_t *c, size_t ldc, const swt_qgemm_out *o) {
    swt_qgemm_cols_portable(m, n0, n1, k, a, lda, packed, c, ldc);
    swt_qgemm_out_rows_scalar(m, n0, n1, c, ldc, o);
}
#endif
