/// The depthwise tile copies of float16 / bfloat16 planes (HalfKernels.swift's `halfCopies`):
/// NCHW half planes to the float32 channel-interleaved tiles of DepthwiseKernels.swift
/// (16 channels per pixel), each value widened exactly, and back, each value rounded to
/// nearest even. Compiled three times like DepthwiseKernels.swift (the AVX512 and Baseline
/// targets hold symlinks).
///
/// x86-64-v4 build, 16 full channels, 16 pixels or more: each 16 x 16 block is loaded two
/// plane rows per zmm and transposed as 16-bit values (vpermt2w), then converted at the
/// vector ends: float16 widened right before the stores (vcvtph2ps) and rounded right after
/// the loads (vcvtps2ph), after / before four rounds of word shuffles; bfloat16 one round
/// shorter, the widening a shift or a mask of 32-bit lanes (`widenedBfloat16Pixels`) and the
/// rounding the integer rounding merged by shift / mask / or (`roundedBfloat16Rows`). So
/// no conversion pass through a buffer, and the shuffles move half the bytes. Converting
/// *before* float32 shuffles (widening at the loads) let LLVM fold the conversions into the
/// shuffles lane by lane (halfdw2, HalfKernels.swift); shuffling the 16-bit values first
/// leaves nothing to fold (objdump of the v4 object, main block of each copy: float16 32
/// vpermt2w + 16 vcvtph2ps / vcvtps2ph + 8 vinserti64x4; bfloat16 24 vpermt2w + 8 vpslld +
/// 8 vpandq widening; no calls but the buffered fallbacks'). Whole float16 planes that fit
/// the buffer convert in registers too on Zen5 (`float16ConvertsInRegisters`). The x86-64-v3 and baseline
/// builds (no word shuffle), partial channel blocks and planes under 16 pixels keep the
/// buffered copies: the array conversion into an L1 buffer, then the float32 transpose.
/// Same values, so the same bits, on every path.
///
/// Measured (forward and conv2d_backward with all three gradients, N1, 1 thread, the build
/// before (buffered copies) and this one in one process, calls interleaved, thread CPU time,
/// medians of 7 blocks; half time / float32 time, before -> now): see HalfKernels.swift.
///
/// Why the word shuffles cost as much as the float32 transpose (session 10): on this Xeon a
/// two-source word shuffle (vpermt2w) issues as two shuffle-port uops (C intrinsics, 8
/// independent chains, thread CPU time: vpermt2w 0.67 ns; vpermt2ps, vpermt2q, vpermt2d,
/// vpermw, vpunpcklwd, vshufi64x2, vpshufb 0.33 ns each), so the 32 of a float16 block cost
/// the 64 vpermt2ps of a float32 block, and float16 adds 16 vcvtph2ps and 8 upper-half
/// extracts. So the float16 widening copies of 32 pixels or more (16 full channels, the
/// paragraph above is for fewer pixels) transpose 32 pixels at a
/// time from 512-bit row loads with one-uop shuffles only (`transposedWords32`: 80 per 32
/// pixels in the object, where float32 takes 128) and widen from an L1 buffer (vcvtph2ps
/// from memory). A standalone loop of these transposes took 0.59x the float32 transpose's
/// time per pixel; in the layers the copies are a small share (measured in HalfKernels.swift).
/// Tried, not kept: 16-pixel blocks with rows i and i + 8 concatenated into one zmm (two
/// ymm loads): LLVM folds the concatenation into the interleaves and rebuilds each block
/// from vpermt2w (objdump: 96 vpermt2w in the float16 copy), half time new / old 1.13-1.43;
/// an xor with a zero read at run time after the concatenation did not stop the folding.
/// bfloat16 (already 24 vpermt2w, widening by shift / mask) and the rounding copies keep
/// their word shuffles.

/// Floats of the buffer the half-precision copies below take (the caller's per-thread
/// scratch, 16 KB: it stays in L1 between the conversion and the transpose; a stack buffer
/// this large would cost a runtime call asking for the stack bounds on every call).
public let depthwiseHalfCopyBufferCount = 16 * 256

// MARK: - Buffered copies (every build)

/// `depthwiseInterleaveF32` from half-precision plane rows, widened by `widen` into `buffer`
/// by the array conversion, then the float32 transpose from there: rows that follow each
/// other in memory (whole planes) in one conversion, others in chunks of pixels.
@inline(__always)
private func interleaveWidening(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<UInt16>, srcStride: Int, lanes: Int,
                                count: Int, _ buffer: UnsafeMutablePointer<Float>,
                                _ widen: (UnsafePointer<UInt16>, UnsafeMutablePointer<Float>, Int) -> Void) {
    if srcStride == count && lanes &* count <= depthwiseHalfCopyBufferCount {
        widen(src, buffer, lanes &* count)
        depthwiseInterleaveF32(dst, buffer, srcStride: count, lanes: lanes, count: count)
        return
    }
    let chunk = depthwiseHalfCopyBufferCount / 16
    var u = 0
    while u < count {
        let n = min(chunk, count &- u)
        for r in 0..<lanes { widen(src + (r &* srcStride &+ u), buffer + r &* chunk, n) }
        depthwiseInterleaveF32(dst + u &* 16, buffer, srcStride: chunk, lanes: lanes, count: n)
        u &+= n
    }
}

