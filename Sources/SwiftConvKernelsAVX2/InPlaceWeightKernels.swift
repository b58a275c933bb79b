import CSwiftConv  // sc_sgemm_inplace_edge_f32 (AVX-512 tier)

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
/// ymm per row). Loop order: a block of rows at a time over all `nc` columns, so its A rows
/// (rows x kc) stay in L1 while the kc x nc block of B (in L1 / L2) streams past them.
///
/// Compiled three times like the other kernel files (the AVX512 and Baseline targets hold
/// symlinks to this one).
///
/// Tried and reverted (session 8; commits 1ccbaa7 and 9443b29 on branch `inplace`): the
/// partial panel (1-2 columns) with the slab's 12 rows in the lanes, by a 16 x 16 register
/// transpose of the L1-resident slab, the slab's tiles in their own function. Built alone
/// (this file with MultiplyAdd / LaneShuffles, the block function over every depth block,
/// thread CPU time, median of 15 x 5 calls, 2-vCPU AVX-512 Xeon): 49 columns, K 4608
/// (512->512 7x7 k3) 2.22-2.26 -> 1.93-1.98 ms, 98 columns 3.51 -> 3.20; 196 columns (4 in
/// the edge) no gain. In the full module, though, `SIMD32.evenHalf` / `oddHalf` (through
/// UInt32 or Int32 lanes) stayed out-of-line calls in that kernel and the plain 7x7 k3 call
/// took 2.0x the prepared one (old 1.24x); TransposePacking's lane-by-lane unshuffles
/// inline but ran slower than the full-width tile (196 columns 1.81 against 1.48 ms). A
/// transpose that inlines in the module (e.g. in C with intrinsics) should get the 0.87x.
/// Also: any call added to `sgemmBlockInPlaceA`'s slab loop (an out-of-line edge kernel, a
/// prefetch, or one from the tiles' k loop) made the optimizer keep the tiles'
/// accumulators in memory behind swift_beginAccess calls (3.6x as slow); moving the tiles
/// into their own function restored them. Prefetching the next slab's row starts measured
/// neutral (49 columns 2.15 -> 2.17 ms).
///
/// Tried and reverted (session 11, Zen5 EPYC 2 vCPUs, branch `pw`): 49 columns as 32 + one
/// 12 x 32 tile over the last full panel and the packed partial one (a copy of `tile12x32`
/// with the second panel's B / C strides as parameters). Why: on Zen5 the 1-column edge
/// costs more than a full 16-column panel here (one thread, CPU time, prepared vs plain,
/// N1, us: 960->160 48 columns 66.7 / 66.6, 49 columns 75.2 / 93.3, 64 columns 84.1 /
/// 83.9; 1152->320 157 / 151, 177 / 223, 197 / 199), so one 12 x 32 sweep for 16 + 1
/// columns would take plain 49 columns to the 64-column time (-10%). Built three ways, all
/// slower on EVERY in-place layer, also 14x14 planes that never take the new tile (old /
/// new, one process, interleaved, CPU time, N1): the tile and its call inlined in the slab
/// loop 1.7-2.7x; the new tile in an @inline(never) function called from the slab loop
/// 1.28-1.89x; all tiles (pairs, single panel, edge) in @inline(never) functions 1.17-1.34x.
/// So the slab loop's inlined tiles stay as they are; the merge would need the new tile in
/// a pass of its own (a second block function over A's rows) or a C kernel.
///
/// Done (session 12, Zen5): on the AVX-512 tier a partial panel of 1-8 columns is a pass of
/// its own, `sc_sgemm_inplace_edge_f32` (swiftconv_inplace_edge.h: rows in the lanes through
/// the 64-shuffle 16 x 16 register transpose of A), after each 48-row chunk's full panels
/// (`sgemmBlockInPlaceA` below; the slab loop itself is untouched, in `sgemmSlabsInPlaceA`).
/// Plain N1 calls, one thread, CPU time, old / new in one process: 49-column layers
/// 0.82-0.89x (512->512 7x7 k3 0.88x, 512->512 14x14 k3 s2 0.91x, 960->160 7x7 0.85x), 196
/// columns (4 in the edge) 0.93-0.98x; the bits are unchanged.

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

