/// The "taps" formulation: a k x k convolution is k*k 1x1 convolutions on shifted inputs,
/// y_g = sum over taps t of W_g[:, :, t] · shift_t(x_g), each a GEMM of depth C_in/groups,
/// accumulated into the output in tap order.
enum TapsConvolution {
    /// Row ci of tap `tap`: the input channel ci shifted as kernel tap `tap` sees it.
    struct ShiftedInput<Scalar: ConvScalar>: GemmOperand {
        let unfolded: UnfoldedInput<Scalar>
        let tap: Int
        @inline(__always) func element(_ ci: Int, _ p: Int) -> Scalar {
            unfolded.element(ci &* unfolded.shape.kernelTaps &+ tap, p)
        }
    }

    static func forward<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>) {
        let pixels = s.outPixels, k = s.patchSize, taps = s.kernelTaps
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        let tile = Im2colConvolution.balancedColumnTile(pixels: pixels, jobs: s.batch * s.groups)
        let tiles = (pixels + tile - 1) / tile
        if tiles == 0 { return }
        // W_g[:, :, tap] for every group and tap, packed once for every tile.
        // (When the memory cannot be had, [] and each GEMM packs its own: the same bits.)
        let packed = Gemm.tryPackA(count: s.groups * taps, rows: 0..<cog, depth: cig) { gt in
            StridedMatrix(base: w + (gt / taps) * cog * k + gt % taps, rowStride: k, colStride: taps)
        } ?? []
        ThreadPool.shared.parallelFor(s.batch * s.groups * tiles) { task in
            let t = task % tiles, ng = task / tiles
            let g = ng % s.groups, n = ng / s.groups
            let cols = (t * tile)..<min(pixels, (t + 1) * tile)
            let yTile = y + (n * s.outChannels + g * cog) * pixels + cols.lowerBound
            fillRows(yTile, rows: cog, cols: cols.count, ld: pixels, values: bias.map { $0 + g * cog })
            let unfolded = UnfoldedInput(x: x + (n * s.inChannels + g * cig) * s.inPixels, shape: s)
            for tap in 0..<taps {
                if packed.isEmpty {
                    Gemm.multiply(StridedMatrix(base: w + g * cog * k + tap, rowStride: k, colStride: taps),
                                  ShiftedInput(unfolded: unfolded, tap: tap),
                                  rows: 0..<cog, cols: cols, depth: cig, c: yTile, ldc: pixels, accumulate: true)
                } else {
                    Gemm.multiply(packed[g * taps + tap],
                                  ShiftedInput(unfolded: unfolded, tap: tap),
                                  rows: 0..<cog, cols: cols, depth: cig, c: yTile, ldc: pixels, accumulate: true)
                }
            }
        }
    }
}
