@testable import SwiftConv
import XCTest

/// The forward GEMM's batch folding (columns over (image, pixel)), its zero-padded input
/// copy, and the unfolded input's packing on both (gather panels, panels that cross images).
/// Wide planes (30-70) and batches up to 9: edge bugs hide behind small shapes.
final class Im2colBatchTests: XCTestCase {
    /// A random valid shape with the given batch and input sizes in `sizes`.
    func shape(_ rng: inout SplitMix64, batch: Int, sizes: ClosedRange<Int>, maxChannels: Int = 6) -> ConvShape {
        while true {
            var s = randomShape(&rng, maxChannels: maxChannels, maxSize: sizes.upperBound)
            if s.inHeight < sizes.lowerBound && s.inWidth < sizes.lowerBound { continue }
            s.batch = batch
            return s
        }
    }

    /// Packed B panels of `b` against its `element`, zero padding of the last panel included.
    func verifyPacking<T: ConvScalar>(_ u: UnfoldedInput<T>, depth: Range<Int>, cols: Range<Int>, _ label: String) {
        let nr = Gemm.nr(T.self)
        let panels = (cols.count + nr - 1) / nr
        var buf = [T](repeating: .nan, count: max(1, panels * nr * depth.count))
        buf.withUnsafeMutableBufferPointer { u.packB(into: $0.baseAddress!, depth: depth, cols: cols, nr: nr) }
        var bad = 0
        for q in 0..<panels { for p in 0..<depth.count { for jj in 0..<nr {
            let j = cols.lowerBound + q * nr + jj
            let want: T = j < cols.upperBound ? u.element(depth.lowerBound + p, j) : 0
            if buf[q * nr * depth.count + p * nr + jj] != want { bad += 1 }
        } } }
        XCTAssertEqual(bad, 0, "\(label): packB depth \(depth) cols \(cols)")
    }

    /// `element` of the batched operand is the single-image operand of image j / pixels, and
    /// packing matches `element` for column ranges that cross images, on the original input
    /// and on its zero-padded copy (where every panel takes the gather / copy paths).
    func packingCases<T: ConvScalar>(_: T.Type, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for trial in 0..<70 {
            let s = shape(&rng, batch: Int.random(in: 1...9, using: &rng), sizes: trial % 2 == 0 ? 1...12 : 30...70)
            let x: [T] = randomArray(s.inputCount, &rng)
            let imageStride = s.inChannels * s.inPixels
            let k = s.patchSize, columns = s.batch * s.outPixels
            let g = Int.random(in: 0..<s.groups, using: &rng)
            x.withUnsafeBufferPointer { xp in
                let base = xp.baseAddress! + g * s.inChannelsPerGroup * s.inPixels
                let u = UnfoldedInput(x: base, shape: s, imageStride: imageStride)
                // element against the per-image operand.
                var bad = 0
                for _ in 0..<200 where columns > 0 && k > 0 {
                    let r = Int.random(in: 0..<k, using: &rng), j = Int.random(in: 0..<columns, using: &rng)
                    let n = j / s.outPixels
                    let single = UnfoldedInput(x: base + n * imageStride, shape: s)
                    if u.element(r, j) != single.element(r, j - n * s.outPixels) { bad += 1 }
                }
                XCTAssertEqual(bad, 0, "element on \(s)")
                let d0 = Int.random(in: 0...k, using: &rng), d1 = Int.random(in: d0...k, using: &rng)
                let c0 = Int.random(in: 0...columns, using: &rng), c1 = Int.random(in: c0...columns, using: &rng)
                verifyPacking(u, depth: d0..<d1, cols: c0..<c1, "batched \(s)")
                verifyPacking(u, depth: 0..<k, cols: 0..<columns, "batched (all) \(s)")
                // The same on the zero-padded copy.
                guard let p = Im2colConvolution.paddedShape(s) else { return }
                var copy = [T](repeating: .nan, count: p.inputCount)
                copy.withUnsafeMutableBufferPointer { Im2colConvolution.pad(s, x: xp.baseAddress!, into: p, $0.baseAddress!) }
                copy.withUnsafeBufferPointer { cp in
                    let pImage = p.inChannels * p.inPixels
                    let v = UnfoldedInput(x: cp.baseAddress! + g * p.inChannelsPerGroup * p.inPixels, shape: p, imageStride: pImage)
                    XCTAssertTrue(v.isInterior, "padded shape \(p) of \(s)")
                    var bad = 0
                    for _ in 0..<200 where columns > 0 && k > 0 {
                        let r = Int.random(in: 0..<k, using: &rng), j = Int.random(in: 0..<columns, using: &rng)
                        if u.element(r, j) != v.element(r, j) { bad += 1 }
                    }
                    XCTAssertEqual(bad, 0, "padded element on \(s)")
                    verifyPacking(v, depth: d0..<d1, cols: c0..<c1, "padded \(s)")
                    verifyPacking(v, depth: 0..<k, cols: 0..<columns, "padded (all) \(s)")
                }
            }
        }
    }

