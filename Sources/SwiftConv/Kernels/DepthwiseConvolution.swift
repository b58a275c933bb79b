import CSwiftConv

/// Depthwise convolution (groups == input channels == output channels) vectorised over
/// channels: the forward, its adjoint (grad_input, transposed convolution) and the weight
/// gradient, on the SIMD loops of DepthwiseKernels.swift.
///
/// Per image and block of 16 Float (8 Double) channels, a task copies the source rows its
/// output rows need into a channel-interleaved tile (one 64-byte vector per pixel, with the
/// zero border built in), runs the taps as vector multiply-adds over it, and copies its
/// output tile back into the NCHW planes. The SIMD loops take a pixel stride and a row stride,
/// so they also run on channels-last (NHWC) memory as it is, without the tiles ("Channels-last,
/// in place" below): the strided adjoint and the weight gradient do; the stride-1 layers and
/// large strided forwards copy channels-last rows into the same tiles instead
/// (`ChannelsLastDepthwise`, rule `KernelSelector.channelsLastDepthwiseTiles`), since one
/// 64-byte block per pixel C x 4 bytes apart is a stream the prefetchers do not follow.
///
/// Tasks are (image, channel block, output row block); an output element's sum does not
/// depend on the rows a task covers, so every split gives the same bits. Calls whose planes
/// do not stay in L2 with one task per plane block prefetch each next task's planes (one thread) while a
/// tile's taps run (`run`, rule `KernelSelector.depthwisePrefetchesNextPlanes`). The weight
/// gradient's tasks are channel blocks, each summing images and row blocks (of a size fixed by
/// the shape) in order: the same bits for every thread count.
enum DepthwiseConvolution {
    /// Bytes of source tile a task aims for (the output tile is about as large): the two stay
    /// in L2 while the taps run over them.
    static let tileBytes = 64 * 1024
    /// The most source tile bytes one output row may need; wider or more dilated shapes keep
    /// the plane kernels (the scratch would be large for little gain).
    static let maxRowTileBytes = 2 * 1024 * 1024

    /// A planar convolution with one input and one output channel per group.
    static func isDepthwise(_ s: ConvShape) -> Bool {
        s.isPlanar && s.groups >= 1 && s.inChannels == s.groups && s.outChannels == s.groups
    }

    /// Whether these kernels run `s` (forward or adjoint): depthwise, with a one-row tile
    /// within `maxRowTileBytes`.
    static func supports(_ s: ConvShape, adjoint: Bool) -> Bool {
        guard isDepthwise(s) else { return false }
        let t = Tiling(s, adjoint: adjoint, elementBytes: 8)
        let (bytes, o) = t.sourceRows(1).multipliedReportingOverflow(by: t.tileWidth)
        return !o && bytes <= maxRowTileBytes / 64 && t.tileWidth <= maxRowTileBytes / 64
    }

    /// Rows and tiles of one direction. Forward: source x (inH x inW), destination y;
    /// adjoint: source dy (outH x outW), destination dx.
    struct Tiling {
        let s: ConvShape
        let adjoint: Bool
        let lanes: Int
        let srcH: Int, srcW: Int, dstH: Int, dstW: Int
        /// Source columns the whole destination width reads: [colLo, colHi).
        let colLo: Int, colHi: Int
        var tileWidth: Int { colHi - colLo }

        init(_ s: ConvShape, adjoint: Bool, elementBytes: Int) {
            self.s = s
            self.adjoint = adjoint
            lanes = 64 / elementBytes
            (srcH, srcW, dstH, dstW) = adjoint ? (s.outHeight, s.outWidth, s.inHeight, s.inWidth)
                                               : (s.inHeight, s.inWidth, s.outHeight, s.outWidth)
            let c = Tiling.range(0, max(dstW, 1), adjoint, s.kernelWidth, s.strideW, s.dilationW, s.padLeft)
            (colLo, colHi) = (c.lowerBound, c.upperBound)
        }

