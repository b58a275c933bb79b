import SwiftConvKernelsAVX512
import SwiftConvKernelsAVX2
import SwiftConvKernelsBaseline

/// The GEMM core: C(i, j) = [C(i, j) +] sum over p < depth of A(i, p) * B(p, j), for i in
/// `rows` and j in `cols`. `c` points at C(rows.lowerBound, cols.lowerBound) and rows of C are
/// `ldc` elements apart. Single-threaded: callers partition the output across the thread
/// pool, so each C element is reduced by exactly one call, in a fixed order, and results do
/// not depend on the thread count.
///
/// Reduction order: every element starts from C (accumulate) or 0 and adds A(i, p) * B(p, j)
/// for p = 0, 1, ..., depth - 1 in order, one (fused, on AVX2 + FMA CPUs) multiply-add at a
/// time. That order depends on nothing else — not on the row / column range a caller asks
/// for, nor on the cache blocks — so callers may tile the output however they like (even
/// differently per thread count) and still get identical bits.
///
/// How: packed panels and register-blocked micro-kernels: 6 x 16 (Float) or 6 x 8 (Double)
/// on ymm registers (SwiftConvKernelsAVX2 / SwiftConvKernelsBaseline), or on AVX-512 CPUs
/// 12 x 16 / 12 x 8 on zmm registers reading two consecutive 6-row A panels at once
/// (SwiftConvKernelsAVX512); the build is chosen at load time (`CPUFeatures.tier`), the packed
/// formats are the same for all of them, and so are the results (fused multiply-adds in the
/// same order; the baseline build is unfused). Depth is cut in
/// equal blocks of at most `kc`. Two loop orders:
/// - small A (packed A <= `smallABytes`, the convolution case: C_out x patch): A is packed
///   once (or used in place when pre-packed with `packA`) and stays in L2; for each panel of
///   16 (8) columns and each depth block, the B panel is packed into L1 straight from the
///   operand (e.g. implicit im2col) and the micro-kernels sweep all rows of A over it, the
///   C tile staying in L1.
/// - otherwise GotoBLAS order: a kc x nc block of B packed (`ncBytes`, in L2), then mc x kc
///   blocks of A packed (or used in place), then the micro-kernels over the block.
enum Gemm {
    /// Micro-kernel rows (both precisions).
    static let mr = 6
    /// Depth per block, at most (Float; 256 for Double): a 6 x kc A panel plus a kc x 16
    /// B panel fit in L1.
    static let kc = 320
    static let kcDouble = 256
    /// Rows per block: an mc x kc block of packed A stays in L2.
    static let mc = 120
    /// Bytes of packed B per block in the general case (kc x nc, in L2).
    static let ncBytes = 256 * 1024
    /// Packed A up to this size takes the small-A path (A in L2, one B panel at a time).
    static let smallABytes = 384 * 1024
    /// Bytes of packed B per block on the small-A path (kc x nc, in L2).
    static let smallBBytes = 512 * 1024

    /// Elements of the edge-tile scratch the block functions need (6 x 16 Floats; 6 x 8
    /// Doubles use half).
    static let tileCount = 96

    /// Micro-kernel columns for a scalar type: 64 bytes (16 Floats, 8 Doubles).
    @inline(__always) static func nr<T: ConvScalar>(_: T.Type) -> Int { 64 / MemoryLayout<T>.stride }

    /// Packs rows `rows` (all `depth` columns) of `a` once, for reuse as the A operand of
    /// many `multiply` calls (e.g. the weights of one convolution, shared by every tile).
    /// nil when its memory cannot be had (never a trap); the caller then passes the operand
    /// itself (the same bits: packing only copies).
    static func tryPackA<A: GemmOperand>(_ a: A, rows: Range<Int>, depth: Int) -> PackedMatrix<A.Scalar>? {
        PackedMatrix(a, rows: rows, depth: depth)
    }

    /// `tryPackA`, for tests and benchmarks: falls back to the Swift allocator (which traps
    /// when memory runs out). Kernels use `tryPackA`.
    static func packA<A: GemmOperand>(_ a: A, rows: Range<Int>, depth: Int) -> PackedMatrix<A.Scalar> {
        tryPackA(a, rows: rows, depth: depth) ?? PackedMatrix(allocating: a, rows: rows, depth: depth)
    }