/// `depthwiseInterleaveRowsF32` from half-precision plane rows (narrow planes' whole rows
/// straight into a zero-bordered tile): the rows widened by `widen` into `buffer`, then the
/// float32 transpose into the tile rows, in chunks of whole rows.
@inline(__always)
private func interleaveRowsWidening(_ dst: UnsafeMutablePointer<Float>, rowStride: Int, rowWidth: Int, _ src: UnsafePointer<UInt16>,
                                    srcStride: Int, lanes: Int, count: Int, _ buffer: UnsafeMutablePointer<Float>,
                                    _ widen: (UnsafePointer<UInt16>, UnsafeMutablePointer<Float>, Int) -> Void) {
    if srcStride == count && lanes &* count <= depthwiseHalfCopyBufferCount {
        widen(src, buffer, lanes &* count)
        depthwiseInterleaveRowsF32(dst, rowStride: rowStride, rowWidth: rowWidth, buffer, srcStride: count, lanes: lanes, count: count)
        return
    }
    // Whole rows per chunk, so each chunk starts at a tile row.
    let chunk = max(1, depthwiseHalfCopyBufferCount / 16 / rowWidth) &* rowWidth
    var u = 0
    while u < count {
        let n = min(chunk, count &- u)
        for r in 0..<lanes { widen(src + (r &* srcStride &+ u), buffer + r &* chunk, n) }
        depthwiseInterleaveRowsF32(dst + (u / rowWidth) &* rowStride, rowStride: rowStride, rowWidth: rowWidth, buffer,
                                   srcStride: chunk, lanes: lanes, count: n)
        u &+= n
    }
}

/// `depthwiseDeinterleaveF32` into half-precision plane rows, rounded by `narrow`: the
/// float32 transpose into `buffer`, then the rows rounded into place (as `interleaveWidening`).
@inline(__always)
private func deinterleaveNarrowing(_ dst: UnsafeMutablePointer<UInt16>, dstStride: Int, _ src: UnsafePointer<Float>, lanes: Int,
                                   count: Int, _ buffer: UnsafeMutablePointer<Float>,
                                   _ narrow: (UnsafePointer<Float>, UnsafeMutablePointer<UInt16>, Int) -> Void) {
    if dstStride == count && lanes &* count <= depthwiseHalfCopyBufferCount {
        depthwiseDeinterleaveF32(buffer, dstStride: count, src, lanes: lanes, count: count)
        narrow(buffer, dst, lanes &* count)
        return
    }
    let chunk = depthwiseHalfCopyBufferCount / 16
    var u = 0
    while u < count {
        let n = min(chunk, count &- u)
        depthwiseDeinterleaveF32(buffer, dstStride: chunk, src + u &* 16, lanes: lanes, count: n)
        for r in 0..<lanes { narrow(buffer + r &* chunk, dst + (r &* dstStride &+ u), n) }
        u &+= n
    }
}

// MARK: - Converting in registers (x86-64-v4)

#if SWIFTCONV_AVX512

/// A 16 x 16 block of 16-bit values, two rows per vector (row 2k in lanes 0-15 of `.k`,
/// row 2k + 1 in lanes 16-31).
private typealias HalfBlock = (SIMD32<UInt16>, SIMD32<UInt16>, SIMD32<UInt16>, SIMD32<UInt16>,
                               SIMD32<UInt16>, SIMD32<UInt16>, SIMD32<UInt16>, SIMD32<UInt16>)

// The perfect unshuffles of a vector pair, lane by lane (LLVM folds each into one vpermt2w).
@inline(__always)
private func evens32(_ a: SIMD32<UInt16>, _ b: SIMD32<UInt16>) -> SIMD32<UInt16> {
    SIMD32(a[0], a[2], a[4], a[6], a[8], a[10], a[12], a[14], a[16], a[18], a[20], a[22], a[24], a[26], a[28], a[30],
           b[0], b[2], b[4], b[6], b[8], b[10], b[12], b[14], b[16], b[18], b[20], b[22], b[24], b[26], b[28], b[30])
}

@inline(__always)
private func odds32(_ a: SIMD32<UInt16>, _ b: SIMD32<UInt16>) -> SIMD32<UInt16> {
    SIMD32(a[1], a[3], a[5], a[7], a[9], a[11], a[13], a[15], a[17], a[19], a[21], a[23], a[25], a[27], a[29], a[31],
           b[1], b[3], b[5], b[7], b[9], b[11], b[13], b[15], b[17], b[19], b[21], b[23], b[25], b[27], b[29], b[31])
}

