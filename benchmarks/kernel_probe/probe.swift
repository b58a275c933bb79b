/// A by-hand probe of the machine's FMA peak and of the GEMM block functions (the
/// micro-kernels' macro loop, `sgemmBlock`) on packed panels, outside the library: see
/// run.sh, which compiles this file with FMAPeak.swift (the peak loop, shared with the
/// network bench), InPlaceWeightKernels.swift, MicroKernels.swift (and, for comparison, the
/// same file from another git revision, its entry points renamed `...Base`) for one tier.
/// Not part of the build, the library or `make test`.
#if canImport(Glibc)
import Glibc
#endif

func now() -> Double { monotonicSeconds() }

/// This thread's CPU time (seconds): the whole-GEMM timings span many scheduler ticks on
/// this shared machine, so wall time would count other processes' turns.
func threadSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

typealias BlockFn = (Int, Int, Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int,
                     UnsafeMutablePointer<Float>, Int, Bool, UnsafeMutablePointer<Float>) -> Void

func filled(_ n: Int) -> UnsafeMutablePointer<Float> {
    let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
    var s: UInt32 = 12345
    for i in 0..<n { s = s &* 1664525 &+ 1013904223; p[i] = Float(Int(s >> 9) % 2001 - 1000) / 1000 }
    return p
}

/// Bitwise: the working tree's block functions against the base revision's `sgemmBlock`,
/// over random shapes (every row count of a 12-row tile, edge columns, depths, loadC).
func checkAgainstBase() -> Int {
    var s: UInt64 = 99, bad = 0
    func rnd(_ n: Int) -> Int { s = s &* 6364136223846793005 &+ 1442695040888963407; return Int((s >> 33) % UInt64(n)) }
    for it in 0..<400 {
        let mc = 1 + rnd(40), nc = 1 + rnd(it % 4 == 0 ? 130 : 70), kc = 1 + rnd(it % 3 == 0 ? 300 : 40), loadC = rnd(2) == 0
        let mp = (mc + 11) / 12 * 12, np = (nc + 15) / 16 * 16, ldc = nc + rnd(3), lda = kc + rnd(5)
        let a = filled(mp * lda), b = filled(kc * np), c0 = filled(mc * ldc + 1)
        let ap = UnsafeMutablePointer<Float>.allocate(capacity: mp * kc)
        for i in 0..<mp { for k in 0..<kc { ap[(i / 6) * 6 * kc + k * 6 + i % 6] = i < mc ? a[i * lda + k] : 0 } }
        let c1 = UnsafeMutablePointer<Float>.allocate(capacity: mc * ldc + 1), c2 = UnsafeMutablePointer<Float>.allocate(capacity: mc * ldc + 1)
        let c3 = UnsafeMutablePointer<Float>.allocate(capacity: mc * ldc + 1), scratch = filled(12 * kc + 96)
        c1.update(from: c0, count: mc * ldc + 1); c2.update(from: c0, count: mc * ldc + 1); c3.update(from: c0, count: mc * ldc + 1)
        sgemmBlockBase(mc: mc, nc: nc, kc: kc, a: ap, aPanelStride: 6 * kc, b: b, bPanelStride: 16 * kc, c: c1, ldc: ldc, loadC: loadC, tile: scratch)
        sgemmBlock(mc: mc, nc: nc, kc: kc, a: ap, aPanelStride: 6 * kc, b: b, bPanelStride: 16 * kc, c: c2, ldc: ldc, loadC: loadC, tile: scratch)
        for i in 0..<(mc * ldc + 1) where c1[i].bitPattern != c2[i].bitPattern { bad += 1 }
        for q in [a, b, c0, ap, c1, c2, c3, scratch] { q.deallocate() }
    }
    return bad
}

