/// The weight gradient as a GEMM: dW_g = dy_g · unfold(x_g)^T with the depth running over
/// (image, pixel), so the batch is one long reduction (dcgan: 8 images of 16 pixels make a
/// depth of 128, not eight GEMMs of depth 16). A task owns a block of dW columns (patch rows)
/// of one group, all output channels; the GEMM's reduction order is fixed whatever the
/// thread count.
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
        let depth = s.batch * pixels
        func dyOperand(_ g: Int) -> ImageColumns<T> {
            ImageColumns(base: dy + g * cog * pixels, rowStride: pixels, imageStride: s.outChannels * pixels, pixels: pixels)
        }
        // With several column blocks per group, dy_g is packed once for all of them (when
        // the memory can be had; otherwise each task packs its own, with the same bits).
        var packed: [PackedMatrix<T>] = []
        if blocks > 1 && depth > 0 && cog > 0 {
            packed = (0..<s.groups).compactMap { Gemm.tryPackA(dyOperand($0), rows: 0..<cog, depth: depth) }
            if packed.count != s.groups { packed = [] }
        }
        ThreadPool.shared.parallelFor(s.groups * blocks, work: s.macs) { task in
            let g = task / blocks, b = task % blocks
            let cols = (b * width)..<min(k, (b + 1) * width)
            // Depth runs over (image, pixel): the images are summed in order inside the GEMM,
            // exactly as if each image's product were accumulated in turn.
            let c = dw + g * cog * k + cols.lowerBound
            let bm = BatchedUnfoldedTransposed(x: x + g * cig * s.inPixels, imageStride: s.inChannels * s.inPixels, shape: s)
            if packed.isEmpty {
                Gemm.multiply(dyOperand(g), bm, rows: 0..<cog, cols: cols, depth: depth, c: c, ldc: k, accumulate: false)
            } else {
                Gemm.multiply(packed[g], bm, rows: 0..<cog, cols: cols, depth: depth, c: c, ldc: k, accumulate: false)
            }
        }
    }

    /// db[c] = sum over images and pixels of dy[:, c], one task per channel (blocks of
    /// channels). Each channel is summed in 16 lanes (two SIMD8 accumulators, in pixel order),
    /// then the lanes and the scalar tail in a fixed order.
    static func biasGradient<T: ConvScalar>(batch: Int, channels: Int, pixels: Int,
                                            dy: UnsafePointer<T>, db: UnsafeMutablePointer<T>) {
        let perTask = max(1, 16384 / max(1, batch * pixels))
        let tasks = (channels + perTask - 1) / perTask
        ThreadPool.shared.parallelFor(tasks, work: batch * channels * pixels) { task in
            for c in (task * perTask)..<min(channels, (task + 1) * perTask) {
                var lanes0 = SIMD8<T>(), lanes1 = SIMD8<T>()
                var tail: T = 0
                for n in 0..<batch {
                    let row = dy + (n * channels + c) * pixels
                    var p = 0
                    while p &+ 16 <= pixels {
                        lanes0 += UnsafeRawPointer(row + p).loadUnaligned(as: SIMD8<T>.self)
                        lanes1 += UnsafeRawPointer(row + (p &+ 8)).loadUnaligned(as: SIMD8<T>.self)
                        p &+= 16
                    }
                    while p < pixels { tail += row[p]; p &+= 1 }
                }
                let lanes = lanes0 + lanes1
                var acc: T = 0
                for i in 0..<8 { acc += lanes[i] }
                db[c] = acc + tail
            }
        }
    }
}
