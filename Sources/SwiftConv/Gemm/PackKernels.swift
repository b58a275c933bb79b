import SwiftConvKernelsAVX512
import SwiftConvKernelsAVX2
import SwiftConvKernelsBaseline

/// The hot inner loops of the GEMM's packing (GemmOperands.swift), run by the kernel build
/// for this CPU (`CPUFeatures.tier`; SwiftConvKernels*/Packing.swift): SwiftConv itself is
/// compiled for the baseline CPU, where a 64-byte panel row is four 16-byte moves.
/// Packing moves values only, so the tier never changes a result.
enum PackKernels {
    @inline(__always) static func shift<T>(_: T.Type) -> Int { MemoryLayout<T>.stride == 8 ? 3 : 2 }

    /// dst[64 bytes * p] = the 64 bytes at base + offsets[p], p < count.
    @inline(__always)
    static func gatherRows<T>(_ dst: UnsafeMutablePointer<T>, _ base: UnsafePointer<T>, _ offsets: UnsafePointer<Int>, count: Int) {
        let d = UnsafeMutableRawPointer(dst), b = UnsafeRawPointer(base), sh = shift(T.self)
        switch CPUFeatures.tier {
        case .avx512: SwiftConvKernelsAVX512.packRowsGather64(d, b, offsets, count: count, elementShift: sh)
        case .avx2: SwiftConvKernelsAVX2.packRowsGather64(d, b, offsets, count: count, elementShift: sh)
        case .baseline: SwiftConvKernelsBaseline.packRowsGather64(d, b, offsets, count: count, elementShift: sh)
        }
    }

