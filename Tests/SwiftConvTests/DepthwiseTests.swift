@testable import SwiftConv
import CSwiftConv
import XCTest

/// The channel-vectorised depthwise kernels (DepthwiseConvolution.swift, DepthwiseKernels.swift)
/// against the reference loops: forward, adjoint and weight gradient, every parameter, both
/// element types, every CPU tier this machine runs, bit for bit across thread counts, and
/// the SIMD loops on channels-last (NHWC) memory directly.
final class DepthwiseTests: XCTestCase {
    var savedThreads = 1
    override func setUp() { savedThreads = ThreadPool.shared.numThreads }
    override func tearDown() { try? ThreadPool.shared.setNumThreads(savedThreads) }

    /// A random depthwise shape: channels around the 16 / 8 lane blocks, kernels 1-7,
    /// strides 1-3, dilations 1-2, asymmetric padding (also beyond the kernel), planes down
    /// to smaller than the kernel, batch 1-3.
    func randomDepthwise(_ rng: inout SplitMix64, maxSize: Int = 13) -> ConvShape {
        while true {
            let c = [1, 3, 8, 16, 17, 24, 33].randomElement(using: &rng)!
            let kH = [1, 2, 3, 5, 7].randomElement(using: &rng)!, kW = Bool.random(using: &rng) ? kH : Int.random(in: 1...7, using: &rng)
            var r = ConvRequest(op: .conv, inputShape: [Int.random(in: 1...3, using: &rng), c,
                                                        Int.random(in: 1...maxSize, using: &rng), Int.random(in: 1...maxSize, using: &rng)],
                                weightShape: [c, 1, kH, kW])
            r.groups = c
            r.stride = [Int.random(in: 1...3, using: &rng), Int.random(in: 1...3, using: &rng)]
            r.dilation = [Int.random(in: 1...2, using: &rng), Int.random(in: 1...2, using: &rng)]
            r.padding = .explicit(top: Int.random(in: 0...3, using: &rng), bottom: Int.random(in: 0...3, using: &rng),
                                  left: Int.random(in: 0...3, using: &rng), right: Int.random(in: 0...3, using: &rng))
            if let g = try? ConvGeometry(validating: r) { return g.shape }
        }
    }

    func checkParity<T: ConvScalar>(_: T.Type, tolerance: Double, seed: UInt64, cases: Int = 80) {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<cases {
            let s = randomDepthwise(&rng)
            XCTAssertTrue(DepthwiseConvolution.supports(s, adjoint: false) && DepthwiseConvolution.supports(s, adjoint: true), "\(s)")
            XCTAssertEqual(KernelSelector.forward(s, .auto), .depthwise)
            XCTAssertEqual(KernelSelector.adjoint(s, .auto), .depthwise)
            XCTAssertEqual(KernelSelector.weightGradient(s, .auto), .depthwise)
            let x: [T] = randomArray(s.inputCount, &rng), w: [T] = randomArray(s.weightCount, &rng)
            let dy: [T] = randomArray(s.outputCount, &rng)
            let b: [T]? = Bool.random(using: &rng) ? randomArray(s.outChannels, &rng) : nil
            let bt: [T]? = Bool.random(using: &rng) ? randomArray(s.inChannels, &rng) : nil
            XCTAssertLessThan(maxRelativeError(runForward(.depthwise, s, x, w, b), runForward(.reference, s, x, w, b)), tolerance, "forward \(s)")
            XCTAssertLessThan(maxRelativeError(runAdjoint(.depthwise, s, dy, w, bt), runAdjoint(.reference, s, dy, w, bt)), tolerance, "adjoint \(s)")
            XCTAssertLessThan(maxRelativeError(runWeightGradient(.depthwise, s, x, dy), runWeightGradient(.reference, s, x, dy)),
                              tolerance * 10, "weight gradient \(s)")
        }
    }

    func testParityFloat() { checkParity(Float.self, tolerance: 1e-5, seed: 401) }
    func testParityDouble() { checkParity(Double.self, tolerance: 1e-13, seed: 402) }

