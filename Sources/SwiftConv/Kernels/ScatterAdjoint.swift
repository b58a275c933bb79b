/// The "scatter" formulation of the transposed convolution (and of the input gradient):
/// every dy pixel adds value * kernel into its input window. Done in bulk: per group and
/// block of x channels, col = W_g^T · dy_g (a GEMM whose columns run over (image, pixel), so
/// small images still make a long GEMM) and each col entry is added into x (col2im).
///
/// A task owns whole x channels (all images, or on several threads the images of a run of
/// column tiles, `KernelSelector.scatterImageParts`): it packs its rows of W_g^T once,
/// then for each column tile runs the GEMM and the col2im. The column tiles depend only on
/// the shape, so every x element receives its contributions in one fixed order whatever the
/// thread count (the channel blocks and image parts, which may depend on it, never share an
/// x element). A prepared call's pixel vectors read W_g^T from `ScatterWeightPanels`.
enum ScatterAdjoint {
    /// GEMM columns ((image, pixel) pairs) per tile, at most.
    static let columnTile = 512
    /// Rows of W_g^T ((channel, kh, kw) triples) per task, at most (fewer when needed to
    /// give every thread work).
    static let rowsPerTask = 256
    /// How the GEMM runs (chosen by the planner, `KernelSelector.scatterRoute`, from the shape
    /// only; every route sums each element over the output channels in order, one fused
    /// multiply-add at a time, so they give the same bits).
    enum Route: String, Sendable {
        /// col = W_g^T dy_g, W_g^T packed by a transposing copy, block by block.
        case plain
        /// col^T = dy_g^T W_g (W_g the B operand, packed by 64-byte row copies), then transposed.
        case swapped
        /// col = W_g^T dy_g with the columns as vector lanes (`sgemmPixelVectors`): dy packed
        /// once per call, the weights read in place and loaded once each, no transpose.
        case pixelVectors
        /// x = dy^T W_g written in place (`writesInPlace`).
        case inPlace
        /// x = dy^T W_g written in place, W_g's rows streamed by the few-row kernel
        /// (`smallGemm`: one pass over the weights, no packing): `KernelSelector.scatterRoute`.
        case inPlaceRows
    }

    /// What `explain` says of a route.
    static func explanation(_ route: Route) -> String {
        switch route {
        case .plain: return "col = W^T dy, W^T packed block by block (dy packed once when the tasks share it); then col2im"
        case .swapped: return "few columns: col^T = dy^T W, then transposed; then col2im"
        case .pixelVectors: return "few columns: col = W^T dy with the columns as vector lanes, the weights read in place and loaded once each; then col2im"
        case .inPlace: return "1x1 input: x = dy^T W, one GEMM writing x; no col2im"
        case .inPlaceRows: return "1x1 input: x = dy^T W, few images: the few-row kernel streaming W's rows in place, writing x; no col2im"
        }
    }

    /// Whether the transposed GEMM writes x itself: dy has one pixel and its window covers x
    /// (dcgan's first layer, 100->512 1x1 -> 4x4 k4: x[n, ci, kh, kw] = sum over co of
    /// dy[n, co] w[co, ci, kh, kw]), so col^T(n, (ci, kh, kw)) is image n of x as it lies:
    /// no transpose of col^T and no col2im (they took 30% of that layer), whatever the batch
    /// (the GEMM then runs transposed beyond `swapColumns` too). x = col + bias is the sum
    /// `placeTiles` makes, so the bits are the same. Measured, one thread, that layer from
    /// Python (ms, col2im before / in place): N1 0.223 / 0.161, N8 0.743 / 0.288, N9 1.04 /
    /// 0.325, N16 1.33 / 0.542, N32 2.37 / 0.924, N64 4.45 / 1.51.
    static func writesInPlace(_ s: ConvShape) -> Bool { s.outPixels == 1 && isTiling(s) }

