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
            if cig == 0 {
                out.update(repeating: bias?[co] ?? 0, count: s.outPixels)
                return
            }
            // The first input channel starts from the bias (no separate fill pass over y).
            firstPlane(plane, x + (n * s.inChannels + g * cig) * s.inPixels, w + co * cig * taps, out, initial: bias?[co] ?? 0)
            for ci in 1..<cig {
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

    /// y = initial + conv(x, w) for one plane pair, by the active table's plane kernel.
    @inline(__always)
    static func firstPlane<T: ConvScalar>(_ g: sc_plane_geometry, _ x: UnsafePointer<T>, _ w: UnsafePointer<T>,
                                          _ y: UnsafeMutablePointer<T>, initial: T) {
        switch T.kind {
        case .float32:
            let x = UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), w = UnsafeRawPointer(w).assumingMemoryBound(to: Float.self)
            let y = UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self)
            KernelTable.active.directPlaneF32(g, x, w, y, Float(initial))
        case .float64:
            let x = UnsafeRawPointer(x).assumingMemoryBound(to: Double.self), w = UnsafeRawPointer(w).assumingMemoryBound(to: Double.self)
            let y = UnsafeMutableRawPointer(y).assumingMemoryBound(to: Double.self)
            KernelTable.active.directPlaneF64(g, x, w, y, Double(initial))
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
