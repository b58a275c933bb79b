/// The unfolded channels-last input of one group as the GEMM's A operand, never stored:
/// row i = (n, oh, ow) = n * outPixels + oh * outWidth + ow (an output pixel), column
/// p = (kh, kw, ci) = (kh * kernelWidth + kw) * C_in/groups + ci, value
/// x[n, oh*strideH - padTop + kh*dilationH, ow*strideW - padLeft + kw*dilationW, ci] of the
/// (N, H, W, C) input, or 0 where that falls outside it (padding). `x` points at channel 0
/// of the group in pixel 0 of image 0. Planar shapes only (the plan converts 3-D).
///
/// Packing reads channels-last memory as it lies: for one tap, the values of a pixel are a
/// contiguous run of channels, and six pixels of one output row are a fixed stride apart,
/// so a panel is the table's six-stream transpose (`PackKernels.packA6`); panels that
/// cross an output row or the border are packed pixel by pixel, with zeros for padding.
/// With one group and dilation 1 along the width, a kernel row's taps are one run too:
/// (kw, ci) for kw = 0..<kernelWidth lie contiguous in the input row (kernelWidth x C_in
/// values), so the run is the whole kernel row. WHY: the 3-channel stem (7x7 3->64) packed
/// runs of 3 values, 4.5x its channels-first time; a run of 21 is one transpose call.
struct ChannelsLastUnfolded<Scalar: ConvScalar>: GemmOperand {
    let x: UnsafePointer<Scalar>
    let shape: ConvShape

    @inline(__always) func element(_ i: Int, _ p: Int) -> Scalar {
        let s = shape, cig = s.inChannelsPerGroup
        let t = p / cig, ci = p &- t &* cig
        let kh = t / s.kernelWidth, kw = t &- kh &* s.kernelWidth
        let n = i / s.outPixels, q = i &- n &* s.outPixels
        let oh = q / s.outWidth, ow = q &- oh &* s.outWidth
        let ih = oh &* s.strideH &- s.padTop &+ kh &* s.dilationH
        let iw = ow &* s.strideW &- s.padLeft &+ kw &* s.dilationW
        if ih < 0 || ih >= s.inHeight || iw < 0 || iw >= s.inWidth { return 0 }
        return x[((n &* s.inHeight &+ ih) &* s.inWidth &+ iw) &* s.inChannels &+ ci]
    }

