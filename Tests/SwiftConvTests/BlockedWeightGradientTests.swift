@testable import SwiftConv
import XCTest

/// The weight gradient on the blocked channels-last copy of x, packed
/// (`GemmWeightGradient.blocked`) or read in place with dy (`blockedInPlace`), must give the
/// bits of the tap-by-tap unfolded operand (`GemmWeightGradient.unfolded`): the same products
/// summed in the same order, only packed (or not) another way.
final class BlockedWeightGradientTests: XCTestCase {
    /// A random shape the blocked copy takes: whole channel blocks per group, k up to 5,
    /// stride, dilation and asymmetric padding in play.
    func blockedShape<T: ConvScalar>(_: T.Type, _ rng: inout SplitMix64) -> ConvShape {
        let block = KernelTable.nr(T.self)
        while true {
            let groups = [1, 1, 2].randomElement(using: &rng)!
            let cig = block * Int.random(in: 1...3, using: &rng), cog = Int.random(in: 1...20, using: &rng)
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

    enum Path { case unfolded, blocked, inPlace }

    func run<T: ConvScalar>(_ s: ConvShape, _ x: [T], _ dy: [T], _ path: Path) -> [T] {
        var dw = [T](repeating: .nan, count: s.weightCount)
        x.withUnsafeBufferPointer { xp in dy.withUnsafeBufferPointer { yp in dw.withUnsafeMutableBufferPointer { wp in
            switch path {
            case .blocked: GemmWeightGradient.blocked(s, x: xp.baseAddress!, dy: yp.baseAddress!, dw: wp.baseAddress!)
            case .inPlace: GemmWeightGradient.blockedInPlace(s, x: xp.baseAddress!, dy: yp.baseAddress!, dw: wp.baseAddress!)
            case .unfolded: GemmWeightGradient.unfolded(s, x: xp.baseAddress!, dy: yp.baseAddress!, dw: wp.baseAddress!)
            }
        } } }
        return dw
    }

    /// Shapes whose output rows (or 1x1 planes, one segment per image) are longer than the
    /// GEMM's kc, so `blockedInPlace` cuts them in pieces.
    func longRowShapes<T: ConvScalar>(_: T.Type) -> [ConvShape] {
        let block = KernelTable.nr(T.self)
        return [
            ConvShape(batch: 2, groups: 1, inChannels: block, outChannels: 13, inHeight: 30, inWidth: 30,
                      outHeight: 30, outWidth: 30, kernelHeight: 1, kernelWidth: 1),
            ConvShape(batch: 1, groups: 1, inChannels: 2 * block, outChannels: 17, inHeight: 3, inWidth: 700,
                      outHeight: 3, outWidth: 700, kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1),
        ]
    }

    func sameBits<T: ConvScalar>(_: T.Type, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        defer { try? ThreadPool.shared.setNumThreads(1) }
        let long = longRowShapes(T.self)
        for trial in 0..<(40 + long.count) {
            let s = trial < 40 ? blockedShape(T.self, &rng) : long[trial - 40]
            let x: [T] = randomArray(s.inputCount, &rng), dy: [T] = randomArray(s.outputCount, &rng)
            try ThreadPool.shared.setNumThreads(1)
            let expected = run(s, x, dy, .unfolded)
            XCTAssertLessThan(maxRelativeError(expected, runWeightGradient(.reference, s, x, dy)),
                              T.kind == .float32 ? 1e-4 : 1e-12, "\(s)")
            try ThreadPool.shared.setNumThreads(1 + trial % 3)
            XCTAssertEqual(run(s, x, dy, .blocked).rawBytes, expected.rawBytes, "blocked vs unfolded, \(1 + trial % 3) threads, \(s)")
            XCTAssertEqual(run(s, x, dy, .inPlace).rawBytes, expected.rawBytes, "in place vs unfolded, \(1 + trial % 3) threads, \(s)")
            // The GEMM weight gradient, whichever B operand the selector's rule picks: the same bits.
            XCTAssertEqual(runWeightGradient(.gemm, s, x, dy).rawBytes, expected.rawBytes, "gemm on \(s)")
        }
    }

    func testSameBitsFloat() throws { try sameBits(Float.self, seed: 101) }
    func testSameBitsDouble() throws { try sameBits(Double.self, seed: 102) }

    /// The random shapes above reach tasks of two channel blocks (`channelBlocksPerTask`),
    /// whose tiles pair panels across blocks; the rule gives them only where it should.
    func testTwoChannelBlocksPerTask() throws {
        let block = KernelTable.nr(Float.self)
        defer { try? ThreadPool.shared.setNumThreads(1) }
        func shape(_ cin: Int, k: Int, stride: Int = 1) -> ConvShape {
            let out = (28 + 2 * (k / 2) - k) / stride + 1
            return ConvShape(batch: 1, groups: 1, inChannels: cin, outChannels: 32, inHeight: 28, inWidth: 28,
                             outHeight: out, outWidth: out, kernelHeight: k, kernelWidth: k, strideH: stride, strideW: stride,
                             padTop: k / 2, padLeft: k / 2)
        }
        try ThreadPool.shared.setNumThreads(1)
        XCTAssertEqual(GemmWeightGradient.channelBlocksPerTask(shape(2 * block, k: 3), Float.self), 2)
        XCTAssertEqual(GemmWeightGradient.channelBlocksPerTask(shape(3 * block, k: 3), Float.self), 2)
        XCTAssertEqual(GemmWeightGradient.channelBlocksPerTask(shape(block, k: 3), Float.self), 1)
        XCTAssertEqual(GemmWeightGradient.channelBlocksPerTask(shape(4 * block, k: 1), Float.self), 1)
        XCTAssertEqual(GemmWeightGradient.channelBlocksPerTask(shape(4 * block, k: 3, stride: 2), Float.self), 1)
        try ThreadPool.shared.setNumThreads(2)
        XCTAssertEqual(GemmWeightGradient.channelBlocksPerTask(shape(4 * block, k: 3), Float.self), 2)
        XCTAssertEqual(GemmWeightGradient.channelBlocksPerTask(shape(6 * block, k: 3), Float.self), 1)  // 3 tasks, 2 threads
        try ThreadPool.shared.setNumThreads(3)
        XCTAssertEqual(GemmWeightGradient.channelBlocksPerTask(shape(4 * block, k: 3), Float.self), 1)
    }

    func testSupports() {
        let block = KernelTable.nr(Float.self)
        func shape(_ cin: Int, k: Int, pad: Int) -> ConvShape {
            ConvShape(batch: 1, groups: 1, inChannels: cin, outChannels: 8, inHeight: 9, inWidth: 9,
                      outHeight: 9 + 2 * pad - k + 1, outWidth: 9 + 2 * pad - k + 1, kernelHeight: k, kernelWidth: k,
                      padTop: pad, padLeft: pad)
        }
        XCTAssertTrue(BlockedChannelsLastInput<Float>.supports(shape(block * 4, k: 3, pad: 1)))
        XCTAssertTrue(BlockedChannelsLastInput<Float>.supports(shape(block * 4, k: 1, pad: 0)), "pointwise: one segment per image")
        XCTAssertFalse(BlockedChannelsLastInput<Float>.supports(shape(3, k: 7, pad: 3)), "partial channel block")
        // The rule: a large depth against C_out (ResNet-50's 64->64 56x56), not its 512->512 7x7.
        func layer(_ c: Int, _ size: Int) -> ConvShape {
            ConvShape(batch: 1, groups: 1, inChannels: c, outChannels: c, inHeight: size, inWidth: size,
                      outHeight: size, outWidth: size, kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1)
        }
        XCTAssertTrue(KernelSelector.weightGradientReadsBlockedCopy(layer(64, 56), Float.self))
        XCTAssertFalse(KernelSelector.weightGradientReadsBlockedCopy(layer(512, 7), Float.self))
        // In place: U-Net's and ResNet-50's long rows, not 28-pixel rows (`blocked` there) nor 7x7.
        XCTAssertTrue(KernelSelector.weightGradientReadsCopyInPlace(layer(64, 56), Float.self))
        XCTAssertTrue(KernelSelector.weightGradientReadsCopyInPlace(layer(64, 112), Float.self))
        XCTAssertFalse(KernelSelector.weightGradientReadsCopyInPlace(layer(128, 28), Float.self))
        XCTAssertFalse(KernelSelector.weightGradientReadsCopyInPlace(layer(512, 7), Float.self))
    }
}
