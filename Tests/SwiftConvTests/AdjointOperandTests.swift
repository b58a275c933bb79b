@testable import SwiftConv
import XCTest

/// The transposed convolution's GEMM operands and paths: the flipped kernel read in place
/// (`FlippedKernel`) and packed ahead (`PackedWeights`, adjoint layout), the scatter GEMM run
/// transposed for few columns, the tiling col2im, and the selectors' rules for them.
final class AdjointOperandTests: XCTestCase {
    /// A random planar shape with groups, every kernel size 1-4 and optionally stride 1.
    func randomAdjointShape(_ rng: inout SplitMix64, unitStride: Bool) -> ConvShape {
        while true {
            var s = randomShape(&rng, maxChannels: 9, maxSize: 12)
            if unitStride {
                s.strideH = 1; s.strideW = 1
                s.outHeight = s.inHeight + 2 * s.padTop - s.dilationH * (s.kernelHeight - 1)
                s.outWidth = s.inWidth + 2 * s.padLeft - s.dilationW * (s.kernelWidth - 1)
                if s.outHeight < 1 || s.outWidth < 1 { continue }
            }
            return s
        }
    }

    /// FlippedKernel packs exactly the panels of the rearranged copy, for any row range and
    /// any depth range (also starting inside an output channel's taps). `shape`: the
    /// shapes to try (by default random ones with kernels of 1-4 per side).
    func flippedPacking<T: ConvScalar>(_: T.Type, seed: UInt64, shape: ((inout SplitMix64) -> ConvShape)? = nil) {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<80 {
            let s = shape?(&rng) ?? randomAdjointShape(&rng, unitStride: Bool.random(using: &rng))
            let w: [T] = randomArray(s.weightCount, &rng)
            let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup, taps = s.kernelTaps, depth = cog * taps
            var wc = [T](repeating: .nan, count: s.weightCount)
            w.withUnsafeBufferPointer { wp in wc.withUnsafeMutableBufferPointer { cp in
                UpsampleAdjoint.flippedKernel(s, w: wp.baseAddress!, into: cp.baseAddress!)
            } }
            for g in 0..<s.groups {
                let r0 = Int.random(in: 0..<cig, using: &rng), r1 = Int.random(in: (r0 + 1)...cig, using: &rng)
                let d0 = Int.random(in: 0..<depth, using: &rng), d1 = Int.random(in: (d0 + 1)...depth, using: &rng)
                let count = (r1 - r0 + Gemm.mr - 1) / Gemm.mr * Gemm.mr * (d1 - d0)
                var a = [T](repeating: .nan, count: count), b = [T](repeating: .nan, count: count)
                w.withUnsafeBufferPointer { wp in wc.withUnsafeBufferPointer { cp in
                    a.withUnsafeMutableBufferPointer { ap in
                        FlippedKernel(base: wp.baseAddress! + g * cog * cig * taps, cig: cig, taps: taps)
                            .packA(into: ap.baseAddress!, rows: r0..<r1, depth: d0..<d1)
                    }
                    b.withUnsafeMutableBufferPointer { bp in
                        StridedMatrix(base: cp.baseAddress! + g * cig * depth, rowStride: depth, colStride: 1)
                            .packA(into: bp.baseAddress!, rows: r0..<r1, depth: d0..<d1)
                    }
                    let op = FlippedKernel(base: wp.baseAddress! + g * cog * cig * taps, cig: cig, taps: taps)
                    for i in r0..<r1 { for d in d0..<d1 { XCTAssertEqual(op.element(i, d), cp[(g * cig + i) * depth + d]) } }
                } }
                XCTAssertEqual(a.rawBytes, b.rawBytes, "rows \(r0)..<\(r1) depth \(d0)..<\(d1) of \(s)")
            }
        }
    }

    func testFlippedPackingFloat() { flippedPacking(Float.self, seed: 71) }
    func testFlippedPackingDouble() { flippedPacking(Double.self, seed: 72) }