/// `rounds` rounds of perfect shuffles of a `HalfBlock` (the inverse of `unshuffled`'s rounds):
/// each rotates the 8-bit index of a value (vector * 32 + lane) left by one bit.
@inline(__always)
private func shuffled(_ block: HalfBlock, rounds: Int) -> HalfBlock {
    var v = block
    for _ in 0..<rounds {
        @inline(__always) func lo(_ a: SIMD32<UInt16>, _ b: SIMD32<UInt16>) -> SIMD32<UInt16> {
            SIMD32(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7],
                   a[8], b[8], a[9], b[9], a[10], b[10], a[11], b[11], a[12], b[12], a[13], b[13], a[14], b[14], a[15], b[15])
        }
        @inline(__always) func hi(_ a: SIMD32<UInt16>, _ b: SIMD32<UInt16>) -> SIMD32<UInt16> {
            SIMD32(a[16], b[16], a[17], b[17], a[18], b[18], a[19], b[19], a[20], b[20], a[21], b[21], a[22], b[22], a[23], b[23],
                   a[24], b[24], a[25], b[25], a[26], b[26], a[27], b[27], a[28], b[28], a[29], b[29], a[30], b[30], a[31], b[31])
        }
        v = (lo(v.0, v.4), hi(v.0, v.4), lo(v.1, v.5), hi(v.1, v.5), lo(v.2, v.6), hi(v.2, v.6), lo(v.3, v.7), hi(v.3, v.7))
    }
    return v
}

/// `rounds` rounds of unshuffles of a `HalfBlock`: each rotates the 8-bit index of a value
/// (vector * 32 + lane) right by one bit, so four swap row and column (the transpose).
@inline(__always)
private func unshuffled(_ block: HalfBlock, rounds: Int = 4) -> HalfBlock {
    var v = block
    for _ in 0..<rounds {
        @inline(__always) func e(_ a: SIMD32<UInt16>, _ b: SIMD32<UInt16>) -> SIMD32<UInt16> { evens32(a, b) }
        @inline(__always) func o(_ a: SIMD32<UInt16>, _ b: SIMD32<UInt16>) -> SIMD32<UInt16> { odds32(a, b) }
        v = (e(v.0, v.1), e(v.2, v.3), e(v.4, v.5), e(v.6, v.7), o(v.0, v.1), o(v.2, v.3), o(v.4, v.5), o(v.6, v.7))
    }
    return v
}

/// 16 float16 plane rows of 16 pixels (two rows per vector) as 16 float32 pixels: transposed
/// as 16-bit values, then each pixel widened (vcvtph2ps).
@inline(__always)
private func widenedFloat16Pixels(_ rows: HalfBlock) -> Pixels16 {
    let v = unshuffled(rows)
    return (widenFloat16(v.0.lowHalf), widenFloat16(v.0.highHalf), widenFloat16(v.1.lowHalf), widenFloat16(v.1.highHalf),
            widenFloat16(v.2.lowHalf), widenFloat16(v.2.highHalf), widenFloat16(v.3.lowHalf), widenFloat16(v.3.highHalf),
            widenFloat16(v.4.lowHalf), widenFloat16(v.4.highHalf), widenFloat16(v.5.lowHalf), widenFloat16(v.5.highHalf),
            widenFloat16(v.6.lowHalf), widenFloat16(v.6.highHalf), widenFloat16(v.7.lowHalf), widenFloat16(v.7.highHalf))
}

/// `widenedFloat16Pixels` for bfloat16, one round shorter: after three rounds vector m holds
/// pixel m's channels in its even 16-bit lanes and pixel m + 8's in the odd ones (the index
/// bits pixel2 pixel1 pixel0 | channel | pixel3), so as 32-bit lanes a shift left by 16
/// widens pixel m and clearing the low halves widens pixel m + 8: no shuffle for the last
/// round or the widening (a bfloat16 is the top half of its float32).
@inline(__always)
private func widenedBfloat16Pixels(_ rows: HalfBlock) -> Pixels16 {
    let v = unshuffled(rows, rounds: 3)
    @inline(__always) func low(_ x: SIMD32<UInt16>) -> SIMD16<Float> {
        unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) &<< 16, to: SIMD16<Float>.self)
    }
    @inline(__always) func high(_ x: SIMD32<UInt16>) -> SIMD16<Float> {
        unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0xFFFF_0000, to: SIMD16<Float>.self)
    }
    return (low(v.0), low(v.1), low(v.2), low(v.3), low(v.4), low(v.5), low(v.6), low(v.7),
            high(v.0), high(v.1), high(v.2), high(v.3), high(v.4), high(v.5), high(v.6), high(v.7))
}

/// The 16 float32 pixels of 16 channels at `pixels` rounded to float16 and transposed: 16
/// plane rows of 16 pixels, two per vector (rows 2k and 2k + 1 in vector k).
@inline(__always)
private func roundedFloat16Rows(_ pixels: UnsafeRawPointer) -> HalfBlock {
    @inline(__always) func pixel(_ i: Int) -> SIMD16<Float> { pixels.loadUnaligned(fromByteOffset: i &* 64, as: SIMD16<Float>.self) }
    @inline(__always) func pair(_ k: Int) -> SIMD32<UInt16> {
        SIMD32(lowHalf: narrowFloat16(pixel(2 &* k)), highHalf: narrowFloat16(pixel(2 &* k &+ 1)))
    }
    return unshuffled((pair(0), pair(1), pair(2), pair(3), pair(4), pair(5), pair(6), pair(7)))
}

