/// Kernels for matrix products with very few columns, reading every operand in place (no
/// packing): 1x1 convolutions on a 1x1 plane (squeeze-and-excitation layers, a classifier
/// run as a conv), where the im2col GEMM spent its time packing a weight matrix it then
/// used for one or a handful of columns (SwiftConv.OnePixelConvolution runs them).
///
/// - `dotRows*`: y = bias + W x for row-major W, x given as columns of contiguous depth:
///   one dot product per output element, vectorised over the depth (the reduction). Each
///   element is summed in 64 bytes of lanes (16 Floats / 8 Doubles; lane l holds the terms
///   p = l mod lanes in p order, a partial last vector padded with zeros), then the lanes
///   are added pairwise in a fixed tree and the bias added last. That order is not the
///   im2col GEMM's (so the bits differ from it), but it is fixed: the same whatever the
///   thread count, the tile an element is in, or the tier (AVX-512 and AVX2 give the same
///   bits; the baseline's multiply-adds are unfused, as in its other kernels). Short rows
///   (depth <= 64: the expand layers) run 16 rows (8 Doubles) at a time (`rowBlock`): their
///   lanes are transposed in registers and added in the same tree, so the same bits.
/// - `smallGemm*`: C = initial + A B with few rows of A (read with any strides) and B
///   row-major, vectorised over B's columns: every element is summed in the depth order, one
///   (fused) multiply-add at a time from its initial value, which is exactly the im2col
///   GEMM's order (MicroKernels.swift), so these give the GEMM's bits. Used for grad_input
///   (dy W) and grad_weight (dy^T x) of the same layers.
///
/// Compiled three times like the other kernel files (the AVX512 and Baseline targets hold
/// symlinks); the tile sizes are per build (`maxDotRows`, ...): the AVX-512 build holds 16
/// zmm accumulators, the others 4-8 vectors of 64 bytes (two ymm / four xmm each).

/// The 64-byte vectors these kernels compute on, with the two operations whose code must
/// be the concrete type's (generic SIMD code compiled lane by lane, through the stack).
protocol LaneVector: SIMD where Scalar: BinaryFloatingPoint {
    /// acc + a * b, one fused multiply-add per lane (unfused in the baseline build).
    static func madd(_ acc: Self, _ a: Self, _ b: Self) -> Self
    /// The lanes added pairwise: lane l + lane l + n/2, halving n down to one lane.
    var treeSum: Scalar { get }
    /// Lane r = `treeSum` of row r, for the first `scalarCount` rows (a Double vector takes
    /// r0 - r7 only): the rows transposed in registers (perfect unshuffles of vector pairs,
    /// one two-source shuffle each), then the lane vectors added pairwise in `treeSum`'s
    /// tree, the same additions of the same pairs, so the same bits. (A tree that folds the
    /// rows' lanes between shuffles and additions was scalarised by LLVM.)
    static func treeSums(_ r0: Self, _ r1: Self, _ r2: Self, _ r3: Self, _ r4: Self, _ r5: Self, _ r6: Self, _ r7: Self,
                         _ r8: Self, _ r9: Self, _ r10: Self, _ r11: Self, _ r12: Self, _ r13: Self, _ r14: Self, _ r15: Self) -> Self
    /// Half a vector (a ymm of the AVX2 build).
    associatedtype Half: SIMD where Half.Scalar == Scalar
    /// `treeSum`'s first level: lane l + lane l + scalarCount/2.
    var halfSum: Half { get }
    /// Lane r = the rest of `treeSum` of row r (from its `halfSum`), for the first
    /// Half.scalarCount rows (8 Floats, 4 Doubles): `treeSums` on half vectors, for the
    /// builds with 16 vector registers (16 whole accumulators would not fit).
    static func halfTreeSums(_ r0: Half, _ r1: Half, _ r2: Half, _ r3: Half, _ r4: Half, _ r5: Half, _ r6: Half, _ r7: Half) -> Half
    /// The bits that keep the lanes below `count` (all ones) and clear the others.
    static func lanesBelow(_ count: Int) -> Self
    /// v with the lanes cleared where `keep` is zero (`keep` from `lanesBelow`).
    static func keeping(_ v: Self, _ keep: Self) -> Self
}

extension SIMD16: LaneVector where Scalar == Float {
    @inline(__always) static func madd(_ acc: Self, _ a: Self, _ b: Self) -> Self { fmadd(acc, a, b) }

    @inline(__always) var treeSum: Float {
        let h8 = lowHalf + highHalf, h4 = h8.lowHalf + h8.highHalf, h2 = h4.lowHalf + h4.highHalf
        return h2[0] + h2[1]
    }

