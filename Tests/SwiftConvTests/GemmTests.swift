@testable import SwiftConv
import XCTest

/// The GEMM core against a plain triple loop over `element`, for every operand type, both
/// precisions, edges that are not multiples of the micro-kernel, depth 0 and 1, blocks
/// crossing the cache-block sizes; plus packing against `element` and bitwise
/// reproducibility (same call, and any tiling of the same output).
final class GemmTests: XCTestCase {

    /// C = [C +] A·B by the definition; also returns sum |A||B| per element for a tolerance.
    func reference<A: GemmOperand, B: GemmOperand>(_ a: A, _ b: B, rows: Range<Int>, cols: Range<Int>, depth: Int,
                                                   c0: [A.Scalar], accumulate: Bool) -> ([Double], [Double])
        where A.Scalar == B.Scalar {
        var out = [Double](), mag = [Double]()
        for i in rows {
            for j in cols {
                let idx = (i - rows.lowerBound) * cols.count + (j - cols.lowerBound)
                var acc = accumulate ? Double(c0[idx]) : 0
                var m = abs(acc)
                for p in 0..<depth {
                    let v = Double(a.element(i, p)) * Double(b.element(p, j))
                    acc += v; m += abs(v)
                }
                out.append(acc); mag.append(m)
            }
        }
        return (out, mag)
    }

