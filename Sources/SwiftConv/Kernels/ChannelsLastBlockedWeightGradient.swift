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
        guard pixels > 0, route != .unfolded, KernelSelector.weightGradientCopyFeedsThreads(s, T.self),
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
                BlockedChannelsLastInput<T>.fillFromChannelsLast(s, x: x + (g * cig + (b0 + i) * block), into: copy + i * copyCount)
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
}

extension ChannelsLastConvolution {
    /// The `blockedInPlace` route (`KernelSelector.weightGradientReadsCopyInPlace`: large planes
    /// of unit stride) from channels-last arrays: dy transposed once to (C_out, pixels) rows per
    /// image, then the channels-first kernel (`GemmWeightGradient.blockedInPlace`: dy's rows as
    /// A, the channel-blocked copy as B, both read in place), its copy filled from the
    /// channels-last x (one 64-byte row per pixel, no transposes). One pass over dy instead of
    /// the conversion path's three (x, dy, and dx back), and bit for bit the channels-first
    /// result: the same copy, the same GEMM. Returns false (nothing written) where the blocked
    /// scratch cannot be had or the pool has more threads than channel blocks.
    static func weightGradientInPlaceFromBlockedCopy<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, dy: UnsafePointer<T>,
                                                                    dw: UnsafeMutablePointer<T>) throws -> Bool {
        guard GemmWeightGradient.reservesBlockedScratch(s, T.self) else { return false }
        let rows = try Workspace<T>(count: s.outputCount, for: "grad_output as (C_out, pixels) rows")
        LayoutConversion.toChannelsFirst(UnsafeRawPointer(dy), UnsafeMutableRawPointer(rows.pointer), batch: s.batch,
                                         channels: s.outChannels, pixels: s.outPixels, elementBytes: MemoryLayout<T>.stride)
        GemmWeightGradient.blockedInPlace(s, x: x, dy: UnsafePointer(rows.pointer), dw: dw, xChannelsLast: true)
        return true
    }
}
