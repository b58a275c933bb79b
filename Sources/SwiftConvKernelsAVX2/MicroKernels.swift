/// GEMM micro-kernels: C(MR x NR) (+)= A(MR x kc) * B(kc x NR) on packed panels, and the
/// macro-kernel loops that sweep them over one cache block.
///
/// This one source file is compiled three times (the other targets' files are symlinks):
/// - `SwiftConvKernelsAVX512`: `-march=x86-64-v4 -D SWIFTCONV_FMA -D SWIFTCONV_AVX512`. Full
///   tiles are 12 x 32 Floats / 12 x 16 Doubles: 24 zmm accumulators fed by TWO consecutive
///   6-row A panels (a and a + aPanelStride) and TWO consecutive B panels (b and b +
///   bPanelStride): per k 2 B loads + 12 broadcasts per 24 FMAs. A single full B panel left
///   takes 12 x 16 / 12 x 8 (1 load + 12 embedded broadcasts per 12 FMAs); a leftover 6-row
///   panel takes the same kernels with fewer rows. Measured (benchmarks/kernel_probe, block
///   functions on packed panels in cache, one thread, interleaved with the 12 x 16-only
///   version): 64 x 384 kc 288 1.07-1.12x, 64 x 512 1.05-1.13x, 256 x 196 1.00-1.04x,
///   512 x 64 1.00x as fast; the bits are the same (checked there and in GemmTests).
///   Tried and not kept (kernel_probe, one thread, 2-vCPU Xeon AVX-512, session 8): 6 x 64
///   tiles (one A panel, four B panels: 10 loads per 24 FMAs; Tile6x64.swift) 0.85-0.95x
///   as fast as 12 x 32 at kc 288 on blocks in cache (1.00x at kc 160, columns outer);
///   prefetching the next tile's A panels per k, into L1: 0.93x on a whole 256 x 256 x 2304
///   GEMM, into L2: 0.97-1.03x (probe "layers", two runs); the next tile's C rows into L1
///   during the first 12 k: 0.94-1.04x on the blocks, 0.95-1.03x on the whole GEMMs. The
///   12 x 32 sweep reaches 86-95% of the FMA peak on the layers' whole GEMMs (512 x 392 x
///   4608 75-81%: A from L3; with A's first block only, in L2, 3-9% faster); 12 x 16 tiles
///   only (no panel pairs) on the same whole GEMMs: 0.88-0.95x as fast, so the pairs stay.
/// - `SwiftConvKernelsAVX2`: `-march=x86-64-v3 -D SWIFTCONV_FMA` (6 x 16 / 6 x 8 on ymm).
/// - `SwiftConvKernelsBaseline`: any other CPU.
/// `SwiftConv` picks one at load time (`KernelTable.active`). Everything here is concrete
/// (Float / Double, no generics) and only the `@inline(never)` block functions are entry
/// points, so no code compiled for x86-64-v3/v4 can leak into the other modules.
///
/// Packed layouts (produced by `SwiftConv.Gemm`; the same for every build):
/// - A: panels of 6 rows; within a panel element (i, k) is at `k * 6 + i`; consecutive
///   panels are `aPanelStride` elements apart.
/// - B: panels of NR columns (16 for Float, 8 for Double); element (k, j) of a panel is at
///   `k * NR + j`; consecutive panels are `bPanelStride` elements apart.
/// Edge panels are zero-padded, so every micro-kernel call computes a full tile.
///
/// Reduction order: each accumulator starts from C (or from 0 when `loadC` is false) and
/// adds A(i, k) * B(k, j) for k = 0, 1, ... in order, one fused multiply-add at a time
/// (unfused multiply then add in the baseline build on x86). So the result for one element
/// depends only on its own inputs, never on the tile or block it was computed in — and the
/// AVX-512 and AVX2 builds give the same bits.


#if SWIFTCONV_AVX512
// MARK: - AVX-512: 12 x 16 Float / 12 x 8 Double (one zmm register per row)

/// C(rows x 64 bytes) (+)= A(rows x kc) * B(kc x 64 bytes) with one zmm accumulator per row:
/// rows 0..<6 from the A panel `a`, rows 6..<12 from the next panel `a2` (not read when
/// rows <= 6). `rows` (1...12) is a constant at every call site, so the unused rows fold
/// away. One fused multiply-add per k per element, in k order (`addingProduct` with
/// `-march=x86-64-v4`: vfmadd231ps/pd zmm with an embedded broadcast of the A element).
/// `@_transparent` (inlined in SIL, always): with `@inline(__always)` the 12 calls of the
/// block sweep stayed one out-of-line call with `rows` a run-time value, branching per row
/// inside the k loop. (Written out per type for the same reason: a generic version over
/// SIMD16<Float> / SIMD8<Double> was not inlined either.)
/// B row k is read at `b + k * ldb` (Float: the packed panel by default, or a row-major
/// matrix in place: `sgemmBlockRowMajorB`).
/// With `rowOffsets` (OffsetRowKernels.swift), B row k is at `b + rowOffsets[k]` instead.
@_transparent
func kernel12x16(_ kc: Int, _ a: UnsafePointer<Float>, _ a2: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                 _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ loadC: Bool, rows: Int, ldb: Int = 16,
                 rowOffsets: UnsafePointer<Int>? = nil) {
    typealias V = SIMD16<Float>
    var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V()
    var c6 = V(), c7 = V(), c8 = V(), c9 = V(), c10 = V(), c11 = V()
    let r0 = UnsafeMutableRawPointer(c), r1 = UnsafeMutableRawPointer(c + ldc)
    let r2 = UnsafeMutableRawPointer(c + 2 &* ldc), r3 = UnsafeMutableRawPointer(c + 3 &* ldc)
    let r4 = UnsafeMutableRawPointer(c + 4 &* ldc), r5 = UnsafeMutableRawPointer(c + 5 &* ldc)
    let r6 = UnsafeMutableRawPointer(c + 6 &* ldc), r7 = UnsafeMutableRawPointer(c + 7 &* ldc)
    let r8 = UnsafeMutableRawPointer(c + 8 &* ldc), r9 = UnsafeMutableRawPointer(c + 9 &* ldc)
    let r10 = UnsafeMutableRawPointer(c + 10 &* ldc), r11 = UnsafeMutableRawPointer(c + 11 &* ldc)
    if loadC {
        c0 = r0.loadUnaligned(as: V.self)
        if rows > 1 { c1 = r1.loadUnaligned(as: V.self) }
        if rows > 2 { c2 = r2.loadUnaligned(as: V.self) }
        if rows > 3 { c3 = r3.loadUnaligned(as: V.self) }
        if rows > 4 { c4 = r4.loadUnaligned(as: V.self) }
        if rows > 5 { c5 = r5.loadUnaligned(as: V.self) }
        if rows > 6 { c6 = r6.loadUnaligned(as: V.self) }
        if rows > 7 { c7 = r7.loadUnaligned(as: V.self) }
        if rows > 8 { c8 = r8.loadUnaligned(as: V.self) }
        if rows > 9 { c9 = r9.loadUnaligned(as: V.self) }
        if rows > 10 { c10 = r10.loadUnaligned(as: V.self) }
        if rows > 11 { c11 = r11.loadUnaligned(as: V.self) }
    }
    for k in 0..<kc {
        let bv = UnsafeRawPointer(b + (rowOffsets.map { $0[k] } ?? ldb &* k)).loadUnaligned(as: V.self)
        let pa = a + 6 &* k, pa2 = a2 + 6 &* k
        c0 = c0.addingProduct(V(repeating: pa[0]), bv)
        if rows > 1 { c1 = c1.addingProduct(V(repeating: pa[1]), bv) }
        if rows > 2 { c2 = c2.addingProduct(V(repeating: pa[2]), bv) }
        if rows > 3 { c3 = c3.addingProduct(V(repeating: pa[3]), bv) }
        if rows > 4 { c4 = c4.addingProduct(V(repeating: pa[4]), bv) }
        if rows > 5 { c5 = c5.addingProduct(V(repeating: pa[5]), bv) }
        if rows > 6 { c6 = c6.addingProduct(V(repeating: pa2[0]), bv) }
        if rows > 7 { c7 = c7.addingProduct(V(repeating: pa2[1]), bv) }
        if rows > 8 { c8 = c8.addingProduct(V(repeating: pa2[2]), bv) }
        if rows > 9 { c9 = c9.addingProduct(V(repeating: pa2[3]), bv) }
        if rows > 10 { c10 = c10.addingProduct(V(repeating: pa2[4]), bv) }
        if rows > 11 { c11 = c11.addingProduct(V(repeating: pa2[5]), bv) }
    }
    r0.storeBytes(of: c0, as: V.self)
    if rows > 1 { r1.storeBytes(of: c1, as: V.self) }
    if rows > 2 { r2.storeBytes(of: c2, as: V.self) }
    if rows > 3 { r3.storeBytes(of: c3, as: V.self) }
    if rows > 4 { r4.storeBytes(of: c4, as: V.self) }
    if rows > 5 { r5.storeBytes(of: c5, as: V.self) }
    if rows > 6 { r6.storeBytes(of: c6, as: V.self) }
    if rows > 7 { r7.storeBytes(of: c7, as: V.self) }
    if rows > 8 { r8.storeBytes(of: c8, as: V.self) }
    if rows > 9 { r9.storeBytes(of: c9, as: V.self) }
    if rows > 10 { r10.storeBytes(of: c10, as: V.self) }
    if rows > 11 { r11.storeBytes(of: c11, as: V.self) }
}

