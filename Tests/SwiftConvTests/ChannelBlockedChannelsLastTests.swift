@testable import SwiftConv
import XCTest

/// The channel-blocked conv on channels-last activations (`ChannelBlockedChannelsLast`): its
/// (N, H, W, C) result is bit for bit the channels-first kernel's result in that layout (the
/// same copy values, the same sums), on the odd shapes of ChannelBlockedTests (partial channel
/// blocks and panels, 1x1 planes, strides, dilation, other windows), for 1, 2 and 3 threads,
/// with the weights packed per call or ahead; and the planner runs it for a channels-last
/// call wherever it runs "blocked" for the channels-first one (float32 compute only).
final class ChannelBlockedChannelsLastTests: XCTestCase {
    func testSameBitsAsChannelsFirst() throws {
        guard KernelTable.active.sconvChannelBlockedRow != nil else { throw XCTSkip("no channel-blocked kernel on this tier") }
        var rng = SplitMix64(seed: 131)
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        for s in ChannelBlockedTests.convShapes {
            let n = s.batch, ci = s.inChannels, co = s.outChannels
            let x: [Float] = randomArray(s.inputCount, &rng), wt: [Float] = randomArray(s.weightCount, &rng)
            let bias: [Float] = randomArray(co, &rng)
            let xl = toChannelsLast(x, batch: n, channels: ci, pixels: s.inPixels)
            let l = ChannelBlockedLayout(s)!
            var packed = [Float](repeating: .nan, count: l.weightCount)
            wt.withUnsafeBufferPointer { wp in packed.withUnsafeMutableBufferPointer { pp in
                ChannelBlockedConvolution.packWeights(s, l, w: wp.baseAddress!, into: pp.baseAddress!)
            } }
            for b in [bias, nil] {
                let want = toChannelsLast(runForward(.blocked, s, x, wt, b), batch: n, channels: co, pixels: s.outPixels)
                // (Every thread count and packing with the bias; without, one run: a debug
                // build runs these copies slowly.)
                for threads in b == nil ? [1] : [1, 2, 3] {
                    try ThreadPool.shared.setNumThreads(threads)
                    for ahead in b == nil || threads > 1 ? [false] : [false, true] {
                        var y = [Float](repeating: .nan, count: s.outputCount)
                        try xl.withUnsafeBufferPointer { xp in try wt.withUnsafeBufferPointer { wp in try packed.withUnsafeBufferPointer { pp in
                            try y.withUnsafeMutableBufferPointer { yp in
                                func run(_ bias: UnsafePointer<Float>?) throws {
                                    try ChannelBlockedChannelsLast.forward(s, x: xp.baseAddress!, w: wp.baseAddress!, bias: bias, y: yp.baseAddress!,
                                                                           packed: ahead ? pp.baseAddress! : nil)
                                }
                                if let b { try b.withUnsafeBufferPointer { try run($0.baseAddress!) } } else { try run(nil) }
                            }
                        } } }
                        XCTAssertEqual(y.map(\.bitPattern), want.map(\.bitPattern), "\(s) bias \(b != nil) threads \(threads) packed ahead \(ahead)")
                    }
                }
            }
        }
    }

    func testPlannerFollowsTheChannelsFirstChoice() throws {
        func plan(_ c: Int, _ size: Int, layout: ActivationLayout, dtype: ConvDType = .float32, algorithm: String = "auto") throws -> ConvPlan {
            var r = ConvRequest(op: .conv, inputShape: [1, c, size, size], weightShape: [c, c, 3, 3])
            r.padding = .symmetric([1, 1])
            r.layout = layout
            r.dtype = dtype
            r.algorithm = algorithm
            return try ConvPlan(r)
        }
        func isBlocked(_ p: ConvPlan) -> Bool {
            p.steps.contains { if case .forward(.blocked) = $0 { return true }; if case .forwardChannelsLast(.blocked) = $0 { return true }; return false }
        }
        let tierHasIt = KernelTable.active.sconvChannelBlockedRow != nil
        for (c, size) in [(64, 56), (128, 28), (512, 7), (32, 56)] {
            let first = try plan(c, size, layout: .channelsFirst), last = try plan(c, size, layout: .channelsLast)
            XCTAssertEqual(isBlocked(last), isBlocked(first), "\(c) \(size)")
            if isBlocked(last) {
                XCTAssertTrue(tierHasIt)
                XCTAssertTrue(last.explanation.contains("channels-last blocked"), last.explanation)
                XCTAssertFalse(last.explanation.contains("channels-last -> channels-first"), last.explanation)
                // float16 follows float32's kernel; float64 keeps the channels-last GEMM.
                XCTAssertTrue(isBlocked(try plan(c, size, layout: .channelsLast, dtype: .float16)))
                let double = try plan(c, size, layout: .channelsLast, dtype: .float64)
                XCTAssertFalse(isBlocked(double), double.explanation)
                XCTAssertTrue(double.explanation.contains("channels-last gemm"), double.explanation)
            }
        }
        XCTAssertEqual(isBlocked(try plan(64, 56, layout: .channelsFirst)), tierHasIt)
        XCTAssertEqual(isBlocked(try plan(24, 9, layout: .channelsLast, algorithm: "blocked")), tierHasIt)
    }
}
