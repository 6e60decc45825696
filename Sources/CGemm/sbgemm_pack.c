/* Packing for the bf16 GEMM (csbgemm.h): a logical R x K float matrix rounded to bf16 and laid
 * out as groups of `width` rows, k in pairs, one 32-bit word (two bf16) per row and pair. The
 * portable loop and the AVX-512 loops give the same bits: both round with the same integer
 * arithmetic (nearest, ties to even, NaN made quiet, subnormals rounded exactly). */
#include <stdint.h>
#include <string.h>
#include "csbgemm.h"
#include "sbgemm_internal.h"
#include "simd.h"

long swt_sbgemm_packed_words(int R, int K, int width)
{
    long groups = (R + width - 1) / width, pairs = (K + 1) / 2;
    return groups * pairs * width;
}

/* bf16 bits of x: round to nearest, ties to even; a NaN keeps its sign and top payload, quiet. */
static inline uint32_t round_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (x >> 16) | 0x40u;
    return (x + 0x7FFFu + ((x >> 16) & 1u)) >> 16;
}

static void pack_group_portable(int R, int K, const float *src, long rs, long ks, int width, int g,
                                uint32_t *dst)
{
    int pairs = (K + 1) / 2;
    for (int p = 0; p < pairs; p++)
        for (int c = 0; c < width; c++) {
            long r = (long)g * width + c;
            uint32_t lo = 0, hi = 0;
            if (r < R) {
                lo = round_bf16(src[r * rs + (long)(2 * p) * ks]);
                if (2 * p + 1 < K) hi = round_bf16(src[r * rs + (long)(2 * p + 1) * ks]);
            }
            dst[(long)p * width + c] = lo | hi << 16;
        }
}

#if CGEMM_X86
#define PACK_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define PACK_INLINE PACK_TARGET __attribute__((always_inline)) static inline

/* Lanes of x rounded to bf16, the bf16 in the top 16 bits (the low 16 are garbage). */
PACK_INLINE __m512i round_top(__m512 v)
{
    __m512i x = _mm512_castps_si512(v);
    __m512i r = _mm512_add_epi32(x, _mm512_add_epi32(_mm512_set1_epi32(0x7FFF),
                                 _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1))));
    __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(x, _mm512_set1_epi32(0x7FFFFFFF)),
                                            _mm512_set1_epi32(0x7F800000));
    return _mm512_mask_or_epi32(r, nan, x, _mm512_set1_epi32(0x400000));
}

/* Lanes whose float is subnormal (zero exponent, nonzero fraction): there `vcvtne2ps2bf16`
 * gives 0 (it treats subnormal inputs as zero) where round_bf16 rounds exactly. Everywhere
 * else the instruction gives round_bf16's bits (checked over all 2^32 floats on Zen 5). */
PACK_INLINE __mmask16 subnormal_lanes(__m512 v)
{
    __m512i x = _mm512_castps_si512(v);
    return _mm512_mask_test_epi32_mask(_mm512_testn_epi32_mask(x, _mm512_set1_epi32(0x7F800000)), x,
                                       _mm512_set1_epi32(0x007FFFFF));
}

/* bf16 of lo (words' low halves, lanes 0-15) and hi (16-31) in order: word j = lanes 2j, 2j+1.
 * Only for vectors without subnormal lanes (subnormal_lanes). */
PACK_INLINE __m512i convert_in_order(__m512 lo, __m512 hi)
{
    return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
}

/* Words of pair (even, odd) lanes: bf16(even) | bf16(odd) << 16. */
PACK_INLINE __m512i pair_words(__m512 even, __m512 odd)
{
    return _mm512_or_si512(_mm512_and_si512(round_top(odd), _mm512_set1_epi32((int)0xFFFF0000u)),
                           _mm512_srli_epi32(round_top(even), 16));
}

/* The rows are contiguous (rs == 1): pairs [p0, p1) of groups [g0, g1), into dst (the whole
 * packed matrix). Each pair is two vector loads of up to 16 rows per 16 words, rounded by one
 * vcvtne2ps2bf16 and interleaved by one vpermw (the integer rounding when a lane is
 * subnormal). Pairs outside, groups inside: the two source rows of a pair are read from start
 * to end, which streams (a group at a time walked the rows at a stride of the row length,
 * and that was what a dense layer's input-gradient product spent its packing time on). */
