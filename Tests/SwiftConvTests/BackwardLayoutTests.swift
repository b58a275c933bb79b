@testable import SwiftConv
import XCTest

/// Fixed shapes for the layout-specific paths of the transposed convolution and the weight
/// gradient, against the reference loops, on narrow and wide planes: the tiling col2im
/// (kernel == stride, e.g. unet's k2 s2), the paired stride-2 col2im (dcgan's k4 s2 p1), and
/// the transposing packers of the weight gradient's B operand.
final class BackwardLayoutTests: XCTestCase {
    func conv(batch: Int = 1, groups: Int = 1, cin: Int, cout: Int, out: (Int, Int), k: (Int, Int),
              s: (Int, Int) = (1, 1), d: (Int, Int) = (1, 1), pad: (Int, Int) = (0, 0), extra: (Int, Int) = (0, 0)) -> ConvShape {
        // Input size: the smallest that gives `out`, plus `extra` rows/columns left unread.
        let inH = (out.0 - 1) * s.0 + (k.0 - 1) * d.0 + 1 - 2 * pad.0 + extra.0
        let inW = (out.1 - 1) * s.1 + (k.1 - 1) * d.1 + 1 - 2 * pad.1 + extra.1
        return ConvShape(batch: batch, groups: groups, inChannels: cin, outChannels: cout, inHeight: inH, inWidth: inW,
                         outHeight: out.0, outWidth: out.1, kernelHeight: k.0, kernelWidth: k.1,
                         strideH: s.0, strideW: s.1, dilationH: d.0, dilationW: d.1, padTop: pad.0, padLeft: pad.1)
    }

    var adjointShapes: [ConvShape] {
        [
            conv(batch: 2, cin: 5, cout: 7, out: (9, 37), k: (2, 2), s: (2, 2)),              // tiling, wide
            conv(batch: 3, groups: 2, cin: 4, cout: 6, out: (4, 3), k: (2, 2), s: (2, 2)),    // tiling, narrow
            conv(batch: 2, cin: 3, cout: 5, out: (6, 21), k: (3, 3), s: (3, 3)),              // tiling, k3
            conv(batch: 2, cin: 3, cout: 5, out: (6, 21), k: (2, 2), s: (2, 2), extra: (1, 1)), // not covered
            conv(batch: 8, cin: 6, cout: 9, out: (4, 4), k: (4, 4), s: (2, 2), pad: (1, 1)),  // dcgan-like
            conv(batch: 2, cin: 5, cout: 4, out: (11, 45), k: (4, 4), s: (2, 2), pad: (1, 1)),
            conv(batch: 1, cin: 3, cout: 4, out: (7, 29), k: (3, 5), s: (2, 2), pad: (2, 1), extra: (1, 1)),
            conv(batch: 2, groups: 3, cin: 6, cout: 3, out: (5, 33), k: (3, 3), s: (1, 2), d: (2, 1), pad: (1, 2)),
        ]
    }

    func adjointCase<T: ConvScalar>(_: T.Type, tolerance: Double) {
        var rng = SplitMix64(seed: 41)
        for s in adjointShapes {
            let dy: [T] = randomArray(s.outputCount, &rng), w: [T] = randomArray(s.weightCount, &rng)
            for b in [nil, randomArray(s.inChannels, &rng) as [T]] {
                let ref = runAdjoint(.reference, s, dy, w, b)
                XCTAssertLessThan(maxRelativeError(runAdjoint(.scatter, s, dy, w, b), ref), tolerance, "scatter on \(s)")
            }
        }
    }

    func testAdjointFloat() { adjointCase(Float.self, tolerance: 1e-5) }
    func testAdjointDouble() { adjointCase(Double.self, tolerance: 1e-13) }

    var gradientShapes: [ConvShape] {
        [
            conv(batch: 2, cin: 5, cout: 7, out: (9, 56), k: (3, 3), pad: (1, 1)),             // resnet-like, wide
            conv(batch: 1, cin: 3, cout: 4, out: (7, 61), k: (3, 3), s: (2, 1), pad: (1, 1)),
            conv(batch: 2, cin: 4, cout: 3, out: (6, 40), k: (3, 5), d: (2, 2), pad: (2, 0)),
            conv(batch: 2, groups: 2, cin: 6, cout: 4, out: (5, 35), k: (1, 1)),
            conv(batch: 1, cin: 7, cout: 5, out: (4, 33), k: (3, 3), s: (1, 2), pad: (1, 1)),  // strided columns
            conv(batch: 2, cin: 3, cout: 8, out: (3, 75), k: (7, 7), s: (2, 2), pad: (3, 3)),  // stem-like: 64-byte stride-2 gathers, clipped ends
            conv(batch: 3, cin: 6, cout: 5, out: (4, 4), k: (4, 4), s: (2, 2), pad: (1, 1)),   // narrow
        ]
    }

    func gradientCase<T: ConvScalar>(_: T.Type, tolerance: Double) {
        var rng = SplitMix64(seed: 42)
        for s in gradientShapes {
            let x: [T] = randomArray(s.inputCount, &rng), dy: [T] = randomArray(s.outputCount, &rng)
            let ref = runWeightGradient(.reference, s, x, dy)
            XCTAssertLessThan(maxRelativeError(runWeightGradient(.gemm, s, x, dy), ref), tolerance, "gemm on \(s)")
        }
    }

    func testWeightGradientFloat() { gradientCase(Float.self, tolerance: 1e-4) }
    func testWeightGradientDouble() { gradientCase(Double.self, tolerance: 1e-12) }

    /// The direct kernel's first input plane starts from the bias (3x3 unit-stride planes,
    /// including rows in a padding wider than the kernel, and other geometries).
    func testDirectForwardFromBias() {
        var rng = SplitMix64(seed: 44)
        let shapes = [
            conv(batch: 2, groups: 6, cin: 6, cout: 6, out: (9, 56), k: (3, 3), pad: (1, 1)),
            conv(batch: 1, groups: 4, cin: 4, cout: 4, out: (6, 9), k: (3, 3), pad: (3, 3)),
            conv(batch: 1, groups: 3, cin: 6, cout: 3, out: (5, 40), k: (3, 3), pad: (1, 1)),
            conv(batch: 2, groups: 2, cin: 2, cout: 4, out: (7, 13), k: (5, 3), s: (2, 1), pad: (2, 1)),
        ]
        for s in shapes {
            let x: [Float] = randomArray(s.inputCount, &rng), w: [Float] = randomArray(s.weightCount, &rng)
            for b in [nil, randomArray(s.outChannels, &rng) as [Float]] {
                let ref = runForward(.reference, s, x, w, b)
                XCTAssertLessThan(maxRelativeError(runForward(.direct, s, x, w, b), ref), 1e-5, "direct on \(s)")
            }
            let xd = x.map(Double.init), wd = w.map(Double.init)
            XCTAssertLessThan(maxRelativeError(runForward(.direct, s, xd, wd, nil), runForward(.reference, s, xd, wd, nil)), 1e-13)
        }
    }

    /// Every available kernel tier gives the same bits (packing moves values only).
    func testWeightGradientTiers() {
        var rng = SplitMix64(seed: 43)
        let s = gradientShapes[0]
        let x: [Float] = randomArray(s.inputCount, &rng), dy: [Float] = randomArray(s.outputCount, &rng)
        var results: [[Float]] = []
        for tier in KernelTier.available where tier >= .avx2 {
            withTier(tier) { results.append(runWeightGradient(.gemm, s, x, dy)) }
        }
        for r in results.dropFirst() { XCTAssertEqual(r, results[0]) }
    }
}
