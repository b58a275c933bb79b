/// The convolutions on channels-last activations, in place. `.depthwise`: the depthwise
/// loops over channel-interleaved tiles copied per row block (ChannelsLastDepthwise). `.gemm`: per group,
/// y[pixels, C_out/g] = unfold(x)[pixels, (kh, kw, ci)] x W_g^T[(kh, kw, ci), C_out/g], one
/// pixel-major GEMM whose output rows ARE the (N, H, W, C) result (ldc = C_out). The
/// unfolded input is an operand (`ChannelsLastUnfolded`; a 1x1 stride-1 convolution reads
/// x in place, `InPlaceWeights`: the (pixels x C_in) matrix it is, broadcast from its rows
/// with no packing pass), the weights are packed once per call as (kh, kw, ci) x C_out/g in
/// the GEMM's 16-wide column panels (`ChannelsLastWeights`). 1x1 gradients pack neither
/// the weights nor the larger activation: grad_input = dy x W reads both in place, and
/// grad_weight reads the wider of x and dy in place (strided 1x1: on a copy of the
/// grid pixels, ChannelsLastStridedPointwise). Tasks: `Split`.
///
/// Every output element is bias (or 0) plus the GEMM's fixed-order sum over (kh, kw, ci), so
/// results do not depend on the tiling or the thread count. A 1x1 convolution sums over ci
/// in the order the channels-first GEMM does: the two layouts give the same bits there.
enum ChannelsLastConvolution {
    /// Output pixels (GEMM rows) per task, at most: a multiple of the 6-row panel.
    static let rowTile = 240

    /// Rows per task for `rows` rows and `groups` groups: at most `rowTile`, a multiple of
    /// 6, and small enough to give every thread a few tasks. Never changes a result.
    static func balancedRowTile(rows: Int, groups: Int) -> Int {
        let mr = KernelTable.mr, threads = ThreadPool.shared.numThreads
        var tiles = (rows + rowTile - 1) / rowTile
        if threads > 1 && groups * tiles < 4 * threads {
            tiles = max(tiles, (4 * threads + groups - 1) / groups)
        }
        let perTile = (rows + tiles - 1) / tiles
        return max(4 * mr, (perTile + mr - 1) / mr * mr)
    }

    /// `packed`: the weights packed at plan creation (prepared convolutions), or nil to
    /// pack them here; `blocked`: the same for `.blocked` (`ChannelBlockedConvolution.packWeights`).
    static func forward<T: ConvScalar>(_ kernel: ChannelsLastKernel, _ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>,
                                       packed: ChannelsLastWeights<T>? = nil, blocked: UnsafePointer<Float>? = nil) throws {
        if kernel == .depthwise {
            try requireDepthwise(s)
            return try ChannelsLastDepthwise.forward(s, x: x, w: w, bias: bias, y: y)
        }
        if kernel == .blocked { return try ChannelBlockedChannelsLast.forward(s, x: x, w: w, bias: bias, y: y, packed: blocked) }
        let groups = s.groups, cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        let patch = s.patchSize, cOut = s.outChannels
        let rows = s.batch * s.outPixels
        if rows == 0 || cOut == 0 { return }
        guard let weights = packed ?? ChannelsLastWeights(w, shape: s) else {
            throw ConvError.outOfMemory("swiftconv: could not allocate the packed weights (\(cOut) x \(patch)) of a channels-last convolution")
        }
        let split = Split(rows: rows, cols: cog, groups: groups, nr: Gemm.nr(T.self), weightsFirst: cog * 2 >= rows)
        if s.isPointwise {
            // x is already the (pixels x C_in) A matrix, row-major: the GEMM reads it in
            // place (broadcasts from its rows) instead of packing it for every task.
            split.run(work: s.macs, c: y, ldc: cOut, groupStride: cog, bias: bias) { g, r, j, c, accumulate in
                Gemm.multiply(InPlaceWeights(base: x + g * cig, lda: s.inChannels), weights.operand(group: g),
                              rows: r, cols: j, depth: patch, c: c, ldc: cOut, accumulate: accumulate)
            }
        } else {
            split.run(work: s.macs, c: y, ldc: cOut, groupStride: cog, bias: bias) { g, r, j, c, accumulate in
                Gemm.multiply(ChannelsLastUnfolded(x: x + g * cig, shape: s), weights.operand(group: g),
                              rows: r, cols: j, depth: patch, c: c, ldc: cOut, accumulate: accumulate)
            }
        }
    }

