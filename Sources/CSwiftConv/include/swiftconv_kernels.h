/*
 * Types shared by the kernel modules that are compiled twice (SwiftConvKernelsAVX2 and
 * SwiftConvKernelsBaseline): a type declared in Swift would be two different types, one per
 * module, so the few structs their entry points take are declared here once (and one
 * prefetch hint, which Swift cannot express). Not part of
 * the public ABI (the Python extension does not include this file).
 */
#ifndef SWIFTCONV_KERNELS_H
#define SWIFTCONV_KERNELS_H

#include <stdint.h>

/* One input plane convolved into one output plane (see DirectPlaneKernels.swift). */
typedef struct {
    int64_t in_height, in_width, out_height, out_width;
    int64_t kernel_height, kernel_width;
    int64_t stride_h, stride_w, dilation_h, dilation_w;
    int64_t pad_top, pad_left;
} sc_plane_geometry;

/*
 * A depthwise convolution over pixel-major, channel-interleaved memory (DepthwiseKernels.swift):
 * one vector of channels per pixel, pixel (row, col) of the source at row * src_row_stride +
 * col * src_pixel_stride (elements), of the destination likewise. Forward (adjoint = 0):
 * output (o_h, o_w) reads source (o_h*stride_h - pad_top + k_h*dilation_h, ...). Adjoint
 * (adjoint = 1, the transposed convolution as a gather): output (o_h, o_w) reads source
 * ((o_h + pad_top - k_h*dilation_h) / stride_h, ...) where the division is exact. Sources
 * outside [src_row_begin, src_row_end) x [src_col_begin, src_col_end) read as zero; outputs
 * [row_begin, row_end) x [col_begin, col_end) are computed.
 */
typedef struct {
    int64_t adjoint;
    int64_t kernel_height, kernel_width, stride_h, stride_w, dilation_h, dilation_w;
    int64_t pad_top, pad_left;
    int64_t src_row_begin, src_row_end, src_col_begin, src_col_end;
    int64_t row_begin, row_end, col_begin, col_end;
    int64_t src_pixel_stride, src_row_stride, dst_pixel_stride, dst_row_stride;
} sc_depthwise_rows;

/*
 * A software prefetch of the cache line at p into L2 (prefetcht1 on x86; never faults, so p
 * may point past an array). Swift has no prefetch of its own; the GEMM's row-major-B block
 * function (MicroKernels.swift, sgemmBlockRowMajorB) fetches its next panel with it.
 */
static inline void sc_prefetch_l2(const void *p) { __builtin_prefetch(p, 0, 2); }

/*
 * dst[2i] += a[i], dst[2i + 1] += b[i] for i < n: the two column taps of a stride-2 col2im
 * row added into one x row (SwiftConv's ScatterAdjoint.col2im), one IEEE addition per
 * element as the scalar loop, so the same bits. Inline here, not in Swift, because the
 * interleaving shuffle has no Swift SIMD operation; compiled by each kernel module with its
 * own target flags (the AVX-512 module gets the 16-lane two-source permute).
 */