    /// The layers of MobileNetV2 / EfficientNet-B0 kinds (wide planes: every SIMD block, the
    /// overlapping last block, several row blocks per task).
    func testNetworkLikeShapes() {
        var rng = SplitMix64(seed: 403)
        for (c, size, k, stride) in [(32, 40, 3, 1), (48, 33, 5, 2), (16, 57, 3, 2), (40, 9, 5, 1), (24, 7, 7, 1)] {
            var r = ConvRequest(op: .conv, inputShape: [2, c, size, size], weightShape: [c, 1, k, k])
            r.groups = c; r.stride = [stride, stride]; r.padding = .symmetric([k / 2, k / 2])
            let s = try! ConvGeometry(validating: r).shape
            let x: [Float] = randomArray(s.inputCount, &rng), w: [Float] = randomArray(s.weightCount, &rng)
            let dy: [Float] = randomArray(s.outputCount, &rng), b: [Float] = randomArray(c, &rng)
            XCTAssertLessThan(maxRelativeError(runForward(.depthwise, s, x, w, b), runForward(.reference, s, x, w, b)), 1e-5, "\(s)")
            XCTAssertLessThan(maxRelativeError(runAdjoint(.depthwise, s, dy, w, nil), runAdjoint(.reference, s, dy, w, nil)), 1e-5, "\(s)")
            XCTAssertLessThan(maxRelativeError(runWeightGradient(.depthwise, s, x, dy), runWeightGradient(.reference, s, x, dy)), 1e-4, "\(s)")
        }
    }

    /// Every tier's build of the loops (the baseline's multiply-adds are unfused).
    func testEveryTier() {
        for tier in KernelTier.available {
            withTier(tier) {
                checkParity(Float.self, tolerance: 1e-5, seed: 404, cases: 25)
                checkParity(Double.self, tolerance: 1e-13, seed: 405, cases: 25)
            }
        }
    }

    /// Bit for bit the same results with 1, 2 and 3 threads (tasks split by image, channel
    /// block and row block; the weight gradient's sums in an order fixed by the shape).
    func testBitwiseAcrossThreadCounts() throws {
        var rng = SplitMix64(seed: 406)
        for (n, c, size, k, stride) in [(1, 40, 30, 3, 1), (2, 17, 23, 5, 2), (1, 16, 64, 3, 2), (3, 33, 12, 7, 1)] {
            var r = ConvRequest(op: .conv, inputShape: [n, c, size, size], weightShape: [c, 1, k, k])
            r.groups = c; r.stride = [stride, stride]; r.padding = .symmetric([k / 2, k / 2])
            let s = try ConvGeometry(validating: r).shape
            XCTAssertGreaterThan(s.macs, ThreadPool.minimumParallelWork, "the loops must be parallel")
            let x: [Float] = randomArray(s.inputCount, &rng), w: [Float] = randomArray(s.weightCount, &rng)
            let dy: [Float] = randomArray(s.outputCount, &rng), b: [Float] = randomArray(c, &rng)
            var results: [[[UInt64]]] = []
            for threads in [1, 2, 3] {
                try ThreadPool.shared.setNumThreads(threads)
                results.append([bitPatterns(runForward(.depthwise, s, x, w, b))!, bitPatterns(runAdjoint(.depthwise, s, dy, w, b))!,
                                bitPatterns(runWeightGradient(.depthwise, s, x, dy))!])
            }
            XCTAssertEqual(results[0], results[1], "\(s)")
            XCTAssertEqual(results[0], results[2], "\(s)")
        }
    }

    /// 1-D, 2-D and 3-D depthwise requests through plans (the 3-D ones through the depth
    /// lowering, whose planar blocks are depthwise when the kernel depth is 1), against the
    /// reference; backward too.
    func testRanksThroughPlans() throws {
        var rng = SplitMix64(seed: 407)
        for rank in 1...3 {
            for _ in 0..<8 {
                let c = [5, 16, 19].randomElement(using: &rng)!
                let k = (0..<rank).map { i in rank == 3 && i == 0 ? 1 : Int.random(in: 1...5, using: &rng) }
                let sizes = (0..<rank).map { _ in Int.random(in: 1...[0, 30, 12, 7][rank], using: &rng) }
                var r = ConvRequest(op: .conv, spatialRank: rank, inputShape: [2, c] + sizes, weightShape: [c, 1] + k)
                r.groups = c
                r.stride = (0..<rank).map { _ in Int.random(in: 1...2, using: &rng) }
                r.padding = .symmetric((0..<rank).map { _ in Int.random(in: 0...2, using: &rng) })
                r.biasShape = [c]
                guard let g = try? ConvGeometry(validating: r) else { continue }
                let x: [Double] = randomArray(elementCount(r.inputShape), &rng), w: [Double] = randomArray(elementCount(r.weightShape), &rng)
                let b: [Double] = randomArray(c, &rng)
                let plan = try ConvPlan(r)
                XCTAssertTrue(plan.explanation.contains("forward conv: depthwise"), plan.explanation)
                var ref = r
                ref.algorithm = "reference"
                let y = try rankExecute(r, input: x, weight: w, bias: b)[0]!
                XCTAssertLessThan(maxRelativeError(y, try rankExecute(ref, input: x, weight: w, bias: b)[0]!), 1e-13, "\(g.shape)")
                let back = try rankBackwardRequest(of: r, mask: (true, true, true))
                var backRef = back
                backRef.algorithm = "reference"
                let dy: [Double] = randomArray(y.count, &rng)
                let got = try rankExecute(back, input: x, weight: w, gradOutput: dy)
                let want = try rankExecute(backRef, input: x, weight: w, gradOutput: dy)
                XCTAssertTrue(try ConvPlan(back).explanation.contains("transposed conv: depthwise"))
                XCTAssertTrue(try ConvPlan(back).explanation.contains("weight gradient: depthwise"))
                for i in 0..<3 { XCTAssertLessThan(maxRelativeError(got[i]!, want[i]!), 1e-12, "result \(i) of \(g.shape)") }
            }
        }
    }