    static func multiply<A: GemmOperand, B: GemmOperand>(
        _ a: A, _ b: B, rows: Range<Int>, cols: Range<Int>, depth: Int,
        c: UnsafeMutablePointer<A.Scalar>, ldc: Int, accumulate: Bool
    ) where A.Scalar == B.Scalar {
        typealias T = A.Scalar
        let m = rows.count, n = cols.count
        if m <= 0 || n <= 0 { return }
        if depth <= 0 {
            if !accumulate { for i in 0..<m { (c + i &* ldc).update(repeating: 0, count: n) } }
            return
        }
        guard T.self == Float.self || T.self == Double.self else {
            naive(a, b, rows: rows, cols: cols, depth: depth, c: c, ldc: ldc, accumulate: accumulate)
            return
        }
        let nr = nr(T.self)
        // Equal depth blocks of at most `kc` (576 -> 2 x 288, not 256 + 256 + 64).
        let kcLimit = MemoryLayout<T>.stride == 4 ? kc : kcDouble
        let kcBlocks = (depth + kcLimit - 1) / kcLimit
        let kcMax = (depth + kcBlocks - 1) / kcBlocks
        let mPadded = (m + mr - 1) / mr * mr

        // A used in place when pre-packed and the rows start on a panel boundary.
        var packedA: PackedMatrix<T>? = a.prepacked
        if let p = packedA, rows.lowerBound % mr != 0 || rows.upperBound > p.rows || depth > p.depth || rows.lowerBound < 0 {
            packedA = nil
        }

        if mPadded * depth * MemoryLayout<T>.stride <= smallABytes {
            // Small A (all of it stays in L2): A packed once (or used in place); then for
            // each block of columns and depth, a kc x nc block of B is packed (row by row
            // where the operand allows, which streams its source) and the micro-kernels
            // sweep every row of A over each B panel while it is in L1.
            let ncSmall = max(nr, smallBBytes / (kcMax * MemoryLayout<T>.stride) / nr * nr)
            let ncBlock = min(ncSmall, (n + nr - 1) / nr * nr)
            let aCount = packedA == nil ? mPadded * depth : 0
            let bCount = kcMax * ncBlock
            let scratch = ThreadScratch.gemm.buffer(bytes: (bCount + aCount + tileCount) * MemoryLayout<T>.stride)
                .bindMemory(to: T.self, capacity: bCount + aCount + tileCount)
            let bBuf = scratch, aBuf = scratch + bCount, tile = scratch + bCount + aCount
            let aBase: UnsafePointer<T>, aStride: Int
            if let p = packedA {
                aBase = UnsafePointer(p.panels + rows.lowerBound / mr * p.depth * mr)
                aStride = p.depth * mr
            } else {
                a.packA(into: aBuf, rows: rows, depth: 0..<depth)
                aBase = UnsafePointer(aBuf)
                aStride = depth * mr
            }
            var jc = 0
            while jc < n {
                let nc = min(ncBlock, n - jc)
                var pc = 0
                while pc < depth {
                    let kcb = min(kcMax, depth - pc)
                    b.packB(into: bBuf, depth: pc..<(pc + kcb), cols: (cols.lowerBound + jc)..<(cols.lowerBound + jc + nc), nr: nr)
                    block(mc: m, nc: nc, kc: kcb, a: aBase + pc * mr, aPanelStride: aStride,
                          b: UnsafePointer(bBuf), bPanelStride: kcb * nr,
                          c: c + jc, ldc: ldc, loadC: accumulate || pc > 0, tile: tile)
                    pc += kcb
                }
                jc += nc
            }
            return
        }

        // General case, blocked like GotoBLAS: a kc x nc block of B packed (fits L2), then
        // mc x kc blocks of A.
        let ncMax = ncBytes / (kcMax * MemoryLayout<T>.stride) / nr * nr
        let ncBlock = min(max(nr, ncMax), (n + nr - 1) / nr * nr)
        let mcBlock = min(mc, mPadded)
        let bCount = kcMax * ncBlock
        let aCount = packedA == nil ? kcMax * mcBlock : 0
        let scratch = ThreadScratch.gemm.buffer(bytes: (bCount + aCount + tileCount) * MemoryLayout<T>.stride)
            .bindMemory(to: T.self, capacity: bCount + aCount + tileCount)
        let bBuf = scratch, aBuf = scratch + bCount, tile = scratch + bCount + aCount

        var jc = 0
        while jc < n {
            let nc = min(ncBlock, n - jc)
            var pc = 0
            while pc < depth {
                let kcb = min(kcMax, depth - pc)
                b.packB(into: bBuf, depth: pc..<(pc + kcb), cols: (cols.lowerBound + jc)..<(cols.lowerBound + jc + nc), nr: nr)
                var ic = 0
                while ic < m {
                    let mcb = min(mcBlock, m - ic)
                    let aPtr: UnsafePointer<T>, aStride: Int
                    if let p = packedA {
                        aPtr = UnsafePointer(p.panels + ((rows.lowerBound + ic) / mr * p.depth * mr + pc * mr))
                        aStride = p.depth * mr
                    } else {
                        a.packA(into: aBuf, rows: (rows.lowerBound + ic)..<(rows.lowerBound + ic + mcb), depth: pc..<(pc + kcb))
                        aPtr = UnsafePointer(aBuf)
                        aStride = kcb * mr
                    }
                    block(mc: mcb, nc: nc, kc: kcb, a: aPtr, aPanelStride: aStride,
                          b: UnsafePointer(bBuf), bPanelStride: kcb * nr,
                          c: c + (ic * ldc + jc), ldc: ldc, loadC: accumulate || pc > 0, tile: tile)
                    ic += mcb
                }
                pc += kcb
            }
            jc += nc
        }
    }

