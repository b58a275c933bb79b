/// Depthwise convolution (one input channel per group, one output channel per input
/// channel) vectorised over channels: a 64-byte vector holds one pixel of 16 Float (8 Double)
/// channels, every tap is one vector multiply-add, and the weights are vectors too (tap-major,
/// `taps x lanes`). The loops read and write pixel-major memory with a channel stride of one
/// and any pixel / row stride: the driver's channel-interleaved tiles of NCHW planes
/// (DepthwiseConvolution.swift) or channels-last (NHWC) arrays as they are.
///
/// Compiled three times like MicroKernels.swift (the AVX512 and Baseline targets' files are
/// symlinks): zmm multiply-adds on x86-64-v4, two ymm per vector on x86-64-v3, unfused SSE2 on
/// the baseline. Each output element sums its taps in one fixed order (a tap order that
/// depends only on the geometry, starting from the bias), whichever loop computes it and
/// whichever rows a call covers, so results do not depend on how the work is split.

import CSwiftConv

@inline(__always)
private func loadV<V: SIMD>(_ p: UnsafePointer<V.Scalar>) -> V {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always)
private func storeV<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

/// Plain-Swift view of sc_depthwise_rows.
private struct Rows {
    let adjoint: Bool
    let kH: Int, kW: Int, sH: Int, sW: Int, dH: Int, dW: Int, pT: Int, pL: Int
    let srcRowLo: Int, srcRowHi: Int, srcColLo: Int, srcColHi: Int
    let rowLo: Int, rowHi: Int, colLo: Int, colHi: Int
    let srcPix: Int, srcRow: Int, dstPix: Int, dstRow: Int

    @inline(__always) init(_ g: sc_depthwise_rows) {
        adjoint = g.adjoint != 0
        kH = Int(g.kernel_height); kW = Int(g.kernel_width)
        sH = Int(g.stride_h); sW = Int(g.stride_w); dH = Int(g.dilation_h); dW = Int(g.dilation_w)
        pT = Int(g.pad_top); pL = Int(g.pad_left)
        srcRowLo = Int(g.src_row_begin); srcRowHi = Int(g.src_row_end)
        srcColLo = Int(g.src_col_begin); srcColHi = Int(g.src_col_end)
        rowLo = Int(g.row_begin); rowHi = Int(g.row_end); colLo = Int(g.col_begin); colHi = Int(g.col_end)
        srcPix = Int(g.src_pixel_stride); srcRow = Int(g.src_row_stride)
        dstPix = Int(g.dst_pixel_stride); dstRow = Int(g.dst_row_stride)
    }
}

@inline(__always)
private func gcd(_ a: Int, _ b: Int) -> Int {
    var a = a, b = b
    while b != 0 { (a, b) = (b, a % b) }
    return a
}

/// The taps of one output index along one axis: taps k0, k0 + kStep, ... (`count` of them)
/// reading source indices src0, src0 + srcStep, ...
/// Forward: src = o*s - p + k*d. Adjoint (the gather form of the transposed convolution):
/// src = (o + p - k*d) / s, for the k where that division is exact. Only sources in
/// [lo, hi) count (the others are zeros: padding).
@inline(__always)
private func axisTaps(_ o: Int, adjoint: Bool, k: Int, s: Int, d: Int, p: Int, lo: Int, hi: Int) -> (k0: Int, count: Int, src0: Int) {
    if !adjoint {
        let base = o &* s &- p
        // Every tap inside (the tiles' case): no division.
        if base >= lo && base &+ (k &- 1) &* d < hi { return (0, k, base) }
        // lo <= base + k*d < hi
        var kLo = 0
        if base < lo { kLo = (lo &- base &+ d &- 1) / d }
        var kHi = k
        if base &+ (k &- 1) &* d >= hi { kHi = hi &- 1 &- base < 0 ? 0 : (hi &- 1 &- base) / d &+ 1 }
        if kLo >= kHi { return (0, 0, 0) }
        return (kLo, kHi &- kLo, base &+ kLo &* d)
    }
    if s == 1 && o &+ p < hi && o &+ p &- (k &- 1) &* d >= lo { return (0, k, o &+ p) }
    var first = -1, count = 0, src0 = 0
    for t in 0..<k {
        let r = o &+ p &- t &* d
        if r % s != 0 { continue }
        let q = r / s
        if q < lo || q >= hi { continue }
        if first < 0 { first = t; src0 = q }
        count &+= 1
    }
    return first < 0 ? (0, 0, 0) : (first, count, src0)
}

/// The steps of `depthwiseRows`' register blocks in lanes (a tile's pixel is one vector):
/// between the pixels of a block (`advance`), between taps along a row of the kernel
/// (`xStep`, `wStep`). A fixed pattern makes them constants of a specialisation, so the
/// addresses fold into the loads' displacements and the blocks keep their pointers in
/// registers; `RuntimeSteps` reads them from the geometry.
private protocol StepPattern { static var isFixed: Bool { get }; static var advance: Int { get }; static var xStep: Int { get }; static var wStep: Int { get } }
private enum ForwardStride1: StepPattern { static var isFixed: Bool { true }; static var advance: Int { 1 }; static var xStep: Int { 1 }; static var wStep: Int { 1 } }
private enum ForwardStride2: StepPattern { static var isFixed: Bool { true }; static var advance: Int { 2 }; static var xStep: Int { 1 }; static var wStep: Int { 1 } }
private enum AdjointStride1: StepPattern { static var isFixed: Bool { true }; static var advance: Int { 1 }; static var xStep: Int { -1 }; static var wStep: Int { 1 } }
private enum AdjointStride2: StepPattern { static var isFixed: Bool { true }; static var advance: Int { 1 }; static var xStep: Int { -1 }; static var wStep: Int { 2 } }
private enum RuntimeSteps: StepPattern { static var isFixed: Bool { false }; static var advance: Int { 0 }; static var xStep: Int { 0 }; static var wStep: Int { 0 } }

