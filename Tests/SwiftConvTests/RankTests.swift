@testable import SwiftConv
import XCTest

// Differential tests of the rank-generic engine: 1-D, 2-D and 3-D requests with every
// parameter, through ConvPlan + ConvEngine (so validation, planning, the depth lowering and
// the kernel routing are all in play), against the reference loops and against each other.

/// The engine's dtype for T.
func rankDType<T: ConvScalar>(_: T.Type) -> ConvDType { T.self == Float.self ? .float32 : .float64 }

/// Runs `request` (dtype set from T) through a plan; returns the present results. Result
/// buffers start as NaN, so an element the engine leaves unwritten fails any comparison.
/// `prepacked` plans with the weights (packed at creation when a step uses the GEMM).
func rankExecute<T: ConvScalar>(_ request: ConvRequest, input: [T], weight: [T], bias: [T]? = nil,
                                gradOutput: [T]? = nil, prepacked: Bool = false) throws -> [[T]?] {
    var r = request
    r.dtype = rankDType(T.self)
    let plan = try weight.withUnsafeBytes { try ConvPlan(r, weight: prepacked ? $0.baseAddress : nil) }
    var results = plan.geometry.resultShapes.map { $0.map { [T](repeating: .nan, count: $0.reduce(1, *)) } }
    while results.count < 3 { results.append(nil) }
    var r0 = results[0] ?? [], r1 = results[1] ?? [], r2 = results[2] ?? []
    try input.withUnsafeBytes { x in try weight.withUnsafeBytes { w in
        try (bias ?? []).withUnsafeBytes { b in try (gradOutput ?? []).withUnsafeBytes { g in
            try r0.withUnsafeMutableBytes { o0 in try r1.withUnsafeMutableBytes { o1 in try r2.withUnsafeMutableBytes { o2 in
                try ConvEngine.execute(plan, .init(input: x.baseAddress, weight: w.baseAddress,
                                                   bias: bias == nil ? nil : b.baseAddress,
                                                   gradOutput: gradOutput == nil ? nil : g.baseAddress,
                                                   outputs: [o0.baseAddress, o1.baseAddress, o2.baseAddress]))
            } } }
        } }
    } }
    return [results[0] == nil ? nil : r0, results[1] == nil ? nil : r1, results[2] == nil ? nil : r2]
}

/// A random valid forward request (`.conv` or `.convTranspose`) of `rank` spatial axes with
/// every parameter in play: groups, per-axis kernel, stride, dilation, asymmetric padding
/// (conv; sometimes "same"/"valid"), output_padding (transposed), batch 1-3 or unbatched.
/// Also returns the bias length (the op's output channels) and whether to use a bias.
func randomRankRequest(_ op: ConvOp, rank: Int, _ rng: inout SplitMix64, maxSize: Int? = nil,
                       maxChannels: Int = 3, batch: ClosedRange<Int> = 1...3) -> (request: ConvRequest, biasCount: Int, useBias: Bool) {
    let maxSize = maxSize ?? [0, 12, 7, 5][rank]
    while true {
        let groups = [1, 1, 2, 3].randomElement(using: &rng)!
        let cig = Int.random(in: 1...maxChannels, using: &rng), cog = Int.random(in: 1...maxChannels, using: &rng)
        func axes(_ range: ClosedRange<Int>) -> [Int] { (0..<rank).map { _ in Int.random(in: range, using: &rng) } }
        let k = axes(1...3), stride = axes(1...3), dilation = axes(1...2), sizes = axes(1...maxSize)
        let n = Int.random(in: batch, using: &rng)
        let unbatched = n == 1 && Bool.random(using: &rng)
        // conv: (N, groups*cig, ...) with weight (groups*cog, cig, k); transposed: input
        // (N, groups*cig, ...) with weight (groups*cig, cog, k), output groups*cog channels.
        let channels = groups * cig
        let weight = op == .conv ? [groups * cog, cig] + k : [channels, cog] + k
        var r = ConvRequest(op: op, spatialRank: rank, inputShape: (unbatched ? [] : [n]) + [channels] + sizes, weightShape: weight)
        r.stride = stride
        r.dilation = dilation
        r.groups = groups
        if op == .conv {
            switch Int.random(in: 0..<8, using: &rng) {
            case 0: r.padding = .valid
            case 1: r.padding = .same; r.stride = Array(repeating: 1, count: rank)
            default: r.padding = .explicit((0..<rank).map { _ in AxisPadding(Int.random(in: 0...2, using: &rng), Int.random(in: 0...2, using: &rng)) })
            }
        } else {
            r.padding = .symmetric(axes(0...2))
            r.outputPadding = (0..<rank).map { Int.random(in: 0..<max(stride[$0], dilation[$0]), using: &rng) }
        }
        let useBias = Bool.random(using: &rng)
        let biasCount = groups * cog
        if useBias { r.biasShape = [biasCount] }
        if (try? ConvGeometry(validating: r)) != nil { return (r, biasCount, useBias) }
    }
}