    @inline(__always) static func treeSums(_ r0: Self, _ r1: Self, _ r2: Self, _ r3: Self, _ r4: Self, _ r5: Self, _ r6: Self, _ r7: Self,
                                           _ r8: Self, _ r9: Self, _ r10: Self, _ r11: Self, _ r12: Self, _ r13: Self, _ r14: Self, _ r15: Self) -> Self {
        // Four perfect unshuffles of the 256 elements (row, lane) rotate their index by four
        // bits: v.l holds lane l of every row.
        var v = (r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15)
        for _ in 0..<4 {
            @inline(__always) func e(_ a: Self, _ b: Self) -> Self { evenLanes(a, b) }
            @inline(__always) func o(_ a: Self, _ b: Self) -> Self { oddLanes(a, b) }
            v = (e(v.0, v.1), e(v.2, v.3), e(v.4, v.5), e(v.6, v.7), e(v.8, v.9), e(v.10, v.11), e(v.12, v.13), e(v.14, v.15),
                 o(v.0, v.1), o(v.2, v.3), o(v.4, v.5), o(v.6, v.7), o(v.8, v.9), o(v.10, v.11), o(v.12, v.13), o(v.14, v.15))
        }
        let h0 = v.0 + v.8, h1 = v.1 + v.9, h2 = v.2 + v.10, h3 = v.3 + v.11
        let h4 = v.4 + v.12, h5 = v.5 + v.13, h6 = v.6 + v.14, h7 = v.7 + v.15
        let q0 = h0 + h4, q1 = h1 + h5, q2 = h2 + h6, q3 = h3 + h7
        return (q0 + q2) + (q1 + q3)
    }

    @inline(__always) var halfSum: SIMD8<Float> { lowHalf + highHalf }

    @inline(__always) static func halfTreeSums(_ r0: SIMD8<Float>, _ r1: SIMD8<Float>, _ r2: SIMD8<Float>, _ r3: SIMD8<Float>,
                                               _ r4: SIMD8<Float>, _ r5: SIMD8<Float>, _ r6: SIMD8<Float>, _ r7: SIMD8<Float>) -> SIMD8<Float> {
        var v = (r0, r1, r2, r3, r4, r5, r6, r7)
        for _ in 0..<3 {
            @inline(__always) func e(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { evenLanes(a, b) }
            @inline(__always) func o(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { oddLanes(a, b) }
            v = (e(v.0, v.1), e(v.2, v.3), e(v.4, v.5), e(v.6, v.7), o(v.0, v.1), o(v.2, v.3), o(v.4, v.5), o(v.6, v.7))
        }
        let h0 = v.0 + v.4, h1 = v.1 + v.5, h2 = v.2 + v.6, h3 = v.3 + v.7
        return (h0 + h2) + (h1 + h3)
    }

    @inline(__always) static func lanesBelow(_ count: Int) -> Self {
        let lane = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        return unsafeBitCast(lane .< SIMD16<Int32>(repeating: Int32(truncatingIfNeeded: count)), to: Self.self)
    }

    @inline(__always) static func keeping(_ v: Self, _ keep: Self) -> Self {
        unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & unsafeBitCast(keep, to: SIMD16<UInt32>.self), to: Self.self)
    }
}

extension SIMD8: LaneVector where Scalar == Double {
    @inline(__always) static func madd(_ acc: Self, _ a: Self, _ b: Self) -> Self { fmadd(acc, a, b) }

    @inline(__always) var treeSum: Double {
        let h4 = lowHalf + highHalf, h2 = h4.lowHalf + h4.highHalf
        return h2[0] + h2[1]
    }

    @inline(__always) static func treeSums(_ r0: Self, _ r1: Self, _ r2: Self, _ r3: Self, _ r4: Self, _ r5: Self, _ r6: Self, _ r7: Self,
                                           _: Self, _: Self, _: Self, _: Self, _: Self, _: Self, _: Self, _: Self) -> Self {
        // Three perfect unshuffles of the 64 elements (row, lane): v.l holds lane l of every row.
        var v = (r0, r1, r2, r3, r4, r5, r6, r7)
        for _ in 0..<3 {
            @inline(__always) func e(_ a: Self, _ b: Self) -> Self { evenLanes(a, b) }
            @inline(__always) func o(_ a: Self, _ b: Self) -> Self { oddLanes(a, b) }
            v = (e(v.0, v.1), e(v.2, v.3), e(v.4, v.5), e(v.6, v.7), o(v.0, v.1), o(v.2, v.3), o(v.4, v.5), o(v.6, v.7))
        }
        let h0 = v.0 + v.4, h1 = v.1 + v.5, h2 = v.2 + v.6, h3 = v.3 + v.7
        return (h0 + h2) + (h1 + h3)
    }

