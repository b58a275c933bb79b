@testable import SwiftConv
import XCTest

/// Every fast kernel against the reference loops, over random shapes with every parameter.
final class KernelParityTests: XCTestCase {
    func forwardParity<T: ConvScalar>(_: T.Type, tolerance: Double, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<60 {
            let s = randomShape(&rng)
            let x: [T] = randomArray(s.inputCount, &rng), w: [T] = randomArray(s.weightCount, &rng)
            let b: [T]? = Bool.random(using: &rng) ? randomArray(s.outChannels, &rng) : nil
            let ref = runForward(.reference, s, x, w, b)
            for k in [ForwardKernel.direct, .im2col, .taps] {
                let e = maxRelativeError(runForward(k, s, x, w, b), ref)
                XCTAssertLessThan(e, tolerance, "\(k) on \(s)")
            }
        }
    }

    func testForwardFloat() { forwardParity(Float.self, tolerance: 1e-5, seed: 1) }
    func testForwardDouble() { forwardParity(Double.self, tolerance: 1e-13, seed: 2) }

    func adjointParity<T: ConvScalar>(_: T.Type, tolerance: Double, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<60 {
            let s = randomShape(&rng)
            let dy: [T] = randomArray(s.outputCount, &rng), w: [T] = randomArray(s.weightCount, &rng)
            let b: [T]? = Bool.random(using: &rng) ? randomArray(s.inChannels, &rng) : nil
            let ref = runAdjoint(.reference, s, dy, w, b)
            for k in [AdjointKernel.scatter, .upsample, .phase] {
                XCTAssertLessThan(maxRelativeError(runAdjoint(k, s, dy, w, b), ref), tolerance, "\(k) on \(s)")
            }
        }
    }

    func testAdjointFloat() { adjointParity(Float.self, tolerance: 1e-5, seed: 3) }
    func testAdjointDouble() { adjointParity(Double.self, tolerance: 1e-13, seed: 4) }

    func testWeightGradient() {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<60 {
            let s = randomShape(&rng)
            let x: [Double] = randomArray(s.inputCount, &rng), dy: [Double] = randomArray(s.outputCount, &rng)
            let ref = runWeightGradient(.reference, s, x, dy)
            XCTAssertLessThan(maxRelativeError(runWeightGradient(.gemm, s, x, dy), ref), 1e-13, "\(s)")
        }
    }

    /// The adjoint really is the adjoint: <conv(x), dy> == <x, conv^T(dy)>.
    func testAdjointIdentity() {
        var rng = SplitMix64(seed: 6)
        for _ in 0..<40 {
            let s = randomShape(&rng)
            let x: [Double] = randomArray(s.inputCount, &rng), w: [Double] = randomArray(s.weightCount, &rng)
            let dy: [Double] = randomArray(s.outputCount, &rng)
            let y = runForward(.im2col, s, x, w, nil), dx = runAdjoint(.scatter, s, dy, w, nil)
            let lhs = zip(y, dy).reduce(0) { $0 + $1.0 * $1.1 }, rhs = zip(x, dx).reduce(0) { $0 + $1.0 * $1.1 }
            XCTAssertEqual(lhs, rhs, accuracy: 1e-10 * (1 + abs(lhs)), "\(s)")
        }
    }
}

/// The direct weight gradient and the selector's choices.
final class SelectorAndDirectTests: XCTestCase {
    func testDirectWeightGradient() {
        var rng = SplitMix64(seed: 21)
        for _ in 0..<60 {
            let s = randomShape(&rng)
            let x: [Float] = randomArray(s.inputCount, &rng), dy: [Float] = randomArray(s.outputCount, &rng)
            let ref = runWeightGradient(.reference, s, x, dy)
            XCTAssertLessThan(maxRelativeError(runWeightGradient(.direct, s, x, dy), ref), 1e-4, "\(s)")
        }
    }

    func shape(_ cin: Int, _ cout: Int, _ size: Int, k: Int, groups: Int = 1, batch: Int = 1) -> ConvShape {
        ConvShape(batch: batch, groups: groups, inChannels: cin, outChannels: cout, inHeight: size, inWidth: size,
                  outHeight: size - k + 1, outWidth: size - k + 1, kernelHeight: k, kernelWidth: k)
    }

