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
public enum HalfGemm: String, Sendable {
    /// y = conv(x, w) (+ bias): W_g times the input's channels.
    case forward = "1x1 GEMM"
    /// dx = conv^T(dy, w) (+ bias) of a 1x1 stride-1 conv: the pointwise conv of dy with the
    /// flipped, regrouped kernel (UpsampleAdjoint's formulation, whose GEMM this is).
    case adjoint = "1x1 GEMM with the flipped kernel"
}

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

    /// The weights of the GEMM: packed ahead (a prepared plan's float32 panels), or the
    /// caller's half weights, widened as they are packed (`WideningRows`): no float32 copy.
    enum Weights {
        case packed([PackedMatrix<Float>])
        case half(UnsafePointer<UInt16>)
    }

    /// y = conv(x, w) + bias for a pointwise shape (1x1, stride 1, no padding; `s.isPointwise`
    /// and planar): x and y `dtype` bit patterns, bias float32. Columns run over (image,
    /// pixel) of each group (the batch folded in: the GEMM's results do not depend on how its
    /// columns are cut).
    static func pointwiseForward(_ s: ConvShape, dtype: ConvDType, x: UnsafePointer<UInt16>, weights: Weights,
                                 bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<UInt16>) throws {
        let k = s.patchSize, cog = s.outChannelsPerGroup
        switch weights {
        case .packed(let packed):
            // (the closure is not called: every group is packed)
            try pointwiseForward(s, dtype: dtype, x: x, weights: { _ in packed[0] }, bias: bias, y: y, packed: packed)
        case .half(let w):
            let widen = KernelTable.active.widening(dtype)
            try pointwiseForward(s, dtype: dtype, x: x, weights: { g in WideningRows(base: w + g * cog * k, rowStride: k, widen: widen) },
                                 bias: bias, y: y, packed: nil)
        }
    }

    /// dx = conv^T(dy, w) + bias for a 1x1 stride-1 shape `s` whose upsample formulation
    /// (`UpsampleAdjoint.equivalentConvolution`) is pointwise: that conv of the `dtype` dy
    /// with the flipped kernel of the float32 weights `w` read in place, or `packed` ahead
    /// (PackedWeights' adjoint layout), as UpsampleAdjoint's im2col GEMM reads it.
    static func pointwiseAdjoint(_ s: ConvShape, dtype: ConvDType, dy: UnsafePointer<UInt16>, w: UnsafePointer<Float>,
                                 packed: [PackedMatrix<Float>]?, bias: UnsafePointer<Float>?,
                                 dx: UnsafeMutablePointer<UInt16>) throws {
        guard let c = UpsampleAdjoint.equivalentConvolution(s), c.isPointwise else {
            throw ConvError.invalidArgument("conv_transpose: internal error, the 1x1 GEMM of a shape that is not pointwise")
        }
        let cig = s.inChannelsPerGroup, taps = s.kernelTaps, groupStride = s.outChannelsPerGroup * cig * taps
        try pointwiseForward(c, dtype: dtype, x: dy, weights: { g in FlippedKernel(base: w + g * groupStride, cig: cig, taps: taps) },
                             bias: bias, y: dx, packed: packed)
    }

    /// As above with W_g given as a GEMM operand, packed here as the float32 plan packs its
    /// weights (once per call, or block by block in the GEMM), or `prepacked`.
    private static func pointwiseForward<A: GemmOperand>(_ s: ConvShape, dtype: ConvDType, x: UnsafePointer<UInt16>,
                                                         weights: (Int) -> A, bias: UnsafePointer<Float>?,
                                                         y: UnsafeMutablePointer<UInt16>,
                                                         packed prepacked: [PackedMatrix<Float>]?) throws where A.Scalar == Float {
        let pixels = s.outPixels, cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        let columns = s.batch * pixels
        if pixels <= 0 || cog <= 0 || s.groups <= 0 || s.batch <= 0 { return }
        let widen = KernelTable.active.widening(dtype), narrow = KernelTable.active.narrowing(dtype)
        let plan = Im2colConvolution.Tiling(elementBytes: MemoryLayout<Float>.stride, cog: cog, k: cig,
                                            columns: columns, jobs: s.groups, imagesPerGroup: 1)
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

/// A row-major matrix of float16 / bfloat16 bit patterns (row i at base + i * rowStride) as
/// a float32 GEMM A operand: packed by widening each panel's rows exactly (`widen`, the
/// kernel table's conversion) a depth chunk at a time, then packing those floats as
/// `StridedMatrix` does. The packed panels are the widened weights' panels, bit for bit.
struct WideningRows: GemmOperand {
    let base: UnsafePointer<UInt16>
    let rowStride: Int
    let widen: @convention(c) (UnsafePointer<UInt16>, UnsafeMutablePointer<Float>, Int) -> Void

    /// Depth per widened chunk (six rows of it on the stack).
    private static let chunk = 256

    func element(_ r: Int, _ c: Int) -> Float {
        var v: Float = 0
        widen(base + (r &* rowStride &+ c), &v, 1)
        return v
    }

    func packA(into dst: UnsafeMutablePointer<Float>, rows: Range<Int>, depth: Range<Int>) {
        let kc = depth.count, chunk = WideningRows.chunk
        if kc <= 0 { return }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: Gemm.mr * chunk) { buffer in
            let t = buffer.baseAddress!
            var d = dst, i0 = rows.lowerBound
            while i0 < rows.upperBound {
                let mr = min(Gemm.mr, rows.upperBound - i0)
                var p0 = 0
                while p0 < kc {
                    let len = min(chunk, kc - p0)
                    for ii in 0..<mr { widen(base + ((i0 + ii) * rowStride + depth.lowerBound + p0), t + ii * chunk, len) }
                    // One panel: rows past mr zero-filled by the packer.
                    StridedMatrix(base: UnsafePointer(t), rowStride: chunk, colStride: 1)
                        .packA(into: d + p0 * Gemm.mr, rows: 0..<mr, depth: 0..<len)
                    p0 += len
                }
                d += kc * Gemm.mr; i0 += Gemm.mr
            }
        }
    }
}

extension KernelTable {
    /// The exact widening of `dtype` (float16 / bfloat16) bit patterns to float32.
    func widening(_ dtype: ConvDType) -> @convention(c) (UnsafePointer<UInt16>, UnsafeMutablePointer<Float>, Int) -> Void {
        dtype == .bfloat16 ? bfloat16ToFloat32 : float16ToFloat32
    }

    /// The rounding of float32 to `dtype` (float16 / bfloat16) bit patterns, nearest even.
    func narrowing(_ dtype: ConvDType) -> @convention(c) (UnsafePointer<Float>, UnsafeMutablePointer<UInt16>, Int) -> Void {
        dtype == .bfloat16 ? float32ToBfloat16 : float32ToFloat16
    }
}
