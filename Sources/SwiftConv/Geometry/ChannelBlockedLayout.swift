/// The arrays of the channel-blocked direct convolution (`ChannelBlockedConvolution`) for a
/// planar, ungrouped shape: channels in blocks of 16 (the vector lanes), the input zero-padded
/// so that every window lies inside it, the weights in panels of up to `blocksPerPanel` output
/// blocks. All sizes overflow-checked at creation (nil: too large to address).
struct ChannelBlockedLayout: Sendable {
    /// Output blocks of 16 channels per weight panel, the kernel's widest tile (4 x 16 lanes).
    static let blocksPerPanel = 4

    let inBlocks: Int
    let outBlocks: Int
    /// Weight panels: output channels [64 p, 64 p + 64), the last one narrower.
    let panels: Int
    /// The zero-padded input plane of one block: paddedHeight x paddedWidth pixels of 16.
    let paddedHeight: Int
    let paddedWidth: Int
    /// Floats of one padded input block, of one image's padded input, of the whole copy.
    let blockCount: Int
    let imageCount: Int
    let inputCount: Int
    /// Floats of the packed weights ([panel][in block][tap][16 in][16 x panel blocks out], every
    /// panel spaced as a full one) and of the zero-padded bias (16 x outBlocks, then padding to
    /// a full panel).
    let panelCount: Int
    let weightCount: Int
    let biasCount: Int

    init?(_ s: ConvShape) {
        guard s.isPlanar, s.groups == 1, s.padTop >= 0, s.padLeft >= 0 else { return nil }
        inBlocks = (s.inChannels + 15) / 16
        outBlocks = (s.outChannels + 15) / 16
        panels = (outBlocks + Self.blocksPerPanel - 1) / Self.blocksPerPanel
        // Every window inside: the last output's last tap, and the whole input.
        let lastRow = (s.outHeight - 1) * s.strideH + (s.kernelHeight - 1) * s.dilationH + 1
        let lastColumn = (s.outWidth - 1) * s.strideW + (s.kernelWidth - 1) * s.dilationW + 1
        paddedHeight = max(s.padTop + s.inHeight, lastRow)
        paddedWidth = max(s.padLeft + s.inWidth, lastColumn)
        let panelWidth = 16 * Self.blocksPerPanel
        guard let b = try? Checked.product([paddedHeight, paddedWidth, 16], ""),
              let i = try? Checked.product([b, inBlocks], ""), let all = try? Checked.product([i, s.batch], ""),
              let p = try? Checked.product([inBlocks, s.kernelTaps, 16, panelWidth], ""),
              let wc = try? Checked.product([p, panels], "") else { return nil }
        blockCount = b; imageCount = i; inputCount = all
        panelCount = p; weightCount = wc
        biasCount = panels * panelWidth
    }

    /// Output blocks in panel p (1 to 4).
    func blocks(inPanel p: Int) -> Int { min(Self.blocksPerPanel, outBlocks - p * Self.blocksPerPanel) }

    /// The first output channel (lane column 0) of panel p.
    static func firstChannel(ofPanel p: Int) -> Int { p * 16 * blocksPerPanel }

    /// Where in a panel of `width` lanes (16 x its blocks) input channel c's tap t (of `taps`)
    /// for lane column `column` lies: [in block][tap][16 in][width].
    static func panelOffset(channel c: Int, tap t: Int, taps: Int, column: Int, width: Int) -> Int {
        (((c >> 4) * taps + t) * 16 + (c & 15)) * width + column
    }

    /// The offset of each tap (row-major over the window) from the window's origin in one
    /// padded input block, in Floats.
    func tapOffsets(_ s: ConvShape) -> [Int] {
        var t: [Int] = []
        t.reserveCapacity(s.kernelTaps)
        for a in 0 ..< s.kernelHeight {
            for b in 0 ..< s.kernelWidth { t.append((a * s.dilationH * paddedWidth + b * s.dilationW) * 16) }
        }
        return t
    }
}
