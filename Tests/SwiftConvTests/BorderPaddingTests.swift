@testable import SwiftConv
import XCTest

// Padding modes other than zeros (BorderPadding): the pad against a plain per-side
// reference, the fold as its adjoint, determinism across thread counts, PyTorch's size
// rules and output_size in ConvGeometry, and whole plans against the convolution of an
// explicitly padded input.

/// A random BorderPadding of `rank` axes that satisfies `mode`'s rules (PyTorch's).
func randomBorder(_ mode: PaddingMode, rank: Int, planes: Int, _ rng: inout SplitMix64, maxSize: Int = 6) throws -> BorderPadding {
    var size = [1, 1, 1], before = [0, 0, 0], after = [0, 0, 0]
    for a in (3 - rank)..<3 {
        let n = Int.random(in: 1...maxSize, using: &rng)
        let most: Int
        switch mode {
        case .reflect: most = n - 1
        case .circular: most = n
        default: most = 4
        }
        size[a] = n
        before[a] = Int.random(in: 0...min(most, 4), using: &rng)
        after[a] = Int.random(in: 0...min(most, 4), using: &rng)
    }
    return try BorderPadding(mode: mode, rank: rank, planes: planes, size: size, before: before, after: after)
}

/// F.pad one axis at a time, each side as PyTorch's kernels describe it (an independent
/// formulation of BorderPadding.source): reflect copies line[before - t] to the left and
/// line[n - 2 - t] to the right, replicate the edge elements, circular the other end.
func referencePad(_ x: [Double], _ p: BorderPadding) -> [Double] {
    var dims = [p.planes] + p.size, data = x
    for axis in [3, 2, 1] {  // width, height, depth (array axes 3, 2, 1)
        let n = dims[axis], b = p.before[axis - 1], a = p.after[axis - 1]
        let outer = dims[..<axis].reduce(1, *), inner = dims[(axis + 1)...].reduce(1, *)
        var out: [Double] = []
        out.reserveCapacity(outer * (n + b + a) * inner)
        for o in 0..<outer {
            var lines = [[Double]](repeating: [], count: inner)
            for i in 0..<inner {
                let line = (0..<n).map { data[(o * n + $0) * inner + i] }
                let left: [Double], right: [Double]
                switch p.mode {
                case .reflect:
                    left = (0..<b).map { line[b - $0] }
                    right = (0..<a).map { line[n - 2 - $0] }
                case .replicate:
                    left = Array(repeating: line[0], count: b)
                    right = Array(repeating: line[n - 1], count: a)
                default:
                    left = (0..<b).map { line[n - b + $0] }
                    right = (0..<a).map { line[$0] }
                }
                lines[i] = left + line + right
            }
            for j in 0..<(n + b + a) { for i in 0..<inner { out.append(lines[i][j]) } }
        }
        dims[axis] = n + b + a
        data = out
    }
    return data
}

/// The adjoint of referencePad by brute force: fold(g)[i] = <g, pad(e_i)>.
func referenceFold(_ g: [Double], _ p: BorderPadding) -> [Double] {
    let count = p.inputCount
    return (0..<count).map { i in
        var e = [Double](repeating: 0, count: count)
        e[i] = 1
        return zip(referencePad(e, p), g).reduce(0) { $0 + $1.0 * $1.1 }
    }
}

/// The same adjoint in linear time: the reference pad of the element indices says which
/// input element each padded position copies; add the gradients there.
func referenceFoldByIndex(_ g: [Double], _ p: BorderPadding) -> [Double] {
    let source = referencePad((0..<p.inputCount).map(Double.init), p)
    var out = [Double](repeating: 0, count: p.inputCount)
    for (j, i) in source.enumerated() { out[Int(i)] += g[j] }
    return out
}

func runPad<T: ConvScalar>(_ p: BorderPadding, _ x: [T]) -> [T] {
    var out = [T](repeating: .nan, count: p.planes * p.paddedPixels)
    x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { op in p.pad(xp.baseAddress!, into: op.baseAddress!) } }
    return out
}

func runFold<T: ConvScalar>(_ p: BorderPadding, _ g: [T]) -> [T] {
    var out = [T](repeating: .nan, count: p.inputCount)
    g.withUnsafeBufferPointer { gp in out.withUnsafeMutableBufferPointer { op in p.fold(gp.baseAddress!, into: op.baseAddress!) } }
    return out
}

