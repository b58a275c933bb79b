/// Runs a chosen kernel: the switch from a kernel name to its implementation. Every kernel
/// here takes a planar shape, except the reference kernels, which take any.
enum ConvKernels {
    /// `packed`: the weights packed ahead for the GEMM (used by im2col), or nil;
    /// `schedule`: the planner's im2col decisions for `s`, or nil (decided by the kernel);
    /// `blocked`: the weights packed ahead for "blocked" (`ChannelBlockedConvolution.packWeights`), or nil.
    static func forward<T: ConvScalar>(_ kernel: ForwardKernel, _ s: ConvShape, x: UnsafePointer<T>,
                                       w: UnsafePointer<T>, bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>,
                                       packed: [PackedMatrix<T>]? = nil, schedule: Im2colConvolution.Schedule? = nil,
                                       blocked: UnsafePointer<Float>? = nil) {
        switch kernel {
        case .reference: ReferenceKernels.forward(s, x: x, w: w, bias: bias, y: y)
        case .direct: DirectConvolution.forward(s, x: x, w: w, bias: bias, y: y)
        case .im2col: Im2colConvolution.forward(s, x: x, w: w, bias: bias, y: y, packed: packed, schedule: schedule)
        case .taps: TapsConvolution.forward(s, x: x, w: w, bias: bias, y: y)
        case .dot:
            // (A shape the dot products do not run, asked for by a test: the GEMM.)
            if OnePixelConvolution.supports(s) {
                OnePixelConvolution.forward(s, x: x, w: w, bias: bias, y: y)
            } else {
                Im2colConvolution.forward(s, x: x, w: w, bias: bias, y: y, packed: packed, schedule: schedule)
            }
        case .blocked:
            // (Where it does not run: the GEMM, inside.)
            ChannelBlockedConvolution.forward(s, x: x, w: w, bias: bias, y: y, packed: blocked)
        case .depthwise:
            // (A shape the depthwise kernels do not run, asked for by a test: the plane kernels.)
            if DepthwiseConvolution.supports(s, adjoint: false) {
                DepthwiseConvolution.forward(s, x: x, w: w, bias: bias, y: y)
            } else {
                DirectConvolution.forward(s, x: x, w: w, bias: bias, y: y)
            }
        }
    }

    /// `inner`: the forward kernel of the upsample formulation (chosen by the planner; nil
    /// chooses it here, for tests that call kernels directly), with its im2col schedule;
    /// `packed`: the flipped kernel packed ahead for it (PackedWeights, adjoint layout), or nil;
    /// `phasePacked`: the phase kernels packed ahead for "phase" (PackedWeights, phase layout), or nil;
    /// `scatterRoute`: the plan's route for "scatter" (nil: `KernelSelector.scatterRoute`);
    /// `phases`: the plan's phase decomposition of `s` for "phase" (nil: made here).
    /// `scatterPanels`: the weights packed ahead for scatter's pixel vectors (`ScatterWeightPanels`), or nil.
    static func adjoint<T: ConvScalar>(_ kernel: AdjointKernel, _ s: ConvShape, dy: UnsafePointer<T>,
                                       w: UnsafePointer<T>, bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>,
                                       inner: ForwardKernel? = nil, innerSchedule: Im2colConvolution.Schedule? = nil,
                                       packed: [PackedMatrix<T>]? = nil, phasePacked: [PackedMatrix<T>]? = nil,
                                       scatterRoute: ScatterAdjoint.Route? = nil, phases: PhaseDecomposition? = nil,
                                       scatterPanels: ScatterWeightPanels? = nil) throws {
        switch kernel {
        case .reference: ReferenceKernels.adjoint(s, dy: dy, w: w, bias: bias, dx: dx)
        case .phase:
            // (A shape the phases do not run, asked for by a test: scatter.)
            if PhaseDecomposition.supports(s) {
                try PhaseAdjoint.adjoint(s, dy: dy, w: w, bias: bias, dx: dx, packed: phasePacked, phases: phases)
            } else {
                try ScatterAdjoint.adjoint(s, dy: dy, w: w, bias: bias, dx: dx)
            }
        case .depthwise:
            if DepthwiseConvolution.supports(s, adjoint: true) {
                DepthwiseConvolution.adjoint(s, dy: dy, w: w, bias: bias, dx: dx)
            } else {
                try ScatterAdjoint.adjoint(s, dy: dy, w: w, bias: bias, dx: dx)
            }
        case .scatter: try ScatterAdjoint.adjoint(s, dy: dy, w: w, bias: bias, dx: dx, route: scatterRoute, panels: scatterPanels)
        case .upsample:
            let forward = inner ?? UpsampleAdjoint.equivalentConvolution(s).map(KernelSelector.upsampleInner) ?? .reference
            try UpsampleAdjoint.adjoint(s, dy: dy, w: w, bias: bias, dx: dx, forward: forward, schedule: innerSchedule, packed: packed)
        }
    }

    /// `route`: the plan's route for the GEMM (nil: `KernelSelector.weightGradientRoute`).
    static func weightGradient<T: ConvScalar>(_ kernel: WeightGradientKernel, _ s: ConvShape, x: UnsafePointer<T>,
                                              dy: UnsafePointer<T>, dw: UnsafeMutablePointer<T>,
                                              route: GemmWeightGradient.Route? = nil) {
        switch kernel {
        case .reference: ReferenceKernels.weightGradient(s, x: x, dy: dy, dw: dw)
        case .gemm: GemmWeightGradient.weightGradient(s, x: x, dy: dy, dw: dw, route: route)
        case .direct: DirectConvolution.weightGradient(s, x: x, dy: dy, dw: dw)
        case .depthwise:
            if DepthwiseConvolution.supports(s, adjoint: false) {
                DepthwiseConvolution.weightGradient(s, x: x, dy: dy, dw: dw)
            } else {
                DirectConvolution.weightGradient(s, x: x, dy: dy, dw: dw)
            }
        }
    }
}
