// swift-tools-version:5.9
// swiftconv: a 1-D, 2-D and 3-D convolution engine in pure Swift, exported through a C ABI
// (for the Python package) and a typed Swift API (SwiftConvKit).
import PackageDescription

// The SIMD kernels are compiled more than once from one set of source files (the other
// targets' files are symlinks to SwiftConvKernelsAVX2's): the GEMM micro-kernels for
// x86-64-v4 (AVX-512: zmm registers, vfmadd231ps with embedded broadcasts, the wider
// `#if SWIFTCONV_AVX512` tiles), and all kernels for x86-64-v3 (AVX2 + FMA: ymm registers)
// and for the baseline CPU. SwiftConv chooses one at load time (sc_cpu_has_avx512,
// sc_cpu_has_avx2_fma); code compiled for a newer level is never called on a CPU without it.
#if arch(x86_64)
let avx512KernelSettings: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v4"]), .define("SWIFTCONV_FMA"), .define("SWIFTCONV_AVX512")]
let avx2KernelSettings: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"]), .define("SWIFTCONV_FMA")]
#else
let avx512KernelSettings: [SwiftSetting] = []
let avx2KernelSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "swiftconv",
    products: [
        // The shared library the Python extension loads. Build it with
        // `swift build -c release -Xswiftc -static-stdlib` so it needs nothing from the toolchain.
        .library(name: "swiftconv", type: .dynamic, targets: ["SwiftConvABI"]),
        // The typed Swift API (Tensor, Convolution) for Swift programs.
        .library(name: "SwiftConvKit", targets: ["SwiftConvKit"]),
    ],
    targets: [
        // The one definition of the C ABI (structs, status codes, entry points) and CPU detection.
        .target(name: "CSwiftConv"),
        // The engine: geometry, planner, kernels, thread pool. Pure Swift, no Foundation.
        .target(name: "SwiftConv", dependencies: ["CSwiftConv", "SwiftConvKernelsAVX512", "SwiftConvKernelsAVX2", "SwiftConvKernelsBaseline"]),
        // GEMM micro-kernels for AVX-512 CPUs; GEMM micro-kernels and direct plane kernels
        // for AVX2 + FMA CPUs, and the same source for every other CPU.
        .target(name: "SwiftConvKernelsAVX512", dependencies: ["CSwiftConv"], swiftSettings: avx512KernelSettings),
        .target(name: "SwiftConvKernelsAVX2", dependencies: ["CSwiftConv"], swiftSettings: avx2KernelSettings),
        .target(name: "SwiftConvKernelsBaseline", dependencies: ["CSwiftConv"]),
        // @_cdecl entry points only.
        .target(name: "SwiftConvABI", dependencies: ["SwiftConv", "CSwiftConv"]),
        // A typed Swift API over the engine's plans: no raw pointers asked of the caller.
        .target(name: "SwiftConvKit", dependencies: ["SwiftConv"]),
        .testTarget(name: "SwiftConvTests", dependencies: ["SwiftConv", "SwiftConvABI", "CSwiftConv"]),
        .testTarget(name: "SwiftConvKitTests", dependencies: ["SwiftConvKit"]),
    ]
)
