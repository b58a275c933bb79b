// The typed API as a Swift program sees it: only `import SwiftConvKit`, no pointers.
import SwiftConvKit
import XCTest

/// A small seeded generator so every run sees the same "random" cases.
struct Rng: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func random<T: TensorScalar>(_ shape: [Int], _ rng: inout Rng, _: T.Type = T.self) -> Tensor<T> {
    try! Tensor(shape: shape) { _ in T(Double.random(in: -1...1, using: &rng)) }
}

/// max |a - b| / (1 + |b|), after checking the shapes agree.
func relativeError<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, file: StaticString = #filePath, line: UInt = #line) -> Double {
    XCTAssertEqual(a.shape, b.shape, file: file, line: line)
    guard a.shape == b.shape else { return .infinity }
    var m = 0.0
    for i in 0..<a.count { m = max(m, Double(abs(a[flat: i] - b[flat: i])) / (1 + Double(abs(b[flat: i])))) }
    return m
}

/// Asserts that `body` throws ConvError.invalidArgument whose message contains `fragment`.
func assertInvalid<R>(_ fragment: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> R) {
    do {
        _ = try body()
        XCTFail("expected an error containing \"\(fragment)\"", file: file, line: line)
    } catch let error as ConvError {
        guard case .invalidArgument(let message) = error else {
            return XCTFail("expected invalidArgument, got \(error)", file: file, line: line)
        }
        XCTAssertTrue(message.contains(fragment), "\"\(message)\" does not contain \"\(fragment)\"", file: file, line: line)
    } catch {
        XCTFail("expected a ConvError, got \(error)", file: file, line: line)
    }
}

final class KitHandComputedTests: XCTestCase {
    func testConv1d() throws {
        // x padded by 1: [0, 1, 2, 3, 4, 5, 0]; y[i] = xp[i] - xp[i + 2] + 0.5.
        let x = try Tensor<Float>(shape: [1, 1, 5], storage: [1, 2, 3, 4, 5])
        let w = try Tensor<Float>(shape: [1, 1, 3], storage: [1, 0, -1])
        let conv = try Convolution(weight: w, bias: Tensor([0.5]), padding: 1)
        XCTAssertEqual(conv.spatialRank, 1)
        let y = try conv(x)
        XCTAssertEqual(y.shape, [1, 1, 5])
        XCTAssertEqual(y.storage, [-1.5, -1.5, -1.5, -1.5, 4.5])
        // Unbatched in, unbatched out.
        XCTAssertEqual(try conv(x.reshaped([1, 5])), try y.reshaped([1, 5]))
        // Stride and dilation: taps at i and i + 2 of the unpadded x, every second i.
        let strided = try SwiftConvKit.conv(x, w, stride: 2, dilation: 1)
        XCTAssertEqual(strided.storage, [-2, -2])
    }

    func testConv2dWithGroups() throws {
        // Channel 0: 1...9 with a 2x2 box of ones; channel 1: the same doubled, with a box of twos.
        let x = try Tensor<Double>(shape: [1, 2, 3, 3]) { i in Double(i % 9 + 1) * Double(i / 9 + 1) }
        let w = try Tensor<Double>(shape: [2, 1, 2, 2]) { i in Double(i / 4 + 1) }
        let y = try conv(x, w, bias: Tensor([0, 1]), groups: 2)
        XCTAssertEqual(y.shape, [1, 2, 2, 2])
        XCTAssertEqual(y.storage, [12, 16, 24, 28, 49, 65, 97, 113])
        XCTAssertEqual(y[0, 1, 1, 0], 97)
    }

    func testConv3d() throws {
        let x = try Tensor<Float>(shape: [1, 1, 2, 2, 2]) { Float($0 + 1) }
        let w = try Tensor<Float>(shape: [1, 1, 2, 2, 2], repeating: 1)
        let conv = try Convolution(weight: w, padding: 1)
        XCTAssertEqual(conv.spatialRank, 3)
        let y = try conv(x)
        XCTAssertEqual(y.shape, [1, 1, 3, 3, 3])
        XCTAssertEqual(y[0, 0, 1, 1, 1], 36)     // the whole input
        XCTAssertEqual(y[0, 0, 0, 0, 0], 1)      // only x[0, 0, 0]
        XCTAssertEqual(y[0, 0, 2, 2, 2], 8)      // only x[1, 1, 1]
        XCTAssertEqual(y[0, 0, 0, 1, 1], 1 + 2 + 3 + 4)  // the front plane
        XCTAssertTrue(try conv.explain(for: x).contains("depth lowering"))
    }

