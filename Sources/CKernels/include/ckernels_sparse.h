// Sparse (CSR) dense-layer forward for unstructured-pruned weights.
//
// Contract (every path gives the same floats, bit for bit):
//   Y[b, o] = (((0 + v[p0] * X[b, c[p0]]) + v[p0+1] * X[b, c[p0+1]]) + ...) + bias[o]
// over the stored entries p of row o in order (rowptr[o] <= p < rowptr[o+1]), each product
// rounded to float and then added (no FMA), the bias added last (skipped when NULL).
// X is [batch, in] row-major, Y is [batch, out] row-major, W is the CSR form of a dense
// weight [out, in] (rowptr has out + 1 entries, cols/vals rowptr[out]).
// Paths: AVX-512 (batch tiles of 64 samples, one lane per sample) when CCPU allows it, a
// portable loop otherwise (SWTRAIN_KERNELS=portable forces it); `swt_csr_path()` names it.
#ifndef SWTRAIN_CKERNELS_SPARSE_H
#define SWTRAIN_CKERNELS_SPARSE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Paths of the CSR forward (the value of `swt_csr_path`).
enum { SWT_CSR_PORTABLE = 0, SWT_CSR_AVX512 = 1 };

/// Floats of scratch memory `swt_csr_forward` needs for these sizes.
size_t swt_csr_scratch_floats(int batch, int in, int out);

/// Y = X W^T + bias for a CSR weight (see the contract above). `scratch` holds
/// `swt_csr_scratch_floats(batch, in, out)` floats (may be NULL when that is 0).
void swt_csr_forward(int batch, int out, int in, const int32_t *rowptr, const int32_t *cols,
                     const float *vals, const float *bias, const float *x, float *y, float *scratch);

/// The portable loop alone (the reference the vector path matches bit for bit).
void swt_csr_forward_portable(int batch, int out, int in, const int32_t *rowptr, const int32_t *cols,
                              const float *vals, const float *bias, const float *x, float *y);

/// The path the next `swt_csr_forward` call with this batch on this thread takes (SWT_CSR_*).
int swt_csr_path(int batch);

#ifdef __cplusplus
}
#endif

#endif