/// The taps per kernel row and column of a register block, when both are the same small
/// constant (3x3 and 5x5 kernels, every tap inside): a constant of the specialisation, so the
/// tap loops unroll and the blocks keep their pointers in registers, where runtime trip counts
/// of 3 kept loop counters and spilled pointers in the blocks (perf annotate). Measured alone
/// (one thread, N1, AVX-512 Xeon, CPU time, old / new in alternating processes): 960x7x7 k3
/// 53.6 -> 50.7 us, 1152x7x7 k5 79.3 -> 74.2, 672x14x14 k5 s2 88.0 -> 82.4, 192x28x28 k3
/// 135 -> 113; 56x56 and 112x112 planes within +-2% (noise). `RuntimeTaps` reads the counts
/// from the geometry. The taps' order is the same either way: the same bits.
private protocol TapCount { static var n: Int { get } }
private enum Taps3: TapCount { static var n: Int { 3 } }
private enum Taps5: TapCount { static var n: Int { 5 } }
private enum RuntimeTaps: TapCount { static var n: Int { 0 } }

/// dst[o] = bias + sum over taps of w[tap] * src[tap's source] for the outputs of `g`.
@inline(__always)
private func depthwiseRows<V: SIMD>(_: V.Type, _ g: Rows, _ x: UnsafePointer<V.Scalar>, _ w: UnsafePointer<V.Scalar>,
                                    _ bias: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>)
where V.Scalar: BinaryFloatingPoint {
    let L = V.scalarCount
    let cols = g.colHi &- g.colLo
    if cols <= 0 || g.rowHi <= g.rowLo { return }
    let b: V = loadV(bias)
    let steps = Steps(g, lanes: L)
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 &* cols) { buffer in
        let desc = buffer.baseAddress!
        for j in 0..<cols {
            let t = axisTaps(g.colLo &+ j, adjoint: g.adjoint, k: g.kW, s: g.sW, d: g.dW, p: g.pL, lo: g.srcColLo, hi: g.srcColHi)
            desc[3 &* j] = t.k0; desc[3 &* j &+ 1] = t.count; desc[3 &* j &+ 2] = t.src0
        }
        // The loops specialised for the tiles' common step patterns (StepPattern).
        let l = L
        switch (steps.xAdvance, steps.xStepW, steps.wStepW) {
        case (l, l, l): depthwiseRowLoops(V.self, ForwardStride1.self, g, steps, x, w, b, y, desc)
        case (2 &* l, l, l): depthwiseRowLoops(V.self, ForwardStride2.self, g, steps, x, w, b, y, desc)
        case (l, -l, l): depthwiseRowLoops(V.self, AdjointStride1.self, g, steps, x, w, b, y, desc)
        case (l, -l, 2 &* l): depthwiseRowLoops(V.self, AdjointStride2.self, g, steps, x, w, b, y, desc)
        default: depthwiseRowLoops(V.self, RuntimeSteps.self, g, steps, x, w, b, y, desc)
        }
    }
}

/// The steps of `depthwiseRows` (elements): along each axis the tap step and source step
/// between consecutive valid taps; outputs `period` apart along a row have the same taps
/// (away from the borders), their sources `advance` pixels apart.
private struct Steps {
    let kStepH: Int, srcStepH: Int, period: Int, advance: Int
    let xAdvance: Int, xStepW: Int, wStepW: Int

    @inline(__always) init(_ g: Rows, lanes L: Int) {
        kStepH = g.adjoint ? g.sH / gcd(g.sH, g.dH) : 1
        srcStepH = g.adjoint ? -(g.dH / gcd(g.sH, g.dH)) : g.dH
        let kStepW = g.adjoint ? g.sW / gcd(g.sW, g.dW) : 1, srcStepW = g.adjoint ? -(g.dW / gcd(g.sW, g.dW)) : g.dW
        period = g.adjoint ? g.sW : 1
        advance = g.adjoint ? 1 : g.sW
        xAdvance = advance &* g.srcPix; xStepW = srcStepW &* g.srcPix; wStepW = kStepW &* L
    }
}

/// The rows of `depthwiseRows`, `desc` holding each column's taps (k0, count, src0).
private func depthwiseRowLoops<V: SIMD, S: StepPattern>(_: V.Type, _: S.Type, _ g: Rows, _ st: Steps,
                                                        _ x: UnsafePointer<V.Scalar>, _ w: UnsafePointer<V.Scalar>, _ b: V,
                                                        _ y: UnsafeMutablePointer<V.Scalar>, _ desc: UnsafeMutablePointer<Int>)