    func testTransposed() throws {
        // Each input value adds value * kernel at stride 2.
        let x1 = try Tensor<Float>(shape: [1, 1, 2], storage: [1, 2])
        let w1 = try Tensor<Float>(shape: [1, 1, 3], repeating: 1)
        XCTAssertEqual(try convTranspose(x1, w1, stride: 2).storage, [1, 1, 3, 2, 2])

        let x = try Tensor<Double>(shape: [1, 1, 2, 2], storage: [1, 2, 3, 4])
        let w = try Tensor<Double>(shape: [1, 1, 2, 2], repeating: 1)
        let up = try Convolution(.convTranspose, weight: w, bias: Tensor([10]), stride: 2, outputPadding: 1)
        let y = try up(x)
        XCTAssertEqual(y.shape, [1, 1, 5, 5])
        XCTAssertEqual(y.storage, [11, 11, 12, 12, 10,
                                   11, 11, 12, 12, 10,
                                   13, 13, 14, 14, 10,
                                   13, 13, 14, 14, 10,
                                   10, 10, 10, 10, 10])
        XCTAssertEqual(try up.outputShape(for: [3, 1, 4, 4]), [3, 1, 9, 9])
    }
}

final class KitParityTests: XCTestCase {
    /// Every algorithm of each op and rank through the typed API against `.reference`.
    func checkAlgorithms<T: TensorScalar>(_: T.Type, tolerance: Double, seed: UInt64) throws {
        var rng = Rng(state: seed)
        for rank in 1...3 {
            let size = [0, 11, 6, 4][rank]
            for kind in [ConvKind.conv, .convTranspose] {
                let groups = 2, k = [Int](repeating: 0, count: rank).map { _ in Int.random(in: 1...3, using: &rng) }
                let stride = AxisValues((0..<rank).map { _ in Int.random(in: 1...2, using: &rng) })
                let w: Tensor<T> = random([4, 3] + k, &rng)
                let bias: Tensor<T> = random([kind == .conv ? 4 : 6], &rng)
                let x: Tensor<T> = random([2, kind == .conv ? 6 : 4] + [Int](repeating: size, count: rank), &rng)
                let algorithms: [ConvAlgorithm] = kind == .conv ? [.auto, .direct, .im2col, .taps] : [.auto, .scatter, .upsample]
                func make(_ a: ConvAlgorithm) throws -> Convolution<T> {
                    try Convolution(kind, weight: w, bias: bias, stride: stride, padding: 1,
                                    dilation: AxisValues([2] + [Int](repeating: 1, count: rank - 1)), groups: groups, algorithm: a)
                }
                let expected = try make(.reference)(x)
                for a in algorithms {
                    let e = relativeError(try make(a)(x), expected)
                    XCTAssertLessThan(e, tolerance, "\(kind) rank \(rank) \(a)")
                }
            }
        }
    }

    func testFloat() throws { try checkAlgorithms(Float.self, tolerance: 1e-5, seed: 1) }
    func testDouble() throws { try checkAlgorithms(Double.self, tolerance: 1e-12, seed: 2) }
}

final class KitBackwardTests: XCTestCase {
    /// d/dv loss(v) by central differences.
    func numeric(_ v: Tensor<Double>, _ loss: (Tensor<Double>) throws -> Double) rethrows -> Tensor<Double> {
        var g = v
        for i in 0..<v.count {
            var p = v, m = v
            p[flat: i] += 1e-6
            m[flat: i] -= 1e-6
            g[flat: i] = (try loss(p) - loss(m)) / 2e-6
        }
        return g
    }

    func dot(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
        (0..<a.count).reduce(0) { $0 + a[flat: $1] * b[flat: $1] }
    }

