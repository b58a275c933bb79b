@testable import SwiftConv
import XCTest

/// (N, C, *spatial) -> (N, *spatial, C), per image (the tests' own transposes, and back).
func toChannelsLast<T>(_ a: [T], batch: Int, channels: Int, pixels: Int) -> [T] {
    var out = a
    for n in 0..<batch { for c in 0..<channels { for p in 0..<pixels {
        out[(n * pixels + p) * channels + c] = a[(n * channels + c) * pixels + p]
    } } }
    return out
}

func toChannelsFirst<T>(_ a: [T], batch: Int, channels: Int, pixels: Int) -> [T] {
    var out = a
    for n in 0..<batch { for c in 0..<channels { for p in 0..<pixels {
        out[(n * channels + c) * pixels + p] = a[(n * pixels + p) * channels + c]
    } } }
    return out
}

/// Channels-last activations: the GEMM operands (`ChannelsLastUnfolded`,
/// `ChannelsLastWeights`), the channels-last forward against the reference kernels (every
/// tier, bitwise across thread counts), the layout conversions and channels-last plans.
final class ChannelsLastTests: XCTestCase {
    /// Random shapes with enough channels per group for the channels-last GEMM to be
    /// interesting (several taps, runs of channels, partial panels).
    func randomChannelsLastShape(_ rng: inout SplitMix64) -> ConvShape {
        while true {
            var s = randomShape(&rng, maxChannels: 6, maxSize: 12)
            let g = s.groups
            let cig = Int.random(in: 1...11, using: &rng), cog = Int.random(in: 1...37, using: &rng)
            var r = ConvRequest(op: .conv, inputShape: [Int.random(in: 1...3, using: &rng), cig * g, s.inHeight, s.inWidth],
                                weightShape: [cog * g, cig, s.kernelHeight, s.kernelWidth])
            r.stride = [s.strideH, s.strideW]; r.dilation = [s.dilationH, s.dilationW]; r.groups = g
            r.padding = .explicit(top: s.padTop, bottom: Int.random(in: 0...2, using: &rng), left: s.padLeft,
                                  right: Int.random(in: 0...2, using: &rng))
            if let geometry = try? ConvGeometry(validating: r), geometry.shape.outputCount > 0 {
                s = geometry.shape
                return s
            }
        }
    }

    /// The operand's packing and elements are the NCHW unfolded input's, reordered:
    /// A(i, (t, ci)) == unfold(i, (ci, t)).
    func operandCases<T: ConvScalar>(_: T.Type, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<30 {
            let s = randomChannelsLastShape(&rng)
            let x: [T] = randomArray(s.inputCount, &rng)
            let xl = toChannelsLast(x, batch: s.batch, channels: s.inChannels, pixels: s.inPixels)
            let cig = s.inChannelsPerGroup, taps = s.kernelTaps, patch = s.patchSize
            let rows = s.batch * s.outPixels
            x.withUnsafeBufferPointer { xp in xl.withUnsafeBufferPointer { lp in
                let g = Int.random(in: 0..<s.groups, using: &rng)
                let a = ChannelsLastUnfolded(x: lp.baseAddress! + g * cig, shape: s)
                for i in [0, rows / 2, rows - 1] {
                    let n = i / s.outPixels
                    let u = UnfoldedInput(x: xp.baseAddress! + (n * s.inChannels + g * cig) * s.inPixels, shape: s)
                    for p in 0..<patch {
                        let t = p / cig, ci = p % cig
                        XCTAssertEqual(a.element(i, p), u.element(ci * taps + t, i - n * s.outPixels), "\(s) i \(i) p \(p)")
                    }
                }
                // packA (the fast paths) against the default packing built on element().
                let r0 = Int.random(in: 0..<rows, using: &rng), r1 = Int.random(in: (r0 + 1)...rows, using: &rng)
                let d0 = Int.random(in: 0..<patch, using: &rng), d1 = Int.random(in: (d0 + 1)...patch, using: &rng)
                let count = (r1 - r0 + 5) / 6 * 6 * (d1 - d0)
                var fast = [T](repeating: .nan, count: count), slow = [T](repeating: .nan, count: count)
                fast.withUnsafeMutableBufferPointer { a.packA(into: $0.baseAddress!, rows: r0..<r1, depth: d0..<d1) }
                slow.withUnsafeMutableBufferPointer { ElementOnly(base: a).packA(into: $0.baseAddress!, rows: r0..<r1, depth: d0..<d1) }
                XCTAssertEqual(fast, slow, "packA \(s) rows \(r0)..<\(r1) depth \(d0)..<\(d1)")
            } }
        }
    }

