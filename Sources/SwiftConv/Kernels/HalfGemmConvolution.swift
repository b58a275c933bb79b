/// float16 / bfloat16 convolutions on the im2col GEMM (ConvPlan's `.halfGemm` step): the
/// float32 plan reads a whole widened copy of the input (in place as its B operand, or
/// packing it) and writes a whole float32 output that a last pass rounds; here each task
/// widens only what its chunk of output columns reads (1x1: those pixels of every input
/// channel; other shapes: the input rows of its output rows, zero-padded so that every window
/// lies inside), runs the same GEMM on that chunk into a float32 tile, and rounds the tile
/// into the half output while it is still in cache. The input is read at half the bytes, no
/// whole-array float32 copy is made, and function calls widen the weights as the GEMM packs
/// them (`WideningRows`) instead of in a pass of their own.
///
/// Same bits as the widen / GEMM / narrow plan, for every thread count and tier: the chunk
/// holds exactly the widened values (the padding zeros as the float32 packing reads them),
/// the A operand holds the same float32 weights, and the GEMM's per-element reduction order
/// does not depend on which columns a call covers or where they lie in memory (Gemm.swift);
/// each result is rounded once by the same conversion (python/tests/test_half_gemm.py).
///
/// The planner's rule (ConvPlan.halfGemm): every half plan whose one step is the im2col
/// forward GEMM of a shape `supports` accepts, or the stride-1 transposed conv (grad_input)
/// run as upsample + im2col. Measured on the 2-vCPU AVX-512 Xeon, 1 thread, N = 1 unless
/// named: half time / float32 time of the same layer in one process, the build before this
/// step and this one run one after the other; float16 (bfloat16). Rows marked b:
/// `operator_bench.py --threads 1 --sections half` (wall-clock medians); the others the same
/// interleaved harness on process CPU time. * one disturbed sample (bfloat16 beside it).
///
/// | layer                        | function: before -> now    | prepared: before -> now    |
/// |------------------------------|----------------------------|----------------------------|
/// | b 1x1 256->64 56x56          | 1.18 (1.16) -> 0.86 (0.86) | 1.19 (1.18) -> 0.86 (0.86) |
/// | b 1x1 512->2048 7x7          | 1.27 (1.28) -> 0.99 (1.03) | 1.05 (1.04) -> 1.04 (1.04) |
/// | b 1x1 stride 2 256->512 56x56| 3.11*(1.24) -> 1.13 (1.15) | 1.20 (1.20) -> 1.15 (1.15) |
/// | b 3x3 64->64 56x56           | 1.05 (1.09) -> 1.03 (1.01) | 1.04 (1.04) -> 1.01 (1.01) |
/// | b 3x3 256->256 14x14         | 1.13 (1.04) -> 1.03 (1.03) | 1.02 (0.98) -> 0.98 (0.99) |
/// | 1x1 64->256 56x56            | 1.31 (1.30) -> 0.99 (1.01) | 1.26 (1.23) -> 0.98 (1.00) |
/// | 1x1 1024->256 14x14          | 1.16 (1.13) -> 1.03 (1.05) | 1.08 (1.06) -> 1.05 (1.07) |
/// | 1x1 N8 96->24 28x28          | 1.37 (1.35) -> 0.82 (0.85) | 1.40 (1.39) -> 0.86 (0.90) |
/// | 1x1 16->16 8x8 (2-9 us)      | 1.14 (1.19) -> 1.17 (1.19) | 1.33 (1.45) -> 1.30 (1.36) |
/// | 3x3 512->512 7x7             | 1.32 (1.24) -> 1.02 (1.01) | 1.00 (0.98) -> 1.01 (1.00) |
/// | 3x3 stride 2 128 56x56       | 1.06 (1.07) -> 1.02 (0.99) | 1.04 (1.05) -> 0.99 (0.99) |
/// | 3x3 N8 96->80 7x7            | 1.03 (1.05) -> 1.02 (1.04) | 1.02 (1.03) -> 1.02 (1.04) |
///
/// Then (`operator_bench.py --threads 1 --sections half`, wall-clock medians, the build before
/// and this one run alternately, two runs each; float16 (bfloat16), ranges over the runs):
/// a strided 1x1 conv without padding (`isSampledPointwise`) gathers only its sampled pixels
/// as it widens them and runs the pointwise path, whose GEMM reads the dense chunk in place
/// (the unfolded path widened every column between the samples and packed the strided
/// windows); a pointwise chunk that is one whole image is converted in one call.
///
/// | layer                        | function: before -> now              | prepared: before -> now             |
/// |------------------------------|--------------------------------------|-------------------------------------|
/// | 1x1 stride 2 256->512 56x56  | 1.34-1.39 (1.17) -> 0.99-1.07 (0.99-1.05) | 1.16-1.18 (1.16-1.17) -> 0.99-1.03 (0.99-1.01) |
/// | 1x1 512->2048 7x7            | 0.96-0.97 (0.96-1.03) -> 0.93-0.94 (0.97-0.98) | 1.05 (1.05-1.06) -> 1.03 (1.03-1.04) |
///
/// Session 9: the 1x1 ratios had drifted from 0.86 to 1.00-1.05 because float32 got faster,
/// not half slower: the build that landed the first table (0dbedea) against main (dfdc050),
/// one worker process per build, blocks alternated, process CPU time, 1 thread, 5 rounds,
/// main / old time: float32 256->64 56x56 0.88 (prepared 0.89: `sgemmBlockRowMajorB`'s
/// next-panel prefetch), float16 1.00 (1.02), bfloat16 1.02 (1.02); 3x3 64->64 56x56
/// float32 0.91 (0.94: the padded-width grid), float16 0.97 (1.00). So the dense chunks now
/// follow the float32 plan onto the grid (`readsGrid`); same harness, half / float32, main ->
/// this, float16 (bfloat16), function | prepared:
///
/// | layer                 | main                      | grid                      |
/// |-----------------------|---------------------------|---------------------------|
/// | 3x3 64->64 56x56      | 1.09 (1.08) \| 1.08 (1.10) | 0.97 (0.97) \| 0.98 (0.98) |
/// | 3x3 256->256 14x14    | 1.05 (1.05) \| 1.00 (0.99) | no grid (its ratio 1.14)  |
///
/// Tried for the 1x1 chunks and not kept (same harness, 5 and 7 rounds, half types,
/// function and prepared): prefetching the next chunk's half input into L2 channel by
/// channel while widening this one, or a share of it between 32-column GEMM calls over this
/// chunk (so it arrives while the GEMM runs): 256->64 56x56 1.00-1.02x the time without,
/// 64->256 56x56 0.99-1.01x, N8 96->24 28x28 0.99-1.03x, 1024->256 14x14 0.99-1.01x,
/// 24->144 56x56 0.95-1.01x. The widening of a
/// chunk (perf: 13% of 256->64 56x56, 22% of N8 96->24 28x28, at ~0.13 ns per value either
/// way) is what the half path adds over float32, whose GEMM reads x while it computes; the
/// way left is to widen B panel by panel inside the GEMM's sweep (a widening packer
/// feeding `sgemmBlock` from L1), with the same next-panel prefetch. Also not kept: function
/// calls widening the half weights once into a float32 copy read in place where the float32
/// plan reads its weights in place (`KernelSelector.readsWeightsInPlace`), instead of
/// `WideningRows` (7 rounds, float16 / bfloat16 time, in place / packed): 960->160 7x7
/// 1.01 / 1.04, 1024->256 14x14 1.07 / 1.05 (controls that keep packing: 512->2048 7x7
/// 1.01 / 1.03, N8 96->24 28x28 0.98 / 0.98).
///
/// Session 12 (2-vCPU Zen5, F16C, no AVX512-FP16): perf of 256->64 56x56 float16 prepared
/// put the chunk's widening at ~13% of the GEMM's time (it wrote the whole chunk to L2 for
/// the GEMM to read again). Now a pointwise chunk with packed weights and at least
/// `panelWideningMinDepth` input channels widens its B panels as the GEMM packs them
/// (`WideningColumns`: the tiers' `float16ToFloat32Panels`, reading half the bytes, the
/// next strip's lines prefetched into L2), `panelStripColumns` columns per GEMM call while
/// A stays in L2, each strip's result rounded into y while in L1; with A bigger than L2 one
/// call per image run (the GEMM's blocks of B widened as packed). Shallower inputs and
/// function calls whose GEMM packs A itself, and chunks across images, keep the chunk.
/// 1 thread, process CPU time, rounds interleaved, this build / the session-start build
/// (bf0a924) in one process (/tmp/s12/half1x1/ab.py), new / old time, float16 (bfloat16),
/// function | prepared, N1. Quiet machine (load 1.6, 9 rounds): 256->64 56x56 1.00 (1.00) |
/// 0.97 (0.98), 256->128 56x56 0.99 (0.98) | 0.99 (0.97), 512->128 28x28 0.97 (0.98) | 0.98
/// (0.98); half / float32 there 1.03-1.07 (was 1.06-1.11). Under load 8-16 (5 rounds) the
/// gain was larger: 256->64 0.91-0.96 (0.95-0.97), 512->256 28x28 N1 / N8 0.94-0.97;
/// prepared with A > L2: 1024->256 14x14 0.96-0.97 (0.98), 1024->512 14x14 0.96-0.98.
///
/// Not kept: the panels for shallow inputs (see `panelWideningMinDepth`: 1.03-1.07x the old
/// time from 24 to 96 channels), where the output's rounding, not the input's widening, is
/// most of what half adds (24->144 56x56: 1.25x float32 either way; a rounding inside the
/// micro-kernels' stores would remove it); function calls with A bigger than L2 and packed
/// by the GEMM widening its B blocks as packed (512->2048 7x7 1.06 (1.04) the old time);
/// other strip widths (256->64 56x56 float16 under load, new / old: 32 columns 0.97-0.98,
/// 128 columns 0.93-0.97, 64 columns 0.93-0.95).
///
/// Left over float32: the chunk's widening where the float32 GEMM reads its operand in place
/// (1x1) or gathers it (strided windows other than 1x1: the sub-image holds the columns
/// between them), the rounding of the result tile where the float32 GEMM writes y itself
/// (512->2048 7x7 prepared: its 2048 x 49 tile), the per-call overhead of tiny layers (the
/// conversion workspace of the bias), and the packing of a chunk that the float32 plan
/// would pack in bigger blocks.
public enum HalfGemm: String, Sendable {
    /// y = conv(x, w) (+ bias): W_g times the unfolded input.
    case forward = "im2col GEMM"
    /// dx = conv^T(dy, w) (+ bias) of a stride-1 conv: the conv of dy with the flipped,
    /// regrouped kernel (UpsampleAdjoint's formulation, whose GEMM this is).
    case adjoint = "upsample: the im2col GEMM with the flipped kernel"
}