/// Double version of `kernel12x16`: 12 x 8 Doubles.
@_transparent
private func kernel12x8(_ kc: Int, _ a: UnsafePointer<Double>, _ a2: UnsafePointer<Double>, _ b: UnsafePointer<Double>,
                         _ c: UnsafeMutablePointer<Double>, _ ldc: Int, _ loadC: Bool, rows: Int) {
    typealias V = SIMD8<Double>
    var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V()
    var c6 = V(), c7 = V(), c8 = V(), c9 = V(), c10 = V(), c11 = V()
    let r0 = UnsafeMutableRawPointer(c), r1 = UnsafeMutableRawPointer(c + ldc)
    let r2 = UnsafeMutableRawPointer(c + 2 &* ldc), r3 = UnsafeMutableRawPointer(c + 3 &* ldc)
    let r4 = UnsafeMutableRawPointer(c + 4 &* ldc), r5 = UnsafeMutableRawPointer(c + 5 &* ldc)
    let r6 = UnsafeMutableRawPointer(c + 6 &* ldc), r7 = UnsafeMutableRawPointer(c + 7 &* ldc)
    let r8 = UnsafeMutableRawPointer(c + 8 &* ldc), r9 = UnsafeMutableRawPointer(c + 9 &* ldc)
    let r10 = UnsafeMutableRawPointer(c + 10 &* ldc), r11 = UnsafeMutableRawPointer(c + 11 &* ldc)
    if loadC {
        c0 = r0.loadUnaligned(as: V.self)
        if rows > 1 { c1 = r1.loadUnaligned(as: V.self) }
        if rows > 2 { c2 = r2.loadUnaligned(as: V.self) }
        if rows > 3 { c3 = r3.loadUnaligned(as: V.self) }
        if rows > 4 { c4 = r4.loadUnaligned(as: V.self) }
        if rows > 5 { c5 = r5.loadUnaligned(as: V.self) }
        if rows > 6 { c6 = r6.loadUnaligned(as: V.self) }
        if rows > 7 { c7 = r7.loadUnaligned(as: V.self) }
        if rows > 8 { c8 = r8.loadUnaligned(as: V.self) }
        if rows > 9 { c9 = r9.loadUnaligned(as: V.self) }
        if rows > 10 { c10 = r10.loadUnaligned(as: V.self) }
        if rows > 11 { c11 = r11.loadUnaligned(as: V.self) }
    }
    for k in 0..<kc {
        let bv = UnsafeRawPointer(b + V.scalarCount &* k).loadUnaligned(as: V.self)
        let pa = a + 6 &* k, pa2 = a2 + 6 &* k
        c0 = c0.addingProduct(V(repeating: pa[0]), bv)
        if rows > 1 { c1 = c1.addingProduct(V(repeating: pa[1]), bv) }
        if rows > 2 { c2 = c2.addingProduct(V(repeating: pa[2]), bv) }
        if rows > 3 { c3 = c3.addingProduct(V(repeating: pa[3]), bv) }
        if rows > 4 { c4 = c4.addingProduct(V(repeating: pa[4]), bv) }
        if rows > 5 { c5 = c5.addingProduct(V(repeating: pa[5]), bv) }
        if rows > 6 { c6 = c6.addingProduct(V(repeating: pa2[0]), bv) }
        if rows > 7 { c7 = c7.addingProduct(V(repeating: pa2[1]), bv) }
        if rows > 8 { c8 = c8.addingProduct(V(repeating: pa2[2]), bv) }
        if rows > 9 { c9 = c9.addingProduct(V(repeating: pa2[3]), bv) }
        if rows > 10 { c10 = c10.addingProduct(V(repeating: pa2[4]), bv) }
        if rows > 11 { c11 = c11.addingProduct(V(repeating: pa2[5]), bv) }
    }
    r0.storeBytes(of: c0, as: V.self)
    if rows > 1 { r1.storeBytes(of: c1, as: V.self) }
    if rows > 2 { r2.storeBytes(of: c2, as: V.self) }
    if rows > 3 { r3.storeBytes(of: c3, as: V.self) }
    if rows > 4 { r4.storeBytes(of: c4, as: V.self) }
    if rows > 5 { r5.storeBytes(of: c5, as: V.self) }
    if rows > 6 { r6.storeBytes(of: c6, as: V.self) }
    if rows > 7 { r7.storeBytes(of: c7, as: V.self) }
    if rows > 8 { r8.storeBytes(of: c8, as: V.self) }
    if rows > 9 { r9.storeBytes(of: c9, as: V.self) }
    if rows > 10 { r10.storeBytes(of: c10, as: V.self) }
    if rows > 11 { r11.storeBytes(of: c11, as: V.self) }
}

