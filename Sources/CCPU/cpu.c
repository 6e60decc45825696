// CPU features from CPUID and XGETBV, read once; the Linux AMX permission request.
#include "ccpu.h"

#include <stdatomic.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static uint32_t detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
    unsigned maxLeaf = a;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    unsigned ecx1 = c;
    // Without OSXSAVE there is no XGETBV and no OS-saved AVX state at all.
    if (!(ecx1 & (1u << 27))) return 0;
    uint64_t xcr0 = read_xcr0();
    int ymm = (xcr0 & 0x6) == 0x6;            // SSE and AVX state
    int zmm = ymm && (xcr0 & 0xE0) == 0xE0;   // opmask, ZMM_Hi256, Hi16_ZMM
    int tiles = (xcr0 & 0x60000) == 0x60000;  // XTILECFG, XTILEDATA
    unsigned b7 = 0, c7 = 0, d7 = 0, a71 = 0;
    if (maxLeaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        b7 = b; c7 = c; d7 = d;
        if (a >= 1) { __cpuid_count(7, 1, a, b, c, d); a71 = a; }
    }
    uint32_t f = 0;
    if (ymm && (ecx1 & (1u << 28))) {          // AVX
        if (b7 & (1u << 5)) f |= SWT_CPU_AVX2;
        if (ecx1 & (1u << 12)) f |= SWT_CPU_FMA;
        if (ecx1 & (1u << 29)) f |= SWT_CPU_F16C;
    }
    if (zmm && (b7 & (1u << 16))) {
        f |= SWT_CPU_AVX512F;
        if (b7 & (1u << 28)) f |= SWT_CPU_AVX512CD;
        if (b7 & (1u << 30)) f |= SWT_CPU_AVX512BW;
        if (b7 & (1u << 17)) f |= SWT_CPU_AVX512DQ;
        if (b7 & (1u << 31)) f |= SWT_CPU_AVX512VL;
        if (c7 & (1u << 11)) f |= SWT_CPU_AVX512VNNI;
        if (a71 & (1u << 5)) f |= SWT_CPU_AVX512BF16;
    }
    if (tiles && (d7 & (1u << 24))) {
        f |= SWT_CPU_AMX_TILE;
        if (d7 & (1u << 25)) f |= SWT_CPU_AMX_INT8;
        if (d7 & (1u << 22)) f |= SWT_CPU_AMX_BF16;
    }
    return f;
}
#else
static uint32_t detect(void) { return 0; }
#endif

// Bit 31 marks "detected"; no feature uses it.
#define KNOWN 0x80000000u
static atomic_uint cached = 0;

uint32_t swt_cpu_features(void) {
    uint32_t v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v & KNOWN) return v & ~KNOWN;
    v = detect();   // idempotent: racing first calls store the same value
    atomic_store_explicit(&cached, v | KNOWN, memory_order_relaxed);
    return v;
}

#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__))
#include <sys/syscall.h>
#include <unistd.h>
#define SWT_ARCH_REQ_XCOMP_PERM 0x1023
#define SWT_XFEATURE_XTILEDATA 18
#endif

// -1: not asked yet; 0 refused; 1 granted.
static atomic_int amx = -1;

int swt_cpu_request_amx(void) {
    int known = atomic_load_explicit(&amx, memory_order_acquire);
    if (known >= 0) return known;
    int granted = 0;
#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__))
    if (swt_cpu_features() & SWT_CPU_AMX_TILE)
        granted = syscall(SYS_arch_prctl, SWT_ARCH_REQ_XCOMP_PERM, SWT_XFEATURE_XTILEDATA) == 0;
#endif
    int expected = -1;
    // The first answer wins (asking twice is harmless, the kernel grants idempotently).
    if (!atomic_compare_exchange_strong(&amx, &expected, granted)) return expected;
    return granted;
}

int swt_cpu_amx_granted(void) {
    return atomic_load_explicit(&amx, memory_order_acquire) == 1;
}