where V.Scalar: BinaryFloatingPoint {
    let L = V.scalarCount
    let cols = g.colHi &- g.colLo
    let kStepH = st.kStepH, srcStepH = st.srcStepH, period = st.period, advance = st.advance
    let srcPix = g.srcPix, dstPix = g.dstPix
    /// Whether outputs j, j + period, ... (n of them) share their taps.
    @inline(__always) func uniform(_ j: Int, _ n: Int) -> Bool {
        let k0 = desc[3 &* j], c = desc[3 &* j &+ 1], s0 = desc[3 &* j &+ 2]
        for i in 1..<n {
            let q = 3 &* (j &+ i &* period)
            if desc[q] != k0 || desc[q &+ 1] != c || desc[q &+ 2] != s0 &+ i &* advance { return false }
        }
        return true
    }
    /// Column j's tap count when it equals the row's (`th`): a square block of taps (TapCount).
    @inline(__always) func squareTaps(_ th: (k0: Int, count: Int, src0: Int), _ j: Int) -> Int {
        desc[3 &* j &+ 1] == th.count ? th.count : 0
    }
    let xRowStep = srcStepH &* g.srcRow, wRowStep = kStepH &* g.kW &* L
    // Rows `periodH` apart have the same row taps (away from the borders), their source
    // rows `advanceH` apart.
    let periodH = g.adjoint ? g.sH : 1, advanceH = g.adjoint ? 1 : g.sH
    let xRowAdvance = advanceH &* g.srcRow, yRowAdvance = periodH &* g.dstRow

    /// Output (oh, column j): row taps `th`.
    @inline(__always) func single(_ th: (k0: Int, count: Int, src0: Int), _ oh: Int, _ j: Int) {
        let k0 = desc[3 &* j], c = desc[3 &* j &+ 1], s0 = desc[3 &* j &+ 2]
        // (Read from S inside each block: a constant of each specialisation.)
        let xStepW = S.isFixed ? S.xStep &* L : st.xStepW, wStepW = S.isFixed ? S.wStep &* L : st.wStepW
        var a = b
        var xr = x + (th.src0 &* g.srcRow &+ s0 &* srcPix), wr = w + (th.k0 &* g.kW &+ k0) &* L
        for _ in 0..<th.count {
            var xp = xr, wp = wr
            for _ in 0..<c {
                a = fmadd(a, loadV(xp), loadV(wp))
                xp += xStepW; wp += wStepW
            }
            xr += xRowStep; wr += wRowStep
        }
        storeV(a, y + (oh &* g.dstRow &+ (g.colLo &+ j) &* dstPix))
    }
    /// Outputs (oh, j + u*period), u < 4, of one row.
    @inline(__always) func block4<K: TapCount>(_: K.Type, _ th: (k0: Int, count: Int, src0: Int), _ oh: Int, _ j: Int) {
        let k0 = desc[3 &* j], c = desc[3 &* j &+ 1], s0 = desc[3 &* j &+ 2]
        // (Read from S inside each block: a constant of each specialisation.)
        let xAdvance = S.isFixed ? S.advance &* L : st.xAdvance
        let xStepW = S.isFixed ? S.xStep &* L : st.xStepW, wStepW = S.isFixed ? S.wStep &* L : st.wStepW
        var a0 = b, a1 = b, a2 = b, a3 = b
        var xr = x + (th.src0 &* g.srcRow &+ s0 &* srcPix), wr = w + (th.k0 &* g.kW &+ k0) &* L
        let rows = K.n > 0 ? K.n : th.count, cols = K.n > 0 ? K.n : c
        for _ in 0..<rows {
            var xp = xr, wp = wr
            for _ in 0..<cols {
                let wv: V = loadV(wp)
                a0 = fmadd(a0, loadV(xp), wv)
                a1 = fmadd(a1, loadV(xp + xAdvance), wv)
                a2 = fmadd(a2, loadV(xp + 2 &* xAdvance), wv)
                a3 = fmadd(a3, loadV(xp + 3 &* xAdvance), wv)
                xp += xStepW; wp += wStepW
            }
            xr += xRowStep; wr += wRowStep
        }
        let o = y + (oh &* g.dstRow &+ (g.colLo &+ j) &* dstPix), step = period &* dstPix
        storeV(a0, o); storeV(a1, o + step); storeV(a2, o + 2 &* step); storeV(a3, o + 3 &* step)
    }
#if SWIFTCONV_AVX512
    /// Outputs (oh, j + u*period), u < 8, of one row (32 zmm registers hold 8 accumulators).
    @inline(__always) func block8<K: TapCount>(_: K.Type, _ th: (k0: Int, count: Int, src0: Int), _ oh: Int, _ j: Int) {
        let k0 = desc[3 &* j], c = desc[3 &* j &+ 1], s0 = desc[3 &* j &+ 2]
        // (Read from S inside each block: a constant of each specialisation.)
        let xAdvance = S.isFixed ? S.advance &* L : st.xAdvance
        let xStepW = S.isFixed ? S.xStep &* L : st.xStepW, wStepW = S.isFixed ? S.wStep &* L : st.wStepW
        var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b
        var xr = x + (th.src0 &* g.srcRow &+ s0 &* srcPix), wr = w + (th.k0 &* g.kW &+ k0) &* L
        let rows = K.n > 0 ? K.n : th.count, cols = K.n > 0 ? K.n : c
        for _ in 0..<rows {
            var xp = xr, wp = wr
            for _ in 0..<cols {
                let wv: V = loadV(wp)
                a0 = fmadd(a0, loadV(xp), wv)
                a1 = fmadd(a1, loadV(xp + xAdvance), wv)
                a2 = fmadd(a2, loadV(xp + 2 &* xAdvance), wv)
                a3 = fmadd(a3, loadV(xp + 3 &* xAdvance), wv)
                a4 = fmadd(a4, loadV(xp + 4 &* xAdvance), wv)
                a5 = fmadd(a5, loadV(xp + 5 &* xAdvance), wv)
                a6 = fmadd(a6, loadV(xp + 6 &* xAdvance), wv)
                a7 = fmadd(a7, loadV(xp + 7 &* xAdvance), wv)
                xp += xStepW; wp += wStepW
            }
            xr += xRowStep; wr += wRowStep
        }
        let o = y + (oh &* g.dstRow &+ (g.colLo &+ j) &* dstPix), step = period &* dstPix
        storeV(a0, o); storeV(a1, o + step); storeV(a2, o + 2 &* step); storeV(a3, o + 3 &* step)
        storeV(a4, o + 4 &* step); storeV(a5, o + 5 &* step); storeV(a6, o + 6 &* step); storeV(a7, o + 7 &* step)
    }
    /// Outputs (oh + v*periodH, j + u*period), u < 4, v < 2: two rows with the same taps
    /// (narrow planes, where a row has too few outputs for `block8`).
    @inline(__always) func block4x2<K: TapCount>(_: K.Type, _ th: (k0: Int, count: Int, src0: Int), _ oh: Int, _ j: Int) {
        let k0 = desc[3 &* j], c = desc[3 &* j &+ 1], s0 = desc[3 &* j &+ 2]
        // (Read from S inside each block: a constant of each specialisation.)
        let xAdvance = S.isFixed ? S.advance &* L : st.xAdvance
        let xStepW = S.isFixed ? S.xStep &* L : st.xStepW, wStepW = S.isFixed ? S.wStep &* L : st.wStepW
        var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b
        var xr = x + (th.src0 &* g.srcRow &+ s0 &* srcPix), wr = w + (th.k0 &* g.kW &+ k0) &* L
        let rows = K.n > 0 ? K.n : th.count, cols = K.n > 0 ? K.n : c
        for _ in 0..<rows {
            var xp = xr, wp = wr
            for _ in 0..<cols {
                let wv: V = loadV(wp)
                let xq = xp + xRowAdvance
                a0 = fmadd(a0, loadV(xp), wv)
                a1 = fmadd(a1, loadV(xp + xAdvance), wv)
                a2 = fmadd(a2, loadV(xp + 2 &* xAdvance), wv)
                a3 = fmadd(a3, loadV(xp + 3 &* xAdvance), wv)
                a4 = fmadd(a4, loadV(xq), wv)
                a5 = fmadd(a5, loadV(xq + xAdvance), wv)
                a6 = fmadd(a6, loadV(xq + 2 &* xAdvance), wv)
                a7 = fmadd(a7, loadV(xq + 3 &* xAdvance), wv)
                xp += xStepW; wp += wStepW
            }
            xr += xRowStep; wr += wRowStep
        }
        let o = y + (oh &* g.dstRow &+ (g.colLo &+ j) &* dstPix), step = period &* dstPix, q = o + yRowAdvance
        storeV(a0, o); storeV(a1, o + step); storeV(a2, o + 2 &* step); storeV(a3, o + 3 &* step)
        storeV(a4, q); storeV(a5, q + step); storeV(a6, q + 2 &* step); storeV(a7, q + 3 &* step)
    }
    /// Outputs (oh + v*periodH, j + u*period), u < 7, v < `rowCount` (1 or 2): rows of 7 (or
    /// 14) outputs exactly, where `block8` / `block4x2` overlapping the row's end computed 16
    /// for 14 (the 7x7 and 14x14 planes of MobileNetV2 / EfficientNet-B0); 14 accumulators
    /// keep both FMA pipes busy, 7 nearly. The same taps in the same order: the same bits.
    @inline(__always) func block7<K: TapCount>(_: K.Type, _ th: (k0: Int, count: Int, src0: Int), _ oh: Int, _ j: Int,
                                               rowCount: Int) {
        let k0 = desc[3 &* j], c = desc[3 &* j &+ 1], s0 = desc[3 &* j &+ 2]
        // (Read from S inside each block: a constant of each specialisation.)
        let xAdvance = S.isFixed ? S.advance &* L : st.xAdvance
        let xStepW = S.isFixed ? S.xStep &* L : st.xStepW, wStepW = S.isFixed ? S.wStep &* L : st.wStepW
        let rows = K.n > 0 ? K.n : th.count, cols = K.n > 0 ? K.n : c
        let o = y + (oh &* g.dstRow &+ (g.colLo &+ j) &* dstPix), step = period &* dstPix
        if rowCount == 1 {
            var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b
            var xr = x + (th.src0 &* g.srcRow &+ s0 &* srcPix), wr = w + (th.k0 &* g.kW &+ k0) &* L
            for _ in 0..<rows {
                var xp = xr, wp = wr
                for _ in 0..<cols {
                    let wv: V = loadV(wp)
                    a0 = fmadd(a0, loadV(xp), wv)
                    a1 = fmadd(a1, loadV(xp + xAdvance), wv)
                    a2 = fmadd(a2, loadV(xp + 2 &* xAdvance), wv)
                    a3 = fmadd(a3, loadV(xp + 3 &* xAdvance), wv)
                    a4 = fmadd(a4, loadV(xp + 4 &* xAdvance), wv)
                    a5 = fmadd(a5, loadV(xp + 5 &* xAdvance), wv)
                    a6 = fmadd(a6, loadV(xp + 6 &* xAdvance), wv)
                    xp += xStepW; wp += wStepW
                }
                xr += xRowStep; wr += wRowStep
            }
            storeV(a0, o); storeV(a1, o + step); storeV(a2, o + 2 &* step); storeV(a3, o + 3 &* step)
            storeV(a4, o + 4 &* step); storeV(a5, o + 5 &* step); storeV(a6, o + 6 &* step)
            return
        }
        var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b
        var c0 = b, c1 = b, c2 = b, c3 = b, c4 = b, c5 = b, c6 = b
        var xr = x + (th.src0 &* g.srcRow &+ s0 &* srcPix), wr = w + (th.k0 &* g.kW &+ k0) &* L
        for _ in 0..<rows {
            var xp = xr, wp = wr
            for _ in 0..<cols {
                let wv: V = loadV(wp)
                let xq = xp + xRowAdvance
                a0 = fmadd(a0, loadV(xp), wv)
                a1 = fmadd(a1, loadV(xp + xAdvance), wv)
                a2 = fmadd(a2, loadV(xp + 2 &* xAdvance), wv)
                a3 = fmadd(a3, loadV(xp + 3 &* xAdvance), wv)
                a4 = fmadd(a4, loadV(xp + 4 &* xAdvance), wv)
                a5 = fmadd(a5, loadV(xp + 5 &* xAdvance), wv)
                a6 = fmadd(a6, loadV(xp + 6 &* xAdvance), wv)
                c0 = fmadd(c0, loadV(xq), wv)
                c1 = fmadd(c1, loadV(xq + xAdvance), wv)
                c2 = fmadd(c2, loadV(xq + 2 &* xAdvance), wv)
                c3 = fmadd(c3, loadV(xq + 3 &* xAdvance), wv)
                c4 = fmadd(c4, loadV(xq + 4 &* xAdvance), wv)
                c5 = fmadd(c5, loadV(xq + 5 &* xAdvance), wv)
                c6 = fmadd(c6, loadV(xq + 6 &* xAdvance), wv)
                xp += xStepW; wp += wStepW
            }
            xr += xRowStep; wr += wRowStep
        }
        let q = o + yRowAdvance
        storeV(a0, o); storeV(a1, o + step); storeV(a2, o + 2 &* step); storeV(a3, o + 3 &* step)
        storeV(a4, o + 4 &* step); storeV(a5, o + 5 &* step); storeV(a6, o + 6 &* step)
        storeV(c0, q); storeV(c1, q + step); storeV(c2, q + 2 &* step); storeV(c3, q + 3 &* step)
        storeV(c4, q + 4 &* step); storeV(c5, q + 5 &* step); storeV(c6, q + 6 &* step)
    }
    /// Rows of 7 or 14 outputs per phase (n) in blocks of 7 (`block7`) where their taps are
    /// uniform: whether it ran them (else the 8- and 4-wide blocks do).
    @inline(__always) func sevens(_ th: (k0: Int, count: Int, src0: Int), _ oh: Int, _ r: Int, _ n: Int, rowCount: Int) -> Bool {
        if n != 7 && n != 14 { return false }
        for i in stride(from: 0, to: n, by: 7) where !uniform(r &+ i &* period, 7) { return false }
        for i in stride(from: 0, to: n, by: 7) {
            let j = r &+ i &* period
            switch squareTaps(th, j) {
            case 3: block7(Taps3.self, th, oh, j, rowCount: rowCount)
            case 5: block7(Taps5.self, th, oh, j, rowCount: rowCount)
            default: block7(RuntimeTaps.self, th, oh, j, rowCount: rowCount)
            }
        }
        return true
    }
#endif
    /// One output row: each phase (outputs `period` apart) in blocks of pixels that share
    /// their taps; a last block may overlap the one before (it stores the very same values),
    /// the pixels of a non-uniform block go one by one.
    @inline(__always) func row(_ oh: Int, _ th: (k0: Int, count: Int, src0: Int)) {
        if th.count == 0 {
            for j in 0..<cols { storeV(b, y + (oh &* g.dstRow &+ (g.colLo &+ j) &* dstPix)) }
            return
        }
        for r in 0..<min(period, cols) {
            let n = period == 1 ? cols : (cols &- r &+ period &- 1) / period  // outputs of this phase
            var i = 0
#if SWIFTCONV_AVX512
            if sevens(th, oh, r, n, rowCount: 1) { continue }
            while i < n && n >= 8 {
                if i &+ 8 > n { i = n &- 8 }
                let j = r &+ i &* period
                if uniform(j, 8) {
                    switch squareTaps(th, j) {
                    case 3: block8(Taps3.self, th, oh, j)
                    case 5: block8(Taps5.self, th, oh, j)
                    default: block8(RuntimeTaps.self, th, oh, j)
                    }
                } else {
                    for u in 0..<8 { single(th, oh, j &+ u &* period) }
                }
                i &+= 8
            }
#endif
            while i < n && n >= 4 {
                if i &+ 4 > n { i = n &- 4 }
                let j = r &+ i &* period
                if uniform(j, 4) {
                    switch squareTaps(th, j) {
                    case 3: block4(Taps3.self, th, oh, j)
                    case 5: block4(Taps5.self, th, oh, j)
                    default: block4(RuntimeTaps.self, th, oh, j)
                    }
                } else {
                    for u in 0..<4 { single(th, oh, j &+ u &* period) }
                }
                i &+= 4
            }
            while i < n { single(th, oh, r &+ i &* period); i &+= 1 }
        }
    }
#if SWIFTCONV_AVX512
    /// Rows oh and oh + periodH, whose taps are the same (`th`, sources advanceH further).
    @inline(__always) func rowPair(_ oh: Int, _ th: (k0: Int, count: Int, src0: Int)) {
        let th2 = (k0: th.k0, count: th.count, src0: th.src0 &+ advanceH), oh2 = oh &+ periodH
        for r in 0..<min(period, cols) {
            let n = period == 1 ? cols : (cols &- r &+ period &- 1) / period
            if sevens(th, oh, r, n, rowCount: 2) { continue }
            var i = 0
            while i < n && n >= 4 {
                if i &+ 4 > n { i = n &- 4 }
                let j = r &+ i &* period
                if uniform(j, 4) {
                    switch squareTaps(th, j) {
                    case 3: block4x2(Taps3.self, th, oh, j)
                    case 5: block4x2(Taps5.self, th, oh, j)
                    default: block4x2(RuntimeTaps.self, th, oh, j)
                    }
                } else {
                    for u in 0..<4 { single(th, oh, j &+ u &* period); single(th2, oh2, j &+ u &* period) }
                }
                i &+= 4
            }
            while i < n { single(th, oh, r &+ i &* period); single(th2, oh2, r &+ i &* period); i &+= 1 }
        }
    }
#endif
    for rh in 0..<min(periodH, g.rowHi &- g.rowLo) {
        var oh = g.rowLo &+ rh
        while oh < g.rowHi {
            let th = axisTaps(oh, adjoint: g.adjoint, k: g.kH, s: g.sH, d: g.dH, p: g.pT, lo: g.srcRowLo, hi: g.srcRowHi)
#if SWIFTCONV_AVX512
            // Narrow rows (no block8) and rows of 14 (`block7`) go in pairs of rows with the same taps.
            let oh2 = oh &+ periodH
            if (cols < 8 &* period || cols == 14 &* period) && th.count > 0 && oh2 < g.rowHi {
                let t2 = axisTaps(oh2, adjoint: g.adjoint, k: g.kH, s: g.sH, d: g.dH, p: g.pT, lo: g.srcRowLo, hi: g.srcRowHi)
                if t2.k0 == th.k0 && t2.count == th.count && t2.src0 == th.src0 &+ advanceH {
                    rowPair(oh, th)
                    oh = oh2 &+ periodH
                    continue
                }
            }
#endif
            row(oh, th)
            oh &+= periodH
        }
    }
}

