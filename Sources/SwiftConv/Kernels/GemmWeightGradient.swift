/// The weight gradient as a GEMM: dW_g = sum over images of dy_g · unfold(x_g)^T. A task owns
/// a block of output channels of one group and sums the images in order, so the reduction
/// order is fixed whatever the thread count.
enum GemmWeightGradient {
    static let rowsPerTask = 8

    static func weightGradient<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, dy: UnsafePointer<T>,
                                              dw: UnsafeMutablePointer<T>) {
        let pixels = s.outPixels, k = s.patchSize
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        let blocks = (cog + rowsPerTask - 1) / rowsPerTask
        ThreadPool.shared.parallelFor(s.groups * blocks) { task in
            let g = task / blocks, b = task % blocks
            let rows = (b * rowsPerTask)..<min(cog, (b + 1) * rowsPerTask)
            let dwBlock = dw + (g * cog + rows.lowerBound) * k
            dwBlock.update(repeating: 0, count: rows.count * k)
            for n in 0..<s.batch {
                Gemm.multiply(StridedMatrix(base: dy + (n * s.outChannels + g * cog) * pixels, rowStride: pixels, colStride: 1),
                              UnfoldedInputTransposed(unfolded: UnfoldedInput(x: x + (n * s.inChannels + g * cig) * s.inPixels, shape: s)),
                              rows: rows, cols: 0..<k, depth: pixels, c: dwBlock, ldc: k, accumulate: true)
            }
        }
    }

    /// db[c] = sum over images and pixels of dy[:, c], one task per channel.
    static func biasGradient<T: ConvScalar>(batch: Int, channels: Int, pixels: Int,
                                            dy: UnsafePointer<T>, db: UnsafeMutablePointer<T>) {
        ThreadPool.shared.parallelFor(channels) { c in
            var acc: T = 0
            for n in 0..<batch {
                let row = dy + (n * channels + c) * pixels
                for p in 0..<pixels { acc += row[p] }
            }
            db[c] = acc
        }
    }
}