#if defined(__AVX512F__)
#include <immintrin.h>
#elif defined(__AVX__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif
static inline void sc_add_interleaved_f32(float *dst, const float *a, const float *b, long n) {
    long i = 0;
#if defined(__AVX512F__)
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    for (; i + 16 <= n; i += 16) {
        __m512 va = _mm512_loadu_ps(a + i), vb = _mm512_loadu_ps(b + i);
        float *d = dst + 2 * i;
        _mm512_storeu_ps(d, _mm512_add_ps(_mm512_loadu_ps(d), _mm512_permutex2var_ps(va, lo, vb)));
        _mm512_storeu_ps(d + 16, _mm512_add_ps(_mm512_loadu_ps(d + 16), _mm512_permutex2var_ps(va, hi, vb)));
    }
    if (i < n) {
        /* The last 1-15 pairs by masked loads and stores (runs are 4-16 pairs in dcgan). */
        long r = n - i;
        __mmask16 mab = (__mmask16)((1u << r) - 1);
        __mmask16 mlo = r >= 8 ? (__mmask16)0xFFFF : (__mmask16)((1u << (2 * r)) - 1);
        __mmask16 mhi = r > 8 ? (__mmask16)((1u << (2 * (r - 8))) - 1) : (__mmask16)0;
        __m512 va = _mm512_maskz_loadu_ps(mab, a + i), vb = _mm512_maskz_loadu_ps(mab, b + i);
        float *d = dst + 2 * i;
        _mm512_mask_storeu_ps(d, mlo, _mm512_add_ps(_mm512_maskz_loadu_ps(mlo, d), _mm512_permutex2var_ps(va, lo, vb)));
        if (r > 8) {
            _mm512_mask_storeu_ps(d + 16, mhi, _mm512_add_ps(_mm512_maskz_loadu_ps(mhi, d + 16), _mm512_permutex2var_ps(va, hi, vb)));
        }
        return;
    }
#endif
#if defined(__AVX__)
    for (; i + 8 <= n; i += 8) {
        __m256 va = _mm256_loadu_ps(a + i), vb = _mm256_loadu_ps(b + i);
        __m256 l = _mm256_unpacklo_ps(va, vb), h = _mm256_unpackhi_ps(va, vb);
        float *d = dst + 2 * i;
        _mm256_storeu_ps(d, _mm256_add_ps(_mm256_loadu_ps(d), _mm256_permute2f128_ps(l, h, 0x20)));
        _mm256_storeu_ps(d + 8, _mm256_add_ps(_mm256_loadu_ps(d + 8), _mm256_permute2f128_ps(l, h, 0x31)));
    }
#endif
#if defined(__SSE2__)
    for (; i + 4 <= n; i += 4) {
        __m128 va = _mm_loadu_ps(a + i), vb = _mm_loadu_ps(b + i);
        float *d = dst + 2 * i;
        _mm_storeu_ps(d, _mm_add_ps(_mm_loadu_ps(d), _mm_unpacklo_ps(va, vb)));
        _mm_storeu_ps(d + 4, _mm_add_ps(_mm_loadu_ps(d + 4), _mm_unpackhi_ps(va, vb)));
    }
#endif
    for (; i < n; i++) { dst[2 * i] += a[i]; dst[2 * i + 1] += b[i]; }
}


/*
 * One row of a stride-2 col2im tap pair: dst[2u] += a[u] for u in [lo, hi), dst[2u + 1] +=
 * b[u] for u in [lo1, hi1) (empty when reversed). AVX-512: whole 8-pair chunks from
 * min(lo, lo1) with merge masks, edges included: a scalar edge added after a masked store to
 * the same 64 bytes waits for that store to retire (masked stores do not forward; the
 * trailing edge took ~40% of the tap-pair kernel on dcgan's 512->256 4x4 N8). Elsewhere:
 * the edges first, then the interleaved run. One IEEE addition per element: the same bits.
 */
static inline void sc_add_tap_pair_row_f32(float *dst, const float *a, const float *b, long lo, long hi, long lo1, long hi1) {
    if (hi < lo) hi = lo;
    if (hi1 < lo1) hi1 = lo1;
#if defined(__AVX512F__)
    long start = lo < lo1 ? lo : lo1, end = hi > hi1 ? hi : hi1;
    if (lo == hi) start = lo1;
    if (lo1 == hi1) start = lo;
    const __m512i zip = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    for (long u0 = start; u0 < end; u0 += 8) {
        long a0 = lo > u0 ? lo : u0, a1 = hi < u0 + 8 ? hi : u0 + 8;
        long b0 = lo1 > u0 ? lo1 : u0, b1 = hi1 < u0 + 8 ? hi1 : u0 + 8;
        unsigned ma = a1 > a0 ? ((1u << (a1 - u0)) - 1) & ~((1u << (a0 - u0)) - 1) : 0;
        unsigned mb = b1 > b0 ? ((1u << (b1 - u0)) - 1) & ~((1u << (b0 - u0)) - 1) : 0;
        __mmask16 m = (__mmask16)(_pdep_u32(ma, 0x5555u) | _pdep_u32(mb, 0xAAAAu));
        __m512 va = _mm512_maskz_loadu_ps((__mmask16)ma, a + u0), vb = _mm512_maskz_loadu_ps((__mmask16)mb, b + u0);
        float *d = dst + 2 * u0;
        _mm512_mask_storeu_ps(d, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, d), _mm512_permutex2var_ps(va, zip, vb)));
    }