    /// The gradients of <conv(x), r> against finite differences, on a tiny 3-D case with
    /// stride, padding, dilation and groups (and output padding for the transposed op).
    func check(_ kind: ConvKind) throws {
        var rng = Rng(state: kind == .conv ? 7 : 8)
        let x: Tensor<Double> = random([2, 4, 3, 4, 3], &rng)
        let w: Tensor<Double> = random([4, 2, 2, 2, 2], &rng)
        let b: Tensor<Double> = random([4], &rng)
        func layer(_ w: Tensor<Double>, _ b: Tensor<Double>) throws -> Convolution<Double> {
            try Convolution(kind, weight: w, bias: b, stride: [1, 2, 1], padding: [1, 0, 1], dilation: [2, 1, 1],
                            groups: 2, outputPadding: kind == .conv ? 0 : [0, 1, 0])
        }
        let conv = try layer(w, b)
        let r: Tensor<Double> = random(try conv.outputShape(for: x.shape), &rng)
        let (dx, dw, db) = try conv.backward(gradOutput: r, input: x)
        XCTAssertLessThan(relativeError(try XCTUnwrap(dx), try numeric(x) { dot(try conv($0), r) }), 1e-6)
        XCTAssertLessThan(relativeError(try XCTUnwrap(dw), try numeric(w) { dot(try layer($0, b)(x), r) }), 1e-6)
        XCTAssertLessThan(relativeError(try XCTUnwrap(db), try numeric(b) { dot(try layer(w, $0)(x), r) }), 1e-6)
        // A mask leaves the others out.
        let onlyWeight = try conv.backward(gradOutput: r, input: x, mask: .weight)
        XCTAssertNil(onlyWeight.input)
        XCTAssertNil(onlyWeight.bias)
        XCTAssertEqual(onlyWeight.weight, dw)
    }

    func testConv3dBackward() throws { try check(.conv) }
    func testConvTranspose3dBackward() throws { try check(.convTranspose) }

    func testNoBiasGradientWithoutBias() throws {
        let conv = try Convolution(weight: try Tensor<Float>(shape: [2, 1, 3], repeating: 1))
        let x = try Tensor<Float>(shape: [1, 1, 5], repeating: 1)
        let g = try conv.backward(gradOutput: try Tensor(shape: [1, 2, 3], repeating: 1), input: x)
        XCTAssertNotNil(g.input)
        XCTAssertEqual(g.weight?.storage, [3, 3, 3, 3, 3, 3])
        XCTAssertNil(g.bias)
    }
}

final class KitErrorTests: XCTestCase {
    // Computed: XCTest keeps test case objects alive to the end (LeakSanitizer would report
    // a stored tensor as a leak from SwiftConvKit).
    var w2: Tensor<Float> { try! Tensor<Float>(shape: [4, 3, 3, 3], repeating: 1) }

    func testTensorShapes() throws {
        assertInvalid("has 6 elements, but 5 were given") { try Tensor<Float>(shape: [2, 3], storage: [1, 2, 3, 4, 5]) }
        assertInvalid("negative dimension") { try Tensor<Double>.zeros(shape: [2, -1]) }
        assertInvalid("overflows") { try Tensor<Double>.zeros(shape: [1 << 40, 1 << 40]) }
        assertInvalid("has 6 elements, but 8 were given") { try Tensor<Float>.zeros(shape: [2, 4]).reshaped([3, 2]) }
        assertInvalid("set_num_threads") { try ConvThreads.set(0) }
        // Index subscripts are row-major views of the storage.
        var t = try Tensor<Float>(shape: [2, 3, 4]) { Float($0) }
        XCTAssertEqual(t[1, 2, 3], 23)
        t[0, 1, 2] = -1
        XCTAssertEqual(t[flat: 6], -1)
        XCTAssertEqual(t.rank, 3)
        XCTAssertEqual(t.description, "Tensor<Float>[2, 3, 4]")
    }

    func testBadInputAtCall() throws {
        let conv = try Convolution(weight: w2)
        assertInvalid("expected input[1, 2, 8, 8] to have 3 channels, but got 2 channels") {
            try conv(Tensor.zeros(shape: [1, 2, 8, 8]))
        }
        assertInvalid("Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [8, 8]") {
            try conv(Tensor.zeros(shape: [8, 8]))
        }
        assertInvalid("Kernel size can't be greater than actual input size") { try conv(Tensor.zeros(shape: [1, 3, 2, 8])) }
        assertInvalid("expected grad_output of size [1, 4, 6, 6]") {
            try conv.backward(gradOutput: Tensor.zeros(shape: [1, 4, 5, 5]), input: Tensor.zeros(shape: [1, 3, 8, 8]))
        }
        // One-off calls report the same.
        assertInvalid("to have 3 channels") { try conv2(Tensor.zeros(shape: [1, 5, 8, 8])) }
        // A failed call leaves the layer usable.
        XCTAssertEqual(try conv(Tensor.zeros(shape: [1, 3, 8, 8])).shape, [1, 4, 6, 6])
    }