/// C(rows x 128 bytes) (+)= A(rows x kc) * B(kc x 128 bytes): the 12 x 16 tile widened to two
/// adjacent B panels (`b`, `b2`: 12 x 32 Floats / 12 x 16 Doubles), 24 zmm accumulators.
/// Per k: two B loads and 12 A broadcasts feed 24 fused multiply-adds (the 12 x 16 tile
/// needs 13 loads for 12, so it is bound by the two load ports before the two FMA ports).
/// Same per-element operations in the same order as `kernel12x16` (C or 0, then one FMA per
/// k), so the same bits. `rows` is a constant at every call site, and B rows are `ldb`
/// apart, as in `kernel12x16`.
/// With `rowOffsets` (OffsetRowKernels.swift), B row k is at `b + rowOffsets[k]` (and
/// `b2 + rowOffsets[k]`) instead.
@_transparent
func kernel12x32(_ kc: Int, _ a: UnsafePointer<Float>, _ a2: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ b2: UnsafePointer<Float>,
                 _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ loadC: Bool, rows: Int, ldb: Int = 16,
                 rowOffsets: UnsafePointer<Int>? = nil) {
    typealias V = SIMD16<Float>
    let w = V.scalarCount  // columns per B panel (and per accumulator)
    var c0x = V(), c0y = V(), c1x = V(), c1y = V()
    var c2x = V(), c2y = V(), c3x = V(), c3y = V()
    var c4x = V(), c4y = V(), c5x = V(), c5y = V()
    var c6x = V(), c6y = V(), c7x = V(), c7y = V()
    var c8x = V(), c8y = V(), c9x = V(), c9y = V()
    var c10x = V(), c10y = V(), c11x = V(), c11y = V()
    let r0 = c
    let r1 = c + ldc, r2 = c + 2 &* ldc, r3 = c + 3 &* ldc, r4 = c + 4 &* ldc, r5 = c + 5 &* ldc
    let r6 = c + 6 &* ldc, r7 = c + 7 &* ldc, r8 = c + 8 &* ldc, r9 = c + 9 &* ldc, r10 = c + 10 &* ldc, r11 = c + 11 &* ldc
    if loadC {
        c0x = UnsafeRawPointer(r0).loadUnaligned(as: V.self); c0y = UnsafeRawPointer(r0 + w).loadUnaligned(as: V.self)
        if rows > 1 { c1x = UnsafeRawPointer(r1).loadUnaligned(as: V.self); c1y = UnsafeRawPointer(r1 + w).loadUnaligned(as: V.self) }
        if rows > 2 { c2x = UnsafeRawPointer(r2).loadUnaligned(as: V.self); c2y = UnsafeRawPointer(r2 + w).loadUnaligned(as: V.self) }
        if rows > 3 { c3x = UnsafeRawPointer(r3).loadUnaligned(as: V.self); c3y = UnsafeRawPointer(r3 + w).loadUnaligned(as: V.self) }
        if rows > 4 { c4x = UnsafeRawPointer(r4).loadUnaligned(as: V.self); c4y = UnsafeRawPointer(r4 + w).loadUnaligned(as: V.self) }
        if rows > 5 { c5x = UnsafeRawPointer(r5).loadUnaligned(as: V.self); c5y = UnsafeRawPointer(r5 + w).loadUnaligned(as: V.self) }
        if rows > 6 { c6x = UnsafeRawPointer(r6).loadUnaligned(as: V.self); c6y = UnsafeRawPointer(r6 + w).loadUnaligned(as: V.self) }
        if rows > 7 { c7x = UnsafeRawPointer(r7).loadUnaligned(as: V.self); c7y = UnsafeRawPointer(r7 + w).loadUnaligned(as: V.self) }
        if rows > 8 { c8x = UnsafeRawPointer(r8).loadUnaligned(as: V.self); c8y = UnsafeRawPointer(r8 + w).loadUnaligned(as: V.self) }
        if rows > 9 { c9x = UnsafeRawPointer(r9).loadUnaligned(as: V.self); c9y = UnsafeRawPointer(r9 + w).loadUnaligned(as: V.self) }
        if rows > 10 { c10x = UnsafeRawPointer(r10).loadUnaligned(as: V.self); c10y = UnsafeRawPointer(r10 + w).loadUnaligned(as: V.self) }
        if rows > 11 { c11x = UnsafeRawPointer(r11).loadUnaligned(as: V.self); c11y = UnsafeRawPointer(r11 + w).loadUnaligned(as: V.self) }
    }
    for k in 0..<kc {
        let row = rowOffsets.map { $0[k] } ?? ldb &* k
        let bx = UnsafeRawPointer(b + row).loadUnaligned(as: V.self)
        let by = UnsafeRawPointer(b2 + row).loadUnaligned(as: V.self)
        let pa = a + 6 &* k, pa2 = a2 + 6 &* k
        let v = V(repeating: pa[0]); c0x = c0x.addingProduct(v, bx); c0y = c0y.addingProduct(v, by)
        if rows > 1 { let v = V(repeating: pa[1]); c1x = c1x.addingProduct(v, bx); c1y = c1y.addingProduct(v, by) }
        if rows > 2 { let v = V(repeating: pa[2]); c2x = c2x.addingProduct(v, bx); c2y = c2y.addingProduct(v, by) }
        if rows > 3 { let v = V(repeating: pa[3]); c3x = c3x.addingProduct(v, bx); c3y = c3y.addingProduct(v, by) }
        if rows > 4 { let v = V(repeating: pa[4]); c4x = c4x.addingProduct(v, bx); c4y = c4y.addingProduct(v, by) }
        if rows > 5 { let v = V(repeating: pa[5]); c5x = c5x.addingProduct(v, bx); c5y = c5y.addingProduct(v, by) }
        if rows > 6 { let v = V(repeating: pa2[0]); c6x = c6x.addingProduct(v, bx); c6y = c6y.addingProduct(v, by) }
        if rows > 7 { let v = V(repeating: pa2[1]); c7x = c7x.addingProduct(v, bx); c7y = c7y.addingProduct(v, by) }
        if rows > 8 { let v = V(repeating: pa2[2]); c8x = c8x.addingProduct(v, bx); c8y = c8y.addingProduct(v, by) }
        if rows > 9 { let v = V(repeating: pa2[3]); c9x = c9x.addingProduct(v, bx); c9y = c9y.addingProduct(v, by) }
        if rows > 10 { let v = V(repeating: pa2[4]); c10x = c10x.addingProduct(v, bx); c10y = c10y.addingProduct(v, by) }
        if rows > 11 { let v = V(repeating: pa2[5]); c11x = c11x.addingProduct(v, bx); c11y = c11y.addingProduct(v, by) }
    }
    UnsafeMutableRawPointer(r0).storeBytes(of: c0x, as: V.self); UnsafeMutableRawPointer(r0 + w).storeBytes(of: c0y, as: V.self)
    if rows > 1 { UnsafeMutableRawPointer(r1).storeBytes(of: c1x, as: V.self); UnsafeMutableRawPointer(r1 + w).storeBytes(of: c1y, as: V.self) }
    if rows > 2 { UnsafeMutableRawPointer(r2).storeBytes(of: c2x, as: V.self); UnsafeMutableRawPointer(r2 + w).storeBytes(of: c2y, as: V.self) }
    if rows > 3 { UnsafeMutableRawPointer(r3).storeBytes(of: c3x, as: V.self); UnsafeMutableRawPointer(r3 + w).storeBytes(of: c3y, as: V.self) }
    if rows > 4 { UnsafeMutableRawPointer(r4).storeBytes(of: c4x, as: V.self); UnsafeMutableRawPointer(r4 + w).storeBytes(of: c4y, as: V.self) }
    if rows > 5 { UnsafeMutableRawPointer(r5).storeBytes(of: c5x, as: V.self); UnsafeMutableRawPointer(r5 + w).storeBytes(of: c5y, as: V.self) }
    if rows > 6 { UnsafeMutableRawPointer(r6).storeBytes(of: c6x, as: V.self); UnsafeMutableRawPointer(r6 + w).storeBytes(of: c6y, as: V.self) }
    if rows > 7 { UnsafeMutableRawPointer(r7).storeBytes(of: c7x, as: V.self); UnsafeMutableRawPointer(r7 + w).storeBytes(of: c7y, as: V.self) }
    if rows > 8 { UnsafeMutableRawPointer(r8).storeBytes(of: c8x, as: V.self); UnsafeMutableRawPointer(r8 + w).storeBytes(of: c8y, as: V.self) }
    if rows > 9 { UnsafeMutableRawPointer(r9).storeBytes(of: c9x, as: V.self); UnsafeMutableRawPointer(r9 + w).storeBytes(of: c9y, as: V.self) }
    if rows > 10 { UnsafeMutableRawPointer(r10).storeBytes(of: c10x, as: V.self); UnsafeMutableRawPointer(r10 + w).storeBytes(of: c10y, as: V.self) }
    if rows > 11 { UnsafeMutableRawPointer(r11).storeBytes(of: c11x, as: V.self); UnsafeMutableRawPointer(r11 + w).storeBytes(of: c11y, as: V.self) }
}

