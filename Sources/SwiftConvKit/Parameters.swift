import SwiftConv

/// Which convolution a `Convolution` computes.
public enum ConvKind: Sendable {
    /// torch.nn.functional.conv1d / conv2d / conv3d.
    case conv
    /// torch.nn.functional.conv_transpose1d / 2d / 3d: the adjoint (input gradient) of a
    /// convolution, used to upsample.
    case convTranspose

    /// The engine's forward op and its backward op.
    var forwardOp: ConvOp { self == .conv ? .conv : .convTranspose }
    var backwardOp: ConvOp { self == .conv ? .convBackward : .convTransposeBackward }
}

/// A per-axis parameter (stride, dilation, output padding): one value for every spatial
/// axis (`stride: 2`) or one per axis, outermost first (`stride: [1, 2, 2]`), as PyTorch
/// accepts an int or a tuple. The number of axes comes from the weight, so a list of the
/// wrong length is reported when the `Convolution` is created.
public struct AxisValues: Equatable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral {
    enum Form: Equatable, Sendable { case all(Int), perAxis([Int]) }
    let form: Form

    /// `value` on every spatial axis.
    public static func all(_ value: Int) -> AxisValues { AxisValues(form: .all(value)) }
    /// One value per spatial axis, outermost first.
    public init(_ values: [Int]) { form = .perAxis(values) }
    public init(integerLiteral value: Int) { form = .all(value) }
    public init(arrayLiteral values: Int...) { form = .perAxis(values) }
    init(form: Form) { self.form = form }

    /// The values for `rank` axes (a per-axis list is passed on as given, for the engine to check).
    func resolved(rank: Int) -> [Int] {
        switch form {
        case .all(let v): return Array(repeating: v, count: rank)
        case .perAxis(let v): return v
        }
    }
}

/// Zero padding of the input's spatial axes.
///
/// Written like PyTorch's argument: `padding: 1` (every side of every axis), `[0, 1, 1]`
/// (both sides, per axis), `.same`, `.valid`, or beyond PyTorch `.explicit([AxisPadding(0,
/// 1), ...])` with different amounts before and after an axis (convolution only).
public enum Padding: Equatable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral {
    /// The output has the input's size (stride 1 only); an odd total puts the extra zero at
    /// the end of the axis, as PyTorch. Convolution only.
    case same
    /// No padding. Convolution only.
    case valid
    /// The same amount before and after each axis.
    case symmetric(AxisValues)
    /// (before, after) per axis, outermost first. Transposed convolution accepts equal
    /// pairs only.
    case explicit([AxisPadding])

    public init(integerLiteral value: Int) { self = .symmetric(.all(value)) }
    public init(arrayLiteral values: Int...) { self = .symmetric(AxisValues(values)) }

    /// The engine's form for `rank` axes.
    func resolved(rank: Int) -> PaddingSpec {
        switch self {
        case .same: return .same
        case .valid: return .valid
        case .symmetric(let v): return .symmetric(v.resolved(rank: rank))
        case .explicit(let pairs): return .explicit(pairs)
        }
    }
}

/// Which gradients `Convolution.backward` computes; leaving out the ones not needed
/// skips their work (e.g. `[.weight, .bias]` for a first layer).
public struct GradientMask: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let input = GradientMask(rawValue: 1)
    public static let weight = GradientMask(rawValue: 2)
    public static let bias = GradientMask(rawValue: 4)
    public static let all: GradientMask = [.input, .weight, .bias]
}
