@testable import SwiftConv
import XCTest

/// Runs one float64 op through ConvPlan and ConvEngine; returns the present results.
func runOp(_ request: ConvRequest, input: [Double], weight: [Double], bias: [Double]? = nil,
           gradOutput: [Double]? = nil) throws -> [[Double]?] {
    var r = request
    r.dtype = .float64
    let plan = try ConvPlan(r)
    let counts = plan.geometry.resultShapes.map { $0?.reduce(1, *) }
    let buffers = counts.map { $0.map { UnsafeMutablePointer<Double>.allocate(capacity: max(1, $0)) } }
    defer { buffers.forEach { $0?.deallocate() } }
    var outputs: [UnsafeMutableRawPointer?] = [nil, nil, nil]
    for (i, b) in buffers.enumerated() { outputs[i] = b.map { UnsafeMutableRawPointer($0) } }
    try input.withUnsafeBytes { xp in try weight.withUnsafeBytes { wp in
        try (bias ?? []).withUnsafeBytes { bp in try (gradOutput ?? []).withUnsafeBytes { gp in
            try ConvEngine.execute(plan, .init(input: xp.baseAddress, weight: wp.baseAddress,
                                               bias: bias == nil ? nil : bp.baseAddress,
                                               gradOutput: gradOutput == nil ? nil : gp.baseAddress, outputs: outputs))
        } }
    } }
    return zip(buffers, counts).map { b, n in b.map { Array(UnsafeBufferPointer(start: $0, count: n!)) } }
}

/// d/dv of loss(v) by central differences, for every element of v.
func numericGradient(_ v: [Double], _ loss: ([Double]) throws -> Double) rethrows -> [Double] {
    let h = 1e-6
    return try v.indices.map { i in
        var p = v, m = v
        p[i] += h; m[i] -= h
        return (try loss(p) - loss(m)) / (2 * h)
    }
}

func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

/// The backward ops against central finite differences of their forward ops, in float64,
/// through the public plan + engine path (so the op -> kernel routing is tested too).
final class GradientTests: XCTestCase {

    func checkBackward(transposed: Bool, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<12 {
            let s = randomShape(&rng, maxChannels: 4, maxSize: 6)
            // Forward request of the op and its backward.
            var fwd: ConvRequest
            if !transposed {
                fwd = ConvRequest(op: .conv, inputShape: s.inputShape, weightShape: [s.outChannels, s.inChannelsPerGroup, s.kernelHeight, s.kernelWidth])
                fwd.padding = .explicit(top: s.padTop, bottom: Int.random(in: 0...2, using: &rng), left: s.padLeft, right: Int.random(in: 0...2, using: &rng))
            } else {
                fwd = ConvRequest(op: .convTranspose, inputShape: [s.batch, s.outChannels, s.outHeight, s.outWidth],
                                  weightShape: [s.outChannels, s.inChannelsPerGroup, s.kernelHeight, s.kernelWidth])
                fwd.padding = .explicit(top: 0, bottom: 0, left: 1, right: 1)
                fwd.outputPadding = [Int.random(in: 0..<s.strideH, using: &rng), 0]
            }
            fwd.stride = [s.strideH, s.strideW]; fwd.dilation = [s.dilationH, s.dilationW]; fwd.groups = s.groups
            guard let fplan = try? ConvPlan(fwd) else { continue }
            let outShape = fplan.geometry.resultShapes[0]!
            let biasCount = outShape[1]
            fwd.biasShape = [biasCount]
            let x: [Double] = randomArray(fwd.inputShape.reduce(1, *), &rng)
            let w: [Double] = randomArray(fwd.weightShape.reduce(1, *), &rng)
            let b: [Double] = randomArray(biasCount, &rng)
            let r: [Double] = randomArray(outShape.reduce(1, *), &rng)
            func loss(_ x: [Double], _ w: [Double], _ b: [Double]) throws -> Double {
                dot(try runOp(fwd, input: x, weight: w, bias: b)[0]!, r)
            }
            var bwd = fwd
            bwd.op = transposed ? .convTransposeBackward : .convBackward
            bwd.biasShape = nil
            bwd.gradOutputShape = outShape
            let grads = try runOp(bwd, input: x, weight: w, gradOutput: r)
            let nx = try numericGradient(x) { try loss($0, w, b) }
            let nw = try numericGradient(w) { try loss(x, $0, b) }
            let nb = try numericGradient(b) { try loss(x, w, $0) }
            XCTAssertLessThan(maxRelativeError(grads[0]!, nx), 1e-6, "grad_input \(fwd.op) \(s)")
            XCTAssertLessThan(maxRelativeError(grads[1]!, nw), 1e-6, "grad_weight \(fwd.op) \(s)")
            XCTAssertLessThan(maxRelativeError(grads[2]!, nb), 1e-6, "grad_bias \(fwd.op) \(s)")
        }
    }

    func testConv2dBackwardMatchesFiniteDifferences() throws { try checkBackward(transposed: false, seed: 11) }
    func testConvTranspose2dBackwardMatchesFiniteDifferences() throws { try checkBackward(transposed: true, seed: 12) }

    /// pytorch#63314: a 1x1 transposed conv with stride 2 once got dX wrong on CPU.
    func testTransposedOneByOneStrideTwoInputGradient() throws {
        var r = ConvRequest(op: .convTransposeBackward, inputShape: [1, 2, 3, 3], weightShape: [2, 3, 1, 1])
        r.stride = [2, 2]; r.gradOutputShape = [1, 3, 5, 5]; r.outputMask = (true, false, false)
        var rng = SplitMix64(seed: 13)
        let x: [Double] = randomArray(18, &rng), w: [Double] = randomArray(6, &rng), go: [Double] = randomArray(75, &rng)
        let gi = try runOp(r, input: x, weight: w, gradOutput: go)[0]!
        // dX[c, i, j] = sum_o w[c, o] * dY[o, 2i, 2j]
        for c in 0..<2 { for i in 0..<3 { for j in 0..<3 {
            let expected = (0..<3).reduce(0.0) { $0 + w[c * 3 + $1] * go[($1 * 5 + 2 * i) * 5 + 2 * j] }
            XCTAssertEqual(gi[(c * 3 + i) * 3 + j], expected, accuracy: 1e-12)
        } } }
    }
}
