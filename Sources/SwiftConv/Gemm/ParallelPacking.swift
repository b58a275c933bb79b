extension Gemm {
    /// Elements one packing task copies, about (a few tens of KiB: a claim of the pool per
    /// task is negligible next to it).
    static let packingTaskElements = 1 << 14

    /// Rows `rows` (the whole `depth`) of `operand(g)` packed as A, for every g in 0..<count,
    /// split over the threads by panels: the weights a call packs once for all its tiles
    /// were packed by the calling thread alone before the parallel GEMMs (a serial part of
    /// every layer: 40-120 us of a 1x1 layer on 7x7). nil when the memory cannot be had
    /// (the GEMM then packs the operand itself: the same bits, packing only copies).
    static func tryPackA<A: GemmOperand>(count: Int, rows: Range<Int>, depth: Int,
                                         _ operand: (Int) -> A) -> [PackedMatrix<A.Scalar>]? {
        var packed: [PackedMatrix<A.Scalar>] = []
        packed.reserveCapacity(max(0, count))
        for _ in 0..<max(0, count) {
            guard let p = PackedMatrix<A.Scalar>(rows: rows.count, depth: depth) else { return nil }
            packed.append(p)
        }
        let mr = Gemm.mr, panels = (rows.count + mr - 1) / mr
        if count <= 0 || panels == 0 || depth <= 0 { return packed }
        // Every size here was allocated above, so the products fit.
        let panelElements = depth * mr
        let perTask = max(1, packingTaskElements / panelElements)
        let tasks = (panels + perTask - 1) / perTask
        let all = packed
        ThreadPool.shared.parallelFor(count * tasks, work: ThreadPool.copyWork(elements: count * panels * panelElements)) { task in
            let g = task / tasks, p0 = task % tasks * perTask, p1 = min(panels, p0 + perTask)
            let r0 = rows.lowerBound + p0 * mr, r1 = min(rows.upperBound, rows.lowerBound + p1 * mr)
            operand(g).packA(into: all[g].panels + p0 * panelElements, rows: r0..<r1, depth: 0..<depth)
        }
        return packed
    }
}
