/// Operands of the GEMM core. The driver reads them through packing routines (fast paths
/// per operand type, with a default built on `element`), so convolutions never have to
/// materialise an unfolded matrix: the unfolded input is an operand, not an array.
///
/// Packed layouts (what the micro-kernels in SwiftConvKernels* read):
/// - A: panels of `KernelTable.mr` (6) rows; in a panel, A(i, p) is at `p * 6 + i`; the
///   panels of a block of `depth.count` columns are `depth.count * 6` elements apart.
/// - B: panels of `nr` columns (16 for Float, 8 for Double: 64 bytes); in a panel, B(p, j)
///   is at `p * nr + j`; panels are `depth.count * nr` elements apart.
/// Rows / columns past the end of the requested range are zero in the last panel.

/// An operand of a GEMM: A is (m x k) read as element(row, depth); B is (k x n) read as
/// element(depth, col).
protocol GemmOperand {
    associatedtype Scalar: ConvScalar
    func element(_ row: Int, _ col: Int) -> Scalar
    /// Packs A(rows, depth) as row panels of 6 (see the file comment).
    func packA(into dst: UnsafeMutablePointer<Scalar>, rows: Range<Int>, depth: Range<Int>)
    /// Packs B(depth, cols) as column panels of `nr` (see the file comment).
    func packB(into dst: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>, nr: Int)
    /// This operand already packed as A (the whole depth), or nil.
    var prepacked: PackedMatrix<Scalar>? { get }
}

extension GemmOperand {
    func packA(into dst: UnsafeMutablePointer<Scalar>, rows: Range<Int>, depth: Range<Int>) {
        let kc = depth.count
        var d = dst, i0 = rows.lowerBound
        while i0 < rows.upperBound {
            let mr = min(Gemm.mr, rows.upperBound - i0)
            for p in 0..<kc {
                for ii in 0..<Gemm.mr {
                    d[p &* Gemm.mr &+ ii] = ii < mr ? element(i0 &+ ii, depth.lowerBound &+ p) : 0
                }
            }
            d += kc &* Gemm.mr; i0 += Gemm.mr
        }
    }

    func packB(into dst: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>, nr: Int) {
        let kc = depth.count
        var d = dst, j0 = cols.lowerBound
        while j0 < cols.upperBound {
            let w = min(nr, cols.upperBound - j0)
            for p in 0..<kc {
                for jj in 0..<nr {
                    d[p &* nr &+ jj] = jj < w ? element(depth.lowerBound &+ p, j0 &+ jj) : 0
                }
            }
            d += kc &* nr; j0 += nr
        }
    }

    var prepacked: PackedMatrix<Scalar>? { nil }
}

/// Copies one 64-byte packed panel row (16 Floats or 8 Doubles).
@inline(__always)
func copyPanelRow<T>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>) {
    // Plain vector loads and stores (copyMemory becomes a memmove call per row).
    let v = UnsafeRawPointer(src).loadUnaligned(as: SIMD16<Float>.self)
    UnsafeMutableRawPointer(dst).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// Packs one 64-byte panel row from every other element of src[0 ..< 2 * (64 bytes)]
/// (stride-2 convolutions): two vector loads, keep the even lanes.
@inline(__always)
func gatherPanelRowStride2<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>) {
    let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
    switch T.kind {
    case .float32:
        let v0 = s.loadUnaligned(as: SIMD16<Float>.self), v1 = s.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
        d.storeBytes(of: SIMD16(lowHalf: v0.evenHalf, highHalf: v1.evenHalf), as: SIMD16<Float>.self)
    case .float64:
        let v0 = s.loadUnaligned(as: SIMD8<Double>.self), v1 = s.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self)
        d.storeBytes(of: SIMD8(lowHalf: v0.evenHalf, highHalf: v1.evenHalf), as: SIMD8<Double>.self)
    }
}