    @inline(__always) var halfSum: SIMD4<Double> { lowHalf + highHalf }

    @inline(__always) static func halfTreeSums(_ r0: SIMD4<Double>, _ r1: SIMD4<Double>, _ r2: SIMD4<Double>, _ r3: SIMD4<Double>,
                                               _: SIMD4<Double>, _: SIMD4<Double>, _: SIMD4<Double>, _: SIMD4<Double>) -> SIMD4<Double> {
        var v = (r0, r1, r2, r3)
        for _ in 0..<2 {
            @inline(__always) func e(_ a: SIMD4<Double>, _ b: SIMD4<Double>) -> SIMD4<Double> { evenLanes(a, b) }
            @inline(__always) func o(_ a: SIMD4<Double>, _ b: SIMD4<Double>) -> SIMD4<Double> { oddLanes(a, b) }
            v = (e(v.0, v.1), e(v.2, v.3), o(v.0, v.1), o(v.2, v.3))
        }
        return (v.0 + v.2) + (v.1 + v.3)
    }

    @inline(__always) static func lanesBelow(_ count: Int) -> Self {
        let lane = SIMD8<Int64>(0, 1, 2, 3, 4, 5, 6, 7)
        return unsafeBitCast(lane .< SIMD8<Int64>(repeating: Int64(count)), to: Self.self)
    }

    @inline(__always) static func keeping(_ v: Self, _ keep: Self) -> Self {
        unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt64>.self) & unsafeBitCast(keep, to: SIMD8<UInt64>.self), to: Self.self)
    }
}

/// `count` (< V.scalarCount) elements from `p`, zeros above.
@inline(__always)
private func loadPartial<V: LaneVector>(_ p: UnsafePointer<V.Scalar>, _ count: Int) -> V {
    var v = V()
    withUnsafeMutableBytes(of: &v) { $0.baseAddress!.copyMemory(from: p, byteCount: count &* MemoryLayout<V.Scalar>.stride) }
    return v
}

@inline(__always)
private func load<V: LaneVector>(_ p: UnsafePointer<V.Scalar>) -> V {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always)
private func store<V: LaneVector>(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>, _ count: Int) {
    if count == V.scalarCount {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    } else {
        withUnsafeBytes(of: v) { UnsafeMutableRawPointer(p).copyMemory(from: $0.baseAddress!, byteCount: count &* MemoryLayout<V.Scalar>.stride) }
    }
}

#if SWIFTCONV_AVX512
private let maxDotRows = 4, maxDotColumns = 4
#else
private let maxDotRows = 2, maxDotColumns = 2
#endif

// MARK: - Dot products (forward)

/// The accumulators of one dot tile: up to 4 rows x 4 columns (a struct of values, so that
/// they stay in registers; local functions capturing `var`s kept them on the stack).
private struct DotAccumulators<V: LaneVector> {
    var a00 = V(), a01 = V(), a02 = V(), a03 = V()
    var a10 = V(), a11 = V(), a12 = V(), a13 = V()
    var a20 = V(), a21 = V(), a22 = V(), a23 = V()
    var a30 = V(), a31 = V(), a32 = V(), a33 = V()

    /// Adds w row r times x column j lane by lane, for r < R, j < C.
    @_transparent
    mutating func add(_ R: Int, _ C: Int, _ v0: V, _ v1: V, _ v2: V, _ v3: V, _ u0: V, _ u1: V, _ u2: V, _ u3: V) {
        a00 = V.madd(a00, v0, u0)
        if C > 1 { a01 = V.madd(a01, v0, u1) }
        if C > 2 { a02 = V.madd(a02, v0, u2) }
        if C > 3 { a03 = V.madd(a03, v0, u3) }
        if R > 1 {
            a10 = V.madd(a10, v1, u0)
            if C > 1 { a11 = V.madd(a11, v1, u1) }
            if C > 2 { a12 = V.madd(a12, v1, u2) }
            if C > 3 { a13 = V.madd(a13, v1, u3) }
        }
        if R > 2 {
            a20 = V.madd(a20, v2, u0)
            if C > 1 { a21 = V.madd(a21, v2, u1) }
            if C > 2 { a22 = V.madd(a22, v2, u2) }
            if C > 3 { a23 = V.madd(a23, v2, u3) }
        }
        if R > 3 {
            a30 = V.madd(a30, v3, u0)
            if C > 1 { a31 = V.madd(a31, v3, u1) }
            if C > 2 { a32 = V.madd(a32, v3, u2) }
            if C > 3 { a33 = V.madd(a33, v3, u3) }
        }
    }

