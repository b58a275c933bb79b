/// The product col(r, j) = sum over k of W(k, r) * dy(k, j) for a GEMM with few columns j (the
/// (image, pixel) pairs of a transposed conv on a small plane, at most 64): the columns are the
/// vector lanes, 16 pixels per zmm, so a tile holds every column and each weight is loaded
/// once, by an embedded broadcast, wherever it lies in W (row-major, rows `ldw` apart, read in
/// place: no packing, no transpose of the result). dy comes packed, `16 * vectors` Floats per
/// k (zero-padded past the last column); col rows are `16 * vectors` apart too, as col2im reads
/// them. (The weights-as-B orientation, `sgemmBlockRowMajorB`, loads every W vector once per
/// 12 columns and leaves col^T, which then needs a transpose.)
///
/// Same bits as the GEMM's other kernels: every element starts from C (or 0 when `loadC` is
/// false) and adds W(k, r) * dy(k, j) for k = 0, 1, ... in order, one fused multiply-add at a
/// time (fma(a, b, c) does not depend on the order of a and b).
///
/// Loop order: `kc` rows of W (a depth block) at a time, walked along the rows tile by tile so
/// the lines a tile shares with the next stay in L1, with a software prefetch of the rows
/// `prefetchAhead` Floats further on (the hardware streamer does not cross W's rows, each one
/// page or more apart). Tiles: 1 vector x 16 W columns, 2 x 12, 4 x 6 (16 to 24 zmm
/// accumulators). AVX-512 only (the table holds nil on the other tiers); compiled where
/// MicroKernels.swift is (the AVX512 target holds a symlink to this file).

import CSwiftConv

#if SWIFTCONV_AVX512