#else
    long both = lo > lo1 ? lo : lo1, end = hi < hi1 ? hi : hi1;
    if (end < both) end = both;
    for (long u = lo; u < hi && u < both; u++) dst[2 * u] += a[u];
    for (long u = (lo > end ? lo : end); u < hi; u++) dst[2 * u] += a[u];
    for (long u = lo1; u < hi1 && u < both; u++) dst[2 * u + 1] += b[u];
    for (long u = (lo1 > end ? lo1 : end); u < hi1; u++) dst[2 * u + 1] += b[u];
    if (end > both) sc_add_interleaved_f32(dst + 2 * both, a + both, b + both, end - both);
#endif
}

/*
 * dst[16u + r] = src[r * src_stride + u] for r, u < 16: one 16 x 16 Float block transposed
 * in registers (TransposePacking.swift's full blocks on the AVX-512 tier). The classic three
 * stages: unpack ps and unpack pd (in-lane, 32 shuffles), then two 128-bit-lane
 * vshuff32x4 stages (32): 64 shuffles where the Swift lane-by-lane form makes 88
 * vpermt2ps-class ones. Zen5, blocks 16 rows ~37 KB apart, one process: 12.0-12.6 ns per
 * block vs 13.0-13.1 for four vpermt2ps stages and 11.9-12.1 for rows paired by 256-bit
 * loads (the fourth stage in the loads), which took 15.4 vs 14.0 ns with rows 2 KB apart.
 * In the library (plain blocked conv, 1 thread, vs the Swift form in one process): 512->512
 * 3x3 7x7 N1 0.985-0.988x, 1024->512 14x14 N1 0.990-0.993x, 256->256 14x14 and
 * 128->128 28x28 N1 within noise; the 3x3 weight and input gradients unchanged. The packing
 * is bound by its 16 strided weight rows (9-19 MB weights, past L2), not by the shuffles.
 * Pure moves: the same bits on every tier. Elsewhere a scalar loop (not used by Swift).
 */
