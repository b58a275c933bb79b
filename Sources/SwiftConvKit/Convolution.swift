import SwiftConv
import Synchronization

/// A convolution layer with fixed weights: created once, then called on inputs of any
/// batch size and spatial size, from any number of threads.
///
/// Creation validates every parameter against the weight (so a bad stride, groups or
/// algorithm is reported here, not at the first call). Each input shape is planned once:
/// plans are cached per shape, and the plans that run the forward GEMM on these weights
/// (a convolution's forward pass, a transposed convolution's backward) share one packed
/// copy of them, made at creation or at the first such plan; those that run the flipped
/// kernel on the GEMM (a stride-1 transposed convolution, a convolution's input gradient)
/// share one packed copy of that. Every error is thrown as a
/// `ConvError` with the engine's PyTorch-worded message; nothing traps on bad shapes.
///
/// ```swift
/// let conv = try Convolution(weight: w, bias: b, stride: 2, padding: 1)   // w: (C_out, C_in, kH, kW)
/// let y = try conv(x)                                                      // x: (N, C_in, H, W)
/// let (dx, dw, db) = try conv.backward(gradOutput: dy, input: x)
/// ```
///
/// The spatial rank (conv1d, conv2d, conv3d) is the weight's rank minus 2. Thread safety:
/// everything is immutable after creation except the plan cache, which a mutex guards;
/// the engine lets any number of threads run one plan at once (`@unchecked Sendable`).
public final class Convolution<Scalar: TensorScalar>: @unchecked Sendable {
    public let kind: ConvKind
    /// Spatial axes: 1, 2 or 3.
    public let spatialRank: Int
    public let weight: Tensor<Scalar>
    public let bias: Tensor<Scalar>?
    public let algorithm: ConvAlgorithm
    /// The request every plan starts from (parameters set, shapes filled per call).
    let template: RequestTemplate

    /// Plans per input shape, and the packed weights they share. A plan is a few hundred
    /// bytes; the cache is emptied when it reaches `planLimit` entries, so a caller
    /// cycling through many shapes cannot grow it without bound.
    private struct Cache {
        var plans: [PlanKey: ConvPlan] = [:]
        /// Per GEMM layout: the forward conv's weights, the flipped kernel of the adjoint.
        var packed: [PackedWeights.Layout: PackedWeights] = [:]
    }
    private let cache: Mutex<Cache>
    static var planLimit: Int { 64 }

    private struct PlanKey: Hashable {
        var backward: Bool
        var input: [Int]
        var gradOutput: [Int]?
        var mask: Int
        var outputSize: [Int]? = nil
    }

    /// A convolution (`.conv`, the default) or transposed convolution (`.convTranspose`)
    /// with these weights and parameters; the arguments mean what they mean in
    /// torch.nn.functional.conv{1,2,3}d / conv_transpose{1,2,3}d. `padding` and
    /// `outputPadding` are per axis like `stride`; `outputPadding` is for `.convTranspose`;
    /// `paddingMode` (`.reflect`, `.replicate`, `.circular`) is torch.nn.Conv*d's, for `.conv`.
    /// Throws `ConvError` when any of them is invalid for the weight.
    public init(_ kind: ConvKind = .conv, weight: Tensor<Scalar>, bias: Tensor<Scalar>? = nil,
                stride: AxisValues = 1, padding: Padding = 0, dilation: AxisValues = 1, groups: Int = 1,
                outputPadding: AxisValues = 0, algorithm: ConvAlgorithm = .auto,
                paddingMode: PaddingMode = .zeros) throws {
        let t = try RequestTemplate(kind, Scalar.self, weightShape: weight.shape, biasShape: bias?.shape,
                                    stride: stride, padding: padding, dilation: dilation, groups: groups,
                                    outputPadding: outputPadding, algorithm: algorithm, paddingMode: paddingMode)
        // Plan a made-up input the parameters accept: every rule that does not depend on
        // the input is checked now, and the weights are packed once for all later plans.
        let probe = try weight.storage.withUnsafeBytes {
            try ConvPlan(t.request(kind.forwardOp, input: t.probeInputShape()), weight: $0.baseAddress)
        }
        self.kind = kind
        spatialRank = t.rank
        self.weight = weight
        self.bias = bias
        self.algorithm = algorithm
        template = t
        cache = Mutex(Cache(plans: [:], packed: probe.packedWeights.map { [$0.layout: $0] } ?? [:]))
    }

