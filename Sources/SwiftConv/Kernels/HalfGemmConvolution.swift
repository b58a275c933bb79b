/// float16 / bfloat16 1x1 convolutions on the GEMM (ConvPlan's `.halfGemm` step): the
/// float32 plan reads the whole widened input in place as its B operand and writes a whole
/// float32 output that a last pass rounds; here each task widens only the columns (pixels)
/// it multiplies, a cache-sized chunk, runs the same GEMM on that chunk into a float32 tile,
/// and rounds the tile into the half output while it is still in cache. The input is read
/// once at half the bytes and no whole-array float32 copy is made or read.
///
/// Same bits as the widen / GEMM / narrow plan, for every thread count and tier: the chunk
/// holds exactly the widened values, the A operand is the same (the plan's packed weights or
/// the widened weights), and the GEMM's per-element reduction order does not depend on which
/// columns a call covers or where they are in memory (Gemm.swift); each result is rounded
/// once by the same conversion.
enum HalfGemmConvolution {
    /// Bytes of widened B per chunk, at most (unless a chunk of 16 columns is larger): the
    /// chunk and the GEMM's packed A stay in L2 while the micro-kernels sweep it.
    static let chunkBytes = 256 * 1024

    /// Scratch per task: the widened chunk (cig x `ld` floats) and its float32 result tile
    /// (the task's rows x `ld`), for column chunks of `width` (a multiple of 16).
    private static func scratchCount(cig: Int, rows: Int, width: Int) -> Int? {
        let (sum, o1) = cig.addingReportingOverflow(rows)
        let (count, o2) = sum.multipliedReportingOverflow(by: width)
        let (_, o3) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        return o1 || o2 || o3 ? nil : count
    }

    /// y = conv(x, w) + bias for a pointwise shape (1x1, stride 1, no padding; `s.isPointwise`
    /// and planar): x and y `dtype` bit patterns, w and bias float32; `packed`: W_g of every
    /// group packed ahead (a prepared plan's), or nil to pack here as the float32 plan would.
    /// Columns run over (image, pixel) of each group (the batch folded in: the GEMM's results
    /// do not depend on how its columns are cut).
    static func pointwiseForward(_ s: ConvShape, dtype: ConvDType, x: UnsafePointer<UInt16>, w: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<UInt16>,
                                 packed prepacked: [PackedMatrix<Float>]?) throws {
        let pixels = s.outPixels, cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        let columns = s.batch * pixels
        if pixels <= 0 || cog <= 0 || s.groups <= 0 || s.batch <= 0 { return }
        let table = KernelTable.active
        let widen = dtype == .bfloat16 ? table.bfloat16ToFloat32 : table.float16ToFloat32
        let narrow = dtype == .bfloat16 ? table.float32ToBfloat16 : table.float32ToFloat16
        let plan = Im2colConvolution.Tiling(elementBytes: MemoryLayout<Float>.stride, cog: cog, k: cig,
                                            columns: columns, jobs: s.groups, imagesPerGroup: 1)
        let weights = { (g: Int) in StridedMatrix(base: w + g * cog * cig, rowStride: cig, colStride: 1) }
        let packed = prepacked ?? Im2colConvolution.packWeights(s, weights: weights, plan.prepack)
        // Chunks of a task's tile: cache-sized when A is packed once; the whole tile when the
        // GEMM packs A itself (it would pack it again for every chunk).
        let perChunk = max(16, chunkBytes / max(1, cig * MemoryLayout<Float>.stride) / 16 * 16)
        let width = packed.isEmpty ? plan.tile : min(plan.tile, perChunk)
        guard let count = scratchCount(cig: cig, rows: plan.rowBlock, width: width),
              ThreadScratch.halfGemm.reserve(bytes: count * MemoryLayout<Float>.stride) else {
            throw ConvError.outOfMemory("swiftconv: could not allocate the float32 chunk of a \(dtype.name) 1x1 convolution "
                                        + "(\(cig) x \(width) and \(plan.rowBlock) x \(width) elements)")
        }
        let cin = s.inChannels, cout = s.outChannels
        let perGroup = plan.tiles * plan.rowBlocks
        ThreadPool.shared.parallelFor(s.groups * perGroup, work: s.macs) { task in
            let r = task % perGroup, g = task / perGroup
            let t = r % plan.tiles, rb = r / plan.tiles
            let tileCols = (t * plan.tile)..<min(columns, (t + 1) * plan.tile)
            let rows = (rb * plan.rowBlock)..<min(cog, (rb + 1) * plan.rowBlock)
            let scratch = ThreadScratch.halfGemm.buffer(bytes: count * MemoryLayout<Float>.stride)
                .bindMemory(to: Float.self, capacity: count)
            let b = scratch, c = scratch + cig * width
            var j0 = tileCols.lowerBound
            while j0 < tileCols.upperBound {
                let j1 = min(tileCols.upperBound, j0 + width), n = j1 - j0
                // Runs of the chunk within one image: (image, first pixel, offset, length).
                forEachImageRun(j0, j1, pixels: pixels) { image, p0, offset, len in
                    let src = x + (image * cin + g * cig) * pixels + p0
                    for ci in 0..<cig { widen(src + ci * pixels, b + ci * width + offset, len) }
                }
                if let bias { fillRows(c, rows: rows.count, cols: n, ld: width, values: bias + g * cog + rows.lowerBound) }
                let operand = StridedMatrix(base: UnsafePointer(b), rowStride: width, colStride: 1)
                if !packed.isEmpty {
                    Gemm.multiply(packed[g], operand, rows: rows, cols: 0..<n, depth: cig, c: c, ldc: width, accumulate: bias != nil)
                } else {
                    Gemm.multiply(weights(g), operand, rows: rows, cols: 0..<n, depth: cig, c: c, ldc: width, accumulate: bias != nil)
                }
                forEachImageRun(j0, j1, pixels: pixels) { image, p0, offset, len in
                    let dst = y + (image * cout + g * cog + rows.lowerBound) * pixels + p0
                    for i in 0..<rows.count { narrow(UnsafePointer(c + i * width + offset), dst + i * pixels, len) }
                }
                j0 = j1
            }
        }
    }

    /// Calls body(image, first pixel, offset from j0, length) for the runs of the folded
    /// columns j0 ..< j1 (j = image * pixels + pixel) that lie within one image.
    @inline(__always)
    private static func forEachImageRun(_ j0: Int, _ j1: Int, pixels: Int, _ body: (Int, Int, Int, Int) -> Void) {
        var j = j0
        while j < j1 {
            let image = j / pixels, p = j - image * pixels
            let len = min(j1 - j, pixels - p)
            body(image, p, j - j0, len)
            j += len
        }
    }
}
