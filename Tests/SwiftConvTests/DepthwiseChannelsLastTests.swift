@testable import SwiftConv
import XCTest

/// Depthwise convolutions on channels-last activations in place (DepthwiseConvolution,
/// "Channels-last, in place"): every op through channels-last plans against the reference
/// kernels on the same data in NCHW (1-D and 2-D, strides 1-3, dilation, asymmetric padding,
/// kernels 1-7, channels not a multiple of the 16 / 8 lane blocks, batch > 1), every CPU
/// tier, bit for bit across thread counts, and the plans' choices.
final class DepthwiseChannelsLastTests: XCTestCase {
    var savedThreads = 1
    override func setUp() { savedThreads = ThreadPool.shared.numThreads }
    override func tearDown() { try? ThreadPool.shared.setNumThreads(savedThreads) }

    /// (N, C, *spatial) of `shape` -> (N, *spatial, C), and back.
    func relayout<T>(_ a: [T], _ shape: [Int], toChannelsLast: Bool) -> [T] {
        let n = shape[0], c = shape[1], pixels = shape.dropFirst(2).reduce(1, *)
        var out = a
        for i in 0..<n { for ch in 0..<c { for p in 0..<pixels {
            let first = (i * c + ch) * pixels + p, last = (i * pixels + p) * c + ch
            if toChannelsLast { out[last] = a[first] } else { out[first] = a[last] }
        } } }
        return out
    }

    /// A random depthwise request (`.conv` or `.convTranspose`, multiplier 1) of `rank` axes.
    func randomRequest(_ op: ConvOp, rank: Int, _ rng: inout SplitMix64, maxSize: Int = 13) -> ConvRequest {
        while true {
            let c = [16, 17, 20, 24, 31, 33, 40].randomElement(using: &rng)!
            func axes(_ range: ClosedRange<Int>) -> [Int] { (0..<rank).map { _ in Int.random(in: range, using: &rng) } }
            let k = axes(1...7), sizes = axes(1...(rank == 1 ? 3 * maxSize : maxSize))
            var r = ConvRequest(op: op, spatialRank: rank, inputShape: [Int.random(in: 1...3, using: &rng), c] + sizes,
                                weightShape: [c, 1] + k)
            r.groups = c
            r.stride = axes(1...3)
            r.dilation = axes(1...2)
            if op == .conv {
                r.padding = .explicit((0..<rank).map { _ in AxisPadding(Int.random(in: 0...3, using: &rng), Int.random(in: 0...3, using: &rng)) })
            } else {
                r.padding = .symmetric(axes(0...2))
                r.outputPadding = (0..<rank).map { Int.random(in: 0..<max(r.stride[$0], r.dilation[$0]), using: &rng) }
            }
            if Bool.random(using: &rng) { r.biasShape = [c] }
            if let g = try? ConvGeometry(validating: r), g.resultShapes[0]!.reduce(1, *) > 0 { return r }
        }
    }

    /// The op's results on channels-last data (activations returned in NCHW order), and
    /// the reference kernels' on the NCHW data; asserts the plan runs in place.
    func compare<T: ConvScalar>(_ r: ConvRequest, x: [T], w: [T], b: [T]?, dy: [T]?) throws -> (got: [[T]?], want: [[T]?]) {
        var l = r
        l.layout = .channelsLast
        let plan = try ConvPlan(l)
        XCTAssertTrue(plan.explanation.contains("channels-last depthwise"), plan.explanation)
        XCTAssertTrue(plan.explanation.contains("read and written in place"), plan.explanation)
        XCTAssertFalse(plan.explanation.contains("channels-first"), plan.explanation)
        var ref = r
        ref.algorithm = "reference"
        let want = try rankExecute(ref, input: x, weight: w, bias: b, gradOutput: dy)
        let xShape = r.inputShape, dyShape = r.gradOutputShape
        var got = try rankExecute(l, input: relayout(x, xShape, toChannelsLast: true), weight: w, bias: b,
                                  gradOutput: dy.map { relayout($0, dyShape!, toChannelsLast: true) })
        if let y = got[0] { got[0] = relayout(y, plan.geometry.resultShapes[0]!, toChannelsLast: false) }
        return (got, want)
    }