    /// y[j * ldy + r] = bias[r] (0 without) + the lanes of (r, j) added, for r < R, j < C.
    @_transparent
    func write(_ R: Int, _ C: Int, _ bias: UnsafePointer<V.Scalar>?, _ y: UnsafeMutablePointer<V.Scalar>, _ ldy: Int) {
        let b0: V.Scalar = bias?[0] ?? 0, b1: V.Scalar = R > 1 ? bias?[1] ?? 0 : 0
        let b2: V.Scalar = R > 2 ? bias?[2] ?? 0 : 0, b3: V.Scalar = R > 3 ? bias?[3] ?? 0 : 0
        let y1 = y + ldy, y2 = y + 2 &* ldy, y3 = y + 3 &* ldy
        y[0] = b0 + a00.treeSum
        if C > 1 { y1[0] = b0 + a01.treeSum }
        if C > 2 { y2[0] = b0 + a02.treeSum }
        if C > 3 { y3[0] = b0 + a03.treeSum }
        if R > 1 {
            y[1] = b1 + a10.treeSum
            if C > 1 { y1[1] = b1 + a11.treeSum }
            if C > 2 { y2[1] = b1 + a12.treeSum }
            if C > 3 { y3[1] = b1 + a13.treeSum }
        }
        if R > 2 {
            y[2] = b2 + a20.treeSum
            if C > 1 { y1[2] = b2 + a21.treeSum }
            if C > 2 { y2[2] = b2 + a22.treeSum }
            if C > 3 { y3[2] = b2 + a23.treeSum }
        }
        if R > 3 {
            y[3] = b3 + a30.treeSum
            if C > 1 { y1[3] = b3 + a31.treeSum }
            if C > 2 { y2[3] = b3 + a32.treeSum }
            if C > 3 { y3[3] = b3 + a33.treeSum }
        }
    }
}

/// One tile of `R` rows x `C` columns (both at most 4, constants at every call site so the
/// unused accumulators fold away): y[j * ldy + r] = bias[r] + dot(w row r, x column j).
@_transparent
private func dotTile<V: LaneVector>(_ R: Int, _ C: Int, _ depth: Int, _ w: UnsafePointer<V.Scalar>, _ ldw: Int,
                                    _ x: UnsafePointer<V.Scalar>, _ ldx: Int, _ bias: UnsafePointer<V.Scalar>?,
                                    _ y: UnsafeMutablePointer<V.Scalar>, _ ldy: Int, _: V.Type) {
    var acc = DotAccumulators<V>()
    let w0 = w, w1 = w + ldw, w2 = w + 2 &* ldw, w3 = w + 3 &* ldw
    let x0 = x, x1 = x + ldx, x2 = x + 2 &* ldx, x3 = x + 3 &* ldx
    let lanes = V.scalarCount
    var p = 0
    while p &+ lanes <= depth {
        let v0: V = load(w0 + p)
        let v1: V = R > 1 ? load(w1 + p) : V(), v2: V = R > 2 ? load(w2 + p) : V(), v3: V = R > 3 ? load(w3 + p) : V()
        let u0: V = load(x0 + p)
        let u1: V = C > 1 ? load(x1 + p) : V(), u2: V = C > 2 ? load(x2 + p) : V(), u3: V = C > 3 ? load(x3 + p) : V()
        acc.add(R, C, v0, v1, v2, v3, u0, u1, u2, u3)
        p &+= lanes
    }
    let rest = depth &- p
    if rest > 0 {
        let v0: V = loadPartial(w0 + p, rest)
        let v1: V = R > 1 ? loadPartial(w1 + p, rest) : V(), v2: V = R > 2 ? loadPartial(w2 + p, rest) : V()
        let v3: V = R > 3 ? loadPartial(w3 + p, rest) : V()
        let u0: V = loadPartial(x0 + p, rest)
        let u1: V = C > 1 ? loadPartial(x1 + p, rest) : V(), u2: V = C > 2 ? loadPartial(x2 + p, rest) : V()
        let u3: V = C > 3 ? loadPartial(x3 + p, rest) : V()
        acc.add(R, C, v0, v1, v2, v3, u0, u1, u2, u3)
    }
    acc.write(R, C, bias, y, ldy)
}