/// `roundedFloat16Rows` for bfloat16, one round shorter (the inverse of
/// `widenedBfloat16Pixels`): vector k takes pixel k's rounded bfloat16s in its even 16-bit
/// lanes (a shift right by 16 of the rounded float32 bits) and pixel k + 8's in the odd ones
/// (their low halves cleared), then three rounds of perfect shuffles.
///
/// Tried, not kept (session 12): on CPUs with AVX-512 BF16, pixels 2k and 2k + 1 rounded by
/// one vcvtne2ps2bf16 into vector k and float16's four unshuffle rounds, a block with a
/// subnormal lane (16 vfpclassps or-ed in mask registers) taking this integer rounding; the
/// same bits (objdump: 8 vcvtne2ps2bf16 + 32 vpermt2w per block where this takes 96 integer
/// ops + 24 vpermt2w). bfloat16 time new / old, 1 thread, one process, interleaved, process
/// CPU time, medians of 7-11 blocks (/tmp/s12/halfdw/ab.py): dw 960ch 7x7 k3 forward N1
/// 1.02, 0.99; 672ch 14x14 k5 0.99; 384ch 28x28 k3 0.99, N8 0.97; 96ch 112x112 s2 1.00:
/// the rounding is too small a share of these layers to show.
@inline(__always)
private func roundedBfloat16Rows(_ pixels: UnsafeRawPointer) -> HalfBlock {
    @inline(__always) func pixel(_ i: Int) -> SIMD16<Float> { pixels.loadUnaligned(fromByteOffset: i &* 64, as: SIMD16<Float>.self) }
    @inline(__always) func pair(_ k: Int) -> SIMD32<UInt16> {
        let a = bfloat16RoundedBits(pixel(k)) &>> 16, b = bfloat16RoundedBits(pixel(k &+ 8)) & 0xFFFF_0000
        return unsafeBitCast(a | b, to: SIMD32<UInt16>.self)
    }
    return shuffled((pair(0), pair(1), pair(2), pair(3), pair(4), pair(5), pair(6), pair(7)), rounds: 3)
}

/// Pixels u < count of 16 half plane rows (src[r * srcStride + u]) as 16-lane float32 pixels:
/// 16 at a time loaded two rows per vector, transposed and widened by `widenBlock` and
/// handed to `store` (u, pixels u ..< u + 16); the last few (at most 4, else the last block
/// overlaps: a pure copy) one by one by `widenOne` into `pixel(u)`. (An overlapping block
/// for those few too was slower on 7x7 planes: forward float16 time against the buffered
/// build in the same process, scalar tails -> overlapping block, float16 in registers on
/// every plane: 960ch 7x7 k3 1.02 -> 1.08, 1152ch 7x7 k5 1.03 -> 1.07, 672ch 14x14 k5
/// 1.07 -> 1.07.)
@inline(__always)
private func interleaveHalf16(_ src: UnsafePointer<UInt16>, srcStride: Int, count: Int,
                              _ widenBlock: (HalfBlock) -> Pixels16, _ widenOne: (UInt16) -> Float,
                              store: (Int, Pixels16) -> Void, pixel: (Int) -> UnsafeMutablePointer<Float>) {
    var u = 0
    while u < count && count >= 16 {
        if u &+ 16 > count {
            if count &- u <= 4 { break }
            u = count &- 16
        }
        @inline(__always) func l(_ r: Int) -> SIMD16<UInt16> {
            UnsafeRawPointer(src + (r &* srcStride &+ u)).loadUnaligned(as: SIMD16<UInt16>.self)
        }
        @inline(__always) func rows(_ k: Int) -> SIMD32<UInt16> { SIMD32(lowHalf: l(2 &* k), highHalf: l(2 &* k &+ 1)) }
        store(u, widenBlock((rows(0), rows(1), rows(2), rows(3), rows(4), rows(5), rows(6), rows(7))))
        u &+= 16
    }
    while u < count {
        let o = pixel(u)
        for r in 0..<16 { o[r] = widenOne(src[r &* srcStride &+ u]) }
        u &+= 1
    }
}

/// `depthwiseInterleaveF32` (16 lanes) from half plane rows, widened in registers.
@inline(__always)
private func interleaveHalf(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<UInt16>, srcStride: Int, count: Int,
                            _ widenBlock: (HalfBlock) -> Pixels16, _ widenOne: (UInt16) -> Float) {
    interleaveHalf16(src, srcStride: srcStride, count: count, widenBlock, widenOne, store: { u, v in
        let d = UnsafeMutableRawPointer(dst + u &* 16)
        @inline(__always) func st(_ x: SIMD16<Float>, _ i: Int) { d.storeBytes(of: x, toByteOffset: i &* 64, as: SIMD16<Float>.self) }
        st(v.0, 0); st(v.1, 1); st(v.2, 2); st(v.3, 3); st(v.4, 4); st(v.5, 5); st(v.6, 6); st(v.7, 7)
        st(v.8, 8); st(v.9, 9); st(v.10, 10); st(v.11, 11); st(v.12, 12); st(v.13, 13); st(v.14, 14); st(v.15, 15)
    }, pixel: { dst + $0 &* 16 })
}