/// The backward request of a forward one (`gradOutputShape` = the forward result's shape).
func rankBackwardRequest(of forward: ConvRequest, mask: (input: Bool, weight: Bool, bias: Bool)) throws -> ConvRequest {
    var b = forward
    b.op = forward.op == .conv ? .convBackward : .convTransposeBackward
    b.biasShape = nil
    b.gradOutputShape = try ConvGeometry(validating: forward).resultShapes[0]!
    b.outputMask = mask
    return b
}

func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

/// Bit patterns, so that "equal" means bit for bit (-0 != +0, NaN == the same NaN).
func bitPatterns<T: ConvScalar>(_ a: [T]?) -> [UInt64]? {
    a?.map { v in
        if let f = v as? Float { return UInt64(f.bitPattern) }
        return (v as! Double).bitPattern
    }
}

final class RankTests: XCTestCase {

    // MARK: every algorithm against the reference, per rank

    func checkAlgorithms<T: ConvScalar>(_: T.Type, tolerance: Double, seed: UInt64, cases: Int) throws {
        var rng = SplitMix64(seed: seed)
        for rank in 1...3 {
            for i in 0..<cases {
                for op in [ConvOp.conv, .convTranspose] {
                    // The first two cases are large enough for "auto" to leave the direct kernels
                    // (the GEMM kernels), and small enough for the debug-built loops.
                    var (fwd, biasCount, useBias) = randomRankRequest(op, rank: rank, &rng)
                    while i < 2, let macs = try? ConvGeometry(validating: fwd).shape.macs, macs < 65_536 || macs > 300_000 {
                        (fwd, biasCount, useBias) = randomRankRequest(op, rank: rank, &rng, maxSize: [0, 64, 16, 8][rank], maxChannels: 8)
                    }
                    let x: [T] = randomArray(elementCount(fwd.inputShape), &rng), w: [T] = randomArray(elementCount(fwd.weightShape), &rng)
                    let b: [T]? = useBias ? randomArray(biasCount, &rng) : nil
                    var ref = fwd
                    ref.algorithm = "reference"
                    let expected = try rankExecute(ref, input: x, weight: w, bias: b)[0]!
                    for a in generalAlgorithms(op) where a != .reference {
                        var r = fwd
                        r.algorithm = a.rawValue
                        let y = try rankExecute(r, input: x, weight: w, bias: b, prepacked: i % 2 == 1)[0]!
                        XCTAssertLessThan(maxRelativeError(y, expected), tolerance, "\(fwd.opName) \(a) \(fwd)")
                    }
                    // The backward op ("auto" against "reference"), with a random mask.
                    let mask = (Bool.random(using: &rng), Bool.random(using: &rng), Bool.random(using: &rng))
                    var bwd = try rankBackwardRequest(of: fwd, mask: mask)
                    let dy: [T] = randomArray(elementCount(bwd.gradOutputShape!), &rng)
                    let auto = try rankExecute(bwd, input: x, weight: w, gradOutput: dy, prepacked: i % 2 == 1)
                    bwd.algorithm = "reference"
                    let refGrads = try rankExecute(bwd, input: x, weight: w, gradOutput: dy)
                    for (j, (g, e)) in zip(auto, refGrads).enumerated() {
                        XCTAssertEqual(g == nil, e == nil)
                        if let g, let e {
                            XCTAssertLessThan(maxRelativeError(g, e), tolerance, "\(bwd.opName) result \(j) \(fwd)")
                        }
                    }
                }
            }
        }
    }

    func testEveryAlgorithmFloat() throws { try checkAlgorithms(Float.self, tolerance: 1e-5, seed: 101, cases: 12) }
    func testEveryAlgorithmDouble() throws { try checkAlgorithms(Double.self, tolerance: 1e-12, seed: 102, cases: 12) }