    /// The SIMD loops on channels-last memory as it is (no tiles, the zero border read from
    /// the geometry's source bounds): forward, adjoint and weight gradient of 32 channels (two
    /// 16-lane blocks at channel offsets 0 and 16, pixel stride 32), against the reference
    /// on the same data in NCHW; and the forward bit for bit equal to the NCHW path.
    func testNHWCLoopsDirectly() {
        var rng = SplitMix64(seed: 408)
        let L = 16, C = 32
        for _ in 0..<20 {
            var s = randomDepthwise(&rng, maxSize: 15)
            s.groups = C; s.inChannels = C; s.outChannels = C; s.batch = 1
            let x: [Float] = randomArray(s.inputCount, &rng), w: [Float] = randomArray(s.weightCount, &rng)
            let dy: [Float] = randomArray(s.outputCount, &rng), b: [Float] = randomArray(C, &rng)
            func nhwc(_ a: [Float], _ h: Int, _ wd: Int) -> [Float] {
                var o = [Float](repeating: 0, count: a.count)
                for c in 0..<C { for p in 0..<(h * wd) { o[p * C + c] = a[c * h * wd + p] } }
                return o
            }
            func nchw(_ a: [Float], _ h: Int, _ wd: Int) -> [Float] {
                var o = [Float](repeating: 0, count: a.count)
                for c in 0..<C { for p in 0..<(h * wd) { o[c * h * wd + p] = a[p * C + c] } }
                return o
            }
            let xh = nhwc(x, s.inHeight, s.inWidth), dyh = nhwc(dy, s.outHeight, s.outWidth)
            let taps = s.kernelTaps
            func geometry(adjoint: Bool) -> sc_depthwise_rows {
                let (srcH, srcW, dstH, dstW) = adjoint ? (s.outHeight, s.outWidth, s.inHeight, s.inWidth) : (s.inHeight, s.inWidth, s.outHeight, s.outWidth)
                return sc_depthwise_rows(adjoint: adjoint ? 1 : 0, kernel_height: Int64(s.kernelHeight), kernel_width: Int64(s.kernelWidth),
                                         stride_h: Int64(s.strideH), stride_w: Int64(s.strideW), dilation_h: Int64(s.dilationH),
                                         dilation_w: Int64(s.dilationW), pad_top: Int64(s.padTop), pad_left: Int64(s.padLeft),
                                         src_row_begin: 0, src_row_end: Int64(srcH), src_col_begin: 0, src_col_end: Int64(srcW),
                                         row_begin: 0, row_end: Int64(dstH), col_begin: 0, col_end: Int64(dstW),
                                         src_pixel_stride: Int64(C), src_row_stride: Int64(srcW * C),
                                         dst_pixel_stride: Int64(C), dst_row_stride: Int64(dstW * C))
            }
            var yh = [Float](repeating: .nan, count: s.outputCount), dxh = [Float](repeating: .nan, count: s.inputCount)
            var dwt = [Float](repeating: 0, count: C * taps)  // per block: taps x 16
            for c0 in stride(from: 0, to: C, by: L) {
                var wt = [Float](repeating: 0, count: taps * L)
                for l in 0..<L { for k in 0..<taps { wt[k * L + l] = w[(c0 + l) * taps + k] } }
                let bt = Array(b[c0..<(c0 + L)]), zero = [Float](repeating: 0, count: L)
                xh.withUnsafeBufferPointer { xp in dyh.withUnsafeBufferPointer { dp in
                    yh.withUnsafeMutableBufferPointer { yp in
                        DepthwiseConvolution.rows(geometry(adjoint: false), xp.baseAddress! + c0, wt, bt, yp.baseAddress! + c0)
                    }
                    dxh.withUnsafeMutableBufferPointer { xo in
                        DepthwiseConvolution.rows(geometry(adjoint: true), dp.baseAddress! + c0, wt, zero, xo.baseAddress! + c0)
                    }
                    dwt.withUnsafeMutableBufferPointer { wo in
                        DepthwiseConvolution.weightGradientRows(geometry(adjoint: false), xp.baseAddress! + c0, dp.baseAddress!
                                                                + c0, wo.baseAddress! + c0 * taps)
                    }
                } }
            }
            var dw = [Float](repeating: 0, count: C * taps)
            for c in 0..<C { for k in 0..<taps { dw[c * taps + k] = dwt[(c / L) * L * taps + k * L + c % L] } }
            let y = nchw(yh, s.outHeight, s.outWidth)
            XCTAssertLessThan(maxRelativeError(y, runForward(.reference, s, x, w, b)), 1e-5, "NHWC forward \(s)")
            XCTAssertEqual(bitPatterns(y), bitPatterns(runForward(.depthwise, s, x, w, b)), "NHWC and NCHW paths, \(s)")
            XCTAssertLessThan(maxRelativeError(nchw(dxh, s.inHeight, s.inWidth), runAdjoint(.reference, s, dy, w, nil)), 1e-5, "NHWC adjoint \(s)")
            XCTAssertLessThan(maxRelativeError(dw, runWeightGradient(.reference, s, x, dy)), 1e-4, "NHWC weight gradient \(s)")
        }
    }