/// dw[tap] += sum over the outputs of `g` of src[tap's source] * dy[output] (forward
/// geometry only; sources outside [lo, hi) are zeros). Per tap: the outputs row by row, four
/// running sums per row, then dw[tap] += ((s0 + s1) + (s2 + s3)).
@inline(__always)
private func depthwiseWeightGradientRows<V: SIMD>(_: V.Type, _ g: Rows, _ x: UnsafePointer<V.Scalar>, _ dy: UnsafePointer<V.Scalar>,
                                                  _ dw: UnsafeMutablePointer<V.Scalar>)
where V.Scalar: BinaryFloatingPoint {
    let L = V.scalarCount
    /// The outputs in [lo, hi) whose source o*s + offset lies in [srcLo, srcHi).
    @inline(__always) func valid(_ offset: Int, _ s: Int, _ lo: Int, _ hi: Int, _ srcLo: Int, _ srcHi: Int) -> Range<Int> {
        var a = lo, b = hi
        let first = srcLo &- offset  // o*s >= first
        if first > 0 { a = max(a, (first &+ s &- 1) / s) } else { a = max(a, first / s) }
        let last = srcHi &- 1 &- offset  // o*s <= last
        if last < 0 { return 0..<0 }
        b = min(b, last / s &+ 1)
        return a < b ? a..<b : 0..<0
    }
    let srcPix = g.srcPix, dstPix = g.dstPix, xStep = g.sW &* srcPix
    for kh in 0..<g.kH {
        let rowOffset = kh &* g.dH &- g.pT
        let rows = valid(rowOffset, g.sH, g.rowLo, g.rowHi, g.srcRowLo, g.srcRowHi)
        for kw in 0..<g.kW {
            let colOffset = kw &* g.dW &- g.pL
            let cols = valid(colOffset, g.sW, g.colLo, g.colHi, g.srcColLo, g.srcColHi)
            if rows.isEmpty || cols.isEmpty { continue }
            var t0 = V(), t1 = V(), t2 = V(), t3 = V()
            for oh in rows {
                let d0 = dy + (oh &* g.dstRow &+ cols.lowerBound &* dstPix)
                let x0 = x + ((oh &* g.sH &+ rowOffset) &* g.srcRow &+ (cols.lowerBound &* g.sW &+ colOffset) &* srcPix)
                var s0 = V(), s1 = V(), s2 = V(), s3 = V()
                var i = 0
                let n = cols.count
                var dp = d0, xp = x0
                while i &+ 4 <= n {
                    s0 = fmadd(s0, loadV(xp), loadV(dp))
                    s1 = fmadd(s1, loadV(xp + xStep), loadV(dp + dstPix))
                    s2 = fmadd(s2, loadV(xp + 2 &* xStep), loadV(dp + 2 &* dstPix))
                    s3 = fmadd(s3, loadV(xp + 3 &* xStep), loadV(dp + 3 &* dstPix))
                    xp += 4 &* xStep; dp += 4 &* dstPix; i &+= 4
                }
                while i < n {
                    s0 = fmadd(s0, loadV(xp), loadV(dp))
                    xp += xStep; dp += dstPix; i &+= 1
                }
                t0 += s0; t1 += s1; t2 += s2; t3 += s3
            }
            let p = dw + (kh &* g.kW &+ kw) &* L
            let total: V = (t0 + t1) + (t2 + t3)
            storeV(loadV(p) + total, p)
        }
    }
}

