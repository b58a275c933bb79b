/// The oracle: the notebook's sliding-window loops, generalised to groups, padding on any
/// side, stride, dilation and N. Plain, single-threaded and obviously right; every fast
/// kernel is tested against these. Also the "direct" and "scatter" algorithms build on the
/// same index rules.
enum ReferenceKernels {
    /// y = conv(x, w) + bias.
    static func forward<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>) {
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        for n in 0..<s.batch {
            for co in 0..<s.outChannels {
                let g = co / cog
                for oh in 0..<s.outHeight {
                    for ow in 0..<s.outWidth {
                        var acc: T = 0
                        for ci in 0..<cig {
                            let c = g * cig + ci
                            for kh in 0..<s.kernelHeight {
                                let ih = oh * s.strideH - s.padTop + kh * s.dilationH
                                if ih < 0 || ih >= s.inHeight { continue }
                                for kw in 0..<s.kernelWidth {
                                    let iw = ow * s.strideW - s.padLeft + kw * s.dilationW
                                    if iw < 0 || iw >= s.inWidth { continue }
                                    let xv = x[((n * s.inChannels + c) * s.inHeight + ih) * s.inWidth + iw]
                                    let wv = w[((co * cig + ci) * s.kernelHeight + kh) * s.kernelWidth + kw]
                                    acc += xv * wv
                                }
                            }
                        }
                        if let bias { acc += bias[co] }
                        y[((n * s.outChannels + co) * s.outHeight + oh) * s.outWidth + ow] = acc
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
                for oh in 0..<s.outHeight {
                    for ow in 0..<s.outWidth {
                        let v = dy[((n * s.outChannels + co) * s.outHeight + oh) * s.outWidth + ow]
                        for ci in 0..<cig {
                            let c = g * cig + ci
                            for kh in 0..<s.kernelHeight {
                                let ih = oh * s.strideH - s.padTop + kh * s.dilationH
                                if ih < 0 || ih >= s.inHeight { continue }
                                for kw in 0..<s.kernelWidth {
                                    let iw = ow * s.strideW - s.padLeft + kw * s.dilationW
                                    if iw < 0 || iw >= s.inWidth { continue }
                                    let wv = w[((co * cig + ci) * s.kernelHeight + kh) * s.kernelWidth + kw]
                                    dx[((n * s.inChannels + c) * s.inHeight + ih) * s.inWidth + iw] += v * wv
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// dw = sum over batch and output pixels of dy * x-patch: the weight gradient.
    static func weightGradient<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, dy: UnsafePointer<T>,
                                              dw: UnsafeMutablePointer<T>) {
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        for co in 0..<s.outChannels {
            let g = co / cog
            for ci in 0..<cig {
                let c = g * cig + ci
                for kh in 0..<s.kernelHeight {
                    for kw in 0..<s.kernelWidth {
                        var acc: T = 0
                        for n in 0..<s.batch {
                            for oh in 0..<s.outHeight {
                                let ih = oh * s.strideH - s.padTop + kh * s.dilationH
                                if ih < 0 || ih >= s.inHeight { continue }
                                for ow in 0..<s.outWidth {
                                    let iw = ow * s.strideW - s.padLeft + kw * s.dilationW
                                    if iw < 0 || iw >= s.inWidth { continue }
                                    acc += dy[((n * s.outChannels + co) * s.outHeight + oh) * s.outWidth + ow]
                                        * x[((n * s.inChannels + c) * s.inHeight + ih) * s.inWidth + iw]
                                }
                            }
                        }
                        dw[((co * cig + ci) * s.kernelHeight + kh) * s.kernelWidth + kw] = acc
                    }
                }
            }
        }
    }
}