    /// As `gatherRows`, every other element of 128 bytes at each source (stride 2); with `odd`,
/// from one element before each source, the odd elements (same values, one fewer read past).
    @inline(__always)
    static func gatherRowsStride2<T>(_ dst: UnsafeMutablePointer<T>, _ base: UnsafePointer<T>, _ offsets: UnsafePointer<Int>, count: Int, odd: Bool) {
        if MemoryLayout<T>.stride == 4 {
            let d = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Float.self)
            let b = UnsafeRawPointer(base).assumingMemoryBound(to: Float.self)
            switch CPUFeatures.tier {
            case .avx512: SwiftConvKernelsAVX512.packRowsGatherStride2F32(d, b, offsets, count: count, odd: odd)
            case .avx2: SwiftConvKernelsAVX2.packRowsGatherStride2F32(d, b, offsets, count: count, odd: odd)
            case .baseline: SwiftConvKernelsBaseline.packRowsGatherStride2F32(d, b, offsets, count: count, odd: odd)
            }
        } else {
            let d = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Double.self)
            let b = UnsafeRawPointer(base).assumingMemoryBound(to: Double.self)
            switch CPUFeatures.tier {
            case .avx512: SwiftConvKernelsAVX512.packRowsGatherStride2F64(d, b, offsets, count: count, odd: odd)
            case .avx2: SwiftConvKernelsAVX2.packRowsGatherStride2F64(d, b, offsets, count: count, odd: odd)
            case .baseline: SwiftConvKernelsBaseline.packRowsGatherStride2F64(d, b, offsets, count: count, odd: odd)
            }
        }
    }

    /// `count` 64-byte rows: src + q * srcStride to dst + q * dstStride (strides in elements).
    @inline(__always)
    static func stridedRows<T>(_ dst: UnsafeMutablePointer<T>, dstStride: Int, _ src: UnsafePointer<T>, srcStride: Int, count: Int) {
        let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src), sh = shift(T.self)
        let ds = dstStride &<< sh, ss = srcStride &<< sh
        switch CPUFeatures.tier {
        case .avx512: SwiftConvKernelsAVX512.packRowsStrided64(d, dstStride: ds, s, srcStride: ss, count: count)
        case .avx2: SwiftConvKernelsAVX2.packRowsStrided64(d, dstStride: ds, s, srcStride: ss, count: count)
        case .baseline: SwiftConvKernelsBaseline.packRowsStrided64(d, dstStride: ds, s, srcStride: ss, count: count)
        }
    }

    /// Rows made of contiguous segments (`segs`: triples of source offset in elements,
    /// destination byte, byte count); elements from `filled` to the panel width zeroed.
    @inline(__always)
    static func segmentRows<T>(_ dst: UnsafeMutablePointer<T>, _ base: UnsafePointer<T>, _ offsets: UnsafePointer<Int>, count: Int,
                               _ segs: UnsafePointer<Int>, segCount: Int, filled: Int) {
        let d = UnsafeMutableRawPointer(dst), b = UnsafeRawPointer(base), sh = shift(T.self)
        let fb = filled &<< sh
        switch CPUFeatures.tier {
        case .avx512: SwiftConvKernelsAVX512.packRowsSegments64(d, b, offsets, count: count, elementShift: sh, segs, segCount: segCount, filledBytes: fb)
        case .avx2: SwiftConvKernelsAVX2.packRowsSegments64(d, b, offsets, count: count, elementShift: sh, segs, segCount: segCount, filledBytes: fb)
        case .baseline: SwiftConvKernelsBaseline.packRowsSegments64(d, b, offsets, count: count, elementShift: sh, segs, segCount: segCount, filledBytes: fb)
        }
    }

    /// One full 6-row A panel of `kc` columns from six rows `rowStride` apart (unit column
    /// stride): A(i, p) at dst[p * 6 + i].
    @inline(__always)
    static func packA6<T>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, rowStride: Int, count: Int) {
        if MemoryLayout<T>.stride == 4 {
            let d = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Float.self)
            let s = UnsafeRawPointer(src).assumingMemoryBound(to: Float.self)
            switch CPUFeatures.tier {
            case .avx512: SwiftConvKernelsAVX512.packA6F32(d, s, rowStride: rowStride, count: count)
            case .avx2: SwiftConvKernelsAVX2.packA6F32(d, s, rowStride: rowStride, count: count)
            case .baseline: SwiftConvKernelsBaseline.packA6F32(d, s, rowStride: rowStride, count: count)
            }
        } else {
            let d = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Double.self)
            let s = UnsafeRawPointer(src).assumingMemoryBound(to: Double.self)
            switch CPUFeatures.tier {
            case .avx512: SwiftConvKernelsAVX512.packA6F64(d, s, rowStride: rowStride, count: count)
            case .avx2: SwiftConvKernelsAVX2.packA6F64(d, s, rowStride: rowStride, count: count)
            case .baseline: SwiftConvKernelsBaseline.packA6F64(d, s, rowStride: rowStride, count: count)
            }
        }
    }

    /// dst[u * nr + r] = src[r * srcStride + u] (r < nr, u < count), on this CPU's tier.
    @inline(__always)
    static func transposeTile<T>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, srcStride: Int, count: Int, nr: Int) {
        if MemoryLayout<T>.stride == 4 && nr == 16 {
            let d = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Float.self)
            let s = UnsafeRawPointer(src).assumingMemoryBound(to: Float.self)
            switch CPUFeatures.tier {
            case .avx512: SwiftConvKernelsAVX512.transposeRows16F32(d, s, srcStride: srcStride, count: count)
            case .avx2: SwiftConvKernelsAVX2.transposeRows16F32(d, s, srcStride: srcStride, count: count)
            case .baseline: SwiftConvKernelsBaseline.transposeRows16F32(d, s, srcStride: srcStride, count: count)
            }
        } else if MemoryLayout<T>.stride == 8 && nr == 8 {
            let d = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Double.self)
            let s = UnsafeRawPointer(src).assumingMemoryBound(to: Double.self)
            switch CPUFeatures.tier {
            case .avx512: SwiftConvKernelsAVX512.transposeRows8F64(d, s, srcStride: srcStride, count: count)
            case .avx2: SwiftConvKernelsAVX2.transposeRows8F64(d, s, srcStride: srcStride, count: count)
            case .baseline: SwiftConvKernelsBaseline.transposeRows8F64(d, s, srcStride: srcStride, count: count)
            }
        } else {
            for u in 0..<count { for r in 0..<nr { dst[u &* nr &+ r] = src[r &* srcStride &+ u] } }
        }
    }
}