        /// Source indices outputs [o0, o1) along one axis may read (taps inside or outside).
        static func range(_ o0: Int, _ o1: Int, _ adjoint: Bool, _ k: Int, _ st: Int, _ d: Int, _ p: Int) -> Range<Int> {
            if !adjoint { return (o0 * st - p)..<((o1 - 1) * st - p + (k - 1) * d + 1) }
            func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
            return floorDiv(o0 + p - (k - 1) * d, st)..<(floorDiv(o1 - 1 + p, st) + 1)
        }

        func sourceRange(_ r0: Int, _ r1: Int) -> Range<Int> {
            Tiling.range(r0, r1, adjoint, s.kernelHeight, s.strideH, s.dilationH, s.padTop)
        }

        /// Source rows of an output block of `rows` rows (at most).
        func sourceRows(_ rows: Int) -> Int {
            adjoint ? (rows - 1) / s.strideH + ((s.kernelHeight - 1) * s.dilationH) / s.strideH + 3
                    : (rows - 1) * s.strideH + (s.kernelHeight - 1) * s.dilationH + 1
        }

        /// Output rows per block: source tiles of about `tileBytes`, and (`tasks`) enough
        /// blocks for `threads` threads when images x channel blocks are too few.
        func rowsPerBlock(threads: Int, outerTasks: Int) -> Int {
            var r = max(dstH, 1)
            while r > 1 && sourceRows(r) * tileWidth * 64 > DepthwiseConvolution.tileBytes { r = (r + 1) / 2 }
            if threads > 1 && outerTasks < 4 * threads {
                let want = (4 * threads + outerTasks - 1) / outerTasks
                r = min(r, max(1, (dstH + want - 1) / want))
            }
            return r
        }

        /// The kernel geometry for output rows [r0, r1) over a source tile of rows [a, b).
        func geometry(rows r0: Int, _ r1: Int, source a: Int, _ b: Int) -> sc_depthwise_rows {
            sc_depthwise_rows(
                adjoint: adjoint ? 1 : 0,
                kernel_height: Int64(s.kernelHeight), kernel_width: Int64(s.kernelWidth),
                stride_h: Int64(s.strideH), stride_w: Int64(s.strideW),
                dilation_h: Int64(s.dilationH), dilation_w: Int64(s.dilationW),
                pad_top: Int64(s.padTop), pad_left: Int64(s.padLeft),
                src_row_begin: Int64(a), src_row_end: Int64(b), src_col_begin: Int64(colLo), src_col_end: Int64(colHi),
                row_begin: Int64(r0), row_end: Int64(r1), col_begin: 0, col_end: Int64(dstW),
                src_pixel_stride: Int64(lanes), src_row_stride: Int64(tileWidth * lanes),
                dst_pixel_stride: Int64(lanes), dst_row_stride: Int64(dstW * lanes))
        }

        /// The kernel geometry for output rows [r0, r1) on channels-last data in place: the
        /// source is the whole image (taps outside it are skipped), pixel stride `channels`;
        /// the destination's pixel stride `dstPixelStride` (`channels`, or L for a tile).
        func inPlace(rows r0: Int, _ r1: Int, channels: Int, dstPixelStride: Int) -> sc_depthwise_rows {
            var g = geometry(rows: r0, r1, source: 0, srcH)
            g.src_col_begin = 0; g.src_col_end = Int64(srcW)
            g.src_pixel_stride = Int64(channels); g.src_row_stride = Int64(srcW * channels)
            g.dst_pixel_stride = Int64(dstPixelStride); g.dst_row_stride = Int64(dstW * dstPixelStride)
            return g
        }

        /// Elements of staging a task's `fillTile` needs besides its tile.
        func stagingCount(_ rows: Int) -> Int { srcW < 16 ? sourceRows(rows) * srcW * lanes : 0 }