/// Up to 16 W columns (`cols`) x 16 pixels.
@_transparent
private func tile1x16(_ kc: Int, _ wp: UnsafePointer<Float>, _ ldw: Int, _ dy: UnsafePointer<Float>,
                      _ c: UnsafeMutablePointer<Float>, _ loadC: Bool, _ ahead: Int, cols: Int) {
    typealias V = SIMD16<Float>

    var c0_0 = V()
    var c1_0 = V()
    var c2_0 = V()
    var c3_0 = V()
    var c4_0 = V()
    var c5_0 = V()
    var c6_0 = V()
    var c7_0 = V()
    var c8_0 = V()
    var c9_0 = V()
    var c10_0 = V()
    var c11_0 = V()
    var c12_0 = V()
    var c13_0 = V()
    var c14_0 = V()
    var c15_0 = V()
    if loadC {
        do { c0_0 = UnsafeRawPointer(c + 0).loadUnaligned(as: V.self) }
        if cols > 1 { c1_0 = UnsafeRawPointer(c + 16).loadUnaligned(as: V.self) }
        if cols > 2 { c2_0 = UnsafeRawPointer(c + 32).loadUnaligned(as: V.self) }
        if cols > 3 { c3_0 = UnsafeRawPointer(c + 48).loadUnaligned(as: V.self) }
        if cols > 4 { c4_0 = UnsafeRawPointer(c + 64).loadUnaligned(as: V.self) }
        if cols > 5 { c5_0 = UnsafeRawPointer(c + 80).loadUnaligned(as: V.self) }
        if cols > 6 { c6_0 = UnsafeRawPointer(c + 96).loadUnaligned(as: V.self) }
        if cols > 7 { c7_0 = UnsafeRawPointer(c + 112).loadUnaligned(as: V.self) }
        if cols > 8 { c8_0 = UnsafeRawPointer(c + 128).loadUnaligned(as: V.self) }
        if cols > 9 { c9_0 = UnsafeRawPointer(c + 144).loadUnaligned(as: V.self) }
        if cols > 10 { c10_0 = UnsafeRawPointer(c + 160).loadUnaligned(as: V.self) }
        if cols > 11 { c11_0 = UnsafeRawPointer(c + 176).loadUnaligned(as: V.self) }
        if cols > 12 { c12_0 = UnsafeRawPointer(c + 192).loadUnaligned(as: V.self) }
        if cols > 13 { c13_0 = UnsafeRawPointer(c + 208).loadUnaligned(as: V.self) }
        if cols > 14 { c14_0 = UnsafeRawPointer(c + 224).loadUnaligned(as: V.self) }
        if cols > 15 { c15_0 = UnsafeRawPointer(c + 240).loadUnaligned(as: V.self) }
    }
    // (Written out, not a nested function: its captured accumulators went through memory.)
    var k = 0, wk = wp, dk = dy
    while k &+ 2 <= kc {
        sc_prefetch_l2(wk + ahead); sc_prefetch_l2(wk + ldw + ahead)
        do {
            let d0 = UnsafeRawPointer(dk + 0).loadUnaligned(as: V.self)
            do { let b = V(repeating: wk[0]); c0_0 = fmadd(c0_0, b, d0) }
            if cols > 1 { let b = V(repeating: wk[1]); c1_0 = fmadd(c1_0, b, d0) }
            if cols > 2 { let b = V(repeating: wk[2]); c2_0 = fmadd(c2_0, b, d0) }
            if cols > 3 { let b = V(repeating: wk[3]); c3_0 = fmadd(c3_0, b, d0) }
            if cols > 4 { let b = V(repeating: wk[4]); c4_0 = fmadd(c4_0, b, d0) }
            if cols > 5 { let b = V(repeating: wk[5]); c5_0 = fmadd(c5_0, b, d0) }
            if cols > 6 { let b = V(repeating: wk[6]); c6_0 = fmadd(c6_0, b, d0) }
            if cols > 7 { let b = V(repeating: wk[7]); c7_0 = fmadd(c7_0, b, d0) }
            if cols > 8 { let b = V(repeating: wk[8]); c8_0 = fmadd(c8_0, b, d0) }
            if cols > 9 { let b = V(repeating: wk[9]); c9_0 = fmadd(c9_0, b, d0) }
            if cols > 10 { let b = V(repeating: wk[10]); c10_0 = fmadd(c10_0, b, d0) }
            if cols > 11 { let b = V(repeating: wk[11]); c11_0 = fmadd(c11_0, b, d0) }
            if cols > 12 { let b = V(repeating: wk[12]); c12_0 = fmadd(c12_0, b, d0) }
            if cols > 13 { let b = V(repeating: wk[13]); c13_0 = fmadd(c13_0, b, d0) }
            if cols > 14 { let b = V(repeating: wk[14]); c14_0 = fmadd(c14_0, b, d0) }
            if cols > 15 { let b = V(repeating: wk[15]); c15_0 = fmadd(c15_0, b, d0) }
        }
        do {
            let wk1 = wk + ldw, dk1 = dk + 16
            let d0 = UnsafeRawPointer(dk1 + 0).loadUnaligned(as: V.self)
            do { let b = V(repeating: wk1[0]); c0_0 = fmadd(c0_0, b, d0) }
            if cols > 1 { let b = V(repeating: wk1[1]); c1_0 = fmadd(c1_0, b, d0) }
            if cols > 2 { let b = V(repeating: wk1[2]); c2_0 = fmadd(c2_0, b, d0) }
            if cols > 3 { let b = V(repeating: wk1[3]); c3_0 = fmadd(c3_0, b, d0) }
            if cols > 4 { let b = V(repeating: wk1[4]); c4_0 = fmadd(c4_0, b, d0) }
            if cols > 5 { let b = V(repeating: wk1[5]); c5_0 = fmadd(c5_0, b, d0) }
            if cols > 6 { let b = V(repeating: wk1[6]); c6_0 = fmadd(c6_0, b, d0) }
            if cols > 7 { let b = V(repeating: wk1[7]); c7_0 = fmadd(c7_0, b, d0) }
            if cols > 8 { let b = V(repeating: wk1[8]); c8_0 = fmadd(c8_0, b, d0) }
            if cols > 9 { let b = V(repeating: wk1[9]); c9_0 = fmadd(c9_0, b, d0) }
            if cols > 10 { let b = V(repeating: wk1[10]); c10_0 = fmadd(c10_0, b, d0) }
            if cols > 11 { let b = V(repeating: wk1[11]); c11_0 = fmadd(c11_0, b, d0) }
            if cols > 12 { let b = V(repeating: wk1[12]); c12_0 = fmadd(c12_0, b, d0) }
            if cols > 13 { let b = V(repeating: wk1[13]); c13_0 = fmadd(c13_0, b, d0) }
            if cols > 14 { let b = V(repeating: wk1[14]); c14_0 = fmadd(c14_0, b, d0) }
            if cols > 15 { let b = V(repeating: wk1[15]); c15_0 = fmadd(c15_0, b, d0) }
        }
        k &+= 2; wk += 2 &* ldw; dk += 32
    }
    if k < kc {
        sc_prefetch_l2(wk + ahead)
        let d0 = UnsafeRawPointer(dk + 0).loadUnaligned(as: V.self)
        do { let b = V(repeating: wk[0]); c0_0 = fmadd(c0_0, b, d0) }
        if cols > 1 { let b = V(repeating: wk[1]); c1_0 = fmadd(c1_0, b, d0) }
        if cols > 2 { let b = V(repeating: wk[2]); c2_0 = fmadd(c2_0, b, d0) }
        if cols > 3 { let b = V(repeating: wk[3]); c3_0 = fmadd(c3_0, b, d0) }
        if cols > 4 { let b = V(repeating: wk[4]); c4_0 = fmadd(c4_0, b, d0) }
        if cols > 5 { let b = V(repeating: wk[5]); c5_0 = fmadd(c5_0, b, d0) }
        if cols > 6 { let b = V(repeating: wk[6]); c6_0 = fmadd(c6_0, b, d0) }
        if cols > 7 { let b = V(repeating: wk[7]); c7_0 = fmadd(c7_0, b, d0) }
        if cols > 8 { let b = V(repeating: wk[8]); c8_0 = fmadd(c8_0, b, d0) }
        if cols > 9 { let b = V(repeating: wk[9]); c9_0 = fmadd(c9_0, b, d0) }
        if cols > 10 { let b = V(repeating: wk[10]); c10_0 = fmadd(c10_0, b, d0) }
        if cols > 11 { let b = V(repeating: wk[11]); c11_0 = fmadd(c11_0, b, d0) }
        if cols > 12 { let b = V(repeating: wk[12]); c12_0 = fmadd(c12_0, b, d0) }
        if cols > 13 { let b = V(repeating: wk[13]); c13_0 = fmadd(c13_0, b, d0) }
        if cols > 14 { let b = V(repeating: wk[14]); c14_0 = fmadd(c14_0, b, d0) }
        if cols > 15 { let b = V(repeating: wk[15]); c15_0 = fmadd(c15_0, b, d0) }
    }
    do { UnsafeMutableRawPointer(c + 0).storeBytes(of: c0_0, as: V.self) }
    if cols > 1 { UnsafeMutableRawPointer(c + 16).storeBytes(of: c1_0, as: V.self) }
    if cols > 2 { UnsafeMutableRawPointer(c + 32).storeBytes(of: c2_0, as: V.self) }
    if cols > 3 { UnsafeMutableRawPointer(c + 48).storeBytes(of: c3_0, as: V.self) }
    if cols > 4 { UnsafeMutableRawPointer(c + 64).storeBytes(of: c4_0, as: V.self) }
    if cols > 5 { UnsafeMutableRawPointer(c + 80).storeBytes(of: c5_0, as: V.self) }
    if cols > 6 { UnsafeMutableRawPointer(c + 96).storeBytes(of: c6_0, as: V.self) }
    if cols > 7 { UnsafeMutableRawPointer(c + 112).storeBytes(of: c7_0, as: V.self) }
    if cols > 8 { UnsafeMutableRawPointer(c + 128).storeBytes(of: c8_0, as: V.self) }
    if cols > 9 { UnsafeMutableRawPointer(c + 144).storeBytes(of: c9_0, as: V.self) }
    if cols > 10 { UnsafeMutableRawPointer(c + 160).storeBytes(of: c10_0, as: V.self) }
    if cols > 11 { UnsafeMutableRawPointer(c + 176).storeBytes(of: c11_0, as: V.self) }
    if cols > 12 { UnsafeMutableRawPointer(c + 192).storeBytes(of: c12_0, as: V.self) }
    if cols > 13 { UnsafeMutableRawPointer(c + 208).storeBytes(of: c13_0, as: V.self) }
    if cols > 14 { UnsafeMutableRawPointer(c + 224).storeBytes(of: c14_0, as: V.self) }
    if cols > 15 { UnsafeMutableRawPointer(c + 240).storeBytes(of: c15_0, as: V.self) }
}