    /// The same for the tap counts whose whole output channels pack as straight-line moves
    /// (2x2, 3x3, 5x5) and a few others, with enough input channels for several full
    /// six-row panels and depth ranges spanning many whole channels.
    func testFlippedPackingWholeChannels() {
        let kernels = [(2, 2), (3, 3), (5, 5), (1, 3), (3, 2), (7, 7)]
        let shape = { (rng: inout SplitMix64) -> ConvShape in
            let (kh, kw) = kernels[Int.random(in: 0..<kernels.count, using: &rng)]
            let groups = Int.random(in: 1...2, using: &rng)
            let cig = Int.random(in: 6...20, using: &rng), cog = Int.random(in: 1...9, using: &rng)
            return ConvShape(batch: 1, groups: groups, inChannels: groups * cig, outChannels: groups * cog,
                             inHeight: kh + 2, inWidth: kw + 2, outHeight: 3, outWidth: 3, kernelHeight: kh, kernelWidth: kw)
        }
        flippedPacking(Float.self, seed: 73, shape: shape)
        flippedPacking(Double.self, seed: 74, shape: shape)
    }

    /// The upsample adjoint on the GEMM reading the flipped kernel in place, and with it packed
    /// ahead: against the reference, bit for bit the rearranged copy's result, and the same
    /// bits on 1 and 3 threads.
    func upsampleOperand<T: ConvScalar>(_: T.Type, tolerance: Double, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        for trial in 0..<40 {
            try ThreadPool.shared.setNumThreads(1)
            var s = randomAdjointShape(&rng, unitStride: trial % 2 == 0)
            s.batch = Int.random(in: 1...3, using: &rng)
            guard let c = UpsampleAdjoint.equivalentConvolution(s), UpsampleAdjoint.isAffordable(s) else { continue }
            let dy: [T] = randomArray(s.outputCount, &rng), w: [T] = randomArray(s.weightCount, &rng)
            let b: [T]? = Bool.random(using: &rng) ? randomArray(s.inChannels, &rng) : nil
            let ref = runAdjoint(.reference, s, dy, w, b)
            func run(packed: Bool) throws -> [T] {
                var dx = [T](repeating: .nan, count: s.inputCount)
                try dy.withUnsafeBufferPointer { yp in try w.withUnsafeBufferPointer { wp in try dx.withUnsafeMutableBufferPointer { xp in
                    let pw = packed ? try PackedWeights(shape: s, dtype: T.kind == .float32 ? .float32 : .float64,
                                                        weightShape: [s.outChannels, s.inChannelsPerGroup, s.kernelHeight, s.kernelWidth],
                                                        weight: UnsafeRawPointer(wp.baseAddress!), layout: .adjoint) : nil
                    XCTAssertNil(pw?.groups(T.self, for: .forward))
                    let groups = pw?.groups(T.self, for: .adjoint)
                    XCTAssertEqual(groups?.count ?? s.groups, s.groups)
                    if let b {
                        try b.withUnsafeBufferPointer { bp in
                            try UpsampleAdjoint.adjoint(s, dy: yp.baseAddress!, w: wp.baseAddress!, bias: bp.baseAddress!, dx: xp.baseAddress!,
                                                        forward: .im2col, packed: groups)
                        }
                    } else {
                        try UpsampleAdjoint.adjoint(s, dy: yp.baseAddress!, w: wp.baseAddress!, bias: nil, dx: xp.baseAddress!,
                                                    forward: .im2col, packed: groups)
                    }
                } } }
                return dx
            }
            let dx = try run(packed: false)
            XCTAssertLessThan(maxRelativeError(dx, ref), tolerance, "upsample on \(s)")
            // The rearranged copy through the plain im2col forward: the same bits.
            var wc = [T](repeating: .nan, count: s.weightCount)
            w.withUnsafeBufferPointer { wp in wc.withUnsafeMutableBufferPointer { cp in
                UpsampleAdjoint.flippedKernel(s, w: wp.baseAddress!, into: cp.baseAddress!)
            } }
            if s.strideH == 1 && s.strideW == 1 {
                XCTAssertEqual(dx.rawBytes, runForward(.im2col, c, dy, wc, b).rawBytes, "copy vs operand on \(s)")
            }
            XCTAssertEqual(try run(packed: true).rawBytes, dx.rawBytes, "packed ahead on \(s)")
            try ThreadPool.shared.setNumThreads(3)
            XCTAssertEqual(try run(packed: false).rawBytes, dx.rawBytes, "3 threads on \(s)")
            XCTAssertEqual(try run(packed: true).rawBytes, dx.rawBytes, "3 threads, packed, on \(s)")
        }
    }

