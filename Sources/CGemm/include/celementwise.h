#ifndef CGEMM_CELEMENTWISE_H
#define CGEMM_CELEMENTWISE_H

/// Exact-form GELU over n floats, y = x (1 + erf(x / sqrt 2)) / 2, and its backward
/// dx = dy (Phi(x) + x phi(x)), with SwNN's fastErf (Eigen's rational erf, within 5e-7) and
/// fastExp (within 3e-7 relative). Each element is computed alone (16 lanes at a time, FMA
/// allowed), so any split of the range gives the same bits. `portable` 1 runs the copy
/// compiled without AVX-512.
void swt_gelu_forward(long n, const float *x, float *y, int portable);
void swt_gelu_backward(long n, const float *x, const float *dy, float *dx, int portable);

#endif