enum HalfGemmConvolution {
    /// Bytes of widened B per chunk, at most (unless a chunk of 16 columns is larger): the
    /// chunk and the GEMM's packed A stay in L2 while the micro-kernels sweep it.
    static let chunkBytes = 256 * 1024

    /// Reserves `count` floats of per-task scratch on the calling thread (the sizes follow
    /// the user's shapes: a failure is reported here, not inside a task).
    private static func reserveScratch(_ count: Int?, _ dtype: ConvDType) throws -> Int {
        guard let count, let bytes = try? Checked.mul(count, MemoryLayout<Float>.stride, ""),
              ThreadScratch.halfGemm.reserve(bytes: bytes) else {
            throw ConvError.outOfMemory("swiftconv: could not allocate the float32 chunk of a \(dtype.name) convolution")
        }
        return count
    }

    /// The weights of the GEMM: packed ahead (a prepared plan's float32 panels), or the
    /// caller's half weights, widened as they are packed (`WideningRows`): no float32 copy.
    enum Weights {
        case packed([PackedMatrix<Float>])
        case half(UnsafePointer<UInt16>)
    }

    /// Whether the forward conv `s` runs here (the planner's rule): planar, and pointwise or
    /// with a widened, zero-padded sub-image no larger than Im2colConvolution would pad (its
    /// `paddedShape`, or every window inside the input already).
    static func supports(_ s: ConvShape) -> Bool {
        guard s.isPlanar else { return false }
        if s.isPointwise { return true }
        if s.inChannelsPerGroup <= 0 || s.outPixels <= 0 { return false }
        if Im2colConvolution.paddedShape(s) != nil { return true }
        return s.padTop == 0 && s.padLeft == 0 && paddedWidth(s) <= s.inWidth && inputRows(s, s.outHeight) <= s.inHeight
    }