@main struct Probe {
    static func main() {
        let args = CommandLine.arguments
        let rounds = args.count > 1 ? Int(args[1]) ?? 15 : 15
        // A third argument: "blocks" / "layers" / "tiles" runs that section only; any other
        // text runs only the block-function cases whose name contains it.
        let sectionNames = ["all", "blocks", "layers", "tiles"]
        let argument = args.count > 2 ? args[2] : "all"
        let only = sectionNames.contains(argument) ? argument : "blocks"
        let nameFilter: String? = sectionNames.contains(argument) ? nil : argument
        print("bitwise against the base revision: \(checkAgainstBase()) mismatches")
        // Peak: best of many short runs (the 2 vCPUs are shared: the best is the machine's).
        let bestZ = peakGflops(runs: rounds * 10)
        print("FMA peak (FMAPeak.swift, register-only zmm loop, best of \(rounds * 10) runs of ~0.5 ms): \(fmt(bestZ)) GFLOP/s")

        // Block functions: C(mc x nc) += A(mc x kc) B(kc x nc) on packed panels, the shapes
        // the conv GEMM hands them (all of A swept over one column block of B).
        if only == "tiles" { compareTile6x64(rounds: rounds, peak: bestZ); return }
        let cases: [(String, Int, Int, Int)] = only == "layers" ? [] : [
            ("L1 tile 12x32 kc 256", 12, 32, 256),
            ("4 x 384 kc 288 (a 4-row leftover)", 4, 384, 288),
            ("12 x 384 kc 288", 12, 384, 288),
            ("64 x 384 kc 288 (64->64 3x3 tile)", 64, 384, 288),
            ("512 x 49 kc 288 (512->512 7x7 k3)", 512, 49, 288),
            ("120 x 49 kc 288 (general path block)", 120, 49, 288),
            ("120 x 196 kc 288 (general path block)", 120, 196, 288),
            ("256 x 196 kc 288 (256->256 14x14 k3)", 256, 196, 288),
            ("120 x 392 kc 288 (N8 7x7 folded: an 8-column edge)", 120, 392, 288),
            ("120 x 4 kc 288 (a 4-column edge alone)", 120, 4, 288),
            ("120 x 3 kc 288 (a 3-column edge alone)", 120, 3, 288),
            ("120 x 2 kc 288 (a 2-column edge alone)", 120, 2, 288),
            ("120 x 1 kc 288 (a 1-column edge alone)", 120, 1, 288),
            ("120 x 8 kc 288 (an 8-column edge alone)", 120, 8, 288),
            ("120 x 12 kc 288 (a 12-column edge alone)", 120, 12, 288),
            ("512 x 64 kc 256 (512->2048 7x7 k1)", 512, 64, 256),
            ("64 x 512 kc 256 (256->64 56x56 k1)", 64, 512, 256),
        ]
        let fns: [(String, BlockFn)] = [("base", { sgemmBlockBase(mc: $0, nc: $1, kc: $2, a: $3, aPanelStride: $4, b: $5, bPanelStride: $6, c: $7, ldc: $8, loadC: $9, tile: $10) }),
                                        ("new ", { sgemmBlock(mc: $0, nc: $1, kc: $2, a: $3, aPanelStride: $4, b: $5, bPanelStride: $6, c: $7, ldc: $8, loadC: $9, tile: $10) })]
        for (name, mc, nc, kc) in cases where nameFilter.map({ name.contains($0) }) ?? true {
            let mp = (mc + 5) / 6 * 6, np = (nc + 15) / 16 * 16
            let a = filled(mp * kc), b = filled(kc * np), c = filled(mc * nc), tile = filled(12 * 16)
            let flops = 2.0 * Double(mc * nc * kc)
            let reps = max(1, Int(2e8 / flops))
            var best = [Double](repeating: .infinity, count: fns.count)
            for _ in 0..<rounds {
                for (i, f) in fns.enumerated() {
                    let t0 = now()
                    for _ in 0..<reps { f.1(mc, nc, kc, a, 6 * kc, b, 16 * kc, c, nc, true, tile) }
                    best[i] = min(best[i], (now() - t0) / Double(reps))
                }
            }
            var line = "\(name):"
            for (i, f) in fns.enumerated() {
                let g = flops / best[i] / 1e9
                line += "  \(f.0) \(fmt(g)) GFLOP/s (\(fmt(100 * g / bestZ))% zmm peak)"
            }
            line += "  base/new time \(fmt(best[0] / best[1]))"
            print(line)
            a.deallocate(); b.deallocate(); c.deallocate(); tile.deallocate()
        }
        print("Whole GEMMs of a layer, A packed ahead (a prepared conv's weights, K x 6-row panels), B one packed block reused (as packB leaves it in cache; no packing timed), Gemm.multiply's general-path loops (jc, pc, ic blocks; mc, nc, kc as given):")
        for (name, m, n, k, mc, ncb, kc) in only == "blocks" ? [] : [("256->256 16x16 k3", 256, 256, 2304, 120, 128, 288), ("256->256 28x28 k3", 256, 784, 2304, 120, 208, 288),
                                             ("512->512 7x7 k3 N8", 512, 392, 4608, 120, 208, 288), ("128->128 56x56 k3 (a 448-column tile)", 128, 448, 1152, 120, 208, 288)] {
            layerGemm(name, m: m, n: n, k: k, mc: mc, ncBlock: ncb, kcMax: kc, rounds: rounds, peak: bestZ)
            // The same loops with every block reading A's first block (in L2): what A's
            // trips from L3 cost.
            layerGemm("  A's first block only", m: m, n: n, k: k, mc: mc, ncBlock: ncb, kcMax: kc, rounds: rounds, peak: bestZ, oneABlock: true)
        }
        if only != "all" { return }
        print("In-place weights (sgemmBlockInPlaceA, the planner's path for deep layers on small planes at batch 1), A streamed from L3 (4 copies, rotated) or L2:")
        for (name, m, n, k, copies) in [("512->512 7x7 k3", 512, 49, 4608, 4), ("  the same, 48 columns", 512, 48, 4608, 4), ("  the same, 64 columns", 512, 64, 4608, 4),
                                        ("  A in L2: 48 rows, 49 columns", 48, 49, 4608, 1), ("  A in L2: 48 rows, 48 columns", 48, 48, 4608, 1),
                                        ("2048->512 7x7 k1", 512, 49, 2048, 4), ("512->2048 7x7 k1", 2048, 49, 512, 4),
                                        ("256->256 14x14 k3", 256, 196, 2304, 4), ("  the same, 192 columns", 256, 192, 2304, 4)] {
            inPlaceA(name, m: m, n: n, k: k, copies: copies, rounds: rounds, peak: bestZ)
        }
        unpackedA("512x49x4608 (512->512 7x7 k3)", m: 512, n: 49, k: 4608, rounds: rounds, peak: bestZ)
        unpackedA("2048x49x512 (512->2048 7x7 k1)", m: 2048, n: 49, k: 512, rounds: rounds, peak: bestZ)
        unpackedA("512x49x2048 (2048->512 7x7 k1)", m: 512, n: 49, k: 2048, rounds: rounds, peak: bestZ)
        unpackedA("256x196x2304 (256->256 14x14 k3)", m: 256, n: 196, k: 2304, rounds: rounds, peak: bestZ)
    }
    /// `Gemm.multiplyInPlaceA`'s loop for one call (depth blocks of at most 320, B packed in
    /// 16-column panels, a partial last panel zero-padded), best of `rounds` calls: what the
    /// in-place kernels reach on a layer's shape, and (the 48- / 64- / 192-column variants)
    /// what its partial last panel costs.
    static func inPlaceA(_ name: String, m: Int, n: Int, k: Int, copies: Int, rounds: Int, peak: Double) {
        let kcb = (k + (k + 319) / 320 - 1) / ((k + 319) / 320)
        let np = (n + 15) / 16 * 16, full = n / 16 * 16
        let a = filled(m * k * copies), bAll = filled(k * np), c = filled(m * n)
        var best = Double.infinity
        for r in 0..<max(rounds, 2 * copies) {
            let t0 = now(), ar = a + (r % copies) * m * k
            var pc = 0
            while pc < k {
                let kc = min(kcb, k - pc), b = bAll + pc * np
                sgemmBlockInPlaceA(mc: m, nc: n, kc: kc, a: ar + pc, lda: k, b: b, bPanelStride: kc * 16, ldb: 16,
                                   bEdge: full < n ? b + full / 16 * kc * 16 : nil, c: c, ldc: n, loadC: pc > 0)
                pc += kc
            }
            best = min(best, now() - t0)
        }
        let g = 2.0 * Double(m * n * k) / best / 1e9
        print("   \(name): \(m) x \(n) x \(k), A \(m * k * 4 * copies / 1024) KB: \(fmt(g)) GFLOP/s (\(fmt(100 * g / peak))% peak), \(fmt(best * 1e3)) ms")
        for q in [a, bAll, c] { q.deallocate() }
    }