/// Up to 12 W columns (`cols`) x 32 pixels.
@_transparent
private func tile2x12(_ kc: Int, _ wp: UnsafePointer<Float>, _ ldw: Int, _ dy: UnsafePointer<Float>,
                      _ c: UnsafeMutablePointer<Float>, _ loadC: Bool, _ ahead: Int, cols: Int) {
    typealias V = SIMD16<Float>

    var c0_0 = V(); var c0_1 = V()
    var c1_0 = V(); var c1_1 = V()
    var c2_0 = V(); var c2_1 = V()
    var c3_0 = V(); var c3_1 = V()
    var c4_0 = V(); var c4_1 = V()
    var c5_0 = V(); var c5_1 = V()
    var c6_0 = V(); var c6_1 = V()
    var c7_0 = V(); var c7_1 = V()
    var c8_0 = V(); var c8_1 = V()
    var c9_0 = V(); var c9_1 = V()
    var c10_0 = V(); var c10_1 = V()
    var c11_0 = V(); var c11_1 = V()
    if loadC {
        do { c0_0 = UnsafeRawPointer(c + 0).loadUnaligned(as: V.self); c0_1 = UnsafeRawPointer(c + 16).loadUnaligned(as: V.self) }
        if cols > 1 { c1_0 = UnsafeRawPointer(c + 32).loadUnaligned(as: V.self); c1_1 = UnsafeRawPointer(c + 48).loadUnaligned(as: V.self) }
        if cols > 2 { c2_0 = UnsafeRawPointer(c + 64).loadUnaligned(as: V.self); c2_1 = UnsafeRawPointer(c + 80).loadUnaligned(as: V.self) }
        if cols > 3 { c3_0 = UnsafeRawPointer(c + 96).loadUnaligned(as: V.self); c3_1 = UnsafeRawPointer(c + 112).loadUnaligned(as: V.self) }
        if cols > 4 { c4_0 = UnsafeRawPointer(c + 128).loadUnaligned(as: V.self); c4_1 = UnsafeRawPointer(c + 144).loadUnaligned(as: V.self) }
        if cols > 5 { c5_0 = UnsafeRawPointer(c + 160).loadUnaligned(as: V.self); c5_1 = UnsafeRawPointer(c + 176).loadUnaligned(as: V.self) }
        if cols > 6 { c6_0 = UnsafeRawPointer(c + 192).loadUnaligned(as: V.self); c6_1 = UnsafeRawPointer(c + 208).loadUnaligned(as: V.self) }
        if cols > 7 { c7_0 = UnsafeRawPointer(c + 224).loadUnaligned(as: V.self); c7_1 = UnsafeRawPointer(c + 240).loadUnaligned(as: V.self) }
        if cols > 8 { c8_0 = UnsafeRawPointer(c + 256).loadUnaligned(as: V.self); c8_1 = UnsafeRawPointer(c + 272).loadUnaligned(as: V.self) }
        if cols > 9 { c9_0 = UnsafeRawPointer(c + 288).loadUnaligned(as: V.self); c9_1 = UnsafeRawPointer(c + 304).loadUnaligned(as: V.self) }
        if cols > 10 { c10_0 = UnsafeRawPointer(c + 320).loadUnaligned(as: V.self); c10_1 = UnsafeRawPointer(c + 336).loadUnaligned(as: V.self) }
        if cols > 11 { c11_0 = UnsafeRawPointer(c + 352).loadUnaligned(as: V.self); c11_1 = UnsafeRawPointer(c + 368).loadUnaligned(as: V.self) }
    }
    // (Written out, not a nested function: its captured accumulators went through memory.)
    var k = 0, wk = wp, dk = dy
    while k &+ 2 <= kc {
        sc_prefetch_l2(wk + ahead); sc_prefetch_l2(wk + ldw + ahead)
        do {
            let d0 = UnsafeRawPointer(dk + 0).loadUnaligned(as: V.self)
            let d1 = UnsafeRawPointer(dk + 16).loadUnaligned(as: V.self)
            do { let b = V(repeating: wk[0]); c0_0 = fmadd(c0_0, b, d0); c0_1 = fmadd(c0_1, b, d1) }
            if cols > 1 { let b = V(repeating: wk[1]); c1_0 = fmadd(c1_0, b, d0); c1_1 = fmadd(c1_1, b, d1) }
            if cols > 2 { let b = V(repeating: wk[2]); c2_0 = fmadd(c2_0, b, d0); c2_1 = fmadd(c2_1, b, d1) }
            if cols > 3 { let b = V(repeating: wk[3]); c3_0 = fmadd(c3_0, b, d0); c3_1 = fmadd(c3_1, b, d1) }
            if cols > 4 { let b = V(repeating: wk[4]); c4_0 = fmadd(c4_0, b, d0); c4_1 = fmadd(c4_1, b, d1) }
            if cols > 5 { let b = V(repeating: wk[5]); c5_0 = fmadd(c5_0, b, d0); c5_1 = fmadd(c5_1, b, d1) }
            if cols > 6 { let b = V(repeating: wk[6]); c6_0 = fmadd(c6_0, b, d0); c6_1 = fmadd(c6_1, b, d1) }
            if cols > 7 { let b = V(repeating: wk[7]); c7_0 = fmadd(c7_0, b, d0); c7_1 = fmadd(c7_1, b, d1) }
            if cols > 8 { let b = V(repeating: wk[8]); c8_0 = fmadd(c8_0, b, d0); c8_1 = fmadd(c8_1, b, d1) }
            if cols > 9 { let b = V(repeating: wk[9]); c9_0 = fmadd(c9_0, b, d0); c9_1 = fmadd(c9_1, b, d1) }
            if cols > 10 { let b = V(repeating: wk[10]); c10_0 = fmadd(c10_0, b, d0); c10_1 = fmadd(c10_1, b, d1) }
            if cols > 11 { let b = V(repeating: wk[11]); c11_0 = fmadd(c11_0, b, d0); c11_1 = fmadd(c11_1, b, d1) }
        }
        do {
            let wk1 = wk + ldw, dk1 = dk + 32
            let d0 = UnsafeRawPointer(dk1 + 0).loadUnaligned(as: V.self)
            let d1 = UnsafeRawPointer(dk1 + 16).loadUnaligned(as: V.self)
            do { let b = V(repeating: wk1[0]); c0_0 = fmadd(c0_0, b, d0); c0_1 = fmadd(c0_1, b, d1) }
            if cols > 1 { let b = V(repeating: wk1[1]); c1_0 = fmadd(c1_0, b, d0); c1_1 = fmadd(c1_1, b, d1) }
            if cols > 2 { let b = V(repeating: wk1[2]); c2_0 = fmadd(c2_0, b, d0); c2_1 = fmadd(c2_1, b, d1) }
            if cols > 3 { let b = V(repeating: wk1[3]); c3_0 = fmadd(c3_0, b, d0); c3_1 = fmadd(c3_1, b, d1) }
            if cols > 4 { let b = V(repeating: wk1[4]); c4_0 = fmadd(c4_0, b, d0); c4_1 = fmadd(c4_1, b, d1) }
            if cols > 5 { let b = V(repeating: wk1[5]); c5_0 = fmadd(c5_0, b, d0); c5_1 = fmadd(c5_1, b, d1) }
            if cols > 6 { let b = V(repeating: wk1[6]); c6_0 = fmadd(c6_0, b, d0); c6_1 = fmadd(c6_1, b, d1) }
            if cols > 7 { let b = V(repeating: wk1[7]); c7_0 = fmadd(c7_0, b, d0); c7_1 = fmadd(c7_1, b, d1) }
            if cols > 8 { let b = V(repeating: wk1[8]); c8_0 = fmadd(c8_0, b, d0); c8_1 = fmadd(c8_1, b, d1) }
            if cols > 9 { let b = V(repeating: wk1[9]); c9_0 = fmadd(c9_0, b, d0); c9_1 = fmadd(c9_1, b, d1) }
            if cols > 10 { let b = V(repeating: wk1[10]); c10_0 = fmadd(c10_0, b, d0); c10_1 = fmadd(c10_1, b, d1) }
            if cols > 11 { let b = V(repeating: wk1[11]); c11_0 = fmadd(c11_0, b, d0); c11_1 = fmadd(c11_1, b, d1) }
        }
        k &+= 2; wk += 2 &* ldw; dk += 64
    }
    if k < kc {
        sc_prefetch_l2(wk + ahead)
        let d0 = UnsafeRawPointer(dk + 0).loadUnaligned(as: V.self)
        let d1 = UnsafeRawPointer(dk + 16).loadUnaligned(as: V.self)
        do { let b = V(repeating: wk[0]); c0_0 = fmadd(c0_0, b, d0); c0_1 = fmadd(c0_1, b, d1) }
        if cols > 1 { let b = V(repeating: wk[1]); c1_0 = fmadd(c1_0, b, d0); c1_1 = fmadd(c1_1, b, d1) }
        if cols > 2 { let b = V(repeating: wk[2]); c2_0 = fmadd(c2_0, b, d0); c2_1 = fmadd(c2_1, b, d1) }
        if cols > 3 { let b = V(repeating: wk[3]); c3_0 = fmadd(c3_0, b, d0); c3_1 = fmadd(c3_1, b, d1) }
        if cols > 4 { let b = V(repeating: wk[4]); c4_0 = fmadd(c4_0, b, d0); c4_1 = fmadd(c4_1, b, d1) }
        if cols > 5 { let b = V(repeating: wk[5]); c5_0 = fmadd(c5_0, b, d0); c5_1 = fmadd(c5_1, b, d1) }
        if cols > 6 { let b = V(repeating: wk[6]); c6_0 = fmadd(c6_0, b, d0); c6_1 = fmadd(c6_1, b, d1) }
        if cols > 7 { let b = V(repeating: wk[7]); c7_0 = fmadd(c7_0, b, d0); c7_1 = fmadd(c7_1, b, d1) }
        if cols > 8 { let b = V(repeating: wk[8]); c8_0 = fmadd(c8_0, b, d0); c8_1 = fmadd(c8_1, b, d1) }
        if cols > 9 { let b = V(repeating: wk[9]); c9_0 = fmadd(c9_0, b, d0); c9_1 = fmadd(c9_1, b, d1) }
        if cols > 10 { let b = V(repeating: wk[10]); c10_0 = fmadd(c10_0, b, d0); c10_1 = fmadd(c10_1, b, d1) }
        if cols > 11 { let b = V(repeating: wk[11]); c11_0 = fmadd(c11_0, b, d0); c11_1 = fmadd(c11_1, b, d1) }
    }
    do { UnsafeMutableRawPointer(c + 0).storeBytes(of: c0_0, as: V.self); UnsafeMutableRawPointer(c + 16).storeBytes(of: c0_1, as: V.self) }
    if cols > 1 { UnsafeMutableRawPointer(c + 32).storeBytes(of: c1_0, as: V.self); UnsafeMutableRawPointer(c + 48).storeBytes(of: c1_1, as: V.self) }
    if cols > 2 { UnsafeMutableRawPointer(c + 64).storeBytes(of: c2_0, as: V.self); UnsafeMutableRawPointer(c + 80).storeBytes(of: c2_1, as: V.self) }
    if cols > 3 { UnsafeMutableRawPointer(c + 96).storeBytes(of: c3_0, as: V.self); UnsafeMutableRawPointer(c + 112).storeBytes(of: c3_1, as: V.self) }
    if cols > 4 { UnsafeMutableRawPointer(c + 128).storeBytes(of: c4_0, as: V.self); UnsafeMutableRawPointer(c + 144).storeBytes(of: c4_1, as: V.self) }
    if cols > 5 { UnsafeMutableRawPointer(c + 160).storeBytes(of: c5_0, as: V.self); UnsafeMutableRawPointer(c + 176).storeBytes(of: c5_1, as: V.self) }
    if cols > 6 { UnsafeMutableRawPointer(c + 192).storeBytes(of: c6_0, as: V.self); UnsafeMutableRawPointer(c + 208).storeBytes(of: c6_1, as: V.self) }
    if cols > 7 { UnsafeMutableRawPointer(c + 224).storeBytes(of: c7_0, as: V.self); UnsafeMutableRawPointer(c + 240).storeBytes(of: c7_1, as: V.self) }
    if cols > 8 { UnsafeMutableRawPointer(c + 256).storeBytes(of: c8_0, as: V.self); UnsafeMutableRawPointer(c + 272).storeBytes(of: c8_1, as: V.self) }
    if cols > 9 { UnsafeMutableRawPointer(c + 288).storeBytes(of: c9_0, as: V.self); UnsafeMutableRawPointer(c + 304).storeBytes(of: c9_1, as: V.self) }
    if cols > 10 { UnsafeMutableRawPointer(c + 320).storeBytes(of: c10_0, as: V.self); UnsafeMutableRawPointer(c + 336).storeBytes(of: c10_1, as: V.self) }
    if cols > 11 { UnsafeMutableRawPointer(c + 352).storeBytes(of: c11_0, as: V.self); UnsafeMutableRawPointer(c + 368).storeBytes(of: c11_1, as: V.self) }
}

