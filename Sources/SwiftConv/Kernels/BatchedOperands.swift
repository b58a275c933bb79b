/// GEMM operands for the transposed convolution and the gradients, where the batch is folded
/// into a GEMM dimension: columns (image, pixel) of the scatter GEMM, depth (image, pixel) of
/// the weight-gradient GEMM. Small images (dcgan: 4x4 = 16 pixels) then still give the GEMM
/// a long dimension, and its operands are packed once per call instead of once per image.

/// A(r, c) = base[c * ld + r]: the transpose of a row-major matrix with rows `ld` apart,
/// e.g. W_g^T (patch row r, output channel c) for the scatter GEMM. Packed by reading the
/// source rows sequentially (a column-major read of it would stride by `ld` elements per
/// depth step, which for large `ld` maps every load to the same cache set).
struct TransposedRows<Scalar: ConvScalar>: GemmOperand {
    let base: UnsafePointer<Scalar>
    let ld: Int

    @inline(__always) func element(_ r: Int, _ c: Int) -> Scalar { base[c &* ld &+ r] }

    func packA(into dst: UnsafeMutablePointer<Scalar>, rows: Range<Int>, depth: Range<Int>) {
        let kc = depth.count, m = rows.count
        if kc == 0 || m == 0 { return }
        let full = m / Gemm.mr, rem = m - full &* Gemm.mr
        let panelStride = kc &* Gemm.mr
        // Blocks of 16 depth rows: 16 sequential source streams, and per panel one contiguous
        // run of 16 * 6 elements written. Rows a multiple of 4 KB apart (dcgan's 512->256
        // weights: 16 KB) put every stream's current line in one L1 set (12 ways on Zen5):
        // 8 streams then, so that a line stays until its last 6-element piece is read.
        // Measured (Zen5, one thread, CPU-time medians, session-start build in the same
        // process): dcgan T 512->256 4x4 N8 scatter 3.61 -> 3.51 ms (9 rounds), 3.54 -> 3.52
        // (5); its share of that call (perf samples) 14.9 -> 13.5%. Small: the packing is
        // bound by reading the 8 MB of weights, which ONNX Runtime packs once per session.
        let streams = (ld &* MemoryLayout<Scalar>.stride) % 4096 == 0 ? 8 : 16
        var p0 = 0
        while p0 < kc {
            let pb = min(streams, kc &- p0)
            let src = base + ((depth.lowerBound &+ p0) &* ld &+ rows.lowerBound)
            let out = dst + p0 &* Gemm.mr
            for q in 0..<full {
                let o = out + q &* panelStride, sq = src + q &* Gemm.mr
                for pp in 0..<pb {
                    // Six consecutive elements: one 4-wide and one 2-wide vector move.
                    let s = UnsafeRawPointer(sq + pp &* ld), e = UnsafeMutableRawPointer(o + pp &* Gemm.mr)
                    let stride = MemoryLayout<Scalar>.stride
                    e.storeBytes(of: s.loadUnaligned(as: SIMD4<Scalar>.self), as: SIMD4<Scalar>.self)
                    e.storeBytes(of: s.loadUnaligned(fromByteOffset: 4 &* stride, as: SIMD2<Scalar>.self),
                                 toByteOffset: 4 &* stride, as: SIMD2<Scalar>.self)
                }
            }
            if rem > 0 {
                let o = out + full &* panelStride, sq = src + full &* Gemm.mr
                for pp in 0..<pb {
                    for ii in 0..<Gemm.mr { o[pp &* Gemm.mr &+ ii] = ii < rem ? sq[pp &* ld &+ ii] : 0 }
                }
            }
            p0 &+= pb
        }
    }
}

/// A matrix whose columns run over (image, pixel): element (i, j) with j = n * pixels + p is
/// base[n * imageStride + i * rowStride + p]. The dy of a group over the whole batch: the B
/// operand (depth = channels) of the scatter GEMM and the A operand (depth = (image, pixel))
/// of the weight-gradient GEMM.
struct ImageColumns<Scalar: ConvScalar>: GemmOperand {
    let base: UnsafePointer<Scalar>
    let rowStride: Int
    let imageStride: Int
    let pixels: Int

