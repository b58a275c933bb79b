import CSwiftConv
import SwiftConvKernelsAVX2
import SwiftConvKernelsBaseline

/// The element types the engine computes in: Float (float32) and Double (float64).
/// Kernels are generic over it and get specialised for both inside this module; the few
/// concrete, twice-compiled SIMD kernels are reached through its static requirements,
/// which pick the AVX2 or the baseline build for this CPU (`CPUFeatures.tier`; the plane
/// kernels have no AVX-512 build: compiled for x86-64-v4 they measured 1% slower on depthwise
/// 144 ch 56x56, so AVX-512 CPUs run the AVX2 build).
public protocol ConvScalar: BinaryFloatingPoint & SIMDScalar & Codable {
    /// y += conv(x, w) for one input plane into one output plane (DirectPlaneKernels.swift).
    static func directAccumulatePlane(_ g: sc_plane_geometry, _ x: UnsafePointer<Self>,
                                      _ w: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>)
    /// dw += the weight gradient of one (x plane, dy plane) pair (DirectPlaneKernels.swift).
    static func directWeightGradientPlane(_ g: sc_plane_geometry, _ x: UnsafePointer<Self>,
                                          _ dy: UnsafePointer<Self>, _ dw: UnsafeMutablePointer<Self>)
}

extension Float: ConvScalar {
    public static func directAccumulatePlane(_ g: sc_plane_geometry, _ x: UnsafePointer<Float>,
                                             _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        switch CPUFeatures.tier {
        case .avx512, .avx2: SwiftConvKernelsAVX2.directAccumulatePlaneF32(g, x, w, y)
        case .baseline: SwiftConvKernelsBaseline.directAccumulatePlaneF32(g, x, w, y)
        }
    }

    public static func directWeightGradientPlane(_ g: sc_plane_geometry, _ x: UnsafePointer<Float>,
                                                 _ dy: UnsafePointer<Float>, _ dw: UnsafeMutablePointer<Float>) {
        switch CPUFeatures.tier {
        case .avx512, .avx2: SwiftConvKernelsAVX2.directWeightGradientPlaneF32(g, x, dy, dw)
        case .baseline: SwiftConvKernelsBaseline.directWeightGradientPlaneF32(g, x, dy, dw)
        }
    }
}

extension Double: ConvScalar {
    public static func directAccumulatePlane(_ g: sc_plane_geometry, _ x: UnsafePointer<Double>,
                                             _ w: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
        switch CPUFeatures.tier {
        case .avx512, .avx2: SwiftConvKernelsAVX2.directAccumulatePlaneF64(g, x, w, y)
        case .baseline: SwiftConvKernelsBaseline.directAccumulatePlaneF64(g, x, w, y)
        }
    }

    public static func directWeightGradientPlane(_ g: sc_plane_geometry, _ x: UnsafePointer<Double>,
                                                 _ dy: UnsafePointer<Double>, _ dw: UnsafeMutablePointer<Double>) {
        switch CPUFeatures.tier {
        case .avx512, .avx2: SwiftConvKernelsAVX2.directWeightGradientPlaneF64(g, x, dy, dw)
        case .baseline: SwiftConvKernelsBaseline.directWeightGradientPlaneF64(g, x, dy, dw)
        }
    }
}
