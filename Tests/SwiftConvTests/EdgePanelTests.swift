import XCTest
@testable import SwiftConv

/// The AVX-512 partial-last-panel kernels (EdgeKernels.swift: 3...4 columns as 12 rows per
/// zmm, 5...15 columns as masked 12 x 16 tiles) against the AVX2 build's edge path (6 rows
/// per ymm / 6 x 8 and 6 x 16 tiles through a scratch tile): the same bits, on the column
/// counts small planes leave (14x14: 196, 7x7: 49, N8 7x7 folded: 392, 28x28: 784) and on
/// every count 1...20, with row counts that end a 48-row group, a 12-row pair or a single
/// panel, both GEMM paths (A small enough for L2, and blocked), and through the im2col
/// forward at 1, 2 and 3 threads.
final class EdgePanelTests: XCTestCase {
    func testEdgePanelsMatchAVX2Bitwise() {
        guard CPUFeatures.bestTier >= .avx512 else { return }
        var rng = SplitMix64(seed: 81)
        let kc = KernelTable.avx512.blocking.kc(Float.self)
        for n in [196, 49, 392, 784] + Array(1...20) {
            for m in [1, 5, 7, 12, 13, 31, 47, 48, 49, 61, 131] {
                // depth 700 with 131 rows: A beyond the small-A limit (the blocked path).
                let depth = m == 131 && n % 3 == 0 ? 700 : [1, 2, 7, 33, kc + 1].randomElement(using: &rng)!
                let accumulate = Bool.random(using: &rng)
                let a: [Float] = randomArray(m * depth, &rng), b: [Float] = randomArray(depth * n, &rng)
                let c0: [Float] = randomArray(m * n, &rng)
                var results: [[Float]] = []
                for tier in [KernelTier.avx2, .avx512] {
                    var c = c0
                    withTier(tier) { multiplyRowMajor(a, b, &c, m: m, n: n, depth: depth, accumulate: accumulate) }
                    results.append(c)
                }
                var bad = 0
                for i in 0..<(m * n) where results[0][i].bitPattern != results[1][i].bitPattern { bad += 1 }
                XCTAssertEqual(bad, 0, "m \(m) n \(n) depth \(depth) accumulate \(accumulate): AVX-512 edge differs from AVX2")
            }
        }
    }

    func testEdgePanelConvolutionsAcrossThreadsAndTiers() throws {
        var rng = SplitMix64(seed: 82)
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        // (batch, in, out, height, width): 196, 49, 392 (folded), 20 and 12 columns.
        for (batch, cin, cout, h, w) in [(1, 6, 50, 14, 14), (1, 8, 61, 7, 7), (8, 4, 26, 7, 7), (1, 5, 49, 4, 5), (2, 3, 13, 3, 4)] {
            var r = ConvRequest(op: .conv, inputShape: [batch, cin, h, w], weightShape: [cout, cin, 3, 3])
            r.padding = .explicit(top: 1, bottom: 1, left: 1, right: 1)
            let s = try ConvGeometry(validating: r).shape
            let x: [Float] = randomArray(s.inputCount, &rng), wt: [Float] = randomArray(s.weightCount, &rng)
            var results: [(String, [Float])] = []
            for tier in [KernelTier.avx2, .avx512] where tier <= CPUFeatures.bestTier {
                for threads in [1, 2, 3] {
                    try ThreadPool.shared.setNumThreads(threads)
                    var y = [Float](repeating: 0, count: s.outputCount)
                    withTier(tier) {
                        x.withUnsafeBufferPointer { xp in wt.withUnsafeBufferPointer { wp in y.withUnsafeMutableBufferPointer { yp in
                            Im2colConvolution.forward(s, x: xp.baseAddress!, w: wp.baseAddress!, bias: nil, y: yp.baseAddress!)
                        } } }
                    }
                    results.append(("\(tier) \(threads) threads", y))
                }
            }
            for (name, y) in results.dropFirst() {
                var bad = 0
                for i in 0..<y.count where y[i].bitPattern != results[0].1[i].bitPattern { bad += 1 }
                XCTAssertEqual(bad, 0, "\(s): \(name) differs from \(results[0].0)")
            }
        }
    }
}