    // MARK: the depth lowering with several blocks

    /// DepthLowering run with many blocks (forced by a large `elementBytes`, which only
    /// scales the budget arithmetic) on every planar kernel, against the 3-D reference loops.
    func checkLoweringBlocks<T: ConvScalar>(_: T.Type, tolerance: Double, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var blockCounts = Set<Int>()
        for _ in 0..<8 {
            let (r, _, _) = randomRankRequest(.conv, rank: 3, &rng, maxSize: 5, batch: 2...3)
            let s = try ConvGeometry(validating: r).shape
            let inSlice = s.inChannels * s.kernelDepth * s.inHeight * s.inWidth, outSlice = s.outChannels * s.outHeight * s.outWidth
            let x: [T] = randomArray(s.inputCount, &rng), w: [T] = randomArray(s.weightCount, &rng)
            let dy: [T] = randomArray(s.outputCount, &rng)
            let bias: [T] = randomArray(s.outChannels, &rng), adjointBias: [T] = randomArray(s.inChannels, &rng)
            let y0 = runForward(.reference, s, x, w, bias)
            let dx0 = runAdjoint(.reference, s, dy, w, adjointBias)
            let dw0 = runWeightGradient(.reference, s, x, dy)
            // 1 and 2 slices per block (1 per block makes at least 2 blocks: the batch is >= 2).
            for perBlock in [1, 2] {
                let l = try DepthLowering(s, elementBytes: DepthLowering.budgetBytes / ((inSlice + outSlice) * perBlock))
                XCTAssertEqual(l.slicesPerBlock, min(perBlock, l.totalSlices))
                XCTAssertEqual(l.blocks, (l.totalSlices + perBlock - 1) / perBlock)
                if perBlock == 1 { XCTAssertGreaterThan(l.blocks, 1) }
                blockCounts.insert(l.blocks)
                try x.withUnsafeBufferPointer { xp in try w.withUnsafeBufferPointer { wp in
                    try dy.withUnsafeBufferPointer { dyp in try bias.withUnsafeBufferPointer { bp in
                        try adjointBias.withUnsafeBufferPointer { abp in
                            for k in [ForwardKernel.reference, .direct, .im2col, .taps] {
                                var y = [T](repeating: .nan, count: s.outputCount)
                                try y.withUnsafeMutableBufferPointer { yp in
                                    try l.forward(x: xp.baseAddress!, y: yp.baseAddress!) { planar, px, py in
                                        ConvKernels.forward(k, planar, x: px, w: wp.baseAddress!, bias: bp.baseAddress!, y: py)
                                    }
                                }
                                XCTAssertLessThan(maxRelativeError(y, y0), tolerance, "forward \(k) \(l.blocks) blocks \(s)")
                            }
                            for k in [AdjointKernel.reference, .scatter, .upsample, .phase] {
                                var dx = [T](repeating: .nan, count: s.inputCount)
                                try dx.withUnsafeMutableBufferPointer { dxp in
                                    try l.adjoint(dy: dyp.baseAddress!, bias: abp.baseAddress!, dx: dxp.baseAddress!) { planar, pdy, pdx in
                                        try ConvKernels.adjoint(k, planar, dy: pdy, w: wp.baseAddress!, bias: nil, dx: pdx)
                                    }
                                }
                                XCTAssertLessThan(maxRelativeError(dx, dx0), tolerance, "adjoint \(k) \(l.blocks) blocks \(s)")
                            }
                            for k in [WeightGradientKernel.reference, .gemm, .direct] {
                                var dw = [T](repeating: .nan, count: s.weightCount)
                                try dw.withUnsafeMutableBufferPointer { dwp in
                                    try l.weightGradient(x: xp.baseAddress!, dy: dyp.baseAddress!, dw: dwp.baseAddress!) { planar, px, pdy, pdw in
                                        ConvKernels.weightGradient(k, planar, x: px, dy: pdy, dw: pdw)
                                    }
                                }
                                XCTAssertLessThan(maxRelativeError(dw, dw0), tolerance, "weight gradient \(k) \(l.blocks) blocks \(s)")
                            }
                        }
                    } }
                } }
            }
        }
        XCTAssertGreaterThan(blockCounts.count, 2, "several block counts, \(blockCounts)")
    }

