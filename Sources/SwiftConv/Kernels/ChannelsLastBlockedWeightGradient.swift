/// The channels-last weight gradient with its B operand read from a zero-bordered,
/// channel-blocked copy of x (`BlockedChannelsLastInput`, the layout the channels-first
/// grad_weight makes from NCHW x): from channels-last x the copy is one 64-byte row per
/// pixel and channel block (the copy zeroed first: its border), no transposes. A B panel
/// row is then one 64-byte copy, where `ChannelsLastUnfolded.packB` gathers runs of C_in/g
/// channels pixel by pixel.
///
/// WHY: that gather made the in-place grad_weight of 3x3 128->128 28x28 1.53x its NCHW time
/// (whose blocked copy transposes x once); with the copy 1.13 (grad_weight only, one
/// thread). Where: the shapes the channels-first rule sends to its blocked copy
/// (`KernelSelector.weightGradientReadsBlockedCopy`, recorded by the planner as the
/// `blocked` route), within the same per-thread scratch limit.
///
/// Bits: every dW element is the GEMM's sum over the (image, pixel) depth in order, whatever
/// B's column order or the column split: the same bits as the unfolded operand, for every
/// thread count.
extension ChannelsLastConvolution {
    /// Computes dw and returns true, or returns false (nothing written) where the route is
    /// not `blocked`, the pool has more threads than channel blocks
    /// (`KernelSelector.weightGradientCopyFeedsThreads`, per call) or the scratch cannot be had.
    static func weightGradientFromBlockedCopy<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, dy: UnsafePointer<T>,
                                                             dw: UnsafeMutablePointer<T>, route: GemmWeightGradient.Route) -> Bool {
        let block = KernelTable.nr(T.self), taps = s.kernelTaps, cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        let pixels = s.batch * s.outPixels
        guard pixels > 0, route == .blocked, KernelSelector.weightGradientCopyFeedsThreads(s, T.self),
              let copyCount = BlockedChannelsLastInput<T>.blockCount(s) else { return false }
        let channelBlocks = cig / block, blockColumns = block * taps, patch = s.patchSize
        // Whole channel blocks per task, about one task per thread and group.
        let threads = ThreadPool.shared.numThreads
        let tasksPerGroup = min(channelBlocks, max(1, (threads + s.groups - 1) / s.groups))
        let perTask = (channelBlocks + tasksPerGroup - 1) / tasksPerGroup
        let tasks = (channelBlocks + perTask - 1) / perTask
        guard let elements = try? Checked.add(Checked.mul(perTask, copyCount, ""), Checked.product([cog, perTask, blockColumns], ""), ""),
              let bytes = try? Checked.mul(elements, MemoryLayout<T>.stride, ""),
              bytes <= GemmWeightGradient.blockedScratchLimit,
              ThreadScratch.weightGradient.reserve(bytes: bytes) else { return false }
        ThreadPool.shared.parallelFor(s.groups * tasks, work: s.macs) { task in
            let g = task / tasks, b0 = (task - g * tasks) * perTask, b1 = min(channelBlocks, b0 + perTask)
            let width = (b1 - b0) * blockColumns
            let scratch = ThreadScratch.weightGradient.buffer(bytes: bytes).bindMemory(to: T.self, capacity: elements)
            let copy = scratch, tile = scratch + perTask * copyCount
            for i in 0..<(b1 - b0) {
                fillBlockedCopy(s, x: x + (g * cig + (b0 + i) * block), into: copy + i * copyCount)
            }
            let operand = BlockedChannelsLastInput<T>(base: UnsafePointer(copy), shape: s, firstBlock: b0)
            Gemm.multiply(StridedMatrix(base: dy + g * cog, rowStride: 1, colStride: s.outChannels), operand,
                          rows: 0..<cog, cols: (b0 * blockColumns)..<(b1 * blockColumns), depth: pixels,
                          c: tile, ldc: width, accumulate: false)
            // Tile column (cb * taps + t) * block + lane is dw's (cb * block + lane) * taps + t.
            for co in 0..<cog {
                let src = UnsafePointer(tile + co * width), dst = dw + ((g * cog + co) * patch + b0 * blockColumns)
                for lane in 0..<width / taps {
                    let cb = lane / block, l = lane - cb * block
                    let d = dst + lane &* taps, sr = src + ((cb &* taps) &* block &+ l)
                    for t in 0..<taps { d[t] = sr[t &* block] }
                }
            }
        }
        return true
    }

    /// One channel block of channels-last x (`x` at its first channel in image 0) for every
    /// image into the blocked copy's layout: zeroed (the border), then each pixel's `block`
    /// channels copied as one 64-byte row. Only copies.
    private static func fillBlockedCopy<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, into copy: UnsafeMutablePointer<T>) {
        let block = KernelTable.nr(T.self), (hp, wp) = BlockedChannelsLastInput<T>.paddedSize(s)
        let inW = s.inWidth, channels = s.inChannels
        copy.update(repeating: 0, count: s.batch * hp * wp * block)
        for line in 0..<(s.batch * s.inHeight) {
            let n = line / s.inHeight, ih = line - n * s.inHeight
            let src = x + line * inW * channels, out = copy + ((n * hp + ih + s.padTop) * wp + s.padLeft) * block
            for iw in 0..<inW { copyPanelRow(out + iw &* block, src + iw &* channels) }
        }
    }
}
