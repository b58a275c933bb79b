/// The direct dense convolution with output channels in the vector lanes (the NCHWc way,
/// `ChannelBlockedConvolution`): a tile of R output pixels of one output row x `blocks` blocks
/// of 16 output channels (R x blocks zmm accumulators, at most 28), summing over a range of
/// 16-channel input blocks and every kernel tap in registers, each input value broadcast
/// straight from the channel-blocked input (no im2col, no packed B, no C round trip inside
/// the range). Weights come as [in block][tap][16 in][16 * blocks out], so one tap's 16
/// input channels are 16 rows of `blocks` vectors, loaded once per tile and used R times.
///
/// Sum order of every output (the same for any tile width, thread count or call): the bias
/// (or the stored partial sum when `accumulate`), then input block by block, tap by tap,
/// input channel by input channel, one fused multiply-add each.
///
/// AVX-512 only (the table holds nil on the other tiers); compiled where MicroKernels.swift is
/// (the AVX512 target holds a symlink to this file).

#if SWIFTCONV_AVX512
import CSwiftConv  // sc_prefetch_l2

/// Up to 7 pixels (`pixels`) x 4 blocks of 16 output channels.
@_transparent
private func tile4x7(_ pixels: Int, _ inBlocks: Int, _ taps: UnsafePointer<Int>, _ tapCount: Int,
                      _ x: UnsafePointer<Float>, _ xBlockStride: Int, _ ps: Int,
                      _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                      _ y: UnsafeMutablePointer<Float>, _ ybs: Int, _ accumulate: Bool,
                      _ pf: UnsafePointer<Float>, _ pfEnd: UnsafePointer<Float>) {
    typealias V = SIMD16<Float>
    var a0_0 = V()
    var a0_1 = V()
    var a0_2 = V()
    var a0_3 = V()
    var a1_0 = V()
    var a1_1 = V()
    var a1_2 = V()
    var a1_3 = V()
    var a2_0 = V()
    var a2_1 = V()
    var a2_2 = V()
    var a2_3 = V()
    var a3_0 = V()
    var a3_1 = V()
    var a3_2 = V()
    var a3_3 = V()
    var a4_0 = V()
    var a4_1 = V()
    var a4_2 = V()
    var a4_3 = V()
    var a5_0 = V()
    var a5_1 = V()
    var a5_2 = V()
    var a5_3 = V()
    var a6_0 = V()
    var a6_1 = V()
    var a6_2 = V()
    var a6_3 = V()
    if accumulate {
        do { a0_0 = UnsafeRawPointer(y + 0).loadUnaligned(as: V.self); a0_1 = UnsafeRawPointer(y + (1 &* ybs &+ 0)).loadUnaligned(as: V.self); a0_2 = UnsafeRawPointer(y + (2 &* ybs &+ 0)).loadUnaligned(as: V.self); a0_3 = UnsafeRawPointer(y + (3 &* ybs &+ 0)).loadUnaligned(as: V.self) }
        if pixels > 1 { a1_0 = UnsafeRawPointer(y + 16).loadUnaligned(as: V.self); a1_1 = UnsafeRawPointer(y + (1 &* ybs &+ 16)).loadUnaligned(as: V.self); a1_2 = UnsafeRawPointer(y + (2 &* ybs &+ 16)).loadUnaligned(as: V.self); a1_3 = UnsafeRawPointer(y + (3 &* ybs &+ 16)).loadUnaligned(as: V.self) }
        if pixels > 2 { a2_0 = UnsafeRawPointer(y + 32).loadUnaligned(as: V.self); a2_1 = UnsafeRawPointer(y + (1 &* ybs &+ 32)).loadUnaligned(as: V.self); a2_2 = UnsafeRawPointer(y + (2 &* ybs &+ 32)).loadUnaligned(as: V.self); a2_3 = UnsafeRawPointer(y + (3 &* ybs &+ 32)).loadUnaligned(as: V.self) }
        if pixels > 3 { a3_0 = UnsafeRawPointer(y + 48).loadUnaligned(as: V.self); a3_1 = UnsafeRawPointer(y + (1 &* ybs &+ 48)).loadUnaligned(as: V.self); a3_2 = UnsafeRawPointer(y + (2 &* ybs &+ 48)).loadUnaligned(as: V.self); a3_3 = UnsafeRawPointer(y + (3 &* ybs &+ 48)).loadUnaligned(as: V.self) }
        if pixels > 4 { a4_0 = UnsafeRawPointer(y + 64).loadUnaligned(as: V.self); a4_1 = UnsafeRawPointer(y + (1 &* ybs &+ 64)).loadUnaligned(as: V.self); a4_2 = UnsafeRawPointer(y + (2 &* ybs &+ 64)).loadUnaligned(as: V.self); a4_3 = UnsafeRawPointer(y + (3 &* ybs &+ 64)).loadUnaligned(as: V.self) }
        if pixels > 5 { a5_0 = UnsafeRawPointer(y + 80).loadUnaligned(as: V.self); a5_1 = UnsafeRawPointer(y + (1 &* ybs &+ 80)).loadUnaligned(as: V.self); a5_2 = UnsafeRawPointer(y + (2 &* ybs &+ 80)).loadUnaligned(as: V.self); a5_3 = UnsafeRawPointer(y + (3 &* ybs &+ 80)).loadUnaligned(as: V.self) }
        if pixels > 6 { a6_0 = UnsafeRawPointer(y + 96).loadUnaligned(as: V.self); a6_1 = UnsafeRawPointer(y + (1 &* ybs &+ 96)).loadUnaligned(as: V.self); a6_2 = UnsafeRawPointer(y + (2 &* ybs &+ 96)).loadUnaligned(as: V.self); a6_3 = UnsafeRawPointer(y + (3 &* ybs &+ 96)).loadUnaligned(as: V.self) }
    } else {
        let b0 = UnsafeRawPointer(bias + 0).loadUnaligned(as: V.self)
        let b1 = UnsafeRawPointer(bias + 16).loadUnaligned(as: V.self)
        let b2 = UnsafeRawPointer(bias + 32).loadUnaligned(as: V.self)
        let b3 = UnsafeRawPointer(bias + 48).loadUnaligned(as: V.self)
        do { a0_0 = b0; a0_1 = b1; a0_2 = b2; a0_3 = b3 }
        if pixels > 1 { a1_0 = b0; a1_1 = b1; a1_2 = b2; a1_3 = b3 }
        if pixels > 2 { a2_0 = b0; a2_1 = b1; a2_2 = b2; a2_3 = b3 }
        if pixels > 3 { a3_0 = b0; a3_1 = b1; a3_2 = b2; a3_3 = b3 }
        if pixels > 4 { a4_0 = b0; a4_1 = b1; a4_2 = b2; a4_3 = b3 }
        if pixels > 5 { a5_0 = b0; a5_1 = b1; a5_2 = b2; a5_3 = b3 }
        if pixels > 6 { a6_0 = b0; a6_1 = b1; a6_2 = b2; a6_3 = b3 }
    }
    var xb = x, wp = w, pfp = pf
    for _ in 0 ..< inBlocks {
        for t in 0 ..< tapCount {
            let xp = xb + taps[t]
            // 16 lines of the prefetch range per tap (past its end: this tap's own weights, in L1).
            let fetch = pfp < pfEnd ? pfp : wp
            pfp += 256
            for i in 0 ..< 16 {
                sc_prefetch_l2(fetch + i &* 16)
                let w0 = UnsafeRawPointer(wp + 0).loadUnaligned(as: V.self)
                let w1 = UnsafeRawPointer(wp + 16).loadUnaligned(as: V.self)
                let w2 = UnsafeRawPointer(wp + 32).loadUnaligned(as: V.self)
                let w3 = UnsafeRawPointer(wp + 48).loadUnaligned(as: V.self)
                do { let b = V(repeating: xp[0 &* ps &+ i]); a0_0 = fmadd(a0_0, w0, b); a0_1 = fmadd(a0_1, w1, b); a0_2 = fmadd(a0_2, w2, b); a0_3 = fmadd(a0_3, w3, b) }
                if pixels > 1 { let b = V(repeating: xp[1 &* ps &+ i]); a1_0 = fmadd(a1_0, w0, b); a1_1 = fmadd(a1_1, w1, b); a1_2 = fmadd(a1_2, w2, b); a1_3 = fmadd(a1_3, w3, b) }
                if pixels > 2 { let b = V(repeating: xp[2 &* ps &+ i]); a2_0 = fmadd(a2_0, w0, b); a2_1 = fmadd(a2_1, w1, b); a2_2 = fmadd(a2_2, w2, b); a2_3 = fmadd(a2_3, w3, b) }
                if pixels > 3 { let b = V(repeating: xp[3 &* ps &+ i]); a3_0 = fmadd(a3_0, w0, b); a3_1 = fmadd(a3_1, w1, b); a3_2 = fmadd(a3_2, w2, b); a3_3 = fmadd(a3_3, w3, b) }
                if pixels > 4 { let b = V(repeating: xp[4 &* ps &+ i]); a4_0 = fmadd(a4_0, w0, b); a4_1 = fmadd(a4_1, w1, b); a4_2 = fmadd(a4_2, w2, b); a4_3 = fmadd(a4_3, w3, b) }
                if pixels > 5 { let b = V(repeating: xp[5 &* ps &+ i]); a5_0 = fmadd(a5_0, w0, b); a5_1 = fmadd(a5_1, w1, b); a5_2 = fmadd(a5_2, w2, b); a5_3 = fmadd(a5_3, w3, b) }
                if pixels > 6 { let b = V(repeating: xp[6 &* ps &+ i]); a6_0 = fmadd(a6_0, w0, b); a6_1 = fmadd(a6_1, w1, b); a6_2 = fmadd(a6_2, w2, b); a6_3 = fmadd(a6_3, w3, b) }
                wp += 64
            }
        }
        xb += xBlockStride
    }
    do { UnsafeMutableRawPointer(y + 0).storeBytes(of: a0_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 0)).storeBytes(of: a0_1, as: V.self); UnsafeMutableRawPointer(y + (2 &* ybs &+ 0)).storeBytes(of: a0_2, as: V.self); UnsafeMutableRawPointer(y + (3 &* ybs &+ 0)).storeBytes(of: a0_3, as: V.self) }
    if pixels > 1 { UnsafeMutableRawPointer(y + 16).storeBytes(of: a1_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 16)).storeBytes(of: a1_1, as: V.self); UnsafeMutableRawPointer(y + (2 &* ybs &+ 16)).storeBytes(of: a1_2, as: V.self); UnsafeMutableRawPointer(y + (3 &* ybs &+ 16)).storeBytes(of: a1_3, as: V.self) }
    if pixels > 2 { UnsafeMutableRawPointer(y + 32).storeBytes(of: a2_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 32)).storeBytes(of: a2_1, as: V.self); UnsafeMutableRawPointer(y + (2 &* ybs &+ 32)).storeBytes(of: a2_2, as: V.self); UnsafeMutableRawPointer(y + (3 &* ybs &+ 32)).storeBytes(of: a2_3, as: V.self) }
    if pixels > 3 { UnsafeMutableRawPointer(y + 48).storeBytes(of: a3_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 48)).storeBytes(of: a3_1, as: V.self); UnsafeMutableRawPointer(y + (2 &* ybs &+ 48)).storeBytes(of: a3_2, as: V.self); UnsafeMutableRawPointer(y + (3 &* ybs &+ 48)).storeBytes(of: a3_3, as: V.self) }
    if pixels > 4 { UnsafeMutableRawPointer(y + 64).storeBytes(of: a4_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 64)).storeBytes(of: a4_1, as: V.self); UnsafeMutableRawPointer(y + (2 &* ybs &+ 64)).storeBytes(of: a4_2, as: V.self); UnsafeMutableRawPointer(y + (3 &* ybs &+ 64)).storeBytes(of: a4_3, as: V.self) }
    if pixels > 5 { UnsafeMutableRawPointer(y + 80).storeBytes(of: a5_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 80)).storeBytes(of: a5_1, as: V.self); UnsafeMutableRawPointer(y + (2 &* ybs &+ 80)).storeBytes(of: a5_2, as: V.self); UnsafeMutableRawPointer(y + (3 &* ybs &+ 80)).storeBytes(of: a5_3, as: V.self) }
    if pixels > 6 { UnsafeMutableRawPointer(y + 96).storeBytes(of: a6_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 96)).storeBytes(of: a6_1, as: V.self); UnsafeMutableRawPointer(y + (2 &* ybs &+ 96)).storeBytes(of: a6_2, as: V.self); UnsafeMutableRawPointer(y + (3 &* ybs &+ 96)).storeBytes(of: a6_3, as: V.self) }
}