static inline void sc_transpose16x16_f32(float *dst, const float *src, long src_stride) {
#if defined(__AVX512F__)
    const long s = src_stride;
    __m512 r0 = _mm512_loadu_ps(src), r1 = _mm512_loadu_ps(src + s), r2 = _mm512_loadu_ps(src + 2 * s), r3 = _mm512_loadu_ps(src + 3 * s);
    __m512 r4 = _mm512_loadu_ps(src + 4 * s), r5 = _mm512_loadu_ps(src + 5 * s), r6 = _mm512_loadu_ps(src + 6 * s), r7 = _mm512_loadu_ps(src + 7 * s);
    __m512 r8 = _mm512_loadu_ps(src + 8 * s), r9 = _mm512_loadu_ps(src + 9 * s), r10 = _mm512_loadu_ps(src + 10 * s), r11 = _mm512_loadu_ps(src + 11 * s);
    __m512 r12 = _mm512_loadu_ps(src + 12 * s), r13 = _mm512_loadu_ps(src + 13 * s), r14 = _mm512_loadu_ps(src + 14 * s), r15 = _mm512_loadu_ps(src + 15 * s);
    /* Stage 1: pairs of rows interleaved by element. */
    __m512 t0 = _mm512_unpacklo_ps(r0, r1), t1 = _mm512_unpackhi_ps(r0, r1), t2 = _mm512_unpacklo_ps(r2, r3), t3 = _mm512_unpackhi_ps(r2, r3);
    __m512 t4 = _mm512_unpacklo_ps(r4, r5), t5 = _mm512_unpackhi_ps(r4, r5), t6 = _mm512_unpacklo_ps(r6, r7), t7 = _mm512_unpackhi_ps(r6, r7);
    __m512 t8 = _mm512_unpacklo_ps(r8, r9), t9 = _mm512_unpackhi_ps(r8, r9), t10 = _mm512_unpacklo_ps(r10, r11), t11 = _mm512_unpackhi_ps(r10, r11);
    __m512 t12 = _mm512_unpacklo_ps(r12, r13), t13 = _mm512_unpackhi_ps(r12, r13), t14 = _mm512_unpacklo_ps(r14, r15), t15 = _mm512_unpackhi_ps(r14, r15);
    /* Stage 2: pairs of element pairs (64-bit units): each 128-bit lane holds 4 rows of one column. */
#define SC_LO64(a, b) _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
#define SC_HI64(a, b) _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
    r0 = SC_LO64(t0, t2); r1 = SC_HI64(t0, t2); r2 = SC_LO64(t1, t3); r3 = SC_HI64(t1, t3);
    r4 = SC_LO64(t4, t6); r5 = SC_HI64(t4, t6); r6 = SC_LO64(t5, t7); r7 = SC_HI64(t5, t7);
    r8 = SC_LO64(t8, t10); r9 = SC_HI64(t8, t10); r10 = SC_LO64(t9, t11); r11 = SC_HI64(t9, t11);
    r12 = SC_LO64(t12, t14); r13 = SC_HI64(t12, t14); r14 = SC_LO64(t13, t15); r15 = SC_HI64(t13, t15);
#undef SC_LO64
#undef SC_HI64
    /* Stages 3 and 4: 128-bit lanes (even lanes with 0x88, odd with 0xDD) of 8 then 16 rows. */
    t0 = _mm512_shuffle_f32x4(r0, r4, 0x88); t1 = _mm512_shuffle_f32x4(r1, r5, 0x88); t2 = _mm512_shuffle_f32x4(r2, r6, 0x88); t3 = _mm512_shuffle_f32x4(r3, r7, 0x88);
    t4 = _mm512_shuffle_f32x4(r0, r4, 0xDD); t5 = _mm512_shuffle_f32x4(r1, r5, 0xDD); t6 = _mm512_shuffle_f32x4(r2, r6, 0xDD); t7 = _mm512_shuffle_f32x4(r3, r7, 0xDD);
    t8 = _mm512_shuffle_f32x4(r8, r12, 0x88); t9 = _mm512_shuffle_f32x4(r9, r13, 0x88); t10 = _mm512_shuffle_f32x4(r10, r14, 0x88); t11 = _mm512_shuffle_f32x4(r11, r15, 0x88);
    t12 = _mm512_shuffle_f32x4(r8, r12, 0xDD); t13 = _mm512_shuffle_f32x4(r9, r13, 0xDD); t14 = _mm512_shuffle_f32x4(r10, r14, 0xDD); t15 = _mm512_shuffle_f32x4(r11, r15, 0xDD);
    _mm512_storeu_ps(dst, _mm512_shuffle_f32x4(t0, t8, 0x88)); _mm512_storeu_ps(dst + 16, _mm512_shuffle_f32x4(t1, t9, 0x88));
    _mm512_storeu_ps(dst + 32, _mm512_shuffle_f32x4(t2, t10, 0x88)); _mm512_storeu_ps(dst + 48, _mm512_shuffle_f32x4(t3, t11, 0x88));
    _mm512_storeu_ps(dst + 64, _mm512_shuffle_f32x4(t4, t12, 0x88)); _mm512_storeu_ps(dst + 80, _mm512_shuffle_f32x4(t5, t13, 0x88));
    _mm512_storeu_ps(dst + 96, _mm512_shuffle_f32x4(t6, t14, 0x88)); _mm512_storeu_ps(dst + 112, _mm512_shuffle_f32x4(t7, t15, 0x88));
    _mm512_storeu_ps(dst + 128, _mm512_shuffle_f32x4(t0, t8, 0xDD)); _mm512_storeu_ps(dst + 144, _mm512_shuffle_f32x4(t1, t9, 0xDD));
    _mm512_storeu_ps(dst + 160, _mm512_shuffle_f32x4(t2, t10, 0xDD)); _mm512_storeu_ps(dst + 176, _mm512_shuffle_f32x4(t3, t11, 0xDD));
    _mm512_storeu_ps(dst + 192, _mm512_shuffle_f32x4(t4, t12, 0xDD)); _mm512_storeu_ps(dst + 208, _mm512_shuffle_f32x4(t5, t13, 0xDD));
    _mm512_storeu_ps(dst + 224, _mm512_shuffle_f32x4(t6, t14, 0xDD)); _mm512_storeu_ps(dst + 240, _mm512_shuffle_f32x4(t7, t15, 0xDD));
#else
    for (long u = 0; u < 16; u++)
        for (long r = 0; r < 16; r++) dst[16 * u + r] = src[r * src_stride + u];
#endif
}

