#ifndef CGEMM_CCONV1D_H
#define CGEMM_CCONV1D_H

/// A direct 1-D convolution (cross-correlation, as torch.nn.Conv1d) for small channel counts:
/// it reads the layer's (batch, channels, width) input and writes its (batch, out, Wo) output
/// directly, with no im2col matrix and no layout change around a GEMM.
///
///   y[s, o, l]  = bias[o] + sum_{c, j} w[o, c, j] x[s, c, l * stride - padding + j]
///   dx[s, c, i] = sum over (o, j, l) with l * stride - padding + j = i of w[o, c, j] dy[s, o, l]
///   dw[o, c, j] += sum_{s, l} dy[s, o, l] x[s, c, l * stride - padding + j]
///   db[o]       += sum_{s, l} dy[s, o, l]
///
/// x outside 0..<width reads as zero; Wo = (width + 2 padding - kernel) / stride + 1 >= 1.
/// Vectors run over the output channels (forward, dw) or the input channels (dx), so both
/// counts must be at most 32 (`swt_conv1d_direct_supports`).
///
/// Determinism: forward and dx compute every sample alone, in a fixed order of adds. dw and db
/// are summed per task of SWT_CONV1D_DW_CHUNK samples (a fixed split of the batch, whatever the
/// thread count) and the tasks' sums are added into dw and db in task order. So the results are the
/// same bits run to run and at every thread count. The AVX-512 copy (FMA) and the portable
/// copy (`portable` 1, or a CPU without AVX-512 F/VL) differ in rounding.
///
/// The work runs on the pool (cpool.h), in tasks of SWT_CONV1D_DW_CHUNK samples. Each call
/// needs a caller-owned workspace of `swt_conv1d_direct_workspace` floats (the packed weights
/// and the per-task dw and db sums), which no other call may use at the same time.

/// The sizes of one call.
typedef struct {
    long batch, in_channels, width, out_channels, kernel, stride, padding;
} swt_conv1d_geometry;

/// Samples per task (and per partial dw sum).
#define SWT_CONV1D_DW_CHUNK 8

/// 1 when the direct kernels take these channel counts (1...32 each).
int swt_conv1d_direct_supports(long in_channels, long out_channels);

/// Floats of workspace that forward and backward of `g` need.
long swt_conv1d_direct_workspace(const swt_conv1d_geometry *g);

/// y (batch, out, Wo) = conv(x (batch, in, width)) + bias (bias may be NULL).
void swt_conv1d_direct_forward(const swt_conv1d_geometry *g, const float *x, const float *w,
                               const float *bias, float *y, float *workspace, int portable);

/// dw (out, in, kernel) += the weight gradient; db (out) += the bias gradient (skipped when
/// NULL); dx (batch, in, width) = the input gradient (overwritten; skipped when NULL).
void swt_conv1d_direct_backward(const swt_conv1d_geometry *g, const float *x, const float *dy,
                                const float *w, float *dw, float *db, float *dx, float *workspace, int portable);

#endif
