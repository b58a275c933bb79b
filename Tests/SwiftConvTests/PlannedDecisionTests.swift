@testable import SwiftConv
import XCTest

/// Decisions the planner makes once per plan and the kernels only execute: the GEMM weight
/// gradient's route (`ConvPlan.weightGradientRoutes`) and the phase decomposition
/// (`ConvPlan.phaseDecompositions`); and the part of the route that depends on the pool,
/// checked per call, so a plan made at one thread count stays right at another.
final class PlannedDecisionTests: XCTestCase {
    private func backward(_ c: Int, _ size: Int, out: Int? = nil, layout: ActivationLayout = .channelsFirst,
                          dtype: ConvDType = .float32) throws -> ConvPlan {
        var r = ConvRequest(op: .convBackward, inputShape: [1, c, size, size], weightShape: [out ?? c, c, 3, 3])
        r.padding = .symmetric([1, 1])
        r.gradOutputShape = [1, out ?? c, size, size]
        r.layout = layout
        r.dtype = dtype
        return try ConvPlan(r)
    }

    func testPlanRecordsWeightGradientRoute() throws {
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        try ThreadPool.shared.setNumThreads(1)
        // The selector's measured rules (`KernelSelector.weightGradientRoute`), kept by the plan.
        let inPlace = try backward(64, 56), blocked = try backward(128, 28), unfolded = try backward(512, 7)
        XCTAssertEqual(inPlace.weightGradientRoutes[inPlace.kernelShape], .blockedInPlace)
        XCTAssertEqual(blocked.weightGradientRoutes[blocked.kernelShape], .blocked)
        XCTAssertEqual(unfolded.weightGradientRoutes[unfolded.kernelShape], .unfolded)
        XCTAssertTrue(inPlace.explanation.contains("read in place with dy's rows"), inPlace.explanation)
        XCTAssertTrue(blocked.explanation.contains("B from a zero-bordered, channel-blocked copy of the input)"), blocked.explanation)
        XCTAssertFalse(unfolded.explanation.contains("channel-blocked"), unfolded.explanation)
        // Channels-last takes the same routes: the blocked copy on 32->16 20x20 (rows under
        // 56 pixels), the in-place one (dy transposed once, the copy filled from channels-last
        // x) on 64->64 56x56.
        let last = try backward(32, 20, out: 16, layout: .channelsLast), first = try backward(32, 20, out: 16)
        XCTAssertEqual(last.weightGradientRoutes[last.kernelShape], .blocked)
        XCTAssertTrue(last.explanation.contains("channel-blocked copy of the channels-last input"), last.explanation)
        XCTAssertEqual(first.weightGradientRoutes[first.kernelShape], .blocked)
        let lastInPlace = try backward(64, 56, layout: .channelsLast)
        XCTAssertEqual(lastInPlace.weightGradientRoutes[lastInPlace.kernelShape], .blockedInPlace)
        XCTAssertTrue(lastInPlace.explanation.contains("transposed once to (C_out, pixels) rows"), lastInPlace.explanation)
        XCTAssertFalse(lastInPlace.explanation.contains("channels-first"), lastInPlace.explanation)
        // float64 decides on its own channel blocks (8 lanes), the same rule.
        let double = try backward(64, 56, dtype: .float64)
        XCTAssertEqual(double.weightGradientRoutes[double.kernelShape], .blockedInPlace)
    }

    /// 16 channels are two float64 channel blocks: a plan made at one thread keeps its
    /// blocked route, which runs at one and two threads and unfolds at three (more threads
    /// than blocks), with the same bits each time; explain follows the current pool.
    func testRouteChecksThePoolPerCall() throws {
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        try ThreadPool.shared.setNumThreads(1)
        var r = ConvRequest(op: .convBackward, inputShape: [1, 16, 56, 56], weightShape: [16, 16, 3, 3])
        r.padding = .symmetric([1, 1])
        r.gradOutputShape = [1, 16, 56, 56]
        r.dtype = .float64
        r.outputMask = (false, true, false)
        let plan = try ConvPlan(r)
        let s = plan.kernelShape
        XCTAssertEqual(plan.weightGradientRoutes[s], .blockedInPlace)
        var rng = SplitMix64(seed: 71)
        let x: [Double] = randomArray(s.inputCount, &rng), dy: [Double] = randomArray(s.outputCount, &rng)
        var unfolded = [Double](repeating: 0, count: s.weightCount)
        x.withUnsafeBufferPointer { xp in dy.withUnsafeBufferPointer { yp in unfolded.withUnsafeMutableBufferPointer { wp in
            GemmWeightGradient.unfolded(s, x: xp.baseAddress!, dy: yp.baseAddress!, dw: wp.baseAddress!)
        } } }
        for (threads, feeds) in [(1, true), (2, true), (3, false)] {
            try ThreadPool.shared.setNumThreads(threads)
            XCTAssertEqual(KernelSelector.weightGradientCopyFeedsThreads(s, Double.self), feeds, "\(threads) threads")
            XCTAssertEqual(plan.explanation.contains("channel-blocked copy"), feeds, "\(threads) threads: \(plan.explanation)")
            var dw = [Double](repeating: .nan, count: s.weightCount)
            let w = [Double](repeating: 0, count: s.weightCount)
            try x.withUnsafeBytes { xp in try dy.withUnsafeBytes { yp in try w.withUnsafeBytes { wp in try dw.withUnsafeMutableBytes { dwp in
                try ConvEngine.execute(plan, .init(input: xp.baseAddress, weight: wp.baseAddress, bias: nil, gradOutput: yp.baseAddress,
                                                   outputs: [nil, dwp.baseAddress, nil]))
            } } } }
            XCTAssertEqual(dw.rawBytes, unfolded.rawBytes, "\(threads) threads")
        }
    }

    func testPlanHoldsPhaseDecomposition() throws {
        var r = ConvRequest(op: .convTranspose, inputShape: [1, 8, 7, 7], weightShape: [8, 4, 4, 4])
        r.stride = [2, 2]
        r.padding = .symmetric([1, 1])
        r.algorithm = "phase"
        let plan = try ConvPlan(r)
        XCTAssertEqual(plan.phaseDecompositions[plan.kernelShape], PhaseDecomposition(plan.kernelShape))
        XCTAssertTrue(plan.weightGradientRoutes.isEmpty)
        // Other adjoints hold none.
        r.algorithm = "scatter"
        XCTAssertTrue(try ConvPlan(r).phaseDecompositions.isEmpty)
    }
}