/// The tile of `R` rows (a constant) for `C` (1...4) columns.
@_transparent
private func dotTileColumns<V: LaneVector>(_ R: Int, _ C: Int, _ depth: Int, _ w: UnsafePointer<V.Scalar>, _ ldw: Int,
                                     _ x: UnsafePointer<V.Scalar>, _ ldx: Int, _ bias: UnsafePointer<V.Scalar>?,
                                     _ y: UnsafeMutablePointer<V.Scalar>, _ ldy: Int, _ t: V.Type) {
    switch C {
    case 4: dotTile(R, 4, depth, w, ldw, x, ldx, bias, y, ldy, t)
    case 3: dotTile(R, 3, depth, w, ldw, x, ldx, bias, y, ldy, t)
    case 2: dotTile(R, 2, depth, w, ldw, x, ldx, bias, y, ldy, t)
    default: dotTile(R, 1, depth, w, ldw, x, ldx, bias, y, ldy, t)
    }
}

/// Depths up to this many elements run `rowBlock` where there is a whole block of rows:
/// short rows (the expand layers of squeeze-and-excitation, C_in 4 - 48) spent most of a
/// dot tile on its horizontal sums; long ones keep the tiles (the rows of a block are
/// summed one after another, each a chain of dependent multiply-adds).
private let rowBlockMaxDepth = 64

/// The accumulators of a `rowBlock`, one per row (the first 8 only for Doubles): one chain
/// of multiply-adds per row, all the block's rows in flight.
private struct RowAccumulators<V: LaneVector> {
    var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V(), a5 = V(), a6 = V(), a7 = V()
    var a8 = V(), a9 = V(), a10 = V(), a11 = V(), a12 = V(), a13 = V(), a14 = V(), a15 = V()

    /// Adds the vector at w + i * ldw (row i) times u, lane by lane, for every row i < R; with
    /// `keep`, the row's partial last vector (`rest` elements, zeros above).
    @_transparent
    mutating func add(_ R: Int, _ w: UnsafePointer<V.Scalar>, _ ldw: Int, _ u: V, _ keep: V?, _ wEnd: UnsafePointer<V.Scalar>, _ rest: Int) {
        @inline(__always) func at(_ i: Int) -> V {
            let wi = w + i &* ldw
            guard let keep else { return load(wi) }
            return wi + V.scalarCount <= wEnd ? V.keeping(load(wi), keep) : loadPartial(wi, rest)
        }
        a0 = V.madd(a0, at(0), u); a1 = V.madd(a1, at(1), u); a2 = V.madd(a2, at(2), u); a3 = V.madd(a3, at(3), u)
        if R > 4 { a4 = V.madd(a4, at(4), u); a5 = V.madd(a5, at(5), u); a6 = V.madd(a6, at(6), u); a7 = V.madd(a7, at(7), u) }
        if R > 8 {
            a8 = V.madd(a8, at(8), u); a9 = V.madd(a9, at(9), u); a10 = V.madd(a10, at(10), u); a11 = V.madd(a11, at(11), u)
            a12 = V.madd(a12, at(12), u); a13 = V.madd(a13, at(13), u); a14 = V.madd(a14, at(14), u); a15 = V.madd(a15, at(15), u)
        }
    }
}

