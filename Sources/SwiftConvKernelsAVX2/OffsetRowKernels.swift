/// The GEMM block function for a B whose rows are runs of one array at arbitrary offsets:
/// B(k, j) = b[rowOffsets[k] + j]. A stride-1 convolution's unfolded input on a zero-padded
/// copy of x is such a matrix when its columns run over a "padded-width grid" (output row
/// oh, column ow at j = oh * Wp + ow, Wp the padded width): row (ci, kh, kw) starts at
/// ci * plane + kh * dilation * Wp + kw * dilation. So no packing pass over B at all
/// (`PaddedGridConvolution`).
///
/// Compiled for AVX-512 only (the file is empty in the other builds; their tables hold nil):
/// the 12 x 32 / 12 x 16 tiles of MicroKernels.swift with their B row addresses from the
/// table, so the same operations in the same order as on packed panels, the same bits.

#if SWIFTCONV_AVX512
import CSwiftConv  // sc_prefetch_l2

/// C[0..<mc, 0..<nc] (+)= A * B with A packed (6-row panels, `aPanelStride` apart) and B
/// read in place at `b + rowOffsets[k]` (`nc` a multiple of 16; every full panel is read,
/// so the caller keeps 16 readable elements past its last column). As in
/// `sgemmBlockRowMajorB`, while the row tiles run over one panel pair they prefetch the
/// next pair's rows into L2, spread over the tiles (the rows are kc streams the hardware
/// prefetchers do not follow). (Its sweep repeats `sgemmBlockRowMajorB`'s: one shared
/// `@_transparent` body with the row addressing as an optional measured the same bits but
/// changed that function's machine code, 12857 -> 12566 bytes, on a path this change did
/// not re-time; so the two stay apart.)
@inline(never)
public func sgemmBlockOffsetRowsB(mc: Int, nc: Int, kc: Int, a: UnsafePointer<Float>, aPanelStride: Int,
                                  b: UnsafePointer<Float>, rowOffsets: UnsafePointer<Int>,
                                  c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool) {
    let tiles = (mc &+ 11) / 12
    let rowsPerTile = (kc &+ tiles &- 1) / tiles
    var jr = 0
    while jr &+ 16 <= nc {
        var ir = 0, ap = a
        let bp = b + jr
        if jr &+ 32 <= nc {
            let bp2 = bp + 16
            var fetched = 0
            while ir < mc {
                let to = min(kc, fetched &+ rowsPerTile)
                while fetched < to {
                    let p = bp + 32 + rowOffsets[fetched]
                    sc_prefetch_l2(p); sc_prefetch_l2(p + 16); sc_prefetch_l2(p + 31)
                    fetched &+= 1
                }
                let cp = c + (ir &* ldc &+ jr), ap2 = ap + aPanelStride
                switch min(12, mc &- ir) {
                case 12: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 12, rowOffsets: rowOffsets)
                case 11: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 11, rowOffsets: rowOffsets)
                case 10: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 10, rowOffsets: rowOffsets)
                case 9: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 9, rowOffsets: rowOffsets)
                case 8: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 8, rowOffsets: rowOffsets)
                case 7: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 7, rowOffsets: rowOffsets)
                case 6: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 6, rowOffsets: rowOffsets)
                case 5: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 5, rowOffsets: rowOffsets)
                case 4: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 4, rowOffsets: rowOffsets)
                case 3: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 3, rowOffsets: rowOffsets)
                case 2: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 2, rowOffsets: rowOffsets)
                default: kernel12x32(kc, ap, ap2, bp, bp2, cp, ldc, loadC, rows: 1, rowOffsets: rowOffsets)
                }
                ir &+= 12; ap += 2 &* aPanelStride
            }
            jr &+= 32
            continue
        }
        while ir < mc {
            let cp = c + (ir &* ldc &+ jr), ap2 = ap + aPanelStride
            switch min(12, mc &- ir) {
            case 12: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 12, rowOffsets: rowOffsets)
            case 11: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 11, rowOffsets: rowOffsets)
            case 10: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 10, rowOffsets: rowOffsets)
            case 9: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 9, rowOffsets: rowOffsets)
            case 8: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 8, rowOffsets: rowOffsets)
            case 7: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 7, rowOffsets: rowOffsets)
            case 6: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 6, rowOffsets: rowOffsets)
            case 5: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 5, rowOffsets: rowOffsets)
            case 4: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 4, rowOffsets: rowOffsets)
            case 3: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 3, rowOffsets: rowOffsets)
            case 2: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 2, rowOffsets: rowOffsets)
            default: kernel12x16(kc, ap, ap2, bp, cp, ldc, loadC, rows: 1, rowOffsets: rowOffsets)
            }
            ir &+= 12; ap += 2 &* aPanelStride
        }
        jr &+= 16
    }
}
#endif
