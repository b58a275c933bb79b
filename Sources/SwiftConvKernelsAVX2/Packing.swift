/// Packing routines of the GEMM (the producers of the panels the micro-kernels read; the
/// loops over the operands stay in SwiftConv.Gemm, which calls these for the hot inner
/// copies). Compiled three times like MicroKernels.swift (the AVX512 and Baseline targets'
/// files are symlinks), so a 64-byte panel row is one zmm move on AVX-512 CPUs and two ymm
/// moves on AVX2 ones, instead of four xmm moves in SwiftConv's baseline build. Everything
/// here is concrete (raw pointers, Float / Double) and only the `@inline(never)` functions
/// are entry points. Packing only moves values: no arithmetic, so nothing here can change
/// a result's bits.

/// Copies `bytes` (a multiple of 4, 4...64) from src to dst with at most two (overlapping)
/// vector moves, reading and writing nothing outside the two spans.
@inline(__always)
private func copySpan(_ dst: UnsafeMutableRawPointer, _ src: UnsafeRawPointer, _ bytes: Int) {
    if bytes == 64 {
        dst.storeBytes(of: src.loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
    } else if bytes >= 32 {
        let a = src.loadUnaligned(as: SIMD8<Float>.self)
        let b = src.loadUnaligned(fromByteOffset: bytes &- 32, as: SIMD8<Float>.self)
        dst.storeBytes(of: a, as: SIMD8<Float>.self)
        dst.storeBytes(of: b, toByteOffset: bytes &- 32, as: SIMD8<Float>.self)
    } else if bytes >= 16 {
        let a = src.loadUnaligned(as: SIMD4<Float>.self)
        let b = src.loadUnaligned(fromByteOffset: bytes &- 16, as: SIMD4<Float>.self)
        dst.storeBytes(of: a, as: SIMD4<Float>.self)
        dst.storeBytes(of: b, toByteOffset: bytes &- 16, as: SIMD4<Float>.self)
    } else if bytes >= 8 {
        let a = src.loadUnaligned(as: UInt64.self)
        let b = src.loadUnaligned(fromByteOffset: bytes &- 8, as: UInt64.self)
        dst.storeBytes(of: a, as: UInt64.self)
        dst.storeBytes(of: b, toByteOffset: bytes &- 8, as: UInt64.self)
    } else if bytes >= 4 {
        dst.storeBytes(of: src.loadUnaligned(as: UInt32.self), as: UInt32.self)
    }
}

/// Zeroes `bytes` (a multiple of 4, 0...64) at dst (overlapping stores, as `copySpan`).
@inline(__always)
private func zeroSpan(_ dst: UnsafeMutableRawPointer, _ bytes: Int) {
    if bytes == 64 {
        dst.storeBytes(of: SIMD16<Float>(), as: SIMD16<Float>.self)
    } else if bytes >= 32 {
        dst.storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self)
        dst.storeBytes(of: SIMD8<Float>(), toByteOffset: bytes &- 32, as: SIMD8<Float>.self)
    } else if bytes >= 16 {
        dst.storeBytes(of: SIMD4<Float>(), as: SIMD4<Float>.self)
        dst.storeBytes(of: SIMD4<Float>(), toByteOffset: bytes &- 16, as: SIMD4<Float>.self)
    } else if bytes >= 8 {
        dst.storeBytes(of: UInt64(0), as: UInt64.self)
        dst.storeBytes(of: UInt64(0), toByteOffset: bytes &- 8, as: UInt64.self)
    } else if bytes >= 4 {
        dst.storeBytes(of: UInt32(0), as: UInt32.self)
    }
}

/// Panel rows p = 0 ..< count: the 64 bytes at base + offsets[p] << elementShift go to
/// dst + 64 p (implicit im2col, unit stride: one copy per packed row).
@inline(never)
public func packRowsGather64(_ dst: UnsafeMutableRawPointer, _ base: UnsafeRawPointer,
                             _ offsets: UnsafePointer<Int>, count: Int, elementShift: Int) {
    for p in 0..<count {
        let v = (base + (offsets[p] &<< elementShift)).loadUnaligned(as: SIMD16<Float>.self)
        (dst + (p &<< 6)).storeBytes(of: v, as: SIMD16<Float>.self)
    }
}

