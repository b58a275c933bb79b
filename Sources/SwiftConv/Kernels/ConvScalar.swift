import CSwiftConv
import SwiftConvKernelsAVX2
import SwiftConvKernelsBaseline

/// The element types the engine computes in: Float (float32) and Double (float64).
/// Kernels are generic over it and get specialised for both inside this module; the few
/// concrete, twice-compiled SIMD kernels are reached through its static requirements,
/// which pick the AVX2 or the baseline build for this CPU.
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
        if CPUFeatures.hasAVX2FMA {
            SwiftConvKernelsAVX2.directAccumulatePlaneF32(g, x, w, y)
        } else {
            SwiftConvKernelsBaseline.directAccumulatePlaneF32(g, x, w, y)
        }
    }

    public static func directWeightGradientPlane(_ g: sc_plane_geometry, _ x: UnsafePointer<Float>,
                                                 _ dy: UnsafePointer<Float>, _ dw: UnsafeMutablePointer<Float>) {
        if CPUFeatures.hasAVX2FMA {
            SwiftConvKernelsAVX2.directWeightGradientPlaneF32(g, x, dy, dw)
        } else {
            SwiftConvKernelsBaseline.directWeightGradientPlaneF32(g, x, dy, dw)
        }
    }
}

extension Double: ConvScalar {
    public static func directAccumulatePlane(_ g: sc_plane_geometry, _ x: UnsafePointer<Double>,
                                             _ w: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
        if CPUFeatures.hasAVX2FMA {
            SwiftConvKernelsAVX2.directAccumulatePlaneF64(g, x, w, y)
        } else {
            SwiftConvKernelsBaseline.directAccumulatePlaneF64(g, x, w, y)
        }
    }

    public static func directWeightGradientPlane(_ g: sc_plane_geometry, _ x: UnsafePointer<Double>,
                                                 _ dy: UnsafePointer<Double>, _ dw: UnsafeMutablePointer<Double>) {
        if CPUFeatures.hasAVX2FMA {
            SwiftConvKernelsAVX2.directWeightGradientPlaneF64(g, x, dy, dw)
        } else {
            SwiftConvKernelsBaseline.directWeightGradientPlaneF64(g, x, dy, dw)
        }
    }
}