    func conv2(_ x: Tensor<Float>) throws -> Tensor<Float> { try conv(x, w2) }

    func testBadParametersAtCreation() {
        let w = w2
        assertInvalid("expected a weight of 3, 4 or 5 dimensions") { try Convolution(weight: Tensor<Float>.zeros(shape: [4, 3])) }
        assertInvalid("expected a weight of 3, 4 or 5 dimensions") { try Convolution(weight: Tensor<Float>.zeros(shape: [1, 1, 1, 1, 1, 1])) }
        assertInvalid("non-positive stride") { try Convolution(weight: w, stride: 0) }
        assertInvalid("stride must have 2 values") { try Convolution(weight: w, stride: [1, 2, 3]) }
        assertInvalid("dilation should be greater than zero") { try Convolution(weight: w, dilation: [1, -1]) }
        assertInvalid("negative padding") { try Convolution(weight: w, padding: .explicit([AxisPadding(0, -1), AxisPadding(0, 0)])) }
        assertInvalid("expected weight to be divisible by 3") { try Convolution(weight: w, groups: 3) }
        assertInvalid("non-positive groups") { try Convolution(weight: w, groups: 0) }
        assertInvalid("padding='same' is not supported for strided convolutions") { try Convolution(weight: w, stride: 2, padding: .same) }
        assertInvalid("output_padding is only meaningful for transposed convolution") { try Convolution(weight: w, outputPadding: 1) }
        assertInvalid("unknown algorithm 'scatter'") { try Convolution(weight: w, algorithm: .scatter) }
        assertInvalid("expected bias to be 1-dimensional with 4 elements") { try Convolution(weight: w, bias: Tensor([1, 2, 3])) }
        assertInvalid("output padding must be smaller than either stride or dilation") {
            try Convolution(.convTranspose, weight: w, stride: 2, outputPadding: 2)
        }
        assertInvalid("asymmetric padding is not supported for transposed convolution") {
            try Convolution(.convTranspose, weight: w, padding: .explicit([AxisPadding(0, 1), AxisPadding(0, 0)]))
        }
        assertInvalid("unknown algorithm 'im2col'") { try Convolution(.convTranspose, weight: w, algorithm: .im2col) }
        // Valid parameters that need a large input are not refused at creation.
        XCTAssertNoThrow(try Convolution(weight: w, padding: 0, dilation: 50))
        XCTAssertNoThrow(try Convolution(.convTranspose, weight: w, stride: 3, padding: 20))
    }
}

final class KitPlanCacheTests: XCTestCase {
    func testPlansAreReusedAcrossBatchSizes() throws {
        var rng = Rng(state: 3)
        let conv = try Convolution(weight: random([8, 4, 3, 3], &rng, Float.self), bias: random([8], &rng), padding: 1)
        XCTAssertGreaterThan(conv.packedWeightBytes, 0, "the weights are packed at creation")
        let x3: Tensor<Float> = random([3, 4, 7, 9], &rng)
        let y3 = try conv(x3)
        for n in 0..<3 {
            let image = try Tensor(shape: [1, 4, 7, 9], storage: Array(x3.storage[n * 252..<(n + 1) * 252]))
            let y1 = try conv(image)
            let expected = try Tensor(shape: [1, 8, 7, 9], storage: Array(y3.storage[n * 504..<(n + 1) * 504]))
            XCTAssertLessThan(relativeError(y1, expected), 1e-6)
            // Unbatched is batch 1 without the axis: the same plan inputs, the same bits.
            XCTAssertEqual(try conv(image.reshaped([4, 7, 9])), try y1.reshaped([8, 7, 9]))
        }
        _ = try conv(x3)
        XCTAssertEqual(conv.cachedPlanCount, 3, "[3, ...], [1, ...] and unbatched")
        _ = try conv.backward(gradOutput: y3, input: x3)
        _ = try conv.backward(gradOutput: y3, input: x3)
        XCTAssertEqual(conv.cachedPlanCount, 4)
    }