/// Double version of `kernel12x32`: 12 x 16 Doubles (two 8-wide B panels).
@_transparent
private func kernel12x16d(_ kc: Int, _ a: UnsafePointer<Double>, _ a2: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ b2: UnsafePointer<Double>,
                         _ c: UnsafeMutablePointer<Double>, _ ldc: Int, _ loadC: Bool, rows: Int) {
    typealias V = SIMD8<Double>
    let w = V.scalarCount  // columns per B panel (and per accumulator)
    var c0x = V(), c0y = V(), c1x = V(), c1y = V()
    var c2x = V(), c2y = V(), c3x = V(), c3y = V()
    var c4x = V(), c4y = V(), c5x = V(), c5y = V()
    var c6x = V(), c6y = V(), c7x = V(), c7y = V()
    var c8x = V(), c8y = V(), c9x = V(), c9y = V()
    var c10x = V(), c10y = V(), c11x = V(), c11y = V()
    let r0 = c
    let r1 = c + ldc, r2 = c + 2 &* ldc, r3 = c + 3 &* ldc, r4 = c + 4 &* ldc, r5 = c + 5 &* ldc
    let r6 = c + 6 &* ldc, r7 = c + 7 &* ldc, r8 = c + 8 &* ldc, r9 = c + 9 &* ldc, r10 = c + 10 &* ldc, r11 = c + 11 &* ldc
    if loadC {
        c0x = UnsafeRawPointer(r0).loadUnaligned(as: V.self); c0y = UnsafeRawPointer(r0 + w).loadUnaligned(as: V.self)
        if rows > 1 { c1x = UnsafeRawPointer(r1).loadUnaligned(as: V.self); c1y = UnsafeRawPointer(r1 + w).loadUnaligned(as: V.self) }
        if rows > 2 { c2x = UnsafeRawPointer(r2).loadUnaligned(as: V.self); c2y = UnsafeRawPointer(r2 + w).loadUnaligned(as: V.self) }
        if rows > 3 { c3x = UnsafeRawPointer(r3).loadUnaligned(as: V.self); c3y = UnsafeRawPointer(r3 + w).loadUnaligned(as: V.self) }
        if rows > 4 { c4x = UnsafeRawPointer(r4).loadUnaligned(as: V.self); c4y = UnsafeRawPointer(r4 + w).loadUnaligned(as: V.self) }
        if rows > 5 { c5x = UnsafeRawPointer(r5).loadUnaligned(as: V.self); c5y = UnsafeRawPointer(r5 + w).loadUnaligned(as: V.self) }
        if rows > 6 { c6x = UnsafeRawPointer(r6).loadUnaligned(as: V.self); c6y = UnsafeRawPointer(r6 + w).loadUnaligned(as: V.self) }
        if rows > 7 { c7x = UnsafeRawPointer(r7).loadUnaligned(as: V.self); c7y = UnsafeRawPointer(r7 + w).loadUnaligned(as: V.self) }
        if rows > 8 { c8x = UnsafeRawPointer(r8).loadUnaligned(as: V.self); c8y = UnsafeRawPointer(r8 + w).loadUnaligned(as: V.self) }
        if rows > 9 { c9x = UnsafeRawPointer(r9).loadUnaligned(as: V.self); c9y = UnsafeRawPointer(r9 + w).loadUnaligned(as: V.self) }
        if rows > 10 { c10x = UnsafeRawPointer(r10).loadUnaligned(as: V.self); c10y = UnsafeRawPointer(r10 + w).loadUnaligned(as: V.self) }
        if rows > 11 { c11x = UnsafeRawPointer(r11).loadUnaligned(as: V.self); c11y = UnsafeRawPointer(r11 + w).loadUnaligned(as: V.self) }
    }
    for k in 0..<kc {
        let bx = UnsafeRawPointer(b + w &* k).loadUnaligned(as: V.self)
        let by = UnsafeRawPointer(b2 + w &* k).loadUnaligned(as: V.self)
        let pa = a + 6 &* k, pa2 = a2 + 6 &* k
        let v = V(repeating: pa[0]); c0x = c0x.addingProduct(v, bx); c0y = c0y.addingProduct(v, by)
        if rows > 1 { let v = V(repeating: pa[1]); c1x = c1x.addingProduct(v, bx); c1y = c1y.addingProduct(v, by) }
        if rows > 2 { let v = V(repeating: pa[2]); c2x = c2x.addingProduct(v, bx); c2y = c2y.addingProduct(v, by) }
        if rows > 3 { let v = V(repeating: pa[3]); c3x = c3x.addingProduct(v, bx); c3y = c3y.addingProduct(v, by) }
        if rows > 4 { let v = V(repeating: pa[4]); c4x = c4x.addingProduct(v, bx); c4y = c4y.addingProduct(v, by) }
        if rows > 5 { let v = V(repeating: pa[5]); c5x = c5x.addingProduct(v, bx); c5y = c5y.addingProduct(v, by) }
        if rows > 6 { let v = V(repeating: pa2[0]); c6x = c6x.addingProduct(v, bx); c6y = c6y.addingProduct(v, by) }
        if rows > 7 { let v = V(repeating: pa2[1]); c7x = c7x.addingProduct(v, bx); c7y = c7y.addingProduct(v, by) }
        if rows > 8 { let v = V(repeating: pa2[2]); c8x = c8x.addingProduct(v, bx); c8y = c8y.addingProduct(v, by) }
        if rows > 9 { let v = V(repeating: pa2[3]); c9x = c9x.addingProduct(v, bx); c9y = c9y.addingProduct(v, by) }
        if rows > 10 { let v = V(repeating: pa2[4]); c10x = c10x.addingProduct(v, bx); c10y = c10y.addingProduct(v, by) }
        if rows > 11 { let v = V(repeating: pa2[5]); c11x = c11x.addingProduct(v, bx); c11y = c11y.addingProduct(v, by) }
    }
    UnsafeMutableRawPointer(r0).storeBytes(of: c0x, as: V.self); UnsafeMutableRawPointer(r0 + w).storeBytes(of: c0y, as: V.self)
    if rows > 1 { UnsafeMutableRawPointer(r1).storeBytes(of: c1x, as: V.self); UnsafeMutableRawPointer(r1 + w).storeBytes(of: c1y, as: V.self) }
    if rows > 2 { UnsafeMutableRawPointer(r2).storeBytes(of: c2x, as: V.self); UnsafeMutableRawPointer(r2 + w).storeBytes(of: c2y, as: V.self) }
    if rows > 3 { UnsafeMutableRawPointer(r3).storeBytes(of: c3x, as: V.self); UnsafeMutableRawPointer(r3 + w).storeBytes(of: c3y, as: V.self) }
    if rows > 4 { UnsafeMutableRawPointer(r4).storeBytes(of: c4x, as: V.self); UnsafeMutableRawPointer(r4 + w).storeBytes(of: c4y, as: V.self) }
    if rows > 5 { UnsafeMutableRawPointer(r5).storeBytes(of: c5x, as: V.self); UnsafeMutableRawPointer(r5 + w).storeBytes(of: c5y, as: V.self) }
    if rows > 6 { UnsafeMutableRawPointer(r6).storeBytes(of: c6x, as: V.self); UnsafeMutableRawPointer(r6 + w).storeBytes(of: c6y, as: V.self) }
    if rows > 7 { UnsafeMutableRawPointer(r7).storeBytes(of: c7x, as: V.self); UnsafeMutableRawPointer(r7 + w).storeBytes(of: c7y, as: V.self) }
    if rows > 8 { UnsafeMutableRawPointer(r8).storeBytes(of: c8x, as: V.self); UnsafeMutableRawPointer(r8 + w).storeBytes(of: c8y, as: V.self) }
    if rows > 9 { UnsafeMutableRawPointer(r9).storeBytes(of: c9x, as: V.self); UnsafeMutableRawPointer(r9 + w).storeBytes(of: c9y, as: V.self) }
    if rows > 10 { UnsafeMutableRawPointer(r10).storeBytes(of: c10x, as: V.self); UnsafeMutableRawPointer(r10 + w).storeBytes(of: c10y, as: V.self) }
    if rows > 11 { UnsafeMutableRawPointer(r11).storeBytes(of: c11x, as: V.self); UnsafeMutableRawPointer(r11 + w).storeBytes(of: c11y, as: V.self) }
}
#endif

// MARK: - Float 6x16

@inline(__always)
private func kernel6x16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ loadC: Bool, rows: Int) {
    // `rows` (1...6) is a constant at every call site, so the unused rows fold away.
    typealias V = SIMD8<Float>
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    let r0 = UnsafeMutableRawPointer(c), r1 = UnsafeMutableRawPointer(c + ldc)
    let r2 = UnsafeMutableRawPointer(c + 2 &* ldc), r3 = UnsafeMutableRawPointer(c + 3 &* ldc)
    let r4 = UnsafeMutableRawPointer(c + 4 &* ldc), r5 = UnsafeMutableRawPointer(c + 5 &* ldc)
    if loadC {
        c00 = r0.loadUnaligned(as: V.self); c01 = r0.loadUnaligned(fromByteOffset: 32, as: V.self)
        if rows > 1 { c10 = r1.loadUnaligned(as: V.self); c11 = r1.loadUnaligned(fromByteOffset: 32, as: V.self) }
        if rows > 2 { c20 = r2.loadUnaligned(as: V.self); c21 = r2.loadUnaligned(fromByteOffset: 32, as: V.self) }
        if rows > 3 { c30 = r3.loadUnaligned(as: V.self); c31 = r3.loadUnaligned(fromByteOffset: 32, as: V.self) }
        if rows > 4 { c40 = r4.loadUnaligned(as: V.self); c41 = r4.loadUnaligned(fromByteOffset: 32, as: V.self) }
        if rows > 5 { c50 = r5.loadUnaligned(as: V.self); c51 = r5.loadUnaligned(fromByteOffset: 32, as: V.self) }
    }
    for k in 0..<kc {
        let pb = UnsafeRawPointer(b + 16 &* k)
        let b0 = pb.loadUnaligned(as: V.self), b1 = pb.loadUnaligned(fromByteOffset: 32, as: V.self)
        let pa = a + 6 &* k
        var av = V(repeating: pa[0])
        c00 = fmadd(c00, av, b0); c01 = fmadd(c01, av, b1)
        if rows > 1 { av = V(repeating: pa[1]); c10 = fmadd(c10, av, b0); c11 = fmadd(c11, av, b1) }
        if rows > 2 { av = V(repeating: pa[2]); c20 = fmadd(c20, av, b0); c21 = fmadd(c21, av, b1) }
        if rows > 3 { av = V(repeating: pa[3]); c30 = fmadd(c30, av, b0); c31 = fmadd(c31, av, b1) }
        if rows > 4 { av = V(repeating: pa[4]); c40 = fmadd(c40, av, b0); c41 = fmadd(c41, av, b1) }
        if rows > 5 { av = V(repeating: pa[5]); c50 = fmadd(c50, av, b0); c51 = fmadd(c51, av, b1) }
    }
    r0.storeBytes(of: c00, as: V.self); r0.storeBytes(of: c01, toByteOffset: 32, as: V.self)
    if rows > 1 { r1.storeBytes(of: c10, as: V.self); r1.storeBytes(of: c11, toByteOffset: 32, as: V.self) }
    if rows > 2 { r2.storeBytes(of: c20, as: V.self); r2.storeBytes(of: c21, toByteOffset: 32, as: V.self) }
    if rows > 3 { r3.storeBytes(of: c30, as: V.self); r3.storeBytes(of: c31, toByteOffset: 32, as: V.self) }
    if rows > 4 { r4.storeBytes(of: c40, as: V.self); r4.storeBytes(of: c41, toByteOffset: 32, as: V.self) }
    if rows > 5 { r5.storeBytes(of: c50, as: V.self); r5.storeBytes(of: c51, toByteOffset: 32, as: V.self) }
}