/// Up to 6 W columns (`cols`) x 64 pixels.
@_transparent
private func tile4x6(_ kc: Int, _ wp: UnsafePointer<Float>, _ ldw: Int, _ dy: UnsafePointer<Float>,
                      _ c: UnsafeMutablePointer<Float>, _ loadC: Bool, _ ahead: Int, cols: Int) {
    typealias V = SIMD16<Float>

    var c0_0 = V(); var c0_1 = V(); var c0_2 = V(); var c0_3 = V()
    var c1_0 = V(); var c1_1 = V(); var c1_2 = V(); var c1_3 = V()
    var c2_0 = V(); var c2_1 = V(); var c2_2 = V(); var c2_3 = V()
    var c3_0 = V(); var c3_1 = V(); var c3_2 = V(); var c3_3 = V()
    var c4_0 = V(); var c4_1 = V(); var c4_2 = V(); var c4_3 = V()
    var c5_0 = V(); var c5_1 = V(); var c5_2 = V(); var c5_3 = V()
    if loadC {
        do { c0_0 = UnsafeRawPointer(c + 0).loadUnaligned(as: V.self); c0_1 = UnsafeRawPointer(c + 16).loadUnaligned(as: V.self); c0_2 = UnsafeRawPointer(c + 32).loadUnaligned(as: V.self); c0_3 = UnsafeRawPointer(c + 48).loadUnaligned(as: V.self) }
        if cols > 1 { c1_0 = UnsafeRawPointer(c + 64).loadUnaligned(as: V.self); c1_1 = UnsafeRawPointer(c + 80).loadUnaligned(as: V.self); c1_2 = UnsafeRawPointer(c + 96).loadUnaligned(as: V.self); c1_3 = UnsafeRawPointer(c + 112).loadUnaligned(as: V.self) }
        if cols > 2 { c2_0 = UnsafeRawPointer(c + 128).loadUnaligned(as: V.self); c2_1 = UnsafeRawPointer(c + 144).loadUnaligned(as: V.self); c2_2 = UnsafeRawPointer(c + 160).loadUnaligned(as: V.self); c2_3 = UnsafeRawPointer(c + 176).loadUnaligned(as: V.self) }
        if cols > 3 { c3_0 = UnsafeRawPointer(c + 192).loadUnaligned(as: V.self); c3_1 = UnsafeRawPointer(c + 208).loadUnaligned(as: V.self); c3_2 = UnsafeRawPointer(c + 224).loadUnaligned(as: V.self); c3_3 = UnsafeRawPointer(c + 240).loadUnaligned(as: V.self) }
        if cols > 4 { c4_0 = UnsafeRawPointer(c + 256).loadUnaligned(as: V.self); c4_1 = UnsafeRawPointer(c + 272).loadUnaligned(as: V.self); c4_2 = UnsafeRawPointer(c + 288).loadUnaligned(as: V.self); c4_3 = UnsafeRawPointer(c + 304).loadUnaligned(as: V.self) }
        if cols > 5 { c5_0 = UnsafeRawPointer(c + 320).loadUnaligned(as: V.self); c5_1 = UnsafeRawPointer(c + 336).loadUnaligned(as: V.self); c5_2 = UnsafeRawPointer(c + 352).loadUnaligned(as: V.self); c5_3 = UnsafeRawPointer(c + 368).loadUnaligned(as: V.self) }
    }
    // (Written out, not a nested function: its captured accumulators went through memory.)
    var k = 0, wk = wp, dk = dy
    while k &+ 2 <= kc {
        sc_prefetch_l2(wk + ahead); sc_prefetch_l2(wk + ldw + ahead)
        do {
            let d0 = UnsafeRawPointer(dk + 0).loadUnaligned(as: V.self)
            let d1 = UnsafeRawPointer(dk + 16).loadUnaligned(as: V.self)
            let d2 = UnsafeRawPointer(dk + 32).loadUnaligned(as: V.self)
            let d3 = UnsafeRawPointer(dk + 48).loadUnaligned(as: V.self)
            do { let b = V(repeating: wk[0]); c0_0 = fmadd(c0_0, b, d0); c0_1 = fmadd(c0_1, b, d1); c0_2 = fmadd(c0_2, b, d2); c0_3 = fmadd(c0_3, b, d3) }
            if cols > 1 { let b = V(repeating: wk[1]); c1_0 = fmadd(c1_0, b, d0); c1_1 = fmadd(c1_1, b, d1); c1_2 = fmadd(c1_2, b, d2); c1_3 = fmadd(c1_3, b, d3) }
            if cols > 2 { let b = V(repeating: wk[2]); c2_0 = fmadd(c2_0, b, d0); c2_1 = fmadd(c2_1, b, d1); c2_2 = fmadd(c2_2, b, d2); c2_3 = fmadd(c2_3, b, d3) }
            if cols > 3 { let b = V(repeating: wk[3]); c3_0 = fmadd(c3_0, b, d0); c3_1 = fmadd(c3_1, b, d1); c3_2 = fmadd(c3_2, b, d2); c3_3 = fmadd(c3_3, b, d3) }
            if cols > 4 { let b = V(repeating: wk[4]); c4_0 = fmadd(c4_0, b, d0); c4_1 = fmadd(c4_1, b, d1); c4_2 = fmadd(c4_2, b, d2); c4_3 = fmadd(c4_3, b, d3) }
            if cols > 5 { let b = V(repeating: wk[5]); c5_0 = fmadd(c5_0, b, d0); c5_1 = fmadd(c5_1, b, d1); c5_2 = fmadd(c5_2, b, d2); c5_3 = fmadd(c5_3, b, d3) }
        }
        do {
            let wk1 = wk + ldw, dk1 = dk + 64
            let d0 = UnsafeRawPointer(dk1 + 0).loadUnaligned(as: V.self)
            let d1 = UnsafeRawPointer(dk1 + 16).loadUnaligned(as: V.self)
            let d2 = UnsafeRawPointer(dk1 + 32).loadUnaligned(as: V.self)
            let d3 = UnsafeRawPointer(dk1 + 48).loadUnaligned(as: V.self)
            do { let b = V(repeating: wk1[0]); c0_0 = fmadd(c0_0, b, d0); c0_1 = fmadd(c0_1, b, d1); c0_2 = fmadd(c0_2, b, d2); c0_3 = fmadd(c0_3, b, d3) }
            if cols > 1 { let b = V(repeating: wk1[1]); c1_0 = fmadd(c1_0, b, d0); c1_1 = fmadd(c1_1, b, d1); c1_2 = fmadd(c1_2, b, d2); c1_3 = fmadd(c1_3, b, d3) }
            if cols > 2 { let b = V(repeating: wk1[2]); c2_0 = fmadd(c2_0, b, d0); c2_1 = fmadd(c2_1, b, d1); c2_2 = fmadd(c2_2, b, d2); c2_3 = fmadd(c2_3, b, d3) }
            if cols > 3 { let b = V(repeating: wk1[3]); c3_0 = fmadd(c3_0, b, d0); c3_1 = fmadd(c3_1, b, d1); c3_2 = fmadd(c3_2, b, d2); c3_3 = fmadd(c3_3, b, d3) }
            if cols > 4 { let b = V(repeating: wk1[4]); c4_0 = fmadd(c4_0, b, d0); c4_1 = fmadd(c4_1, b, d1); c4_2 = fmadd(c4_2, b, d2); c4_3 = fmadd(c4_3, b, d3) }
            if cols > 5 { let b = V(repeating: wk1[5]); c5_0 = fmadd(c5_0, b, d0); c5_1 = fmadd(c5_1, b, d1); c5_2 = fmadd(c5_2, b, d2); c5_3 = fmadd(c5_3, b, d3) }
        }
        k &+= 2; wk += 2 &* ldw; dk += 128
    }
    if k < kc {
        sc_prefetch_l2(wk + ahead)
        let d0 = UnsafeRawPointer(dk + 0).loadUnaligned(as: V.self)
        let d1 = UnsafeRawPointer(dk + 16).loadUnaligned(as: V.self)
        let d2 = UnsafeRawPointer(dk + 32).loadUnaligned(as: V.self)
        let d3 = UnsafeRawPointer(dk + 48).loadUnaligned(as: V.self)
        do { let b = V(repeating: wk[0]); c0_0 = fmadd(c0_0, b, d0); c0_1 = fmadd(c0_1, b, d1); c0_2 = fmadd(c0_2, b, d2); c0_3 = fmadd(c0_3, b, d3) }
        if cols > 1 { let b = V(repeating: wk[1]); c1_0 = fmadd(c1_0, b, d0); c1_1 = fmadd(c1_1, b, d1); c1_2 = fmadd(c1_2, b, d2); c1_3 = fmadd(c1_3, b, d3) }
        if cols > 2 { let b = V(repeating: wk[2]); c2_0 = fmadd(c2_0, b, d0); c2_1 = fmadd(c2_1, b, d1); c2_2 = fmadd(c2_2, b, d2); c2_3 = fmadd(c2_3, b, d3) }
        if cols > 3 { let b = V(repeating: wk[3]); c3_0 = fmadd(c3_0, b, d0); c3_1 = fmadd(c3_1, b, d1); c3_2 = fmadd(c3_2, b, d2); c3_3 = fmadd(c3_3, b, d3) }
        if cols > 4 { let b = V(repeating: wk[4]); c4_0 = fmadd(c4_0, b, d0); c4_1 = fmadd(c4_1, b, d1); c4_2 = fmadd(c4_2, b, d2); c4_3 = fmadd(c4_3, b, d3) }
        if cols > 5 { let b = V(repeating: wk[5]); c5_0 = fmadd(c5_0, b, d0); c5_1 = fmadd(c5_1, b, d1); c5_2 = fmadd(c5_2, b, d2); c5_3 = fmadd(c5_3, b, d3) }
    }
    do { UnsafeMutableRawPointer(c + 0).storeBytes(of: c0_0, as: V.self); UnsafeMutableRawPointer(c + 16).storeBytes(of: c0_1, as: V.self); UnsafeMutableRawPointer(c + 32).storeBytes(of: c0_2, as: V.self); UnsafeMutableRawPointer(c + 48).storeBytes(of: c0_3, as: V.self) }
    if cols > 1 { UnsafeMutableRawPointer(c + 64).storeBytes(of: c1_0, as: V.self); UnsafeMutableRawPointer(c + 80).storeBytes(of: c1_1, as: V.self); UnsafeMutableRawPointer(c + 96).storeBytes(of: c1_2, as: V.self); UnsafeMutableRawPointer(c + 112).storeBytes(of: c1_3, as: V.self) }
    if cols > 2 { UnsafeMutableRawPointer(c + 128).storeBytes(of: c2_0, as: V.self); UnsafeMutableRawPointer(c + 144).storeBytes(of: c2_1, as: V.self); UnsafeMutableRawPointer(c + 160).storeBytes(of: c2_2, as: V.self); UnsafeMutableRawPointer(c + 176).storeBytes(of: c2_3, as: V.self) }
    if cols > 3 { UnsafeMutableRawPointer(c + 192).storeBytes(of: c3_0, as: V.self); UnsafeMutableRawPointer(c + 208).storeBytes(of: c3_1, as: V.self); UnsafeMutableRawPointer(c + 224).storeBytes(of: c3_2, as: V.self); UnsafeMutableRawPointer(c + 240).storeBytes(of: c3_3, as: V.self) }
    if cols > 4 { UnsafeMutableRawPointer(c + 256).storeBytes(of: c4_0, as: V.self); UnsafeMutableRawPointer(c + 272).storeBytes(of: c4_1, as: V.self); UnsafeMutableRawPointer(c + 288).storeBytes(of: c4_2, as: V.self); UnsafeMutableRawPointer(c + 304).storeBytes(of: c4_3, as: V.self) }
    if cols > 5 { UnsafeMutableRawPointer(c + 320).storeBytes(of: c5_0, as: V.self); UnsafeMutableRawPointer(c + 336).storeBytes(of: c5_1, as: V.self); UnsafeMutableRawPointer(c + 352).storeBytes(of: c5_2, as: V.self); UnsafeMutableRawPointer(c + 368).storeBytes(of: c5_3, as: V.self) }
}

