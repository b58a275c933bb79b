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
private func load<V: SIMD>(_ p: UnsafePointer<V.Scalar>, as: V.Type) -> V {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always)
private func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
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
                if hi &- ow >= 8 {
                    // The rest (8 to 31 outputs) as four blocks clamped to end at hi. They may
                    // overlap each other (all load y before any stores) but not the blocks
                    // already stored; fewer than 8 left go to the scalar columns below.
                    let last = hi &- 8
                    block4(ow, min(ow &+ 8, last), min(ow &+ 16, last), last)
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
    let p = PlaneGeometry(g)
    if isUnitStride3x3(p) { weightGradient3x3(p, x, dy, dw) } else { accumulateWeightGradient(p, x, dy, dw) }
}

/// dw += the weight gradient of one float64 (x plane, dy plane) pair.
@inline(never)
public func directWeightGradientPlaneF64(_ g: sc_plane_geometry, _ x: UnsafePointer<Double>, _ dy: UnsafePointer<Double>,
                                         _ dw: UnsafeMutablePointer<Double>) {
    let p = PlaneGeometry(g)
    if isUnitStride3x3(p) { weightGradient3x3(p, x, dy, dw) } else { accumulateWeightGradient(p, x, dy, dw) }
}

/// y += conv(x, w) for one float32 plane pair.
@inline(never)
public func directAccumulatePlaneF32(_ g: sc_plane_geometry, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                     _ y: UnsafeMutablePointer<Float>) {
    let p = PlaneGeometry(g)
    if isUnitStride3x3(p) { accumulatePlane3x3(p, x, w, y) } else { accumulatePlane(p, x, w, y) }
}

/// y = initial + conv(x, w) for one float32 plane pair (y's old contents are not read).
@inline(never)
public func directPlaneF32(_ g: sc_plane_geometry, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                           _ y: UnsafeMutablePointer<Float>, initial: Float) {
    let p = PlaneGeometry(g)
    if isUnitStride3x3(p) {
        accumulatePlane3x3(p, x, w, y, initial: initial)
    } else {
        y.update(repeating: initial, count: p.outHeight &* p.outWidth)
        accumulatePlane(p, x, w, y)
    }
}

/// y = initial + conv(x, w) for one float64 plane pair (y's old contents are not read).
@inline(never)
public func directPlaneF64(_ g: sc_plane_geometry, _ x: UnsafePointer<Double>, _ w: UnsafePointer<Double>,
                           _ y: UnsafeMutablePointer<Double>, initial: Double) {
    let p = PlaneGeometry(g)
    if isUnitStride3x3(p) {
        accumulatePlane3x3(p, x, w, y, initial: initial)
    } else {
        y.update(repeating: initial, count: p.outHeight &* p.outWidth)
        accumulatePlane(p, x, w, y)
    }
}

/// y += conv(x, w) for one float64 plane pair.
@inline(never)
public func directAccumulatePlaneF64(_ g: sc_plane_geometry, _ x: UnsafePointer<Double>, _ w: UnsafePointer<Double>,
                                     _ y: UnsafeMutablePointer<Double>) {
    let p = PlaneGeometry(g)
    if isUnitStride3x3(p) { accumulatePlane3x3(p, x, w, y) } else { accumulatePlane(p, x, w, y) }
}

// MARK: - 3x3, stride 1, dilation 1 (depthwise layers)

@inline(__always)
private func isUnitStride3x3(_ g: PlaneGeometry) -> Bool {
    g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideH == 1 && g.strideW == 1
        && g.dilationH == 1 && g.dilationW == 1 && g.outWidth >= 8
}

/// Whether `directPlaneHalf3x3` computes a plane of geometry `g` (the 3x3 unit-stride
/// kernel's geometry, the same rule in every build).
public func directPlaneHalf3x3Supports(_ g: sc_plane_geometry) -> Bool { isUnitStride3x3(PlaneGeometry(g)) }

/// A 3x3 kernel's weights, each broadcast once per plane into vectors `V` (`w` for the
/// scalar columns).
private struct Taps3x3<V: SIMD> where V.Scalar: BinaryFloatingPoint {
    let w: UnsafePointer<V.Scalar>
    let w00: V, w01: V, w02: V, w10: V, w11: V, w12: V, w20: V, w21: V, w22: V

    @inline(__always) init(_ w: UnsafePointer<V.Scalar>) {
        self.w = w
        w00 = V(repeating: w[0]); w01 = V(repeating: w[1]); w02 = V(repeating: w[2])
        w10 = V(repeating: w[3]); w11 = V(repeating: w[4]); w12 = V(repeating: w[5])
        w20 = V(repeating: w[6]); w21 = V(repeating: w[7]); w22 = V(repeating: w[8])
    }
}