/// A strided matrix in memory: element (r, c) is base[r * rowStride + c * colStride].
/// colStride 1 is row-major; rowStride 1 is a transposed (column-major) view.
struct StridedMatrix<Scalar: ConvScalar>: GemmOperand {
    let base: UnsafePointer<Scalar>
    let rowStride: Int
    let colStride: Int

    @inline(__always) func element(_ r: Int, _ c: Int) -> Scalar { base[r &* rowStride &+ c &* colStride] }

    func packA(into dst: UnsafeMutablePointer<Scalar>, rows: Range<Int>, depth: Range<Int>) {
        let kc = depth.count, rs = rowStride, cs = colStride
        var d = dst, i0 = rows.lowerBound
        while i0 < rows.upperBound {
            let mr = min(Gemm.mr, rows.upperBound - i0)
            let src = base + (i0 &* rs &+ depth.lowerBound &* cs)
            if mr == Gemm.mr && cs == 1 {
                // Six row streams, each read sequentially (a SIMD transpose in the kernel build).
                PackKernels.packA6(d, src, rowStride: rs, count: kc)
            } else if mr == Gemm.mr && rs == 1 {
                for p in 0..<kc {
                    let s = src + p &* cs, o = p &* 6
                    d[o] = s[0]; d[o &+ 1] = s[1]; d[o &+ 2] = s[2]
                    d[o &+ 3] = s[3]; d[o &+ 4] = s[4]; d[o &+ 5] = s[5]
                }
            } else {
                for p in 0..<kc {
                    for ii in 0..<Gemm.mr {
                        d[p &* Gemm.mr &+ ii] = ii < mr ? src[ii &* rs &+ p &* cs] : 0
                    }
                }
            }
            d += kc &* Gemm.mr; i0 += Gemm.mr
        }
    }

    func packB(into dst: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>, nr: Int) {
        let kc = depth.count, rs = rowStride, cs = colStride
        var d = dst, j0 = cols.lowerBound
        if cs == 1 && cols.count >= nr {
            // Row-major: the full panels row by row, so each source row is read in one
            // sequential sweep; the partial last panel (if any) below.
            let full = cols.count / nr
            for p in 0..<kc {
                let src = base + ((depth.lowerBound &+ p) &* rs &+ j0)
                PackKernels.stridedRows(dst + p &* nr, dstStride: kc &* nr, src, srcStride: nr, count: full)
            }
            d += full &* kc &* nr; j0 &+= full &* nr
        }
        while j0 < cols.upperBound {
            let w = min(nr, cols.upperBound - j0)
            let src = base + (depth.lowerBound &* rs &+ j0 &* cs)
            if w == nr && cs == 1 {
                PackKernels.stridedRows(d, dstStride: nr, src, srcStride: rs, count: kc)
            } else if w == nr && rs == 1 {
                // nr column streams, each read sequentially.
                for jj in 0..<nr {
                    let s = src + jj &* cs
                    for p in 0..<kc { d[p &* nr &+ jj] = s[p] }
                }
            } else {
                for p in 0..<kc {
                    for jj in 0..<nr { d[p &* nr &+ jj] = jj < w ? src[p &* rs &+ jj &* cs] : 0 }
                }
            }
            d += kc &* nr; j0 += nr
        }
    }
}

/// Row-major weights (A(i, p) at `base[i * lda + p]`) that the GEMM reads in place: its
/// micro-kernels broadcast each element from its row (InPlaceWeightKernels.swift) instead of
/// packing A into panels first. Passing this operand instead of a `StridedMatrix` is the
/// planner's choice (`KernelSelector.readsWeightsInPlace`); the bits are the same either way.
/// Packing it (e.g. `PackedMatrix` for prepared weights) packs the matrix it views.
struct InPlaceWeights<Scalar: ConvScalar>: GemmOperand {
    let matrix: StridedMatrix<Scalar>

    init(base: UnsafePointer<Scalar>, lda: Int) {
        matrix = StridedMatrix(base: base, rowStride: lda, colStride: 1)
    }