    func testPackingFloat() { packingCases(Float.self, seed: 41) }
    func testPackingDouble() { packingCases(Double.self, seed: 42) }

    /// Forward im2col (batch folded for small images, padded copy) against the reference,
    /// and bitwise equal to running each image alone, on the unpadded input, and on 2 threads.
    func forwardCases<T: ConvScalar>(_: T.Type, tolerance: Double, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        for trial in 0..<50 {
            try? ThreadPool.shared.setNumThreads(1)
            let s = shape(&rng, batch: Int.random(in: 1...9, using: &rng), sizes: trial % 3 == 0 ? 30...70 : 1...14,
                          maxChannels: 8)
            let x: [T] = randomArray(s.inputCount, &rng), w: [T] = randomArray(s.weightCount, &rng)
            let b: [T]? = Bool.random(using: &rng) ? randomArray(s.outChannels, &rng) : nil
            let ref = runForward(.reference, s, x, w, b)
            let y = runForward(.im2col, s, x, w, b)
            XCTAssertLessThan(maxRelativeError(y, ref), tolerance, "im2col on \(s)")
            // Image by image (no folding): the same bits.
            var single = s
            single.batch = 1
            let inImage = s.inChannels * s.inPixels, outImage = s.outChannels * s.outPixels
            var perImage = [T]()
            for n in 0..<s.batch {
                perImage += runForward(.im2col, single, Array(x[(n * inImage)..<((n + 1) * inImage)]), w, b)
            }
            XCTAssertEqual(y, perImage, "batched vs per image on \(s)")
            XCTAssertEqual(perImage.count, s.batch * outImage)
            // Without the padded copy: the same bits.
            var unpadded = [T](repeating: .nan, count: s.outputCount)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in unpadded.withUnsafeMutableBufferPointer { yp in
                if let b {
                    b.withUnsafeBufferPointer { bp in
                        Im2colConvolution.forwardUnpadded(s, x: xp.baseAddress!, w: wp.baseAddress!, bias: bp.baseAddress!, y: yp.baseAddress!)
                    }
                } else {
                    Im2colConvolution.forwardUnpadded(s, x: xp.baseAddress!, w: wp.baseAddress!, bias: nil, y: yp.baseAddress!)
                }
            } } }
            XCTAssertEqual(y, unpadded, "padded vs unpadded on \(s)")
            try? ThreadPool.shared.setNumThreads(2)
            XCTAssertEqual(runForward(.im2col, s, x, w, b), y, "2 threads on \(s)")
        }
    }

    func testForwardFloat() { forwardCases(Float.self, tolerance: 1e-5, seed: 43) }
    func testForwardDouble() { forwardCases(Double.self, tolerance: 1e-13, seed: 44) }

    /// Shapes the benchmarks run, shrunk: dcgan's input gradient (4x4 outputs of a stride-2
    /// 4x4 kernel over 8x8, 9 images), resnet_deep's 7x7 with a batch, a 1x1 with a batch.
    func testFoldedShapes() {
        var rng = SplitMix64(seed: 45)
        let cases: [(ConvRequest, String)] = [
            ({ var r = ConvRequest(op: .conv, inputShape: [9, 24, 8, 8], weightShape: [20, 24, 4, 4])
               r.stride = [2, 2]; r.padding = .explicit(top: 1, bottom: 1, left: 1, right: 1); return r }(), "dcgan"),
            ({ var r = ConvRequest(op: .conv, inputShape: [3, 40, 7, 7], weightShape: [33, 40, 3, 3])
               r.padding = .explicit(top: 1, bottom: 1, left: 1, right: 1); return r }(), "7x7"),
            (ConvRequest(op: .conv, inputShape: [5, 17, 9, 11], weightShape: [13, 17, 1, 1]), "1x1"),
            ({ var r = ConvRequest(op: .conv, inputShape: [4, 8, 15, 15], weightShape: [12, 2, 3, 3])
               r.groups = 4; r.padding = .explicit(top: 2, bottom: 0, left: 1, right: 3); return r }(), "grouped"),
        ]
        for (r, label) in cases {
            let s = try! ConvGeometry(validating: r).shape
            let x: [Float] = randomArray(s.inputCount, &rng), w: [Float] = randomArray(s.weightCount, &rng)
            let b: [Float] = randomArray(s.outChannels, &rng)
            let ref = runForward(.reference, s, x, w, b)
            XCTAssertLessThan(maxRelativeError(runForward(.im2col, s, x, w, b), ref), 1e-5, "\(label) \(s)")
        }
    }

    /// The padded copy is skipped when nothing crosses the border, for 1x1 stride-1, and when
    /// it would dwarf the call's arrays; otherwise it covers exactly the rows/columns read.
    func testPaddedShape() {
        func conv(_ input: [Int], _ weight: [Int], pad: Int, stride: Int = 1) -> ConvShape {
            var r = ConvRequest(op: .conv, inputShape: input, weightShape: weight)
            r.stride = [stride, stride]; r.padding = .explicit(top: pad, bottom: pad, left: pad, right: pad)
            return try! ConvGeometry(validating: r).shape
        }
        XCTAssertNil(Im2colConvolution.paddedShape(conv([1, 4, 10, 10], [4, 4, 3, 3], pad: 0)))
        XCTAssertNil(Im2colConvolution.paddedShape(conv([1, 4, 10, 10], [4, 4, 1, 1], pad: 0)))
        XCTAssertNil(Im2colConvolution.paddedShape(conv([1, 1, 1, 1], [1, 1, 1, 1], pad: 5000, stride: 5000)))
        // Negative padding (the upsample adjoint's equivalent convolution crops): a cropped copy.
        var cropped = conv([2, 3, 9, 9], [4, 3, 3, 3], pad: 0)
        cropped.padTop = -2; cropped.padLeft = -1; cropped.outHeight = 4; cropped.outWidth = 5
        let c = Im2colConvolution.paddedShape(cropped)
        XCTAssertEqual(c?.inHeight, 6); XCTAssertEqual(c?.inWidth, 7)
        if let c {
            var rng = SplitMix64(seed: 46)
            let x: [Float] = randomArray(cropped.inputCount, &rng), w: [Float] = randomArray(cropped.weightCount, &rng)
            var copy = [Float](repeating: .nan, count: c.inputCount)
            x.withUnsafeBufferPointer { xp in copy.withUnsafeMutableBufferPointer {
                Im2colConvolution.pad(cropped, x: xp.baseAddress!, into: c, $0.baseAddress!)
            } }
            XCTAssertEqual(copy[0], x[2 * 9 + 1])
            XCTAssertLessThan(maxRelativeError(runForward(.im2col, cropped, x, w, nil), runForward(.reference, cropped, x, w, nil)), 1e-5)
        }
        let p = Im2colConvolution.paddedShape(conv([2, 4, 10, 10], [4, 4, 3, 3], pad: 1))
        XCTAssertEqual(p?.inHeight, 12); XCTAssertEqual(p?.inWidth, 12); XCTAssertEqual(p?.padTop, 0)
        // Stride 2 over 10 + 2 with k3: outputs 0..<5 read rows 0...10, so 11 of the 12 rows.
        let q = Im2colConvolution.paddedShape(conv([1, 4, 10, 10], [4, 4, 3, 3], pad: 1, stride: 2))
        XCTAssertEqual(q?.inHeight, 11); XCTAssertEqual(q?.outHeight, 5)
    }
}
