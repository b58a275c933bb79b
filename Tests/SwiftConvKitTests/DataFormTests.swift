// Padding modes, output sizes and float16 through the typed API (only `import SwiftConvKit`).
import SwiftConvKit
import XCTest

final class KitPaddingModeTests: XCTestCase {
    func testModesByHand() throws {
        // x = [1, 2, 3, 4], padding 2, kernel picking the first tap of the window: the padded
        // input itself, i.e. each mode's border.
        let x = try Tensor<Double>(shape: [1, 1, 4], storage: [1, 2, 3, 4])
        let pick = try Tensor<Double>(shape: [1, 1, 5], storage: [1, 0, 0, 0, 0])
        func padded(_ mode: PaddingMode) throws -> [Double] {
            // Output i = padded[i]; 4 + 4 - 5 + 1 = 4 outputs: the first four padded values;
            // the last four come from the tap at the end of the window.
            let first = try conv(x, pick, padding: 2, paddingMode: mode).storage
            let lastTap = try Tensor<Double>(shape: [1, 1, 5], storage: [0, 0, 0, 0, 1])
            let last = try conv(x, lastTap, padding: 2, paddingMode: mode).storage
            return first + last.suffix(4)
        }
        XCTAssertEqual(try padded(.zeros), [0, 0, 1, 2, 3, 4, 0, 0])
        XCTAssertEqual(try padded(.reflect), [3, 2, 1, 2, 3, 4, 3, 2])
        XCTAssertEqual(try padded(.replicate), [1, 1, 1, 2, 3, 4, 4, 4])
        XCTAssertEqual(try padded(.circular), [3, 4, 1, 2, 3, 4, 1, 2])
    }

    /// The gradient of the padded convolution (reflected and wrapped positions add their
    /// gradients back) against finite differences of the forward, for every mode and rank.
    func testBackwardIsTheGradientOfTheForward() throws {
        var rng = Rng(state: 11)
        for mode in [PaddingMode.reflect, .replicate, .circular] {
            for rank in 1...3 {
                let sizes = [5, 4, 3].prefix(rank)
                let x: Tensor<Double> = random([2, 2] + sizes, &rng)
                let w: Tensor<Double> = random([3, 2] + Array(repeating: 3, count: rank), &rng)
                let layer = try Convolution(weight: w, bias: random([3], &rng), padding: 1, paddingMode: mode)
                let y = try layer(x)
                let dy: Tensor<Double> = random(y.shape, &rng)
                let g = try layer.backward(gradOutput: dy, input: x)
                // d/dx of <dy, conv(x)> by central differences, element by element.
                func loss(_ v: Tensor<Double>) throws -> Double {
                    let out = try layer(v)
                    return (0..<out.count).reduce(0) { $0 + out[flat: $1] * dy[flat: $1] }
                }
                let h = 1e-6
                var numeric: [Double] = []
                for i in 0..<x.count {
                    let plus = try Tensor(shape: x.shape) { j in j == i ? x[flat: j] + h : x[flat: j] }
                    let minus = try Tensor(shape: x.shape) { j in j == i ? x[flat: j] - h : x[flat: j] }
                    numeric.append((try loss(plus) - loss(minus)) / (2 * h))
                }
                XCTAssertLessThan(relativeError(g.input!, try Tensor(shape: x.shape, storage: numeric)), 1e-7,
                                  "\(mode) rank \(rank)")
            }
        }
    }

    func testModeErrors() throws {
        let w = try Tensor<Float>(shape: [1, 1, 3, 3], repeating: 1)
        let x = try Tensor<Float>(shape: [1, 1, 2, 2], repeating: 1)
        // reflect cannot pad 2 on an axis of 2 (PyTorch's rule and wording: "Padding size")
        assertInvalid("adding") { try conv(x, w, padding: 2, paddingMode: .reflect) }
        // transposed convolutions pad with zeros only
        assertInvalid("zeros") { try Convolution(.convTranspose, weight: w, paddingMode: .reflect) }
    }
}

final class KitOutputSizeTests: XCTestCase {
    func testOutputSizeFixesOutputPadding() throws {
        var rng = Rng(state: 12)
        let w: Tensor<Float> = random([2, 3, 3, 3], &rng)
        let x: Tensor<Float> = random([1, 2, 4, 4], &rng)
        let up = try Convolution(.convTranspose, weight: w, stride: 2, padding: 1)
        XCTAssertEqual(try up(x).shape, [1, 3, 7, 7])
        for extra in 0...1 {
            let size = 7 + extra
            let y = try up(x, outputSize: [size, size])
            XCTAssertEqual(y.shape, [1, 3, size, size])
            // the same as asking for that output padding
            let byPadding = try Convolution(.convTranspose, weight: w, stride: 2, padding: 1, outputPadding: .all(extra))
            XCTAssertEqual(y, try byPadding(x))
            XCTAssertEqual(try convTranspose(x, w, stride: 2, padding: 1, outputSize: [1, 3, size, size]), y)
            XCTAssertEqual(try up.outputShape(for: x.shape, outputSize: [size, size]), [1, 3, size, size])
            let dy: Tensor<Float> = random(y.shape, &rng)
            let g = try up.backward(gradOutput: dy, input: x, outputSize: [size, size])
            let gRef = try byPadding.backward(gradOutput: dy, input: x)
            XCTAssertEqual(g.input, gRef.input)
            XCTAssertEqual(g.weight, gRef.weight)
        }
        // 9 is out of reach: the error names the sizes that are
        assertInvalid("7") { try up(x, outputSize: [9, 9]) }
    }
}

#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
final class KitFloat16Tests: XCTestCase {
    /// float16 tensors: computed in float32 from the exactly widened values, then rounded
    /// once, so the result is the float32 result of the same values rounded to float16.
    func testFloat16IsTheRoundedFloat32Result() throws {
        var rng = Rng(state: 13)
        for kind in [ConvKind.conv, .convTranspose] {
            let x32: Tensor<Float> = random([2, 4, 6, 5], &rng)
            let w32: Tensor<Float> = random([4, 2, 3, 3], &rng)
            let b32: Tensor<Float> = random([kind == .conv ? 4 : 4], &rng)
            func half(_ t: Tensor<Float>) throws -> Tensor<Float16> {
                try Tensor(shape: t.shape, storage: t.storage.map { Float16($0) })
            }
            func wide(_ t: Tensor<Float16>) throws -> Tensor<Float> {
                try Tensor(shape: t.shape, storage: t.storage.map { Float($0) })
            }
            let x = try half(x32), w = try half(w32), b = try half(b32)
            let layer = try Convolution(kind, weight: w, bias: b, stride: 1, padding: 1, groups: 2)
            let layer32 = try Convolution(kind, weight: try wide(w), bias: try wide(b), stride: 1, padding: 1, groups: 2)
            let y = try layer(x)
            XCTAssertEqual(y, try half(try layer32(try wide(x))))
            let dy: Tensor<Float16> = try half(random(y.shape, &rng))
            let g = try layer.backward(gradOutput: dy, input: x)
            let g32 = try layer32.backward(gradOutput: try wide(dy), input: try wide(x))
            XCTAssertEqual(g.input, try half(g32.input!))
            XCTAssertEqual(g.weight, try half(g32.weight!))
            XCTAssertEqual(g.bias, try half(g32.bias!))
        }
    }
}
#endif
