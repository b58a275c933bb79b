/// grad_input of a stride-1 dense convolution (and the stride-1 transposed convolution) on
/// the channel-blocked direct conv (`ChannelBlockedConvolution`): at stride 1, conv^T(dy, w)
/// is the stride-1 convolution of dy with w flipped in both axes and its channel axes swapped
/// (`UpsampleAdjoint.equivalentConvolution`). The flipped kernel is packed straight from w
/// into the forward's panels ([in block][tap][16 in][64 out], "in" being the layer's output
/// channels), by each task of the forward's driver as it runs on dy: no flipped copy, no GEMM
/// packing of dy. Its sums are the forward's on the flipped kernel (the
/// bias, then in blocks, taps, channels): the same bits for every thread count.
///
/// Float32 on the forward's tier, groups 1, stride 1; anything else, and a call that cannot
/// have the memory, runs the caller's `otherwise` (the im2col GEMM on the flipped kernel).
/// Which calls come here is the planner's choice (`KernelSelector.channelBlockedAdjointWins`).
enum ChannelBlockedAdjoint {
    /// What `explain` says about the inner conv ("blocked").
    static let explanation = "the flipped kernel packed straight from w into the channel-blocked conv's "
        + "[in block][tap][16 in][64 out] panels, dy copied zero-padded as NCHW16c, R pixels x 64 channels summed in registers"

    /// Whether this kernel runs the adjoint `s` (as opposed to `otherwise`) for element type T.
    static func runs<T: ConvScalar>(_ s: ConvShape, _: T.Type) -> Bool {
        guard s.strideH == 1, s.strideW == 1, s.groups == 1, let c = UpsampleAdjoint.equivalentConvolution(s) else { return false }
        return ChannelBlockedConvolution.runs(c, T.self)
    }

    /// dx = bias + conv^T(dy, w) for the stride-1 shape `s` (w: C_out, C_in, kh, kw).
    static func adjoint<T: ConvScalar>(_ s: ConvShape, dy: UnsafePointer<T>, w: UnsafePointer<T>, bias: UnsafePointer<T>?,
                                       dx: UnsafeMutablePointer<T>, otherwise: () -> Void) {
        guard runs(s, T.self), let c = UpsampleAdjoint.equivalentConvolution(s), let l = ChannelBlockedLayout(c) else {
            return otherwise()
        }
        // Each task packs its panel into its thread's scratch (the forward's per-call scheme),
        // where the tiles read it from L2 (one buffer of all panels went through memory). w
        // itself is read only by `otherwise` (the driver's own fallback would read it unflipped).
        let wf: UnsafePointer<Float> = cast(w)
        let ran = ChannelBlockedConvolution.run(c, x: dy, w: w, bias: bias, y: dx, packed: nil,
                                                panelSource: { p, panel in packPanel(s, l, w: wf, p, into: panel) }, channelsLast: false)
        if !ran { otherwise() }
    }

    /// Panel p: the layer's input channels [64 p, 64 p + width / 16 blocks) as the lanes, and,
    /// for each output channel o and tap t, w[o, i, taps - 1 - t] at [o / 16][t][o % 16][i].
    /// Per output channel and 16 input channels, the 16 x taps contiguous weights are
    /// transposed in registers (`transposeRows16F32`, rows taps apart: lane r of column q is
    /// tap q of input channel r) and each tap stored as one vector to its flipped place.
    static func packPanel(_ s: ConvShape, _ l: ChannelBlockedLayout, w: UnsafePointer<Float>, _ p: Int,
                          into panel: UnsafeMutablePointer<Float>) {
        let taps = s.kernelTaps, inChannels = s.inChannels, outChannels = s.outChannels
        let blocks = l.blocks(inPanel: p), width = 16 * blocks, firstInput = ChannelBlockedLayout.firstChannel(ofPanel: p)
        let tapStride = 16 * width, end = w + outChannels * inChannels * taps
        // Zeros where no weight lands: past the last output channel's block, past the last input channel.
        if outChannels % 16 != 0 || firstInput + width > inChannels { panel.initialize(repeating: 0, count: l.panelCount) }
        let transpose = KernelTable.active.transposeRows16F32
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 256) { buffer in
            let tile = buffer.baseAddress!
            for o in 0 ..< outChannels {
                // Tap 0 of output channel o's row in the panel (o is this panel's "input"
                // channel); tap t is t * tapStride further.
                let row = panel + ChannelBlockedLayout.panelOffset(channel: o, tap: 0, taps: taps, column: 0, width: width)
                for b in 0 ..< blocks {
                    let i0 = firstInput + b * 16, valid = min(16, inChannels - i0)
                    let src = w + (o * inChannels + i0) * taps
                    // 16 columns from each of 16 rows (windows of up to 16 taps): the last row
                    // reads 16 - taps past the block (the next weights' values, unused), so not
                    // past w's end.
                    if valid == 16 && taps <= 16 && src + 15 * taps + 16 <= end {
                        transpose(tile, src, taps, 16)
                        for q in 0 ..< taps { (row + (taps - 1 - q) * tapStride + b * 16).update(from: tile + q * 16, count: 16) }
                    } else {
                        for r in 0 ..< valid {
                            for q in 0 ..< taps { row[(taps - 1 - q) * tapStride + b * 16 + r] = src[r * taps + q] }
                        }
                    }
                }
            }
        }
    }
}