    func testUpsampleOperandFloat() throws { try upsampleOperand(Float.self, tolerance: 1e-5, seed: 73) }
    func testUpsampleOperandDouble() throws { try upsampleOperand(Double.self, tolerance: 1e-13, seed: 74) }

    /// Scatter on few GEMM columns (the transposed GEMM) and on windows that tile x (one
    /// window per axis, kernel == stride): against the reference, and the same bits on 1, 2
    /// and 3 threads.
    func scatterSmall<T: ConvScalar>(_: T.Type, tolerance: Double, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        var swapped = 0, tiling = 0
        for trial in 0..<60 {
            try ThreadPool.shared.setNumThreads(1)
            let groups = [1, 1, 2, 3].randomElement(using: &rng)!
            let cig = Int.random(in: 1...7, using: &rng), cog = Int.random(in: 1...7, using: &rng)
            let kH = Int.random(in: 1...4, using: &rng), kW = Int.random(in: 1...4, using: &rng)
            var s = ConvShape(batch: Int.random(in: 1...4, using: &rng), groups: groups, inChannels: cig * groups,
                              outChannels: cog * groups, inHeight: kH, inWidth: kW, outHeight: 1, outWidth: 1,
                              kernelHeight: kH, kernelWidth: kW)
            if trial % 3 == 1 {
                // kernel == stride tiling on a small dy (unet-like), few or many columns.
                let oh = Int.random(in: 1...3, using: &rng), ow = Int.random(in: 1...3, using: &rng)
                s.strideH = kH; s.strideW = kW; s.outHeight = oh; s.outWidth = ow
                s.inHeight = oh * kH; s.inWidth = ow * kW
            } else if trial % 3 == 2 {
                // Padded and strided: not tiling, few columns.
                s.strideH = 2; s.strideW = 1; s.padTop = 1; s.padLeft = 1
                s.inHeight = kH + 1; s.inWidth = kW + 1
                s.outHeight = (s.inHeight + 2 - kH) / 2 + 1; s.outWidth = s.inWidth + 2 - kW + 1
            }
            if KernelSelector.scatterRoute(s, elementBytes: MemoryLayout<T>.stride) != .plain { swapped += 1 }
            if ScatterAdjoint.isTiling(s) { tiling += 1 }
            let dy: [T] = randomArray(s.outputCount, &rng), w: [T] = randomArray(s.weightCount, &rng)
            let b: [T]? = Bool.random(using: &rng) ? randomArray(s.inChannels, &rng) : nil
            let ref = runAdjoint(.reference, s, dy, w, b)
            let dx = runAdjoint(.scatter, s, dy, w, b)
            XCTAssertLessThan(maxRelativeError(dx, ref), tolerance, "scatter on \(s)")
            for threads in [2, 3] {
                try ThreadPool.shared.setNumThreads(threads)
                XCTAssertEqual(runAdjoint(.scatter, s, dy, w, b).rawBytes, dx.rawBytes, "\(threads) threads on \(s)")
            }
        }
        XCTAssertGreaterThan(swapped, 20)
        XCTAssertGreaterThan(tiling, 20)
    }

    func testScatterSmallFloat() throws { try scatterSmall(Float.self, tolerance: 1e-5, seed: 75) }
    func testScatterSmallDouble() throws { try scatterSmall(Double.self, tolerance: 1e-13, seed: 76) }