        /// Source rows [a, b) of image n, channels c0 ..< c0 + count, into `tile` (zeros outside
        /// the source, and in the lanes past `count`), interleaved by `copies`.
        func fillTile<S, T: ConvScalar>(_ tile: UnsafeMutablePointer<T>, src: UnsafePointer<S>, n: Int, c0: Int, count: Int,
                                        rows a: Int, _ b: Int, staging: UnsafeMutablePointer<T>, copies: PlaneCopies<S, T>,
                                        buffer: UnsafeMutablePointer<T>) {
            let L = lanes, plane = srcH * srcW
            let inLo = max(colLo, 0), inHi = min(colHi, srcW)
            let rLo = max(a, 0), rHi = min(b, srcH)
            if srcW < 16 && srcW >= copies.interleaveRowsMinWidth && rLo < rHi && inLo == 0 && inHi == srcW,
               let intoRows = copies.interleaveRows {
                // Narrow planes whose whole rows are in the tile: the zero border, then the
                // rows transposed straight into place (no staging copy).
                for r in a..<b {
                    let row = tile + (r - a) * tileWidth * L
                    if r < rLo || r >= rHi {
                        row.update(repeating: 0, count: tileWidth * L)
                        continue
                    }
                    if colLo < 0 { row.update(repeating: 0, count: -colLo * L) }
                    if srcW < colHi { (row + (srcW - colLo) * L).update(repeating: 0, count: (colHi - srcW) * L) }
                }
                intoRows(tile + ((rLo - a) * tileWidth - colLo) * L, tileWidth * L, srcW,
                         src + ((n * s.groups + c0) * srcH + rLo) * srcW, plane, count, (rHi - rLo) * srcW, buffer)
                return
            }
            if srcW < 16 && rLo < rHi && inLo < inHi {
                // Narrow planes: their rows are too short for the 16-pixel register transposes,
                // but consecutive rows are contiguous: interleave them in one pass, then copy
                // each row into place.
                copies.interleave(staging, src + ((n * s.groups + c0) * srcH + rLo) * srcW, plane, count, (rHi - rLo) * srcW, buffer)
                for r in a..<b {
                    let row = tile + (r - a) * tileWidth * L
                    if r < rLo || r >= rHi {
                        row.update(repeating: 0, count: tileWidth * L)
                        continue
                    }
                    if colLo < inLo { row.update(repeating: 0, count: (inLo - colLo) * L) }
                    if inHi < colHi { (row + (inHi - colLo) * L).update(repeating: 0, count: (colHi - inHi) * L) }
                    (row + (inLo - colLo) * L).update(from: staging + ((r - rLo) * srcW + inLo) * L, count: (inHi - inLo) * L)
                }
                return
            }
            for r in a..<b {
                let row = tile + (r - a) * tileWidth * L
                if r < 0 || r >= srcH || inLo >= inHi {
                    row.update(repeating: 0, count: tileWidth * L)
                    continue
                }
                if colLo < inLo { row.update(repeating: 0, count: (inLo - colLo) * L) }
                if inHi < colHi { (row + (inHi - colLo) * L).update(repeating: 0, count: (colHi - inHi) * L) }
                copies.interleave(row + (inLo - colLo) * L, src + ((n * s.groups + c0) * srcH + r) * srcW + inLo,
                                  plane, count, inHi - inLo, buffer)
            }
        }
    }

    /// How a task's tiles are read from the source planes and written back into the
    /// destination planes, whose elements are S (the tiles' are T): plain copies (`plain`,
    /// S == T), or for float16 / bfloat16 planes copies that widen and round as they go
    /// (HalfKernels.swift), so the rest of the driver is the same for both.
    struct PlaneCopies<S, T> {
        /// Elements of T of per-task scratch the copies work in (their last argument).
        let bufferCount: Int
        /// (tile, src, srcStride, lanes, pixels, buffer): `lanes` plane rows into interleaved pixels.
        let interleave: (UnsafeMutablePointer<T>, UnsafePointer<S>, Int, Int, Int, UnsafeMutablePointer<T>) -> Void
        /// (dst, dstStride, tile, lanes, pixels, buffer): interleaved pixels back into `lanes` plane rows.
        let deinterleave: (UnsafeMutablePointer<S>, Int, UnsafePointer<T>, Int, Int, UnsafeMutablePointer<T>) -> Void
        /// (dst, rowStride, rowWidth, src, srcStride, lanes, pixels, buffer): `interleave` with
        /// pixel u at dst + (u / rowWidth) * rowStride + (u % rowWidth) * lanes, when the copies
        /// have one (float32, float16 and bfloat16 planes).
        var interleaveRows: ((UnsafeMutablePointer<T>, Int, Int, UnsafePointer<S>, Int, Int, Int, UnsafeMutablePointer<T>) -> Void)? = nil
        /// The narrowest plane rows `interleaveRows` is used for (narrower: `interleave` into
        /// staging, then a copy per row), as measured for each kind of copies.
        var interleaveRowsMinWidth = 1
    }

