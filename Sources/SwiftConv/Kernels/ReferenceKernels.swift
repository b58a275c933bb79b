/// The oracle: the notebook's sliding-window loops, generalised to three spatial axes,
/// groups, padding on any side, stride, dilation and N. Plain, single-threaded and
/// obviously right; every fast kernel (and the depth lowering) is tested against these.
/// On planar shapes (depth 1) the loops reduce to the 2-D ones term for term.
enum ReferenceKernels {
    /// y = conv(x, w) + bias.
    static func forward<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>) {
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        for n in 0..<s.batch {
            for co in 0..<s.outChannels {
                let g = co / cog
                for od in 0..<s.outDepth {
                    for oh in 0..<s.outHeight {
                        for ow in 0..<s.outWidth {
                            var acc: T = 0
                            for ci in 0..<cig {
                                let c = g * cig + ci
                                forEachTap(s, od, oh, ow) { tap, inOffset in
                                    acc += x[(n * s.inChannels + c) * s.inPixels + inOffset] * w[(co * cig + ci) * s.kernelTaps + tap]
                                }
                            }
                            if let bias { acc += bias[co] }
                            y[(n * s.outChannels + co) * s.outPixels + (od * s.outHeight + oh) * s.outWidth + ow] = acc
                        }
                    }
                }
            }
        }
    }

    /// dx = conv^T(dy, w) (+ bias per x-channel): the adjoint of `forward`, i.e. the input
    /// gradient of a convolution and the forward pass of a transposed convolution. Each dy
    /// value scatters value * kernel into its input window.
    static func adjoint<T: ConvScalar>(_ s: ConvShape, dy: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>) {
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        for n in 0..<s.batch {
            for c in 0..<s.inChannels {
                let v: T = bias?[c] ?? 0
                for p in 0..<s.inPixels { dx[(n * s.inChannels + c) * s.inPixels + p] = v }
            }
            for co in 0..<s.outChannels {
                let g = co / cog
                for od in 0..<s.outDepth {
                    for oh in 0..<s.outHeight {
                        for ow in 0..<s.outWidth {
                            let v = dy[(n * s.outChannels + co) * s.outPixels + (od * s.outHeight + oh) * s.outWidth + ow]
                            for ci in 0..<cig {
                                let c = g * cig + ci
                                forEachTap(s, od, oh, ow) { tap, inOffset in
                                    dx[(n * s.inChannels + c) * s.inPixels + inOffset] += v * w[(co * cig + ci) * s.kernelTaps + tap]
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// dw = sum over batch and output positions of dy * x-patch: the weight gradient.
    static func weightGradient<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, dy: UnsafePointer<T>,
                                              dw: UnsafeMutablePointer<T>) {
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        for co in 0..<s.outChannels {
            let g = co / cog
            for ci in 0..<cig {
                let c = g * cig + ci
                for kd in 0..<s.kernelDepth {
                    for kh in 0..<s.kernelHeight {
                        for kw in 0..<s.kernelWidth {
                            var acc: T = 0
                            for n in 0..<s.batch {
                                for od in 0..<s.outDepth {
                                    let id = od * s.strideD - s.padFront + kd * s.dilationD
                                    if id < 0 || id >= s.inDepth { continue }
                                    for oh in 0..<s.outHeight {
                                        let ih = oh * s.strideH - s.padTop + kh * s.dilationH
                                        if ih < 0 || ih >= s.inHeight { continue }
                                        for ow in 0..<s.outWidth {
                                            let iw = ow * s.strideW - s.padLeft + kw * s.dilationW
                                            if iw < 0 || iw >= s.inWidth { continue }
                                            acc += dy[(n * s.outChannels + co) * s.outPixels + (od * s.outHeight + oh) * s.outWidth + ow]
                                                * x[(n * s.inChannels + c) * s.inPixels + (id * s.inHeight + ih) * s.inWidth + iw]
                                        }
                                    }
                                }
                            }
                            dw[(co * cig + ci) * s.kernelTaps + (kd * s.kernelHeight + kh) * s.kernelWidth + kw] = acc
                        }
                    }
                }
            }
        }
    }

    /// Calls body(tap, inputOffset) for every kernel tap of output position (od, oh, ow) that
    /// lands inside the input, in tap order (kd, kh, kw); inputOffset is within one channel.
    @inline(__always)
    static func forEachTap(_ s: ConvShape, _ od: Int, _ oh: Int, _ ow: Int, _ body: (Int, Int) -> Void) {
        for kd in 0..<s.kernelDepth {
            let id = od * s.strideD - s.padFront + kd * s.dilationD
            if id < 0 || id >= s.inDepth { continue }
            for kh in 0..<s.kernelHeight {
                let ih = oh * s.strideH - s.padTop + kh * s.dilationH
                if ih < 0 || ih >= s.inHeight { continue }
                for kw in 0..<s.kernelWidth {
                    let iw = ow * s.strideW - s.padLeft + kw * s.dilationW
                    if iw < 0 || iw >= s.inWidth { continue }
                    body((kd * s.kernelHeight + kh) * s.kernelWidth + kw, (id * s.inHeight + ih) * s.inWidth + iw)
                }
            }
        }
    }
}
