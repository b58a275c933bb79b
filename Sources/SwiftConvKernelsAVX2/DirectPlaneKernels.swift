/// The direct (sliding-window) kernel for one (input plane, output plane) pair:
/// y[oh, ow] += sum over taps (kh, kw) of w[kh, kw] * x[oh*sH - padTop + kh*dH, ow*sW - padLeft + kw*dW],
/// taps that fall outside x skipped. Used for depthwise convolution and the "direct" algorithm.
///
/// Like MicroKernels.swift this file is compiled twice (x86-64-v3 and baseline; the baseline
/// target holds a symlink), so the SIMD loops get ymm FMAs where the CPU has them. Each output
/// element sums its taps in (kh, kw) order, starting from the value already in y, in every
/// code path, so the SIMD interior and the scalar edges agree with each other bit for bit.

import CSwiftConv

/// Plain-Swift view of sc_plane_geometry (declared in C so both compiled copies of this file
/// share one type).
private struct PlaneGeometry {
    let inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int
    let kernelHeight: Int, kernelWidth: Int
    let strideH: Int, strideW: Int, dilationH: Int, dilationW: Int
    let padTop: Int, padLeft: Int

    @inline(__always) init(_ g: sc_plane_geometry) {
        inHeight = Int(g.in_height); inWidth = Int(g.in_width)
        outHeight = Int(g.out_height); outWidth = Int(g.out_width)
        kernelHeight = Int(g.kernel_height); kernelWidth = Int(g.kernel_width)
        strideH = Int(g.stride_h); strideW = Int(g.stride_w)
        dilationH = Int(g.dilation_h); dilationW = Int(g.dilation_w)
        padTop = Int(g.pad_top); padLeft = Int(g.pad_left)
    }
}

@inline(__always)
private func fmadd<T: BinaryFloatingPoint & SIMDScalar>(_ acc: SIMD8<T>, _ a: SIMD8<T>, _ b: SIMD8<T>) -> SIMD8<T> {
#if SWIFTCONV_FMA || arch(arm64)
    return acc.addingProduct(a, b)
#else
    return acc + a * b
#endif
}

@inline(__always)
private func fmadd<T: BinaryFloatingPoint>(_ acc: T, _ a: T, _ b: T) -> T {
#if SWIFTCONV_FMA || arch(arm64)
    return acc.addingProduct(a, b)
#else
    return acc + a * b
#endif
}

/// The outputs o in 0..<outSize whose input index o*stride + offset lies in 0..<inSize.
@inline(__always)
private func validOutputs(offset: Int, stride: Int, inSize: Int, outSize: Int) -> Range<Int> {
    let lo = offset >= 0 ? 0 : (-offset &+ stride &- 1) / stride
    let hiIndex = inSize &- 1 &- offset
    if hiIndex < 0 { return 0..<0 }
    let hi = min(outSize, hiIndex / stride &+ 1)
    return lo < hi ? lo..<hi : 0..<0
}

@inline(__always)
private func load<T: SIMDScalar>(_ p: UnsafePointer<T>) -> SIMD8<T> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<T>.self)
}

@inline(__always)
private func store<T: SIMDScalar>(_ v: SIMD8<T>, _ p: UnsafeMutablePointer<T>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<T>.self)
}

@inline(__always)
private func accumulatePlane<T: BinaryFloatingPoint & SIMDScalar>(
    _ g: PlaneGeometry, _ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>
) {
    let kH = g.kernelHeight, kW = g.kernelWidth, outW = g.outWidth
    // Columns where every kw tap is inside x: the SIMD interior (stride 1 only).
    var interior = 0..<0
    if g.strideW == 1 {
        let first = validOutputs(offset: -g.padLeft, stride: 1, inSize: g.inWidth, outSize: outW)
        let last = validOutputs(offset: (kW &- 1) &* g.dilationW &- g.padLeft, stride: 1, inSize: g.inWidth, outSize: outW)
        let lo = max(first.lowerBound, last.lowerBound), hi = min(first.upperBound, last.upperBound)
        if hi &- lo >= 8 { interior = lo..<hi }
    }
    // For the scalar columns: the kw taps inside x, computed once per column.
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 &* max(outW, 1)) { kwRange in
        for ow in 0..<outW {
            let iwBase = ow &* g.strideW &- g.padLeft
            var lo = 0, hi = kW
            while lo < kW && iwBase &+ lo &* g.dilationW < 0 { lo &+= 1 }
            while hi > lo && iwBase &+ (hi &- 1) &* g.dilationW >= g.inWidth { hi &-= 1 }
            kwRange[2 &* ow] = lo
            kwRange[2 &* ow &+ 1] = hi
        }
        for oh in 0..<g.outHeight {
            let yRow = y + oh &* outW
            let ihBase = oh &* g.strideH &- g.padTop
            // kh taps whose row is inside x.
            var lo = 0, hi = kH
            while lo < kH && ihBase &+ lo &* g.dilationH < 0 { lo &+= 1 }
            while hi > lo && ihBase &+ (hi &- 1) &* g.dilationH >= g.inHeight { hi &-= 1 }
            if lo >= hi { continue }
            let khLo = lo, khHi = hi  // constants, so the nested functions capture no boxes

            @inline(__always) func column(_ ow: Int) {
                let iwBase = ow &* g.strideW &- g.padLeft
                let kwLo = kwRange[2 &* ow], kwHi = kwRange[2 &* ow &+ 1]
                var acc = yRow[ow]
                for kh in khLo..<khHi {
                    let xRow = x + ((ihBase &+ kh &* g.dilationH) &* g.inWidth &+ iwBase)
                    let wRow = w + kh &* kW
                    for kw in kwLo..<kwHi { acc = fmadd(acc, wRow[kw], xRow[kw &* g.dilationW]) }
                }
                yRow[ow] = acc
            }
            /// Interior outputs [s0, s0+8), [s1, s1+8), [s2, s2+8), [s3, s3+8) in four independent
            /// accumulators (one alone would wait on FMA latency). All are loaded from y before any
            /// is stored, so overlapping blocks compute, and store, the very same values.
            @inline(__always) func block4(_ s0: Int, _ s1: Int, _ s2: Int, _ s3: Int) {
                var a0 = load(yRow + s0), a1 = load(yRow + s1), a2 = load(yRow + s2), a3 = load(yRow + s3)
                for kh in khLo..<khHi {
                    let xRow = x + ((ihBase &+ kh &* g.dilationH) &* g.inWidth &- g.padLeft)
                    let wRow = w + kh &* kW
                    for kw in 0..<kW {
                        let p = xRow + kw &* g.dilationW
                        let wv = SIMD8<T>(repeating: wRow[kw])
                        a0 = fmadd(a0, wv, load(p + s0))
                        a1 = fmadd(a1, wv, load(p + s1))
                        a2 = fmadd(a2, wv, load(p + s2))
                        a3 = fmadd(a3, wv, load(p + s3))
                    }
                }
                store(a0, yRow + s0); store(a1, yRow + s1); store(a2, yRow + s2); store(a3, yRow + s3)
            }

            var ow = 0
            while ow < interior.lowerBound { column(ow); ow &+= 1 }
            if !interior.isEmpty {
                let hi = interior.upperBound
                while ow &+ 32 <= hi {
                    block4(ow, ow &+ 8, ow &+ 16, ow &+ 24)
                    ow &+= 32
                }
                if ow < hi {
                    // The rest (< 32 outputs) as four blocks clamped to end at hi.
                    let last = hi &- 8
                    block4(min(ow, last), min(ow &+ 8, last), min(ow &+ 16, last), last)
                    ow = hi
                }
            }
            while ow < outW { column(ow); ow &+= 1 }
        }
    }
}

