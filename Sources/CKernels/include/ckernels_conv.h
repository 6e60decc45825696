// The data movement of a 1-D convolution computed by im2col + GEMM (SwNN's `ConvKernel` on
// samples `(C, W)`): im2col, its adjoint col2im, and the reorderings between the GEMM's
// `(out, samples * positions)` layout and the layer's `(samples, out, positions)`.
//
// Contract: every function is plain copies and Float32 adds in a fixed order, the same on
// every machine and at every thread count (no FMA, no reassociation):
// - im2col: col is `(C * K, samples * Wo)`; row `c * K + j`, column `s * Wo + l` holds
//   x[s, c, l * stride - pad + j], 0 where that index is outside `0..<W`;
// - col2im adds every col value back into dx (not cleared first); each dx element receives
//   its contributions in ascending tap j, as a loop over c, j, s, l would give them;
// - bias_scatter: y[s, o, p] = t[o, s * P + p] + bias[o] (bias may be NULL: + 0);
// - gather: t[o, s * P + p] = dy[s, o, p];
// - bias_sum: db[o] += (dy[s, o, 0] + dy[s, o, 1] + ...), one sum per sample and channel
//   added into db in sample order.
// Wo = (W + 2 pad - K) / stride + 1 >= 1; no pointer may overlap another.
#ifndef SWTRAIN_CKERNELS_CONV_H
#define SWTRAIN_CKERNELS_CONV_H

void swt_conv1d_im2col(long samples, long channels, long width, long kernel, long stride, long pad,
                       const float *x, float *col);
void swt_conv1d_col2im(long samples, long channels, long width, long kernel, long stride, long pad,
                       const float *col, float *dx);
void swt_conv1d_bias_scatter(long samples, long out, long positions, const float *t, const float *bias, float *y);
void swt_conv1d_gather(long samples, long out, long positions, const float *dy, float *t);
void swt_conv1d_bias_sum(long samples, long out, long positions, const float *dy, float *db);

#endif