    @inline(__always) var base: UnsafePointer<Scalar> { matrix.base }
    @inline(__always) var lda: Int { matrix.rowStride }
    @inline(__always) func element(_ r: Int, _ c: Int) -> Scalar { matrix.element(r, c) }

    func packA(into dst: UnsafeMutablePointer<Scalar>, rows: Range<Int>, depth: Range<Int>) {
        matrix.packA(into: dst, rows: rows, depth: depth)
    }

    func packB(into dst: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>, nr: Int) {
        matrix.packB(into: dst, depth: depth, cols: cols, nr: nr)
    }
}

/// The unfolded (im2col) input of one group, never stored:
/// row (ci, kh, kw) = ci * taps + kh * kW + kw, column j = n * outPixels + oh * outWidth + ow,
/// value x_n[ci, oh*strideH - padTop + kh*dilationH, ow*strideW - padLeft + kw*dilationW], or
/// 0 where that falls outside the input (padding). `x` points at channel 0 of the group in
/// image 0; image n starts `imageStride` elements later. With columns below outPixels (the
/// usual case) it is the unfolded input of one image; columns past it fold the batch into
/// the GEMM's columns (small images: one GEMM for the whole batch, see Im2colConvolution).
struct UnfoldedInput<Scalar: ConvScalar>: GemmOperand {
    let x: UnsafePointer<Scalar>
    let shape: ConvShape
    let imageStride: Int

    init(x: UnsafePointer<Scalar>, shape: ConvShape, imageStride: Int = 0) {
        self.x = x; self.shape = shape; self.imageStride = imageStride
    }

    @inline(__always) func element(_ r: Int, _ j: Int) -> Scalar {
        let s = shape
        let taps = s.kernelTaps
        let ci = r / taps, t = r - ci * taps
        let kh = t / s.kernelWidth, kw = t - kh * s.kernelWidth
        let pixels = s.outPixels
        let n = j / pixels, p = j - n * pixels
        let oh = p / s.outWidth, ow = p - oh * s.outWidth
        let ih = oh &* s.strideH &- s.padTop &+ kh &* s.dilationH
        let iw = ow &* s.strideW &- s.padLeft &+ kw &* s.dilationW
        if ih < 0 || ih >= s.inHeight || iw < 0 || iw >= s.inWidth { return 0 }
        return x[n &* imageStride &+ (ci &* s.inHeight &+ ih) &* s.inWidth &+ iw]
    }

    func packB(into dst: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>, nr: Int) {
        packUnfolded(into: dst, depth: depth, channelRows: false, tap: 0, cols: cols, nr: nr)
    }

    /// Whether every window of every output pixel lies inside the input (no padding read).
    var isInterior: Bool {
        let s = shape
        return s.padTop == 0 && s.padLeft == 0
            && (s.outHeight &- 1) &* s.strideH &+ (s.kernelHeight &- 1) &* s.dilationH < s.inHeight
            && (s.outWidth &- 1) &* s.strideW &+ (s.kernelWidth &- 1) &* s.dilationW < s.inWidth
    }

