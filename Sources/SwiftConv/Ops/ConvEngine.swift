/// Executes a plan on caller-provided buffers (C-contiguous, aligned, native-endian, of the
/// plan's dtype). Everything was validated by the plan; this only routes buffers to kernels.
public enum ConvEngine {
    /// Buffers of one call. outputs[i] must be non-nil for each present result of the plan.
    public struct Buffers {
        public var input: UnsafeRawPointer?
        public var weight: UnsafeRawPointer?
        public var bias: UnsafeRawPointer?
        public var gradOutput: UnsafeRawPointer?
        public var outputs: [UnsafeMutableRawPointer?]
        public init(input: UnsafeRawPointer?, weight: UnsafeRawPointer?, bias: UnsafeRawPointer?,
                    gradOutput: UnsafeRawPointer?, outputs: [UnsafeMutableRawPointer?]) {
            self.input = input; self.weight = weight; self.bias = bias
            self.gradOutput = gradOutput; self.outputs = outputs
        }
    }

    public static func execute(_ plan: ConvPlan, _ b: Buffers) throws {
        switch plan.request.dtype {
        case .float32: try run(plan, b, Float.self)
        case .float64: try run(plan, b, Double.self)
        }
    }

    private static func run<T: ConvScalar>(_ plan: ConvPlan, _ b: Buffers, _: T.Type) throws {
        let s = plan.geometry.shape
        let op = plan.request.op
        // Typed views; empty arrays may come with any pointer, so a pointer is only required
        // where the array has elements.
        func ro(_ p: UnsafeRawPointer?, _ count: Int, _ name: String) throws -> UnsafePointer<T> {
            if let p { return p.assumingMemoryBound(to: T.self) }
            if count == 0 { return UnsafePointer(bitPattern: MemoryLayout<T>.alignment)! }
            throw ConvError.invalidArgument("\(op.name): missing buffer for \(name)")
        }
        func out(_ i: Int, _ count: Int) throws -> UnsafeMutablePointer<T> {
            if i < b.outputs.count, let p = b.outputs[i] { return p.assumingMemoryBound(to: T.self) }
            if count == 0 { return UnsafeMutablePointer(bitPattern: MemoryLayout<T>.alignment)! }
            throw ConvError.invalidArgument("\(op.name): missing buffer for result \(i)")
        }
        let w = try ro(b.weight, s.weightCount, "weight")
        let bias = b.bias.map { $0.assumingMemoryBound(to: T.self) }

        for step in plan.steps {
            switch (op, step) {
            case (.conv2d, .forward(let k)):
                let y = try out(0, s.outputCount)
                if s.outputCount > 0 { ConvKernels.forward(k, s, x: try ro(b.input, s.inputCount, "input"), w: w, bias: bias, y: y) }
            case (.convTranspose2d, .adjoint(let k)):
                let dx = try out(0, s.inputCount)
                if s.inputCount > 0 { try ConvKernels.adjoint(k, s, dy: try ro(b.input, s.outputCount, "input"), w: w, bias: bias, dx: dx) }
            case (.conv2dBackward, .adjoint(let k)):
                let dx = try out(0, s.inputCount)
                if s.inputCount > 0 { try ConvKernels.adjoint(k, s, dy: try ro(b.gradOutput, s.outputCount, "grad_output"), w: w, bias: nil, dx: dx) }
            case (.conv2dBackward, .weightGradient(let k)):
                let dw = try out(1, s.weightCount)
                if s.weightCount > 0 {
                    ConvKernels.weightGradient(k, s, x: try ro(b.input, s.inputCount, "input"),
                                               dy: try ro(b.gradOutput, s.outputCount, "grad_output"), dw: dw)
                }
            case (.convTranspose2dBackward, .forward(let k)):
                let dx = try out(0, s.outputCount)
                if s.outputCount > 0 { ConvKernels.forward(k, s, x: try ro(b.gradOutput, s.inputCount, "grad_output"), w: w, bias: nil, y: dx) }
            case (.convTranspose2dBackward, .weightGradient(let k)):
                // The transposed op's input plays the conv's dy; its grad_output the conv's x.
                let dw = try out(1, s.weightCount)
                if s.weightCount > 0 {
                    ConvKernels.weightGradient(k, s, x: try ro(b.gradOutput, s.inputCount, "grad_output"),
                                               dy: try ro(b.input, s.outputCount, "input"), dw: dw)
                }
            case (_, .biasGradient):
                let (channels, pixels) = op == .conv2dBackward ? (s.outChannels, s.outPixels) : (s.inChannels, s.inPixels)
                let db = try out(2, channels)
                if channels > 0 {
                    GemmWeightGradient.biasGradient(batch: s.batch, channels: channels, pixels: pixels,
                                                    dy: try ro(b.gradOutput, s.batch * channels * pixels, "grad_output"), db: db)
                }
            default:
                throw ConvError.invalidArgument("\(op.name): internal error, step \(step) does not belong to this op")
            }
        }
    }
}
