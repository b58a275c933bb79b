@testable import SwiftConv
import XCTest

/// The stride-phase forward of strided convolutions (`StridePhaseSplit`, then the unfolded
/// input packed from the phases, `PhaseUnfoldedInput`, or read in place on a phase plane's
/// grid, `PaddedGridConvolution` with phases) gives bitwise the results of the im2col path
/// that gathers every s-th element from x (`Im2colConvolution.forwardUnpadded` on the
/// shape itself): odd and even sizes, paddings 0-2, dilation 1-2, strides 2-3 (and mixed),
/// groups, folded batches, bias or none, Float and Double, 1 to 3 threads.
final class StridePhaseTests: XCTestCase {
    /// (batch, inChannels, outChannels, height, width, kernel, stride (h, w), padding, dilation, groups).
    static let shapes: [(Int, Int, Int, Int, Int, Int, (Int, Int), Int, Int, Int)] = [
        (1, 5, 7, 57, 56, 3, (2, 2), 1, 1, 1), (1, 3, 9, 33, 35, 3, (2, 2), 0, 1, 1), (2, 6, 13, 15, 14, 3, (2, 2), 2, 2, 1),
        (3, 8, 6, 11, 17, 3, (3, 3), 1, 1, 2), (1, 4, 25, 40, 41, 5, (2, 2), 2, 1, 1), (2, 16, 20, 9, 9, 3, (2, 3), 1, 1, 1),
        (1, 7, 7, 30, 31, 3, (2, 2), 1, 2, 7), (1, 70, 30, 64, 66, 3, (2, 2), 1, 1, 1), (4, 12, 24, 14, 14, 3, (2, 2), 1, 1, 1),
        (1, 3, 32, 70, 70, 3, (2, 2), 1, 1, 1), (2, 4, 8, 21, 50, 7, (2, 2), 3, 1, 1), (1, 6, 6, 10, 12, 2, (2, 2), 0, 1, 3),
    ]

    func shape(_ t: (Int, Int, Int, Int, Int, Int, (Int, Int), Int, Int, Int)) -> ConvShape {
        let (n, ci, co, h, w, k, st, pad, dil, g) = t
        let out = { (size: Int, s: Int) in (size + 2 * pad - dil * (k - 1) - 1) / s + 1 }
        return ConvShape(batch: n, groups: g, inChannels: ci, outChannels: co, inHeight: h, inWidth: w,
                         outHeight: out(h, st.0), outWidth: out(w, st.1), kernelHeight: k, kernelWidth: k,
                         strideH: st.0, strideW: st.1, dilationH: dil, dilationW: dil, padTop: pad, padLeft: pad)
    }

    /// Every route, for every shape (forced where the planner would not take it).
    func testPhasesMatchGatheredPathBitwise() throws {
        try check(Float.self, gridToo: true)
        try check(Double.self, gridToo: false)
    }

    func check<T: ConvScalar>(_: T.Type, gridToo: Bool) throws {
        var rng = SplitMix64(seed: 77)
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        let hasGrid = gridToo && KernelTable.active.sgemmBlockOffsetRowsB != nil
        for t in Self.shapes {
            let s = shape(t)
            let x: [T] = randomArray(s.inputCount, &rng), w: [T] = randomArray(s.weightCount, &rng)
            let bias: [T] = randomArray(s.outChannels, &rng)
            for withBias in [true, false] {
                try ThreadPool.shared.setNumThreads(1)
                let b = withBias ? bias : nil
                let reference = run(s, x, w, b, route: .gathered)
                for threads in [1, 2, 3] {
                    try ThreadPool.shared.setNumThreads(threads)
                    for route in hasGrid ? [Route.planner, .packedPhases, .gridPhases] : [.planner, .packedPhases] {
                        XCTAssertEqual(bits(run(s, x, w, b, route: route)), bits(reference),
                                       "\(T.self) \(s) bias \(withBias) threads \(threads) \(route)")
                    }
                }
            }
        }
    }

    func bits<T: ConvScalar>(_ v: [T]) -> [UInt64] {
        v.map { T.kind == .float32 ? UInt64(($0 as! Float).bitPattern) : ($0 as! Double).bitPattern }
    }

    enum Route { case gathered, planner, packedPhases, gridPhases }

