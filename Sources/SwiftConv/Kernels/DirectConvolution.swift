import CSwiftConv

/// The "direct" formulation: the notebook's sliding-window loops. Each task owns one output
/// plane (image, output channel) and adds into it, input channel by input channel, the
/// window sums of that channel's plane (a SIMD plane kernel, DirectPlaneKernels.swift).
/// No unfolding, no packing: the data is streamed once, which is what depthwise and other
/// small-group convolutions want.
enum DirectConvolution {
    static func forward<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>) {
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup, taps = s.kernelTaps
        let plane = planeGeometry(s)
        ThreadPool.shared.parallelFor(s.batch * s.outChannels, work: s.macs) { index in
            let n = index / s.outChannels, co = index % s.outChannels, g = co / cog
            let out = y + index * s.outPixels
            out.update(repeating: bias?[co] ?? 0, count: s.outPixels)
            for ci in 0..<cig {
                T.directAccumulatePlane(plane, x + (n * s.inChannels + g * cig + ci) * s.inPixels,
                                        w + (co * cig + ci) * taps, out)
            }
        }
    }

    /// The weight gradient plane pair by plane pair: a task owns one output channel's
    /// weights and sums images, then input channels, in order.
    static func weightGradient<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, dy: UnsafePointer<T>,
                                              dw: UnsafeMutablePointer<T>) {
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup, taps = s.kernelTaps
        let plane = planeGeometry(s)
        ThreadPool.shared.parallelFor(s.outChannels, work: s.macs) { co in
            let g = co / cog
            let dwRow = dw + co * cig * taps
            dwRow.update(repeating: 0, count: cig * taps)
            for n in 0..<s.batch {
                let dyPlane = dy + (n * s.outChannels + co) * s.outPixels
                for ci in 0..<cig {
                    T.directWeightGradientPlane(plane, x + (n * s.inChannels + g * cig + ci) * s.inPixels,
                                                dyPlane, dwRow + ci * taps)
                }
            }
        }
    }

    static func planeGeometry(_ s: ConvShape) -> sc_plane_geometry {
        sc_plane_geometry(
            in_height: Int64(s.inHeight), in_width: Int64(s.inWidth),
            out_height: Int64(s.outHeight), out_width: Int64(s.outWidth),
            kernel_height: Int64(s.kernelHeight), kernel_width: Int64(s.kernelWidth),
            stride_h: Int64(s.strideH), stride_w: Int64(s.strideW),
            dilation_h: Int64(s.dilationH), dilation_w: Int64(s.dilationW),
            pad_top: Int64(s.padTop), pad_left: Int64(s.padLeft))
    }
}