/// `depthwiseInterleaveRowsF32` (16 lanes) from half plane rows, widened in registers.
@inline(__always)
private func interleaveRowsHalf(_ dst: UnsafeMutablePointer<Float>, rowStride: Int, rowWidth: Int, _ src: UnsafePointer<UInt16>,
                                srcStride: Int, count: Int,
                                _ widenBlock: (HalfBlock) -> Pixels16, _ widenOne: (UInt16) -> Float) {
    let rows = PixelRows16(base: dst, rowStride: rowStride, rowWidth: rowWidth)
    interleaveHalf16(src, srcStride: srcStride, count: count, widenBlock, widenOne,
                     store: { rows.store($0, $1) }, pixel: { rows.pixel($0) })
}

/// `depthwiseDeinterleaveF32` (16 lanes) into half plane rows: 16 pixels at a time rounded
/// and transposed by `narrowBlock` (from their address) and stored as 16 row pieces; the
/// last few one by one by `narrowOne` (as `interleaveHalf16`).
@inline(__always)
private func deinterleaveHalf(_ dst: UnsafeMutablePointer<UInt16>, dstStride: Int, _ src: UnsafePointer<Float>, count: Int,
                              _ narrowBlock: (UnsafeRawPointer) -> HalfBlock, _ narrowOne: (Float) -> UInt16) {
    var u = 0
    while u < count && count >= 16 {
        if u &+ 16 > count {
            if count &- u <= 4 { break }
            u = count &- 16
        }
        let v = narrowBlock(UnsafeRawPointer(src + u &* 16))
        let d = dst + u
        @inline(__always) func st(_ x: SIMD32<UInt16>, _ k: Int) {
            UnsafeMutableRawPointer(d + (2 &* k) &* dstStride).storeBytes(of: x.lowHalf, as: SIMD16<UInt16>.self)
            UnsafeMutableRawPointer(d + (2 &* k &+ 1) &* dstStride).storeBytes(of: x.highHalf, as: SIMD16<UInt16>.self)
        }
        st(v.0, 0); st(v.1, 1); st(v.2, 2); st(v.3, 3); st(v.4, 4); st(v.5, 5); st(v.6, 6); st(v.7, 7)
        u &+= 16
    }
    while u < count {
        let s = src + u &* 16
        for r in 0..<16 { dst[r &* dstStride &+ u] = narrowOne(s[r]) }
        u &+= 1
    }
}


// MARK: - float16, 32 pixels at a time (x86-64-v4)

// In-lane interleaves of words, dwords, qwords (vpunpckl/h wd, dq, qdq) and qword pairs of
// 128-bit lanes (vpermt2q): one shuffle-port uop each.

@inline(__always)
private func interleave16(_ a: SIMD32<UInt16>, _ b: SIMD32<UInt16>, high: Bool) -> SIMD32<UInt16> {
    let h = high ? 4 : 0
    return SIMD32(a[h], b[h], a[h + 1], b[h + 1], a[h + 2], b[h + 2], a[h + 3], b[h + 3],
                  a[h + 8], b[h + 8], a[h + 9], b[h + 9], a[h + 10], b[h + 10], a[h + 11], b[h + 11],
                  a[h + 16], b[h + 16], a[h + 17], b[h + 17], a[h + 18], b[h + 18], a[h + 19], b[h + 19],
                  a[h + 24], b[h + 24], a[h + 25], b[h + 25], a[h + 26], b[h + 26], a[h + 27], b[h + 27])
}

@inline(__always)
private func interleave32(_ x: SIMD32<UInt16>, _ y: SIMD32<UInt16>, high: Bool) -> SIMD32<UInt16> {
    let a = unsafeBitCast(x, to: SIMD16<UInt32>.self), b = unsafeBitCast(y, to: SIMD16<UInt32>.self)
    let r = high ? SIMD16(a[2], b[2], a[3], b[3], a[6], b[6], a[7], b[7], a[10], b[10], a[11], b[11], a[14], b[14], a[15], b[15])
                 : SIMD16(a[0], b[0], a[1], b[1], a[4], b[4], a[5], b[5], a[8], b[8], a[9], b[9], a[12], b[12], a[13], b[13])
    return unsafeBitCast(r, to: SIMD32<UInt16>.self)
}

@inline(__always)
private func interleave64(_ x: SIMD32<UInt16>, _ y: SIMD32<UInt16>, high: Bool) -> SIMD32<UInt16> {
    let a = unsafeBitCast(x, to: SIMD8<UInt64>.self), b = unsafeBitCast(y, to: SIMD8<UInt64>.self)
    let r = high ? SIMD8(a[1], b[1], a[3], b[3], a[5], b[5], a[7], b[7]) : SIMD8(a[0], b[0], a[2], b[2], a[4], b[4], a[6], b[6])
    return unsafeBitCast(r, to: SIMD32<UInt16>.self)
}

/// 128-bit lanes 0 of a and b, then lanes 2 of a and b (`high`: lanes 1 and 3).
@inline(__always)
private func alternateLanes(_ x: SIMD32<UInt16>, _ y: SIMD32<UInt16>, high: Bool) -> SIMD32<UInt16> {
    let a = unsafeBitCast(x, to: SIMD8<UInt64>.self), b = unsafeBitCast(y, to: SIMD8<UInt64>.self)
    let r = high ? SIMD8(a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7]) : SIMD8(a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5])
    return unsafeBitCast(r, to: SIMD32<UInt16>.self)
}