/// dw[kh, kw] += sum over outputs (oh, ow) of dy[oh, ow] * x[oh*sH - padTop + kh*dH, ow*sW - padLeft + kw*dW]:
/// the weight gradient of one (input plane, output plane) pair. Per tap, the valid output
/// rectangle is summed row by row in 8 SIMD lanes (stride 1) and reduced in a fixed order.
@inline(__always)
private func accumulateWeightGradient<T: BinaryFloatingPoint & SIMDScalar>(
    _ g: PlaneGeometry, _ x: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dw: UnsafeMutablePointer<T>
) {
    for kh in 0..<g.kernelHeight {
        let rowOffset = kh &* g.dilationH &- g.padTop
        let rows = validOutputs(offset: rowOffset, stride: g.strideH, inSize: g.inHeight, outSize: g.outHeight)
        for kw in 0..<g.kernelWidth {
            let colOffset = kw &* g.dilationW &- g.padLeft
            let cols = validOutputs(offset: colOffset, stride: g.strideW, inSize: g.inWidth, outSize: g.outWidth)
            if rows.isEmpty || cols.isEmpty { continue }
            var lanes0 = SIMD8<T>(), lanes1 = SIMD8<T>()
            var scalar: T = 0
            for oh in rows {
                let dyRow = dy + oh &* g.outWidth
                let xRow = x + ((oh &* g.strideH &+ rowOffset) &* g.inWidth &+ colOffset)
                var ow = cols.lowerBound
                if g.strideW == 1 {
                    while ow &+ 16 <= cols.upperBound {
                        lanes0 = fmadd(lanes0, load(dyRow + ow), load(xRow + ow))
                        lanes1 = fmadd(lanes1, load(dyRow + (ow &+ 8)), load(xRow + (ow &+ 8)))
                        ow &+= 16
                    }
                    while ow &+ 8 <= cols.upperBound {
                        lanes0 = fmadd(lanes0, load(dyRow + ow), load(xRow + ow))
                        ow &+= 8
                    }
                }
                while ow < cols.upperBound {
                    scalar = fmadd(scalar, dyRow[ow], xRow[ow &* g.strideW])
                    ow &+= 1
                }
            }
            let lanes = lanes0 + lanes1
            var total = scalar
            for i in 0..<8 { total += lanes[i] }
            dw[kh &* g.kernelWidth &+ kw] += total
        }
    }
}

/// dw += the weight gradient of one float32 (x plane, dy plane) pair.
@inline(never)
public func directWeightGradientPlaneF32(_ g: sc_plane_geometry, _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                         _ dw: UnsafeMutablePointer<Float>) {
    accumulateWeightGradient(PlaneGeometry(g), x, dy, dw)
}

/// dw += the weight gradient of one float64 (x plane, dy plane) pair.
@inline(never)
public func directWeightGradientPlaneF64(_ g: sc_plane_geometry, _ x: UnsafePointer<Double>, _ dy: UnsafePointer<Double>,
                                         _ dw: UnsafeMutablePointer<Double>) {
    accumulateWeightGradient(PlaneGeometry(g), x, dy, dw)
}

/// y += conv(x, w) for one float32 plane pair.
@inline(never)
public func directAccumulatePlaneF32(_ g: sc_plane_geometry, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                     _ y: UnsafeMutablePointer<Float>) {
    accumulatePlane(PlaneGeometry(g), x, w, y)
}

/// y += conv(x, w) for one float64 plane pair.
@inline(never)
public func directAccumulatePlaneF64(_ g: sc_plane_geometry, _ x: UnsafePointer<Double>, _ w: UnsafePointer<Double>,
                                     _ y: UnsafeMutablePointer<Double>) {
    accumulatePlane(PlaneGeometry(g), x, w, y)
}