/// y[r] = bias[r] (0 without) + dot(w row r, x) for the V.scalarCount rows r of a block and
/// one column x: each row summed in the lanes as `dotTile` does, the rows' lanes added by
/// `treeSums` (the same pairs: `dotTile`'s bits), one vector of results stored at once.
/// The partial last vector of a row is a full load with the lanes above the depth cleared
/// (`keep`), unless it would read past `wEnd` (the end of the block's last row).
@_transparent
private func rowBlock<V: LaneVector>(_ depth: Int, _ w: UnsafePointer<V.Scalar>, _ ldw: Int, _ wEnd: UnsafePointer<V.Scalar>,
                                     _ x: UnsafePointer<V.Scalar>, _ xTail: V, _ keep: V, _ bias: UnsafePointer<V.Scalar>?,
                                     _ y: UnsafeMutablePointer<V.Scalar>, _: V.Type) {
    let L = V.scalarCount, full = depth & ~(L &- 1), rest = depth &- full
#if SWIFTCONV_AVX512
    // 32 zmm: the whole block's accumulators, one chain of multiply-adds per row in flight.
    var acc = RowAccumulators<V>()
    var p = 0
    while p < full {
        acc.add(L, w + p, ldw, load(x + p), nil, wEnd, rest)
        p &+= L
    }
    if rest > 0 { acc.add(L, w + full, ldw, xTail, keep, wEnd, rest) }
    let sums = V.treeSums(acc.a0, acc.a1, acc.a2, acc.a3, acc.a4, acc.a5, acc.a6, acc.a7,
                          acc.a8, acc.a9, acc.a10, acc.a11, acc.a12, acc.a13, acc.a14, acc.a15)
#else
    // 16 vector registers: four rows at a time, each folded to half a vector at once.
    @inline(__always) func four(_ i: Int) -> (V.Half, V.Half, V.Half, V.Half) {
        var acc = RowAccumulators<V>()
        let wi = w + i &* ldw
        var p = 0
        while p < full {
            acc.add(4, wi + p, ldw, load(x + p), nil, wEnd, rest)
            p &+= L
        }
        if rest > 0 { acc.add(4, wi + full, ldw, xTail, keep, wEnd, rest) }
        return (acc.a0.halfSum, acc.a1.halfSum, acc.a2.halfSum, acc.a3.halfSum)
    }
    // Rows i ..< i + L/2 (Doubles: four(i) alone; the last four arguments unused).
    @inline(__always) func half(_ i: Int) -> V.Half {
        let a = four(i)
        if L == 8 { return V.halfTreeSums(a.0, a.1, a.2, a.3, a.0, a.1, a.2, a.3) }
        let b = four(i &+ 4)
        return V.halfTreeSums(a.0, a.1, a.2, a.3, b.0, b.1, b.2, b.3)
    }
    var sums = V()
    withUnsafeMutableBytes(of: &sums) { raw in
        let h = L / 2
        raw.storeBytes(of: half(0), as: V.Half.self)
        raw.storeBytes(of: half(h), toByteOffset: MemoryLayout<V.Half>.stride, as: V.Half.self)
    }
#endif
    let b: V = bias.map { load($0) } ?? V()
    UnsafeMutableRawPointer(y).storeBytes(of: b + sums, as: V.self)
}

@inline(__always)
private func dotRows<V: LaneVector>(_ rows: Int, _ cols: Int, _ depth: Int, _ w: UnsafePointer<V.Scalar>, _ ldw: Int,
                              _ x: UnsafePointer<V.Scalar>, _ ldx: Int, _ bias: UnsafePointer<V.Scalar>?,
                              _ y: UnsafeMutablePointer<V.Scalar>, _ ldy: Int, _ t: V.Type) {
    var r = 0
    let L = V.scalarCount
    if depth <= rowBlockMaxDepth && rows >= L {
        let full = depth & ~(L &- 1), rest = depth &- full
        let keep = V.lanesBelow(rest), wEnd = w + ((rows &- 1) &* ldw &+ depth)
        for j in 0..<cols {
            let xj = x + j &* ldx
            let xTail: V = rest > 0 ? loadPartial(xj + full, rest) : V()
            var i = 0
            while rows &- i >= L {
                rowBlock(depth, w + i &* ldw, ldw, wEnd, xj, xTail, keep, bias.map { $0 + i }, y + (j &* ldy &+ i), t)
                i &+= L
            }
        }
        r = rows & ~(L &- 1)
    }
    while r < rows {
        let rr = min(maxDotRows, rows &- r)
        let wr = w + r &* ldw, br = bias.map { $0 + r }, yr = y + r
        var j = 0
        while j < cols {
            let cc = min(maxDotColumns, cols &- j)
            let xj = x + j &* ldx, yj = yr + j &* ldy
            switch rr {
            case 4: dotTileColumns(4, cc, depth, wr, ldw, xj, ldx, br, yj, ldy, t)
            case 3: dotTileColumns(3, cc, depth, wr, ldw, xj, ldx, br, yj, ldy, t)
            case 2: dotTileColumns(2, cc, depth, wr, ldw, xj, ldx, br, yj, ldy, t)
            default: dotTileColumns(1, cc, depth, wr, ldw, xj, ldx, br, yj, ldy, t)
            }
            j &+= cc
        }
        r &+= rr
    }
}

/// y[j * ldy + r] = bias[r] (0 without) + sum over p < depth of w[r * ldw + p] * x[j * ldx + p],
/// for r < rows, j < cols, in the lane order of this file's header.
@inline(never)
public func dotRowsF32(rows: Int, cols: Int, depth: Int, w: UnsafePointer<Float>, ldw: Int,
                       x: UnsafePointer<Float>, ldx: Int,
                       bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int) {
    dotRows(rows, cols, depth, w, ldw, x, ldx, bias, y, ldy, SIMD16<Float>.self)
}

