// The engine's vocabulary, re-exported under the same names so that a program needs only
// `import SwiftConvKit`: the errors it catches, the algorithm names it may pick and the
// per-axis padding pairs it may write. (Typealiases rather than `@_exported import`, so
// the engine's pointer-level API — ConvPlan, ConvEngine.Buffers — stays out of sight.)
import SwiftConv

/// Why a call was refused: `.invalidArgument` (shapes, parameters), `.typeMismatch`,
/// `.outOfMemory`; `message` names the argument and the sizes, in PyTorch's wording.
public typealias ConvError = SwiftConv.ConvError

/// The engine's formulations: `.auto` (the default, fastest for the shape), `.direct`,
/// `.im2col`, `.taps` (convolution), `.scatter`, `.upsample` (transposed convolution) and
/// `.reference` (the plain loops the tests trust). A name the op does not offer is
/// refused when the `Convolution` is created.
public typealias ConvAlgorithm = SwiftConv.ConvAlgorithm

/// Zeros added before and after one spatial axis: `AxisPadding(1, 2)`.
public typealias AxisPadding = SwiftConv.AxisPadding

/// The engine's element types.
public typealias ConvDType = SwiftConv.ConvDType

/// What a convolution's padding holds: `.zeros` (the default), `.reflect`, `.replicate`,
/// `.circular`, as `torch.nn.Conv*d(padding_mode:)`; convolutions only.
public typealias PaddingMode = SwiftConv.PaddingMode

/// An element type the engine takes: `Float` (float32), `Double` (float64) and `Float16`
/// (float16: computed in float32, each result rounded once to nearest even).
///
/// The dtype comes from this conformance, not from the type's size, so that a future
/// 16-, 32- or 64-bit type cannot be taken for one of these by accident. (bfloat16 has no
/// Swift type; the engine takes it through the C ABI and Python.)
public protocol TensorScalar: BinaryFloatingPoint, Sendable {
    /// The engine's dtype for this type.
    static var convDType: ConvDType { get }
}

extension Float: TensorScalar {
    public static var convDType: ConvDType { .float32 }
}

extension Double: TensorScalar {
    public static var convDType: ConvDType { .float64 }
}

#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))  // where Swift has Float16
extension Float16: TensorScalar {
    public static var convDType: ConvDType { .float16 }
}
#endif

/// The engine's thread count, shared by every convolution of the process.
public enum ConvThreads {
    /// Threads one call may use, the caller included. The engine starts with 1 (the Python
    /// package sets its own default); results are bitwise identical for every count.
    public static var count: Int { ThreadPool.shared.numThreads }

    /// Sets the thread count (1...1024); throws `ConvError.invalidArgument` otherwise.
    public static func set(_ n: Int) throws { try ThreadPool.shared.setNumThreads(n) }
}
