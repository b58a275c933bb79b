/// The hot inner loops of the GEMM's packing (GemmOperands.swift), run by the active kernel
/// table (`KernelTable.active`; SwiftConvKernels*/Packing.swift, TransposePacking.swift):
/// SwiftConv itself is compiled for the baseline CPU, where a 64-byte panel row is four
/// 16-byte moves. These adapters only pass the generic element type on as the concrete one.
/// Packing moves values only, so the table never changes a result.
enum PackKernels {
    /// dst[64 bytes * p] = the 64 bytes at base + offsets[p], p < count.
    @inline(__always)
    static func gatherRows<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ base: UnsafePointer<T>, _ offsets: UnsafePointer<Int>, count: Int) {
        KernelTable.active.packRowsGather64(UnsafeMutableRawPointer(dst), UnsafeRawPointer(base), offsets, count, T.kind.elementShift)
    }

    /// As `gatherRows`, every other element of 128 bytes at each source (stride 2); with `odd`,
    /// from one element before each source, the odd elements (same values, one fewer read past).
    @inline(__always)
    static func gatherRowsStride2<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ base: UnsafePointer<T>, _ offsets: UnsafePointer<Int>,
                                                 count: Int, odd: Bool) {
        switch T.kind {
        case .float32:
            let d = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Float.self)
            let b = UnsafeRawPointer(base).assumingMemoryBound(to: Float.self)
            KernelTable.active.packRowsGatherStride2F32(d, b, offsets, count, odd)
        case .float64:
            let d = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Double.self)
            let b = UnsafeRawPointer(base).assumingMemoryBound(to: Double.self)
            KernelTable.active.packRowsGatherStride2F64(d, b, offsets, count, odd)
        }
    }

    /// `count` 64-byte rows: src + q * srcStride to dst + q * dstStride (strides in elements).
    @inline(__always)
    static func stridedRows<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, dstStride: Int, _ src: UnsafePointer<T>, srcStride: Int, count: Int) {
        let sh = T.kind.elementShift
        KernelTable.active.packRowsStrided64(UnsafeMutableRawPointer(dst), dstStride &<< sh, UnsafeRawPointer(src), srcStride &<< sh, count)
    }

    /// Rows made of contiguous segments (`segs`: triples of source offset in elements,
    /// destination byte, byte count); elements from `filled` to the panel width zeroed.
    @inline(__always)
    static func segmentRows<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ base: UnsafePointer<T>, _ offsets: UnsafePointer<Int>, count: Int,
                                           _ segs: UnsafePointer<Int>, segCount: Int, filled: Int) {
        let sh = T.kind.elementShift
        KernelTable.active.packRowsSegments64(UnsafeMutableRawPointer(dst), UnsafeRawPointer(base), offsets, count, sh,
                                              segs, segCount, filled &<< sh)
    }

    /// One full A panel (`KernelTable.mr` = 6 rows) of `count` columns from six rows
    /// `rowStride` apart (unit column stride): A(i, p) at dst[p * 6 + i].
    @inline(__always)
    static func packA6<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, rowStride: Int, count: Int) {
        switch T.kind {
        case .float32:
            let d = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Float.self)
            let s = UnsafeRawPointer(src).assumingMemoryBound(to: Float.self)
            KernelTable.active.packA6F32(d, s, rowStride, count)
        case .float64:
            let d = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Double.self)
            let s = UnsafeRawPointer(src).assumingMemoryBound(to: Double.self)
            KernelTable.active.packA6F64(d, s, rowStride, count)
        }
    }

    /// dst[u * nr + r] = src[r * srcStride + u] (r < nr, u < count): the table's 16 x 16 Float
    /// or 8 x 8 Double register transpose for a full panel width, else element by element.
    @inline(__always)
    static func transposeTile<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, srcStride: Int, count: Int, nr: Int) {
        switch T.kind {
        case .float32 where nr == KernelTable.nrFloat:
            let d = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Float.self)
            let s = UnsafeRawPointer(src).assumingMemoryBound(to: Float.self)
            KernelTable.active.transposeRows16F32(d, s, srcStride, count)
        case .float64 where nr == KernelTable.nrDouble:
            let d = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Double.self)
            let s = UnsafeRawPointer(src).assumingMemoryBound(to: Double.self)
            KernelTable.active.transposeRows8F64(d, s, srcStride, count)
        default:
            for u in 0..<count { for r in 0..<nr { dst[u &* nr &+ r] = src[r &* srcStride &+ u] } }
        }
    }
}