/// The first 8 columns of a 6 x 16 tile (B panels still 16 wide), C loaded and stored.
@inline(never)
private func kernel6x8f(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                        _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    typealias V = SIMD8<Float>
    let r0 = UnsafeMutableRawPointer(c), r1 = UnsafeMutableRawPointer(c + ldc)
    let r2 = UnsafeMutableRawPointer(c + 2 &* ldc), r3 = UnsafeMutableRawPointer(c + 3 &* ldc)
    let r4 = UnsafeMutableRawPointer(c + 4 &* ldc), r5 = UnsafeMutableRawPointer(c + 5 &* ldc)
    var c0 = r0.loadUnaligned(as: V.self), c1 = r1.loadUnaligned(as: V.self), c2 = r2.loadUnaligned(as: V.self)
    var c3 = r3.loadUnaligned(as: V.self), c4 = r4.loadUnaligned(as: V.self), c5 = r5.loadUnaligned(as: V.self)
    for k in 0..<kc {
        let b0 = UnsafeRawPointer(b + 16 &* k).loadUnaligned(as: V.self)
        let pa = a + 6 &* k
        c0 = fmadd(c0, V(repeating: pa[0]), b0); c1 = fmadd(c1, V(repeating: pa[1]), b0)
        c2 = fmadd(c2, V(repeating: pa[2]), b0); c3 = fmadd(c3, V(repeating: pa[3]), b0)
        c4 = fmadd(c4, V(repeating: pa[4]), b0); c5 = fmadd(c5, V(repeating: pa[5]), b0)
    }
    r0.storeBytes(of: c0, as: V.self); r1.storeBytes(of: c1, as: V.self); r2.storeBytes(of: c2, as: V.self)
    r3.storeBytes(of: c3, as: V.self); r4.storeBytes(of: c4, as: V.self); r5.storeBytes(of: c5, as: V.self)
}

// MARK: - Narrow edge panels (a few columns left)

/// C[0..<mc, 0..<cols] (+)= A * B for an edge B panel with only `cols` (1...4) real columns
/// (the rest zero): instead of a full 6 x 16 (6 x 8) tile that mostly multiplies zeros,
/// one vector per (6-row A panel, column) holding the panel's 6 rows in lanes 0..<6, four
/// A panels at a time (independent FMA chains). Per element the same operations in the
/// same order as the full kernels: start from C (or 0), then one (fused) multiply-add of
/// A(i, k) * B(k, j) per k, k = 0, 1, ... — so the same bits.
@_transparent
private func narrowPanelsF(_ kc: Int, _ a: UnsafePointer<Float>, _ aPanelStride: Int, panels: Int,
                           _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                           _ loadC: Bool, rows: Int, cols: Int) {
    typealias V = SIMD8<Float>
    // acc[q * 4 + j]: panel q, column j.
    var acc = (V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V())
    withUnsafeMutableBytes(of: &acc) { raw in
        let accp = raw.baseAddress!.assumingMemoryBound(to: V.self)
        for q in 0..<4 where q < panels {
            for j in 0..<4 where j < cols {
                var v = V()
                if loadC {
                    for i in 0..<6 { let r = q &* 6 &+ i; if r < rows { v[i] = c[r &* ldc &+ j] } }
                }
                accp[q &* 4 &+ j] = v
            }
        }
    }
    var a0 = V(), a1 = V(), a2 = V(), a3 = V()
    var c00 = acc.0, c01 = acc.1, c02 = acc.2, c03 = acc.3
    var c10 = acc.4, c11 = acc.5, c12 = acc.6, c13 = acc.7
    var c20 = acc.8, c21 = acc.9, c22 = acc.10, c23 = acc.11
    var c30 = acc.12, c31 = acc.13, c32 = acc.14, c33 = acc.15
    let p0 = a, p1 = a + aPanelStride, p2 = a + 2 &* aPanelStride, p3 = a + 3 &* aPanelStride
    @inline(__always) func lastK(_ p: UnsafePointer<Float>) -> V {
        V(p[0], p[1], p[2], p[3], p[4], p[5], 0, 0)
    }
    for k in 0..<kc {
        let o = 6 &* k
        if k &+ 1 < kc {
            // Lanes 6, 7 read the next k's values (unused); the last k is read exactly.
            a0 = UnsafeRawPointer(p0 + o).loadUnaligned(as: V.self)
            if panels > 1 { a1 = UnsafeRawPointer(p1 + o).loadUnaligned(as: V.self) }
            if panels > 2 { a2 = UnsafeRawPointer(p2 + o).loadUnaligned(as: V.self) }
            if panels > 3 { a3 = UnsafeRawPointer(p3 + o).loadUnaligned(as: V.self) }
        } else {
            a0 = lastK(p0 + o)
            if panels > 1 { a1 = lastK(p1 + o) }
            if panels > 2 { a2 = lastK(p2 + o) }
            if panels > 3 { a3 = lastK(p3 + o) }
        }
        let pb = b + 16 &* k
        let b0 = V(repeating: pb[0])
        c00 = fmadd(c00, a0, b0)
        if panels > 1 { c10 = fmadd(c10, a1, b0) }
        if panels > 2 { c20 = fmadd(c20, a2, b0) }
        if panels > 3 { c30 = fmadd(c30, a3, b0) }
        if cols > 1 {
            let b1 = V(repeating: pb[1])
            c01 = fmadd(c01, a0, b1)
            if panels > 1 { c11 = fmadd(c11, a1, b1) }
            if panels > 2 { c21 = fmadd(c21, a2, b1) }
            if panels > 3 { c31 = fmadd(c31, a3, b1) }
        }
        if cols > 2 {
            let b2 = V(repeating: pb[2])
            c02 = fmadd(c02, a0, b2)
            if panels > 1 { c12 = fmadd(c12, a1, b2) }
            if panels > 2 { c22 = fmadd(c22, a2, b2) }
            if panels > 3 { c32 = fmadd(c32, a3, b2) }
        }
        if cols > 3 {
            let b3 = V(repeating: pb[3])
            c03 = fmadd(c03, a0, b3)
            if panels > 1 { c13 = fmadd(c13, a1, b3) }
            if panels > 2 { c23 = fmadd(c23, a2, b3) }
            if panels > 3 { c33 = fmadd(c33, a3, b3) }
        }
    }
    acc = (c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33)
    withUnsafeBytes(of: &acc) { raw in
        let accp = raw.baseAddress!.assumingMemoryBound(to: V.self)
        for q in 0..<4 where q < panels {
            for j in 0..<4 where j < cols {
                let v = accp[q &* 4 &+ j]
                for i in 0..<6 { let r = q &* 6 &+ i; if r < rows { c[r &* ldc &+ j] = v[i] } }
            }
        }
    }
}