    @inline(__always) func element(_ i: Int, _ j: Int) -> Scalar {
        let n = j / pixels
        return base[n &* imageStride &+ i &* rowStride &+ (j &- n &* pixels)]
    }

    func packB(into dst: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>, nr: Int) {
        let kc = depth.count
        if kc == 0 || cols.isEmpty { return }
        let rs = rowStride
        var d = dst, j0 = cols.lowerBound
        while j0 < cols.upperBound {
            let w = min(nr, cols.upperBound &- j0)
            if w < nr {
                for p in 0..<kc { for jj in w..<nr { d[p &* nr &+ jj] = 0 } }
            }
            var t = 0
            while t < w {
                let j = j0 &+ t, n = j / pixels, pix = j &- n &* pixels
                let len = min(w &- t, pixels &- pix)
                let src = base + (n &* imageStride &+ depth.lowerBound &* rs &+ pix)
                if len == nr {
                    for p in 0..<kc { copyPanelRow(d + p &* nr, src + p &* rs) }
                } else {
                    for p in 0..<kc {
                        let s = src + p &* rs, o = d + (p &* nr &+ t)
                        for u in 0..<len { o[u] = s[u] }
                    }
                }
                t &+= len
            }
            d += kc &* nr; j0 &+= nr
        }
    }

    func packA(into dst: UnsafeMutablePointer<Scalar>, rows: Range<Int>, depth: Range<Int>) {
        let kc = depth.count
        if kc == 0 || rows.isEmpty { return }
        let rs = rowStride
        var d = dst, i0 = rows.lowerBound
        while i0 < rows.upperBound {
            let mr = min(Gemm.mr, rows.upperBound &- i0)
            var q = depth.lowerBound
            while q < depth.upperBound {
                let n = q / pixels, pix = q &- n &* pixels
                let len = min(depth.upperBound &- q, pixels &- pix)
                let src = base + (n &* imageStride &+ i0 &* rs &+ pix)
                let o = d + (q &- depth.lowerBound) &* Gemm.mr
                if mr == Gemm.mr {
                    // The tier's vector interleave (a scalar loop here took ~1/4 of a 1x1
                    // grad_weight's time: dy is packed as A, C_out x pixels of it).
                    PackKernels.packA6(o, src, rowStride: rs, count: len)
                } else {
                    for u in 0..<len {
                        for ii in 0..<Gemm.mr { o[u &* 6 &+ ii] = ii < mr ? src[ii &* rs &+ u] : 0 }
                    }
                }
                q &+= len
            }
            d += kc &* Gemm.mr; i0 &+= Gemm.mr
        }
    }
}

/// The transposed unfolded input of one group over the whole batch: B(q, r) with
/// q = n * outPixels + p is unfold(x_n)[r, p]. The B operand of the weight gradient
/// dW_g = dy_g · unfold(x_g)^T with the batch folded into the depth.
struct BatchedUnfoldedTransposed<Scalar: ConvScalar>: GemmOperand {
    /// Channel 0 of the group in image 0.
    let x: UnsafePointer<Scalar>
    let imageStride: Int
    let shape: ConvShape

    @inline(__always) func image(_ n: Int) -> UnfoldedInputTransposed<Scalar> {
        UnfoldedInputTransposed(unfolded: UnfoldedInput(x: x + n &* imageStride, shape: shape))
    }

    @inline(__always) func element(_ q: Int, _ r: Int) -> Scalar {
        let pixels = shape.outPixels, n = q / pixels
        return image(n).element(q &- n &* pixels, r)
    }