/*
 * The depthwise kernels' moves between NCHW planes and channel-interleaved tiles (one
 * 64-byte vector per pixel of 16 Float channels), on the AVX-512 tier (DepthwiseKernels.swift;
 * the other tiers keep their Swift loops). A block of 16 pixels x 16 channels is transposed
 * with the three-stage shuffles of `sc_transpose16x16_f32` (64 shuffles where the Swift
 * lane-by-lane form made 88 vpermt2ps-class ones); fewer than 16 pixels (a kernel's taps) or
 * lanes (a partial channel block) go through masked loads and stores. Pure moves: the same
 * bits.
 */
#if defined(__AVX512F__)
/* The code is spelled out (16 named registers, no arrays or loops): the loops with arrays
 * of this file's first form were left rolled, the arrays on the stack, and the transposes
 * ran 1.2-2x slower than the Swift form they replaced. */
#define SC_EACH16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define SC_LO64(a, b) _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
#define SC_HI64(a, b) _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
/* r0 ... r15 (in scope) transposed in place: r_i lane j <-> r_j lane i (as sc_transpose16x16_f32). */
#define SC_TRANSPOSE16_REGS() do { \
    __m512 t0 = _mm512_unpacklo_ps(r0, r1), t1 = _mm512_unpackhi_ps(r0, r1), t2 = _mm512_unpacklo_ps(r2, r3), t3 = _mm512_unpackhi_ps(r2, r3); \
    __m512 t4 = _mm512_unpacklo_ps(r4, r5), t5 = _mm512_unpackhi_ps(r4, r5), t6 = _mm512_unpacklo_ps(r6, r7), t7 = _mm512_unpackhi_ps(r6, r7); \
    __m512 t8 = _mm512_unpacklo_ps(r8, r9), t9 = _mm512_unpackhi_ps(r8, r9), t10 = _mm512_unpacklo_ps(r10, r11), t11 = _mm512_unpackhi_ps(r10, r11); \
    __m512 t12 = _mm512_unpacklo_ps(r12, r13), t13 = _mm512_unpackhi_ps(r12, r13), t14 = _mm512_unpacklo_ps(r14, r15), t15 = _mm512_unpackhi_ps(r14, r15); \
    r0 = SC_LO64(t0, t2); r1 = SC_HI64(t0, t2); r2 = SC_LO64(t1, t3); r3 = SC_HI64(t1, t3); \
    r4 = SC_LO64(t4, t6); r5 = SC_HI64(t4, t6); r6 = SC_LO64(t5, t7); r7 = SC_HI64(t5, t7); \
    r8 = SC_LO64(t8, t10); r9 = SC_HI64(t8, t10); r10 = SC_LO64(t9, t11); r11 = SC_HI64(t9, t11); \
    r12 = SC_LO64(t12, t14); r13 = SC_HI64(t12, t14); r14 = SC_LO64(t13, t15); r15 = SC_HI64(t13, t15); \
    t0 = _mm512_shuffle_f32x4(r0, r4, 0x88); t1 = _mm512_shuffle_f32x4(r1, r5, 0x88); t2 = _mm512_shuffle_f32x4(r2, r6, 0x88); t3 = _mm512_shuffle_f32x4(r3, r7, 0x88); \
    t4 = _mm512_shuffle_f32x4(r0, r4, 0xDD); t5 = _mm512_shuffle_f32x4(r1, r5, 0xDD); t6 = _mm512_shuffle_f32x4(r2, r6, 0xDD); t7 = _mm512_shuffle_f32x4(r3, r7, 0xDD); \
    t8 = _mm512_shuffle_f32x4(r8, r12, 0x88); t9 = _mm512_shuffle_f32x4(r9, r13, 0x88); t10 = _mm512_shuffle_f32x4(r10, r14, 0x88); t11 = _mm512_shuffle_f32x4(r11, r15, 0x88); \
    t12 = _mm512_shuffle_f32x4(r8, r12, 0xDD); t13 = _mm512_shuffle_f32x4(r9, r13, 0xDD); t14 = _mm512_shuffle_f32x4(r10, r14, 0xDD); t15 = _mm512_shuffle_f32x4(r11, r15, 0xDD); \
    r0 = _mm512_shuffle_f32x4(t0, t8, 0x88); r1 = _mm512_shuffle_f32x4(t1, t9, 0x88); r2 = _mm512_shuffle_f32x4(t2, t10, 0x88); r3 = _mm512_shuffle_f32x4(t3, t11, 0x88); \
    r4 = _mm512_shuffle_f32x4(t4, t12, 0x88); r5 = _mm512_shuffle_f32x4(t5, t13, 0x88); r6 = _mm512_shuffle_f32x4(t6, t14, 0x88); r7 = _mm512_shuffle_f32x4(t7, t15, 0x88); \
    r8 = _mm512_shuffle_f32x4(t0, t8, 0xDD); r9 = _mm512_shuffle_f32x4(t1, t9, 0xDD); r10 = _mm512_shuffle_f32x4(t2, t10, 0xDD); r11 = _mm512_shuffle_f32x4(t3, t11, 0xDD); \
    r12 = _mm512_shuffle_f32x4(t4, t12, 0xDD); r13 = _mm512_shuffle_f32x4(t5, t13, 0xDD); r14 = _mm512_shuffle_f32x4(t6, t14, 0xDD); r15 = _mm512_shuffle_f32x4(t7, t15, 0xDD); \
} while (0)

