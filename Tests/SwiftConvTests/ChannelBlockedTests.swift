@testable import SwiftConv
import XCTest

/// The channel-blocked direct conv (`ChannelBlockedConvolution`, "blocked"): within the
/// float32 dot-product bound of the float64 reference loops on odd shapes (channel counts not multiples
/// of 16, 1x1 and 2x2 planes, bias or none, batches, strides, dilation, 5x5 and 1x3 windows,
/// padding past the kernel), bitwise the same for 1, 2 and 3 threads, and bitwise the same
/// with its weights packed ahead (as a prepared call) or per call.
final class ChannelBlockedTests: XCTestCase {
    /// (batch, inChannels, outChannels, height, width, kernelH, kernelW, stride, dilation, padTop, padLeft)
    static let shapes: [(Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int)] = [
        (1, 64, 64, 14, 14, 3, 3, 1, 1, 1, 1), (2, 70, 90, 5, 7, 3, 3, 1, 1, 1, 1), (3, 64, 64, 1, 1, 3, 3, 1, 1, 1, 1),
        (1, 64, 80, 2, 2, 3, 3, 1, 1, 1, 1), (2, 33, 17, 9, 8, 3, 3, 1, 1, 0, 2), (1, 20, 130, 11, 13, 3, 3, 2, 1, 1, 1),
        (1, 16, 48, 12, 9, 5, 5, 1, 2, 4, 3), (1, 5, 3, 6, 30, 1, 3, 1, 1, 0, 1), (2, 96, 200, 7, 7, 3, 3, 1, 1, 1, 1),
        (1, 48, 64, 3, 29, 3, 3, 1, 1, 3, 3),
    ]

    /// `shapes` as convolutions.
    static var convShapes: [ConvShape] {
        shapes.map { n, ci, co, h, w, kh, kw, stride, dil, pt, pl in
            let out = { (size: Int, k: Int, pad: Int) in (size + 2 * pad - dil * (k - 1) - 1) / stride + 1 }
            return ConvShape(batch: n, groups: 1, inChannels: ci, outChannels: co, inHeight: h, inWidth: w,
                             outHeight: out(h, kh, pt), outWidth: out(w, kw, pl), kernelHeight: kh, kernelWidth: kw,
                             strideH: stride, strideW: stride, dilationH: dil, dilationW: dil, padTop: pt, padLeft: pl)
        }
    }

    func testMatchesReferenceAndThreadsAndPackedWeights() throws {
        guard KernelTable.active.sconvChannelBlockedRow != nil else { throw XCTSkip("no channel-blocked kernel on this tier") }
        var rng = SplitMix64(seed: 97)
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        for s in Self.convShapes {
            let co = s.outChannels
            XCTAssertTrue(ChannelBlockedConvolution.runs(s, Float.self), "\(s)")
            let x: [Float] = randomArray(s.inputCount, &rng), wt: [Float] = randomArray(s.weightCount, &rng)
            let bias: [Float] = randomArray(co, &rng)
            for withBias in [true, false] {
                let b = withBias ? bias : nil
                let ref = runForward(.reference, s, x.map(Double.init), wt.map(Double.init), b?.map(Double.init))
                // The dot-product bound: |y - ref| <= (patch + 1) u sum |x w| (+ |b|), u = 2^-24.
                let magnitude = runForward(.reference, s, x.map { Double(abs($0)) }, wt.map { Double(abs($0)) }, b?.map { Double(abs($0)) })
                let gamma = Double(s.patchSize + 1) * 0x1p-24
                var first: [Float]? = nil
                for threads in [1, 2, 3] {
                    try ThreadPool.shared.setNumThreads(threads)
                    let y = runForward(.blocked, s, x, wt, b)
                    let within = zip(zip(y, ref), magnitude).allSatisfy { abs(Double($0.0) - $0.1) <= gamma * $1 }
                    XCTAssertTrue(within, "\(s) bias \(withBias): beyond the dot-product bound")
                    if let first { XCTAssertEqual(y.map(\.bitPattern), first.map(\.bitPattern), "\(s) bias \(withBias) threads \(threads)") }
                    first = first ?? y
                }
                XCTAssertEqual(prepacked(s, x, wt, b).map(\.bitPattern), first!.map(\.bitPattern), "\(s) bias \(withBias) packed ahead")
            }
        }
    }