    /// Writes unfolded row (ci, kh, kw) at pixels p0 ..< p0 + count, where p0 = (oh, ow),
    /// to dst[0], dst[dstStride], ... One output row at a time: in each, the input
    /// positions are an arithmetic sequence, clipped against the input width.
    @inline(__always)
    func unfoldRow(ci: Int, kh: Int, kw: Int, oh: Int, ow: Int, count: Int,
                   dst: UnsafeMutablePointer<Scalar>, dstStride: Int) {
        let inH = shape.inHeight, inW = shape.inWidth, outW = shape.outWidth
        let sH = shape.strideH, sW = shape.strideW
        let plane = x + ci &* inH &* inW
        let ihOff = kh &* shape.dilationH &- shape.padTop, iwOff = kw &* shape.dilationW &- shape.padLeft
        var oh = oh, ow = ow, t = 0
        while t < count {
            let len = min(count &- t, outW &- ow)
            let ih = oh &* sH &+ ihOff
            let out = dst + t &* dstStride
            if ih >= 0 && ih < inH {
                let row = plane + ih &* inW
                let iw0 = ow &* sW &+ iwOff
                if sW == 1 {
                    // Valid u: 0 <= iw0 + u < inW, clipped to 0..<len.
                    let lo = min(len, max(0, -iw0)), hi = max(lo, min(len, inW &- iw0))
                    let src = row + iw0
                    if dstStride == 1 {
                        for u in 0..<lo { out[u] = 0 }
                        for u in lo..<hi { out[u] = src[u] }
                        for u in hi..<len { out[u] = 0 }
                    } else {
                        for u in 0..<lo { out[u &* dstStride] = 0 }
                        for u in lo..<hi { out[u &* dstStride] = src[u] }
                        for u in hi..<len { out[u &* dstStride] = 0 }
                    }
                } else if sW == 2 && dstStride == 1 {
                    // Valid u: 0 <= iw0 + 2u < inW, clipped to 0..<len; inside, 64 bytes at a
                    // time from the even elements of the next 128 (while those stay in the
                    // row), the rest one by one. For the grad_weight packing of stride-2
                    // convs (BatchedUnfoldedTransposed.packRowsTransposed), measured against
                    // the loop below (one thread, new / old time, median of 5 interleaved
                    // runs): ResNet-50's stem 3->64 224x224 k7 s2 0.70, 256->256 28x28 k3 s2 0.97.
                    let lo = min(len, max(0, (1 &- iw0) / 2)), hi = max(lo, min(len, (inW &- iw0 &+ 1) / 2))
                    let step = 64 / MemoryLayout<Scalar>.stride
                    for u in 0..<lo { out[u] = 0 }
                    var u = lo
                    while u &+ step <= hi && iw0 &+ 2 &* (u &+ step) <= inW {
                        gatherPanelRowStride2(out + u, row + (iw0 &+ 2 &* u))
                        u &+= step
                    }
                    while u < hi { out[u] = row[iw0 &+ 2 &* u]; u &+= 1 }
                    for u in hi..<len { out[u] = 0 }
                } else {
                    for u in 0..<len {
                        let iw = iw0 &+ u &* sW
                        out[u &* dstStride] = (iw >= 0 && iw < inW) ? row[iw] : 0
                    }
                }
            } else {
                if dstStride == 1 {
                    out.update(repeating: 0, count: len)
                } else {
                    for u in 0..<len { out[u &* dstStride] = 0 }
                }
            }
            t &+= len; ow = 0; oh &+= 1
        }
    }

