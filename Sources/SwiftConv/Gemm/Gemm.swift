/// The GEMM core: C(i, j) = [C(i, j) +] sum over p < depth of A(i, p) * B(p, j), for i in
/// `rows` and j in `cols`. `c` points at C(rows.lowerBound, cols.lowerBound) and rows of C are
/// `ldc` elements apart. Single-threaded: callers partition the output across the thread
/// pool, so each C element is reduced by exactly one call, in a fixed order, and results do
/// not depend on the thread count.
enum Gemm {
    static func multiply<A: GemmOperand, B: GemmOperand>(
        _ a: A, _ b: B, rows: Range<Int>, cols: Range<Int>, depth: Int,
        c: UnsafeMutablePointer<A.Scalar>, ldc: Int, accumulate: Bool
    ) where A.Scalar == B.Scalar {
        for i in rows {
            let ci = c + (i - rows.lowerBound) * ldc - cols.lowerBound
            for j in cols {
                var acc: A.Scalar = accumulate ? ci[j] : 0
                for p in 0..<depth { acc += a.element(i, p) * b.element(p, j) }
                ci[j] = acc
            }
        }
    }
}