/// Bit for bit equal (a fast bitPatterns comparison for large arrays).
func sameBits<T>(_ a: [T], _ b: [T]) -> Bool {
    a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 } }
}

final class BorderPaddingTests: XCTestCase {
    let modes: [PaddingMode] = [.reflect, .replicate, .circular]
    var savedThreads = 1
    override func setUp() { savedThreads = ThreadPool.shared.numThreads }
    override func tearDown() { try? ThreadPool.shared.setNumThreads(savedThreads) }

    // MARK: the kernels

    func testPadMatchesThePerSideReference() throws {
        var rng = SplitMix64(seed: 201)
        for mode in modes {
            for rank in 1...3 {
                for _ in 0..<25 {
                    let p = try randomBorder(mode, rank: rank, planes: Int.random(in: 1...3, using: &rng), &rng)
                    let x: [Double] = randomArray(p.inputCount, &rng)
                    let want = referencePad(x, p)
                    XCTAssertEqual(runPad(p, x), want, "\(mode) rank \(rank) \(p)")
                    XCTAssertEqual(runPad(p, x.map { Float($0) }), want.map { Float($0) }, "\(mode) rank \(rank) \(p) (Float)")
                }
            }
        }
    }

    func testFoldIsTheAdjointOfPad() throws {
        var rng = SplitMix64(seed: 202)
        for mode in modes {
            for rank in 1...3 {
                for _ in 0..<12 {
                    let p = try randomBorder(mode, rank: rank, planes: Int.random(in: 1...2, using: &rng), &rng, maxSize: 4)
                    let x: [Double] = randomArray(p.inputCount, &rng)
                    let g: [Double] = randomArray(p.planes * p.paddedPixels, &rng)
                    let folded = runFold(p, g)
                    let want = referenceFold(g, p)
                    XCTAssertLessThan(maxRelativeError(referenceFoldByIndex(g, p), want), 1e-13)
                    XCTAssertLessThan(maxRelativeError(folded, want), 1e-13, "\(mode) rank \(rank) \(p)")
                    // <pad(x), g> == <x, pad^T(g)>
                    let lhs = zip(runPad(p, x), g).reduce(0) { $0 + $1.0 * $1.1 }
                    let rhs = zip(x, folded).reduce(0) { $0 + $1.0 * $1.1 }
                    let scale = zip(runPad(p, x), g).reduce(0) { $0 + abs($1.0 * $1.1) }
                    XCTAssertLessThanOrEqual(abs(lhs - rhs), 1e-13 * (1 + scale), "\(mode) rank \(rank) \(p)")
                    // Float folds within the rounding of a few additions per element
                    let foldedF = runFold(p, g.map { Float($0) })
                    XCTAssertLessThan(maxRelativeError(foldedF.map { Double($0) }, want), 1e-5, "\(mode) rank \(rank) \(p) (Float)")
                }
            }
        }
    }

    func testBitwiseIdenticalForEveryThreadCount() throws {
        var rng = SplitMix64(seed: 203)
        for mode in modes {
            // Many planes of a large enough size for the pool to split the work.
            let p = try BorderPadding(mode: mode, planes: 64, size: [6, 30, 31], before: [1, 2, 3], after: [2, 3, 1])
            XCTAssertGreaterThan(p.planes * p.paddedPixels / 4, ThreadPool.minimumParallelWork)
            let seed = Int(rng.next() % 1000)
            let x = (0..<p.inputCount).map { Float(($0 &* 7919 &+ seed) % 2003) / 1001 - 1 }
            let g = (0..<(p.planes * p.paddedPixels)).map { Float(($0 &* 6007 &+ seed) % 1999) / 999 - 1 }
            try ThreadPool.shared.setNumThreads(1)
            let (pad1, fold1) = (runPad(p, x), runFold(p, g))
            for threads in [2, 3, 4] {
                try ThreadPool.shared.setNumThreads(threads)
                XCTAssertTrue(sameBits(runPad(p, x), pad1), "\(mode) pad, \(threads) threads")
                XCTAssertTrue(sameBits(runFold(p, g), fold1), "\(mode) fold, \(threads) threads")
            }
        }
    }

    // MARK: ConvGeometry: PyTorch's rules

    func message(_ r: ConvRequest) -> String? {
        do { _ = try ConvGeometry(validating: r); return nil } catch let e as ConvError { return e.message } catch { return "\(error)" }
    }

