/// The A operands of the phases of a transposed convolution (`PhaseAdjoint`): for phase p
/// and a group with w_g = w + g * cog * cig * taps (w of shape (C_out, C_in/g, kH, kW)),
/// A_p(i, o * J_p + t) = w_g[o, i, tapIndex[p][t]]: row i is an input channel of the group
/// (an output channel of the transposed conv), the depth runs over (output channel, phase
/// tap), and `tapIndex[p]` lists the kernel offsets kh * kW + kw of the phase's J_p taps in
/// the order its convolution reads them (`PhaseAxis.topTap`: largest first).
///
/// All phases are packed in one sweep over the weights: per output channel, the six rows of
/// a panel are one contiguous block of 6 x taps weights (w_g[o, i0 ..< i0 + 6, :]), turned
/// into six-element tap columns by the table's panel transpose (`PackKernels.packA6`), each
/// of which goes to the phase that owns the tap (`sweep`; B panels alike). (Packing each phase on its own read the
/// weights with a stride of C_in/g x taps and one scalar at a time: 56% of dcgan's
/// 512->256 layer.)
struct PhaseKernels {
    let cig: Int
    let cog: Int
    /// kH * kW of the whole kernel.
    let taps: Int
    /// Kernel offsets of each phase's taps, in depth order (empty: a phase without taps).
    let tapIndex: [[Int]]

    init(_ s: ConvShape, _ phases: PhaseDecomposition) {
        cig = s.inChannelsPerGroup
        cog = s.outChannelsPerGroup
        taps = s.kernelTaps
        tapIndex = (0..<phases.count).map { p in
            let (r, c) = phases.axes(p)
            var index: [Int] = []
            for th in 0..<r.taps {
                for tw in 0..<c.taps { index.append((r.topTap - th * r.tapStep) * s.kernelWidth + (c.topTap - tw * c.tapStep)) }
            }
            return index
        }
    }

    /// Depth of phase p's whole A (all output channels of the group).
    func depth(_ p: Int) -> Int { cog * tapIndex[p].count }

    /// A_p(i, d) for every phase p, the element definition (for tests).
    func element<T: ConvScalar>(_ wg: UnsafePointer<T>, phase p: Int, _ i: Int, _ d: Int) -> T {
        let j = tapIndex[p].count, o = d / j
        return wg[(o * cig + i) * taps + tapIndex[p][d - o * j]]
    }

    /// Packs rows `rows` and output channels `channels` of every phase's A from the group's
    /// weights `wg`: phase p's panel q (rows rows.lowerBound + 6q ..< + 6) at dst[p] +
    /// q * panelStride[p], depth row (o - channels.lowerBound) * J_p + t of it at + that * 6
    /// (rows past the end zero). Phases without taps are skipped (their dst is not read).
    func pack<T: ConvScalar>(_ wg: UnsafePointer<T>, rows: Range<Int>, channels: Range<Int>,
                             into dst: [UnsafeMutablePointer<T>], panelStride: [Int]) {
        sweep(wg, lanes: Gemm.mr, rows, channels: channels, into: dst, panelStride: panelStride)
    }

    /// The same kernels as B panels (the GEMM run transposed, `PhaseAdjoint.fewPixels`):
    /// phase p's B(o * J_p + t, i) = w_g[o, i, tapIndex[p][t]] for input channels `columns`
    /// (panels of nr: panel b at dst[p] + b * panelStride[p], depth row (o -
    /// channels.lowerBound) * J_p + t of it at + that * nr; columns past the end zero).
    func packPanels<T: ConvScalar>(_ wg: UnsafePointer<T>, columns: Range<Int>, channels: Range<Int>, nr: Int,
                                   into dst: [UnsafeMutablePointer<T>], panelStride: [Int]) {
        sweep(wg, lanes: nr, columns, channels: channels, into: dst, panelStride: panelStride)
    }

    /// Both packings: per output channel o and block of `lanes` input channels (6: A
    /// panels; nr: B panels), the lanes x taps weights w_g[o, i0 ..< i0 + lanes, :] become
    /// tap-major lane rows (the table's six-row transpose, or its nr x nr register
    /// transpose), and each tap's row goes to the phase that owns it.
    private func sweep<T: ConvScalar>(_ wg: UnsafePointer<T>, lanes: Int, _ range: Range<Int>, channels: Range<Int>,
                                      into dst: [UnsafeMutablePointer<T>], panelStride: [Int]) {
        if range.isEmpty || channels.isEmpty { return }
        let taps = self.taps, cig = self.cig
        // Per phase with taps: its tap count, its first tap in `flat`, its panel stride; and
        // its destination, as plain integers and pointers for the inner loop.
        var flat: [Int] = [], table: [Int] = []
        var targets: [UnsafeMutablePointer<T>] = []
        for (p, list) in tapIndex.enumerated() where !list.isEmpty {
            table += [list.count, flat.count, panelStride[p]]
            targets.append(dst[p])
            flat += list
        }
        let active = targets.count, sixRows = lanes == Gemm.mr
        withUnsafeTemporaryAllocation(of: T.self, capacity: lanes * taps) { buffer in
            let rows = buffer.baseAddress!
            flat.withUnsafeBufferPointer { fb in table.withUnsafeBufferPointer { tb in targets.withUnsafeBufferPointer { db in
                let f = fb.baseAddress!, tab = tb.baseAddress!, d = db.baseAddress!
                for o in channels {
                    let depthRow = o &- channels.lowerBound
                    var b = 0, i0 = range.lowerBound
                    while i0 < range.upperBound {
                        let width = min(lanes, range.upperBound &- i0)
                        let src = wg + (o &* cig &+ i0) &* taps
                        if width == lanes && sixRows {
                            PackKernels.packA6(rows, src, rowStride: taps, count: taps)
                        } else if width == lanes {
                            PackKernels.transposeTile(rows, src, srcStride: taps, count: taps, nr: lanes)
                        } else {
                            for k in 0..<taps { for r in 0..<lanes { rows[k &* lanes &+ r] = r < width ? src[r &* taps &+ k] : 0 } }
                        }
                        for a in 0..<active {
                            let j = tab[3 &* a], first = tab[3 &* a &+ 1], stride = tab[3 &* a &+ 2]
                            let out = d[a] + (b &* stride &+ depthRow &* j &* lanes)
                            if sixRows {
                                for t in 0..<j { copySix(out + t &* lanes, rows + f[first &+ t] &* lanes) }
                            } else {
                                for t in 0..<j { copyPanelRow(out + t &* lanes, rows + f[first &+ t] &* lanes) }
                            }
                        }
                        b &+= 1; i0 &+= lanes
                    }
                }
            } } }
        }
    }

    /// dst[0 ..< 6] = src[0 ..< 6]: one 4-wide and one 2-wide vector move.
    @inline(__always)
    private func copySix<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>) {
        let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst), stride = MemoryLayout<T>.stride
        d.storeBytes(of: s.loadUnaligned(as: SIMD4<T>.self), as: SIMD4<T>.self)
        d.storeBytes(of: s.loadUnaligned(fromByteOffset: 4 &* stride, as: SIMD2<T>.self), toByteOffset: 4 &* stride, as: SIMD2<T>.self)
    }
}
