/// The "phase" (sub-pixel) formulation of the transposed convolution and of the input
/// gradient: a stride-(sH, sW) adjoint is sH * sW ordinary stride-1 convolutions of dy, one
/// per output phase, each with the kernel taps of that phase only (`PhaseDecomposition`),
/// each writing every sH-th row and sW-th column of x. Plain GEMMs: no zero-inserted dy
/// ("upsample" multiplies the work by sH * sW) and no col2im adding taps one by one into x
/// ("scatter").
///
/// A task owns a block of x channels of one group and a tile of the phases' output columns
/// ((image, pixel) pairs, the batch folded in), for every phase at once: per block of dy
/// channels it packs each phase's kernel block (one sweep over those weights, which stay in
/// L2 for the phases after the first; or reads them packed ahead) and runs the micro-kernels
/// into per-phase C tiles, then writes the tiles interleaved into x. Every x element is
/// (bias +) one GEMM sum over (dy channel, phase tap) in a fixed order, whatever the tiling or
/// the thread count, and independent of the other images of the batch.
enum PhaseAdjoint {
    /// Output columns per task, at most.
    static let columnTile = 512
    /// Bytes of the C tiles of one task (all phases), at most (unless one 16-column tile
    /// is larger): they stay in L2 until written out.
    static let tileBytes = 512 * 1024
    /// Bytes of the phase kernels' block packed per dy-channel block (all phases), at most:
    /// in L2 while the columns stream past.
    static let kernelBlockBytes = 512 * 1024