    /// y = conv(input) (+ bias). `input` is (N, C, *spatial) or unbatched (C, *spatial);
    /// the result has the same batchedness. `outputSize` (`.convTranspose` only, as
    /// `ConvTranspose*d.forward(input, output_size)`): the spatial sizes (or the full shape)
    /// of the result, which fix the output padding; an unreachable size throws, naming the
    /// sizes that are reachable.
    public func callAsFunction(_ input: Tensor<Scalar>, outputSize: [Int]? = nil) throws -> Tensor<Scalar> {
        let p = try plan(PlanKey(backward: false, input: input.shape, gradOutput: nil, mask: 0, outputSize: outputSize))
        return try execute(p, input: input, weight: weight, bias: bias, gradOutput: nil)[0]!
    }

    /// The gradients of a loss with respect to the input, the weight and the bias, given
    /// the loss's gradient with respect to this convolution's output for `input`
    /// (torch's convolution_backward). `mask` selects what to compute; by default every
    /// gradient this convolution has (the bias's only when it has a bias). Gradients left
    /// out are nil.
    /// `outputSize`: the one the forward call was given (`.convTranspose`).
    public func backward(gradOutput: Tensor<Scalar>, input: Tensor<Scalar>, mask: GradientMask? = nil,
                         outputSize: [Int]? = nil) throws
        -> (input: Tensor<Scalar>?, weight: Tensor<Scalar>?, bias: Tensor<Scalar>?) {
        let m = mask ?? (bias == nil ? [.input, .weight] : .all)
        let p = try plan(PlanKey(backward: true, input: input.shape, gradOutput: gradOutput.shape, mask: m.rawValue,
                                 outputSize: outputSize))
        let r = try execute(p, input: input, weight: weight, bias: nil, gradOutput: gradOutput)
        return (r[0], r[1], r[2])
    }

    /// The shape `callAsFunction` returns for an input of `inputShape` (and `outputSize`).
    public func outputShape(for inputShape: [Int], outputSize: [Int]? = nil) throws -> [Int] {
        try plan(PlanKey(backward: false, input: inputShape, gradOutput: nil, mask: 0, outputSize: outputSize))
            .geometry.resultShapes[0]!
    }

    /// What the engine runs for an input of `inputShape`, one decision a line: the
    /// convolution, the depth lowering (3-D), the kernel of each step (`.auto` resolved),
    /// the packed weights. For debugging and for choosing an algorithm.
    public func explain(inputShape: [Int]) throws -> String {
        try plan(PlanKey(backward: false, input: inputShape, gradOutput: nil, mask: 0)).explanation
    }

    /// `explain(inputShape: input.shape)`.
    public func explain(for input: Tensor<Scalar>) throws -> String { try explain(inputShape: input.shape) }

    /// Plans held in the cache (one per input shape seen, and per backward shape and mask).
    public var cachedPlanCount: Int { cache.withLock { $0.plans.count } }

    /// Bytes of the weights packed ahead for the GEMM (0 when no plan uses them).
    public var packedWeightBytes: Int { cache.withLock { $0.packed.values.reduce(0) { $0 + $1.bytes } } }

    /// The cached plan for `key`, or a new one (made outside the lock: planning a new shape
    /// does not hold up calls on other shapes; two threads racing on one new shape both
    /// plan it, and one plan is kept).
    private func plan(_ key: PlanKey) throws -> ConvPlan {
        let op = key.backward ? kind.backwardOp : kind.forwardOp
        // The GEMM this op's plan may pack for: a conv's (and a transposed conv's grad_input)
        // reads the weights as they are, a transposed conv's (and a conv's grad_input) the
        // flipped kernel.
        let layout: PackedWeights.Layout = (op == .conv || op == .convTransposeBackward) ? .forward : .adjoint
        let (cached, packed) = cache.withLock { c in (c.plans[key], c.packed[layout]) }
        if let cached { return cached }
        var r = template.request(op, input: key.input, outputSize: key.outputSize)
        if key.backward {
            r.gradOutputShape = key.gradOutput
            let m = GradientMask(rawValue: key.mask)
            r.outputMask = (m.contains(.input), m.contains(.weight), m.contains(.bias))
        }
        let p = try weight.storage.withUnsafeBytes { try ConvPlan(r, weight: $0.baseAddress, sharing: packed) }
        cache.withLock { c in
            if c.plans.count >= Self.planLimit { c.plans.removeAll(keepingCapacity: true) }
            c.plans[key] = p
            if let w = p.packedWeights, c.packed[w.layout] == nil { c.packed[w.layout] = w }
        }
        return p
    }
}