/// Up to 8 pixels (`pixels`) x 3 blocks of 16 output channels.
@_transparent
private func tile3x8(_ pixels: Int, _ inBlocks: Int, _ taps: UnsafePointer<Int>, _ tapCount: Int,
                      _ x: UnsafePointer<Float>, _ xBlockStride: Int, _ ps: Int,
                      _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                      _ y: UnsafeMutablePointer<Float>, _ ybs: Int, _ accumulate: Bool,
                      _ pf: UnsafePointer<Float>, _ pfEnd: UnsafePointer<Float>) {
    typealias V = SIMD16<Float>
    var a0_0 = V()
    var a0_1 = V()
    var a0_2 = V()
    var a1_0 = V()
    var a1_1 = V()
    var a1_2 = V()
    var a2_0 = V()
    var a2_1 = V()
    var a2_2 = V()
    var a3_0 = V()
    var a3_1 = V()
    var a3_2 = V()
    var a4_0 = V()
    var a4_1 = V()
    var a4_2 = V()
    var a5_0 = V()
    var a5_1 = V()
    var a5_2 = V()
    var a6_0 = V()
    var a6_1 = V()
    var a6_2 = V()
    var a7_0 = V()
    var a7_1 = V()
    var a7_2 = V()
    if accumulate {
        do { a0_0 = UnsafeRawPointer(y + 0).loadUnaligned(as: V.self); a0_1 = UnsafeRawPointer(y + (1 &* ybs &+ 0)).loadUnaligned(as: V.self); a0_2 = UnsafeRawPointer(y + (2 &* ybs &+ 0)).loadUnaligned(as: V.self) }
        if pixels > 1 { a1_0 = UnsafeRawPointer(y + 16).loadUnaligned(as: V.self); a1_1 = UnsafeRawPointer(y + (1 &* ybs &+ 16)).loadUnaligned(as: V.self); a1_2 = UnsafeRawPointer(y + (2 &* ybs &+ 16)).loadUnaligned(as: V.self) }
        if pixels > 2 { a2_0 = UnsafeRawPointer(y + 32).loadUnaligned(as: V.self); a2_1 = UnsafeRawPointer(y + (1 &* ybs &+ 32)).loadUnaligned(as: V.self); a2_2 = UnsafeRawPointer(y + (2 &* ybs &+ 32)).loadUnaligned(as: V.self) }
        if pixels > 3 { a3_0 = UnsafeRawPointer(y + 48).loadUnaligned(as: V.self); a3_1 = UnsafeRawPointer(y + (1 &* ybs &+ 48)).loadUnaligned(as: V.self); a3_2 = UnsafeRawPointer(y + (2 &* ybs &+ 48)).loadUnaligned(as: V.self) }
        if pixels > 4 { a4_0 = UnsafeRawPointer(y + 64).loadUnaligned(as: V.self); a4_1 = UnsafeRawPointer(y + (1 &* ybs &+ 64)).loadUnaligned(as: V.self); a4_2 = UnsafeRawPointer(y + (2 &* ybs &+ 64)).loadUnaligned(as: V.self) }
        if pixels > 5 { a5_0 = UnsafeRawPointer(y + 80).loadUnaligned(as: V.self); a5_1 = UnsafeRawPointer(y + (1 &* ybs &+ 80)).loadUnaligned(as: V.self); a5_2 = UnsafeRawPointer(y + (2 &* ybs &+ 80)).loadUnaligned(as: V.self) }
        if pixels > 6 { a6_0 = UnsafeRawPointer(y + 96).loadUnaligned(as: V.self); a6_1 = UnsafeRawPointer(y + (1 &* ybs &+ 96)).loadUnaligned(as: V.self); a6_2 = UnsafeRawPointer(y + (2 &* ybs &+ 96)).loadUnaligned(as: V.self) }
        if pixels > 7 { a7_0 = UnsafeRawPointer(y + 112).loadUnaligned(as: V.self); a7_1 = UnsafeRawPointer(y + (1 &* ybs &+ 112)).loadUnaligned(as: V.self); a7_2 = UnsafeRawPointer(y + (2 &* ybs &+ 112)).loadUnaligned(as: V.self) }
    } else {
        let b0 = UnsafeRawPointer(bias + 0).loadUnaligned(as: V.self)
        let b1 = UnsafeRawPointer(bias + 16).loadUnaligned(as: V.self)
        let b2 = UnsafeRawPointer(bias + 32).loadUnaligned(as: V.self)
        do { a0_0 = b0; a0_1 = b1; a0_2 = b2 }
        if pixels > 1 { a1_0 = b0; a1_1 = b1; a1_2 = b2 }
        if pixels > 2 { a2_0 = b0; a2_1 = b1; a2_2 = b2 }
        if pixels > 3 { a3_0 = b0; a3_1 = b1; a3_2 = b2 }
        if pixels > 4 { a4_0 = b0; a4_1 = b1; a4_2 = b2 }
        if pixels > 5 { a5_0 = b0; a5_1 = b1; a5_2 = b2 }
        if pixels > 6 { a6_0 = b0; a6_1 = b1; a6_2 = b2 }
        if pixels > 7 { a7_0 = b0; a7_1 = b1; a7_2 = b2 }
    }
    var xb = x, wp = w, pfp = pf
    for _ in 0 ..< inBlocks {
        for t in 0 ..< tapCount {
            let xp = xb + taps[t]
            // 16 lines of the prefetch range per tap (past its end: this tap's own weights, in L1).
            let fetch = pfp < pfEnd ? pfp : wp
            pfp += 256
            for i in 0 ..< 16 {
                sc_prefetch_l2(fetch + i &* 16)
                let w0 = UnsafeRawPointer(wp + 0).loadUnaligned(as: V.self)
                let w1 = UnsafeRawPointer(wp + 16).loadUnaligned(as: V.self)
                let w2 = UnsafeRawPointer(wp + 32).loadUnaligned(as: V.self)
                do { let b = V(repeating: xp[0 &* ps &+ i]); a0_0 = fmadd(a0_0, w0, b); a0_1 = fmadd(a0_1, w1, b); a0_2 = fmadd(a0_2, w2, b) }
                if pixels > 1 { let b = V(repeating: xp[1 &* ps &+ i]); a1_0 = fmadd(a1_0, w0, b); a1_1 = fmadd(a1_1, w1, b); a1_2 = fmadd(a1_2, w2, b) }
                if pixels > 2 { let b = V(repeating: xp[2 &* ps &+ i]); a2_0 = fmadd(a2_0, w0, b); a2_1 = fmadd(a2_1, w1, b); a2_2 = fmadd(a2_2, w2, b) }
                if pixels > 3 { let b = V(repeating: xp[3 &* ps &+ i]); a3_0 = fmadd(a3_0, w0, b); a3_1 = fmadd(a3_1, w1, b); a3_2 = fmadd(a3_2, w2, b) }
                if pixels > 4 { let b = V(repeating: xp[4 &* ps &+ i]); a4_0 = fmadd(a4_0, w0, b); a4_1 = fmadd(a4_1, w1, b); a4_2 = fmadd(a4_2, w2, b) }
                if pixels > 5 { let b = V(repeating: xp[5 &* ps &+ i]); a5_0 = fmadd(a5_0, w0, b); a5_1 = fmadd(a5_1, w1, b); a5_2 = fmadd(a5_2, w2, b) }
                if pixels > 6 { let b = V(repeating: xp[6 &* ps &+ i]); a6_0 = fmadd(a6_0, w0, b); a6_1 = fmadd(a6_1, w1, b); a6_2 = fmadd(a6_2, w2, b) }
                if pixels > 7 { let b = V(repeating: xp[7 &* ps &+ i]); a7_0 = fmadd(a7_0, w0, b); a7_1 = fmadd(a7_1, w1, b); a7_2 = fmadd(a7_2, w2, b) }
                wp += 48
            }
        }
        xb += xBlockStride
    }
    do { UnsafeMutableRawPointer(y + 0).storeBytes(of: a0_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 0)).storeBytes(of: a0_1, as: V.self); UnsafeMutableRawPointer(y + (2 &* ybs &+ 0)).storeBytes(of: a0_2, as: V.self) }
    if pixels > 1 { UnsafeMutableRawPointer(y + 16).storeBytes(of: a1_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 16)).storeBytes(of: a1_1, as: V.self); UnsafeMutableRawPointer(y + (2 &* ybs &+ 16)).storeBytes(of: a1_2, as: V.self) }
    if pixels > 2 { UnsafeMutableRawPointer(y + 32).storeBytes(of: a2_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 32)).storeBytes(of: a2_1, as: V.self); UnsafeMutableRawPointer(y + (2 &* ybs &+ 32)).storeBytes(of: a2_2, as: V.self) }
    if pixels > 3 { UnsafeMutableRawPointer(y + 48).storeBytes(of: a3_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 48)).storeBytes(of: a3_1, as: V.self); UnsafeMutableRawPointer(y + (2 &* ybs &+ 48)).storeBytes(of: a3_2, as: V.self) }
    if pixels > 4 { UnsafeMutableRawPointer(y + 64).storeBytes(of: a4_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 64)).storeBytes(of: a4_1, as: V.self); UnsafeMutableRawPointer(y + (2 &* ybs &+ 64)).storeBytes(of: a4_2, as: V.self) }
    if pixels > 5 { UnsafeMutableRawPointer(y + 80).storeBytes(of: a5_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 80)).storeBytes(of: a5_1, as: V.self); UnsafeMutableRawPointer(y + (2 &* ybs &+ 80)).storeBytes(of: a5_2, as: V.self) }
    if pixels > 6 { UnsafeMutableRawPointer(y + 96).storeBytes(of: a6_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 96)).storeBytes(of: a6_1, as: V.self); UnsafeMutableRawPointer(y + (2 &* ybs &+ 96)).storeBytes(of: a6_2, as: V.self) }
    if pixels > 7 { UnsafeMutableRawPointer(y + 112).storeBytes(of: a7_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 112)).storeBytes(of: a7_1, as: V.self); UnsafeMutableRawPointer(y + (2 &* ybs &+ 112)).storeBytes(of: a7_2, as: V.self) }
}

