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

    /// Packed weights above this size are not packed up front when few column tiles share
    /// them (packing is then done block by block inside the GEMM, reading them once).
    static let prepackLimitBytes = 1 << 20

    static func forward<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>) {
        if s.isPointwise {
            // 1x1, stride 1, no padding: the unfolded input IS the image, a row-major
            // (C_in/groups x pixels) matrix.
            run(s, w: w, bias: bias, y: y) { n, g in
                StridedMatrix(base: x + (n * s.inChannels + g * s.inChannelsPerGroup) * s.inPixels,
                              rowStride: s.inPixels, colStride: 1)
            }
        } else {
            run(s, w: w, bias: bias, y: y) { n, g in
                UnfoldedInput(x: x + (n * s.inChannels + g * s.inChannelsPerGroup) * s.inPixels, shape: s)
            }
        }
    }

    /// y_g = W_g * B(n, g) for every image and group, tiled over output columns (and, for big
    /// weight matrices with few tiles, over output-channel blocks too).
    @inline(__always)
    static func run<T: ConvScalar, B: GemmOperand>(_ s: ConvShape, w: UnsafePointer<T>, bias: UnsafePointer<T>?,
                                                   y: UnsafeMutablePointer<T>, operand: (Int, Int) -> B) where B.Scalar == T {
        let pixels = s.outPixels, k = s.patchSize
        let cog = s.outChannelsPerGroup
        let jobs = s.batch * s.groups
        if pixels <= 0 || cog <= 0 || jobs <= 0 { return }
        let mr = Gemm.mr
        let bigA = (cog + mr - 1) / mr * mr * k * MemoryLayout<T>.stride > prepackLimitBytes
        let tile = bigA ? min(columnTile, (pixels + 15) / 16 * 16) : balancedColumnTile(pixels: pixels, jobs: jobs)
        let tiles = (pixels + tile - 1) / tile
        // Output-channel blocks (multiples of 6 rows): only when the tiles alone cannot
        // keep the threads busy. The GEMM's reduction order does not depend on them.
        let threads = ThreadPool.shared.numThreads
        var rowBlocks = 1
        if bigA && threads > 1 && jobs * tiles < 2 * threads {
            rowBlocks = min((cog + mr - 1) / mr, (2 * threads + jobs * tiles - 1) / (jobs * tiles))
            // An even split over the threads when possible.
            rowBlocks = max(1, rowBlocks / threads * threads)
        }
        let rowBlock = ((cog + rowBlocks - 1) / rowBlocks + mr - 1) / mr * mr
        rowBlocks = (cog + rowBlock - 1) / rowBlock
        let prepack = !bigA || tiles >= 3
        // The weights of each group, packed once for every tile (unless big and used by few).
        let packed: [PackedMatrix<T>] = prepack ? (0..<s.groups).map { g in
            Gemm.packA(StridedMatrix(base: w + g * cog * k, rowStride: k, colStride: 1), rows: 0..<cog, depth: k)
        } : []
        let perJob = tiles * rowBlocks
        ThreadPool.shared.parallelFor(jobs * perJob) { task in
            let r = task % perJob, ng = task / perJob
            let t = r % tiles, rb = r / tiles
            let g = ng % s.groups, n = ng / s.groups
            let cols = (t * tile)..<min(pixels, (t + 1) * tile)
            let rows = (rb * rowBlock)..<min(cog, (rb + 1) * rowBlock)
            let yTile = y + (n * s.outChannels + g * cog + rows.lowerBound) * pixels + cols.lowerBound
            fillRows(yTile, rows: rows.count, cols: cols.count, ld: pixels, values: bias.map { $0 + g * cog + rows.lowerBound })
            if prepack {
                Gemm.multiply(packed[g], operand(n, g), rows: rows, cols: cols, depth: k, c: yTile, ldc: pixels, accumulate: true)
            } else {
                Gemm.multiply(StridedMatrix(base: w + g * cog * k, rowStride: k, colStride: 1), operand(n, g),
                              rows: rows, cols: cols, depth: k, c: yTile, ldc: pixels, accumulate: true)
            }
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
