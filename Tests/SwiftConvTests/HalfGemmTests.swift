import XCTest
@testable import SwiftConv

/// The GEMM that converts chunk by chunk (`.halfGemm`, HalfGemmConvolution.swift) gives the
/// float32 result of the widened arrays rounded once (what the widen / GEMM / narrow plan
/// computed before it), bit for bit, on every tier this CPU runs, for 1 and 3 threads, per
/// call and with packed weights; plans with another step keep the widen / narrow passes.
extension ConversionTests {
    func testHalfGemmIsTheFloat32PlanRoundedOnce() throws {
        let saved = ThreadPool.shared.numThreads
        defer { try? ThreadPool.shared.setNumThreads(saved) }
        var rng = SplitMix64(seed: 17)
        // (input shape, weight shape, groups, stride, padding, dilation)
        let cases: [([Int], [Int], Int, Int, Int, Int)] = [
            ([2, 24, 7, 9], [20, 24, 1, 1], 1, 1, 0, 1),     // 1x1, batch folded across images
            ([1, 700, 5, 6], [8, 700, 1, 1], 1, 1, 0, 1),    // deep 1x1: narrow chunks
            ([1, 12, 19, 23], [16, 12, 3, 3], 1, 1, 1, 1),   // dense, chunks of rows
            ([2, 8, 11, 13], [12, 4, 3, 3], 2, 2, 2, 2),     // grouped, strided, dilated
            ([1, 16, 14, 10], [8, 16, 1, 1], 1, 2, 0, 1),    // 1x1 stride 2: compact rows
        ]
        for tier in KernelTier.available {
            try withTier(tier) {
                for dtype in [ConvDType.float16, .bfloat16] {
                    for (x, w, groups, stride, pad, dil) in cases {
                        for op in [ConvOp.conv, .convTranspose, .convBackward, .convTransposeBackward] {
                            let transposed = op.isTransposed
                            // Transposed ops: stride 1 only (a strided one scatters).
                            if transposed && stride != 1 { continue }
                            // The transposed ops of the same conv: input (N, C_out, ...), the same weight array
                            // read as (C_in_t, C_out_t / groups, kH, kW).
                            var r = ConvRequest(op: op, spatialRank: 2, inputShape: transposed ? [x[0], w[0]] + x.suffix(2) : x,
                                                weightShape: w)
                            r.groups = groups
                            r.stride = [stride, stride]
                            r.padding = .symmetric([pad, pad])
                            r.dilation = [dil, dil]
                            if !op.isBackward { r.biasShape = [transposed ? w[1] * groups : w[0]] }
                            if op.isBackward {
                                var f = r
                                f.op = transposed ? .convTranspose : .conv
                                r.gradOutputShape = try ConvGeometry(validating: f).resultShapes[0]!
                                r.outputMask = (true, false, false)
                            }
                            // conv_backward's grad_input runs this GEMM when its adjoint is upsample + im2col.
                            let plan32 = try ConvPlan({ var f = r; f.dtype = .float32; return f }())
                            let expected = plan32.steps.count == 1 && {
                                switch plan32.steps[0] {
                                case .forward(.im2col), .adjoint(.upsample, .im2col?): return true
                                default: return false
                                }
                            }()
                            if op == .conv || op == .convTransposeBackward { XCTAssertTrue(expected, "\(op) \(x) \(w)") }
                            for threads in [1, 3] {
                                try ThreadPool.shared.setNumThreads(threads)
                                try checkAgainstFloat32(r, dtype, &rng, halfGemm: expected)
                                if !op.isBackward { try checkAgainstFloat32(r, dtype, &rng, packed: true, halfGemm: expected) }
                                if op.isBackward {
                                    var both = r
                                    both.outputMask = (true, true, false)
                                    try checkAgainstFloat32(both, dtype, &rng, halfGemm: false)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The widening B packer of the pointwise half GEMM (`WideningColumns`, the tiers'
/// `float16ToFloat32Panels` / `bfloat16ToFloat32Panels`) packs exactly the panels
/// `StridedMatrix.packB` packs from the widened matrix, bit for bit, on every tier this CPU
/// runs: full panels, a partial last panel (zeros past it), offset depth and column ranges.
extension ConversionTests {
    func testWideningColumnsPacksTheWidenedPanels() {
        var rng = SplitMix64(seed: 29)
        let rows = 37, cols = 75, rowStride = 83
        let bits = (0..<(rows * rowStride)).map { _ in UInt16(truncatingIfNeeded: rng.next()) }
        for tier in KernelTier.available {
            withTier(tier) {
                for dtype in [ConvDType.float16, .bfloat16] {
                    let widen = KernelTable.active.widening(dtype)
                    var wide = [Float](repeating: 0, count: bits.count)
                    bits.withUnsafeBufferPointer { widen($0.baseAddress!, &wide, bits.count) }
                    let nr = Gemm.nr(Float.self)
                    for (depth, columns) in [(0..<rows, 0..<cols), (5..<29, 3..<67), (1..<2, 16..<32), (0..<rows, 70..<75)] {
                        let count = depth.count * (columns.count + nr - 1) / nr * nr
                        var got = [Float](repeating: .nan, count: count), want = [Float](repeating: .nan, count: count)
                        bits.withUnsafeBufferPointer { b in
                            WideningColumns(base: b.baseAddress!, rowStride: rowStride, dtype: dtype)
                                .packB(into: &got, depth: depth, cols: columns, nr: nr)
                        }
                        wide.withUnsafeBufferPointer { w in
                            StridedMatrix(base: w.baseAddress!, rowStride: rowStride, colStride: 1)
                                .packB(into: &want, depth: depth, cols: columns, nr: nr)
                        }
                        XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern), "\(tier) \(dtype) \(depth) \(columns)")
                    }
                }
            }
        }
    }
}
