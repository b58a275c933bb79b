/// The weight gradient as a GEMM: dW_g = sum over images of dy_g · unfold(x_g)^T. A task owns
/// a block of dW columns (patch rows) of one group, all output channels, and sums the images
/// in order, so the reduction order is fixed whatever the thread count.
enum GemmWeightGradient {
    /// dW columns per task, at most.
    static let columnsPerTask = 128

    static func weightGradient<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, dy: UnsafePointer<T>,
                                              dw: UnsafeMutablePointer<T>) {
        let pixels = s.outPixels, k = s.patchSize
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        // Balanced column blocks (a multiple of 16 wide); the GEMM's per-element reduction
        // order does not depend on the tiling, so neither does the result.
        let threads = ThreadPool.shared.numThreads
        var blocks = max(1, (k + columnsPerTask - 1) / columnsPerTask)
        if threads > 1 && s.groups < 8 * threads {
            let total = (s.groups * blocks + threads - 1) / threads * threads
            blocks = max(blocks, (total + s.groups - 1) / s.groups)
        }
        let width = max(16, ((k + blocks - 1) / blocks + 15) / 16 * 16)
        blocks = (k + width - 1) / width
        ThreadPool.shared.parallelFor(s.groups * blocks) { task in
            let g = task / blocks, b = task % blocks
            let cols = (b * width)..<min(k, (b + 1) * width)
            let dwBlock = dw + g * cog * k + cols.lowerBound
            for r in 0..<cog { (dwBlock + r * k).update(repeating: 0, count: cols.count) }
            for n in 0..<s.batch {
                Gemm.multiply(StridedMatrix(base: dy + (n * s.outChannels + g * cog) * pixels, rowStride: pixels, colStride: 1),
                              UnfoldedInputTransposed(unfolded: UnfoldedInput(x: x + (n * s.inChannels + g * cig) * s.inPixels, shape: s)),
                              rows: 0..<cog, cols: cols, depth: pixels, c: dwBlock, ldc: k, accumulate: true)
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
