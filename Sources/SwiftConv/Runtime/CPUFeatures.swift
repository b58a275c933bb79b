import CSwiftConv

/// What this CPU can run, detected once (in C) when first asked. Kernels compiled for
/// x86-64-v3 are only called when `hasAVX2FMA` is true.
enum CPUFeatures {
    static let hasAVX2FMA: Bool = sc_cpu_has_avx2_fma() != 0
}
