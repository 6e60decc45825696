#ifndef CGEMM_CELEMENTWISE_H
#define CGEMM_CELEMENTWISE_H

#include <stdint.h>

/// Exact-form GELU over n floats, y = x (1 + erf(x / sqrt 2)) / 2, and its backward
/// dx = dy (Phi(x) + x phi(x)), with SwNN's fastErf (Eigen's rational erf, within 5e-7) and
/// fastExp (within 3e-7 relative). Each element is computed alone (16 lanes at a time, FMA
/// allowed), so any split of the range gives the same bits. `portable` 1 runs the copy
/// compiled without AVX-512.
void swt_gelu_forward(long n, const float *x, float *y, int portable);
void swt_gelu_backward(long n, const float *x, const float *dy, float *dx, int portable);

/// Layer norm over `rows` rows of D floats (SwNN's `LayerNorm`): y = (x - mean) rstd w + b with
/// mean = sum x / D, rstd = 1 / sqrt(sum (x - mean)^2 / D + eps) (biased), written as
/// stats[2 r] = mean, stats[2 r + 1] = rstd. Sums run in 16 lanes, then the lanes added as
/// halves (8 + 8, 4 + 4, 2 + 2, 1 + 1), then the D % 16 tail in order; each row alone, so any
/// split of the rows gives the same bits. `portable` 1 runs the copy compiled without
/// AVX-512 (no FMA: other bits).
void swt_layernorm_forward_rows(long rows, long D, const float *x, float *y, const float *w,
                                const float *b, float eps, float *stats, int portable);
/// Its backward over the same rows, in row order: dw += dy n and db += dy (n = (x - mean)
/// rstd), and when dx is not NULL dx = rstd (dy w - mean(dy w) - n mean(dy w n)).
void swt_layernorm_backward_rows(long rows, long D, const float *x, const float *dy, float *dx,
                                 const float *w, const float *stats, float *dw, float *db, int portable);

/// Dropout mask from Philox4x32-10 with 10 rounds: for b < blocks, the block at counter
/// `counter + b` under `key` gives mask[4b + j] = keep when (word j >> 8) / 2^24 >= p, else 0
/// (word j of the block's four; SwTensor's `RNG.philox`). Each block alone, so any split of the
/// range gives the same bits; the AVX-512 copy (16 blocks at a time) and the portable one
/// (`portable` 1) give the same bits.
void swt_dropout_mask(long blocks, uint64_t counter, uint64_t key, float p, float keep, float *mask,
                      int portable);

#endif