    /// `packed`: the phase kernels packed ahead (`PackedWeights`, phase layout; index
    /// g * phases + phase), or nil to pack them here; `phases`: the plan's decomposition of
    /// `s` (`ConvPlan.phaseDecompositions`), or nil to make it here.
    static func adjoint<T: ConvScalar>(_ s: ConvShape, dy: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>,
                                       packed: [PackedMatrix<T>]? = nil, phases: PhaseDecomposition? = nil) throws {
        let phases = phases ?? PhaseDecomposition(s)
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        if s.inputCount == 0 { return }
        if cog == 0 || s.outPixels == 0 {
            for n in 0..<s.batch { fillRows(dx + n * s.inChannels * s.inPixels, rows: s.inChannels, cols: s.inPixels, ld: s.inPixels, values: bias) }
            return
        }
        let bytes = MemoryLayout<T>.stride

        // dy, or a copy with the zero border the phases read around it (`PhaseDecomposition`).
        let inside = phases.readsInside(s)
        let hs = phases.highRow - phases.lowRow + 1, ws = phases.highColumn - phases.lowColumn + 1
        let copyCount = inside ? 0 : try Checked.product([s.batch, s.outChannels, hs, ws], "the zero-bordered input of the 'phase' adjoint")
        let border = try Workspace<T>(count: copyCount, for: "the zero-bordered input of the 'phase' adjoint")
        if !inside { addBorder(s, phases, dy: dy, into: border.pointer) }
        let source = inside ? dy : UnsafePointer(border.pointer)

        // Each phase as a convolution (stride 1, no padding) on its window of the source:
        // the source's plane sizes give the strides, the phase's offsets the window origin.
        let count = phases.count
        let shapes = (0..<count).map { p -> ConvShape in
            let (r, c) = phases.axes(p)
            return ConvShape(batch: s.batch, groups: s.groups, inChannels: s.outChannels, outChannels: s.inChannels,
                             inHeight: hs, inWidth: ws, outHeight: r.count, outWidth: c.count,
                             kernelHeight: max(r.taps, 1), kernelWidth: max(c.taps, 1),
                             dilationH: r.dilation, dilationW: c.dilation)
        }
        let origins = (0..<count).map { p -> Int in
            let (r, c) = phases.axes(p)
            return (r.offset - phases.lowRow) * ws + (c.offset - phases.lowColumn)
        }
        let active = (0..<count).filter { phases.axes($0).rows.isActive && phases.axes($0).columns.isActive }
        let columns = (0..<count).map { s.batch * shapes[$0].outPixels }
        let maxColumns = columns.max() ?? 0
        let totalTaps = (0..<count).reduce(0) { $0 + phases.taps($1) }
        if fewPixels(maxColumns: maxColumns, cig: cig) && packed == nil {
            return try fewPixels(s, phases, source: source, plane: hs * ws, shapes: shapes, origins: origins, columns: columns,
                                 w: w, bias: bias, dx: dx)
        }

        // Tiling: column tiles within the C budget, then row blocks to give every thread work.
        let mr = Gemm.mr, nr = Gemm.nr(T.self)
        let rowsPadded = (cig + mr - 1) / mr * mr
        let threads = ThreadPool.shared.numThreads
        let budgetTile = max(16, tileBytes / max(1, count * rowsPadded * bytes) / 16 * 16)
        var tiles = max(1, (maxColumns + min(columnTile, budgetTile) - 1) / min(columnTile, budgetTile))
        // A few tiles: a multiple of the thread count, so that no thread runs one more tile than
        // the others (DCGAN's 128->64 16x16 at N8: 5 tiles of 416 columns on 2 threads ran
        // 1.6x faster than on 1, as 6 of 352 1.8x: `balancedTiles`).
        tiles = Self.balancedTiles(tiles, threads: threads, groups: s.groups)
        let tile = max(16, ((maxColumns + tiles - 1) / tiles + 15) / 16 * 16)
        tiles = max(1, (maxColumns + tile - 1) / tile)
        var rowBlocks = 1
        if threads > 1 && s.groups * tiles < 2 * threads {
            rowBlocks = min((cig + mr - 1) / mr, (2 * threads + s.groups * tiles - 1) / (s.groups * tiles))
        }
        let rowBlock = ((cig + rowBlocks - 1) / rowBlocks + mr - 1) / mr * mr
        rowBlocks = (cig + rowBlock - 1) / rowBlock

        // Depth blocks of dy channels: each phase's kc within the table's limit, and the
        // phases' kernel blocks together within `kernelBlockBytes`; equal blocks.
        let kcLimit = KernelTable.active.blocking.kc(T.self)
        let maxTaps = max(1, phases.maxTaps)
        var perBlock = max(1, min(kcLimit / maxTaps, kernelBlockBytes / max(1, rowBlock * max(totalTaps, 1) * bytes)))
        let depthBlocks = (cog + perBlock - 1) / perBlock
        perBlock = (cog + depthBlocks - 1) / depthBlocks

        // The phase kernels: packed ahead, or once here when several tasks share them (and
        // the memory can be had), else per task and depth block (phase p's block at
        // aOffsets[p] * channels of the block, for a whole row block).
        let kernels = PhaseKernels(s, phases)
        let shared: [PackedMatrix<T>]?
        if let packed, packed.count == s.groups * count {
            shared = packed
        } else if tiles >= 3 {
            shared = pack(s, phases, w: w)
        } else {
            shared = nil
        }
        var aOffsets: [Int] = [], offset = 0
        for p in 0..<count { aOffsets.append(offset); offset += rowBlock * phases.taps(p) }

        // Per-task scratch: the C tiles, the kernel blocks (when packed per task), one B
        // block, the micro-kernels' edge tile; every part 64-byte aligned.
        let round16 = { (n: Int) in (n + 15) / 16 * 16 }
        let nc = min(round16(tile), max(nr, KernelTable.active.blocking.smallBBytes / max(1, perBlock * maxTaps * bytes) / nr * nr))
        let cCount = count * rowBlock * tile
        let aCount = shared == nil ? rowBlock * perBlock * totalTaps : 0
        let bCount = perBlock * maxTaps * round16(nc)
        let edge = KernelTable.active.blocking.edgeTileElements
        guard let scratchCount = try? Checked.product([1, round16(cCount) + round16(aCount) + round16(bCount) + round16(edge), bytes], ""),
              ThreadScratch.columns.reserve(bytes: scratchCount) else {
            throw ConvError.outOfMemory("conv_transpose2d: could not allocate the 'phase' tiles (\(cCount) elements)")
        }

        ThreadPool.shared.parallelFor(s.groups * rowBlocks * tiles, work: s.macs) { task in
            let g = task / (rowBlocks * tiles), rb = (task / tiles) % rowBlocks, t = task % tiles
            let rows = (rb * rowBlock)..<min(cig, (rb + 1) * rowBlock)
            let scratch = ThreadScratch.columns.buffer(bytes: scratchCount).bindMemory(to: T.self, capacity: scratchCount / bytes)
            let cBase = scratch, aBase = scratch + round16(cCount)
            let bBuf = aBase + round16(aCount), edgeTile = bBuf + round16(bCount)
            func cols(_ p: Int) -> Range<Int> { min(columns[p], t * tile)..<min(columns[p], (t + 1) * tile) }
            var c0 = 0
            while c0 < cog {
                let c1 = min(cog, c0 + perBlock)
                if shared == nil {
                    // Every phase's kernel block in one sweep over w_g[c0 ..< c1, rows, :].
                    kernels.pack(w + g * cog * cig * s.kernelTaps, rows: rows, channels: c0..<c1,
                                 into: (0..<count).map { aBase + aOffsets[$0] * (c1 - c0) },
                                 panelStride: (0..<count).map { phases.taps($0) * (c1 - c0) * mr })
                }
                for p in active {
                    let colRange = cols(p)
                    if colRange.isEmpty { continue }
                    let j = phases.taps(p), depth = (c0 * j)..<(c1 * j), kc = depth.count
                    let a: UnsafePointer<T>, aStride: Int
                    if let shared {
                        let m = shared[g * count + p]
                        a = UnsafePointer(m.panels + (rows.lowerBound / mr * m.depth + depth.lowerBound) * mr)
                        aStride = m.depth * mr
                    } else {
                        a = UnsafePointer(aBase + aOffsets[p] * (c1 - c0))
                        aStride = kc * mr
                    }
                    let b = UnfoldedInput(x: source + origins[p] + g * cog * hs * ws, shape: shapes[p],
                                          imageStride: s.outChannels * hs * ws)
                    let c = cBase + p * rowBlock * tile
                    var j0 = colRange.lowerBound
                    while j0 < colRange.upperBound {
                        let width = min(nc, colRange.upperBound - j0)
                        b.packB(into: bBuf, depth: depth, cols: j0..<(j0 + width), nr: nr)
                        Gemm.block(mc: rows.count, nc: width, kc: kc, a: a, aPanelStride: aStride, b: UnsafePointer(bBuf),
                                   bPanelStride: kc * nr, c: c + (j0 - colRange.lowerBound), ldc: colRange.count,
                                   loadC: c0 > 0, tile: edgeTile)
                        j0 += width
                    }
                }
                c0 = c1
            }
            writeOut(s, phases, shapes: shapes, cols: cols, rows: rows, group: g,
                     c: UnsafePointer(cBase), cStride: rowBlock * tile, bias: bias, dx: dx)
        }
    }

