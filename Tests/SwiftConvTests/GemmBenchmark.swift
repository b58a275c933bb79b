#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
@testable import SwiftConv

/// A timing harness for the GEMM core with concrete types. Used by `GemmTests.testBenchmark`
/// (SWIFTCONV_BENCH=1, built with -cross-module-optimization so that these calls of the
/// engine's generics are specialised as they are inside it); runs `KernelTable.active`.
enum GemmBenchmark {
    struct Result: CustomStringConvertible {
        var name: String, flops: Double, best: Double, median: Double
        /// Best time by this thread's CPU clock (ignores time descheduled on a busy machine;
        /// meaningful for one-thread cases only).
        var bestCPU: Double
        var description: String {
            let b = flops / best / 1e9, m = flops / median / 1e9, c = flops / bestCPU / 1e9
            return "\(name): best \(fmt(best * 1e3)) ms (\(fmt(b)) GFLOP/s), median \(fmt(median * 1e3)) ms (\(fmt(m)) GFLOP/s)"
                + ", best thread-CPU \(fmt(bestCPU * 1e3)) ms (\(fmt(c)) GFLOP/s)"
        }
        private func fmt(_ x: Double) -> String {
            let r = (x * 100).rounded() / 100
            return "\(r)"
        }
    }

    static func seconds() -> Double { Double(monotonicNanoseconds()) * 1e-9 }

    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func time(_ name: String, flops: Double, reps: Int, _ body: () -> Void) -> Result {
        body()
        var ts: [Double] = [], cpu = Double.infinity
        for _ in 0..<reps {
            let t0 = seconds(), c0 = threadCPUSeconds()
            body()
            cpu = min(cpu, threadCPUSeconds() - c0)
            ts.append(seconds() - t0)
        }
        ts.sort()
        return Result(name: name, flops: flops, best: ts[0], median: ts[ts.count / 2], bestCPU: cpu)
    }