/// `accumulatePlane` for a 3x3 kernel with unit stride and dilation: the same sums, in the
/// same (kh, kw) order from the value in y, so the same bits. The nine weights stay in
/// registers; each output row is `row3x3` on its three input rows.
@inline(__always)
private func accumulatePlane3x3<T: BinaryFloatingPoint & SIMDScalar>(
    _ g: PlaneGeometry, _ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, initial: T? = nil
) {
    let taps = Taps3x3<SIMD8<T>>(w)
    for oh in 0..<g.outHeight {
        let r0 = x + (oh &- g.padTop) &* g.inWidth
        row3x3(g, taps, oh, r0, r0 + g.inWidth, r0 + 2 &* g.inWidth, y + oh &* g.outWidth, initial: initial)
    }
}

/// Output row `oh` of a 3x3 unit-stride plane into `yRow`, from the input rows ih0 = oh -
/// padTop, ih0 + 1, ih0 + 2 at r0, r1, r2 (each row's column 0; only the rows inside x are
/// read). Interior columns go 8 at a time (4 blocks per step for independent FMA chains),
/// the columns whose window leaves x one by one; every output sums its taps in (kh, kw)
/// order from the value in yRow, or from `initial` when given (yRow's old contents then
/// ignored: the same sums as filling y with it first, without the extra pass over y).
/// The row pointers let the half kernel (`directPlaneHalf3x3`) run it on rows widened into
/// a small ring, the float32 kernel on the plane itself: the same code, so the same bits.
@inline(__always)
private func row3x3<V: SIMD>(
    _ g: PlaneGeometry, _ t: Taps3x3<V>, _ oh: Int, _ r0: UnsafePointer<V.Scalar>, _ r1: UnsafePointer<V.Scalar>,
    _ r2: UnsafePointer<V.Scalar>, _ yRow: UnsafeMutablePointer<V.Scalar>, initial: V.Scalar?
) where V.Scalar: BinaryFloatingPoint {
    typealias T = V.Scalar
    let width = V.scalarCount
    let hasInitial = initial != nil, initialScalar = initial ?? 0, initialVector = V(repeating: initial ?? 0)
    let inH = g.inHeight, inW = g.inWidth, outW = g.outWidth, padL = g.padLeft
    // Interior columns: ow - padL >= 0 and ow - padL + 2 < inW.
    let lo = min(outW, max(0, padL)), hi = max(lo, min(outW, inW &- 2 &+ padL))
    let ih0 = oh &- g.padTop
    let v0 = ih0 >= 0 && ih0 < inH, v1 = ih0 &+ 1 >= 0 && ih0 &+ 1 < inH, v2 = ih0 &+ 2 >= 0 && ih0 &+ 2 < inH
    if !(v0 || v1 || v2) {
        if hasInitial { yRow.update(repeating: initialScalar, count: outW) }
        return
    }
    // Row pointers shifted so that column ow reads x[ih, ow - padL + kw] at p[ow + kw].
    let x0 = r0 - padL, x1 = r1 - padL, x2 = r2 - padL

    @inline(__always) func block(_ o: Int) -> V {
        var a = hasInitial ? initialVector : load(yRow + o, as: V.self)
        @inline(__always) func taps(_ x: UnsafePointer<T>, _ w0: V, _ w1: V, _ w2: V) {
            a = fmadd(a, w0, load(x + o, as: V.self))
            a = fmadd(a, w1, load(x + (o &+ 1), as: V.self))
            a = fmadd(a, w2, load(x + (o &+ 2), as: V.self))
        }
        if v0 { taps(x0, t.w00, t.w01, t.w02) }
        if v1 { taps(x1, t.w10, t.w11, t.w12) }
        if v2 { taps(x2, t.w20, t.w21, t.w22) }
        return a
    }
    @inline(__always) func column(_ ow: Int) { column3x3(g, t.w, ow, r0, r1, r2, v0, v1, v2, yRow, initial: initial) }

    if hi &- lo < width {
        for ow in 0..<outW { column(ow) }
        return
    }
    for ow in 0..<lo { column(ow) }
    // The last `width` interior columns first, kept in a register and stored last: blocks
    // that overlap it load y before it changes and store the same values.
    let tailAt = hi &- width
    let tail = block(tailAt)
    var o = lo
    while o &+ 4 &* width <= tailAt {
        let a0 = block(o), a1 = block(o &+ width), a2 = block(o &+ 2 &* width), a3 = block(o &+ 3 &* width)
        store(a0, yRow + o); store(a1, yRow + (o &+ width)); store(a2, yRow + (o &+ 2 &* width)); store(a3, yRow + (o &+ 3 &* width))
        o &+= 4 &* width
    }
    while o < tailAt {
        store(block(o), yRow + o)
        o &+= width
    }
    store(tail, yRow + tailAt)
    for ow in hi..<outW { column(ow) }
}

