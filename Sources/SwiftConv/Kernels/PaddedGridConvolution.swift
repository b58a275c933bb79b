/// The im2col forward of a stride-1 convolution with its unfolded input read in place from
/// the zero-padded copy of x (`Im2colConvolution.pad`), never packed.
///
/// On the copy (planes Hp x Wp), output (oh, ow) taken at column j = oh * Wp + ow of a
/// "padded-width grid" makes unfolded row (ci, kh, kw) the run of the copy starting at
/// ci * Hp * Wp + kh * dilationH * Wp + kw * dilationW: the GEMM reads B through a table
/// of those row offsets (`Gemm.multiplyOffsetRowsB`). Each grid row has Wp - Wout columns
/// that are no output (computed, then dropped when the valid ones are copied to y): the
/// price for no packing pass, weighed by the planner (`KernelSelector.readsPaddedGrid`).
/// Every output element is bias (or 0) + the FMAs over the patch in order, as on the
/// packed path, so the bits are the same.
///
/// A strided convolution runs the same way on its stride phases (`StridePhaseSplit`): the
/// grid is a phase plane's (rows `StridePhases.width` apart), and the table's row offsets
/// pick each tap's phase (`ConvShape.unfoldedRowOffsets` with phases).
enum PaddedGridConvolution {
    /// Elements the padded copy must have readable past its end: the last 16-column panel
    /// of the last plane reads up to 15 past it (see `gridColumns`).
    static let slack = 16

    /// GEMM columns per image of the padded shape `p` (stride 1), or of a strided shape on
    /// its `phases`: the grid up to the last valid column, rounded up to whole 16-column panels.
    static func gridColumns(_ p: ConvShape, phases: StridePhases? = nil) -> Int {
        ((p.outHeight - 1) * (phases?.width ?? p.inWidth) + p.outWidth + 15) / 16 * 16
    }

    /// Runs the convolution `p` (the zero-padded shape, stride 1, planar) on `xp` (its input,
    /// with `slack` elements after it that this zeroes) into y; with `phases`, `p` is a
    /// strided planar shape and `xp` its phases. false when it cannot run here (not Float, no
    /// block function, memory not to be had): the caller takes the packed path.
    static func forward<T: ConvScalar, A: GemmOperand>(_ p: ConvShape, xp: UnsafeMutablePointer<T>, weights: (Int) -> A,
                                                       bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>,
                                                       packed prepacked: [PackedMatrix<T>]?, tiling: Im2colConvolution.Tiling,
                                                       phases: StridePhases? = nil) -> Bool
        where A.Scalar == T {
        guard T.kind == .float32, KernelTable.active.sgemmBlockOffsetRowsB != nil else { return false }
        let cog = p.outChannelsPerGroup, cig = p.inChannelsPerGroup, k = p.patchSize
        // Elements from one input channel to the next, and from one grid row to the next.
        let plane = phases?.channelStride ?? p.inHeight * p.inWidth, wp = phases?.width ?? p.inWidth
        let inputCount = phases?.elementCount(channels: p.batch * p.inChannels) ?? p.inputCount
        let outW = p.outWidth, pixels = p.outPixels, columns = gridColumns(p, phases: phases)
        if pixels <= 0 || cog <= 0 || p.batch <= 0 { return true }
        // Each task's GEMM writes its rows x tile block of the grid to a per-thread tile.
        guard let offsets = try? Workspace<Int>(count: k, for: "the unfolded input's row offsets"),
              let tileBytes = try? Checked.product([min(cog, tiling.rowBlock), tiling.tile, 4], ""),
              ThreadScratch.gemm.reserve(bytes: tileBytes) else { return false }
        // The plan's packed weights, or packed here once for every task (A is always packed:
        // the block function reads 6-row panels).
        let ahead = prepacked.flatMap { $0.count == p.groups && $0.allSatisfy({ $0.rows >= cog && $0.depth == k }) ? $0 : nil }
        guard let packed = ahead ?? Gemm.tryPackA(count: p.groups, rows: 0..<cog, depth: k, weights) else { return false }
        (xp + inputCount).update(repeating: 0, count: slack)
        // Unfolded row (ci, kh, kw), in the weights' patch order.
        p.unfoldedRowOffsets(0..<k, plane: plane, width: wp, phases: phases, into: offsets.pointer)
        let x = UnsafeRawPointer(xp).assumingMemoryBound(to: Float.self)
        let out = UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self)
        let b = bias.map { UnsafeRawPointer($0).assumingMemoryBound(to: Float.self) }
        let rowOffsets = UnsafePointer(offsets.pointer)
        let mr = Gemm.mr, tile = tiling.tile, tiles = tiling.tiles, rowBlock = tiling.rowBlock
        let perJob = tiles * tiling.rowBlocks
        ThreadPool.shared.parallelFor(p.batch * p.groups * perJob, work: p.macs) { task in
            let r = task % perJob, ng = task / perJob
            let t = r % tiles, rb = r / tiles
            let g = ng % p.groups, n = ng / p.groups
            let cols = (t * tile)..<min(columns, (t + 1) * tile)
            let rows = (rb * rowBlock)..<min(cog, (rb + 1) * rowBlock)
            let channel0 = n * p.outChannels + g * cog + rows.lowerBound
            let ldc = cols.count
            let cTile = ThreadScratch.gemm.buffer(bytes: rows.count * ldc * 4).bindMemory(to: Float.self, capacity: rows.count * ldc)
            // Sums start from the bias, or the GEMM writes the tile from zero (as in `run`).
            if let b = b {
                fillRows(cTile, rows: rows.count, cols: ldc, ld: ldc, values: b + g * cog + rows.lowerBound)
            }
            let a = packed[g].panels + rows.lowerBound / mr * packed[g].depth * mr
            let aFloat = UnsafeRawPointer(a).assumingMemoryBound(to: Float.self)
            Gemm.multiplyOffsetRowsB(a: aFloat, aPanelStride: packed[g].depth * mr, m: rows.count, depth: k,
                                     b: x + (n * p.inChannels + g * cig) * plane + cols.lowerBound, rowOffsets: rowOffsets,
                                     n: ldc, c: cTile, ldc: ldc, accumulate: b != nil)
            // The valid columns of each grid row in the tile to y, channel by channel (one
            // sequential run of y per channel: by grid row first, the stores went to a
            // different channel each, and the copy took 7% of a 128->128 56x56 layer).
            let firstRow = cols.lowerBound / wp, endRow = min(p.outHeight, (cols.upperBound + wp - 1) / wp)
            for i in 0..<rows.count {
                let src = cTile + i * ldc - cols.lowerBound, dst = out + (channel0 + i) * pixels
                for oh in firstRow..<endRow {
                    let lo = max(cols.lowerBound, oh * wp), hi = min(cols.upperBound, oh * wp + outW)
                    if lo < hi { copyRun(src + lo, to: dst + lo - oh * (wp - outW), count: hi - lo) }
                }
            }
        }
        return true
    }

    /// Copies `count` Floats 16 at a time (a grid row's valid columns, a few dozen: inline,
    /// where a memmove call per run cost as much as the packing it replaces).
    @inline(__always)
    static func copyRun(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        typealias V = SIMD16<Float>
        var i = 0
        while i + 16 <= count {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: V.self), as: V.self)
            i += 16
        }
        while i < count { dst[i] = src[i]; i += 1 }
    }
}
