@testable import SwiftConv
import XCTest

/// The "phase" adjoint (PhaseAdjoint.swift): its decomposition, against the reference kernel
/// on random shapes with every parameter, bitwise the same on 1, 2 and 3 threads, with the
/// phase kernels packed ahead and not, and per image as in a batch.
final class PhaseAdjointTests: XCTestCase {
    /// One axis, dcgan's k4 s2 p1 on 4 -> 8: two phases of two taps each, read from one row
    /// above dy (odd outputs) and one row below (even ones).
    func testAxisOfDcganLayer() {
        let phases = PhaseAxis.phases(kernel: 4, stride: 2, dilation: 1, padding: 1, inSize: 8)
        XCTAssertEqual(phases.count, 2)
        // Residue 0 of i + 1: odd outputs 1, 3, 5, 7 take taps 2, 0 from dy[q], dy[q + 1].
        XCTAssertEqual(phases[0], PhaseAxis(first: 1, count: 4, topTap: 2, tapStep: 2, taps: 2, offset: 0, dilation: 1))
        // Residue 1: even outputs 0, 2, 4, 6 take taps 3, 1 from dy[q - 1], dy[q].
        XCTAssertEqual(phases[1], PhaseAxis(first: 0, count: 4, topTap: 3, tapStep: 2, taps: 2, offset: -1, dilation: 1))
        // k1 s2 (a 1x1 stride-2 conv's grad_input): one phase with the tap, one with the bias only.
        let pointwise = PhaseAxis.phases(kernel: 1, stride: 2, dilation: 1, padding: 0, inSize: 7)
        XCTAssertEqual(pointwise.map(\.taps), [1, 0])
        XCTAssertEqual(pointwise.map(\.count), [4, 3])
        // Dilation 2 with stride 2: every tap lands on residue 0; dilation 3 with stride 2:
        // taps alternate between the residues, and each phase steps by 3 in dy.
        XCTAssertEqual(PhaseAxis.phases(kernel: 3, stride: 2, dilation: 2, padding: 0, inSize: 9).map(\.taps), [3, 0])
        let d3 = PhaseAxis.phases(kernel: 4, stride: 2, dilation: 3, padding: 0, inSize: 12)
        XCTAssertEqual(d3.map(\.taps), [2, 2])
        XCTAssertEqual(d3.map(\.dilation), [3, 3])
    }

    /// Every x element of every phase is covered once, and each (output, tap) pair that the
    /// definition i + padding = o * stride + k * dilation makes is a (phase output, phase tap)
    /// pair reading that o (also o outside dy, read as zero).
    func testAxisCoversTheDefinition() {
        for kernel in 1...5 { for s in 1...4 { for d in 1...3 { for p in 0...4 { for inSize in 1...11 {
            let phases = PhaseAxis.phases(kernel: kernel, stride: s, dilation: d, padding: p, inSize: inSize)
            var seen = Set<Int>()
            for a in phases {
                for q in 0..<a.count {
                    let i = a.first + s * q
                    XCTAssertTrue(seen.insert(i).inserted)
                    var pairs: [(Int, Int)] = []
                    for t in 0..<a.taps { pairs.append((a.topTap - t * a.tapStep, q + a.offset + t * a.dilation)) }
                    let expected = (0..<kernel).compactMap { k -> (Int, Int)? in
                        let v = i + p - k * d
                        return v % s == 0 ? (k, v / s) : nil
                    }
                    XCTAssertEqual(pairs.map(\.0).sorted(), expected.map(\.0).sorted(), "k\(kernel) s\(s) d\(d) p\(p) i\(i)")
                    for (k, o) in pairs { XCTAssertEqual(o * s + k * d, i + p) }
                }
            }
            XCTAssertEqual(seen, Set(0..<inSize))
        } } } } }
    }