    static func filled<T: ConvScalar>(_ n: Int, _: T.Type) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, n))
        var s: UInt32 = 12345
        for i in 0..<n { s = s &* 1664525 &+ 1013904223; p[i] = T(Int(s >> 9) % 2001 - 1000) / 1000 }
        return p
    }

    /// Runs the GEMM and convolution benchmarks (the 64->64 56x56 3x3 layer's GEMM: m = 64,
    /// n = 3136, k = 576) and returns one line per case.
    static func run(reps: Int = 30) -> [Result] {
        var out: [Result] = []
        let m = 64, n = 3136, k = 576
        let flops = 2.0 * Double(m * n * k)
        do {
            // The micro-kernel alone on packed panels: L1-resident (6 x 16, kc 256, repeated),
            // and one block as the conv uses it (66 x 384, kc 256).
            let a = filled(66 * 256, Float.self), b = filled(256 * 384, Float.self), c = filled(66 * 384, Float.self)
            let tile = filled(96, Float.self)
            defer { a.deallocate(); b.deallocate(); c.deallocate(); tile.deallocate() }
            out.append(time("micro-kernel 6x16 kc 256 (L1), x1000", flops: 2.0 * 6 * 16 * 256 * 1000, reps: reps) {
                for _ in 0..<1000 {
                    Gemm.block(mc: 6, nc: 16, kc: 256, a: UnsafePointer(a), aPanelStride: 6 * 256, b: UnsafePointer(b), bPanelStride: 16 * 256,
                               c: c, ldc: 16, loadC: true, tile: tile)
                }
            })
            out.append(time("macro-kernel 66x384 kc 256, x20", flops: 2.0 * 66 * 384 * 256 * 20, reps: reps) {
                for _ in 0..<20 {
                    Gemm.block(mc: 66, nc: 384, kc: 256, a: UnsafePointer(a), aPanelStride: 6 * 256, b: UnsafePointer(b), bPanelStride: 16 * 256,
                               c: c, ldc: 384, loadC: true, tile: tile)
                }
            })
        }
        do {
            let a = filled(m * k, Float.self), b = filled(k * n, Float.self), c = filled(m * n, Float.self)
            defer { a.deallocate(); b.deallocate(); c.deallocate() }
            let am = StridedMatrix(base: a, rowStride: k, colStride: 1)
            let bm = StridedMatrix(base: b, rowStride: n, colStride: 1)
            out.append(time("sgemm 64x3136x576 (A, B row-major), 1 call", flops: flops, reps: reps) {
                Gemm.multiply(am, bm, rows: 0..<m, cols: 0..<n, depth: k, c: c, ldc: n, accumulate: false)
            })
            let packed = Gemm.packA(am, rows: 0..<m, depth: k)
            out.append(time("sgemm 64x3136x576 (A pre-packed), 1 call", flops: flops, reps: reps) {
                Gemm.multiply(packed, bm, rows: 0..<m, cols: 0..<n, depth: k, c: c, ldc: n, accumulate: false)
            })
            out.append(time("sgemm 64x3136x576 (A pre-packed), 392-column tiles", flops: flops, reps: reps) {
                var j = 0
                while j < n {
                    let j1 = min(n, j + 392)
                    Gemm.multiply(packed, bm, rows: 0..<m, cols: j..<j1, depth: k, c: c + j, ldc: n, accumulate: false)
                    j = j1
                }
            })
            let ad = filled(m * k, Double.self), bd = filled(k * n, Double.self), cd = filled(m * n, Double.self)
            defer { ad.deallocate(); bd.deallocate(); cd.deallocate() }
            out.append(time("dgemm 64x3136x576 (A, B row-major), 1 call", flops: flops, reps: reps / 2 + 1) {
                Gemm.multiply(StridedMatrix(base: ad, rowStride: k, colStride: 1), StridedMatrix(base: bd, rowStride: n, colStride: 1),
                              rows: 0..<m, cols: 0..<n, depth: k, c: cd, ldc: n, accumulate: false)
            })
        }
        do {
            // Packing alone: every 16-column panel of the conv's B (576 x 3136), kc 256 at a time.
            let s = ConvShape(batch: 1, groups: 1, inChannels: 64, outChannels: 64, inHeight: 56, inWidth: 56,
                              outHeight: 56, outWidth: 56, kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1)
            let x = filled(s.inputCount, Float.self), buf = filled(256 * 16, Float.self), bRow = filled(k * n, Float.self)
            defer { x.deallocate(); buf.deallocate(); bRow.deallocate() }
            func packAll<B: GemmOperand>(_ b: B) where B.Scalar == Float {
                var j = 0
                while j < n {
                    var p = 0
                    while p < k { let kc = min(256, k - p); b.packB(into: buf, depth: p..<(p + kc), cols: j..<min(n, j + 16), nr: 16); p += kc }
                    j += 16
                }
            }
            let u = UnfoldedInput(x: x, shape: s)
            out.append(time("packB only: UnfoldedInput 576x3136 (FLOPs of the GEMM)", flops: flops, reps: reps) { packAll(u) })
            let bm = StridedMatrix(base: UnsafePointer(bRow), rowStride: n, colStride: 1)
            out.append(time("packB only: row-major 576x3136 (FLOPs of the GEMM)", flops: flops, reps: reps) { packAll(bm) })
        }
        // The convolution through Im2colConvolution (implicit im2col), one and two threads.
        let s = ConvShape(batch: 1, groups: 1, inChannels: 64, outChannels: 64, inHeight: 56, inWidth: 56,
                          outHeight: 56, outWidth: 56, kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1)
        let x = filled(s.inputCount, Float.self), w = filled(s.weightCount, Float.self), y = filled(s.outputCount, Float.self)
        defer { x.deallocate(); w.deallocate(); y.deallocate() }
        let saved = ThreadPool.shared.numThreads
        for threads in [1, 2] {
            try? ThreadPool.shared.setNumThreads(threads)
            out.append(time("im2col conv 64->64 56x56 k3 p1, \(threads) thread(s)", flops: Double(2 * s.macs), reps: reps) {
                Im2colConvolution.forward(s, x: x, w: w, bias: nil, y: y)
            })
            out.append(time("taps conv 64->64 56x56 k3 p1, \(threads) thread(s)", flops: Double(2 * s.macs), reps: reps) {
                TapsConvolution.forward(s, x: x, w: w, bias: nil, y: y)
            })
        }
        try? ThreadPool.shared.setNumThreads(saved)
        return out
    }

    /// `table` with another GEMM blocking, block function or (`packB`) without its in-place
    /// B block function (for timing candidates side by side).
    static func table(_ t: KernelTable, blocking: KernelTable.Blocking,
                      sgemmBlock: (@convention(c) (Int, Int, Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int,
                                                   UnsafeMutablePointer<Float>, Int, Bool, UnsafeMutablePointer<Float>) -> Void)? = nil,
                      packB: Bool = false) -> KernelTable {
        KernelTable(tier: t.tier, blocking: blocking, sgemmBlock: sgemmBlock ?? t.sgemmBlock, dgemmBlock: t.dgemmBlock,
                    sgemmBlockRowMajorB: packB ? nil : t.sgemmBlockRowMajorB, sgemmPixelVectors: t.sgemmPixelVectors,
                    sgemmBlockOffsetRowsB: packB ? nil : t.sgemmBlockOffsetRowsB,
                    sgemmBlockInPlaceA: t.sgemmBlockInPlaceA, dgemmBlockInPlaceA: t.dgemmBlockInPlaceA,
                    packRowsGather64: t.packRowsGather64, packRowsGatherStride2F32: t.packRowsGatherStride2F32,
                    packRowsGatherStride2F64: t.packRowsGatherStride2F64, packRowsStrided64: t.packRowsStrided64,
                    packRowsSegments64: t.packRowsSegments64,
                    deinterleavePairsF32: t.deinterleavePairsF32, deinterleavePairsF64: t.deinterleavePairsF64,
                    addInterleavedTapRowsF32: t.addInterleavedTapRowsF32,
                    packA6F32: t.packA6F32, packA6F64: t.packA6F64,
                    transposeRows16F32: t.transposeRows16F32, transposeRows8F64: t.transposeRows8F64,
                    transposePointers16F32: t.transposePointers16F32,
                    sconvChannelBlockedRow: t.sconvChannelBlockedRow,
                    directPlaneF32: t.directPlaneF32, directPlaneF64: t.directPlaneF64,
                    directAccumulatePlaneF32: t.directAccumulatePlaneF32, directAccumulatePlaneF64: t.directAccumulatePlaneF64,
                    directPlaneHalf3x3: t.directPlaneHalf3x3,
                    directWeightGradientPlaneF32: t.directWeightGradientPlaneF32,
                    directWeightGradientPlaneF64: t.directWeightGradientPlaneF64,
                    depthwiseRowsF32: t.depthwiseRowsF32, depthwiseRowsF64: t.depthwiseRowsF64,
                    depthwiseWeightGradientRowsF32: t.depthwiseWeightGradientRowsF32,
                    depthwiseWeightGradientRowsF64: t.depthwiseWeightGradientRowsF64,
                    depthwiseInterleaveF32: t.depthwiseInterleaveF32, depthwiseInterleaveF64: t.depthwiseInterleaveF64,
                    depthwiseInterleaveRowsF32: t.depthwiseInterleaveRowsF32,
                    depthwiseDeinterleaveF32: t.depthwiseDeinterleaveF32, depthwiseDeinterleaveF64: t.depthwiseDeinterleaveF64,
                    depthwiseInterleaveFloat16: t.depthwiseInterleaveFloat16, depthwiseInterleaveBfloat16: t.depthwiseInterleaveBfloat16,
                    depthwiseInterleaveRowsFloat16: t.depthwiseInterleaveRowsFloat16,
                    depthwiseInterleaveRowsBfloat16: t.depthwiseInterleaveRowsBfloat16,
                    depthwiseDeinterleaveFloat16: t.depthwiseDeinterleaveFloat16,
                    depthwiseDeinterleaveBfloat16: t.depthwiseDeinterleaveBfloat16,
                    dotRowsF32: t.dotRowsF32, dotRowsF64: t.dotRowsF64, smallGemmF32: t.smallGemmF32, smallGemmF64: t.smallGemmF64,
                    float16ToFloat32: t.float16ToFloat32, bfloat16ToFloat32: t.bfloat16ToFloat32,
                    float32ToFloat16: t.float32ToFloat16, float32ToBfloat16: t.float32ToBfloat16,
                    float16ToFloat32Sampled: t.float16ToFloat32Sampled, bfloat16ToFloat32Sampled: t.bfloat16ToFloat32Sampled,
                    float16ToFloat32Panels: t.float16ToFloat32Panels, bfloat16ToFloat32Panels: t.bfloat16ToFloat32Panels)
    }

    /// The dense layers of the network bench (ResNet-50, U-Net decoder; batch 1), one thread,
    /// through `Im2colConvolution.forward` with the weights packed per call (as a functional
    /// call does) and pre-packed (a prepared call), for the active table's blocking and each
    /// of `variants`, timed interleaved (A, B, A, B ...; best of `rounds` x `reps` calls). Prints
    /// GFLOP/s; with `peak` (GFLOP/s of the tier's FMA loop, from benchmarks/kernel_probe) also
    /// the share of it.
    static func dense(variants: [(String, KernelTable.Blocking)], tables extra: [(String, KernelTable)] = [], peak: Double?,
                      rounds: Int = 7, reps: Int = 5) -> [String] {
        // (name, C_in, C_out, H = W, k, stride, pad)
        let layers: [(String, Int, Int, Int, Int, Int, Int)] = [
            ("64->64 56x56 k3", 64, 64, 56, 3, 1, 1), ("128->128 28x28 k3", 128, 128, 28, 3, 1, 1),
            ("256->256 14x14 k3", 256, 256, 14, 3, 1, 1), ("512->512 7x7 k3", 512, 512, 7, 3, 1, 1),
            ("512->512 14x14 k3 s2", 512, 512, 14, 3, 2, 1), ("256->64 56x56 k1", 256, 64, 56, 1, 1, 0),
            ("512->2048 7x7 k1", 512, 2048, 7, 1, 1, 0), ("2048->512 7x7 k1", 2048, 512, 7, 1, 1, 0),
            ("1024->256 14x14 k1", 1024, 256, 14, 1, 1, 0), ("unet 128->64 112x112 k3", 128, 64, 112, 3, 1, 1),
            ("64->256 56x56 k1", 64, 256, 56, 1, 1, 0), ("512->128 28x28 k1", 512, 128, 28, 1, 1, 0),
            ("128->512 28x28 k1", 128, 512, 28, 1, 1, 0),
        ]
        let saved = ThreadPool.shared.numThreads, savedTable = KernelTable.active
        try? ThreadPool.shared.setNumThreads(1)
        defer { try? ThreadPool.shared.setNumThreads(saved); KernelTable.active = savedTable }
        let tables = [("current", savedTable)] + variants.map { ($0.0, table(savedTable, blocking: $0.1)) } + extra
        var out: [String] = []
        for (name, cin, cout, hw, k, stride, pad) in layers {
            let oh = (hw + 2 * pad - k) / stride + 1
            let s = ConvShape(batch: 1, groups: 1, inChannels: cin, outChannels: cout, inHeight: hw, inWidth: hw,
                              outHeight: oh, outWidth: oh, kernelHeight: k, kernelWidth: k, strideH: stride, strideW: stride,
                              padTop: pad, padLeft: pad)
            let x = filled(s.inputCount, Float.self), w = filled(s.weightCount, Float.self), y = filled(s.outputCount, Float.self)
            defer { x.deallocate(); w.deallocate(); y.deallocate() }
            let flops = Double(2 * s.macs)
            let packed = [Gemm.packA(StridedMatrix(base: UnsafePointer(w), rowStride: s.patchSize, colStride: 1), rows: 0..<cout, depth: s.patchSize)]
            var best = [[Double]](repeating: [.infinity, .infinity], count: tables.count)
            // Per round: each variant's best of `reps` calls; the time of the variant over the
            // first one's in the same round (their median is less sensitive to a busy machine
            // than the ratio of the overall bests).
            var ratios = [[[Double]]](repeating: [[], []], count: tables.count)
            for _ in 0..<rounds {
                var round = [[Double]](repeating: [.infinity, .infinity], count: tables.count)
                for (v, t) in tables.enumerated() {
                    KernelTable.active = t.1
                    for (mode, pk) in [(0, nil), (1, packed)] as [(Int, [PackedMatrix<Float>]?)] {
                        Im2colConvolution.forward(s, x: x, w: w, bias: nil, y: y, packed: pk)
                        for _ in 0..<reps {
                            let t0 = seconds()
                            Im2colConvolution.forward(s, x: x, w: w, bias: nil, y: y, packed: pk)
                            round[v][mode] = min(round[v][mode], seconds() - t0)
                        }
                        best[v][mode] = min(best[v][mode], round[v][mode])
                    }
                }
                for v in tables.indices { for mode in 0..<2 { ratios[v][mode].append(round[v][mode] / round[0][mode]) } }
            }
            var line = "\(name):"
            for (v, t) in tables.enumerated() {
                let g0 = flops / best[v][0] / 1e9, g1 = flops / best[v][1] / 1e9
                line += "  \(t.0) \(fmt(g0))"
                if let peak { line += " (\(fmt(100 * g0 / peak))%)" }
                line += " / prepared \(fmt(g1))"
                if let peak { line += " (\(fmt(100 * g1 / peak))%)" }
                if v > 0 {
                    let r0 = ratios[v][0].sorted()[rounds / 2], r1 = ratios[v][1].sorted()[rounds / 2]
                    line += " [time / \(tables[0].0): median \((r0 * 100).rounded() / 100) / \((r1 * 100).rounded() / 100)]"
                }
            }
            out.append(line + " GFLOP/s")
        }
        return out
    }

    static func fmt(_ x: Double) -> String { "\((x * 10).rounded() / 10)" }
}