/// Output column `ow` of a 3x3 unit-stride row one tap at a time (`row3x3`'s columns whose
/// window leaves x): the taps inside x in (kh, kw) order from yRow[ow], or from `initial`.
@inline(__always)
private func column3x3<T: BinaryFloatingPoint>(_ g: PlaneGeometry, _ w: UnsafePointer<T>, _ ow: Int, _ r0: UnsafePointer<T>,
                                              _ r1: UnsafePointer<T>, _ r2: UnsafePointer<T>, _ v0: Bool, _ v1: Bool, _ v2: Bool,
                                              _ yRow: UnsafeMutablePointer<T>, initial: T?) {
    var acc = initial ?? yRow[ow]
    let iw = ow &- g.padLeft, inW = g.inWidth
    @inline(__always) func taps(_ xr: UnsafePointer<T>, _ wr: UnsafePointer<T>) {
        for kw in 0..<3 where iw &+ kw >= 0 && iw &+ kw < inW {
            acc = fmadd(acc, wr[kw], xr[iw &+ kw])
        }
    }
    if v0 { taps(r0, w) }
    if v1 { taps(r1, w + 3) }
    if v2 { taps(r2, w + 6) }
    yRow[ow] = acc
}

/// How `rowPair3x3` reads its input rows and writes its output rows: float32 rows as they
/// are (`PlainRows`: the ring of widened rows), or, on AVX-512, the half rows themselves,
/// each vector widened at its load and rounded at its store (`Float16Rows`, `BfloatRows`,
/// `BfloatInstructionRows`). A type rather than closures so that the one body is specialised
/// per format (closures were an indirect call per vector, 4x slower: session 11).
private protocol RowFormat {
    associatedtype V: SIMD where V.Scalar: BinaryFloatingPoint
    /// The element type of the rows in memory.
    associatedtype Stored
    static func load(_ p: UnsafePointer<Stored>) -> V
    static func store(_ v: V, _ p: UnsafeMutablePointer<Stored>)
    /// a then b into 2 * V.scalarCount consecutive elements (bfloat16 rounds 32 at a time).
    static func storePair(_ a: V, _ b: V, _ p: UnsafeMutablePointer<Stored>)
    static func widen(_ x: Stored) -> V.Scalar
    static func narrow(_ x: V.Scalar) -> Stored
}

extension RowFormat {
    @inline(__always) static func storePair(_ a: V, _ b: V, _ p: UnsafeMutablePointer<Stored>) {
        store(a, p); store(b, p + V.scalarCount)
    }
}

/// Rows of `V.Scalar` read and written as they are.
private enum PlainRows<V: SIMD>: RowFormat where V.Scalar: BinaryFloatingPoint {
    @inline(__always) static func load(_ p: UnsafePointer<V.Scalar>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }
    @inline(__always) static func widen(_ x: V.Scalar) -> V.Scalar { x }
    @inline(__always) static func narrow(_ x: V.Scalar) -> V.Scalar { x }
}