    func packB(into dst: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>, nr: Int) {
        let kc = depth.count
        if kc == 0 || cols.isEmpty { return }
        var d = dst, j0 = cols.lowerBound
        while j0 < cols.upperBound {
            let w = min(nr, cols.upperBound &- j0)
            if shape.isPointwise {
                packPointwise(into: d, depth: depth, cols: j0..<(j0 &+ w), nr: nr)
            } else if Scalar.kind == .float32 && nr == KernelTable.nrFloat && shape.strideW == 1,
                      let transpose = KernelTable.active.transposePointers16F32 {
                // Any width (measured, one thread, grad_weight only, pixel by pixel vs this,
                // ms): 3x3 128->128 28x28 7.40 vs 1.83, 256->256 28x28 22.2 vs 12.9 (another
                // run 14.1 vs 14.7), 512->256 28x28 40.4 vs 29.8, 32->32 28x28 0.60 vs 0.18,
                // 256->256 14x14 6.75 vs 6.15, 512->512 7x7 8.85 vs 8.69, 64->64 8x8 0.141 vs
                // 0.079, 256->256 4x4 0.53 vs 0.49, 512->512 2x2 3.03 vs 2.30; 5x5 96->96
                // 14x14 1.70 vs 1.14.
                packRowsDirect(into: d, depth: depth, cols: j0..<(j0 &+ w), transpose: transpose)
            } else if shape.outWidth < 32 {
                // Narrow images (measured): pixel by pixel beats the transposed scratch tile.
                packPixelMajor(into: d, depth: depth, cols: j0..<(j0 &+ w), nr: nr)
            } else {
                packRowsTransposed(into: d, depth: depth, cols: j0..<(j0 &+ w), nr: nr)
            }
            d += kc &* nr; j0 &+= nr
        }
    }

    /// One panel (columns `cols`, at most nr) of a pointwise conv (1x1, stride 1, no
    /// padding): B(q, r) = x[n, r, p], each column a contiguous run of an input plane over a
    /// whole image (not one output row), transposed 16 rows at a time in registers
    /// (`transposePointers16F32`) where the table has it. The per-pixel packing took 77% of
    /// 1x1 192->32 28x28's weight gradient (0.80 ms; now 0.12 ms, one thread).
    func packPointwise(into d: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>, nr: Int) {
        let pixels = shape.outPixels, w = cols.count
        withUnsafeTemporaryAllocation(of: UnsafePointer<Scalar>.self, capacity: nr) { ptrBuf in
            let ptrs = ptrBuf.baseAddress!
            var q = depth.lowerBound
            while q < depth.upperBound {
                let n = q / pixels, pix = q &- n &* pixels
                let len = min(depth.upperBound &- q, pixels &- pix)
                let img = x + n &* imageStride
                // Columns past the panel's width read the first column's row (any valid row)
                // and are zeroed after the transpose.
                for jj in 0..<nr { ptrs[jj] = img + ((cols.lowerBound &+ (jj < w ? jj : 0)) &* pixels &+ pix) }
                let out = d + (q &- depth.lowerBound) &* nr
                if Scalar.kind == .float32 && nr == KernelTable.nrFloat, let transpose = KernelTable.active.transposePointers16F32 {
                    let o = UnsafeMutableRawPointer(out).assumingMemoryBound(to: Float.self)
                    UnsafeMutableRawPointer(ptrs).withMemoryRebound(to: UnsafePointer<Float>.self, capacity: nr) {
                        transpose(o, UnsafePointer($0), len)
                    }
                    if w < nr { for u in 0..<len { for jj in w..<nr { out[u &* nr &+ jj] = 0 } } }
                } else {
                    for u in 0..<len {
                        let o = out + u &* nr
                        for jj in 0..<w { o[jj] = ptrs[jj][u] }
                        for jj in w..<nr { o[jj] = 0 }
                    }
                }
                q &+= len
            }
        }
    }

    /// Pixels per transposed chunk (a multiple of 16).
    static var chunk: Int { 320 }