    /// Runs Gemm.multiply into a C with ldc = cols + pad and checks it against `reference`.
    func check<A: GemmOperand, B: GemmOperand>(_ a: A, _ b: B, rows: Range<Int>, cols: Range<Int>, depth: Int,
                                               accumulate: Bool, _ rng: inout SplitMix64, _ label: String,
                                               file: StaticString = #filePath, line: UInt = #line)
        where A.Scalar == B.Scalar {
        typealias T = A.Scalar
        let pad = Int.random(in: 0...3, using: &rng)
        let ldc = cols.count + pad
        let c0: [T] = randomArray(rows.count * cols.count, &rng)
        var c = [T](repeating: 7, count: max(1, rows.count * ldc))
        for i in 0..<rows.count { for j in 0..<cols.count { c[i * ldc + j] = c0[i * cols.count + j] } }
        c.withUnsafeMutableBufferPointer { cp in
            Gemm.multiply(a, b, rows: rows, cols: cols, depth: depth, c: cp.baseAddress!, ldc: ldc, accumulate: accumulate)
        }
        let (want, mag) = reference(a, b, rows: rows, cols: cols, depth: depth, c0: c0, accumulate: accumulate)
        let eps = T.self == Float.self ? 2e-6 : 1e-14
        var bad = 0
        for i in 0..<rows.count {
            for j in 0..<cols.count {
                let got = Double(c[i * ldc + j]), idx = i * cols.count + j
                if abs(got - want[idx]) > eps * (mag[idx] + 1) * 4 { bad += 1 }
            }
            for j in cols.count..<ldc where c[i * ldc + j] != 7 { bad += 1 }  // padding untouched
        }
        XCTAssertEqual(bad, 0, "\(label): rows \(rows) cols \(cols) depth \(depth) accumulate \(accumulate)", file: file, line: line)
    }

    func randomRange(_ rng: inout SplitMix64, maxCount: Int) -> Range<Int> {
        let lo = [0, 0, 1, 3, 6, 7].randomElement(using: &rng)!
        let count = [0, 1, 5, 6, 7, 16, 17, Int.random(in: 1...maxCount, using: &rng)].randomElement(using: &rng)!
        return lo..<(lo + count)
    }

    func stridedCases<T: ConvScalar>(_: T.Type, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for iteration in 0..<60 {
            let rows = randomRange(&rng, maxCount: iteration % 10 == 0 ? 140 : 40)
            let cols = randomRange(&rng, maxCount: iteration % 10 == 1 ? 300 : 50)
            let depth = [0, 1, 2, 5, 17, 255, 256, 257, Int.random(in: 1...80, using: &rng), iteration % 10 == 2 ? 530 : 31]
                .randomElement(using: &rng)!
            let m = rows.upperBound, n = cols.upperBound
            let aData: [T] = randomArray(max(1, m * depth * 2), &rng)
            let bData: [T] = randomArray(max(1, depth * n * 2), &rng)
            // A: row-major, column-major, or a general stride (like the taps weights).
            let aLayout = Int.random(in: 0...2, using: &rng), bLayout = Int.random(in: 0...2, using: &rng)
            let accumulate = Bool.random(using: &rng)
            aData.withUnsafeBufferPointer { ap in bData.withUnsafeBufferPointer { bp in
                let a: StridedMatrix<T> = aLayout == 0 ? StridedMatrix(base: ap.baseAddress!, rowStride: depth, colStride: 1)
                    : aLayout == 1 ? StridedMatrix(base: ap.baseAddress!, rowStride: 1, colStride: m)
                    : StridedMatrix(base: ap.baseAddress!, rowStride: 2 * depth, colStride: 2)
                let b: StridedMatrix<T> = bLayout == 0 ? StridedMatrix(base: bp.baseAddress!, rowStride: n, colStride: 1)
                    : bLayout == 1 ? StridedMatrix(base: bp.baseAddress!, rowStride: 1, colStride: depth)
                    : StridedMatrix(base: bp.baseAddress!, rowStride: 2 * n, colStride: 2)
                check(a, b, rows: rows, cols: cols, depth: depth, accumulate: accumulate, &rng, "strided \(T.self) A\(aLayout) B\(bLayout)")
                // The same A pre-packed (rows from 0, so any rows range works; in place when
                // rows start at a multiple of 6, repacked otherwise).
                let packed = Gemm.packA(a, rows: 0..<m, depth: depth)
                check(packed, b, rows: rows, cols: cols, depth: depth, accumulate: accumulate, &rng, "packed \(T.self) B\(bLayout)")
                if depth > 1 {
                    check(packed, b, rows: rows, cols: cols, depth: depth - 1, accumulate: accumulate, &rng, "packed, shorter depth")
                }
            } }
        }
    }

    func testStridedFloat() { stridedCases(Float.self, seed: 1) }
    func testStridedDouble() { stridedCases(Double.self, seed: 2) }

    /// Every build of the micro-kernels this CPU can run (the default run above uses the
    /// selected one), forced in turn: baseline, AVX2 + FMA, AVX-512.
    func testEveryKernelTier() {
        XCTAssertEqual(KernelTier.available.last, CPUFeatures.bestTier)
        for tier in KernelTier.available {
            withTier(tier) {
                XCTAssertEqual(KernelTable.active.tier, tier)
                stridedCases(Float.self, seed: 11 + 10 * UInt64(tier.rawValue))
                stridedCases(Double.self, seed: 12 + 10 * UInt64(tier.rawValue))
                unfoldedCases(Float.self, seed: 13 + 10 * UInt64(tier.rawValue))
                reproducibility(Float.self)
                reproducibility(Double.self)
            }
        }
    }

    /// The fused builds (AVX2 + FMA and AVX-512: different tiles and vector widths, the same
    /// fused multiply-add per element in the same order) give identical bits; every row
    /// count 1...13 of the wide tiles and edge columns included.
    func testFusedTiersAgreeBitwise() {
        let fused = KernelTier.available.filter { $0 >= .avx2 }
        guard fused.count > 1 else { return }
        func compare<T: ConvScalar>(_: T.Type, seed: UInt64) {
            var rng = SplitMix64(seed: seed)
            for m in [1, 5, 6, 7, 11, 12, 13, 24, 29, 64, 130] {
                let n = [1, 7, 8, 9, 16, 17, 40, 333].randomElement(using: &rng)!
                let depth = [1, 3, 64, 300, 577].randomElement(using: &rng)!
                let a: [T] = randomArray(m * depth, &rng), b: [T] = randomArray(depth * n, &rng), c0: [T] = randomArray(m * n, &rng)
                let accumulate = Bool.random(using: &rng)
                var results: [[T]] = []
                for tier in fused {
                    var c = c0
                    withTier(tier) {
                        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                            let am = StridedMatrix(base: ap.baseAddress!, rowStride: depth, colStride: 1)
                            let bm = StridedMatrix(base: bp.baseAddress!, rowStride: n, colStride: 1)
                            Gemm.multiply(am, bm, rows: 0..<m, cols: 0..<n, depth: depth, c: cp.baseAddress!, ldc: n, accumulate: accumulate)
                        } } }
                    }
                    results.append(c)
                }
                for (tier, r) in zip(fused, results).dropFirst() {
                    XCTAssertEqual(r, results[0], "\(T.self) \(tier) vs \(fused[0]): m \(m) n \(n) depth \(depth)")
                }
            }
        }
        compare(Float.self, seed: 21)
        compare(Double.self, seed: 22)
    }

    /// The AVX-512 wide tiles (12 x 32 Floats / 12 x 16 Doubles over two B panels, 12 x 16 /
    /// 12 x 8 over one, narrow and partial edge panels) against the AVX2 build's 6 x 16 / 6 x 8
    /// tiles: bitwise the same, and within the dot-product bound of the definition; every
    /// row count 1...25 (1...12 of a tile, a leftover 6-row panel, a second tile), every
    /// column count 1...34 and some wider (two-panel tiles, then one panel, then an edge),
    /// depths up to the depth block plus one (kc + 1: C stored and reloaded), loadC both. B is
    /// a row-major matrix, so on AVX-512 its full panels are read in place
    /// (`sgemmBlockRowMajorB`) and an edge panel is packed.
    func testWideTileEdgesBitwise() {
        func run<T: ConvScalar>(_: T.Type, seed: UInt64) {
            var rng = SplitMix64(seed: seed)
            let kc = KernelTable.avx512.blocking.kc(T.self)
            for m in 1...25 {
                for n in Array(1...34) + [48, 49, 65, 97] {
                    let depth = [1, 2, 7, 33, 33, kc + 1].randomElement(using: &rng)!
                    let accumulate = Bool.random(using: &rng)
                    let a: [T] = randomArray(m * depth, &rng), b: [T] = randomArray(depth * n, &rng), c0: [T] = randomArray(m * n, &rng)
                    var results: [[T]] = []
                    for tier in [KernelTier.avx2, .avx512] where tier <= CPUFeatures.bestTier {
                        var c = c0
                        withTier(tier) { multiplyRowMajor(a, b, &c, m: m, n: n, depth: depth, accumulate: accumulate) }
                        results.append(c)
                    }
                    guard let last = results.last else { return }
                    if results.count == 2 {
                        let same = results[0].withUnsafeBytes { r0 in results[1].withUnsafeBytes { r1 in r0.elementsEqual(r1) } }
                        XCTAssertTrue(same, "\(T.self) m \(m) n \(n) depth \(depth) accumulate \(accumulate): AVX-512 differs from AVX2")
                    }
                    var bad = 0
                    let eps = T.self == Float.self ? 2e-6 : 1e-14
                    for i in 0..<m {
                        for j in 0..<n {
                            var acc = accumulate ? Double(c0[i * n + j]) : 0, mag = abs(acc)
                            for p in 0..<depth { let v = Double(a[i * depth + p]) * Double(b[p * n + j]); acc += v; mag += abs(v) }
                            if abs(Double(last[i * n + j]) - acc) > eps * (mag + 1) * 4 { bad += 1 }
                        }
                    }
                    XCTAssertEqual(bad, 0, "\(T.self) m \(m) n \(n) depth \(depth) accumulate \(accumulate) against the definition")
                }
            }
        }
        run(Float.self, seed: 41)
        run(Double.self, seed: 42)
    }

    func testWideBlocks() {
        // n beyond one column block (1024 Floats / 512 Doubles), m beyond one row block.
        var rng = SplitMix64(seed: 3)
        let m = 127, n = 1100, depth = 9
        let a: [Float] = randomArray(m * depth, &rng), b: [Float] = randomArray(depth * n, &rng)
        let ad = a.map(Double.init), bd = b.map(Double.init)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
            check(StridedMatrix(base: ap.baseAddress!, rowStride: depth, colStride: 1), StridedMatrix(base: bp.baseAddress!, rowStride: n, colStride: 1),
                  rows: 0..<m, cols: 3..<n, depth: depth, accumulate: true, &rng, "wide float")
        } }
        ad.withUnsafeBufferPointer { ap in bd.withUnsafeBufferPointer { bp in
            check(StridedMatrix(base: ap.baseAddress!, rowStride: depth, colStride: 1), StridedMatrix(base: bp.baseAddress!, rowStride: n, colStride: 1),
                  rows: 0..<m, cols: 0..<n, depth: depth, accumulate: false, &rng, "wide double")
        } }
    }

    /// Each packing routine against `element`, including zero padding of the last panel.
    func packingCases<T: ConvScalar>(_: T.Type, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let nr = Gemm.nr(T.self)
        func verifyB<B: GemmOperand>(_ b: B, depth: Range<Int>, cols: Range<Int>, _ label: String) where B.Scalar == T {
            let panels = (cols.count + nr - 1) / nr
            var buf = [T](repeating: .nan, count: max(1, panels * nr * depth.count))
            buf.withUnsafeMutableBufferPointer { b.packB(into: $0.baseAddress!, depth: depth, cols: cols, nr: nr) }
            var bad = 0
            for q in 0..<panels { for p in 0..<depth.count { for jj in 0..<nr {
                let j = cols.lowerBound + q * nr + jj
                let want: T = j < cols.upperBound ? b.element(depth.lowerBound + p, j) : 0
                if buf[q * nr * depth.count + p * nr + jj] != want { bad += 1 }
            } } }
            XCTAssertEqual(bad, 0, "\(label) packB depth \(depth) cols \(cols)")
        }
        func verifyA<A: GemmOperand>(_ a: A, rows: Range<Int>, depth: Range<Int>, _ label: String) where A.Scalar == T {
            let panels = (rows.count + 5) / 6
            var buf = [T](repeating: .nan, count: max(1, panels * 6 * depth.count))
            buf.withUnsafeMutableBufferPointer { a.packA(into: $0.baseAddress!, rows: rows, depth: depth) }
            var bad = 0
            for q in 0..<panels { for p in 0..<depth.count { for ii in 0..<6 {
                let i = rows.lowerBound + q * 6 + ii
                let want: T = i < rows.upperBound ? a.element(i, depth.lowerBound + p) : 0
                if buf[q * 6 * depth.count + p * 6 + ii] != want { bad += 1 }
            } } }
            XCTAssertEqual(bad, 0, "\(label) packA rows \(rows) depth \(depth)")
        }
        for _ in 0..<80 {
            let s = randomShape(&rng, maxChannels: 6, maxSize: 23)
            let x: [T] = randomArray(s.inputCount, &rng)
            x.withUnsafeBufferPointer { xp in
                let g = Int.random(in: 0..<s.groups, using: &rng)
                let u = UnfoldedInput(x: xp.baseAddress! + g * s.inChannelsPerGroup * s.inPixels, shape: s)
                let k = s.patchSize, pixels = s.outPixels
                let d0 = Int.random(in: 0...k, using: &rng), d1 = Int.random(in: d0...k, using: &rng)
                let c0 = Int.random(in: 0...pixels, using: &rng), c1 = Int.random(in: c0...pixels, using: &rng)
                verifyB(u, depth: d0..<d1, cols: c0..<c1, "UnfoldedInput \(s)")
                verifyB(u, depth: 0..<k, cols: 0..<pixels, "UnfoldedInput (all) \(s)")
                verifyB(UnfoldedInputTransposed(unfolded: u), depth: c0..<c1, cols: d0..<d1, "UnfoldedInputTransposed \(s)")
                verifyB(UnfoldedInputTransposed(unfolded: u), depth: 0..<pixels, cols: 0..<k, "UnfoldedInputTransposed (all) \(s)")
                let tap = Int.random(in: 0..<s.kernelTaps, using: &rng), cig = s.inChannelsPerGroup
                let e0 = Int.random(in: 0...cig, using: &rng)
                verifyB(TapsConvolution.ShiftedInput(unfolded: u, tap: tap), depth: e0..<cig, cols: c0..<c1, "ShiftedInput \(s)")
            }
        }
        for _ in 0..<40 {
            let m = Int.random(in: 1...20, using: &rng), k = Int.random(in: 1...20, using: &rng)
            let data: [T] = randomArray(m * k * 2, &rng)
            data.withUnsafeBufferPointer { dp in
                let base = dp.baseAddress!
                let r0 = Int.random(in: 0...m, using: &rng), r1 = Int.random(in: r0...m, using: &rng)
                let k0 = Int.random(in: 0...k, using: &rng), k1 = Int.random(in: k0...k, using: &rng)
                for (label, mat) in [("row-major", StridedMatrix(base: base, rowStride: k, colStride: 1)),
                                     ("column-major", StridedMatrix(base: base, rowStride: 1, colStride: m)),
                                     ("strided", StridedMatrix(base: base, rowStride: 2 * k, colStride: 2))] {
                    verifyA(mat, rows: r0..<r1, depth: k0..<k1, "A \(label)")
                    // As B: (depth x cols) = (m x k) here.
                    verifyB(mat, depth: r0..<r1, cols: k0..<k1, "B \(label)")
                    let packed = Gemm.packA(mat, rows: 0..<m, depth: k)
                    verifyA(packed, rows: r0..<r1, depth: k0..<k1, "A packed \(label)")
                }
            }
        }
    }

    func testPackingFloat() { packingCases(Float.self, seed: 4) }
    func testPackingDouble() { packingCases(Double.self, seed: 5) }

    /// GEMMs with the convolution operands, as the kernels use them (all groups).
    func unfoldedCases<T: ConvScalar>(_: T.Type, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<40 {
            let s = randomShape(&rng, maxChannels: 8, maxSize: 20)
            let x: [T] = randomArray(s.inputCount, &rng), w: [T] = randomArray(s.weightCount, &rng)
            let dy: [T] = randomArray(s.outputCount, &rng)
            let cog = s.outChannelsPerGroup, cig = s.inChannelsPerGroup, k = s.patchSize, pixels = s.outPixels
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in dy.withUnsafeBufferPointer { dyp in
                for g in 0..<s.groups {
                    let n = Int.random(in: 0..<s.batch, using: &rng)
                    let u = UnfoldedInput(x: xp.baseAddress! + (n * s.inChannels + g * cig) * s.inPixels, shape: s)
                    let wm = StridedMatrix(base: wp.baseAddress! + g * cog * k, rowStride: k, colStride: 1)
                    let c0 = Int.random(in: 0...pixels, using: &rng)
                    let acc = Bool.random(using: &rng)
                    check(wm, u, rows: 0..<cog, cols: c0..<pixels, depth: k, accumulate: acc, &rng, "W·unfold \(s)")
                    check(Gemm.packA(wm, rows: 0..<cog, depth: k), u, rows: 0..<cog, cols: 0..<pixels, depth: k,
                          accumulate: acc, &rng, "packed W·unfold \(s)")
                    let tap = Int.random(in: 0..<s.kernelTaps, using: &rng)
                    check(StridedMatrix(base: wp.baseAddress! + g * cog * k + tap, rowStride: k, colStride: s.kernelTaps),
                          TapsConvolution.ShiftedInput(unfolded: u, tap: tap), rows: 0..<cog, cols: 0..<pixels, depth: cig,
                          accumulate: acc, &rng, "taps \(s)")
                    let dym = StridedMatrix(base: dyp.baseAddress! + (n * s.outChannels + g * cog) * pixels, rowStride: pixels, colStride: 1)
                    check(dym, UnfoldedInputTransposed(unfolded: u), rows: 0..<cog, cols: 0..<k, depth: pixels,
                          accumulate: acc, &rng, "dy·unfold^T \(s)")
                    // The scatter adjoint's operands: W^T (column-major view) times dy.
                    check(StridedMatrix(base: wp.baseAddress! + g * cog * k, rowStride: 1, colStride: k), dym,
                          rows: 0..<k, cols: 0..<pixels, depth: cog, accumulate: acc, &rng, "W^T·dy \(s)")
                }
            } } }
        }
    }

    func testUnfoldedFloat() { unfoldedCases(Float.self, seed: 6) }
    func testUnfoldedDouble() { unfoldedCases(Double.self, seed: 7) }

    /// The same call twice gives the same bits, and so does any tiling of the same output
    /// (the per-element reduction order does not depend on blocks or ranges).
    func reproducibility<T: ConvScalar>(_: T.Type) {
        var rng = SplitMix64(seed: 8)
        let m = 29, n = 77, depth = 600
        let a: [T] = randomArray(m * depth, &rng), b: [T] = randomArray(depth * n, &rng), c0: [T] = randomArray(m * n, &rng)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
            let am = StridedMatrix(base: ap.baseAddress!, rowStride: depth, colStride: 1)
            let bm = StridedMatrix(base: bp.baseAddress!, rowStride: n, colStride: 1)
            let packed = Gemm.packA(am, rows: 0..<m, depth: depth)
            for accumulate in [false, true] {
                var whole = c0, again = c0, tiled = c0, tiledPacked = c0
                whole.withUnsafeMutableBufferPointer { Gemm.multiply(am, bm, rows: 0..<m, cols: 0..<n, depth: depth, c: $0.baseAddress!, ldc: n, accumulate: accumulate) }
                again.withUnsafeMutableBufferPointer { Gemm.multiply(am, bm, rows: 0..<m, cols: 0..<n, depth: depth, c: $0.baseAddress!, ldc: n, accumulate: accumulate) }
                XCTAssertEqual(whole, again)
                for (r0, r1) in [(0, 5), (5, 12), (12, 29)] {
                    for (j0, j1) in [(0, 3), (3, 40), (40, 77)] {
                        tiled.withUnsafeMutableBufferPointer {
                            Gemm.multiply(am, bm, rows: r0..<r1, cols: j0..<j1, depth: depth, c: $0.baseAddress! + r0 * n + j0, ldc: n, accumulate: accumulate)
                        }
                        tiledPacked.withUnsafeMutableBufferPointer {
                            Gemm.multiply(packed, bm, rows: r0..<r1, cols: j0..<j1, depth: depth, c: $0.baseAddress! + r0 * n + j0, ldc: n, accumulate: accumulate)
                        }
                    }
                }
                XCTAssertEqual(whole, tiled, "tiling changed the bits (\(T.self), accumulate \(accumulate))")
                XCTAssertEqual(whole, tiledPacked, "pre-packed A changed the bits (\(T.self), accumulate \(accumulate))")
            }
        } }
    }

    /// Narrow edge panels (1...4 columns left: `narrowBlockF`, vectorised over rows) give the
    /// same bits as the same columns inside a full 16-wide panel, for every tier, every row
    /// count of a 4-panel group and both depth parities (the last k is read separately).
    func testNarrowEdgeColumnsMatchFullPanels() {
        var rng = SplitMix64(seed: 31)
        for tier in KernelTier.available {
            withTier(tier) {
                for m in [1, 5, 6, 7, 12, 13, 18, 19, 23, 24, 25, 31, 49] {
                    for r in 1...5 {
                        let n = 32 + r
                        let depth = [1, 2, 7, 64, 333, 641].randomElement(using: &rng)!
                        let a: [Float] = randomArray(m * depth, &rng), b: [Float] = randomArray(depth * n, &rng)
                        let c0: [Float] = randomArray(m * n, &rng)
                        let accumulate = Bool.random(using: &rng)
                        var whole = c0, shifted = c0
                        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
                            let am = StridedMatrix(base: ap.baseAddress!, rowStride: depth, colStride: 1)
                            let bm = StridedMatrix(base: bp.baseAddress!, rowStride: n, colStride: 1)
                            // cols 0..<n: the last r columns are a narrow edge panel.
                            whole.withUnsafeMutableBufferPointer {
                                Gemm.multiply(am, bm, rows: 0..<m, cols: 0..<n, depth: depth, c: $0.baseAddress!, ldc: n, accumulate: accumulate)
                            }
                            // cols n-16..<n: the same columns at the end of one full panel.
                            shifted.withUnsafeMutableBufferPointer {
                                Gemm.multiply(am, bm, rows: 0..<m, cols: (n - 16)..<n, depth: depth,
                                              c: $0.baseAddress! + (n - 16), ldc: n, accumulate: accumulate)
                            }
                        } }
                        var bad = 0
                        for i in 0..<m { for j in (n - r)..<n where whole[i * n + j].bitPattern != shifted[i * n + j].bitPattern { bad += 1 } }
                        XCTAssertEqual(bad, 0, "\(tier): m \(m) edge columns \(r) depth \(depth) accumulate \(accumulate)")
                    }
                }
            }
        }
    }

    /// The unfolded input's wide-image packing paths against `element`, on every tier: whole
    /// 64-byte rows (unit stride), stride-2 rows including the right-edge panel read from
    /// one element earlier (`odd`), and interior panels that wrap to the next output row
    /// (segments), across images (batch folded into the columns).
    func testUnfoldedWidePackingPaths() {
        func run<T: ConvScalar>(_: T.Type, seed: UInt64) {
            var rng = SplitMix64(seed: seed)
            let nr = Gemm.nr(T.self)
            for (h, w, k, stride, pad) in [(9, 39, 7, 2, 0), (9, 40, 7, 2, 0), (11, 41, 7, 2, 0), (9, 45, 3, 2, 1),
                                           (7, 58, 3, 1, 0), (5, 20, 3, 1, 0), (6, 9, 3, 1, 0), (7, 36, 3, 1, 1)] {
                var r = ConvRequest(op: .conv, inputShape: [2, 2, h, w], weightShape: [3, 2, k, k])
                r.stride = [stride, stride]
                r.padding = .explicit(top: pad, bottom: pad, left: pad, right: pad)
                guard let s = try? ConvGeometry(validating: r).shape else { XCTFail("shape"); continue }
                let x: [T] = randomArray(s.inputCount, &rng)
                x.withUnsafeBufferPointer { xp in
                    let u = UnfoldedInput(x: xp.baseAddress!, shape: s, imageStride: s.inChannels * s.inPixels)
                    let kk = s.patchSize, columns = 2 * s.outPixels
                    for c0 in [0, 1, 2, 3, 5, 8, 16, s.outWidth - 1, s.outPixels - 3] where c0 >= 0 && c0 < columns {
                        let cols = c0..<min(columns, c0 + 3 * nr + 5)
                        let panels = (cols.count + nr - 1) / nr
                        var buf = [T](repeating: .nan, count: panels * nr * kk)
                        buf.withUnsafeMutableBufferPointer { u.packB(into: $0.baseAddress!, depth: 0..<kk, cols: cols, nr: nr) }
                        var bad = 0
                        for q in 0..<panels { for p in 0..<kk { for jj in 0..<nr {
                            let j = cols.lowerBound + q * nr + jj
                            let want: T = j < cols.upperBound ? u.element(p, j) : 0
                            if buf[q * nr * kk + p * nr + jj] != want { bad += 1 }
                        } } }
                        XCTAssertEqual(bad, 0, "\(T.self) \(KernelTable.active.tier) \(s) cols \(cols)")
                    }
                }
            }
        }
        for tier in KernelTier.available {
            withTier(tier) {
                run(Float.self, seed: 41)
                run(Double.self, seed: 42)
            }
        }
    }

    func testReproducibleFloat() { reproducibility(Float.self) }
    func testReproducibleDouble() { reproducibility(Double.self) }

    /// Im2col and taps convolutions give the same bits for every thread count.
    func testConvolutionThreadCountDeterminism() throws {
        var rng = SplitMix64(seed: 9)
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        for _ in 0..<6 {
            let s = randomShape(&rng, maxChannels: 12, maxSize: 30)
            let x: [Float] = randomArray(s.inputCount, &rng), w: [Float] = randomArray(s.weightCount, &rng)
            var results: [[Float]] = []
            for threads in [1, 2, 3, 5] {
                try ThreadPool.shared.setNumThreads(threads)
                var y = [Float](repeating: 0, count: s.outputCount)
                x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in y.withUnsafeMutableBufferPointer { yp in
                    Im2colConvolution.forward(s, x: xp.baseAddress!, w: wp.baseAddress!, bias: nil, y: yp.baseAddress!)
                } } }
                results.append(y)
            }
            for r in results.dropFirst() { XCTAssertEqual(r, results[0], "\(s)") }
        }
    }

    /// Speed (prints GFLOP/s). Only with SWIFTCONV_BENCH=1, in a release build with
    /// cross-module optimization (the harness is outside the library: without it, its calls
    /// of the engine's internal generics run unspecialised, up to 3x slower):
    /// SWIFTCONV_BENCH=1 swift test -c release -Xswiftc -enable-testing -Xswiftc -cross-module-optimization
    ///     --scratch-path .build-bench --filter GemmTests.testBenchmark
    func testBenchmark() throws {
        guard ProcessInfo.processInfo.environment["SWIFTCONV_BENCH"] == "1" else { throw XCTSkip("set SWIFTCONV_BENCH=1") }
        // Every fused build this CPU has, best first (the baseline alone when there is none).
        let fused = KernelTier.available.filter { $0 >= .avx2 }
        for tier in fused.isEmpty ? [.baseline] : fused.reversed() {
            withTier(tier) {
                print("micro-kernels: \(tier)")
                for r in GemmBenchmark.run() { print(r) }
            }
        }
    }

    /// The network bench's dense layers at one thread, weights packed per call and prepared,
    /// under the active tier's blocking and the candidates listed here (edit to compare),
    /// timed interleaved. SWIFTCONV_BENCH=dense, built as for `testBenchmark`; the tier's FMA
    /// peak from `sh benchmarks/kernel_probe/run.sh` may be given as SWIFTCONV_PEAK (GFLOP/s).
    func testDenseLayersBenchmark() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["SWIFTCONV_BENCH"] == "dense" else { throw XCTSkip("set SWIFTCONV_BENCH=dense") }
        let b = KernelTable.active.blocking
        let candidates: [(String, KernelTable.Blocking)] = [
            ("kc 256", KernelTable.Blocking(kcFloat: 256, kcDouble: b.kcDouble, kcRowMajorB: b.kcRowMajorB, mc: b.mc, ncBytes: b.ncBytes, ncBytesPackingA: b.ncBytesPackingA, smallABytes: b.smallABytes,
                                            smallBBytes: b.smallBBytes, edgeTileElements: b.edgeTileElements)),
            ("smallA 1M", KernelTable.Blocking(kcFloat: b.kcFloat, kcDouble: b.kcDouble, kcRowMajorB: b.kcRowMajorB, mc: b.mc, ncBytes: b.ncBytes, ncBytesPackingA: b.ncBytesPackingA, smallABytes: 1 << 20,
                                               smallBBytes: b.smallBBytes, edgeTileElements: b.edgeTileElements)),
        ]
        print("tier \(KernelTable.active.tier)")
        // Another build's block function can be compared the same way: e.g. a copy of an older
        // MicroKernels.swift added to the kernel targets with its entry point renamed, passed as
        // `tables: [("old", GemmBenchmark.table(KernelTable.active, blocking: b, sgemmBlock: ...))]`.
        let packB = GemmBenchmark.table(KernelTable.active, blocking: b, packB: true)
        for line in GemmBenchmark.dense(variants: env["SWIFTCONV_CANDIDATES"] == "1" ? candidates : [], tables: [("B packed", packB)],
                                        peak: env["SWIFTCONV_PEAK"].flatMap(Double.init), rounds: 11) { print(line) }
    }
}

