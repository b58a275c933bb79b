/// The "phase" adjoint for few output pixels per phase (dcgan's 512->256 layer has 16 at
/// batch 1): each phase's GEMM run transposed, C^T(pixel, x channel) = dy-unfolded^T x the
/// phase kernel, so that the large operand, the weights, is the B operand: its panels are
/// nr x channel rows that the table's register transpose makes from the weights as they lie
/// (`PhaseKernels.packPanels`), where the A panels of the other orientation need a six-row
/// transpose per output channel (measured: the packing took 60% of that layer). The small
/// unfolded dy is gathered into A panels. Every x element gets the same products in the
/// same order as in `PhaseAdjoint.adjoint` (the GEMM's sums run over the depth either way):
/// the same bits, so the orientation is chosen from the shape only.
extension PhaseAdjoint {
    /// Whether the transposed orientation runs: pixels per phase (batch folded) at most
    /// twice the x channels per group. Measured, one thread, function calls (ms, plain vs
    /// transposed): see KernelSelector.adjoint's table.
    static func fewPixels(maxColumns: Int, cig: Int) -> Bool { maxColumns <= 2 * cig }

    static func fewPixels<T: ConvScalar>(_ s: ConvShape, _ phases: PhaseDecomposition, source: UnsafePointer<T>, plane: Int,
                                         shapes: [ConvShape], origins: [Int], columns: [Int], w: UnsafePointer<T>,
                                         bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>) throws {
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup, count = phases.count
        let bytes = MemoryLayout<T>.stride, mr = Gemm.mr, nr = Gemm.nr(T.self)
        let kernels = PhaseKernels(s, phases)
        let maxColumns = columns.max() ?? 0
        let rowsPadded = (maxColumns + mr - 1) / mr * mr
        let totalTaps = (0..<count).reduce(0) { $0 + phases.taps($1) }
        let maxTaps = max(1, phases.maxTaps)
        // Channel blocks (multiples of nr): one per thread and group at least, when there
        // are enough channels.
        let threads = ThreadPool.shared.numThreads
        let panels = (cig + nr - 1) / nr
        let channelBlocks = max(1, min(panels, (2 * threads + s.groups - 1) / s.groups))
        let blockWidth = (panels + channelBlocks - 1) / channelBlocks * nr
        let blocks = (cig + blockWidth - 1) / blockWidth
        // Depth blocks of dy channels: as in `adjoint`, for the B panels of a channel block.
        let kcLimit = KernelTable.active.blocking.kc(T.self)
        var perBlock = max(1, min(kcLimit / maxTaps, kernelBlockBytes / max(1, blockWidth * max(totalTaps, 1) * bytes)))
        let depthBlocks = (cog + perBlock - 1) / perBlock
        perBlock = (cog + depthBlocks - 1) / depthBlocks
        // Phase p's parts of the per-task scratch: B block at bOffsets[p] * channels of the
        // depth block, A block at aOffsets[p] * the same, C^T at p * rowsPadded * blockWidth.
        var bOffsets: [Int] = [], aOffsets: [Int] = [], bTotal = 0, aTotal = 0
        for p in 0..<count {
            bOffsets.append(bTotal); bTotal += blockWidth * phases.taps(p)
            aOffsets.append(aTotal); aTotal += (columns[p] + mr - 1) / mr * mr * phases.taps(p)
        }
        // The unfolded dy (every phase's A panels, per group and depth block, the block of
        // channels c0 ..< c1 at (g * cog + c0) * aTotal): packed once, over the pool, when
        // several channel blocks of a group read it (each packed it anew: 12-22% of dcgan's
        // layers at N1); else per task, in its scratch.
        let sharedPixels = blocks > 1
        let pixelCount = sharedPixels ? try Checked.product([s.groups, cog, aTotal], "the unfolded input of the 'phase' adjoint") : 0
        let pixelPanels = try Workspace<T>(count: pixelCount, for: "the unfolded input of the 'phase' adjoint")
        let pixelBase = pixelPanels.pointer
        let round16 = { (n: Int) in (n + 15) / 16 * 16 }
        let cCount = count * rowsPadded * blockWidth, bCount = bTotal * perBlock, aCount = sharedPixels ? 0 : aTotal * perBlock
        let edge = KernelTable.active.blocking.edgeTileElements
        guard let scratchCount = try? Checked.product([1, round16(cCount) + round16(bCount) + round16(aCount) + round16(edge), bytes], ""),
              ThreadScratch.columns.reserve(bytes: scratchCount) else {
            throw ConvError.outOfMemory("conv_transpose2d: could not allocate the 'phase' tiles (\(cCount) elements)")
        }
        // Per phase: the source offsets of its taps (stride-1 conv on the phase's window).
        let tapOffsets = (0..<count).map { p -> [Int] in
            let c = shapes[p]
            return (0..<(phases.taps(p) > 0 ? c.kernelTaps : 0)).map { t in
                (t / c.kernelWidth) * c.dilationH * c.inWidth + (t % c.kernelWidth) * c.dilationW
            }
        }
        let imageStride = s.outChannels * plane
        if sharedPixels {
            let depthBlocks = (cog + perBlock - 1) / perBlock
            ThreadPool.shared.parallelFor(s.groups * depthBlocks * count, work: ThreadPool.copyWork(elements: pixelCount)) { task in
                let p = task % count, d = (task / count) % depthBlocks, g = task / (count * depthBlocks)
                if columns[p] == 0 || phases.taps(p) == 0 { return }
                let c0 = d * perBlock, c1 = min(cog, c0 + perBlock)
                packPixels(source + g * cog * plane + origins[p], shape: shapes[p], imageStride: imageStride, plane: plane,
                           tapOffsets: tapOffsets[p], rows: columns[p], channels: c0..<c1,
                           into: pixelBase + (g * cog + c0) * aTotal + aOffsets[p] * (c1 - c0))
            }
        }

        ThreadPool.shared.parallelFor(s.groups * blocks, work: s.macs) { task in
            let g = task / blocks, b = task % blocks
            let channelRange = (b * blockWidth)..<min(cig, (b + 1) * blockWidth)
            let width = channelRange.count
            let scratch = ThreadScratch.columns.buffer(bytes: scratchCount).bindMemory(to: T.self, capacity: scratchCount / bytes)
            let cBase = scratch, bBase = scratch + round16(cCount), aBase = bBase + round16(bCount)
            let edgeTile = aBase + round16(aCount)
            let wg = w + g * cog * cig * s.kernelTaps
            let sourceGroup = source + g * cog * plane
            var c0 = 0
            while c0 < cog {
                let c1 = min(cog, c0 + perBlock), channels = c1 - c0
                kernels.packPanels(wg, columns: channelRange, channels: c0..<c1, nr: nr,
                                   into: (0..<count).map { bBase + bOffsets[$0] * channels },
                                   panelStride: (0..<count).map { phases.taps($0) * channels * nr })
                for p in 0..<count where columns[p] > 0 && phases.taps(p) > 0 {
                    let j = phases.taps(p), kc = channels * j
                    let a: UnsafeMutablePointer<T>
                    if sharedPixels {
                        a = pixelBase + (g * cog + c0) * aTotal + aOffsets[p] * channels
                    } else {
                        a = aBase + aOffsets[p] * channels
                        packPixels(sourceGroup + origins[p], shape: shapes[p], imageStride: imageStride, plane: plane,
                                   tapOffsets: tapOffsets[p], rows: columns[p], channels: c0..<c1, into: a)
                    }
                    Gemm.block(mc: columns[p], nc: width, kc: kc, a: UnsafePointer(a), aPanelStride: kc * mr,
                               b: UnsafePointer(bBase + bOffsets[p] * channels), bPanelStride: kc * nr,
                               c: cBase + p * rowsPadded * blockWidth, ldc: width, loadC: c0 > 0, tile: edgeTile)
                }
                c0 = c1
            }
            writeOutTransposed(s, phases, shapes: shapes, columns: columns, channels: channelRange, group: g,
                               c: UnsafePointer(cBase), cStride: rowsPadded * blockWidth, bias: bias, dx: dx)
        }
        _ = pixelPanels.count  // alive until the tasks are done
    }