    func testOperandFloat() { operandCases(Float.self, seed: 31) }
    func testOperandDouble() { operandCases(Double.self, seed: 32) }

    /// The packed weights hold W_g^T[(t, ci), co], zero past C_out/g.
    func testPackedWeights() {
        var rng = SplitMix64(seed: 33)
        for _ in 0..<20 {
            let s = randomChannelsLastShape(&rng)
            let w: [Float] = randomArray(s.weightCount, &rng)
            let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup, taps = s.kernelTaps, patch = s.patchSize
            w.withUnsafeBufferPointer { wp in
                let packed = ChannelsLastWeights(wp.baseAddress!, shape: s)!
                for g in 0..<s.groups {
                    let b = packed.operand(group: g)
                    let width = (cog + packed.nr - 1) / packed.nr * packed.nr
                    for p in 0..<patch {
                        for co in 0..<width {
                            let t = p / cig, ci = p % cig
                            let want: Float = co < cog ? w[((g * cog + co) * cig + ci) * taps + t] : 0
                            XCTAssertEqual(b.element(p, co), want)
                        }
                    }
                }
            }
        }
    }

    /// y (NHWC) of the channels-last forward, in NCHW order.
    func channelsLastForward<T: ConvScalar>(_ s: ConvShape, _ x: [T], _ w: [T], _ b: [T]?, packed: Bool = false) throws -> [T] {
        let xl = toChannelsLast(x, batch: s.batch, channels: s.inChannels, pixels: s.inPixels)
        var y = [T](repeating: .nan, count: s.outputCount)
        try xl.withUnsafeBufferPointer { xp in try w.withUnsafeBufferPointer { wp in try y.withUnsafeMutableBufferPointer { yp in
            let weights = packed ? ChannelsLastWeights(wp.baseAddress!, shape: s) : nil
            if let b {
                try b.withUnsafeBufferPointer { bp in
                    try ChannelsLastConvolution.forward(.gemm, s, x: xp.baseAddress!, w: wp.baseAddress!, bias: bp.baseAddress!,
                                                        y: yp.baseAddress!, packed: weights)
                }
            } else {
                try ChannelsLastConvolution.forward(.gemm, s, x: xp.baseAddress!, w: wp.baseAddress!, bias: nil, y: yp.baseAddress!,
                                                    packed: weights)
            }
        } } }
        return toChannelsFirst(y, batch: s.batch, channels: s.outChannels, pixels: s.outPixels)
    }