/// Choosing the kernel table: SWIFTCONV_KERNEL_TIER's values, clamping and unknown values;
/// each tier's table holds that tier's entry points and the GEMM's blocking.
final class KernelTableTests: XCTestCase {
    func testRequestedTier() {
        for best in KernelTier.allCases {
            XCTAssertEqual(KernelTable.requestedTier(nil, best: best), best)
            XCTAssertEqual(KernelTable.requestedTier("", best: best), best)
            XCTAssertEqual(KernelTable.requestedTier("sse9", best: best), best)
            XCTAssertEqual(KernelTable.requestedTier("AVX-512", best: best), best)
            XCTAssertEqual(KernelTable.requestedTier("baseline", best: best), .baseline)
            XCTAssertEqual(KernelTable.requestedTier("avx2", best: best), min(.avx2, best))
            XCTAssertEqual(KernelTable.requestedTier("AVX2", best: best), min(.avx2, best))
            XCTAssertEqual(KernelTable.requestedTier("avx512", best: best), best)
        }
        // The table in use was chosen from this CPU and the environment of this process.
        XCTAssertLessThanOrEqual(KernelTable.selectedTier, CPUFeatures.bestTier)
        XCTAssertEqual(KernelTable.selectedTier, KernelTable.requestedTier(
            ProcessInfo.processInfo.environment["SWIFTCONV_KERNEL_TIER"], best: CPUFeatures.bestTier))
    }

