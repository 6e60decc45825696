/* Shared by the bf16 GEMM files (internal). */
#ifndef CGEMM_SBGEMM_INTERNAL_H
#define CGEMM_SBGEMM_INTERNAL_H

#include <stdint.h>

/* Rows of op(A) per packed group (the register tile's rows) and columns of op(B) per panel. */
#define SB_MR 12
#define SB_NR 32

/* Packs group g of the logical R x K matrix (csbgemm.h) into dst (the whole packed matrix),
 * with the AVX-512 loops when `vector` (the caller checked the CPU) else the portable one. */
void sbgemm_pack_group(int vector, int R, int K, const float *src, long rs, long ks, int width, int g,
                       uint32_t *dst);

/* 1 when the vector packing of a matrix with these strides goes by pairs (sbgemm_pack_pairs)
 * rather than by groups: rows contiguous (rs == 1, ks != 1), so that each source row streams. */
int sbgemm_pack_by_pairs(int vector, long rs, long ks);

/* Pairs [p0, p1) of every group of the logical R x K matrix (rows contiguous, row k at
 * src + k * ks) into dst (the whole packed matrix), on the AVX-512 loop: the same words as
 * sbgemm_pack_group. Only where sbgemm_pack_by_pairs says so. */
void sbgemm_pack_pairs(int R, int K, const float *src, long ks, int width, int p0, int p1, uint32_t *dst);

#endif