/// y = bias + depthwise conv (forward, or the adjoint's gather form) of x, for the rows and
/// columns of `g`, 16 float32 channels per pixel: x and y point at pixel (0, 0) of their
/// planes (only pixels inside the given ranges are read or written), w at taps x 16
/// weights, bias at 16 values.
@inline(never)
public func depthwiseRowsF32(_ g: sc_depthwise_rows, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                             _ bias: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
    depthwiseRows(SIMD16<Float>.self, Rows(g), x, w, bias, y)
}

/// `depthwiseRowsF32` for float64: 8 channels per pixel.
@inline(never)
public func depthwiseRowsF64(_ g: sc_depthwise_rows, _ x: UnsafePointer<Double>, _ w: UnsafePointer<Double>,
                             _ bias: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
    depthwiseRows(SIMD8<Double>.self, Rows(g), x, w, bias, y)
}

/// dw (taps x 16) += the weight gradient of the outputs of `g` (forward geometry): x the
/// input pixels, dy the output gradient's, 16 float32 channels per pixel.
@inline(never)
public func depthwiseWeightGradientRowsF32(_ g: sc_depthwise_rows, _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                           _ dw: UnsafeMutablePointer<Float>) {
    depthwiseWeightGradientRows(SIMD16<Float>.self, Rows(g), x, dy, dw)
}

