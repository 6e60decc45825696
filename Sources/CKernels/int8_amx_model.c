// A C model of the AMX tile unit, enough to run the AMX int8 kernel's code (int8_amx_body.h)
// on any CPU: palette 1 (8 tiles of at most 16 rows x 64 bytes), LDTILECFG, TILERELEASE,
// TILEZERO, TILELOADD, TILESTORED and TDPBUSD, as the Intel SDM (vol. 2, "Intel AMX
// instructions") defines them, with the conditions under which the hardware raises #GP or #UD
// turned into a recorded fault:
// - LDTILECFG: palette other than 0 or 1, nonzero reserved bytes or start_row, a tile of
//   palette 1 with more than 16 rows or 64 bytes per row or with only one of the two set, any
//   byte of tiles 8-15 set;
// - any tile instruction before a configuration (or after TILERELEASE), a tile index above 7;
// - TDPBUSD: tiles not distinct, or shapes that disagree (dst rows != src1 rows, dst colsb !=
//   src2 colsb, src1 colsb != 4 x src2 rows);
// - and, which hardware would only show as a crash or silent garbage: a TILELOADD row or a
//   TILESTORED row outside the buffers the kernel was given (A, the packed W) or declared with
//   SWT_AMX_BUFFER (its stack C block and its padded copy of A).
// TILELOADD fills `rows` rows of `colsb` bytes and zeroes the rest of the tile; TDPBUSD adds,
// per int32 of the destination, the four u8 x s8 products of one k-group with wrap-around
// (no saturation) and zeroes the destination past its rows and columns.
#pragma clang fp contract(off)

#include "ckernels_int8.h"
#include "int8_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MODEL_TILES = 8, MODEL_ROWS = 16, MODEL_COLSB = 64, MODEL_RANGES = 8 };

/// The tile unit of one thread.
typedef struct {
    int configured;
    swt_tilecfg cfg;
    uint8_t tile[MODEL_TILES][MODEL_ROWS][MODEL_COLSB];
    const uint8_t *lo[MODEL_RANGES], *hi[MODEL_RANGES];   // memory the tile loads and stores may touch
    int ranges;
    char fault[200];   // the first rule broken since the entry, empty if none
} tile_model;

static _Thread_local tile_model tm;

static void fault(const char *what, int t) {
    if (tm.fault[0] == 0) snprintf(tm.fault, sizeof tm.fault, "%s (tile %d)", what, t);
}

static void declare(const void *p, size_t bytes) {
    if (tm.ranges < MODEL_RANGES) {
        tm.lo[tm.ranges] = (const uint8_t *)p;
        tm.hi[tm.ranges] = (const uint8_t *)p + bytes;
        tm.ranges++;
    } else {
        fault("more buffers than the model tracks", -1);
    }
}

static int inside(const uint8_t *p, size_t bytes) {
    for (int r = 0; r < tm.ranges; r++)
        if (p >= tm.lo[r] && p + bytes <= tm.hi[r]) return 1;
    return 0;
}

/// 1 when tile `t` may be used now.
static int usable(int t, const char *op) {
    if (!tm.configured) { fault(op, t); fault("tile instruction without a tile configuration", t); return 0; }
    if (t < 0 || t >= MODEL_TILES) { fault("tile index above the palette's 8 tiles", t); return 0; }
    return 1;
}

static void model_config(const swt_tilecfg *c) {
    if (c->palette == 0) { memset(&tm.cfg, 0, sizeof tm.cfg); tm.configured = 0; return; }
    if (c->palette != 1) { fault("LDTILECFG: palette other than 0 or 1 (#GP)", -1); return; }
    if (c->start_row != 0) fault("LDTILECFG: start_row not 0", -1);
    for (int i = 0; i < 14; i++)
        if (c->reserved0[i]) { fault("LDTILECFG: reserved byte set (#GP)", -1); return; }
    for (int t = 0; t < 16; t++) {
        if (t >= MODEL_TILES) {
            if (c->rows[t] || c->colsb[t]) { fault("LDTILECFG: tile beyond palette 1 configured (#GP)", t); return; }
            continue;
        }
        if (c->rows[t] > MODEL_ROWS || c->colsb[t] > MODEL_COLSB) { fault("LDTILECFG: tile larger than 16 x 64 bytes (#GP)", t); return; }
        if ((c->rows[t] == 0) != (c->colsb[t] == 0)) { fault("LDTILECFG: tile with rows or bytes per row zero but not both (#GP)", t); return; }
    }
    tm.cfg = *c;
    tm.configured = 1;
    memset(tm.tile, 0, sizeof tm.tile);
}