    /// One panel (columns `cols`, at most nr), chunk by chunk of pixels: each of its patch
    /// rows is unfolded over the chunk into a row-major scratch tile (contiguous copies of
    /// input row segments), and the tile is transposed into the panel in registers
    /// (TransposePacking.swift). For wide images, where the pixel runs are long.
    func packRowsTransposed(into d: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>, nr: Int) {
        let s = shape, pixels = s.outPixels, taps = s.kernelTaps, kW = s.kernelWidth
        let chunk = Self.chunk, w = cols.count
        withUnsafeTemporaryAllocation(of: Scalar.self, capacity: nr &* chunk) { tmpBuf in
            let tmp = tmpBuf.baseAddress!
            var q = depth.lowerBound
            while q < depth.upperBound {
                let n = q / pixels, pix = q &- n &* pixels
                let len = min(depth.upperBound &- q, pixels &- pix, chunk)
                let oh = pix / s.outWidth, ow = pix &- oh &* s.outWidth
                let img = image(n).unfolded
                for jj in 0..<nr {
                    let row = tmp + jj &* chunk
                    if jj < w {
                        let r = cols.lowerBound &+ jj
                        let ci = r / taps, t = r &- ci &* taps
                        let kh = t / kW, kw = t &- kh &* kW
                        img.unfoldRow(ci: ci, kh: kh, kw: kw, oh: oh, ow: ow, count: len, dst: row, dstStride: 1)
                    } else {
                        row.update(repeating: 0, count: len)
                    }
                }
                PackKernels.transposeTile(d + (q &- depth.lowerBound) &* nr, UnsafePointer(tmp), srcStride: chunk, count: len, nr: nr)
                q &+= len
            }
        }
    }

