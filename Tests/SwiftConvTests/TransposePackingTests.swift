@testable import SwiftConv
import XCTest

/// `transposeRows16F32` of every tier this CPU runs (the AVX-512 tier's full blocks are the C
/// `sc_transpose16x16_f32`, the others the Swift lane picks) against the scalar definition,
/// bit for bit, over counts 16...100 (whole blocks, an overlapping last block) and strides.
final class TransposePackingTests: XCTestCase {
    func testTransposeRows16F32EveryTier() {
        var rng = SplitMix64(seed: 41)
        let tables = [KernelTable.avx512, .avx2, .baseline].filter { $0.tier <= CPUFeatures.bestTier }
        for count in 16...100 {
            for extra in [0, 1, 7, 16, 37] {
                let stride = count + extra
                // Values with distinct bit patterns (NaN payloads and signed zeros included) so a
                // misplaced or converted lane cannot go unseen.
                var src = (0..<(16 * stride)).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
                src[0] = -0.0
                for table in tables {
                    var dst = [Float](repeating: 0, count: 16 * count + 16)
                    let guardBits: UInt32 = 0x7FC0_1234
                    for i in (16 * count)..<dst.count { dst[i] = Float(bitPattern: guardBits) }
                    src.withUnsafeBufferPointer { s in
                        dst.withUnsafeMutableBufferPointer { d in
                            table.transposeRows16F32(d.baseAddress!, s.baseAddress!, stride, count)
                        }
                    }
                    for u in 0..<count {
                        for r in 0..<16 where dst[u * 16 + r].bitPattern != src[r * stride + u].bitPattern {
                            XCTFail("\(table.tier) count \(count) stride \(stride): dst[\(u)][\(r)]")
                            return
                        }
                    }
                    XCTAssertTrue(dst[(16 * count)...].allSatisfy { $0.bitPattern == guardBits }, "\(table.tier) wrote past count \(count)")
                }
            }
        }
    }
}