    /// A transposed convolution has no forward GEMM to pack for; its backward has (the
    /// input gradient is a convolution), and its plans share one packed copy.
    func testTransposedPacksForItsBackward() throws {
        var rng = Rng(state: 5)
        let up = try Convolution(.convTranspose, weight: random([8, 4, 3, 3], &rng, Double.self), stride: 2)
        XCTAssertEqual(up.packedWeightBytes, 0)
        let x: Tensor<Double> = random([2, 8, 5, 5], &rng)
        let y = try up(x)
        XCTAssertEqual(y.shape, [2, 4, 11, 11])
        let g1 = try up.backward(gradOutput: y, input: x)
        let bytes = up.packedWeightBytes
        XCTAssertGreaterThan(bytes, 0)
        let x1: Tensor<Double> = random([1, 8, 6, 7], &rng)
        _ = try up.backward(gradOutput: try up(x1), input: x1, mask: .input)
        XCTAssertEqual(up.packedWeightBytes, bytes)
        // The input gradient of a transposed convolution is the convolution with its weight.
        let dx = try conv(y, up.weight, stride: 2)
        XCTAssertLessThan(relativeError(try XCTUnwrap(g1.input), dx), 1e-12)
    }

    /// A stride-1 convolution's input gradient runs the flipped kernel on the GEMM: the first
    /// backward plan packs it, later ones (other shapes) share it, next to the forward copy.
    func testConvPacksFlippedKernelForItsBackward() throws {
        var rng = Rng(state: 7)
        let layer = try Convolution(weight: random([8, 4, 3, 3], &rng, Float.self), padding: 1)
        let forwardBytes = layer.packedWeightBytes
        XCTAssertGreaterThan(forwardBytes, 0)
        let x: Tensor<Float> = random([2, 4, 6, 6], &rng)
        let g = try layer.backward(gradOutput: try layer(x), input: x, mask: .input)
        let bytes = layer.packedWeightBytes
        XCTAssertGreaterThan(bytes, forwardBytes)
        let x1: Tensor<Float> = random([1, 4, 9, 7], &rng)
        _ = try layer.backward(gradOutput: try layer(x1), input: x1, mask: .input)
        XCTAssertEqual(layer.packedWeightBytes, bytes)
        // The same values as the one-off (unpacked) transposed convolution.
        let dx = try convTranspose(try layer(x), layer.weight, padding: 1)
        XCTAssertEqual(try XCTUnwrap(g.input), dx)
    }

    /// One layer called from many tasks at once, on several shapes (so plans are created
    /// concurrently too): every result equals the one computed alone.
    func testConcurrentCalls() async throws {
        var rng = Rng(state: 4)
        let conv = try Convolution(weight: random([6, 2, 3, 3, 3], &rng, Float.self), bias: random([6], &rng),
                                   stride: [1, 2, 1], padding: 1, groups: 2)
        let inputs: [Tensor<Float>] = [[1, 4, 5, 6, 7], [2, 4, 5, 6, 7], [4, 5, 6, 7], [3, 4, 3, 9, 4]].map { random($0, &rng) }
        let fresh = try Convolution(weight: conv.weight, bias: conv.bias, stride: [1, 2, 1], padding: 1, groups: 2)
        let expected = try inputs.map { try fresh($0) }
        let saved = ConvThreads.count
        try ConvThreads.set(2)
        defer { try? ConvThreads.set(saved) }
        let results = try await withThrowingTaskGroup(of: (Int, Tensor<Float>).self) { group in
            for i in 0..<24 {
                group.addTask { (i, try conv(inputs[i % inputs.count])) }
            }
            var all: [(Int, Tensor<Float>)] = []
            for try await r in group { all.append(r) }
            return all
        }
        XCTAssertEqual(results.count, 24)
        for (i, y) in results { XCTAssertEqual(y, expected[i % inputs.count], "task \(i)") }
        XCTAssertEqual(conv.cachedPlanCount, inputs.count)
    }
}