/// One-off convolution: `Convolution(.conv, ...)(input)` without packing the weights
/// ahead or caching a plan. For repeated calls with the same weights make a
/// `Convolution` once.
public func conv<Scalar: TensorScalar>(_ input: Tensor<Scalar>, _ weight: Tensor<Scalar>, bias: Tensor<Scalar>? = nil,
                                       stride: AxisValues = 1, padding: Padding = 0, dilation: AxisValues = 1,
                                       groups: Int = 1, algorithm: ConvAlgorithm = .auto,
                                       paddingMode: PaddingMode = .zeros) throws -> Tensor<Scalar> {
    let t = try RequestTemplate(.conv, Scalar.self, weightShape: weight.shape, biasShape: bias?.shape,
                                stride: stride, padding: padding, dilation: dilation, groups: groups,
                                outputPadding: 0, algorithm: algorithm, paddingMode: paddingMode)
    let p = try ConvPlan(t.request(.conv, input: input.shape))
    return try execute(p, input: input, weight: weight, bias: bias, gradOutput: nil)[0]!
}

/// One-off transposed convolution (torch.nn.functional.conv_transpose{1,2,3}d; note the
/// weight is (C_in, C_out / groups, *kernel)); `outputSize` as `ConvTranspose*d.forward`'s
/// output_size (it fixes the output padding). For repeated calls make a `Convolution`.
public func convTranspose<Scalar: TensorScalar>(_ input: Tensor<Scalar>, _ weight: Tensor<Scalar>, bias: Tensor<Scalar>? = nil,
                                                stride: AxisValues = 1, padding: Padding = 0, outputPadding: AxisValues = 0,
                                                groups: Int = 1, dilation: AxisValues = 1,
                                                algorithm: ConvAlgorithm = .auto, outputSize: [Int]? = nil) throws -> Tensor<Scalar> {
    let t = try RequestTemplate(.convTranspose, Scalar.self, weightShape: weight.shape, biasShape: bias?.shape,
                                stride: stride, padding: padding, dilation: dilation, groups: groups,
                                outputPadding: outputPadding, algorithm: algorithm)
    let p = try ConvPlan(t.request(.convTranspose, input: input.shape, outputSize: outputSize))
    return try execute(p, input: input, weight: weight, bias: bias, gradOutput: nil)[0]!
}

/// Runs `plan` on the tensors' storage into new result tensors (nil where the plan has no
/// result). The tensors' counts match their shapes (Tensor's invariant) and the plan
/// checked the shapes, so the buffers are exactly the sizes the engine reads and writes.
func execute<Scalar: TensorScalar>(_ plan: ConvPlan, input: Tensor<Scalar>, weight: Tensor<Scalar>,
                                   bias: Tensor<Scalar>?, gradOutput: Tensor<Scalar>?) throws -> [Tensor<Scalar>?] {
    let shapes = plan.geometry.resultShapes  // 1 (forward ops) or 3 (backward ops)
    // Zero-filled rather than uninitialised: the fill is small next to the convolution,
    // and a kernel bug would show as zeros rather than as stale memory.
    func storage(_ i: Int) -> [Scalar] {
        i < shapes.count ? shapes[i].map { [Scalar](repeating: 0, count: $0.reduce(1, *)) } ?? [] : []
    }
    var r0 = storage(0), r1 = storage(1), r2 = storage(2)
    func withOptional<R>(_ t: Tensor<Scalar>?, _ body: (UnsafeRawPointer?) throws -> R) rethrows -> R {
        guard let t else { return try body(nil) }
        return try t.storage.withUnsafeBytes { try body($0.baseAddress) }
    }
    try input.storage.withUnsafeBytes { x in
        try weight.storage.withUnsafeBytes { w in
            try withOptional(bias) { b in
                try withOptional(gradOutput) { g in
                    try r0.withUnsafeMutableBytes { o0 in
                        try r1.withUnsafeMutableBytes { o1 in
                            try r2.withUnsafeMutableBytes { o2 in
                                try ConvEngine.execute(plan, .init(input: x.baseAddress, weight: w.baseAddress, bias: b, gradOutput: g,
                                                                   outputs: [o0.baseAddress, o1.baseAddress, o2.baseAddress]))
                            }
                        }
                    }
                }
            }
        }
    }
    return zip(shapes, [r0, r1, r2]).map { shape, storage in shape.map { Tensor(checkedShape: $0, storage: storage) } }
}