/// col[r * 16v + j] (+)= sum over k < kc of w[k * ldw + r] * dy[k * 16v + j] for r < width and
/// j < 16v, v = `vectors` (1, 2 or 4; see the file comment). `prefetchAhead`: how many Floats
/// past each tile's W columns to prefetch, row by row.
@inline(never)
public func sgemmPixelVectors(vectors: Int, width: Int, kc: Int, w: UnsafePointer<Float>, ldw: Int,
                              dy: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, loadC: Bool, prefetchAhead: Int) {
    switch vectors {
    case 1:
        var r = 0
        while r < width {
            let cp = c + r &* 16, wp = w + r
            switch min(16, width &- r) {
            case 16: tile1x16(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 16)
            case 15: tile1x16(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 15)
            case 14: tile1x16(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 14)
            case 13: tile1x16(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 13)
            case 12: tile1x16(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 12)
            case 11: tile1x16(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 11)
            case 10: tile1x16(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 10)
            case 9: tile1x16(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 9)
            case 8: tile1x16(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 8)
            case 7: tile1x16(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 7)
            case 6: tile1x16(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 6)
            case 5: tile1x16(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 5)
            case 4: tile1x16(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 4)
            case 3: tile1x16(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 3)
            case 2: tile1x16(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 2)
            default: tile1x16(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 1)
            }
            r &+= 16
        }
    case 2:
        var r = 0
        while r < width {
            let cp = c + r &* 32, wp = w + r
            switch min(12, width &- r) {
            case 12: tile2x12(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 12)
            case 11: tile2x12(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 11)
            case 10: tile2x12(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 10)
            case 9: tile2x12(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 9)
            case 8: tile2x12(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 8)
            case 7: tile2x12(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 7)
            case 6: tile2x12(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 6)
            case 5: tile2x12(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 5)
            case 4: tile2x12(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 4)
            case 3: tile2x12(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 3)
            case 2: tile2x12(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 2)
            default: tile2x12(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 1)
            }
            r &+= 12
        }
    case 4:
        var r = 0
        while r < width {
            let cp = c + r &* 64, wp = w + r
            switch min(6, width &- r) {
            case 6: tile4x6(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 6)
            case 5: tile4x6(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 5)
            case 4: tile4x6(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 4)
            case 3: tile4x6(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 3)
            case 2: tile4x6(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 2)
            default: tile4x6(kc, wp, ldw, dy, cp, loadC, prefetchAhead, cols: 1)
            }
            r &+= 6
        }
    default: preconditionFailure("sgemmPixelVectors: vectors must be 1, 2 or 4")
    }
}
#endif