/// The transpose of 16 rows of 32 words, each row one 512-bit load (`row(i)`): `put(p, v)`
/// gets pixels p (words 0-15 of v) and p + 16 (words 16-31), p < 16. Index bits of a word:
/// vector = row bits 3-0, lanes = pixel bit 4 | pixel bit 3 | pixel bits 2-0. The lane round
/// first (row bit 3 with pixel bit 3), then in-lane interleaves of words, dwords and qwords
/// (row bits 0, 1, 2 into the word's place, pixel bits 2, 1, 0 out to the vector): 80
/// one-uop shuffles per 32 pixels (objdump: 48 vpunpck, 32 vpermt2q), where the float32
/// transpose takes 64 vpermt2ps per 16. Rows paired as zmm halves (16 pixels of
/// rows i and i + 8) are not used: LLVM folds that concatenation into the interleaves and
/// rebuilds them from two-uop vpermt2w.
@inline(__always)
private func transposedWords32(_ row: (Int) -> SIMD32<UInt16>, _ put: (Int, SIMD32<UInt16>) -> Void) {
    var z0 = row(0), z1 = row(1), z2 = row(2), z3 = row(3), z4 = row(4), z5 = row(5), z6 = row(6), z7 = row(7)
    var z8 = row(8), z9 = row(9), z10 = row(10), z11 = row(11), z12 = row(12), z13 = row(13), z14 = row(14), z15 = row(15)
    (z0, z8) = (alternateLanes(z0, z8, high: false), alternateLanes(z0, z8, high: true))
    (z1, z9) = (alternateLanes(z1, z9, high: false), alternateLanes(z1, z9, high: true))
    (z2, z10) = (alternateLanes(z2, z10, high: false), alternateLanes(z2, z10, high: true))
    (z3, z11) = (alternateLanes(z3, z11, high: false), alternateLanes(z3, z11, high: true))
    (z4, z12) = (alternateLanes(z4, z12, high: false), alternateLanes(z4, z12, high: true))
    (z5, z13) = (alternateLanes(z5, z13, high: false), alternateLanes(z5, z13, high: true))
    (z6, z14) = (alternateLanes(z6, z14, high: false), alternateLanes(z6, z14, high: true))
    (z7, z15) = (alternateLanes(z7, z15, high: false), alternateLanes(z7, z15, high: true))
    (z0, z1) = (interleave16(z0, z1, high: false), interleave16(z0, z1, high: true))
    (z2, z3) = (interleave16(z2, z3, high: false), interleave16(z2, z3, high: true))
    (z4, z5) = (interleave16(z4, z5, high: false), interleave16(z4, z5, high: true))
    (z6, z7) = (interleave16(z6, z7, high: false), interleave16(z6, z7, high: true))
    (z8, z9) = (interleave16(z8, z9, high: false), interleave16(z8, z9, high: true))
    (z10, z11) = (interleave16(z10, z11, high: false), interleave16(z10, z11, high: true))
    (z12, z13) = (interleave16(z12, z13, high: false), interleave16(z12, z13, high: true))
    (z14, z15) = (interleave16(z14, z15, high: false), interleave16(z14, z15, high: true))
    (z0, z2) = (interleave32(z0, z2, high: false), interleave32(z0, z2, high: true))
    (z1, z3) = (interleave32(z1, z3, high: false), interleave32(z1, z3, high: true))
    (z4, z6) = (interleave32(z4, z6, high: false), interleave32(z4, z6, high: true))
    (z5, z7) = (interleave32(z5, z7, high: false), interleave32(z5, z7, high: true))
    (z8, z10) = (interleave32(z8, z10, high: false), interleave32(z8, z10, high: true))
    (z9, z11) = (interleave32(z9, z11, high: false), interleave32(z9, z11, high: true))
    (z12, z14) = (interleave32(z12, z14, high: false), interleave32(z12, z14, high: true))
    (z13, z15) = (interleave32(z13, z15, high: false), interleave32(z13, z15, high: true))
    (z0, z4) = (interleave64(z0, z4, high: false), interleave64(z0, z4, high: true))
    (z1, z5) = (interleave64(z1, z5, high: false), interleave64(z1, z5, high: true))
    (z2, z6) = (interleave64(z2, z6, high: false), interleave64(z2, z6, high: true))
    (z3, z7) = (interleave64(z3, z7, high: false), interleave64(z3, z7, high: true))
    (z8, z12) = (interleave64(z8, z12, high: false), interleave64(z8, z12, high: true))
    (z9, z13) = (interleave64(z9, z13, high: false), interleave64(z9, z13, high: true))
    (z10, z14) = (interleave64(z10, z14, high: false), interleave64(z10, z14, high: true))
    (z11, z15) = (interleave64(z11, z15, high: false), interleave64(z11, z15, high: true))
    // Vector k: pixel 8 k3 + 4 k0 + 2 k1 + k2 (and 16 more).
    put(0, z0); put(4, z1); put(2, z2); put(6, z3); put(1, z4); put(5, z5); put(3, z6); put(7, z7)
    put(8, z8); put(12, z9); put(10, z10); put(14, z11); put(9, z12); put(13, z13); put(11, z14); put(15, z15)
}