/// `depthwiseWeightGradientRowsF32` for float64: 8 channels per pixel.
@inline(never)
public func depthwiseWeightGradientRowsF64(_ g: sc_depthwise_rows, _ x: UnsafePointer<Double>, _ dy: UnsafePointer<Double>,
                                           _ dw: UnsafeMutablePointer<Double>) {
    depthwiseWeightGradientRows(SIMD8<Double>.self, Rows(g), x, dy, dw)
}

// MARK: - Between NCHW planes and channel-interleaved tiles

/// 16 float32 pixels of 16 channels (also the half kernels' widened pixels).
typealias Pixels16 = (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
                      SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
                      SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)

/// 16-channel pixels laid out as rows of `rowWidth` pixels, `rowStride` Floats apart (the
/// interior of a zero-padded tile): where pixel p goes, and 16 pixels stored from pixel u on,
/// wrapping to the next row. Shared by the float32 and the half interleaving kernels.
struct PixelRows16 {
    let base: UnsafeMutablePointer<Float>, rowStride: Int, rowWidth: Int

    @inline(__always) func pixel(_ p: Int) -> UnsafeMutablePointer<Float> {
        let row = p / rowWidth
        return base + (row &* rowStride &+ (p &- row &* rowWidth) &* 16)
    }

    @inline(__always) func store(_ u: Int, _ v: Pixels16) {
        let row = u / rowWidth
        var column = u &- row &* rowWidth, q = base + (row &* rowStride &+ column &* 16)
        let wrap = rowStride &- (rowWidth &- 1) &* 16
        @inline(__always) func put(_ x: SIMD16<Float>) {
            UnsafeMutableRawPointer(q).storeBytes(of: x, as: SIMD16<Float>.self)
            column &+= 1
            if column == rowWidth { column = 0; q += wrap } else { q += 16 }
        }
        put(v.0); put(v.1); put(v.2); put(v.3); put(v.4); put(v.5); put(v.6); put(v.7)
        put(v.8); put(v.9); put(v.10); put(v.11); put(v.12); put(v.13); put(v.14); put(v.15)
    }
}