    func checkPlans<T: ConvScalar>(_: T.Type, tolerance: Double, seed: UInt64, cases: Int = 40) throws {
        var rng = SplitMix64(seed: seed)
        for i in 0..<cases {
            let op: ConvOp = i % 3 == 2 ? .convTranspose : .conv
            let r = randomRequest(op, rank: i % 4 == 3 ? 1 : 2, &rng)
            let x: [T] = randomArray(elementCount(r.inputShape), &rng), w: [T] = randomArray(elementCount(r.weightShape), &rng)
            let b: [T]? = r.biasShape.map { randomArray($0[0], &rng) }
            let f = try compare(r, x: x, w: w, b: b, dy: nil)
            let fshape = try ConvGeometry(validating: r).shape
            XCTAssertLessThan(maxRelativeError(f.got[0]!, f.want[0]!), tolerance, "\(op) \(fshape)")
            // Backward: grad_input (the adjoint at any stride, or the transposed op's conv),
            // grad_weight, grad_bias.
            let back = try rankBackwardRequest(of: r, mask: (true, true, true))
            let dy: [T] = randomArray(elementCount(back.gradOutputShape!), &rng)
            let g = try compare(back, x: x, w: w, b: nil, dy: dy)
            let shape = try ConvGeometry(validating: back).shape
            XCTAssertLessThan(maxRelativeError(g.got[0]!, g.want[0]!), tolerance, "\(back.op) grad_input \(shape)")
            XCTAssertLessThan(maxRelativeError(g.got[1]!, g.want[1]!), tolerance * 10, "\(back.op) grad_weight \(shape)")
            XCTAssertLessThan(maxRelativeError(g.got[2]!, g.want[2]!), tolerance * 10, "\(back.op) grad_bias \(shape)")
        }
    }

    func testPlansFloat() throws { try checkPlans(Float.self, tolerance: 1e-5, seed: 501) }
    func testPlansDouble() throws { try checkPlans(Double.self, tolerance: 1e-13, seed: 502) }

    /// Every tier's build of the loops (the baseline's multiply-adds are unfused).
    func testEveryTier() throws {
        for tier in KernelTier.available {
            try withTier(tier) {
                try checkPlans(Float.self, tolerance: 1e-5, seed: 503, cases: 12)
                try checkPlans(Double.self, tolerance: 1e-13, seed: 504, cases: 12)
            }
        }
    }

    /// Network-sized layers (several row blocks and channel blocks per image, the partial
    /// last block, wide rows with every SIMD block).
    func testNetworkLikeShapes() throws {
        var rng = SplitMix64(seed: 505)
        for (n, c, size, k, stride) in [(2, 96, 56, 3, 2), (1, 144, 28, 5, 1), (1, 40, 57, 3, 1), (2, 33, 20, 7, 2)] {
            var r = ConvRequest(op: .conv, inputShape: [n, c, size, size], weightShape: [c, 1, k, k])
            r.groups = c; r.stride = [stride, stride]; r.padding = .symmetric([k / 2, k / 2]); r.biasShape = [c]
            let x: [Float] = randomArray(elementCount(r.inputShape), &rng), w: [Float] = randomArray(elementCount(r.weightShape), &rng)
            let b: [Float] = randomArray(c, &rng)
            let f = try compare(r, x: x, w: w, b: b, dy: nil)
            XCTAssertLessThan(maxRelativeError(f.got[0]!, f.want[0]!), 1e-5, "\(r.inputShape) k\(k) s\(stride)")
            let back = try rankBackwardRequest(of: r, mask: (true, true, true))
            let dy: [Float] = randomArray(elementCount(back.gradOutputShape!), &rng)
            let g = try compare(back, x: x, w: w, b: nil, dy: dy)
            for i in 0..<3 { XCTAssertLessThan(maxRelativeError(g.got[i]!, g.want[i]!), 1e-4, "result \(i) \(r.inputShape) k\(k) s\(stride)") }
        }
    }