#if SWIFTCONV_AVX512
/// C[0..<rows, 0] (+)= A * B for an edge B panel with ONE real column (a 7x7 plane's 49 =
/// 3 x 16 + 1), `panels` (1...8) A panels at a time, each panel's 6 rows in lanes 0..<6 of
/// its own ymm accumulator: eight independent multiply-add chains, where `narrowPanelsF`'s
/// four wait out each multiply-add's latency (8 accumulators + 8 A vectors + the broadcast
/// need the AVX-512 build's 32 registers). Per element the same operations in the same order
/// as every kernel here, so the same bits. Why: on a Zen5 EPYC that edge cost ~9% of a
/// prepared 512->2048 7x7 N1 call (one thread, CPU time, us: 48 pixels 487, 49 pixels 534).
/// Measured (prepared weights, old / new, one process, interleaved, median of 7-11 rounds,
/// 2-vCPU Zen5, load 7-16): 512->2048 7x7 0.94-0.96 (four runs), 960->160 / 960->320 7x7
/// 0.98-0.99, the other 7x7 1x1 layers of ResNet-50 / MobileNetV2 / EfficientNet-B0
/// 0.97-1.03 (noise); the plain calls that pack A in 24-row slices (4 panels a group, as
/// before) 0.91-1.05 (noise). Bits identical to the old build on all of them.
@_transparent
private func narrowColumnPanelsF(_ kc: Int, _ a: UnsafePointer<Float>, _ aPanelStride: Int, panels: Int,
                                 _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                                 _ loadC: Bool, rows: Int) {
    typealias V = SIMD8<Float>
    var acc = (V(), V(), V(), V(), V(), V(), V(), V())
    if loadC {
        withUnsafeMutableBytes(of: &acc) { raw in
            let t = raw.baseAddress!.assumingMemoryBound(to: Float.self)
            for r in 0..<rows { t[r / 6 &* 8 &+ r % 6] = c[r &* ldc] }
        }
    }
    var c0 = acc.0, c1 = acc.1, c2 = acc.2, c3 = acc.3, c4 = acc.4, c5 = acc.5, c6 = acc.6, c7 = acc.7
    let p0 = a, p1 = a + 1 &* aPanelStride, p2 = a + 2 &* aPanelStride, p3 = a + 3 &* aPanelStride, p4 = a + 4 &* aPanelStride, p5 = a + 5 &* aPanelStride, p6 = a + 6 &* aPanelStride, p7 = a + 7 &* aPanelStride
    @inline(__always) func lastK(_ p: UnsafePointer<Float>) -> V {
        V(p[0], p[1], p[2], p[3], p[4], p[5], 0, 0)
    }
    if kc > 0 {
        // Lanes 6, 7 read the next k's values (unused); the last k is read exactly.
        for k in 0..<(kc &- 1) {
            let o = 6 &* k, bk = V(repeating: b[16 &* k])
            c0 = fmadd(c0, UnsafeRawPointer(p0 + o).loadUnaligned(as: V.self), bk)
            if panels > 1 { c1 = fmadd(c1, UnsafeRawPointer(p1 + o).loadUnaligned(as: V.self), bk) }
            if panels > 2 { c2 = fmadd(c2, UnsafeRawPointer(p2 + o).loadUnaligned(as: V.self), bk) }
            if panels > 3 { c3 = fmadd(c3, UnsafeRawPointer(p3 + o).loadUnaligned(as: V.self), bk) }
            if panels > 4 { c4 = fmadd(c4, UnsafeRawPointer(p4 + o).loadUnaligned(as: V.self), bk) }
            if panels > 5 { c5 = fmadd(c5, UnsafeRawPointer(p5 + o).loadUnaligned(as: V.self), bk) }
            if panels > 6 { c6 = fmadd(c6, UnsafeRawPointer(p6 + o).loadUnaligned(as: V.self), bk) }
            if panels > 7 { c7 = fmadd(c7, UnsafeRawPointer(p7 + o).loadUnaligned(as: V.self), bk) }
        }
        let o = 6 &* (kc &- 1), bk = V(repeating: b[16 &* (kc &- 1)])
        c0 = fmadd(c0, lastK(p0 + o), bk)
        if panels > 1 { c1 = fmadd(c1, lastK(p1 + o), bk) }
        if panels > 2 { c2 = fmadd(c2, lastK(p2 + o), bk) }
        if panels > 3 { c3 = fmadd(c3, lastK(p3 + o), bk) }
        if panels > 4 { c4 = fmadd(c4, lastK(p4 + o), bk) }
        if panels > 5 { c5 = fmadd(c5, lastK(p5 + o), bk) }
        if panels > 6 { c6 = fmadd(c6, lastK(p6 + o), bk) }
        if panels > 7 { c7 = fmadd(c7, lastK(p7 + o), bk) }
    }
    acc = (c0, c1, c2, c3, c4, c5, c6, c7)
    withUnsafeBytes(of: &acc) { raw in
        let t = raw.baseAddress!.assumingMemoryBound(to: Float.self)
        for r in 0..<rows { c[r &* ldc] = t[r / 6 &* 8 &+ r % 6] }
    }
}

/// All `mc` rows of a one-column edge panel, 8 A panels (48 rows) at a time.
@inline(never)
private func narrowColumnBlockF(_ kc: Int, _ a: UnsafePointer<Float>, _ aPanelStride: Int, mc: Int,
                                _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ loadC: Bool) {
    var ir = 0, ap = a
    while ir < mc {
        let rows = min(48, mc &- ir), panels = (rows &+ 5) / 6
        let cp = c + ir &* ldc
        switch panels {
        case 8: narrowColumnPanelsF(kc, ap, aPanelStride, panels: 8, b, cp, ldc, loadC, rows: rows)
        case 7: narrowColumnPanelsF(kc, ap, aPanelStride, panels: 7, b, cp, ldc, loadC, rows: rows)
        case 6: narrowColumnPanelsF(kc, ap, aPanelStride, panels: 6, b, cp, ldc, loadC, rows: rows)
        case 5: narrowColumnPanelsF(kc, ap, aPanelStride, panels: 5, b, cp, ldc, loadC, rows: rows)
        case 4: narrowColumnPanelsF(kc, ap, aPanelStride, panels: 4, b, cp, ldc, loadC, rows: rows)
        case 3: narrowColumnPanelsF(kc, ap, aPanelStride, panels: 3, b, cp, ldc, loadC, rows: rows)
        case 2: narrowColumnPanelsF(kc, ap, aPanelStride, panels: 2, b, cp, ldc, loadC, rows: rows)
        default: narrowColumnPanelsF(kc, ap, aPanelStride, panels: 1, b, cp, ldc, loadC, rows: rows)
        }
        ir &+= 48; ap += 8 &* aPanelStride
    }
}
#endif

/// All `mc` rows of an edge panel with `cols` (1...4) columns (see `narrowPanelsF`): as many
/// A panels at a time as the accumulators, A vectors and the B broadcast fit in 16 ymm.
@inline(never)
private func narrowBlockF(_ kc: Int, _ a: UnsafePointer<Float>, _ aPanelStride: Int, mc: Int,
                          _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                          _ loadC: Bool, cols: Int) {
#if SWIFTCONV_AVX512
    if cols == 1 { return narrowColumnBlockF(kc, a, aPanelStride, mc: mc, b, c, ldc, loadC) }
#endif
    let group = cols <= 2 ? 4 : cols == 3 ? 3 : 2
    var ir = 0, ap = a
    while ir < mc {
        let rows = min(6 &* group, mc &- ir), panels = (rows &+ 5) / 6
        let cp = c + ir &* ldc
        switch (cols, panels) {
        case (1, 4): narrowPanelsF(kc, ap, aPanelStride, panels: 4, b, cp, ldc, loadC, rows: rows, cols: 1)
        case (1, 3): narrowPanelsF(kc, ap, aPanelStride, panels: 3, b, cp, ldc, loadC, rows: rows, cols: 1)
        case (1, 2): narrowPanelsF(kc, ap, aPanelStride, panels: 2, b, cp, ldc, loadC, rows: rows, cols: 1)
        case (1, _): narrowPanelsF(kc, ap, aPanelStride, panels: 1, b, cp, ldc, loadC, rows: rows, cols: 1)
        case (2, 4): narrowPanelsF(kc, ap, aPanelStride, panels: 4, b, cp, ldc, loadC, rows: rows, cols: 2)
        case (2, 3): narrowPanelsF(kc, ap, aPanelStride, panels: 3, b, cp, ldc, loadC, rows: rows, cols: 2)
        case (2, 2): narrowPanelsF(kc, ap, aPanelStride, panels: 2, b, cp, ldc, loadC, rows: rows, cols: 2)
        case (2, _): narrowPanelsF(kc, ap, aPanelStride, panels: 1, b, cp, ldc, loadC, rows: rows, cols: 2)
        case (3, 3): narrowPanelsF(kc, ap, aPanelStride, panels: 3, b, cp, ldc, loadC, rows: rows, cols: 3)
        case (3, 2): narrowPanelsF(kc, ap, aPanelStride, panels: 2, b, cp, ldc, loadC, rows: rows, cols: 3)
        case (3, _): narrowPanelsF(kc, ap, aPanelStride, panels: 1, b, cp, ldc, loadC, rows: rows, cols: 3)
        case (_, 2): narrowPanelsF(kc, ap, aPanelStride, panels: 2, b, cp, ldc, loadC, rows: rows, cols: 4)
        default: narrowPanelsF(kc, ap, aPanelStride, panels: 1, b, cp, ldc, loadC, rows: rows, cols: 4)
        }
        ir &+= 6 &* group; ap += group &* aPanelStride
    }
}

/// Edge panels with at most this many columns take `narrowBlockF` (Float).
private let narrowColumns = 4

#if SWIFTCONV_AVX512
/// AVX-512: edge panels of this many columns up to `narrowColumns` take
/// `narrowPanelPairsBlockF` (EdgeKernels.swift: 12 rows per zmm) instead of `narrowBlockF`
/// (6 rows per ymm). Measured: benchmarks/kernel_probe (sh run.sh HEAD 15 edge), the edge
/// panel alone, 120 rows x kc 288, one thread, GFLOP/s narrowBlockF -> paired, interleaved
/// (2-vCPU Xeon, AVX-512): 4 columns 32.1 -> 80.8 (2.52x), 3 columns 25.7 -> 63.8 (2.48x),
/// 2 columns 24.3 -> 24.0 (0.99x), 1 column 17.1 -> 11.9 (0.70x; 4 FMA chains only). (Inside
/// whole blocks the 1-column edge measured 1.01-1.03x with the paired kernel, 120 x 49 and
/// 512 x 49 kc 288: noise level, so 1 and 2 columns stay with `narrowBlockF`.) Whole layers:
/// see EdgeKernels.swift.
private let pairedNarrowColumns = 3
#endif

