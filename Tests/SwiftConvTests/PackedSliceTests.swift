@testable import SwiftConv
import XCTest

/// A large A packed by the GEMM itself for a narrow block of columns (a weight-heavy layer
/// on a small plane: packed a slice of rows at a time, each swept right away, the next
/// slice's rows prefetched) against the same product with A packed ahead (`PackedMatrix`,
/// the GotoBLAS blocks of `mc` rows) and read in place (`InPlaceWeights`): the same bits,
/// on every kernel tier this CPU runs, Float and Double, for row ranges that start inside
/// the matrix and are not a multiple of the slice, edge column panels, depths across
/// several depth blocks, C loaded or not, and column counts on both sides of
/// `Gemm.packedSliceMaxColumns`.
final class PackedSliceTests: XCTestCase {
    func compare<T: ConvScalar>(_: T.Type, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let kc = KernelTable.active.blocking.kc(T.self)
        let depth = 2 * kc + 37
        // Packed A above `smallABytes`: the GotoBLAS path.
        let m = KernelTable.active.blocking.smallABytes / (depth * MemoryLayout<T>.stride) + 31
        // (Few column counts: a debug build runs this GEMM slowly.)
        for n in [1, 49, Gemm.packedSliceMaxColumns + 40] {
            let aData: [T] = randomArray(m * depth, &rng), bData: [T] = randomArray(depth * n, &rng)
            let c0: [T] = randomArray(m * n, &rng)
            let accumulate = Bool.random(using: &rng)
            let rows = [0..<m, 6..<(m - 5), 12..<(m - 1)].randomElement(using: &rng)!
            let results: [[T]] = aData.withUnsafeBufferPointer { ap in bData.withUnsafeBufferPointer { bp in
                let a = StridedMatrix(base: ap.baseAddress!, rowStride: depth, colStride: 1)
                let b = StridedMatrix(base: bp.baseAddress!, rowStride: n, colStride: 1)
                let packed = Gemm.packA(a, rows: 0..<m, depth: depth)
                func run<A: GemmOperand>(_ op: A) -> [T] where A.Scalar == T {
                    var c = c0
                    c.withUnsafeMutableBufferPointer { cp in
                        Gemm.multiply(op, b, rows: rows, cols: 0..<n, depth: depth, c: cp.baseAddress! + rows.lowerBound * n, ldc: n,
                                      accumulate: accumulate)
                    }
                    return c
                }
                return [run(a), run(packed), run(InPlaceWeights(base: ap.baseAddress!, lda: depth))]
            } }
            let label = "\(T.self) \(KernelTable.active.tier) m \(m) rows \(rows) n \(n) depth \(depth) accumulate \(accumulate)"
            XCTAssertTrue(bitwiseEqual(results[0], results[1]), "packed in slices vs packed ahead: \(label)")
            XCTAssertTrue(bitwiseEqual(results[0], results[2]), "packed in slices vs in place: \(label)")
            XCTAssertFalse(bitwiseEqual(results[0], c0), "nothing computed: \(label)")
        }
    }

    func testSlicesMatchPackedAhead() {
        for tier in KernelTier.available {
            withTier(tier) {
                compare(Float.self, seed: 41)
                if tier == KernelTier.available.last { compare(Double.self, seed: 42) }  // the best tier
            }
        }
    }
}
