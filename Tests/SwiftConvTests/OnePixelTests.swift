@testable import SwiftConv
import XCTest

/// The few-column dot products (FewColumnKernels.swift) on every kernel tier: the row blocks
/// (16 Float / 8 Double short rows summed across at once, `rowBlock`) give bit for bit what
/// the dot tiles give for the same rows one at a time, whatever the batch, and the AVX-512
/// and AVX2 builds agree bit for bit.
final class OnePixelTests: XCTestCase {
    /// y (cols x rows, column-major as the kernels write it) of one tier's dotRows.
    func dot<T: ConvScalar>(_ table: KernelTable, _ rows: Int, _ cols: Int, _ depth: Int, _ w: [T], _ x: [T], _ bias: [T]?) -> [T] {
        var y = [T](repeating: T(-7), count: rows * cols)
        w.withUnsafeBufferPointer { w in x.withUnsafeBufferPointer { x in y.withUnsafeMutableBufferPointer { y in
            let b = bias?.withUnsafeBufferPointer { $0.baseAddress! }
            switch T.kind {
            case .float32:
                table.dotRowsF32(rows, cols, depth, cast(w.baseAddress!), depth, cast(x.baseAddress!), depth,
                                 b.map { cast($0) }, castMutable(y.baseAddress!), rows)
            case .float64:
                table.dotRowsF64(rows, cols, depth, cast(w.baseAddress!), depth, cast(x.baseAddress!), depth,
                                 b.map { cast($0) }, castMutable(y.baseAddress!), rows)
            }
        } } }
        return y
    }

    func bits<T>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }

    func rowBlocks<T: ConvScalar>(_: T.Type, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let tables = KernelTier.available.map { KernelTable($0) }
        for depth in [1, 3, 4, 6, 8, 10, 15, 16, 17, 20, 28, 31, 32, 33, 48, 63, 64] {
            let rows = Int.random(in: 1...70, using: &rng), cols = Int.random(in: 1...9, using: &rng)
            var w: [T] = randomArray(rows * depth, &rng)
            let x: [T] = randomArray(cols * depth, &rng)
            let bias: [T]? = Bool.random(using: &rng) ? randomArray(rows, &rng) : nil
            // An infinity in one row must not reach the others (the rows' partial last
            // vectors are full loads, the lanes past the row cleared).
            let poisoned = Int.random(in: 0..<rows, using: &rng)
            w[poisoned * depth + Int.random(in: 0..<depth, using: &rng)] = T.infinity
            var results: [[T]] = []
            for table in tables {
                let y = dot(table, rows, cols, depth, w, x, bias)
                for r in 0..<rows {
                    // One row alone: the dot tiles (fewer rows than a block).
                    let one = dot(table, 1, cols, depth, Array(w[r * depth ..< (r + 1) * depth]), x, bias.map { [$0[r]] })
                    for j in 0..<cols {
                        XCTAssertEqual(bits(y[j * rows + r]), bits(one[j]),
                                       "\(table.tier) \(T.self) rows \(rows) cols \(cols) depth \(depth) row \(r) col \(j)")
                        if r != poisoned { XCTAssertTrue(y[j * rows + r].isFinite) }
                    }
                }
                // Each column alone (the batch cut): the same bits.
                for j in 0..<cols {
                    let alone = dot(table, rows, 1, depth, w, Array(x[j * depth ..< (j + 1) * depth]), bias)
                    XCTAssertEqual(alone.map(bits), y[j * rows ..< (j + 1) * rows].map(bits))
                }
                results.append(y)
            }
            // AVX-512 and AVX2 (both fused) sum in the same order: the same bits.
            if let i = tables.firstIndex(where: { $0.tier == .avx2 }), let k = tables.firstIndex(where: { $0.tier == .avx512 }) {
                XCTAssertEqual(results[i].map(bits), results[k].map(bits), "depth \(depth)")
            }
        }
    }

    /// "auto" names the dot products ("dot") on a 1x1 plane (reduce layers, and expand rows
    /// up to `onePixelShortDepth`) whatever the batch; a named "im2col" is the GEMM; "dot"
    /// named on another shape throws; the upsample formulation's inner conv on a 1x1 plane
    /// stays "im2col" (its one-pixel adjoint sums in the GEMM's order).
    func testSelection() {
        func plane(_ cin: Int, _ cout: Int, _ size: Int, groups: Int = 1, batch: Int = 1) -> ConvShape {
            ConvShape(batch: batch, groups: groups, inChannels: cin, outChannels: cout, inHeight: size, inWidth: size,
                      outHeight: size, outWidth: size, kernelHeight: 1, kernelWidth: 1)
        }
        for (cin, cout, groups) in [(1152, 48, 1), (672, 28, 1), (48, 1152, 1), (28, 672, 1), (64, 200, 1), (256, 512, 4)] {
            for batch in [1, 8, 64] {
                let one = plane(cin, cout, 1, groups: groups, batch: batch)
                XCTAssertEqual(KernelSelector.forward(one, .auto), .dot, "\(one)")
                XCTAssertEqual(KernelSelector.forward(one, .im2col), .im2col, "\(one)")
                XCTAssertEqual(KernelSelector.forward(one, .dot), .dot, "\(one)")
                XCTAssertEqual(KernelSelector.forward(plane(cin, cout, 2, groups: groups, batch: batch), .auto), .im2col)
            }
        }
        XCTAssertEqual(KernelSelector.forward(plane(65, 200, 1), .auto), .im2col)
        XCTAssertEqual(KernelSelector.upsampleInner(plane(1152, 48, 1)), .im2col)
        XCTAssertEqual(KernelSelector.upsampleInner(plane(48, 1152, 1)), .im2col)
        XCTAssertNoThrow(try KernelSelector.checkNamed(.dot, plane(64, 8, 1), op: "conv2d"))
        XCTAssertThrowsError(try KernelSelector.checkNamed(.dot, plane(64, 8, 2), op: "conv2d"))
        XCTAssertNoThrow(try KernelSelector.checkNamed(.im2col, plane(64, 8, 2), op: "conv2d"))
        XCTAssertEqual(ConvAlgorithm.valid(for: .conv).contains(.dot), true)
        XCTAssertEqual(ConvAlgorithm.valid(for: .convTranspose).contains(.dot), false)
    }

    func testRowBlocksFloat() { rowBlocks(Float.self, seed: 21) }
    func testRowBlocksDouble() { rowBlocks(Double.self, seed: 22) }
}

/// The algorithms of `op` that compute every shape: all but "dot" (1x1 convs of one input
/// pixel only; an error elsewhere, `KernelSelector.checkNamed`; OnePixelTests and the Python
/// suite run it). For the tests that run every algorithm on their own shapes.
func generalAlgorithms(_ op: ConvOp) -> [ConvAlgorithm] {
    ConvAlgorithm.valid(for: op).filter { $0 != .dot }
}