    func testTables() {
        for tier in KernelTier.allCases {
            let table = KernelTable(tier)
            XCTAssertEqual(table.tier, tier)
            XCTAssertEqual(table.blocking.edgeTileElements, KernelTable.mr * KernelTable.nrFloat)
            XCTAssertEqual(table.blocking.kc(Float.self), table.blocking.kcFloat)
            XCTAssertEqual(table.blocking.kc(Double.self), table.blocking.kcDouble)
            // The direct register transpose exists on the fused tiers only.
            XCTAssertEqual(table.transposePointers16F32 == nil, tier == .baseline)
        }
        XCTAssertEqual(Gemm.nr(Float.self) * MemoryLayout<Float>.stride, 64)
        XCTAssertEqual(Gemm.nr(Double.self) * MemoryLayout<Double>.stride, 64)
        XCTAssertEqual(Float.kind, .float32)
        XCTAssertEqual(Double.kind, .float64)
    }
}

/// Buffers sized by user input fail softly.
final class AllocationFailureTests: XCTestCase {
    func testImpossibleSizesFailWithoutTrapping() {
        XCTAssertNil(AlignedMemory.allocate(bytes: Int.max - 10))
        XCTAssertThrowsError(try Workspace<Double>(count: Int.max / 4, for: "a test").count)
        XCTAssertNil(PackedMatrix(StridedMatrix<Float>(base: UnsafePointer(bitPattern: 64)!, rowStride: 1, colStride: 1),
                                  rows: 0..<(1 << 40), depth: 1 << 30))
        let p = AlignedMemory.allocate(bytes: 1000)
        XCTAssertNotNil(p)
        XCTAssertEqual(Int(bitPattern: p!) % 64, 0)
        AlignedMemory.release(p!)
    }
}

