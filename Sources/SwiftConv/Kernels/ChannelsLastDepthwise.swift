/// The depthwise forward and adjoint on channels-last (N, H, W, C) activations: per task
/// (image, output row block, run of 16-Float / 8-Double channel blocks) the source rows the
/// block needs are copied, every pixel's channels of the run in one pass, into one
/// channel-interleaved tile per channel block (pixel stride L, the zero border built in),
/// the depthwise loops run over each tile, and they store straight into the channels-last
/// result (pixel stride C).
///
/// WHY the tile, where the channels-last data already is pixel-major: the loops run on it
/// in place (`DepthwiseConvolution.forwardChannelsLast`) with the pixel stride C known only
/// at run time and the border taps skipped, so neither the constant-step blocks nor the
/// uniform blocks at the row ends apply (5x5: 2.5-2.8x the NCHW time at N1), and a task read
/// one channel block over the whole image: 64 bytes every C x 4 bytes, which the hardware
/// prefetchers do not follow. At N8, where the images come from L3, that made 480 dw 14x14
/// k3 3.8x and 672 dw 14x14 k5 2.9x the NCHW time (Zen5, one thread). Copying a pixel's
/// channels together reads the rows as one stream, and the tiles are what the NCHW driver
/// builds (without its transposes), so the same loops take the same fast paths.
///
/// Bits: each tile holds every source row and column its outputs read, zeros outside the
/// source, and the loops sum every tap of an output in their fixed order from the bias,
/// whatever the rows, runs or tasks: the NCHW driver's sums (`DepthwiseConvolution.run`),
/// the same for every thread count.
enum ChannelsLastDepthwise {
    /// Bytes of source tile (all the channel blocks of a task) a task aims for: the tiles
    /// and the rows of the result they produce stay in L2 (1 MB per Zen5 core). Measured
    /// (one thread, every depthwise layer of MobileNetV2 + EfficientNet-B0 forward, NHWC /
    /// NCHW time in one process per setting, medians of 3 interleaved rounds; settings in
    /// alternating processes, /tmp/s11/nhwc/dwexp.py): 128 KB N1 1.14, N8 1.33; 192 KB N1
    /// 1.09-1.11, N8 1.28-1.33; 256 KB N1 1.02, N8 1.27; 384 KB N1 1.02-1.03, N8 1.22-1.28.
    static let tileBytes = 384 * 1024

    /// Whether the tiles run `s` (`KernelSelector.channelsLastDepthwiseTiles`; and rows whose
    /// one-row tile is within `DepthwiseConvolution.maxRowTileBytes`, as for the NCHW plan's
    /// tiles); else the loops run in place (`DepthwiseConvolution.forwardChannelsLast`).
    static func tiled<T: ConvScalar>(_ s: ConvShape, adjoint: Bool, _: T.Type) -> Bool {
        KernelSelector.channelsLastDepthwiseTiles(s, adjoint: adjoint, elementBytes: MemoryLayout<T>.stride)
            && DepthwiseConvolution.supports(s, adjoint: adjoint)
    }

