@testable import SwiftConv
import XCTest

/// A small seeded generator so every test run sees the same "random" cases.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomArray<T: ConvScalar>(_ count: Int, _ rng: inout SplitMix64, _: T.Type = T.self) -> [T] {
    (0..<count).map { _ in T(Double.random(in: -1...1, using: &rng)) }
}

/// A random valid ConvShape with every parameter in play (groups, asymmetric padding,
/// stride, dilation, non-square everything). Padding may exceed the kernel extent.
func randomShape(_ rng: inout SplitMix64, maxChannels: Int = 6, maxSize: Int = 9) -> ConvShape {
    while true {
        let groups = [1, 1, 2, 3].randomElement(using: &rng)!
        let cig = Int.random(in: 1...max(1, maxChannels / groups), using: &rng)
        let cog = Int.random(in: 1...max(1, maxChannels / groups), using: &rng)
        let kH = Int.random(in: 1...4, using: &rng), kW = Int.random(in: 1...4, using: &rng)
        let sH = Int.random(in: 1...3, using: &rng), sW = Int.random(in: 1...3, using: &rng)
        let dH = Int.random(in: 1...2, using: &rng), dW = Int.random(in: 1...2, using: &rng)
        let h = Int.random(in: 1...maxSize, using: &rng), w = Int.random(in: 1...maxSize, using: &rng)
        let pt = Int.random(in: 0...2, using: &rng), pb = Int.random(in: 0...2, using: &rng)
        let pl = Int.random(in: 0...2, using: &rng), pr = Int.random(in: 0...2, using: &rng)
        var r = ConvRequest(op: .conv, inputShape: [Int.random(in: 1...2, using: &rng), cig * groups, h, w],
                            weightShape: [cog * groups, cig, kH, kW])
        r.stride = [sH, sW]; r.dilation = [dH, dW]; r.groups = groups
        r.padding = .explicit(top: pt, bottom: pb, left: pl, right: pr)
        if let g = try? ConvGeometry(validating: r) { return g.shape }
    }
}

/// Max |a - b| / (1 + |b|) over two arrays.
func maxRelativeError<T: ConvScalar>(_ a: [T], _ b: [T]) -> Double {
    precondition(a.count == b.count)
    var m = 0.0
    for i in a.indices { m = max(m, Double(abs(a[i] - b[i])) / (1 + Double(abs(b[i])))) }
    return m
}

extension ConvShape {
    var inputShape: [Int] { [batch, inChannels, inHeight, inWidth] }
}

/// Runs a forward kernel into a new array.
func runForward<T: ConvScalar>(_ k: ForwardKernel, _ s: ConvShape, _ x: [T], _ w: [T], _ b: [T]?) -> [T] {
    var y = [T](repeating: .nan, count: s.outputCount)
    x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in y.withUnsafeMutableBufferPointer { yp in
        if let b {
            b.withUnsafeBufferPointer { bp in ConvKernels.forward(k, s, x: xp.baseAddress!, w: wp.baseAddress!, bias: bp.baseAddress!, y: yp.baseAddress!) }
        } else {
            ConvKernels.forward(k, s, x: xp.baseAddress!, w: wp.baseAddress!, bias: nil, y: yp.baseAddress!)
        }
    } } }
    return y
}

func runAdjoint<T: ConvScalar>(_ k: AdjointKernel, _ s: ConvShape, _ dy: [T], _ w: [T], _ b: [T]?) -> [T] {
    var dx = [T](repeating: .nan, count: s.inputCount)
    dy.withUnsafeBufferPointer { yp in w.withUnsafeBufferPointer { wp in dx.withUnsafeMutableBufferPointer { xp in
        if let b {
            b.withUnsafeBufferPointer { bp in try! ConvKernels.adjoint(k, s, dy: yp.baseAddress!, w: wp.baseAddress!, bias: bp.baseAddress!, dx: xp.baseAddress!) }
        } else {
            try! ConvKernels.adjoint(k, s, dy: yp.baseAddress!, w: wp.baseAddress!, bias: nil, dx: xp.baseAddress!)
        }
    } } }
    return dx
}

func runWeightGradient<T: ConvScalar>(_ k: WeightGradientKernel, _ s: ConvShape, _ x: [T], _ dy: [T]) -> [T] {
    var dw = [T](repeating: .nan, count: s.weightCount)
    x.withUnsafeBufferPointer { xp in dy.withUnsafeBufferPointer { yp in dw.withUnsafeMutableBufferPointer { wp in
        ConvKernels.weightGradient(k, s, x: xp.baseAddress!, dy: yp.baseAddress!, dw: wp.baseAddress!)
    } } }
    return dw
}