    /// Bit for bit the same results with 1, 2 and 3 threads: forward and adjoint tasks are
    /// (image, row block, channel block), the weight gradient's sums in an order fixed by
    /// the shape.
    func testBitwiseAcrossThreadCounts() throws {
        var rng = SplitMix64(seed: 506)
        for (n, c, size, k, stride, dilation) in [(1, 40, 30, 3, 1, 1), (2, 20, 23, 5, 2, 1), (1, 48, 64, 3, 2, 2), (3, 33, 12, 7, 1, 1)] {
            var r = ConvRequest(op: .conv, inputShape: [n, c, size, size], weightShape: [c, 1, k, k])
            r.groups = c; r.stride = [stride, stride]; r.dilation = [dilation, dilation]; r.padding = .symmetric([k / 2, k / 2])
            r.biasShape = [c]
            r.layout = .channelsLast
            let s = try ConvGeometry(validating: r).shape
            XCTAssertGreaterThan(s.macs, ThreadPool.minimumParallelWork, "the loops must be parallel")
            var t = r
            t.op = .convTranspose
            t.inputShape = [n, c, s.outHeight, s.outWidth]
            t.padding = .symmetric([k / 2, k / 2])
            let back = try rankBackwardRequest(of: r, mask: (true, true, true))
            let x: [Float] = randomArray(s.inputCount, &rng), w: [Float] = randomArray(s.weightCount, &rng)
            let b: [Float] = randomArray(c, &rng), dy: [Float] = randomArray(s.outputCount, &rng)
            var results: [[[UInt64]?]] = []
            for threads in [1, 2, 3] {
                try ThreadPool.shared.setNumThreads(threads)
                let y = try rankExecute(r, input: x, weight: w, bias: b)[0]
                let xt = try rankExecute(t, input: dy, weight: w, bias: b)[0]
                let g = try rankExecute(back, input: x, weight: w, gradOutput: dy)
                results.append([bitPatterns(y), bitPatterns(xt)] + g.map(bitPatterns))
            }
            XCTAssertEqual(results[0], results[1], "\(s)")
            XCTAssertEqual(results[0], results[2], "\(s)")
        }
    }

    /// Which channels-last depthwise plans run in place, and which still convert.
    func testSelection() throws {
        func plan(_ c: Int, size: Int = 14, k: Int = 3, stride: Int = 1, rank: Int = 2, op: ConvOp = .conv,
                  algorithm: String = "auto") throws -> ConvPlan {
            var r = ConvRequest(op: op, spatialRank: rank, inputShape: [1, c] + Array(repeating: size, count: rank),
                                weightShape: [c, 1] + Array(repeating: k, count: rank))
            r.groups = c; r.stride = Array(repeating: stride, count: rank); r.algorithm = algorithm
            r.layout = .channelsLast
            return try ConvPlan(r)
        }
        func inPlace(_ p: ConvPlan) -> Bool {
            !p.steps.contains { if case .toChannelsFirst = $0 { return true }; return false }
                && p.steps.contains { if case .forwardChannelsLast(.depthwise) = $0 { return true }
                                      if case .adjointChannelsLast(.depthwise) = $0 { return true }; return false }
        }
        XCTAssertTrue(inPlace(try plan(16)))
        XCTAssertTrue(inPlace(try plan(96, size: 112, stride: 2)))
        // The plain 3x3 layer the NCHW plan leaves on the plane kernel runs in place too.
        XCTAssertTrue(inPlace(try plan(32, size: 112)))
        XCTAssertTrue(inPlace(try plan(24, op: .convTranspose, algorithm: "depthwise")))
        XCTAssertTrue(inPlace(try plan(24, rank: 1)))
        XCTAssertTrue(try plan(24).explanation.contains("channels-last depthwise, reads the channels-last input"))
        XCTAssertNil(try plan(24).packedWeights)
        // Fewer channels than a Float block, a named other algorithm, 3-D: converted.
        XCTAssertFalse(inPlace(try plan(15)))
        XCTAssertFalse(inPlace(try plan(24, algorithm: "direct")))
        XCTAssertFalse(inPlace(try plan(24, size: 6, rank: 3)))
        // Every step of the backward in place.
        var f = ConvRequest(op: .conv, inputShape: [2, 24, 9, 9], weightShape: [24, 1, 3, 3])
        f.groups = 24; f.stride = [2, 2]
        var back = try rankBackwardRequest(of: f, mask: (true, true, true))
        back.layout = .channelsLast
        let steps = try ConvPlan(back).steps.map { "\($0)" }
        XCTAssertEqual(steps, ["adjointChannelsLast(SwiftConv.ChannelsLastKernel.depthwise)",
                               "weightGradientChannelsLast(SwiftConv.ChannelsLastKernel.depthwise)", "biasGradientChannelsLast"])
    }

