/// The "scatter" formulation of the transposed convolution (and of the input gradient):
/// every dy pixel adds value * kernel into its input window. Done in bulk: per image, group
/// and block of x channels, col = W_g^T · dy_g (a GEMM over output-pixel tiles) and each col
/// entry is added into x (col2im). A task owns whole x channels, so the accumulation order
/// is fixed whatever the thread count.
enum ScatterAdjoint {
    static func adjoint<T: ConvScalar>(_ s: ConvShape, dy: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>) {
        let pixels = s.outPixels, k = s.patchSize, taps = s.kernelTaps
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        // Bound the col workspace of one task to ~64K elements.
        let channelsPerBlock = max(1, min(cig, 256 / taps))
        let blocks = (cig + channelsPerBlock - 1) / channelsPerBlock
        let colTile = max(16, min(max(pixels, 1), 65536 / (channelsPerBlock * taps)))
        ThreadPool.shared.parallelFor(s.batch * s.groups * blocks) { task in
            let b = task % blocks, ng = task / blocks
            let g = ng % s.groups, n = ng / s.groups
            let c0 = b * channelsPerBlock, c1 = min(cig, c0 + channelsPerBlock)
            let dxBlock = dx + (n * s.inChannels + g * cig + c0) * s.inPixels
            for c in c0..<c1 {
                (dxBlock + (c - c0) * s.inPixels).update(repeating: bias?[g * cig + c] ?? 0, count: s.inPixels)
            }
            if cog == 0 || pixels == 0 { return }
            let rows = (c0 * taps)..<(c1 * taps)
            let col = UnsafeMutablePointer<T>.allocate(capacity: rows.count * colTile)
            defer { col.deallocate() }
            // A(r, co) = w_g[co, r]; B(co, p) = dy_g[co, p].
            let a = StridedMatrix(base: w + g * cog * k, rowStride: 1, colStride: k)
            let bm = StridedMatrix(base: dy + (n * s.outChannels + g * cog) * pixels, rowStride: pixels, colStride: 1)
            var p0 = 0
            while p0 < pixels {
                let cols = p0..<min(pixels, p0 + colTile)
                Gemm.multiply(a, bm, rows: rows, cols: cols, depth: cog, c: col, ldc: cols.count, accumulate: false)
                col2im(s, col: col, rows: rows, cols: cols, dx: dxBlock, firstChannel: c0)
                p0 = cols.upperBound
            }
        }
    }

    /// Adds col(r, p) into x[ci, ih, iw] for every (ci, kh, kw) = r and (oh, ow) = p that land
    /// inside x. `dx` points at channel `firstChannel` of the group.
    @inline(__always)
    static func col2im<T: ConvScalar>(_ s: ConvShape, col: UnsafePointer<T>, rows: Range<Int>, cols: Range<Int>,
                                      dx: UnsafeMutablePointer<T>, firstChannel: Int) {
        let taps = s.kernelTaps
        for r in rows {
            let ci = r / taps, t = r % taps
            let kh = t / s.kernelWidth, kw = t % s.kernelWidth
            let plane = dx + (ci - firstChannel) * s.inPixels
            let src = col + (r - rows.lowerBound) * cols.count - cols.lowerBound
            for p in cols {
                let oh = p / s.outWidth, ow = p % s.outWidth
                let ih = oh * s.strideH - s.padTop + kh * s.dilationH
                let iw = ow * s.strideW - s.padLeft + kw * s.dilationW
                if ih < 0 || ih >= s.inHeight || iw < 0 || iw >= s.inWidth { continue }
                plane[ih * s.inWidth + iw] += src[p]
            }
        }
    }
}