    /// A GEMM with row-major weights A (m x k, L3-resident between calls, as in a call
    /// without packed weights) and packed B: A packed in mc x kc blocks (mc 120: the GotoBLAS
    /// order of the base revision's Gemm) against A packed `ms` rows at a time over the whole
    /// depth (each weight row read as one long stream), B packed for all of the depth.
    static func unpackedA(_ name: String, m: Int, n: Int, k: Int, rounds: Int, peak: Double) {
        let kcb = (k + (k + 319) / 320 - 1) / ((k + 319) / 320)
        let np = (n + 15) / 16 * 16
        let a = filled(m * k), bAll = filled(k * np), c = filled(m * n)
        let buf = filled(120 * k + 96)
        let flops = 2.0 * Double(m * n * k)
        var best: [Int: Double] = [:]
        for _ in 0..<rounds {
            for ms in [0, 12, 24, 48] {
                let t0 = now()
                if ms == 0 {
                    var pc = 0
                    while pc < k {
                        let kc = min(kcb, k - pc)
                        var ic = 0
                        while ic < m {
                            let mcb = min(120, m - ic)
                            var i = 0
                            while i < mcb { let dst: UnsafeMutablePointer<Float> = buf + (i / 6) * 6 * kc; let src: UnsafePointer<Float> = UnsafePointer(a + ((ic + i) * k + pc)); packA6F32(dst, src, rowStride: k, count: kc); i += 6 }
                            sgemmBlock(mc: mcb, nc: n, kc: kc, a: buf, aPanelStride: 6 * kc, b: bAll + pc * np, bPanelStride: 16 * kc,
                                       c: c + ic * n, ldc: n, loadC: pc > 0, tile: buf + 120 * k)
                            ic += mcb
                        }
                        pc += kc
                    }
                } else {
                    var ic = 0
                    while ic < m {
                        let mcb = min(ms, m - ic)
                        var i = 0
                        while i < mcb { let dst: UnsafeMutablePointer<Float> = buf + (i / 6) * 6 * k; let src: UnsafePointer<Float> = UnsafePointer(a + (ic + i) * k); packA6F32(dst, src, rowStride: k, count: k); i += 6 }
                        var pc = 0
                        while pc < k {
                            let kc = min(kcb, k - pc)
                            sgemmBlock(mc: mcb, nc: n, kc: kc, a: buf + pc * 6, aPanelStride: 6 * k, b: bAll + pc * np, bPanelStride: 16 * kc,
                                       c: c + ic * n, ldc: n, loadC: pc > 0, tile: buf + 120 * k)
                            pc += kc
                        }
                        ic += mcb
                    }
                }
                best[ms] = min(best[ms] ?? .infinity, now() - t0)
            }
        }
        // The packing alone (120 x kc blocks into one L2 buffer) and a plain copy of the
        // same bytes (the memory system's share).
        var bestPack = Double.infinity, bestCopy = Double.infinity
        for _ in 0..<rounds {
            var t0 = now()
            var pc = 0
            while pc < k {
                let kc = min(kcb, k - pc)
                var ic = 0
                while ic < m {
                    let mcb = min(120, m - ic)
                    var i = 0
                    while i < mcb { let dst: UnsafeMutablePointer<Float> = buf + (i / 6) * 6 * kc; let src: UnsafePointer<Float> = UnsafePointer(a + ((ic + i) * k + pc)); packA6F32(dst, src, rowStride: k, count: kc); i += 6 }
                    ic += mcb
                }
                pc += kc
            }
            bestPack = min(bestPack, now() - t0)
            t0 = now()
            var off = 0
            while off < m * k { let len = min(120 * kcb, m * k - off); buf.update(from: a + off, count: len); off += len }
            bestCopy = min(bestCopy, now() - t0)
        }
        print("   \(name): packing A alone \(fmt(bestPack * 1e3)) ms (\(fmt(Double(m * k * 4) / bestPack / 1e9)) GB/s), copying its bytes \(fmt(bestCopy * 1e3)) ms; the GEMM alone at 170 GFLOP/s: \(fmt(flops / 170e9 * 1e3)) ms")
        var line = "\(name), weights packed per call:"
        for ms in [0, 12, 24, 48] {
            let g = flops / best[ms]! / 1e9
            line += ms == 0 ? " \(fmt(g)) GFLOP/s (\(fmt(100 * g / peak))%) in 120 x kc blocks;" : " \(ms) rows x K \(fmt(g)) (\(fmt(100 * g / peak))%)"
        }
        print(line)
        for q in [a, bAll, c, buf] { q.deallocate() }
    }

