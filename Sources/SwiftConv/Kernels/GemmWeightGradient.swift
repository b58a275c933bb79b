/// The weight gradient as a GEMM: dW_g = dy_g · unfold(x_g)^T with the depth running over
/// (image, pixel), so the batch is one long reduction (dcgan: 8 images of 16 pixels make a
/// depth of 128, not eight GEMMs of depth 16). A task owns a block of dW columns (patch rows)
/// of one group, all output channels; the GEMM's reduction order is fixed whatever the
/// thread count.
enum GemmWeightGradient {
    /// dW columns per task, at most.
    static let columnsPerTask = 128

    /// Pointwise weight gradients with at most this many input channels per group (and more
    /// output channels) run transposed (`transposedPointwise`). Measured, one thread,
    /// grad_weight only, plain vs transposed (ms; same bits): 24->144 56x56 0.404 vs 0.266,
    /// 3->64 112x112 0.362 vs 0.242, 40->240 28x28 0.184 vs 0.155, 32->64 56x56 0.149 vs 0.139,
    /// N8 24->144 56x56 6.72 vs 6.12, 16->96 112x112 0.609 vs 0.607, 32->192 28x28 0.106 vs
    /// 0.108; more input channels lose: 64->256 56x56 0.91 vs 0.98, 64->384 14x14 0.085 vs
    /// 0.114, 160->960 7x7 0.131 vs 0.277, 256->1024 14x14 0.74 vs 1.15.
    static let swapPatch = 40

    /// Whether the pointwise weight gradient runs transposed (`transposedPointwise`).
    static func isTransposed(_ s: ConvShape) -> Bool {
        s.isPointwise && s.patchSize <= swapPatch && s.outChannelsPerGroup > s.patchSize
    }

    /// How B (and A) are read: the planner's decision (`KernelSelector.weightGradientRoute`),
    /// executed here. Every route gives the same bits.
    enum Route: Sendable {
        /// B packed tap by tap from x (`unfolded`).
        case unfolded
        /// B packed from the zero-bordered, channel-blocked copy of x (`blocked`).
        case blocked
        /// dy's rows and the channel-blocked copy both read in place (`blockedInPlace`).
        case blockedInPlace
    }

