extension ConvShape {
    /// Where the unfolded (im2col) rows `rows` read, relative to each window's origin, in an
    /// input of planes `plane` elements apart with rows `width` apart: row (ci, kh, kw) =
    /// ci * taps + kh * kernelWidth + kw (kw fastest) reads channel ci at (kh * dilationH,
    /// kw * dilationW) from the origin. Written to `offsets[0 ..< rows.count]`. The one place
    /// this rule lives for the operands that read the input through such a table (the packed
    /// unfolded input, its bordered variant, and the padded-width grid read in place).
    @inline(__always)
    func unfoldedRowOffsets(_ rows: Range<Int>, plane: Int, width: Int, into offsets: UnsafeMutablePointer<Int>) {
        let kH = kernelHeight, kW = kernelWidth, taps = kernelTaps, dH = dilationH, dW = dilationW
        var ci = rows.lowerBound / taps
        let t = rows.lowerBound - ci * taps
        var kh = t / kW, kw = t - kh * kW
        for p in 0..<rows.count {
            offsets[p] = ci &* plane &+ kh &* dH &* width &+ kw &* dW
            kw &+= 1
            if kw == kW { kw = 0; kh &+= 1; if kh == kH { kh = 0; ci &+= 1 } }
        }
    }
}