    func conv(_ x: [Int], _ w: [Int], _ mode: PaddingMode, _ pads: [AxisPadding], op: ConvOp = .conv) -> ConvRequest {
        var r = ConvRequest(op: op, spatialRank: w.count - 2, inputShape: x, weightShape: w)
        r.padding = .explicit(pads)
        r.paddingMode = mode
        return r
    }

    func testPaddingModeSizeRules() throws {
        let p = { (b: Int, a: Int) in AxisPadding(b, a) }
        // reflect: each pad < the size (checked innermost axis first, as PyTorch)
        XCTAssertNil(message(conv([1, 1, 3, 5], [1, 1, 3, 3], .reflect, [p(2, 2), p(4, 0)])))
        XCTAssertEqual(message(conv([1, 1, 3, 5], [1, 1, 3, 3], .reflect, [p(3, 1), p(1, 1)])),
                       "conv2d: padding_mode='reflect': Padding size should be less than the corresponding input dimension, but got: padding (3, 1) at dimension 2 (height) of input [1, 1, 3, 5]")
        XCTAssertEqual(message(conv([1, 1, 3, 3], [1, 1, 3, 3], .reflect, [p(5, 5), p(5, 5)])),
                       "conv2d: padding_mode='reflect': Padding size should be less than the corresponding input dimension, but got: padding (5, 5) at dimension 3 (width) of input [1, 1, 3, 3]")
        XCTAssertEqual(message(conv([2, 4], [1, 2, 3], .reflect, [p(0, 4)])),
                       "conv1d: padding_mode='reflect': Padding size should be less than the corresponding input dimension, but got: padding (0, 4) at dimension 1 (length) of input [2, 4]")
        // circular: each pad <= the size
        XCTAssertNil(message(conv([1, 1, 2, 3, 4], [1, 1, 1, 1, 1], .circular, [p(2, 2), p(3, 0), p(0, 4)])))
        XCTAssertEqual(message(conv([1, 1, 2, 3, 4], [1, 1, 1, 1, 1], .circular, [p(3, 0), p(0, 0), p(0, 0)])),
                       "conv3d: padding_mode='circular': Padding value causes wrapping around more than once (circular padding may be at most the input size), but got: padding (3, 0) at dimension 2 (depth) of input [1, 1, 2, 3, 4]")
        // replicate: any padding, but (as reflect) no empty dimension besides the batch
        XCTAssertNil(message(conv([1, 1, 1, 1], [1, 1, 3, 3], .replicate, [p(9, 9), p(0, 7)])))
        XCTAssertNil(message(conv([0, 2, 4, 4], [1, 2, 3, 3], .replicate, [p(1, 1), p(1, 1)])))
        for mode in [PaddingMode.reflect, .replicate] {
            XCTAssertEqual(message(conv([1, 0, 4, 4], [1, 0, 3, 3], mode, [p(1, 1), p(1, 1)])),
                           "conv2d: padding_mode='\(mode.name)': Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: [1, 0, 4, 4]")
            var valid = conv([0, 2, 0], [1, 2, 1], mode, [])
            valid.padding = .valid  // no padding at all: still PyTorch's F.pad rule
            XCTAssertEqual(message(valid), "conv1d: padding_mode='\(mode.name)': Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: [0, 2, 0]")
        }
        // the backward op follows the same rules
        var back = conv([1, 1, 3, 3], [1, 1, 3, 3], .reflect, [p(3, 3), p(0, 0)], op: .convBackward)
        back.gradOutputShape = [1, 1, 7, 1]
        XCTAssertTrue(message(back)?.hasPrefix("conv2d_backward: padding_mode='reflect': Padding size should be less") == true)
        // transposed ops: zeros only
        for rank in 1...3 {
            let shape = Array(repeating: 3, count: rank)
            var t = ConvRequest(op: .convTranspose, spatialRank: rank, inputShape: [1, 1] + shape, weightShape: [1, 1] + shape)
            t.paddingMode = .circular
            XCTAssertEqual(message(t), "conv_transpose\(rank)d: Only \"zeros\" padding mode is supported for ConvTranspose\(rank)d, got padding_mode='circular'")
        }
    }