    /// `packWeights` is a copy: bitwise the panels of the plain loop over the layout
    /// ([panel][in block][tap][16 in][64 out], padded channels zero), for odd channel counts
    /// and 1x1 / 3x3 / 5x5 windows.
    func testPackedPanelsAreTheScalarCopy() {
        var rng = SplitMix64(seed: 41)
        for (ci, co, k) in [(1, 1, 3), (17, 33, 3), (70, 90, 3), (64, 64, 3), (48, 200, 1), (33, 17, 5), (5, 130, 5), (160, 64, 1)] {
            let s = ConvShape(batch: 1, groups: 1, inChannels: ci, outChannels: co, inHeight: 7, inWidth: 7, outHeight: 7, outWidth: 7,
                              kernelHeight: k, kernelWidth: k, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1,
                              padTop: k / 2, padLeft: k / 2)
            let l = ChannelBlockedLayout(s)!, taps = k * k, panelWidth = 16 * ChannelBlockedLayout.blocksPerPanel
            let w: [Float] = randomArray(s.weightCount, &rng)
            var expected = [Float](repeating: 0, count: l.weightCount)
            for o in 0 ..< co {
                let p = o / panelWidth, width = 16 * l.blocks(inPanel: p)
                for c in 0 ..< ci {
                    for t in 0 ..< taps {
                        expected[p * l.panelCount + (((c / 16) * taps + t) * 16 + c % 16) * width + o % panelWidth] = w[(o * ci + c) * taps + t]
                    }
                }
            }
            var packed = [Float](repeating: .nan, count: l.weightCount)
            w.withUnsafeBufferPointer { wp in packed.withUnsafeMutableBufferPointer { pp in
                ChannelBlockedConvolution.packWeights(s, l, w: wp.baseAddress!, into: pp.baseAddress!)
            } }
            XCTAssertEqual(packed.map(\.bitPattern), expected.map(\.bitPattern), "\(ci)->\(co) \(k)x\(k)")
        }
    }

    /// The forward with the weights packed ahead (`packWeights`), as a prepared plan runs it.
    func prepacked(_ s: ConvShape, _ x: [Float], _ w: [Float], _ b: [Float]?) -> [Float] {
        let l = ChannelBlockedLayout(s)!
        var packed = [Float](repeating: .nan, count: l.weightCount)
        var y = [Float](repeating: .nan, count: s.outputCount)
        w.withUnsafeBufferPointer { wp in packed.withUnsafeMutableBufferPointer { pp in
            ChannelBlockedConvolution.packWeights(s, l, w: wp.baseAddress!, into: pp.baseAddress!)
        } }
        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in packed.withUnsafeBufferPointer { pp in
            y.withUnsafeMutableBufferPointer { yp in
                let out = yp.baseAddress!
                func run(_ bias: UnsafePointer<Float>?) {
                    ChannelBlockedConvolution.forward(s, x: xp.baseAddress!, w: wp.baseAddress!, bias: bias, y: out, packed: pp.baseAddress!)
                }
                if let b { b.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
            }
        } } }
        return y
    }

    /// "auto" takes it only where the rule says (`KernelSelector.channelBlockedWins`), and
    /// never for the upsample formulation's inner conv (whose kernel must not depend on the
    /// plane's size).
    func testSelection() throws {
        guard KernelTable.active.sconvChannelBlockedRow != nil else { throw XCTSkip("no channel-blocked kernel on this tier") }
        func dense(_ c: Int, _ size: Int, batch: Int = 1, stride: Int = 1) -> ConvShape {
            ConvShape(batch: batch, groups: 1, inChannels: c, outChannels: c, inHeight: size, inWidth: size,
                      outHeight: (size - 1) / stride + 1, outWidth: (size - 1) / stride + 1, kernelHeight: 3, kernelWidth: 3,
                      strideH: stride, strideW: stride, padTop: 1, padLeft: 1)
        }
        for s in [dense(128, 28), dense(64, 56), dense(128, 56, stride: 2), dense(256, 14, batch: 8), dense(256, 14),
                  dense(512, 7, batch: 8), dense(512, 14, batch: 8, stride: 2)] {
            XCTAssertEqual(KernelSelector.forward(s, .auto), .blocked, "\(s)")
            XCTAssertEqual(KernelSelector.forward(s, .im2col), .im2col, "\(s)")
            XCTAssertEqual(KernelSelector.upsampleInner(s), .im2col, "\(s)")
            var grouped = s
            grouped.groups = 2
            XCTAssertNotEqual(KernelSelector.forward(grouped, .auto), .blocked, "\(grouped)")
        }
        // Narrow rows, few channels, or weights too many per output pixel for the per-call
        // packing (`channelBlockedMaxWeightsPerPixel`: 512 channels on 7x7 at N1).
        for s in [dense(512, 6), dense(512, 12, stride: 2), dense(32, 56), dense(512, 7), dense(512, 14, stride: 2), dense(512, 14)] {
            XCTAssertNotEqual(KernelSelector.forward(s, .auto), .blocked, "\(s)")
            XCTAssertEqual(KernelSelector.forward(s, .blocked), .blocked, "\(s)")
        }
    }
}