/// Output rows oh and oh + 1 of a 3x3 unit-stride plane, every output from `initial`, when
/// the four input rows ih0 = oh - padTop ... ih0 + 3 (r0 ... r3) are all inside x: `row3x3`
/// of each, with each loaded input vector used by both rows (the middle two input rows
/// feed both), 12 loads per 18 FMAs instead of 18. Each accumulator still takes its taps
/// in (kh, kw) order, so the same bits as `row3x3`. Two column blocks per step: four
/// accumulators (an x86-64-v4 build: 32 vector registers). The rows are `F`'s: float32
/// rows, or half rows widened at each tap's load (the same widened values) with each
/// output rounded once at its store; the columns whose window leaves x one by one, taps
/// in the same order (`column3x3`'s).
@inline(__always)
private func rowPair3x3<F: RowFormat>(
    _ g: PlaneGeometry, _ t: Taps3x3<F.V>, _ r0: UnsafePointer<F.Stored>, _ r1: UnsafePointer<F.Stored>,
    _ r2: UnsafePointer<F.Stored>, _ r3: UnsafePointer<F.Stored>, _ y0: UnsafeMutablePointer<F.Stored>,
    _ y1: UnsafeMutablePointer<F.Stored>, initial: F.V.Scalar, _ format: F.Type
) {
    typealias V = F.V
    let width = V.scalarCount
    let inW = g.inWidth, outW = g.outWidth, padL = g.padLeft
    let lo = min(outW, max(0, padL)), hi = max(lo, min(outW, inW &- 2 &+ padL))
    /// Output column ow from the input rows ra, rb, rc (all inside x), rounded.
    @inline(__always) func column(_ ow: Int, _ ra: UnsafePointer<F.Stored>, _ rb: UnsafePointer<F.Stored>,
                                  _ rc: UnsafePointer<F.Stored>) -> F.Stored {
        var acc = initial
        let iw = ow &- padL
        @inline(__always) func taps(_ xr: UnsafePointer<F.Stored>, _ wr: UnsafePointer<V.Scalar>) {
            for kw in 0..<3 where iw &+ kw >= 0 && iw &+ kw < inW {
                acc = fmadd(acc, wr[kw], F.widen(xr[iw &+ kw]))
            }
        }
        taps(ra, t.w); taps(rb, t.w + 3); taps(rc, t.w + 6)
        return F.narrow(acc)
    }
    @inline(__always) func columns(_ ow: Int) {
        y0[ow] = column(ow, r0, r1, r2)
        y1[ow] = column(ow, r1, r2, r3)
    }
    if hi &- lo < width {
        for ow in 0..<outW { columns(ow) }
        return
    }
    let x0 = r0 - padL, x1 = r1 - padL, x2 = r2 - padL, x3 = r3 - padL
    let start = V(repeating: initial)
    /// Columns [o, o + width) of both rows: (row oh, row oh + 1).
    @inline(__always) func pair(_ o: Int) -> (V, V) {
        var a = start, b = start
        @inline(__always) func l(_ x: UnsafePointer<F.Stored>, _ k: Int) -> V { F.load(x + (o &+ k)) }
        var p0 = l(x0, 0), p1 = l(x0, 1), p2 = l(x0, 2)
        a = fmadd(a, t.w00, p0); a = fmadd(a, t.w01, p1); a = fmadd(a, t.w02, p2)
        p0 = l(x1, 0); p1 = l(x1, 1); p2 = l(x1, 2)
        a = fmadd(a, t.w10, p0); a = fmadd(a, t.w11, p1); a = fmadd(a, t.w12, p2)
        b = fmadd(b, t.w00, p0); b = fmadd(b, t.w01, p1); b = fmadd(b, t.w02, p2)
        p0 = l(x2, 0); p1 = l(x2, 1); p2 = l(x2, 2)
        a = fmadd(a, t.w20, p0); a = fmadd(a, t.w21, p1); a = fmadd(a, t.w22, p2)
        b = fmadd(b, t.w10, p0); b = fmadd(b, t.w11, p1); b = fmadd(b, t.w12, p2)
        p0 = l(x3, 0); p1 = l(x3, 1); p2 = l(x3, 2)
        b = fmadd(b, t.w20, p0); b = fmadd(b, t.w21, p1); b = fmadd(b, t.w22, p2)
        return (a, b)
    }
    for ow in 0..<lo { columns(ow) }
    // As row3x3: the last `width` interior columns first, stored last.
    let tailAt = hi &- width
    let tail = pair(tailAt)
    var o = lo
    while o &+ 2 &* width <= tailAt {
        let (a0, b0) = pair(o), (a1, b1) = pair(o &+ width)
        F.storePair(a0, a1, y0 + o); F.storePair(b0, b1, y1 + o)
        o &+= 2 &* width
    }
    while o < tailAt {
        let (a, b) = pair(o)
        F.store(a, y0 + o); F.store(b, y1 + o)
        o &+= width
    }
    F.store(tail.0, y0 + tailAt); F.store(tail.1, y1 + tailAt)
    for ow in hi..<outW { columns(ow) }
}

/// Floats of `ring` that `directPlaneHalf3x3` uses for planes `inWidth` wide giving rows
/// `outWidth` wide: eight widened input rows and four float32 output rows, each padded to 16.
public func directPlaneHalf3x3RingCount(inWidth: Int, outWidth: Int) -> Int {
    8 &* ((inWidth &+ 15) & ~15) &+ 4 &* ((outWidth &+ 15) & ~15)
}

