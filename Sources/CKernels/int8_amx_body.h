// The AMX int8 GEMM's code, C = A W^T with tdpbusd (u8 x s8 tiles, int32 accumulation,
// wrapping), reading the packed layout of int8_internal.h, where 64 k of a 16-column panel
// already form one B tile (16 rows of 64 bytes, stride 64).
//
// Included twice: by int8_amx.c with the tile intrinsics (the kernel the dispatch runs on AMX
// hardware), and by int8_amx_model.c with a C model of the tile unit (so the tests run this
// very code, blocking, padding and tile bookkeeping included, on CPUs without AMX). The
// includer defines:
//   SWT_AMX_FN                 the function's name;   SWT_AMX_ATTR  its attributes;
//   SWT_TILE_CONFIG(cfg)       LDTILECFG of a swt_tilecfg;   SWT_TILE_RELEASE()  TILERELEASE;
//   SWT_TILE_ZERO(t)           TILEZERO;   SWT_TILE_LOAD(t, p, stride)  TILELOADD;
//   SWT_TILE_DPBUSD(c, a, b)   TDPBUSD;    SWT_TILE_STORE(t, p, stride) TILESTORED;
//   SWT_AMX_BUFFER(p, bytes)   declares memory the kernel owns (the model bounds-checks every
//                              tile load and store against it; nothing on hardware).
//
// Blocking: 32 rows x 32 columns of C per step in tiles 0-3 (16 x 16 int32 each), A in tiles
// 4-5 (16 rows x 64 k), W in tiles 6-7 (64 k x 16 columns); every tile is a full 16 x 64-byte
// tile with one fixed configuration. Rows of A are read in place when the block has 32 rows
// and k is a multiple of 64; otherwise the block is first copied into a zero-padded buffer
// (32 x kpad bytes), so no tile load reads past A. A last single panel pairs with itself and a
// short row block with zero rows; the 32 x 32 result goes through a stack buffer and only the
// valid rows and columns reach C.

SWT_AMX_ATTR void SWT_AMX_FN(int m, int n0, int n1, int k, const uint8_t *a, size_t lda,
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
    SWT_TILE_CONFIG(&cfg);

    _Alignas(64) int32_t cbuf[32 * 32];
    SWT_AMX_BUFFER(cbuf, sizeof cbuf);
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
                    SWT_TILE_RELEASE();
                    swt_qgemm_cols_portable(m - i0, n0, n1, k, a + (size_t)i0 * lda, lda, packed,
                                            c + (size_t)i0 * ldc, ldc);
                    return;
                }
                SWT_AMX_BUFFER(abuf, 32 * kp);
            }
            memset(abuf, 0, 32 * kp);
            for (int r = 0; r < rows; r++) memcpy(abuf + (size_t)r * kp, a + (size_t)(i0 + r) * lda, (size_t)k);
            ab = abuf;
            astride = kp;
        }
        for (int p = p0; p < p1; p += 2) {
            const int8_t *b0 = packed + (size_t)p * pb;
            const int8_t *b1 = p + 1 < p1 ? b0 + pb : b0;   // a lone last panel pairs with itself
            SWT_TILE_ZERO(0);
            SWT_TILE_ZERO(1);
            SWT_TILE_ZERO(2);
            SWT_TILE_ZERO(3);
            for (size_t kc = 0; kc < kp; kc += SWT_Q_KALIGN) {
                SWT_TILE_LOAD(4, ab + kc, astride);
                SWT_TILE_LOAD(5, ab + 16 * astride + kc, astride);
                SWT_TILE_LOAD(6, b0 + kc * 16, 64);
                SWT_TILE_LOAD(7, b1 + kc * 16, 64);
                SWT_TILE_DPBUSD(0, 4, 6);
                SWT_TILE_DPBUSD(1, 4, 7);
                SWT_TILE_DPBUSD(2, 5, 6);
                SWT_TILE_DPBUSD(3, 5, 7);
            }
            SWT_TILE_STORE(0, cbuf, 128);
            SWT_TILE_STORE(1, cbuf + 16, 128);
            SWT_TILE_STORE(2, cbuf + 16 * 32, 128);
            SWT_TILE_STORE(3, cbuf + 16 * 32 + 16, 128);
            const int j0 = p * SWT_Q_PANEL;
            const int cols = n1 - j0 < 32 ? n1 - j0 : 32;
            for (int r = 0; r < rows; r++)
                memcpy(c + (size_t)(i0 + r) * ldc + j0, cbuf + r * 32, (size_t)cols * 4);
        }
    }
    SWT_TILE_RELEASE();
    free(abuf);
}