#if SWIFTCONV_AVX512
/// Partial panels of at most this many columns go through the rows-in-lanes C kernel
/// (`sc_sgemm_inplace_edge_f32`, swiftconv_inplace_edge.h) instead of a full-width tile.
let inPlaceEdgeMaxColumns = Int(SC_INPLACE_EDGE_MAX_COLS)

/// Rows swept over the full panels before the C kernel takes the same rows' edge columns
/// (their A rows still in L1 / L2): a multiple of the 12-row tile and the kernel's 16.
let inPlaceEdgeRowChunk = 48
#endif

/// C[0..<mc, 0..<nc] (+)= A(mc x kc, in place) * B(kc x nc) (see the file comment). On the
/// AVX-512 tier a partial last panel of at most `inPlaceEdgeMaxColumns` columns is a pass of
/// its own after each chunk of rows' full panels (the C kernel: rows in the lanes); calls
/// added inside the slab loop broke its code generation (file comment).
@inline(never)
public func sgemmBlockInPlaceA(mc: Int, nc: Int, kc: Int, a: UnsafePointer<Float>, lda: Int,
                               b: UnsafePointer<Float>, bPanelStride: Int, ldb: Int, bEdge: UnsafePointer<Float>?,
                               c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool) {
#if SWIFTCONV_AVX512
    let cols = nc % 16, full = nc &- cols
    if cols > 0 && cols <= inPlaceEdgeMaxColumns, let bEdge {
        var i0 = 0
        while i0 < mc {
            let rows = min(inPlaceEdgeRowChunk, mc &- i0), ap = a + i0 &* lda, cp = c + i0 &* ldc
            if full > 0 {
                sgemmSlabsInPlaceA(mc: rows, nc: full, kc: kc, a: ap, lda: lda, b: b, bPanelStride: bPanelStride, ldb: ldb, bEdge: nil,
                                   c: cp, ldc: ldc, loadC: loadC)
            }
            sc_sgemm_inplace_edge_f32(rows, cols, kc, ap, lda, bEdge, cp + full, ldc, loadC ? 1 : 0)
            i0 &+= rows
        }
        return
    }
#endif
    sgemmSlabsInPlaceA(mc: mc, nc: nc, kc: kc, a: a, lda: lda, b: b, bPanelStride: bPanelStride, ldb: ldb, bEdge: bEdge,
                       c: c, ldc: ldc, loadC: loadC)
}

/// `sgemmBlockInPlaceA` with every panel (a partial last one too) through the row-major tiles.
@inline(never)
func sgemmSlabsInPlaceA(mc: Int, nc: Int, kc: Int, a: UnsafePointer<Float>, lda: Int,
                        b: UnsafePointer<Float>, bPanelStride: Int, ldb: Int, bEdge: UnsafePointer<Float>?,
                        c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool) {
    let width = 16, full = nc / width * width
    withUnsafeTemporaryAllocation(of: Float.self, capacity: tileRows &* width) { edgeBuffer in
        let edge = edgeBuffer.baseAddress!
        var ir = 0
        while ir < mc {
            let ap = a + ir &* lda, rows = min(tileRows, mc &- ir)
            var jr = 0, bp = b
#if SWIFTCONV_AVX512
            while jr &+ 2 &* width <= full {
                let cp = c + (ir &* ldc &+ jr), bp2 = bp + bPanelStride
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
                let cp = c + (ir &* ldc &+ jr), bp2 = bp
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
                let cp = c + (ir &* ldc &+ jr), bp2 = bp
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
            if jr < nc, let bEdge {
                // The partial panel through a full-width tile in `edge`: C's columns (or 0) in,
                // the kernel, the real columns out.
                let cols = nc &- jr, cEdge = c + (ir &* ldc &+ jr)
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