/// y = initial + conv(x, w) for one plane pair of half values (float16 or bfloat16 bit
/// patterns, converted by `widen` / `narrow`, the kernel table's array conversions) with a
/// 3x3 unit-stride kernel (`directPlaneHalf3x3Supports`), each output rounded once. The
/// input rows are widened into a ring of float32 rows as the kernel walks down (each input
/// value widened once), and each output row is computed into a float32 row by the float32
/// kernel's `row3x3` and rounded while it sits in L1: every value is the float32 kernel's
/// on the widened plane, so the same bits, without float32 copies of whole planes (which,
/// 112 x 112, passed through L2). Rows are widened one row ahead of the first output row
/// that reads them, and each output row is rounded after the next one is computed: the
/// kernel's unaligned loads (columns + 1, + 2, the blocks' offsets) span two of the
/// conversion's stores, and a load reading a store still in the store buffer that it does
/// not match stalls (perf, dw 32ch 112x112 k3 float16, rounding each row right away: the
/// rounding 9% of the cycles against the widening's 4%). `ring` holds
/// `directPlaneHalf3x3RingCount` floats. On AVX-512 the rows are 16 wide (zmm) from 16
/// output columns, two output rows at a time where all four input rows lie inside x
/// (`rowPair3x3`: a third fewer loads, the zmm loads at columns + 1, + 2 split cache lines):
/// the same FMAs per output, so the same bits.
///
/// Steps, dw 32ch 112x112 k3 forward, half / float32 time (1 thread, N1, one process with the
/// build before loaded too, calls interleaved, thread CPU time, medians of 11-15 blocks;
/// float16, bfloat16): whole planes widened through L2 (before) 1.40-1.44, 1.35-1.38; ring,
/// zmm rows one at a time 1.05-1.08, 1.12-1.15 (perf: the kernel 0.86 of float32's, the
/// conversions another 0.17); rounding one row late, widening one row ahead: the same within
/// noise; rows two at a time 0.80-0.85, 0.85-0.92.
///
/// On AVX-512 (`fusedHalfPlaneRows`) the row pairs whose four input rows lie inside x read the
/// half rows themselves (vcvtph2ps / a shift at each tap load) and round their outputs in
/// registers: no ring stores and reloads (`bfloat16` says which conversion `widen` / `narrow`
/// are). Ring -> fused, half / float32 time, Zen5, 1 thread, the build before (ed61161) and
/// this one in one process, calls interleaved, process CPU time, medians of 7 (N8: 5) blocks
/// (/tmp/s11/half/ab.py), float16 (bfloat16): dw 144ch 56x56 k3 forward N1 1.13-1.15 ->
/// 0.91-0.92 (1.17 -> 1.15-1.18), N8 1.11 -> 0.92 (1.20 -> 1.15); dw 32ch 112x112 k3
/// forward 0.85 -> 0.80 (0.89 -> 1.02, bfloat16 time new / old 1.02); backward (grad_input
/// here) 1.00 -> 1.02 (new / old time 0.95; bfloat16 1.00). bfloat16 gained nothing: its
/// integer rounding per 16 values cost what the ring's 32-at-a-time array rounding saved.
/// Then (session 12) bfloat16 rounded by vcvtne2ps2bf16 where the CPU has AVX512-BF16
/// (`BfloatInstructionRows`), the same bits; bfloat16 / float32 time before -> now, Zen5,
/// 1 thread, the session-start build (bf0a924) and this one in one process, calls
/// interleaved, process CPU time, medians of 7-11 blocks (/tmp/s12/halfdw/ab.py), three
/// runs: dw 144ch 56x56 k3 forward N1 1.21-1.28 -> 1.00-1.06 (new / old time 0.85-0.86),
/// N8 1.17 -> 1.02 (0.85); dw 32ch 112x112 k3 forward N1 0.85-1.01 -> 0.75-0.92 (0.84-0.85),
/// N8 0.84 -> 0.61 (0.82), backward (grad_input here) new / old 0.93-0.94. float16 and
/// float32 unchanged (new / old 0.97-1.01; float32 bits equal).
@inline(never)
public func directPlaneHalf3x3(_ g: sc_plane_geometry, _ x: UnsafePointer<UInt16>, _ w: UnsafePointer<Float>,
                               _ y: UnsafeMutablePointer<UInt16>, initial: Float, ring: UnsafeMutablePointer<Float>,
                               widen: @convention(c) (UnsafePointer<UInt16>, UnsafeMutablePointer<Float>, Int) -> Void,
                               narrow: @convention(c) (UnsafePointer<Float>, UnsafeMutablePointer<UInt16>, Int) -> Void,
                               bfloat16: Bool) {
    let p = PlaneGeometry(g)
    #if SWIFTCONV_AVX512
    let lo = min(p.outWidth, max(0, p.padLeft)), hi = max(lo, min(p.outWidth, p.inWidth &- 2 &+ p.padLeft))
    if p.outWidth >= 16 && hi &- lo >= 16 {
        let taps = Taps3x3<SIMD16<Float>>(w)
        if bfloat16 && hasBfloat16Instructions {
            fusedHalfPlaneRows(p, taps, x, y, initial, ring, widen, narrow, BfloatInstructionRows.self)
        } else if bfloat16 {
            fusedHalfPlaneRows(p, taps, x, y, initial, ring, widen, narrow, BfloatRows.self)
        } else {
            fusedHalfPlaneRows(p, taps, x, y, initial, ring, widen, narrow, Float16Rows.self)
        }
        return
    }
    if p.outWidth >= 16 {
        halfPlaneRows(p, Taps3x3<SIMD16<Float>>(w), x, y, initial, ring, widen, narrow, pairs: true)
        return
    }
    #endif
    halfPlaneRows(p, Taps3x3<SIMD8<Float>>(w), x, y, initial, ring, widen, narrow, pairs: false)
}

#if SWIFTCONV_AVX512
/// float16 rows (vcvtph2ps at the loads, vcvtps2ph at the stores).
private enum Float16Rows: RowFormat {
    @inline(__always) static func load(_ p: UnsafePointer<UInt16>) -> SIMD16<Float> {
        widenFloat16(UnsafeRawPointer(p).loadUnaligned(as: SIMD16<UInt16>.self))
    }
    @inline(__always) static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<UInt16>) {
        UnsafeMutableRawPointer(p).storeBytes(of: narrowFloat16(v), as: SIMD16<UInt16>.self)
    }
    @inline(__always) static func widen(_ x: UInt16) -> Float { widenFloat16(x) }
    @inline(__always) static func narrow(_ x: Float) -> UInt16 { narrowFloat16(x) }
}