    /// How a pixel-major GEMM (per group: rows x cols, every element one full-depth sum) is
    /// cut into tasks. One thread: row tiles of at most `rowTile`, all columns. Several
    /// threads, when the row tiles alone give fewer than 4 tasks per thread (small planes):
    /// the columns are cut too, on the GEMM's nr-column panel grid, first when
    /// `weightsFirst` (the B operand, the weights, is the larger: a row tile packs every
    /// column's weights, a column tile only its own; small planes with many channels),
    /// otherwise after the rows are cut to 4 x mr. Every element is the same fixed-order sum
    /// over the depth whatever the tile: the same bits for every split.
    struct Split {
        let rows: Int, cols: Int, groups: Int
        let rowTile: Int, colTile: Int

        init(rows: Int, cols: Int, groups: Int, nr: Int, weightsFirst: Bool, threads: Int = ThreadPool.shared.numThreads) {
            self.rows = rows; self.cols = cols; self.groups = groups
            let mr = KernelTable.mr, want = 4 * threads
            let rowTiles = (rows + ChannelsLastConvolution.rowTile - 1) / ChannelsLastConvolution.rowTile
            if threads == 1 || groups * rowTiles >= want {
                rowTile = ChannelsLastConvolution.balancedRowTile(rows: rows, groups: groups)
                colTile = max(cols, 1)
                return
            }
            let panels = (cols + nr - 1) / nr
            let minRowTile = 4 * mr
            var colTiles = 1, rTiles = rowTiles
            func rowsFor(_ tiles: Int) -> Int { min(rows, max(minRowTile, ((rows + tiles - 1) / tiles + mr - 1) / mr * mr)) }
            if weightsFirst {
                colTiles = min(panels, (want + groups * rTiles - 1) / (groups * rTiles))
                if groups * colTiles * rTiles < want { rTiles = (want + groups * colTiles - 1) / (groups * colTiles) }
            } else {
                rTiles = max(rTiles, (want + groups - 1) / groups)
                let reached = (rows + rowsFor(rTiles) - 1) / rowsFor(rTiles)
                if groups * reached < want { colTiles = min(panels, (want + groups * reached - 1) / (groups * reached)) }
            }
            rowTile = rowsFor(rTiles)
            colTile = ((cols + colTiles - 1) / colTiles + nr - 1) / nr * nr
        }

        /// Calls `body(g, rows, cols, c, accumulate)` for every tile, in parallel; `c` points at
        /// the tile's first element. With a bias, the tile is first filled with it (every sum
        /// starts from it: accumulate), without, the GEMM starts from zero.
        func run<T: ConvScalar>(work: Int, c: UnsafeMutablePointer<T>, ldc: Int, groupStride: Int, bias: UnsafePointer<T>?,
                                _ body: (Int, Range<Int>, Range<Int>, UnsafeMutablePointer<T>, Bool) -> Void) {
            let rowTiles = (rows + rowTile - 1) / rowTile, colTiles = (cols + colTile - 1) / colTile
            let perGroup = rowTiles * colTiles
            ThreadPool.shared.parallelFor(groups * perGroup, work: work) { task in
                let g = task / perGroup, q = task - g * perGroup, rt = q / colTiles, ct = q - rt * colTiles
                let r0 = rt * rowTile, r1 = min(rows, r0 + rowTile), j0 = ct * colTile, j1 = min(cols, j0 + colTile)
                let tile = c + (r0 * ldc + g * groupStride + j0)
                if let bias {
                    let values = bias + (g * groupStride + j0)
                    for r in 0..<(r1 - r0) { (tile + r * ldc).update(from: values, count: j1 - j0) }
                }
                body(g, r0..<r1, j0..<j1, tile, bias != nil)
            }
        }
    }

