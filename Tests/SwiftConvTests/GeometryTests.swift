@testable import SwiftConv
import XCTest

final class GeometryTests: XCTestCase {
    func request(_ op: ConvOp = .conv, x: [Int], w: [Int], _ edit: (inout ConvRequest) -> Void = { _ in }) -> ConvRequest {
        var r = ConvRequest(op: op, inputShape: x, weightShape: w)
        edit(&r)
        return r
    }

    func message(_ r: ConvRequest) -> String? {
        do { _ = try ConvGeometry(validating: r); return nil } catch let e as ConvError { return e.message } catch { return "\(error)" }
    }

    func testNotebookForwardShape() throws {
        let g = try ConvGeometry(validating: request(x: [1, 2, 10, 10], w: [4, 2, 3, 3]) {
            $0.stride = [2, 2]; $0.padding = .explicit(top: 1, bottom: 1, left: 1, right: 1); $0.dilation = [2, 2]
        })
        XCTAssertEqual(g.resultShapes[0], [1, 4, 4, 4])  // (10 + 2 - 5) / 2 + 1 = 4
    }

    func testSamePaddingPutsExtraAtBottomRight() throws {
        let g = try ConvGeometry(validating: request(x: [1, 1, 7, 9], w: [1, 1, 4, 2]) { $0.padding = .same })
        XCTAssertEqual(g.resultShapes[0], [1, 1, 7, 9])
        XCTAssertEqual(g.shape.padTop, 1)   // total 3: 1 on top, 2 below
        XCTAssertEqual(g.shape.padLeft, 0)  // total 1: 0 left, 1 right
        let d = try ConvGeometry(validating: request(x: [1, 1, 7, 9], w: [1, 1, 4, 4]) { $0.padding = .same; $0.dilation = [2, 1] })
        XCTAssertEqual(d.shape.padTop, 3)
        XCTAssertEqual(d.resultShapes[0], [1, 1, 7, 9])
    }

    func testAsymmetricPaddingAndUnbatched() throws {
        let g = try ConvGeometry(validating: request(x: [3, 5, 6], w: [2, 3, 2, 2]) {
            $0.padding = .explicit(top: 1, bottom: 2, left: 0, right: 3)
        })
        XCTAssertTrue(g.unbatched)
        XCTAssertEqual(g.resultShapes[0], [2, 7, 8])
    }

    func testTransposedShapeWithOutputPadding() throws {
        // ConvTranspose2d(3, 4, 3, stride 3, padding 0, output_padding 2) on 6x6 -> 20x20
        let g = try ConvGeometry(validating: request(.convTranspose, x: [1, 3, 6, 6], w: [3, 4, 3, 3]) {
            $0.stride = [3, 3]; $0.outputPadding = [2, 2]
        })
        XCTAssertEqual(g.resultShapes[0], [1, 4, 20, 20])
        XCTAssertEqual(g.shape.outHeight, 6)
        XCTAssertEqual(g.shape.inHeight, 20)
        // output_padding >= stride is allowed when it is < dilation
        XCTAssertNil(message(request(.convTranspose, x: [1, 2, 3, 3], w: [2, 1, 3, 3]) { $0.outputPadding = [1, 1]; $0.dilation = [2, 2] }))
    }

    func testBackwardShapes() throws {
        let g = try ConvGeometry(validating: request(.convBackward, x: [2, 4, 8, 8], w: [6, 2, 3, 3]) {
            $0.groups = 2; $0.stride = [2, 2]; $0.gradOutputShape = [2, 6, 3, 3]; $0.outputMask = (true, false, true)
        })
        XCTAssertEqual(g.resultShapes[0], [2, 4, 8, 8])
        XCTAssertNil(g.resultShapes[1])
        XCTAssertEqual(g.resultShapes[2], [6])
        XCTAssertEqual(message(request(.convBackward, x: [2, 4, 8, 8], w: [6, 2, 3, 3]) { $0.groups = 2; $0.gradOutputShape = [2, 6, 3, 3] }),
                       "conv2d_backward: expected grad_output of size [2, 6, 6, 6] (the forward output for input [2, 4, 8, 8] and weight [6, 2, 3, 3]), but got grad_output of size [2, 6, 3, 3]")
    }

