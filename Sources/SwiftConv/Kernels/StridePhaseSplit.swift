/// Splits the input of a strided convolution into its zero-padded stride phases
/// (`StridePhases`), once per call: the im2col GEMM then packs each unfolded row as
/// contiguous runs (`PhaseUnfoldedInput`) instead of gathering every s-th element in every
/// column tile. A copy: the values (and so the GEMM's bits) are those of the input, zeros
/// where the window reads padding.
enum StridePhaseSplit {
    /// Writes the phases of x (laid out for `s`) to `dst`: image n, channel c, phase (a, b)
    /// at dst + (n * inChannels + c) * channelStride + (a * strideW + b) * plane, every
    /// element written (zero outside x).
    static func split<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, phases ph: StridePhases, into dst: UnsafeMutablePointer<T>) {
        let planes = s.batch * s.inChannels
        let sH = ph.strideH, sW = ph.strideW, rows = sH * ph.height
        // Planes, cut in row blocks (of the padded rows) when they are too few to share evenly
        // over the threads. A copy: any split, the same bits.
        let threads = ThreadPool.shared.numThreads
        let wanted = planes >= 4 * threads ? 1 : (4 * threads + planes - 1) / max(planes, 1)
        let rowsPerBlock = max(1, (rows + wanted - 1) / wanted)
        let blocks = (rows + rowsPerBlock - 1) / rowsPerBlock
        ThreadPool.shared.parallelFor(planes * blocks, work: ThreadPool.copyWork(elements: planes * ph.channelStride)) { task in
            let plane = task / blocks, r0 = task % blocks * rowsPerBlock
            let src = x + plane * s.inPixels, out = dst + plane * ph.channelStride
            for r in r0..<min(rows, r0 + rowsPerBlock) {
                // Padded row r is row r / sH of the phases (r mod sH, *).
                let a = r % sH, i = r / sH, ih = r - s.padTop
                let first = out + a * sW * ph.plane + i * ph.width
                if ih < 0 || ih >= s.inHeight {
                    for b in 0..<sW { (first + b * ph.plane).update(repeating: 0, count: ph.width) }
                    continue
                }
                let source = src + ih * s.inWidth
                // Phase b's column j is x's column b + j * sW - padLeft: inside x for j in lo ..< hi.
                func inside(_ b: Int) -> Range<Int> {
                    let lo = min(ph.width, max(0, ceilDivide(s.padLeft - b, sW)))
                    return lo..<max(lo, min(ph.width, ceilDivide(s.inWidth + s.padLeft - b, sW)))
                }
                var done = 0..<0
                if sW == 2 {
                    // Both phases of the row at once from the columns inside x for both.
                    let even = inside(0), odd = inside(1)
                    let lo = max(even.lowerBound, odd.lowerBound)
                    done = lo..<max(lo, min(even.upperBound, odd.upperBound))
                    deinterleave(source - s.padLeft, done, first, first + ph.plane)
                }
                for b in 0..<sW {
                    let row = first + b * ph.plane, range = inside(b), column = source + (b - s.padLeft)
                    row.update(repeating: 0, count: range.lowerBound)
                    var j = range.lowerBound
                    while j < range.upperBound {
                        if j == done.lowerBound && !done.isEmpty { j = done.upperBound; continue }
                        row[j] = column[j &* sW]
                        j &+= 1
                    }
                    (row + range.upperBound).update(repeating: 0, count: ph.width - range.upperBound)
                }
            }
        }
    }

    /// even[j] = row[2j], odd[j] = row[2j + 1] for j in `columns` (whose elements, both
    /// phases, are inside x), by the tier's vector kernel.
    @inline(__always)
    static func deinterleave<T: ConvScalar>(_ row: UnsafePointer<T>, _ columns: Range<Int>,
                                            _ even: UnsafeMutablePointer<T>, _ odd: UnsafeMutablePointer<T>) {
        let j = columns.lowerBound
        let e = UnsafeMutableRawPointer(even + j), o = UnsafeMutableRawPointer(odd + j), src = UnsafeRawPointer(row + 2 * j)
        switch T.kind {
        case .float32:
            KernelTable.active.deinterleavePairsF32(e.assumingMemoryBound(to: Float.self), o.assumingMemoryBound(to: Float.self),
                                                    src.assumingMemoryBound(to: Float.self), columns.count)
        case .float64:
            KernelTable.active.deinterleavePairsF64(e.assumingMemoryBound(to: Double.self), o.assumingMemoryBound(to: Double.self),
                                                    src.assumingMemoryBound(to: Double.self), columns.count)
        }
    }

    /// ceil(a / b) for b > 0 and any a.
    @inline(__always)
    static func ceilDivide(_ a: Int, _ b: Int) -> Int {
        a >= 0 ? (a + b - 1) / b : -((-a) / b)
    }
}