    /// A panels of the phase's unfolded dy, transposed: A((n, q), o * J + t) = the source at
    /// n * imageStride + o * plane + origin(q) + tapOffsets[t] (`x` includes the phase's
    /// window origin and the group), for every (n, q) < rows; rows past the end zero.
    static func packPixels<T: ConvScalar>(_ x: UnsafePointer<T>, shape c: ConvShape, imageStride: Int, plane: Int,
                                          tapOffsets: [Int], rows: Int, channels: Range<Int>, into dst: UnsafeMutablePointer<T>) {
        let mr = Gemm.mr, j = tapOffsets.count, kc = channels.count * j
        let qw = c.outWidth, pixels = c.outPixels
        tapOffsets.withUnsafeBufferPointer { tb in
            let taps = tb.baseAddress!
            var d = dst, r0 = 0
            withUnsafeTemporaryAllocation(of: Int.self, capacity: mr) { bases in
                let base = bases.baseAddress!
                while r0 < rows {
                    let m = min(mr, rows &- r0)
                    for ii in 0..<mr {
                        let r = min(r0 &+ ii, rows &- 1), n = r / pixels, q = r &- n &* pixels, qh = q / qw
                        base[ii] = n &* imageStride &+ qh &* c.inWidth &+ (q &- qh &* qw) &+ channels.lowerBound &* plane
                    }
                    var p = 0
                    for o in 0..<channels.count {
                        let channel = x + o &* plane
                        for t in 0..<j {
                            let s = channel + taps[t], e = d + p &* mr
                            if m == mr {
                                e[0] = s[base[0]]; e[1] = s[base[1]]; e[2] = s[base[2]]
                                e[3] = s[base[3]]; e[4] = s[base[4]]; e[5] = s[base[5]]
                            } else {
                                for ii in 0..<mr { e[ii] = ii < m ? s[base[ii]] : 0 }
                            }
                            p &+= 1
                        }
                    }
                    d += kc &* mr; r0 &+= mr
                }
            }
        }
    }

