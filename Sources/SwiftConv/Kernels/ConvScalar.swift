import CSwiftConv

/// The concrete element type behind a `ConvScalar`: what the engine tests where it hands
/// values to the concrete (Float / Double) SIMD kernels, instead of guessing from a size.
public enum ScalarKind: Sendable {
    /// IEEE binary32, laid out as `Float`.
    case float32
    /// IEEE binary64, laid out as `Double`.
    case float64

    /// log2 of the element size in bytes (2 for float32, 3 for float64).
    @inline(__always) var elementShift: Int {
        switch self {
        case .float32: return 2
        case .float64: return 3
        }
    }
}

/// The element types the engine computes in: Float (float32) and Double (float64).
/// Kernels are generic over it and get specialised for both inside this module; the few
/// concrete, twice-compiled SIMD kernels are reached through the active kernel table
/// (`KernelTable.active`, Runtime/KernelTable.swift), chosen by `kind`.
/// `p` as a pointer to `U`: the kernels' C entry points take Float / Double pointers, and a
/// generic `T` is one of them (`T.kind`).
@inline(__always)
func cast<T, U>(_ p: UnsafePointer<T>) -> UnsafePointer<U> {
    UnsafeRawPointer(p).assumingMemoryBound(to: U.self)
}

@inline(__always)
func castMutable<T, U>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<U> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: U.self)
}

public protocol ConvScalar: BinaryFloatingPoint & SIMDScalar & Codable {
    /// Which concrete type this is. A type whose kind is `.float32` (`.float64`) is `Float`
    /// (`Double`): the kernels read its values as that type.
    static var kind: ScalarKind { get }
    /// y += conv(x, w) for one input plane into one output plane (DirectPlaneKernels.swift).
    static func directAccumulatePlane(_ g: sc_plane_geometry, _ x: UnsafePointer<Self>,
                                      _ w: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>)
    /// dw += the weight gradient of one (x plane, dy plane) pair (DirectPlaneKernels.swift).
    static func directWeightGradientPlane(_ g: sc_plane_geometry, _ x: UnsafePointer<Self>,
                                          _ dy: UnsafePointer<Self>, _ dw: UnsafeMutablePointer<Self>)
}

extension Float: ConvScalar {
    @inline(__always) public static var kind: ScalarKind { .float32 }

    public static func directAccumulatePlane(_ g: sc_plane_geometry, _ x: UnsafePointer<Float>,
                                             _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        KernelTable.active.directAccumulatePlaneF32(g, x, w, y)
    }

    public static func directWeightGradientPlane(_ g: sc_plane_geometry, _ x: UnsafePointer<Float>,
                                                 _ dy: UnsafePointer<Float>, _ dw: UnsafeMutablePointer<Float>) {
        KernelTable.active.directWeightGradientPlaneF32(g, x, dy, dw)
    }
}

extension Double: ConvScalar {
    @inline(__always) public static var kind: ScalarKind { .float64 }

    public static func directAccumulatePlane(_ g: sc_plane_geometry, _ x: UnsafePointer<Double>,
                                             _ w: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
        KernelTable.active.directAccumulatePlaneF64(g, x, w, y)
    }

    public static func directWeightGradientPlane(_ g: sc_plane_geometry, _ x: UnsafePointer<Double>,
                                                 _ dy: UnsafePointer<Double>, _ dw: UnsafeMutablePointer<Double>) {
        KernelTable.active.directWeightGradientPlaneF64(g, x, dy, dw)
    }
}
