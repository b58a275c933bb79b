/// Moves activations between channels-last memory, (N, *spatial, C), and channels-first,
/// (N, C, *spatial): per image a (pixels x channels) matrix transposed to
/// (channels x pixels), or back. Values are moved, never computed, for any element size,
/// so a channels-last call that runs the channels-first steps on converted copies gives
/// exactly the channels-first call's bits (`ConvPlan.Step.toChannelsFirst`, `.toChannelsLast`).
enum LayoutConversion {
    static let explanation = "per image, 64-byte panels through the register transpose"

    /// Rows of one image per task (a task writes `rowBlock` consecutive elements of every
    /// output row, so tasks never share a destination cache line but at their ends).
    static let rowBlock = 64
    /// Columns per tile: the tile's source rows stay in L1 while its destination rows fill.
    static let columnTile = 16

    /// (batch, channels, pixels) of an activation of `shape` (its dims as validated: batched
    /// (N, C, *spatial) or unbatched (C, *spatial)), or nil when a product overflows.
    static func dims(_ shape: [Int], rank: Int) -> (batch: Int, channels: Int, pixels: Int)? {
        let batched = shape.count == rank + 2
        guard shape.count >= rank + 1, !shape.contains(where: { $0 < 0 }) else { return nil }
        var pixels = 1
        for d in shape.suffix(rank) {
            let (p, o) = pixels.multipliedReportingOverflow(by: d)
            if o { return nil }
            pixels = p
        }
        return (batched ? shape[0] : 1, shape[batched ? 1 : 0], pixels)
    }

    /// dst (batch, channels, pixels) = src (batch, pixels, channels), both C-contiguous,
    /// elements of `elementBytes` (2, 4 or 8) bytes.
    static func toChannelsFirst(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, batch: Int, channels: Int,
                                pixels: Int, elementBytes: Int) {
        transpose(src, dst, batch: batch, rows: pixels, cols: channels, elementBytes: elementBytes)
    }

    /// dst (batch, pixels, channels) = src (batch, channels, pixels).
    static func toChannelsLast(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, batch: Int, channels: Int,
                               pixels: Int, elementBytes: Int) {
        transpose(src, dst, batch: batch, rows: channels, cols: pixels, elementBytes: elementBytes)
    }

    /// Per image: dst (cols x rows) = src (rows x cols)^T.
    static func transpose(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, batch: Int, rows: Int, cols: Int,
                          elementBytes: Int) {
        switch elementBytes {
        case 2: transpose(src.assumingMemoryBound(to: UInt16.self), dst.assumingMemoryBound(to: UInt16.self), batch, rows, cols)
        case 4: transposePanels(src.assumingMemoryBound(to: Float.self), dst.assumingMemoryBound(to: Float.self), batch, rows, cols)
        default: transposePanels(src.assumingMemoryBound(to: Double.self), dst.assumingMemoryBound(to: Double.self), batch, rows, cols)
        }
    }

    /// Columns per register-transpose call (a 16 KB scratch of 64-byte rows).
    static let panelChunk = 256

    /// 4- and 8-byte elements: blocks of one 64-byte panel of rows (16 Floats, 8 Doubles)
    /// through the kernel table's register transpose into a scratch of 64-byte rows, each
    /// then stored as one 64-byte row of the destination; the rows past the last full
    /// block element by element.
    private static func transposePanels<T: ConvScalar>(_ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>,
                                                       _ batch: Int, _ rows: Int, _ cols: Int) {
        if batch <= 0 || rows <= 0 || cols <= 0 { return }
        let nr = KernelTable.nr(T.self), image = rows &* cols, chunk = panelChunk
        if cols < nr {
            // Few columns (e.g. an RGB image's 3 channels): a register transpose per 3
            // columns costs more than moving them one by one.
            let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
            switch T.kind {
            case .float32: transpose(s.assumingMemoryBound(to: UInt32.self), d.assumingMemoryBound(to: UInt32.self), batch, rows, cols)
            case .float64: transpose(s.assumingMemoryBound(to: UInt64.self), d.assumingMemoryBound(to: UInt64.self), batch, rows, cols)
            }
            return
        }
        let blocks = (rows &+ nr &- 1) / nr
        // Tasks of whole panels, about `rowBlock` rows each.
        let perTask = max(1, rowBlock / nr), tasks = (blocks &+ perTask &- 1) / perTask
        ThreadPool.shared.parallelFor(batch &* tasks, work: ThreadPool.copyWork(elements: batch &* image)) { task in
            let n = task / tasks, b0 = (task &- n &* tasks) &* perTask, b1 = min(blocks, b0 &+ perTask)
            let s = src + n &* image, d = dst + n &* image
            withUnsafeTemporaryAllocation(of: T.self, capacity: chunk &* nr) { scratch in
                let tmp = scratch.baseAddress!
                for b in b0..<b1 {
                    let r0 = b &* nr
                    if r0 &+ nr > rows {
                        for r in r0..<rows {
                            let sr = s + r &* cols
                            for c in 0..<cols { d[c &* rows &+ r] = sr[c] }
                        }
                        continue
                    }
                    var c0 = 0
                    while c0 < cols {
                        let cc = min(chunk, cols &- c0)
                        // tmp[u * nr + r] = s[(r0 + r) * cols + c0 + u]
                        PackKernels.transposeTile(tmp, s + (r0 &* cols &+ c0), srcStride: cols, count: cc, nr: nr)
                        for u in 0..<cc { copyPanelRow(d + ((c0 &+ u) &* rows &+ r0), UnsafePointer(tmp + u &* nr)) }
                        c0 &+= cc
                    }
                }
            }
        }
    }

    private static func transpose<E: FixedWidthInteger>(_ src: UnsafePointer<E>, _ dst: UnsafeMutablePointer<E>,
                                                        _ batch: Int, _ rows: Int, _ cols: Int) {
        if batch <= 0 || rows <= 0 || cols <= 0 { return }
        let image = rows &* cols, block = rowBlock, tile = columnTile
        let blocks = (rows &+ block &- 1) / block
        // Elements moved, as the pool's work estimate (a move is cheaper than a multiply-add,
        // but these loops are memory-bound: splitting large ones pays).
        ThreadPool.shared.parallelFor(batch &* blocks, work: ThreadPool.copyWork(elements: batch &* image)) { task in
            let n = task / blocks, r0 = (task &- n &* blocks) &* block, r1 = min(rows, r0 &+ block)
            let s = src + n &* image, d = dst + n &* image
            var c0 = 0
            while c0 < cols {
                let c1 = min(cols, c0 &+ tile)
                for r in r0..<r1 {
                    let sr = s + r &* cols
                    for c in c0..<c1 { d[c &* rows &+ r] = sr[c] }
                }
                c0 = c1
            }
        }
    }
}