    func testDepthLoweringBlocksFloat() throws { try checkLoweringBlocks(Float.self, tolerance: 1e-5, seed: 103) }
    func testDepthLoweringBlocksDouble() throws { try checkLoweringBlocks(Double.self, tolerance: 1e-12, seed: 104) }

    /// The plan's lowering: one block for small shapes, and the slice budget respected.
    func testPlanLowering() throws {
        var r = ConvRequest(op: .conv, spatialRank: 3, inputShape: [2, 3, 4, 5, 6], weightShape: [4, 3, 3, 3, 3])
        r.padding = .symmetric([1, 1, 1])
        let plan = try ConvPlan(r)
        let l = try XCTUnwrap(plan.lowering)
        XCTAssertEqual(l.blocks, 1)
        XCTAssertEqual(l.totalSlices, 8)
        XCTAssertEqual(plan.kernelShape.inChannels, 9)  // (channel, kernel depth) pairs
        XCTAssertEqual(plan.kernelShape.batch, 8)
        XCTAssertTrue(plan.explanation.contains("depth lowering: 8 (image, depth) slices in 1 block"))
        r.algorithm = "reference"
        XCTAssertNil(try ConvPlan(r).lowering, "the reference loops run 3-D as it is")
        // A depth-1 volume with no depth padding is planar: no lowering.
        var flat = ConvRequest(op: .conv, spatialRank: 3, inputShape: [1, 3, 1, 5, 6], weightShape: [4, 3, 1, 3, 3])
        flat.stride = [3, 1, 1]
        XCTAssertNil(try ConvPlan(flat).lowering)
    }

    // MARK: lower ranks embed bit for bit

    /// The request of `r` with one more, outermost spatial axis of size 1 (kernel 1, no
    /// padding, output_padding 0, stride and dilation 1 or, with `degenerate`, any).
    func embedded(_ r: ConvRequest, degenerate: Bool, _ rng: inout SplitMix64) -> ConvRequest {
        var e = r
        e.spatialRank = r.spatialRank + 1
        let batched = r.inputShape.count == r.spatialRank + 2
        let lead = batched ? 2 : 1
        e.inputShape = Array(r.inputShape.prefix(lead)) + [1] + r.inputShape.dropFirst(lead)
        e.weightShape = Array(r.weightShape.prefix(2)) + [1] + r.weightShape.dropFirst(2)
        let anyStride = degenerate && r.padding != .same
        e.stride = [anyStride ? Int.random(in: 1...3, using: &rng) : 1] + r.stride
        e.dilation = [degenerate ? Int.random(in: 1...2, using: &rng) : 1] + r.dilation
        e.outputPadding = [0] + r.outputPadding
        if case .explicit(let p) = r.padding { e.padding = .explicit([AxisPadding(0, 0)] + p) }
        if let g = r.gradOutputShape { e.gradOutputShape = Array(g.prefix(lead)) + [1] + g.dropFirst(lead) }
        return e
    }