    /// `route`: the plan's (nil: decided here, for tests that call kernels directly). A
    /// blocked route unfolds instead when the pool has more threads than channel blocks
    /// (`KernelSelector.weightGradientCopyFeedsThreads`, per call) or its scratch cannot be had.
    static func weightGradient<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, dy: UnsafePointer<T>,
                                              dw: UnsafeMutablePointer<T>, route: Route? = nil) {
        if KernelSelector.onePixel(s) {
            // A 1x1 plane: dy^T x on the arrays in place, in this GEMM's order (same bits).
            return OnePixelConvolution.weightGradient(s, x: x, dy: dy, dw: dw)
        }
        if isTransposed(s), s.batch * s.outPixels > 0,
           let ct = try? Workspace<T>(count: s.groups * s.outChannelsPerGroup * s.patchSize, for: "the transposed weight gradient") {
            return transposedPointwise(s, x: x, dy: dy, dw: dw, ct: ct.pointer)
        }
        let route = route ?? KernelSelector.weightGradientRoute(s, T.self)
        if route != .unfolded, reservesBlockedScratch(s, T.self) {
            return route == .blockedInPlace ? blockedInPlace(s, x: x, dy: dy, dw: dw) : blocked(s, x: x, dy: dy, dw: dw)
        }
        unfolded(s, x: x, dy: dy, dw: dw)
    }

    /// The A operand of every group, dy_g (C_out/g rows, (image, pixel) depth), packed once
    /// for all of a group's tasks when there are several (and the memory can be had;
    /// otherwise each task packs its own, with the same bits).
    private struct GradientRows<T: ConvScalar> {
        let s: ConvShape
        let dy: UnsafePointer<T>
        var packed: [PackedMatrix<T>] = []

        init(_ s: ConvShape, dy: UnsafePointer<T>, tasksPerGroup: Int) {
            self.s = s; self.dy = dy
            if tasksPerGroup > 1 && s.batch * s.outPixels > 0 && s.outChannelsPerGroup > 0 {
                packed = Gemm.tryPackA(count: s.groups, rows: 0..<s.outChannelsPerGroup, depth: s.batch * s.outPixels, operand) ?? []
            }
        }

        func operand(_ g: Int) -> ImageColumns<T> {
            let pixels = s.outPixels
            return ImageColumns(base: dy + g * s.outChannelsPerGroup * pixels, rowStride: pixels,
                                imageStride: s.outChannels * pixels, pixels: pixels)
        }

        /// C(co, j) = sum over (image, pixel) of dy_g[co, q] * b(q, j) for j in `cols`, in
        /// (image, pixel) order: the images are summed in order inside the GEMM, exactly as
        /// if each image's product were accumulated in turn.
        func multiply<B: GemmOperand>(group g: Int, _ b: B, cols: Range<Int>, c: UnsafeMutablePointer<T>, ldc: Int,
                                      kcLimit: Int? = nil) where B.Scalar == T {
            let rows = 0..<s.outChannelsPerGroup, depth = s.batch * s.outPixels
            if packed.isEmpty {
                Gemm.multiply(operand(g), b, rows: rows, cols: cols, depth: depth, c: c, ldc: ldc, accumulate: false, kcLimit: kcLimit)
            } else {
                Gemm.multiply(packed[g], b, rows: rows, cols: cols, depth: depth, c: c, ldc: ldc, accumulate: false, kcLimit: kcLimit)
            }
        }
    }

    /// The width of a task's block of a group's `columns` (dW's patch rows by default):
    /// about `columnsPerTask`, at least one task per thread when there are few groups; a
    /// multiple of `unit` (16: whole B panels).
    private static func columnBlockWidth(_ s: ConvShape, columns: Int? = nil, unit: Int) -> Int {
        let k = columns ?? s.patchSize, threads = ThreadPool.shared.numThreads
        var blocks = max(1, (k + columnsPerTask - 1) / columnsPerTask)
        if threads > 1 && s.groups < 8 * threads {
            let total = (s.groups * blocks + threads - 1) / threads * threads
            blocks = max(blocks, (total + s.groups - 1) / s.groups)
        }
        return max(unit, ((k + blocks - 1) / blocks + unit - 1) / unit * unit)
    }

    /// B = the unfolded input read from x through `BatchedUnfoldedTransposed` (its panels
    /// transposed tap by tap from x's rows): shapes the blocked copy does not take. A task
    /// owns a block of dW columns (patch rows) of one group, all output channels; the
    /// GEMM's per-element reduction order does not depend on the tiling, so neither does the
    /// result.
    static func unfolded<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, dy: UnsafePointer<T>,
                                        dw: UnsafeMutablePointer<T>) {
        let k = s.patchSize, width = columnBlockWidth(s, unit: 16), blocks = (k + width - 1) / width
        let rows = GradientRows(s, dy: dy, tasksPerGroup: blocks)
        ThreadPool.shared.parallelFor(s.groups * blocks, work: s.macs) { task in
            let g = task / blocks, b = task % blocks
            let cols = (b * width)..<min(k, (b + 1) * width)
            let bm = BatchedUnfoldedTransposed(x: x + g * s.inChannelsPerGroup * s.inPixels, imageStride: s.inChannels * s.inPixels, shape: s)
            rows.multiply(group: g, bm, cols: cols, c: dw + g * s.outChannelsPerGroup * k + cols.lowerBound, ldc: k)
        }
    }

    /// Channel blocks per task of the blocked routes (`blocked`, `blockedInPlace`): two when
    /// the tasks still number at least two per thread, else one (the same bits either way:
    /// the tiling does not change any element's sum). Two blocks make every tile of the
    /// AVX-512 block functions 12 x 32 (with one block, 9 taps x 16 columns leave a 12 x 16
    /// tile) and halve the tasks, each of which reads all of dy_g. `blocked` then cuts the
    /// depth at `pairedBlocksDepth`: with the standard kc (320) the 288 columns would not
    /// fit `Blocking.ncBytes` and were cut back into two blocks of 144.
    ///
    /// Measured: one thread, 2-vCPU AVX-512 Zen5 (shared, load 7-14), float32, grad_weight
    /// only from Python, ms of CPU time, medians of 5 rounds interleaved in one process (one
    /// build, the variants switched per call; the in-place route's panel pairs too, see
    /// `blockedInPlace`), /tmp/s12/train/gw_env.py; one block / two (+ pairs):
    ///
    /// | layer (3x3 p1)        | route    | one block | two blocks | ratio |
    /// |-----------------------|----------|-----------|------------|-------|
    /// | N8 512->256 28x28     | blocked  | 76.52     | 70.69      | 0.92  |
    /// | N8 256->256 28x28     | blocked  | 38.40     | 35.71      | 0.93  |
    /// | N8 256->128 56x56     | in place | 72.36     | 68.24      | 0.94  |
    /// | N8 128->128 56x56     | in place | 36.28     | 34.80      | 0.96  |
    /// | N8 128->64 112x112    | in place | 68.61     | 67.14      | 0.98  |
    /// | N8 64->64 112x112     | in place | 34.14     | 33.44      | 0.98  |
    ///
    /// The gain is mostly under contention (other jobs sharing L3): at load ~10, with the old
    /// route at 91-94% of the FMA peak, 15-round re-runs gave 512->256 28x28 0.99-1.00, 256->256
    /// 28x28 0.99, 256->128 56x56 0.95, 128->64 112x112 0.96, 64->64 112x112 0.94.
    /// Pointwise and strided convs keep one block: not measured to gain (ResNet-50 N8, 9
    /// rounds, two / one: 3x3 s2 128->128 56x56 1.02, 512->512 14x14 1.02, 256->256 28x28
    /// 0.99). (kc 192 with one block, or two blocks at kc 320, changed nothing: 0.99-1.02. On N8
    /// 14x14 planes, 1024->512 and 512->512, forcing the blocked copy with two blocks was
    /// 1.00-1.01 of `unfolded`, which stays.)
    static func channelBlocksPerTask<T: ConvScalar>(_ s: ConvShape, _: T.Type) -> Int {
        guard s.kernelTaps > 1, s.strideH == 1, s.strideW == 1 else { return 1 }
        let tasks = s.groups * (s.inChannelsPerGroup / KernelTable.nr(T.self)) / 2, threads = ThreadPool.shared.numThreads
        return tasks >= threads && (tasks % threads == 0 || tasks >= 2 * threads) ? 2 : 1
    }

    /// Depth per GEMM block of `blocked` with two channel blocks per task (see
    /// `channelBlocksPerTask`): 288 x 192 Floats of B are 221 KB, within `Blocking.ncBytes`.
    static let pairedBlocksDepth = 192

    /// The most per-thread scratch `blocked` may use: a thread keeps its scratch until it
    /// exits (`release_memory` does not reach it), and the copy grows with the batch (N8
    /// 16 channels of 112x112: 6.6 MB); larger calls take `unfolded`, which needs none.
    static let blockedScratchLimit = 32 << 20

    /// Whether a blocked route can run `s` on this call, with its scratch reserved on the
    /// calling thread: the checks that depend on the pool and on memory (the route itself
    /// is the planner's): some pixels, at least as many channel blocks as threads
    /// (`KernelSelector.weightGradientCopyFeedsThreads`), and `blockedScratchBytes` within
    /// `blockedScratchLimit` and to be had.
    static func reservesBlockedScratch<T: ConvScalar>(_ s: ConvShape, _: T.Type) -> Bool {
        guard s.batch * s.outPixels > 0, KernelSelector.weightGradientCopyFeedsThreads(s, T.self),
              let bytes = blockedScratchBytes(s, T.self), bytes <= blockedScratchLimit else { return false }
        return ThreadScratch.weightGradient.reserve(bytes: bytes)
    }

    /// Per-thread bytes `blocked` needs for `s` (its channel blocks' copy and its dW tile),
    /// or nil when they cannot be counted.
    static func blockedScratchBytes<T: ConvScalar>(_ s: ConvShape, _: T.Type) -> Int? {
        let width = columnBlockWidth(s, unit: KernelTable.nr(T.self) * s.kernelTaps * channelBlocksPerTask(s, T.self))
        guard let copy = BlockedChannelsLastInput<T>.blockCount(s),
              let count = try? Checked.product([width / (KernelTable.nr(T.self) * s.kernelTaps), copy], ""),
              let tile = try? Checked.product([s.outChannelsPerGroup, width], "") else { return nil }
        let (total, o1) = count.addingReportingOverflow(tile)
        let (bytes, o2) = total.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        return o1 || o2 ? nil : bytes
    }

    /// B read from a zero-bordered, channel-blocked copy of x (`BlockedChannelsLastInput`):
    /// each task takes whole channel blocks of one group, copies them (in its thread's
    /// scratch, so the copy is warm in cache for its GEMM and no memory is faulted in per
    /// call), multiplies into a tile whose columns are in (channel block, tap, lane) order,
    /// and writes the tile to dw in its (ci, kh, kw) order. The same sums in the same order
    /// as `unfolded`: the same bits. The caller reserved `blockedScratchBytes` on its thread.
    ///
    /// Where it is faster: `KernelSelector.weightGradientReadsBlockedCopy` (measured table).
    /// Tasks of two channel blocks (`channelBlocksPerTask`: 288 columns for 3x3, whole 12 x 32
    /// tiles where one block's 144 leave a 12 x 16 tile) multiply with depth blocks of
    /// `pairedBlocksDepth`, so that the 288 columns are one block of B within `ncBytes`.
    static func blocked<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, dy: UnsafePointer<T>, dw: UnsafeMutablePointer<T>) {
        let k = s.patchSize, taps = s.kernelTaps, cog = s.outChannelsPerGroup
        let block = KernelTable.nr(T.self), blockColumns = block * taps
        let width = columnBlockWidth(s, unit: blockColumns * channelBlocksPerTask(s, T.self)), blocks = (k + width - 1) / width
        let copyCount = BlockedChannelsLastInput<T>.blockCount(s) ?? 0
        let rows = GradientRows(s, dy: dy, tasksPerGroup: blocks)
        let kcLimit = channelBlocksPerTask(s, T.self) > 1 ? pairedBlocksDepth : nil
        ThreadPool.shared.parallelFor(s.groups * blocks, work: s.macs) { task in
            let g = task / blocks, b = task % blocks
            let cols = (b * width)..<min(k, (b + 1) * width)
            let firstBlock = cols.lowerBound / blockColumns, blockCount = cols.count / blockColumns
            let (copy, tile) = blockedCopies(s, x: x, group: g, firstBlock: firstBlock, blockCount: blockCount,
                                             copyCount: copyCount, tileCount: cog * cols.count)
            let operand = BlockedChannelsLastInput<T>(base: UnsafePointer(copy), shape: s, firstBlock: firstBlock)
            rows.multiply(group: g, operand, cols: cols, c: tile, ldc: cols.count, kcLimit: kcLimit)
            storeBlockedTile(UnsafePointer(tile), rows: cog, cols: cols, group: g, taps: taps, block: block, k: k, dw: dw)
        }
    }

    /// B read from a zero-bordered, channel-blocked copy of x (`BlockedChannelsLastInput`):
    /// each task takes whole channel blocks of one group, copies them (in its thread's
    /// scratch, so the copy is warm in cache for its GEMM and no memory is faulted in per
    /// call), multiplies into a tile whose columns are in (channel block, tap, lane) order,
    /// and writes the tile to dw in its (ci, kh, kw) order. The same sums in the same order
    /// as `unfolded`: the same bits. The caller reserved `blockedScratchBytes` on its thread.
    ///
    /// Neither operand is packed: the depth runs one output row at a time (a segment of
    /// `outWidth` pixels of one image), over which both are plain strided matrices read in
    /// place by the in-place-A block function. A = dy_g's rows (row co at `lda` = output
    /// pixels apart, the segment's pixels contiguous); B = the copy: for a channel block and
    /// a kernel row kh, the kW taps' columns (kw, lane) of pixel ow are the `block` values at
    /// copy row (oh * strideH + kh * dilationH, ow * strideW + kw * dilationW), so the panel
    /// of tap kw starts `dilationW * block` after the one of kw - 1 (`bPanelStride`) and its
    /// rows are `strideW * block` apart (`ldb`). The GEMM's per-element order (C from 0, then
    /// one multiply-add per (image, pixel) in order) does not depend on where the depth is
    /// cut, so the result is the packed GEMM's, bit for bit.
    ///
    /// Where it is faster: `KernelSelector.weightGradientReadsCopyInPlace` (measured table).
    /// The block function is called per pair of panels (channel block, tap), the pair's
    /// second panel wherever it is in the copy, not per kernel row (kW x 16 columns: a 12 x
    /// 16 tile in every call). Measured (as `channelBlocksPerTask`, one block per task), pairs
    /// / per row: N8 256->128 56x56 0.96, 128->128 56x56 0.99, 128->64 112x112 0.96, 64->64
    /// 112x112 0.97.
    /// `xChannelsLast`: x is channels-last (the copy is filled from it; dy channels-first).
    static func blockedInPlace<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, dy: UnsafePointer<T>, dw: UnsafeMutablePointer<T>,
                                              xChannelsLast: Bool = false) {
        let k = s.patchSize, taps = s.kernelTaps, cog = s.outChannelsPerGroup
        let block = KernelTable.nr(T.self), blockColumns = block * taps
        let width = columnBlockWidth(s, unit: blockColumns * channelBlocksPerTask(s, T.self)), blocks = (k + width - 1) / width
        let copyCount = BlockedChannelsLastInput<T>.blockCount(s) ?? 0
        let (hp, wp) = BlockedChannelsLastInput<T>.paddedSize(s)
        let pixels = s.outPixels, kW = s.kernelWidth
        // A plane whose copy rows follow one another with no border (1x1, unit stride, no
        // padding) is one segment per image; otherwise a segment is an output row.
        let flat = kW == 1 && s.kernelHeight == 1 && s.strideW == 1 && s.strideH == 1 && wp == s.outWidth && hp == s.outHeight
        let (segments, outW) = flat ? (1, pixels) : (s.outHeight, s.outWidth)
        // Depth per block function call: a segment, cut into equal pieces of at most kc.
        let kcLimit = KernelTable.active.blocking.kc(T.self)
        let pieces = (outW + kcLimit - 1) / kcLimit, pieceWidth = (outW + pieces - 1) / pieces
        ThreadPool.shared.parallelFor(s.groups * blocks, work: s.macs) { task in
            let g = task / blocks, b = task % blocks
            let cols = (b * width)..<min(k, (b + 1) * width)
            let firstBlock = cols.lowerBound / blockColumns, blockCount = cols.count / blockColumns, ldc = cols.count
            let (copy, tile) = blockedCopies(s, x: x, group: g, firstBlock: firstBlock, blockCount: blockCount,
                                             copyCount: copyCount, tileCount: cog * cols.count, xChannelsLast: xChannelsLast)
            let dyGroup = dy + g * cog * pixels
            for n in 0..<s.batch {
                for oh in 0..<segments {
                    var ow = 0
                    while ow < outW {
                        let len = min(pieceWidth, outW - ow), loadC = n > 0 || oh > 0 || ow > 0
                        let a = UnsafePointer(dyGroup + (n * s.outChannels * pixels + oh * outW + ow))
                        if taps == 1 {
                            // One tap: the channel blocks' panels are one copy apart, so one
                            // call covers all the task's columns (12 x 32 tiles, not 12 x 16).
                            let row = oh * s.strideH * wp + ow * s.strideW
                            Gemm.blockInPlaceA(mc: cog, nc: cols.count, kc: len, a: a, lda: pixels,
                                               b: UnsafePointer(copy + (n * hp * wp + row) * block), bPanelStride: copyCount,
                                               ldb: s.strideW * block, bEdge: nil, c: tile, ldc: ldc, loadC: loadC)
                            ow += len
                            continue
                        }
                        do {
                            // The panels (channel block i, tap t) in the tile's column order,
                            // two per call: the block function takes any stride from a panel to
                            // the next, so a pair may span kernel rows or channel blocks and
                            // runs as a 12 x 32 tile (AVX-512) where calls per kernel row (kW
                            // taps: 3 x 16 columns) left a 12 x 16 tile in every call.
                            let panels = blockCount * taps
                            let image = UnsafePointer(copy + n * hp * wp * block)
                            @inline(__always) func offset(_ p: Int) -> Int {
                                let i = p / taps, t = p - i * taps, kh = t / kW, kw = t - kh * kW
                                return i * copyCount + ((oh * s.strideH + kh * s.dilationH) * wp + ow * s.strideW + kw * s.dilationW) * block
                            }
                            var p = 0
                            while p < panels {
                                let two = p + 1 < panels, o = offset(p)
                                Gemm.blockInPlaceA(mc: cog, nc: two ? 2 * block : block, kc: len, a: a, lda: pixels,
                                                   b: image + o, bPanelStride: two ? offset(p + 1) - o : block, ldb: s.strideW * block,
                                                   bEdge: nil, c: tile + p * block, ldc: ldc, loadC: loadC)
                                p += 2
                            }
                        }
                        ow += len
                    }
                }
            }
            storeBlockedTile(UnsafePointer(tile), rows: cog, cols: cols, group: g, taps: taps, block: block, k: k, dw: dw)
        }
    }

    /// A task's scratch for the blocked routes (reserved by the caller: `blockedScratchBytes`):
    /// `blockCount` channel blocks of group g from `firstBlock` on, copied from x
    /// (`BlockedChannelsLastInput.fill`, `copyCount` elements each), then a tile of
    /// `tileCount` elements for the GEMM's result.
    @inline(__always)
    private static func blockedCopies<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, group g: Int, firstBlock: Int,
                                                     blockCount: Int, copyCount: Int,
                                                     tileCount: Int, xChannelsLast: Bool = false) -> (copy: UnsafeMutablePointer<T>, tile: UnsafeMutablePointer<T>) {
        let block = KernelTable.nr(T.self), count = blockCount * copyCount + tileCount
        let copy = ThreadScratch.weightGradient.buffer(bytes: count * MemoryLayout<T>.stride).bindMemory(to: T.self, capacity: count)
        for i in 0..<blockCount {
            let channel = g * s.inChannelsPerGroup + (firstBlock + i) * block
            if xChannelsLast {
                BlockedChannelsLastInput<T>.fillFromChannelsLast(s, x: x + channel, into: copy + i * copyCount)
            } else {
                BlockedChannelsLastInput<T>.fill(s, x: x + channel * s.inPixels, into: copy + i * copyCount)
            }
        }
        return (copy, copy + blockCount * copyCount)
    }

    /// Writes a tile of the blocked routes (`rows` output channels x `cols` of the group's
    /// patch, columns in (channel block, tap, lane) order) to dw in its (ci, kh, kw) order:
    /// tile column (cb * taps + t) * block + lane is dw's (cb * block + lane) * taps + t.
    /// dw is written in order (the reads stride `block` within a few cache lines).
    @inline(__always)
    private static func storeBlockedTile<T>(_ tile: UnsafePointer<T>, rows cog: Int, cols: Range<Int>, group g: Int,
                                            taps: Int, block: Int, k: Int, dw: UnsafeMutablePointer<T>) {
        let blockColumns = block * taps
        for co in 0..<cog {
            for b0 in stride(from: 0, to: cols.count, by: blockColumns) {
                let src = tile + (co * cols.count + b0), dst = dw + ((g * cog + co) * k + cols.lowerBound + b0)
                for lane in 0..<block {
                    let d = dst + lane &* taps, s = src + lane
                    for t in 0..<taps { d[t] = s[t &* block] }
                }
            }
        }
    }

    /// dW_g^T = x_g · dy_g^T for pointwise convs with few input channels (k = C_in/g) and
    /// more output channels: the GEMM's small A is then x_g (k rows, read in place by
    /// row-panel packing) and its wide B dy_g^T, packed by register transposes of 16 channel
    /// rows (`BatchedUnfoldedTransposed.packPointwise`), instead of packing the large dy_g as A
    /// six rows at a time for a 16-column B. Every element is the same sum of the same
    /// products in the same (image, pixel) order, so the bits are those of the other way;
    /// `ct` (groups x k x cog) holds dW^T until it is transposed into dw.
    static func transposedPointwise<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, dy: UnsafePointer<T>,
                                                   dw: UnsafeMutablePointer<T>, ct: UnsafeMutablePointer<T>) {
        let pixels = s.outPixels, k = s.patchSize, cog = s.outChannelsPerGroup
        let depth = s.batch * pixels
        // Column (output channel) blocks, a multiple of 16 wide, enough to feed the threads.
        let width = columnBlockWidth(s, columns: cog, unit: 16), blocks = (cog + width - 1) / width
        // dy of one group as a pointwise "image" of cog channels: its transpose is the B operand.
        let dyShape = ConvShape(batch: s.batch, groups: 1, inChannels: cog, outChannels: 1, inHeight: s.outHeight,
                                inWidth: s.outWidth, outHeight: s.outHeight, outWidth: s.outWidth, kernelHeight: 1, kernelWidth: 1)
        ThreadPool.shared.parallelFor(s.groups * blocks, work: s.macs) { task in
            let g = task / blocks, b = task % blocks
            let cols = (b * width)..<min(cog, (b + 1) * width)
            let a = ImageColumns(base: x + g * k * s.inPixels, rowStride: s.inPixels, imageStride: s.inChannels * s.inPixels, pixels: pixels)
            let bm = BatchedUnfoldedTransposed(x: dy + g * cog * pixels, imageStride: s.outChannels * pixels, shape: dyShape)
            let c = ct + g * k * cog
            Gemm.multiply(a, bm, rows: 0..<k, cols: cols, depth: depth, c: c + cols.lowerBound, ldc: cog, accumulate: false)
            // dw[g*cog + co, r] = ct[g][r, co] for this block's output channels.
            for co in cols {
                let dst = dw + (g * cog + co) * k
                for r in 0..<k { dst[r] = c[r * cog + co] }
            }
        }
    }

    /// db[c] = sum over images and pixels of dy[:, c], one task per channel (blocks of
    /// channels, `biasGradientChannelsPerTask`), each summed by `ChannelSum`.
    static func biasGradient<T: ConvScalar>(batch: Int, channels: Int, pixels: Int,
                                            dy: UnsafePointer<T>, db: UnsafeMutablePointer<T>) {
        let perTask = biasGradientChannelsPerTask(batch: batch, pixels: pixels)
        let tasks = (channels + perTask - 1) / perTask
        ThreadPool.shared.parallelFor(tasks, work: batch * channels * pixels) { task in
            for c in (task * perTask)..<min(channels, (task + 1) * perTask) {
                var sum = ChannelSum<T>()
                for n in 0..<batch { sum.add(dy + (n * channels + c) * pixels, count: pixels) }
                db[c] = sum.total
            }
        }
    }

    /// Channels per bias-gradient task: about 16K values each.
    static func biasGradientChannelsPerTask(batch: Int, pixels: Int) -> Int {
        max(1, 16384 / max(1, batch * pixels))
    }
}