/// C[0..<mc, 0..<nc] (+)= A * B for one cache block of packed panels (see the file comment).
/// `tile` is scratch for 6 x 16 Floats, used for edge tiles.
@inline(never)
public func sgemmBlock(mc: Int, nc: Int, kc: Int,
                       a: UnsafePointer<Float>, aPanelStride: Int,
                       b: UnsafePointer<Float>, bPanelStride: Int,
                       c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool,
                       tile: UnsafeMutablePointer<Float>) {
    var jr = 0, bp = b
    while jr < nc {
        let nr = min(16, nc &- jr)
        var ir = 0, ap = a
        if nr <= narrowColumns {
#if SWIFTCONV_AVX512
            if nr >= pairedNarrowColumns {
                narrowPanelPairsBlockF(kc, a, aPanelStride, mc: mc, bp, c + jr, ldc, loadC, cols: nr)
                jr &+= 16; bp += bPanelStride
                continue
            }
#endif
            narrowBlockF(kc, a, aPanelStride, mc: mc, bp, c + jr, ldc, loadC, cols: nr)
            jr &+= 16; bp += bPanelStride
            continue
        }
#if SWIFTCONV_AVX512
        if nc &- jr >= 32 {
            // Two full panels: 12 x 32 tiles (two A panels, two B panels), straight into C,
            // with a kernel for the exact row count (a leftover single A panel: 1...6 rows).
            let bp2 = bp + bPanelStride
            while ir < mc {
                let cp = c + (ir &* ldc &+ jr), ap2 = ap + aPanelStride
                switch min(12, mc &- ir) {
                case 12: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 12)
                case 11: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 11)
                case 10: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 10)
                case 9: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 9)
                case 8: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 8)
                case 7: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 7)
                case 6: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 6)
                case 5: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 5)
                case 4: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 4)
                case 3: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 3)
                case 2: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 2)
                default: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 1)
                }
                ir &+= 12; ap += 2 &* aPanelStride
            }
            jr &+= 32; bp += 2 &* bPanelStride
            continue
        }
        if nr == 16 {
            // One full panel left: 12 x 16 tiles.
            while ir < mc {
                let cp = c + (ir &* ldc &+ jr), ap2 = ap + aPanelStride
                switch min(12, mc &- ir) {
                case 12: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 12)
                case 11: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 11)
                case 10: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 10)
                case 9: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 9)
                case 8: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 8)
                case 7: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 7)
                case 6: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 6)
                case 5: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 5)
                case 4: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 4)
                case 3: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 3)
                case 2: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 2)
                default: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 1)
                }
                ir &+= 12; ap += 2 &* aPanelStride
            }
            jr &+= 16; bp += bPanelStride
            continue
        }
        if nr < 16 {
            // 5...15 columns: 12 x 16 zmm tiles (see partialPanelBlockF's measurements).
            partialPanelBlockF(kc, a, aPanelStride, mc: mc, bp, c + jr, ldc, loadC, cols: nr)
            jr &+= 16; bp += bPanelStride
            continue
        }
#endif
        while ir < mc {
            let mr = min(6, mc &- ir)
            let cp = c + (ir &* ldc &+ jr)
            if nr == 16 {
                // Full-width tile: straight into C, with a kernel for the exact row count.
                switch mr {
                case 6: kernel6x16(kc, ap, bp, cp, ldc, loadC, rows: 6)
                case 5: kernel6x16(kc, ap, bp, cp, ldc, loadC, rows: 5)
                case 4: kernel6x16(kc, ap, bp, cp, ldc, loadC, rows: 4)
                case 3: kernel6x16(kc, ap, bp, cp, ldc, loadC, rows: 3)
                case 2: kernel6x16(kc, ap, bp, cp, ldc, loadC, rows: 2)
                default: kernel6x16(kc, ap, bp, cp, ldc, loadC, rows: 1)
                }
            } else if nr <= 8 {
                // At most 8 columns left: half the work of a full tile.
                for i in 0..<6 {
                    for j in 0..<8 {
                        tile[i &* 16 &+ j] = (loadC && i < mr && j < nr) ? cp[i &* ldc &+ j] : 0
                    }
                }
                kernel6x8f(kc, ap, bp, tile, 16)
                for i in 0..<mr { for j in 0..<nr { cp[i &* ldc &+ j] = tile[i &* 16 &+ j] } }
            } else {
                for i in 0..<6 {
                    for j in 0..<16 {
                        tile[i &* 16 &+ j] = (loadC && i < mr && j < nr) ? cp[i &* ldc &+ j] : 0
                    }
                }
                kernel6x16(kc, ap, bp, tile, 16, true, rows: 6)
                for i in 0..<mr { for j in 0..<nr { cp[i &* ldc &+ j] = tile[i &* 16 &+ j] } }
            }
            ir &+= 6; ap += aPanelStride
        }
        jr &+= 16; bp += bPanelStride
    }
}

#if SWIFTCONV_AVX512
import CSwiftConv  // sc_prefetch_l2

/// As `sgemmBlock` for full 16-column panels only (`nc` a multiple of 16), with B read in
/// place from a row-major matrix: B(k, j) at `b[k * ldb + j]` (a pointwise convolution's
/// input: no packing pass over it; the micro-kernels' loads of each B row overlap with the
/// arithmetic). Same tiles, operations and order as `sgemmBlock`, so the same bits.
/// Measured against packing B (GemmTests.testDenseLayersBenchmark, one thread, median of
/// interleaved rounds, 5 runs): 256->64 56x56 1x1 1.04-1.09x as fast (one run 0.90x),
/// 512->128 28x28 1.04-1.07x, 64->256 56x56 1.02-1.03x, 128->512 28x28 1.01-1.02x.
///
/// Each 32-column panel's rows are kc streams a whole image row apart (e.g. 12.5 KB for a
/// 56x56 plane), more than the hardware prefetchers follow: a panel whose rows are not in
/// cache stalled the tiles on it (N8 256->64 56x56 took 1.7x eight N1 calls on one cached
/// image, and as long as eight N1 calls on eight images). So while the row tiles run on one
/// panel, they prefetch the rows of the next one into L2, spread over the tiles (past the
/// block's last panel: the next columns of B, which the caller's next tile reads; a prefetch
/// never faults). Measured (one thread, forward from Python, old / new time, median of 5-7
/// interleaved rounds, 2-vCPU Xeon AVX-512): N8 256->64 56x56 0.64, 256->128 56x56 0.78,
/// 144->24 56x56 0.56, 64->64 56x56 0.59, 512->128 28x28 0.69, 64->256 56x56 0.94,
/// 128->512 28x28 0.91, 240->40 28x28 0.83; N1 256->64 56x56 0.89, 512->128 28x28 0.93;
/// 64->256 56x56 N1, 96->24 56x56 N1 / N8, 512->256 28x28 N8, 16->96 / 32->16 112x112 N8
/// 0.95-1.04 (noise).
@inline(never)
public func sgemmBlockRowMajorB(mc: Int, nc: Int, kc: Int, a: UnsafePointer<Float>, aPanelStride: Int,
                                b: UnsafePointer<Float>, ldb: Int,
                                c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool) {
    // Rows of the next panel each row tile prefetches (all kc over the panel's tiles).
    let rowsPerTile = (kc &+ (mc &+ 11) / 12 &- 1) / ((mc &+ 11) / 12)
    var jr = 0
    while jr &+ 16 <= nc {
        var ir = 0, ap = a
        let bp = b + jr
        if jr &+ 32 <= nc {
            let bp2 = bp + 16
            var fetched = 0
            while ir < mc {
                fetched = prefetchPanelRows(bp + 32, ldb: ldb, from: fetched, to: min(kc, fetched &+ rowsPerTile))
                let cp = c + (ir &* ldc &+ jr), ap2 = ap + aPanelStride
                switch min(12, mc &- ir) {
                case 12: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 12, ldb: ldb)
                case 11: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 11, ldb: ldb)
                case 10: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 10, ldb: ldb)
                case 9: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 9, ldb: ldb)
                case 8: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 8, ldb: ldb)
                case 7: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 7, ldb: ldb)
                case 6: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 6, ldb: ldb)
                case 5: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 5, ldb: ldb)
                case 4: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 4, ldb: ldb)
                case 3: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 3, ldb: ldb)
                case 2: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 2, ldb: ldb)
                default: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 1, ldb: ldb)
                }
                ir &+= 12; ap += 2 &* aPanelStride
            }
            jr &+= 32
            continue
        }
        while ir < mc {
            let cp = c + (ir &* ldc &+ jr), ap2 = ap + aPanelStride
            switch min(12, mc &- ir) {
            case 12: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 12, ldb: ldb)
            case 11: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 11, ldb: ldb)
            case 10: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 10, ldb: ldb)
            case 9: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 9, ldb: ldb)
            case 8: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 8, ldb: ldb)
            case 7: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 7, ldb: ldb)
            case 6: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 6, ldb: ldb)
            case 5: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 5, ldb: ldb)
            case 4: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 4, ldb: ldb)
            case 3: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 3, ldb: ldb)
            case 2: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 2, ldb: ldb)
            default: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 1, ldb: ldb)
            }
            ir &+= 12; ap += 2 &* aPanelStride
        }
        jr &+= 16
    }
}