    /// The forward by `route`: the path that gathers from x itself, the planner's choice, or
    /// the phases (packed, or read in place on the grid), forced whatever the planner picks.
    func run<T: ConvScalar>(_ s: ConvShape, _ x: [T], _ w: [T], _ b: [T]?, route: Route) -> [T] {
        var y = [T](repeating: .nan, count: s.outputCount)
        let bias = b.map { v -> UnsafeMutablePointer<T> in
            let q = UnsafeMutablePointer<T>.allocate(capacity: v.count); q.initialize(from: v, count: v.count); return q
        }
        defer { bias?.deallocate() }
        let bp = bias.map { UnsafePointer($0) }
        x.withUnsafeBufferPointer { xb in
            w.withUnsafeBufferPointer { wb in
                y.withUnsafeMutableBufferPointer { yb in
                    let x = xb.baseAddress!, w = wb.baseAddress!, y = yb.baseAddress!
                    switch route {
                    case .gathered:
                        Im2colConvolution.forwardUnpadded(s, x: x, w: w, bias: bp, y: y)
                    case .planner:
                        Im2colConvolution.forward(s, x: x, w: w, bias: bp, y: y)
                    case .packedPhases, .gridPhases:
                        guard let ph = StridePhases(s) else { return XCTFail("no phases for \(s)") }
                        let count = ph.elementCount(channels: s.batch * s.inChannels) + PaddedGridConvolution.slack
                        let split = UnsafeMutablePointer<T>.allocate(capacity: count)
                        defer { split.deallocate() }
                        split.initialize(repeating: .nan, count: count)
                        StridePhaseSplit.split(s, x: x, phases: ph, into: split)
                        let plan = Im2colConvolution.Schedule(s, elementBytes: MemoryLayout<T>.stride)
                        let cog = s.outChannelsPerGroup, k = s.patchSize
                        let grid = route == .packedPhases ? nil
                            : Im2colConvolution.Tiling(elementBytes: MemoryLayout<T>.stride, cog: cog, k: k,
                                                       columns: PaddedGridConvolution.gridColumns(s, phases: ph),
                                                       jobs: s.batch * s.groups, imagesPerGroup: s.batch)
                        Im2colConvolution.forwardOnPhases(s, phases: ph, split: split,
                                                          weights: { g in StridedMatrix(base: w + g * cog * k, rowStride: k, colStride: 1) },
                                                          bias: bp, y: y, packed: nil, plan: plan, grid: grid)
                    }
                }
            }
        }
        return y
    }

    /// The phases hold the zero-padded input: phase (a, b) at (i, j) is padded (a + i sH, b + j sW).
    func testSplitIsThePaddedInput() {
        for t in Self.shapes {
            let s = shape(t)
            guard let ph = StridePhases(s) else { XCTFail("no phases for \(s)"); continue }
            let x = (0..<s.inputCount).map { Float($0 + 1) }
            var out = [Float](repeating: .nan, count: ph.elementCount(channels: s.batch * s.inChannels))
            x.withUnsafeBufferPointer { xb in
                out.withUnsafeMutableBufferPointer { StridePhaseSplit.split(s, x: xb.baseAddress!, phases: ph, into: $0.baseAddress!) }
            }
            var wrong = 0
            for plane in 0..<(s.batch * s.inChannels) {
                for a in 0..<ph.strideH { for b in 0..<ph.strideW { for i in 0..<ph.height { for j in 0..<ph.width {
                    let ih = a + i * ph.strideH - s.padTop, iw = b + j * ph.strideW - s.padLeft
                    let expected: Float = ih >= 0 && ih < s.inHeight && iw >= 0 && iw < s.inWidth ? x[plane * s.inPixels + ih * s.inWidth + iw] : 0
                    if out[plane * ph.channelStride + (a * ph.strideW + b) * ph.plane + i * ph.width + j] != expected { wrong += 1 }
                } } } }
            }
            XCTAssertEqual(wrong, 0, "\(s)")
        }
    }

    /// The planner's rule (`KernelSelector.splitsStridePhases`): wide outputs with few output
    /// channels take the phases; ResNet-50's strided 3x3 layers and the RGB stems do not.
    func testPlannerRule() {
        func shape(_ ci: Int, _ co: Int, _ hw: Int) -> ConvShape {
            ConvShape(batch: 1, groups: 1, inChannels: ci, outChannels: co, inHeight: hw, inWidth: hw,
                      outHeight: (hw - 1) / 2 + 1, outWidth: (hw - 1) / 2 + 1, kernelHeight: 3, kernelWidth: 3,
                      strideH: 2, strideW: 2, padTop: 1, padLeft: 1)
        }
        XCTAssertNotNil(Im2colConvolution.Schedule(shape(32, 32, 112), elementBytes: 4).phases)
        XCTAssertNotNil(Im2colConvolution.Schedule(shape(16, 32, 224), elementBytes: 8).phases)
        for (ci, co, hw) in [(128, 128, 56), (256, 256, 28), (512, 512, 14), (3, 32, 224), (64, 64, 112)] {
            XCTAssertNil(Im2colConvolution.Schedule(shape(ci, co, hw), elementBytes: 4).phases, "\(ci)->\(co) \(hw)")
        }
    }
}
