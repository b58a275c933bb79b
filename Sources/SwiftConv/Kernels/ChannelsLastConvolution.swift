/// The convolutions on channels-last activations, in place. `.depthwise`: the depthwise
/// loops with pixel stride C (DepthwiseConvolution, "Channels-last, in place"). `.gemm`: per group,
/// y[pixels, C_out/g] = unfold(x)[pixels, (kh, kw, ci)] x W_g^T[(kh, kw, ci), C_out/g], one
/// pixel-major GEMM whose output rows ARE the (N, H, W, C) result (ldc = C_out). The
/// unfolded input is an operand (`ChannelsLastUnfolded`; a 1x1 stride-1 convolution reads
/// x as the plain (pixels x C_in) matrix it is), the weights are packed once per call as
/// (kh, kw, ci) x C_out/g in the GEMM's 16-wide column panels (`ChannelsLastWeights`).
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
    /// pack them here.
    static func forward<T: ConvScalar>(_ kernel: ChannelsLastKernel, _ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>,
                                       packed: ChannelsLastWeights<T>? = nil) throws {
        if kernel == .depthwise {
            try requireDepthwise(s)
            return DepthwiseConvolution.forwardChannelsLast(s, x: x, w: w, bias: bias, y: y)
        }
        let groups = s.groups, cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        let patch = s.patchSize, cOut = s.outChannels
        let rows = s.batch * s.outPixels
        if rows == 0 || cOut == 0 { return }
        guard let weights = packed ?? ChannelsLastWeights(w, shape: s) else {
            throw ConvError.outOfMemory("swiftconv: could not allocate the packed weights (\(cOut) x \(patch)) of a channels-last convolution")
        }
        let tile = balancedRowTile(rows: rows, groups: groups)
        let tiles = (rows + tile - 1) / tile
        let pointwise = s.isPointwise
        ThreadPool.shared.parallelFor(groups * tiles, work: s.macs) { task in
            let g = task / tiles, r0 = (task - g * tiles) * tile, r1 = min(rows, r0 + tile)
            let c = y + (r0 * cOut + g * cog)
            // With a bias, every sum starts from it; without, from zero.
            if let bias {
                let values = bias + g * cog
                for r in 0..<(r1 - r0) { (c + r * cOut).update(from: values, count: cog) }
            }
            let bOperand = weights.operand(group: g)
            if pointwise {
                Gemm.multiply(StridedMatrix(base: x + g * cig, rowStride: s.inChannels, colStride: 1), bOperand,
                              rows: r0..<r1, cols: 0..<cog, depth: patch, c: c, ldc: cOut, accumulate: bias != nil)
            } else {
                Gemm.multiply(ChannelsLastUnfolded(x: x + g * cig, shape: s), bOperand,
                              rows: r0..<r1, cols: 0..<cog, depth: patch, c: c, ldc: cOut, accumulate: bias != nil)
            }
        }
    }

    /// dx = conv^T(dy, w) (+ bias) on channels-last dy and dx at stride 1: the ordinary
    /// stride-1 convolution of dy with the kernel flipped in both axes and regrouped (the
    /// upsample formulation with nothing to insert, `UpsampleAdjoint.equivalentConvolution`),
    /// run by the channels-last GEMM. (The conv backward's grad_input, and the transposed
    /// conv's forward.)
    static func adjoint<T: ConvScalar>(_ kernel: ChannelsLastKernel, _ s: ConvShape, dy: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>) throws {
        if kernel == .depthwise {
            try requireDepthwise(s)
            return DepthwiseConvolution.adjointChannelsLast(s, dy: dy, w: w, bias: bias, dx: dx)
        }
        let pixels = s.batch * s.inPixels, channels = s.inChannels
        if s.outPixels == 0 || s.outChannels == 0 {
            // Nothing sums into dx: the bias alone (or zeros).
            for r in 0..<pixels {
                if let bias { (dx + r * channels).update(from: bias, count: channels) } else { (dx + r * channels).update(repeating: 0, count: channels) }
            }
            return
        }
        guard s.strideH == 1 && s.strideW == 1, let c = UpsampleAdjoint.equivalentConvolution(s) else {
            throw ConvError.invalidArgument("swiftconv: internal error, the channels-last adjoint needs stride 1")
        }
        // The flipped, regrouped kernel: wc[g*cig + i, o, kh, kw] = w[g*cog + o, i, K-1-kh, K-1-kw].
        let flipped = try Workspace<T>(count: c.weightCount, for: "the flipped kernel")
        let wc = flipped.pointer
        UpsampleAdjoint.flippedKernel(s, w: w, into: wc)
        try forward(kernel, c, x: dy, w: UnsafePointer(wc), bias: bias, y: dx)
    }

    /// Columns of dW_g (its (kh, kw, ci) axis) per weight-gradient task, at most.
    static let weightGradientTile = 256

    /// dw = the weight gradient on channels-last x and dy: per group,
    /// dW_g[co, (kh, kw, ci)] = dy_g^T[co, pixels] x unfold(x_g)[pixels, (kh, kw, ci)] (every
    /// image's pixels one depth), then reordered to PyTorch's (C_out, C_in/g, kh, kw). Every
    /// element is one fixed-order sum over the pixels: the same bits for every thread count.
    static func weightGradient<T: ConvScalar>(_ kernel: ChannelsLastKernel, _ s: ConvShape, x: UnsafePointer<T>,
                                              dy: UnsafePointer<T>, dw: UnsafeMutablePointer<T>) throws {
        if kernel == .depthwise {
            try requireDepthwise(s)
            return DepthwiseConvolution.weightGradientChannelsLast(s, x: x, dy: dy, dw: dw)
        }
        let groups = s.groups, cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        let taps = s.kernelTaps, patch = s.patchSize, pixels = s.batch * s.outPixels
        if s.weightCount == 0 { return }
        if pixels == 0 {
            dw.update(repeating: 0, count: s.weightCount)
            return
        }
        let gradient = try Workspace<T>(count: s.weightCount, for: "the channels-last weight gradient")
        let g2 = gradient.pointer
        let tile = weightGradientTile, tiles = (patch + tile - 1) / tile
        ThreadPool.shared.parallelFor(groups * tiles, work: s.macs) { task in
            let g = task / tiles, j0 = (task - g * tiles) * tile, j1 = min(patch, j0 + tile)
            let a = StridedMatrix(base: dy + g * cog, rowStride: 1, colStride: s.outChannels)
            Gemm.multiply(a, ChannelsLastUnfolded(x: x + g * cig, shape: s), rows: 0..<cog, cols: j0..<j1, depth: pixels,
                          c: g2 + (g * cog * patch + j0), ldc: patch, accumulate: false)
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
