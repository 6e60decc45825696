// CCPU: the one place swtrain asks the CPU and the OS what it may run, and the one switch
// that forces the portable kernels.
//
// `swt_cpu_features()` is filled once (CPUID and XGETBV on x86, 0 elsewhere) and then costs
// one relaxed atomic load. A feature bit is set only when the CPU has the instructions AND
// the OS saves their register state (XCR0): AVX-512 needs opmask and ZMM state (XCR0 bits
// 5-7), AMX needs tile config and data state (bits 17-18). On Linux the AMX tile data state
// also needs a per-process permission (`swt_cpu_request_amx`) before the first tile
// instruction, or that instruction raises SIGILL.
//
// `swt_kernel_features()` is what swtrain's own kernels may use: the CPU features, or 0
// when the portable path is forced by `SWTRAIN_KERNELS=portable` (read once) or by a
// thread-local override (`swt_kernels_set_thread_override`, for tests that compare both
// paths in one process).
#ifndef SWTRAIN_CCPU_H
#define SWTRAIN_CCPU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Feature bits of `swt_cpu_features()`.
enum {
    SWT_CPU_AVX2        = 1u << 0,   ///< AVX2 (YMM state enabled)
    SWT_CPU_FMA         = 1u << 1,   ///< FMA3
    SWT_CPU_F16C        = 1u << 2,   ///< F16C: vcvtps2ph / vcvtph2ps on xmm/ymm
    SWT_CPU_AVX512F     = 1u << 3,   ///< AVX-512 Foundation (ZMM and opmask state enabled)
    SWT_CPU_AVX512CD    = 1u << 4,
    SWT_CPU_AVX512BW    = 1u << 5,
    SWT_CPU_AVX512DQ    = 1u << 6,
    SWT_CPU_AVX512VL    = 1u << 7,
    SWT_CPU_AVX512VNNI  = 1u << 8,   ///< vpdpbusd and friends
    SWT_CPU_AVX512BF16  = 1u << 9,   ///< vcvtneps2bf16, vdpbf16ps
    SWT_CPU_AMX_TILE    = 1u << 10,  ///< AMX tiles (tile config and data state enabled)
    SWT_CPU_AMX_INT8    = 1u << 11,  ///< tdpbssd and friends
    SWT_CPU_AMX_BF16    = 1u << 12,  ///< tdpbf16ps
};

/// The features of this CPU that the OS has enabled (bits above), found on the first call
/// and cached; 0 on a non-x86 host.
uint32_t swt_cpu_features(void);

/// Asks Linux once for permission to use AMX tile data in this process
/// (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)); later calls return the first
/// answer. 1: granted (AMX instructions may run), 0: refused, no AMX, or not Linux/x86.
int swt_cpu_request_amx(void);
/// 1 when `swt_cpu_request_amx` has been called and was granted, else 0 (never asks).
int swt_cpu_amx_granted(void);

/// 1 when the portable path is forced for kernels called on this thread: the thread
/// override if set, else `SWTRAIN_KERNELS` (read once per process: "portable" forces it,
/// unset, "" or "native" does not; any other value warns once on stderr and means native).
int swt_kernels_portable(void);
/// What the process environment chose (`SWTRAIN_KERNELS`), ignoring thread overrides.
int swt_kernels_portable_from_environment(void);
/// Sets the calling thread's override: 1 forces the portable path, 0 forces the native one,
/// -1 follows the environment again. Returns the previous override.
int swt_kernels_set_thread_override(int mode);

/// The features swtrain's kernels may use on this thread: `swt_cpu_features()`, or 0 when
/// `swt_kernels_portable()`.
uint32_t swt_kernel_features(void);

/// 1 when every bit of `mask` is in `swt_kernel_features()`.
static inline int swt_kernels_may_use(uint32_t mask) {
    return (swt_kernel_features() & mask) == mask;
}

#ifdef __cplusplus
}
#endif

#endif