    static func adjoint<T: ConvScalar>(_ s: ConvShape, dy: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>, route: Route? = nil,
                                       panels: ScatterWeightPanels? = nil) throws {
        // (nil: chosen here, for the callers without a plan: tests, the fallbacks of other kernels.)
        let chosen = route ?? KernelSelector.scatterRoute(s, elementBytes: MemoryLayout<T>.stride)
        let pixels = s.outPixels, k = s.patchSize, taps = s.kernelTaps
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        let columns = s.batch * pixels
        let threads = ThreadPool.shared.numThreads
        // Pixel vectors: 16 columns per vector, 1, 2 or 4 of them; col rows `lanes` apart.
        let vectors = columns <= 16 ? 1 : columns <= 32 ? 2 : 4, lanes = 16 * vectors
        let pixelKernel = chosen == .pixelVectors && T.kind == .float32 && columns <= pixelVectorColumns
            ? KernelTable.active.sgemmPixelVectors : nil
        // The weights packed at creation for the pixel vectors, when they are these weights' panels.
        let prepared = pixelKernel != nil && panels?.fits(s) == true ? panels : nil
        var perBlock = max(1, min(cig, (pixelKernel != nil ? pixelVectorRowsPerTask(vectors: vectors) : rowsPerTask) / max(taps, 1)))
        while perBlock > 1 && s.groups * ((cig + perBlock - 1) / perBlock) < 2 * threads {
            perBlock = (perBlock + 1) / 2
        }
        let blocks = (cig + perBlock - 1) / perBlock
        // Equal column tiles of at most `columnTile` (a multiple of 16), from the shape only.
        let tiles = max(1, (columns + columnTile - 1) / columnTile)
        let tile = max(16, ((columns + tiles - 1) / tiles + 15) / 16 * 16)
        let imageStride = s.inChannels * s.inPixels
        // The col tile of a task (user-sized: rows grow with the kernel): reported here, on the
        // calling thread, if it cannot be had, instead of trapping inside a task.
        // (Routes that need Float and a table entry fall back to plain elsewhere: the same bits.)
        let onePixel = (chosen == .inPlace || chosen == .inPlaceRows) && writesInPlace(s)
        let swap = chosen == .swapped || onePixel
        let width = pixelKernel != nil ? lanes : min(tile, max(columns, 1))
        let (colCount, o1) = (perBlock * taps).multipliedReportingOverflow(by: width)
        // Transposed: the GEMM's col^T, then col.
        let (colBytes, o2) = colCount.multipliedReportingOverflow(by: MemoryLayout<T>.stride * (swap ? 2 : 1))
        if o1 || o2 || (cog > 0 && columns > 0 && !ThreadScratch.columns.reserve(bytes: colBytes)) {
            throw ConvError.outOfMemory("conv_transpose2d: could not allocate the 'scatter' column tile (\(colCount) elements)")
        }
        // Pixel vectors: dy of every group packed once, `lanes` Floats per channel, zero past the
        // last column (nil when the memory cannot be had: then plain, the same bits).
        let dyLanes: UnsafeMutablePointer<Float>? = pixelKernel == nil || cog == 0 || columns == 0 ? nil : {
            let (count, o) = (s.groups * cog).multipliedReportingOverflow(by: lanes)
            guard !o, let raw = AlignedMemory.allocate(bytes: count * 4) else { return nil }
            let p = raw.bindMemory(to: Float.self, capacity: count)
            let src = UnsafeRawPointer(dy).assumingMemoryBound(to: Float.self)
            for c in 0..<(s.groups * cog) {
                let row = p + c * lanes
                for n in 0..<s.batch { (row + n * pixels).update(from: src + (n * s.outChannels + c) * pixels, count: pixels) }
                (row + columns).update(repeating: 0, count: lanes - columns)
            }
            return p
        }()
        defer { if let dyLanes { AlignedMemory.release(UnsafeMutableRawPointer(dyLanes)) } }
        // Plain route on one column tile: dy packed once into full-depth B panels shared by
        // every task of its group (`sharedPanels`; nil: each task's GEMM packs it, same bits).
        let nr = Gemm.nr(T.self), bPanelCount = (columns + nr - 1) / nr
        // dy read in place as B, image by image (`KernelSelector.scatterReadsImagesInPlace`):
        // no B panels at all.
        let imagesInPlace = chosen == .plain && pixelKernel == nil && cog > 0 && columns > 0
            && KernelSelector.scatterReadsImagesInPlace(s, rowsPerTask: perBlock * taps, elementBytes: MemoryLayout<T>.stride)
        let sharesB = chosen == .plain && pixelKernel == nil && !imagesInPlace && blocks > 1 && cog > 0 && columns > 0
            && s.groups * bPanelCount * cog * nr * MemoryLayout<T>.stride <= sharedPanelBytes
        let bPanels: UnsafeMutablePointer<T>? = sharesB ? sharedPanels(s, dy: dy, panels: bPanelCount) : nil
        defer { if let bPanels { AlignedMemory.release(UnsafeMutableRawPointer(bPanels)) } }
        let aCount = Gemm.packedAElements(rows: perBlock * taps, depth: cog)
        if bPanels != nil && !ThreadScratch.gemm.reserve(bytes: aCount * MemoryLayout<T>.stride) {
            throw ConvError.outOfMemory("conv_transpose2d: could not allocate the 'scatter' weight panels (\(aCount) elements)")
        }
        // Pixel vectors: col2im by a table of the few columns' x offsets (nil: the general one).
        let table = dyLanes != nil && !isTiling(s) ? ScatterIndexTable(s, columns: columns) : nil
        defer { table?.release() }
        // Each channel block's column tiles split at image boundaries over `parts` tasks
        // (`KernelSelector.scatterImageParts`): part q runs tiles tileStart[q]..<tileStart[q + 1].
        let tileCount = max(1, (columns + tile - 1) / tile)
        let parts = pixelKernel == nil && cog > 0 && columns > 0
            ? KernelSelector.scatterImageParts(tiles: tileCount, tile: tile, pixels: pixels, tasks: s.groups * blocks, threads: threads)
            : ImageParts(tileStarts: [0, tileCount])
        ThreadPool.shared.parallelFor(s.groups * blocks * parts.count, work: s.macs) { task in
            let q = task % parts.count, g = task / parts.count / blocks, b = task / parts.count % blocks
            let c0 = b * perBlock, c1 = min(cig, c0 + perBlock)
            let dxBlock = dx + (g * cig + c0) * s.inPixels
            let tiling = isTiling(s) && cog > 0 && columns > 0
            // This task's columns (every column when nothing is split) and the images they hold.
            let firstColumn = parts.tileStarts[q] * tile, endColumn = min(columns, parts.tileStarts[q + 1] * tile)
            let images = parts.count == 1 ? 0..<s.batch : (firstColumn / pixels)..<((endColumn + pixels - 1) / pixels)
            if !tiling {
            for n in images {
                for c in c0..<c1 {
                    (dxBlock + n * imageStride + (c - c0) * s.inPixels)
                        .update(repeating: bias?[g * cig + c] ?? 0, count: s.inPixels)
                }
            }
            }
            if cog == 0 || columns == 0 { return }
            let rows = (c0 * taps)..<(c1 * taps)
            // A(r, co) = w_g[co, r], packed once; B(co, (n, p)) = dy[n, g*cog + co, p].
            // (Unpacked when the memory cannot be had: the GEMM packs it itself, same bits.)
            let aRows = TransposedRows(base: w + g * cog * k, ld: k)
            // Packed up front only when several column tiles share it (a per-call allocation
            // of a large W_g^T costs more than packing it block by block in the GEMM:
            // 3x3 512->512 7x7 grad_input 6.96 vs 2.86 ms, one thread).
            let a = (parts.tileStarts[q + 1] - parts.tileStarts[q] > 1 || (imagesInPlace && images.count > 1)) && !swap && bPanels == nil
                ? Gemm.tryPackA(aRows, rows: rows, depth: cog) : nil
            let packedA: UnsafeMutablePointer<T>? = bPanels == nil ? nil : {
                let buffer = ThreadScratch.gemm.buffer(bytes: aCount * MemoryLayout<T>.stride).bindMemory(to: T.self, capacity: aCount)
                aRows.packA(into: buffer, rows: rows, depth: 0..<cog)
                return buffer
            }()
            let bm = ImageColumns(base: dy + g * cog * pixels, rowStride: pixels,
                                  imageStride: s.outChannels * pixels, pixels: pixels)
            let colScratch = ThreadScratch.columns.buffer(bytes: rows.count * width * MemoryLayout<T>.stride * (swap ? 2 : 1))
                .bindMemory(to: T.self, capacity: rows.count * width * (swap ? 2 : 1))
            let col = colScratch
            if let pixelKernel, let dyLanes {
                // col(r, j) = sum over co of W_g(co, r) * dy(co, j), depth block by depth block.
                let wBase = UnsafeRawPointer(w + g * cog * k + rows.lowerBound).assumingMemoryBound(to: Float.self)
                let c = UnsafeMutableRawPointer(col).assumingMemoryBound(to: Float.self)
                if let panels = prepared {
                    // The prepared panels (`ScatterWeightPanels`): panel by panel, the whole depth.
                    var r = rows.lowerBound
                    while r < rows.upperBound {
                        let (r0, wd, elements) = panels.panel(group: g, row: r)
                        let end = min(rows.upperBound, r0 + wd)
                        pixelKernel(vectors, end - r, cog, elements + (r - r0), wd, dyLanes + g * cog * lanes,
                                    c + (r - rows.lowerBound) * lanes, false, panelPrefetchRows * wd)
                        r = end
                    }
                }
                var pc = prepared == nil ? 0 : cog
                while pc < cog {
                    let kc = min(pixelVectorDepth(vectors: vectors), cog - pc)
                    pixelKernel(vectors, rows.count, kc, wBase + pc * k, k, dyLanes + (g * cog + pc) * lanes, c, pc > 0,
                                pixelVectorPrefetch)
                    pc += kc
                }
                if tiling {
                    placeTiles(s, col: col, ldCol: lanes, rows: rows, cols: 0..<columns, dx: dxBlock, firstChannel: c0,
                               bias: bias.map { $0 + g * cig })
                } else if let table {
                    table.add(s, col: col, ldCol: lanes, rows: rows, dx: dxBlock, firstChannel: c0)
                } else {
                    col2im(s, col: col, ldCol: lanes, rows: rows, cols: 0..<columns, dx: dxBlock, firstChannel: c0)
                }
                return
            }
            var j0 = firstColumn
            while j0 < endColumn {
                let cols = j0..<min(endColumn, j0 + tile)
                if swap && onePixel {
                    // x_n = dy_n^T · W_g (+ bias), written in place: see `writesInPlace`; by
                    // rows of W in place for few images (`writesByWeightRows`), the same sums.
                    let wg = w + g * cog * k + rows.lowerBound, xTile = dxBlock + cols.lowerBound * imageStride
                    if chosen == .inPlaceRows {
                        OnePixelConvolution.smallGemm(m: cols.count, n: rows.count, k: cog, a: dy + g * cog + cols.lowerBound * s.outChannels,
                                                      aRow: s.outChannels, aDepth: 1, b: wg, ldb: k, initial: nil, c: xTile, ldc: imageStride)
                    } else {
                        Gemm.multiply(ImageRows(columns: bm), StridedMatrix(base: wg, rowStride: k, colStride: 1),
                                      rows: cols, cols: 0..<rows.count, depth: cog, c: xTile, ldc: imageStride, accumulate: false)
                    }
                    if let bias {
                        for n in cols {
                            for c in c0..<c1 {
                                let b = bias[g * cig + c], plane = dxBlock + n * imageStride + (c - c0) * s.inPixels
                                for u in 0..<s.inPixels { plane[u] = b + plane[u] }
                            }
                        }
                    }
                    j0 = cols.upperBound
                    continue
                } else if swap {
                    // col^T(j, r) = sum over co of dy(co, j) * W_g(co, r), then transposed.
                    let colT = colScratch + rows.count * width
                    let dyT = ImageRows(columns: bm)
                    let wm = StridedMatrix(base: w + g * cog * k + rows.lowerBound, rowStride: k, colStride: 1)
                    Gemm.multiply(dyT, wm, rows: cols, cols: 0..<rows.count, depth: cog, c: colT, ldc: rows.count, accumulate: false)
                    let n = cols.count, m = rows.count
                    for j in 0..<n {
                        let src = colT + j * m
                        for r in 0..<m { col[r * n + j] = src[r] }
                    }
                } else if let bPanels, let aBuf = packedA {
                    // W_g^T packed once per task, the B panels shared: the GEMM's small-A loop
                    // (A in L2, the micro-kernels over each B panel) with both read in place.
                    Gemm.multiplyPacked(m: rows.count, n: cols.count, depth: cog, aBuffer: aBuf,
                                        b: bPanels + (g * bPanelCount + cols.lowerBound / nr) * cog * nr, bPanelStride: cog * nr,
                                        c: col, ldc: cols.count)
                } else if imagesInPlace {
                    // The tile's columns image by image, dy's rows of that image as a row-major B.
                    var j = cols.lowerBound
                    while j < cols.upperBound {
                        let n = j / pixels, p0 = j - n * pixels, p1 = min(pixels, p0 + cols.upperBound - j)
                        let image = StridedMatrix(base: dy + (n * s.outChannels + g * cog) * pixels, rowStride: pixels, colStride: 1)
                        let cPart = col + (j - cols.lowerBound)
                        if let a {
                            Gemm.multiply(a, image, rows: 0..<rows.count, cols: p0..<p1, depth: cog, c: cPart, ldc: cols.count, accumulate: false)
                        } else {
                            Gemm.multiply(aRows, image, rows: rows, cols: p0..<p1, depth: cog, c: cPart, ldc: cols.count, accumulate: false)
                        }
                        j += p1 - p0
                    }
                } else if let a = a {
                    Gemm.multiply(a, bm, rows: 0..<rows.count, cols: cols, depth: cog, c: col, ldc: cols.count, accumulate: false)
                } else {
                    Gemm.multiply(aRows, bm, rows: rows, cols: cols, depth: cog, c: col, ldc: cols.count, accumulate: false)
                }
                if tiling {
                    placeTiles(s, col: col, ldCol: cols.count, rows: rows, cols: cols, dx: dxBlock, firstChannel: c0,
                               bias: bias.map { $0 + g * cig })
                } else {
                    col2im(s, col: col, ldCol: cols.count, rows: rows, cols: cols, dx: dxBlock, firstChannel: c0)
                }
                j0 = cols.upperBound
            }
        }
    }