    func testBorderAndPaddedShape() throws {
        // "same" splits as for zeros; the convolution then runs on the padded input, unpadded
        var r = ConvRequest(op: .conv, spatialRank: 2, inputShape: [2, 3, 7, 9], weightShape: [4, 3, 4, 3])
        r.padding = .same
        r.paddingMode = .reflect
        let g = try ConvGeometry(validating: r)
        XCTAssertEqual(g.resultShapes[0], [2, 4, 7, 9])
        let border = try XCTUnwrap(g.border)
        XCTAssertEqual(border.before, [0, 1, 1])
        XCTAssertEqual(border.after, [0, 2, 1])
        XCTAssertEqual(border.paddedSize, [1, 10, 11])
        XCTAssertEqual(border.planes, 6)
        XCTAssertEqual([g.shape.inHeight, g.shape.inWidth, g.shape.padTop, g.shape.padLeft], [10, 11, 0, 0])
        // no padding: nothing to copy
        r.padding = .valid
        XCTAssertNil(try ConvGeometry(validating: r).border)
        // zeros: no border, the kernels read zeros outside the input
        r.padding = .same
        r.paddingMode = .zeros
        let z = try ConvGeometry(validating: r)
        XCTAssertNil(z.border)
        XCTAssertEqual([z.shape.inHeight, z.shape.padTop], [7, 1])
    }

    func testOutputSize() throws {
        func transposed(_ x: [Int], _ w: [Int], stride: Int, padding: Int, dilation: Int = 1, outputPadding: Int = 0,
                        outputSize: [Int]?) -> ConvRequest {
            let rank = w.count - 2
            var r = ConvRequest(op: .convTranspose, spatialRank: rank, inputShape: x, weightShape: w)
            r.stride = Array(repeating: stride, count: rank)
            r.padding = .symmetric(Array(repeating: padding, count: rank))
            r.dilation = Array(repeating: dilation, count: rank)
            r.outputPadding = Array(repeating: outputPadding, count: rank)
            r.outputSize = outputSize
            return r
        }
        // ConvTranspose2d(2, 3, 3, stride=2, padding=1) on 4x4: sizes 7...8 (PyTorch's messages)
        for size in [[7, 7], [8, 7], [1, 3, 8, 8], [9, 3, 7, 8]] {
            let g = try ConvGeometry(validating: transposed([1, 2, 4, 4], [2, 3, 3, 3], stride: 2, padding: 1, outputSize: size))
            XCTAssertEqual(g.resultShapes[0], [1, 3] + size.suffix(2))
        }
        XCTAssertEqual(message(transposed([1, 2, 4, 4], [2, 3, 3, 3], stride: 2, padding: 1, outputSize: [6, 6])),
                       "conv_transpose2d: requested an output size of [6, 6], but valid sizes range from [7, 7] to [8, 8] (for an input of [4, 4])")
        XCTAssertEqual(message(transposed([1, 2, 4, 4], [2, 3, 3, 3], stride: 2, padding: 1, outputSize: [2, 8, 8])),
                       "conv_transpose2d: for 4D input, output_size must have 2 or 4 elements (got 3: output_size=[2, 8, 8])")
        // unbatched: (C, *sizes) is the whole shape
        XCTAssertEqual(try ConvGeometry(validating: transposed([2, 4], [2, 3, 3], stride: 3, padding: 1, outputSize: [3, 12])).resultShapes[0], [3, 12])
        XCTAssertEqual(message(transposed([2, 4], [2, 3, 3], stride: 3, padding: 1, outputSize: [9])),
                       "conv_transpose1d: requested an output size of [9], but valid sizes range from [10] to [12] (for an input of [4])")
        XCTAssertEqual(message(transposed([2, 4], [2, 3, 3], stride: 3, padding: 1, outputSize: [1, 3, 12])),
                       "conv_transpose1d: for 2D input, output_size must have 1 or 2 elements (got 3: output_size=[1, 3, 12])")
        // the largest size is min + stride - 1 whatever the dilation (as PyTorch)
        XCTAssertEqual(message(transposed([1, 2, 4, 4, 4], [2, 3, 3, 3, 3], stride: 1, padding: 0, dilation: 2, outputSize: [8, 9, 8])),
                       "conv_transpose3d: requested an output size of [8, 9, 8], but valid sizes range from [8, 8, 8] to [8, 8, 8] (for an input of [4, 4, 4])")
        // output_size fixes output_padding: the given one is ignored, even where it alone is invalid
        XCTAssertEqual(try ConvGeometry(validating: transposed([1, 2, 4, 4], [2, 3, 3, 3], stride: 2, padding: 1, outputPadding: 5,
                                                               outputSize: [7, 8])).resultShapes[0], [1, 3, 7, 8])
        // the backward op: grad_output of the requested size
        var back = transposed([1, 2, 4, 4], [2, 3, 3, 3], stride: 2, padding: 1, outputSize: [8, 7])
        back.op = .convTransposeBackward
        back.gradOutputShape = [1, 3, 8, 7]
        XCTAssertEqual(try ConvGeometry(validating: back).resultShapes[0], [1, 2, 4, 4])
        // conv ops take none
        var c = ConvRequest(op: .conv, inputShape: [1, 1, 5, 5], weightShape: [1, 1, 3, 3])
        c.outputSize = [3, 3]
        XCTAssertEqual(message(c), "conv2d: output_size is only meaningful for transposed convolution, got output_size=[3, 3]")
        // overflowing sizes are an error, not a trap
        let huge = transposed([1, 2, 4, 4], [2, 3, 3, 3], stride: Int.max / 2, padding: 0, outputSize: [5, 5])
        XCTAssertTrue(message(huge)?.contains("overflows") == true, message(huge) ?? "nil")
    }