    /// dx = conv^T(dy, w) (+ bias) on channels-last dy and dx at stride 1: the ordinary
    /// stride-1 convolution of dy with the kernel flipped in both axes and regrouped (the
    /// upsample formulation with nothing to insert, `UpsampleAdjoint.equivalentConvolution`),
    /// run by the channels-last GEMM, or by the channel-blocked conv where the plan says
    /// `.blocked` (`adjointBlocked`). (The conv backward's grad_input, and the transposed
    /// conv's forward.)
    static func adjoint<T: ConvScalar>(_ kernel: ChannelsLastKernel, _ s: ConvShape, dy: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>) throws {
        if kernel == .depthwise {
            try requireDepthwise(s)
            return try ChannelsLastDepthwise.adjoint(s, dy: dy, w: w, bias: bias, dx: dx)
        }
        let pixels = s.batch * s.inPixels, channels = s.inChannels
        if s.outPixels == 0 || s.outChannels == 0 {
            // Nothing sums into dx: the bias alone (or zeros).
            for r in 0..<pixels {
                if let bias { (dx + r * channels).update(from: bias, count: channels) } else { (dx + r * channels).update(repeating: 0, count: channels) }
            }
            return
        }
        if let p = s.pointwiseOnOutputGrid {
            return try adjointOnOutputGrid(kernel, s, p, dy: dy, w: w, bias: bias, dx: dx)
        }
        if s.isPointwise {
            // 1x1, stride 1: dx_g[pixels, C_in/g] = dy_g[pixels, C_out/g] x W_g[C_out/g, C_in/g],
            // W_g read in place as the row-major B it is (no flip, no packing pass), dy as A.
            let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
            let split = Split(rows: pixels, cols: cig, groups: s.groups, nr: Gemm.nr(T.self), weightsFirst: cig * 2 >= pixels)
            split.run(work: s.macs, c: dx, ldc: channels, groupStride: cig, bias: bias) { g, r, j, c, accumulate in
                Gemm.multiply(InPlaceWeights(base: dy + g * cog, lda: s.outChannels),
                              StridedMatrix(base: w + g * cog * cig, rowStride: cig, colStride: 1),
                              rows: r, cols: j, depth: cog, c: c, ldc: channels, accumulate: accumulate)
            }
            return
        }
        if s.hasDisjointWindows {
            return try adjointOfDisjointWindows(s, dy: dy, w: w, bias: bias, dx: dx)
        }
        guard s.strideH == 1 && s.strideW == 1, let c = UpsampleAdjoint.equivalentConvolution(s) else {
            throw ConvError.invalidArgument("swiftconv: internal error, the channels-last adjoint needs stride 1")
        }
        if kernel == .blocked {
            if adjointBlocked(s, c, dy: dy, w: w, bias: bias, dx: dx) { return }
            // Not run (float64, a tier without the kernel, its memory not had): the GEMM below.
        }
        // The flipped, regrouped kernel: wc[g*cig + i, o, kh, kw] = w[g*cog + o, i, K-1-kh, K-1-kw].
        let flipped = try Workspace<T>(count: c.weightCount, for: "the flipped kernel")
        let wc = flipped.pointer
        UpsampleAdjoint.flippedKernel(s, w: w, into: wc)
        try forward(kernel == .blocked ? .gemm : kernel, c, x: dy, w: UnsafePointer(wc), bias: bias, y: dx)
    }

    /// The `.blocked` adjoint: the channels-first one (`ChannelBlockedAdjoint`: the flipped
    /// kernel packed straight from w into the channel-blocked conv's panels by each task) run
    /// on the channels-last dy and dx in place (`ChannelBlockedChannelsLast`'s copy and store):
    /// the channels-first call's sums, the same bits. False, having written nothing, where it
    /// does not run; `c`: the equivalent stride-1 convolution.
    static func adjointBlocked<T: ConvScalar>(_ s: ConvShape, _ c: ConvShape, dy: UnsafePointer<T>, w: UnsafePointer<T>,
                                              bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>) -> Bool {
        guard ChannelBlockedAdjoint.runs(s, T.self), let l = ChannelBlockedLayout(c) else { return false }
        let wf: UnsafePointer<Float> = cast(w)
        return ChannelBlockedConvolution.run(c, x: dy, w: w, bias: bias, y: dx, packed: nil,
                                             panelSource: { p, panel in ChannelBlockedAdjoint.packPanel(s, l, w: wf, p, into: panel) },
                                             channelsLast: true)
    }

