/// AVX-512 kernels for a partial last B panel (fewer than 16 real columns, the rest zero):
/// what a small plane leaves after its 32-column tiles (14x14: 196 = 6 x 32 + 4; 7x7: 49 =
/// 32 + 16 + 1; N8 7x7 folded: 392 = 12 x 32 + 8). Called from `sgemmBlock`
/// (MicroKernels.swift) in the AVX-512 build only; this file is compiled into every kernel
/// target (symlinks) and is empty outside `SWIFTCONV_AVX512`.
///
/// Reduction order as every GEMM kernel (see MicroKernels.swift): each element starts from C
/// (or +0) and adds A(i, k) * B(k, j) for k = 0, 1, ... in order, one fused multiply-add at a
/// time, in a lane of its own; so the bits are those of the full tiles and the AVX2 ones.
///
/// Which edge takes which kernel, with the kernel probe's measurements: `sgemmBlock`'s edge
/// dispatch (`pairedNarrowColumns`) and `partialPanelBlockF` here. Whole layers, prepared
/// weights, forward, one thread, thread CPU time, new / old time (median of 5 interleaved
/// blocks in one process, old = the build before these kernels; 2-vCPU Xeon, AVX-512, other
/// processes busy meanwhile, bits identical): 256->256 14x14 k3 N1 0.966-0.968 (grad_input
/// 0.964), 512->512 14x14 N1 0.973-0.981, 1024->512 14x14 N1 0.967-0.984, 512->512 7x7 N8
/// (392 columns) 0.974-0.982; unchanged edges (7x7 N1: 16 + 1 columns, 28x28: a full 16)
/// 1.00-1.01; ResNet-50 N1 0.986, N8 0.996, U-Net decoder N1 0.994, N8 1.000.

#if SWIFTCONV_AVX512

// MARK: - 5...15 columns: a 12 x 16 zmm tile, only the real columns read and written

/// C[0..<rows, 0..<cols] (+)= A * B with one zmm accumulator per row, as `kernel12x16`, but
/// C is read and written only where it exists (`cols` < 16 columns, `rows` <= 6 * panels):
/// through a 12 x 16 block on the stack, a per-element copy once per call, small next to
/// the kc x 12 FMAs. Rows 6..<12 come from the next A panel `a2` (not read when
/// `panels` == 1); a panel's zero-padded rows are computed and dropped. `panels` is a
/// constant at each call site.
@_transparent
func partialPanelTile12(_ kc: Int, _ a: UnsafePointer<Float>, _ a2: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ loadC: Bool, panels: Int, rows: Int, cols: Int) {
    typealias V = SIMD16<Float>
    var acc = (V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V())
    if loadC {
        withUnsafeMutableBytes(of: &acc) { raw in
            let t = raw.baseAddress!.assumingMemoryBound(to: Float.self)
            for i in 0..<rows { for j in 0..<cols { t[i &* 16 &+ j] = c[i &* ldc &+ j] } }
        }
    }
    var c0 = acc.0, c1 = acc.1, c2 = acc.2, c3 = acc.3, c4 = acc.4, c5 = acc.5
    var c6 = acc.6, c7 = acc.7, c8 = acc.8, c9 = acc.9, c10 = acc.10, c11 = acc.11
    for k in 0..<kc {
        let bv = UnsafeRawPointer(b + 16 &* k).loadUnaligned(as: V.self)
        let pa = a + 6 &* k
        c0 = c0.addingProduct(V(repeating: pa[0]), bv)
        c1 = c1.addingProduct(V(repeating: pa[1]), bv)
        c2 = c2.addingProduct(V(repeating: pa[2]), bv)
        c3 = c3.addingProduct(V(repeating: pa[3]), bv)
        c4 = c4.addingProduct(V(repeating: pa[4]), bv)
        c5 = c5.addingProduct(V(repeating: pa[5]), bv)
        if panels > 1 {
            let pa2 = a2 + 6 &* k
            c6 = c6.addingProduct(V(repeating: pa2[0]), bv)
            c7 = c7.addingProduct(V(repeating: pa2[1]), bv)
            c8 = c8.addingProduct(V(repeating: pa2[2]), bv)
            c9 = c9.addingProduct(V(repeating: pa2[3]), bv)
            c10 = c10.addingProduct(V(repeating: pa2[4]), bv)
            c11 = c11.addingProduct(V(repeating: pa2[5]), bv)
        }
    }
    acc = (c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11)
    withUnsafeBytes(of: &acc) { raw in
        let t = raw.baseAddress!.assumingMemoryBound(to: Float.self)
        for i in 0..<rows { for j in 0..<cols { c[i &* ldc &+ j] = t[i &* 16 &+ j] } }
    }
}