    /// The first column tile of each part of a channel block's tiles, and the end (`count`
    /// parts: `tileStarts.count - 1`).
    struct ImageParts {
        var tileStarts: [Int]
        var count: Int { tileStarts.count - 1 }
    }

    /// Bytes of dy's shared B panels (`sharedPanels`), at most: beyond, each task packs its own
    /// (a bound on the per-call allocation, not a measured optimum: the largest shapes measured
    /// below share 1.6 MB).
    static let sharedPanelBytes = 4 << 20

    /// dy of every group as the GEMM's B panels over the whole depth (panel q of group g at
    /// (g * panels + q) * cog * nr, element (co, j) at co * nr + j), packed once over the pool,
    /// or nil when the memory cannot be had. The plain route's tasks (8-16 per call on dcgan's
    /// N8 layers) each packed all of it for their GEMM (perf: 6% of dcgan's 256->128 8x8 N8).
    /// Measured with the tap-pair rows of `col2im` (`addTapRows`), one thread, CPU-time
    /// medians of 5 interleaved rounds, this build against the one before in one process,
    /// same bits asserted (2-vCPU AVX-512 Xeon, load ~11 from other jobs; ms, new / old):
    ///
    /// | conv_transpose2d                 | N1            | N8              |
    /// |----------------------------------|---------------|-----------------|
    /// | dcgan 512->256 4x4 k4 s2 p1      | 0.681 / 0.674 | 4.686 / 4.923   |
    /// | dcgan 256->128 8x8 k4 s2 p1      | 0.532 / 0.533 | 3.940 / 4.682   |
    /// | dcgan 128->64 16x16 k4 s2 p1     | 0.531 / 0.608 | 5.047 / 5.014   |
    /// | dcgan 64->3 32x32 k4 s2 p1       | 0.071 / 0.084 | 0.695 / 0.750   |
    /// | unet 1024->512 7x7 k2 s2         | 2.104 / 2.085 | 13.96 / 14.26   |
    /// | 256->256 14x14 k3 s2 p1 op1      | 2.137 / 2.254 | 15.86 / 16.68   |
    /// | 512->512 7x7 k3 s2 p1 op1        | 2.953 / 2.969 | 15.29 / 16.83   |
    ///
    /// (dcgan N1 512->256 and 256->128 run the pixel vectors, 128->64 N8 the phases: neither
    /// changed.)
    static func sharedPanels<T: ConvScalar>(_ s: ConvShape, dy: UnsafePointer<T>, panels: Int) -> UnsafeMutablePointer<T>? {
        let cog = s.outChannelsPerGroup, pixels = s.outPixels, nr = Gemm.nr(T.self), columns = s.batch * pixels
        let panelElements = cog * nr
        let (count, o1) = (s.groups * panels).multipliedReportingOverflow(by: panelElements)
        let (bytes, o2) = count.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard !o1, !o2, let raw = AlignedMemory.allocate(bytes: bytes) else { return nil }
        let dst = raw.bindMemory(to: T.self, capacity: count)
        ThreadPool.shared.parallelFor(s.groups * panels, work: ThreadPool.copyWork(elements: count)) { task in
            let g = task / panels, q = task % panels
            let bm = ImageColumns(base: dy + g * cog * pixels, rowStride: pixels, imageStride: s.outChannels * pixels, pixels: pixels)
            bm.packB(into: dst + task * panelElements, depth: 0..<cog, cols: (q * nr)..<min(columns, (q + 1) * nr), nr: nr)
        }
        return dst
    }