PACK_INLINE void pack_rows_contiguous(int R, int K, const float *src, long ks, int width, int g0, int g1,
                                      int p0, int p1, uint32_t *dst)
{
    const long pairs = (K + 1) / 2;
    const __m512i interleave = _mm512_setr_epi32(0x00100000, 0x00110001, 0x00120002, 0x00130003, 0x00140004,
                                                 0x00150005, 0x00160006, 0x00170007, 0x00180008, 0x00190009,
                                                 0x001A000A, 0x001B000B, 0x001C000C, 0x001D000D, 0x001E000E,
                                                 0x001F000F);
    for (int p = p0; p < p1; p++) {
        const float *e = src + (long)(2 * p) * ks;
        int has_odd = 2 * p + 1 < K;
        for (int g = g0; g < g1; g++) {
            uint32_t *d = dst + ((long)g * pairs + p) * width;
            for (int c0 = 0; c0 < width; c0 += 16) {
                long r0 = (long)g * width + c0;
                int valid = R - r0 < 16 ? (int)(R - r0) : 16, lanes = width - c0 < 16 ? width - c0 : 16;
                __mmask16 load = valid > 0 ? lane_mask(valid) : 0;
                __m512 ev = _mm512_maskz_loadu_ps(load, e + r0);
                __m512 ov = has_odd ? _mm512_maskz_loadu_ps(load, e + ks + r0) : _mm512_setzero_ps();
                __m512i w;
                if (subnormal_lanes(ev) | subnormal_lanes(ov))
                    w = _mm512_maskz_mov_epi32(load, pair_words(ev, ov));
                else
                    w = _mm512_permutexvar_epi16(interleave, convert_in_order(ev, ov));
                _mm512_mask_storeu_epi32(d + c0, lane_mask(lanes), w);
            }
        }
    }
}