/// All `mc` rows of a B panel with `cols` (5...15) real columns: 12-row tiles of
/// `partialPanelTile12` (the last one 6 rows when only one A panel is left). Replaces, on
/// AVX-512, 6 x 8 (<= 8 columns: 6 ymm FMA chains) and 6 x 16 ymm tiles through a scratch
/// tile. Measured: benchmarks/kernel_probe (sh run.sh HEAD 15 edge), the edge panel alone,
/// 120 rows x kc 288, one thread, interleaved, old / new time (2-vCPU Xeon, AVX-512):
/// 8 columns 1.11-1.20x as fast, 12 columns 1.75-1.83x; a whole 120 x 392 block (N8 7x7
/// folded: 12 x 32 tiles + 8 columns) 0.99-1.05 (the edge is 2% of its FLOPs).
@inline(never)
func partialPanelBlockF(_ kc: Int, _ a: UnsafePointer<Float>, _ aPanelStride: Int, mc: Int,
                        _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                        _ loadC: Bool, cols: Int) {
    var ir = 0, ap = a
    while ir < mc {
        let rows = min(12, mc &- ir), cp = c + ir &* ldc
        if rows > 6 {
            partialPanelTile12(kc, ap, ap + aPanelStride, b, cp, ldc, loadC, panels: 2, rows: rows, cols: cols)
        } else {
            partialPanelTile12(kc, ap, ap, b, cp, ldc, loadC, panels: 1, rows: rows, cols: cols)
        }
        ir &+= 12; ap += 2 &* aPanelStride
    }
}

// MARK: - 1...4 columns: two A panels' 12 rows per zmm

/// C[0..<rows, 0..<cols] (+)= A * B for a B panel with `cols` (1...4) real columns: one
/// zmm per (pair of 6-row A panels, column), panel 2q's rows in lanes 0..<6 and panel
/// 2q + 1's in lanes 8..<14 (an 8-float load of each, joined: vinsertf32x8), B(k, j)
/// broadcast; `pairs` (1...4) pairs at a time, independent FMA chains. A zero-padded
/// 16-column tile would multiply 12 to 15 zero columns; 6 rows in 8 ymm lanes (the AVX2
/// `narrowBlockF`) do half the work per FMA. When the last pair has one panel only (`rows`
/// ends within it), its lanes 8..<14 repeat that panel and are dropped. Lanes 6, 7, 14, 15
/// read the next k's values (dropped); the last k is read exactly (no read past a panel).
/// `pairs` and `cols` are constants at each call site.
@_transparent
func narrowPanelPairs(_ kc: Int, _ a: UnsafePointer<Float>, _ aPanelStride: Int, pairs: Int,
                      _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                      _ loadC: Bool, rows: Int, cols: Int) {
    typealias V = SIMD16<Float>
    typealias H = SIMD8<Float>
    /// Row r (0..<12) of a pair is in lane `r < 6 ? r : r + 2`.
    @inline(__always) func lane(_ r: Int) -> Int { r < 6 ? r : r &+ 2 }
    // acc[q * 4 + j]: pair q, column j.
    var acc = (V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V())
    if loadC {
        withUnsafeMutableBytes(of: &acc) { raw in
            let t = raw.baseAddress!.assumingMemoryBound(to: Float.self)
            for q in 0..<4 where q < pairs {
                for j in 0..<4 where j < cols {
                    for r in 0..<12 where q &* 12 &+ r < rows { t[(q &* 4 &+ j) &* 16 &+ lane(r)] = c[(q &* 12 &+ r) &* ldc &+ j] }
                }
            }
        }
    }
    var c00 = acc.0, c01 = acc.1, c02 = acc.2, c03 = acc.3
    var c10 = acc.4, c11 = acc.5, c12 = acc.6, c13 = acc.7
    var c20 = acc.8, c21 = acc.9, c22 = acc.10, c23 = acc.11
    var c30 = acc.12, c31 = acc.13, c32 = acc.14, c33 = acc.15
    // Panels 2q and 2q + 1 (or 2q again when the rows end within panel 2q).
    @inline(__always) func panel(_ p: Int) -> UnsafePointer<Float> {
        let last = (rows &+ 5) / 6 &- 1
        return a + (p <= last ? p : last) &* aPanelStride
    }
    let lo0 = panel(0), hi0 = panel(1), lo1 = panel(2), hi1 = panel(3)
    let lo2 = panel(4), hi2 = panel(5), lo3 = panel(6), hi3 = panel(7)
    @inline(__always) func pair(_ lo: UnsafePointer<Float>, _ hi: UnsafePointer<Float>) -> V {
        V(lowHalf: UnsafeRawPointer(lo).loadUnaligned(as: H.self), highHalf: UnsafeRawPointer(hi).loadUnaligned(as: H.self))
    }
    @inline(__always) func exactPair(_ lo: UnsafePointer<Float>, _ hi: UnsafePointer<Float>) -> V {
        V(lo[0], lo[1], lo[2], lo[3], lo[4], lo[5], 0, 0, hi[0], hi[1], hi[2], hi[3], hi[4], hi[5], 0, 0)
    }
    var a0 = V(), a1 = V(), a2 = V(), a3 = V()
    for k in 0..<kc {
        let o = 6 &* k
        if k &+ 1 < kc {
            a0 = pair(lo0 + o, hi0 + o)
            if pairs > 1 { a1 = pair(lo1 + o, hi1 + o) }
            if pairs > 2 { a2 = pair(lo2 + o, hi2 + o) }
            if pairs > 3 { a3 = pair(lo3 + o, hi3 + o) }
        } else {
            a0 = exactPair(lo0 + o, hi0 + o)
            if pairs > 1 { a1 = exactPair(lo1 + o, hi1 + o) }
            if pairs > 2 { a2 = exactPair(lo2 + o, hi2 + o) }
            if pairs > 3 { a3 = exactPair(lo3 + o, hi3 + o) }
        }
        let pb = b + 16 &* k
        let b0 = V(repeating: pb[0])
        c00 = c00.addingProduct(a0, b0)
        if pairs > 1 { c10 = c10.addingProduct(a1, b0) }
        if pairs > 2 { c20 = c20.addingProduct(a2, b0) }
        if pairs > 3 { c30 = c30.addingProduct(a3, b0) }
        if cols > 1 {
            let b1 = V(repeating: pb[1])
            c01 = c01.addingProduct(a0, b1)
            if pairs > 1 { c11 = c11.addingProduct(a1, b1) }
            if pairs > 2 { c21 = c21.addingProduct(a2, b1) }
            if pairs > 3 { c31 = c31.addingProduct(a3, b1) }
        }
        if cols > 2 {
            let b2 = V(repeating: pb[2])
            c02 = c02.addingProduct(a0, b2)
            if pairs > 1 { c12 = c12.addingProduct(a1, b2) }
            if pairs > 2 { c22 = c22.addingProduct(a2, b2) }
            if pairs > 3 { c32 = c32.addingProduct(a3, b2) }
        }
        if cols > 3 {
            let b3 = V(repeating: pb[3])
            c03 = c03.addingProduct(a0, b3)
            if pairs > 1 { c13 = c13.addingProduct(a1, b3) }
            if pairs > 2 { c23 = c23.addingProduct(a2, b3) }
            if pairs > 3 { c33 = c33.addingProduct(a3, b3) }
        }
    }
    acc = (c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33)
    withUnsafeBytes(of: &acc) { raw in
        let t = raw.baseAddress!.assumingMemoryBound(to: Float.self)
        for q in 0..<4 where q < pairs {
            for j in 0..<4 where j < cols {
                for r in 0..<12 where q &* 12 &+ r < rows { c[(q &* 12 &+ r) &* ldc &+ j] = t[(q &* 4 &+ j) &* 16 &+ lane(r)] }
            }
        }
    }
}

