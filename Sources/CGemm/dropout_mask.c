/* Dropout masks from Philox4x32-10 (celementwise.h): block b of the range (counter base + b)
 * gives the four values mask[4b .. 4b+3]. The AVX-512 copy runs 16 blocks per step, one block
 * per lane, and interleaves the four words back into memory order; both copies compute the
 * same integers and the same float compare, so they give the same bits as each other and as
 * SwTensor's RNG.philox. */
#include <stdint.h>
#include "celementwise.h"
#include "cgemm.h"
#include "simd.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* The value a word becomes: keep when its top 24 bits, as a uniform in [0, 1), are >= p. */
static inline float mask_value(uint32_t v, float p, float keep)
{
    return (float)(v >> 8) * (1.0f / 16777216.0f) >= p ? keep : 0.0f;
}

static void mask_portable(long blocks, uint64_t base, uint64_t key, float p, float keep, float *out)
{
    for (long b = 0; b < blocks; b++) {
        uint64_t ctr = base + (uint64_t)b;
        uint32_t c0 = (uint32_t)ctr, c1 = (uint32_t)(ctr >> 32), c2 = 0, c3 = 0;
        uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
        for (int r = 0; r < 10; r++) {
            uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n1 = (uint32_t)p1;
            uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1, n3 = (uint32_t)p0;
            c0 = n0; c1 = n1; c2 = n2; c3 = n3;
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        out[4 * b] = mask_value(c0, p, keep);
        out[4 * b + 1] = mask_value(c1, p, keep);
        out[4 * b + 2] = mask_value(c2, p, keep);
        out[4 * b + 3] = mask_value(c3, p, keep);
    }
}

#if CGEMM_X86
#define MASK_TARGET __attribute__((target("avx512f")))

/* The high 32 bits of the 16 lane products c * m (m < 2^32). */
MASK_TARGET static inline __m512i mulhi_epu32(__m512i c, __m512i m)
{
    __m512i even = _mm512_srli_epi64(_mm512_mul_epu32(c, m), 32);
    __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(c, 32), m);
    return _mm512_mask_mov_epi32(even, 0xAAAA, odd);
}

MASK_TARGET static inline __m512 mask_lanes(__m512i v, __m512 p, __m512 keep)
{
    __m512 u = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(v, 8)), _mm512_set1_ps(1.0f / 16777216.0f));
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(u, p, _CMP_GE_OQ), keep);
}

MASK_TARGET static void mask_avx512(long blocks, uint64_t base, uint64_t key, float p, float keep, float *out)
{
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i m0 = _mm512_set1_epi32((int)PHILOX_M0), m1 = _mm512_set1_epi32((int)PHILOX_M1);
    const __m512 vp = _mm512_set1_ps(p), vkeep = _mm512_set1_ps(keep);
    long b = 0;
    for (; b + 16 <= blocks; b += 16) {
        uint64_t first = base + (uint64_t)b;
        __m512i lo0 = _mm512_set1_epi32((int)(uint32_t)first);
        __m512i c0 = _mm512_add_epi32(lo0, iota);
        /* the lanes whose low word wrapped carry into the high word */
        __mmask16 carry = _mm512_cmplt_epu32_mask(c0, lo0);
        __m512i hi0 = _mm512_set1_epi32((int)(uint32_t)(first >> 32));
        __m512i c1 = _mm512_mask_add_epi32(hi0, carry, hi0, _mm512_set1_epi32(1));
        __m512i c2 = _mm512_setzero_si512(), c3 = _mm512_setzero_si512();
        uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
        for (int r = 0; r < 10; r++) {
            __m512i n0 = _mm512_xor_si512(_mm512_xor_si512(mulhi_epu32(c2, m1), c1), _mm512_set1_epi32((int)k0));
            __m512i n1 = _mm512_mullo_epi32(c2, m1);
            __m512i n2 = _mm512_xor_si512(_mm512_xor_si512(mulhi_epu32(c0, m0), c3), _mm512_set1_epi32((int)k1));
            __m512i n3 = _mm512_mullo_epi32(c0, m0);
            c0 = n0; c1 = n1; c2 = n2; c3 = n3;
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        __m512 w0 = mask_lanes(c0, vp, vkeep), w1 = mask_lanes(c1, vp, vkeep);
        __m512 w2 = mask_lanes(c2, vp, vkeep), w3 = mask_lanes(c3, vp, vkeep);
        /* 4 x 16 -> memory order: within each 128-bit lane q, r_i holds block 4q + i ... */
        __m512 u0 = _mm512_unpacklo_ps(w0, w1), u1 = _mm512_unpackhi_ps(w0, w1);
        __m512 u2 = _mm512_unpacklo_ps(w2, w3), u3 = _mm512_unpackhi_ps(w2, w3);
        __m512 r0 = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(u0), _mm512_castps_pd(u2)));
        __m512 r1 = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(u0), _mm512_castps_pd(u2)));
        __m512 r2 = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(u1), _mm512_castps_pd(u3)));
        __m512 r3 = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(u1), _mm512_castps_pd(u3)));
        /* ... and the output vector q is lane q of r0, r1, r2, r3. */
        __m512 s0 = _mm512_shuffle_f32x4(r0, r1, 0x44), s1 = _mm512_shuffle_f32x4(r2, r3, 0x44);
        __m512 s2 = _mm512_shuffle_f32x4(r0, r1, 0xEE), s3 = _mm512_shuffle_f32x4(r2, r3, 0xEE);
        float *o = out + 4 * b;
        _mm512_storeu_ps(o, _mm512_shuffle_f32x4(s0, s1, 0x88));
        _mm512_storeu_ps(o + 16, _mm512_shuffle_f32x4(s0, s1, 0xDD));
        _mm512_storeu_ps(o + 32, _mm512_shuffle_f32x4(s2, s3, 0x88));
        _mm512_storeu_ps(o + 48, _mm512_shuffle_f32x4(s2, s3, 0xDD));
    }
    mask_portable(blocks - b, base + (uint64_t)b, key, p, keep, out + 4 * b);
}
#endif

void swt_dropout_mask(long blocks, uint64_t counter, uint64_t key, float p, float keep, float *mask,
                      int portable)
{
    if (blocks <= 0) return;
#if CGEMM_X86
    if (!portable && swt_gemm_available()) { mask_avx512(blocks, counter, key, p, keep, mask); return; }
#endif
    mask_portable(blocks, counter, key, p, keep, mask);
}
