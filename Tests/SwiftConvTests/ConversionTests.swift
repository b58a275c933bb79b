@testable import SwiftConv
import XCTest

/// The float16 / bfloat16 conversion kernels (SwiftConvKernels*/Conversions.swift) of every
/// tier this CPU runs, against scalar references written from the formats' definitions
/// (and, for float16, against the Swift runtime's own conversions, which this test target,
/// compiled without F16C, calls): widening over all 65536 bit patterns, rounding at every
/// float16 / bfloat16 rounding boundary, overflow, subnormals, signed zeros, NaN; then the
/// engine's float16 / bfloat16 plans against the float32 plan of the widened values.
final class ConversionTests: XCTestCase {
    static let allPatterns: [UInt16] = (0...0xFFFF).map { UInt16($0) }

    /// The tables of the tiers this CPU can run.
    var tables: [KernelTable] { KernelTier.available.map { KernelTable($0) } }

    // MARK: - Scalar references (from the definitions)

    /// The float32 bits a float16 pattern widens to: its value (exact in float32); a NaN
    /// quiet, same sign, payload shifted up 13 bits.
    static func referenceWiden16(_ h: UInt16) -> UInt32 {
        let sign: UInt32 = h & 0x8000 != 0 ? 0x8000_0000 : 0
        let e = Int((h >> 10) & 0x1F), m = Int(h & 0x3FF)
        if e == 0x1F {
            return m == 0 ? sign | 0x7F80_0000 : sign | 0x7FC0_0000 | UInt32(m) << 13
        }
        let magnitude = e == 0 ? Double(m) * 0x1p-24 : (1 + Double(m) / 1024) * pow2(e - 15)
        return Float(magnitude).bitPattern | sign
    }

    /// The float32 bits a bfloat16 pattern widens to: its value; a NaN's bits unchanged.
    static func referenceWidenBF16(_ h: UInt16) -> UInt32 {
        let sign: UInt32 = h & 0x8000 != 0 ? 0x8000_0000 : 0
        let e = Int((h >> 7) & 0xFF), m = Int(h & 0x7F)
        if e == 0xFF { return UInt32(h) << 16 }
        let magnitude = e == 0 ? Double(m) * 0x1p-133 : (1 + Double(m) / 128) * pow2(e - 127)
        return Float(magnitude).bitPattern | sign
    }

    static func pow2(_ e: Int) -> Double { Double(sign: .plus, exponent: e, significand: 1) }

    /// The value of a finite half pattern of `mantissaBits` / `bias`, or for the all-ones
    /// exponent with mantissa 0 the power of two it would be if the exponent were unbounded
    /// (so that rounding at the top of the range is to nearest, ties to even, as IEEE rounds).
    static func value(_ h: UInt16, mantissaBits: Int, bias: Int) -> Double {
        let mask = (1 << mantissaBits) - 1
        let e = Int(h & 0x7FFF) >> mantissaBits, m = Int(h) & mask
        let magnitude = e == 0 ? Double(m) * pow2(1 - bias - mantissaBits)
                               : (1 + Double(m) / Double(1 << mantissaBits)) * pow2(e - bias)
        return h & 0x8000 != 0 ? -magnitude : magnitude
    }

