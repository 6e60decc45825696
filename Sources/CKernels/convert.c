// Float32 <-> bfloat16 and Float32 <-> IEEE binary16 (see ckernels.h for the rules). The
// portable loops are exact integer code; the AVX-512 loops use vcvtneps2bf16 / vcvtps2ph /
// vcvtph2ps (and the F16C loops the 256-bit vcvtps2ph / vcvtph2ps, for CPUs without AVX-512)
// and give the same bits (checked over all 2^32 floats and 2^16 halves on
// Emerald Rapids), with the last n % 16 elements done by the portable code.
#include "ckernels.h"
#include "sources.h"
#include "ccpu.h"

#include <string.h>

static inline uint32_t f32_bits(float f) { uint32_t x; memcpy(&x, &f, 4); return x; }
static inline float bits_f32(uint32_t x) { float f; memcpy(&f, &x, 4); return f; }

static inline uint16_t to_bf16(uint32_t x) {
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((x >> 16) | 0x40);   // NaN: quiet
    return (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);                  // nearest, ties even
}

static inline uint16_t to_f16(uint32_t x) {
    uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | ((ax >> 13) & 0x3FFu));   // NaN: quiet
    if (ax >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u);     // >= 65520 (and inf): inf
    if (ax < 0x38800000u) {                                       // below 2^-14: subnormal half
        if (ax <= 0x33000000u) return (uint16_t)sign;             // <= 2^-25 (a tie) rounds to 0
        uint32_t e = ax >> 23, m = (ax & 0x7FFFFFu) | 0x800000u;
        int shift = 126 - (int)e;                                 // units of 2^-24: 14..24
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1u))) q++;         // may carry into 2^-14: fine
        return (uint16_t)(sign | q);
    }
    uint32_t t = ax - 0x38000000u;                                // exponent bias 127 -> 15
    uint32_t q = t >> 13, rem = t & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1u))) q++;      // may carry into the exponent
    return (uint16_t)(sign | q);
}

static inline uint32_t from_f16(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
    if (e == 31) return sign | 0x7F800000u | (m << 13) | (m ? 0x400000u : 0);   // inf; NaN quiet
    if (e != 0) return sign | ((e + 112u) << 23) | (m << 13);
    if (m == 0) return sign;
    // subnormal m * 2^-24: normalize so the leading one lands on bit 10
    int lead = 31 - __builtin_clz(m);            // 0..9
    uint32_t exp = (uint32_t)(lead + 103);       // 2^(lead - 24) biased by 127
    return sign | (exp << 23) | ((m << (23 - lead)) & 0x7FFFFFu);
}

void swt_f32_to_bf16_portable(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = to_bf16(f32_bits(src[i]));
}
void swt_bf16_to_f32_portable(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = bits_f32((uint32_t)src[i] << 16);
}
void swt_f32_to_f16_portable(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = to_f16(f32_bits(src[i]));
}
void swt_f16_to_f32_portable(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = bits_f32(from_f16(src[i]));
}

#if SWT_HAVE_AVX512
#define SWT_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

SWT_BF16_TARGET void swt_f32_to_bf16_avx512(const float *src, uint16_t *dst, size_t n) {
    const __m512i expo = _mm512_set1_epi32(0x7F800000), mant = _mm512_set1_epi32(0x7FFFFF);
    const __m512i bias = _mm512_set1_epi32(0x7FFF), one = _mm512_set1_epi32(1);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(src + i);
        __m256i r = (__m256i)_mm512_cvtneps_pbh(v);
        // vcvtneps2bf16 flushes subnormal inputs to zero: round those lanes as integers.
        __m512i x = _mm512_castps_si512(v);
        __mmask16 sub = _mm512_testn_epi32_mask(x, expo) & _mm512_test_epi32_mask(x, mant);
        if (sub) {
            __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(x, 16), one);
            __m512i q = _mm512_srli_epi32(_mm512_add_epi32(x, _mm512_add_epi32(bias, lsb)), 16);
            r = _mm256_mask_blend_epi16(sub, r, _mm512_cvtepi32_epi16(q));
        }
        _mm256_storeu_si256((__m256i *)(dst + i), r);
    }
    swt_f32_to_bf16_portable(src + i, dst + i, n - i);
}