    /// x = bias + C^T for the task's channels, phase by phase and pixel by pixel (outputs
    /// of phases without taps: the bias alone).
    static func writeOutTransposed<T: ConvScalar>(_ s: ConvShape, _ phases: PhaseDecomposition, shapes: [ConvShape], columns: [Int],
                                                  channels: Range<Int>, group g: Int, c: UnsafePointer<T>, cStride: Int,
                                                  bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>) {
        let inW = s.inWidth, imageStride = s.inChannels * s.inPixels, planeStride = s.inPixels
        let width = channels.count, first = g * s.inChannelsPerGroup + channels.lowerBound
        let b = bias.map { $0 + first }
        for p in 0..<phases.count where columns[p] > 0 {
            let (r, cAxis) = phases.axes(p)
            let taps = phases.taps(p) > 0
            let qw = shapes[p].outWidth, pixels = shapes[p].outPixels
            for row in 0..<columns[p] {
                let n = row / pixels, q = row - n * pixels, qh = q / qw
                let out = dx + n * imageStride + first * planeStride + (r.first + s.strideH * qh) * inW + cAxis.first + s.strideW * (q - qh * qw)
                let src = c + p * cStride + row * width
                if !taps {
                    for i in 0..<width { out[i * planeStride] = b?[i] ?? 0 }
                } else if let b {
                    for i in 0..<width { out[i * planeStride] = b[i] + src[i] }
                } else {
                    for i in 0..<width { out[i * planeStride] = src[i] }
                }
            }
        }
    }
}
