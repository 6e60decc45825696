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

#endif
