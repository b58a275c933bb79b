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

#endif
