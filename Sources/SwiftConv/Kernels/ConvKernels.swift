/// Runs a chosen kernel: the switch from a kernel name to its implementation.
enum ConvKernels {
    static func forward<T: ConvScalar>(_ kernel: ForwardKernel, _ s: ConvShape, x: UnsafePointer<T>,
                                       w: UnsafePointer<T>, bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>) {
        switch kernel {
        case .reference: ReferenceKernels.forward(s, x: x, w: w, bias: bias, y: y)
        case .direct: DirectConvolution.forward(s, x: x, w: w, bias: bias, y: y)
        case .im2col: Im2colConvolution.forward(s, x: x, w: w, bias: bias, y: y)
        case .taps: TapsConvolution.forward(s, x: x, w: w, bias: bias, y: y)
        }
    }

    static func adjoint<T: ConvScalar>(_ kernel: AdjointKernel, _ s: ConvShape, dy: UnsafePointer<T>,
                                       w: UnsafePointer<T>, bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>) throws {
        switch kernel {
        case .reference: ReferenceKernels.adjoint(s, dy: dy, w: w, bias: bias, dx: dx)
        case .scatter: try ScatterAdjoint.adjoint(s, dy: dy, w: w, bias: bias, dx: dx)
        case .upsample:
            let forward = UpsampleAdjoint.equivalentConvolution(s).map { KernelSelector.forward($0, .auto) } ?? .reference
            try UpsampleAdjoint.adjoint(s, dy: dy, w: w, bias: bias, dx: dx, forward: forward)
        }
    }

    static func weightGradient<T: ConvScalar>(_ kernel: WeightGradientKernel, _ s: ConvShape, x: UnsafePointer<T>,
                                              dy: UnsafePointer<T>, dw: UnsafeMutablePointer<T>) {
        switch kernel {
        case .reference: ReferenceKernels.weightGradient(s, x: x, dy: dy, dw: dw)
        case .gemm: GemmWeightGradient.weightGradient(s, x: x, dy: dy, dw: dw)
        case .direct: DirectConvolution.weightGradient(s, x: x, dy: dy, dw: dw)
        }
    }
}
