/// dst[2i] += a[i], dst[2i + 1] += b[i] for i < count: the two column taps (kw, kw + 1) of a
/// stride-2 col2im row added into one x row (SwiftConv's ScatterAdjoint.col2im). In the
/// SwiftConv module (baseline flags) the loop ran as SSE with two shuffles per four pairs and
/// took 17-22% of dcgan's 128->64 16x16 and 64->3 32x32 layers; here each tier's widest
/// two-source shuffle interleaves them (`sc_add_interleaved_f32`, a C inline function: Swift
/// SIMD has no interleave). One IEEE addition per element, as the scalar loop: the same bits.
/// Compiled three times like the other kernel files (the AVX512 and Baseline targets hold
/// symlinks to this one).

import CSwiftConv

@inline(never)
public func addInterleavedPairsF32(_ dst: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>,
                                   _ b: UnsafePointer<Float>, count: Int) {
    sc_add_interleaved_f32(dst, a, b, count)
}
