// swift-tools-version:5.9
// swiftconv: a 2-D convolution engine in pure Swift, exported through a C ABI.
import PackageDescription

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
        .target(name: "SwiftConv", dependencies: ["CSwiftConv"]),
        // @_cdecl entry points only.
        .target(name: "SwiftConvABI", dependencies: ["SwiftConv", "CSwiftConv"]),
        .testTarget(name: "SwiftConvTests", dependencies: ["SwiftConv", "SwiftConvABI", "CSwiftConv"]),
    ]
)
