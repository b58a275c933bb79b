@testable import SwiftConv
import XCTest

/// The padded-grid forward (`PaddedGridConvolution`: the unfolded input read in place from
/// the zero-padded copy through a table of row offsets) gives bitwise the results of the
/// packed im2col path, forced onto shapes the planner would not pick too (odd widths,
/// dilation, groups, kernels up to 5x5, bias or none, batches, 1 and 2 threads).
final class PaddedGridTests: XCTestCase {
    /// (batch, inChannels, outChannels, height, width, kernel, padding, dilation, groups).
    static let shapes: [(Int, Int, Int, Int, Int, Int, Int, Int, Int)] = [
        (1, 3, 5, 9, 61, 3, 1, 1, 1), (2, 6, 13, 11, 30, 3, 2, 2, 1), (3, 8, 6, 7, 17, 3, 1, 1, 2),
        (1, 4, 25, 6, 45, 5, 2, 1, 1), (2, 16, 40, 5, 7, 3, 1, 1, 1), (1, 7, 7, 12, 33, 3, 1, 2, 7),
        (1, 70, 30, 4, 58, 3, 1, 1, 1),
    ]

    func testGridMatchesPackedPathBitwise() throws {
        guard KernelTable.active.sgemmBlockOffsetRowsB != nil else { throw XCTSkip("no AVX-512 block function on this CPU") }
        var rng = SplitMix64(seed: 41)
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        for (n, ci, co, h, w, k, pad, dil, g) in Self.shapes {
            let out = { (size: Int) in size + 2 * pad - dil * (k - 1) }
            let s = ConvShape(batch: n, groups: g, inChannels: ci, outChannels: co, inHeight: h, inWidth: w,
                              outHeight: out(h), outWidth: out(w), kernelHeight: k, kernelWidth: k,
                              dilationH: dil, dilationW: dil, padTop: pad, padLeft: pad)
            guard let p = Im2colConvolution.paddedShape(s) else { XCTFail("no padded copy for \(s)"); continue }
            let x: [Float] = randomArray(s.inputCount, &rng), wt: [Float] = randomArray(s.weightCount, &rng)
            let bias: [Float] = randomArray(co, &rng)
            for withBias in [true, false] {
                // The packed path: a table without the offset-row block function.
                let saved = KernelTable.active
                KernelTable.active = GemmBenchmark.table(saved, blocking: saved.blocking, packB: true)
                let packed = forward(s, p, x, wt, withBias ? bias : nil, grid: false)
                KernelTable.active = saved
                for threads in [1, 2] {
                    try ThreadPool.shared.setNumThreads(threads)
                    let grid = forward(s, p, x, wt, withBias ? bias : nil, grid: true)
                    XCTAssertEqual(grid.map(\.bitPattern), packed.map(\.bitPattern), "\(s) bias \(withBias) threads \(threads)")
                }
            }
        }
    }

    /// The forward on the padded copy: through `PaddedGridConvolution` (`grid`) or the
    /// packed im2col path.
    func forward(_ s: ConvShape, _ p: ConvShape, _ x: [Float], _ w: [Float], _ b: [Float]?, grid: Bool) -> [Float] {
        let y = UnsafeMutablePointer<Float>.allocate(capacity: s.outputCount)
        let copy = UnsafeMutablePointer<Float>.allocate(capacity: p.inputCount + PaddedGridConvolution.slack)
        let xb = UnsafeMutablePointer<Float>.allocate(capacity: x.count), wb = UnsafeMutablePointer<Float>.allocate(capacity: w.count)
        let bb = b.map { v -> UnsafeMutablePointer<Float> in
            let q = UnsafeMutablePointer<Float>.allocate(capacity: v.count); q.initialize(from: v, count: v.count); return q
        }
        defer { y.deallocate(); copy.deallocate(); xb.deallocate(); wb.deallocate(); bb?.deallocate() }
        y.initialize(repeating: .nan, count: s.outputCount)
        copy.initialize(repeating: .nan, count: p.inputCount + PaddedGridConvolution.slack)
        xb.initialize(from: x, count: x.count); wb.initialize(from: w, count: w.count)
        let cog = s.outChannelsPerGroup, k = s.patchSize
        Im2colConvolution.pad(s, x: xb, into: p, copy)
        let weights = { (g: Int) in StridedMatrix(base: UnsafePointer(wb) + g * cog * k, rowStride: k, colStride: 1) }
        let bias = bb.map { UnsafePointer($0) }
        if grid {
            let tiling = Im2colConvolution.Tiling(elementBytes: 4, cog: cog, k: k, columns: PaddedGridConvolution.gridColumns(p),
                                                  jobs: s.batch * s.groups, imagesPerGroup: s.batch)
            XCTAssertTrue(PaddedGridConvolution.forward(p, xp: copy, weights: weights, bias: bias, y: y, packed: nil, tiling: tiling))
        } else {
            XCTAssertNil(Im2colConvolution.Schedule(p, elementBytes: 4).grid)
            Im2colConvolution.forwardUnpadded(p, x: UnsafePointer(copy), weights: weights, bias: bias, y: y)
        }
        return Array(UnsafeBufferPointer(start: y, count: s.outputCount))
    }

    /// The planner's rule: wide planes take the grid, small ones (or a folded batch) do not.
    func testPlannerRule() {
        guard KernelTable.active.sgemmBlockOffsetRowsB != nil else { return }
        func shape(_ n: Int, _ c: Int, _ hw: Int) -> ConvShape {
            ConvShape(batch: n, groups: 1, inChannels: c, outChannels: c, inHeight: hw, inWidth: hw, outHeight: hw, outWidth: hw,
                      kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1)
        }
        XCTAssertNotNil(Im2colConvolution.Schedule(shape(1, 64, 56), elementBytes: 4).grid)
        XCTAssertNotNil(Im2colConvolution.Schedule(shape(8, 64, 112), elementBytes: 4).grid)
        XCTAssertNil(Im2colConvolution.Schedule(shape(1, 64, 56), elementBytes: 8).grid)
        XCTAssertNil(Im2colConvolution.Schedule(shape(1, 128, 28), elementBytes: 4).grid)
        XCTAssertNil(Im2colConvolution.Schedule(shape(8, 512, 7), elementBytes: 4).grid)
    }
}
