/// dx = conv^T(dy, w) on channels-last dy and dx where the windows do not overlap
/// (`ConvShape.hasDisjointWindows`: U-Net's 2x2 stride-2 up-convolutions): each dx pixel is
/// one tap (kh, kw) of one dy pixel, so per tap dx is a 1x1 product,
/// dx[n, oh * kH + kh, ow * kW + kw, ci] = (bias[ci] +) sum_co dy[n, oh, ow, co] * w[co, ci, kh, kw],
/// per group. For one dy row (n, oh) and one tap that is a GEMM of outW rows: A = the dy
/// row's pixels read in place (C_out apart), B = the tap's (C_out/g x C_in/g) weights packed
/// once per call in the GEMM's column panels, C = the dx pixels
/// (oh * kH + kh, ow * kW + kw), kW * C_in apart: written in place, no col2im, no scatter.
///
/// WHY: the channels-last plan converted these layers (dy transposed to channels-first, the
/// scatter kernel, dx transposed back: two passes over the activations, about 0.5 ns per
/// element, the larger one over 4x the input). Every GEMM call copies the tap's packed weights
/// into its B blocks, so rows of few pixels lose: where it runs, with the measured table,
/// `KernelSelector.disjointWindowsGemmShape`.
///
/// Bits: every dx element is its bias (or 0) plus one GEMM sum over co in a fixed order,
/// written by one task: the same for every thread count. Pixels in no window (output_padding)
/// are the bias or 0.
extension ChannelsLastConvolution {
    static func adjointOfDisjointWindows<T: ConvScalar>(_ s: ConvShape, dy: UnsafePointer<T>, w: UnsafePointer<T>,
                                                        bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>) throws {
        let groups = s.groups, cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        let cin = s.inChannels, cout = s.outChannels, taps = s.kernelTaps, kH = s.kernelHeight, kW = s.kernelWidth
        let outH = s.outHeight, outW = s.outWidth, inH = s.inHeight, inW = s.inWidth
        // Per group and tap, B[co, ci] = w[g * cog + co, ci, kh, kw] in the GEMM's column
        // panels of nr (`PackedColumnPanels`; columns past C_in/g zero), packed straight from w
        // (each weight row read in order: a gather across rows missed the cache on large kernels).
        let nr = Gemm.nr(T.self), panelsPerGroup = (cig + nr - 1) / nr, panelBlock = cog * nr
        let perTap = panelsPerGroup * panelBlock
        let packed = try Workspace<T>(count: max(1, groups * taps * perTap), for: "the per-tap weights of a transposed conv")
        let panels = packed.pointer
        panels.update(repeating: 0, count: max(1, groups * taps * perTap))
        for g in 0..<groups {
            for co in 0..<cog {
                let row = w + (g * cog + co) * cig * taps
                for ci in 0..<cig {
                    let q = ci / nr, at = panels + (g * taps * perTap + q * panelBlock + co * nr + ci - q * nr)
                    for t in 0..<taps { at[t &* perTap] = row[ci &* taps &+ t] }
                }
            }
        }
        func operand(_ g: Int, _ t: Int) -> PackedColumnPanels<T> {
            PackedColumnPanels(panels: UnsafePointer(panels + (g * taps + t) * perTap), depth: cog, nr: nr)
        }
        let lines = s.batch * outH, coveredW = outW * kW
        func fill(_ row: UnsafeMutablePointer<T>, pixels: Int) {
            for p in 0..<pixels {
                if let bias { (row + p * cin).update(from: bias, count: cin) } else { (row + p * cin).update(repeating: 0, count: cin) }
            }
        }
        // One task per (group, dy row): the kH dx rows of its windows (and, for the last dy
        // row of an image, the rows below the windows: output_padding).
        ThreadPool.shared.parallelFor(groups * lines, work: s.macs) { task in
            let g = task / lines, line = task - g * lines, n = line / outH, oh = line - n * outH
            let a = InPlaceWeights(base: dy + (line * outW * cout + g * cog), lda: cout)
            for kh in 0..<kH {
                let rowStart = dx + ((n * inH + oh * kH + kh) * inW * cin)
                if g == 0 { fill(rowStart + coveredW * cin, pixels: inW - coveredW) }
                if let bias {
                    for p in 0..<coveredW { (rowStart + (p * cin + g * cig)).update(from: bias + g * cig, count: cig) }
                }
                for kw in 0..<kW {
                    Gemm.multiply(a, operand(g, kh * kW + kw), rows: 0..<outW, cols: 0..<cig, depth: cog,
                                  c: rowStart + (kw * cin + g * cig), ldc: kW * cin, accumulate: bias != nil)
                }
            }
            if g == 0 && oh == outH - 1 {
                for ih in (outH * kH)..<inH { fill(dx + (n * inH + ih) * inW * cin, pixels: inW) }
            }
        }
    }
}
