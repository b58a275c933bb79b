/// The A operand of the transposed convolution run as a forward one (the "upsample"
/// formulation, and grad_input at stride 1): the kernel flipped in both axes and regrouped,
/// read straight from the caller's weights instead of from a rearranged copy.
///
/// For one group g with w_g = w + g * cog * cig * taps (w of shape (C_out, C_in/g, kH, kW)),
/// A(i, o * taps + t) = w_g[o, i, taps - 1 - t]: row i is an input channel of the group (an
/// output channel of the equivalent convolution), the depth runs over (output channel, tap)
/// with the taps reversed. The values are those of the rearranged copy
/// (`UpsampleAdjoint.flippedKernel`), so the GEMM's results are bit for bit the same.
///
/// Packing reads, per output channel, the contiguous block of the panel's six rows (6 x taps
/// elements); with one tap it is `TransposedRows` (sequential source rows, 16 at a time).
/// That replaces the per-call scalar transpose whose source stride was C_in x taps
/// (measured: 1x1 512->2048 7x7 grad_input 13.5 ms -> see KernelSelector.adjoint).
struct FlippedKernel<Scalar: ConvScalar>: GemmOperand {
    /// Weights of the group: w_g[0, 0, 0].
    let base: UnsafePointer<Scalar>
    /// Input channels per group (rows of A).
    let cig: Int
    /// kH * kW.
    let taps: Int

    @inline(__always) func element(_ i: Int, _ d: Int) -> Scalar {
        let o = d / taps, t = d &- o &* taps
        return base[(o &* cig &+ i) &* taps &+ (taps &- 1 &- t)]
    }

    func packA(into dst: UnsafeMutablePointer<Scalar>, rows: Range<Int>, depth: Range<Int>) {
        let kc = depth.count
        if kc == 0 || rows.isEmpty { return }
        if taps == 1 {
            // A(i, o) = w_g[o * cig + i]: the transpose of the row-major (cog x cig) matrix.
            return TransposedRows(base: base, ld: cig).packA(into: dst, rows: rows, depth: depth)
        }
        let mr = Gemm.mr, taps = self.taps, cig = self.cig
        var d = dst, i0 = rows.lowerBound
        while i0 < rows.upperBound {
            let m = min(mr, rows.upperBound &- i0)
            var o = depth.lowerBound / taps, t = depth.lowerBound &- o &* taps
            // Row ii of the panel at depth (o, t): block[ii * taps + taps - 1 - t], where
            // block = w_g[o, i0, 0] holds the panel's rows' taps contiguously.
            var block = base + (o &* cig &+ i0) &* taps
            if m == mr {
                // A first output channel entered mid-way, its taps one by one; then whole
                // channels, a block at a time (`packWholeChannels`); then the last part.
                var p = 0
                while p < kc && t != 0 {
                    Self.packTap(block, t: t, taps: taps, into: d + p &* 6)
                    p &+= 1; t &+= 1
                    if t == taps { t = 0; block += cig &* taps }
                }
                let whole = (kc &- p) / taps
                if whole > 0 {
                    Self.packWholeChannels(block, count: whole, channelStride: cig &* taps, taps: taps, into: d + p &* 6)
                    p &+= whole &* taps; block += whole &* cig &* taps
                }
                while p < kc {
                    Self.packTap(block, t: t, taps: taps, into: d + p &* 6)
                    p &+= 1; t &+= 1
                }
            } else {
                for p in 0..<kc {
                    let s = block + (taps &- 1 &- t), e = d + p &* 6
                    for ii in 0..<mr { e[ii] = ii < m ? s[ii &* taps] : 0 }
                    t &+= 1
                    if t == taps { t = 0; o &+= 1; block += cig &* taps }
                }
            }
            d += kc &* mr; i0 &+= mr
        }
    }

    /// One depth column of a full panel: tap t of the output channel whose six rows' taps
    /// start at `block` (row ii's at ii * taps), reversed.
    @inline(__always)
    private static func packTap(_ block: UnsafePointer<Scalar>, t: Int, taps: Int, into e: UnsafeMutablePointer<Scalar>) {
        let s = block + (taps &- 1 &- t)
        e[0] = s[0]; e[1] = s[taps]; e[2] = s[2 &* taps]
        e[3] = s[3 &* taps]; e[4] = s[4 &* taps]; e[5] = s[5 &* taps]
    }

    /// `count` whole output channels of a full panel, each a contiguous 6 x taps block of w
    /// (`channelStride` apart) written as taps x 6 with the taps reversed. The common kernel
    /// sizes get a constant tap count, so each block is straight-line moves with fixed
    /// offsets (the per-element loop with its tap counter measured 16% of an N1 256->256
    /// 14x14 k3 grad_input, against the forward's weights read in place; now 8%).
    /// Prefetching each block 4 channels ahead did not pay (N1 grad_input, new / old
    /// time: 256->256 14x14 0.96, 512->512 7x7 0.90; without it 0.94-0.98 and 0.89-0.90
    /// over three runs).
    @inline(__always)
    private static func packWholeChannels(_ block: UnsafePointer<Scalar>, count: Int, channelStride: Int, taps: Int,
                                          into dst: UnsafeMutablePointer<Scalar>) {
        switch taps {
        case 9: packWholeChannels(block, count: count, channelStride: channelStride, constantTaps: 9, into: dst)
        case 4: packWholeChannels(block, count: count, channelStride: channelStride, constantTaps: 4, into: dst)
        case 25: packWholeChannels(block, count: count, channelStride: channelStride, constantTaps: 25, into: dst)
        default: packWholeChannels(block, count: count, channelStride: channelStride, constantTaps: taps, into: dst)
        }
    }

    @inline(__always)
    private static func packWholeChannels(_ block: UnsafePointer<Scalar>, count: Int, channelStride: Int, constantTaps taps: Int,
                                          into dst: UnsafeMutablePointer<Scalar>) {
        var b = block, e = dst
        for _ in 0..<count {
            for t in 0..<taps { packTap(b, t: t, taps: taps, into: e + t &* 6) }
            b += channelStride; e += taps &* 6
        }
    }
}