    /// Packs B panels of the unfolded matrix. Depth index r maps to patch row r (when
    /// `channelRows` is false) or to patch row r * taps + tap (ShiftedInput: r is a channel).
    /// A panel is done one output-row segment at a time (one segment unless it wraps to the
    /// next output row); in a segment, each (ci, kh) input row is bounds-checked once for its
    /// run of kw, and with unit stride a full interior row of the panel is one 64-byte copy.
    func packUnfolded(into dst: UnsafeMutablePointer<Scalar>, depth: Range<Int>, channelRows: Bool, tap: Int,
                      cols: Range<Int>, nr: Int) {
        let kc = depth.count
        if kc == 0 || cols.isEmpty { return }
        let inH = shape.inHeight, inW = shape.inWidth, outW = shape.outWidth
        let sH = shape.strideH, sW = shape.strideW, dH = shape.dilationH, dW = shape.dilationW
        let padT = shape.padTop, padL = shape.padLeft
        let kH = shape.kernelHeight, kW = shape.kernelWidth, taps = shape.kernelTaps
        let planeSize = inH &* inW
        let firstRow = channelRows ? depth.lowerBound &* taps &+ tap : depth.lowerBound
        let ci0 = firstRow / taps, t0 = firstRow - ci0 * taps
        let kh0 = t0 / kW, kw0 = t0 - kh0 * kW
        let outH = shape.outHeight, pixels = shape.outPixels, imageStride = self.imageStride
        var n = cols.lowerBound / pixels
        var oh = (cols.lowerBound - n * pixels) / outW
        var ow = cols.lowerBound - n * pixels - oh * outW
        // Fast path for panels inside one output row whose every tap reads inside the input
        // (unit or double stride): each packed row is one copy from x + base + offset[p].
        let fast = !channelRows && (sW == 1 || sW == 2) && outW >= nr && cols.count >= nr
        // Every window of every output pixel inside the input (no padding, e.g. after
        // Im2colConvolution's zero-padded copy): each panel is a gather of its columns'
        // window origins plus one offset per packed row, with no bounds checks.
        let gather = !channelRows && isInterior
        withUnsafeTemporaryAllocation(of: Int.self, capacity: fast || gather ? kc &+ nr : 1) { offsets in
        if fast || gather {
            shape.unfoldedRowOffsets(depth, plane: planeSize, width: inW, into: offsets.baseAddress!)
        }
        let ihSpan = (kH &- 1) &* dH, iwSpan = (kW &- 1) &* dW &+ (sW == 1 ? nr : 2 &* nr)
        var d = dst, j0 = cols.lowerBound
        while j0 < cols.upperBound {
            let w = min(nr, cols.upperBound &- j0)
            let ihBase0 = oh &* sH &- padT, iwBase0 = ow &* sW &- padL
            // Stride 2 reads 2 * nr elements from each row start, one more than it keeps: at
            // the input's right edge it reads from one element earlier instead (`odd`).
            let odd = sW == 2 && iwBase0 &+ iwSpan == inW &+ 1 && iwBase0 >= 1
            if fast && w == nr && outW &- ow >= nr && ihBase0 >= 0 && ihBase0 &+ ihSpan < inH
                && iwBase0 >= 0 && (iwBase0 &+ iwSpan <= inW || odd) {
                let base = x + (n &* imageStride &+ ihBase0 &* inW &+ iwBase0)
                if sW == 1 {
                    PackKernels.gatherRows(d, base, offsets.baseAddress!, count: kc)
                } else {
                    PackKernels.gatherRowsStride2(d, base, offsets.baseAddress!, count: kc, odd: odd)
                }
                d += kc &* nr; j0 &+= nr
                ow &+= nr
                while ow >= outW { ow &-= outW; oh &+= 1; if oh == outH { oh = 0; n &+= 1 } }
                continue
            }
            if gather && sW == 1 {
                // The panel's columns as runs within output rows (it wraps to the next
                // row(s)): each run is contiguous in the input, copied with vector moves.
                withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 &* nr) { segs in
                    let sp = segs.baseAddress!
                    let count = shape.outputRowRuns(image: n, row: oh, column: ow, count: w, imageStride: imageStride,
                                                    rowStride: sH &* inW, elementBytes: MemoryLayout<Scalar>.stride, into: sp)
                    PackKernels.segmentRows(d, x, offsets.baseAddress!, count: kc, sp, segCount: count, filled: w)
                }
                d += kc &* nr; j0 &+= nr
                ow &+= nr
                while ow >= outW { ow &-= outW; oh &+= 1; if oh == outH { oh = 0; n &+= 1 } }
                continue
            }
            if gather {
                // Window origins of the panel's columns (image, oh, ow), then row by row.
                let origin = offsets.baseAddress! + kc
                var bn = n, boh = oh, bow = ow
                for jj in 0..<w {
                    origin[jj] = bn &* imageStride &+ boh &* sH &* inW &+ bow &* sW
                    bow &+= 1
                    if bow == outW { bow = 0; boh &+= 1; if boh == outH { boh = 0; bn &+= 1 } }
                }
                for p in 0..<kc {
                    let src = x + offsets[p], out = d + p &* nr
                    for jj in 0..<w { out[jj] = src[origin[jj]] }
                    for jj in w..<nr { out[jj] = 0 }
                }
                d += kc &* nr; j0 &+= nr
                ow &+= nr
                while ow >= outW { ow &-= outW; oh &+= 1; if oh == outH { oh = 0; n &+= 1 } }
                continue
            }
            if w < nr {
                for p in 0..<kc { for jj in w..<nr { d[p &* nr &+ jj] = 0 } }
            }
            var t = 0, segOh = oh, segOw = ow, segN = n
            while t < w {
                let len = min(w &- t, outW &- segOw)
                let ihBase = segOh &* sH &- padT, iwBase = segOw &* sW &- padL
                let x = self.x + segN &* imageStride
                var ci = ci0, kh = kh0, kw = kw0, p = 0
                while p < kc {
                    let run = channelRows ? 1 : min(kW &- kw, kc &- p)
                    let ih = ihBase &+ kh &* dH
                    if ih >= 0 && ih < inH {
                        let row = x + (ci &* planeSize &+ ih &* inW)
                        let first = iwBase &+ kw &* dW, last = iwBase &+ (kw &+ run &- 1) &* dW
                        if sW == 1 && len == nr && first >= 0 && last &+ nr <= inW {
                            // The whole run of kw is interior: plain 64-byte copies.
                            PackKernels.stridedRows(d + (p &* nr), dstStride: nr, row + first, srcStride: dW, count: run)
                        } else {
                        for q in 0..<run {
                            let out = d + ((p &+ q) &* nr &+ t)
                            let iw0 = iwBase &+ (kw &+ q) &* dW
                            if sW == 1 {
                                if len == nr && iw0 >= 0 && iw0 &+ nr <= inW {
                                    copyPanelRow(out, row + iw0)
                                } else {
                                    let lo = min(len, max(0, -iw0)), hi = max(lo, min(len, inW &- iw0))
                                    let src = row + iw0
                                    for u in 0..<lo { out[u] = 0 }
                                    for u in lo..<hi { out[u] = src[u] }
                                    for u in hi..<len { out[u] = 0 }
                                }
                            } else if sW == 2 && len == nr && iw0 >= 0 && iw0 &+ 2 &* nr <= inW {
                                gatherPanelRowStride2(out, row + iw0)
                            } else {
                                for u in 0..<len {
                                    let iw = iw0 &+ u &* sW
                                    out[u] = (iw >= 0 && iw < inW) ? row[iw] : 0
                                }
                            }
                        }
                        }
                    } else {
                        for q in 0..<run {
                            let out = d + ((p &+ q) &* nr &+ t)
                            for u in 0..<len { out[u] = 0 }
                        }
                    }
                    p &+= run
                    if channelRows {
                        ci &+= 1
                    } else {
                        kw &+= run
                        if kw == kW { kw = 0; kh &+= 1; if kh == kH { kh = 0; ci &+= 1 } }
                    }
                }
                t &+= len; segOw = 0; segOh &+= 1
                if segOh == outH { segOh = 0; segN &+= 1 }
            }
            d += kc &* nr; j0 &+= nr
            ow &+= nr
            while ow >= outW { ow &-= outW; oh &+= 1; if oh == outH { oh = 0; n &+= 1 } }
        }
        }
    }
}

