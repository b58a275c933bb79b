/// The two column taps (kw, kw + 1) of a stride-2 col2im added into x rows (SwiftConv's
/// ScatterAdjoint.col2im), for a block of dy rows at once: for each row i < rows,
/// dst_i[2u] += a_i[u] for u in lo..<hi and dst_i[2u + 1] += b_i[u] for u in lo1..<hi1, with
/// dst_i = dst + i * dstRowStride and a_i, b_i `srcRowStride` apart likewise. Each row is
/// `sc_add_tap_pair_row_f32`, a C inline function (Swift SIMD has no interleave): on AVX-512
/// whole 8-pair chunks with merge masks, edges included; elsewhere the edges, then the
/// interleaved run with the tier's widest two-source shuffle. One call per tap pair and
/// image, not per row: dcgan's 8-wide and 4-wide dy rows (7 and 3 pairs between the edges)
/// went one indirect call or a scalar loop per row. One IEEE addition per element, as the
/// scalar loop: the same bits (every element receives at most one addition per call, so the
/// order inside does not matter). Compiled three times like the other kernel files (the
/// AVX512 and Baseline targets hold symlinks to this one).

import CSwiftConv

@inline(never)
public func addInterleavedTapRowsF32(_ dst: UnsafeMutablePointer<Float>, dstRowStride: Int,
                                     _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, srcRowStride: Int,
                                     rows: Int, lo: Int, hi: Int, lo1: Int, hi1: Int) {
    var d = dst, sa = a, sb = b
    for _ in 0..<rows {
        sc_add_tap_pair_row_f32(d, sa, sb, lo, hi, lo1, hi1)
        d += dstRowStride; sa += srcRowStride; sb += srcRowStride
    }
}
