/// The multiply-add of every kernel: acc + a * b, one fused multiply-add (one rounding) where
/// the build has FMA (AVX2 and AVX-512 builds, arm64), an unfused multiply then add (two
/// roundings) in the x86 baseline build, which targets CPUs without FMA. This one choice
/// fixes each tier's rounding; AVX2 and AVX-512 builds give the same bits. Compiled three
/// times like the other kernel files (the AVX512 and Baseline targets hold symlinks).

/// acc + a * b lane by lane.
@inline(__always)
func fmadd<V: SIMD>(_ acc: V, _ a: V, _ b: V) -> V where V.Scalar: BinaryFloatingPoint {
#if SWIFTCONV_FMA || arch(arm64)
    return acc.addingProduct(a, b)
#else
    return acc + a * b
#endif
}

/// acc + a * b on scalars.
@inline(__always)
func fmadd<T: BinaryFloatingPoint>(_ acc: T, _ a: T, _ b: T) -> T {
#if SWIFTCONV_FMA || arch(arm64)
    return acc.addingProduct(a, b)
#else
    return acc + a * b
#endif
}