    /// `tiles` column tiles rounded up to a multiple of `threads` when the tasks are few (fewer
    /// than 4 per thread) and a single group's tiles are the tasks; the tiling of columns does
    /// not change any element's sum, so the bits stay the same.
    ///
    /// Measured (2-vCPU AVX-512 Xeon, wall clock, medians of 15 interleaved blocks, this rule
    /// against the build before it in one process, same bits; ms):
    ///
    /// | call                                    | 1 thread      | 2 threads     |
    /// |-----------------------------------------|---------------|---------------|
    /// | T 128->64 16x16 k4 s2 p1 N8 (5 -> 6)    | 4.52 -> 4.48  | 2.89 -> 2.49  |
    /// | T 128->64 16x16 k4 s2 p1 N1             | 0.61 -> 0.59  | 0.31 -> 0.30  |
    /// | grad_input 128->128 56x56 k3 s2 N8      | 15.59 -> 15.39| 8.34 -> 8.11  |
    static func balancedTiles(_ tiles: Int, threads: Int, groups: Int) -> Int {
        if threads < 2 || groups != 1 || tiles < 2 || tiles >= 4 * threads || tiles % threads == 0 { return tiles }
        return (tiles + threads - 1) / threads * threads
    }

    /// For explain: the phases and their kernels, e.g. "2x2 output phases, a stride-1 GEMM
    /// each with its taps: 2x2; dy read in place".
    static func explanation(_ s: ConvShape, _ phases: PhaseDecomposition) -> String {
        var kernels: [String] = []
        for p in 0..<phases.count {
            let (r, c) = phases.axes(p)
            let k = r.taps > 0 && c.taps > 0 ? "\(r.taps)x\(c.taps)" : "none"
            if !kernels.contains(k) { kernels.append(k) }
        }
        let border = phases.readsInside(s) ? "dy read in place" : "dy copied with the zero border the phases read"
        return "\(s.strideH)x\(s.strideW) output phases, a stride-1 GEMM each with its taps: \(kernels.joined(separator: ", ")); \(border)"
    }

