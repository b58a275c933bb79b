@testable import SwiftConv
import XCTest

/// What a prepared plan (made with the weights) packs, against the plain plan of the same
/// request: where the plain GEMM reads the weights in place and that is the faster route
/// for a prepared layer too (`KernelSelector.preparedReadsWeightsInPlace`), the prepared
/// plan packs nothing and runs that route; elsewhere it packs at creation. Either way its
/// results are the plain plan's bits, on any thread count.
final class PreparedRouteTests: XCTestCase {

    private func request(_ n: Int, _ cin: Int, _ cout: Int, _ hw: Int, k: Int, dtype: ConvDType = .float32) -> ConvRequest {
        var r = ConvRequest(op: .conv, inputShape: [n, cin, hw, hw], weightShape: [cout, cin, k, k])
        r.biasShape = [cout]
        r.padding = .explicit(top: k / 2, bottom: k / 2, left: k / 2, right: k / 2)
        r.dtype = dtype
        return r
    }

    private func run(_ plan: ConvPlan, _ r: ConvRequest, x: [Float], w: [Float], b: [Float]) throws -> [Float] {
        var out = [Float](repeating: .nan, count: r.inputShape[0] * r.weightShape[0] * r.inputShape[2] * r.inputShape[3])
        try x.withUnsafeBufferPointer { xp in try w.withUnsafeBufferPointer { wp in try b.withUnsafeBufferPointer { bp in
            try out.withUnsafeMutableBufferPointer { op in
                try ConvEngine.execute(plan, .init(input: UnsafeRawPointer(xp.baseAddress!), weight: UnsafeRawPointer(wp.baseAddress!),
                                                   bias: UnsafeRawPointer(bp.baseAddress!), gradOutput: nil,
                                                   outputs: [UnsafeMutableRawPointer(op.baseAddress!), nil, nil]))
            }
        } } }
        return out
    }

    func testPreparedPlanReadsWeightsInPlaceWhereThatWins() throws {
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        try ThreadPool.shared.setNumThreads(1)  // (the plans' tilings assume the thread count)
        var rng = SplitMix64(seed: 12)
        // (N, C_in, C_out, size, k, prepared reads in place): 3x3 from 64 GEMM columns (10x10:
        // 100; 7x7 N2 folded: 98), not at 49; 1x1 from 256 (16x16), not at 196 (14x14).
        let cases: [(Int, Int, Int, Int, Int, Bool)] = [
            (1, 32, 48, 10, 3, true), (2, 20, 30, 7, 3, true), (1, 32, 48, 7, 3, false),
            (1, 40, 24, 16, 1, true), (1, 40, 24, 14, 1, false),
        ]
        for (n, cin, cout, hw, k, inPlace) in cases {
            let r = request(n, cin, cout, hw, k: k)
            let label = "N\(n) \(cin)->\(cout) \(hw)x\(hw) k\(k)"
            let w: [Float] = randomArray(cout * cin * k * k, &rng), b: [Float] = randomArray(cout, &rng)
            let x: [Float] = randomArray(n * cin * hw * hw, &rng)
            let plain = try ConvPlan(r)
            let prepared = try w.withUnsafeBufferPointer { try ConvPlan(r, weight: UnsafeRawPointer($0.baseAddress!)) }
            // The plain GEMM reads these weights in place (the rule only chooses among those).
            XCTAssertTrue(plain.explanation.contains("weights read in place, no packing"), label + "\n" + plain.explanation)
            XCTAssertEqual(prepared.packedWeights == nil, inPlace, label + "\n" + prepared.explanation)
            XCTAssertEqual(prepared.explanation.contains("weights read in place, no packing"), inPlace, label + "\n" + prepared.explanation)
            XCTAssertEqual(prepared.explanation.contains("weights: packed at creation"), !inPlace, label + "\n" + prepared.explanation)
            let want = try run(plain, r, x: x, w: w, b: b)
            XCTAssertFalse(want.contains { $0.isNaN }, label)
            for threads in 1...3 {
                try ThreadPool.shared.setNumThreads(threads)
                XCTAssertEqual(try run(prepared, r, x: x, w: w, b: b).rawBytes, want.rawBytes, "\(label) threads \(threads)")
            }
            try ThreadPool.shared.setNumThreads(1)
        }
        // float64 and half weights keep the packed copy (measured on float32 only; a half
        // prepared layer keeps its widened weights in it).
        for dtype in [ConvDType.float64, .float16] {
            let r = request(1, 32, 48, 10, k: 3, dtype: dtype)
            let w = [UInt8](repeating: 0, count: 48 * 32 * 9 * dtype.storageBytes)
            let prepared = try w.withUnsafeBufferPointer { try ConvPlan(r, weight: UnsafeRawPointer($0.baseAddress!)) }
            XCTAssertNotNil(prepared.packedWeights, "\(dtype)")
        }
    }

