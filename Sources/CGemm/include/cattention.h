#ifndef CGEMM_CATTENTION_H
#define CGEMM_CATTENTION_H

#include <stdint.h>

/// Fused multi-head causal self-attention over a (B, T, 3C) buffer of [q | k | v] rows
/// (head h uses columns h*d ..< (h+1)*d of each part, d = C / H), FlashAttention-2 style:
/// for every query row, blocks of 16 keys with an online softmax; no T x T matrix is stored.
///
/// forward:  o_i = sum_j P_ij m_ij v_j, P_ij = softmax_j<=i(scale q_i.k_j), written into
///           out (B, T, C) at the head's columns; lse (B, H, T) = log sum_j exp(scale q_i.k_j)
///           is kept for backward.
/// backward: recomputes P from q, k and lse; with D_i = dO_i . o_i,
///           dS_ij = P_ij (m_ij dO_i.v_j - D_i), dq_i = scale sum_j dS_ij k_j,
///           dk_j = scale sum_i dS_ij q_i, dv_j = sum_i P_ij m_ij dO_i, written (overwritten)
///           into dqkv (B, T, 3C) at the head's columns.
///
/// Dropout on P (probability p, 0 for none): m_ij = 1 / (1 - p) when
/// swt_attention_keep(seed, ((b H + h) T + i) T + j, p), else 0, a hash of the position, so
/// backward recomputes the same mask and the result does not depend on threads.
///
/// The (batch, head) pairs are pool tasks (cpool.h); each writes only its own columns, so the
/// result is the same at any thread count. `portable` 1 runs the portable C path (the same
/// algorithm, compiled without AVX-512), 0 the AVX-512 one when the CPU has it.
void swt_attention_forward(int B, int H, int T, int C, const float *qkv, float *out, float *lse,
                           float scale, float dropout, uint32_t seed, int portable);
void swt_attention_backward(int B, int H, int T, int C, const float *qkv, const float *out,
                            const float *dout, const float *lse, float *dqkv,
                            float scale, float dropout, uint32_t seed, int portable);

/// The dropout decision for element `index` of the (B, H, T, T) probabilities: 1 keep, 0 drop.
static inline int swt_attention_keep(uint32_t seed, uint32_t index, float p)
{
    uint32_t x = index * 0x9E3779B9u + seed;
    x ^= x >> 16; x *= 0x7FEB352Du; x ^= x >> 15; x *= 0x846CA68Bu; x ^= x >> 16;
    /* 24 uniform bits against p * 2^24 */
    return (float)(x >> 8) >= p * 16777216.0f;
}

#endif
