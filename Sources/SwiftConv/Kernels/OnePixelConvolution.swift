/// 1x1 convolutions on a 1x1 plane (squeeze-and-excitation layers, a classifier run as a
/// conv): a linear layer, y[n] = b + W x[n] per group, with x (N, C_in) and y (N, C_out)
/// row-major and W (C_out, C_in/g) row-major. The im2col GEMM packed all of W for N
/// columns (one at batch 1) and padded them to a 16-column panel; these loops read every
/// array in place (FewColumnKernels.swift, through the KernelTable):
/// - forward: one dot product over C_in/g per output, vectorised over C_in (`dotRows`: its
///   own fixed summation order, so other bits than the GEMM's). It is a kernel of its own,
///   named "dot" (ForwardKernel.dot), never a part of "im2col": "auto" picks it by the
///   weights' shape alone, for every batch size, and a caller that cuts a larger 1x1 conv into
///   one-pixel pieces (swiftconv.dask) pins the whole call's kernel by name, so no piece's
///   bits depend on how the call is cut. Short rows (the expand layers) are summed 16 rows
///   at a time across the lanes, the same bits;
/// - adjoint (grad_input, the transposed conv): dx[n] = b + W^T dy[n], vectorised over
///   C_in/g, summed over the output channels in order: the GEMM's bits;
/// - weight gradient: dW = dy^T x, vectorised over C_in/g, summed over the images in order:
///   the GEMM's bits.
/// Which calls run here is the planner's choice (`KernelSelector.onePixel`, `onePixelForward`).
///
/// Tried and reverted (session 10, branch pw7, commit e1e24da): the forward on 7x7 / 14x14
/// planes (1x1, unpadded, any stride) as these dot products, to drop the GEMM's per-call
/// weight packing at batch 1: x copied channels-last once (LayoutConversion), W's rows read
/// in place, y written NCHW (a row stride in `dotRows`), an 8 rows x 3 columns zmm tile (24
/// accumulators, the same lanes and tree, so the same bits as the 4 x 4 dot tiles). Correct
/// and bitwise the one-pixel dot products at any thread count, but slower than the plain
/// im2col call on every reduce layer, N1, one thread (2-vCPU AVX-512 Xeon, load 10-14, one
/// process, interleaved blocks, CPU time, ms, im2col -> dot): 960->320 7x7 0.296 -> 0.357,
/// 960->160 0.154 -> 0.180, 576->160 0.092 -> 0.117, 1152->320 0.359 -> 0.472, 1152->192 0.212
/// -> 0.284, 672->192 0.125 -> 0.151, 2048->512 1.067 -> 1.530; expand layers 1.5-2.1x
/// (160->960 0.152 -> 0.314: the horizontal sums of a short depth). Standalone probe of the
/// kernel (49 columns): the 8 x 3 tile runs 62 GMAC/s with its data in L1 but 42-46 on the
/// layers (W's 8 rows and x's columns both stream from L2: 11 lines per 24 multiply-adds),
/// where the packed GEMM reaches ~62 and the plain call ~51; a depth-chunked x^T layout
/// (each step's 3 columns adjacent) did not help (42 GMAC/s). So even at the L1 ceiling it
/// would only tie the prepared GEMM.
enum OnePixelConvolution {
    /// What `explain` says about the forward ("dot").
    static let explanation = "1x1 plane: one dot product over C_in/groups per output, vectorised over C_in; the arrays read in place, no packing"

    /// The shapes these loops compute: planar 1x1 windows, unpadded, on one input pixel
    /// (a padded one reads the padding: a 1x1 window at -1 on one pixel is not this product).
    static func supports(_ s: ConvShape) -> Bool {
        s.isPlanar && s.isPointwise && s.inPixels == 1
    }

    /// Output rows (or columns) per task: a multiple of every build's tile (4 rows, 64 columns).
    static let perTask = 128