static inline __mmask16 sc_first_lanes16(long n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n > 0 ? n : 0)) - 1u); }
#endif

/*
 * Pixel u < count gets src[r * src_stride + u] in lane r < lanes (0 in lanes >= lanes), stored
 * at base + (u / row_width) * row_stride + (u % row_width) * 16 (rows of a zero-bordered
 * tile; row_width = count, row_stride = 16 * count: one contiguous run of pixels).
 */
static inline void sc_depthwise_interleave_rows_f32(float *base, long row_stride, long row_width, const float *src,
                                                    long src_stride, long lanes, long count) {
#if defined(__AVX512F__)
    if (count < 16 || lanes < 16) {
        /* One masked block per 16 pixels (weights: 9 or 25 taps; partial channel blocks). */
        for (long u = 0; u < count; u += 16) {
            const long n = count - u;
            const __mmask16 m = sc_first_lanes16(n);
#define SC_LD(i) __m512 r##i = _mm512_maskz_loadu_ps(i < lanes ? m : 0, src + i * src_stride + u);
            SC_EACH16(SC_LD)
#undef SC_LD
            SC_TRANSPOSE16_REGS();
#define SC_ST(i) if (i < n) { const long p = u + i, row = p / row_width; _mm512_storeu_ps(base + row * row_stride + (p - row * row_width) * 16, r##i); }
            SC_EACH16(SC_ST)
#undef SC_ST
        }
        return;
    }
    /* Full blocks with plain loads; the last few pixels (up to 4) one by one, more as a last
     * block overlapping the one before (rewriting the same values), as the Swift form did. */
    long u = 0;
    const long wrap = row_stride - (row_width - 1) * 16;
    while (u < count) {
        if (u + 16 > count) {
            if (count - u <= 4) break;
            u = count - 16;
        }
#define SC_LD(i) __m512 r##i = _mm512_loadu_ps(src + i * src_stride + u);
        SC_EACH16(SC_LD)
#undef SC_LD
        SC_TRANSPOSE16_REGS();
        long row = u / row_width, column = u - row * row_width;
        float *q = base + row * row_stride + column * 16;
#define SC_ST(i) _mm512_storeu_ps(q, r##i); if (++column == row_width) { column = 0; q += wrap; } else { q += 16; }
        SC_EACH16(SC_ST)
#undef SC_ST
        u += 16;
    }
    for (; u < count; u++) {
        const long row = u / row_width;
        float *o = base + row * row_stride + (u - row * row_width) * 16;
        for (long r = 0; r < 16; r++) o[r] = src[r * src_stride + u];
    }
#else
    for (long u = 0; u < count; u++) {
        float *o = base + (u / row_width) * row_stride + (u % row_width) * 16;
        for (long r = 0; r < 16; r++) o[r] = r < lanes ? src[r * src_stride + u] : 0.0f;
    }
#endif
}

