/*
 * Types shared by the kernel modules that are compiled twice (SwiftConvKernelsAVX2 and
 * SwiftConvKernelsBaseline): a type declared in Swift would be two different types, one per
 * module, so the few structs their entry points take are declared here once. Not part of
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

#endif
