/// The forward convolution on channels-last activations, in place: per group,
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
}
