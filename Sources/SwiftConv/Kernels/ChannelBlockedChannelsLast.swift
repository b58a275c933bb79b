/// The channel-blocked direct conv (`ChannelBlockedConvolution`) on channels-last activations,
/// read and written in place: its input copy is a reorder anyway (into zero-padded NCHW16c),
/// and from (N, H, W, C) memory it is a plain copy of each pixel's 16 contiguous channels (one
/// 64-byte row, no register transpose); its output tile ([block][pixels][16]) stores into the
/// (N, H, W, C) result as 64-byte pieces per pixel (no deinterleave). Everything between (the
/// packed weights, the tiles, the order of every sum) is the channels-first call's: the same
/// bits, and no channels-first copy of either activation.
///
/// Where the channel-blocked conv does not run (float64, a tier without it, the copy's memory
/// not had) the channels-last GEMM runs instead (`ChannelsLastConvolution`), in its order.
enum ChannelBlockedChannelsLast {
    /// What `explain` says about the step.
    static let explanation = "direct conv on 16-channel blocks: each pixel's 16 channels copied as one 64-byte row "
        + "into the zero-padded NCHW16c copy, R pixels x 64 output channels summed in registers over every tap and input "
        + "channel, each pixel's output blocks stored as 64-byte rows; the channels-first call's sums, the same bits"

    /// y = bias + conv(x, w), x and y channels-last; `packed`: the weights packed ahead
    /// (`ChannelBlockedConvolution.packWeights`), or nil.
    static func forward<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>, bias: UnsafePointer<T>?,
                                       y: UnsafeMutablePointer<T>, packed: UnsafePointer<Float>? = nil) throws {
        if ChannelBlockedConvolution.run(s, x: x, w: w, bias: bias, y: y, packed: packed, channelsLast: true) { return }
        try ChannelsLastConvolution.forward(.gemm, s, x: x, w: w, bias: bias, y: y)
    }

    /// x (N, H, W, C) into the zero-padded channel blocks (N, C/16, paddedHeight, paddedWidth,
    /// 16), channels past C zero: the layout `ChannelBlockedConvolution.copyInput` fills from
    /// NCHW. One task per (image, padded row), every block of it: each pixel's channels are
    /// read once, in order (a task per block read every C/16-th cache line, and the lines the
    /// prefetcher brought for the other blocks were gone by their turn on large planes).
    static func copyInput(_ s: ConvShape, _ l: ChannelBlockedLayout, x: UnsafePointer<Float>, into xb: UnsafeMutablePointer<Float>) {
        let h = s.inHeight, w = s.inWidth, c = s.inChannels, rowFloats = l.paddedWidth * 16
        let whole = c / 16, rest = c - whole * 16
        ThreadPool.shared.parallelFor(s.batch * l.paddedHeight, work: ThreadPool.copyWork(elements: l.inputCount)) { task in
            let n = task / l.paddedHeight, hp = task % l.paddedHeight, r = hp - s.padTop
            let first = xb + n * l.imageCount + hp * rowFloats
            guard r >= 0 && r < h else {
                for cb in 0 ..< l.inBlocks { (first + cb * l.blockCount).initialize(repeating: 0, count: rowFloats) }
                return
            }
            for cb in 0 ..< l.inBlocks {
                let row = first + cb * l.blockCount
                row.initialize(repeating: 0, count: s.padLeft * 16)
                (row + (s.padLeft + w) * 16).initialize(repeating: 0, count: rowFloats - (s.padLeft + w) * 16)
            }
            let interior = first + s.padLeft * 16, src = x + (n * h + r) * w * c
            for q in 0 ..< w {
                let pixel = src + q &* c, dst = interior + q &* 16
                for cb in 0 ..< whole { copyPanelRow(dst + cb &* l.blockCount, pixel + cb &* 16) }
                if rest > 0 {
                    let last = dst + whole &* l.blockCount
                    for k in 0 ..< 16 { last[k] = k < rest ? pixel[whole &* 16 &+ k] : 0 }
                }
            }
        }
    }

    /// Stores one task's output tile (`blocks` blocks of `pixels` pixels x 16 channels,
    /// `blockStride` apart, the first block's channels from `firstChannel`) into the
    /// channels-last result at `y`, the tile's first pixel: per pixel, its blocks side by side.
    @inline(__always)
    static func store(_ s: ConvShape, tile: UnsafePointer<Float>, blocks: Int, blockStride: Int, firstChannel: Int,
                      pixels: Int, y: UnsafeMutablePointer<Float>) {
        let c = s.outChannels, whole = min(blocks, (c - firstChannel) / 16)
        for i in 0 ..< pixels {
            let dst = y + i &* c + firstChannel, src = tile + i &* 16
            for b in 0 ..< whole { copyPanelRow(dst + b &* 16, src + b &* blockStride) }
            if whole < blocks {
                let valid = c - firstChannel - whole * 16
                for k in 0 ..< valid { dst[whole &* 16 &+ k] = src[whole &* blockStride &+ k] }
            }
        }
    }
}