/// bfloat16 rows rounded by the integer rule (Conversions.swift), 16 values at a time.
private enum BfloatRows: RowFormat {
    @inline(__always) static func load(_ p: UnsafePointer<UInt16>) -> SIMD16<Float> {
        widenBfloat16(UnsafeRawPointer(p).loadUnaligned(as: SIMD16<UInt16>.self))
    }
    @inline(__always) static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<UInt16>) {
        UnsafeMutableRawPointer(p).storeBytes(of: narrowBfloat16(v), as: SIMD16<UInt16>.self)
    }
    @inline(__always) static func widen(_ x: UInt16) -> Float { widenBfloat16(x) }
    @inline(__always) static func narrow(_ x: Float) -> UInt16 { narrowBfloat16(x) }
}

/// `BfloatRows` on a CPU with AVX-512 BF16 (`hasBfloat16Instructions`): each vector rounded
/// by vcvtneps2bf16, pairs by vcvtne2ps2bf16 (swiftconv_kernels.h), unless a lane is
/// subnormal (the instruction takes it as zero): then by the integer rule. The same bits.
private enum BfloatInstructionRows: RowFormat {
    @inline(__always) static func load(_ p: UnsafePointer<UInt16>) -> SIMD16<Float> { BfloatRows.load(p) }
    @inline(__always) static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<UInt16>) {
        let r = sc_has_subnormal_f32x16(v) != 0 ? narrowBfloat16(v) : sc_bfloat16_nearest(v)
        UnsafeMutableRawPointer(p).storeBytes(of: r, as: SIMD16<UInt16>.self)
    }
    @inline(__always) static func storePair(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ p: UnsafeMutablePointer<UInt16>) {
        let r = sc_has_subnormal_f32x16_pair(a, b) != 0 ? narrowBfloat16Pair(a, b) : sc_bfloat16_nearest_pair(a, b)
        UnsafeMutableRawPointer(p).storeBytes(of: r, as: SIMD32<UInt16>.self)
    }
    @inline(__always) static func widen(_ x: UInt16) -> Float { widenBfloat16(x) }
    @inline(__always) static func narrow(_ x: Float) -> UInt16 { narrowBfloat16(x) }
}

/// Whether this CPU has AVX-512 BF16 (only asked in the x86-64-v4 build, which runs only on
/// AVX-512 CPUs).
private let hasBfloat16Instructions = sc_cpu_has_avx512_bf16() != 0

/// `directPlaneHalf3x3` on AVX-512 with rows of 16+ interior columns: output rows two at a
/// time where all four input rows lie inside x, read from the half rows in place
/// (`rowPair3x3` on `F`'s rows); the other rows (the top and bottom borders, an odd last row) widen
/// their input rows into `ring` and run `row3x3`, their output rounded by `narrow`. The same
/// widened values and the same FMAs in the same order as the float32 kernel, each result
/// rounded once by the same conversion: the same bits.
@inline(__always)
private func fusedHalfPlaneRows<F: RowFormat>(_ p: PlaneGeometry, _ taps: Taps3x3<SIMD16<Float>>, _ x: UnsafePointer<UInt16>,
                                _ y: UnsafeMutablePointer<UInt16>, _ initial: Float, _ ring: UnsafeMutablePointer<Float>,
                                _ widen: @convention(c) (UnsafePointer<UInt16>, UnsafeMutablePointer<Float>, Int) -> Void,
                                _ narrow: @convention(c) (UnsafePointer<Float>, UnsafeMutablePointer<UInt16>, Int) -> Void,
                                _ format: F.Type) where F.V == SIMD16<Float>, F.Stored == UInt16 {
    let inStride = (p.inWidth &+ 15) & ~15
    let outRow = ring + 3 &* inStride
    var oh = 0
    while oh < p.outHeight {
        let ih0 = oh &- p.padTop
        if oh &+ 1 < p.outHeight && ih0 >= 0 && ih0 &+ 3 < p.inHeight {
            let r0 = x + ih0 &* p.inWidth, r1 = r0 + p.inWidth, r2 = r1 + p.inWidth, r3 = r2 + p.inWidth
            let y0 = y + oh &* p.outWidth
            rowPair3x3(p, taps, r0, r1, r2, r3, y0, y0 + p.outWidth, initial: initial, F.self)
            oh &+= 2
            continue
        }
        @inline(__always) func row(_ k: Int) -> UnsafePointer<Float> {
            let ih = ih0 &+ k
            return UnsafePointer(ih >= 0 && ih < p.inHeight ? ring + k &* inStride : ring)
        }
        for k in 0..<3 where ih0 &+ k >= 0 && ih0 &+ k < p.inHeight {
            widen(x + (ih0 &+ k) &* p.inWidth, ring + k &* inStride, p.inWidth)
        }
        row3x3(p, taps, oh, row(0), row(1), row(2), outRow, initial: initial)
        narrow(UnsafePointer(outRow), y + oh &* p.outWidth, p.outWidth)
        oh &+= 1
    }
}