/// Prefetches rows `from ..< to` of a 32-column panel of a row-major B (rows `ldb` apart)
/// into L2: the lines of its first, 17th and last Float (32 Floats span three lines unless
/// 64-byte aligned). Returns `to`.
@_transparent
private func prefetchPanelRows(_ panel: UnsafePointer<Float>, ldb: Int, from: Int, to: Int) -> Int {
    var r = from
    while r < to {
        let p = panel + r &* ldb
        sc_prefetch_l2(p); sc_prefetch_l2(p + 16); sc_prefetch_l2(p + 31)
        r &+= 1
    }
    return to
}
#endif

// MARK: - Double 6x8

@inline(__always)
private func kernel6x8(_ kc: Int, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>,
                        _ c: UnsafeMutablePointer<Double>, _ ldc: Int, _ loadC: Bool, rows: Int) {
    // `rows` (1...6) is a constant at every call site, so the unused rows fold away.
    typealias V = SIMD4<Double>
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    let r0 = UnsafeMutableRawPointer(c), r1 = UnsafeMutableRawPointer(c + ldc)
    let r2 = UnsafeMutableRawPointer(c + 2 &* ldc), r3 = UnsafeMutableRawPointer(c + 3 &* ldc)
    let r4 = UnsafeMutableRawPointer(c + 4 &* ldc), r5 = UnsafeMutableRawPointer(c + 5 &* ldc)
    if loadC {
        c00 = r0.loadUnaligned(as: V.self); c01 = r0.loadUnaligned(fromByteOffset: 32, as: V.self)
        if rows > 1 { c10 = r1.loadUnaligned(as: V.self); c11 = r1.loadUnaligned(fromByteOffset: 32, as: V.self) }
        if rows > 2 { c20 = r2.loadUnaligned(as: V.self); c21 = r2.loadUnaligned(fromByteOffset: 32, as: V.self) }
        if rows > 3 { c30 = r3.loadUnaligned(as: V.self); c31 = r3.loadUnaligned(fromByteOffset: 32, as: V.self) }
        if rows > 4 { c40 = r4.loadUnaligned(as: V.self); c41 = r4.loadUnaligned(fromByteOffset: 32, as: V.self) }
        if rows > 5 { c50 = r5.loadUnaligned(as: V.self); c51 = r5.loadUnaligned(fromByteOffset: 32, as: V.self) }
    }
    for k in 0..<kc {
        let pb = UnsafeRawPointer(b + 8 &* k)
        let b0 = pb.loadUnaligned(as: V.self), b1 = pb.loadUnaligned(fromByteOffset: 32, as: V.self)
        let pa = a + 6 &* k
        var av = V(repeating: pa[0])
        c00 = fmadd(c00, av, b0); c01 = fmadd(c01, av, b1)
        if rows > 1 { av = V(repeating: pa[1]); c10 = fmadd(c10, av, b0); c11 = fmadd(c11, av, b1) }
        if rows > 2 { av = V(repeating: pa[2]); c20 = fmadd(c20, av, b0); c21 = fmadd(c21, av, b1) }
        if rows > 3 { av = V(repeating: pa[3]); c30 = fmadd(c30, av, b0); c31 = fmadd(c31, av, b1) }
        if rows > 4 { av = V(repeating: pa[4]); c40 = fmadd(c40, av, b0); c41 = fmadd(c41, av, b1) }
        if rows > 5 { av = V(repeating: pa[5]); c50 = fmadd(c50, av, b0); c51 = fmadd(c51, av, b1) }
    }
    r0.storeBytes(of: c00, as: V.self); r0.storeBytes(of: c01, toByteOffset: 32, as: V.self)
    if rows > 1 { r1.storeBytes(of: c10, as: V.self); r1.storeBytes(of: c11, toByteOffset: 32, as: V.self) }
    if rows > 2 { r2.storeBytes(of: c20, as: V.self); r2.storeBytes(of: c21, toByteOffset: 32, as: V.self) }
    if rows > 3 { r3.storeBytes(of: c30, as: V.self); r3.storeBytes(of: c31, toByteOffset: 32, as: V.self) }
    if rows > 4 { r4.storeBytes(of: c40, as: V.self); r4.storeBytes(of: c41, toByteOffset: 32, as: V.self) }
    if rows > 5 { r5.storeBytes(of: c50, as: V.self); r5.storeBytes(of: c51, toByteOffset: 32, as: V.self) }
}

/// Double version of `sgemmBlock`: 6 x 8 tiles, `tile` holds 6 x 8 Doubles.
@inline(never)
public func dgemmBlock(mc: Int, nc: Int, kc: Int,
                       a: UnsafePointer<Double>, aPanelStride: Int,
                       b: UnsafePointer<Double>, bPanelStride: Int,
                       c: UnsafeMutablePointer<Double>, ldc: Int, loadC: Bool,
                       tile: UnsafeMutablePointer<Double>) {
    var jr = 0, bp = b
    while jr < nc {
        let nr = min(8, nc &- jr)
        var ir = 0, ap = a
#if SWIFTCONV_AVX512
        if nc &- jr >= 16 {
            // Two full panels: 12 x 16 tiles, as in `sgemmBlock`.
            let bp2 = bp + bPanelStride
            while ir < mc {
                let cp = c + (ir &* ldc &+ jr), ap2 = ap + aPanelStride
                switch min(12, mc &- ir) {
                case 12: kernel12x16d(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 12)
                case 11: kernel12x16d(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 11)
                case 10: kernel12x16d(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 10)
                case 9: kernel12x16d(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 9)
                case 8: kernel12x16d(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 8)
                case 7: kernel12x16d(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 7)
                case 6: kernel12x16d(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 6)
                case 5: kernel12x16d(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 5)
                case 4: kernel12x16d(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 4)
                case 3: kernel12x16d(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 3)
                case 2: kernel12x16d(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 2)
                default: kernel12x16d(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 1)
                }
                ir &+= 12; ap += 2 &* aPanelStride
            }
            jr &+= 16; bp += 2 &* bPanelStride
            continue
        }
        if nr == 8 {
            // One full panel left: 12 x 8 tiles.
            while ir < mc {
                let cp = c + (ir &* ldc &+ jr), ap2 = ap + aPanelStride
                switch min(12, mc &- ir) {
                case 12: kernel12x8(kc, ap, ap2, bp, cp, ldc, loadC, rows: 12)
                case 11: kernel12x8(kc, ap, ap2, bp, cp, ldc, loadC, rows: 11)
                case 10: kernel12x8(kc, ap, ap2, bp, cp, ldc, loadC, rows: 10)
                case 9: kernel12x8(kc, ap, ap2, bp, cp, ldc, loadC, rows: 9)
                case 8: kernel12x8(kc, ap, ap2, bp, cp, ldc, loadC, rows: 8)
                case 7: kernel12x8(kc, ap, ap2, bp, cp, ldc, loadC, rows: 7)
                case 6: kernel12x8(kc, ap, ap2, bp, cp, ldc, loadC, rows: 6)
                case 5: kernel12x8(kc, ap, ap2, bp, cp, ldc, loadC, rows: 5)
                case 4: kernel12x8(kc, ap, ap2, bp, cp, ldc, loadC, rows: 4)
                case 3: kernel12x8(kc, ap, ap2, bp, cp, ldc, loadC, rows: 3)
                case 2: kernel12x8(kc, ap, ap2, bp, cp, ldc, loadC, rows: 2)
                default: kernel12x8(kc, ap, ap2, bp, cp, ldc, loadC, rows: 1)
                }
                ir &+= 12; ap += 2 &* aPanelStride
            }
            jr &+= 8; bp += bPanelStride
            continue
        }
#endif
        while ir < mc {
            let mr = min(6, mc &- ir)
            let cp = c + (ir &* ldc &+ jr)
            if nr == 8 {
                // Full-width tile: straight into C, with a kernel for the exact row count.
                switch mr {
                case 6: kernel6x8(kc, ap, bp, cp, ldc, loadC, rows: 6)
                case 5: kernel6x8(kc, ap, bp, cp, ldc, loadC, rows: 5)
                case 4: kernel6x8(kc, ap, bp, cp, ldc, loadC, rows: 4)
                case 3: kernel6x8(kc, ap, bp, cp, ldc, loadC, rows: 3)
                case 2: kernel6x8(kc, ap, bp, cp, ldc, loadC, rows: 2)
                default: kernel6x8(kc, ap, bp, cp, ldc, loadC, rows: 1)
                }
            } else {
                for i in 0..<6 {
                    for j in 0..<8 {
                        tile[i &* 8 &+ j] = (loadC && i < mr && j < nr) ? cp[i &* ldc &+ j] : 0
                    }
                }
                kernel6x8(kc, ap, bp, tile, 8, true, rows: 6)
                for i in 0..<mr { for j in 0..<nr { cp[i &* ldc &+ j] = tile[i &* 8 &+ j] } }
            }
            ir &+= 6; ap += aPanelStride
        }
        jr &+= 8; bp += bPanelStride
    }
}