    /// The selector: "auto" runs phase on strided layers with many pixels per channel, not on
    /// dcgan's batch-1 layers, tiling windows or few channels; a named "phase" is honoured
    /// unless the stride would make more than `maxPhases` phases (then "auto" without it).
    func testSelector() {
        func transposed(_ batch: Int, _ cin: Int, _ cout: Int, _ size: Int, k: Int, s: Int, p: Int) -> ConvShape {
            let out = (size + 2 * p - k) / s + 1
            return ConvShape(batch: batch, groups: 1, inChannels: cin, outChannels: cout, inHeight: size, inWidth: size,
                             outHeight: out, outWidth: out, kernelHeight: k, kernelWidth: k, strideH: s, strideW: s,
                             padTop: p, padLeft: p)
        }
        // dcgan 128->64 16x16 k4 s2 p1 as the conv it transposes (64 ch 32x32 -> 128 ch 16x16):
        // 32 phase pixels per x channel at N8, below `phaseMinimumColumnsPerChannel`; N16: 64.
        XCTAssertEqual(KernelSelector.adjoint(transposed(8, 64, 128, 32, k: 4, s: 2, p: 1), .auto), .scatter)
        XCTAssertEqual(KernelSelector.adjoint(transposed(16, 64, 128, 32, k: 4, s: 2, p: 1), .auto), .phase)
        XCTAssertEqual(KernelSelector.adjoint(transposed(1, 64, 128, 32, k: 4, s: 2, p: 1), .auto), .scatter)
        XCTAssertEqual(KernelSelector.adjoint(transposed(1, 256, 512, 8, k: 4, s: 2, p: 1), .auto), .scatter)
        XCTAssertEqual(KernelSelector.adjoint(transposed(8, 3, 64, 64, k: 4, s: 2, p: 1), .auto), .scatter)
        XCTAssertEqual(KernelSelector.adjoint(transposed(8, 64, 128, 112, k: 2, s: 2, p: 0), .auto), .scatter)
        XCTAssertEqual(KernelSelector.adjoint(transposed(8, 128, 128, 56, k: 3, s: 2, p: 1), .auto), .phase)
        XCTAssertEqual(KernelSelector.adjoint(transposed(1, 256, 512, 8, k: 4, s: 2, p: 1), .phase), .phase)
        let huge = transposed(1, 4, 4, 40, k: 1, s: 20, p: 0)
        XCTAssertFalse(PhaseDecomposition.supports(huge))
        XCTAssertEqual(KernelSelector.adjoint(huge, .phase), KernelSelector.adjoint(huge, .auto))
    }

    func parity<T: ConvScalar>(_: T.Type, tolerance: Double, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        for _ in 0..<80 {
            try ThreadPool.shared.setNumThreads(1)
            var s = randomShape(&rng, maxChannels: 9, maxSize: 12)
            s.batch = Int.random(in: 1...3, using: &rng)
            let dy: [T] = randomArray(s.outputCount, &rng), w: [T] = randomArray(s.weightCount, &rng)
            let b: [T]? = Bool.random(using: &rng) ? randomArray(s.inChannels, &rng) : nil
            let ref = runAdjoint(.reference, s, dy, w, b)
            let dx = runAdjoint(.phase, s, dy, w, b)
            XCTAssertLessThan(maxRelativeError(dx, ref), tolerance, "phase on \(s)")
            // Packed ahead (as a prepared plan does): the same bits.
            let packed = try XCTUnwrap(w.withUnsafeBufferPointer { PhaseAdjoint.pack(s, PhaseDecomposition(s), w: $0.baseAddress!) })
            XCTAssertEqual(runPhase(s, dy, w, b, packed: packed).rawBytes, dx.rawBytes, "packed on \(s)")
            for threads in [2, 3] {
                try ThreadPool.shared.setNumThreads(threads)
                XCTAssertEqual(runAdjoint(.phase, s, dy, w, b).rawBytes, dx.rawBytes, "\(threads) threads on \(s)")
            }
            // One image alone: its bits in the batch.
            var one = s
            one.batch = 1
            let last = Array(dy[((s.batch - 1) * s.outputCount / s.batch)...])
            XCTAssertEqual(runAdjoint(.phase, one, last, w, b).rawBytes,
                           dx[((s.batch - 1) * s.inputCount / s.batch)...].withUnsafeBytes { [UInt8]($0) }, "image alone on \(s)")
        }
    }

    func testParityFloat() throws { try parity(Float.self, tolerance: 1e-5, seed: 91) }
    func testParityDouble() throws { try parity(Double.self, tolerance: 1e-13, seed: 92) }

    /// Layer-sized shapes (many channels, several column tiles, depth blocks and row blocks):
    /// dcgan's stride-2 layers at batch 1 and 3, a U-Net up-conv, a ResNet-50 stride-2 3x3 and
    /// 1x1 grad_input; against the reference, and the same bits on 1, 2 and 3 threads.
    func testLayerShapes() throws {
        var rng = SplitMix64(seed: 93)
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        func conv(_ batch: Int, _ cin: Int, _ cout: Int, _ size: Int, k: Int, s: Int, p: Int) -> ConvShape {
            let out = (size + 2 * p - k) / s + 1
            return ConvShape(batch: batch, groups: 1, inChannels: cin, outChannels: cout, inHeight: size, inWidth: size,
                             outHeight: out, outWidth: out, kernelHeight: k, kernelWidth: k, strideH: s, strideW: s,
                             padTop: p, padLeft: p)
        }
        let shapes = [conv(1, 64, 128, 16, k: 4, s: 2, p: 1), conv(3, 32, 64, 32, k: 4, s: 2, p: 1),
                      conv(1, 40, 70, 28, k: 2, s: 2, p: 0), conv(2, 30, 50, 29, k: 3, s: 2, p: 1),
                      conv(1, 50, 40, 28, k: 1, s: 2, p: 0), conv(1, 3, 64, 40, k: 7, s: 2, p: 3)]
        for s in shapes {
            try ThreadPool.shared.setNumThreads(1)
            let dy: [Float] = randomArray(s.outputCount, &rng), w: [Float] = randomArray(s.weightCount, &rng)
            let b: [Float] = randomArray(s.inChannels, &rng)
            let dx = runAdjoint(.phase, s, dy, w, b)
            XCTAssertLessThan(maxRelativeError(dx, runAdjoint(.reference, s, dy, w, b)), 1e-4, "\(s)")
            for threads in [2, 3] {
                try ThreadPool.shared.setNumThreads(threads)
                XCTAssertEqual(runAdjoint(.phase, s, dy, w, b).rawBytes, dx.rawBytes, "\(threads) threads on \(s)")
            }
        }
    }