    /// Columns of dW_g (its (kh, kw, ci) axis) per weight-gradient task, at most.
    static let weightGradientTile = 256

    /// dw = the weight gradient on channels-last x and dy: per group,
    /// dW_g[co, (kh, kw, ci)] = dy_g^T[co, pixels] x unfold(x_g)[pixels, (kh, kw, ci)] (every
    /// image's pixels one depth), then reordered to PyTorch's (C_out, C_in/g, kh, kw). Every
    /// element is one fixed-order sum over the pixels: the same bits for every thread count.
    /// `route`: the plan's (`KernelSelector.weightGradientRoute`, channels-last; nil: decided here).
    static func weightGradient<T: ConvScalar>(_ kernel: ChannelsLastKernel, _ s: ConvShape, x: UnsafePointer<T>,
                                              dy: UnsafePointer<T>, dw: UnsafeMutablePointer<T>,
                                              route: GemmWeightGradient.Route? = nil) throws {
        if kernel == .depthwise {
            try requireDepthwise(s)
            return ChannelsLastDepthwiseGradient.weightGradient(s, x: x, dy: dy, dw: dw)
        }
        let groups = s.groups, cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        let taps = s.kernelTaps, patch = s.patchSize, pixels = s.batch * s.outPixels
        if s.weightCount == 0 { return }
        if pixels == 0 {
            dw.update(repeating: 0, count: s.weightCount)
            return
        }
        if let p = s.pointwiseOnOutputGrid {
            return try weightGradientOnOutputGrid(kernel, s, p, x: x, dy: dy, dw: dw)
        }
        if s.isPointwise {
            // 1x1: a (C_out/g x C_in/g) product over the pixels, both operands row-major
            // (pixels x channels): one is the GEMM's B, read in place, the other is packed
            // transposed (A: a pixel's channels are its column). Either way each element is
            // the same sum over the pixels in order: the same bits.
            let nr = Gemm.nr(T.self)
            if !KernelSelector.channelsLastWeightGradientTransposed(s) {
                // dW_g = dy_g^T x x_g, written straight into dw (one tap: PyTorch's order).
                let split = Split(rows: cog, cols: cig, groups: groups, nr: nr, weightsFirst: false)
                split.run(work: s.macs, c: dw, ldc: cig, groupStride: cog * cig, bias: nil) { g, r, j, c, _ in
                    Gemm.multiply(StridedMatrix(base: dy + g * cog, rowStride: 1, colStride: s.outChannels),
                                  StridedMatrix(base: x + g * cig, rowStride: s.inChannels, colStride: 1),
                                  rows: r, cols: j, depth: pixels, c: c, ldc: cig, accumulate: false)
                }
                return
            }
            // Expand layers: dW_g^T = x_g^T x dy_g into a workspace, then transposed into dw.
            // x (the smaller operand) transposed once to (C_in, pixels) rows, read in place as
            // A, and dy read in place as the row-major B: no packing pass over either (packing
            // dy's panels and gathering x^T's made 1x1 64->256 56x56 N8 1.34x its NCHW time).
            // Without the memory for the copy: x^T packed by the GEMM (the same sums).
            let transposed = try Workspace<T>(count: s.weightCount, for: "the channels-last weight gradient")
            let t = transposed.pointer
            let split = Split(rows: cig, cols: cog, groups: groups, nr: nr, weightsFirst: false)
            func multiply(_ xRows: UnsafePointer<T>?) {
                split.run(work: s.macs, c: t, ldc: cog, groupStride: cog * cig, bias: nil) { g, r, j, c, _ in
                    let b = StridedMatrix(base: dy + g * cog, rowStride: s.outChannels, colStride: 1)
                    if let xRows {
                        Gemm.multiply(InPlaceWeights(base: xRows + g * cig * pixels, lda: pixels), b,
                                      rows: r, cols: j, depth: pixels, c: c, ldc: cog, accumulate: false)
                    } else {
                        Gemm.multiply(StridedMatrix(base: x + g * cig, rowStride: 1, colStride: s.inChannels), b,
                                      rows: r, cols: j, depth: pixels, c: c, ldc: cog, accumulate: false)
                    }
                }
            }
            if let copy = try? Workspace<T>(count: s.inputCount, for: "x as (C_in, pixels) rows") {
                LayoutConversion.toChannelsFirst(UnsafeRawPointer(x), UnsafeMutableRawPointer(copy.pointer), batch: 1,
                                                 channels: s.inChannels, pixels: pixels, elementBytes: MemoryLayout<T>.stride)
                multiply(UnsafePointer(copy.pointer))
            } else {
                multiply(nil)
            }
            for g in 0..<groups {
                let src = t + g * cog * cig, dst = dw + g * cog * cig
                for ci in 0..<cig { for co in 0..<cog { dst[co * cig + ci] = src[ci * cog + co] } }
            }
            return
        }
        let route = route ?? KernelSelector.weightGradientRoute(s, T.self)
        if route == .blockedInPlace, try weightGradientInPlaceFromBlockedCopy(s, x: x, dy: dy, dw: dw) { return }
        if weightGradientFromBlockedCopy(s, x: x, dy: dy, dw: dw, route: route) { return }
        let gradient = try Workspace<T>(count: s.weightCount, for: "the channels-last weight gradient")
        let g2 = gradient.pointer
        let tile = weightGradientTile, tiles = (patch + tile - 1) / tile
        // dy_g^T, the A of every task of group g, packed once when a group has several tasks
        // (each task packed all of it: C_out x pixels gathered at stride C_out per column
        // tile, 36 times for 3x3 1024 -> 512); nil: each task packs its own, the same bits.
        let a = { (g: Int) in StridedMatrix(base: dy + g * cog, rowStride: 1, colStride: s.outChannels) }
        let packedA = tiles > 1 ? Gemm.tryPackA(count: groups, rows: 0..<cog, depth: pixels, a) : nil
        ThreadPool.shared.parallelFor(groups * tiles, work: s.macs) { task in
            let g = task / tiles, j0 = (task - g * tiles) * tile, j1 = min(patch, j0 + tile)
            let b = ChannelsLastUnfolded(x: x + g * cig, shape: s), c = g2 + (g * cog * patch + j0)
            if let packedA {
                Gemm.multiply(packedA[g], b, rows: 0..<cog, cols: j0..<j1, depth: pixels, c: c, ldc: patch, accumulate: false)
            } else {
                Gemm.multiply(a(g), b, rows: 0..<cog, cols: j0..<j1, depth: pixels, c: c, ldc: patch, accumulate: false)
            }
        }
        for row in 0..<(groups * cog) {
            let src = g2 + row * patch, dst = dw + row * patch
            for t in 0..<taps { for ci in 0..<cig { dst[ci * taps + t] = src[t * cig + ci] } }
        }
    }

    /// The depthwise loops' precondition (the selector only picks them where it holds).
    private static func requireDepthwise(_ s: ConvShape) throws {
        guard DepthwiseConvolution.supportsChannelsLast(s) else {
            throw ConvError.invalidArgument("swiftconv: internal error, \(s) is not a channels-last depthwise shape")
        }
    }

    /// Channels per bias-gradient task.
    static let biasGradientBlock = 64

    /// db[c] = sum over every pixel of every image of dy[pixel, c] (channels-last dy), in
    /// pixel order: the same bits for every thread count.
    static func biasGradient<T: ConvScalar>(rows: Int, channels: Int, dy: UnsafePointer<T>, db: UnsafeMutablePointer<T>) {
        let block = biasGradientBlock, tasks = (channels + block - 1) / block
        ThreadPool.shared.parallelFor(tasks, work: rows * channels) { task in
            let c0 = task * block, count = min(block, channels - c0)
            let out = db + c0
            out.update(repeating: 0, count: count)
            for r in 0..<rows {
                let row = dy + (r * channels + c0)
                for c in 0..<count { out[c] += row[c] }
            }
        }
    }
}
