/// The GEMM with packed A and a B read in place whose row k is a run of one array at
/// `b + rowOffsets[k]` (a stride-1 convolution's zero-padded input on its padded-width
/// grid: `PaddedGridConvolution`). No packing pass over B; the active table's
/// `sgemmBlockOffsetRowsB` (AVX-512 only) runs the same tiles as on packed panels.
extension Gemm {
    /// C(m x n) (+)= A * B with A packed (`a`: its first 6-row panel, `aPanelStride` apart,
    /// depth `depth` from column 0) and B(k, j) = b[rowOffsets[k] + j]. `n` is a multiple
    /// of 16 and the caller keeps every full panel readable. Per element the same order as
    /// `multiply` (C or 0, then one FMA per k in order; depth blocks pass through C
    /// exactly), so the same bits. Float, and only when the table has the block function.
    static func multiplyOffsetRowsB(a: UnsafePointer<Float>, aPanelStride: Int, m: Int, depth: Int,
                                    b: UnsafePointer<Float>, rowOffsets: UnsafePointer<Int>, n: Int,
                                    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        guard let block = KernelTable.active.sgemmBlockOffsetRowsB, m > 0, n > 0 else { return }
        if depth <= 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        let blocking = KernelTable.active.blocking
        // Equal depth blocks of at most the packed path's `kcFloat`: its rows are runs that
        // share lines (kw taps overlap), unlike a pointwise input's (`kcRowMajorB`). Measured
        // (one thread, CPU clock, time new / old path, median of 7 interleaved rounds), with
        // kc 160 / 320: N1 64->64 112x112 0.94 / 0.92, 128->64 112x112 0.92 / 0.93, 128->128
        // 56x56 1.01 / 1.00, 64->64 56x56 0.94 / 0.96, N8 64->64 56x56 0.94 / 0.94.
        let kcBlocks = (depth + blocking.kcFloat - 1) / blocking.kcFloat
        let kcMax = (depth + kcBlocks - 1) / kcBlocks
        // Column blocks whose C (m x nc, read and written once per depth block) stays in L2.
        let ncMax = max(32, blocking.smallBBytes / (m * MemoryLayout<Float>.stride) / 32 * 32)
        var jc = 0
        while jc < n {
            let nc = min(ncMax, n - jc)
            var pc = 0
            while pc < depth {
                let kcb = min(kcMax, depth - pc)
                block(m, nc, kcb, a + pc * mr, aPanelStride, b + jc, rowOffsets + pc, c + jc, ldc, accumulate || pc > 0)
                pc += kcb
            }
            jc += nc
        }
    }
}