    /// conv1d == conv2d on a height-1 input, and conv2d == conv3d on a depth-1 input, bit
    /// for bit, for every op and algorithm (the same planar shape runs the same kernels).
    func checkEmbedding(degenerate: Bool, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        for rank in 1...2 {
            for i in 0..<10 {
                for op in [ConvOp.conv, .convTranspose] {
                    let (fwd, biasCount, useBias) = randomRankRequest(op, rank: rank, &rng)
                    let x: [Float] = randomArray(elementCount(fwd.inputShape), &rng), w: [Float] = randomArray(elementCount(fwd.weightShape), &rng)
                    let b: [Float]? = useBias ? randomArray(biasCount, &rng) : nil
                    let bwd = try rankBackwardRequest(of: fwd, mask: (true, true, true))
                    let dy: [Float] = randomArray(elementCount(bwd.gradOutputShape!), &rng)
                    for (base, algorithms) in [(fwd, generalAlgorithms(op)), (bwd, generalAlgorithms(bwd.op))] {
                        let high = embedded(base, degenerate: degenerate, &rng)
                        XCTAssertTrue(try ConvPlan(high).geometry.shape.isPlanar)
                        for a in algorithms {
                            var lo = base, hi = high
                            lo.algorithm = a.rawValue; hi.algorithm = a.rawValue
                            let isBackward = base.op.isBackward
                            let yl = try rankExecute(lo, input: x, weight: w, bias: isBackward ? nil : b, gradOutput: isBackward ? dy : nil,
                                                     prepacked: i % 2 == 0)
                            let yh = try rankExecute(hi, input: x, weight: w, bias: isBackward ? nil : b, gradOutput: isBackward ? dy : nil,
                                                     prepacked: i % 2 == 0)
                            for j in 0..<3 {
                                if !degenerate {
                                    XCTAssertEqual(bitPatterns(yl[j]), bitPatterns(yh[j]), "\(lo.opName) vs \(hi.opName) \(a) result \(j) \(lo)")
                                } else if let l = yl[j], let h = yh[j] {
                                    XCTAssertLessThan(maxRelativeError(h, l), 1e-5, "\(lo.opName) vs \(hi.opName) \(a) result \(j) \(lo)")
                                } else {
                                    XCTAssertEqual(yl[j] == nil, yh[j] == nil)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    func testLowerRanksEmbedBitForBit() throws { try checkEmbedding(degenerate: false, seed: 105) }

    /// Stride and dilation on an axis of size 1 with a kernel of 1 change nothing but
    /// rounding: not bit for bit, because "auto" sees the stride (a conv_transpose with
    /// stride 2 on such an axis gets the scatter kernel where stride 1 gets upsample).
    func testDegenerateAxisParameters() throws {
        try checkEmbedding(degenerate: true, seed: 115)
        // Large enough for "auto" to leave the direct kernel: stride 2 on the size-1 axis.
        var r = ConvRequest(op: .convTranspose, spatialRank: 1, inputShape: [1, 16, 200], weightShape: [16, 16, 3])
        var rng = SplitMix64(seed: 116)
        let x: [Float] = randomArray(3200, &rng), w: [Float] = randomArray(768, &rng)
        let y1 = try rankExecute(r, input: x, weight: w)[0]!
        r.spatialRank = 2; r.inputShape = [1, 16, 1, 200]; r.weightShape = [16, 16, 1, 3]
        r.stride = [2, 1]; r.dilation = [1, 1]; r.padding = .symmetric([0, 0]); r.outputPadding = [0, 0]
        XCTAssertLessThan(maxRelativeError(try rankExecute(r, input: x, weight: w)[0]!, y1), 1e-5)
    }

    // MARK: 3-D adjoint identity

    /// <conv3d(x), dy> == <x, conv_transpose3d(dy)> for every pairing of algorithms (the
    /// transposed op given the output_padding that restores x's size), and the conv's
    /// input gradient is the same conv_transpose3d.
    func testAdjointIdentity3D() throws {
        var rng = SplitMix64(seed: 106)
        for _ in 0..<8 {
            var (fwd, _, _) = randomRankRequest(.conv, rank: 3, &rng)
            fwd.biasShape = nil
            let pads = (0..<3).map { _ in Int.random(in: 0...2, using: &rng) }
            fwd.padding = .symmetric(pads)
            guard let g = try? ConvGeometry(validating: fwd) else { continue }
            let yShape = g.resultShapes[0]!
            let s = g.shape
            let inSizes = [s.inDepth, s.inHeight, s.inWidth], outSizes = [s.outDepth, s.outHeight, s.outWidth]
            var tr = ConvRequest(op: .convTranspose, spatialRank: 3, inputShape: yShape, weightShape: fwd.weightShape)
            tr.stride = fwd.stride; tr.dilation = fwd.dilation; tr.groups = fwd.groups; tr.padding = .symmetric(pads)
            let kernel = Array(fwd.weightShape.suffix(3))
            // x's size minus the transposed output size without output_padding: < stride.
            tr.outputPadding = (0..<3).map { a in
                inSizes[a] - ((outSizes[a] - 1) * fwd.stride[a] - 2 * pads[a] + fwd.dilation[a] * (kernel[a] - 1) + 1)
            }
            XCTAssertEqual(try ConvGeometry(validating: tr).resultShapes[0]!, fwd.inputShape)

            let x: [Double] = randomArray(elementCount(fwd.inputShape), &rng), w: [Double] = randomArray(elementCount(fwd.weightShape), &rng)
            let dy: [Double] = randomArray(elementCount(yShape), &rng)
            var values: [(String, Double)] = []
            for a in generalAlgorithms(.conv) {
                var r = fwd
                r.algorithm = a.rawValue
                values.append(("conv \(a)", dot(try rankExecute(r, input: x, weight: w)[0]!, dy)))
            }
            for a in generalAlgorithms(.convTranspose) {
                var r = tr
                r.algorithm = a.rawValue
                values.append(("transposed \(a)", dot(x, try rankExecute(r, input: dy, weight: w)[0]!)))
            }
            let dx = try rankExecute(try rankBackwardRequest(of: fwd, mask: (true, false, false)), input: x, weight: w, gradOutput: dy)[0]!
            values.append(("conv3d_backward", dot(x, dx)))
            let lhs = values[0].1
            for (what, v) in values {
                XCTAssertEqual(v, lhs, accuracy: 1e-10 * (1 + abs(lhs)), "\(what) \(s)")
            }
        }
    }

    // MARK: gradients against finite differences, 1-D and 3-D

    func checkFiniteDifferences(rank: Int, op: ConvOp, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<3 {
            var (fwd, biasCount, _) = randomRankRequest(op, rank: rank, &rng, maxSize: rank == 1 ? 7 : (op == .conv ? 3 : 2),
                                                        maxChannels: 2, batch: 1...2)
            fwd.biasShape = [biasCount]
            let x: [Double] = randomArray(elementCount(fwd.inputShape), &rng), w: [Double] = randomArray(elementCount(fwd.weightShape), &rng)
            let b: [Double] = randomArray(biasCount, &rng)
            let bwd = try rankBackwardRequest(of: fwd, mask: (true, true, true))
            let r: [Double] = randomArray(elementCount(bwd.gradOutputShape!), &rng)
            func loss(_ x: [Double], _ w: [Double], _ b: [Double]) throws -> Double { dot(try runOp(fwd, input: x, weight: w, bias: b)[0]!, r) }
            let grads = try runOp(bwd, input: x, weight: w, gradOutput: r)
            XCTAssertLessThan(maxRelativeError(grads[0]!, try numericGradient(x) { try loss($0, w, b) }), 1e-6, "grad_input \(fwd)")
            XCTAssertLessThan(maxRelativeError(grads[1]!, try numericGradient(w) { try loss(x, $0, b) }), 1e-6, "grad_weight \(fwd)")
            XCTAssertLessThan(maxRelativeError(grads[2]!, try numericGradient(b) { try loss(x, w, $0) }), 1e-6, "grad_bias \(fwd)")
        }
    }

    func testConv1dGradients() throws { try checkFiniteDifferences(rank: 1, op: .conv, seed: 107) }
    func testConvTranspose1dGradients() throws { try checkFiniteDifferences(rank: 1, op: .convTranspose, seed: 108) }
    func testConv3dGradients() throws { try checkFiniteDifferences(rank: 3, op: .conv, seed: 109) }
    func testConvTranspose3dGradients() throws { try checkFiniteDifferences(rank: 3, op: .convTranspose, seed: 110) }

    // MARK: empty batches

    /// Batch 0 on every rank, op and algorithm: empty outputs, and zero weight and bias
    /// gradients (every element written, none left as it was).
    func testEmptyBatch() throws {
        var rng = SplitMix64(seed: 111)
        for rank in 1...3 {
            for op in [ConvOp.conv, .convTranspose] {
                var (fwd, _, _) = randomRankRequest(op, rank: rank, &rng, batch: 1...1)
                if fwd.inputShape.count == rank + 1 { fwd.inputShape.insert(0, at: 0) } else { fwd.inputShape[0] = 0 }
                fwd.biasShape = nil
                let w: [Double] = randomArray(elementCount(fwd.weightShape), &rng)
                for a in generalAlgorithms(op) {
                    var r = fwd
                    r.algorithm = a.rawValue
                    XCTAssertEqual(try rankExecute(r, input: [Double](), weight: w)[0]!, [], "\(r.opName) \(a)")
                }
                for a in generalAlgorithms(op == .conv ? .convBackward : .convTransposeBackward) {
                    var bwd = try rankBackwardRequest(of: fwd, mask: (true, true, true))
                    bwd.algorithm = a.rawValue
                    let g = try rankExecute(bwd, input: [Double](), weight: w, gradOutput: [])
                    XCTAssertEqual(g[0]!, [])
                    XCTAssertEqual(g[1]!, [Double](repeating: 0, count: w.count), "grad_weight \(bwd.opName) \(a) \(fwd)")
                    XCTAssertEqual(g[2]!, [Double](repeating: 0, count: bwd.gradOutputShape![1]), "grad_bias \(bwd.opName) \(a)")
                }
            }
        }
    }
}