    /// Shapes the kernels do not take stay on the other kernels.
    func testSelection() {
        let dw = ConvShape(batch: 1, groups: 32, inChannels: 32, outChannels: 32, inHeight: 14, inWidth: 14,
                           outHeight: 12, outWidth: 12, kernelHeight: 3, kernelWidth: 3)
        XCTAssertEqual(KernelSelector.forward(dw, .auto), .depthwise)
        XCTAssertEqual(KernelSelector.forward(dw, .direct), .direct)  // a named algorithm is honoured
        var multiplier2 = dw
        multiplier2.outChannels = 64
        XCTAssertNotEqual(KernelSelector.forward(multiplier2, .auto), .depthwise)
        XCTAssertNotEqual(KernelSelector.weightGradient(multiplier2, .auto), .depthwise)
        var grouped = dw
        grouped.groups = 16
        XCTAssertNotEqual(KernelSelector.adjoint(grouped, .auto), .depthwise)
        // Plain 3x3 stride-1 layers on wide planes stay on the plane kernel (measured faster).
        let wide3x3 = ConvShape(batch: 1, groups: 32, inChannels: 32, outChannels: 32, inHeight: 112, inWidth: 112,
                                outHeight: 112, outWidth: 112, kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1)
        XCTAssertEqual(KernelSelector.forward(wide3x3, .auto), .direct)
        XCTAssertEqual(KernelSelector.adjoint(wide3x3, .auto), .upsample)
        XCTAssertEqual(KernelSelector.weightGradient(wide3x3, .auto), .direct)
        // The named algorithm pins the depthwise kernels (swiftconv.dask passes auto's choice to
        // every chunk); on other shapes it is "auto".
        XCTAssertEqual(KernelSelector.forward(wide3x3, .depthwise), .depthwise)
        XCTAssertEqual(KernelSelector.adjoint(wide3x3, .depthwise), .depthwise)
        XCTAssertEqual(KernelSelector.forward(multiplier2, .depthwise), KernelSelector.forward(multiplier2, .auto))
        XCTAssertEqual(KernelSelector.adjoint(grouped, .depthwise), KernelSelector.adjoint(grouped, .auto))
        XCTAssertEqual(ConvAlgorithm.valid(for: .conv).map(\.rawValue), ["auto", "direct", "im2col", "taps", "depthwise", "dot", "blocked", "reference"])
        XCTAssertEqual(ConvAlgorithm.valid(for: .convTranspose).map(\.rawValue), ["auto", "scatter", "upsample", "phase", "depthwise", "reference"])
        var wide3x3s2 = wide3x3
        wide3x3s2.strideH = 2; wide3x3s2.strideW = 2; wide3x3s2.outHeight = 56; wide3x3s2.outWidth = 56
        XCTAssertEqual(KernelSelector.forward(wide3x3s2, .auto), .depthwise)
        // A 1-D row too wide for one tile.
        let wide = ConvShape(batch: 1, groups: 4, inChannels: 4, outChannels: 4, inHeight: 1, inWidth: 100_000,
                             outHeight: 1, outWidth: 99_998, kernelHeight: 1, kernelWidth: 3)
        XCTAssertFalse(DepthwiseConvolution.supports(wide, adjoint: false))
        XCTAssertNotEqual(KernelSelector.forward(wide, .auto), .depthwise)
    }
}