    // MARK: whole plans

    /// A random conv with `mode` through a plan against the plan of the same convolution of
    /// the reference-padded input with no padding: the forward and grad_weight bit for bit,
    /// grad_input against the reference fold of the padded input's gradient.
    func check<T: ConvScalar>(_: T.Type, mode: PaddingMode, rank: Int, _ rng: inout SplitMix64, tolerance: Double) throws {
        // A random conv with a padding mode, whose pads the mode accepts.
        var request: ConvRequest, geometry: ConvGeometry, border: BorderPadding
        while true {
            var (r, _, _) = randomRankRequest(.conv, rank: rank, &rng, maxSize: [0, 9, 6, 4][rank])
            r.biasShape = nil
            r.paddingMode = mode
            guard let g = try? ConvGeometry(validating: r), let b = g.border else { continue }
            (request, geometry, border) = (r, g, b)
            break
        }
        let x: [T] = randomArray(elementCount(request.inputShape), &rng)
        let w: [T] = randomArray(elementCount(request.weightShape), &rng)
        // The same convolution of the padded input (by the reference pad), with no padding.
        let xp = referencePad(x.map { Double($0) }, border).map { T($0) }
        var plain = request
        plain.paddingMode = .zeros
        plain.padding = .valid
        plain.inputShape = Array(request.inputShape.dropLast(rank)) + border.paddedSize.suffix(rank)
        let y = try rankExecute(request, input: x, weight: w)[0]!
        XCTAssertEqual(bitPatterns(y), bitPatterns(try rankExecute(plain, input: xp, weight: w)[0]!),
                       "\(mode) rank \(rank): \(geometry.shape)")
        // Backward: grad_weight is that of the padded input; grad_input its fold.
        let back = try rankBackwardRequest(of: request, mask: (true, true, true))
        let gy: [T] = randomArray(y.count, &rng)
        let got = try rankExecute(back, input: x, weight: w, gradOutput: gy)
        let plainBack = try rankBackwardRequest(of: plain, mask: (true, true, true))
        let want = try rankExecute(plainBack, input: xp, weight: w, gradOutput: gy)
        XCTAssertEqual(bitPatterns(got[1]), bitPatterns(want[1]), "\(mode) rank \(rank) grad_weight")
        XCTAssertEqual(bitPatterns(got[2]), bitPatterns(want[2]), "\(mode) rank \(rank) grad_bias")
        let folded = referenceFoldByIndex(want[0]!.map { Double($0) }, border)
        XCTAssertLessThan(maxRelativeError(got[0]!.map { Double($0) }, folded), tolerance, "\(mode) rank \(rank) grad_input")
        // The plan says so.
        let text = try ConvPlan(back).explanation
        XCTAssertTrue(text.contains("border padding: \(mode.name)") && text.contains("folded back"), text)
    }

    func testPlansMatchTheConvolutionOfThePaddedInput() throws {
        var rng = SplitMix64(seed: 204)
        for mode in modes {
            for rank in 1...3 {
                for _ in 0..<4 {
                    try check(Float.self, mode: mode, rank: rank, &rng, tolerance: 1e-5)
                    try check(Double.self, mode: mode, rank: rank, &rng, tolerance: 1e-12)
                }
            }
        }
    }
}
