/// The "direct" formulation: the notebook's sliding-window loops, reorganised so the window
/// slides over whole output rows: for each (input channel, kernel tap) the output plane gets
/// w * (the input plane seen through that tap). The valid output range of each tap is
/// computed once, so the inner loop has no bounds checks. One task per output plane.
enum DirectConvolution {
    static func forward<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>) {
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        ThreadPool.shared.parallelFor(s.batch * s.outChannels) { plane in
            let n = plane / s.outChannels, co = plane % s.outChannels, g = co / cog
            let out = y + plane * s.outPixels
            out.update(repeating: bias?[co] ?? 0, count: s.outPixels)
            for ci in 0..<cig {
                let xPlane = x + (n * s.inChannels + g * cig + ci) * s.inPixels
                for kh in 0..<s.kernelHeight {
                    let rowOffset = kh * s.dilationH - s.padTop
                    let ohRange = validOutputs(offset: rowOffset, stride: s.strideH, inSize: s.inHeight, outSize: s.outHeight)
                    for kw in 0..<s.kernelWidth {
                        let colOffset = kw * s.dilationW - s.padLeft
                        let owRange = validOutputs(offset: colOffset, stride: s.strideW, inSize: s.inWidth, outSize: s.outWidth)
                        if owRange.isEmpty { continue }
                        let wv = w[((co * cig + ci) * s.kernelHeight + kh) * s.kernelWidth + kw]
                        for oh in ohRange {
                            let src = xPlane + (oh * s.strideH + rowOffset) * s.inWidth + colOffset
                            let dst = out + oh * s.outWidth
                            for ow in owRange { dst[ow] += wv * src[ow * s.strideW] }
                        }
                    }
                }
            }
        }
    }

    /// The outputs o in 0..<outSize whose input index o*stride + offset lies in 0..<inSize.
    @inline(__always)
    static func validOutputs(offset: Int, stride: Int, inSize: Int, outSize: Int) -> Range<Int> {
        // smallest o with o*stride + offset >= 0; largest with o*stride + offset <= inSize - 1
        let lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let hiIndex = inSize - 1 - offset
        if hiIndex < 0 { return 0..<0 }
        let hi = min(outSize, hiIndex / stride + 1)
        return lo < hi ? lo..<hi : 0..<0
    }
}
