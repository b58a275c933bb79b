/// A row-major matrix of float16 / bfloat16 bit patterns (B(p, j) at base + p * rowStride + j)
/// as a float32 GEMM B operand: its panels are packed by widening the half values straight
/// into them (`KernelTable.float16ToFloat32Panels`), so the packed panels hold the widened
/// matrix's panels bit for bit and the GEMM's results are those of the widened matrix
/// (HalfGemmConvolution's pointwise chunks: one image's pixels of every input channel).
struct WideningColumns: GemmOperand {
    typealias Scalar = Float
    let base: UnsafePointer<UInt16>
    let rowStride: Int
    let widen: @convention(c) (UnsafePointer<UInt16>, UnsafeMutablePointer<Float>, Int) -> Void
    let widenPanels: @convention(c) (UnsafePointer<UInt16>, Int, Int, Int, UnsafeMutablePointer<Float>) -> Void

    init(base: UnsafePointer<UInt16>, rowStride: Int, dtype: ConvDType) {
        self.base = base
        self.rowStride = rowStride
        let table = KernelTable.active
        widen = table.widening(dtype)
        widenPanels = dtype == .bfloat16 ? table.bfloat16ToFloat32Panels : table.float16ToFloat32Panels
    }

    func element(_ r: Int, _ c: Int) -> Float {
        var v: Float = 0
        widen(base + (r &* rowStride &+ c), &v, 1)
        return v
    }

    /// The full 16-column panels in one call; a last partial panel row by row, its columns
    /// past the matrix zero (as `StridedMatrix.packB`).
    func packB(into dst: UnsafeMutablePointer<Float>, depth: Range<Int>, cols: Range<Int>, nr: Int) {
        let kc = depth.count
        if kc <= 0 || cols.isEmpty { return }
        let src = base + (depth.lowerBound &* rowStride &+ cols.lowerBound)
        let full = nr == 16 ? cols.count / 16 : 0
        if full > 0 { widenPanels(src, rowStride, kc, full, dst) }
        var j = full * nr
        while j < cols.count {
            let w = min(nr, cols.count - j), d = dst + (j / nr) * kc * nr
            for p in 0..<kc {
                widen(src + (p &* rowStride &+ j), d + p &* nr, w)
                if w < nr { (d + (p &* nr &+ w)).update(repeating: 0, count: nr - w) }
            }
            j += nr
        }
    }
}