    /// The channels-last forward against the reference kernel (groups, stride, dilation,
    /// asymmetric padding, with and without bias), bit for bit the same for 1, 2 and 3
    /// threads and with weights packed ahead; a 1x1 stride-1 convolution bit for bit the
    /// channels-first GEMM's.
    func forwardCases<T: ConvScalar>(_: T.Type, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let threads = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(threads) }
        for _ in 0..<25 {
            let s = randomChannelsLastShape(&rng)
            let x: [T] = randomArray(s.inputCount, &rng), w: [T] = randomArray(s.weightCount, &rng)
            let b: [T]? = Bool.random(using: &rng) ? randomArray(s.outChannels, &rng) : nil
            let want = runForward(.reference, s, x, w, b)
            var results: [[T]] = []
            for n in [1, 2, 3] {
                try ThreadPool.shared.setNumThreads(n)
                results.append(try channelsLastForward(s, x, w, b))
            }
            results.append(try channelsLastForward(s, x, w, b, packed: true))
            for r in results.dropFirst() { XCTAssertEqual(r, results[0], "threads / packing changed the bits: \(s)") }
            let tolerance = T.self == Float.self ? 1e-5 : 1e-13
            XCTAssertLessThan(maxRelativeError(results[0], want), tolerance * Double(s.patchSize + 1), "\(s)")
            if s.isPointwise {
                XCTAssertEqual(results[0], runForward(.im2col, s, x, w, b), "1x1: the channels-first GEMM's bits \(s)")
            }
        }
    }

    func testForwardFloat() throws { try forwardCases(Float.self, seed: 34) }
    func testForwardDouble() throws { try forwardCases(Double.self, seed: 35) }

    func testForwardEveryKernelTier() throws {
        for tier in KernelTier.available {
            try withTier(tier) {
                try forwardCases(Float.self, seed: 40 + UInt64(tier.rawValue))
                try forwardCases(Double.self, seed: 50 + UInt64(tier.rawValue))
            }
        }
    }

    /// The channels-last backward kernels (grad_input at stride 1 by the flipped-kernel
    /// GEMM, grad_weight by dy^T x unfold(x), grad_bias by row sums) against the reference
    /// kernels, bit for bit the same for 1, 2 and 3 threads.
    func backwardCases<T: ConvScalar>(_: T.Type, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let threads = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(threads) }
        var checked = 0
        while checked < 20 {
            var s = randomChannelsLastShape(&rng)
            s.strideH = 1; s.strideW = 1
            // outputs of a stride-1 conv with this padding (the padding may be large)
            s.outHeight = s.inHeight + s.padTop + Int.random(in: 0...1, using: &rng) - s.dilationH * (s.kernelHeight - 1)
            s.outWidth = s.inWidth + s.padLeft + Int.random(in: 0...1, using: &rng) - s.dilationW * (s.kernelWidth - 1)
            if s.outHeight < 1 || s.outWidth < 1 { continue }
            checked += 1
            let x: [T] = randomArray(s.inputCount, &rng), w: [T] = randomArray(s.weightCount, &rng)
            let dy: [T] = randomArray(s.outputCount, &rng), b: [T] = randomArray(s.inChannels, &rng)
            let xl = toChannelsLast(x, batch: s.batch, channels: s.inChannels, pixels: s.inPixels)
            let dyl = toChannelsLast(dy, batch: s.batch, channels: s.outChannels, pixels: s.outPixels)
            var runs: [([T], [T], [T])] = []
            for n in [1, 2, 3] {
                try ThreadPool.shared.setNumThreads(n)
                var dx = [T](repeating: .nan, count: s.inputCount), dw = [T](repeating: .nan, count: s.weightCount)
                var db = [T](repeating: .nan, count: s.outChannels)
                try xl.withUnsafeBufferPointer { xp in try dyl.withUnsafeBufferPointer { yp in try w.withUnsafeBufferPointer { wp in
                    try b.withUnsafeBufferPointer { bp in try dx.withUnsafeMutableBufferPointer { dxp in
                        try ChannelsLastConvolution.adjoint(.gemm, s, dy: yp.baseAddress!, w: wp.baseAddress!, bias: bp.baseAddress!, dx: dxp.baseAddress!)
                    } }
                    try dw.withUnsafeMutableBufferPointer { dwp in
                        try ChannelsLastConvolution.weightGradient(.gemm, s, x: xp.baseAddress!, dy: yp.baseAddress!, dw: dwp.baseAddress!)
                    }
                    db.withUnsafeMutableBufferPointer { dbp in
                        ChannelsLastConvolution.biasGradient(rows: s.batch * s.outPixels, channels: s.outChannels, dy: yp.baseAddress!, db: dbp.baseAddress!)
                    }
                } } }
                runs.append((toChannelsFirst(dx, batch: s.batch, channels: s.inChannels, pixels: s.inPixels), dw, db))
            }
            for r in runs.dropFirst() {
                XCTAssertEqual(r.0, runs[0].0, "grad_input bits vs threads \(s)")
                XCTAssertEqual(r.1, runs[0].1, "grad_weight bits vs threads \(s)")
                XCTAssertEqual(r.2, runs[0].2, "grad_bias bits vs threads \(s)")
            }
            // Relative to 1 + |value|: a sum of K terms of magnitude <= 1 is off by about K eps;
            // a misplaced term by about 1 / sqrt(K).
            let eps = T.self == Float.self ? 1.2e-7 : 2.3e-16
            let kInput = Double(s.outChannelsPerGroup * s.kernelTaps + 1), kPixels = Double(s.batch * s.outPixels)
            XCTAssertLessThan(maxRelativeError(runs[0].0, runAdjoint(.reference, s, dy, w, b)), 8 * kInput * eps, "grad_input \(s)")
            XCTAssertLessThan(maxRelativeError(runs[0].1, runWeightGradient(.reference, s, x, dy)), 8 * kPixels * eps, "grad_weight \(s)")
            let tolerance = 8 * kPixels * eps
            var sums = [T](repeating: 0, count: s.outChannels)
            for n in 0..<s.batch { for c in 0..<s.outChannels { for p in 0..<s.outPixels { sums[c] += dy[(n * s.outChannels + c) * s.outPixels + p] } } }
            XCTAssertLessThan(maxRelativeError(runs[0].2, sums), tolerance, "grad_bias \(s)")
        }
    }

    func testBackwardFloat() throws { try backwardCases(Float.self, seed: 38) }
    func testBackwardDouble() throws { try backwardCases(Double.self, seed: 39) }

    func testLayoutConversionRoundTrip() {
        var rng = SplitMix64(seed: 36)
        for (batch, channels, pixels) in [(1, 1, 1), (2, 3, 70), (3, 130, 5), (1, 64, 129), (2, 17, 200)] {
            let a: [Double] = randomArray(batch * channels * pixels, &rng)
            var cl = [Double](repeating: .nan, count: a.count), back = cl
            a.withUnsafeBytes { src in cl.withUnsafeMutableBytes { dst in
                LayoutConversion.toChannelsLast(src.baseAddress!, dst.baseAddress!, batch: batch, channels: channels, pixels: pixels, elementBytes: 8)
            } }
            XCTAssertEqual(cl, toChannelsLast(a, batch: batch, channels: channels, pixels: pixels))
            cl.withUnsafeBytes { src in back.withUnsafeMutableBytes { dst in
                LayoutConversion.toChannelsFirst(src.baseAddress!, dst.baseAddress!, batch: batch, channels: channels, pixels: pixels, elementBytes: 8)
            } }
            XCTAssertEqual(back, a)
            // 2-byte elements (float16 / bfloat16 patterns) and 4-byte ones move the same way
            let h = a.map { UInt16(truncatingIfNeeded: $0.bitPattern >> 40) }
            var hl = [UInt16](repeating: 0, count: h.count)
            h.withUnsafeBytes { src in hl.withUnsafeMutableBytes { dst in
                LayoutConversion.toChannelsLast(src.baseAddress!, dst.baseAddress!, batch: batch, channels: channels, pixels: pixels, elementBytes: 2)
            } }
            XCTAssertEqual(hl, toChannelsLast(h, batch: batch, channels: channels, pixels: pixels))
        }
    }

    /// Plans: a channels-last request on the conversion path (depthwise, padding mode,
    /// 3-D, transposed, backward) gives bit for bit the channels-first plan's results, and
    /// a channels-last GEMM plan says so.
    func testPlansConvertOrRunInPlace() throws {
        var rng = SplitMix64(seed: 37)
        func run(_ r: ConvRequest, _ arrays: [ConvArray: [Float]]) throws -> [[Float]] {
            let plan = try ConvPlan(r)
            let shapes = plan.geometry.resultShapes
            let counts = shapes.map { $0?.reduce(1, *) ?? 0 }
            let buffers = counts.map { UnsafeMutablePointer<Float>.allocate(capacity: $0 + 1) }
            defer { buffers.forEach { $0.deallocate() } }
            let input = arrays[.input]!, weight = arrays[.weight]!, go = arrays[.gradOutput] ?? []
            try input.withUnsafeBytes { ip in try weight.withUnsafeBytes { wp in try go.withUnsafeBytes { gp in
                try ConvEngine.execute(plan, .init(input: ip.baseAddress, weight: wp.baseAddress, bias: nil, gradOutput: gp.baseAddress,
                                                   outputs: buffers.map { UnsafeMutableRawPointer($0) } + [nil, nil, nil]))
            } } }
            let outs = zip(buffers, counts).map { Array(UnsafeBufferPointer(start: $0, count: $1)) }
            return outs
        }
        // (op, rank, input shape, weight shape, groups, padding mode)
        let cases: [(ConvOp, Int, [Int], [Int], Int, PaddingMode)] = [
            (.conv, 2, [2, 6, 7, 5], [6, 1, 3, 3], 6, .zeros), (.conv, 2, [1, 16, 6, 6], [16, 16, 3, 3], 1, .reflect),
            (.conv, 3, [2, 8, 3, 4, 5], [16, 8, 3, 3, 3], 1, .zeros), (.conv, 1, [2, 3, 9], [4, 3, 3], 1, .circular),
            (.convTranspose, 2, [2, 8, 4, 5], [8, 4, 3, 3], 1, .zeros), (.convBackward, 2, [2, 8, 6, 6], [16, 4, 3, 3], 2, .zeros),
            (.convTransposeBackward, 1, [2, 8, 7], [8, 4, 3], 2, .zeros), (.convBackward, 2, [8, 6, 6], [16, 8, 3, 3], 1, .replicate),
        ]
        for (op, rank, xShape, wShape, groups, mode) in cases {
            var r = ConvRequest(op: op, spatialRank: rank, inputShape: xShape, weightShape: wShape)
            r.groups = groups
            r.padding = .symmetric(Array(repeating: 1, count: rank))
            r.paddingMode = mode
            if op.isBackward {
                var f = r; f.op = op == .convBackward ? .conv : .convTranspose
                r.gradOutputShape = try ConvGeometry(validating: f).resultShapes[0]
            }
            let x: [Float] = randomArray(xShape.reduce(1, *), &rng), w: [Float] = randomArray(wShape.reduce(1, *), &rng)
            let go: [Float] = r.gradOutputShape.map { randomArray($0.reduce(1, *), &rng) } ?? []
            let channelsFirst = try run(r, [.input: x, .weight: w, .gradOutput: go])
            var l = r; l.layout = .channelsLast
            let batched = xShape.count == rank + 2
            func cl(_ a: [Float], _ shape: [Int]) -> [Float] {
                toChannelsLast(a, batch: batched ? shape[0] : 1, channels: shape[batched ? 1 : 0], pixels: shape.suffix(rank).reduce(1, *))
            }
            let got = try run(l, [.input: cl(x, xShape), .weight: w, .gradOutput: r.gradOutputShape.map { cl(go, $0) } ?? []])
            let shapes = try ConvGeometry(validating: r).resultShapes
            XCTAssertEqual(got[0], shapes[0].map { cl(channelsFirst[0], $0) } ?? [], "\(op) \(xShape)")
            for i in 1..<got.count { XCTAssertEqual(got[i], channelsFirst[i], "\(op) \(xShape) result \(i)") }
            let plan = try ConvPlan(l)
            XCTAssertTrue(plan.explanation.contains("channels-last -> channels-first"), plan.explanation)
        }
        var dense = ConvRequest(op: .conv, spatialRank: 2, inputShape: [1, 16, 6, 6], weightShape: [16, 16, 3, 3])
        dense.layout = .channelsLast
        let plan = try ConvPlan(dense)
        XCTAssertTrue(plan.explanation.contains("channels-last gemm"), plan.explanation)
        XCTAssertFalse(plan.explanation.contains("channels-last -> channels-first"), plan.explanation)
    }
}

/// An operand that packs through the protocol's default (element by element).
private struct ElementOnly<Base: GemmOperand>: GemmOperand {
    let base: Base
    func element(_ r: Int, _ c: Int) -> Base.Scalar { base.element(r, c) }
}