/// `count` rows of 64 bytes: src + q * srcStride to dst + q * dstStride (strides in bytes).
@inline(never)
public func packRowsStrided64(_ dst: UnsafeMutableRawPointer, dstStride: Int, _ src: UnsafeRawPointer,
                              srcStride: Int, count: Int) {
    for q in 0..<count {
        let v = (src + q &* srcStride).loadUnaligned(as: SIMD16<Float>.self)
        (dst + q &* dstStride).storeBytes(of: v, as: SIMD16<Float>.self)
    }
}

/// As `packRowsGather64`, keeping every other element of the 128 bytes at each source
/// (stride-2 convolutions); with `odd`, every other element of the 128 bytes one element
/// before each source, from the second (reads nothing past the last element kept).
@inline(never)
public func packRowsGatherStride2F32(_ dst: UnsafeMutablePointer<Float>, _ base: UnsafePointer<Float>,
                                     _ offsets: UnsafePointer<Int>, count: Int, odd: Bool) {
    if odd {
        // From one element earlier, keeping the odd lanes: the last needed element is the
        // last one read (a panel at the right edge of the input).
        for p in 0..<count {
            let s = UnsafeRawPointer(base + (offsets[p] &- 1))
            let v0 = s.loadUnaligned(as: SIMD16<Float>.self), v1 = s.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(dst + p &* 16).storeBytes(of: SIMD16(lowHalf: v0.oddHalf, highHalf: v1.oddHalf), as: SIMD16<Float>.self)
        }
        return
    }
    for p in 0..<count {
        let s = UnsafeRawPointer(base + offsets[p])
        let v0 = s.loadUnaligned(as: SIMD16<Float>.self), v1 = s.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
        UnsafeMutableRawPointer(dst + p &* 16).storeBytes(of: SIMD16(lowHalf: v0.evenHalf, highHalf: v1.evenHalf), as: SIMD16<Float>.self)
    }
}

@inline(never)
public func packRowsGatherStride2F64(_ dst: UnsafeMutablePointer<Double>, _ base: UnsafePointer<Double>,
                                     _ offsets: UnsafePointer<Int>, count: Int, odd: Bool) {
    if odd {
        // From one element earlier, keeping the odd lanes: the last needed element is the
        // last one read (a panel at the right edge of the input).
        for p in 0..<count {
            let s = UnsafeRawPointer(base + (offsets[p] &- 1))
            let v0 = s.loadUnaligned(as: SIMD8<Double>.self), v1 = s.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self)
            UnsafeMutableRawPointer(dst + p &* 8).storeBytes(of: SIMD8(lowHalf: v0.oddHalf, highHalf: v1.oddHalf), as: SIMD8<Double>.self)
        }
        return
    }
    for p in 0..<count {
        let s = UnsafeRawPointer(base + offsets[p])
        let v0 = s.loadUnaligned(as: SIMD8<Double>.self), v1 = s.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self)
        UnsafeMutableRawPointer(dst + p &* 8).storeBytes(of: SIMD8(lowHalf: v0.evenHalf, highHalf: v1.evenHalf), as: SIMD8<Double>.self)
    }
}

/// Panel rows p = 0 ..< count made of contiguous segments (a panel that wraps to the next
/// output row): segment s (segs[3s ..< 3s + 3] = source offset in elements, destination
/// byte, bytes) of row p is copied from base + (offsets[p] + segs[3s]) << elementShift; the
/// bytes from `filledBytes` to 64 are zeroed.
@inline(never)
public func packRowsSegments64(_ dst: UnsafeMutableRawPointer, _ base: UnsafeRawPointer,
                               _ offsets: UnsafePointer<Int>, count: Int, elementShift: Int,
                               _ segs: UnsafePointer<Int>, segCount: Int, filledBytes: Int) {
    for p in 0..<count {
        let out = dst + (p &<< 6), o = offsets[p]
        for s in 0..<segCount {
            let seg = segs + 3 &* s
            copySpan(out + seg[1], base + ((o &+ seg[0]) &<< elementShift), seg[2])
        }
        if filledBytes < 64 { zeroSpan(out + filledBytes, 64 &- filledBytes) }
    }
}

/// One panel row of `bytes` (a multiple of 4, at most 64) from src at dst (the clipped rows
/// of the unfolded input's border path).
@inline(never)
public func packSpan(_ dst: UnsafeMutableRawPointer, _ src: UnsafeRawPointer, bytes: Int) {
    copySpan(dst, src, bytes)
}