    static func plainCopies<T: ConvScalar>(_: T.Type) -> PlaneCopies<T, T> {
        var copies = PlaneCopies<T, T>(bufferCount: 0, interleave: { dst, src, stride, lanes, pixels, _ in
                                           interleave(dst, src, stride: stride, lanes: lanes, pixels: pixels)
                                       }, deinterleave: { dst, stride, src, lanes, pixels, _ in
                                           deinterleave(dst, stride: stride, src, lanes: lanes, pixels: pixels)
                                       })
        if T.kind == .float32 {
            copies.interleaveRows = { dst, rowStride, rowWidth, src, stride, lanes, pixels, _ in
                KernelTable.active.depthwiseInterleaveRowsF32(castMutable(dst), rowStride, rowWidth, cast(src), stride, lanes, pixels)
            }
        }
        return copies
    }

    // MARK: Forward and adjoint

    static func forward<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>) {
        run(Tiling(s, adjoint: false, elementBytes: MemoryLayout<T>.stride), src: x, w: w, bias: bias, dst: y, copies: plainCopies(T.self))
    }

    /// dx = conv^T(dy, w) (+ bias): each dx pixel gathers the taps that reach it.
    static func adjoint<T: ConvScalar>(_ s: ConvShape, dy: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>) {
        run(Tiling(s, adjoint: true, elementBytes: MemoryLayout<T>.stride), src: dy, w: w, bias: bias, dst: dx, copies: plainCopies(T.self))
    }

    /// The tiled forward / adjoint from S planes to S planes (`copies`), computing in T.
    static func run<S, T: ConvScalar>(_ t: Tiling, src: UnsafePointer<S>, w: UnsafePointer<T>, bias: UnsafePointer<T>?,
                                      dst: UnsafeMutablePointer<S>, copies: PlaneCopies<S, T>) {
        let s = t.s, L = t.lanes, C = s.groups, taps = s.kernelTaps
        let blocks = (C + L - 1) / L
        if s.batch == 0 || C == 0 || t.dstH == 0 || t.dstW == 0 { return }
        let outer = s.batch * blocks
        let threads = ThreadPool.shared.numThreads
        let R = t.rowsPerBlock(threads: threads, outerTasks: outer)
        let rowBlocks = (t.dstH + R - 1) / R
        let srcTile = t.sourceRows(R) * t.tileWidth * L, dstTile = R * t.dstW * L, staging = t.stagingCount(R)
        let scratchCount = srcTile + dstTile + (taps + 1) * L + staging + copies.bufferCount
        let scratchBytes = scratchCount * MemoryLayout<T>.stride
        let prefetch = rowBlocks == 1 && KernelSelector.depthwisePrefetchesNextPlanes(s, elementBytes: MemoryLayout<S>.stride, threads: threads)
        // Tried (session 12): whole-plane tasks claimed 8 chunks per thread (fewer atomic
        // claims on the shared counter) on two threads: not measurable on the loaded 2-vCPU
        // machine (wall clock spread 0.3-5x between runs on unchanged layers); left out.
        ThreadPool.shared.parallelFor(outer * rowBlocks, work: s.macs) { task in
            let rb = task % rowBlocks, cb = (task / rowBlocks) % blocks, n = task / (rowBlocks * blocks)
            let c0 = cb * L, count = min(L, C - c0)
            let r0 = rb * R, r1 = min(t.dstH, r0 + R)
            let scratch = ThreadScratch.depthwise.buffer(bytes: scratchBytes).bindMemory(to: T.self, capacity: scratchCount)
            let tile = scratch, out = scratch + srcTile, wt = out + dstTile, bt = wt + taps * L, stage = bt + L
            // Weights tap-major (taps x lanes), bias as the accumulators' start.
            interleave(wt, w + c0 * taps, stride: taps, lanes: count, pixels: taps)
            bt.update(repeating: 0, count: L)
            if let bias { bt.update(from: bias + c0, count: count) }
            let a = t.sourceRange(r0, r1)
            let buffer = stage + staging
            t.fillTile(tile, src: src, n: n, c0: c0, count: count, rows: a.lowerBound, a.upperBound, staging: stage, copies: copies,
                       buffer: buffer)
            if prefetch && task + 1 < outer {
                // One task per block of whole planes: the next task's source and destination
                // planes follow this task's (the next image's first block after the last).
                let next = n * C + c0 + count, nextCount = min(L, s.batch * C - next)
                let srcPlane = t.srcH * t.srcW, dstPlane = t.dstH * t.dstW
                prefetchLines(UnsafeRawPointer(src + next * srcPlane), bytes: nextCount * srcPlane * MemoryLayout<S>.stride)
                prefetchLines(UnsafeRawPointer(dst + next * dstPlane), bytes: nextCount * dstPlane * MemoryLayout<S>.stride)
            }
            let g = t.geometry(rows: r0, r1, source: a.lowerBound, a.upperBound)
            let xBase = tile - (a.lowerBound * t.tileWidth + t.colLo) * L
            let yBase = out - r0 * t.dstW * L
            rows(g, UnsafePointer(xBase), UnsafePointer(wt), UnsafePointer(bt), yBase)
            // Rows r0 ..< r1 of a plane are contiguous: one pass back into the planes.
            copies.deinterleave(dst + ((n * C + c0) * t.dstH + r0) * t.dstW, t.dstH * t.dstW, UnsafePointer(out),
                                count, (r1 - r0) * t.dstW, buffer)
        }
    }

    /// Software prefetch (into L2) of the cache lines of [p, p + bytes).
    @inline(__always)
    static func prefetchLines(_ p: UnsafeRawPointer, bytes: Int) {
        var o = 0
        while o < bytes { sc_prefetch_l2(p + o); o &+= 64 }
    }

    // MARK: Weight gradient

    /// dw[c, tap] = sum over images and output pixels of x * dy, one channel block per task.
    static func weightGradient<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, dy: UnsafePointer<T>,
                                              dw: UnsafeMutablePointer<T>) {
        weightGradient(s, x: x, dy: dy, dw: dw, copies: plainCopies(T.self))
    }

    /// `weightGradient` from S planes of x and dy (`copies`), computing in T.
    static func weightGradient<S, T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<S>, dy: UnsafePointer<S>,
                                                 dw: UnsafeMutablePointer<T>, copies: PlaneCopies<S, T>) {
        let t = Tiling(s, adjoint: false, elementBytes: MemoryLayout<T>.stride)
        let L = t.lanes, C = s.groups, taps = s.kernelTaps
        let blocks = (C + L - 1) / L
        if C == 0 { return }
        if s.batch == 0 || t.dstH == 0 || t.dstW == 0 {
            dw.update(repeating: 0, count: C * taps)
            return
        }
        // Row blocks of a size fixed by the shape alone: the sums' order never depends on threads.
        let R = t.rowsPerBlock(threads: 1, outerTasks: blocks)
        let srcTile = t.sourceRows(R) * t.tileWidth * L, dyTile = R * t.dstW * L, staging = t.stagingCount(R)
        let scratchCount = srcTile + dyTile + taps * L + staging + copies.bufferCount
        let scratchBytes = scratchCount * MemoryLayout<T>.stride
        ThreadPool.shared.parallelFor(blocks, work: s.macs) { cb in
            let c0 = cb * L, count = min(L, C - c0)
            let scratch = ThreadScratch.depthwise.buffer(bytes: scratchBytes).bindMemory(to: T.self, capacity: scratchCount)
            let tile = scratch, dyt = scratch + srcTile, acc = dyt + dyTile, stage = acc + taps * L
            acc.update(repeating: 0, count: taps * L)
            for n in 0..<s.batch {
                var r0 = 0
                while r0 < t.dstH {
                    let r1 = min(t.dstH, r0 + R)
                    let a = t.sourceRange(r0, r1)
                    t.fillTile(tile, src: x, n: n, c0: c0, count: count, rows: a.lowerBound, a.upperBound, staging: stage,
                               copies: copies, buffer: stage + staging)
                    copies.interleave(dyt, dy + ((n * C + c0) * t.dstH + r0) * t.dstW, t.dstH * t.dstW, count, (r1 - r0) * t.dstW,
                                      stage + staging)
                    // Only the pixels inside x: the border's zeros add nothing.
                    var g = t.geometry(rows: r0, r1, source: max(a.lowerBound, 0), min(a.upperBound, t.srcH))
                    g.src_col_begin = Int64(max(t.colLo, 0)); g.src_col_end = Int64(min(t.colHi, t.srcW))
                    let xBase = tile - (a.lowerBound * t.tileWidth + t.colLo) * L
                    let dyBase = dyt - r0 * t.dstW * L
                    weightGradientRows(g, UnsafePointer(xBase), UnsafePointer(dyBase), acc)
                    r0 = r1
                }
            }
            for l in 0..<count {
                for k in 0..<taps { dw[(c0 + l) * taps + k] = acc[k * L + l] }
            }
        }
    }

    // MARK: Channels-last, in place

    /// Channels-last (N, *spatial, C) activations need no tile (where
    /// `KernelSelector.channelsLastDepthwiseTiles` does not take the tiles): the loops read 16 Float
    /// (8 Double) channels of each pixel in place (pixel stride C), and with the source
    /// bounds set to the image they skip the taps that fall outside it, so the zero border is
    /// never built and nothing is copied. With C not a multiple of the block, the last block
    /// reads channels C - L ..< C (overlapping the block before it: reads only) and writes
    /// through a small output tile, from which only its own channels are copied out. A block
    /// must fit in a pixel: at least `channelsLastMinChannels` channels (16, the Float block).
    static let channelsLastMinChannels = 16

    /// Whether the channels-last loops run `s` (forward, adjoint and weight gradient).
    static func supportsChannelsLast(_ s: ConvShape) -> Bool {
        isDepthwise(s) && s.groups >= channelsLastMinChannels
    }

    /// y = conv(x, w) (+ bias) on channels-last x and y, in place.
    static func forwardChannelsLast<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                                   bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>) {
        runChannelsLast(Tiling(s, adjoint: false, elementBytes: MemoryLayout<T>.stride), src: x, w: w, bias: bias, dst: y)
    }

    /// dx = conv^T(dy, w) (+ bias) on channels-last dy and dx (any stride), in place.
    static func adjointChannelsLast<T: ConvScalar>(_ s: ConvShape, dy: UnsafePointer<T>, w: UnsafePointer<T>,
                                                   bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>) {
        runChannelsLast(Tiling(s, adjoint: true, elementBytes: MemoryLayout<T>.stride), src: dy, w: w, bias: bias, dst: dx)
    }

    /// Tasks (image, output row block, channel block), channel blocks fastest. An output's
    /// sum depends only on the geometry (its taps inside the source, in the loops' fixed
    /// order), not on the rows or the task that computes it: the same bits for every split.
    private static func runChannelsLast<T: ConvScalar>(_ t: Tiling, src: UnsafePointer<T>, w: UnsafePointer<T>,
                                                       bias: UnsafePointer<T>?, dst: UnsafeMutablePointer<T>) {
        let s = t.s, L = t.lanes, C = s.groups, taps = s.kernelTaps
        if s.batch == 0 || C == 0 || t.dstH == 0 || t.dstW == 0 { return }
        let blocks = (C + L - 1) / L, tail = C % L
        // Row blocks as the tiles' (one block's source rows about `tileBytes` of cache lines).
        let R = t.rowsPerBlock(threads: ThreadPool.shared.numThreads, outerTasks: s.batch * blocks)
        let rowBlocks = (t.dstH + R - 1) / R
        let srcImage = t.srcH * t.srcW * C, dstImage = t.dstH * t.dstW * C
        let tileCount = tail == 0 ? 0 : R * t.dstW * L
        let scratchCount = (taps + 1) * L + tileCount
        let scratchBytes = scratchCount * MemoryLayout<T>.stride
        ThreadPool.shared.parallelFor(s.batch * rowBlocks * blocks, work: s.macs) { task in
            let cb = task % blocks, rb = (task / blocks) % rowBlocks, n = task / (blocks * rowBlocks)
            let partial = tail != 0 && cb == blocks - 1
            let c0 = partial ? C - L : cb * L
            let r0 = rb * R, r1 = min(t.dstH, r0 + R)
            let scratch = ThreadScratch.depthwise.buffer(bytes: scratchBytes).bindMemory(to: T.self, capacity: scratchCount)
            let wt = scratch, bt = wt + taps * L, out = bt + L
            interleave(wt, w + c0 * taps, stride: taps, lanes: L, pixels: taps)
            if let bias { bt.update(from: bias + c0, count: L) } else { bt.update(repeating: 0, count: L) }
            let x = UnsafePointer(src + n * srcImage + c0)
            if !partial {
                rows(t.inPlace(rows: r0, r1, channels: C, dstPixelStride: C), x, UnsafePointer(wt), UnsafePointer(bt),
                     dst + n * dstImage + c0)
                return
            }
            rows(t.inPlace(rows: r0, r1, channels: C, dstPixelStride: L), x, UnsafePointer(wt), UnsafePointer(bt),
                 out - r0 * t.dstW * L)
            // Only this block's own channels (the last `tail`) leave the tile.
            let skip = L - tail, y = dst + n * dstImage + (r0 * t.dstW) * C + (C - tail)
            for p in 0..<((r1 - r0) * t.dstW) { (y + p * C).update(from: out + p * L + skip, count: tail) }
        }
    }

    // MARK: The SIMD loops, by element type

    /// The forward / adjoint loops on pixel-major memory with any pixel and row strides
    /// (a tile, or channels-last data: 16 Float / 8 Double channels of each pixel, from x,
    /// and into y, at the given pixel (0, 0); w taps x lanes, bias lanes).
    @inline(__always)
    static func rows<T: ConvScalar>(_ g: sc_depthwise_rows, _ x: UnsafePointer<T>, _ w: UnsafePointer<T>,
                                    _ bias: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>) {
        switch T.kind {
        case .float32:
            KernelTable.active.depthwiseRowsF32(g, cast(x), cast(w), cast(bias), castMutable(y))
        case .float64:
            KernelTable.active.depthwiseRowsF64(g, cast(x), cast(w), cast(bias), castMutable(y))
        }
    }

    /// dw (taps x lanes) += the weight gradient of g's outputs, on pixel-major memory.
    @inline(__always)
    static func weightGradientRows<T: ConvScalar>(_ g: sc_depthwise_rows, _ x: UnsafePointer<T>, _ dy: UnsafePointer<T>,
                                                  _ dw: UnsafeMutablePointer<T>) {
        switch T.kind {
        case .float32: KernelTable.active.depthwiseWeightGradientRowsF32(g, cast(x), cast(dy), castMutable(dw))
        case .float64: KernelTable.active.depthwiseWeightGradientRowsF64(g, cast(x), cast(dy), castMutable(dw))
        }
    }

    @inline(__always)
    static func interleave<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, stride: Int, lanes: Int, pixels: Int) {
        switch T.kind {
        case .float32: KernelTable.active.depthwiseInterleaveF32(castMutable(dst), cast(src), stride, lanes, pixels)
        case .float64: KernelTable.active.depthwiseInterleaveF64(castMutable(dst), cast(src), stride, lanes, pixels)
        }
    }

    @inline(__always)
    static func deinterleave<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, stride: Int, _ src: UnsafePointer<T>, lanes: Int, pixels: Int) {
        switch T.kind {
        case .float32: KernelTable.active.depthwiseDeinterleaveF32(castMutable(dst), stride, cast(src), lanes, pixels)
        case .float64: KernelTable.active.depthwiseDeinterleaveF64(castMutable(dst), stride, cast(src), lanes, pixels)
        }
    }
}
