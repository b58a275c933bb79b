/// Transposing copies for GEMM packing (the weight gradient's B operand, whose packed
/// panels are the transpose of the unfolded input's rows). Compiled three times like
/// MicroKernels.swift (the AVX512 and Baseline targets' files are symlinks): a 16 x 16 Float
/// block (8 x 8 Double) is transposed in registers by repeated perfect unshuffles (each
/// stage keeps the even then the odd elements of vector pairs: vpermt2ps on AVX-512).
/// Only moves values: no arithmetic, so the tier never changes a result's bits. On the
/// AVX-512 tier `transposeRows16F32`'s full blocks go through `sc_transpose16x16_f32`.

import CSwiftConv

/// The even / odd lanes of a then b, lane by lane. The standard library's
/// `SIMD32(lowHalf: a, highHalf: b).evenHalf` made 64 shuffles per 16x16 transpose where
/// these make 88, but the compiler stopped inlining it into the transposes when this
/// morning's kernels were added to the module (whether through Float or UInt32 lanes): 16
/// out-of-line calls each, and grad_weight of a 64->64 3x3 conv on 56x56 took 1.7x as long.
/// Lane by lane always inlines (grad_weight within 1.03-1.04x of the 64-shuffle build).
@inline(__always) private func evenLanes16(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    SIMD16(a[0], a[2], a[4], a[6], a[8], a[10], a[12], a[14], b[0], b[2], b[4], b[6], b[8], b[10], b[12], b[14])
}

@inline(__always) private func oddLanes16(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    SIMD16(a[1], a[3], a[5], a[7], a[9], a[11], a[13], a[15], b[1], b[3], b[5], b[7], b[9], b[11], b[13], b[15])
}

