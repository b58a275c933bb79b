/// A validated request with its kernels chosen: what `ConvEngine.execute` runs.
public struct ConvPlan {
    public let request: ConvRequest
    public let geometry: ConvGeometry
    public let algorithm: ConvAlgorithm
    /// The steps the op runs, each with its kernel (see `explain`).
    public let steps: [Step]

    public enum Step {
        /// y = conv(x, w) (+ bias).
        case forward(ForwardKernel)
        /// x = conv^T(y, w) (+ bias).
        case adjoint(AdjointKernel)
        case weightGradient(WeightGradientKernel)
        case biasGradient
    }

    public init(_ request: ConvRequest) throws {
        self.request = request
        geometry = try ConvGeometry(validating: request)
        algorithm = try ConvAlgorithm.parse(request.algorithm, for: request.op)
        let s = geometry.shape, a = algorithm
        let m = request.outputMask
        switch request.op {
        case .conv2d:
            steps = [.forward(KernelSelector.forward(s, a))]
        case .convTranspose2d:
            steps = [.adjoint(KernelSelector.adjoint(s, a))]
        case .conv2dBackward:
            // grad_input = conv^T(grad_output, w); grad_weight = x (*) grad_output.
            var st: [Step] = []
            if m.input { st.append(.adjoint(KernelSelector.adjoint(s, a))) }
            if m.weight { st.append(.weightGradient(KernelSelector.weightGradient(s, a))) }
            if m.bias { st.append(.biasGradient) }
            steps = st
        case .convTranspose2dBackward:
            // The transposed op is y = conv^T(x, w): grad_input = conv(grad_output, w);
            // grad_weight is the conv weight gradient with (x, dy) = (grad_output, input).
            var st: [Step] = []
            if m.input { st.append(.forward(KernelSelector.forward(s, a))) }
            if m.weight { st.append(.weightGradient(KernelSelector.weightGradient(s, a))) }
            if m.bias { st.append(.biasGradient) }
            steps = st
        }
    }

    /// One line per step: what runs, with which kernel, on which convolution.
    public var explanation: String {
        var lines = ["\(request.op.name) algorithm=\(algorithm.rawValue) conv: \(geometry.shape)"]
        for step in steps {
            switch step {
            case .forward(let k): lines.append("  forward conv: \(k.rawValue)")
            case .adjoint(.upsample):
                let inner = UpsampleAdjoint.equivalentConvolution(geometry.shape).map { KernelSelector.forward($0, .auto).rawValue }
                lines.append("  transposed conv: upsample, then forward conv: \(inner ?? "none (too large)")")
            case .adjoint(let k): lines.append("  transposed conv: \(k.rawValue)")
            case .weightGradient(let k): lines.append("  weight gradient: \(k.rawValue)")
            case .biasGradient: lines.append("  bias gradient: channel sums")
            }
        }
        return lines.joined(separator: "\n")
    }
}