    func packA(into dst: UnsafeMutablePointer<Scalar>, rows: Range<Int>, depth: Range<Int>) {
        let s = shape, mr = Gemm.mr
        let cig = s.inChannelsPerGroup, channels = s.inChannels, kW = s.kernelWidth
        let inH = s.inHeight, inW = s.inWidth, imageSize = s.inPixels &* channels
        let kc = depth.count
        if kc <= 0 || cig <= 0 { return }
        let rowRuns = s.dilationW == 1 && cig == channels, rowLength = kW &* cig
        let widthReach = (kW &- 1) &* s.dilationW, pixelStep = s.strideW &* channels
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 4 * mr) { scratch in
            let image = scratch.baseAddress!, ih0 = image + mr, iw0 = image + 2 &* mr, offsets = image + 3 &* mr
            var d = dst, i0 = rows.lowerBound
            while i0 < rows.upperBound {
                let m = min(mr, rows.upperBound &- i0)
                for ii in 0..<m {
                    let i = i0 &+ ii, n = i / s.outPixels, q = i &- n &* s.outPixels
                    let oh = q / s.outWidth, ow = q &- oh &* s.outWidth
                    image[ii] = n &* imageSize
                    ih0[ii] = oh &* s.strideH &- s.padTop
                    iw0[ii] = ow &* s.strideW &- s.padLeft
                }
                // A full panel of one output row whose windows are inside the input's width
                // (most panels): a run is inside wherever its input row is, at a fixed
                // pixel stride: no per-pixel checks.
                var rowPanel = m == mr && iw0[0] >= 0 && iw0[mr &- 1] &+ widthReach < inW
                if rowPanel {
                    for ii in 1..<mr where image[ii] != image[0] || ih0[ii] != ih0[0] || iw0[ii] &- iw0[0] != ii &* s.strideW {
                        rowPanel = false
                    }
                }
                var p = depth.lowerBound
                while p < depth.upperBound {
                    let t = p / cig, ci = p &- t &* cig
                    let kh = t / kW, kw = t &- kh &* kW
                    // The run: to the end of the tap's channels, or of its kernel row.
                    let runEnd = rowRuns ? (kh &+ 1) &* rowLength : (t &+ 1) &* cig
                    let run = min(runEnd, depth.upperBound) &- p
                    let out = d + (p &- depth.lowerBound) &* mr
                    if rowPanel {
                        let ih = ih0[0] &+ kh &* s.dilationH
                        if ih >= 0 && ih < inH {
                            let off = image[0] &+ (ih &* inW &+ iw0[0] &+ kw &* s.dilationW) &* channels &+ ci
                            PackKernels.packA6(out, x + off, rowStride: pixelStep, count: run)
                            p &+= run
                            continue
                        }
                    }
                    let lastKw = (p &+ run &- 1) / cig &- kh &* kW
                    var inside = m == mr
                    for ii in 0..<mr {
                        var off = -1
                        if ii < m {
                            let ih = ih0[ii] &+ kh &* s.dilationH, iw = iw0[ii] &+ kw &* s.dilationW
                            if ih >= 0 && ih < inH && iw >= 0 && iw0[ii] &+ lastKw &* s.dilationW < inW {
                                off = image[ii] &+ (ih &* inW &+ iw) &* channels &+ ci
                            }
                        }
                        offsets[ii] = off
                        if off < 0 { inside = false }
                    }
                    let delta = offsets[1] &- offsets[0]
                    if inside && delta > 0 {
                        for ii in 2..<mr where offsets[ii] &- offsets[0] != ii &* delta { inside = false }
                    }
                    if inside && delta > 0 {
                        PackKernels.packA6(out, x + offsets[0], rowStride: delta, count: run)
                    } else {
                        for ii in 0..<mr {
                            let off = offsets[ii]
                            if off >= 0 {
                                let src = x + off
                                for c in 0..<run { out[c &* mr &+ ii] = src[c] }
                                continue
                            }
                            // Part of the run (or all of it) in the padding: tap by tap.
                            var q = p
                            while q < p &+ run {
                                let tq = q / cig, cq = q &- tq &* cig, r = min(cig &- cq, p &+ run &- q)
                                let ih = ih0[ii] &+ kh &* s.dilationH, iw = iw0[ii] &+ (tq &- kh &* kW) &* s.dilationW
                                let o = out + ((q &- p) &* mr &+ ii)
                                if ii < m && ih >= 0 && ih < inH && iw >= 0 && iw < inW {
                                    let src = x + (image[ii] &+ (ih &* inW &+ iw) &* channels &+ cq)
                                    for c in 0..<r { o[c &* mr] = src[c] }
                                } else {
                                    for c in 0..<r { o[c &* mr] = 0 }
                                }
                                q &+= r
                            }
                        }
                    }
                    p &+= run
                }
                d += kc &* mr; i0 &+= mr
            }
        }
    }
}

/// The weights of a channels-last convolution as the GEMM's B operand of every group,
/// packed once per call: B_g[(kh, kw, ci), co] = w[g * C_out/g + co, ci, kh, kw], in panels
/// of `nr` columns (16 Floats, 8 Doubles; the GEMM's B format: B(p, j) at p * nr + j of its
/// panel, columns past C_out/g zero). The GEMM then copies contiguous panel rows instead of
/// gathering the (C_out, C_in/g, kh, kw) weights once per task.
final class ChannelsLastWeights<Scalar: ConvScalar> {
    let shape: ConvShape
    let nr: Int
    /// Panels per group: ceil(C_out/g / nr).
    let panelsPerGroup: Int
    let panels: UnsafeMutablePointer<Scalar>