/// Up to 12 pixels (`pixels`) x 2 blocks of 16 output channels.
@_transparent
private func tile2x12(_ pixels: Int, _ inBlocks: Int, _ taps: UnsafePointer<Int>, _ tapCount: Int,
                      _ x: UnsafePointer<Float>, _ xBlockStride: Int, _ ps: Int,
                      _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                      _ y: UnsafeMutablePointer<Float>, _ ybs: Int, _ accumulate: Bool,
                      _ pf: UnsafePointer<Float>, _ pfEnd: UnsafePointer<Float>) {
    typealias V = SIMD16<Float>
    var a0_0 = V()
    var a0_1 = V()
    var a1_0 = V()
    var a1_1 = V()
    var a2_0 = V()
    var a2_1 = V()
    var a3_0 = V()
    var a3_1 = V()
    var a4_0 = V()
    var a4_1 = V()
    var a5_0 = V()
    var a5_1 = V()
    var a6_0 = V()
    var a6_1 = V()
    var a7_0 = V()
    var a7_1 = V()
    var a8_0 = V()
    var a8_1 = V()
    var a9_0 = V()
    var a9_1 = V()
    var a10_0 = V()
    var a10_1 = V()
    var a11_0 = V()
    var a11_1 = V()
    if accumulate {
        do { a0_0 = UnsafeRawPointer(y + 0).loadUnaligned(as: V.self); a0_1 = UnsafeRawPointer(y + (1 &* ybs &+ 0)).loadUnaligned(as: V.self) }
        if pixels > 1 { a1_0 = UnsafeRawPointer(y + 16).loadUnaligned(as: V.self); a1_1 = UnsafeRawPointer(y + (1 &* ybs &+ 16)).loadUnaligned(as: V.self) }
        if pixels > 2 { a2_0 = UnsafeRawPointer(y + 32).loadUnaligned(as: V.self); a2_1 = UnsafeRawPointer(y + (1 &* ybs &+ 32)).loadUnaligned(as: V.self) }
        if pixels > 3 { a3_0 = UnsafeRawPointer(y + 48).loadUnaligned(as: V.self); a3_1 = UnsafeRawPointer(y + (1 &* ybs &+ 48)).loadUnaligned(as: V.self) }
        if pixels > 4 { a4_0 = UnsafeRawPointer(y + 64).loadUnaligned(as: V.self); a4_1 = UnsafeRawPointer(y + (1 &* ybs &+ 64)).loadUnaligned(as: V.self) }
        if pixels > 5 { a5_0 = UnsafeRawPointer(y + 80).loadUnaligned(as: V.self); a5_1 = UnsafeRawPointer(y + (1 &* ybs &+ 80)).loadUnaligned(as: V.self) }
        if pixels > 6 { a6_0 = UnsafeRawPointer(y + 96).loadUnaligned(as: V.self); a6_1 = UnsafeRawPointer(y + (1 &* ybs &+ 96)).loadUnaligned(as: V.self) }
        if pixels > 7 { a7_0 = UnsafeRawPointer(y + 112).loadUnaligned(as: V.self); a7_1 = UnsafeRawPointer(y + (1 &* ybs &+ 112)).loadUnaligned(as: V.self) }
        if pixels > 8 { a8_0 = UnsafeRawPointer(y + 128).loadUnaligned(as: V.self); a8_1 = UnsafeRawPointer(y + (1 &* ybs &+ 128)).loadUnaligned(as: V.self) }
        if pixels > 9 { a9_0 = UnsafeRawPointer(y + 144).loadUnaligned(as: V.self); a9_1 = UnsafeRawPointer(y + (1 &* ybs &+ 144)).loadUnaligned(as: V.self) }
        if pixels > 10 { a10_0 = UnsafeRawPointer(y + 160).loadUnaligned(as: V.self); a10_1 = UnsafeRawPointer(y + (1 &* ybs &+ 160)).loadUnaligned(as: V.self) }
        if pixels > 11 { a11_0 = UnsafeRawPointer(y + 176).loadUnaligned(as: V.self); a11_1 = UnsafeRawPointer(y + (1 &* ybs &+ 176)).loadUnaligned(as: V.self) }
    } else {
        let b0 = UnsafeRawPointer(bias + 0).loadUnaligned(as: V.self)
        let b1 = UnsafeRawPointer(bias + 16).loadUnaligned(as: V.self)
        do { a0_0 = b0; a0_1 = b1 }
        if pixels > 1 { a1_0 = b0; a1_1 = b1 }
        if pixels > 2 { a2_0 = b0; a2_1 = b1 }
        if pixels > 3 { a3_0 = b0; a3_1 = b1 }
        if pixels > 4 { a4_0 = b0; a4_1 = b1 }
        if pixels > 5 { a5_0 = b0; a5_1 = b1 }
        if pixels > 6 { a6_0 = b0; a6_1 = b1 }
        if pixels > 7 { a7_0 = b0; a7_1 = b1 }
        if pixels > 8 { a8_0 = b0; a8_1 = b1 }
        if pixels > 9 { a9_0 = b0; a9_1 = b1 }
        if pixels > 10 { a10_0 = b0; a10_1 = b1 }
        if pixels > 11 { a11_0 = b0; a11_1 = b1 }
    }
    var xb = x, wp = w, pfp = pf
    for _ in 0 ..< inBlocks {
        for t in 0 ..< tapCount {
            let xp = xb + taps[t]
            // 16 lines of the prefetch range per tap (past its end: this tap's own weights, in L1).
            let fetch = pfp < pfEnd ? pfp : wp
            pfp += 256
            for i in 0 ..< 16 {
                sc_prefetch_l2(fetch + i &* 16)
                let w0 = UnsafeRawPointer(wp + 0).loadUnaligned(as: V.self)
                let w1 = UnsafeRawPointer(wp + 16).loadUnaligned(as: V.self)
                do { let b = V(repeating: xp[0 &* ps &+ i]); a0_0 = fmadd(a0_0, w0, b); a0_1 = fmadd(a0_1, w1, b) }
                if pixels > 1 { let b = V(repeating: xp[1 &* ps &+ i]); a1_0 = fmadd(a1_0, w0, b); a1_1 = fmadd(a1_1, w1, b) }
                if pixels > 2 { let b = V(repeating: xp[2 &* ps &+ i]); a2_0 = fmadd(a2_0, w0, b); a2_1 = fmadd(a2_1, w1, b) }
                if pixels > 3 { let b = V(repeating: xp[3 &* ps &+ i]); a3_0 = fmadd(a3_0, w0, b); a3_1 = fmadd(a3_1, w1, b) }
                if pixels > 4 { let b = V(repeating: xp[4 &* ps &+ i]); a4_0 = fmadd(a4_0, w0, b); a4_1 = fmadd(a4_1, w1, b) }
                if pixels > 5 { let b = V(repeating: xp[5 &* ps &+ i]); a5_0 = fmadd(a5_0, w0, b); a5_1 = fmadd(a5_1, w1, b) }
                if pixels > 6 { let b = V(repeating: xp[6 &* ps &+ i]); a6_0 = fmadd(a6_0, w0, b); a6_1 = fmadd(a6_1, w1, b) }
                if pixels > 7 { let b = V(repeating: xp[7 &* ps &+ i]); a7_0 = fmadd(a7_0, w0, b); a7_1 = fmadd(a7_1, w1, b) }
                if pixels > 8 { let b = V(repeating: xp[8 &* ps &+ i]); a8_0 = fmadd(a8_0, w0, b); a8_1 = fmadd(a8_1, w1, b) }
                if pixels > 9 { let b = V(repeating: xp[9 &* ps &+ i]); a9_0 = fmadd(a9_0, w0, b); a9_1 = fmadd(a9_1, w1, b) }
                if pixels > 10 { let b = V(repeating: xp[10 &* ps &+ i]); a10_0 = fmadd(a10_0, w0, b); a10_1 = fmadd(a10_1, w1, b) }
                if pixels > 11 { let b = V(repeating: xp[11 &* ps &+ i]); a11_0 = fmadd(a11_0, w0, b); a11_1 = fmadd(a11_1, w1, b) }
                wp += 32
            }
        }
        xb += xBlockStride
    }
    do { UnsafeMutableRawPointer(y + 0).storeBytes(of: a0_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 0)).storeBytes(of: a0_1, as: V.self) }
    if pixels > 1 { UnsafeMutableRawPointer(y + 16).storeBytes(of: a1_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 16)).storeBytes(of: a1_1, as: V.self) }
    if pixels > 2 { UnsafeMutableRawPointer(y + 32).storeBytes(of: a2_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 32)).storeBytes(of: a2_1, as: V.self) }
    if pixels > 3 { UnsafeMutableRawPointer(y + 48).storeBytes(of: a3_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 48)).storeBytes(of: a3_1, as: V.self) }
    if pixels > 4 { UnsafeMutableRawPointer(y + 64).storeBytes(of: a4_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 64)).storeBytes(of: a4_1, as: V.self) }
    if pixels > 5 { UnsafeMutableRawPointer(y + 80).storeBytes(of: a5_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 80)).storeBytes(of: a5_1, as: V.self) }
    if pixels > 6 { UnsafeMutableRawPointer(y + 96).storeBytes(of: a6_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 96)).storeBytes(of: a6_1, as: V.self) }
    if pixels > 7 { UnsafeMutableRawPointer(y + 112).storeBytes(of: a7_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 112)).storeBytes(of: a7_1, as: V.self) }
    if pixels > 8 { UnsafeMutableRawPointer(y + 128).storeBytes(of: a8_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 128)).storeBytes(of: a8_1, as: V.self) }
    if pixels > 9 { UnsafeMutableRawPointer(y + 144).storeBytes(of: a9_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 144)).storeBytes(of: a9_1, as: V.self) }
    if pixels > 10 { UnsafeMutableRawPointer(y + 160).storeBytes(of: a10_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 160)).storeBytes(of: a10_1, as: V.self) }
    if pixels > 11 { UnsafeMutableRawPointer(y + 176).storeBytes(of: a11_0, as: V.self); UnsafeMutableRawPointer(y + (1 &* ybs &+ 176)).storeBytes(of: a11_1, as: V.self) }
}