/// dst[u * 16 + r] = src[r * srcStride + u] for r < 16, u < count (16 source rows of `count`
/// elements, `srcStride` apart, into `count` packed rows of 16).
@inline(never)
public func transposeRows16F32(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>,
                               srcStride: Int, count: Int) {
    // Full blocks; the remainder (when count >= 16) as one last block ending at count,
    // overlapping the previous one (a pure copy: rewriting the same values).
    var u = 0
    #if SWIFTCONV_AVX512
    // AVX-512: the C three-stage form (swiftconv_kernels.h), 64 shuffles where the lane picks
    // below make 88; 512->512 3x3 7x7 N1 blocked plain calls 0.985-0.988x (the header has
    // the figures: the packing is bound by its strided weight reads, not the shuffles).
    while u < count && count >= 16 {
        if u &+ 16 > count { u = count &- 16 }
        sc_transpose16x16_f32(dst + u &* 16, src + u, srcStride)
        u &+= 16
    }
    #else
    while u < count && count >= 16 {
        if u &+ 16 > count { u = count &- 16 }
        var v = (
            load16(src, u), load16(src + srcStride, u), load16(src + 2 &* srcStride, u), load16(src + 3 &* srcStride, u),
            load16(src + 4 &* srcStride, u), load16(src + 5 &* srcStride, u), load16(src + 6 &* srcStride, u), load16(src + 7 &* srcStride, u),
            load16(src + 8 &* srcStride, u), load16(src + 9 &* srcStride, u), load16(src + 10 &* srcStride, u), load16(src + 11 &* srcStride, u),
            load16(src + 12 &* srcStride, u), load16(src + 13 &* srcStride, u), load16(src + 14 &* srcStride, u), load16(src + 15 &* srcStride, u))
        for _ in 0..<4 {
            @inline(__always) func e(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { evenLanes16(a, b) }
            @inline(__always) func o(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { oddLanes16(a, b) }
            v = (e(v.0, v.1), e(v.2, v.3), e(v.4, v.5), e(v.6, v.7), e(v.8, v.9), e(v.10, v.11), e(v.12, v.13), e(v.14, v.15),
                 o(v.0, v.1), o(v.2, v.3), o(v.4, v.5), o(v.6, v.7), o(v.8, v.9), o(v.10, v.11), o(v.12, v.13), o(v.14, v.15))
        }
        let d = UnsafeMutableRawPointer(dst + u &* 16)
        d.storeBytes(of: v.0, toByteOffset: 0, as: SIMD16<Float>.self); d.storeBytes(of: v.1, toByteOffset: 64, as: SIMD16<Float>.self)
        d.storeBytes(of: v.2, toByteOffset: 128, as: SIMD16<Float>.self); d.storeBytes(of: v.3, toByteOffset: 192, as: SIMD16<Float>.self)
        d.storeBytes(of: v.4, toByteOffset: 256, as: SIMD16<Float>.self); d.storeBytes(of: v.5, toByteOffset: 320, as: SIMD16<Float>.self)
        d.storeBytes(of: v.6, toByteOffset: 384, as: SIMD16<Float>.self); d.storeBytes(of: v.7, toByteOffset: 448, as: SIMD16<Float>.self)
        d.storeBytes(of: v.8, toByteOffset: 512, as: SIMD16<Float>.self); d.storeBytes(of: v.9, toByteOffset: 576, as: SIMD16<Float>.self)
        d.storeBytes(of: v.10, toByteOffset: 640, as: SIMD16<Float>.self); d.storeBytes(of: v.11, toByteOffset: 704, as: SIMD16<Float>.self)
        d.storeBytes(of: v.12, toByteOffset: 768, as: SIMD16<Float>.self); d.storeBytes(of: v.13, toByteOffset: 832, as: SIMD16<Float>.self)
        d.storeBytes(of: v.14, toByteOffset: 896, as: SIMD16<Float>.self); d.storeBytes(of: v.15, toByteOffset: 960, as: SIMD16<Float>.self)
        u &+= 16
    }
    #endif
    while u < count {
        let o = dst + u &* 16
        for r in 0..<16 { o[r] = src[r &* srcStride &+ u] }
        u &+= 1
    }
}

/// dst[u * 8 + r] = src[r * srcStride + u] for r < 8, u < count.
@inline(never)
public func transposeRows8F64(_ dst: UnsafeMutablePointer<Double>, _ src: UnsafePointer<Double>,
                              srcStride: Int, count: Int) {
    // Full blocks; the remainder (when count >= 8) as one last block ending at count,
    // overlapping the previous one (a pure copy: rewriting the same values).
    var u = 0
    while u < count && count >= 8 {
        if u &+ 8 > count { u = count &- 8 }
        var v = (
            load8(src, u), load8(src + srcStride, u), load8(src + 2 &* srcStride, u), load8(src + 3 &* srcStride, u),
            load8(src + 4 &* srcStride, u), load8(src + 5 &* srcStride, u), load8(src + 6 &* srcStride, u), load8(src + 7 &* srcStride, u))
        for _ in 0..<3 {
            @inline(__always) func e(_ a: SIMD8<Double>, _ b: SIMD8<Double>) -> SIMD8<Double> { SIMD16(lowHalf: a, highHalf: b).evenHalf }
            @inline(__always) func o(_ a: SIMD8<Double>, _ b: SIMD8<Double>) -> SIMD8<Double> { SIMD16(lowHalf: a, highHalf: b).oddHalf }
            v = (e(v.0, v.1), e(v.2, v.3), e(v.4, v.5), e(v.6, v.7), o(v.0, v.1), o(v.2, v.3), o(v.4, v.5), o(v.6, v.7))
        }
        let d = UnsafeMutableRawPointer(dst + u &* 8)
        d.storeBytes(of: v.0, toByteOffset: 0, as: SIMD8<Double>.self); d.storeBytes(of: v.1, toByteOffset: 64, as: SIMD8<Double>.self)
        d.storeBytes(of: v.2, toByteOffset: 128, as: SIMD8<Double>.self); d.storeBytes(of: v.3, toByteOffset: 192, as: SIMD8<Double>.self)
        d.storeBytes(of: v.4, toByteOffset: 256, as: SIMD8<Double>.self); d.storeBytes(of: v.5, toByteOffset: 320, as: SIMD8<Double>.self)
        d.storeBytes(of: v.6, toByteOffset: 384, as: SIMD8<Double>.self); d.storeBytes(of: v.7, toByteOffset: 448, as: SIMD8<Double>.self)
        u &+= 8
    }
    while u < count {
        let o = dst + u &* 8
        for r in 0..<8 { o[r] = src[r &* srcStride &+ u] }
        u &+= 1
    }
}

@inline(__always)
private func load16(_ p: UnsafePointer<Float>, _ u: Int) -> SIMD16<Float> {
    UnsafeRawPointer(p + u).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
private func load8(_ p: UnsafePointer<Double>, _ u: Int) -> SIMD8<Double> {
    UnsafeRawPointer(p + u).loadUnaligned(as: SIMD8<Double>.self)
}

/// dst[u * 16 + r] = rows[r][u] for r < 16, u < count (16 source rows given by pointers).
@inline(never)
public func transposePointers16F32(_ dst: UnsafeMutablePointer<Float>, _ rows: UnsafePointer<UnsafePointer<Float>>,
                                   count: Int) {
    let r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3], r4 = rows[4], r5 = rows[5], r6 = rows[6], r7 = rows[7]
    let r8 = rows[8], r9 = rows[9], r10 = rows[10], r11 = rows[11], r12 = rows[12], r13 = rows[13], r14 = rows[14], r15 = rows[15]
    // Full blocks; the remainder (when count >= 16) as one last block ending at count,
    // overlapping the previous one (a pure copy: rewriting the same values).
    var u = 0
    while u < count && count >= 16 {
        if u &+ 16 > count { u = count &- 16 }
        var v = (load16(r0, u), load16(r1, u), load16(r2, u), load16(r3, u), load16(r4, u), load16(r5, u), load16(r6, u), load16(r7, u),
                 load16(r8, u), load16(r9, u), load16(r10, u), load16(r11, u), load16(r12, u), load16(r13, u), load16(r14, u), load16(r15, u))
        for _ in 0..<4 {
            @inline(__always) func e(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { evenLanes16(a, b) }
            @inline(__always) func o(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { oddLanes16(a, b) }
            v = (e(v.0, v.1), e(v.2, v.3), e(v.4, v.5), e(v.6, v.7), e(v.8, v.9), e(v.10, v.11), e(v.12, v.13), e(v.14, v.15),
                 o(v.0, v.1), o(v.2, v.3), o(v.4, v.5), o(v.6, v.7), o(v.8, v.9), o(v.10, v.11), o(v.12, v.13), o(v.14, v.15))
        }
        let d = UnsafeMutableRawPointer(dst + u &* 16)
        d.storeBytes(of: v.0, toByteOffset: 0, as: SIMD16<Float>.self); d.storeBytes(of: v.1, toByteOffset: 64, as: SIMD16<Float>.self)
        d.storeBytes(of: v.2, toByteOffset: 128, as: SIMD16<Float>.self); d.storeBytes(of: v.3, toByteOffset: 192, as: SIMD16<Float>.self)
        d.storeBytes(of: v.4, toByteOffset: 256, as: SIMD16<Float>.self); d.storeBytes(of: v.5, toByteOffset: 320, as: SIMD16<Float>.self)
        d.storeBytes(of: v.6, toByteOffset: 384, as: SIMD16<Float>.self); d.storeBytes(of: v.7, toByteOffset: 448, as: SIMD16<Float>.self)
        d.storeBytes(of: v.8, toByteOffset: 512, as: SIMD16<Float>.self); d.storeBytes(of: v.9, toByteOffset: 576, as: SIMD16<Float>.self)
        d.storeBytes(of: v.10, toByteOffset: 640, as: SIMD16<Float>.self); d.storeBytes(of: v.11, toByteOffset: 704, as: SIMD16<Float>.self)
        d.storeBytes(of: v.12, toByteOffset: 768, as: SIMD16<Float>.self); d.storeBytes(of: v.13, toByteOffset: 832, as: SIMD16<Float>.self)
        d.storeBytes(of: v.14, toByteOffset: 896, as: SIMD16<Float>.self); d.storeBytes(of: v.15, toByteOffset: 960, as: SIMD16<Float>.self)
        u &+= 16
    }
    while u < count {
        let o = dst + u &* 16
        for r in 0..<16 { o[r] = rows[r][u] }
        u &+= 1
    }
}