    /// A strided 1x1 conv without padding (ResNet's downsampling shortcuts): each output
    /// pixel reads one input pixel, so its chunk is the sampled pixels, gathered as they are
    /// widened (`float16ToFloat32Sampled`), and the GEMM reads that dense chunk in place as
    /// for a stride-1 1x1 conv, where the unfolded path widened every column between the
    /// samples and packed the strided windows.
    static func isSampledPointwise(_ s: ConvShape) -> Bool {
        s.isPlanar && s.kernelHeight == 1 && s.kernelWidth == 1 && s.padTop == 0 && s.padLeft == 0
            && s.outHeight > 0 && s.outWidth > 0
            && (s.outHeight - 1) * s.strideH < s.inHeight && (s.outWidth - 1) * s.strideW < s.inWidth
    }

    /// Columns of the zero-padded sub-image (every window's columns).
    private static func paddedWidth(_ s: ConvShape) -> Int { (s.outWidth - 1) * s.strideW + (s.kernelWidth - 1) * s.dilationW + 1 }

    /// Input rows (padding included) that `rows` consecutive output rows read.
    private static func inputRows(_ s: ConvShape, _ rows: Int) -> Int { (rows - 1) * s.strideH + (s.kernelHeight - 1) * s.dilationH + 1 }

    /// y = conv(x, w) + bias for a shape `supports` accepts: x and y `dtype` bit patterns,
    /// bias float32.
    static func forward(_ s: ConvShape, dtype: ConvDType, x: UnsafePointer<UInt16>, weights: Weights,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<UInt16>) throws {
        let k = s.patchSize, cog = s.outChannelsPerGroup
        switch weights {
        case .packed(let packed):
            // (the closure is not called: every group is packed)
            try forward(s, dtype: dtype, x: x, weights: { _ in packed[0] }, bias: bias, y: y, packed: packed)
        case .half(let w):
            let widen = KernelTable.active.widening(dtype)
            try forward(s, dtype: dtype, x: x, weights: { g in WideningRows(base: w + g * cog * k, rowStride: k, widen: widen) },
                        bias: bias, y: y, packed: nil)
        }
    }

