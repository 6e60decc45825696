/* im2col / col2im and the layout changes of a 1-D convolution (ckernels_conv.h). Loops are
 * ordered sample, channel, tap, so one input row stays in L1 while its K columns are written;
 * every loop is a copy or an add, so the order of adds into one element is the contract's.
 * Rows of up to ROW_MAX padded values go through a zero-padded copy on the stack, so every
 * tap is one branch-free strided loop over all output columns. */
#include <string.h>
#include "ckernels_conv.h"

#define ROW_MAX 2048

/* For tap j: output columns [*lo, *hi) read inside the row; input column = l * stride + off. */
static inline long valid_columns(long width, long outw, long stride, long off, long *lo, long *hi)
{
    long a = off >= 0 ? 0 : (-off + stride - 1) / stride;
    long b = width - 1 - off < 0 ? 0 : (width - 1 - off) / stride + 1;
    if (a > outw) a = outw;
    if (b > outw) b = outw;
    if (b < a) b = a;
    *lo = a;
    *hi = b;
    return off;
}

void swt_conv1d_im2col(long samples, long channels, long width, long kernel, long stride, long pad,
                       const float *x, float *col)
{
    long outw = (width + 2 * pad - kernel) / stride + 1, n = samples * outw;
    if (width + 2 * pad <= ROW_MAX) {
        float buf[ROW_MAX];
        memset(buf, 0, sizeof(float) * (size_t)pad);
        memset(buf + pad + width, 0, sizeof(float) * (size_t)pad);
        for (long s = 0; s < samples; s++) {
            for (long c = 0; c < channels; c++) {
                memcpy(buf + pad, x + (s * channels + c) * width, sizeof(float) * (size_t)width);
                for (long j = 0; j < kernel; j++) {
                    float *dst = col + (c * kernel + j) * n + s * outw;
                    const float *src = buf + j;
                    if (stride == 1) {
                        for (long l = 0; l < outw; l++) dst[l] = src[l];
                    } else if (stride == 2) {
                        for (long l = 0; l < outw; l++) dst[l] = src[2 * l];
                    } else {
                        for (long l = 0; l < outw; l++) dst[l] = src[l * stride];
                    }
                }
            }
        }
        return;
    }
    for (long s = 0; s < samples; s++) {
        for (long c = 0; c < channels; c++) {
            const float *row = x + (s * channels + c) * width;
            for (long j = 0; j < kernel; j++) {
                long lo, hi, off = valid_columns(width, outw, stride, j - pad, &lo, &hi);
                float *dst = col + (c * kernel + j) * n + s * outw;
                const float *src = row + off;
                for (long l = 0; l < lo; l++) dst[l] = 0;
                if (stride == 1) {
                    for (long l = lo; l < hi; l++) dst[l] = src[l];
                } else if (stride == 2) {
                    for (long l = lo; l < hi; l++) dst[l] = src[2 * l];
                } else {
                    for (long l = lo; l < hi; l++) dst[l] = src[l * stride];
                }
                for (long l = hi; l < outw; l++) dst[l] = 0;
            }
        }
    }
}

void swt_conv1d_col2im(long samples, long channels, long width, long kernel, long stride, long pad,
                       const float *col, float *dx)
{
    long outw = (width + 2 * pad - kernel) / stride + 1, n = samples * outw;
    if (width + 2 * pad <= ROW_MAX) {
        /* The row is copied in, every tap added in order (the padding's sums are dropped) and
         * copied back: each element sees the same adds as in place. */
        float buf[ROW_MAX];
        for (long s = 0; s < samples; s++) {
            for (long c = 0; c < channels; c++) {
                float *row = dx + (s * channels + c) * width;
                memset(buf, 0, sizeof(float) * (size_t)pad);
                memset(buf + pad + width, 0, sizeof(float) * (size_t)pad);
                memcpy(buf + pad, row, sizeof(float) * (size_t)width);
                for (long j = 0; j < kernel; j++) {
                    const float *src = col + (c * kernel + j) * n + s * outw;
                    float *dst = buf + j;
                    if (stride == 1) {
                        for (long l = 0; l < outw; l++) dst[l] += src[l];
                    } else if (stride == 2) {
                        for (long l = 0; l < outw; l++) dst[2 * l] += src[l];
                    } else {
                        for (long l = 0; l < outw; l++) dst[l * stride] += src[l];
                    }
                }
                memcpy(row, buf + pad, sizeof(float) * (size_t)width);
            }
        }
        return;
    }
    for (long s = 0; s < samples; s++) {
        for (long c = 0; c < channels; c++) {
            float *row = dx + (s * channels + c) * width;
            for (long j = 0; j < kernel; j++) {
                long lo, hi, off = valid_columns(width, outw, stride, j - pad, &lo, &hi);
                const float *src = col + (c * kernel + j) * n + s * outw;
                float *dst = row + off;
                if (stride == 1) {
                    for (long l = lo; l < hi; l++) dst[l] += src[l];
                } else if (stride == 2) {
                    for (long l = lo; l < hi; l++) dst[2 * l] += src[l];
                } else {
                    for (long l = lo; l < hi; l++) dst[l * stride] += src[l];
                }
            }
        }
    }
}

void swt_conv1d_bias_scatter(long samples, long out, long positions, const float *t, const float *bias, float *y)
{
    long n = samples * positions;
    for (long s = 0; s < samples; s++) {
        for (long o = 0; o < out; o++) {
            float b = bias ? bias[o] : 0.0f;
            const float *src = t + o * n + s * positions;
            float *dst = y + (s * out + o) * positions;
            for (long p = 0; p < positions; p++) dst[p] = src[p] + b;
        }
    }
}

void swt_conv1d_gather(long samples, long out, long positions, const float *dy, float *t)
{
    long n = samples * positions;
    for (long s = 0; s < samples; s++) {
        for (long o = 0; o < out; o++) {
            const float *src = dy + (s * out + o) * positions;
            float *dst = t + o * n + s * positions;
            for (long p = 0; p < positions; p++) dst[p] = src[p];
        }
    }
}

#define SUM_LANES 32

void swt_conv1d_bias_sum(long samples, long out, long positions, const float *dy, float *db)
{
    /* Channels in groups of SUM_LANES, each channel's sum a chain of its own: the chains are
     * independent (so they overlap in the pipeline) and each adds in position order. */
    for (long s = 0; s < samples; s++) {
        const float *ds = dy + s * out * positions;
        for (long o0 = 0; o0 < out; o0 += SUM_LANES) {
            long m = out - o0 < SUM_LANES ? out - o0 : SUM_LANES;
            float acc[SUM_LANES];
            for (long i = 0; i < m; i++) acc[i] = 0;
            for (long p = 0; p < positions; p++)
                for (long i = 0; i < m; i++) acc[i] += ds[(o0 + i) * positions + p];
            for (long i = 0; i < m; i++) db[o0 + i] += acc[i];
        }
    }
}
