/// The "upsample" formulation of the transposed convolution: insert stride-1 zeros between
/// dy pixels, pad by dilation*(k-1) - padding on each side (a negative amount crops), and run
/// an ordinary stride-1 convolution with the kernel flipped in both axes and regrouped from
/// (C_in, C_out/groups) to (C_out, C_in/groups) per group.
enum UpsampleAdjoint {
    /// The stride-1 convolution over the zero-inserted dy that equals conv^T(dy, w) for `s`,
    /// or nil when the zero-inserted dy would have more elements than an Int can count
    /// (a huge stride: this formulation is then impossible, not a reason to trap).
    static func equivalentConvolution(_ s: ConvShape) -> ConvShape? {
        func upsampled(_ size: Int, _ stride: Int) -> Int? {
            let (a, o) = max(size - 1, 0).multipliedReportingOverflow(by: stride)
            return o || a == Int.max ? nil : a + 1
        }
        guard let h = upsampled(s.outHeight, s.strideH), let w = upsampled(s.outWidth, s.strideW),
              (try? Checked.product([s.batch, s.outChannels, h, w, 8], "")) != nil else { return nil }
        // dilation*(k-1) was overflow-checked by ConvGeometry; padding is non-negative.
        return ConvShape(batch: s.batch, groups: s.groups, inChannels: s.outChannels, outChannels: s.inChannels,
                         inHeight: h, inWidth: w, outHeight: s.inHeight, outWidth: s.inWidth,
                         kernelHeight: s.kernelHeight, kernelWidth: s.kernelWidth,
                         dilationH: s.dilationH, dilationW: s.dilationW,
                         padTop: s.dilationH * (s.kernelHeight - 1) - s.padTop,
                         padLeft: s.dilationW * (s.kernelWidth - 1) - s.padLeft)
    }

    /// Whether "auto" may use this formulation: always with stride 1 (nothing is inserted),
    /// otherwise only while the zero-inserted dy stays within a few times the size of the
    /// arrays the call reads and writes anyway (a huge stride with a large padding could
    /// otherwise ask for gigabytes to produce a handful of outputs).
    static func isAffordable(_ s: ConvShape) -> Bool {
        if s.strideH == 1 && s.strideW == 1 { return true }
        guard let c = equivalentConvolution(s) else { return false }
        return c.inputCount <= 4 * (s.inputCount + s.outputCount) + 65_536
    }

    /// `packed`: the flipped kernel of every group packed ahead (`PackedWeights` made for the
    /// adjoint), or nil; used by the im2col inner kernel only.
    static func adjoint<T: ConvScalar>(_ s: ConvShape, dy: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>,
                                       forward: ForwardKernel, schedule: Im2colConvolution.Schedule? = nil,
                                       packed: [PackedMatrix<T>]? = nil) throws {
        if s.outPixels == 0 || s.batch == 0 {
            // Nothing to upsample: the result is the bias alone.
            for n in 0..<s.batch { fillRows(dx + n * s.inChannels * s.inPixels, rows: s.inChannels, cols: s.inPixels, ld: s.inPixels, values: bias) }
            return
        }
        guard let c = equivalentConvolution(s) else {
            throw ConvError.outOfMemory("conv_transpose2d: the 'upsample' algorithm's zero-inserted input is too large to count for stride (\(s.strideH), \(s.strideW)); use 'scatter'")
        }
        // Zero-inserted dy (with stride 1 there is nothing to insert: use dy as it is).
        let strided = s.strideH != 1 || s.strideW != 1
        let upsampled = try Workspace<T>(count: strided ? c.inputCount : 0, for: "the zero-inserted input")
        let up = upsampled.pointer
        if strided {
            up.initialize(repeating: 0, count: c.inputCount)
            for plane in 0..<(s.batch * s.outChannels) {
                let src = dy + plane * s.outPixels, dst = up + plane * c.inPixels
                for oh in 0..<s.outHeight {
                    for ow in 0..<s.outWidth {
                        dst[oh * s.strideH * c.inWidth + ow * s.strideW] = src[oh * s.outWidth + ow]
                    }
                }
            }
        }
        let x = strided ? UnsafePointer(up) : dy
        if forward == .im2col && KernelSelector.onePixel(c) {
            // A 1x1 plane: W^T dy on the weights in place, in the GEMM's order (same bits).
            return OnePixelConvolution.adjoint(s, dy: x, w: w, bias: bias, dx: dx)
        }
        // The GEMM reads the flipped, regrouped kernel in place (or packed ahead).
        let flippedGemm = {
            let cig = s.inChannelsPerGroup, groupStride = s.outChannelsPerGroup * cig * s.kernelTaps, taps = s.kernelTaps
            Im2colConvolution.forward(c, x: x, weights: { g in FlippedKernel(base: w + g * groupStride, cig: cig, taps: taps) },
                                      bias: bias, y: dx, packed: packed, schedule: schedule)
        }
        if forward == .im2col { return flippedGemm() }
        if forward == .blocked && !strided {
            // The channel-blocked conv packs the flipped kernel into its own panels (the GEMM
            // where it does not run).
            return ChannelBlockedAdjoint.adjoint(s, dy: x, w: w, bias: bias, dx: dx, otherwise: flippedGemm)
        }
        let regrouped = try Workspace<T>(count: c.weightCount, for: "the flipped kernel")
        flippedKernel(s, w: w, into: regrouped.pointer)
        ConvKernels.forward(forward, c, x: x, w: UnsafePointer(regrouped.pointer), bias: bias, y: dx, schedule: schedule)
    }

    /// The flipped, regrouped kernel as an array, for the kernels that read weights unpacked
    /// (direct, reference): wc[g*cig + i, o, kh, kw] = w[g*cog + o, i, K-1-kh, K-1-kw].
    static func flippedKernel<T: ConvScalar>(_ s: ConvShape, w: UnsafePointer<T>, into wc: UnsafeMutablePointer<T>) {
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        // Flipping both axes reverses the kH * kW taps: tap t of wc is tap taps-1-t of w.
        let taps = s.kernelTaps
        // A transpose of (o, i) per group, in blocks of `block` x `block` channel pairs so that
        // both sides stay in cache (row by row, one side strides by C_in x taps). Measured on
        // the channels-last grad_input of 1x1 convs on 7x7 (the call copies the kernel so),
        // one thread: 512->2048 1.19 -> 1.12 ms, 2048->512 1.24 -> 1.14 ms.
        let block = 16
        for g in 0..<s.groups {
            for i0 in stride(from: 0, to: cig, by: block) {
                for o0 in stride(from: 0, to: cog, by: block) {
                    for i in i0..<min(cig, i0 + block) {
                        for o in o0..<min(cog, o0 + block) {
                            let dst = wc + ((g * cig + i) * cog + o) * taps
                            let src = w + ((g * cog + o) * cig + i) * taps + (taps - 1)
                            for t in 0..<taps { dst[t] = src[-t] }
                        }
                    }
                }
            }
        }
    }
}