    private static func forward<A: GemmOperand>(_ s: ConvShape, dtype: ConvDType, x: UnsafePointer<UInt16>, weights: (Int) -> A,
                                                bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<UInt16>,
                                                packed: [PackedMatrix<Float>]?) throws where A.Scalar == Float {
        if s.isPointwise || isSampledPointwise(s) {
            try pointwiseForward(s, dtype: dtype, x: x, weights: weights, bias: bias, y: y, packed: packed)
        } else {
            try unfoldedForward(s, dtype: dtype, x: x, weights: weights, bias: bias, y: y, packed: packed)
        }
    }

    /// dx = conv^T(dy, w) + bias for a stride-1 shape `s` whose upsample formulation
    /// (`UpsampleAdjoint.equivalentConvolution`, dy as it is) `supports` accepts: that conv
    /// of the `dtype` dy with the flipped kernel of the float32 weights `w` read in place, or
    /// `packed` ahead (PackedWeights' adjoint layout), as UpsampleAdjoint's im2col GEMM reads it.
    static func adjoint(_ s: ConvShape, dtype: ConvDType, dy: UnsafePointer<UInt16>, w: UnsafePointer<Float>,
                                 packed: [PackedMatrix<Float>]?, bias: UnsafePointer<Float>?,
                                 dx: UnsafeMutablePointer<UInt16>) throws {
        guard s.strideH == 1 && s.strideW == 1, let c = UpsampleAdjoint.equivalentConvolution(s), supports(c) else {
            throw ConvError.invalidArgument("conv_transpose: internal error, a half GEMM for a shape it does not support")
        }
        let cig = s.inChannelsPerGroup, taps = s.kernelTaps, groupStride = s.outChannelsPerGroup * cig * taps
        try forward(c, dtype: dtype, x: dy, weights: { g in FlippedKernel(base: w + g * groupStride, cig: cig, taps: taps) },
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
        let sampled = s.isPointwise ? nil : KernelTable.active.sampledWidening(dtype)
        let plan = Im2colConvolution.Tiling(elementBytes: MemoryLayout<Float>.stride, cog: cog, k: cig,
                                            columns: columns, jobs: s.groups, imagesPerGroup: 1)
        let packed = prepacked ?? Im2colConvolution.packWeights(s, weights: weights, plan.prepack)
        // Chunks of a task's tile: cache-sized when A is packed once; the whole tile when the
        // GEMM packs A itself (it would pack it again for every chunk).
        let perChunk = max(16, chunkBytes / max(1, cig * MemoryLayout<Float>.stride) / 16 * 16)
        let width = packed.isEmpty ? plan.tile : min(plan.tile, perChunk)
        // Per task: the widened chunk (cig x width) and its result tile (rows x width).
        let count = try reserveScratch(try? Checked.mul(Checked.add(cig, plan.rowBlock, ""), width, ""), dtype)
        let cin = s.inChannels, cout = s.outChannels, inPixels = s.inPixels
        let outW = s.outWidth, inW = s.inWidth, sh = s.strideH, sw = s.strideW
        let perGroup = plan.tiles * plan.rowBlocks
        let widensPanels = sampled == nil && !packed.isEmpty && cig >= panelWideningMinDepth
        let smallA = Gemm.isSmallA(rows: min(cog, plan.rowBlock), depth: cig, elementBytes: MemoryLayout<Float>.stride)
        let strip = smallA ? min(panelStripColumns, width) : Int.max
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
                // Row stride of the chunk and its result tile: a chunk that is one whole
                // image is dense (as its input and output planes are), so each is
                // converted in one call rather than a call per channel.
                let whole = n == pixels && j0 % pixels == 0, ld = whole ? n : width
                // A chunk across images keeps the widened chunk: the panels would take a
                // GEMM call per image run (576->160 7x7 N8 1.20x, 384->64 14x14 N8 1.12x).
                let oneImage = j0 / pixels == (j1 - 1) / pixels
                if widensPanels && oneImage && strip < Int.max {
                    // A in L2: strips of columns, each one's B panels widened as the GEMM
                    // packs them (`WideningColumns`), its result tile (rows x strip, in L1)
                    // rounded into y right after.
                    forEachImageRun(j0, j1, pixels: pixels) { image, p0, _, len in
                        let operand = WideningColumns(base: x + (image * cin + g * cig) * inPixels + p0, rowStride: inPixels, dtype: dtype)
                        let dst = y + (image * cout + g * cog + rows.lowerBound) * pixels + p0
                        var s0 = 0
                        while s0 < len {
                            let s1 = min(len, s0 + strip), w = s1 - s0
                            if let bias { fillRows(c, rows: rows.count, cols: w, ld: strip, values: bias + g * cog + rows.lowerBound) }
                            Gemm.multiply(packed[g], operand, rows: rows, cols: s0..<s1, depth: cig, c: c, ldc: strip, accumulate: bias != nil)
                            for i in 0..<rows.count { narrow(UnsafePointer(c + i * strip), dst + i * pixels + s0, w) }
                            s0 = s1
                        }
                    }
                    j0 = j1
                    continue
                }
                if widensPanels && oneImage {
                    // A bigger than L2 (each GEMM call streams it): one call, its blocks of B
                    // widened as they are packed (across images: 2048->512 7x7 N8 prepared 1.30x).
                    if let bias { fillRows(c, rows: rows.count, cols: n, ld: ld, values: bias + g * cog + rows.lowerBound) }
                    forEachImageRun(j0, j1, pixels: pixels) { image, p0, offset, len in
                        let operand = WideningColumns(base: x + (image * cin + g * cig) * inPixels + p0, rowStride: inPixels, dtype: dtype)
                        Gemm.multiply(packed[g], operand, rows: rows, cols: 0..<len, depth: cig, c: c + offset, ldc: ld,
                                      accumulate: bias != nil)
                    }
                    forEachImageRun(j0, j1, pixels: pixels) { image, p0, offset, len in
                        let dst = y + (image * cout + g * cog + rows.lowerBound) * pixels + p0
                        if whole { narrow(UnsafePointer(c), dst, rows.count * pixels); return }
                        for i in 0..<rows.count { narrow(UnsafePointer(c + i * ld + offset), dst + i * pixels, len) }
                    }
                    j0 = j1
                    continue
                }
                // Runs of the chunk within one image: (image, first pixel, offset, length).
                forEachImageRun(j0, j1, pixels: pixels) { image, p0, offset, len in
                    let image0 = x + (image * cin + g * cig) * inPixels
                    guard let sampled else {
                        if whole { widen(image0, b, cig * pixels); return }
                        for ci in 0..<cig { widen(image0 + p0 + ci * inPixels, b + ci * ld + offset, len) }
                        return
                    }
                    // The run's output rows: each one's pixels sampled along an input row.
                    for ci in 0..<cig {
                        let plane = image0 + ci * inPixels, dst = b + ci * ld + offset - p0
                        var p = p0
                        while p < p0 + len {
                            let oh = p / outW, ow = p - oh * outW, n = min(outW - ow, p0 + len - p)
                            sampled(plane + (oh * sh * inW + ow * sw), inW - ow * sw, sw, dst + p, n)
                            p += n
                        }
                    }
                }
                if let bias { fillRows(c, rows: rows.count, cols: n, ld: ld, values: bias + g * cog + rows.lowerBound) }
                let operand = StridedMatrix(base: UnsafePointer(b), rowStride: ld, colStride: 1)
                if !packed.isEmpty {
                    Gemm.multiply(packed[g], operand, rows: rows, cols: 0..<n, depth: cig, c: c, ldc: ld, accumulate: bias != nil)
                } else {
                    Gemm.multiply(weights(g), operand, rows: rows, cols: 0..<n, depth: cig, c: c, ldc: ld, accumulate: bias != nil)
                }
                forEachImageRun(j0, j1, pixels: pixels) { image, p0, offset, len in
                    let dst = y + (image * cout + g * cog + rows.lowerBound) * pixels + p0
                    if whole { narrow(UnsafePointer(c), dst, rows.count * pixels); return }
                    for i in 0..<rows.count { narrow(UnsafePointer(c + i * ld + offset), dst + i * pixels, len) }
                }
                j0 = j1
            }
        }
    }

    /// Columns per GEMM call of a pointwise chunk whose B panels are widened as they are
    /// packed (`WideningColumns`) while A, packed once, stays in L2 (`Gemm.isSmallA`): the
    /// GEMM packs a kc x 64 block (64 KB at kc 256) and sweeps every row of A over it at
    /// once, where one call over the chunk packed a block of `smallBBytes` (512 KB) into L2
    /// first. See the table in the file comment; with A too big for L2 the whole run is one
    /// call (the GEMM's blocks of B are widened as packed, A streams past them).
    static let panelStripColumns = 64

    /// Input channels from which a pointwise chunk with packed weights has its B panels
    /// widened as the GEMM packs them (`WideningColumns`) rather than widened whole into a
    /// chunk the GEMM reads in place (`sgemmBlockRowMajorB`). A shallow input is little to
    /// widen next to the output to round, and a strip's GEMM call is short there: 1 thread,
    /// N1, float16 (bfloat16) new / old time, in one process: 64->64 56x56 1.03 (1.05),
    /// 64->256 56x56 1.04 (1.03), 96->24 56x56 1.03 (1.03), 24->144 56x56 1.07 (1.07),
    /// 144->24 56x56 0.99 (1.02); deep ones gain: 256->64 56x56 0.91 (0.97), 256->128
    /// 56x56 0.96 (0.98) (table in the file comment).
    static let panelWideningMinDepth = 256

    /// Output columns per chunk of the unfolded GEMM, at most (the result tile, rows x
    /// columns, stays within a few hundred KB).
    static let maxChunkColumns = 512

    /// Bytes of the widened sub-image per chunk of the unfolded GEMM, at most (unless one
    /// output row's input rows are larger): larger than the 1x1 chunks, because the
    /// sub-image also holds the rows between strided windows and the overlap of the windows
    /// with the next chunk's, and narrow chunks stream the weights again per chunk.
    static let unfoldedChunkBytes = 1 << 20

    /// The forward conv of a planar shape on the im2col GEMM: each task widens the input rows
    /// its chunk of output rows reads (of one image, or of whole images when they are
    /// small), into a sub-image zero-padded so that every window lies inside it, runs the
    /// GEMM on that sub-image's unfolded matrix (UnfoldedInput: the same values as the
    /// float32 plan's, padding read as zero either way) into a float32 tile, and rounds it
    /// into y.
    private static func unfoldedForward<A: GemmOperand>(_ s: ConvShape, dtype: ConvDType, x: UnsafePointer<UInt16>,
                                                        weights: (Int) -> A, bias: UnsafePointer<Float>?,
                                                        y: UnsafeMutablePointer<UInt16>,
                                                        packed prepacked: [PackedMatrix<Float>]?) throws where A.Scalar == Float {
        let outH = s.outHeight, outW = s.outWidth, pixels = s.outPixels
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup, k = s.patchSize
        if pixels <= 0 || cog <= 0 || s.groups <= 0 || s.batch <= 0 { return }
        let widen = KernelTable.active.widening(dtype), narrow = KernelTable.active.narrowing(dtype)
        let wp = paddedWidth(s), kH = s.kernelHeight
        // Windows of consecutive output rows that do not overlap (a stride above the
        // window's height, e.g. 1x1 stride 2): only the kH rows each reads are widened, one
        // output row's after the other (then the sub-image's stride is kH, its dilation 1).
        let compact = s.strideH > 1 && (kH - 1) * s.dilationH < s.strideH
        func subRows(_ outRows: Int) -> Int { compact ? outRows * kH : inputRows(s, outRows) }
        guard let rowBytes = try? Checked.product([cig, MemoryLayout<Float>.stride, wp], ""),
              let imageBytes = try? Checked.mul(rowBytes, subRows(outH), "") else { _ = try reserveScratch(nil, dtype); return }
        // Chunks: whole images when one fits, else runs of output rows; enough of them for
        // the threads.
        let threads = ThreadPool.shared.numThreads
        var imagesPerChunk = 1, rowsPerChunk = outH
        let budget = unfoldedChunkBytes
        if imageBytes <= budget && pixels <= maxChunkColumns {
            let fit = max(1, min(s.batch, budget / max(1, imageBytes), maxChunkColumns / pixels))
            // (one thread: as few chunks as fit, each streaming the weights once more)
            let forThreads = threads > 1 ? min(s.batch, (2 * threads + s.groups - 1) / s.groups) : 1
            let chunks = max((s.batch + fit - 1) / fit, forThreads)
            imagesPerChunk = (s.batch + chunks - 1) / chunks
        } else {
            let fit = compact ? max(1, budget / max(1, rowBytes) / kH)
                              : max(1, (budget / max(1, rowBytes) - inputRows(s, 1)) / s.strideH + 1)
            rowsPerChunk = min(outH, fit, max(1, maxChunkColumns / outW))
            let jobs = s.batch * s.groups, perImage = (outH + rowsPerChunk - 1) / rowsPerChunk
            if threads > 1 && jobs * perImage < 2 * threads {
                let wanted = min(outH, (2 * threads + jobs - 1) / jobs)
                rowsPerChunk = (outH + wanted - 1) / wanted
            }
        }
        let chunksPerImage = (outH + rowsPerChunk - 1) / rowsPerChunk
        let batchChunks = (s.batch + imagesPerChunk - 1) / imagesPerChunk
        let chunks = batchChunks * chunksPerImage
        let columns = imagesPerChunk * rowsPerChunk * outW
        let plan = Im2colConvolution.Tiling(elementBytes: MemoryLayout<Float>.stride, cog: cog, k: k,
                                            columns: columns, jobs: s.groups * chunks, imagesPerGroup: chunks)
        let rowsMax = subRows(rowsPerChunk)
        // The padded-width grid of the sub-image read in place (`readsGrid`): the weights
        // packed (the block function reads 6-row panels), and the unfolded rows' offsets,
        // the same for every chunk (each channel's plane is `rowsMax` rows of any chunk).
        let wantsGrid = !compact && imagesPerChunk == 1 && readsGrid(s)
        let offsets = try Workspace<Int>(count: wantsGrid ? k : 0, for: "the unfolded input's row offsets")
        let gridPacked: [PackedMatrix<Float>]? = !wantsGrid ? nil
            : prepacked.flatMap { $0.count == s.groups && $0.allSatisfy({ $0.rows >= cog && $0.depth == k }) ? $0 : nil }
                ?? Gemm.tryPackA(count: s.groups, rows: 0..<cog, depth: k, weights)
        let packed = gridPacked ?? prepacked ?? Im2colConvolution.packWeights(s, weights: weights, plan.prepack)
        let grid = gridPacked != nil
        if grid { s.unfoldedRowOffsets(0..<k, plane: rowsMax * wp, width: wp, into: offsets.pointer) }
        let rowOffsets = UnsafePointer(offsets.pointer)
        let ld = grid ? gridColumns(rows: rowsPerChunk, width: wp, outW: outW) : (columns + 15) / 16 * 16
        // Per task: the sub-image (64-byte aligned, and `PaddedGridConvolution.slack` more
        // readable for the grid's last panel) and the result tile (rows x ld).
        let sub = try? Checked.product([imagesPerChunk, cig, rowsMax, wp], "")
        let subCount = sub.map { ($0 + PaddedGridConvolution.slack + 15) / 16 * 16 } ?? Int.max
        let total = try reserveScratch(try? Checked.add(subCount, Checked.mul(plan.rowBlock, ld, ""), ""), dtype)
        let cin = s.inChannels, cout = s.outChannels, inH = s.inHeight, inW = s.inWidth, inPixels = s.inPixels
        let lo = min(wp, max(0, s.padLeft)), hi = max(lo, min(wp, s.padLeft + inW))
        let perGroup = chunks * plan.rowBlocks
        ThreadPool.shared.parallelFor(s.groups * perGroup, work: s.macs) { task in
            let r = task % perGroup, g = task / perGroup
            let chunk = r % chunks, rb = r / chunks
            let n0 = chunk / chunksPerImage * imagesPerChunk, n1 = min(s.batch, n0 + imagesPerChunk)
            let oh0 = chunk % chunksPerImage * rowsPerChunk, oh1 = min(outH, oh0 + rowsPerChunk)
            let rows = (rb * plan.rowBlock)..<min(cog, (rb + 1) * plan.rowBlock)
            let images = n1 - n0, outRows = oh1 - oh0, inRows = subRows(outRows), ih0 = oh0 * s.strideH - s.padTop
            let scratch = ThreadScratch.halfGemm.buffer(bytes: total * MemoryLayout<Float>.stride)
                .bindMemory(to: Float.self, capacity: total)
            let b = scratch, c = scratch + subCount
            // The sub-image: rows ih0 ..< ih0 + inRows of each channel (planes of
            // `planeRows` rows), columns shifted by padLeft, zeros outside the input.
            let planeRows = grid ? rowsMax : inRows
            for i in 0..<images {
                for ci in 0..<cig {
                    let plane = x + ((n0 + i) * cin + g * cig + ci) * inPixels
                    for rr in 0..<inRows {
                        let dst = b + ((i * cig + ci) * planeRows + rr) * wp
                        let ih = compact ? ih0 + rr / kH * s.strideH + rr % kH * s.dilationH : ih0 + rr
                        if ih < 0 || ih >= inH || lo == hi {
                            dst.update(repeating: 0, count: wp)
                            continue
                        }
                        dst.update(repeating: 0, count: lo)
                        widen(plane + ih * inW + (lo - s.padLeft), dst + lo, hi - lo)
                        (dst + hi).update(repeating: 0, count: wp - hi)
                    }
                }
            }
            if grid {
                // One image: the grid's columns oh * wp + ow, its last panel read past the
                // planes (zeroed slack; the columns it feeds are dropped).
                let n = gridColumns(rows: outRows, width: wp, outW: outW)
                (b + cig * rowsMax * wp).update(repeating: 0, count: PaddedGridConvolution.slack)
                if let bias { fillRows(c, rows: rows.count, cols: n, ld: ld, values: bias + g * cog + rows.lowerBound) }
                let a = packed[g].panels + rows.lowerBound / Gemm.mr * packed[g].depth * Gemm.mr
                Gemm.multiplyOffsetRowsB(a: a, aPanelStride: packed[g].depth * Gemm.mr, m: rows.count, depth: k,
                                         b: UnsafePointer(b), rowOffsets: rowOffsets, n: n, c: c, ldc: ld, accumulate: bias != nil)
                // Each output row's valid columns rounded into y.
                let dst = y + (n0 * cout + g * cog + rows.lowerBound) * pixels + oh0 * outW
                for row in 0..<rows.count {
                    for oh in 0..<outRows { narrow(UnsafePointer(c + row * ld + oh * wp), dst + row * pixels + oh * outW, outW) }
                }
                return
            }
            let shape = ConvShape(batch: images, groups: 1, inChannels: cig, outChannels: cog, inHeight: inRows, inWidth: wp,
                                  outHeight: outRows, outWidth: outW, kernelHeight: s.kernelHeight, kernelWidth: s.kernelWidth,
                                  strideH: compact ? kH : s.strideH, strideW: s.strideW,
                                  dilationH: compact ? 1 : s.dilationH, dilationW: s.dilationW)
            let operand = UnfoldedInput(x: UnsafePointer(b), shape: shape, imageStride: cig * inRows * wp)
            let n = images * outRows * outW
            if let bias { fillRows(c, rows: rows.count, cols: n, ld: ld, values: bias + g * cog + rows.lowerBound) }
            if !packed.isEmpty {
                Gemm.multiply(packed[g], operand, rows: rows, cols: 0..<n, depth: k, c: c, ldc: ld, accumulate: bias != nil)
            } else {
                Gemm.multiply(weights(g), operand, rows: rows, cols: 0..<n, depth: k, c: c, ldc: ld, accumulate: bias != nil)
            }
            for i in 0..<images {
                let dst = y + ((n0 + i) * cout + g * cog + rows.lowerBound) * pixels + oh0 * outW
                for row in 0..<rows.count {
                    narrow(UnsafePointer(c + row * ld + i * outRows * outW), dst + row * pixels, outRows * outW)
                }
            }
        }
    }

    /// Whether the unfolded GEMM reads each chunk's zero-padded sub-image in place on its
    /// padded-width grid (`Gemm.multiplyOffsetRowsB`, AVX-512; no packing pass over B), as
    /// the float32 plan reads its zero-padded copy (`PaddedGridConvolution`): the planner's
    /// rule for that plan, `KernelSelector.readsPaddedGrid`, since the sub-image holds the
    /// same rows as the copy. Same bits: every element is bias (or 0) + the FMAs over the
    /// patch in order.
    static func readsGrid(_ s: ConvShape) -> Bool {
        guard s.strideH == 1 && s.strideW == 1, let p = Im2colConvolution.paddedShape(s) else { return false }
        return KernelSelector.readsPaddedGrid(s, padded: p, elementBytes: MemoryLayout<Float>.stride)
    }

    /// GEMM columns of `rows` output rows on a grid of rows `width` apart: up to the last
    /// valid column, in whole 16-column panels.
    private static func gridColumns(rows: Int, width: Int, outW: Int) -> Int { ((rows - 1) * width + outW + 15) / 16 * 16 }

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

    /// `widening` of every `stride`-th value (src, readable, stride, dst, count).
    func sampledWidening(_ dtype: ConvDType) -> @convention(c) (UnsafePointer<UInt16>, Int, Int, UnsafeMutablePointer<Float>, Int) -> Void {
        dtype == .bfloat16 ? bfloat16ToFloat32Sampled : float16ToFloat32Sampled
    }

    /// The rounding of float32 to `dtype` (float16 / bfloat16) bit patterns, nearest even.
    func narrowing(_ dtype: ConvDType) -> @convention(c) (UnsafePointer<Float>, UnsafeMutablePointer<UInt16>, Int) -> Void {
        dtype == .bfloat16 ? float32ToBfloat16 : float32ToFloat16
    }
}
