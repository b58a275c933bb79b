/// The four operations the engine offers.
public enum ConvOp: Int32, CaseIterable {
    case conv2d = 0, convTranspose2d = 1, conv2dBackward = 2, convTranspose2dBackward = 3

    public var name: String {
        switch self {
        case .conv2d: return "conv2d"
        case .convTranspose2d: return "conv_transpose2d"
        case .conv2dBackward: return "conv2d_backward"
        case .convTranspose2dBackward: return "conv_transpose2d_backward"
        }
    }

    public var isTransposed: Bool { self == .convTranspose2d || self == .convTranspose2dBackward }
    public var isBackward: Bool { self == .conv2dBackward || self == .convTranspose2dBackward }
}

/// Element type of every array of one call.
public enum ConvDType: Int32 { case float32 = 0, float64 = 1 }

/// Padding as the user wrote it.
public enum PaddingSpec: Equatable {
    /// Zeros above, below, left of and right of the input.
    case explicit(top: Int, bottom: Int, left: Int, right: Int)
    /// Output size = input size (stride 1 only); an odd total puts the extra row/column at the
    /// bottom/right, as PyTorch.
    case same
    /// No padding.
    case valid
}

/// Everything the user asked for, before validation: the parameters and the shapes of the
/// arrays exactly as given. `ConvGeometry.plan` turns it into a `ConvPlan` or an error.
public struct ConvRequest {
    public var op: ConvOp
    public var dtype: ConvDType = .float32
    public var stride: (h: Int, w: Int) = (1, 1)
    public var dilation: (h: Int, w: Int) = (1, 1)
    public var padding: PaddingSpec = .explicit(top: 0, bottom: 0, left: 0, right: 0)
    public var outputPadding: (h: Int, w: Int) = (0, 0)
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

    public init(op: ConvOp, inputShape: [Int], weightShape: [Int]) {
        self.op = op
        self.inputShape = inputShape
        self.weightShape = weightShape
    }
}