    /// "scatter" through a given GEMM route (`ScatterAdjoint.Route`).
    func runScatter(_ route: ScatterAdjoint.Route, _ s: ConvShape, _ dy: [Float], _ w: [Float], _ b: [Float]?,
                    panels: ScatterWeightPanels? = nil) -> [Float] {
        var dx = [Float](repeating: .nan, count: s.inputCount)
        dy.withUnsafeBufferPointer { yp in w.withUnsafeBufferPointer { wp in dx.withUnsafeMutableBufferPointer { xp in
            let bp = b?.withUnsafeBufferPointer { $0.baseAddress! }
            try! ConvKernels.adjoint(.scatter, s, dy: yp.baseAddress!, w: wp.baseAddress!, bias: bp, dx: xp.baseAddress!, scatterRoute: route,
                                     scatterPanels: panels)
        } } }
        return dx
    }

    /// col2im's tap-pair kernel (`addInterleavedTapRowsF32`) on every tier adds exactly what the
    /// scalar loop adds (the same bits), for rows of 0-40 pairs (vector bodies and masked
    /// tails), either tap's run cut at either end (the edge columns of a padded window), 1-3
    /// rows at once, and writes nothing else (the gaps between the rows keep their values).
    func testInterleavedTapRowsAddMatchesScalarOnEveryTier() {
        var rng = SplitMix64(seed: 81)
        for table in KernelTier.available.map({ KernelTable($0) }) {
            for count in 0...40 {
                for (cutA, cutB) in [(0, 0), (1, 0), (0, 1), (2, 1), (1, 3)] {
                    let rows = 1 + count % 3, srcStride = count + 2, dstStride = 2 * count + 5
                    let even = min(cutA, count)..<max(min(cutA, count), count - cutB)
                    let odd = min(cutB, count)..<max(min(cutB, count), count - cutA)
                    let a: [Float] = randomArray(rows * srcStride, &rng), b: [Float] = randomArray(rows * srcStride, &rng)
                    let start: [Float] = randomArray(rows * dstStride + 3, &rng)
                    var expected = start, got = start
                    for r in 0..<rows {
                        for u in even { expected[3 + r * dstStride + 2 * u] += a[r * srcStride + u] }
                        for u in odd { expected[4 + r * dstStride + 2 * u] += b[r * srcStride + u] }
                    }
                    got.withUnsafeMutableBufferPointer { d in a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
                        table.addInterleavedTapRowsF32(d.baseAddress! + 3, dstStride, ap.baseAddress!, bp.baseAddress!, srcStride,
                                                       rows, even.lowerBound, even.upperBound, odd.lowerBound, odd.upperBound)
                    } } }
                    XCTAssertEqual(got.rawBytes, expected.rawBytes, "\(table.tier), \(count) pairs, \(rows) rows, \(even) \(odd)")
                }
            }
        }
    }

    /// The transposed GEMM gives the plain one's bits: the same products summed in the same
    /// order (checked on a shape with more columns than `scatterSwapColumns`, cut into single
    /// images, each run through every route that takes it).
    func testSwappedScatterBitsMatchPlain() {
        var rng = SplitMix64(seed: 77)
        let s = ConvShape(batch: 3, groups: 2, inChannels: 10, outChannels: 6, inHeight: 4, inWidth: 4,
                          outHeight: 1, outWidth: 1, kernelHeight: 4, kernelWidth: 4)
        var big = s
        big.batch = 3 * (KernelSelector.scatterSwapColumns + 1)
        XCTAssertEqual(KernelSelector.scatterRoute(s, elementBytes: 8), .inPlaceRows)
        XCTAssertEqual(KernelSelector.scatterRoute(big, elementBytes: 8),
                       big.batch <= KernelSelector.inPlaceRowsImages ? .inPlaceRows : .inPlace)
        let dy: [Float] = randomArray(big.outputCount, &rng), w: [Float] = randomArray(s.weightCount, &rng)
        let plain = runScatter(.plain, big, dy, w, nil)
        for n in stride(from: 0, to: big.batch, by: s.batch) {
            for route in [ScatterAdjoint.Route.plain, .swapped, .inPlace, .inPlaceRows, .pixelVectors] {
                let part = runScatter(route, s, Array(dy[(n * s.outChannels)..<((n + s.batch) * s.outChannels)]), w, nil)
                XCTAssertEqual(part.rawBytes, plain[(n * s.inputCount / s.batch)..<((n + s.batch) * s.inputCount / s.batch)].withUnsafeBytes { [UInt8]($0) },
                               "\(route)")
            }
        }
    }

    /// Every route of "scatter"'s GEMM (`ScatterAdjoint.Route`: transposed, the columns as
    /// vector lanes, those on the prepared panels) gives the plain GEMM's bits, with and
    /// without bias, on 1-3 threads; plain is within the reference's error. The shapes cover
    /// 1, 2 and 4 vectors of lanes (9, 20, 40 and 64 columns; 40 runs on 4 vectors with zero
    /// lanes), tiling (k2 s2) and col2im windows, groups, task widths that are not whole tiles
    /// (3x3 taps), ones too wide for the pixel vectors (the plain route's shared dy panels
    /// over two depth blocks, two column tiles and groups). The planner picks the pixel-vector
    /// route for Float up to 64 columns on a tier with it.
    func testScatterRoutesBitsMatchPlain() throws {
        var rng = SplitMix64(seed: 79)
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        func strided(_ n: Int, _ g: Int, _ cx: Int, _ cy: Int, _ oh: Int, _ ow: Int, _ k: Int, _ st: Int, _ p: Int) -> ConvShape {
            ConvShape(batch: n, groups: g, inChannels: cx, outChannels: cy, inHeight: (oh - 1) * st + k - 2 * p,
                      inWidth: (ow - 1) * st + k - 2 * p, outHeight: oh, outWidth: ow, kernelHeight: k, kernelWidth: k,
                      strideH: st, strideW: st, padTop: p, padLeft: p)
        }
        let shapes = [
            strided(1, 1, 24, 40, 4, 4, 4, 2, 1),    // dcgan-like, 16 columns
            strided(1, 2, 10, 14, 3, 3, 3, 2, 1),    // 9 columns, groups, 3x3 taps
            strided(1, 1, 20, 33, 4, 5, 4, 2, 1),    // 20 columns: 2 vectors
            strided(2, 1, 12, 17, 4, 5, 4, 2, 1),    // 40 columns: 4 vectors, 24 zero lanes
            strided(1, 1, 16, 48, 8, 8, 4, 2, 1),    // 64 columns
            strided(1, 1, 40, 24, 7, 7, 2, 2, 0),    // unet-like k2 s2 (tiling), 49 columns
            strided(2, 1, 18, 20, 6, 6, 2, 2, 0),    // 72 columns: too many for the pixel vectors
            // Plain with dy's B panels shared by the tasks (`ScatterAdjoint.sharedPanels`):
            strided(1, 1, 8, 330, 9, 9, 2, 2, 0),    // two depth blocks (330 > kc), 81 columns, tiling
            strided(3, 2, 12, 20, 14, 14, 4, 2, 1),  // groups, two column tiles (588 columns)
        ]
        for s in shapes {
            let columns = s.batch * s.outPixels
            let pixelRoute = KernelTable.active.sgemmPixelVectors != nil && columns <= ScatterAdjoint.pixelVectorColumns
            XCTAssertEqual(KernelSelector.scatterRoute(s, elementBytes: 4) == .pixelVectors, pixelRoute, "\(s)")
            XCTAssertNotEqual(KernelSelector.scatterRoute(s, elementBytes: 8), .pixelVectors)
            let dy: [Float] = randomArray(s.outputCount, &rng), w: [Float] = randomArray(s.weightCount, &rng)
            let b: [Float] = randomArray(s.inChannels, &rng)
            for bias in [nil, b] {
                try ThreadPool.shared.setNumThreads(1)
                let plain = runScatter(.plain, s, dy, w, bias)
                XCTAssertLessThan(maxRelativeError(plain, runAdjoint(.reference, s, dy, w, bias)), 1e-5, "\(s)")
                // The prepared panels (`ScatterWeightPanels`, 48 rows each: several per group
                // on most shapes, cut by the tasks' channel blocks), read by the pixel vectors.
                let panels = w.withUnsafeBufferPointer { ScatterWeightPanels(s, w: $0.baseAddress!) }
                XCTAssertNotNil(panels)
                for (route, prepared) in [(ScatterAdjoint.Route.swapped, nil), (.pixelVectors, nil), (.pixelVectors, panels)] {
                    for threads in [1, 2, 3] {
                        try ThreadPool.shared.setNumThreads(threads)
                        XCTAssertEqual(runScatter(route, s, dy, w, bias, panels: prepared).rawBytes, plain.rawBytes,
                                       "\(route), panels \(prepared != nil), \(threads) threads, bias \(bias != nil) on \(s)")
                    }
                }
                try ThreadPool.shared.setNumThreads(2)
                XCTAssertEqual(runAdjoint(.scatter, s, dy, w, bias).rawBytes, plain.rawBytes, "the planner's route on \(s)")
            }
        }
    }

    /// The weight gradient's B operand of a pointwise conv (whole image planes transposed)
    /// packs what its element definition says, for depth ranges crossing images and partial
    /// column panels; and the weight gradient stays bitwise the same on 1 and 3 threads.
    func pointwisePackB<T: ConvScalar>(_: T.Type, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let nr = KernelTable.nr(T.self)
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        var transposed = 0
        for trial in 0..<40 {
            let c = Int.random(in: 1...(trial % 2 == 0 ? 60 : 12), using: &rng), h = Int.random(in: 1...9, using: &rng)
            let wd = Int.random(in: 1...40, using: &rng), groups = trial % 4 == 3 ? 2 : 1
            let s = ConvShape(batch: Int.random(in: 1...3, using: &rng), groups: groups, inChannels: c * groups,
                              outChannels: Int.random(in: 1...(trial % 2 == 0 ? 9 : 40), using: &rng) * groups,
                              inHeight: h, inWidth: wd, outHeight: h, outWidth: wd, kernelHeight: 1, kernelWidth: 1)
            XCTAssertTrue(s.isPointwise)
            let x: [T] = randomArray(s.inputCount, &rng)
            let depth = s.batch * s.outPixels
            let d0 = Int.random(in: 0..<depth, using: &rng), d1 = Int.random(in: (d0 + 1)...depth, using: &rng)
            let c0 = Int.random(in: 0..<c, using: &rng), c1 = Int.random(in: (c0 + 1)...c, using: &rng)
            let count = (c1 - c0 + nr - 1) / nr * nr * (d1 - d0)
            var packed = [T](repeating: .nan, count: count)
            x.withUnsafeBufferPointer { xp in packed.withUnsafeMutableBufferPointer { pp in
                let b = BatchedUnfoldedTransposed(x: xp.baseAddress!, imageStride: s.inChannels * s.inPixels, shape: s)
                b.packB(into: pp.baseAddress!, depth: d0..<d1, cols: c0..<c1, nr: nr)
                var panel = 0, j0 = c0
                while j0 < c1 {
                    for q in d0..<d1 {
                        for jj in 0..<nr {
                            let v = pp[panel * (d1 - d0) * nr + (q - d0) * nr + jj]
                            let n = q / s.outPixels, p = q % s.outPixels
                            let expected: T = j0 + jj < c1 ? xp[(n * s.inChannels + j0 + jj) * s.inPixels + p] : 0
                            XCTAssertEqual(v, expected, "q \(q) col \(j0 + jj) of \(s)")
                        }
                    }
                    panel += 1; j0 += nr
                }
            } }
            try ThreadPool.shared.setNumThreads(1)
            let dy: [T] = randomArray(s.outputCount, &rng)
            let dw = runWeightGradient(.gemm, s, x, dy)
            if GemmWeightGradient.isTransposed(s) { transposed += 1 }
            XCTAssertLessThan(maxRelativeError(dw, runWeightGradient(.reference, s, x, dy)), T.kind == .float32 ? 1e-4 : 1e-12, "\(s)")
            try ThreadPool.shared.setNumThreads(3)
            XCTAssertEqual(runWeightGradient(.gemm, s, x, dy).rawBytes, dw.rawBytes, "3 threads on \(s)")
        }
        XCTAssertGreaterThan(transposed, 5, "the transposed pointwise weight gradient should be exercised")
    }

    func testPointwisePackBFloat() throws { try pointwisePackB(Float.self, seed: 79) }
    func testPointwisePackBDouble() throws { try pointwisePackB(Double.self, seed: 80) }

    func shape(_ cin: Int, _ cout: Int, _ size: Int, k: Int, pad: Int = 0, batch: Int = 1) -> ConvShape {
        ConvShape(batch: batch, groups: 1, inChannels: cin, outChannels: cout, inHeight: size, inWidth: size,
                  outHeight: size + 2 * pad - k + 1, outWidth: size + 2 * pad - k + 1, kernelHeight: k, kernelWidth: k,
                  padTop: pad, padLeft: pad)
    }

    func testSelectorRules() {
        // Transposed conv at stride 1 by work: dcgan's 1x1 -> 4x4 (the conv: 512 ch 4x4 -> 100 ch 1x1) scatters,
        // "same" convs and 1x1 run as a conv with the flipped kernel.
        XCTAssertEqual(KernelSelector.adjoint(shape(512, 100, 4, k: 4), .auto), .scatter)
        XCTAssertEqual(KernelSelector.adjoint(shape(256, 128, 6, k: 3), .auto), .scatter)
        XCTAssertEqual(KernelSelector.adjoint(shape(256, 256, 28, k: 3, pad: 1), .auto), .upsample)
        XCTAssertEqual(KernelSelector.adjoint(shape(512, 2048, 7, k: 1), .auto), .upsample)
        // Weight gradient: SE convs on a 1x1 plane and small planes with many pairs on the
        // GEMM; few channel pairs with large unit-stride planes direct.
        XCTAssertEqual(KernelSelector.weightGradient(shape(672, 28, 1, k: 1), .auto), .gemm)
        XCTAssertEqual(KernelSelector.weightGradient(shape(28, 672, 1, k: 1), .auto), .gemm)
        XCTAssertEqual(KernelSelector.weightGradient(shape(32, 32, 4, k: 3, pad: 1), .auto), .gemm)
        XCTAssertEqual(KernelSelector.weightGradient(shape(3, 8, 16, k: 3), .auto), .direct)
        XCTAssertEqual(KernelSelector.weightGradient(shape(1, 4, 28, k: 5), .auto), .direct)
        XCTAssertEqual(KernelSelector.weightGradient(shape(2, 12, 64, k: 5, pad: 2), .auto), .gemm)
        XCTAssertEqual(KernelSelector.weightGradient(shape(64, 64, 56, k: 3, pad: 1), .auto), .gemm)
    }

    /// A plan made with the weights packs the flipped kernel when its adjoint runs upsample on
    /// the GEMM, shares it with plans of other sizes, and gives the unpacked plan's bits.
    func testPlanPacksAdjoint() throws {
        var rng = SplitMix64(seed: 78)
        for op in [ConvOp.convTranspose, .convBackward] {
            var r = ConvRequest(op: op, inputShape: [2, 6, 5, 5], weightShape: [6, 4, 3, 3])
            r.padding = .explicit(top: 1, bottom: 1, left: 1, right: 1)
            if op == .convBackward {
                r = ConvRequest(op: op, inputShape: [2, 4, 5, 5], weightShape: [6, 4, 3, 3])
                r.padding = .explicit(top: 1, bottom: 1, left: 1, right: 1)
                r.gradOutputShape = [2, 6, 5, 5]
                r.outputMask = (true, false, false)
            }
            let w: [Float] = randomArray(6 * 4 * 9, &rng)
            let packed = try w.withUnsafeBufferPointer { try ConvPlan(r, weight: UnsafeRawPointer($0.baseAddress!)) }
            let plain = try ConvPlan(r)
            let p = try XCTUnwrap(packed.packedWeights)
            XCTAssertEqual(p.layout, .adjoint)
            XCTAssertNil(plain.packedWeights)
            XCTAssertTrue(packed.explanation.contains("flipped kernel: packed at creation"), packed.explanation)
            var bigger = r
            bigger.inputShape[2] = 9
            if op == .convBackward { bigger.gradOutputShape = [2, 6, 9, 5] }
            XCTAssertTrue(try ConvPlan(bigger, sharing: p).packedWeights === p)
            // A forward conv cannot use the adjoint layout.
            let fwd = ConvRequest(op: .conv, inputShape: [2, 4, 5, 5], weightShape: [6, 4, 3, 3])
            XCTAssertNil(try ConvPlan(fwd, sharing: p).packedWeights)
            let inCount = r.inputShape.reduce(1, *), goCount = (r.gradOutputShape ?? [0]).reduce(1, *)
            let x: [Float] = randomArray(inCount, &rng), go: [Float] = randomArray(max(goCount, 1), &rng)
            let resultCount = op == .convTranspose ? 2 * 4 * 5 * 5 : inCount
            func run(_ plan: ConvPlan) throws -> [Float] {
                var out = [Float](repeating: .nan, count: resultCount)
                try x.withUnsafeBufferPointer { xp in try w.withUnsafeBufferPointer { wp in try go.withUnsafeBufferPointer { gp in
                    try out.withUnsafeMutableBufferPointer { op in
                        try ConvEngine.execute(plan, .init(input: UnsafeRawPointer(xp.baseAddress!), weight: UnsafeRawPointer(wp.baseAddress!),
                                                           bias: nil, gradOutput: UnsafeRawPointer(gp.baseAddress!),
                                                           outputs: [UnsafeMutableRawPointer(op.baseAddress!), nil, nil]))
                    }
                } } }
                return out
            }
            XCTAssertEqual(try run(packed).rawBytes, try run(plain).rawBytes, "\(op)")
        }
    }
    /// Scatter's split of a channel block's column tiles over tasks
    /// (`KernelSelector.scatterImageParts`): parts cut only at tiles that start an image, cover every tile once in order, and give equal
    /// tasks a multiple of the threads where the cuts allow (dcgan's 64->3 32x32 at N8 on two
    /// threads: 3 channel blocks, 16 one-image groups of tiles, 2 parts).
    func testScatterImageParts() {
        let dcgan = KernelSelector.scatterImageParts(tiles: 16, tile: 512, pixels: 1024, tasks: 3, threads: 2)
        XCTAssertEqual(dcgan.tileStarts, [0, 8, 16])
        XCTAssertEqual(KernelSelector.scatterImageParts(tiles: 16, tile: 512, pixels: 1024, tasks: 3, threads: 1).tileStarts, [0, 16])
        XCTAssertEqual(KernelSelector.scatterImageParts(tiles: 4, tile: 512, pixels: 256, tasks: 4, threads: 2).tileStarts, [0, 4])
        // Tiles straddling images (pixels 300, tile 400): no cut but at 1200 = 3 tiles.
        XCTAssertEqual(KernelSelector.scatterImageParts(tiles: 3, tile: 400, pixels: 300, tasks: 3, threads: 2).tileStarts, [0, 3])
        for tiles in 1...20 { for tile in [16, 48, 400, 512] { for pixels in [1, 100, 256, 300, 1024] {
            for tasks in 1...7 { for threads in 1...4 {
                let starts = KernelSelector.scatterImageParts(tiles: tiles, tile: tile, pixels: pixels, tasks: tasks, threads: threads).tileStarts
                XCTAssertEqual(starts.first, 0); XCTAssertEqual(starts.last, tiles)
                XCTAssertEqual(starts, starts.sorted()); XCTAssertEqual(Set(starts).count, starts.count)
                for t in starts.dropFirst().dropLast() { XCTAssertEqual(t * tile % pixels, 0, "cut inside an image") }
            } }
        } } }
    }
}

extension Array {
    /// The elements' bytes: equal arrays of these are bit for bit equal (also -0, NaN).
    var rawBytes: [UInt8] { withUnsafeBytes { [UInt8]($0) } }
}
