extension ConvShape {
    /// Where the unfolded (im2col) rows `rows` read, relative to each window's origin, in an
    /// input of planes `plane` elements apart with rows `width` apart: row (ci, kh, kw) =
    /// ci * taps + kh * kernelWidth + kw (kw fastest) reads channel ci at (kh * dilationH,
    /// kw * dilationW) from the origin. Written to `offsets[0 ..< rows.count]`. The one place
    /// this rule lives for the operands that read the input through such a table (the packed
    /// unfolded input, its bordered variant, the padded-width grid read in place, and, with
    /// `phases`, the stride phases of a strided convolution).
    ///
    /// With `phases` (planes of `phases.plane` elements, rows `phases.width` apart: the
    /// arguments `plane` and `width` are ignored), the window's offset (dy, dx) reads phase
    /// (dy mod sH, dx mod sW) at (dy / sH, dx / sW) from the origin on the phase grid.
    @inline(__always)
    func unfoldedRowOffsets(_ rows: Range<Int>, plane: Int, width: Int, phases: StridePhases? = nil,
                            into offsets: UnsafeMutablePointer<Int>) {
        let kH = kernelHeight, kW = kernelWidth, taps = kernelTaps, dH = dilationH, dW = dilationW
        // Per axis: stride, and the strides of a phase step and of a phase-grid step.
        let sH = phases?.strideH ?? 1, sW = phases?.strideW ?? 1
        let channel = phases?.channelStride ?? plane, rowStep = phases?.width ?? width
        let phaseRow = (phases?.plane ?? 0) &* sW, phaseColumn = phases?.plane ?? 0
        @inline(__always) func along(_ d: Int, _ s: Int, _ step: Int, _ phaseStep: Int) -> Int {
            s == 1 ? d &* step : d / s &* step &+ d % s &* phaseStep
        }
        var ci = rows.lowerBound / taps
        let t = rows.lowerBound - ci * taps
        var kh = t / kW, kw = t - kh * kW
        var rowOffset = along(kh &* dH, sH, rowStep, phaseRow)
        for p in 0..<rows.count {
            offsets[p] = ci &* channel &+ rowOffset &+ along(kw &* dW, sW, 1, phaseColumn)
            kw &+= 1
            if kw == kW {
                kw = 0; kh &+= 1
                if kh == kH { kh = 0; ci &+= 1 }
                rowOffset = along(kh &* dH, sH, rowStep, phaseRow)
            }
        }
    }
}