/// Pixels u < count (count >= 32) of 16 float16 plane rows as float32 pixels: 32 at a time
/// transposed as words (`transposedWords32`) into `buffer` (1 KB: pixel p and p + 16 in 64
/// bytes), then widened from there (vcvtph2ps from memory: no shuffle-port uop) and handed to
/// `store` 16 at a time; the last few (at most 4, else the last 32 overlap: a pure copy) one
/// by one into `pixel(u)`.
@inline(__always)
private func interleaveFloat16By32(_ src: UnsafePointer<UInt16>, srcStride: Int, count: Int, _ buffer: UnsafeMutableRawPointer,
                                   store: (Int, Pixels16) -> Void, pixel: (Int) -> UnsafeMutablePointer<Float>) {
    var u = 0
    while u < count {
        if u &+ 32 > count {
            if count &- u <= 4 { break }
            u = count &- 32
        }
        transposedWords32({ UnsafeRawPointer(src + ($0 &* srcStride &+ u)).loadUnaligned(as: SIMD32<UInt16>.self) },
                          { buffer.storeBytes(of: $1, toByteOffset: $0 &* 64, as: SIMD32<UInt16>.self) })
        @inline(__always) func p(_ i: Int) -> SIMD16<Float> {
            widenFloat16(UnsafeRawPointer(buffer).loadUnaligned(fromByteOffset: i &* 32, as: SIMD16<UInt16>.self))
        }
        store(u, (p(0), p(2), p(4), p(6), p(8), p(10), p(12), p(14), p(16), p(18), p(20), p(22), p(24), p(26), p(28), p(30)))
        store(u &+ 16, (p(1), p(3), p(5), p(7), p(9), p(11), p(13), p(15), p(17), p(19), p(21), p(23), p(25), p(27), p(29), p(31)))
        u &+= 32
    }
    while u < count {
        let o = pixel(u)
        for r in 0..<16 { o[r] = widenFloat16(src[r &* srcStride &+ u]) }
        u &+= 1
    }
}

#endif

/// Whether a bfloat16 copy of `lanes` channels and `count` pixels converts in registers.
@inline(__always)
private func convertsInRegisters(lanes: Int, count: Int) -> Bool {
    #if SWIFTCONV_AVX512
    return lanes == 16 && count >= 16
    #else
    return false
    #endif
}

/// Whether a float16 copy converts in registers: as bfloat16, whole planes included.
///
/// The Sapphire Rapids Xeon of earlier sessions kept whole float16 planes that fit the
/// buffer (`stride == count`, up to 256 pixels) on the buffered copy: there vcvtph2ps /
/// vcvtps2ph in registers and the upper-half extracts took shuffle-port uops, the copies'
/// bottleneck (in registers -> buffered: dw 960ch 7x7 k3 1.07 -> 1.05, 672ch 14x14 k5 1.16
/// -> 1.08). On Zen5 (no AVX512-FP16; F16C conversions from / to L1 at about one zmm store
/// a cycle, the same as a float32 copy) the buffered pass is the extra cost: buffered -> in
/// registers, float16 / float32 time, N1, 1 thread, the build before (ed61161) and this
/// one in one process, calls interleaved, process CPU time, medians of 7 blocks
/// (/tmp/s11/half/ab.py): dw 960ch 7x7 k3 forward 1.10 -> 1.00, backward 1.11 -> 1.06;
/// 672ch 14x14 k5 forward 1.07 -> 0.96, backward 1.04 -> 1.03 (bfloat16, whose code did not
/// change, moved -0.02 to +0.02: the noise).
@inline(__always)
private func float16ConvertsInRegisters(lanes: Int, count: Int, stride: Int) -> Bool {
    convertsInRegisters(lanes: lanes, count: count)
}

// MARK: - The kernel table's entries

/// `depthwiseInterleaveF32` from float16 plane rows, each value widened exactly.
@inline(never)
public func depthwiseInterleaveFloat16(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<UInt16>,
                                       srcStride: Int, lanes: Int, count: Int, buffer: UnsafeMutablePointer<Float>) {
    #if SWIFTCONV_AVX512
    if lanes == 16 && count >= 32 {
        interleaveFloat16By32(src, srcStride: srcStride, count: count, UnsafeMutableRawPointer(buffer), store: { u, v in
            let d = UnsafeMutableRawPointer(dst + u &* 16)
            @inline(__always) func st(_ x: SIMD16<Float>, _ i: Int) { d.storeBytes(of: x, toByteOffset: i &* 64, as: SIMD16<Float>.self) }
            st(v.0, 0); st(v.1, 1); st(v.2, 2); st(v.3, 3); st(v.4, 4); st(v.5, 5); st(v.6, 6); st(v.7, 7)
            st(v.8, 8); st(v.9, 9); st(v.10, 10); st(v.11, 11); st(v.12, 12); st(v.13, 13); st(v.14, 14); st(v.15, 15)
        }, pixel: { dst + $0 &* 16 })
        return
    }
    if float16ConvertsInRegisters(lanes: lanes, count: count, stride: srcStride) {
        interleaveHalf(dst, src, srcStride: srcStride, count: count, widenedFloat16Pixels, widenFloat16)
        return
    }
    #endif
    interleaveWidening(dst, src, srcStride: srcStride, lanes: lanes, count: count, buffer) { float16ToFloat32($0, $1, count: $2) }
}

