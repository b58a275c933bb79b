/// The unfolded (im2col) input of one group of a convolution whose input is padded by a
/// padding mode (reflect, replicate, circular), read from the unpadded input through the
/// border's index maps: the B operand of `Im2colConvolution.forward(_:border:...)`, so the
/// padded input is never materialised. Its values are exactly those of `UnfoldedInput` on
/// the padded copy (`BorderPadding.pad`), element for element, so the GEMM's result is the
/// same bits.
///
/// `shape` is the convolution of the padded input (no padding of its own, every window
/// inside it: ConvGeometry's shape); padded row ph and column pw read the input element
/// (rows[ph], columns[pw]) of the plane. Row (ci, kh, kw) = ci * taps + kh * kW + kw,
/// column j = n * outPixels + oh * outWidth + ow, as UnfoldedInput.
struct BorderedUnfoldedInput<Scalar: ConvScalar>: GemmOperand {
    /// Channel 0 of the group in image 0 of the unpadded input.
    let x: UnsafePointer<Scalar>
    let shape: ConvShape
    /// Padded row -> input row.
    let rows: UnsafePointer<Int>
    /// Padded column -> input column.
    let columns: UnsafePointer<Int>
    /// The unpadded plane: height, width, and the padding before it (top, left).
    let height: Int, width: Int, top: Int, left: Int
    /// Elements from one image to the next (0 when the columns stay in one image).
    let imageStride: Int

    @inline(__always) func element(_ r: Int, _ j: Int) -> Scalar {
        let s = shape, taps = s.kernelTaps
        let ci = r / taps, t = r - ci * taps
        let kh = t / s.kernelWidth, kw = t - kh * s.kernelWidth
        let n = j / s.outPixels, p = j - n * s.outPixels
        let oh = p / s.outWidth, ow = p - oh * s.outWidth
        let ph = oh &* s.strideH &+ kh &* s.dilationH, pw = ow &* s.strideW &+ kw &* s.dilationW
        return x[n &* imageStride &+ ci &* height &* width &+ rows[ph] &* width &+ columns[pw]]
    }

    /// Packs B panels. A panel inside one output row whose windows all lie in the input's
    /// interior is a gather of 64-byte rows (as UnfoldedInput's on a padded copy); the others
    /// run by output-row segments: per packed row, the input row comes from the row map, and
    /// the columns are a plain copy where they are interior, else read through the column map.
    func packB(into dst: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>, nr: Int) {
        let kc = depth.count
        if kc == 0 || cols.isEmpty { return }
        let s = shape, outW = s.outWidth, outH = s.outHeight, pixels = s.outPixels
        let sH = s.strideH, sW = s.strideW, dH = s.dilationH, dW = s.dilationW
        let kH = s.kernelHeight, kW = s.kernelWidth, taps = s.kernelTaps
        let height = height, width = width, top = top, left = left, plane = height &* width
        let ci0 = depth.lowerBound / taps, t0 = depth.lowerBound - ci0 * taps
        let kh0 = t0 / kW, kw0 = t0 - kh0 * kW
        var n = cols.lowerBound / pixels
        var oh = (cols.lowerBound - n * pixels) / outW
        var ow = cols.lowerBound - n * pixels - oh * outW
        // Unit or double column stride: interior panels take the gather (offsets in the input).
        let fast = (sW == 1 || sW == 2) && outW >= nr && cols.count >= nr
        let ihSpan = (kH &- 1) &* dH, iwSpan = (kW &- 1) &* dW &+ (sW == 1 ? nr : 2 &* nr)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: fast ? kc : 1) { offsets in
            if fast {
                s.unfoldedRowOffsets(depth, plane: plane, width: width, into: offsets.baseAddress!)
            }
            var d = dst, j0 = cols.lowerBound
            while j0 < cols.upperBound {
                let w = min(nr, cols.upperBound &- j0)
                let ph0 = oh &* sH, pw0 = ow &* sW
                if fast && w == nr && outW &- ow >= nr && ph0 >= top && ph0 &+ ihSpan < top &+ height
                    && pw0 >= left && pw0 &+ iwSpan <= left &+ width {
                    let base = x + (n &* imageStride &+ (ph0 &- top) &* width &+ (pw0 &- left))
                    if sW == 1 {
                        PackKernels.gatherRows(d, base, offsets.baseAddress!, count: kc)
                    } else {
                        PackKernels.gatherRowsStride2(d, base, offsets.baseAddress!, count: kc, odd: false)
                    }
                } else {
                    if w < nr {
                        for p in 0..<kc { for jj in w..<nr { d[p &* nr &+ jj] = 0 } }
                    }
                    var t = 0, segOh = oh, segOw = ow, segN = n
                    while t < w {
                        let len = min(w &- t, outW &- segOw)
                        let ph = segOh &* sH, pw = segOw &* sW
                        let image = x + segN &* imageStride
                        var ci = ci0, kh = kh0, kw = kw0
                        for p in 0..<kc {
                            let row = image + (ci &* plane &+ rows[ph &+ kh &* dH] &* width)
                            let start = pw &+ kw &* dW, out = d + (p &* nr &+ t)
                            if sW == 1 && start >= left && start &+ len <= left &+ width {
                                if len == nr {
                                    copyPanelRow(out, row + (start &- left))
                                } else {
                                    (out).update(from: row + (start &- left), count: len)
                                }
                            } else if sW == 2 && len == nr && start >= left && start &+ 2 &* nr <= left &+ width {
                                gatherPanelRowStride2(out, row + (start &- left))
                            } else {
                                for u in 0..<len { out[u] = row[columns[start &+ u &* sW]] }
                            }
                            nextTap(&ci, &kh, &kw, kH, kW)
                        }
                        t &+= len
                        advanceColumns(len, &segN, &segOh, &segOw, outH, outW)
                    }
                }
                d += kc &* nr; j0 &+= nr
                advanceColumns(nr, &n, &oh, &ow, outH, outW)
            }
        }
    }
}

/// The next row (ci, kh, kw) of an unfolded matrix: kw fastest.
@inline(__always)
private func nextTap(_ ci: inout Int, _ kh: inout Int, _ kw: inout Int, _ kH: Int, _ kW: Int) {
    kw &+= 1
    if kw == kW { kw = 0; kh &+= 1; if kh == kH { kh = 0; ci &+= 1 } }
}

/// Moves the column position (image n, output row oh, output column ow) `by` columns on.
@inline(__always)
private func advanceColumns(_ by: Int, _ n: inout Int, _ oh: inout Int, _ ow: inout Int, _ outH: Int, _ outW: Int) {
    ow &+= by
    while ow >= outW { ow &-= outW; oh &+= 1; if oh == outH { oh = 0; n &+= 1 } }
}