SWT_AVX512 void swt_bf16_to_f32_avx512(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i x = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(src + i)));
        _mm512_storeu_si512(dst + i, _mm512_slli_epi32(x, 16));
    }
    swt_bf16_to_f32_portable(src + i, dst + i, n - i);
}

SWT_AVX512 void swt_f32_to_f16_avx512(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i h = _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_storeu_si256((__m256i *)(dst + i), h);
    }
    swt_f32_to_f16_portable(src + i, dst + i, n - i);
}

SWT_AVX512 void swt_f16_to_f32_avx512(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i))));
    swt_f16_to_f32_portable(src + i, dst + i, n - i);
}
#define SWT_F16C_TARGET __attribute__((target("avx,f16c")))

SWT_F16C_TARGET void swt_f32_to_f16_f16c(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(dst + i), h);
    }
    swt_f32_to_f16_portable(src + i, dst + i, n - i);
}

SWT_F16C_TARGET void swt_f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    swt_f16_to_f32_portable(src + i, dst + i, n - i);
}
#else
void swt_f32_to_f16_f16c(const float *src, uint16_t *dst, size_t n) { swt_f32_to_f16_portable(src, dst, n); }
void swt_f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n) { swt_f16_to_f32_portable(src, dst, n); }
void swt_f32_to_bf16_avx512(const float *src, uint16_t *dst, size_t n) { swt_f32_to_bf16_portable(src, dst, n); }
void swt_bf16_to_f32_avx512(const uint16_t *src, float *dst, size_t n) { swt_bf16_to_f32_portable(src, dst, n); }
void swt_f32_to_f16_avx512(const float *src, uint16_t *dst, size_t n) { swt_f32_to_f16_portable(src, dst, n); }
void swt_f16_to_f32_avx512(const uint16_t *src, float *dst, size_t n) { swt_f16_to_f32_portable(src, dst, n); }
#endif

int swt_convert_has_avx512(int bf16) {
    uint32_t need = SWT_CPU_AVX512F | (bf16 ? SWT_CPU_AVX512BF16 | SWT_CPU_AVX512BW | SWT_CPU_AVX512VL : 0);
    return (swt_cpu_features() & need) == need;
}

#define BF16_NEED (SWT_CPU_AVX512F | SWT_CPU_AVX512BF16 | SWT_CPU_AVX512BW | SWT_CPU_AVX512VL)

void swt_f32_to_bf16(const float *src, uint16_t *dst, size_t n) {
    if (swt_kernels_may_use(BF16_NEED)) swt_f32_to_bf16_avx512(src, dst, n);
    else swt_f32_to_bf16_portable(src, dst, n);
}
void swt_bf16_to_f32(const uint16_t *src, float *dst, size_t n) {
    if (swt_kernels_may_use(SWT_CPU_AVX512F)) swt_bf16_to_f32_avx512(src, dst, n);
    else swt_bf16_to_f32_portable(src, dst, n);
}
void swt_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
    uint32_t f = swt_kernel_features();
    if (f & SWT_CPU_AVX512F) swt_f32_to_f16_avx512(src, dst, n);
    else if (f & SWT_CPU_F16C) swt_f32_to_f16_f16c(src, dst, n);
    else swt_f32_to_f16_portable(src, dst, n);
}
void swt_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
    uint32_t f = swt_kernel_features();
    if (f & SWT_CPU_AVX512F) swt_f16_to_f32_avx512(src, dst, n);
    else if (f & SWT_CPU_F16C) swt_f16_to_f32_f16c(src, dst, n);
    else swt_f16_to_f32_portable(src, dst, n);
}