    func runPhase<T: ConvScalar>(_ s: ConvShape, _ dy: [T], _ w: [T], _ b: [T]?, packed: [PackedMatrix<T>]) -> [T] {
        var dx = [T](repeating: .nan, count: s.inputCount)
        dy.withUnsafeBufferPointer { yp in w.withUnsafeBufferPointer { wp in dx.withUnsafeMutableBufferPointer { xp in
            if let b {
                b.withUnsafeBufferPointer { bp in
                    try! PhaseAdjoint.adjoint(s, dy: yp.baseAddress!, w: wp.baseAddress!, bias: bp.baseAddress!, dx: xp.baseAddress!, packed: packed)
                }
            } else {
                try! PhaseAdjoint.adjoint(s, dy: yp.baseAddress!, w: wp.baseAddress!, bias: nil, dx: xp.baseAddress!, packed: packed)
            }
        } } }
        return dx
    }

    /// A plan made with the weights packs the phase kernels when its adjoint runs "phase",
    /// shares them with a plan of another size with the same strides, not with one whose
    /// strides normalise differently, and gives the unpacked plan's bits.
    func testPlanPacksPhaseKernels() throws {
        var rng = SplitMix64(seed: 94)
        var r = ConvRequest(op: .convTranspose, inputShape: [2, 6, 5, 5], weightShape: [6, 4, 4, 4])
        r.stride = [2, 2]
        r.padding = .explicit(top: 1, bottom: 1, left: 1, right: 1)
        r.algorithm = "phase"
        let w: [Float] = randomArray(6 * 4 * 16, &rng)
        let packed = try w.withUnsafeBufferPointer { try ConvPlan(r, weight: UnsafeRawPointer($0.baseAddress!)) }
        let plain = try ConvPlan(r)
        let p = try XCTUnwrap(packed.packedWeights)
        XCTAssertEqual(p.layout, .phase)
        XCTAssertTrue(packed.explanation.contains("transposed conv: phase (2x2 output phases"), packed.explanation)
        XCTAssertTrue(packed.explanation.contains("phase kernels: packed at creation"), packed.explanation)
        var bigger = r
        bigger.inputShape[2] = 9
        XCTAssertTrue(try ConvPlan(bigger, sharing: p).packedWeights === p)
        var oneRow = r
        oneRow.inputShape[2] = 1  // one dy row: the shape's row stride is 1
        XCTAssertNil(try ConvPlan(oneRow, sharing: p).packedWeights)
        let x: [Float] = randomArray(2 * 6 * 25, &rng)
        func run(_ plan: ConvPlan) throws -> [Float] {
            var out = [Float](repeating: .nan, count: 2 * 4 * 10 * 10)
            try x.withUnsafeBufferPointer { xp in try w.withUnsafeBufferPointer { wp in
                try out.withUnsafeMutableBufferPointer { op in
                    try ConvEngine.execute(plan, .init(input: UnsafeRawPointer(xp.baseAddress!), weight: UnsafeRawPointer(wp.baseAddress!),
                                                       bias: nil, gradOutput: nil, outputs: [UnsafeMutableRawPointer(op.baseAddress!), nil, nil]))
                }
            } }
            return out
        }
        XCTAssertEqual(try run(packed).rawBytes, try run(plain).rawBytes)
    }

