/*
 * The partial last column panel (1-15 columns) of the GEMM with A read in place
 * (SwiftConvKernelsAVX512's sgemmBlockInPlaceA, InPlaceWeightKernels.swift), with the ROWS in
 * the vector lanes: C(i, j) (+)= sum over k < kc of A(i, k) * B(k, j) for i < mc, j < cols, A
 * row-major (A(i, k) at a[i * lda + k]), B the packed zero-padded edge panel (B(k, j) at
 * b_edge[16 * k + j]), C rows ldc apart.
 *
 * Why: the row-major kernels put columns in the lanes, so a 1-column edge (49 = 3 x 16 + 1
 * output pixels, a 7x7 plane at batch 1) costs a whole 16-column panel of multiply-adds (on
 * Zen5 more than a full panel). Here 16 rows x 16 depths of A are transposed in registers
 * (sc_transpose16x16_f32: 64 shuffles, the slab is L1/L2-resident) and each depth then costs
 * `cols` multiply-adds per 16 rows (B broadcast), not 16.
 *
 * Same bits as the other kernels: every element starts from C (load_c) or +0 and adds
 * A(i, k) * B(k, j) for k = 0, 1, ... in order, one fused multiply-add at a time (the tier
 * that calls this, AVX-512, is fused). Only the lane each product lives in differs.
 * Compiled only where __AVX512F__ is on (the AVX-512 kernel module); other tiers keep the
 * full-width edge tile.
 */
#ifndef SWIFTCONV_INPLACE_EDGE_H
#define SWIFTCONV_INPLACE_EDGE_H

#include "swiftconv_kernels.h"

#if defined(__AVX512F__)
#include <immintrin.h>

/* Rows per call of the kernel below: 3 blocks of 16 in the lanes (2 above 5 columns, where
 * 3 x cols accumulators no longer fit the 32 zmm), so NB x cols independent multiply-add
 * chains per depth. One block's single chain waited on the FMA latency, and with the
 * columns a runtime count the accumulators lived in memory: 960->160 49 columns 79 us,
 * 52 columns 106, where the prepared call takes 74 / 75.
 * Standalone (thread CPU time, best of 7 x 200 calls, 48 rows, kc 160 / 320, this kernel /
 * the 12 x 16 full-width tile's multiply-adds alone): 1 column 0.33 / 0.46, 2 0.36 / 0.50,
 * 4 0.48 / 0.58, 5 0.57 / 0.64, 8 0.84 / 0.81 (8 columns with 3 blocks: 0.97 / 0.98). */
#define SC_INPLACE_EDGE_ROWS 48
/* Edge columns the kernel takes (at most 8: N8 7x7 layers fold 392 = 24 x 16 + 8 columns). */
#define SC_INPLACE_EDGE_MAX_COLS 8

/* rows <= 16 * NB (blocks of lanes; lanes past `rows` read as 0 and are never stored). NB
 * and COLS are constants at every call (the switch below), and the loops over them are
 * unrolled so acc[][] lives in registers. */
