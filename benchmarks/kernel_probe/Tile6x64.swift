/// A probe-only alternative tile: C(6 x 64) (+)= A(6 x kc) * B(kc x 64) from ONE 6-row A
/// panel and FOUR consecutive 16-column B panels (`ps` elements apart): 24 zmm accumulators
/// fed per k by 4 B loads + 6 broadcasts (10 loads per 24 FMAs, against 14 for 12 x 32).
/// Same per-element FMA chain as the library's kernels (C or 0, then k = 0, 1, ...).
@inline(__always)
func kernel6x64(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ps: Int,
                _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ loadC: Bool) {
    typealias V = SIMD16<Float>
    var c00 = V(), c01 = V(), c02 = V(), c03 = V()
    var c10 = V(), c11 = V(), c12 = V(), c13 = V()
    var c20 = V(), c21 = V(), c22 = V(), c23 = V()
    var c30 = V(), c31 = V(), c32 = V(), c33 = V()
    var c40 = V(), c41 = V(), c42 = V(), c43 = V()
    var c50 = V(), c51 = V(), c52 = V(), c53 = V()
    if loadC {
        c00 = UnsafeRawPointer(c + (0 &* ldc &+ 0)).loadUnaligned(as: V.self)
        c01 = UnsafeRawPointer(c + (0 &* ldc &+ 16)).loadUnaligned(as: V.self)
        c02 = UnsafeRawPointer(c + (0 &* ldc &+ 32)).loadUnaligned(as: V.self)
        c03 = UnsafeRawPointer(c + (0 &* ldc &+ 48)).loadUnaligned(as: V.self)
        c10 = UnsafeRawPointer(c + (1 &* ldc &+ 0)).loadUnaligned(as: V.self)
        c11 = UnsafeRawPointer(c + (1 &* ldc &+ 16)).loadUnaligned(as: V.self)
        c12 = UnsafeRawPointer(c + (1 &* ldc &+ 32)).loadUnaligned(as: V.self)
        c13 = UnsafeRawPointer(c + (1 &* ldc &+ 48)).loadUnaligned(as: V.self)
        c20 = UnsafeRawPointer(c + (2 &* ldc &+ 0)).loadUnaligned(as: V.self)
        c21 = UnsafeRawPointer(c + (2 &* ldc &+ 16)).loadUnaligned(as: V.self)
        c22 = UnsafeRawPointer(c + (2 &* ldc &+ 32)).loadUnaligned(as: V.self)
        c23 = UnsafeRawPointer(c + (2 &* ldc &+ 48)).loadUnaligned(as: V.self)
        c30 = UnsafeRawPointer(c + (3 &* ldc &+ 0)).loadUnaligned(as: V.self)
        c31 = UnsafeRawPointer(c + (3 &* ldc &+ 16)).loadUnaligned(as: V.self)
        c32 = UnsafeRawPointer(c + (3 &* ldc &+ 32)).loadUnaligned(as: V.self)
        c33 = UnsafeRawPointer(c + (3 &* ldc &+ 48)).loadUnaligned(as: V.self)
        c40 = UnsafeRawPointer(c + (4 &* ldc &+ 0)).loadUnaligned(as: V.self)
        c41 = UnsafeRawPointer(c + (4 &* ldc &+ 16)).loadUnaligned(as: V.self)
        c42 = UnsafeRawPointer(c + (4 &* ldc &+ 32)).loadUnaligned(as: V.self)
        c43 = UnsafeRawPointer(c + (4 &* ldc &+ 48)).loadUnaligned(as: V.self)
        c50 = UnsafeRawPointer(c + (5 &* ldc &+ 0)).loadUnaligned(as: V.self)
        c51 = UnsafeRawPointer(c + (5 &* ldc &+ 16)).loadUnaligned(as: V.self)
        c52 = UnsafeRawPointer(c + (5 &* ldc &+ 32)).loadUnaligned(as: V.self)
        c53 = UnsafeRawPointer(c + (5 &* ldc &+ 48)).loadUnaligned(as: V.self)
    }
    let b1 = b + ps, b2 = b + 2 &* ps, b3 = b + 3 &* ps
    for k in 0..<kc {
        let o = 16 &* k
        let v0 = UnsafeRawPointer(b + o).loadUnaligned(as: V.self)
        let v1 = UnsafeRawPointer(b1 + o).loadUnaligned(as: V.self)
        let v2 = UnsafeRawPointer(b2 + o).loadUnaligned(as: V.self)
        let v3 = UnsafeRawPointer(b3 + o).loadUnaligned(as: V.self)
        let pa = a + 6 &* k
        do { let x = V(repeating: pa[0]); c00 = c00.addingProduct(x, v0); c01 = c01.addingProduct(x, v1); c02 = c02.addingProduct(x, v2); c03 = c03.addingProduct(x, v3) }
        do { let x = V(repeating: pa[1]); c10 = c10.addingProduct(x, v0); c11 = c11.addingProduct(x, v1); c12 = c12.addingProduct(x, v2); c13 = c13.addingProduct(x, v3) }
        do { let x = V(repeating: pa[2]); c20 = c20.addingProduct(x, v0); c21 = c21.addingProduct(x, v1); c22 = c22.addingProduct(x, v2); c23 = c23.addingProduct(x, v3) }
        do { let x = V(repeating: pa[3]); c30 = c30.addingProduct(x, v0); c31 = c31.addingProduct(x, v1); c32 = c32.addingProduct(x, v2); c33 = c33.addingProduct(x, v3) }
        do { let x = V(repeating: pa[4]); c40 = c40.addingProduct(x, v0); c41 = c41.addingProduct(x, v1); c42 = c42.addingProduct(x, v2); c43 = c43.addingProduct(x, v3) }
        do { let x = V(repeating: pa[5]); c50 = c50.addingProduct(x, v0); c51 = c51.addingProduct(x, v1); c52 = c52.addingProduct(x, v2); c53 = c53.addingProduct(x, v3) }
    }
    UnsafeMutableRawPointer(c + (0 &* ldc &+ 0)).storeBytes(of: c00, as: V.self)
    UnsafeMutableRawPointer(c + (0 &* ldc &+ 16)).storeBytes(of: c01, as: V.self)
    UnsafeMutableRawPointer(c + (0 &* ldc &+ 32)).storeBytes(of: c02, as: V.self)
    UnsafeMutableRawPointer(c + (0 &* ldc &+ 48)).storeBytes(of: c03, as: V.self)
    UnsafeMutableRawPointer(c + (1 &* ldc &+ 0)).storeBytes(of: c10, as: V.self)
    UnsafeMutableRawPointer(c + (1 &* ldc &+ 16)).storeBytes(of: c11, as: V.self)
    UnsafeMutableRawPointer(c + (1 &* ldc &+ 32)).storeBytes(of: c12, as: V.self)
    UnsafeMutableRawPointer(c + (1 &* ldc &+ 48)).storeBytes(of: c13, as: V.self)
    UnsafeMutableRawPointer(c + (2 &* ldc &+ 0)).storeBytes(of: c20, as: V.self)
    UnsafeMutableRawPointer(c + (2 &* ldc &+ 16)).storeBytes(of: c21, as: V.self)
    UnsafeMutableRawPointer(c + (2 &* ldc &+ 32)).storeBytes(of: c22, as: V.self)
    UnsafeMutableRawPointer(c + (2 &* ldc &+ 48)).storeBytes(of: c23, as: V.self)
    UnsafeMutableRawPointer(c + (3 &* ldc &+ 0)).storeBytes(of: c30, as: V.self)
    UnsafeMutableRawPointer(c + (3 &* ldc &+ 16)).storeBytes(of: c31, as: V.self)
    UnsafeMutableRawPointer(c + (3 &* ldc &+ 32)).storeBytes(of: c32, as: V.self)
    UnsafeMutableRawPointer(c + (3 &* ldc &+ 48)).storeBytes(of: c33, as: V.self)
    UnsafeMutableRawPointer(c + (4 &* ldc &+ 0)).storeBytes(of: c40, as: V.self)
    UnsafeMutableRawPointer(c + (4 &* ldc &+ 16)).storeBytes(of: c41, as: V.self)
    UnsafeMutableRawPointer(c + (4 &* ldc &+ 32)).storeBytes(of: c42, as: V.self)
    UnsafeMutableRawPointer(c + (4 &* ldc &+ 48)).storeBytes(of: c43, as: V.self)
    UnsafeMutableRawPointer(c + (5 &* ldc &+ 0)).storeBytes(of: c50, as: V.self)
    UnsafeMutableRawPointer(c + (5 &* ldc &+ 16)).storeBytes(of: c51, as: V.self)
    UnsafeMutableRawPointer(c + (5 &* ldc &+ 32)).storeBytes(of: c52, as: V.self)
    UnsafeMutableRawPointer(c + (5 &* ldc &+ 48)).storeBytes(of: c53, as: V.self)
}