    /// body(g, start, count) for every group g and block of `perTask` of its `count` rows
    /// (or columns), as the thread pool's tasks. Each element is computed by one task, in an
    /// order that does not depend on the blocks: the same bits for every thread count.
    private static func forEachBlock(_ s: ConvShape, of count: Int, _ body: (Int, Int, Int) -> Void) {
        let chunks = (count + perTask - 1) / perTask
        ThreadPool.shared.parallelFor(s.groups * chunks, work: s.macs) { task in
            let g = task / chunks, start = (task % chunks) * perTask
            body(g, start, min(perTask, count - start))
        }
    }

    /// y = bias + conv(x, w).
    static func forward<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>) {
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup, n = s.batch
        if n == 0 || cog == 0 { return }
        forEachBlock(s, of: cog) { g, r0, rows in
            let o = g * cog + r0
            dotRows(rows: rows, cols: n, depth: cig, w: w + o * cig, ldw: cig, x: x + g * cig, ldx: s.inChannels,
                    bias: bias.map { $0 + o }, y: y + o, ldy: s.outChannels)
        }
    }

    /// dx = bias + conv^T(dy, w): bias (the transposed conv's) has one value per input channel.
    static func adjoint<T: ConvScalar>(_ s: ConvShape, dy: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>) {
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup, n = s.batch
        if n == 0 || cig == 0 { return }
        forEachBlock(s, of: cig) { g, i0, cols in
            let i = g * cig + i0
            smallGemm(m: n, n: cols, k: cog, a: dy + g * cog, aRow: s.outChannels, aDepth: 1,
                      b: w + g * cog * cig + i0, ldb: cig, initial: bias.map { $0 + i }, c: dx + i, ldc: s.inChannels)
        }
    }

    /// dw = the weight gradient of x and dy (every element written).
    static func weightGradient<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, dy: UnsafePointer<T>,
                                              dw: UnsafeMutablePointer<T>) {
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        if cog == 0 || cig == 0 { return }
        forEachBlock(s, of: cog) { g, r0, rows in
            let o = g * cog + r0
            smallGemm(m: rows, n: cig, k: s.batch, a: dy + o, aRow: 1, aDepth: s.outChannels,
                      b: x + g * cig, ldb: s.inChannels, initial: nil, c: dw + o * cig, ldc: cig)
        }
    }

    // MARK: The kernels of the active table, for T

    @inline(__always)
    private static func dotRows<T: ConvScalar>(rows: Int, cols: Int, depth: Int, w: UnsafePointer<T>, ldw: Int,
                                               x: UnsafePointer<T>, ldx: Int, bias: UnsafePointer<T>?,
                                               y: UnsafeMutablePointer<T>, ldy: Int) {
        switch T.kind {
        case .float32:
            KernelTable.active.dotRowsF32(rows, cols, depth, cast(w), ldw, cast(x), ldx, bias.map { cast($0) }, castMutable(y), ldy)
        case .float64:
            KernelTable.active.dotRowsF64(rows, cols, depth, cast(w), ldw, cast(x), ldx, bias.map { cast($0) }, castMutable(y), ldy)
        }
    }

    @inline(__always)
    static func smallGemm<T: ConvScalar>(m: Int, n: Int, k: Int, a: UnsafePointer<T>, aRow: Int, aDepth: Int,
                                                 b: UnsafePointer<T>, ldb: Int, initial: UnsafePointer<T>?,
                                                 c: UnsafeMutablePointer<T>, ldc: Int) {
        switch T.kind {
        case .float32:
            KernelTable.active.smallGemmF32(m, n, k, cast(a), aRow, aDepth, cast(b), ldb, initial.map { cast($0) }, castMutable(c), ldc)
        case .float64:
            KernelTable.active.smallGemmF64(m, n, k, cast(a), aRow, aDepth, cast(b), ldb, initial.map { cast($0) }, castMutable(c), ldc)
        }
    }
}