    /// Packs `w` (C-contiguous (C_out, C_in/g, *kernel)) for `shape`; nil when the memory
    /// cannot be had (never a trap).
    init?(_ w: UnsafePointer<Scalar>, shape s: ConvShape) {
        shape = s
        nr = Gemm.nr(Scalar.self)
        let cog = s.outChannelsPerGroup, cig = s.inChannelsPerGroup, taps = s.kernelTaps, patch = s.patchSize
        panelsPerGroup = (cog + nr - 1) / nr
        guard let count = try? Checked.product([s.groups, panelsPerGroup, nr, max(patch, 1)], ""),
              let bytes = try? Checked.mul(max(count, 1), MemoryLayout<Scalar>.stride, ""),
              let buffer = AlignedMemory.allocate(bytes: bytes) else { return nil }
        panels = buffer.bindMemory(to: Scalar.self, capacity: max(count, 1))
        let nr = self.nr, panelCount = s.groups * panelsPerGroup
        // A full panel with one tap is a plain transpose of nr weight rows (the table's
        // register transpose); with several taps each row is first reordered from (ci, t)
        // to (t, ci) into a scratch of nr rows (reads within one row, sequential writes),
        // then transposed the same way. Partial panels go element by element.
        let scratch = taps > 1 ? AlignedMemory.allocate(bytes: nr * max(patch, 1) * MemoryLayout<Scalar>.stride) : nil
        if taps > 1 && scratch == nil { return nil }  // (deinit releases the panels)
        defer { if let scratch { AlignedMemory.release(scratch) } }
        let rows = scratch?.bindMemory(to: Scalar.self, capacity: nr * max(patch, 1))
        for q in 0..<panelCount {
            let g = q / panelsPerGroup, j = q - g * panelsPerGroup
            let co0 = g * cog + j * nr, width = min(nr, cog - j * nr)
            let dst = panels + q * patch * nr, src = w + co0 * patch
            if width == nr {
                if let rows {
                    for jj in 0..<nr {
                        let row = src + jj &* patch, out = rows + jj &* patch
                        for t in 0..<taps {
                            let o = out + t &* cig
                            for ci in 0..<cig { o[ci] = row[ci &* taps &+ t] }
                        }
                    }
                    PackKernels.transposeTile(dst, UnsafePointer(rows), srcStride: patch, count: patch, nr: nr)
                } else {
                    PackKernels.transposeTile(dst, src, srcStride: patch, count: patch, nr: nr)
                }
                continue
            }
            for p in 0..<patch { for jj in width..<nr { dst[p &* nr &+ jj] = 0 } }
            for jj in 0..<width {
                let row = src + jj &* patch
                for ci in 0..<cig {
                    for t in 0..<taps { dst[(t &* cig &+ ci) &* nr &+ jj] = row[ci &* taps &+ t] }
                }
            }
        }
    }

    deinit { AlignedMemory.release(UnsafeMutableRawPointer(panels)) }

    /// Bytes of the packed panels.
    var byteCount: Int { shape.groups * panelsPerGroup * nr * shape.patchSize * MemoryLayout<Scalar>.stride }

    /// Group g's B operand.
    func operand(group g: Int) -> PackedColumnPanels<Scalar> {
        PackedColumnPanels(panels: UnsafePointer(panels + g * panelsPerGroup * shape.patchSize * nr), depth: shape.patchSize, nr: nr)
    }
}

/// A B operand already in the GEMM's column-panel format (`ChannelsLastWeights`): packing a
/// block is a contiguous copy of each panel's rows.
struct PackedColumnPanels<Scalar: ConvScalar>: GemmOperand {
    let panels: UnsafePointer<Scalar>
    let depth: Int
    let nr: Int

    @inline(__always) func element(_ p: Int, _ j: Int) -> Scalar {
        let q = j / nr
        return panels[(q &* depth &+ p) &* nr &+ (j &- q &* nr)]
    }

    func packB(into dst: UnsafeMutablePointer<Scalar>, depth rows: Range<Int>, cols: Range<Int>, nr: Int) {
        guard nr == self.nr, cols.lowerBound % nr == 0 else {
            // Not on the panel grid (no caller does this): element by element.
            let kc = rows.count
            var d = dst, j0 = cols.lowerBound
            while j0 < cols.upperBound {
                let w = min(nr, cols.upperBound - j0)
                for p in 0..<kc { for jj in 0..<nr { d[p &* nr &+ jj] = jj < w ? element(rows.lowerBound &+ p, j0 &+ jj) : 0 } }
                d += kc &* nr; j0 += nr
            }
            return
        }
        let kc = rows.count
        var d = dst, j0 = cols.lowerBound
        while j0 < cols.upperBound {
            // Columns past the operand's width are zero in its last panel already.
            d.update(from: panels + (j0 / nr &* depth &+ rows.lowerBound) &* nr, count: kc &* nr)
            d += kc &* nr; j0 += nr
        }
    }
}

