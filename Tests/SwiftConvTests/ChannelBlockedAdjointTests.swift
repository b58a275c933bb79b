@testable import SwiftConv
import XCTest

/// The stride-1 adjoint (grad_input) on the channel-blocked conv with the flipped kernel packed
/// into its panels (`ChannelBlockedAdjoint`): within the float32 dot-product bound of the
/// float64 reference loops on odd shapes (channel counts not multiples of 16 or 64, a single
/// pixel, valid and wider-than-kernel padding, 1x3 and 5x5 windows, batches, bias or none),
/// bitwise the same for 1, 2 and 3 threads, and chosen by "auto" only as the rule says.
final class ChannelBlockedAdjointTests: XCTestCase {
    /// The forward conv whose adjoint is run: (batch, inChannels, outChannels, height, width,
    /// kernelH, kernelW, padTop, padLeft); stride 1.
    static let shapes: [(Int, Int, Int, Int, Int, Int, Int, Int, Int)] = [
        (1, 64, 64, 14, 14, 3, 3, 1, 1), (2, 90, 70, 7, 5, 3, 3, 1, 1), (3, 17, 33, 1, 1, 3, 3, 1, 1),
        (1, 130, 20, 11, 13, 3, 3, 0, 0), (2, 33, 17, 9, 8, 3, 3, 2, 2), (1, 48, 16, 12, 9, 5, 5, 2, 1),
        (1, 3, 5, 6, 30, 1, 3, 0, 1), (2, 200, 96, 7, 7, 3, 3, 1, 1), (1, 64, 48, 3, 29, 3, 3, 1, 0),
    ]

    func testMatchesReferenceAndThreads() throws {
        guard KernelTable.active.sconvChannelBlockedRow != nil else { throw XCTSkip("no channel-blocked kernel on this tier") }
        var rng = SplitMix64(seed: 41)
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        for (n, ci, co, h, w, kh, kw, pt, pl) in Self.shapes {
            let s = ConvShape(batch: n, groups: 1, inChannels: ci, outChannels: co, inHeight: h, inWidth: w,
                              outHeight: h + 2 * pt - kh + 1, outWidth: w + 2 * pl - kw + 1, kernelHeight: kh, kernelWidth: kw,
                              padTop: pt, padLeft: pl)
            XCTAssertTrue(ChannelBlockedAdjoint.runs(s, Float.self), "\(s)")
            XCTAssertFalse(ChannelBlockedAdjoint.runs(s, Double.self), "\(s)")
            let dy: [Float] = randomArray(s.outputCount, &rng), wt: [Float] = randomArray(s.weightCount, &rng)
            let bias: [Float] = randomArray(ci, &rng)
            for withBias in [true, false] {
                let b = withBias ? bias : nil
                let ref = runAdjoint(.reference, s, dy.map(Double.init), wt.map(Double.init), b?.map(Double.init))
                // |dx - ref| <= (patch + 1) u sum |dy w| (+ |b|), u = 2^-24, patch = C_out x taps.
                let magnitude = runAdjoint(.reference, s, dy.map { Double(abs($0)) }, wt.map { Double(abs($0)) }, b?.map { Double(abs($0)) })
                let gamma = Double(co * s.kernelTaps + 1) * 0x1p-24
                var first: [Float]? = nil
                for threads in [1, 2, 3] {
                    try ThreadPool.shared.setNumThreads(threads)
                    let dx = blockedAdjoint(s, dy, wt, b)
                    let within = zip(zip(dx, ref), magnitude).allSatisfy { abs(Double($0.0) - $0.1) <= gamma * $1 }
                    XCTAssertTrue(within, "\(s) bias \(withBias): beyond the dot-product bound")
                    if let first { XCTAssertEqual(dx.map(\.bitPattern), first.map(\.bitPattern), "\(s) bias \(withBias) threads \(threads)") }
                    first = first ?? dx
                }
                // The upsample formulation with "blocked" as its inner conv is this kernel.
                var viaUpsample = [Float](repeating: .nan, count: s.inputCount)
                try dy.withUnsafeBufferPointer { yp in try wt.withUnsafeBufferPointer { wp in try viaUpsample.withUnsafeMutableBufferPointer { xp in
                    func run(_ bias: UnsafePointer<Float>?) throws {
                        try ConvKernels.adjoint(.upsample, s, dy: yp.baseAddress!, w: wp.baseAddress!, bias: bias, dx: xp.baseAddress!, inner: .blocked)
                    }
                    if let b { try b.withUnsafeBufferPointer { try run($0.baseAddress!) } } else { try run(nil) }
                } } }
                XCTAssertEqual(viaUpsample.map(\.bitPattern), first!.map(\.bitPattern), "\(s) bias \(withBias) via upsample")
            }
        }
    }

    /// dx from `ChannelBlockedAdjoint.adjoint`, failing the test if it falls back.
    func blockedAdjoint(_ s: ConvShape, _ dy: [Float], _ w: [Float], _ b: [Float]?) -> [Float] {
        var dx = [Float](repeating: .nan, count: s.inputCount)
        dy.withUnsafeBufferPointer { yp in w.withUnsafeBufferPointer { wp in dx.withUnsafeMutableBufferPointer { xp in
            let out = xp.baseAddress!
            func run(_ bias: UnsafePointer<Float>?) {
                ChannelBlockedAdjoint.adjoint(s, dy: yp.baseAddress!, w: wp.baseAddress!, bias: bias, dx: out) { XCTFail("\(s): fell back") }
            }
            if let b { b.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
        } } }
        return dx
    }

    /// "auto" plans grad_input on it where the rule says, float32 (and half, which follows
    /// float32's kernel) only; a named "upsample"
    /// keeps the GEMM (its inner conv must not depend on the plane).
    func testPlannedOnlyWhereTheRuleSays() throws {
        guard KernelTable.active.sconvChannelBlockedRow != nil else { throw XCTSkip("no channel-blocked kernel on this tier") }
        func backward(_ n: Int, _ c: Int, _ size: Int, dtype: ConvDType = .float32) throws -> ConvPlan {
            var r = ConvRequest(op: .convBackward, inputShape: [n, c, size, size], weightShape: [c, c, 3, 3])
            r.padding = .explicit(top: 1, bottom: 1, left: 1, right: 1)
            r.gradOutputShape = [n, c, size, size]
            r.dtype = dtype
            return try ConvPlan(r)
        }
        func innerIsBlocked(_ p: ConvPlan) -> Bool {
            p.steps.contains { if case .adjoint(.upsample, .blocked?) = $0 { return true }; return false }
        }
        XCTAssertTrue(innerIsBlocked(try backward(8, 256, 14)))
        XCTAssertTrue(innerIsBlocked(try backward(1, 128, 28)))
        XCTAssertFalse(innerIsBlocked(try backward(8, 256, 14, dtype: .float64)))
        XCTAssertTrue(innerIsBlocked(try backward(8, 256, 14, dtype: .float16)), "half follows float32's kernel")
        XCTAssertFalse(innerIsBlocked(try backward(1, 512, 7)))
        XCTAssertFalse(innerIsBlocked(try backward(1, 32, 56)))
        var named = ConvRequest(op: .convTranspose, inputShape: [8, 256, 14, 14], weightShape: [256, 256, 3, 3])
        named.padding = .explicit(top: 1, bottom: 1, left: 1, right: 1)
        named.algorithm = "upsample"
        XCTAssertFalse(innerIsBlocked(try ConvPlan(named)))
    }
}
