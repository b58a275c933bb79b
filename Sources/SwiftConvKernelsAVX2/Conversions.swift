/// Conversions between the half-precision storage types and float32, for float16 and
/// bfloat16 calls: the engine widens the caller's arrays into float32 workspaces, runs the
/// float32 kernels, and narrows the results (ConvEngine). Compiled three times like the
/// other kernel files (the AVX512 and Baseline targets hold symlinks):
///
/// - float16, x86-64-v3 / v4 builds: Swift's `Float16` conversions, which LLVM lowers to the
///   F16C instructions `vcvtph2ps` / `vcvtps2ph` (imm 4: the MXCSR rounding mode, round to
///   nearest even unless a caller changed it), 8 (v3) or 16 (v4: zmm, from the 16-lane
///   vectors below) values per instruction (checked with `objdump -d` of the built
///   objects). Also arm64, where they are `fcvt`.
/// - float16, the baseline build: the same results from integer and float32 operations on
///   the bit patterns (`float16BitsToFloat32Bits`, `float32BitsToFloat16Bits`), branch-free
///   so that the loops vectorise with SSE2 (without F16C, `Float16` would call the runtime's
///   `__extendhfsf2` / `__truncsfhf2` once per value).
/// - bfloat16, every build: the top 16 bits of a float32, so widening is a 16-bit shift and
///   narrowing rounds to nearest even on the bit pattern (PyTorch's `round_to_nearest_even`,
///   ml_dtypes' cast), on zmm in the v4 build (vpmovzxwd + vpslld; narrowing 32 values at a
///   time: 6 integer ops per 16 and one word shuffle per 32, `narrowBfloat16Pair`).
///   AVX-512 BF16's `vcvtneps2bf16` is not used: it flushes subnormal inputs to zero, so it
///   is not the exact rounding.
///
/// Every build gives the same bits for every input (Tests/SwiftConvTests/ConversionTests.swift
/// checks all 65536 half / bfloat16 patterns and the float32 edge cases on every tier this
/// CPU runs):
/// - widening is exact; a NaN stays a NaN of the same sign, quiet, its payload kept (a
///   float16 NaN's payload shifted up 13 bits with the quiet bit set, as `vcvtph2ps` does;
///   a bfloat16 NaN's bits unchanged);
/// - narrowing rounds to nearest, ties to even, with subnormal results, overflow to
///   infinity (float16: |x| >= 65520; bfloat16: past the largest finite value and its
///   half-ulp), signed zeros; a NaN becomes a quiet NaN of the same sign with the payload's
///   top bits (float16: `vcvtps2ph`'s rule; bfloat16: the top 16 bits with the quiet bit
///   set). PyTorch returns one canonical NaN instead; the NaN-ness and sign agree.

import CSwiftConv  // sc_prefetch_l2

// MARK: - One value

#if (SWIFTCONV_FMA && !canImport(Darwin)) || arch(arm64)

/// The float32 value of a float16 bit pattern (exact).
@inline(__always)
public func widenFloat16(_ h: UInt16) -> Float { Float(Float16(bitPattern: h)) }

/// The float16 bit pattern of x rounded to nearest even.
@inline(__always)
public func narrowFloat16(_ x: Float) -> UInt16 { Float16(x).bitPattern }

#else

/// The float32 value of a float16 bit pattern (exact).
@inline(__always)
public func widenFloat16(_ h: UInt16) -> Float { Float(bitPattern: float16BitsToFloat32Bits(UInt32(h))) }

/// The float16 bit pattern of x rounded to nearest even.
@inline(__always)
public func narrowFloat16(_ x: Float) -> UInt16 { UInt16(truncatingIfNeeded: float32BitsToFloat16Bits(x.bitPattern)) }

#endif

/// The float32 value of a bfloat16 bit pattern (exact: the pattern is the top half of the
/// float32's).
@inline(__always)
public func widenBfloat16(_ h: UInt16) -> Float { Float(bitPattern: UInt32(h) &<< 16) }

/// The bfloat16 bit pattern of x rounded to nearest even.
@inline(__always)
public func narrowBfloat16(_ x: Float) -> UInt16 { UInt16(truncatingIfNeeded: float32BitsToBfloat16Bits(x.bitPattern)) }

// MARK: - Sixteen values (a depthwise pixel, a step of the array loops)