/// Up to 14 pixels (`pixels`) x 1 block of 16 output channels.
@_transparent
private func tile1x14(_ pixels: Int, _ inBlocks: Int, _ taps: UnsafePointer<Int>, _ tapCount: Int,
                      _ x: UnsafePointer<Float>, _ xBlockStride: Int, _ ps: Int,
                      _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                      _ y: UnsafeMutablePointer<Float>, _ ybs: Int, _ accumulate: Bool,
                      _ pf: UnsafePointer<Float>, _ pfEnd: UnsafePointer<Float>) {
    typealias V = SIMD16<Float>
    var a0_0 = V()
    var a1_0 = V()
    var a2_0 = V()
    var a3_0 = V()
    var a4_0 = V()
    var a5_0 = V()
    var a6_0 = V()
    var a7_0 = V()
    var a8_0 = V()
    var a9_0 = V()
    var a10_0 = V()
    var a11_0 = V()
    var a12_0 = V()
    var a13_0 = V()
    if accumulate {
        do { a0_0 = UnsafeRawPointer(y + 0).loadUnaligned(as: V.self) }
        if pixels > 1 { a1_0 = UnsafeRawPointer(y + 16).loadUnaligned(as: V.self) }
        if pixels > 2 { a2_0 = UnsafeRawPointer(y + 32).loadUnaligned(as: V.self) }
        if pixels > 3 { a3_0 = UnsafeRawPointer(y + 48).loadUnaligned(as: V.self) }
        if pixels > 4 { a4_0 = UnsafeRawPointer(y + 64).loadUnaligned(as: V.self) }
        if pixels > 5 { a5_0 = UnsafeRawPointer(y + 80).loadUnaligned(as: V.self) }
        if pixels > 6 { a6_0 = UnsafeRawPointer(y + 96).loadUnaligned(as: V.self) }
        if pixels > 7 { a7_0 = UnsafeRawPointer(y + 112).loadUnaligned(as: V.self) }
        if pixels > 8 { a8_0 = UnsafeRawPointer(y + 128).loadUnaligned(as: V.self) }
        if pixels > 9 { a9_0 = UnsafeRawPointer(y + 144).loadUnaligned(as: V.self) }
        if pixels > 10 { a10_0 = UnsafeRawPointer(y + 160).loadUnaligned(as: V.self) }
        if pixels > 11 { a11_0 = UnsafeRawPointer(y + 176).loadUnaligned(as: V.self) }
        if pixels > 12 { a12_0 = UnsafeRawPointer(y + 192).loadUnaligned(as: V.self) }
        if pixels > 13 { a13_0 = UnsafeRawPointer(y + 208).loadUnaligned(as: V.self) }
    } else {
        let b0 = UnsafeRawPointer(bias + 0).loadUnaligned(as: V.self)
        do { a0_0 = b0 }
        if pixels > 1 { a1_0 = b0 }
        if pixels > 2 { a2_0 = b0 }
        if pixels > 3 { a3_0 = b0 }
        if pixels > 4 { a4_0 = b0 }
        if pixels > 5 { a5_0 = b0 }
        if pixels > 6 { a6_0 = b0 }
        if pixels > 7 { a7_0 = b0 }
        if pixels > 8 { a8_0 = b0 }
        if pixels > 9 { a9_0 = b0 }
        if pixels > 10 { a10_0 = b0 }
        if pixels > 11 { a11_0 = b0 }
        if pixels > 12 { a12_0 = b0 }
        if pixels > 13 { a13_0 = b0 }
    }
    var xb = x, wp = w, pfp = pf
    for _ in 0 ..< inBlocks {
        for t in 0 ..< tapCount {
            let xp = xb + taps[t]
            // 16 lines of the prefetch range per tap (past its end: this tap's own weights, in L1).
            let fetch = pfp < pfEnd ? pfp : wp
            pfp += 256
            for i in 0 ..< 16 {
                sc_prefetch_l2(fetch + i &* 16)
                let w0 = UnsafeRawPointer(wp + 0).loadUnaligned(as: V.self)
                do { let b = V(repeating: xp[0 &* ps &+ i]); a0_0 = fmadd(a0_0, w0, b) }
                if pixels > 1 { let b = V(repeating: xp[1 &* ps &+ i]); a1_0 = fmadd(a1_0, w0, b) }
                if pixels > 2 { let b = V(repeating: xp[2 &* ps &+ i]); a2_0 = fmadd(a2_0, w0, b) }
                if pixels > 3 { let b = V(repeating: xp[3 &* ps &+ i]); a3_0 = fmadd(a3_0, w0, b) }
                if pixels > 4 { let b = V(repeating: xp[4 &* ps &+ i]); a4_0 = fmadd(a4_0, w0, b) }
                if pixels > 5 { let b = V(repeating: xp[5 &* ps &+ i]); a5_0 = fmadd(a5_0, w0, b) }
                if pixels > 6 { let b = V(repeating: xp[6 &* ps &+ i]); a6_0 = fmadd(a6_0, w0, b) }
                if pixels > 7 { let b = V(repeating: xp[7 &* ps &+ i]); a7_0 = fmadd(a7_0, w0, b) }
                if pixels > 8 { let b = V(repeating: xp[8 &* ps &+ i]); a8_0 = fmadd(a8_0, w0, b) }
                if pixels > 9 { let b = V(repeating: xp[9 &* ps &+ i]); a9_0 = fmadd(a9_0, w0, b) }
                if pixels > 10 { let b = V(repeating: xp[10 &* ps &+ i]); a10_0 = fmadd(a10_0, w0, b) }
                if pixels > 11 { let b = V(repeating: xp[11 &* ps &+ i]); a11_0 = fmadd(a11_0, w0, b) }
                if pixels > 12 { let b = V(repeating: xp[12 &* ps &+ i]); a12_0 = fmadd(a12_0, w0, b) }
                if pixels > 13 { let b = V(repeating: xp[13 &* ps &+ i]); a13_0 = fmadd(a13_0, w0, b) }
                wp += 16
            }
        }
        xb += xBlockStride
    }
    do { UnsafeMutableRawPointer(y + 0).storeBytes(of: a0_0, as: V.self) }
    if pixels > 1 { UnsafeMutableRawPointer(y + 16).storeBytes(of: a1_0, as: V.self) }
    if pixels > 2 { UnsafeMutableRawPointer(y + 32).storeBytes(of: a2_0, as: V.self) }
    if pixels > 3 { UnsafeMutableRawPointer(y + 48).storeBytes(of: a3_0, as: V.self) }
    if pixels > 4 { UnsafeMutableRawPointer(y + 64).storeBytes(of: a4_0, as: V.self) }
    if pixels > 5 { UnsafeMutableRawPointer(y + 80).storeBytes(of: a5_0, as: V.self) }
    if pixels > 6 { UnsafeMutableRawPointer(y + 96).storeBytes(of: a6_0, as: V.self) }
    if pixels > 7 { UnsafeMutableRawPointer(y + 112).storeBytes(of: a7_0, as: V.self) }
    if pixels > 8 { UnsafeMutableRawPointer(y + 128).storeBytes(of: a8_0, as: V.self) }
    if pixels > 9 { UnsafeMutableRawPointer(y + 144).storeBytes(of: a9_0, as: V.self) }
    if pixels > 10 { UnsafeMutableRawPointer(y + 160).storeBytes(of: a10_0, as: V.self) }
    if pixels > 11 { UnsafeMutableRawPointer(y + 176).storeBytes(of: a11_0, as: V.self) }
    if pixels > 12 { UnsafeMutableRawPointer(y + 192).storeBytes(of: a12_0, as: V.self) }
    if pixels > 13 { UnsafeMutableRawPointer(y + 208).storeBytes(of: a13_0, as: V.self) }
}