    /// As `packRowsTransposed` for Float with unit column stride, without the scratch tile:
    /// output row segment by segment, the columns where every row of the panel reads inside
    /// the input are transposed straight from the 16 input rows by `transpose` (the table's
    /// `transposePointers16F32`; rows in the vertical padding, and columns past the panel,
    /// read a zero row); the few border columns element by element.
    func packRowsDirect(into d: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>,
                        transpose: @convention(c) (UnsafeMutablePointer<Float>, UnsafePointer<UnsafePointer<Float>>, Int) -> Void) {
        let nr = KernelTable.nrFloat
        let s = shape, pixels = s.outPixels, taps = s.kernelTaps, kW = s.kernelWidth
        let inH = s.inHeight, inW = s.inWidth, outW = s.outWidth, planeSize = inH &* inW
        let w = cols.count
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 &* nr) { info in
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: nr) { ptrs in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: outW) { zeroBuf in
            let zeros = zeroBuf.baseAddress!
            zeros.initialize(repeating: 0, count: outW)
            // Per panel row: channel plane offset, kh * dH - padTop, kw * dW - padLeft.
            for jj in 0..<w {
                let r = cols.lowerBound &+ jj
                let ci = r / taps, t = r &- ci &* taps
                let kh = t / kW, kw = t &- kh &* kW
                info[3 &* jj] = ci &* planeSize
                info[3 &* jj &+ 1] = kh &* s.dilationH &- s.padTop
                info[3 &* jj &+ 2] = kw &* s.dilationW &- s.padLeft
            }
            // Columns where every panel row is inside the input horizontally.
            var owLo = 0, owHi = outW
            for jj in 0..<w {
                let off = info[3 &* jj &+ 2]
                owLo = max(owLo, -off); owHi = min(owHi, inW &- off)
            }
            if owHi < owLo { owHi = owLo }
            let dst = UnsafeMutableRawPointer(d).assumingMemoryBound(to: Float.self)
            var q = depth.lowerBound
            while q < depth.upperBound {
                let n = q / pixels, pix = q &- n &* pixels
                let oh = pix / outW, ow0 = pix &- oh &* outW
                let len = min(depth.upperBound &- q, outW &- ow0)
                let xImg = UnsafeRawPointer(x + n &* imageStride).assumingMemoryBound(to: Float.self)
                let out = dst + (q &- depth.lowerBound) &* nr
                // Row pointers indexed by ow (zero rows: the zero buffer).
                for jj in 0..<nr {
                    if jj < w {
                        let ih = oh &* s.strideH &+ info[3 &* jj &+ 1]
                        ptrs[jj] = ih >= 0 && ih < inH
                            ? xImg + (info[3 &* jj] &+ ih &* inW &+ info[3 &* jj &+ 2]) : UnsafePointer(zeros)
                    } else {
                        ptrs[jj] = UnsafePointer(zeros)
                    }
                }
                let a = min(max(owLo, ow0), ow0 &+ len), b = max(a, min(owHi, ow0 &+ len))
                @inline(__always) func edge(_ ow: Int) {
                    let o = out + (ow &- ow0) &* nr
                    for jj in 0..<nr {
                        var v: Float = 0
                        if jj < w && ptrs[jj] != UnsafePointer(zeros) {
                            let iw = ow &+ info[3 &* jj &+ 2]
                            if iw >= 0 && iw < inW { v = ptrs[jj][ow] }
                        }
                        o[jj] = v
                    }
                }
                for ow in ow0..<a { edge(ow) }
                if b > a {
                    for jj in 0..<nr where ptrs[jj] != UnsafePointer(zeros) { ptrs[jj] += a }
                    let base = UnsafePointer(ptrs.baseAddress!)
                    let o = out + (a &- ow0) &* nr
                    transpose(o, base, b &- a)
                    for jj in 0..<nr where ptrs[jj] != UnsafePointer(zeros) { ptrs[jj] -= a }
                }
                for ow in b..<(ow0 &+ len) { edge(ow) }
                q &+= len
            }
        }
        }
        }
    }

    /// One panel (columns `cols`, at most nr), pixel by pixel: for narrow images, where the
    /// pixel-direction runs of the other packing are too short to pay for their setup. The
    /// panel's patch rows are cut into runs of consecutive kw (one input row each).
    func packPixelMajor(into d: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>, nr: Int) {
        let s = shape, pixels = s.outPixels, taps = s.kernelTaps, kW = s.kernelWidth
        let inH = s.inHeight, inW = s.inWidth, outW = s.outWidth
        let sH = s.strideH, sW = s.strideW, dH = s.dilationH, dW = s.dilationW
        let w = cols.count
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 5 &* max(w, 1)) { runs in
            // Runs: (first column in the panel, length, channel plane offset, kh * dH, kw * dW).
            var count = 0, jj = 0
            while jj < w {
                let r = cols.lowerBound &+ jj
                let ci = r / taps, t = r &- ci &* taps
                let kh = t / kW, kw = t &- kh &* kW
                let len = min(w &- jj, kW &- kw)
                runs[5 &* count] = jj; runs[5 &* count &+ 1] = len
                runs[5 &* count &+ 2] = ci &* inH &* inW; runs[5 &* count &+ 3] = kh &* dH
                runs[5 &* count &+ 4] = kw &* dW
                count &+= 1; jj &+= len
            }
            var n = depth.lowerBound / pixels, p = depth.lowerBound &- n &* pixels
            var oh = p / outW, ow = p &- oh &* outW
            for q in 0..<depth.count {
                let xImg = x + n &* imageStride
                let ihBase = oh &* sH &- s.padTop, iwBase = ow &* sW &- s.padLeft
                let out = d + q &* nr
                for i in 0..<count {
                    let j = runs[5 &* i], len = runs[5 &* i &+ 1]
                    let ih = ihBase &+ runs[5 &* i &+ 3]
                    let o = out + j
                    if ih < 0 || ih >= inH {
                        for u in 0..<len { o[u] = 0 }
                        continue
                    }
                    let row = xImg + (runs[5 &* i &+ 2] &+ ih &* inW)
                    let iw0 = iwBase &+ runs[5 &* i &+ 4]
                    if iw0 >= 0 && iw0 &+ (len &- 1) &* dW < inW {
                        for u in 0..<len { o[u] = row[iw0 &+ u &* dW] }
                    } else {
                        for u in 0..<len {
                            let iw = iw0 &+ u &* dW
                            o[u] = (iw >= 0 && iw < inW) ? row[iw] : 0
                        }
                    }
                }
                for jz in w..<nr { out[jz] = 0 }
                ow &+= 1
                if ow == outW {
                    ow = 0; oh &+= 1
                    if oh == s.outHeight { oh = 0; n &+= 1 }
                }
            }
        }
    }
}

/// The transpose of `ImageColumns`: A(j, i) = columns.element(i, j), rows over (image, pixel).
/// The small A operand of the transposed scatter GEMM (`ScatterAdjoint.Route.swapped`): at most a
/// few rows, packed element by element.
struct ImageRows<Scalar: ConvScalar>: GemmOperand {
    let columns: ImageColumns<Scalar>
    @inline(__always) func element(_ j: Int, _ i: Int) -> Scalar { columns.element(i, j) }
}
