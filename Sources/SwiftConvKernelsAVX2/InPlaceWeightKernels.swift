/// GEMM micro-kernels that read A (the weights, row-major: A(i, k) at `a[i * lda + k]`) in
/// place, broadcasting each element from its own row, instead of from a packed 6-row panel.
/// For products with few columns (1x1 convolutions on 7x7 / 14x14 planes at batch 1) the
/// per-call packing of A was a large share of the call: A is read once per column block
/// here either way, so the packing pass is pure overhead (SwiftConv.Gemm.multiplyInPlaceA,
/// chosen by KernelSelector.readsWeightsInPlace).
///
/// B is what the GEMM reads today: 64-byte panels (16 Floats / 8 Doubles) `bPanelStride`
/// elements apart whose rows are `ldb` apart: packed panels (ldb = panel width) or a
/// row-major matrix read in place (a 1x1 convolution's input: bPanelStride = panel width,
/// ldb = its row length). A last partial panel (nc not a multiple of the width) is read from
/// `bEdge`, packed and zero-padded to the full width (rows one width apart).
///
/// Same bits as the packed kernels (MicroKernels.swift): every element starts from C (or
/// from 0 when `loadC` is false) and adds A(i, k) * B(k, j) for k = 0, 1, ... in order, one
/// `fmadd` (fused on the AVX2 / AVX-512 builds, unfused on the baseline) at a time; only
/// where A's values come from differs. So prepared (packed) and plain calls agree bitwise.
///
/// Tiles: AVX-512 12 x 32 / 12 x 16 Floats, 12 x 16 / 12 x 8 Doubles (zmm, one register per
/// row and panel, as the packed build); AVX2 and baseline 6 x 16 Floats / 6 x 8 Doubles (two
/// ymm per row). Loop order: a slab of rows at a time over all `nc` columns, so its A rows
/// (rows x kc) stay in L1 while the kc x nc block of B (in L1 / L2) streams past them. A
/// partial last panel of at most
/// `rowsInLanesMaxColumns` columns takes the slab's rows in the vector lanes on AVX-512
/// (`edgeRowsInLanes`: a register transpose of the L1-resident slab) instead of a full-width
/// tile that spends 16 columns' multiply-adds on it.
///
/// Compiled three times like the other kernel files (the AVX512 and Baseline targets hold
/// symlinks to this one).

#if SWIFTCONV_AVX512

