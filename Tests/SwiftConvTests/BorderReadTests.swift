@testable import SwiftConv
import XCTest

// The border of a padding mode read through its index maps while packing
// (BorderedUnfoldedInput, Im2colConvolution.forward(_:border:)) against the padded copy
// (BorderPadding.pad, then the im2col forward of the padded input), bit for bit: 1-D and
// 2-D shapes of every panel path (interior gathers, row-end panels, panels that wrap to the
// next output row, partial last panels), unit, double and other strides, dilation, groups,
// the batch folded into the GEMM's columns or not, Float and Double, 1, 2 and 3 threads.
// (The planner takes this path for 1-D rows only, KernelSelector.readsBorderWhilePacking;
// the 2-D planes are tested here so that it stays correct for them too.)
final class BorderReadTests: XCTestCase {
    var savedThreads = 1
    override func setUp() { savedThreads = ThreadPool.shared.numThreads }
    override func tearDown() { try? ThreadPool.shared.setNumThreads(savedThreads) }

    /// A random planar convolution of a padded input, with its border (the mode's rules met).
    func randomCase(_ mode: PaddingMode, rank: Int, _ rng: inout SplitMix64) throws -> (ConvShape, BorderPadding) {
        while true {
            func r(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
            let groups = r(1...2), batch = r(1...3)
            let h = rank == 1 ? 1 : r(1...24), w = r(1...(rank == 1 ? 90 : 40))
            let kh = rank == 1 ? 1 : r(1...4), kw = r(1...5)
            let sh = rank == 1 ? 1 : r(1...2), sw = r(1...3), dh = rank == 1 ? 1 : r(1...2), dw = r(1...2)
            func pad(_ n: Int) -> Int {
                switch mode {
                case .reflect: return r(0...min(3, n - 1))
                case .circular: return r(0...min(3, n))
                default: return r(0...3)
                }
            }
            let (top, bottom) = rank == 1 ? (0, 0) : (pad(h), pad(h))
            let (left, right) = (pad(w), pad(w))
            let ph = h + top + bottom, pw = w + left + right
            let eh = (kh - 1) * dh + 1, ew = (kw - 1) * dw + 1
            if ph < eh || pw < ew || top + bottom + left + right == 0 { continue }
            let outH = (ph - eh) / sh + 1, outW = (pw - ew) / sw + 1
            let s = ConvShape(batch: batch, groups: groups, inChannels: groups * r(1...3), outChannels: groups * r(1...4),
                              inHeight: ph, inWidth: pw, outHeight: outH, outWidth: outW, kernelHeight: kh, kernelWidth: kw,
                              strideH: outH == 1 ? 1 : sh, strideW: outW == 1 ? 1 : sw,
                              dilationH: kh == 1 ? 1 : dh, dilationW: kw == 1 ? 1 : dw)
            let border = try BorderPadding(mode: mode, rank: rank, planes: batch * s.inChannels, size: [1, h, w],
                                       before: [0, top, left], after: [0, bottom, right])
            return (s, border)
        }
    }

    func run<T: ConvScalar>(_ s: ConvShape, _ border: BorderPadding, _ x: [T], _ w: [T], _ b: [T], maps: Bool) -> [T] {
        var y = [T](repeating: .nan, count: s.outputCount)
        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in
            y.withUnsafeMutableBufferPointer { yp in
                if maps {
                    Im2colConvolution.forward(s, border: border, x: xp.baseAddress!, w: wp.baseAddress!, bias: bp.baseAddress!,
                                              y: yp.baseAddress!)
                } else {
                    let padded = runPad(border, x)
                    padded.withUnsafeBufferPointer { pp in
                        Im2colConvolution.forward(s, x: pp.baseAddress!, w: wp.baseAddress!, bias: bp.baseAddress!, y: yp.baseAddress!)
                    }
                }
            }
        } } }
        return y
    }

    func check<T: ConvScalar>(_: T.Type, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        for mode in [PaddingMode.reflect, .replicate, .circular] {
            for rank in 1...2 {
                for _ in 0..<20 {
                    let (s, border) = try randomCase(mode, rank: rank, &rng)
                    let x: [T] = randomArray(border.inputCount, &rng)
                    let w: [T] = randomArray(s.weightCount, &rng)
                    let b: [T] = randomArray(s.outChannels, &rng)
                    try ThreadPool.shared.setNumThreads(1)
                    let want = run(s, border, x, w, b, maps: false)
                    for threads in [1, 2, 3] {
                        try ThreadPool.shared.setNumThreads(threads)
                        XCTAssertTrue(sameBits(run(s, border, x, w, b, maps: true), want), "\(T.self) \(border) \(s), \(threads) threads")
                    }
                }
            }
        }
    }

    func testTheMapsGiveThePaddedCopysBitsFloat() throws { try check(Float.self, seed: 301) }
    func testTheMapsGiveThePaddedCopysBitsDouble() throws { try check(Double.self, seed: 302) }

    /// Larger planes, where most panels are interior gathers and the batch is not folded.
    func testLargePlanes() throws {
        var rng = SplitMix64(seed: 303)
        for (mode, h, w, k, stride) in [(PaddingMode.reflect, 40, 70, 3, 1), (.circular, 33, 64, 5, 2), (.replicate, 1, 1500, 9, 1),
                                        (.reflect, 1, 2100, 3, 2)] {
            let p = k / 2, (top, bottom) = h == 1 ? (0, 0) : (p, p)
            let ph = h + top + bottom, pw = w + 2 * p
            let s = ConvShape(batch: 2, groups: 1, inChannels: 5, outChannels: 7, inHeight: ph, inWidth: pw,
                              outHeight: (ph - (h == 1 ? 1 : k)) / stride + 1, outWidth: (pw - k) / stride + 1,
                              kernelHeight: h == 1 ? 1 : k, kernelWidth: k, strideH: h == 1 ? 1 : stride, strideW: stride)
            let border = try BorderPadding(mode: mode, rank: h == 1 ? 1 : 2, planes: 10, size: [1, h, w], before: [0, top, p], after: [0, bottom, p])
            let x: [Float] = randomArray(border.inputCount, &rng), wt: [Float] = randomArray(s.weightCount, &rng)
            let b: [Float] = randomArray(s.outChannels, &rng)
            try ThreadPool.shared.setNumThreads(2)
            XCTAssertTrue(sameBits(run(s, border, x, wt, b, maps: true), run(s, border, x, wt, b, maps: false)), "\(border) \(s)")
        }
    }
}