    /// One layer's GEMM as `Gemm.multiply`'s general path runs it with prepacked A: for each
    /// block of `ncBlock` columns and each depth block, every `mc`-row block of A (in place,
    /// panels K * 6 apart) swept over the block's packed B; base and new block functions
    /// interleaved, best of `rounds` whole GEMMs each (thread CPU time).
    static func layerGemm(_ name: String, m: Int, n: Int, k: Int, mc: Int, ncBlock: Int, kcMax: Int, rounds: Int, peak: Double, oneABlock: Bool = false) {
        let kcBlocks = (k + kcMax - 1) / kcMax, kcb = (k + kcBlocks - 1) / kcBlocks
        let mp = (m + 5) / 6 * 6
        let a = filled(mp * k), bBuf = filled(kcb * (ncBlock + 15) / 16 * 16), c = filled(m * n), tile = filled(12 * 16)
        let flops = 2.0 * Double(m * n * k)
        var best = [Double.infinity, Double.infinity]
        for _ in 0..<rounds {
            for f in 0..<2 {
                let t0 = threadSeconds()
                var jc = 0
                while jc < n {
                    let nc = min(ncBlock, n - jc)
                    var pc = 0
                    while pc < k {
                        let kc = min(kcb, k - pc)
                        let b = bBuf  // one buffer, as packB refills it per block (its values do not matter here)
                        var ic = 0
                        while ic < m {
                            let mcb = min(mc, m - ic)
                            let ap = oneABlock ? a : a + (ic / 6 * k * 6 + pc * 6)
                            if f == 0 {
                                sgemmBlockBase(mc: mcb, nc: nc, kc: kc, a: ap, aPanelStride: 6 * k, b: b, bPanelStride: 16 * kc,
                                               c: c + ic * n + jc, ldc: n, loadC: pc > 0, tile: tile)
                            } else {
                                sgemmBlock(mc: mcb, nc: nc, kc: kc, a: ap, aPanelStride: 6 * k, b: b, bPanelStride: 16 * kc,
                                           c: c + ic * n + jc, ldc: n, loadC: pc > 0, tile: tile)
                            }
                            ic += mcb
                        }
                        pc += kc
                    }
                    jc += nc
                }
                best[f] = min(best[f], threadSeconds() - t0)
            }
        }
        let g0 = flops / best[0] / 1e9, g1 = flops / best[1] / 1e9
        print("   \(name): \(m) x \(n) x \(k): base \(fmt(g0)) GFLOP/s (\(fmt(100 * g0 / peak))%), new \(fmt(g1)) (\(fmt(100 * g1 / peak))%), base/new time \(fmt(best[0] / best[1]))")
        for q in [a, bBuf, c, tile] { q.deallocate() }
    }

    static func fmt(_ x: Double) -> String { "\((x * 100).rounded() / 100)" }
}