// Written lane by lane: LLVM's SLP vectoriser makes each one vector operation sequence
// (x86-64-v4: one vcvtph2ps / vcvtps2ph zmm, or vpmovzxwd + vpslld, or 7 integer ops +
// vpmovdw, all on zmm; x86-64-v3: the same on two ymm), where the generic SIMD conversions
// and lane masks of the standard library stay scalar loops, and where the auto-vectorised
// array loops below would stay 256 bits wide (LLVM's x86-64-v4 tuning prefers ymm for
// loops it vectorises itself; explicit 512-bit vectors are kept). Checked with `objdump -d`.

/// f of each lane.
@inline(__always)
private func eachLane<A: SIMDScalar, B: SIMDScalar>(_ v: SIMD16<A>, _ f: (A) -> B) -> SIMD16<B> {
    SIMD16(f(v[0]), f(v[1]), f(v[2]), f(v[3]), f(v[4]), f(v[5]), f(v[6]), f(v[7]),
           f(v[8]), f(v[9]), f(v[10]), f(v[11]), f(v[12]), f(v[13]), f(v[14]), f(v[15]))
}

/// `widenFloat16` of each lane.
@inline(__always)
public func widenFloat16(_ h: SIMD16<UInt16>) -> SIMD16<Float> { eachLane(h) { widenFloat16($0) } }

/// `narrowFloat16` of each lane.
@inline(__always)
public func narrowFloat16(_ x: SIMD16<Float>) -> SIMD16<UInt16> { eachLane(x) { narrowFloat16($0) } }

/// `widenBfloat16` of each lane.
@inline(__always)
public func widenBfloat16(_ h: SIMD16<UInt16>) -> SIMD16<Float> { eachLane(h) { widenBfloat16($0) } }

/// `narrowBfloat16` of each lane.
@inline(__always)
public func narrowBfloat16(_ x: SIMD16<Float>) -> SIMD16<UInt16> { eachLane(x) { narrowBfloat16($0) } }

/// `bfloat16RoundedFloat32Bits` of each lane (its bfloat16 in the top half of each lane), as
/// whole-vector integer operations: the NaN test is the sign of 0x7F800000 - |x| (negative
/// exactly for a NaN) spread over the lane by an arithmetic shift. Lane by lane with the
/// scalar function's conditionals, sixteen inlined copies of this (the depthwise tiles'
/// `roundedBfloat16Rows`) passed the Swift inliner's caller size limit and stayed calls.
@inline(__always)
public func bfloat16RoundedBits(_ x: SIMD16<Float>) -> SIMD16<UInt32> {
    let bits = unsafeBitCast(x, to: SIMD16<UInt32>.self)
    let rounded = bits &+ 0x7FFF &+ ((bits &>> 16) & 1)
    let nanDistance = SIMD16<UInt32>(repeating: 0x7F80_0000) &- (bits & 0x7FFF_FFFF)
    let isNaN = unsafeBitCast(unsafeBitCast(nanDistance, to: SIMD16<Int32>.self) &>> 31, to: SIMD16<UInt32>.self)
    return (rounded & ~isNaN) | ((bits | 0x0040_0000) & isNaN)
}

/// `narrowBfloat16` of a's lanes then b's: each lane rounded in place
/// (`bfloat16RoundedFloat32Bits`) and the 32 top halves gathered by one two-source word
/// shuffle (x86-64-v4: vpermt2w), where 16 lanes at a time took a shift and a two-uop
/// vpmovdw each (objdump: 6 vector ops + half a vpermt2w per 16 values, down from 8 + vpmovdw).
/// Little-endian lanes: a UInt32's top half is the odd UInt16 (x86-64, arm64).
@inline(__always)
public func narrowBfloat16Pair(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD32<UInt16> {
    let ra = unsafeBitCast(bfloat16RoundedBits(a), to: SIMD32<UInt16>.self)
    let rb = unsafeBitCast(bfloat16RoundedBits(b), to: SIMD32<UInt16>.self)
    return SIMD32(ra[1], ra[3], ra[5], ra[7], ra[9], ra[11], ra[13], ra[15],
                  ra[17], ra[19], ra[21], ra[23], ra[25], ra[27], ra[29], ra[31],
                  rb[1], rb[3], rb[5], rb[7], rb[9], rb[11], rb[13], rb[15],
                  rb[17], rb[19], rb[21], rb[23], rb[25], rb[27], rb[29], rb[31])
}

// MARK: - Arrays

/// dst[i] = f(src[i]), i < count: 16 at a time (`f16`); the last few as one more vector
/// ending at `count` (converting up to 15 values again, to the same bits) when count >= 16
/// and the arrays do not overlap, else one by one. The depthwise tiles widen plane rows one
/// by one: rows of 28 and 56 pixels left 12 and 8 values of each to the scalar loop.
@inline(__always)
private func convertArray<A: SIMDScalar, B: SIMDScalar>(_ src: UnsafePointer<A>, _ dst: UnsafeMutablePointer<B>, _ count: Int,
                                                        _ f16: (SIMD16<A>) -> SIMD16<B>, _ f: (A) -> B) {
    @inline(__always) func step(_ i: Int) {
        let v = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<A>.self)
        UnsafeMutableRawPointer(dst + i).storeBytes(of: f16(v), as: SIMD16<B>.self)
    }
    var i = 0
    while i &+ 16 <= count { step(i); i &+= 16 }
    if i == count { return }
    let (s, d) = (UnsafeRawPointer(src), UnsafeRawPointer(dst))
    if count >= 16 && (d + count &* MemoryLayout<B>.stride <= s || s + count &* MemoryLayout<A>.stride <= d) {
        step(count &- 16)
        return
    }
    while i < count { dst[i] = f(src[i]); i &+= 1 }
}