    /// The most GEMM columns the pixel-vector route takes (four zmm of 16 lanes).
    static let pixelVectorColumns = 64

    /// Depth (dy channels) per block of the pixel-vector route: the accumulators go through
    /// the col tile once per block. One vector of lanes (16 FMAs per k and tile) wants short
    /// blocks: few W rows (each its own page) streamed at once, along the rows; more vectors
    /// do more FMAs per W element and want longer blocks. Measured (ms, one thread, prepared,
    /// CPU time medians, 2-vCPU AVX-512 Xeon at load 8; the routes before, the weights
    /// streamed as B / plain / plain: 1.02-1.10 / 0.69-0.70 / 2.40-2.59): dcgan 512->256 4x4 N1 (1 vector, 4096-row tasks) depth 16: 0.81, 32: 0.90;
    /// (256-row tasks) 16: 0.90, 32: 0.98, 64: 1.00, 128: 1.03, 512: 1.21; dcgan 256->128 8x8
    /// N1 (4 vectors, 1024-row tasks) 16: 0.63, 32: 0.57, 64: 0.55; unet 1024->512 7x7 k2 N1
    /// (4 vectors) 16: 2.20, 32: 1.98, 64: 1.92.
    /// Session 9 (dcgan 512->256 N1, plain call, one thread, CPU-time medians of 11, two
    /// builds alternated in one process, each pair run twice): depth 16 vs 12: 0.723 / 0.725
    /// vs 0.655 / 0.663 ms; 12 vs 10: 0.669 / 0.664 vs 0.660 / 0.670 (even: 12 keeps fewer
    /// passes through the col tile). A kernel-only probe of that GEMM (W 512 x 4096, rows
    /// 16 KB apart) showed why: with W's rows a multiple of 4 KB apart, all W lines of a tile
    /// fall in one L1 set (12 ways); the same GEMM on rows 4112 Floats apart took 0.60 instead
    /// of 0.73 ms. Fewer rows per depth block keep a tile's lines within the set's ways.
    /// Tried in that probe, no gain: prefetcht0 instead of t1, prefetch distances of 32-256
    /// Floats, 256-4096-row tasks, a padded col tile, and W's rows as the vector lanes (col^T).
    /// Zen5 (session 12, dcgan 512->256 N1 plain, ms, medians of 4 alternating processes):
    /// depth 12 0.434, 8 0.440, 24 0.463, 48 0.445; prefetch 256 Floats 0.444, with depth 24
    /// 0.478. Prepared calls avoid the in-place walk (`ScatterWeightPanels`: 0.34-0.37).
    static func pixelVectorDepth(vectors: Int) -> Int { vectors == 1 ? 12 : 64 }