#endif

/// `directPlaneHalf3x3`'s walk down the plane, `V` wide; output rows two at a time by
/// `rowPair3x3` where both rows' inputs are inside x and `pairs` (else by `row3x3`).
@inline(__always)
private func halfPlaneRows<V: SIMD>(_ p: PlaneGeometry, _ taps: Taps3x3<V>, _ x: UnsafePointer<UInt16>, _ y: UnsafeMutablePointer<UInt16>,
                                    _ initial: Float, _ ring: UnsafeMutablePointer<Float>,
                                    _ widen: @convention(c) (UnsafePointer<UInt16>, UnsafeMutablePointer<Float>, Int) -> Void,
                                    _ narrow: @convention(c) (UnsafePointer<Float>, UnsafeMutablePointer<UInt16>, Int) -> Void,
                                    pairs: Bool)
where V.Scalar == Float {
    let inStride = (p.inWidth &+ 15) & ~15, outStride = (p.outWidth &+ 15) & ~15
    let outRows = ring + 8 &* inStride
    // Input row ih sits in slot ih % 8 once widened; rows are widened in order, up to one
    // past the last the current output rows read. Rows outside x are never read: any slot
    // stands for them. Output row oh sits in slot oh % 4 until the rows after it are done.
    @inline(__always) func row(_ ih: Int) -> UnsafePointer<Float> {
        UnsafePointer(ih >= 0 && ih < p.inHeight ? ring + (ih & 7) &* inStride : ring)
    }
    @inline(__always) func outRow(_ oh: Int) -> UnsafeMutablePointer<Float> { outRows + (oh & 3) &* outStride }
    var next = 0, done = 0, oh = 0
    while oh < p.outHeight {
        let ih0 = oh &- p.padTop
        let two = pairs && oh &+ 1 < p.outHeight && ih0 >= 0 && ih0 &+ 3 < p.inHeight
        let last = min(ih0 &+ (two ? 4 : 3), p.inHeight &- 1)
        while next <= last {
            widen(x + next &* p.inWidth, ring + (next & 7) &* inStride, p.inWidth)
            next &+= 1
        }
        if two {
            rowPair3x3(p, taps, row(ih0), row(ih0 &+ 1), row(ih0 &+ 2), row(ih0 &+ 3), outRow(oh), outRow(oh &+ 1), initial: initial,
                       PlainRows<V>.self)
        } else {
            row3x3(p, taps, oh, row(ih0), row(ih0 &+ 1), row(ih0 &+ 2), outRow(oh), initial: initial)
        }
        while done < oh {
            narrow(UnsafePointer(outRow(done)), y + done &* p.outWidth, p.outWidth)
            done &+= 1
        }
        oh &+= two ? 2 : 1
    }
    while done < p.outHeight {
        narrow(UnsafePointer(outRow(done)), y + done &* p.outWidth, p.outWidth)
        done &+= 1
    }
}