/// A(6 x kc) from six row streams (row i at src + i * rowStride, unit column stride) into
/// one packed A panel: A(i, p) at dst[p * 6 + i].
@inline(never)
public func packA6F32(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, rowStride: Int, count kc: Int) {
    let s0 = src, s1 = src + rowStride, s2 = src + 2 &* rowStride
    let s3 = src + 3 &* rowStride, s4 = src + 4 &* rowStride, s5 = src + 5 &* rowStride
    var p = 0
#if SWIFTCONV_AVX512
    // 16 columns at a time in 18 two-source shuffles (where building each output from its
    // six rows at once took ~4x as many instructions): the rows zipped in pairs, (0, 1),
    // (2, 3), (4, 5), then each 64-byte output picks its 8 pairs from the three zips.
    while p &+ 16 <= kc {
        let r0 = UnsafeRawPointer(s0 + p).loadUnaligned(as: SIMD16<Float>.self), r1 = UnsafeRawPointer(s1 + p).loadUnaligned(as: SIMD16<Float>.self)
        let r2 = UnsafeRawPointer(s2 + p).loadUnaligned(as: SIMD16<Float>.self), r3 = UnsafeRawPointer(s3 + p).loadUnaligned(as: SIMD16<Float>.self)
        let r4 = UnsafeRawPointer(s4 + p).loadUnaligned(as: SIMD16<Float>.self), r5 = UnsafeRawPointer(s5 + p).loadUnaligned(as: SIMD16<Float>.self)
        let d = UnsafeMutableRawPointer(dst + p &* 6)
        storeSixPanelRows(d, zipLow(r0, r1), zipLow(r2, r3), zipLow(r4, r5))
        storeSixPanelRows(d + 192, zipHigh(r0, r1), zipHigh(r2, r3), zipHigh(r4, r5))
        p &+= 16
    }
#endif
#if SWIFTCONV_FMA
    typealias V = SIMD8<Float>
    // 8 columns at a time: six row vectors, transposed into six packed vectors.
    while p &+ 8 <= kc {
        let r0 = UnsafeRawPointer(s0 + p).loadUnaligned(as: V.self), r1 = UnsafeRawPointer(s1 + p).loadUnaligned(as: V.self)
        let r2 = UnsafeRawPointer(s2 + p).loadUnaligned(as: V.self), r3 = UnsafeRawPointer(s3 + p).loadUnaligned(as: V.self)
        let r4 = UnsafeRawPointer(s4 + p).loadUnaligned(as: V.self), r5 = UnsafeRawPointer(s5 + p).loadUnaligned(as: V.self)
        let o0 = V(r0[0], r1[0], r2[0], r3[0], r4[0], r5[0], r0[1], r1[1])
        let o1 = V(r2[1], r3[1], r4[1], r5[1], r0[2], r1[2], r2[2], r3[2])
        let o2 = V(r4[2], r5[2], r0[3], r1[3], r2[3], r3[3], r4[3], r5[3])
        let o3 = V(r0[4], r1[4], r2[4], r3[4], r4[4], r5[4], r0[5], r1[5])
        let o4 = V(r2[5], r3[5], r4[5], r5[5], r0[6], r1[6], r2[6], r3[6])
        let o5 = V(r4[6], r5[6], r0[7], r1[7], r2[7], r3[7], r4[7], r5[7])
        let d = UnsafeMutableRawPointer(dst + p &* 6)
        d.storeBytes(of: o0, as: V.self); d.storeBytes(of: o1, toByteOffset: 32, as: V.self)
        d.storeBytes(of: o2, toByteOffset: 64, as: V.self); d.storeBytes(of: o3, toByteOffset: 96, as: V.self)
        d.storeBytes(of: o4, toByteOffset: 128, as: V.self); d.storeBytes(of: o5, toByteOffset: 160, as: V.self)
        p &+= 8
    }
#endif
    while p < kc {
        let o = p &* 6
        dst[o] = s0[p]; dst[o &+ 1] = s1[p]; dst[o &+ 2] = s2[p]
        dst[o &+ 3] = s3[p]; dst[o &+ 4] = s4[p]; dst[o &+ 5] = s5[p]
        p &+= 1
    }
}

#if SWIFTCONV_AVX512
/// Columns 0 ..< 8 of rows a and b as 8 pairs (a[k], b[k]), one 64-bit lane each.
@inline(__always)
private func zipLow(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD8<UInt64> {
    unsafeBitCast(SIMD16<Float>(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7]),
                  to: SIMD8<UInt64>.self)
}

