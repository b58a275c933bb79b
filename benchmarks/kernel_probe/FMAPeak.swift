/// The multiply-add peak of one core for one kernel tier, measured: independent
/// multiply-add chains on registers only (no memory traffic), the instructions that tier's
/// GEMM micro-kernels issue. Compiled with the tier's target flags (those of its kernel module
/// in Package.swift), so `peakGflops` measures what that tier can reach:
/// - `-D SWIFTCONV_AVX512` (x86-64-v4): zmm fused multiply-adds, 16 Float lanes;
/// - `-D SWIFTCONV_FMA` (x86-64-v3): ymm fused multiply-adds, 8 lanes;
/// - neither (baseline): unfused multiply then add on 8-lane vectors (SSE: two 4-lane
///   instructions each), as the baseline kernels compute.
/// Bench-only code (benchmarks/fma_peak.py compiles it with PeakMain.swift; run.sh with
/// probe.swift): never part of the library.
#if canImport(Glibc)
import Glibc
#endif

#if SWIFTCONV_AVX512
typealias PeakVector = SIMD16<Float>
#else
typealias PeakVector = SIMD8<Float>
#endif

/// 12 independent chains (an FMA's latency 4 x 2 ports needs >= 8 in flight), `n` steps each,
/// starting from `*io` and adding their sum into it. Through memory on purpose: a function of
/// its arguments alone is pure to the optimiser, which then called it once, before the
/// timing loop (seen in the baseline build). Flops: n x 12 x lanes x 2.
@inline(never) func multiplyAddChains(_ n: Int, _ io: UnsafeMutablePointer<Float>) {
    typealias V = PeakVector
    let x = V(repeating: io.pointee), y = V(repeating: 0.999)
    var c0 = V(repeating: 1), c1 = V(repeating: 2), c2 = V(repeating: 3), c3 = V(repeating: 4)
    var c4 = V(repeating: 5), c5 = V(repeating: 6), c6 = V(repeating: 7), c7 = V(repeating: 8)
    var c8 = V(repeating: 9), c9 = V(repeating: 10), c10 = V(repeating: 11), c11 = V(repeating: 12)
    for _ in 0..<n {
#if SWIFTCONV_FMA
        c0 = c0.addingProduct(x, y); c1 = c1.addingProduct(x, y); c2 = c2.addingProduct(x, y); c3 = c3.addingProduct(x, y)
        c4 = c4.addingProduct(x, y); c5 = c5.addingProduct(x, y); c6 = c6.addingProduct(x, y); c7 = c7.addingProduct(x, y)
        c8 = c8.addingProduct(x, y); c9 = c9.addingProduct(x, y); c10 = c10.addingProduct(x, y); c11 = c11.addingProduct(x, y)
#else
        // c * y + x: the product depends on the chain (x * y would be hoisted out of the loop).
        c0 = c0 * y + x; c1 = c1 * y + x; c2 = c2 * y + x; c3 = c3 * y + x
        c4 = c4 * y + x; c5 = c5 * y + x; c6 = c6 * y + x; c7 = c7 * y + x
        c8 = c8 * y + x; c9 = c9 * y + x; c10 = c10 * y + x; c11 = c11 * y + x
#endif
    }
    io.pointee += (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).sum() * 1e-30
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Float32 GFLOP/s of one thread: the best of `runs` runs of `steps` steps each (~0.5 ms
/// apiece at 200 GFLOP/s: the best run is the one no other process interrupted).
func peakGflops(runs: Int, steps: Int = 200_000) -> Double {
    var best = 0.0
    let io = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    defer { io.deallocate() }
    io.pointee = 1e-7
    for _ in 0..<runs {
        let t0 = monotonicSeconds()
        multiplyAddChains(steps, io)
        let t = monotonicSeconds() - t0
        best = max(best, Double(steps) * 12 * Double(PeakVector.scalarCount) * 2 / t / 1e9)
    }
    return best
}
