/// A pointwise convolution's input (a row-major C_in x pixels matrix) that the GEMM packs
/// as its B operand instead of reading it in place: it is not a `StridedMatrix`, so
/// `Gemm.multiply` takes its packing path, which copies each row of a column block in one
/// sequential sweep (`StridedMatrix.packB`). The planner's choice for large inputs
/// (`KernelSelector.packsPointwiseInput`); packing only copies, so the bits are the same.
struct PackedPointwiseInput<Scalar: ConvScalar>: GemmOperand {
    let matrix: StridedMatrix<Scalar>

    init(_ matrix: StridedMatrix<Scalar>) { self.matrix = matrix }

    @inline(__always) func element(_ r: Int, _ c: Int) -> Scalar { matrix.element(r, c) }

    func packB(into dst: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>, nr: Int) {
        matrix.packB(into: dst, depth: depth, cols: cols, nr: nr)
    }
}