/// Columns 8 ..< 16 of rows a and b as 8 pairs (a[k], b[k]).
@inline(__always)
private func zipHigh(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD8<UInt64> {
    unsafeBitCast(SIMD16<Float>(a[8], b[8], a[9], b[9], a[10], b[10], a[11], b[11], a[12], b[12], a[13], b[13], a[14], b[14], a[15], b[15]),
                  to: SIMD8<UInt64>.self)
}

/// Eight columns k of a 6-row panel (96 Floats at dst: pairs x[k], y[k], z[k] for k = 0 ..< 8,
/// where x, y, z are rows (0, 1), (2, 3), (4, 5) zipped), each 64-byte store from two
/// shuffles of two sources (the filler lanes of the first are replaced by the second).
@inline(__always)
private func storeSixPanelRows(_ dst: UnsafeMutableRawPointer, _ x: SIMD8<UInt64>, _ y: SIMD8<UInt64>, _ z: SIMD8<UInt64>) {
    typealias Q = SIMD8<UInt64>
    // x0 y0 z0 x1 y1 z1 x2 y2
    let t0 = Q(x[0], y[0], x[0], x[1], y[1], x[1], x[2], y[2])
    dst.storeBytes(of: Q(t0[0], t0[1], z[0], t0[3], t0[4], z[1], t0[6], t0[7]), as: Q.self)
    // z2 x3 y3 z3 x4 y4 z4 x5
    let t1 = Q(x[3], x[3], y[3], x[3], x[4], y[4], x[4], x[5])
    dst.storeBytes(of: Q(z[2], t1[1], t1[2], z[3], t1[4], t1[5], z[4], t1[7]), toByteOffset: 64, as: Q.self)
    // y5 z5 x6 y6 z6 x7 y7 z7
    let t2 = Q(y[5], y[5], x[6], y[6], y[6], x[7], y[7], y[7])
    dst.storeBytes(of: Q(t2[0], z[5], t2[2], t2[3], z[6], t2[5], t2[6], z[7]), toByteOffset: 128, as: Q.self)
}
#endif

@inline(never)
public func packA6F64(_ dst: UnsafeMutablePointer<Double>, _ src: UnsafePointer<Double>, rowStride: Int, count kc: Int) {
    let s0 = src, s1 = src + rowStride, s2 = src + 2 &* rowStride
    let s3 = src + 3 &* rowStride, s4 = src + 4 &* rowStride, s5 = src + 5 &* rowStride
    var p = 0
#if SWIFTCONV_FMA
    typealias V = SIMD4<Double>
    while p &+ 4 <= kc {
        let r0 = UnsafeRawPointer(s0 + p).loadUnaligned(as: V.self), r1 = UnsafeRawPointer(s1 + p).loadUnaligned(as: V.self)
        let r2 = UnsafeRawPointer(s2 + p).loadUnaligned(as: V.self), r3 = UnsafeRawPointer(s3 + p).loadUnaligned(as: V.self)
        let r4 = UnsafeRawPointer(s4 + p).loadUnaligned(as: V.self), r5 = UnsafeRawPointer(s5 + p).loadUnaligned(as: V.self)
        let o0 = V(r0[0], r1[0], r2[0], r3[0])
        let o1 = V(r4[0], r5[0], r0[1], r1[1])
        let o2 = V(r2[1], r3[1], r4[1], r5[1])
        let o3 = V(r0[2], r1[2], r2[2], r3[2])
        let o4 = V(r4[2], r5[2], r0[3], r1[3])
        let o5 = V(r2[3], r3[3], r4[3], r5[3])
        let d = UnsafeMutableRawPointer(dst + p &* 6)
        d.storeBytes(of: o0, as: V.self); d.storeBytes(of: o1, toByteOffset: 32, as: V.self)
        d.storeBytes(of: o2, toByteOffset: 64, as: V.self); d.storeBytes(of: o3, toByteOffset: 96, as: V.self)
        d.storeBytes(of: o4, toByteOffset: 128, as: V.self); d.storeBytes(of: o5, toByteOffset: 160, as: V.self)
        p &+= 4
    }
#endif
    while p < kc {
        let o = p &* 6
        dst[o] = s0[p]; dst[o &+ 1] = s1[p]; dst[o &+ 2] = s2[p]
        dst[o &+ 3] = s3[p]; dst[o &+ 4] = s4[p]; dst[o &+ 5] = s5[p]
        p &+= 1
    }
}
