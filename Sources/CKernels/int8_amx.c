// The AMX int8 GEMM on the tile hardware: the code of int8_amx_body.h with the tile
// intrinsics.
//
// NOT YET RUN ON AMX HARDWARE: the development machine (AMD Zen 5) has no AMX. The same code
// runs in the tests on the tile model of int8_amx_model.c, bit for bit against the portable
// loop; what only hardware can show is that the model matches the silicon. The dispatcher
// takes this path only when CPUID and XCR0 report AMX-TILE and AMX-INT8 and Linux granted the
// tile permission (swt_cpu_request_amx); the tests compare it bit for bit with the portable
// loop wherever it can run.
#pragma clang fp contract(off)

#include "ckernels_int8.h"
#include "int8_internal.h"

#include <stdlib.h>
#include <string.h>

#if SWT_Q_X86 && defined(__x86_64__)
#include <immintrin.h>

#define SWT_AMX_FN swt_qgemm_cols_amx
#define SWT_AMX_ATTR __attribute__((target("amx-tile,amx-int8")))
#define SWT_TILE_CONFIG(cfg) _tile_loadconfig(cfg)
#define SWT_TILE_RELEASE() _tile_release()
#define SWT_TILE_ZERO(t) _tile_zero(t)
#define SWT_TILE_LOAD(t, p, stride) _tile_loadd(t, p, stride)
#define SWT_TILE_DPBUSD(c, a, b) _tile_dpbusd(c, a, b)
#define SWT_TILE_STORE(t, p, stride) _tile_stored(t, p, stride)
#define SWT_AMX_BUFFER(p, bytes) ((void)0)
#include "int8_amx_body.h"
#else
void swt_qgemm_cols_amx(int m, int n0, int n1, int k, const uint8_t *a, size_t lda,
                        const int8_t *packed, int32_t *c, size_t ldc) {
    swt_qgemm_cols_portable(m, n0, n1, k, a, lda, packed, c, ldc);
}
#endif
