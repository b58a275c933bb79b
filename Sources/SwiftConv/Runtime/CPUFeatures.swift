import CSwiftConv

/// What this CPU can run, detected once (in C) when first asked. Kernels compiled for
/// x86-64-v3 are only called when `hasAVX2FMA` is true, those compiled for x86-64-v4 only
/// when `hasAVX512` is true.
enum CPUFeatures {
    static let hasAVX2FMA: Bool = sc_cpu_has_avx2_fma() != 0
    static let hasAVX512: Bool = sc_cpu_has_avx512() != 0

    /// The best kernel build this CPU can run (the engine runs `KernelTable.active`, chosen
    /// from this and SWIFTCONV_KERNEL_TIER: Runtime/KernelTable.swift).
    static let bestTier: KernelTier = hasAVX512 ? .avx512 : hasAVX2FMA ? .avx2 : .baseline
}

/// The builds of the SIMD kernels (SwiftConvKernelsBaseline / AVX2 / AVX512), in order.
enum KernelTier: Int, Comparable, CaseIterable, CustomStringConvertible {
    /// Any CPU: SSE2 on x86-64, unfused multiply-add.
    case baseline
    /// x86-64-v3: AVX2 + FMA, 256-bit vectors.
    case avx2
    /// x86-64-v4: AVX-512, 512-bit vectors and wider GEMM tiles.
    case avx512

    static func < (l: KernelTier, r: KernelTier) -> Bool { l.rawValue < r.rawValue }

    /// The tiers this CPU can run, lowest first.
    static var available: [KernelTier] { allCases.filter { $0 <= CPUFeatures.bestTier } }

    var description: String {
        switch self {
        case .baseline: return "baseline"
        case .avx2: return "AVX2+FMA"
        case .avx512: return "AVX-512"
        }
    }
}