// MARK: - Test helpers around the engine (not in the shipped library)

/// Runs `body` with the kernel table of `tier` (`KernelTable.active` assigned, then
/// restored); does nothing when this CPU cannot run that build.
func withTier(_ tier: KernelTier, _ body: () throws -> Void) rethrows {
    guard tier <= CPUFeatures.bestTier else { return }
    let saved = KernelTable.active
    KernelTable.active = KernelTable(tier)
    defer { KernelTable.active = saved }
    try body()
}

/// C (m x n) (+)= A (m x depth) B (depth x n), all row-major arrays, through `Gemm.multiply`
/// on the active kernel table.
func multiplyRowMajor<T: ConvScalar>(_ a: [T], _ b: [T], _ c: inout [T], m: Int, n: Int, depth: Int, accumulate: Bool) {
    a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
        Gemm.multiply(StridedMatrix(base: ap.baseAddress!, rowStride: depth, colStride: 1),
                      StridedMatrix(base: bp.baseAddress!, rowStride: n, colStride: 1),
                      rows: 0..<m, cols: 0..<n, depth: depth, c: cp.baseAddress!, ldc: n, accumulate: accumulate)
    } } }
}

extension Gemm {
    /// `tryPackA` that traps when the memory cannot be had: for tests and benchmarks (the
    /// kernels use `tryPackA` and fall back to the unpacked operand).
    static func packA<A: GemmOperand>(_ a: A, rows: Range<Int>, depth: Int) -> PackedMatrix<A.Scalar> {
        PackedMatrix(allocating: a, rows: rows, depth: depth)
    }
}

extension PackedMatrix {
    /// The packed matrix, trapping when its memory cannot be had (tests only).
    convenience init<A: GemmOperand>(allocating a: A, rows: Range<Int>, depth: Int) where A.Scalar == Scalar {
        self.init(a, rows: rows, depth: depth)!
    }
}
