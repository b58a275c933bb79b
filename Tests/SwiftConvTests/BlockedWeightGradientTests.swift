@testable import SwiftConv
import XCTest

/// The weight gradient on the blocked channels-last copy of x (`GemmWeightGradient.blocked`)
/// must give the bits of the tap-by-tap unfolded operand (`GemmWeightGradient.unfolded`): the
/// same products summed in the same order, only packed another way.
final class BlockedWeightGradientTests: XCTestCase {
    /// A random shape the blocked copy takes: whole channel blocks per group, k up to 5,
    /// stride, dilation and asymmetric padding in play.
    func blockedShape<T: ConvScalar>(_: T.Type, _ rng: inout SplitMix64) -> ConvShape {
        let block = KernelTable.nr(T.self)
        while true {
            let groups = [1, 1, 2].randomElement(using: &rng)!
            let cig = block * Int.random(in: 1...2, using: &rng), cog = Int.random(in: 1...20, using: &rng)
            let kH = Int.random(in: 1...5, using: &rng), kW = Int.random(in: 1...5, using: &rng)
            var r = ConvRequest(op: .conv, inputShape: [Int.random(in: 1...3, using: &rng), cig * groups,
                                                        Int.random(in: 1...13, using: &rng), Int.random(in: 1...13, using: &rng)],
                                weightShape: [cog * groups, cig, kH, kW])
            r.stride = [Int.random(in: 1...2, using: &rng), Int.random(in: 1...3, using: &rng)]
            r.dilation = [Int.random(in: 1...2, using: &rng), Int.random(in: 1...2, using: &rng)]
            r.groups = groups
            r.padding = .explicit(top: Int.random(in: 0...2, using: &rng), bottom: Int.random(in: 0...3, using: &rng),
                                  left: Int.random(in: 0...2, using: &rng), right: Int.random(in: 0...3, using: &rng))
            if let g = try? ConvGeometry(validating: r), BlockedChannelsLastInput<T>.supports(g.shape), g.shape.outPixels > 0 {
                return g.shape
            }
        }
    }

    func run<T: ConvScalar>(_ s: ConvShape, _ x: [T], _ dy: [T], blocked: Bool) -> [T] {
        var dw = [T](repeating: .nan, count: s.weightCount)
        x.withUnsafeBufferPointer { xp in dy.withUnsafeBufferPointer { yp in dw.withUnsafeMutableBufferPointer { wp in
            if blocked {
                GemmWeightGradient.blocked(s, x: xp.baseAddress!, dy: yp.baseAddress!, dw: wp.baseAddress!)
            } else {
                GemmWeightGradient.unfolded(s, x: xp.baseAddress!, dy: yp.baseAddress!, dw: wp.baseAddress!)
            }
        } } }
        return dw
    }

    func sameBits<T: ConvScalar>(_: T.Type, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        defer { try? ThreadPool.shared.setNumThreads(1) }
        for trial in 0..<40 {
            let s = blockedShape(T.self, &rng)
            let x: [T] = randomArray(s.inputCount, &rng), dy: [T] = randomArray(s.outputCount, &rng)
            try ThreadPool.shared.setNumThreads(1)
            let expected = run(s, x, dy, blocked: false)
            XCTAssertLessThan(maxRelativeError(expected, runWeightGradient(.reference, s, x, dy)),
                              T.kind == .float32 ? 1e-4 : 1e-12, "\(s)")
            try ThreadPool.shared.setNumThreads(1 + trial % 3)
            XCTAssertEqual(run(s, x, dy, blocked: true).rawBytes, expected.rawBytes, "blocked vs unfolded, \(1 + trial % 3) threads, \(s)")
            // The GEMM weight gradient, whichever B operand the selector's rule picks: the same bits.
            XCTAssertEqual(runWeightGradient(.gemm, s, x, dy).rawBytes, expected.rawBytes, "gemm on \(s)")
        }
    }

    func testSameBitsFloat() throws { try sameBits(Float.self, seed: 101) }
    func testSameBitsDouble() throws { try sameBits(Double.self, seed: 102) }

    func testSupports() {
        let block = KernelTable.nr(Float.self)
        func shape(_ cin: Int, k: Int, pad: Int) -> ConvShape {
            ConvShape(batch: 1, groups: 1, inChannels: cin, outChannels: 8, inHeight: 9, inWidth: 9,
                      outHeight: 9 + 2 * pad - k + 1, outWidth: 9 + 2 * pad - k + 1, kernelHeight: k, kernelWidth: k,
                      padTop: pad, padLeft: pad)
        }
        XCTAssertTrue(BlockedChannelsLastInput<Float>.supports(shape(block * 4, k: 3, pad: 1)))
        XCTAssertFalse(BlockedChannelsLastInput<Float>.supports(shape(block * 4, k: 1, pad: 0)), "pointwise: a plain transpose already")
        XCTAssertFalse(BlockedChannelsLastInput<Float>.supports(shape(3, k: 7, pad: 3)), "partial channel block")
        // The rule: a large depth against C_out (ResNet-50's 64->64 56x56), not its 512->512 7x7.
        func layer(_ c: Int, _ size: Int) -> ConvShape {
            ConvShape(batch: 1, groups: 1, inChannels: c, outChannels: c, inHeight: size, inWidth: size,
                      outHeight: size, outWidth: size, kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1)
        }
        XCTAssertTrue(KernelSelector.weightGradientReadsBlockedCopy(layer(64, 56), Float.self))
        XCTAssertFalse(KernelSelector.weightGradientReadsBlockedCopy(layer(512, 7), Float.self))
    }
}
