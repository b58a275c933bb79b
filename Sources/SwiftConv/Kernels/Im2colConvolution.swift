/// The "im2col" formulation: per image and group, y_g = W_g · unfold(x_g), one GEMM whose
/// output IS the NCHW result. The unfolded matrix is an operand packed tile by tile, never
/// materialised whole.
enum Im2colConvolution {
    /// Output columns (pixels) per task, at most.
    static let columnTile = 512

    /// Output columns per task for `jobs` (images x groups) of `pixels` columns each: at most
    /// `columnTile`, a multiple of 16, and, when there are few jobs, enough tiles to split
    /// evenly over the threads. The GEMM's per-element reduction order does not depend on
    /// how its output is tiled, so this choice never changes the result.
    static func balancedColumnTile(pixels: Int, jobs: Int) -> Int {
        if pixels <= 0 || jobs <= 0 { return columnTile }
        let threads = ThreadPool.shared.numThreads
        var tiles = (pixels + columnTile - 1) / columnTile
        if threads > 1 && jobs < 8 * threads {
            let total = (jobs * tiles + threads - 1) / threads * threads
            tiles = max(tiles, (total + jobs - 1) / jobs)
        }
        let perTile = (pixels + tiles - 1) / tiles
        return max(16, (perTile + 15) / 16 * 16)
    }

    static func forward<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>) {
        let pixels = s.outPixels, k = s.patchSize
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        let tile = balancedColumnTile(pixels: pixels, jobs: s.batch * s.groups)
        let tiles = (pixels + tile - 1) / tile
        if tiles == 0 { return }
        // The weights of each group, packed once for every tile.
        let packed = (0..<s.groups).map { g in
            Gemm.packA(StridedMatrix(base: w + g * cog * k, rowStride: k, colStride: 1), rows: 0..<cog, depth: k)
        }
        ThreadPool.shared.parallelFor(s.batch * s.groups * tiles) { task in
            let t = task % tiles, ng = task / tiles
            let g = ng % s.groups, n = ng / s.groups
            let cols = (t * tile)..<min(pixels, (t + 1) * tile)
            let yTile = y + (n * s.outChannels + g * cog) * pixels + cols.lowerBound
            fillRows(yTile, rows: cog, cols: cols.count, ld: pixels, values: bias.map { $0 + g * cog })
            Gemm.multiply(packed[g],
                          UnfoldedInput(x: x + (n * s.inChannels + g * cig) * s.inPixels, shape: s),
                          rows: 0..<cog, cols: cols, depth: k, c: yTile, ldc: pixels, accumulate: true)
        }
    }
}

/// Sets rows x cols of a row-major block (rows `ld` apart) to values[row], or to zero.
@inline(__always)
func fillRows<T: ConvScalar>(_ c: UnsafeMutablePointer<T>, rows: Int, cols: Int, ld: Int,
                             values: UnsafePointer<T>?) {
    for r in 0..<rows {
        (c + r * ld).update(repeating: values?[r] ?? 0, count: cols)
    }
}