/// All `mc` rows of a B panel with `cols` (3 or 4) real columns: 48 rows (four panel pairs)
/// at a time through `narrowPanelPairs` (which `sgemmBlock` uses from
/// `pairedNarrowColumns` = 3 columns up: with 1 or 2, 4 pairs are too few FMA chains).
@inline(never)
func narrowPanelPairsBlockF(_ kc: Int, _ a: UnsafePointer<Float>, _ aPanelStride: Int, mc: Int,
                            _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                            _ loadC: Bool, cols: Int) {
    var ir = 0, ap = a
    while ir < mc {
        let rows = min(48, mc &- ir), pairs = (rows &+ 11) / 12
        let cp = c + ir &* ldc
        switch (cols, pairs) {
        case (3, 4): narrowPanelPairs(kc, ap, aPanelStride, pairs: 4, b, cp, ldc, loadC, rows: rows, cols: 3)
        case (3, 3): narrowPanelPairs(kc, ap, aPanelStride, pairs: 3, b, cp, ldc, loadC, rows: rows, cols: 3)
        case (3, 2): narrowPanelPairs(kc, ap, aPanelStride, pairs: 2, b, cp, ldc, loadC, rows: rows, cols: 3)
        case (3, _): narrowPanelPairs(kc, ap, aPanelStride, pairs: 1, b, cp, ldc, loadC, rows: rows, cols: 3)
        case (_, 4): narrowPanelPairs(kc, ap, aPanelStride, pairs: 4, b, cp, ldc, loadC, rows: rows, cols: 4)
        case (_, 3): narrowPanelPairs(kc, ap, aPanelStride, pairs: 3, b, cp, ldc, loadC, rows: rows, cols: 4)
        case (_, 2): narrowPanelPairs(kc, ap, aPanelStride, pairs: 2, b, cp, ldc, loadC, rows: rows, cols: 4)
        default: narrowPanelPairs(kc, ap, aPanelStride, pairs: 1, b, cp, ldc, loadC, rows: rows, cols: 4)
        }
        ir &+= 48; ap += 8 &* aPanelStride
    }
}

#endif