/// Pixels u < count of `lanes` plane rows (src[r * srcStride + u], r < lanes) as 16-lane
/// pixels (zeros in lanes >= `lanes`): 16 at a time transposed in registers and handed to
/// `store` (u, pixels u ..< u + 16), the last few one by one into `pixel(u)`.
@inline(__always)
private func interleave16(_ src: UnsafePointer<Float>, srcStride: Int, lanes: Int, count: Int,
                          store: (Int, Pixels16) -> Void, pixel: (Int) -> UnsafeMutablePointer<Float>) {
    typealias V = SIMD16<Float>
    var u = 0
    if lanes == 16 {
        while u < count && count >= 16 {
            if u &+ 16 > count {
                // A few pixels left: the scalar loop below moves them for less than another
                // transpose; more: the last block overlaps (a pure copy).
                if count &- u <= 4 { break }
                u = count &- 16
            }
            @inline(__always) func l(_ r: Int) -> V { UnsafeRawPointer(src + (r &* srcStride &+ u)).loadUnaligned(as: V.self) }
            var v = (l(0), l(1), l(2), l(3), l(4), l(5), l(6), l(7), l(8), l(9), l(10), l(11), l(12), l(13), l(14), l(15))
            for _ in 0..<4 {
                @inline(__always) func e(_ a: V, _ b: V) -> V { evens16(a, b) }
                @inline(__always) func o(_ a: V, _ b: V) -> V { odds16(a, b) }
                v = (e(v.0, v.1), e(v.2, v.3), e(v.4, v.5), e(v.6, v.7), e(v.8, v.9), e(v.10, v.11), e(v.12, v.13), e(v.14, v.15),
                     o(v.0, v.1), o(v.2, v.3), o(v.4, v.5), o(v.6, v.7), o(v.8, v.9), o(v.10, v.11), o(v.12, v.13), o(v.14, v.15))
            }
            store(u, v)
            u &+= 16
        }
    }
    while u < count {
        let o = pixel(u)
        for r in 0..<lanes { o[r] = src[r &* srcStride &+ u] }
        for r in lanes..<16 { o[r] = 0 }
        u &+= 1
    }
}

/// dst[u * 16 + r] = src[r * srcStride + u] for r < lanes, 0 for lanes <= r < 16; u < count.
@inline(never)
public func depthwiseInterleaveF32(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>,
                                   srcStride: Int, lanes: Int, count: Int) {
    #if SWIFTCONV_AVX512
    // AVX-512: fewer than 16 pixels (a kernel's taps) or lanes through the C masked blocks
    // (swiftconv_kernels.h); plane rows of 16 pixels or more (wide planes) keep the Swift form:
    // with the C transposes there, 144 dw 56x56 and 96 dw 112x112 stride 2 at N8 ran
    // 1.05-1.09x slower (one thread, in one process with bf0a924, 3 runs).
    if count < 16 || lanes < 16 {
        if count > 0 { sc_depthwise_interleave_rows_f32(dst, 16 &* count, count, src, srcStride, lanes, count) }
        return
    }
    #endif
    interleave16(src, srcStride: srcStride, lanes: lanes, count: count, store: { u, v in
        let d = UnsafeMutableRawPointer(dst + u &* 16)
        @inline(__always) func st(_ x: SIMD16<Float>, _ i: Int) { d.storeBytes(of: x, toByteOffset: i &* 64, as: SIMD16<Float>.self) }
        st(v.0, 0); st(v.1, 1); st(v.2, 2); st(v.3, 3); st(v.4, 4); st(v.5, 5); st(v.6, 6); st(v.7, 7)
        st(v.8, 8); st(v.9, 9); st(v.10, 10); st(v.11, 11); st(v.12, 12); st(v.13, 13); st(v.14, 14); st(v.15, 15)
    }, pixel: { dst + $0 &* 16 })
}

/// `depthwiseInterleaveF32` into rows of a tile: pixel u (of rows `rowWidth` pixels long,
/// one after the other in the planes) goes to dst + (u / rowWidth) * rowStride +
/// (u % rowWidth) * 16. Narrow planes' rows straight into a zero-bordered tile, without an
/// intermediate interleaved copy and a memmove per row (on 14x14 planes the copy and its
/// memmoves took ~22% of a stride-2 layer, perf). Measured with the scalar tails and the
/// constant tap counts (forward, one thread, N1, CPU time, before -> after in alternating
/// processes): 576x14x14 k3 s2 55.2 -> 41.0 us, 672x14x14 k5 s2 84.4 -> 64.9, 384x14x14 k3
/// 75.9 -> 62.5, 960x7x7 k3 54.0 -> 45.9, 1152x7x7 k5 79.9 -> 75.5.
@inline(never)
public func depthwiseInterleaveRowsF32(_ dst: UnsafeMutablePointer<Float>, rowStride: Int, rowWidth: Int, _ src: UnsafePointer<Float>,
                                       srcStride: Int, lanes: Int, count: Int) {
    #if SWIFTCONV_AVX512
    sc_depthwise_interleave_rows_f32(dst, rowStride, rowWidth, src, srcStride, lanes, count)
    #else
    let rows = PixelRows16(base: dst, rowStride: rowStride, rowWidth: rowWidth)
    interleave16(src, srcStride: srcStride, lanes: lanes, count: count, store: { rows.store($0, $1) }, pixel: { rows.pixel($0) })
    #endif
}

/// dst[u * 8 + r] = src[r * srcStride + u] for r < lanes, 0 for lanes <= r < 8; u < count.
@inline(never)
public func depthwiseInterleaveF64(_ dst: UnsafeMutablePointer<Double>, _ src: UnsafePointer<Double>,
                                   srcStride: Int, lanes: Int, count: Int) {
    typealias V = SIMD8<Double>
    var u = 0
    if lanes == 8 {
        while u < count && count >= 8 {
            if u &+ 8 > count {
                // A few pixels left: the scalar loop below moves them for less than another
                // transpose; more: the last block overlaps (a pure copy).
                if count &- u <= 2 { break }
                u = count &- 8
            }
            @inline(__always) func l(_ r: Int) -> V { UnsafeRawPointer(src + (r &* srcStride &+ u)).loadUnaligned(as: V.self) }
            var v = (l(0), l(1), l(2), l(3), l(4), l(5), l(6), l(7))
            for _ in 0..<3 {
                @inline(__always) func e(_ a: V, _ b: V) -> V { evens8(a, b) }
                @inline(__always) func o(_ a: V, _ b: V) -> V { odds8(a, b) }
                v = (e(v.0, v.1), e(v.2, v.3), e(v.4, v.5), e(v.6, v.7), o(v.0, v.1), o(v.2, v.3), o(v.4, v.5), o(v.6, v.7))
            }
            let d = UnsafeMutableRawPointer(dst + u &* 8)
            @inline(__always) func st(_ x: V, _ i: Int) { d.storeBytes(of: x, toByteOffset: i &* 64, as: V.self) }
            st(v.0, 0); st(v.1, 1); st(v.2, 2); st(v.3, 3); st(v.4, 4); st(v.5, 5); st(v.6, 6); st(v.7, 7)
            u &+= 8
        }
    }
    while u < count {
        let o = dst + u &* 8
        for r in 0..<lanes { o[r] = src[r &* srcStride &+ u] }
        for r in lanes..<8 { o[r] = 0 }
        u &+= 1
    }
}

