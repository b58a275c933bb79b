/// The weights of a prepared "scatter" transposed conv (or grad_input) in the layout its
/// pixel-vector GEMM reads (`ScatterAdjoint.Route.pixelVectors`, col = W_g^T dy): per group,
/// W_g^T's rows ((x channel, tap) pairs) cut into panels of `panelRows` rows, each panel
/// stored dy channel by dy channel with its rows contiguous (element (r, co) of the panel
/// starting at row r0, of width wd, at co * wd + r - r0). A plain call reads W in place,
/// rows of C_in x taps Floats apart: dcgan's 512->256 k4 W has rows 16 KB apart, so every
/// line of a tile falls in one L1 set and the kernel walks it 12 rows at a time
/// (`ScatterAdjoint.pixelVectorDepth`); the panels are one sequential stream per tile, read
/// over the whole depth with the accumulators kept in registers. Packed once, when a plan of
/// a prepared convolution runs the pixel vectors (`ConvPlan`); the same sums in the same
/// order as the plain call (each col element from 0, one fused multiply-add per dy channel
/// in order), so the same bits.
final class ScatterWeightPanels: @unchecked Sendable {
    /// Rows per panel: a multiple of every tile width of the pixel-vector kernels (16, 12, 6
    /// W columns for 1, 2, 4 vectors), so a task that starts at a panel fills whole tiles.
    static let panelRows = 48

    let groups: Int
    /// dy channels per group (the GEMM's depth).
    let depth: Int
    /// Rows of W_g^T: x channels per group x taps.
    let rowsPerGroup: Int
    private let base: UnsafeMutablePointer<Float>
    let byteCount: Int

    /// The panels of `w` (the transposed conv's weight as the adjoint reads it: per group,
    /// cog rows of cig x taps, C-contiguous), or nil when the memory cannot be had.
    init?(_ s: ConvShape, w: UnsafePointer<Float>) {
        groups = s.groups
        depth = s.outChannelsPerGroup
        rowsPerGroup = s.patchSize
        let (count, o1) = s.groups.multipliedReportingOverflow(by: depth)
        let (elements, o2) = count.multipliedReportingOverflow(by: rowsPerGroup)
        let (bytes, o3) = max(1, elements).multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        guard !o1, !o2, !o3, let raw = AlignedMemory.allocate(bytes: bytes) else { return nil }
        base = raw.bindMemory(to: Float.self, capacity: max(1, elements))
        byteCount = bytes
        let k = rowsPerGroup, p = ScatterWeightPanels.panelRows
        for g in 0..<groups {
            var r0 = 0
            while r0 < k {
                let width = min(p, k - r0)
                let dst = base + g * depth * k + r0 * depth
                for co in 0..<depth {
                    (dst + co * width).update(from: w + (g * depth + co) * k + r0, count: width)
                }
                r0 += width
            }
        }
    }

    deinit { AlignedMemory.release(UnsafeMutableRawPointer(base)) }

    /// The panel of group `g` that holds row `r` of W_g^T: its first row, its width (the
    /// row stride of its dy channels) and its elements.
    @inline(__always)
    func panel(group g: Int, row r: Int) -> (firstRow: Int, width: Int, elements: UnsafePointer<Float>) {
        let p = ScatterWeightPanels.panelRows
        let r0 = r / p * p
        return (r0, min(p, rowsPerGroup - r0), UnsafePointer(base + g * depth * rowsPerGroup + r0 * depth))
    }

    /// Whether these panels hold the weights of shape `s` (the same groups, depth and rows).
    func fits(_ s: ConvShape) -> Bool {
        s.groups == groups && s.outChannelsPerGroup == depth && s.patchSize == rowsPerGroup
    }
}