    /// The half pattern a float32 rounds to, by the definition: the two neighbouring patterns
    /// of the same sign around |x|, the nearer one, ties to the even mantissa; beyond the
    /// largest finite value by half an ulp or more, infinity; a NaN quiet, same sign, the
    /// payload's top bits (quiet bit `quiet`).
    static func referenceNarrow(_ x: Float, mantissaBits: Int, bias: Int) -> UInt16 {
        let bits = x.bitPattern
        let sign: UInt16 = bits & 0x8000_0000 != 0 ? 0x8000 : 0
        let expAll = (UInt16(0x7FFF) >> mantissaBits) << mantissaBits  // 0x7C00 / 0x7F80
        if x.isNaN {
            let payload = UInt16(truncatingIfNeeded: (bits & 0x007F_FFFF) >> (23 - mantissaBits))
            return sign | expAll | UInt16(1 << (mantissaBits - 1)) | payload
        }
        if x.isInfinite { return sign | expAll }
        let a = abs(Double(x))
        // Largest pattern with value <= a (binary search over the ordered positive patterns).
        var lo: UInt16 = 0, hi: UInt16 = expAll  // value(expAll) = the unbounded next power
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if value(mid, mantissaBits: mantissaBits, bias: bias) <= a { lo = mid } else { hi = mid }
        }
        if value(hi, mantissaBits: mantissaBits, bias: bias) <= a { lo = hi }
        if lo >= expAll { return sign | expAll }
        let below = value(lo, mantissaBits: mantissaBits, bias: bias)
        let above = value(lo + 1, mantissaBits: mantissaBits, bias: bias)
        let pick: UInt16
        if a - below < above - a { pick = lo } else if a - below > above - a { pick = lo + 1 } else { pick = lo & 1 == 0 ? lo : lo + 1 }
        return sign | pick
    }

    static func referenceNarrow16(_ x: Float) -> UInt16 { referenceNarrow(x, mantissaBits: 10, bias: 15) }
    static func referenceNarrowBF16(_ x: Float) -> UInt16 { referenceNarrow(x, mantissaBits: 7, bias: 127) }

    // MARK: - Running a table's kernels

    func widen(_ t: KernelTable, _ dtype: ConvDType, _ src: [UInt16]) -> [UInt32] {
        var out = [Float](repeating: 0, count: src.count)
        src.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { d in
            (dtype == .float16 ? t.float16ToFloat32 : t.bfloat16ToFloat32)(s.baseAddress!, d.baseAddress!, s.count)
        } }
        return out.map(\.bitPattern)
    }

    func narrow(_ t: KernelTable, _ dtype: ConvDType, _ src: [Float]) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: src.count)
        src.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { d in
            (dtype == .float16 ? t.float32ToFloat16 : t.float32ToBfloat16)(s.baseAddress!, d.baseAddress!, s.count)
        } }
        return out
    }

    func hex<T: BinaryInteger>(_ v: T) -> String { "0x" + String(v, radix: 16) }

    // MARK: - Widening: all 65536 patterns

    func testReferencesAgreeWithTheSwiftRuntime() {
        // The float16 references against the runtime's conversions (compiler-rt style code in
        // this unoptimised, non-F16C test build): an independent check of the references.
        var bad = 0
        for h in Self.allPatterns {
            let f = Float(Float16(bitPattern: h))
            if !f.isNaN && f.bitPattern != Self.referenceWiden16(h) { bad += 1 }
        }
        XCTAssertEqual(bad, 0)
        var rng = SplitMix64(seed: 16)
        for i in 0..<200_000 {
            let x = Float(bitPattern: i < 100_000 ? UInt32(truncatingIfNeeded: rng.next()) : UInt32(0x3300_0000 + i * 331))
            if x.isNaN { continue }
            let want = Float16(x).bitPattern
            if want != Self.referenceNarrow16(x) { XCTFail("\(x) \(hex(x.bitPattern)): runtime \(hex(want)), reference \(hex(Self.referenceNarrow16(x)))"); return }
        }
    }

    func testWideningIsExactForEveryPattern() {
        let want16 = Self.allPatterns.map(Self.referenceWiden16)
        let wantBF = Self.allPatterns.map(Self.referenceWidenBF16)
        XCTAssertEqual(tables.count, KernelTier.available.count)
        for t in tables {
            for (dtype, want) in [(ConvDType.float16, want16), (.bfloat16, wantBF)] {
                let got = widen(t, dtype, Self.allPatterns)
                let bad = zip(got, want).enumerated().filter { $0.element.0 != $0.element.1 }
                XCTAssert(bad.isEmpty, "\(t.tier) \(dtype.name): \(bad.count) patterns differ, first \(bad.first.map { "\(hex($0.offset)) -> \(hex($0.element.0)), expected \(hex($0.element.1))" } ?? "")")
            }
        }
    }

    func testEveryPatternRoundTrips() {
        // Narrowing a widened pattern gives it back (a NaN made quiet).
        for t in tables {
            for (dtype, quiet) in [(ConvDType.float16, UInt16(0x0200)), (.bfloat16, UInt16(0x0040))] {
                let widened = widen(t, dtype, Self.allPatterns).map { Float(bitPattern: $0) }
                let back = narrow(t, dtype, widened)
                for (h, b) in zip(Self.allPatterns, back) {
                    let isNaN = widened[Int(h)].isNaN
                    if b != (isNaN ? h | quiet : h) {
                        XCTFail("\(t.tier) \(dtype.name): \(hex(h)) -> \(hex(b))"); break
                    }
                }
            }
        }
    }

    // MARK: - Narrowing: every rounding boundary

    /// For every pair of adjacent finite patterns of one sign: the midpoint (a tie: the even
    /// pattern), the float32 values just below and above it, and both endpoints; for the
    /// largest finite value, the same against the next power of two (ties and beyond go to
    /// infinity).
    func boundaryCases(mantissaBits: Int, bias: Int) -> [Float] {
        let expAll = Int((UInt16(0x7FFF) >> mantissaBits) << mantissaBits)
        var xs: [Float] = []
        for sign in [1.0, -1.0] {
            for p in 0..<expAll {
                let a = Self.value(UInt16(p), mantissaBits: mantissaBits, bias: bias)
                let b = Self.value(UInt16(p + 1), mantissaBits: mantissaBits, bias: bias)
                let mid = Float((a + b) / 2)  // exact: one more significant bit than the format
                XCTAssertEqual(Double(mid), (a + b) / 2)
                xs += [Float(sign * a), Float(sign) * mid, Float(sign) * mid.nextDown, Float(sign) * mid.nextUp]
            }
        }
        return xs
    }

    func testNarrowingRoundsToNearestEvenAtEveryBoundary() {
        for (dtype, m, bias) in [(ConvDType.float16, 10, 15), (.bfloat16, 7, 127)] {
            let xs = boundaryCases(mantissaBits: m, bias: bias)
            let want = xs.map { Self.referenceNarrow($0, mantissaBits: m, bias: bias) }
            for t in tables {
                let got = narrow(t, dtype, xs)
                let bad = xs.indices.filter { got[$0] != want[$0] }
                XCTAssert(bad.isEmpty, "\(t.tier) \(dtype.name): \(bad.count) of \(xs.count) differ, first \(bad.first.map { "\(xs[$0]) (\(hex(xs[$0].bitPattern))) -> \(hex(got[$0])), expected \(hex(want[$0]))" } ?? "")")
            }
        }
    }

    func testNarrowingEdgeCases() {
        let inf = Float.infinity
        let cases16: [(Float, UInt16)] = [
            (0, 0x0000), (-0.0, 0x8000), (1, 0x3C00), (-2, 0xC000),
            (65504, 0x7BFF), (65519.996, 0x7BFF), (65520, 0x7C00), (-65520, 0xFC00), (1e5, 0x7C00),
            (.greatestFiniteMagnitude, 0x7C00), (-.greatestFiniteMagnitude, 0xFC00), (inf, 0x7C00), (-inf, 0xFC00),
            (0x1p-24, 0x0001), (0x1p-25, 0x0000), (Float(0x1p-25).nextUp, 0x0001), (-0x1p-25, 0x8000),
            (0x1.8p-24, 0x0002), (0x1p-14, 0x0400), (Float(0x1p-14).nextDown, 0x0400), (0x1.ffcp-15, 0x0400), (0x1.ff8p-15, 0x03FF),
            (0x1.ff0p-15, 0x03FE), (.leastNonzeroMagnitude, 0x0000), (-.leastNonzeroMagnitude, 0x8000),
            (.leastNormalMagnitude, 0x0000), (1 + 0x1p-11, 0x3C00), (1 + 0x1.8p-10, 0x3C02), (Float(1 + 0x1p-11).nextUp, 0x3C01),
            (.nan, 0x7E00), (-.nan, 0xFE00), (Float(bitPattern: 0x7F80_0001), 0x7E00), (Float(bitPattern: 0xFFC1_2345), 0xFE09),
        ]
        let casesBF: [(Float, UInt16)] = [
            (0, 0x0000), (-0.0, 0x8000), (1, 0x3F80), (Float(bitPattern: 0x3F80_8000), 0x3F80), (Float(bitPattern: 0x3F81_8000), 0x3F82),
            (Float(bitPattern: 0x3F80_8001), 0x3F81), (.greatestFiniteMagnitude, 0x7F80), (Float(bitPattern: 0x7F7F_7FFF), 0x7F7F),
            (Float(bitPattern: 0x7F7F_8000), 0x7F80), (-.greatestFiniteMagnitude, 0xFF80), (inf, 0x7F80), (-inf, 0xFF80),
            (.leastNonzeroMagnitude, 0x0000), (Float(bitPattern: 0x0000_8000), 0x0000), (Float(bitPattern: 0x0001_8000), 0x0002),
            (Float(bitPattern: 0x0000_8001), 0x0001), (Float(bitPattern: 0x807F_FFFF), 0x8080),
            (.nan, 0x7FC0), (-.nan, 0xFFC0), (Float(bitPattern: 0x7F80_0001), 0x7FC0), (Float(bitPattern: 0x7FA1_2345), 0x7FE1),
        ]
        for t in tables {
            for (dtype, cases) in [(ConvDType.float16, cases16), (.bfloat16, casesBF)] {
                let got = narrow(t, dtype, cases.map(\.0))
                for (c, g) in zip(cases, got) {
                    XCTAssertEqual(g, c.1, "\(t.tier) \(dtype.name): \(c.0) (\(hex(c.0.bitPattern))) -> \(hex(g)), expected \(hex(c.1))")
                }
            }
        }
        // The references agree with the table above.
        for (x, h) in cases16 { XCTAssertEqual(Self.referenceNarrow16(x), h, "\(x)") }
        for (x, h) in casesBF { XCTAssertEqual(Self.referenceNarrowBF16(x), h, "\(x)") }
    }

    func testNarrowingRandomAndSweptPatterns() {
        // Random float32 bit patterns (every class: NaNs, subnormals, huge), values near 1,
        // and a sweep across all 2^32 patterns in steps of 4099: every tier against the
        // references, and the tiers against each other.
        var rng = SplitMix64(seed: 11)
        var xs: [Float] = (0..<150_000).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
        xs += (0..<50_000).map { _ in Float.random(in: -4...4, using: &rng) }
        xs += stride(from: UInt64(0), to: 1 << 32, by: 4099).map { Float(bitPattern: UInt32($0)) }
        for (dtype, m, bias) in [(ConvDType.float16, 10, 15), (.bfloat16, 7, 127)] {
            let want = xs.map { Self.referenceNarrow($0, mantissaBits: m, bias: bias) }
            for t in tables {
                let got = narrow(t, dtype, xs)
                let bad = xs.indices.filter { got[$0] != want[$0] }
                XCTAssert(bad.isEmpty, "\(t.tier) \(dtype.name): \(bad.count) of \(xs.count) differ, first \(bad.first.map { "\(xs[$0]) (\(hex(xs[$0].bitPattern))) -> \(hex(got[$0])), expected \(hex(want[$0]))" } ?? "")")
            }
        }
    }

    func testSampledWideningIsTheWideningOfEveryStrideth() {
        // Strides 1-3 (2: the vector path of 16 samples from 32 loads, its overlapping last
        // step, the lane-by-lane tail when the last 32 values pass `readable`), counts around
        // the vector width, `readable` the exact span or one more: each sample widened
        // exactly, nothing past `count` written.
        for t in tables {
            for stride in 1...3 {
                for count in [0, 1, 15, 16, 17, 28, 31, 32, 33, 47, 100] {
                    for extra in [0, 1] {
                        let readable = count == 0 ? 0 : stride * (count - 1) + 1 + extra
                        let src = (0..<max(readable, 1)).map { UInt16(truncatingIfNeeded: $0 &* 40503 &+ 7) }
                        for bf16 in [false, true] {
                            var wide = [Float](repeating: -7, count: count + 1)
                            src.withUnsafeBufferPointer { s in wide.withUnsafeMutableBufferPointer { d in
                                (bf16 ? t.bfloat16ToFloat32Sampled : t.float16ToFloat32Sampled)(s.baseAddress!, readable, stride,
                                                                                                 d.baseAddress!, count)
                            } }
                            XCTAssertEqual(wide[count].bitPattern, Float(-7).bitPattern)
                            for i in 0..<count {
                                let h = src[i * stride]
                                XCTAssertEqual(wide[i].bitPattern, bf16 ? Self.referenceWidenBF16(h) : Self.referenceWiden16(h),
                                               "stride \(stride) count \(count) readable \(readable) lane \(i) \(t.tier)")
                            }
                        }
                    }
                }
            }
        }
    }

    func testLongAndUnalignedSpans() {
        // Counts around the vector widths, at odd element offsets: nothing outside the span
        // is written.
        for t in tables {
            for count in [0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 1000] {
                for offset in [0, 1, 3] {
                    var src = [UInt16](repeating: 0, count: count + offset)
                    for i in 0..<count { src[offset + i] = UInt16(truncatingIfNeeded: i &* 40503 &+ 7) }
                    var wide = [Float](repeating: -7, count: count + offset + 1)
                    src.withUnsafeBufferPointer { s in wide.withUnsafeMutableBufferPointer { d in
                        t.float16ToFloat32(s.baseAddress! + offset, d.baseAddress! + offset, count)
                    } }
                    XCTAssertEqual(wide[count + offset].bitPattern, Float(-7).bitPattern)
                    for i in 0..<offset { XCTAssertEqual(wide[i], -7) }
                    for i in 0..<count {
                        XCTAssertEqual(wide[offset + i].bitPattern, Self.referenceWiden16(src[offset + i]))
                    }
                    var back = [UInt16](repeating: 0xABCD, count: count + offset + 1)
                    wide.withUnsafeBufferPointer { s in back.withUnsafeMutableBufferPointer { d in
                        t.float32ToBfloat16(s.baseAddress! + offset, d.baseAddress! + offset, count)
                    } }
                    XCTAssertEqual(back[count + offset], 0xABCD)
                    for i in 0..<offset { XCTAssertEqual(back[i], 0xABCD) }
                    for i in 0..<count {
                        XCTAssertEqual(back[offset + i], Self.referenceNarrowBF16(wide[offset + i]))
                    }
                }
            }
        }
    }

    // MARK: - The engine's float16 / bfloat16 plans

    /// Runs `request` (of dtype `dtype`, 16-bit arrays) and the float32 request on the widened
    /// arrays; the half results must be the float32 results rounded once, bit for bit.
    func checkAgainstFloat32(_ request: ConvRequest, _ dtype: ConvDType, _ rng: inout SplitMix64,
                             packed: Bool = false, halfKernel: Bool = false, halfGemm: Bool? = nil,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        var half = request
        half.dtype = dtype
        var single = request
        single.dtype = .float32
        let t = KernelTable.active
        func random(_ shape: [Int]?) -> [UInt16]? {
            guard let shape else { return nil }
            let floats = (0..<shape.reduce(1, *)).map { _ in Float.random(in: -2...2, using: &rng) }
            return narrow(t, dtype, floats)
        }
        let x = random(half.inputShape)!, w = random(half.weightShape)!
        let b = half.op.isBackward ? nil : random(half.biasShape)
        let g = half.op.isBackward ? random(half.gradOutputShape) : nil
        let wide = { (a: [UInt16]?) in a.map { self.widen(t, dtype, $0).map { Float(bitPattern: $0) } } }
        let (x32, w32, b32, g32) = (wide(x)!, wide(w)!, wide(b), wide(g))

        let plan16 = try w.withUnsafeBytes { try ConvPlan(half, weight: packed ? $0.baseAddress : nil) }
        let plan32 = try ConvPlan(single)
        let converting = plan16.steps.contains { if case .halfKernel = $0 { return true }; return false }
        let gemm = plan16.steps.contains { if case .halfGemm = $0 { return true }; return false }
        XCTAssertEqual(converting, halfKernel, "\(half.opName) \(plan16.explanation)", file: file, line: line)
        if let halfGemm { XCTAssertEqual(gemm, halfGemm, "\(half.opName) \(plan16.explanation)", file: file, line: line) }
        // (a GEMM that packs the half weights itself, without a bias, widens nothing up front)
        XCTAssertTrue(gemm || plan16.explanation.contains("\(dtype.name) -> float32"), plan16.explanation, file: file, line: line)
        // A half kernel writing result 0 rounds it tile by tile; the half weight gradient's
        // float32 result is narrowed with the others.
        let writesTiles = plan16.steps.contains { if case .halfKernel(_, let k, _) = $0 { return !k.isWeightGradient }; return false }
        XCTAssertTrue(plan16.explanation.contains(writesTiles ? "rounded to nearest even as each tile is written back"
                                                  : gemm ? "widened chunk by chunk into the GEMM's float32 B operand"
                                                  : "float32 -> \(dtype.name)"), plan16.explanation, file: file, line: line)
        let shapes = plan32.geometry.resultShapes
        let counts = shapes.map { ($0 ?? [0]).reduce(1, *) }

        /// The results of `plan` on these arrays, as raw bytes per result (empty if absent).
        func run<E>(_ plan: ConvPlan, _ arrays: [[E]?], _: E.Type) throws -> [[UInt8]] {
            let size = MemoryLayout<E>.stride
            let outs = counts.map { UnsafeMutableRawPointer.allocate(byteCount: max($0, 1) * size, alignment: 64) }
            defer { outs.forEach { $0.deallocate() } }
            let ins = arrays.map { a -> UnsafeMutableRawPointer? in
                guard let a else { return nil }
                let p = UnsafeMutableRawPointer.allocate(byteCount: max(a.count, 1) * size, alignment: 64)
                a.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                return p
            }
            defer { ins.forEach { $0?.deallocate() } }
            try ConvEngine.execute(plan, .init(input: ins[0].map { UnsafeRawPointer($0) }, weight: ins[1].map { UnsafeRawPointer($0) },
                                               bias: ins[2].map { UnsafeRawPointer($0) }, gradOutput: ins[3].map { UnsafeRawPointer($0) },
                                               outputs: shapes.indices.map { shapes[$0] == nil ? nil : outs[$0] }))
            return shapes.indices.map { i in
                shapes[i] == nil ? [] : Array(UnsafeRawBufferPointer(start: outs[i], count: counts[i] * size))
            }
        }
        let got32 = try run(plan32, [x32, w32, b32, g32], Float.self)
        let got16 = try run(plan16, [x, w, b, g], UInt16.self)
        for i in shapes.indices where shapes[i] != nil {
            let floats = got32[i].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            let want = narrow(t, dtype, floats)
            let have = got16[i].withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
            XCTAssertEqual(have, want, "\(half.opName) \(dtype.name) \(half.algorithm) result \(i): not the float32 result rounded once", file: file, line: line)
        }
    }

    func testHalfPlansAreTheFloat32PlanRoundedOnce() throws {
        var rng = SplitMix64(seed: 3)
        for dtype in [ConvDType.float16, .bfloat16] {
            for rank in 1...3 {
                for op in ConvOp.allCases {
                    for algorithm in generalAlgorithms(op).map(\.rawValue) {
                        let sp = Array([5, 6, 7].prefix(rank))
                        let transposed = op.isTransposed
                        var r = ConvRequest(op: op, spatialRank: rank, inputShape: [2, 4] + sp,
                                            weightShape: transposed ? [4, 3] + Array(repeating: 2, count: rank)
                                                                    : [6, 2] + Array(repeating: 3, count: rank))
                        r.groups = 2
                        r.stride = Array(repeating: 2, count: rank)
                        r.padding = .symmetric(Array(repeating: 1, count: rank))
                        r.algorithm = op.isBackward ? "auto" : algorithm
                        if !op.isBackward { r.biasShape = [transposed ? 6 : 6] }
                        if !transposed { r.paddingMode = rank == 2 ? .reflect : .zeros }
                        if op.isBackward {
                            var f = r
                            f.op = transposed ? .convTranspose : .conv
                            r.gradOutputShape = try ConvGeometry(validating: f).resultShapes[0]!
                            r.outputMask = (true, true, true)
                        }
                        try checkAgainstFloat32(r, dtype, &rng)
                        if !op.isBackward && algorithm == "auto" { try checkAgainstFloat32(r, dtype, &rng, packed: true) }
                    }
                }
            }
        }
    }

    /// The kernels that convert their own tiles (`.halfKernel`: depthwise forward and adjoint,
    /// direct planes with one input channel per group) give the float32 result of the widened
    /// arrays rounded once, bit for bit, for every op that runs them alone, on every tier, for
    /// 1 and 3 threads; with another step (weight gradient, border padding, depth lowering)
    /// the plan keeps the widen / narrow passes.
    func testHalfKernelsAreTheFloat32PlanRoundedOnce() throws {
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        var rng = SplitMix64(seed: 11)
        // (channels out, channels in, plane, kernel, stride, padding, dilation, batch; whether
        // the forward ops (conv, conv_transpose's grad_input), the adjoint ops (conv_transpose,
        // conv's grad_input) and conv's weight gradient convert in the kernel)
        let cases: [(Int, Int, [Int], Int, Int, Int, Int, Int, Bool, Bool, Bool)] = [
            (20, 20, [9, 30], 3, 2, 1, 1, 2, true, true, true),     // depthwise, wide rows, stride 2
            (33, 33, [5, 7], 3, 1, 2, 2, 1, true, true, true),      // narrow planes (staged interleave), dilation
            (17, 17, [14, 14], 5, 1, 2, 1, 2, true, true, true),    // whole planes per tile
            (16, 16, [40, 40], 3, 2, 1, 1, 1, true, true, true),    // several row blocks per plane
            (24, 24, [6, 58], 3, 1, 1, 1, 2, true, true, true),     // plain 3x3, 56+ wide: direct planes
            (24, 12, [6, 57], 3, 1, 1, 1, 1, true, false, true),    // depth multiplier 2 (no direct adjoint)
        ]
        for tier in KernelTier.available {
            try withTier(tier) {
                for dtype in [ConvDType.float16, .bfloat16] {
                    for (co, ci, plane, k, st, pad, dil, n, forwardConverts, adjointConverts, gradientConverts) in cases {
                        for op in ConvOp.allCases {
                            let transposed = op.isTransposed
                            if transposed && co != ci { continue }
                            var r = ConvRequest(op: op, spatialRank: 2, inputShape: [n, transposed ? co : ci] + plane,
                                                weightShape: [co, 1, k, k])
                            r.groups = ci
                            r.stride = [st, st]
                            r.padding = .symmetric([pad, pad])
                            r.dilation = [dil, dil]
                            if !op.isBackward { r.biasShape = [co] }
                            if op.isBackward {
                                var f = r
                                f.op = transposed ? .convTranspose : .conv
                                r.gradOutputShape = try ConvGeometry(validating: f).resultShapes[0]!
                                r.outputMask = (true, false, false)
                            }
                            let runsForward = op == .conv || op == .convTransposeBackward
                            for threads in [1, 3] {
                                try ThreadPool.shared.setNumThreads(threads)
                                try checkAgainstFloat32(r, dtype, &rng, halfKernel: runsForward ? forwardConverts : adjointConverts)
                                if op.isBackward {
                                    // With the weight gradient too: conv_backward of a depthwise or
                                    // direct-plane conv converts in its kernels when each step does
                                    // (the weight gradient's tiles or planes too, with the bias
                                    // gradient on a widened grad_output); other backward plans keep
                                    // the widen / narrow passes.
                                    let gradient = op == .convBackward && gradientConverts
                                    var both = r
                                    both.outputMask = (true, true, false)
                                    try checkAgainstFloat32(both, dtype, &rng, halfKernel: gradient && adjointConverts)
                                    both.outputMask = (true, true, true)
                                    try checkAgainstFloat32(both, dtype, &rng, halfKernel: gradient && adjointConverts)
                                    both.outputMask = (false, true, false)
                                    try checkAgainstFloat32(both, dtype, &rng, halfKernel: gradient)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The depthwise tile copies of half planes (depthwiseInterleaveFloat16 / ...Bfloat16 and
    /// their inverses) on every tier: the float32 copies of the widened values, the rounded
    /// values of the float32 copies, bit for bit, for every half pattern (NaNs, subnormals,
    /// infinities) and float32 values around every class; full and partial channel blocks,
    /// contiguous and strided rows, counts around the chunk sizes.
    func testDepthwiseHalfCopiesAreTheFloat32CopiesConverted() {
        var rng = SplitMix64(seed: 23)
        let bufferCount = DepthwiseConvolution.halfCopyBufferCount
        for t in tables {
            for dtype in [ConvDType.float16, .bfloat16] {
                let il = dtype == .float16 ? t.depthwiseInterleaveFloat16 : t.depthwiseInterleaveBfloat16
                let dl = dtype == .float16 ? t.depthwiseDeinterleaveFloat16 : t.depthwiseDeinterleaveBfloat16
                for lanes in [16, 5] {
                    for count in [1, 15, 17, 20, 49, 196, 256, 300, 1100] {
                        for stride in [count, count + 3] {
                            let n = (lanes - 1) * stride + count
                            let h = (0..<n).map { _ in UInt16(truncatingIfNeeded: rng.next()) }
                            var buffer = [Float](repeating: 0, count: bufferCount)
                            // Interleave: half rows -> float32 tile.
                            let wide = widen(t, dtype, h).map { Float(bitPattern: $0) }
                            var want = [Float](repeating: 1, count: count * 16), got = want
                            wide.withUnsafeBufferPointer { t.depthwiseInterleaveF32(&want, $0.baseAddress!, stride, lanes, count) }
                            h.withUnsafeBufferPointer { il(&got, $0.baseAddress!, stride, lanes, count, &buffer) }
                            XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern), "\(t.tier) \(dtype.name) interleave \(lanes) \(count) \(stride)")
                            // Deinterleave: float32 tile -> half rows (other elements untouched).
                            let tile = (0..<count * 16).map { _ in
                                Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) >> (rng.next() % 2 == 0 ? 0 : 5))
                            }
                            var planes = [Float](repeating: 0, count: n)
                            tile.withUnsafeBufferPointer { t.depthwiseDeinterleaveF32(&planes, stride, $0.baseAddress!, lanes, count) }
                            var wantHalf = narrow(t, dtype, planes)
                            var gotHalf = [UInt16](repeating: 0xABCD, count: n)
                            for r in 0..<lanes - 1 { for u in count..<stride { wantHalf[r * stride + u] = 0xABCD } }
                            tile.withUnsafeBufferPointer { dl(&gotHalf, stride, $0.baseAddress!, lanes, count, &buffer) }
                            XCTAssertEqual(gotHalf, wantHalf, "\(t.tier) \(dtype.name) deinterleave \(lanes) \(count) \(stride)")
                        }
                    }
                }
            }
        }
    }

    /// The half copies into tile rows (narrow planes' rows straight into a bordered tile) give
    /// the float32 copy's values of the widened rows, on every tier, through both the buffered
    /// and (AVX-512, 16 lanes) the in-register route, whole planes and strided rows.
    func testDepthwiseHalfRowCopiesAreTheFloat32CopiesConverted() {
        var rng = SplitMix64(seed: 29)
        let bufferCount = DepthwiseConvolution.halfCopyBufferCount
        for t in tables {
            for dtype in [ConvDType.float16, .bfloat16] {
                let il = dtype == .float16 ? t.depthwiseInterleaveRowsFloat16 : t.depthwiseInterleaveRowsBfloat16
                for lanes in [16, 3] {
                    for (rowWidth, rows) in [(7, 7), (14, 14), (14, 30), (28, 3)] {
                        let count = rowWidth * rows, rowStride = (rowWidth + 2) * 16
                        for stride in [count, count + 5] {
                            let n = (lanes - 1) * stride + count
                            let h = (0..<n).map { _ in UInt16(truncatingIfNeeded: rng.next()) }
                            var buffer = [Float](repeating: 0, count: bufferCount)
                            let wide = widen(t, dtype, h).map { Float(bitPattern: $0) }
                            var want = [Float](repeating: 1, count: rows * rowStride), got = want
                            wide.withUnsafeBufferPointer {
                                t.depthwiseInterleaveRowsF32(&want, rowStride, rowWidth, $0.baseAddress!, stride, lanes, count)
                            }
                            h.withUnsafeBufferPointer { il(&got, rowStride, rowWidth, $0.baseAddress!, stride, lanes, count, &buffer) }
                            XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern),
                                           "\(t.tier) \(dtype.name) rows \(lanes) \(rowWidth)x\(rows) \(stride)")
                        }
                    }
                }
            }
        }
    }

    func testPreparedHalfPlanKeepsFloat32PackedWeights() throws {
        var r = ConvRequest(op: .conv, spatialRank: 2, inputShape: [1, 16, 8, 8], weightShape: [32, 16, 3, 3])
        r.padding = .symmetric([1, 1])
        r.dtype = .float16
        let w = [UInt16](repeating: 0x3C00, count: 32 * 16 * 9)  // 1.0
        let plan = try w.withUnsafeBytes { try ConvPlan(r, weight: $0.baseAddress) }
        let packed = try XCTUnwrap(plan.packedWeights)
        XCTAssertEqual(packed.dtype, .float16)
        XCTAssertEqual(packed.widenedBytes, 32 * 16 * 9 * 4)
        XCTAssertNotNil(packed.groups(Float.self))
        // The GEMM widens the input chunk by chunk, and the weights were widened at creation:
        // nothing is widened up front.
        guard case .halfGemm(.float16, .forward, .input)? = plan.steps.first, plan.steps.count == 1 else {
            return XCTFail("\(plan.steps)")
        }
        // With another step (a padding mode's padded copy), the widen step leaves the weights out.
        var reflect = r
        reflect.paddingMode = .reflect
        let reflectPlan = try w.withUnsafeBytes { try ConvPlan(reflect, weight: $0.baseAddress) }
        guard case .widen(.float16, let arrays)? = reflectPlan.steps.first else { return XCTFail("\(reflectPlan.steps)") }
        XCTAssertEqual(arrays, [.input])
        XCTAssertTrue(plan.explanation.contains("widened to float32 once"), plan.explanation)
        var f32 = r
        f32.dtype = .float32
        // (7x7: 49 GEMM columns; a float32 prepared plan on 8x8's 64 reads its weights in
        // place, KernelSelector.preparedReadsWeightsInPlace, and packs nothing.)
        f32.inputShape = [1, 16, 7, 7]
        let w32 = [Float](repeating: 1, count: w.count)
        let plan32 = try w32.withUnsafeBytes { try ConvPlan(f32, weight: $0.baseAddress) }
        XCTAssertEqual(plan32.packedWeights?.bytes, packed.bytes)
        // Another shape's plan shares them; a float32 plan does not.
        var bigger = r
        bigger.inputShape = [2, 16, 10, 10]
        XCTAssertTrue(try ConvPlan(bigger, sharing: packed).packedWeights === packed)
        XCTAssertNil(try ConvPlan(f32, sharing: packed).packedWeights)
    }
}