@inline(never)
public func dotRowsF64(rows: Int, cols: Int, depth: Int, w: UnsafePointer<Double>, ldw: Int,
                       x: UnsafePointer<Double>, ldx: Int,
                       bias: UnsafePointer<Double>?, y: UnsafeMutablePointer<Double>, ldy: Int) {
    dotRows(rows, cols, depth, w, ldw, x, ldx, bias, y, ldy, SIMD8<Double>.self)
}

// MARK: - Small GEMM on a row-major B (gradients)

#if SWIFTCONV_AVX512
private let maxGemmRows = 4
#else
private let maxGemmRows = 2
#endif

/// One tile of `J` rows (1...4, a constant) x `I` vectors of columns (1...4, a constant), the
/// last vector holding `last` columns (a full vector unless it is the matrix's edge):
/// C[j, i] = initial[i] (0 without) + sum over p in order of A(j, p) * B[p, i].
@_transparent
private func gemmTile<V: LaneVector>(_ J: Int, _ I: Int, _ last: Int, _ k: Int, _ a: UnsafePointer<V.Scalar>, _ aRow: Int, _ aDepth: Int,
                               _ b: UnsafePointer<V.Scalar>, _ ldb: Int, _ initial: UnsafePointer<V.Scalar>?,
                               _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, _: V.Type) {
    let L = V.scalarCount
    @inline(__always) func loadColumns(_ p: UnsafePointer<V.Scalar>, _ i: Int, whole: Bool = false) -> V {
        i == I &- 1 && last < L && !whole ? loadPartial(p + i &* L, last) : load(p + i &* L)
    }
    // The rows of B whose partial last vector is loaded whole (the lanes past `last` read
    // the next row, are computed and never stored): all but the last ceil((L - last) / ldb),
    // whose whole vector could end past B's last element. (A copy per row was most of the
    // time of grad_input for 28 -> 672.)
    let wholeRows = last < L && ldb > 0 ? k &- (L &- last &+ ldb &- 1) / ldb : 0
    var start0 = V(), start1 = V(), start2 = V(), start3 = V()
    if let initial {
        start0 = loadColumns(initial, 0)
        if I > 1 { start1 = loadColumns(initial, 1) }
        if I > 2 { start2 = loadColumns(initial, 2) }
        if I > 3 { start3 = loadColumns(initial, 3) }
    }
    var c00 = start0, c01 = start1, c02 = start2, c03 = start3
    var c10 = start0, c11 = start1, c12 = start2, c13 = start3
    var c20 = start0, c21 = start1, c22 = start2, c23 = start3
    var c30 = start0, c31 = start1, c32 = start2, c33 = start3
    let a0 = a, a1 = a + aRow, a2 = a + 2 &* aRow, a3 = a + 3 &* aRow
    var bp = b
    for p in 0..<k {
        let whole = p < wholeRows
        let b0 = loadColumns(bp, 0, whole: whole)
        let b1: V = I > 1 ? loadColumns(bp, 1, whole: whole) : V(), b2: V = I > 2 ? loadColumns(bp, 2, whole: whole) : V()
        let b3: V = I > 3 ? loadColumns(bp, 3, whole: whole) : V()
        let o = p &* aDepth
        let s0 = V(repeating: a0[o])
        c00 = V.madd(c00, s0, b0)
        if I > 1 { c01 = V.madd(c01, s0, b1) }
        if I > 2 { c02 = V.madd(c02, s0, b2) }
        if I > 3 { c03 = V.madd(c03, s0, b3) }
        if J > 1 {
            let s1 = V(repeating: a1[o])
            c10 = V.madd(c10, s1, b0)
            if I > 1 { c11 = V.madd(c11, s1, b1) }
            if I > 2 { c12 = V.madd(c12, s1, b2) }
            if I > 3 { c13 = V.madd(c13, s1, b3) }
        }
        if J > 2 {
            let s2 = V(repeating: a2[o])
            c20 = V.madd(c20, s2, b0)
            if I > 1 { c21 = V.madd(c21, s2, b1) }
            if I > 2 { c22 = V.madd(c22, s2, b2) }
            if I > 3 { c23 = V.madd(c23, s2, b3) }
        }
        if J > 3 {
            let s3 = V(repeating: a3[o])
            c30 = V.madd(c30, s3, b0)
            if I > 1 { c31 = V.madd(c31, s3, b1) }
            if I > 2 { c32 = V.madd(c32, s3, b2) }
            if I > 3 { c33 = V.madd(c33, s3, b3) }
        }
        bp += ldb
    }
    @inline(__always) func out(_ j: Int, _ i: Int, _ v: V) {
        store(v, c + (j &* ldc &+ i &* L), i == I &- 1 ? last : L)
    }
    out(0, 0, c00)
    if I > 1 { out(0, 1, c01) }
    if I > 2 { out(0, 2, c02) }
    if I > 3 { out(0, 3, c03) }
    if J > 1 {
        out(1, 0, c10)
        if I > 1 { out(1, 1, c11) }
        if I > 2 { out(1, 2, c12) }
        if I > 3 { out(1, 3, c13) }
    }
    if J > 2 {
        out(2, 0, c20)
        if I > 1 { out(2, 1, c21) }
        if I > 2 { out(2, 2, c22) }
        if I > 3 { out(2, 3, c23) }
    }
    if J > 3 {
        out(3, 0, c30)
        if I > 1 { out(3, 1, c31) }
        if I > 2 { out(3, 2, c32) }
        if I > 3 { out(3, 3, c33) }
    }
}