/// The transpose of `UnfoldedInput`: row = output pixel, column = patch index. The B operand
/// of the weight gradient, dW = dY * unfold(x)^T.
struct UnfoldedInputTransposed<Scalar: ConvScalar>: GemmOperand {
    let unfolded: UnfoldedInput<Scalar>
    @inline(__always) func element(_ p: Int, _ r: Int) -> Scalar { unfolded.element(r, p) }

    /// Depth = pixels, columns = patch rows: each packed column is one unfolded row over a
    /// run of pixels, written with stride nr.
    func packB(into dst: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>, nr: Int) {
        let s = unfolded.shape, kc = depth.count
        if kc == 0 || cols.isEmpty { return }
        let taps = s.kernelTaps, kW = s.kernelWidth
        let oh = depth.lowerBound / s.outWidth, ow = depth.lowerBound - oh * s.outWidth
        var d = dst, j0 = cols.lowerBound
        while j0 < cols.upperBound {
            let w = min(nr, cols.upperBound &- j0)
            for jj in 0..<nr {
                if jj < w {
                    let r = j0 &+ jj
                    let ci = r / taps, t = r - ci * taps
                    let kh = t / kW, kw = t - kh * kW
                    unfolded.unfoldRow(ci: ci, kh: kh, kw: kw, oh: oh, ow: ow, count: kc, dst: d + jj, dstStride: nr)
                } else {
                    for p in 0..<kc { d[p &* nr &+ jj] = 0 }
                }
            }
            d += kc &* nr; j0 &+= nr
        }
    }
}