/// `sgemmBlock` with 6 x 64 tiles, for mc a multiple of 6 and nc of 64 only (probe shapes):
/// each 6-row A panel (6 x kc, stays in L1) swept over every 64-column group of B (from L2).
@inline(never)
func sgemmBlock6x64(mc: Int, nc: Int, kc: Int, a: UnsafePointer<Float>, aPanelStride: Int,
                    b: UnsafePointer<Float>, bPanelStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool) {
    var ir = 0, ap = a
    while ir < mc {
        var jr = 0, bp = b
        while jr < nc {
            kernel6x64(kc, ap, bp, bPanelStride, c + (ir &* ldc &+ jr), ldc, loadC)
            jr &+= 64; bp += 4 &* bPanelStride
        }
        ir &+= 6; ap += aPanelStride
    }
}

/// The same tiles, jr outer (a 64-column B sliver of kc x 64 reused by every A panel).
@inline(never)
func sgemmBlock6x64ColumnsOuter(mc: Int, nc: Int, kc: Int, a: UnsafePointer<Float>, aPanelStride: Int,
                    b: UnsafePointer<Float>, bPanelStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool) {
    var jr = 0, bp = b
    while jr < nc {
        var ir = 0, ap = a
        while ir < mc {
            kernel6x64(kc, ap, bp, bPanelStride, c + (ir &* ldc &+ jr), ldc, loadC)
            ir &+= 6; ap += aPanelStride
        }
        jr &+= 64; bp += 4 &* bPanelStride
    }
}