static void model_release(void) {
    tm.configured = 0;
    memset(&tm.cfg, 0, sizeof tm.cfg);
}

static void model_zero(int t) {
    if (usable(t, "TILEZERO")) memset(tm.tile[t], 0, sizeof tm.tile[t]);
}

static void model_load(int t, const void *base, size_t stride) {
    if (!usable(t, "TILELOADD")) return;
    const int rows = tm.cfg.rows[t], colsb = tm.cfg.colsb[t];
    memset(tm.tile[t], 0, sizeof tm.tile[t]);
    for (int r = 0; r < rows; r++) {
        const uint8_t *p = (const uint8_t *)base + (size_t)r * stride;
        if (!inside(p, (size_t)colsb)) { fault("TILELOADD reads outside the kernel's buffers", t); return; }
        memcpy(tm.tile[t][r], p, (size_t)colsb);
    }
}

static void model_store(int t, void *base, size_t stride) {
    if (!usable(t, "TILESTORED")) return;
    const int rows = tm.cfg.rows[t], colsb = tm.cfg.colsb[t];
    for (int r = 0; r < rows; r++) {
        uint8_t *p = (uint8_t *)base + (size_t)r * stride;
        if (!inside(p, (size_t)colsb)) { fault("TILESTORED writes outside the kernel's buffers", t); return; }
        memcpy(p, tm.tile[t][r], (size_t)colsb);
    }
}

static void model_dpbusd(int d, int a, int b) {
    if (!usable(d, "TDPBUSD") || !usable(a, "TDPBUSD") || !usable(b, "TDPBUSD")) return;
    if (d == a || d == b || a == b) { fault("TDPBUSD: tiles not distinct (#UD)", d); return; }
    const swt_tilecfg *c = &tm.cfg;
    if (c->rows[d] != c->rows[a] || c->colsb[d] != c->colsb[b] || c->colsb[a] != 4 * c->rows[b]) {
        fault("TDPBUSD: tile shapes disagree (#UD)", d);
        return;
    }
    const int rows = c->rows[d], cols = c->colsb[d] / 4, groups = c->colsb[a] / 4;
    for (int m = 0; m < rows; m++) {
        for (int n = 0; n < cols; n++) {
            uint32_t acc;
            memcpy(&acc, &tm.tile[d][m][4 * n], 4);
            for (int g = 0; g < groups; g++) {
                const uint8_t *x = &tm.tile[a][m][4 * g];
                const int8_t *y = (const int8_t *)&tm.tile[b][g][4 * n];
                int32_t s = 0;
                for (int i = 0; i < 4; i++) s += (int32_t)x[i] * (int32_t)y[i];
                acc += (uint32_t)s;   // wraps, as the hardware's dword add
            }
            memcpy(&tm.tile[d][m][4 * n], &acc, 4);
        }
        memset(&tm.tile[d][m][4 * cols], 0, (size_t)(MODEL_COLSB - 4 * cols));
    }
    for (int m = rows; m < MODEL_ROWS; m++) memset(tm.tile[d][m], 0, MODEL_COLSB);
}

#define SWT_AMX_FN amx_kernel_on_model
#define SWT_AMX_ATTR static
#define SWT_TILE_CONFIG(cfg) model_config(cfg)
#define SWT_TILE_RELEASE() model_release()
#define SWT_TILE_ZERO(t) model_zero(t)
#define SWT_TILE_LOAD(t, p, stride) model_load(t, p, stride)
#define SWT_TILE_DPBUSD(c, a, b) model_dpbusd(c, a, b)
#define SWT_TILE_STORE(t, p, stride) model_store(t, p, stride)
#define SWT_AMX_BUFFER(p, bytes) declare(p, bytes)
#include "int8_amx_body.h"

int swt_qgemm_cols_amx_model(int m, int n, int n0, int n1, int k, const uint8_t *a, size_t lda,
                             const int8_t *packed, int32_t *c, size_t ldc) {
    memset(&tm, 0, sizeof tm);
    if (n0 % SWT_Q_PANEL != 0 || n0 < 0 || n1 > n) {
        fault("column range must start on a multiple of 16 and end at most at n", -1);
        return 1;
    }
    if (m > 0 && k > 0) declare(a, (size_t)(m - 1) * lda + (size_t)k);
    declare(packed, swt_qgemm_packed_bytes(n, k));
    amx_kernel_on_model(m, n0, n1, k, a, lda, packed, c, ldc);
    if (tm.configured && tm.fault[0] == 0) fault("the kernel returned with the tiles still configured (no TILERELEASE)", -1);
    return tm.fault[0] ? 1 : 0;
}

const char *swt_qgemm_amx_model_fault(void) { return tm.fault; }