    /// Rows of W_g^T per task of the pixel-vector route, at most: a 256 KB col tile (in L2),
    /// so that W's rows are read in long runs (the 256-row tasks of the other routes read
    /// dcgan's 512->256 weights in 1 KB pieces: 0.90 vs 0.81 ms, see `pixelVectorDepth`).
    static func pixelVectorRowsPerTask(vectors: Int) -> Int { 4096 / vectors }

    /// Rows of a prepared panel (`ScatterWeightPanels`) prefetched ahead of the pixel-vector
    /// kernel's row, in the same tile's columns.
    /// Measured (ms, one thread, prepared, CPU time per call, medians of 4 alternating
    /// processes, 2-vCPU Zen5 at load ~15; dcgan 512->256 4x4 N1 / 256->128 8x8 N1): 8 rows
    /// 0.398 / 0.347, 32 0.387 / 0.342, 64 0.371 / 0.337; again: 64 0.349 / 0.333, 128 0.341 /
    /// 0.333, 256 0.344 / 0.327. Depth blocks as the in-place walk's (64, 128 Floats, the col
    /// tile reloaded between them) instead of the whole depth: 0.399 / 0.343, 0.346 / 0.329.
    static let panelPrefetchRows = 128

    /// Floats past a pixel-vector tile's W columns prefetched row by row (four tiles ahead at
    /// one vector). Measured as `pixelVectorDepth` (256-row tasks, depth 64): 16: 1.08 / 0.556 /
    /// 1.90, 64: 1.00 / 0.551 / 2.11, 128: 1.01 / 0.559 / 2.20, 256: 1.03 / 0.568 / 2.41 ms.
    static let pixelVectorPrefetch = 64