    func testErrorMessagesFollowPyTorch() {
        XCTAssertEqual(message(request(x: [1, 10, 1, 28, 28], w: [1, 10, 3, 3])),
                       "conv2d: Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [1, 10, 1, 28, 28] (weight of size [1, 10, 3, 3])")
        XCTAssertEqual(message(request(x: [1, 2, 4, 4], w: [2, 2, 1, 3]) { $0.groups = 3 }),
                       "conv2d: Given groups=3, expected weight to be at least 3 at dimension 0, but got weight of size [2, 2, 1, 3] instead")
        XCTAssertEqual(message(request(x: [1, 4, 4, 4], w: [3, 2, 1, 1]) { $0.groups = 2 }),
                       "conv2d: Given groups=2, expected weight to be divisible by 2 at dimension 0, but got weight of size [3, 2, 1, 1] instead")
        XCTAssertEqual(message(request(x: [1, 3, 10, 10], w: [8, 2, 3, 3]) { $0.groups = 2 }),
                       "conv2d: Given groups=2, weight of size [8, 2, 3, 3], expected input[1, 3, 10, 10] to have 4 channels, but got 3 channels instead")
        XCTAssertEqual(message(request(x: [1, 1, 1, 1], w: [1, 1, 10, 10])),
                       "conv2d: Calculated padded input size per channel: (1 x 1). Kernel size: (10 x 10). Kernel size can't be greater than actual input size")
        XCTAssertEqual(message(request(x: [1, 1, 4, 4], w: [1, 1, 3, 3]) { $0.padding = .same; $0.stride = [2, 2] }),
                       "conv2d: padding='same' is not supported for strided convolutions, got stride=(2, 2)")
        XCTAssertTrue(message(request(x: [1, 1, 4, 4], w: [1, 1, 3, 3]) { $0.stride = [0, 1] })!.contains("non-positive stride is not supported"))
        XCTAssertTrue(message(request(x: [1, 1, 4, 4], w: [1, 1, 3, 3]) { $0.dilation = [1, -1] })!.contains("dilation should be greater than zero"))
        XCTAssertTrue(message(request(x: [1, 1, 4, 4], w: [1, 1, 3, 3]) { $0.padding = .explicit(top: -1, bottom: 0, left: 0, right: 0) })!.contains("negative padding is not supported"))
        XCTAssertTrue(message(request(x: [1, 1, 4, 4], w: [1, 1, 3, 3]) { $0.groups = 0 })!.contains("non-positive groups is not supported"))
        XCTAssertEqual(message(request(x: [1, 2, 4, 4], w: [3, 2, 3, 3]) { $0.biasShape = [2] }),
                       "conv2d: Given weight of size [3, 2, 3, 3], expected bias to be 1-dimensional with 3 elements, but got bias of size [2] instead")
        // Conv2d(k=3, dilation=2, stride=2) on a 4x4 input must raise (PyTorch test_invalid_conv2d).
        XCTAssertNotNil(message(request(x: [1, 1, 4, 4], w: [1, 1, 3, 3]) { $0.dilation = [2, 2]; $0.stride = [2, 2] }))
    }

    func testTransposedErrors() {
        XCTAssertEqual(message(request(.convTranspose, x: [1, 3, 4, 4], w: [4, 2, 3, 3])),
                       "conv_transpose2d: Given transposed=1, weight of size [4, 2, 3, 3], expected input[1, 3, 4, 4] to have 4 channels, but got 3 channels instead")
        XCTAssertEqual(message(request(.convTranspose, x: [1, 2, 4, 4], w: [2, 2, 3, 3]) { $0.stride = [2, 2]; $0.dilation = [2, 3]; $0.outputPadding = [2, 2] }),
                       "conv_transpose2d: output padding must be smaller than either stride or dilation, but got output_padding_height: 2 output_padding_width: 2 stride_height: 2 stride_width: 2 dilation_height: 2 dilation_width: 3")
        XCTAssertEqual(message(request(.convTranspose, x: [1, 2, 4, 4], w: [2, 2, 3, 3]) { $0.groups = 2; $0.biasShape = [2] }),
                       "conv_transpose2d: Given transposed=1, weight of size [2, 2, 3, 3], expected bias to be 1-dimensional with 4 elements, but got bias of size [2] instead")
        XCTAssertNotNil(message(request(.convTranspose, x: [1, 1, 1, 1], w: [1, 1, 1, 1]) { $0.padding = .explicit(top: 1, bottom: 1, left: 1, right: 1) }))
    }

    func testOverflowIsAnErrorNotATrap() {
        let big = Int.max / 2
        XCTAssertNotNil(message(request(x: [big, big, 4, 4], w: [1, big, 1, 1])))
        XCTAssertNotNil(message(request(x: [1, 1, 4, 4], w: [1, 1, 3, 3]) { $0.padding = .explicit(top: Int.max, bottom: Int.max, left: 0, right: 0) }))
        XCTAssertNotNil(message(request(x: [1, 1, 4, 4], w: [1, 1, 3, 3]) { $0.dilation = [Int.max, 1] }))
        XCTAssertNotNil(message(request(.convTranspose, x: [1, 1, 4, 4], w: [1, 1, 3, 3]) { $0.stride = [Int.max, 1] }))
        XCTAssertNotNil(message(request(x: [1, 1, 4, 4], w: [1, 1, 3, 3]) { $0.groups = Int.max }))
    }

    func testZeroSizes() throws {
        XCTAssertEqual(try ConvGeometry(validating: request(x: [0, 2, 5, 5], w: [3, 2, 3, 3])).resultShapes[0], [0, 3, 3, 3])
        XCTAssertEqual(try ConvGeometry(validating: request(x: [2, 0, 5, 5], w: [3, 0, 3, 3])).resultShapes[0], [2, 3, 3, 3])
    }

    func testAlgorithmNames() {
        XCTAssertThrowsError(try ConvAlgorithm.parse("scatter", for: .conv))
        XCTAssertThrowsError(try ConvAlgorithm.parse("im2col", for: .convTranspose))
        XCTAssertEqual(try ConvAlgorithm.parse("taps", for: .conv), .taps)
    }
}
