/// The "scatter" formulation of the transposed convolution (and of the input gradient):
/// every dy pixel adds value * kernel into its input window. Done in bulk: per group and
/// block of x channels, col = W_g^T · dy_g (a GEMM whose columns run over (image, pixel), so
/// small images still make a long GEMM) and each col entry is added into x (col2im).
///
/// A task owns whole x channels (all images): it packs its rows of W_g^T once, then for
/// each column tile runs the GEMM and the col2im. The column tiles depend only on the shape,
/// so every x element receives its contributions in one fixed order whatever the thread
/// count (the channel blocks, which may depend on it, never share an x element).
enum ScatterAdjoint {
    /// GEMM columns ((image, pixel) pairs) per tile, at most.
    static let columnTile = 512
    /// Rows of W_g^T ((channel, kh, kw) triples) per task, at most (fewer when needed to
    /// give every thread work).
    static let rowsPerTask = 256

    static func adjoint<T: ConvScalar>(_ s: ConvShape, dy: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>) {
        let pixels = s.outPixels, k = s.patchSize, taps = s.kernelTaps
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        let columns = s.batch * pixels
        let threads = ThreadPool.shared.numThreads
        var perBlock = max(1, min(cig, rowsPerTask / max(taps, 1)))
        while perBlock > 1 && s.groups * ((cig + perBlock - 1) / perBlock) < 2 * threads {
            perBlock = (perBlock + 1) / 2
        }
        let blocks = (cig + perBlock - 1) / perBlock
        // Equal column tiles of at most `columnTile` (a multiple of 16), from the shape only.
        let tiles = max(1, (columns + columnTile - 1) / columnTile)
        let tile = max(16, ((columns + tiles - 1) / tiles + 15) / 16 * 16)
        let imageStride = s.inChannels * s.inPixels
        ThreadPool.shared.parallelFor(s.groups * blocks, work: s.macs) { task in
            let g = task / blocks, b = task % blocks
            let c0 = b * perBlock, c1 = min(cig, c0 + perBlock)
            let dxBlock = dx + (g * cig + c0) * s.inPixels
            for n in 0..<s.batch {
                for c in c0..<c1 {
                    (dxBlock + n * imageStride + (c - c0) * s.inPixels)
                        .update(repeating: bias?[g * cig + c] ?? 0, count: s.inPixels)
                }
            }
            if cog == 0 || columns == 0 { return }
            let rows = (c0 * taps)..<(c1 * taps)
            // A(r, co) = w_g[co, r], packed once; B(co, (n, p)) = dy[n, g*cog + co, p].
            let a = Gemm.packA(TransposedRows(base: w + g * cog * k, ld: k), rows: rows, depth: cog)
            let bm = ImageColumns(base: dy + g * cog * pixels, rowStride: pixels,
                                  imageStride: s.outChannels * pixels, pixels: pixels)
            let width = min(tile, columns)
            let col = UnsafeMutablePointer<T>.allocate(capacity: rows.count * width)
            defer { col.deallocate() }
            var j0 = 0
            while j0 < columns {
                let cols = j0..<min(columns, j0 + tile)
                Gemm.multiply(a, bm, rows: 0..<rows.count, cols: cols, depth: cog, c: col, ldc: cols.count, accumulate: false)
                col2im(s, col: col, ldCol: cols.count, rows: rows, cols: cols, dx: dxBlock, firstChannel: c0)
                j0 = cols.upperBound
            }
        }
    }

    /// Adds col(r, j) into x[n, ci, ih, iw] for every (ci, kh, kw) = r and (n, oh, ow) = j that
    /// land inside x, row by row of col, and in a row by increasing j. `dx` points at channel
    /// `firstChannel` of the group in image 0; col rows are `ldCol` apart.
    static func col2im<T: ConvScalar>(_ s: ConvShape, col: UnsafePointer<T>, ldCol: Int, rows: Range<Int>, cols: Range<Int>,
                                      dx: UnsafeMutablePointer<T>, firstChannel: Int) {
        let taps = s.kernelTaps, kW = s.kernelWidth
        let inW = s.inWidth, outW = s.outWidth, pixels = s.outPixels
        let sH = s.strideH, sW = s.strideW
        let imageStride = s.inChannels * s.inPixels
        for r in rows {
            let ci = r / taps, t = r - ci * taps
            let kh = t / kW, kw = t - kh * kW
            let ihOff = kh &* s.dilationH &- s.padTop, iwOff = kw &* s.dilationW &- s.padLeft
            let validOh = validOutputs(offset: ihOff, stride: sH, inSize: s.inHeight, outSize: s.outHeight)
            let validOw = validOutputs(offset: iwOff, stride: sW, inSize: inW, outSize: outW)
            if validOh.isEmpty || validOw.isEmpty { continue }
            let plane = dx + (ci - firstChannel) * s.inPixels
            let src = col + (r - rows.lowerBound) * ldCol
            // Image by image of the tile; in each, the output rows that are valid for this tap.
            var j = cols.lowerBound
            while j < cols.upperBound {
                let n = j / pixels, pStart = j &- n &* pixels
                let pEnd = min(pixels, pStart &+ (cols.upperBound &- j))
                let dImg = plane + n &* imageStride
                let sImg = src + (j &- cols.lowerBound &- pStart)  // indexed by pixel
                let ohLo = max(validOh.lowerBound, pStart / outW)
                let ohHi = min(validOh.upperBound, (pEnd &+ outW &- 1) / outW)
                var oh = ohLo
                while oh < ohHi {
                    let rowStart = oh &* outW
                    let lo = max(validOw.lowerBound, pStart &- rowStart), hi = min(validOw.upperBound, pEnd &- rowStart)
                    if lo < hi {
                        let dRow = dImg + ((oh &* sH &+ ihOff) &* inW &+ iwOff)
                        let sRow = sImg + rowStart
                        if sW == 1 {
                            addRow(dRow + lo, sRow + lo, hi &- lo)
                        } else {
                            for u in lo..<hi { dRow[u &* sW] += sRow[u] }
                        }
                    }
                    oh &+= 1
                }
                j &+= pEnd &- pStart
            }
        }
    }

    /// dst[0..<count] += src[0..<count].
    @inline(__always)
    static func addRow<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, _ count: Int) {
        var u = 0
        while u &+ 8 <= count {
            let a = UnsafeRawPointer(dst + u).loadUnaligned(as: SIMD8<T>.self)
            let b = UnsafeRawPointer(src + u).loadUnaligned(as: SIMD8<T>.self)
            UnsafeMutableRawPointer(dst + u).storeBytes(of: a + b, as: SIMD8<T>.self)
            u &+= 8
        }
        while u < count { dst[u] += src[u]; u &+= 1 }
    }

    /// The outputs o in 0..<outSize whose input index o*stride + offset lies in 0..<inSize.
    @inline(__always)
    static func validOutputs(offset: Int, stride: Int, inSize: Int, outSize: Int) -> Range<Int> {
        let lo = offset >= 0 ? 0 : (-offset &+ stride &- 1) / stride
        let hiIndex = inSize &- 1 &- offset
        if hiIndex < 0 { return 0..<0 }
        let hi = min(outSize, hiIndex / stride &+ 1)
        return lo < hi ? lo..<hi : 0..<0
    }
}