    /// One cache block through the chosen micro-kernel module.
    @inline(__always)
    static func block<T: ConvScalar>(mc: Int, nc: Int, kc: Int, a: UnsafePointer<T>, aPanelStride: Int,
                                     b: UnsafePointer<T>, bPanelStride: Int,
                                     c: UnsafeMutablePointer<T>, ldc: Int, loadC: Bool,
                                     tile: UnsafeMutablePointer<T>) {
        if T.self == Float.self {
            let a = UnsafeRawPointer(a).assumingMemoryBound(to: Float.self)
            let b = UnsafeRawPointer(b).assumingMemoryBound(to: Float.self)
            let c = UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self)
            let tile = UnsafeMutableRawPointer(tile).assumingMemoryBound(to: Float.self)
            switch CPUFeatures.tier {
            case .avx512:
                SwiftConvKernelsAVX512.sgemmBlock(mc: mc, nc: nc, kc: kc, a: a, aPanelStride: aPanelStride, b: b, bPanelStride: bPanelStride,
                                                  c: c, ldc: ldc, loadC: loadC, tile: tile)
            case .avx2:
                SwiftConvKernelsAVX2.sgemmBlock(mc: mc, nc: nc, kc: kc, a: a, aPanelStride: aPanelStride, b: b, bPanelStride: bPanelStride,
                                                c: c, ldc: ldc, loadC: loadC, tile: tile)
            case .baseline:
                SwiftConvKernelsBaseline.sgemmBlock(mc: mc, nc: nc, kc: kc, a: a, aPanelStride: aPanelStride, b: b, bPanelStride: bPanelStride,
                                                    c: c, ldc: ldc, loadC: loadC, tile: tile)
            }
        } else {
            let a = UnsafeRawPointer(a).assumingMemoryBound(to: Double.self)
            let b = UnsafeRawPointer(b).assumingMemoryBound(to: Double.self)
            let c = UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self)
            let tile = UnsafeMutableRawPointer(tile).assumingMemoryBound(to: Double.self)
            switch CPUFeatures.tier {
            case .avx512:
                SwiftConvKernelsAVX512.dgemmBlock(mc: mc, nc: nc, kc: kc, a: a, aPanelStride: aPanelStride, b: b, bPanelStride: bPanelStride,
                                                  c: c, ldc: ldc, loadC: loadC, tile: tile)
            case .avx2:
                SwiftConvKernelsAVX2.dgemmBlock(mc: mc, nc: nc, kc: kc, a: a, aPanelStride: aPanelStride, b: b, bPanelStride: bPanelStride,
                                                c: c, ldc: ldc, loadC: loadC, tile: tile)
            case .baseline:
                SwiftConvKernelsBaseline.dgemmBlock(mc: mc, nc: nc, kc: kc, a: a, aPanelStride: aPanelStride, b: b, bPanelStride: bPanelStride,
                                                    c: c, ldc: ldc, loadC: loadC, tile: tile)
            }
        }
    }

    /// The plain triple loop, for scalar types without micro-kernels.
    static func naive<A: GemmOperand, B: GemmOperand>(
        _ a: A, _ b: B, rows: Range<Int>, cols: Range<Int>, depth: Int,
        c: UnsafeMutablePointer<A.Scalar>, ldc: Int, accumulate: Bool
    ) where A.Scalar == B.Scalar {
        for i in rows {
            let ci = c + (i - rows.lowerBound) * ldc - cols.lowerBound
            for j in cols {
                var acc: A.Scalar = accumulate ? ci[j] : 0
                for p in 0..<depth { acc += a.element(i, p) * b.element(p, j) }
                ci[j] = acc
            }
        }
    }
}