/* 16 x 16 words transposed in registers: r[i] lane j becomes r[j] lane i. */
PACK_INLINE void transpose16(__m512i r[16])
{
    __m512i t[16];
    UNROLL for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    UNROLL for (int i = 0; i < 4; i++) {
        r[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
        r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
        r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
        r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    UNROLL for (int h = 0; h < 2; h++)
        UNROLL for (int j = 0; j < 4; j++) {
            t[8 * h + j] = _mm512_shuffle_i32x4(r[8 * h + j], r[8 * h + j + 4], 0x88);
            t[8 * h + j + 4] = _mm512_shuffle_i32x4(r[8 * h + j], r[8 * h + j + 4], 0xDD);
        }
    UNROLL for (int j = 0; j < 8; j++) {
        r[j] = _mm512_shuffle_i32x4(t[j], t[j + 8], 0x88);
        r[j + 8] = _mm512_shuffle_i32x4(t[j], t[j + 8], 0xDD);
    }
}

/* k is contiguous (ks == 1): blocks of 16 rows x 32 k are rounded row by row (two loads, the
 * bf16 halves gathered into 16 pair words) and transposed to 16 pairs x 16 rows. */
PACK_INLINE void pack_k_contiguous(int R, int K, const float *src, long rs, int width, int g, uint32_t *dst)
{
    int pairs = (K + 1) / 2;
    __m512i tops = _mm512_setr_epi32(0x00030001, 0x00070005, 0x000B0009, 0x000F000D, 0x00130011, 0x00170015,
                                     0x001B0019, 0x001F001D, 0x00230021, 0x00270025, 0x002B0029, 0x002F002D,
                                     0x00330031, 0x00370035, 0x003B0039, 0x003F003D);
    for (int c0 = 0; c0 < width; c0 += 16) {
        long r0 = (long)g * width + c0;
        int valid = R - r0 < 16 ? (int)(R - r0) : 16, lanes = width - c0 < 16 ? width - c0 : 16;
        if (valid < 0) valid = 0;
        __mmask16 store = lane_mask(lanes);
        for (int p0 = 0; p0 < pairs; p0 += 16) {
            int k0 = 2 * p0;
            __mmask16 lo = lane_mask(K - k0), hi = K - k0 > 16 ? lane_mask(K - k0 - 16) : 0;
            __m512i w[16];
            UNROLL for (int i = 0; i < 16; i++) {
                if (i < valid) {
                    const float *s = src + (r0 + i) * rs + k0;
                    __m512 x0 = _mm512_maskz_loadu_ps(lo, s), x1 = _mm512_maskz_loadu_ps(hi, s + 16);
                    if (subnormal_lanes(x0) | subnormal_lanes(x1)) {
                        __m512i a = _mm512_maskz_mov_epi32(lo, round_top(x0));
                        __m512i b = _mm512_maskz_mov_epi32(hi, round_top(x1));
                        w[i] = _mm512_permutex2var_epi16(a, tops, b);
                    } else {
                        w[i] = convert_in_order(x0, x1);
                    }
                } else {
                    w[i] = _mm512_setzero_si512();
                }
            }
            transpose16(w);
            int np = pairs - p0 < 16 ? pairs - p0 : 16;
            for (int q = 0; q < np; q++)
                _mm512_mask_storeu_epi32(dst + (long)(p0 + q) * width + c0, store, w[q]);
        }
    }
}

/* Group g of the packed matrix dst. */
PACK_TARGET static void pack_group_avx512(int R, int K, const float *src, long rs, long ks, int width, int g,
                                          uint32_t *dst)
{
    uint32_t *d = dst + (long)g * ((K + 1) / 2) * width;
    if (ks == 1) pack_k_contiguous(R, K, src, rs, width, g, d);
    else if (rs == 1) pack_rows_contiguous(R, K, src, ks, width, g, g + 1, 0, (K + 1) / 2, dst);
    else pack_group_portable(R, K, src, rs, ks, width, g, d);
}

PACK_TARGET static void pack_pairs_avx512(int R, int K, const float *src, long ks, int width, int p0, int p1,
                                          uint32_t *dst)
{
    pack_rows_contiguous(R, K, src, ks, width, 0, (R + width - 1) / width, p0, p1, dst);
}
#endif

int sbgemm_pack_by_pairs(int vector, long rs, long ks)
{
    return CGEMM_X86 && vector && rs == 1 && ks != 1;
}

void sbgemm_pack_pairs(int R, int K, const float *src, long ks, int width, int p0, int p1, uint32_t *dst)
{
#if CGEMM_X86
    pack_pairs_avx512(R, K, src, ks, width, p0, p1, dst);
#else
    (void)R; (void)K; (void)src; (void)ks; (void)width; (void)p0; (void)p1; (void)dst;
#endif
}

void sbgemm_pack_group(int vector, int R, int K, const float *src, long rs, long ks, int width, int g,
                       uint32_t *dst)
{
    uint32_t *d = dst + (long)g * ((K + 1) / 2) * width;
#if CGEMM_X86
    if (vector) { pack_group_avx512(R, K, src, rs, ks, width, g, dst); return; }
#else
    (void)vector;
#endif
    pack_group_portable(R, K, src, rs, ks, width, g, d);
}

void swt_sbgemm_pack(int path, int R, int K, const float *src, long rs, long ks, int width, unsigned int *dst)
{
    int vector = path != SWT_SBGEMM_PORTABLE && swt_sbgemm_path_available(SWT_SBGEMM_AVX512BF16);
    long groups = (R + width - 1) / width;
    for (long g = 0; g < groups; g++) sbgemm_pack_group(vector, R, K, src, rs, ks, width, (int)g, dst);
}

void swt_sbgemm_pack_by_pairs(int path, int R, int K, const float *src, long ks, int width, unsigned int *dst)
{
    int vector = path != SWT_SBGEMM_PORTABLE && swt_sbgemm_path_available(SWT_SBGEMM_AVX512BF16);
    int pairs = (K + 1) / 2;
    if (!sbgemm_pack_by_pairs(vector, 1, ks)) { swt_sbgemm_pack(path, R, K, src, 1, ks, width, dst); return; }
    for (int p = 0; p < pairs; p += 16) sbgemm_pack_pairs(R, K, src, ks, width, p, p + 16 < pairs ? p + 16 : pairs, dst);
}