/// dst[i] = the float32 value of the float16 bit pattern src[i], i < count (exact).
@inline(never)
public func float16ToFloat32(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
    convertArray(src, dst, count, widenFloat16, widenFloat16)
}

/// dst[i] = the float16 bit pattern of src[i] rounded to nearest even, i < count.
@inline(never)
public func float32ToFloat16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
    convertArray(src, dst, count, narrowFloat16, narrowFloat16)
}

/// dst[i] = the float32 value of the bfloat16 bit pattern src[i], i < count (exact).
@inline(never)
public func bfloat16ToFloat32(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
    convertArray(src, dst, count, widenBfloat16, widenBfloat16)
}

/// dst[i] = the bfloat16 bit pattern of src[i] rounded to nearest even, i < count: 32 at a
/// time (`narrowBfloat16Pair`), the last few as one more step ending at `count` (as
/// `convertArray`) when count >= 32, else by `convertArray`. The x86-64-v3 and baseline
/// builds keep `convertArray`'s 16 at a time: without AVX-512's word shuffle the pairs cost
/// more than they save (4096 values in L1, best of 50 x 200 calls: v3 666 ns before, 684 ns
/// in pairs, 645 ns 16 at a time with `bfloat16RoundedFloat32Bits`; baseline 1233 ns before
/// and after, its pair loop 154 instructions per 32 values against 74 per 16).
///
/// Measured (AVX-512 Xeon, x86-64-v4 build): 4096 values in L1 as above, 430-460 ns (16 at a
/// time, vpmovdw) -> 327-339 ns (float16's vcvtps2ph: 125-131 ns); perf
/// cycles of this function in 4000 bfloat16 forward calls of dw 384ch 28x28 k3 (1 thread,
/// N1; it rounds the depthwise tiles' output) 181M -> 144M, of 1304M -> 1225M in the library.
/// Checked against the 16-lane rule on all 2^32 float32 patterns in the v4, v3 and baseline
/// builds, and by ConversionTests.
@inline(never)
public func float32ToBfloat16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
    #if !SWIFTCONV_AVX512
    convertArray(src, dst, count, narrowBfloat16, narrowBfloat16)
    #else
    @inline(__always) func step(_ i: Int) {
        let a = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<Float>.self)
        let b = UnsafeRawPointer(src + (i &+ 16)).loadUnaligned(as: SIMD16<Float>.self)
        UnsafeMutableRawPointer(dst + i).storeBytes(of: narrowBfloat16Pair(a, b), as: SIMD32<UInt16>.self)
    }
    let (s, d) = (UnsafeRawPointer(src), UnsafeRawPointer(dst))
    guard count >= 32 && (d + count &* 2 <= s || s + count &* 4 <= d) else {
        convertArray(src, dst, count, narrowBfloat16, narrowBfloat16)
        return
    }
    var i = 0
    while i &+ 32 <= count { step(i); i &+= 32 }
    if i < count { step(count &- 32) }
    #endif
}

