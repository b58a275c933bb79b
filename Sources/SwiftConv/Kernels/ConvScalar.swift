/// The element types the engine computes in: Float (float32) and Double (float64).
/// Kernels are generic over it and get specialised for both inside this module.
public protocol ConvScalar: BinaryFloatingPoint & SIMDScalar & Codable {}
extension Float: ConvScalar {}
extension Double: ConvScalar {}