extension ChannelsLastUnfolded {
    /// Packs B(pixels, (kh, kw, ci)) = the unfolded input with its rows as the GEMM's depth
    /// (the weight gradient: dW_g = dy_g^T x unfold(x_g)): per pixel, each panel's columns
    /// are runs of contiguous channels of one tap (zeros where the tap falls in the padding).
    func packB(into dst: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>, nr: Int) {
        let s = shape, cig = s.inChannelsPerGroup, channels = s.inChannels, kW = s.kernelWidth
        let inH = s.inHeight, inW = s.inWidth, imageSize = s.inPixels &* channels
        let kc = depth.count
        if kc <= 0 || cig <= 0 { return }
        var d = dst, j0 = cols.lowerBound
        while j0 < cols.upperBound {
            let width = min(nr, cols.upperBound &- j0)
            if width == nr && cig % nr == 0 && nr &* MemoryLayout<Scalar>.stride == 64 {
                packWholePanel(into: d, depth: depth, firstColumn: j0)
                d += kc &* nr; j0 &+= nr
                continue
            }
            for q in 0..<kc {
                let i = depth.lowerBound &+ q, n = i / s.outPixels, r = i &- n &* s.outPixels
                let oh = r / s.outWidth, ow = r &- oh &* s.outWidth
                let base = n &* imageSize, ih0 = oh &* s.strideH &- s.padTop, iw0 = ow &* s.strideW &- s.padLeft
                let out = d + q &* nr
                var j = j0
                while j < j0 &+ width {
                    let t = j / cig, ci = j &- t &* cig, run = min(cig &- ci, j0 &+ width &- j)
                    let kh = t / kW, kw = t &- kh &* kW
                    let ih = ih0 &+ kh &* s.dilationH, iw = iw0 &+ kw &* s.dilationW
                    let o = out + (j &- j0)
                    if ih >= 0 && ih < inH && iw >= 0 && iw < inW {
                        let src = x + (base &+ (ih &* inW &+ iw) &* channels &+ ci)
                        for c in 0..<run { o[c] = src[c] }
                    } else {
                        for c in 0..<run { o[c] = 0 }
                    }
                    j &+= run
                }
                for jj in width..<nr { out[jj] = 0 }
            }
            d += kc &* nr; j0 &+= nr
        }
    }

    /// One full panel whose columns lie in one tap (C_in/g a multiple of the panel width):
    /// per pixel one 64-byte copy (or zeros in the padding), the pixel's place stepped along
    /// the rows instead of divided out. WHY: the general loop's divisions and run-length
    /// copies per pixel made B's packing a quarter of 3x3 1024->512 14x14 N8's grad_weight.
    @inline(__always)
    private func packWholePanel(into d: UnsafeMutablePointer<Scalar>, depth: Range<Int>, firstColumn j0: Int) {
        let s = shape, cig = s.inChannelsPerGroup, channels = s.inChannels, kW = s.kernelWidth, nr = 64 / MemoryLayout<Scalar>.stride
        let inH = s.inHeight, inW = s.inWidth, imageSize = s.inPixels &* channels
        let t = j0 / cig, ci = j0 &- t &* cig, kh = t / kW, kw = t &- kh &* kW
        let dh = kh &* s.dilationH &- s.padTop, dwOffset = kw &* s.dilationW &- s.padLeft
        let first = depth.lowerBound
        var n = first / s.outPixels
        let r = first &- n &* s.outPixels
        var oh = r / s.outWidth, ow = r &- oh &* s.outWidth
        for q in 0..<depth.count {
            let ih = oh &* s.strideH &+ dh, iw = ow &* s.strideW &+ dwOffset
            let out = d + q &* nr
            if ih >= 0 && ih < inH && iw >= 0 && iw < inW {
                copyPanelRow(out, x + (n &* imageSize &+ (ih &* inW &+ iw) &* channels &+ ci))
            } else {
                out.update(repeating: 0, count: nr)
            }
            ow &+= 1
            if ow == s.outWidth {
                ow = 0; oh &+= 1
                if oh == s.outHeight { oh = 0; n &+= 1 }
            }
        }
    }
}
