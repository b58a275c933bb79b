/// The four operations the engine offers, for any number of spatial axes (1, 2 or 3).
public enum ConvOp: Int32, CaseIterable, Sendable {
    case conv = 0, convTranspose = 1, convBackward = 2, convTransposeBackward = 3

    /// The op's name for `rank` spatial axes, as torch.nn.functional spells it
    /// ("conv3d", "conv_transpose1d", "conv2d_backward", ...).
    public func name(rank: Int) -> String {
        switch self {
        case .conv: return "conv\(rank)d"
        case .convTranspose: return "conv_transpose\(rank)d"
        case .convBackward: return "conv\(rank)d_backward"
        case .convTransposeBackward: return "conv_transpose\(rank)d_backward"
        }
    }

    public var isTransposed: Bool { self == .convTranspose || self == .convTransposeBackward }
    public var isBackward: Bool { self == .convBackward || self == .convTransposeBackward }
}

/// Element type of every array of one call (the raw values are the C ABI's `sc_dtype`).
/// float16 and bfloat16 arrays are computed in float32: the plan widens them into float32
/// workspaces, runs the float32 kernels and rounds the results back (`ConvPlan.Step.widen`,
/// `.narrow`).
public enum ConvDType: Int32, CaseIterable, Sendable {
    case float32 = 0, float64 = 1
    /// IEEE binary16 (NumPy's float16).
    case float16 = 2
    /// The top half of a float32: 8 exponent bits, 7 mantissa bits (ml_dtypes.bfloat16).
    case bfloat16 = 3

    /// The type the kernels compute in: float64 for float64, float32 for the others.
    public var computeType: ConvDType { self == .float64 ? .float64 : .float32 }

    /// float16 or bfloat16: stored in 16 bits, converted to and from float32 at the boundary.
    public var isHalf: Bool { self == .float16 || self == .bfloat16 }

    /// Bytes of one element as stored in the caller's arrays.
    public var storageBytes: Int {
        switch self {
        case .float32: return 4
        case .float64: return 8
        case .float16, .bfloat16: return 2
        }
    }

    /// Bytes of one element of the kernels' buffers (`computeType`'s).
    public var computeBytes: Int { computeType.storageBytes }

    /// NumPy's name ("float32", "float64", "float16", "bfloat16").
    public var name: String {
        switch self {
        case .float32: return "float32"
        case .float64: return "float64"
        case .float16: return "float16"
        case .bfloat16: return "bfloat16"
        }
    }
}

/// Zeros added before and after one spatial axis.
public struct AxisPadding: Hashable, Sendable {
    public var before: Int
    public var after: Int
    public init(_ before: Int, _ after: Int) { self.before = before; self.after = after }
}

/// Padding as the user wrote it.
public enum PaddingSpec: Hashable, Sendable {
    /// Zeros before and after each spatial axis (outermost axis first).
    case explicit([AxisPadding])
    /// Output size = input size (stride 1 only); an odd total puts the extra element at the
    /// end of the axis, as PyTorch.
    case same
    /// No padding.
    case valid

    /// The same amount on both sides of every axis.
    public static func symmetric(_ amounts: [Int]) -> PaddingSpec { .explicit(amounts.map { AxisPadding($0, $0) }) }

    /// 2-D padding by side.
    public static func explicit(top: Int, bottom: Int, left: Int, right: Int) -> PaddingSpec {
        .explicit([AxisPadding(top, bottom), AxisPadding(left, right)])
    }
}

/// How the border of the input is filled before a (non-transposed) convolution, as
/// `torch.nn.Conv*d(padding_mode=...)`: zeros, or the input's own values mirrored without
/// the edge (reflect), repeated from the edge (replicate) or wrapped around (circular).
/// The raw values are the C ABI's `sc_padding_mode`.
public enum PaddingMode: Int32, CaseIterable, Sendable {
    case zeros = 0, reflect = 1, replicate = 2, circular = 3

