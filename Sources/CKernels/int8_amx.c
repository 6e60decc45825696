// The AMX int8 GEMM: C = A W^T with tdpbusd (u8 x s8 tiles, int32 accumulation, wrapping),
// reading the packed layout of int8_internal.h, where 64 k of a 16-column panel already form
// one B tile (16 rows of 64 bytes, stride 64).
//
// UNTESTED ON HARDWARE: written against the Intel SDM / intrinsics guide and only compiled on
// the development machine (AMD Zen 5, no AMX). The dispatcher takes this path only when CPUID
// and XCR0 report AMX-TILE and AMX-INT8 and Linux granted the tile permission
// (swt_cpu_request_amx); the tests compare it bit for bit with the portable loop wherever it
// can run.
//
// Blocking: 32 rows x 32 columns of C per step in tiles 0-3 (16 x 16 int32 each), A in tiles
// 4-5 (16 rows x 64 k), W in tiles 6-7 (64 k x 16 columns); every tile is a full 16 x 64-byte
// tile with one fixed configuration. Rows of A are read in place when the block has 32 rows
// and k is a multiple of 64; otherwise the block is first copied into a zero-padded buffer
// (32 x kpad bytes), so no tile load reads past A. A last single panel pairs with itself and a
// short row block with zero rows; the 32 x 32 result goes through a stack buffer and only the
// valid rows and columns reach C.
#pragma clang fp contract(off)

#include "ckernels_int8.h"
#include "int8_internal.h"

#include <stdlib.h>
#include <string.h>

#if SWT_Q_X86 && defined(__x86_64__)
#include <immintrin.h>

#define AMX_TARGET __attribute__((target("amx-tile,amx-int8")))

/// The 64-byte LDTILECFG operand (palette 1: 8 tiles; reserved bytes must be zero).
typedef struct {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved0[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} swt_tilecfg;
_Static_assert(sizeof(swt_tilecfg) == 64, "LDTILECFG operand is 64 bytes");

AMX_TARGET void swt_qgemm_cols_amx(int m, int n0, int n1, int k, const uint8_t *a, size_t lda,
                                   const int8_t *packed, int32_t *c, size_t ldc) {
    if (m <= 0 || n1 <= n0) return;
    if (k <= 0) {
        for (int i = 0; i < m; i++) memset(c + (size_t)i * ldc + n0, 0, (size_t)(n1 - n0) * 4);
        return;
    }
    const size_t kp = swt_q_kpad(k), pb = swt_q_panel_bytes(k);
    const int p0 = n0 / SWT_Q_PANEL, p1 = (n1 + SWT_Q_PANEL - 1) / SWT_Q_PANEL;
    const int direct_k = (k % SWT_Q_KALIGN) == 0;
    uint8_t *abuf = NULL;

    swt_tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) { cfg.colsb[t] = 64; cfg.rows[t] = 16; }
    _tile_loadconfig(&cfg);

    _Alignas(64) int32_t cbuf[32 * 32];
    for (int i0 = 0; i0 < m; i0 += 32) {
        const int rows = m - i0 < 32 ? m - i0 : 32;
        const uint8_t *ab;
        size_t astride;
        if (direct_k && rows == 32) {
            ab = a + (size_t)i0 * lda;
            astride = lda;
        } else {
            if (abuf == NULL) {
                abuf = (uint8_t *)aligned_alloc(64, 32 * kp);
                if (abuf == NULL) {   // out of memory: the portable loop needs no buffer
                    _tile_release();
                    swt_qgemm_cols_portable(m - i0, n0, n1, k, a + (size_t)i0 * lda, lda, packed,
                                            c + (size_t)i0 * ldc, ldc);
                    return;
                }
            }
            memset(abuf, 0, 32 * kp);
            for (int r = 0; r < rows; r++) memcpy(abuf + (size_t)r * kp, a + (size_t)(i0 + r) * lda, (size_t)k);
            ab = abuf;
            astride = kp;
        }
        for (int p = p0; p < p1; p += 2) {
            const int8_t *b0 = packed + (size_t)p * pb;
            const int8_t *b1 = p + 1 < p1 ? b0 + pb : b0;   // a lone last panel pairs with itself
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (size_t kc = 0; kc < kp; kc += SWT_Q_KALIGN) {
                _tile_loadd(4, ab + kc, astride);
                _tile_loadd(5, ab + 16 * astride + kc, astride);
                _tile_loadd(6, b0 + kc * 16, 64);
                _tile_loadd(7, b1 + kc * 16, 64);
                _tile_dpbusd(0, 4, 6);
                _tile_dpbusd(1, 4, 7);
                _tile_dpbusd(2, 5, 6);
                _tile_dpbusd(3, 5, 7);
            }
            _tile_stored(0, cbuf, 128);
            _tile_stored(1, cbuf + 16, 128);
            _tile_stored(2, cbuf + 16 * 32, 128);
            _tile_stored(3, cbuf + 16 * 32 + 16, 128);
            const int j0 = p * SWT_Q_PANEL;
            const int cols = n1 - j0 < 32 ? n1 - j0 : 32;
            for (int r = 0; r < rows; r++)
                memcpy(c + (size_t)(i0 + r) * ldc + j0, cbuf + r * 32, (size_t)cols * 4);
        }
    }
    _tile_release();
    free(abuf);
}
#else
void swt_qgemm_cols_amx(int m, int n0, int n1, int k, const uint8_t *a, size_t lda,
                        const int8_t *packed, int32_t *c, size_t ldc) {
    swt_qgemm_cols_portable(m, n0, n1, k, a, lda, packed, c, ldc);
}
#endif