/// One channel's bias-gradient sum in its fixed order: 16 lanes (two SIMD8 accumulators,
/// in pixel order) over each row's whole 16-value groups, a scalar tail over each row's
/// last `pixels % 16` values, then the lanes and the tail. Kept in one place so the half
/// bias gradient (rows widened piece by piece) adds the same values in the same order.
struct ChannelSum<T: ConvScalar> {
    var lanes0 = SIMD8<T>(), lanes1 = SIMD8<T>()
    var tail: T = 0

    /// Adds `count` values of a row in order. A row added in pieces must be split at
    /// multiples of 16 (only its last piece has a tail), or the order changes.
    @inline(__always)
    mutating func add(_ row: UnsafePointer<T>, count: Int) {
        var p = 0
        while p &+ 16 <= count {
            lanes0 += UnsafeRawPointer(row + p).loadUnaligned(as: SIMD8<T>.self)
            lanes1 += UnsafeRawPointer(row + (p &+ 8)).loadUnaligned(as: SIMD8<T>.self)
            p &+= 16
        }
        while p < count { tail += row[p]; p &+= 1 }
    }

    var total: T {
        let lanes = lanes0 + lanes1
        var acc: T = 0
        for i in 0..<8 { acc += lanes[i] }
        return acc + tail
    }
}
