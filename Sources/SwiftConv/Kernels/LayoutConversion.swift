/// Moves activations between channels-last memory, (N, *spatial, C), and channels-first,
/// (N, C, *spatial): per image a (pixels x channels) matrix transposed to
/// (channels x pixels), or back. Values are moved, never computed, for any element size,
/// so a channels-last call that runs the channels-first steps on converted copies gives
/// exactly the channels-first call's bits (`ConvPlan.Step.toChannelsFirst`, `.toChannelsLast`).
enum LayoutConversion {
    static let explanation = "blocked transpose per image"

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
        case 4: transpose(src.assumingMemoryBound(to: UInt32.self), dst.assumingMemoryBound(to: UInt32.self), batch, rows, cols)
        default: transpose(src.assumingMemoryBound(to: UInt64.self), dst.assumingMemoryBound(to: UInt64.self), batch, rows, cols)
        }
    }

    private static func transpose<E: FixedWidthInteger>(_ src: UnsafePointer<E>, _ dst: UnsafeMutablePointer<E>,
                                                        _ batch: Int, _ rows: Int, _ cols: Int) {
        if batch <= 0 || rows <= 0 || cols <= 0 { return }
        let image = rows &* cols, block = rowBlock, tile = columnTile
        let blocks = (rows &+ block &- 1) / block
        // Elements moved, as the pool's work estimate (a move is cheaper than a multiply-add,
        // but these loops are memory-bound: splitting large ones pays).
        ThreadPool.shared.parallelFor(batch &* blocks, work: batch &* image) { task in
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
