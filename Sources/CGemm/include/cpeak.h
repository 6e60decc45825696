#ifndef CGEMM_CPEAK_H
#define CGEMM_CPEAK_H

/// The fp32 FMA peak of one core, measured: `swt_fma_peak(iterations, wide)` runs
/// `iterations` rounds of 16 independent fused multiply-adds on 16-lane (AVX-512, `wide` 1,
/// when the CPU has AVX-512 F) or 8-lane (AVX2 + FMA) registers on the calling thread, and
/// returns the floating-point operations done (2 per lane per FMA); the caller times it.
/// 16 independent accumulators cover the FMA latency (4 cycles) times the FMA ports (2) with
/// room to spare, so the loop runs at the issue rate. Returns 0 when the CPU has neither.
double swt_fma_peak(long iterations, int wide);

#endif