/// The 6 x 64 tiles against the library's `sgemmBlock` (12 x 32 tiles) on packed panels in
/// cache: bitwise equal, then GFLOP/s, interleaved, best of `rounds`.
func compareTile6x64(rounds: Int, peak: Double) {
    print("6 x 64 tiles (probe-only, Tile6x64.swift) against sgemmBlock's 12 x 32, block in cache, best of \(rounds):")
    for (mc, nc, kc) in [(12, 384, 288), (60, 384, 288), (120, 192, 288), (252, 192, 288), (120, 448, 288), (504, 64, 256), (60, 512, 256),
                         (120, 192, 160), (252, 192, 160), (60, 512, 160)] {
        let a = filled(mc * kc), b = filled(kc * nc), c0 = filled(mc * nc), c1 = filled(mc * nc), c2 = filled(mc * nc), tile = filled(12 * 16)
        sgemmBlock(mc: mc, nc: nc, kc: kc, a: a, aPanelStride: 6 * kc, b: b, bPanelStride: 16 * kc, c: c0, ldc: nc, loadC: false, tile: tile)
        sgemmBlock6x64(mc: mc, nc: nc, kc: kc, a: a, aPanelStride: 6 * kc, b: b, bPanelStride: 16 * kc, c: c1, ldc: nc, loadC: false)
        sgemmBlock6x64ColumnsOuter(mc: mc, nc: nc, kc: kc, a: a, aPanelStride: 6 * kc, b: b, bPanelStride: 16 * kc, c: c2, ldc: nc, loadC: false)
        var bad = 0
        for i in 0..<(mc * nc) where c0[i].bitPattern != c1[i].bitPattern || c0[i].bitPattern != c2[i].bitPattern { bad += 1 }
        let flops = 2.0 * Double(mc * nc * kc), reps = max(1, Int(2e8 / flops))
        var best = [Double](repeating: .infinity, count: 3)
        for _ in 0..<rounds {
            for f in 0..<3 {
                let t0 = now()
                for _ in 0..<reps {
                    switch f {
                    case 0: sgemmBlock(mc: mc, nc: nc, kc: kc, a: a, aPanelStride: 6 * kc, b: b, bPanelStride: 16 * kc, c: c0, ldc: nc, loadC: true, tile: tile)
                    case 1: sgemmBlock6x64(mc: mc, nc: nc, kc: kc, a: a, aPanelStride: 6 * kc, b: b, bPanelStride: 16 * kc, c: c1, ldc: nc, loadC: true)
                    default: sgemmBlock6x64ColumnsOuter(mc: mc, nc: nc, kc: kc, a: a, aPanelStride: 6 * kc, b: b, bPanelStride: 16 * kc, c: c2, ldc: nc, loadC: true)
                    }
                }
                best[f] = min(best[f], (now() - t0) / Double(reps))
            }
        }
        let g = best.map { flops / $0 / 1e9 }
        print("   \(mc) x \(nc) kc \(kc): 12x32 \(Probe.fmt(g[0])) GFLOP/s (\(Probe.fmt(100 * g[0] / peak))%), 6x64 rows outer \(Probe.fmt(g[1])) (\(Probe.fmt(100 * g[1] / peak))%), 6x64 columns outer \(Probe.fmt(g[2])) (\(Probe.fmt(100 * g[2] / peak))%); \(bad) bitwise mismatches")
        for q in [a, b, c0, c1, c2, tile] { q.deallocate() }
    }
}
