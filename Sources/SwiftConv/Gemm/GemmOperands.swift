/// Operands of the GEMM core. The driver reads them through `element` (and, where an
/// operand offers it, a faster packing routine), so convolutions never have to materialise
/// an unfolded matrix: the unfolded input is an operand, not an array.

/// An operand of a GEMM: A is (m x k) read as element(row, depth); B is (k x n) read as
/// element(depth, col).
protocol GemmOperand {
    associatedtype Scalar: ConvScalar
    func element(_ row: Int, _ col: Int) -> Scalar
}

/// A strided matrix in memory: element (r, c) is base[r * rowStride + c * colStride].
/// colStride 1 is row-major; rowStride 1 is a transposed (column-major) view.
struct StridedMatrix<Scalar: ConvScalar>: GemmOperand {
    let base: UnsafePointer<Scalar>
    let rowStride: Int
    let colStride: Int

    @inline(__always) func element(_ r: Int, _ c: Int) -> Scalar { base[r &* rowStride &+ c &* colStride] }
}

/// The unfolded (im2col) input of one image and one group, never stored:
/// row (ci, kh, kw) = ci * taps + kh * kW + kw, column p = oh * outWidth + ow, value
/// x[ci, oh*strideH - padTop + kh*dilationH, ow*strideW - padLeft + kw*dilationW], or 0 where
/// that falls outside the input (padding). `x` points at channel 0 of the group in one image.
struct UnfoldedInput<Scalar: ConvScalar>: GemmOperand {
    let x: UnsafePointer<Scalar>
    let shape: ConvShape

    @inline(__always) func element(_ r: Int, _ p: Int) -> Scalar {
        let s = shape
        let taps = s.kernelTaps
        let ci = r / taps, t = r - ci * taps
        let kh = t / s.kernelWidth, kw = t - kh * s.kernelWidth
        let oh = p / s.outWidth, ow = p - oh * s.outWidth
        let ih = oh &* s.strideH &- s.padTop &+ kh &* s.dilationH
        let iw = ow &* s.strideW &- s.padLeft &+ kw &* s.dilationW
        if ih < 0 || ih >= s.inHeight || iw < 0 || iw >= s.inWidth { return 0 }
        return x[(ci &* s.inHeight &+ ih) &* s.inWidth &+ iw]
    }
}

/// The transpose of `UnfoldedInput`: row = output pixel, column = patch index. The B operand
/// of the weight gradient, dW = dY * unfold(x)^T.
struct UnfoldedInputTransposed<Scalar: ConvScalar>: GemmOperand {
    let unfolded: UnfoldedInput<Scalar>
    @inline(__always) func element(_ p: Int, _ r: Int) -> Scalar { unfolded.element(r, p) }
}