/// `depthwiseInterleaveF32` from bfloat16 plane rows, each value widened exactly.
@inline(never)
public func depthwiseInterleaveBfloat16(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<UInt16>,
                                        srcStride: Int, lanes: Int, count: Int, buffer: UnsafeMutablePointer<Float>) {
    #if SWIFTCONV_AVX512
    if convertsInRegisters(lanes: lanes, count: count) {
        interleaveHalf(dst, src, srcStride: srcStride, count: count, widenedBfloat16Pixels, widenBfloat16)
        return
    }
    #endif
    interleaveWidening(dst, src, srcStride: srcStride, lanes: lanes, count: count, buffer) { bfloat16ToFloat32($0, $1, count: $2) }
}

/// `depthwiseInterleaveRowsF32` from float16 plane rows, each value widened exactly.
@inline(never)
public func depthwiseInterleaveRowsFloat16(_ dst: UnsafeMutablePointer<Float>, rowStride: Int, rowWidth: Int, _ src: UnsafePointer<UInt16>,
                                           srcStride: Int, lanes: Int, count: Int, buffer: UnsafeMutablePointer<Float>) {
    #if SWIFTCONV_AVX512
    if lanes == 16 && count >= 32 {
        let rows = PixelRows16(base: dst, rowStride: rowStride, rowWidth: rowWidth)
        interleaveFloat16By32(src, srcStride: srcStride, count: count, UnsafeMutableRawPointer(buffer),
                              store: { rows.store($0, $1) }, pixel: { rows.pixel($0) })
        return
    }
    if float16ConvertsInRegisters(lanes: lanes, count: count, stride: srcStride) {
        interleaveRowsHalf(dst, rowStride: rowStride, rowWidth: rowWidth, src, srcStride: srcStride, count: count,
                           widenedFloat16Pixels, widenFloat16)
        return
    }
    #endif
    interleaveRowsWidening(dst, rowStride: rowStride, rowWidth: rowWidth, src, srcStride: srcStride, lanes: lanes, count: count,
                           buffer) { float16ToFloat32($0, $1, count: $2) }
}

/// `depthwiseInterleaveRowsF32` from bfloat16 plane rows, each value widened exactly.
@inline(never)
public func depthwiseInterleaveRowsBfloat16(_ dst: UnsafeMutablePointer<Float>, rowStride: Int, rowWidth: Int, _ src: UnsafePointer<UInt16>,
                                            srcStride: Int, lanes: Int, count: Int, buffer: UnsafeMutablePointer<Float>) {
    #if SWIFTCONV_AVX512
    if convertsInRegisters(lanes: lanes, count: count) {
        interleaveRowsHalf(dst, rowStride: rowStride, rowWidth: rowWidth, src, srcStride: srcStride, count: count,
                           widenedBfloat16Pixels, widenBfloat16)
        return
    }
    #endif
    interleaveRowsWidening(dst, rowStride: rowStride, rowWidth: rowWidth, src, srcStride: srcStride, lanes: lanes, count: count,
                           buffer) { bfloat16ToFloat32($0, $1, count: $2) }
}

/// `depthwiseDeinterleaveF32` into float16 plane rows, each value rounded to nearest even.
@inline(never)
public func depthwiseDeinterleaveFloat16(_ dst: UnsafeMutablePointer<UInt16>, dstStride: Int, _ src: UnsafePointer<Float>,
                                         lanes: Int, count: Int, buffer: UnsafeMutablePointer<Float>) {
    #if SWIFTCONV_AVX512
    if float16ConvertsInRegisters(lanes: lanes, count: count, stride: dstStride) {
        deinterleaveHalf(dst, dstStride: dstStride, src, count: count, roundedFloat16Rows, narrowFloat16)
        return
    }
    #endif
    deinterleaveNarrowing(dst, dstStride: dstStride, src, lanes: lanes, count: count, buffer) { float32ToFloat16($0, $1, count: $2) }
}

/// `depthwiseDeinterleaveF32` into bfloat16 plane rows, each value rounded to nearest even.
@inline(never)
public func depthwiseDeinterleaveBfloat16(_ dst: UnsafeMutablePointer<UInt16>, dstStride: Int, _ src: UnsafePointer<Float>,
                                          lanes: Int, count: Int, buffer: UnsafeMutablePointer<Float>) {
    #if SWIFTCONV_AVX512
    if convertsInRegisters(lanes: lanes, count: count) {
        deinterleaveHalf(dst, dstStride: dstStride, src, count: count, roundedBfloat16Rows, narrowBfloat16)
        return
    }
    #endif
    deinterleaveNarrowing(dst, dstStride: dstStride, src, lanes: lanes, count: count, buffer) { float32ToBfloat16($0, $1, count: $2) }
}