/* dst[r * dst_stride + u] = src[u * 16 + r] for r < lanes, u < count (the inverse move). */
static inline void sc_depthwise_deinterleave_f32(float *dst, long dst_stride, const float *src, long lanes, long count) {
#if defined(__AVX512F__)
    if (count < 16 || lanes < 16) {
        for (long u = 0; u < count; u += 16) {
            const long n = count - u;
            const __mmask16 m = sc_first_lanes16(n);
#define SC_LD(i) __m512 r##i = _mm512_maskz_loadu_ps(i < n ? (__mmask16)0xFFFF : 0, src + (u + i) * 16);
            SC_EACH16(SC_LD)
#undef SC_LD
            SC_TRANSPOSE16_REGS();
#define SC_ST(i) _mm512_mask_storeu_ps(dst + i * dst_stride + u, i < lanes ? m : 0, r##i);
            SC_EACH16(SC_ST)
#undef SC_ST
        }
        return;
    }
    /* As the interleave: full blocks, an overlapping last block, up to 4 pixels one by one. */
    long u = 0;
    while (u < count) {
        if (u + 16 > count) {
            if (count - u <= 4) break;
            u = count - 16;
        }
#define SC_LD(i) __m512 r##i = _mm512_loadu_ps(src + (u + i) * 16);
        SC_EACH16(SC_LD)
#undef SC_LD
        SC_TRANSPOSE16_REGS();
#define SC_ST(i) _mm512_storeu_ps(dst + i * dst_stride + u, r##i);
        SC_EACH16(SC_ST)
#undef SC_ST
        u += 16;
    }
    for (; u < count; u++)
        for (long r = 0; r < 16; r++) dst[r * dst_stride + u] = src[u * 16 + r];
#else
    for (long u = 0; u < count; u++)
        for (long r = 0; r < lanes; r++) dst[r * dst_stride + u] = src[u * 16 + r];
#endif
}

/*
 * The bfloat16 bit patterns of lo's 16 floats (words 0-15) then hi's (16-31), rounded to
 * nearest even by AVX-512 BF16's vcvtne2ps2bf16 (one instruction per 32 values, where the
 * integer rounding takes 6 vector ops per 16 and a word shuffle per 32). Inline assembly: the
 * x86-64-v4 build does not enable AVX512-BF16, so the callers check the CPU
 * (sc_cpu_has_avx512_bf16). The instruction treats subnormal inputs as zero; for every other
 * float32 it gives the integer rule's bits, NaNs included (quiet, sign and top payload bits
 * kept; checked against it on all 2^32 patterns, Zen5), so callers round vectors with a
 * subnormal lane (sc_has_subnormal_f32x16*) the integer way. Only in the AVX-512 build.
 */
#if defined(__AVX512F__) && defined(__AVX512DQ__)
typedef float sc_f32x16 __attribute__((vector_size(64)));
typedef unsigned short sc_u16x32 __attribute__((vector_size(64)));
typedef unsigned short sc_u16x16 __attribute__((vector_size(32)));
static inline sc_u16x32 sc_bfloat16_nearest_pair(sc_f32x16 lo, sc_f32x16 hi) {
    sc_u16x32 r;
    __asm__("vcvtne2ps2bf16 %2, %1, %0" : "=v"(r) : "v"(hi), "v"(lo));
    return r;
}
/* sc_bfloat16_nearest_pair for 16 values (vcvtneps2bf16, zmm to ymm). */
static inline sc_u16x16 sc_bfloat16_nearest(sc_f32x16 x) {
    sc_u16x16 r;
    __asm__("vcvtneps2bf16 %1, %0" : "=v"(r) : "v"(x));
    return r;
}
/* Whether a lane of x is a nonzero subnormal (vfpclassps, category 0x20). */
static inline int sc_has_subnormal_f32x16(sc_f32x16 x) {
    return _mm512_fpclass_ps_mask((__m512)x, 0x20) != 0;
}
/* Whether a lane of a or of b is a nonzero subnormal (two vfpclassps, one mask test). */
static inline int sc_has_subnormal_f32x16_pair(sc_f32x16 a, sc_f32x16 b) {
    return (_mm512_fpclass_ps_mask((__m512)a, 0x20) | _mm512_fpclass_ps_mask((__m512)b, 0x20)) != 0;
}
#endif

/* The in-place-A GEMM's partial column panel, rows in the lanes (uses the transpose above). */
#include "swiftconv_inplace_edge.h"

#endif