    /// y = conv(x, w) (+ bias) on channels-last x and y.
    static func forward<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>) throws {
        if !tiled(s, adjoint: false, T.self) {
            return DepthwiseConvolution.forwardChannelsLast(s, x: x, w: w, bias: bias, y: y)
        }
        try run(DepthwiseConvolution.Tiling(s, adjoint: false, elementBytes: MemoryLayout<T>.stride), src: x, w: w, bias: bias, dst: y)
    }

    /// dx = conv^T(dy, w) (+ bias) on channels-last dy and dx (any stride).
    static func adjoint<T: ConvScalar>(_ s: ConvShape, dy: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>) throws {
        if !tiled(s, adjoint: true, T.self) {
            return DepthwiseConvolution.adjointChannelsLast(s, dy: dy, w: w, bias: bias, dx: dx)
        }
        try run(DepthwiseConvolution.Tiling(s, adjoint: true, elementBytes: MemoryLayout<T>.stride), src: dy, w: w, bias: bias, dst: dx)
    }

    /// How the work is cut: `rows` output rows per block, `runBlocks` channel blocks per task.
    struct Split {
        let rows: Int, rowBlocks: Int, runBlocks: Int, runs: Int

        /// The most rows whose tiles of every block fit `tileBytes`, but at least `minRows`
        /// (a row block then copies at most 1.5x the source rows per output row that the whole
        /// image does: the halo); where that passes `tileBytes`, fewer channel blocks per task
        /// (runs of equal size). Several threads: runs cut until there are 4 tasks per thread.
        init(_ t: DepthwiseConvolution.Tiling, blocks: Int, threads: Int) {
            let blockRowBytes = t.tileWidth * 64, budget = ChannelsLastDepthwise.tileBytes
            func bytes(_ r: Int, _ b: Int) -> Int { t.sourceRows(r) * blockRowBytes * b }
            let h = max(t.dstH, 1)
            var r = h
            while r > 1 && bytes(r, blocks) > budget { r = (r + 1) / 2 }
            r = max(r, Split.minRows(t))
            var run = blocks
            if bytes(r, blocks) > budget {
                run = max(1, budget / max(bytes(r, 1), 1))
                run = (blocks + (blocks + run - 1) / run - 1) / ((blocks + run - 1) / run)
            }
            let rowBlocks = (t.dstH + r - 1) / r
            var runs = (blocks + run - 1) / run
            let outer = t.s.batch * rowBlocks
            if threads > 1 && outer * runs < 4 * threads {
                runs = min(blocks, max(runs, (4 * threads + outer - 1) / outer))
                run = (blocks + runs - 1) / runs
                runs = (blocks + run - 1) / run
            }
            self.rows = r; self.rowBlocks = rowBlocks; self.runBlocks = run; self.runs = runs
        }

        /// The fewest output rows per block whose source rows per output row are at most 1.5x
        /// the whole image's.
        static func minRows(_ t: DepthwiseConvolution.Tiling) -> Int {
            let h = max(t.dstH, 1), whole = t.sourceRows(h)
            var r = 1
            while r < h && 2 * t.sourceRows(r) * h > 3 * whole * r { r += 1 }
            return r
        }
    }

    private static func run<T: ConvScalar>(_ t: DepthwiseConvolution.Tiling, src: UnsafePointer<T>, w: UnsafePointer<T>,
                                           bias: UnsafePointer<T>?, dst: UnsafeMutablePointer<T>) throws {
        let s = t.s, L = t.lanes, C = s.groups, taps = s.kernelTaps
        if s.batch == 0 || C == 0 || t.dstH == 0 || t.dstW == 0 { return }
        let blocks = (C + L - 1) / L, tail = C % L
        /// A block's first channel: the partial last block reads channels C - L ..< C
        /// (overlapping the block before it: reads only; it stores only its own channels).
        func firstChannel(_ cb: Int) -> Int { tail != 0 && cb == blocks - 1 ? C - L : cb * L }
        // Every block's weights (taps x lanes) and bias (lanes), interleaved once per call.
        let weightStride = (taps + 1) * L
        let weights = try Workspace<T>(count: blocks * weightStride, for: "the interleaved depthwise weights")
        for cb in 0..<blocks {
            let wt = weights.pointer + cb * weightStride, bt = wt + taps * L, c0 = firstChannel(cb)
            DepthwiseConvolution.interleave(wt, w + c0 * taps, stride: taps, lanes: L, pixels: taps)
            if let bias { bt.update(from: bias + c0, count: L) } else { bt.update(repeating: 0, count: L) }
        }
        let split = Split(t, blocks: blocks, threads: ThreadPool.shared.numThreads)
        let R = split.rows, run = split.runBlocks, runs = split.runs
        let blockTile = t.sourceRows(R) * t.tileWidth * L, outTile = tail == 0 ? 0 : R * t.dstW * L
        let scratchCount = run * blockTile + outTile
        let scratchBytes = scratchCount * MemoryLayout<T>.stride
        guard ThreadScratch.depthwise.reserve(bytes: scratchBytes) else {
            throw ConvError.outOfMemory("swiftconv: could not allocate the channels-last depthwise tiles (\(scratchBytes) bytes)")
        }
        let srcImage = t.srcH * t.srcW * C, dstImage = t.dstH * t.dstW * C
        let wp = UnsafePointer(weights.pointer)
        ThreadPool.shared.parallelFor(s.batch * split.rowBlocks * runs, work: s.macs) { task in
            let q = task % runs, rb = (task / runs) % split.rowBlocks, n = task / (runs * split.rowBlocks)
            let b0 = q * run, b1 = min(blocks, b0 + run)
            if b0 >= b1 { return }
            let r0 = rb * R, r1 = min(t.dstH, r0 + R)
            let a = t.sourceRange(r0, r1)
            let scratch = ThreadScratch.depthwise.buffer(bytes: scratchBytes).bindMemory(to: T.self, capacity: scratchCount)
            fill(t, scratch, blockTile: blockTile, src: src + n * srcImage, channels: C, blocks: b0..<b1,
                 firstChannel: firstChannel, rows: a)
            var g = t.geometry(rows: r0, r1, source: a.lowerBound, a.upperBound)
            let y = dst + n * dstImage
            for cb in b0..<b1 {
                let tile = scratch + (cb - b0) * blockTile
                let xBase = UnsafePointer(tile - (a.lowerBound * t.tileWidth + t.colLo) * L)
                let wt = wp + cb * weightStride, bt = wt + taps * L
                if tail == 0 || cb != blocks - 1 {
                    g.dst_pixel_stride = Int64(C); g.dst_row_stride = Int64(t.dstW * C)
                    DepthwiseConvolution.rows(g, xBase, wt, bt, y + cb * L)
                    continue
                }
                // The partial block: through a small tile, its own (last `tail`) channels out.
                let out = scratch + run * blockTile
                g.dst_pixel_stride = Int64(L); g.dst_row_stride = Int64(t.dstW * L)
                DepthwiseConvolution.rows(g, xBase, wt, bt, out - r0 * t.dstW * L)
                let skip = L - tail, yt = y + (r0 * t.dstW) * C + (C - tail)
                for p in 0..<((r1 - r0) * t.dstW) { (yt + p * C).update(from: out + p * L + skip, count: tail) }
            }
        }
    }

    /// Source rows `rows` of one image (channels-last, `channels` per pixel) into the tiles of
    /// channel blocks `blocks` (`blockTile` elements apart; each rows x tileWidth pixels of L
    /// lanes), zeros outside the source. Pixel by pixel, every block of a pixel in turn: the
    /// source is read in memory order.
    private static func fill<T: ConvScalar>(_ t: DepthwiseConvolution.Tiling, _ tiles: UnsafeMutablePointer<T>, blockTile: Int,
                                            src: UnsafePointer<T>, channels C: Int, blocks: Range<Int>,
                                            firstChannel: (Int) -> Int, rows: Range<Int>) {
        let L = t.lanes, width = t.tileWidth, rowCount = width * L
        let inLo = max(t.colLo, 0), inHi = min(t.colHi, t.srcW)
        let c0 = blocks.lowerBound, last = blocks.upperBound - 1
        let lastFirst = firstChannel(last), fullRun = last - c0 + (lastFirst == last * L ? 1 : 0)
        for r in rows {
            let rowOffset = (r - rows.lowerBound) * rowCount
            if r < 0 || r >= t.srcH || inLo >= inHi {
                for cb in blocks { (tiles + ((cb - c0) * blockTile + rowOffset)).update(repeating: 0, count: rowCount) }
                continue
            }
            if t.colLo < inLo || inHi < t.colHi {
                for cb in blocks {
                    let row = tiles + ((cb - c0) * blockTile + rowOffset)
                    if t.colLo < inLo { row.update(repeating: 0, count: (inLo - t.colLo) * L) }
                    if inHi < t.colHi { (row + (inHi - t.colLo) * L).update(repeating: 0, count: (t.colHi - inHi) * L) }
                }
            }
            let srcRow = src + (r * t.srcW) * C
            for col in inLo..<inHi {
                let pixel = srcRow + col * C, at = rowOffset + (col - t.colLo) * L
                var d = tiles + at, p = pixel + c0 * L
                for _ in 0..<fullRun {
                    copyPanelRow(d, p)
                    d += blockTile; p += L
                }
                if fullRun <= last - c0 { copyPanelRow(tiles + ((last - c0) * blockTile + at), pixel + lastFirst) }
            }
        }
    }
}