/// Rows x 32 Floats (two B panels, `b` and `b2`; 24 zmm accumulators), A row i at `a + i * lda`.
@_transparent
private func tile12x32(_ kc: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ b2: UnsafePointer<Float>, _ ldb: Int,
                         _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ loadC: Bool, rows: Int) {
    typealias V = SIMD16<Float>
    let w = V.scalarCount
    var c0_00 = V(), c0_10 = V()
    var c1_00 = V(), c1_10 = V()
    var c2_00 = V(), c2_10 = V()
    var c3_00 = V(), c3_10 = V()
    var c4_00 = V(), c4_10 = V()
    var c5_00 = V(), c5_10 = V()
    var c6_00 = V(), c6_10 = V()
    var c7_00 = V(), c7_10 = V()
    var c8_00 = V(), c8_10 = V()
    var c9_00 = V(), c9_10 = V()
    var c10_00 = V(), c10_10 = V()
    var c11_00 = V(), c11_10 = V()
    let a0 = a, r0 = c
    let a1 = a + 1 &* lda, r1 = c + 1 &* ldc
    let a2 = a + 2 &* lda, r2 = c + 2 &* ldc
    let a3 = a + 3 &* lda, r3 = c + 3 &* ldc
    let a4 = a + 4 &* lda, r4 = c + 4 &* ldc
    let a5 = a + 5 &* lda, r5 = c + 5 &* ldc
    let a6 = a + 6 &* lda, r6 = c + 6 &* ldc
    let a7 = a + 7 &* lda, r7 = c + 7 &* ldc
    let a8 = a + 8 &* lda, r8 = c + 8 &* ldc
    let a9 = a + 9 &* lda, r9 = c + 9 &* ldc
    let a10 = a + 10 &* lda, r10 = c + 10 &* ldc
    let a11 = a + 11 &* lda, r11 = c + 11 &* ldc
    if loadC {
        c0_00 = UnsafeRawPointer(r0).loadUnaligned(as: V.self); c0_10 = UnsafeRawPointer((r0 + 1 &* w)).loadUnaligned(as: V.self)
        if rows > 1 { c1_00 = UnsafeRawPointer(r1).loadUnaligned(as: V.self); c1_10 = UnsafeRawPointer((r1 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 2 { c2_00 = UnsafeRawPointer(r2).loadUnaligned(as: V.self); c2_10 = UnsafeRawPointer((r2 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 3 { c3_00 = UnsafeRawPointer(r3).loadUnaligned(as: V.self); c3_10 = UnsafeRawPointer((r3 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 4 { c4_00 = UnsafeRawPointer(r4).loadUnaligned(as: V.self); c4_10 = UnsafeRawPointer((r4 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 5 { c5_00 = UnsafeRawPointer(r5).loadUnaligned(as: V.self); c5_10 = UnsafeRawPointer((r5 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 6 { c6_00 = UnsafeRawPointer(r6).loadUnaligned(as: V.self); c6_10 = UnsafeRawPointer((r6 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 7 { c7_00 = UnsafeRawPointer(r7).loadUnaligned(as: V.self); c7_10 = UnsafeRawPointer((r7 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 8 { c8_00 = UnsafeRawPointer(r8).loadUnaligned(as: V.self); c8_10 = UnsafeRawPointer((r8 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 9 { c9_00 = UnsafeRawPointer(r9).loadUnaligned(as: V.self); c9_10 = UnsafeRawPointer((r9 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 10 { c10_00 = UnsafeRawPointer(r10).loadUnaligned(as: V.self); c10_10 = UnsafeRawPointer((r10 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 11 { c11_00 = UnsafeRawPointer(r11).loadUnaligned(as: V.self); c11_10 = UnsafeRawPointer((r11 + 1 &* w)).loadUnaligned(as: V.self) }
    }
    @inline(__always) func step(_ k: Int) {
        let b00 = UnsafeRawPointer(b + (ldb &* k)).loadUnaligned(as: V.self)
        let b10 = UnsafeRawPointer(b2 + (ldb &* k)).loadUnaligned(as: V.self)
        do { let v = V(repeating: a0[k]); c0_00 = fmadd(c0_00, v, b00); c0_10 = fmadd(c0_10, v, b10) }
        if rows > 1 { let v = V(repeating: a1[k]); c1_00 = fmadd(c1_00, v, b00); c1_10 = fmadd(c1_10, v, b10) }
        if rows > 2 { let v = V(repeating: a2[k]); c2_00 = fmadd(c2_00, v, b00); c2_10 = fmadd(c2_10, v, b10) }
        if rows > 3 { let v = V(repeating: a3[k]); c3_00 = fmadd(c3_00, v, b00); c3_10 = fmadd(c3_10, v, b10) }
        if rows > 4 { let v = V(repeating: a4[k]); c4_00 = fmadd(c4_00, v, b00); c4_10 = fmadd(c4_10, v, b10) }
        if rows > 5 { let v = V(repeating: a5[k]); c5_00 = fmadd(c5_00, v, b00); c5_10 = fmadd(c5_10, v, b10) }
        if rows > 6 { let v = V(repeating: a6[k]); c6_00 = fmadd(c6_00, v, b00); c6_10 = fmadd(c6_10, v, b10) }
        if rows > 7 { let v = V(repeating: a7[k]); c7_00 = fmadd(c7_00, v, b00); c7_10 = fmadd(c7_10, v, b10) }
        if rows > 8 { let v = V(repeating: a8[k]); c8_00 = fmadd(c8_00, v, b00); c8_10 = fmadd(c8_10, v, b10) }
        if rows > 9 { let v = V(repeating: a9[k]); c9_00 = fmadd(c9_00, v, b00); c9_10 = fmadd(c9_10, v, b10) }
        if rows > 10 { let v = V(repeating: a10[k]); c10_00 = fmadd(c10_00, v, b00); c10_10 = fmadd(c10_10, v, b10) }
        if rows > 11 { let v = V(repeating: a11[k]); c11_00 = fmadd(c11_00, v, b00); c11_10 = fmadd(c11_10, v, b10) }
    }
    // Two k per iteration: each row's address serves both (a displacement), halving the
    // address arithmetic that otherwise limits the narrower tiles.
    var k = 0
    while k &+ 2 <= kc { step(k); step(k &+ 1); k &+= 2 }
    if k < kc { step(k) }
    UnsafeMutableRawPointer(r0).storeBytes(of: c0_00, as: V.self); UnsafeMutableRawPointer((r0 + 1 &* w)).storeBytes(of: c0_10, as: V.self)
    if rows > 1 { UnsafeMutableRawPointer(r1).storeBytes(of: c1_00, as: V.self); UnsafeMutableRawPointer((r1 + 1 &* w)).storeBytes(of: c1_10, as: V.self) }
    if rows > 2 { UnsafeMutableRawPointer(r2).storeBytes(of: c2_00, as: V.self); UnsafeMutableRawPointer((r2 + 1 &* w)).storeBytes(of: c2_10, as: V.self) }
    if rows > 3 { UnsafeMutableRawPointer(r3).storeBytes(of: c3_00, as: V.self); UnsafeMutableRawPointer((r3 + 1 &* w)).storeBytes(of: c3_10, as: V.self) }
    if rows > 4 { UnsafeMutableRawPointer(r4).storeBytes(of: c4_00, as: V.self); UnsafeMutableRawPointer((r4 + 1 &* w)).storeBytes(of: c4_10, as: V.self) }
    if rows > 5 { UnsafeMutableRawPointer(r5).storeBytes(of: c5_00, as: V.self); UnsafeMutableRawPointer((r5 + 1 &* w)).storeBytes(of: c5_10, as: V.self) }
    if rows > 6 { UnsafeMutableRawPointer(r6).storeBytes(of: c6_00, as: V.self); UnsafeMutableRawPointer((r6 + 1 &* w)).storeBytes(of: c6_10, as: V.self) }
    if rows > 7 { UnsafeMutableRawPointer(r7).storeBytes(of: c7_00, as: V.self); UnsafeMutableRawPointer((r7 + 1 &* w)).storeBytes(of: c7_10, as: V.self) }
    if rows > 8 { UnsafeMutableRawPointer(r8).storeBytes(of: c8_00, as: V.self); UnsafeMutableRawPointer((r8 + 1 &* w)).storeBytes(of: c8_10, as: V.self) }
    if rows > 9 { UnsafeMutableRawPointer(r9).storeBytes(of: c9_00, as: V.self); UnsafeMutableRawPointer((r9 + 1 &* w)).storeBytes(of: c9_10, as: V.self) }
    if rows > 10 { UnsafeMutableRawPointer(r10).storeBytes(of: c10_00, as: V.self); UnsafeMutableRawPointer((r10 + 1 &* w)).storeBytes(of: c10_10, as: V.self) }
    if rows > 11 { UnsafeMutableRawPointer(r11).storeBytes(of: c11_00, as: V.self); UnsafeMutableRawPointer((r11 + 1 &* w)).storeBytes(of: c11_10, as: V.self) }
}

/// Rows x 16 Floats (one B panel; `b2` unused).
@_transparent
private func tile12x16(_ kc: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ b2: UnsafePointer<Float>, _ ldb: Int,
                         _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ loadC: Bool, rows: Int) {
    typealias V = SIMD16<Float>
    var c0_00 = V()
    var c1_00 = V()
    var c2_00 = V()
    var c3_00 = V()
    var c4_00 = V()
    var c5_00 = V()
    var c6_00 = V()
    var c7_00 = V()
    var c8_00 = V()
    var c9_00 = V()
    var c10_00 = V()
    var c11_00 = V()
    let a0 = a, r0 = c
    let a1 = a + 1 &* lda, r1 = c + 1 &* ldc
    let a2 = a + 2 &* lda, r2 = c + 2 &* ldc
    let a3 = a + 3 &* lda, r3 = c + 3 &* ldc
    let a4 = a + 4 &* lda, r4 = c + 4 &* ldc
    let a5 = a + 5 &* lda, r5 = c + 5 &* ldc
    let a6 = a + 6 &* lda, r6 = c + 6 &* ldc
    let a7 = a + 7 &* lda, r7 = c + 7 &* ldc
    let a8 = a + 8 &* lda, r8 = c + 8 &* ldc
    let a9 = a + 9 &* lda, r9 = c + 9 &* ldc
    let a10 = a + 10 &* lda, r10 = c + 10 &* ldc
    let a11 = a + 11 &* lda, r11 = c + 11 &* ldc
    if loadC {
        c0_00 = UnsafeRawPointer(r0).loadUnaligned(as: V.self)
        if rows > 1 { c1_00 = UnsafeRawPointer(r1).loadUnaligned(as: V.self) }
        if rows > 2 { c2_00 = UnsafeRawPointer(r2).loadUnaligned(as: V.self) }
        if rows > 3 { c3_00 = UnsafeRawPointer(r3).loadUnaligned(as: V.self) }
        if rows > 4 { c4_00 = UnsafeRawPointer(r4).loadUnaligned(as: V.self) }
        if rows > 5 { c5_00 = UnsafeRawPointer(r5).loadUnaligned(as: V.self) }
        if rows > 6 { c6_00 = UnsafeRawPointer(r6).loadUnaligned(as: V.self) }
        if rows > 7 { c7_00 = UnsafeRawPointer(r7).loadUnaligned(as: V.self) }
        if rows > 8 { c8_00 = UnsafeRawPointer(r8).loadUnaligned(as: V.self) }
        if rows > 9 { c9_00 = UnsafeRawPointer(r9).loadUnaligned(as: V.self) }
        if rows > 10 { c10_00 = UnsafeRawPointer(r10).loadUnaligned(as: V.self) }
        if rows > 11 { c11_00 = UnsafeRawPointer(r11).loadUnaligned(as: V.self) }
    }
    @inline(__always) func step(_ k: Int) {
        let b00 = UnsafeRawPointer(b + (ldb &* k)).loadUnaligned(as: V.self)
        do { let v = V(repeating: a0[k]); c0_00 = fmadd(c0_00, v, b00) }
        if rows > 1 { let v = V(repeating: a1[k]); c1_00 = fmadd(c1_00, v, b00) }
        if rows > 2 { let v = V(repeating: a2[k]); c2_00 = fmadd(c2_00, v, b00) }
        if rows > 3 { let v = V(repeating: a3[k]); c3_00 = fmadd(c3_00, v, b00) }
        if rows > 4 { let v = V(repeating: a4[k]); c4_00 = fmadd(c4_00, v, b00) }
        if rows > 5 { let v = V(repeating: a5[k]); c5_00 = fmadd(c5_00, v, b00) }
        if rows > 6 { let v = V(repeating: a6[k]); c6_00 = fmadd(c6_00, v, b00) }
        if rows > 7 { let v = V(repeating: a7[k]); c7_00 = fmadd(c7_00, v, b00) }
        if rows > 8 { let v = V(repeating: a8[k]); c8_00 = fmadd(c8_00, v, b00) }
        if rows > 9 { let v = V(repeating: a9[k]); c9_00 = fmadd(c9_00, v, b00) }
        if rows > 10 { let v = V(repeating: a10[k]); c10_00 = fmadd(c10_00, v, b00) }
        if rows > 11 { let v = V(repeating: a11[k]); c11_00 = fmadd(c11_00, v, b00) }
    }
    // Two k per iteration: each row's address serves both (a displacement), halving the
    // address arithmetic that otherwise limits the narrower tiles.
    var k = 0
    while k &+ 2 <= kc { step(k); step(k &+ 1); k &+= 2 }
    if k < kc { step(k) }
    UnsafeMutableRawPointer(r0).storeBytes(of: c0_00, as: V.self)
    if rows > 1 { UnsafeMutableRawPointer(r1).storeBytes(of: c1_00, as: V.self) }
    if rows > 2 { UnsafeMutableRawPointer(r2).storeBytes(of: c2_00, as: V.self) }
    if rows > 3 { UnsafeMutableRawPointer(r3).storeBytes(of: c3_00, as: V.self) }
    if rows > 4 { UnsafeMutableRawPointer(r4).storeBytes(of: c4_00, as: V.self) }
    if rows > 5 { UnsafeMutableRawPointer(r5).storeBytes(of: c5_00, as: V.self) }
    if rows > 6 { UnsafeMutableRawPointer(r6).storeBytes(of: c6_00, as: V.self) }
    if rows > 7 { UnsafeMutableRawPointer(r7).storeBytes(of: c7_00, as: V.self) }
    if rows > 8 { UnsafeMutableRawPointer(r8).storeBytes(of: c8_00, as: V.self) }
    if rows > 9 { UnsafeMutableRawPointer(r9).storeBytes(of: c9_00, as: V.self) }
    if rows > 10 { UnsafeMutableRawPointer(r10).storeBytes(of: c10_00, as: V.self) }
    if rows > 11 { UnsafeMutableRawPointer(r11).storeBytes(of: c11_00, as: V.self) }
}

/// Rows x 16 Doubles (two B panels of 8).
@_transparent
private func tile12x16d(_ kc: Int, _ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>, _ b2: UnsafePointer<Double>, _ ldb: Int,
                         _ c: UnsafeMutablePointer<Double>, _ ldc: Int, _ loadC: Bool, rows: Int) {
    typealias V = SIMD8<Double>
    let w = V.scalarCount
    var c0_00 = V(), c0_10 = V()
    var c1_00 = V(), c1_10 = V()
    var c2_00 = V(), c2_10 = V()
    var c3_00 = V(), c3_10 = V()
    var c4_00 = V(), c4_10 = V()
    var c5_00 = V(), c5_10 = V()
    var c6_00 = V(), c6_10 = V()
    var c7_00 = V(), c7_10 = V()
    var c8_00 = V(), c8_10 = V()
    var c9_00 = V(), c9_10 = V()
    var c10_00 = V(), c10_10 = V()
    var c11_00 = V(), c11_10 = V()
    let a0 = a, r0 = c
    let a1 = a + 1 &* lda, r1 = c + 1 &* ldc
    let a2 = a + 2 &* lda, r2 = c + 2 &* ldc
    let a3 = a + 3 &* lda, r3 = c + 3 &* ldc
    let a4 = a + 4 &* lda, r4 = c + 4 &* ldc
    let a5 = a + 5 &* lda, r5 = c + 5 &* ldc
    let a6 = a + 6 &* lda, r6 = c + 6 &* ldc
    let a7 = a + 7 &* lda, r7 = c + 7 &* ldc
    let a8 = a + 8 &* lda, r8 = c + 8 &* ldc
    let a9 = a + 9 &* lda, r9 = c + 9 &* ldc
    let a10 = a + 10 &* lda, r10 = c + 10 &* ldc
    let a11 = a + 11 &* lda, r11 = c + 11 &* ldc
    if loadC {
        c0_00 = UnsafeRawPointer(r0).loadUnaligned(as: V.self); c0_10 = UnsafeRawPointer((r0 + 1 &* w)).loadUnaligned(as: V.self)
        if rows > 1 { c1_00 = UnsafeRawPointer(r1).loadUnaligned(as: V.self); c1_10 = UnsafeRawPointer((r1 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 2 { c2_00 = UnsafeRawPointer(r2).loadUnaligned(as: V.self); c2_10 = UnsafeRawPointer((r2 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 3 { c3_00 = UnsafeRawPointer(r3).loadUnaligned(as: V.self); c3_10 = UnsafeRawPointer((r3 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 4 { c4_00 = UnsafeRawPointer(r4).loadUnaligned(as: V.self); c4_10 = UnsafeRawPointer((r4 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 5 { c5_00 = UnsafeRawPointer(r5).loadUnaligned(as: V.self); c5_10 = UnsafeRawPointer((r5 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 6 { c6_00 = UnsafeRawPointer(r6).loadUnaligned(as: V.self); c6_10 = UnsafeRawPointer((r6 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 7 { c7_00 = UnsafeRawPointer(r7).loadUnaligned(as: V.self); c7_10 = UnsafeRawPointer((r7 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 8 { c8_00 = UnsafeRawPointer(r8).loadUnaligned(as: V.self); c8_10 = UnsafeRawPointer((r8 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 9 { c9_00 = UnsafeRawPointer(r9).loadUnaligned(as: V.self); c9_10 = UnsafeRawPointer((r9 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 10 { c10_00 = UnsafeRawPointer(r10).loadUnaligned(as: V.self); c10_10 = UnsafeRawPointer((r10 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 11 { c11_00 = UnsafeRawPointer(r11).loadUnaligned(as: V.self); c11_10 = UnsafeRawPointer((r11 + 1 &* w)).loadUnaligned(as: V.self) }
    }
    @inline(__always) func step(_ k: Int) {
        let b00 = UnsafeRawPointer(b + (ldb &* k)).loadUnaligned(as: V.self)
        let b10 = UnsafeRawPointer(b2 + (ldb &* k)).loadUnaligned(as: V.self)
        do { let v = V(repeating: a0[k]); c0_00 = fmadd(c0_00, v, b00); c0_10 = fmadd(c0_10, v, b10) }
        if rows > 1 { let v = V(repeating: a1[k]); c1_00 = fmadd(c1_00, v, b00); c1_10 = fmadd(c1_10, v, b10) }
        if rows > 2 { let v = V(repeating: a2[k]); c2_00 = fmadd(c2_00, v, b00); c2_10 = fmadd(c2_10, v, b10) }
        if rows > 3 { let v = V(repeating: a3[k]); c3_00 = fmadd(c3_00, v, b00); c3_10 = fmadd(c3_10, v, b10) }
        if rows > 4 { let v = V(repeating: a4[k]); c4_00 = fmadd(c4_00, v, b00); c4_10 = fmadd(c4_10, v, b10) }
        if rows > 5 { let v = V(repeating: a5[k]); c5_00 = fmadd(c5_00, v, b00); c5_10 = fmadd(c5_10, v, b10) }
        if rows > 6 { let v = V(repeating: a6[k]); c6_00 = fmadd(c6_00, v, b00); c6_10 = fmadd(c6_10, v, b10) }
        if rows > 7 { let v = V(repeating: a7[k]); c7_00 = fmadd(c7_00, v, b00); c7_10 = fmadd(c7_10, v, b10) }
        if rows > 8 { let v = V(repeating: a8[k]); c8_00 = fmadd(c8_00, v, b00); c8_10 = fmadd(c8_10, v, b10) }
        if rows > 9 { let v = V(repeating: a9[k]); c9_00 = fmadd(c9_00, v, b00); c9_10 = fmadd(c9_10, v, b10) }
        if rows > 10 { let v = V(repeating: a10[k]); c10_00 = fmadd(c10_00, v, b00); c10_10 = fmadd(c10_10, v, b10) }
        if rows > 11 { let v = V(repeating: a11[k]); c11_00 = fmadd(c11_00, v, b00); c11_10 = fmadd(c11_10, v, b10) }
    }
    // Two k per iteration: each row's address serves both (a displacement), halving the
    // address arithmetic that otherwise limits the narrower tiles.
    var k = 0
    while k &+ 2 <= kc { step(k); step(k &+ 1); k &+= 2 }
    if k < kc { step(k) }
    UnsafeMutableRawPointer(r0).storeBytes(of: c0_00, as: V.self); UnsafeMutableRawPointer((r0 + 1 &* w)).storeBytes(of: c0_10, as: V.self)
    if rows > 1 { UnsafeMutableRawPointer(r1).storeBytes(of: c1_00, as: V.self); UnsafeMutableRawPointer((r1 + 1 &* w)).storeBytes(of: c1_10, as: V.self) }
    if rows > 2 { UnsafeMutableRawPointer(r2).storeBytes(of: c2_00, as: V.self); UnsafeMutableRawPointer((r2 + 1 &* w)).storeBytes(of: c2_10, as: V.self) }
    if rows > 3 { UnsafeMutableRawPointer(r3).storeBytes(of: c3_00, as: V.self); UnsafeMutableRawPointer((r3 + 1 &* w)).storeBytes(of: c3_10, as: V.self) }
    if rows > 4 { UnsafeMutableRawPointer(r4).storeBytes(of: c4_00, as: V.self); UnsafeMutableRawPointer((r4 + 1 &* w)).storeBytes(of: c4_10, as: V.self) }
    if rows > 5 { UnsafeMutableRawPointer(r5).storeBytes(of: c5_00, as: V.self); UnsafeMutableRawPointer((r5 + 1 &* w)).storeBytes(of: c5_10, as: V.self) }
    if rows > 6 { UnsafeMutableRawPointer(r6).storeBytes(of: c6_00, as: V.self); UnsafeMutableRawPointer((r6 + 1 &* w)).storeBytes(of: c6_10, as: V.self) }
    if rows > 7 { UnsafeMutableRawPointer(r7).storeBytes(of: c7_00, as: V.self); UnsafeMutableRawPointer((r7 + 1 &* w)).storeBytes(of: c7_10, as: V.self) }
    if rows > 8 { UnsafeMutableRawPointer(r8).storeBytes(of: c8_00, as: V.self); UnsafeMutableRawPointer((r8 + 1 &* w)).storeBytes(of: c8_10, as: V.self) }
    if rows > 9 { UnsafeMutableRawPointer(r9).storeBytes(of: c9_00, as: V.self); UnsafeMutableRawPointer((r9 + 1 &* w)).storeBytes(of: c9_10, as: V.self) }
    if rows > 10 { UnsafeMutableRawPointer(r10).storeBytes(of: c10_00, as: V.self); UnsafeMutableRawPointer((r10 + 1 &* w)).storeBytes(of: c10_10, as: V.self) }
    if rows > 11 { UnsafeMutableRawPointer(r11).storeBytes(of: c11_00, as: V.self); UnsafeMutableRawPointer((r11 + 1 &* w)).storeBytes(of: c11_10, as: V.self) }
}

/// Rows x 8 Doubles (one B panel; `b2` unused).
@_transparent
private func tile12x8d(_ kc: Int, _ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>, _ b2: UnsafePointer<Double>, _ ldb: Int,
                         _ c: UnsafeMutablePointer<Double>, _ ldc: Int, _ loadC: Bool, rows: Int) {
    typealias V = SIMD8<Double>
    var c0_00 = V()
    var c1_00 = V()
    var c2_00 = V()
    var c3_00 = V()
    var c4_00 = V()
    var c5_00 = V()
    var c6_00 = V()
    var c7_00 = V()
    var c8_00 = V()
    var c9_00 = V()
    var c10_00 = V()
    var c11_00 = V()
    let a0 = a, r0 = c
    let a1 = a + 1 &* lda, r1 = c + 1 &* ldc
    let a2 = a + 2 &* lda, r2 = c + 2 &* ldc
    let a3 = a + 3 &* lda, r3 = c + 3 &* ldc
    let a4 = a + 4 &* lda, r4 = c + 4 &* ldc
    let a5 = a + 5 &* lda, r5 = c + 5 &* ldc
    let a6 = a + 6 &* lda, r6 = c + 6 &* ldc
    let a7 = a + 7 &* lda, r7 = c + 7 &* ldc
    let a8 = a + 8 &* lda, r8 = c + 8 &* ldc
    let a9 = a + 9 &* lda, r9 = c + 9 &* ldc
    let a10 = a + 10 &* lda, r10 = c + 10 &* ldc
    let a11 = a + 11 &* lda, r11 = c + 11 &* ldc
    if loadC {
        c0_00 = UnsafeRawPointer(r0).loadUnaligned(as: V.self)
        if rows > 1 { c1_00 = UnsafeRawPointer(r1).loadUnaligned(as: V.self) }
        if rows > 2 { c2_00 = UnsafeRawPointer(r2).loadUnaligned(as: V.self) }
        if rows > 3 { c3_00 = UnsafeRawPointer(r3).loadUnaligned(as: V.self) }
        if rows > 4 { c4_00 = UnsafeRawPointer(r4).loadUnaligned(as: V.self) }
        if rows > 5 { c5_00 = UnsafeRawPointer(r5).loadUnaligned(as: V.self) }
        if rows > 6 { c6_00 = UnsafeRawPointer(r6).loadUnaligned(as: V.self) }
        if rows > 7 { c7_00 = UnsafeRawPointer(r7).loadUnaligned(as: V.self) }
        if rows > 8 { c8_00 = UnsafeRawPointer(r8).loadUnaligned(as: V.self) }
        if rows > 9 { c9_00 = UnsafeRawPointer(r9).loadUnaligned(as: V.self) }
        if rows > 10 { c10_00 = UnsafeRawPointer(r10).loadUnaligned(as: V.self) }
        if rows > 11 { c11_00 = UnsafeRawPointer(r11).loadUnaligned(as: V.self) }
    }
    @inline(__always) func step(_ k: Int) {
        let b00 = UnsafeRawPointer(b + (ldb &* k)).loadUnaligned(as: V.self)
        do { let v = V(repeating: a0[k]); c0_00 = fmadd(c0_00, v, b00) }
        if rows > 1 { let v = V(repeating: a1[k]); c1_00 = fmadd(c1_00, v, b00) }
        if rows > 2 { let v = V(repeating: a2[k]); c2_00 = fmadd(c2_00, v, b00) }
        if rows > 3 { let v = V(repeating: a3[k]); c3_00 = fmadd(c3_00, v, b00) }
        if rows > 4 { let v = V(repeating: a4[k]); c4_00 = fmadd(c4_00, v, b00) }
        if rows > 5 { let v = V(repeating: a5[k]); c5_00 = fmadd(c5_00, v, b00) }
        if rows > 6 { let v = V(repeating: a6[k]); c6_00 = fmadd(c6_00, v, b00) }
        if rows > 7 { let v = V(repeating: a7[k]); c7_00 = fmadd(c7_00, v, b00) }
        if rows > 8 { let v = V(repeating: a8[k]); c8_00 = fmadd(c8_00, v, b00) }
        if rows > 9 { let v = V(repeating: a9[k]); c9_00 = fmadd(c9_00, v, b00) }
        if rows > 10 { let v = V(repeating: a10[k]); c10_00 = fmadd(c10_00, v, b00) }
        if rows > 11 { let v = V(repeating: a11[k]); c11_00 = fmadd(c11_00, v, b00) }
    }
    // Two k per iteration: each row's address serves both (a displacement), halving the
    // address arithmetic that otherwise limits the narrower tiles.
    var k = 0
    while k &+ 2 <= kc { step(k); step(k &+ 1); k &+= 2 }
    if k < kc { step(k) }
    UnsafeMutableRawPointer(r0).storeBytes(of: c0_00, as: V.self)
    if rows > 1 { UnsafeMutableRawPointer(r1).storeBytes(of: c1_00, as: V.self) }
    if rows > 2 { UnsafeMutableRawPointer(r2).storeBytes(of: c2_00, as: V.self) }
    if rows > 3 { UnsafeMutableRawPointer(r3).storeBytes(of: c3_00, as: V.self) }
    if rows > 4 { UnsafeMutableRawPointer(r4).storeBytes(of: c4_00, as: V.self) }
    if rows > 5 { UnsafeMutableRawPointer(r5).storeBytes(of: c5_00, as: V.self) }
    if rows > 6 { UnsafeMutableRawPointer(r6).storeBytes(of: c6_00, as: V.self) }
    if rows > 7 { UnsafeMutableRawPointer(r7).storeBytes(of: c7_00, as: V.self) }
    if rows > 8 { UnsafeMutableRawPointer(r8).storeBytes(of: c8_00, as: V.self) }
    if rows > 9 { UnsafeMutableRawPointer(r9).storeBytes(of: c9_00, as: V.self) }
    if rows > 10 { UnsafeMutableRawPointer(r10).storeBytes(of: c10_00, as: V.self) }
    if rows > 11 { UnsafeMutableRawPointer(r11).storeBytes(of: c11_00, as: V.self) }
}

/// The partial column panel of a slab (`cols` < 16 columns, at most `rowsInLanesMaxColumns`)
/// with the slab's rows in the vector lanes: each 16 k of its rows (in L1: the full tiles have
/// just read them) are transposed in registers, and then one multiply-add per k and column
/// serves all 12 rows, where the full-width tile spends one per k and row whatever the
/// columns (16 columns' work for the 1 of a 7x7 plane's 49). B is the packed partial panel
/// (row k at `b + k * ldb`, zero-padded); C rows `ldc` apart. Lanes past `rows` are never
/// stored (their loads reread row 0). Same bits as the tiles: C(i, j) [or 0] + A(i, k) *
/// B(k, j), one multiply-add per k in order. Out of line, as the slab's tiles are
/// (`slabFullPanels`). The transpose uses `evenLanes` / `oddLanes` (LaneShuffles.swift):
/// with TransposePacking's lane-by-lane unshuffles it ran several times slower (196
/// columns: 1.81 ms against 1.48 for the full-width tile).
@inline(never)
private func edgeRowsInLanes(_ kc: Int, _ a: UnsafePointer<Float>, _ lda: Int, rows: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                             _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ loadC: Bool, cols: Int) {
    switch cols {
    case 1: edgeRowsInLanesTile(kc, a, lda, rows: rows, b, ldb, c, ldc, loadC, cols: 1)
    default: edgeRowsInLanesTile(kc, a, lda, rows: rows, b, ldb, c, ldc, loadC, cols: 2)
    }
}

/// `edgeRowsInLanes` for a fixed column count.
@_transparent
private func edgeRowsInLanesTile(_ kc: Int, _ a: UnsafePointer<Float>, _ lda: Int, rows: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                                 _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ loadC: Bool, cols: Int) {
    typealias V = SIMD16<Float>
    var c0 = V(), c1 = V()
    if loadC {
        for r in 0..<rows {
            let cr = c + r &* ldc
            do { c0[r] = cr[0] }
            if cols > 1 { c1[r] = cr[1] }
        }
    }
    let p0 = a
    let p1 = rows > 1 ? a + 1 &* lda : a
    let p2 = rows > 2 ? a + 2 &* lda : a
    let p3 = rows > 3 ? a + 3 &* lda : a
    let p4 = rows > 4 ? a + 4 &* lda : a
    let p5 = rows > 5 ? a + 5 &* lda : a
    let p6 = rows > 6 ? a + 6 &* lda : a
    let p7 = rows > 7 ? a + 7 &* lda : a
    let p8 = rows > 8 ? a + 8 &* lda : a
    let p9 = rows > 9 ? a + 9 &* lda : a
    let p10 = rows > 10 ? a + 10 &* lda : a
    let p11 = rows > 11 ? a + 11 &* lda : a
    var k = 0
    while k &+ 16 <= kc {
        var t0 = UnsafeRawPointer(p0 + k).loadUnaligned(as: V.self)
        var t1 = UnsafeRawPointer(p1 + k).loadUnaligned(as: V.self)
        var t2 = UnsafeRawPointer(p2 + k).loadUnaligned(as: V.self)
        var t3 = UnsafeRawPointer(p3 + k).loadUnaligned(as: V.self)
        var t4 = UnsafeRawPointer(p4 + k).loadUnaligned(as: V.self)
        var t5 = UnsafeRawPointer(p5 + k).loadUnaligned(as: V.self)
        var t6 = UnsafeRawPointer(p6 + k).loadUnaligned(as: V.self)
        var t7 = UnsafeRawPointer(p7 + k).loadUnaligned(as: V.self)
        var t8 = UnsafeRawPointer(p8 + k).loadUnaligned(as: V.self)
        var t9 = UnsafeRawPointer(p9 + k).loadUnaligned(as: V.self)
        var t10 = UnsafeRawPointer(p10 + k).loadUnaligned(as: V.self)
        var t11 = UnsafeRawPointer(p11 + k).loadUnaligned(as: V.self)
        var t12 = V()
        var t13 = V()
        var t14 = V()
        var t15 = V()
        for _ in 0..<4 {
            (t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15) =
                (evenLanes(t0, t1), evenLanes(t2, t3), evenLanes(t4, t5), evenLanes(t6, t7), evenLanes(t8, t9), evenLanes(t10, t11), evenLanes(t12, t13), evenLanes(t14, t15),
                 oddLanes(t0, t1), oddLanes(t2, t3), oddLanes(t4, t5), oddLanes(t6, t7), oddLanes(t8, t9), oddLanes(t10, t11), oddLanes(t12, t13), oddLanes(t14, t15))
        }
        let bk = b + ldb &* k
        c0 = fmadd(c0, t0, V(repeating: bk[0 &* ldb &+ 0])); if cols > 1 { c1 = fmadd(c1, t0, V(repeating: bk[0 &* ldb &+ 1])) }
        c0 = fmadd(c0, t1, V(repeating: bk[1 &* ldb &+ 0])); if cols > 1 { c1 = fmadd(c1, t1, V(repeating: bk[1 &* ldb &+ 1])) }
        c0 = fmadd(c0, t2, V(repeating: bk[2 &* ldb &+ 0])); if cols > 1 { c1 = fmadd(c1, t2, V(repeating: bk[2 &* ldb &+ 1])) }
        c0 = fmadd(c0, t3, V(repeating: bk[3 &* ldb &+ 0])); if cols > 1 { c1 = fmadd(c1, t3, V(repeating: bk[3 &* ldb &+ 1])) }
        c0 = fmadd(c0, t4, V(repeating: bk[4 &* ldb &+ 0])); if cols > 1 { c1 = fmadd(c1, t4, V(repeating: bk[4 &* ldb &+ 1])) }
        c0 = fmadd(c0, t5, V(repeating: bk[5 &* ldb &+ 0])); if cols > 1 { c1 = fmadd(c1, t5, V(repeating: bk[5 &* ldb &+ 1])) }
        c0 = fmadd(c0, t6, V(repeating: bk[6 &* ldb &+ 0])); if cols > 1 { c1 = fmadd(c1, t6, V(repeating: bk[6 &* ldb &+ 1])) }
        c0 = fmadd(c0, t7, V(repeating: bk[7 &* ldb &+ 0])); if cols > 1 { c1 = fmadd(c1, t7, V(repeating: bk[7 &* ldb &+ 1])) }
        c0 = fmadd(c0, t8, V(repeating: bk[8 &* ldb &+ 0])); if cols > 1 { c1 = fmadd(c1, t8, V(repeating: bk[8 &* ldb &+ 1])) }
        c0 = fmadd(c0, t9, V(repeating: bk[9 &* ldb &+ 0])); if cols > 1 { c1 = fmadd(c1, t9, V(repeating: bk[9 &* ldb &+ 1])) }
        c0 = fmadd(c0, t10, V(repeating: bk[10 &* ldb &+ 0])); if cols > 1 { c1 = fmadd(c1, t10, V(repeating: bk[10 &* ldb &+ 1])) }
        c0 = fmadd(c0, t11, V(repeating: bk[11 &* ldb &+ 0])); if cols > 1 { c1 = fmadd(c1, t11, V(repeating: bk[11 &* ldb &+ 1])) }
        c0 = fmadd(c0, t12, V(repeating: bk[12 &* ldb &+ 0])); if cols > 1 { c1 = fmadd(c1, t12, V(repeating: bk[12 &* ldb &+ 1])) }
        c0 = fmadd(c0, t13, V(repeating: bk[13 &* ldb &+ 0])); if cols > 1 { c1 = fmadd(c1, t13, V(repeating: bk[13 &* ldb &+ 1])) }
        c0 = fmadd(c0, t14, V(repeating: bk[14 &* ldb &+ 0])); if cols > 1 { c1 = fmadd(c1, t14, V(repeating: bk[14 &* ldb &+ 1])) }
        c0 = fmadd(c0, t15, V(repeating: bk[15 &* ldb &+ 0])); if cols > 1 { c1 = fmadd(c1, t15, V(repeating: bk[15 &* ldb &+ 1])) }
        k &+= 16
    }
    while k < kc {
        var v = V()
        for r in 0..<rows { v[r] = a[r &* lda &+ k] }
        let bk = b + ldb &* k
        c0 = fmadd(c0, v, V(repeating: bk[0])); if cols > 1 { c1 = fmadd(c1, v, V(repeating: bk[1])) }
        k &+= 1
    }
    for r in 0..<rows {
        let cr = c + r &* ldc
        do { cr[0] = c0[r] }
        if cols > 1 { cr[1] = c1[r] }
    }
}

/// Partial column panels up to this many columns go through `edgeRowsInLanes`, wider ones
/// through a full-width tile (the transpose's shuffles share the multiply-add ports).
/// Measured (the block function alone over every depth block, thread CPU time, median of
/// 15 x 5 calls, 2-vCPU AVX-512 Xeon under other helpers' builds; A 512 x K row-major, B
/// packed; full-width edge -> rows in lanes): 49 columns (1 in the edge), K 4608 (512->512
/// 7x7 k3) 2.22-2.26 -> 1.96-1.98 ms; 98 columns (2), K 4608 3.51 -> 3.20; 196 columns (4),
/// K 1024 (1024->512 14x14) 1.46 -> 1.50, so not there.
private let rowsInLanesMaxColumns = 2

#else

/// Rows x 16 Floats as two 32-byte halves (one B panel; `b2` unused), A row i at `a + i * lda`.
@_transparent
private func tile6x16(_ kc: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ b2: UnsafePointer<Float>, _ ldb: Int,
                         _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ loadC: Bool, rows: Int) {
    typealias V = SIMD8<Float>
    let w = V.scalarCount
    var c0_00 = V(), c0_01 = V()
    var c1_00 = V(), c1_01 = V()
    var c2_00 = V(), c2_01 = V()
    var c3_00 = V(), c3_01 = V()
    var c4_00 = V(), c4_01 = V()
    var c5_00 = V(), c5_01 = V()
    let a0 = a, r0 = c
    let a1 = a + 1 &* lda, r1 = c + 1 &* ldc
    let a2 = a + 2 &* lda, r2 = c + 2 &* ldc
    let a3 = a + 3 &* lda, r3 = c + 3 &* ldc
    let a4 = a + 4 &* lda, r4 = c + 4 &* ldc
    let a5 = a + 5 &* lda, r5 = c + 5 &* ldc
    if loadC {
        c0_00 = UnsafeRawPointer(r0).loadUnaligned(as: V.self); c0_01 = UnsafeRawPointer((r0 + 1 &* w)).loadUnaligned(as: V.self)
        if rows > 1 { c1_00 = UnsafeRawPointer(r1).loadUnaligned(as: V.self); c1_01 = UnsafeRawPointer((r1 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 2 { c2_00 = UnsafeRawPointer(r2).loadUnaligned(as: V.self); c2_01 = UnsafeRawPointer((r2 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 3 { c3_00 = UnsafeRawPointer(r3).loadUnaligned(as: V.self); c3_01 = UnsafeRawPointer((r3 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 4 { c4_00 = UnsafeRawPointer(r4).loadUnaligned(as: V.self); c4_01 = UnsafeRawPointer((r4 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 5 { c5_00 = UnsafeRawPointer(r5).loadUnaligned(as: V.self); c5_01 = UnsafeRawPointer((r5 + 1 &* w)).loadUnaligned(as: V.self) }
    }
    @inline(__always) func step(_ k: Int) {
        let b00 = UnsafeRawPointer(b + (ldb &* k)).loadUnaligned(as: V.self)
        let b01 = UnsafeRawPointer(b + (ldb &* k &+ w)).loadUnaligned(as: V.self)
        do { let v = V(repeating: a0[k]); c0_00 = fmadd(c0_00, v, b00); c0_01 = fmadd(c0_01, v, b01) }
        if rows > 1 { let v = V(repeating: a1[k]); c1_00 = fmadd(c1_00, v, b00); c1_01 = fmadd(c1_01, v, b01) }
        if rows > 2 { let v = V(repeating: a2[k]); c2_00 = fmadd(c2_00, v, b00); c2_01 = fmadd(c2_01, v, b01) }
        if rows > 3 { let v = V(repeating: a3[k]); c3_00 = fmadd(c3_00, v, b00); c3_01 = fmadd(c3_01, v, b01) }
        if rows > 4 { let v = V(repeating: a4[k]); c4_00 = fmadd(c4_00, v, b00); c4_01 = fmadd(c4_01, v, b01) }
        if rows > 5 { let v = V(repeating: a5[k]); c5_00 = fmadd(c5_00, v, b00); c5_01 = fmadd(c5_01, v, b01) }
    }
    // Two k per iteration: each row's address serves both (a displacement), halving the
    // address arithmetic that otherwise limits the narrower tiles.
    var k = 0
    while k &+ 2 <= kc { step(k); step(k &+ 1); k &+= 2 }
    if k < kc { step(k) }
    UnsafeMutableRawPointer(r0).storeBytes(of: c0_00, as: V.self); UnsafeMutableRawPointer((r0 + 1 &* w)).storeBytes(of: c0_01, as: V.self)
    if rows > 1 { UnsafeMutableRawPointer(r1).storeBytes(of: c1_00, as: V.self); UnsafeMutableRawPointer((r1 + 1 &* w)).storeBytes(of: c1_01, as: V.self) }
    if rows > 2 { UnsafeMutableRawPointer(r2).storeBytes(of: c2_00, as: V.self); UnsafeMutableRawPointer((r2 + 1 &* w)).storeBytes(of: c2_01, as: V.self) }
    if rows > 3 { UnsafeMutableRawPointer(r3).storeBytes(of: c3_00, as: V.self); UnsafeMutableRawPointer((r3 + 1 &* w)).storeBytes(of: c3_01, as: V.self) }
    if rows > 4 { UnsafeMutableRawPointer(r4).storeBytes(of: c4_00, as: V.self); UnsafeMutableRawPointer((r4 + 1 &* w)).storeBytes(of: c4_01, as: V.self) }
    if rows > 5 { UnsafeMutableRawPointer(r5).storeBytes(of: c5_00, as: V.self); UnsafeMutableRawPointer((r5 + 1 &* w)).storeBytes(of: c5_01, as: V.self) }
}

/// Rows x 8 Doubles as two 32-byte halves (one B panel; `b2` unused).
@_transparent
private func tile6x8d(_ kc: Int, _ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>, _ b2: UnsafePointer<Double>, _ ldb: Int,
                         _ c: UnsafeMutablePointer<Double>, _ ldc: Int, _ loadC: Bool, rows: Int) {
    typealias V = SIMD4<Double>
    let w = V.scalarCount
    var c0_00 = V(), c0_01 = V()
    var c1_00 = V(), c1_01 = V()
    var c2_00 = V(), c2_01 = V()
    var c3_00 = V(), c3_01 = V()
    var c4_00 = V(), c4_01 = V()
    var c5_00 = V(), c5_01 = V()
    let a0 = a, r0 = c
    let a1 = a + 1 &* lda, r1 = c + 1 &* ldc
    let a2 = a + 2 &* lda, r2 = c + 2 &* ldc
    let a3 = a + 3 &* lda, r3 = c + 3 &* ldc
    let a4 = a + 4 &* lda, r4 = c + 4 &* ldc
    let a5 = a + 5 &* lda, r5 = c + 5 &* ldc
    if loadC {
        c0_00 = UnsafeRawPointer(r0).loadUnaligned(as: V.self); c0_01 = UnsafeRawPointer((r0 + 1 &* w)).loadUnaligned(as: V.self)
        if rows > 1 { c1_00 = UnsafeRawPointer(r1).loadUnaligned(as: V.self); c1_01 = UnsafeRawPointer((r1 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 2 { c2_00 = UnsafeRawPointer(r2).loadUnaligned(as: V.self); c2_01 = UnsafeRawPointer((r2 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 3 { c3_00 = UnsafeRawPointer(r3).loadUnaligned(as: V.self); c3_01 = UnsafeRawPointer((r3 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 4 { c4_00 = UnsafeRawPointer(r4).loadUnaligned(as: V.self); c4_01 = UnsafeRawPointer((r4 + 1 &* w)).loadUnaligned(as: V.self) }
        if rows > 5 { c5_00 = UnsafeRawPointer(r5).loadUnaligned(as: V.self); c5_01 = UnsafeRawPointer((r5 + 1 &* w)).loadUnaligned(as: V.self) }
    }
    @inline(__always) func step(_ k: Int) {
        let b00 = UnsafeRawPointer(b + (ldb &* k)).loadUnaligned(as: V.self)
        let b01 = UnsafeRawPointer(b + (ldb &* k &+ w)).loadUnaligned(as: V.self)
        do { let v = V(repeating: a0[k]); c0_00 = fmadd(c0_00, v, b00); c0_01 = fmadd(c0_01, v, b01) }
        if rows > 1 { let v = V(repeating: a1[k]); c1_00 = fmadd(c1_00, v, b00); c1_01 = fmadd(c1_01, v, b01) }
        if rows > 2 { let v = V(repeating: a2[k]); c2_00 = fmadd(c2_00, v, b00); c2_01 = fmadd(c2_01, v, b01) }
        if rows > 3 { let v = V(repeating: a3[k]); c3_00 = fmadd(c3_00, v, b00); c3_01 = fmadd(c3_01, v, b01) }
        if rows > 4 { let v = V(repeating: a4[k]); c4_00 = fmadd(c4_00, v, b00); c4_01 = fmadd(c4_01, v, b01) }
        if rows > 5 { let v = V(repeating: a5[k]); c5_00 = fmadd(c5_00, v, b00); c5_01 = fmadd(c5_01, v, b01) }
    }
    // Two k per iteration: each row's address serves both (a displacement), halving the
    // address arithmetic that otherwise limits the narrower tiles.
    var k = 0
    while k &+ 2 <= kc { step(k); step(k &+ 1); k &+= 2 }
    if k < kc { step(k) }
    UnsafeMutableRawPointer(r0).storeBytes(of: c0_00, as: V.self); UnsafeMutableRawPointer((r0 + 1 &* w)).storeBytes(of: c0_01, as: V.self)
    if rows > 1 { UnsafeMutableRawPointer(r1).storeBytes(of: c1_00, as: V.self); UnsafeMutableRawPointer((r1 + 1 &* w)).storeBytes(of: c1_01, as: V.self) }
    if rows > 2 { UnsafeMutableRawPointer(r2).storeBytes(of: c2_00, as: V.self); UnsafeMutableRawPointer((r2 + 1 &* w)).storeBytes(of: c2_01, as: V.self) }
    if rows > 3 { UnsafeMutableRawPointer(r3).storeBytes(of: c3_00, as: V.self); UnsafeMutableRawPointer((r3 + 1 &* w)).storeBytes(of: c3_01, as: V.self) }
    if rows > 4 { UnsafeMutableRawPointer(r4).storeBytes(of: c4_00, as: V.self); UnsafeMutableRawPointer((r4 + 1 &* w)).storeBytes(of: c4_01, as: V.self) }
    if rows > 5 { UnsafeMutableRawPointer(r5).storeBytes(of: c5_00, as: V.self); UnsafeMutableRawPointer((r5 + 1 &* w)).storeBytes(of: c5_01, as: V.self) }
}

#endif


#if SWIFTCONV_AVX512
/// Rows per tile of this build.
private let tileRows = 12
#else
private let tileRows = 6
#endif

/// The partial column panel of a slab through a full-width tile in `edge` (tileRows x 16
/// Floats): C's columns (or 0) in, the kernel, the real columns out. Out of line: the block
/// function is at the inliner's budget (any more code in it and its tiles' accumulators
/// went to memory).
@inline(never)
private func edgeFullWidth(_ kc: Int, _ ap: UnsafePointer<Float>, _ lda: Int, rows: Int, _ bEdge: UnsafePointer<Float>,
                       _ cEdge: UnsafeMutablePointer<Float>, _ ldc: Int, _ loadC: Bool, cols: Int, _ edge: UnsafeMutablePointer<Float>) {
    let width = 16
    for i in 0..<rows {
        for j in 0..<width { edge[i &* width &+ j] = loadC && j < cols ? cEdge[i &* ldc &+ j] : 0 }
    }
    do {
    let cp = edge, bp = bEdge, bp2 = bEdge, ldb = width, ldc = width, loadC = true
#if SWIFTCONV_AVX512
    switch rows {
    case 12: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 12)
    case 11: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 11)
    case 10: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 10)
    case 9: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 9)
    case 8: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 8)
    case 7: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 7)
    case 6: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 6)
    case 5: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 5)
    case 4: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 4)
    case 3: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 3)
    case 2: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 2)
    default: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 1)
    }
#else
    switch rows {
    case 6: tile6x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 6)
    case 5: tile6x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 5)
    case 4: tile6x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 4)
    case 3: tile6x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 3)
    case 2: tile6x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 2)
    default: tile6x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 1)
    }
#endif
    }
    for i in 0..<rows {
        for j in 0..<cols { cEdge[i &* ldc &+ j] = edge[i &* width &+ j] }
    }
}

/// The full column panels of one slab (`rows` <= tileRows rows of A at `ap`, C's rows at
/// `c`): 32-column then 16-column tiles on AVX-512, 16-column tiles otherwise. Returns the
/// columns done (`full`). Out of line, apart from the slab loop's edge calls: any call added
/// to the function holding the tiles made the optimizer keep their accumulators in memory
/// behind swift_beginAccess calls (3.6x as slow).
@inline(never)
private func slabFullPanels(_ kc: Int, _ ap: UnsafePointer<Float>, _ lda: Int, rows: Int, full: Int,
                            _ b: UnsafePointer<Float>, _ bPanelStride: Int, _ ldb: Int,
                            _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ loadC: Bool) -> Int {
    let width = 16
    var jr = 0, bp = b
#if SWIFTCONV_AVX512
    while jr &+ 2 &* width <= full {
        let cp = c + jr, bp2 = bp + bPanelStride
        switch rows {
        case 12: tile12x32(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 12)
        case 11: tile12x32(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 11)
        case 10: tile12x32(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 10)
        case 9: tile12x32(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 9)
        case 8: tile12x32(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 8)
        case 7: tile12x32(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 7)
        case 6: tile12x32(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 6)
        case 5: tile12x32(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 5)
        case 4: tile12x32(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 4)
        case 3: tile12x32(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 3)
        case 2: tile12x32(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 2)
        default: tile12x32(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 1)
        }
        jr &+= 2 &* width; bp += 2 &* bPanelStride
    }
    if jr < full {
        let cp = c + jr, bp2 = bp
        switch rows {
        case 12: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 12)
        case 11: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 11)
        case 10: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 10)
        case 9: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 9)
        case 8: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 8)
        case 7: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 7)
        case 6: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 6)
        case 5: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 5)
        case 4: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 4)
        case 3: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 3)
        case 2: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 2)
        default: tile12x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 1)
        }
        jr &+= width; bp += bPanelStride
    }
#else
    while jr < full {
        let cp = c + jr, bp2 = bp
        switch rows {
        case 6: tile6x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 6)
        case 5: tile6x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 5)
        case 4: tile6x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 4)
        case 3: tile6x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 3)
        case 2: tile6x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 2)
        default: tile6x16(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 1)
        }
        jr &+= width; bp += bPanelStride
    }
#endif
    return jr
}

/// C[0..<mc, 0..<nc] (+)= A(mc x kc, in place) * B(kc x nc) (see the file comment).
@inline(never)
public func sgemmBlockInPlaceA(mc: Int, nc: Int, kc: Int, a: UnsafePointer<Float>, lda: Int,
                               b: UnsafePointer<Float>, bPanelStride: Int, ldb: Int, bEdge: UnsafePointer<Float>?,
                               c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool) {
    let width = 16, full = nc / width * width
    withUnsafeTemporaryAllocation(of: Float.self, capacity: tileRows &* width) { edgeBuffer in
        let edge = edgeBuffer.baseAddress!
        var ir = 0
        while ir < mc {
            let ap = a + ir &* lda, rows = min(tileRows, mc &- ir), cs = c + ir &* ldc
            let jr = slabFullPanels(kc, ap, lda, rows: rows, full: full, b, bPanelStride, ldb, cs, ldc, loadC)
            if jr < nc, let bEdge {
#if SWIFTCONV_AVX512
                if nc &- jr <= rowsInLanesMaxColumns {
                    edgeRowsInLanes(kc, ap, lda, rows: rows, bEdge, width, cs + jr, ldc, loadC, cols: nc &- jr)
                } else {
                    edgeFullWidth(kc, ap, lda, rows: rows, bEdge, cs + jr, ldc, loadC, cols: nc &- jr, edge)
                }
#else
                edgeFullWidth(kc, ap, lda, rows: rows, bEdge, cs + jr, ldc, loadC, cols: nc &- jr, edge)
#endif
            }
            ir &+= tileRows
        }
    }
}

/// Double version of `sgemmBlockInPlaceA`: panels of 8 Doubles.
@inline(never)
public func dgemmBlockInPlaceA(mc: Int, nc: Int, kc: Int, a: UnsafePointer<Double>, lda: Int,
                               b: UnsafePointer<Double>, bPanelStride: Int, ldb: Int, bEdge: UnsafePointer<Double>?,
                               c: UnsafeMutablePointer<Double>, ldc: Int, loadC: Bool) {
    let width = 8, full = nc / width * width
    withUnsafeTemporaryAllocation(of: Double.self, capacity: tileRows &* width) { edgeBuffer in
        let edge = edgeBuffer.baseAddress!
        var ir = 0
        while ir < mc {
            let ap = a + ir &* lda, rows = min(tileRows, mc &- ir)
            var jr = 0, bp = b
#if SWIFTCONV_AVX512
            while jr &+ 2 &* width <= full {
                let cp = c + (ir &* ldc &+ jr), bp2 = bp + bPanelStride
                switch rows {
                case 12: tile12x16d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 12)
                case 11: tile12x16d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 11)
                case 10: tile12x16d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 10)
                case 9: tile12x16d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 9)
                case 8: tile12x16d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 8)
                case 7: tile12x16d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 7)
                case 6: tile12x16d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 6)
                case 5: tile12x16d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 5)
                case 4: tile12x16d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 4)
                case 3: tile12x16d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 3)
                case 2: tile12x16d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 2)
                default: tile12x16d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 1)
                }
                jr &+= 2 &* width; bp += 2 &* bPanelStride
            }
            if jr < full {
                let cp = c + (ir &* ldc &+ jr), bp2 = bp
                switch rows {
                case 12: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 12)
                case 11: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 11)
                case 10: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 10)
                case 9: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 9)
                case 8: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 8)
                case 7: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 7)
                case 6: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 6)
                case 5: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 5)
                case 4: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 4)
                case 3: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 3)
                case 2: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 2)
                default: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 1)
                }
                jr &+= width; bp += bPanelStride
            }
#else
            while jr < full {
                let cp = c + (ir &* ldc &+ jr), bp2 = bp
                switch rows {
                case 6: tile6x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 6)
                case 5: tile6x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 5)
                case 4: tile6x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 4)
                case 3: tile6x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 3)
                case 2: tile6x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 2)
                default: tile6x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 1)
                }
                jr &+= width; bp += bPanelStride
            }
#endif
            if jr < nc, let bEdge {
                let cols = nc &- jr, cEdge = c + (ir &* ldc &+ jr)
                for i in 0..<rows {
                    for j in 0..<width { edge[i &* width &+ j] = loadC && j < cols ? cEdge[i &* ldc &+ j] : 0 }
                }
                do {
                let cp = edge, bp = bEdge, bp2 = bEdge, ldb = width, ldc = width, loadC = true
#if SWIFTCONV_AVX512
                switch rows {
                case 12: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 12)
                case 11: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 11)
                case 10: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 10)
                case 9: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 9)
                case 8: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 8)
                case 7: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 7)
                case 6: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 6)
                case 5: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 5)
                case 4: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 4)
                case 3: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 3)
                case 2: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 2)
                default: tile12x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 1)
                }
#else
                switch rows {
                case 6: tile6x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 6)
                case 5: tile6x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 5)
                case 4: tile6x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 4)
                case 3: tile6x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 3)
                case 2: tile6x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 2)
                default: tile6x8d(kc, ap, lda, bp, bp2, ldb, cp, ldc, loadC, rows: 1)
                }
#endif
                }
                for i in 0..<rows {
                    for j in 0..<cols { cEdge[i &* ldc &+ j] = edge[i &* width &+ j] }
                }
            }
            ir &+= tileRows
        }
    }
}
