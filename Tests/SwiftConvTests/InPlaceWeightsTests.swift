@testable import SwiftConv
import XCTest

/// The GEMM with A read in place (`InPlaceWeights`, InPlaceWeightKernels.swift) against the
/// packed paths: the same bits as A packed by the GEMM itself and as A packed ahead
/// (`PackedMatrix`, what prepared weights use), on every kernel tier this CPU runs, Float
/// and Double, with B read in place (a row-major matrix: full panels in place, the partial
/// last panel packed) and B packed (a column-major matrix); row counts that are not a
/// multiple of the 6- or 12-row tiles, column counts that are not a multiple of the panel
/// width (1-column edges of the packed path: the AVX-512 build's 8-panel narrow kernel,
/// 48 and 55 rows a whole and a partial group of 8 panels; on the AVX-512 tier the partial
/// panel of the in-place path goes through the rows-in-lanes C kernel), depths across a
/// depth block, and C loaded (accumulate) or not.
final class InPlaceWeightsTests: XCTestCase {

    func compare<T: ConvScalar>(_: T.Type, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var rng = SplitMix64(seed: seed)
        let kc = KernelTable.active.blocking.kc(T.self)
        var cases: [(m: Int, n: Int, depth: Int)] = []
        for m in [1, 5, 6, 7, 11, 12, 13, 17, 24, 25, 37, 48, 55] {
            for n in [1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 49, 65, 81] {
                cases.append((m, n, [1, 3, 33, 161, kc + 1].randomElement(using: &rng)!))
            }
        }
        cases += [(160, 49, 576), (64, 196, 96), (30, 49, 2 * kc + 7)]
        // The AVX-512 tier's rows-in-lanes edge kernel (swiftconv_inplace_edge.h): whole
        // 16 x 16 blocks (rows and depth multiples of 16), several 48-row chunks with a
        // short last one, 1-15 edge columns, no full panel at all.
        cases += [(64, 56, 320), (100, 63, 2 * kc + 5), (16, 1, 16), (49, 52, 47), (112, 392, 160), (33, 12, 64)]
        for (m, n, depth) in cases {
            let aData: [T] = randomArray(m * depth + 3, &rng)
            let bData: [T] = randomArray(depth * n, &rng)
            let c0: [T] = randomArray(m * (n + 2), &rng)
            let ldc = n + 2
            let accumulate = Bool.random(using: &rng)
            let rowMajorB = Bool.random(using: &rng)
            // A offset by 3 elements: its rows need not be aligned.
            let results: [[T]] = aData.withUnsafeBufferPointer { ap in bData.withUnsafeBufferPointer { bp in
                let a = ap.baseAddress! + 3
                let b = rowMajorB ? StridedMatrix(base: bp.baseAddress!, rowStride: n, colStride: 1)
                                  : StridedMatrix(base: bp.baseAddress!, rowStride: 1, colStride: depth)
                let packed = Gemm.packA(StridedMatrix(base: a, rowStride: depth, colStride: 1), rows: 0..<m, depth: depth)
                func run<A: GemmOperand>(_ op: A) -> [T] where A.Scalar == T {
                    var c = c0
                    c.withUnsafeMutableBufferPointer { cp in
                        Gemm.multiply(op, b, rows: 0..<m, cols: 0..<n, depth: depth, c: cp.baseAddress!, ldc: ldc, accumulate: accumulate)
                    }
                    return c
                }
                return [run(InPlaceWeights(base: a, lda: depth)), run(StridedMatrix(base: a, rowStride: depth, colStride: 1)), run(packed)]
            } }
            let label = "\(T.self) \(KernelTable.active.tier) m \(m) n \(n) depth \(depth) accumulate \(accumulate) rowMajorB \(rowMajorB)"
            XCTAssertTrue(bitwiseEqual(results[0], results[1]), "in place vs packed by the GEMM: \(label)", file: file, line: line)
            XCTAssertTrue(bitwiseEqual(results[0], results[2]), "in place vs packed ahead: \(label)", file: file, line: line)
            // The padding columns of C are untouched.
            for i in 0..<m { for j in n..<ldc where results[0][i * ldc + j] != c0[i * ldc + j] {
                XCTFail("column \(j) of row \(i) written: \(label)", file: file, line: line)
            } }
        }
    }

