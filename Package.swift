// swift-tools-version:5.9
// swiftconv: a 2-D convolution engine in pure Swift, exported through a C ABI.
import PackageDescription

// The GEMM micro-kernels are compiled twice from one source file (the baseline target's
// file is a symlink): once for x86-64-v3 (AVX2 + FMA: ymm registers, vfmadd231ps) and once
// for the baseline CPU. SwiftConv chooses between them at load time (sc_cpu_has_avx2_fma).
#if arch(x86_64)
let avx2KernelSettings: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"]), .define("SWIFTCONV_FMA")]
#else
let avx2KernelSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "swiftconv",
    products: [
        // The shared library the Python extension loads. Build it with
        // `swift build -c release -Xswiftc -static-stdlib` so it needs nothing from the toolchain.
        .library(name: "swiftconv", type: .dynamic, targets: ["SwiftConvABI"]),
    ],
    targets: [
        // The one definition of the C ABI (structs, status codes, entry points) and CPU detection.
        .target(name: "CSwiftConv"),
        // The engine: geometry, planner, kernels, thread pool. Pure Swift, no Foundation.
        .target(name: "SwiftConv", dependencies: ["CSwiftConv", "SwiftConvKernelsAVX2", "SwiftConvKernelsBaseline"]),
        // GEMM micro-kernels for AVX2 + FMA CPUs, and the same source for every other CPU.
        .target(name: "SwiftConvKernelsAVX2", dependencies: ["CSwiftConv"], swiftSettings: avx2KernelSettings),
        .target(name: "SwiftConvKernelsBaseline", dependencies: ["CSwiftConv"]),
        // @_cdecl entry points only.
        .target(name: "SwiftConvABI", dependencies: ["SwiftConv", "CSwiftConv"]),
        .testTarget(name: "SwiftConvTests", dependencies: ["SwiftConv", "SwiftConvABI", "CSwiftConv"]),
    ]
)