/// dst[r * dstStride + u] = src[u * 16 + r] for r < lanes, u < count: the inverse of
/// `depthwiseInterleaveF32` (16 x 16 blocks transposed in registers).
@inline(never)
public func depthwiseDeinterleaveF32(_ dst: UnsafeMutablePointer<Float>, dstStride: Int, _ src: UnsafePointer<Float>,
                                     lanes: Int, count: Int) {
    #if SWIFTCONV_AVX512
    sc_depthwise_deinterleave_f32(dst, dstStride, src, lanes, count)
    #else
    typealias V = SIMD16<Float>
    var u = 0
    if lanes == 16 {
        while u < count && count >= 16 {
            if u &+ 16 > count {
                // A few pixels left: the scalar loop below moves them for less than another
                // transpose; more: the last block overlaps (a pure copy).
                if count &- u <= 4 { break }
                u = count &- 16
            }
            let s = UnsafeRawPointer(src + u &* 16)
            @inline(__always) func l(_ i: Int) -> V { s.loadUnaligned(fromByteOffset: i &* 64, as: V.self) }
            var v = (l(0), l(1), l(2), l(3), l(4), l(5), l(6), l(7), l(8), l(9), l(10), l(11), l(12), l(13), l(14), l(15))
            for _ in 0..<4 {
                @inline(__always) func e(_ a: V, _ b: V) -> V { evens16(a, b) }
                @inline(__always) func o(_ a: V, _ b: V) -> V { odds16(a, b) }
                v = (e(v.0, v.1), e(v.2, v.3), e(v.4, v.5), e(v.6, v.7), e(v.8, v.9), e(v.10, v.11), e(v.12, v.13), e(v.14, v.15),
                     o(v.0, v.1), o(v.2, v.3), o(v.4, v.5), o(v.6, v.7), o(v.8, v.9), o(v.10, v.11), o(v.12, v.13), o(v.14, v.15))
            }
            let d = dst + u
            @inline(__always) func st(_ x: V, _ r: Int) { UnsafeMutableRawPointer(d + r &* dstStride).storeBytes(of: x, as: V.self) }
            st(v.0, 0); st(v.1, 1); st(v.2, 2); st(v.3, 3); st(v.4, 4); st(v.5, 5); st(v.6, 6); st(v.7, 7)
            st(v.8, 8); st(v.9, 9); st(v.10, 10); st(v.11, 11); st(v.12, 12); st(v.13, 13); st(v.14, 14); st(v.15, 15)
            u &+= 16
        }
    }
    while u < count {
        let s = src + u &* 16
        for r in 0..<lanes { dst[r &* dstStride &+ u] = s[r] }
        u &+= 1
    }
    #endif
}

/// dst[r * dstStride + u] = src[u * 8 + r] for r < lanes, u < count.
@inline(never)
public func depthwiseDeinterleaveF64(_ dst: UnsafeMutablePointer<Double>, dstStride: Int, _ src: UnsafePointer<Double>,
                                     lanes: Int, count: Int) {
    typealias V = SIMD8<Double>
    var u = 0
    if lanes == 8 {
        while u < count && count >= 8 {
            if u &+ 8 > count {
                // A few pixels left: the scalar loop below moves them for less than another
                // transpose; more: the last block overlaps (a pure copy).
                if count &- u <= 2 { break }
                u = count &- 8
            }
            let s = UnsafeRawPointer(src + u &* 8)
            @inline(__always) func l(_ i: Int) -> V { s.loadUnaligned(fromByteOffset: i &* 64, as: V.self) }
            var v = (l(0), l(1), l(2), l(3), l(4), l(5), l(6), l(7))
            for _ in 0..<3 {
                @inline(__always) func e(_ a: V, _ b: V) -> V { evens8(a, b) }
                @inline(__always) func o(_ a: V, _ b: V) -> V { odds8(a, b) }
                v = (e(v.0, v.1), e(v.2, v.3), e(v.4, v.5), e(v.6, v.7), o(v.0, v.1), o(v.2, v.3), o(v.4, v.5), o(v.6, v.7))
            }
            let d = dst + u
            @inline(__always) func st(_ x: V, _ r: Int) { UnsafeMutableRawPointer(d + r &* dstStride).storeBytes(of: x, as: V.self) }
            st(v.0, 0); st(v.1, 1); st(v.2, 2); st(v.3, 3); st(v.4, 4); st(v.5, 5); st(v.6, 6); st(v.7, 7)
            u &+= 8
        }
    }
    while u < count {
        let s = src + u &* 8
        for r in 0..<lanes { dst[r &* dstStride &+ u] = s[r] }
        u &+= 1
    }
}

// The perfect unshuffles of a vector pair, lane by lane (LLVM folds them into one two-source
// shuffle each; the standard library's evenHalf / oddHalf stayed out-of-line calls here).
@inline(__always)
private func evens16(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    SIMD16(a[0], a[2], a[4], a[6], a[8], a[10], a[12], a[14], b[0], b[2], b[4], b[6], b[8], b[10], b[12], b[14])
}

@inline(__always)
private func odds16(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    SIMD16(a[1], a[3], a[5], a[7], a[9], a[11], a[13], a[15], b[1], b[3], b[5], b[7], b[9], b[11], b[13], b[15])
}

@inline(__always)
private func evens8(_ a: SIMD8<Double>, _ b: SIMD8<Double>) -> SIMD8<Double> {
    SIMD8(a[0], a[2], a[4], a[6], b[0], b[2], b[4], b[6])
}

@inline(__always)
private func odds8(_ a: SIMD8<Double>, _ b: SIMD8<Double>) -> SIMD8<Double> {
    SIMD8(a[1], a[3], a[5], a[7], b[1], b[3], b[5], b[7])
}