    /// Sub-ranges of rows and columns (a thread's row block, a column tile): the same bits as
    /// the whole product's.
    func compareTiles<T: ConvScalar>(_: T.Type, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let m = 41, n = 53, depth = 300
        let aData: [T] = randomArray(m * depth, &rng), bData: [T] = randomArray(depth * n, &rng)
        aData.withUnsafeBufferPointer { ap in bData.withUnsafeBufferPointer { bp in
            let a = InPlaceWeights(base: ap.baseAddress!, lda: depth)
            let b = StridedMatrix(base: bp.baseAddress!, rowStride: n, colStride: 1)
            var whole = [T](repeating: 0, count: m * n), tiled = [T](repeating: 0, count: m * n)
            whole.withUnsafeMutableBufferPointer { cp in
                Gemm.multiply(a, b, rows: 0..<m, cols: 0..<n, depth: depth, c: cp.baseAddress!, ldc: n, accumulate: false)
            }
            tiled.withUnsafeMutableBufferPointer { cp in
                for rows in [0..<13, 13..<24, 24..<41] {
                    for cols in [0..<17, 17..<49, 49..<53] {
                        Gemm.multiply(a, b, rows: rows, cols: cols, depth: depth,
                                      c: cp.baseAddress! + rows.lowerBound * n + cols.lowerBound, ldc: n, accumulate: false)
                    }
                }
            }
            XCTAssertTrue(bitwiseEqual(whole, tiled), "\(T.self) \(KernelTable.active.tier): tiles differ from the whole product")
        } }
    }

    func testInPlaceMatchesPackedOnEveryTier() {
        for tier in KernelTier.available {
            withTier(tier) {
                compare(Float.self, seed: 101 + UInt64(tier.rawValue))
                compare(Double.self, seed: 201 + UInt64(tier.rawValue))
                compareTiles(Float.self, seed: 301 + UInt64(tier.rawValue))
                compareTiles(Double.self, seed: 401 + UInt64(tier.rawValue))
            }
        }
    }

    /// A whole convolution whose plan reads the weights in place against the same
    /// convolution with the weights packed ahead, batch 1 and a folded batch of 2, at 1, 2
    /// and 3 threads (the threads split the rows: partial slabs; 49 = 3 x 16 + 1, 98 and 196 =
    /// 12 x 16 + 4 columns: partial column panels).
    func testConvolutionInPlaceMatchesPacked() throws {
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        var rng = SplitMix64(seed: 7)
        for (cin, cout, hw, k) in [(37, 29, 7, 1), (20, 13, 7, 3), (64, 50, 14, 1)] {
            for batch in [1, 2] {
                let s = ConvShape(batch: batch, groups: 1, inChannels: cin, outChannels: cout, inHeight: hw, inWidth: hw,
                                  outHeight: hw, outWidth: hw, kernelHeight: k, kernelWidth: k, padTop: k / 2, padLeft: k / 2)
                XCTAssertTrue(KernelSelector.readsWeightsInPlace(s), "\(cin)->\(cout) \(hw)x\(hw) k\(k) N\(batch)")
                let x: [Float] = randomArray(s.inputCount, &rng), w: [Float] = randomArray(s.weightCount, &rng)
                let bias: [Float] = randomArray(cout, &rng)
                var plain = [Float](repeating: 0, count: s.outputCount), prepared = plain
                x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
                    let packed = [Gemm.packA(StridedMatrix(base: wp.baseAddress!, rowStride: s.patchSize, colStride: 1),
                                             rows: 0..<cout, depth: s.patchSize)]
                    prepared.withUnsafeMutableBufferPointer { yp in
                        Im2colConvolution.forward(s, x: xp.baseAddress!, w: wp.baseAddress!, bias: bp.baseAddress!, y: yp.baseAddress!,
                                                  packed: packed)
                    }
                } } }
                for threads in 1...3 {
                    try ThreadPool.shared.setNumThreads(threads)
                    plain = [Float](repeating: .nan, count: s.outputCount)  // an element left unwritten fails
                    x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
                        plain.withUnsafeMutableBufferPointer { yp in
                            Im2colConvolution.forward(s, x: xp.baseAddress!, w: wp.baseAddress!, bias: bp.baseAddress!, y: yp.baseAddress!)
                        }
                    } } }
                    XCTAssertTrue(bitwiseEqual(plain, prepared), "\(cin)->\(cout) \(hw)x\(hw) k\(k) N\(batch) threads \(threads)")
                }
            }
        }
    }
}

func bitwiseEqual<T>(_ a: [T], _ b: [T]) -> Bool {
    a.count == b.count && a.withUnsafeBytes { ra in b.withUnsafeBytes { rb in ra.elementsEqual(rb) } }
}