/// Tiles of `J` rows (a constant): four vectors of columns at a time where the registers
/// allow (independent sums in flight: with one row, the depth is a chain of dependent
/// multiply-adds per vector), then one vector at a time, the last one partial.
@_transparent
private func gemmRows<V: LaneVector>(_ J: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<V.Scalar>, _ aRow: Int, _ aDepth: Int,
                               _ b: UnsafePointer<V.Scalar>, _ ldb: Int, _ initial: UnsafePointer<V.Scalar>?,
                               _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, _ t: V.Type) {
    let L = V.scalarCount
    var i = 0
#if SWIFTCONV_AVX512
    let wide = J <= 2 ? 4 : 2
#else
    let wide = J <= 1 ? 4 : 2
#endif
    while i &+ wide &* L <= n {
        if wide == 4 {
            gemmTile(J, 4, L, k, a, aRow, aDepth, b + i, ldb, initial.map { $0 + i }, c + i, ldc, t)
        } else {
            gemmTile(J, 2, L, k, a, aRow, aDepth, b + i, ldb, initial.map { $0 + i }, c + i, ldc, t)
        }
        i &+= wide &* L
    }
    while i < n {
        let count = min(L, n &- i)
        if count == L {
            gemmTile(J, 1, L, k, a, aRow, aDepth, b + i, ldb, initial.map { $0 + i }, c + i, ldc, t)
        } else {
            gemmTile(J, 1, count, k, a, aRow, aDepth, b + i, ldb, initial.map { $0 + i }, c + i, ldc, t)
        }
        i &+= count
    }
}

@inline(__always)
private func smallGemm<V: LaneVector>(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<V.Scalar>, _ aRow: Int, _ aDepth: Int,
                                _ b: UnsafePointer<V.Scalar>, _ ldb: Int, _ initial: UnsafePointer<V.Scalar>?,
                                _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, _ t: V.Type) {
    var j = 0
    while j < m {
        let jj = min(maxGemmRows, m &- j)
        let aj = a + j &* aRow, cj = c + j &* ldc
        switch jj {
        case 4: gemmRows(4, n, k, aj, aRow, aDepth, b, ldb, initial, cj, ldc, t)
        case 3: gemmRows(3, n, k, aj, aRow, aDepth, b, ldb, initial, cj, ldc, t)
        case 2: gemmRows(2, n, k, aj, aRow, aDepth, b, ldb, initial, cj, ldc, t)
        default: gemmRows(1, n, k, aj, aRow, aDepth, b, ldb, initial, cj, ldc, t)
        }
        j &+= jj
    }
}

/// c[j * ldc + i] = initial[i] (0 without) + sum over p < k, in order, of
/// a[j * aRow + p * aDepth] * b[p * ldb + i], for j < m, i < n: one (fused) multiply-add per
/// term from the initial value, the im2col GEMM's order.
@inline(never)
public func smallGemmF32(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, aRow: Int, aDepth: Int,
                         b: UnsafePointer<Float>, ldb: Int, initial: UnsafePointer<Float>?,
                         c: UnsafeMutablePointer<Float>, ldc: Int) {
    smallGemm(m, n, k, a, aRow, aDepth, b, ldb, initial, c, ldc, SIMD16<Float>.self)
}

@inline(never)
public func smallGemmF64(m: Int, n: Int, k: Int, a: UnsafePointer<Double>, aRow: Int, aDepth: Int,
                         b: UnsafePointer<Double>, ldb: Int, initial: UnsafePointer<Double>?,
                         c: UnsafeMutablePointer<Double>, ldc: Int) {
    smallGemm(m, n, k, a, aRow, aDepth, b, ldb, initial, c, ldc, SIMD8<Double>.self)
}