    /// "phase" with few pixels per phase and 2-3 blocks of x channels (the unfolded dy packed
    /// once per call, `PhaseAdjoint.fewPixels`): against the reference, the same bits on 1, 2
    /// and 3 threads and with the phase kernels packed ahead (the other orientation).
    func fewPixelsSharedInput<T: ConvScalar>(_: T.Type, tolerance: Double, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        // (batch, x channels, dy channels, x size): 16 x channels per nr panel, 3 panels.
        for (n, cx, cy, size) in [(1, 48, 40, 6), (2, 40, 24, 8), (3, 33, 20, 4)] {
            let s = ConvShape(batch: n, groups: 1, inChannels: cx, outChannels: cy, inHeight: size, inWidth: size,
                              outHeight: size / 2, outWidth: size / 2, kernelHeight: 4, kernelWidth: 4, strideH: 2, strideW: 2,
                              padTop: 1, padLeft: 1)
            XCTAssertTrue(PhaseAdjoint.fewPixels(maxColumns: n * (size / 2) * (size / 2), cig: cx))
            try ThreadPool.shared.setNumThreads(1)
            let dy: [T] = randomArray(s.outputCount, &rng), w: [T] = randomArray(s.weightCount, &rng)
            let b: [T] = randomArray(s.inChannels, &rng)
            let dx = runAdjoint(.phase, s, dy, w, b)
            XCTAssertLessThan(maxRelativeError(dx, runAdjoint(.reference, s, dy, w, b)), tolerance, "\(s)")
            let packed = try XCTUnwrap(w.withUnsafeBufferPointer { PhaseAdjoint.pack(s, PhaseDecomposition(s), w: $0.baseAddress!) })
            for threads in [1, 2, 3] {
                try ThreadPool.shared.setNumThreads(threads)
                XCTAssertEqual(runAdjoint(.phase, s, dy, w, b).rawBytes, dx.rawBytes, "\(threads) threads on \(s)")
                XCTAssertEqual(runPhase(s, dy, w, b, packed: packed).rawBytes, dx.rawBytes, "packed, \(threads) threads on \(s)")
            }
        }
    }

    func testFewPixelsSharedInputFloat() throws { try fewPixelsSharedInput(Float.self, tolerance: 1e-4, seed: 95) }
    func testFewPixelsSharedInputDouble() throws { try fewPixelsSharedInput(Double.self, tolerance: 1e-12, seed: 96) }

    /// A transposed conv from a 1x1 input (dcgan's first layer, scaled down): "scatter"'s
    /// GEMM writes x in place (`ScatterAdjoint.writesInPlace`, at any batch); against the
    /// reference, the same bits on 1-3 threads, and image 0 has the same bits in every batch
    /// (below and above `KernelSelector.scatterSwapColumns`).
    func scatterFromOnePixel<T: ConvScalar>(_: T.Type, tolerance: Double, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        // (x channels, dy channels, kH, kW, groups)
        for (cx, cy, kh, kw, g) in [(40, 30, 4, 4, 1), (6, 9, 3, 2, 3), (17, 5, 1, 3, 1)] {
            func shape(_ n: Int) -> ConvShape {
                ConvShape(batch: n, groups: g, inChannels: cx, outChannels: cy, inHeight: kh, inWidth: kw,
                          outHeight: 1, outWidth: 1, kernelHeight: kh, kernelWidth: kw)
            }
            let most = 2 * KernelSelector.scatterSwapColumns + 1
            let dy: [T] = randomArray(most * cy, &rng), w: [T] = randomArray(shape(1).weightCount, &rng)
            let b: [T] = randomArray(cx, &rng)
            let imageX = cx * kh * kw
            try ThreadPool.shared.setNumThreads(1)
            let alone = runAdjoint(.scatter, shape(1), Array(dy[0..<cy]), w, b)
            for n in [1, 3, KernelSelector.scatterSwapColumns, KernelSelector.scatterSwapColumns + 1, most] {
                let s = shape(n)
                XCTAssertTrue(ScatterAdjoint.writesInPlace(s))
                let part = Array(dy[0..<(n * cy)])
                try ThreadPool.shared.setNumThreads(1)
                let dx = runAdjoint(.scatter, s, part, w, b)
                XCTAssertLessThan(maxRelativeError(dx, runAdjoint(.reference, s, part, w, b)), tolerance, "\(s)")
                XCTAssertEqual(Array(dx[0..<imageX]).rawBytes, alone.rawBytes, "image 0 of \(s)")
                for threads in [2, 3] {
                    try ThreadPool.shared.setNumThreads(threads)
                    XCTAssertEqual(runAdjoint(.scatter, s, part, w, b).rawBytes, dx.rawBytes, "\(threads) threads on \(s)")
                }
            }
            // A 2x1 dy (not one pixel) keeps col2im.
            XCTAssertFalse(ScatterAdjoint.writesInPlace(ConvShape(batch: 1, groups: g, inChannels: cx, outChannels: cy,
                                                                  inHeight: kh + 1, inWidth: kw, outHeight: 2, outWidth: 1,
                                                                  kernelHeight: kh, kernelWidth: kw)))
        }
    }

    func testScatterFromOnePixelFloat() throws { try scatterFromOnePixel(Float.self, tolerance: 1e-4, seed: 97) }
    func testScatterFromOnePixelDouble() throws { try scatterFromOnePixel(Double.self, tolerance: 1e-12, seed: 98) }
}
