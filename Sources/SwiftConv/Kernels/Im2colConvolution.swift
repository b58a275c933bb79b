/// The "im2col" formulation: per image and group, y_g = W_g · unfold(x_g), one GEMM whose
/// output IS the NCHW result. The unfolded matrix is an operand packed tile by tile, never
/// materialised whole.
enum Im2colConvolution {
    /// Output columns (pixels) per task.
    static let columnTile = 512

    static func forward<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>) {
        let pixels = s.outPixels, k = s.patchSize
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        let tiles = (pixels + columnTile - 1) / columnTile
        ThreadPool.shared.parallelFor(s.batch * s.groups * tiles) { task in
            let t = task % tiles, ng = task / tiles
            let g = ng % s.groups, n = ng / s.groups
            let cols = (t * columnTile)..<min(pixels, (t + 1) * columnTile)
            let yTile = y + (n * s.outChannels + g * cog) * pixels + cols.lowerBound
            fillRows(yTile, rows: cog, cols: cols.count, ld: pixels, values: bias.map { $0 + g * cog })
            Gemm.multiply(StridedMatrix(base: w + g * cog * k, rowStride: k, colStride: 1),
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