    /// A prepared float32 1x1 layer on 32-64 GEMM columns runs the channel-blocked conv where
    /// the plain call runs the GEMM (`KernelSelector.preparedRunsPointwiseBlocked`; AVX-512
    /// tier): the same sum order for a 1x1 kernel, so the plain call's bits, with and without
    /// bias, signed zeros included, on any thread count. C_in not a multiple of 16, more
    /// columns, fewer than 8 panels of 64 output channels or a named algorithm keep the GEMM.
    func testPreparedPointwiseRunsBlockedWithThePlainBits() throws {
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        let blocked = KernelTable.active.sconvChannelBlockedRow != nil
        var rng = SplitMix64(seed: 21)
        // (N, C_in, C_out, size, stride, bias, runs blocked when the tier has it)
        let cases: [(Int, Int, Int, Int, Int, Bool, Bool)] = [
            (1, 32, 520, 7, 1, true, true), (1, 48, 512, 7, 1, false, true), (1, 64, 516, 13, 2, true, true),
            (1, 24, 520, 7, 1, true, false), (1, 32, 520, 14, 1, true, false), (2, 32, 520, 7, 1, true, false),
            (1, 32, 160, 7, 1, true, false),
        ]
        for (n, cin, cout, hw, stride, hasBias, runsBlocked) in cases {
            var r = ConvRequest(op: .conv, inputShape: [n, cin, hw, hw], weightShape: [cout, cin, 1, 1])
            r.stride = [stride, stride]
            if hasBias { r.biasShape = [cout] }
            let label = "N\(n) \(cin)->\(cout) \(hw)x\(hw) s\(stride) bias \(hasBias)"
            var w: [Float] = randomArray(cout * cin, &rng), b: [Float] = randomArray(cout, &rng)
            var x: [Float] = randomArray(n * cin * hw * hw, &rng)
            // Signed zeros: output channel 0 sums -0 products onto a -0 bias (-0), channel 1
            // +0 products onto it (+0): both routes must keep the sign.
            for c in 0 ..< cin { w[c] = -1; w[cin + c] = 1 }
            b[0] = -0.0; b[1] = -0.0
            for i in 0 ..< hw * hw { for c in 0 ..< cin { x[c * hw * hw + i] = 0 } }
            let plain = try ConvPlan(r)
            let prepared = try w.withUnsafeBufferPointer { try ConvPlan(r, weight: UnsafeRawPointer($0.baseAddress!)) }
            let steps = prepared.steps.map { "\($0)" }.joined(separator: " ")
            XCTAssertEqual(steps.contains("blocked"), blocked && runsBlocked, label + "\n" + prepared.explanation)
            XCTAssertFalse(plain.steps.map { "\($0)" }.joined().contains("blocked"), label)
            if blocked && runsBlocked { XCTAssertEqual(prepared.packedWeights?.layout, .channelBlocked, label) }
            let outPixels = ((hw - 1) / stride + 1) * ((hw - 1) / stride + 1)
            func run(_ plan: ConvPlan) throws -> [Float] {
                var out = [Float](repeating: .nan, count: n * cout * outPixels)
                try x.withUnsafeBufferPointer { xp in try w.withUnsafeBufferPointer { wp in try b.withUnsafeBufferPointer { bp in
                    try out.withUnsafeMutableBufferPointer { op in
                        try ConvEngine.execute(plan, .init(input: UnsafeRawPointer(xp.baseAddress!), weight: UnsafeRawPointer(wp.baseAddress!),
                                                           bias: hasBias ? UnsafeRawPointer(bp.baseAddress!) : nil, gradOutput: nil,
                                                           outputs: [UnsafeMutableRawPointer(op.baseAddress!), nil, nil]))
                    }
                } } }
                return out
            }
            try ThreadPool.shared.setNumThreads(1)
            let want = try run(plain)
            XCTAssertFalse(want.contains { $0.isNaN }, label)
            if hasBias {
                XCTAssertEqual(want[0].bitPattern, (-0.0 as Float).bitPattern, label)
                XCTAssertEqual(want[outPixels].bitPattern, (0.0 as Float).bitPattern, label)
            }
            for threads in 1...3 {
                try ThreadPool.shared.setNumThreads(threads)
                XCTAssertEqual(try run(prepared).rawBytes, want.rawBytes, "\(label) threads \(threads)")
            }
        }
        // "im2col" named: the GEMM, prepared or not.
        var r = ConvRequest(op: .conv, inputShape: [1, 32, 7, 7], weightShape: [40, 32, 1, 1])
        r.algorithm = "im2col"
        let w = [Float](repeating: 1, count: 40 * 32)
        let named = try w.withUnsafeBufferPointer { try ConvPlan(r, weight: UnsafeRawPointer($0.baseAddress!)) }
        XCTAssertFalse(named.steps.map { "\($0)" }.joined().contains("blocked"), named.explanation)
    }
}