/// `width` pixels as the fewest tiles of at most `maxPixels` that cover them, of equal width
/// (14 pixels in tiles of at most 12: 7 + 7, not 12 + 2): body(first pixel, pixels).
@inline(__always)
private func forEachEqualTile(_ width: Int, maxPixels: Int, _ body: (Int, Int) -> Void) {
    var p = 0, tiles = (width &+ maxPixels &- 1) / maxPixels
    while p < width {
        let pixels = (width &- p &+ tiles &- 1) / tiles
        body(p, pixels)
        p &+= pixels; tiles &-= 1
    }
}

/// One output row segment: y[b * yBlockStride + p * 16 + c] for p < width pixels and output
/// channel 16 b + c of the `blocks` blocks, from the input at x (the window origin of pixel 0 in input block 0; pixel
/// p's at p * pixelStride, block b's at b * xBlockStride, tap t's at taps[t]), `inBlocks`
/// input blocks of weights w ([in block][tap][16][16 * blocks]) and bias (16 * blocks, read
/// unless `accumulate`, when y's stored values are the starting sums). blocks: 1 to 4.
/// Meanwhile it prefetches into L2 the lines [prefetch, prefetchEnd) (the caller's next weights;
/// an empty range: none), 16 lines per tap, one per input channel, between the multiply-adds.
@inline(never)
public func sconvChannelBlockedRow(blocks: Int, width: Int, inBlocks: Int, taps: UnsafePointer<Int>, tapCount: Int,
                                   x: UnsafePointer<Float>, xBlockStride: Int, pixelStride: Int,
                                   w: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                   y: UnsafeMutablePointer<Float>, yBlockStride: Int, accumulate: Bool,
                                   prefetch: UnsafePointer<Float>, prefetchEnd: UnsafePointer<Float>) {
    // Tile k prefetches from prefetch + k x (the lines one tile covers: 16 per tap and block).
    var pf = prefetch
    let cover = inBlocks &* tapCount &* 256
    switch blocks {
    case 4:
        forEachEqualTile(width, maxPixels: 7) { p, pixels in
            let xp = x + p &* pixelStride, yp = y + p &* 16
            defer { pf += cover }
            switch pixels {
            case 7: tile4x7(7, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 6: tile4x7(6, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 5: tile4x7(5, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 4: tile4x7(4, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 3: tile4x7(3, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 2: tile4x7(2, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            default: tile4x7(1, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            }
        }
    case 3:
        forEachEqualTile(width, maxPixels: 8) { p, pixels in
            let xp = x + p &* pixelStride, yp = y + p &* 16
            defer { pf += cover }
            switch pixels {
            case 8: tile3x8(8, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 7: tile3x8(7, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 6: tile3x8(6, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 5: tile3x8(5, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 4: tile3x8(4, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 3: tile3x8(3, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 2: tile3x8(2, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            default: tile3x8(1, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            }
        }
    case 2:
        forEachEqualTile(width, maxPixels: 12) { p, pixels in
            let xp = x + p &* pixelStride, yp = y + p &* 16
            defer { pf += cover }
            switch pixels {
            case 12: tile2x12(12, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 11: tile2x12(11, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 10: tile2x12(10, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 9: tile2x12(9, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 8: tile2x12(8, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 7: tile2x12(7, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 6: tile2x12(6, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 5: tile2x12(5, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 4: tile2x12(4, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 3: tile2x12(3, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 2: tile2x12(2, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            default: tile2x12(1, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            }
        }
    case 1:
        forEachEqualTile(width, maxPixels: 14) { p, pixels in
            let xp = x + p &* pixelStride, yp = y + p &* 16
            defer { pf += cover }
            switch pixels {
            case 14: tile1x14(14, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 13: tile1x14(13, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 12: tile1x14(12, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 11: tile1x14(11, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 10: tile1x14(10, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 9: tile1x14(9, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 8: tile1x14(8, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 7: tile1x14(7, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 6: tile1x14(6, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 5: tile1x14(5, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 4: tile1x14(4, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 3: tile1x14(3, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            case 2: tile1x14(2, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            default: tile1x14(1, inBlocks, taps, tapCount, xp, xBlockStride, pixelStride, w, bias, yp, yBlockStride, accumulate, pf, prefetchEnd)
            }
        }
    default: preconditionFailure("sconvChannelBlockedRow: blocks must be 1 to 4")
    }
}

#endif