    func testAutoChoices() {
        let depthwise = shape(144, 144, 56, k: 3, groups: 144)
        XCTAssertEqual(KernelSelector.forward(depthwise, .auto), .depthwise)
        XCTAssertEqual(KernelSelector.adjoint(depthwise, .auto), .depthwise)
        XCTAssertEqual(KernelSelector.weightGradient(depthwise, .auto), .depthwise)
        let dense = shape(64, 64, 56, k: 3)
        // Dense 3x3 with 64+ channels on a wide plane: the channel-blocked conv on a tier that
        // has it (AVX-512), the GEMM on the others.
        let blockedTier = KernelTable.active.sconvChannelBlockedRow != nil
        XCTAssertEqual(KernelSelector.forward(dense, .auto), blockedTier ? .blocked : .im2col)
        XCTAssertEqual(KernelSelector.adjoint(dense, .auto), .upsample)  // stride 1: a plain conv
        var strided = dense
        strided.strideH = 2; strided.strideW = 2; strided.outHeight = 27; strided.outWidth = 27
        XCTAssertEqual(KernelSelector.adjoint(strided, .auto), .scatter)
        XCTAssertEqual(KernelSelector.weightGradient(dense, .auto), .gemm)
        let pointwise = shape(256, 64, 56, k: 1)
        XCTAssertEqual(KernelSelector.forward(pointwise, .auto), .im2col)
        // Tiny dense calls: the GEMM too (measured faster once the plan is made ahead).
        let tiny = shape(2, 4, 10, k: 3)
        XCTAssertEqual(KernelSelector.forward(tiny, .auto), .im2col)
        // Grouped: 4 x 4 channels per group (resnext) on the GEMM, 2 x 2 on the direct kernel,
        // and any stride-2 grouped conv on the GEMM (the direct kernel's SIMD needs stride 1).
        let resnext = shape(128, 128, 56, k: 3, groups: 32)
        XCTAssertEqual(KernelSelector.forward(resnext, .auto), .im2col)
        let pairs = shape(64, 64, 56, k: 3, groups: 32)
        XCTAssertEqual(KernelSelector.forward(pairs, .auto), .direct)
        var depthwiseStrided = depthwise
        depthwiseStrided.strideH = 2; depthwiseStrided.strideW = 2; depthwiseStrided.outHeight = 28; depthwiseStrided.outWidth = 28
        XCTAssertEqual(KernelSelector.forward(depthwiseStrided, .auto), .depthwise)
        // A named algorithm is always honoured.
        XCTAssertEqual(KernelSelector.forward(depthwise, .taps), .taps)
        XCTAssertEqual(KernelSelector.adjoint(depthwise, .scatter), .scatter)
        XCTAssertEqual(KernelSelector.forward(dense, .reference), .reference)
    }
}

/// Wide planes: SIMD blocks, remainders and edge columns of the direct and packing code
/// only show up at widths well past 8 (a remainder bug once hid behind widths <= 9).
final class WideShapeParityTests: XCTestCase {
    func testWideShapesAllKernels() {
        var rng = SplitMix64(seed: 31)
        var tested = 0
        for _ in 0..<60 {
            var s = randomShape(&rng, maxChannels: 4, maxSize: 70)
            if s.outWidth < 20 { continue }
            tested += 1
            s.batch = Int.random(in: 1...3, using: &rng)
            let x: [Float] = randomArray(s.inputCount, &rng), w: [Float] = randomArray(s.weightCount, &rng)
            let dy: [Float] = randomArray(s.outputCount, &rng)
            let ref = runForward(.reference, s, x, w, nil)
            for k in [ForwardKernel.direct, .im2col, .taps] {
                XCTAssertLessThan(maxRelativeError(runForward(k, s, x, w, nil), ref), 1e-4, "\(k) on \(s)")
            }
            let refAdj = runAdjoint(.reference, s, dy, w, nil)
            for k in [AdjointKernel.scatter, .upsample, .phase] {
                XCTAssertLessThan(maxRelativeError(runAdjoint(k, s, dy, w, nil), refAdj), 1e-4, "\(k) on \(s)")
            }
            let refW = runWeightGradient(.reference, s, x, dy)
            for k in [WeightGradientKernel.gemm, .direct] {
                XCTAssertLessThan(maxRelativeError(runWeightGradient(k, s, x, dy), refW), 1e-3, "\(k) on \(s)")
            }
        }
        XCTAssertGreaterThan(tested, 15, "the generator should produce enough wide shapes")
    }
}