/// dst[i] = widen(src[i * stride]), i < count, reading no element at or past
/// src[readable]: the sampled pixels of a strided 1x1 convolution's input row, gathered as
/// they are widened (HalfGemmConvolution), so the GEMM reads a dense operand in place. Stride
/// 2: 16 samples per step from 32 loaded values, the even ones (the low halves of 16 UInt32
/// lanes: `evens`), while those 32 lie within `readable`, the last step overlapping the one
/// before rather than going lane by lane; other strides lane by lane.
@inline(__always)
private func widenSampled(_ src: UnsafePointer<UInt16>, _ readable: Int, _ stride: Int, _ dst: UnsafeMutablePointer<Float>,
                          _ count: Int, _ f16: (SIMD16<UInt16>) -> SIMD16<Float>, _ evens: (SIMD16<UInt32>) -> SIMD16<Float>,
                          _ f: (UInt16) -> Float) {
    if stride == 1 { convertArray(src, dst, count, f16, f); return }
    var i = 0
    if stride == 2 && count >= 16 {
        @inline(__always) func step(_ i: Int) {
            let v = UnsafeRawPointer(src + 2 &* i).loadUnaligned(as: SIMD16<UInt32>.self)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: evens(v), as: SIMD16<Float>.self)
        }
        while i &+ 16 <= count && 2 &* i &+ 32 <= readable { step(i); i &+= 16 }
        if i < count && 2 &* (count &- 16) &+ 32 <= readable { step(count &- 16); return }
    }
    while i < count { dst[i] = f(src[i &* stride]); i &+= 1 }
}

/// `float16ToFloat32` of src[0], src[stride], ... (see `widenSampled`).
@inline(never)
public func float16ToFloat32Sampled(_ src: UnsafePointer<UInt16>, readable: Int, stride: Int, _ dst: UnsafeMutablePointer<Float>,
                                    count: Int) {
    widenSampled(src, readable, stride, dst, count, widenFloat16,
                 { widenFloat16(SIMD16<UInt16>(truncatingIfNeeded: $0)) }, widenFloat16)
}

/// `bfloat16ToFloat32` of src[0], src[stride], ... (see `widenSampled`; an even value
/// shifted to the top half of its lane is its float32).
@inline(never)
public func bfloat16ToFloat32Sampled(_ src: UnsafePointer<UInt16>, readable: Int, stride: Int, _ dst: UnsafeMutablePointer<Float>,
                                     count: Int) {
    widenSampled(src, readable, stride, dst, count, widenBfloat16,
                 { unsafeBitCast($0 &<< 16, to: SIMD16<Float>.self) }, widenBfloat16)
}

/// The float32 GEMM's packed B panels of a row-major half matrix, widened as they are
/// packed (HalfGemmConvolution's pointwise B operand): for p < rows, q < panels, l < 16,
/// dst[(q * rows + p) * 16 + l] = widen(src[p * rowStride + q * 16 + l]). The layout of
/// `StridedMatrix.packB`'s full 16-column panels, so the micro-kernels read exactly the
/// widened values; the half input is read once, at half the bytes, straight into the panels
/// the kernels sweep from L1, where a widening pass wrote a float32 copy and the GEMM read it
/// again. Row by row, each row's panels in order (one sequential stretch of the source row).
@inline(__always)
private func widenPanels(_ src: UnsafePointer<UInt16>, _ rowStride: Int, _ rows: Int, _ panels: Int,
                         _ dst: UnsafeMutablePointer<Float>, _ f16: (SIMD16<UInt16>) -> SIMD16<Float>) {
    let panelStride = rows &* 16
    var p = 0
    while p < rows {
        let s = src + p &* rowStride, d = dst + p &* 16
        // The next strip of this row (the caller's next call: the same width after these
        // columns) into L2 while the kernels sweep this one.
        var f = panels &* 16
        while f < panels &* 32 &+ 32 { sc_prefetch_l2(s + f); f &+= 32 }
        var q = 0
        while q < panels {
            let v = UnsafeRawPointer(s + q &* 16).loadUnaligned(as: SIMD16<UInt16>.self)
            UnsafeMutableRawPointer(d + q &* panelStride).storeBytes(of: f16(v), as: SIMD16<Float>.self)
            q &+= 1
        }
        p &+= 1
    }
}

/// `widenPanels` of float16 bit patterns (src, rowStride, rows, panels, dst).
@inline(never)
public func float16ToFloat32Panels(_ src: UnsafePointer<UInt16>, rowStride: Int, rows: Int, panels: Int,
                                   _ dst: UnsafeMutablePointer<Float>) {
    widenPanels(src, rowStride, rows, panels, dst, widenFloat16)
}