    /// The channels-last tiles' rule (KernelSelector.channelsLastDepthwiseTiles) and split
    /// (ChannelsLastDepthwise.Split): tiles at stride 1, strided forwards only from inputs of
    /// 2 MB with planes up to 56x56, never the strided adjoint; a task's tiles within the
    /// budget (or one block per task), rows no fewer than the halo rule's, every block in
    /// exactly one run, and at least 2 tasks per thread where the blocks allow (4 asked, runs of equal size).
    func testTilesRuleAndSplit() {
        func shape(_ n: Int, _ c: Int, _ h: Int, k: Int, stride: Int) -> ConvShape {
            let o = (h + 2 * (k / 2) - k) / stride + 1
            return ConvShape(batch: n, groups: c, inChannels: c, outChannels: c, inHeight: h, inWidth: h,
                             outHeight: o, outWidth: o, kernelHeight: k, kernelWidth: k, strideH: stride,
                             strideW: stride, padTop: k / 2, padLeft: k / 2)
        }
        XCTAssertTrue(KernelSelector.channelsLastDepthwiseTiles(shape(1, 32, 112, k: 3, stride: 1), adjoint: false, elementBytes: 4))
        XCTAssertTrue(KernelSelector.channelsLastDepthwiseTiles(shape(1, 32, 112, k: 3, stride: 1), adjoint: true, elementBytes: 4))
        XCTAssertFalse(KernelSelector.channelsLastDepthwiseTiles(shape(1, 672, 14, k: 5, stride: 2), adjoint: false, elementBytes: 4))
        XCTAssertTrue(KernelSelector.channelsLastDepthwiseTiles(shape(8, 672, 14, k: 5, stride: 2), adjoint: false, elementBytes: 4))
        XCTAssertFalse(KernelSelector.channelsLastDepthwiseTiles(shape(1, 672, 14, k: 5, stride: 2), adjoint: false, elementBytes: 8))
        XCTAssertFalse(KernelSelector.channelsLastDepthwiseTiles(shape(8, 672, 14, k: 5, stride: 2), adjoint: true, elementBytes: 4))
        XCTAssertFalse(KernelSelector.channelsLastDepthwiseTiles(shape(8, 96, 112, k: 3, stride: 2), adjoint: false, elementBytes: 4))
        for s in [shape(1, 32, 112, k: 3, stride: 1), shape(8, 144, 56, k: 3, stride: 1), shape(1, 240, 28, k: 5, stride: 1),
                  shape(8, 672, 14, k: 5, stride: 1), shape(1, 1152, 7, k: 5, stride: 1), shape(8, 144, 56, k: 5, stride: 2),
                  shape(3, 20, 9, k: 7, stride: 1), shape(1, 4000, 30, k: 3, stride: 1)] {
            let t = DepthwiseConvolution.Tiling(s, adjoint: false, elementBytes: 4)
            let blocks = (s.groups + 15) / 16
            for threads in [1, 2, 3, 8] {
                let split = ChannelsLastDepthwise.Split(t, blocks: blocks, threads: threads)
                let tile = t.sourceRows(split.rows) * t.tileWidth * 64 * split.runBlocks
                XCTAssertTrue(tile <= ChannelsLastDepthwise.tileBytes || split.runBlocks == 1, "\(s) \(threads)")
                XCTAssertGreaterThanOrEqual(split.rows, min(ChannelsLastDepthwise.Split.minRows(t), t.dstH), "\(s)")
                XCTAssertEqual(split.rowBlocks, (t.dstH + split.rows - 1) / split.rows)
                XCTAssertTrue(split.runs * split.runBlocks >= blocks && (split.runs - 1) * split.runBlocks < blocks, "\(s) \(threads)")
                if threads > 1 {
                    XCTAssertGreaterThanOrEqual(s.batch * split.rowBlocks * split.runs, min(2 * threads, s.batch * split.rowBlocks * blocks), "\(s) \(threads)")
                }
            }
        }
    }
}