static inline __attribute__((always_inline)) void sc_inplace_edge_rows_f32(
    long rows, const int NB, const int COLS, long kc, const float *a, long lda, const float *b_edge, float *c, long ldc, int load_c) {
    __m512 acc[3][SC_INPLACE_EDGE_MAX_COLS];
    float tile[3][256] __attribute__((aligned(64)));
    long rb[3];
#pragma clang loop unroll(full)
    for (int b = 0; b < NB; b++) {
        long r = rows - 16 * b;
        rb[b] = r < 0 ? 0 : (r > 16 ? 16 : r);
    }
#pragma clang loop unroll(full)
    for (int b = 0; b < NB; b++) {
        if (load_c) {
            for (int j = 0; j < COLS; j++)
                for (long r = 0; r < 16; r++) tile[b][16 * j + r] = r < rb[b] ? c[(16 * b + r) * ldc + j] : 0.0f;
#pragma clang loop unroll(full)
            for (int j = 0; j < COLS; j++) acc[b][j] = _mm512_load_ps(tile[b] + 16 * j);
        } else {
#pragma clang loop unroll(full)
            for (int j = 0; j < COLS; j++) acc[b][j] = _mm512_setzero_ps();
        }
    }
    for (long k0 = 0; k0 < kc; k0 += 16) {
        const long kr = kc - k0 < 16 ? kc - k0 : 16;
#pragma clang loop unroll(full)
        for (int b = 0; b < NB; b++) {
            const float *ab = a + 16 * b * lda + k0;
            if (rb[b] == 16 && kr == 16) {
                sc_transpose16x16_f32(tile[b], ab, lda);
            } else {
                /* A short row block or the depth remainder: a zero-padded copy first. */
                const __mmask16 m = (__mmask16)((1u << kr) - 1);
                float src[256] __attribute__((aligned(64)));
                for (long r = 0; r < 16; r++)
                    _mm512_store_ps(src + 16 * r, r < rb[b] ? _mm512_maskz_loadu_ps(m, ab + r * lda) : _mm512_setzero_ps());
                sc_transpose16x16_f32(tile[b], src, 16);
            }
        }
        for (long kk = 0; kk < kr; kk++) {
            const float *bk = b_edge + 16 * (k0 + kk);
#pragma clang loop unroll(full)
            for (int b = 0; b < NB; b++) {
                const __m512 v = _mm512_load_ps(tile[b] + 16 * kk);
#pragma clang loop unroll(full)
                for (int j = 0; j < COLS; j++) acc[b][j] = _mm512_fmadd_ps(v, _mm512_set1_ps(bk[j]), acc[b][j]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int b = 0; b < NB; b++) {
#pragma clang loop unroll(full)
        for (int j = 0; j < COLS; j++) _mm512_store_ps(tile[b] + 16 * j, acc[b][j]);
        for (long r = 0; r < rb[b]; r++)
            for (int j = 0; j < COLS; j++) c[(16 * b + r) * ldc + j] = tile[b][16 * j + r];
    }
}

static inline __attribute__((always_inline)) void sc_inplace_edge_cols_f32(
    long mc, const int COLS, long kc, const float *a, long lda, const float *b_edge, float *c, long ldc, int load_c) {
    const long step = COLS > 5 ? 32 : SC_INPLACE_EDGE_ROWS;
    for (long i = 0; i < mc; i += step) {
        const long rows = mc - i < step ? mc - i : step;
        const float *ai = a + i * lda;
        float *ci = c + i * ldc;
        if (rows > 32) sc_inplace_edge_rows_f32(rows, 3, COLS, kc, ai, lda, b_edge, ci, ldc, load_c);
        else if (rows > 16) sc_inplace_edge_rows_f32(rows, 2, COLS, kc, ai, lda, b_edge, ci, ldc, load_c);
        else sc_inplace_edge_rows_f32(rows, 1, COLS, kc, ai, lda, b_edge, ci, ldc, load_c);
    }
}

/* cols in 1 ... SC_INPLACE_EDGE_MAX_COLS (nothing otherwise). */
static inline void sc_sgemm_inplace_edge_f32(long mc, long cols, long kc, const float *a, long lda, const float *b_edge,
                                             float *c, long ldc, int load_c) {
    switch (cols) {
    case 1: sc_inplace_edge_cols_f32(mc, 1, kc, a, lda, b_edge, c, ldc, load_c); break;
    case 2: sc_inplace_edge_cols_f32(mc, 2, kc, a, lda, b_edge, c, ldc, load_c); break;
    case 3: sc_inplace_edge_cols_f32(mc, 3, kc, a, lda, b_edge, c, ldc, load_c); break;
    case 4: sc_inplace_edge_cols_f32(mc, 4, kc, a, lda, b_edge, c, ldc, load_c); break;
    case 5: sc_inplace_edge_cols_f32(mc, 5, kc, a, lda, b_edge, c, ldc, load_c); break;
    case 6: sc_inplace_edge_cols_f32(mc, 6, kc, a, lda, b_edge, c, ldc, load_c); break;
    case 7: sc_inplace_edge_cols_f32(mc, 7, kc, a, lda, b_edge, c, ldc, load_c); break;
    case 8: sc_inplace_edge_cols_f32(mc, 8, kc, a, lda, b_edge, c, ldc, load_c); break;
    default: break;
    }
}
#endif

#endif