/// `widenPanels` of bfloat16 bit patterns (src, rowStride, rows, panels, dst).
@inline(never)
public func bfloat16ToFloat32Panels(_ src: UnsafePointer<UInt16>, rowStride: Int, rows: Int, panels: Int,
                                    _ dst: UnsafeMutablePointer<Float>) {
    widenPanels(src, rowStride, rows, panels, dst, widenBfloat16)
}

// MARK: - Bit patterns

/// The float32 bits of a float16 bit pattern (in the low 16 bits of `h`), exactly; a NaN
/// comes back quiet with its payload shifted up 13 bits (what `vcvtph2ps` gives). Branch-free.
@inline(__always)
public func float16BitsToFloat32Bits(_ h: UInt32) -> UInt32 {
    let sign = (h & 0x8000) &<< 16
    let magnitude = h & 0x7FFF
    let shifted = magnitude &<< 13
    // Normal numbers: rebias the exponent (127 - 15 = 112).
    let normal = shifted &+ 0x3800_0000
    // Infinities and NaNs: every exponent bit set, NaNs made quiet.
    let special = shifted | 0x7F80_0000 | (magnitude > 0x7C00 ? 0x0040_0000 : 0)
    // Zeros and subnormals: m * 2^-24, exact in float32 (m < 1024).
    let subnormal = (Float(Int32(bitPattern: magnitude)) * 0x1p-24).bitPattern
    let bits = magnitude >= 0x7C00 ? special : (magnitude < 0x0400 ? subnormal : normal)
    return bits | sign
}

/// The float16 bit pattern (low 16 bits) of the float32 with bits `x`, rounded to nearest
/// even: subnormal results, overflow to infinity, a NaN quiet with the payload's top 10
/// bits (what `vcvtps2ph` gives). Branch-free. Relies on float32 addition rounding to
/// nearest even (the default; nothing in swiftconv changes it).
@inline(__always)
public func float32BitsToFloat16Bits(_ x: UInt32) -> UInt32 {
    let sign = (x &>> 16) & 0x8000
    let a = x & 0x7FFF_FFFF
    // NaN: quiet, the top payload bits kept. Infinity and |x| >= 65536: infinity.
    let nan = 0x7E00 | ((a &>> 13) & 0x03FF)
    let huge: UInt32 = a > 0x7F80_0000 ? nan : 0x7C00
    // |x| < 2^-14 (the smallest normal float16): align the 10 mantissa bits at the bottom of
    // a float32 by adding 0.5 (whose ulp is 2^-24, the float16 subnormal step): the addition
    // rounds to nearest even, and the bits above 0.5's are the result (0x400 when it rounds
    // up to the smallest normal).
    let small = (Float(bitPattern: a) + 0.5).bitPattern &- 0x3F00_0000
    // Normal results: rebias the exponent (-112 << 23), add 0xFFF plus the lowest kept bit
    // (ties to even), drop 13 bits; a carry out of the mantissa increments the exponent,
    // up to infinity for |x| >= 65520.
    let odd = (a &>> 13) & 1
    let normal = (a &+ 0xC800_0FFF &+ odd) &>> 13
    let magnitude = a >= 0x4780_0000 ? huge : (a < 0x3880_0000 ? small : normal)
    return magnitude | sign
}

/// The bfloat16 bit pattern (low 16 bits) of the float32 with bits `x`, rounded to nearest
/// even on the bit pattern (exact for subnormals; overflow carries into infinity); a NaN
/// keeps its sign and top payload bits and is made quiet. Branch-free.
@inline(__always)
public func float32BitsToBfloat16Bits(_ x: UInt32) -> UInt32 { bfloat16RoundedFloat32Bits(x) &>> 16 }

/// The float32 bits `x` with their top 16 bits made `float32BitsToBfloat16Bits(x)` (the low
/// 16 bits are left over): x + 0x7FFF + the top half's lowest bit (ties to even) carries the
/// rounding into the top half; a NaN gets its quiet bit set (bit 6 of the top half). The top
/// halves of lanes can then be gathered by a word shuffle. The addend is chosen between two
/// constants by a bit test (x86-64-v4: vptestnmd + vpblendmd + vpaddd, where a shift, a mask
/// and two adds took one more op).
@inline(__always)
public func bfloat16RoundedFloat32Bits(_ x: UInt32) -> UInt32 {
    let rounded = x &+ (x & 0x1_0000 != 0 ? 0x8000 : 0x7FFF)
    let quiet = x | 0x0040_0000
    return (x & 0x7FFF_FFFF) > 0x7F80_0000 ? quiet : rounded
}