/// `accumulateWeightGradient` for a 3x3 kernel with unit stride and dilation: the nine taps
/// in one pass over the plane. Per tap, the columns where every tap is inside x go into 8
/// SIMD lanes (the last, partial block with its already-counted lanes zeroed in both
/// operands), the other columns into a scalar, row by row; at the end
/// dw += scalar + lane 0 + ... + lane 7. A fixed order, whatever the thread count.
@inline(__always)
private func weightGradient3x3<T: BinaryFloatingPoint & SIMDScalar>(
    _ g: PlaneGeometry, _ x: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dw: UnsafeMutablePointer<T>
) {
    typealias V = SIMD8<T>
    let inH = g.inHeight, inW = g.inWidth, outH = g.outHeight, outW = g.outWidth
    let padT = g.padTop, padL = g.padLeft
    // Interior columns: ow - padL >= 0 and ow - padL + 2 < inW.
    let cLo = min(outW, max(0, padL)), cHi = max(cLo, min(outW, inW &- 2 &+ padL))
    let blocks = (cHi &- cLo) / 8
    let sHi = cLo &+ blocks &* 8
    let tailAt = cHi &- 8
    let hasTail = blocks > 0 && sHi < cHi
    // In the tail block, lanes below `sHi - tailAt` were counted by the last full block.
    let lane = V(0, 1, 2, 3, 4, 5, 6, 7)
    let counted = lane .< V(repeating: T(sHi &- tailAt))
    let zero = V()
    var a00 = V(), a01 = V(), a02 = V(), a10 = V(), a11 = V(), a12 = V(), a20 = V(), a21 = V(), a22 = V()
    var sc = ScalarTaps3x3<T>()
    for oh in 0..<outH {
        let ih0 = oh &- padT
        let v0 = ih0 >= 0 && ih0 < inH, v1 = ih0 &+ 1 >= 0 && ih0 &+ 1 < inH, v2 = ih0 &+ 2 >= 0 && ih0 &+ 2 < inH
        if !(v0 || v1 || v2) { continue }
        let d = dy + oh &* outW
        let x0 = x + (ih0 &* inW &- padL), x1 = x0 + inW, x2 = x1 + inW
        if blocks > 0 {
            var o = cLo
            while o < sHi {
                let dv = load(d + o)
                if v0 { a00 = fmadd(a00, dv, load(x0 + o)); a01 = fmadd(a01, dv, load(x0 + (o &+ 1))); a02 = fmadd(a02, dv, load(x0 + (o &+ 2))) }
                if v1 { a10 = fmadd(a10, dv, load(x1 + o)); a11 = fmadd(a11, dv, load(x1 + (o &+ 1))); a12 = fmadd(a12, dv, load(x1 + (o &+ 2))) }
                if v2 { a20 = fmadd(a20, dv, load(x2 + o)); a21 = fmadd(a21, dv, load(x2 + (o &+ 1))); a22 = fmadd(a22, dv, load(x2 + (o &+ 2))) }
                o &+= 8
            }
            if hasTail {
                let o = tailAt
                @inline(__always) func m(_ p: UnsafePointer<T>) -> V { load(p).replacing(with: zero, where: counted) }
                let dv = m(d + o)
                if v0 { a00 = fmadd(a00, dv, m(x0 + o)); a01 = fmadd(a01, dv, m(x0 + (o &+ 1))); a02 = fmadd(a02, dv, m(x0 + (o &+ 2))) }
                if v1 { a10 = fmadd(a10, dv, m(x1 + o)); a11 = fmadd(a11, dv, m(x1 + (o &+ 1))); a12 = fmadd(a12, dv, m(x1 + (o &+ 2))) }
                if v2 { a20 = fmadd(a20, dv, m(x2 + o)); a21 = fmadd(a21, dv, m(x2 + (o &+ 1))); a22 = fmadd(a22, dv, m(x2 + (o &+ 2))) }
            }
        }
        // The other columns one by one (all of them when the interior is narrower than 8).
        if blocks > 0 {
            for ow in 0..<cLo { sc.add(ow, d, x0, x1, x2, v0, v1, v2, padL, inW) }
            for ow in cHi..<outW { sc.add(ow, d, x0, x1, x2, v0, v1, v2, padL, inW) }
        } else {
            for ow in 0..<outW { sc.add(ow, d, x0, x1, x2, v0, v1, v2, padL, inW) }
        }
    }
    @inline(__always) func finish(_ t: Int, _ s: T, _ v: V) {
        var acc = s
        for i in 0..<8 { acc += v[i] }
        dw[t] += acc
    }
    finish(0, sc.s00, a00); finish(1, sc.s01, a01); finish(2, sc.s02, a02)
    finish(3, sc.s10, a10); finish(4, sc.s11, a11); finish(5, sc.s12, a12)
    finish(6, sc.s20, a20); finish(7, sc.s21, a21); finish(8, sc.s22, a22)
}

/// The scalar accumulators of `weightGradient3x3` (one per tap).
private struct ScalarTaps3x3<T: BinaryFloatingPoint & SIMDScalar> {
    var s00: T = 0, s01: T = 0, s02: T = 0, s10: T = 0, s11: T = 0, s12: T = 0, s20: T = 0, s21: T = 0, s22: T = 0

    /// Adds output column `ow` of one row: dy row `d`, x rows shifted by -padLeft.
    @inline(__always)
    mutating func add(_ ow: Int, _ d: UnsafePointer<T>, _ x0: UnsafePointer<T>, _ x1: UnsafePointer<T>, _ x2: UnsafePointer<T>,
                      _ v0: Bool, _ v1: Bool, _ v2: Bool, _ padL: Int, _ inW: Int) {
        let dv = d[ow], iw = ow &- padL
        let k0 = iw >= 0 && iw < inW, k1 = iw &+ 1 >= 0 && iw &+ 1 < inW, k2 = iw &+ 2 >= 0 && iw &+ 2 < inW
        if v0 {
            if k0 { s00 = fmadd(s00, dv, x0[ow]) }
            if k1 { s01 = fmadd(s01, dv, x0[ow &+ 1]) }
            if k2 { s02 = fmadd(s02, dv, x0[ow &+ 2]) }
        }
        if v1 {
            if k0 { s10 = fmadd(s10, dv, x1[ow]) }
            if k1 { s11 = fmadd(s11, dv, x1[ow &+ 1]) }
            if k2 { s12 = fmadd(s12, dv, x1[ow &+ 2]) }
        }
        if v2 {
            if k0 { s20 = fmadd(s20, dv, x2[ow]) }
            if k1 { s21 = fmadd(s21, dv, x2[ow &+ 1]) }
            if k2 { s22 = fmadd(s22, dv, x2[ow &+ 2]) }
        }
    }
}