    /// The phase kernels of every group packed for the GEMM (index g * phases + phase; an
    /// inactive phase has depth 0), or nil when the memory cannot be had. Split over the
    /// threads by row panels, as `Gemm.tryPackA` does (the sweep of a large kernel, e.g.
    /// dcgan's 8 MB 512->256, is memory-bound work a second thread halves).
    static func pack<T: ConvScalar>(_ s: ConvShape, _ phases: PhaseDecomposition, w: UnsafePointer<T>) -> [PackedMatrix<T>]? {
        let kernels = PhaseKernels(s, phases), cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        let count = phases.count, mr = Gemm.mr
        var packed: [PackedMatrix<T>] = []
        packed.reserveCapacity(s.groups * count)
        for _ in 0..<s.groups {
            let group = (0..<count).compactMap { PackedMatrix<T>(rows: cig, depth: kernels.depth($0)) }
            if group.count != count { return nil }
            packed += group
        }
        // Every size here was allocated above, so the products fit.
        let panels = (cig + mr - 1) / mr, panelElements = max(1, (0..<count).reduce(0) { $0 + kernels.depth($1) } * mr)
        if panels == 0 || cog == 0 { return packed }
        let perTask = max(1, Gemm.packingTaskElements / panelElements)
        let tasks = (panels + perTask - 1) / perTask
        let all = packed
        ThreadPool.shared.parallelFor(s.groups * tasks, work: ThreadPool.copyWork(elements: s.groups * panels * panelElements)) { task in
            let g = task / tasks, p0 = task % tasks * perTask, p1 = min(panels, p0 + perTask)
            let group = all[(g * count)..<((g + 1) * count)]
            kernels.pack(w + g * cog * cig * s.kernelTaps, rows: (p0 * mr)..<min(cig, p1 * mr), channels: 0..<cog,
                         into: group.map { $0.panels + p0 * $0.depth * mr }, panelStride: group.map { $0.depth * mr })
        }
        return packed
    }

    /// dy with the zero border the phases read: row o of dy at row o - lowRow, column likewise.
    static func addBorder<T: ConvScalar>(_ s: ConvShape, _ phases: PhaseDecomposition, dy: UnsafePointer<T>,
                                         into dst: UnsafeMutablePointer<T>) {
        let hs = phases.highRow - phases.lowRow + 1, ws = phases.highColumn - phases.lowColumn + 1
        let planes = s.batch * s.outChannels, outW = s.outWidth
        let left = -phases.lowColumn, right = ws - left - outW
        ThreadPool.shared.parallelFor(planes, work: ThreadPool.copyWork(elements: planes * hs * ws)) { plane in
            let src = dy + plane * s.outPixels, out = dst + plane * hs * ws
            for i in 0..<hs {
                let o = i + phases.lowRow, row = out + i * ws
                if o < 0 || o >= s.outHeight {
                    row.update(repeating: 0, count: ws)
                    continue
                }
                row.update(repeating: 0, count: left)
                (row + left).update(from: src + o * outW, count: outW)
                (row + left + outW).update(repeating: 0, count: right)
            }
        }
    }

    /// Writes the task's C tiles into x, row by row of the channel block, each row's phases
    /// one after the other (they interleave in the same x rows): x = bias + C, or the bias
    /// alone for the outputs of phases without taps.
    static func writeOut<T: ConvScalar>(_ s: ConvShape, _ phases: PhaseDecomposition, shapes: [ConvShape],
                                        cols: (Int) -> Range<Int>, rows: Range<Int>, group g: Int,
                                        c: UnsafePointer<T>, cStride: Int, bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>) {
        let cig = s.inChannelsPerGroup, inW = s.inWidth, imageStride = s.inChannels * s.inPixels
        let sH = s.strideH, sW = s.strideW
        for i in rows {
            let channel = g * cig + i
            let b: T = bias?[channel] ?? 0
            let plane = dx + channel * s.inPixels
            for p in 0..<phases.count {
                let range = cols(p)
                if range.isEmpty { continue }
                let (r, cAxis) = phases.axes(p)
                let taps = r.taps > 0 && cAxis.taps > 0
                let src = c + p * cStride + (i - rows.lowerBound) * range.count - range.lowerBound  // indexed by column
                let qw = shapes[p].outWidth, pixels = shapes[p].outPixels
                var j = range.lowerBound
                var n = j / pixels, q = j - n * pixels
                while j < range.upperBound {
                    let qh = q / qw, first = q - qh * qw
                    let len = min(range.upperBound - j, qw - first)
                    let out = plane + n * imageStride + (r.first + sH * qh) * inW + cAxis.first + sW * first
                    let row = src + j
                    if !taps {
                        for u in 0..<len { out[u * sW] = b }
                    } else if bias == nil {
                        for u in 0..<len { out[u * sW] = row[u] }
                    } else {
                        for u in 0..<len { out[u * sW] = b + row[u] }
                    }
                    j += len; q += len
                    if q == pixels { q = 0; n += 1 }
                }
            }
        }
    }
}