    /// Adds col(r, j) into x[n, ci, ih, iw] for every (ci, kh, kw) = r and (n, oh, ow) = j that
    /// land inside x, row by row of col, and in a row by increasing j. `dx` points at channel
    /// `firstChannel` of the group in image 0; col rows are `ldCol` apart.
    static func col2im<T: ConvScalar>(_ s: ConvShape, col: UnsafePointer<T>, ldCol: Int, rows: Range<Int>, cols: Range<Int>,
                                      dx: UnsafeMutablePointer<T>, firstChannel: Int) {
        let taps = s.kernelTaps, kW = s.kernelWidth
        let inW = s.inWidth, outW = s.outWidth, pixels = s.outPixels
        let sH = s.strideH, sW = s.strideW
        let imageStride = s.inChannels * s.inPixels
        let outH = s.outHeight, kH = s.kernelHeight
        // The valid output rows of every kh and columns of every kw, computed once (per row
        // of col they cost more divisions than dcgan's 4x4 planes have pixels).
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 &* (kH &+ kW)) { buffer in
        let rowValid = buffer.baseAddress!, columnValid = rowValid + 2 &* kH
        for kh in 0..<kH {
            let v = validOutputs(offset: kh &* s.dilationH &- s.padTop, stride: sH, inSize: s.inHeight, outSize: outH)
            rowValid[2 &* kh] = v.lowerBound; rowValid[2 &* kh &+ 1] = v.upperBound
        }
        for kw in 0..<kW {
            let v = validOutputs(offset: kw &* s.dilationW &- s.padLeft, stride: sW, inSize: inW, outSize: outW)
            columnValid[2 &* kw] = v.lowerBound; columnValid[2 &* kw &+ 1] = v.upperBound
        }
        var r = rows.lowerBound
        var ci = r / taps, kh = (r - ci * taps) / kW, kw = r - ci * taps - kh * kW
        while r < rows.upperBound {
            // With column stride 2 and no dilation, taps kw and kw + 1 write the even and the
            // odd columns of the same x rows: done together as one interleaved run. Every x
            // element still receives its contributions in increasing r, one per r.
            let pair = sW == 2 && s.dilationW == 1 && kw &+ 1 < kW && r &+ 1 < rows.upperBound
            let ihOff = kh &* s.dilationH &- s.padTop, iwOff = kw &* s.dilationW &- s.padLeft
            let validOh = rowValid[2 &* kh]..<rowValid[2 &* kh &+ 1]
            let validOw = columnValid[2 &* kw]..<columnValid[2 &* kw &+ 1]
            // (Dilation 1: tap kw + 1's columns are those of offset iwOff + 1.)
            let validOw1 = pair ? columnValid[2 &* kw &+ 2]..<columnValid[2 &* kw &+ 3] : 0..<0
            let step = pair ? 2 : 1
            defer {
                r &+= step; kw &+= step
                if kw >= kW { kw &-= kW; kh &+= 1; if kh == kH { kh = 0; ci &+= 1 } }
            }
            if validOh.isEmpty || (validOw.isEmpty && validOw1.isEmpty) { continue }
            let plane = dx + (ci - firstChannel) * s.inPixels
            let src = col + (r - rows.lowerBound) * ldCol
            let src1 = src + ldCol
            // Image by image of the tile; in each, the output rows that are valid for this tap.
            var j = cols.lowerBound
            var n = j / pixels, pStart = j &- n &* pixels
            while j < cols.upperBound {
                let pEnd = min(pixels, pStart &+ (cols.upperBound &- j))
                let dImg = plane + n &* imageStride
                let sImg = src + (j &- cols.lowerBound &- pStart)  // indexed by pixel
                let sImg1 = src1 + (j &- cols.lowerBound &- pStart)
                let ohLo = pStart == 0 ? validOh.lowerBound : max(validOh.lowerBound, pStart / outW)
                let ohHi = pEnd == pixels ? validOh.upperBound : min(validOh.upperBound, (pEnd &+ outW &- 1) / outW)
                // Float tap pairs: the rows the tile holds whole in one call of the tier kernel
                // (each tap's rows write distinct x elements, so the order over rows is free).
                let wholeLo = pair && T.kind == .float32 ? max(ohLo, (pStart &+ outW &- 1) / outW) : ohHi
                let wholeHi = min(ohHi, pEnd / outW)
                var oh = ohLo
                while oh < ohHi {
                    if oh == wholeLo && wholeLo < wholeHi {
                        addTapRows(dImg + ((oh &* sH &+ ihOff) &* inW &+ iwOff), dstRowStride: sH &* inW,
                                   sImg + oh &* outW, sImg1 + oh &* outW, srcRowStride: outW, rows: wholeHi &- wholeLo,
                                   validOw, validOw1)
                        oh = wholeHi
                        continue
                    }
                    let rowStart = oh &* outW
                    let cLo = max(0, pStart &- rowStart), cHi = min(outW, pEnd &- rowStart)
                    let lo = max(validOw.lowerBound, cLo), hi = min(validOw.upperBound, cHi)
                    let dRow = dImg + ((oh &* sH &+ ihOff) &* inW &+ iwOff)
                    let sRow = sImg + rowStart
                    if pair {
                        let lo1 = max(validOw1.lowerBound, cLo), hi1 = min(validOw1.upperBound, cHi)
                        addTapRows(dRow, dstRowStride: 0, sRow, sImg1 + rowStart, srcRowStride: 0, rows: 1, lo..<max(lo, hi), lo1..<max(lo1, hi1))
                    } else if lo < hi {
                        if sW == 1 {
                            addRow(dRow + lo, sRow + lo, hi &- lo)
                        } else {
                            for u in lo..<hi { dRow[u &* sW] += sRow[u] }
                        }
                    }
                    oh &+= 1
                }
                j &+= pEnd &- pStart
                n &+= 1; pStart = 0
            }
        }
        }
    }

    /// Whether the windows tile x exactly (no dilation, no padding, and per axis kernel ==
    /// stride with x fully covered, e.g. unet's k2 s2, or one window covering the whole axis,
    /// e.g. dcgan's first layer, 1x1 -> 4x4): every x element then receives exactly one col
    /// entry, so col2im is a permutation (x = bias + col, the same sum as filling with the
    /// bias and adding) and x needs no separate bias fill. (dcgan's first layer spent 43% of
    /// its time in the general col2im, one (channel, tap) row of one element at a time.)
    static func isTiling(_ s: ConvShape) -> Bool {
        func tiles(_ k: Int, _ stride: Int, _ dilation: Int, _ pad: Int, _ inSize: Int, _ outSize: Int) -> Bool {
            dilation == 1 && pad == 0 && ((k == stride && inSize == outSize * stride) || (outSize == 1 && inSize == k))
        }
        return tiles(s.kernelHeight, s.strideH, s.dilationH, s.padTop, s.inHeight, s.outHeight)
            && tiles(s.kernelWidth, s.strideW, s.dilationW, s.padLeft, s.inWidth, s.outWidth)
    }

    /// col2im for `isTiling` shapes: x[n, ci, oh*kH + kh, ow*kW + kw] = bias[ci] + col(r, j),
    /// (ci, kh, kw) = r, (n, oh, ow) = j (an axis with one output has oh or ow = 0, so its
    /// stride does not matter). `bias` points at the group's first channel.
    static func placeTiles<T: ConvScalar>(_ s: ConvShape, col: UnsafePointer<T>, ldCol: Int, rows: Range<Int>, cols: Range<Int>,
                                          dx: UnsafeMutablePointer<T>, firstChannel: Int, bias: UnsafePointer<T>?) {
        let kH = s.kernelHeight, kW = s.kernelWidth, taps = s.kernelTaps
        let inW = s.inWidth, outW = s.outWidth, pixels = s.outPixels
        let imageStride = s.inChannels * s.inPixels
        let c0 = rows.lowerBound / taps, c1 = rows.upperBound / taps
        for ci in c0..<c1 {
            let b: T = bias?[ci] ?? 0
            let plane = dx + (ci - firstChannel) * s.inPixels
            for kh in 0..<kH {
                let r0 = ci * taps + kh * kW
                let src0 = col + (r0 - rows.lowerBound) * ldCol
                var j = cols.lowerBound
                while j < cols.upperBound {
                    let n = j / pixels, pStart = j &- n &* pixels
                    let pEnd = min(pixels, pStart &+ (cols.upperBound &- j))
                    let dImg = plane + n &* imageStride
                    let sImg = src0 + (j &- cols.lowerBound &- pStart)  // indexed by pixel
                    var p = pStart
                    while p < pEnd {
                        let oh = p / outW, ow0 = p &- oh &* outW
                        let ow1 = min(outW, ow0 &+ (pEnd &- p))
                        let dRow = dImg + (oh &* kH &+ kh) &* inW
                        let sRow = sImg + oh &* outW
                        if kW == 2 {
                            let s1 = sRow + ldCol
                            for ow in ow0..<ow1 {
                                dRow[2 &* ow] = b + sRow[ow]
                                dRow[2 &* ow &+ 1] = b + s1[ow]
                            }
                        } else {
                            for kw in 0..<kW {
                                let sk = sRow + kw &* ldCol
                                for ow in ow0..<ow1 { dRow[ow &* kW &+ kw] = b + sk[ow] }
                            }
                        }
                        p &+= ow1 &- ow0
                    }
                    j &+= pEnd &- pStart
                }
            }
        }
    }

    /// dst_i[2u] += a_i[u] for u in `even`, dst_i[2u + 1] += b_i[u] for u in `odd`, for `rows`
    /// rows i (dst_i, a_i, b_i: row strides apart): a stride-2 tap pair. Float: the tier's
    /// kernel, one call for the block (`addInterleavedTapRowsF32`); else this loop.
    @inline(__always)
    static func addTapRows<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, dstRowStride: Int, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>,
                                          srcRowStride: Int, rows: Int, _ even: Range<Int>, _ odd: Range<Int>) {
        if T.kind == .float32 {
            KernelTable.active.addInterleavedTapRowsF32(UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Float.self), dstRowStride,
                                                        UnsafeRawPointer(a).assumingMemoryBound(to: Float.self),
                                                        UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), srcRowStride,
                                                        rows, even.lowerBound, even.upperBound, odd.lowerBound, odd.upperBound)
            return
        }
        var d = dst, sa = a, sb = b
        for _ in 0..<rows {
            for u in even { d[u &* 2] += sa[u] }
            for u in odd { d[u &* 2 &+ 1] += sb[u] }
            d += dstRowStride; sa += srcRowStride; sb += srcRowStride
        }
    }

    /// dst[0..<count] += src[0..<count].
    @inline(__always)
    static func addRow<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, _ count: Int) {
        var u = 0
        while u &+ 8 <= count {
            let a = UnsafeRawPointer(dst + u).loadUnaligned(as: SIMD8<T>.self)
            let b = UnsafeRawPointer(src + u).loadUnaligned(as: SIMD8<T>.self)
            UnsafeMutableRawPointer(dst + u).storeBytes(of: a + b, as: SIMD8<T>.self)
            u &+= 8
        }
        while u < count { dst[u] += src[u]; u &+= 1 }
    }

    /// The outputs o in 0..<outSize whose input index o*stride + offset lies in 0..<inSize.
    @inline(__always)
    static func validOutputs(offset: Int, stride: Int, inSize: Int, outSize: Int) -> Range<Int> {
        let lo = offset >= 0 ? 0 : (-offset &+ stride &- 1) / stride
        let hiIndex = inSize &- 1 &- offset
        if hiIndex < 0 { return 0..<0 }
        let hi = min(outSize, hiIndex / stride &+ 1)
        return lo < hi ? lo..<hi : 0..<0
    }
}