    /// The name PyTorch uses ("zeros", "reflect", "replicate", "circular").
    public var name: String {
        switch self {
        case .zeros: return "zeros"
        case .reflect: return "reflect"
        case .replicate: return "replicate"
        case .circular: return "circular"
        }
    }
}

/// How the activations of a call (input, output, grad_output, grad_input) lie in memory.
/// The shapes stay PyTorch's logical ones, (N, C, *spatial) or unbatched (C, *spatial);
/// the layout only changes the strides. Weights are always in PyTorch's
/// (C_out, C_in/groups, *kernel) order, C-contiguous. The raw values are the C ABI's
/// `sc_layout`.
public enum ActivationLayout: Int32, CaseIterable, Sendable {
    /// C-contiguous (N, C, *spatial): PyTorch's `torch.contiguous_format`.
    case channelsFirst = 0
    /// C-contiguous (N, *spatial, C) viewed as (N, C, *spatial): PyTorch's
    /// `torch.channels_last` (NHWC), `channels_last_3d` (NDHWC), and NLC for 1-D.
    case channelsLast = 1

    public var name: String { self == .channelsFirst ? "channels-first" : "channels-last" }
}

/// Everything the user asked for, before validation: the parameters and the shapes of the
/// arrays exactly as given. `ConvGeometry(validating:)` checks it; `ConvPlan` plans it.
/// Per-axis parameters hold one value per spatial axis, outermost first.
public struct ConvRequest: Sendable {
    public var op: ConvOp
    /// Spatial axes: 1 (conv1d), 2 (conv2d) or 3 (conv3d).
    public var spatialRank: Int
    public var dtype: ConvDType = .float32
    /// The memory layout of every activation array of the call (input, output, grad_output,
    /// grad_input); the weights are channels-first whatever this says.
    public var layout: ActivationLayout = .channelsFirst
    public var stride: [Int]
    public var dilation: [Int]
    public var padding: PaddingSpec
    /// What the padding holds (conv ops and their backward; transposed ops: zeros only).
    public var paddingMode: PaddingMode = .zeros
    public var outputPadding: [Int]
    /// Transposed ops: the requested output size, as `ConvTranspose*d.forward(input,
    /// output_size)` takes it (`rank` sizes, or the full shape: the last `rank` entries are
    /// used). When given it fixes output_padding, and `outputPadding` is ignored.
    public var outputSize: [Int]? = nil
    public var groups: Int = 1
    /// Algorithm name ("auto", "direct", ...); checked against the op by the planner.
    public var algorithm: String = "auto"
    public var inputShape: [Int]
    public var weightShape: [Int]
    /// Forward ops: the bias array's shape, if a bias is given.
    public var biasShape: [Int]? = nil
    /// Backward ops: the shape of grad_output.
    public var gradOutputShape: [Int]? = nil
    /// Backward ops: which of (grad_input, grad_weight, grad_bias) to compute.
    public var outputMask: (input: Bool, weight: Bool, bias: Bool) = (true, true, true)

    /// A request with every parameter at its default (stride 1, no padding, ...).
    public init(op: ConvOp, spatialRank: Int = 2, inputShape: [Int], weightShape: [Int]) {
        self.op = op
        self.spatialRank = spatialRank
        self.inputShape = inputShape
        self.weightShape = weightShape
        let r = max(0, min(spatialRank, 3))
        stride = Array(repeating: 1, count: r)
        dilation = Array(repeating: 1, count: r)
        padding = .symmetric(Array(repeating: 0, count: r))
        outputPadding = Array(repeating: 0, count: r)
    }

    /// The op's user-facing name ("conv2d", "conv_transpose3d_backward", ...).
    public var opName: String { op.name(rank: spatialRank) }
}

/// The arrays a call reads, by the names its errors use ("input", "weight", "bias",
/// "grad_output").
public enum ConvArray: String, Sendable {
    case input, weight, bias
    case gradOutput = "grad_output"
}