extension TapsConvolution.ShiftedInput {
    func packB(into dst: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>, nr: Int) {
        unfolded.packUnfolded(into: dst, depth: depth, channelRows: true, tap: tap, cols: cols, nr: nr)
    }
}

/// An A operand packed once (the weights of a convolution) and reused by many `multiply`
/// calls, from any thread. Row i of the packed matrix is row `rows.lowerBound + i` of the
/// source; every call must use depth <= `depth` and rows inside 0..<`rows`. Calls whose
/// rows start at a multiple of 6 read the panels in place, others repack from them.
final class PackedMatrix<Scalar: ConvScalar>: GemmOperand {
    let rows: Int
    let depth: Int
    /// ceil(rows / 6) panels of depth * 6 elements (rows past the end are zero).
    let panels: UnsafeMutablePointer<Scalar>

    /// The packed matrix, or nil when its memory cannot be had (never a trap).
    convenience init?<A: GemmOperand>(_ a: A, rows: Range<Int>, depth: Int) where A.Scalar == Scalar {
        self.init(rows: rows.count, depth: depth)
        if self.rows > 0 && self.depth > 0 { a.packA(into: panels, rows: rows, depth: 0..<self.depth) }
    }

    /// Room for `rows` x `depth` packed, not yet written (`Gemm.tryPackA(count:)` fills it
    /// over the threads; `PhaseKernels` packs several operands in one sweep), or nil when its
    /// memory cannot be had.
    init?(rows: Int, depth: Int) {
        self.rows = max(0, rows)
        self.depth = max(0, depth)
        guard let count = PackedMatrix.elementCount(rows: self.rows, depth: self.depth) else { return nil }
        let (bytes, o) = max(1, count).multipliedReportingOverflow(by: MemoryLayout<Scalar>.stride)
        guard !o, let buffer = AlignedMemory.allocate(bytes: bytes) else { return nil }
        panels = buffer.bindMemory(to: Scalar.self, capacity: max(1, count))
    }

    /// Bytes of the packed panels.
    var byteCount: Int { (rows + Gemm.mr - 1) / Gemm.mr * Gemm.mr * depth * MemoryLayout<Scalar>.stride }

    private static func elementCount(rows: Int, depth: Int) -> Int? {
        let (panels, o1) = ((rows + Gemm.mr - 1) / Gemm.mr).multipliedReportingOverflow(by: Gemm.mr)
        let (count, o2) = panels.multipliedReportingOverflow(by: depth)
        return o1 || o2 ? nil : count
    }

    deinit { AlignedMemory.release(UnsafeMutableRawPointer(panels)) }

    @inline(__always) func element(_ i: Int, _ p: Int) -> Scalar {
        let q = i / Gemm.mr
        return panels[q &* depth &* Gemm.mr &+ p &* Gemm.mr &+ (i &- q &* Gemm.mr)]
    }

    var prepacked: PackedMatrix<Scalar>? { self }
}
