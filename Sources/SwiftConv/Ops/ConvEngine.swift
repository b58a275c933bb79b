/// Executes a plan on caller-provided buffers (aligned, native-endian, of the plan's dtype,
/// C-contiguous in the plan's layout). Everything was validated and decided by the plan; this only routes
/// buffers to the kernels it chose. A float16 / bfloat16 plan runs as a float32 one between
/// its widen and narrow steps (`runConverted`).
public enum ConvEngine {
    /// Buffers of one call. outputs[i] must be non-nil for each present result of the plan.
    public struct Buffers {
        public var input: UnsafeRawPointer?
        public var weight: UnsafeRawPointer?
        public var bias: UnsafeRawPointer?
        public var gradOutput: UnsafeRawPointer?
        public var outputs: [UnsafeMutableRawPointer?]
        /// A float16 / bfloat16 call's own input and grad_output, for the steps that convert
        /// as they go (`.halfKernel`) while the other steps read the widened copies above.
        var halfInput: UnsafeRawPointer? = nil, halfGradOutput: UnsafeRawPointer? = nil
        public init(input: UnsafeRawPointer?, weight: UnsafeRawPointer?, bias: UnsafeRawPointer?,
                    gradOutput: UnsafeRawPointer?, outputs: [UnsafeMutableRawPointer?]) {
            self.input = input; self.weight = weight; self.bias = bias
            self.gradOutput = gradOutput; self.outputs = outputs
        }
    }

    public static func execute(_ plan: ConvPlan, _ b: Buffers) throws {
        if plan.steps.contains(where: { if case .toChannelsFirst = $0 { return true }; return false }) {
            return try runRelayout(plan, b)
        }
        try runInLayout(plan, b)
    }

    /// The plan's steps on buffers in the layout they read (channels-first, or channels-last
    /// for the channels-last kernels).
    private static func runInLayout(_ plan: ConvPlan, _ b: Buffers) throws {
        switch plan.request.dtype {
        case .float32: try run(plan, b, Float.self)
        case .float64: try run(plan, b, Double.self)
        case .float16, .bfloat16: try runConverted(plan, b)
        }
    }

    /// A channels-last plan whose steps have no channels-last kernel: its toChannelsFirst
    /// step (the activations it names transposed into one workspace, which also holds the
    /// channels-first activation results), the channels-first steps on those copies (bit for
    /// bit the channels-first plan's computation), then its toChannelsLast step (each
    /// activation result transposed into the caller's buffer). Works on the caller's dtype,
    /// outside any widening: the conversions only move values.
    private static func runRelayout(_ plan: ConvPlan, _ b: Buffers) throws {
        let r = plan.request, name = r.opName, bytes = r.dtype.storageBytes
        var read: [ConvArray] = [], converted: [Int] = []
        for step in plan.steps {
            if case .toChannelsFirst(let arrays) = step { read = arrays }
            if case .toChannelsLast(let results) = step { converted = results }
        }
        func dims(_ shape: [Int]?) throws -> (batch: Int, channels: Int, pixels: Int, bytes: Int) {
            guard let shape, let d = LayoutConversion.dims(shape, rank: r.spatialRank) else {
                throw ConvError.invalidArgument("\(name): internal error, an activation without a shape")
            }
            let (c, o1) = d.batch.multipliedReportingOverflow(by: d.channels)
            let (n, o2) = c.multipliedReportingOverflow(by: d.pixels)
            let (total, o3) = n.multipliedReportingOverflow(by: bytes)
            if o1 || o2 || o3 { throw ConvError.invalidArgument("\(name): array of shape \(shape) is too large") }
            return (d.batch, d.channels, d.pixels, total)
        }
        // One workspace: the channels-first copies, then the channels-first results; every
        // part 64-byte aligned.
        var layout = WorkspaceLayout(alignment: 64, tooLarge: "swiftconv: the channels-first copies of a channels-last \(name) are too large")
        func reserve(_ n: Int) throws -> Int { try layout.reserve(n) }
        let inputs = try read.map { a -> (ConvArray, UnsafeRawPointer?, (batch: Int, channels: Int, pixels: Int, bytes: Int), Int) in
            let (pointer, shape): (UnsafeRawPointer?, [Int]?) = a == .gradOutput ? (b.gradOutput, r.gradOutputShape) : (b.input, r.inputShape)
            let d = try dims(shape)
            return (a, pointer, d, try reserve(d.bytes))
        }
        let shapes = plan.geometry.resultShapes
        let outputs = try converted.map { i -> (Int, (batch: Int, channels: Int, pixels: Int, bytes: Int), Int) in
            let d = try dims(i < shapes.count ? shapes[i] : nil)
            return (i, d, try reserve(d.bytes))
        }
        let workspace = try Workspace<UInt8>(count: layout.total, for: "the channels-first copies of the channels-last arrays")
        let base = UnsafeMutableRawPointer(workspace.pointer)

        var cf = b
        for (array, pointer, d, offset) in inputs {
            let dst = base + offset
            if d.bytes > 0 {
                guard let pointer else { throw ConvError.invalidArgument("\(name): missing buffer for \(array.rawValue)") }
                LayoutConversion.toChannelsFirst(pointer, dst, batch: d.batch, channels: d.channels, pixels: d.pixels, elementBytes: bytes)
            }
            if array == .gradOutput { cf.gradOutput = UnsafeRawPointer(dst) } else { cf.input = UnsafeRawPointer(dst) }
        }
        for (i, _, offset) in outputs where i < cf.outputs.count { cf.outputs[i] = base + offset }

        try runInLayout(plan, cf)

        for (i, d, offset) in outputs where d.bytes > 0 {
            guard i < b.outputs.count, let dst = b.outputs[i] else { throw ConvError.invalidArgument("\(name): missing buffer for result \(i)") }
            LayoutConversion.toChannelsLast(UnsafeRawPointer(base + offset), dst, batch: d.batch, channels: d.channels, pixels: d.pixels,
                                            elementBytes: bytes)
        }
    }

    /// A float16 / bfloat16 plan: its widen step (the arrays it names into one float32
    /// workspace, together with room for the float32 results), the float32 steps on those
    /// copies (bit for bit the float32 plan's computation of the widened values), then its
    /// narrow step (each result rounded to nearest even into the caller's buffer).
    private static func runConverted(_ plan: ConvPlan, _ b: Buffers) throws {
        if plan.steps.isEmpty { return }  // a backward op with every output_mask entry False
        let r = plan.request, dtype = r.dtype, name = r.opName
        var widened: [ConvArray] = [], narrowed: [Int] = []
        for step in plan.steps {
            if case .widen(_, let arrays) = step { widened = arrays }
            if case .narrow(_, let results) = step { narrowed = results }
        }
        func count(_ shape: [Int]) throws -> Int {
            var n = 1
            for d in shape {
                let (p, o) = n.multipliedReportingOverflow(by: d)
                if o || d < 0 { throw ConvError.invalidArgument("\(name): array of shape \(shape) is too large") }
                n = p
            }
            return n
        }
        func source(_ a: ConvArray) throws -> (UnsafeRawPointer?, Int) {
            switch a {
            case .input: return (b.input, try count(r.inputShape))
            case .weight: return (b.weight, try count(r.weightShape))
            case .bias: return (b.bias, try count(r.biasShape ?? [0]))
            case .gradOutput: return (b.gradOutput, try count(r.gradOutputShape ?? [0]))
            }
        }
        // One workspace: the widened arrays, then the float32 results; every part 64-byte
        // aligned (16 floats).
        var layout = WorkspaceLayout(alignment: 16, tooLarge: "swiftconv: the float32 copies of a \(dtype.name) \(name) are too large")
        var offsets: [Int] = []
        func reserve(_ n: Int) throws { offsets.append(try layout.reserve(n)) }
        let sources = try widened.map(source)
        for (_, n) in sources { try reserve(n) }
        let resultCounts = try plan.geometry.resultShapes.map { try $0.map(count) ?? 0 }
        for (i, n) in resultCounts.enumerated() { try reserve(narrowed.contains(i) ? n : 0) }
        let workspace = try Workspace<Float>(count: layout.total, for: "the float32 copies of the \(dtype.name) arrays")
        let base = workspace.pointer

        var b32 = Buffers(input: nil, weight: nil, bias: nil, gradOutput: nil, outputs: [nil, nil, nil])
        for (i, (array, (pointer, n))) in zip(widened, sources).enumerated() {
            let dst = base + offsets[i]
            if n > 0 {
                guard let pointer else { throw ConvError.invalidArgument("\(name): missing buffer for \(array.rawValue)") }
                widen(dtype, pointer.assumingMemoryBound(to: UInt16.self), into: dst, count: n)
            }
            switch array {
            case .input: b32.input = UnsafeRawPointer(dst)
            case .weight: b32.weight = UnsafeRawPointer(dst)
            case .bias: b32.bias = UnsafeRawPointer(dst)
            case .gradOutput: b32.gradOutput = UnsafeRawPointer(dst)
            }
        }
        if let w = plan.packedWeights?.widenedWeight { b32.weight = UnsafeRawPointer(w) }
        for i in narrowed where i < 3 { b32.outputs[i] = UnsafeMutableRawPointer(base + offsets[widened.count + i]) }
        // The steps that convert as they go (.halfKernel, .halfGemm) read the caller's half
        // activations (halfInput / halfGradOutput: the same plan may widen others) and write
        // their half result 0 themselves, except the depthwise weight gradient (float32,
        // narrowed with the other results).
        b32.halfInput = b.input
        b32.halfGradOutput = b.gradOutput
        for step in plan.steps where step.convertingSource != nil {
            if case .halfKernel(_, let kernel, _) = step, kernel.writesFloat32 { continue }
            b32.outputs[0] = b.outputs.first ?? nil
            // The im2col GEMM packs the caller's half weights itself unless the plan packed them.
            if case .halfGemm(_, .forward, _) = step, plan.packedWeights == nil { b32.weight = b.weight }
        }

        try run(plan, b32, Float.self)

        for i in narrowed where i < 3 && resultCounts[i] > 0 {
            guard i < b.outputs.count, let dst = b.outputs[i] else {
                throw ConvError.invalidArgument("\(name): missing buffer for result \(i)")
            }
            narrow(dtype, UnsafePointer(base + offsets[widened.count + i]), into: dst.assumingMemoryBound(to: UInt16.self),
                   count: resultCounts[i])
        }
    }

    /// Elements per conversion task: large enough to amortise a task, small enough to split
    /// a layer's activations over the threads.
    static let conversionChunk = 1 << 15

    /// dst[i] = the float32 value of the `dtype` (float16 / bfloat16) bit pattern src[i],
    /// with the active kernel table's conversion, over the thread pool for large counts.
    static func widen(_ dtype: ConvDType, _ src: UnsafePointer<UInt16>, into dst: UnsafeMutablePointer<Float>, count: Int) {
        let t = KernelTable.active
        let kernel = dtype == .bfloat16 ? t.bfloat16ToFloat32 : t.float16ToFloat32
        let chunk = conversionChunk
        ThreadPool.shared.parallelFor((count + chunk - 1) / chunk, work: ThreadPool.copyWork(elements: count)) { c in
            let start = c * chunk
            kernel(src + start, dst + start, min(chunk, count - start))
        }
    }

    /// dst[i] = src[i] rounded to nearest even to `dtype` (float16 / bfloat16) bit patterns.
    static func narrow(_ dtype: ConvDType, _ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<UInt16>, count: Int) {
        let t = KernelTable.active
        let kernel = dtype == .bfloat16 ? t.float32ToBfloat16 : t.float32ToFloat16
        let chunk = conversionChunk
        ThreadPool.shared.parallelFor((count + chunk - 1) / chunk, work: ThreadPool.copyWork(elements: count)) { c in
            let start = c * chunk
            kernel(src + start, dst + start, min(chunk, count - start))
        }
    }

    private static func run<T: ConvScalar>(_ plan: ConvPlan, _ b: Buffers, _: T.Type) throws {
        // A padding mode's padded input (and the padded grad_input before its fold) lives
        // in one buffer of the padded input's size, used by one step after the other.
        let usesBorder = plan.steps.contains { step in
            switch step {
            case .padInput, .foldGradInput: return true
            default: return false
            }
        }
        guard usesBorder else { return try run(plan, b, padded: UnsafeMutablePointer<T>?.none) }
        let padded = try Workspace<T>(count: plan.geometry.shape.inputCount, for: "the input padded by its padding_mode")
        try run(plan, b, padded: padded.pointer)
    }

    private static func run<T: ConvScalar>(_ plan: ConvPlan, _ b: Buffers, padded: UnsafeMutablePointer<T>?) throws {
        let s = plan.geometry.shape
        let op = plan.request.op, name = plan.request.opName
        // Typed views; empty arrays may come with any pointer, so a pointer is only required
        // where the array has elements.
        func ro(_ p: UnsafeRawPointer?, _ count: Int, _ what: String) throws -> UnsafePointer<T> {
            if let p { return p.assumingMemoryBound(to: T.self) }
            if count == 0 { return UnsafePointer(bitPattern: MemoryLayout<T>.alignment)! }
            throw ConvError.invalidArgument("\(name): missing buffer for \(what)")
        }
        func out(_ i: Int, _ count: Int) throws -> UnsafeMutablePointer<T> {
            if i < b.outputs.count, let p = b.outputs[i] { return p.assumingMemoryBound(to: T.self) }
            if count == 0 { return UnsafeMutablePointer(bitPattern: MemoryLayout<T>.alignment)! }
            throw ConvError.invalidArgument("\(name): missing buffer for result \(i)")
        }
        let w = try ro(b.weight, s.weightCount, "weight")
        let bias = b.bias.map { $0.assumingMemoryBound(to: T.self) }
        let packed = plan.packedWeights?.groups(T.self, for: .forward)
        let adjointPacked = plan.packedWeights?.groups(T.self, for: .adjoint)
        let phasePacked = plan.packedWeights?.groups(T.self, for: .phase)
        let blockedPacked = plan.packedWeights?.channelBlocked
        let lowering = plan.lowering

        // The three kernel families, on the plan's shape: directly, or through the depth lowering.
        let schedules = plan.im2colSchedules
        func innerSchedule(_ planar: ConvShape) -> Im2colConvolution.Schedule? {
            schedules.isEmpty ? nil : UpsampleAdjoint.equivalentConvolution(planar).flatMap { schedules[$0] }
        }
        // After a readBorder step: the border the kernels read through its index maps (x is
        // then the unpadded input).
        var readBorder: BorderPadding? = nil
        func forward(_ k: ForwardKernel, x: UnsafePointer<T>, bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>) throws {
            guard let lowering else {
                if let border = readBorder {
                    guard k == .im2col else { throw ConvError.invalidArgument("\(name): internal error, \(k.rawValue) cannot read a border") }
                    return Im2colConvolution.forward(s, border: border, x: x, w: w, bias: bias, y: y, packed: packed, schedule: schedules[s])
                }
                return ConvKernels.forward(k, s, x: x, w: w, bias: bias, y: y, packed: packed, schedule: schedules[s], blocked: blockedPacked)
            }
            try lowering.forward(x: x, y: y, border: readBorder) { planar, px, py in
                ConvKernels.forward(k, planar, x: px, w: w, bias: bias, y: py, packed: packed, schedule: schedules[planar],
                                    blocked: blockedPacked)
            }
        }
        func adjoint(_ k: AdjointKernel, _ inner: ForwardKernel?, dy: UnsafePointer<T>, bias: UnsafePointer<T>?,
                     dx: UnsafeMutablePointer<T>) throws {
            guard let lowering else {
                return try ConvKernels.adjoint(k, s, dy: dy, w: w, bias: bias, dx: dx, inner: inner, innerSchedule: innerSchedule(s),
                                               packed: adjointPacked, phasePacked: phasePacked, scatterRoute: plan.scatterRoutes[s],
                                               phases: plan.phaseDecompositions[s], scatterPanels: plan.packedWeights?.scatterPanels)
            }
            try lowering.adjoint(dy: dy, bias: bias, dx: dx) { planar, pdy, pdx in
                try ConvKernels.adjoint(k, planar, dy: pdy, w: w, bias: nil, dx: pdx, inner: inner, innerSchedule: innerSchedule(planar),
                                        packed: adjointPacked, phasePacked: phasePacked, scatterRoute: plan.scatterRoutes[planar],
                                        phases: plan.phaseDecompositions[planar])
            }
        }
        func weightGradient(_ k: WeightGradientKernel, x: UnsafePointer<T>, dy: UnsafePointer<T>, dw: UnsafeMutablePointer<T>) throws {
            guard let lowering else {
                if readBorder != nil { throw ConvError.invalidArgument("\(name): internal error, \(k.rawValue) cannot read a border") }
                return ConvKernels.weightGradient(k, s, x: x, dy: dy, dw: dw, route: plan.weightGradientRoutes[s])
            }
            try lowering.weightGradient(x: x, dy: dy, dw: dw, border: readBorder) { planar, px, pdy, pdw in
                ConvKernels.weightGradient(k, planar, x: px, dy: pdy, dw: pdw, route: plan.weightGradientRoutes[planar])
            }
        }

        // The input the convolution reads: the caller's, or its padded copy once made.
        var convInput: UnsafePointer<T>? = plan.geometry.border == nil ? b.input?.assumingMemoryBound(to: T.self) : nil
        func x() throws -> UnsafePointer<T> {
            if let convInput { return convInput }
            if s.inputCount == 0 { return UnsafePointer(bitPattern: MemoryLayout<T>.alignment)! }
            throw ConvError.invalidArgument(plan.geometry.border == nil ? "\(name): missing buffer for input"
                                                                      : "\(name): internal error, the padded input was not made")
        }

        for step in plan.steps {
            switch (op, step) {
            case (_, .widen), (_, .narrow):
                continue  // the conversions of a float16 / bfloat16 plan: runConverted, around this
            case (_, .toChannelsFirst), (_, .toChannelsLast):
                continue  // the layout conversions: runRelayout, around this
            case (.convTranspose, .adjointChannelsLast(let k)):
                let dx = try out(0, s.inputCount)
                if s.inputCount > 0 {
                    try ChannelsLastConvolution.adjoint(k, s, dy: try ro(b.input, s.outputCount, "input"), w: w, bias: bias, dx: dx)
                }
            case (.convBackward, .adjointChannelsLast(let k)):
                let dx = try out(0, s.inputCount)
                if s.inputCount > 0 {
                    try ChannelsLastConvolution.adjoint(k, s, dy: try ro(b.gradOutput, s.outputCount, "grad_output"), w: w, bias: nil, dx: dx)
                }
            case (.convBackward, .weightGradientChannelsLast(let k)):
                let dw = try out(1, s.weightCount)
                if s.weightCount > 0 {
                    try ChannelsLastConvolution.weightGradient(k, s, x: try x(), dy: try ro(b.gradOutput, s.outputCount, "grad_output"), dw: dw,
                                                               route: plan.weightGradientRoutes[s])
                }
            case (.convBackward, .biasGradientChannelsLast), (.convTransposeBackward, .biasGradientChannelsLast):
                let (channels, pixels) = op == .convBackward ? (s.outChannels, s.outPixels) : (s.inChannels, s.inPixels)
                let db = try out(2, channels)
                if channels > 0 {
                    ChannelsLastConvolution.biasGradient(rows: s.batch * pixels, channels: channels,
                                                         dy: try ro(b.gradOutput, s.batch * channels * pixels, "grad_output"), db: db)
                }
            case (.convTransposeBackward, .forwardChannelsLast(let k)):
                // grad_input of the transposed op: the conv of its grad_output (see the channels-first case below).
                let dx = try out(0, s.outputCount)
                if s.outputCount > 0 {
                    try ChannelsLastConvolution.forward(k, s, x: try ro(b.gradOutput, s.inputCount, "grad_output"), w: w, bias: nil, y: dx)
                }
            case (.convTransposeBackward, .weightGradientChannelsLast(let k)):
                let dw = try out(1, s.weightCount)
                if s.weightCount > 0 {
                    try ChannelsLastConvolution.weightGradient(k, s, x: try ro(b.gradOutput, s.inputCount, "grad_output"),
                                                               dy: try ro(b.input, s.outputCount, "input"), dw: dw,
                                                               route: plan.weightGradientRoutes[s])
                }
            case (.conv, .forwardChannelsLast(let k)):
                let y = try out(0, s.outputCount)
                if s.outputCount > 0 { try ChannelsLastConvolution.forward(k, s, x: try x(), w: w, bias: bias, y: y,
                                                                             packed: plan.packedWeights?.channelsLast(T.self),
                                                                             blocked: plan.packedWeights?.channelBlocked) }
            case (.convBackward, .halfKernel(let dtype, .biasGradient, _)):
                // A float16 / bfloat16 plan (runConverted): half dy, float32 db (narrowed later).
                guard T.kind == .float32 else { throw ConvError.invalidArgument("\(name): internal error, a half step in a \(T.self) run") }
                let db = try out(2, s.outChannels)
                if s.outChannels > 0 {
                    let dy = try ro(b.halfGradOutput, s.outputCount, "grad_output")
                    HalfKernels.biasGradient(batch: s.batch, channels: s.outChannels, pixels: s.outPixels, dtype: dtype,
                                             dy: UnsafeRawPointer(dy).assumingMemoryBound(to: UInt16.self),
                                             db: UnsafeMutableRawPointer(db).assumingMemoryBound(to: Float.self))
                }
            case (.convBackward, .halfKernel(let dtype, let kernel, _)) where kernel.isWeightGradient:
                // A float16 / bfloat16 plan (runConverted): half x and dy, float32 dw (narrowed later).
                guard T.kind == .float32 else { throw ConvError.invalidArgument("\(name): internal error, a half step in a \(T.self) run") }
                // (.directWeightAndBiasGradient writes db too: the plan has no bias step then.)
                let dw = try out(1, s.weightCount)
                let db = try kernel == .directWeightAndBiasGradient ? out(2, s.outChannels) : nil
                if s.weightCount > 0 || (db != nil && s.outChannels > 0) {
                    let x = try ro(b.halfInput, s.inputCount, "input"), dy = try ro(b.halfGradOutput, s.outputCount, "grad_output")
                    HalfKernels.weightGradient(kernel, s, dtype: dtype, x: UnsafeRawPointer(x).assumingMemoryBound(to: UInt16.self),
                                               dy: UnsafeRawPointer(dy).assumingMemoryBound(to: UInt16.self),
                                               dw: UnsafeMutableRawPointer(dw).assumingMemoryBound(to: Float.self),
                                               db: db.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: Float.self) })
                }
            case (.convBackward, .halfKernel(let dtype, .directBackward, _)):
                // A float16 / bfloat16 plan (runConverted): half x, dy and dx, float32 dw and db
                // (db when asked; both narrowed later).
                guard T.kind == .float32 else { throw ConvError.invalidArgument("\(name): internal error, a half step in a \(T.self) run") }
                let dx = try out(0, s.inputCount), dw = try out(1, s.weightCount)
                let shapes = plan.geometry.resultShapes
                let db = try shapes.count > 2 && shapes[2] != nil ? out(2, s.outChannels) : nil
                if s.outChannels > 0 {
                    let x = try ro(b.halfInput, s.inputCount, "input"), dy = try ro(b.halfGradOutput, s.outputCount, "grad_output")
                    try HalfKernels.directBackward(s, dtype: dtype, x: UnsafeRawPointer(x).assumingMemoryBound(to: UInt16.self),
                                                   dy: UnsafeRawPointer(dy).assumingMemoryBound(to: UInt16.self),
                                                   w: UnsafeRawPointer(w).assumingMemoryBound(to: Float.self),
                                                   dx: UnsafeMutableRawPointer(dx).assumingMemoryBound(to: UInt16.self),
                                                   dw: UnsafeMutableRawPointer(dw).assumingMemoryBound(to: Float.self),
                                                   db: db.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: Float.self) })
                }
            case (_, .halfKernel(let dtype, let kernel, let source)):
                // A float16 / bfloat16 plan (runConverted): half source and result, float32 weights.
                guard T.kind == .float32 else { throw ConvError.invalidArgument("\(name): internal error, a half step in a \(T.self) run") }
                let adjoint = kernel.isAdjoint
                let (srcCount, dstCount) = adjoint ? (s.outputCount, s.inputCount) : (s.inputCount, s.outputCount)
                let dst = try out(0, dstCount)
                if dstCount > 0 {
                    let src = try ro(source == .gradOutput ? b.halfGradOutput : b.halfInput, srcCount, source.rawValue)
                    let hasBias = op == .conv || op == .convTranspose
                    try HalfKernels.run(kernel, s, dtype: dtype, src: UnsafeRawPointer(src).assumingMemoryBound(to: UInt16.self),
                                    w: UnsafeRawPointer(w).assumingMemoryBound(to: Float.self),
                                    bias: hasBias ? bias.map { UnsafeRawPointer($0).assumingMemoryBound(to: Float.self) } : nil,
                                    dst: UnsafeMutableRawPointer(dst).assumingMemoryBound(to: UInt16.self))
                }
            case (_, .halfGemm(let dtype, let kind, let source)):
                // A float16 / bfloat16 plan (runConverted): the im2col GEMM of the half source into
                // the half result 0, the forward conv (conv; conv_transpose_backward's grad_input,
                // the conv of grad_output) or the transposed one (conv_transpose; conv_backward's
                // grad_input), float32 bias.
                guard T.kind == .float32 else { throw ConvError.invalidArgument("\(name): internal error, a half step in a \(T.self) run") }
                let adjoint = kind == .adjoint
                let (srcCount, dstCount) = adjoint ? (s.outputCount, s.inputCount) : (s.inputCount, s.outputCount)
                let dst = try out(0, dstCount)
                if dstCount > 0 {
                    let src = UnsafeRawPointer(try ro(source == .gradOutput ? b.halfGradOutput : b.halfInput, srcCount, source.rawValue))
                        .assumingMemoryBound(to: UInt16.self)
                    let result = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: UInt16.self)
                    let b32 = op == .conv || op == .convTranspose ? bias.map { UnsafeRawPointer($0).assumingMemoryBound(to: Float.self) } : nil
                    if adjoint {
                        try HalfGemmConvolution.adjoint(s, dtype: dtype, dy: src, w: UnsafeRawPointer(w).assumingMemoryBound(to: Float.self),
                                                        packed: plan.packedWeights?.groups(Float.self, for: .adjoint), bias: b32, dx: result)
                    } else {
                        // The plan's packed weights, or else the caller's half weights (not widened
                        // by the plan: runConverted passes them through).
                        let weights: HalfGemmConvolution.Weights
                        if let packed = plan.packedWeights?.groups(Float.self, for: .forward) {
                            weights = .packed(packed)
                        } else if plan.packedWeights == nil {
                            weights = .half(UnsafeRawPointer(w).assumingMemoryBound(to: UInt16.self))
                        } else {
                            throw ConvError.invalidArgument("\(name): internal error, the weights are packed for another GEMM")
                        }
                        try HalfGemmConvolution.forward(s, dtype: dtype, x: src, weights: weights, bias: b32, y: result)
                    }
                }
            case (.conv, .padInput(let border)), (.convBackward, .padInput(let border)):
                guard let padded else { throw ConvError.invalidArgument("\(name): internal error, no buffer for the padded input") }
                if border.inputCount > 0 { border.pad(try ro(b.input, border.inputCount, "input"), into: padded) }
                convInput = UnsafePointer(padded)
            case (.conv, .readBorder(let border)), (.convBackward, .readBorder(let border)):
                readBorder = border
                convInput = try ro(b.input, border.inputCount, "input")
            case (.convBackward, .foldGradInput(let border)):
                guard let padded else { throw ConvError.invalidArgument("\(name): internal error, no buffer for the padded gradient") }
                let dx = try out(0, border.inputCount)
                if border.inputCount > 0 { border.fold(UnsafePointer(padded), into: dx) }
            case (.conv, .forward(let k)):
                let y = try out(0, s.outputCount)
                if s.outputCount > 0 { try forward(k, x: try x(), bias: bias, y: y) }
            case (.convTranspose, .adjoint(let k, let inner)):
                let dx = try out(0, s.inputCount)
                if s.inputCount > 0 { try adjoint(k, inner, dy: try ro(b.input, s.outputCount, "input"), bias: bias, dx: dx) }
            case (.convBackward, .adjoint(let k, let inner)):
                // With a border: grad_input of the padded input, folded by the next step.
                let dx = try padded ?? out(0, s.inputCount)
                if s.inputCount > 0 { try adjoint(k, inner, dy: try ro(b.gradOutput, s.outputCount, "grad_output"), bias: nil, dx: dx) }
            case (.convBackward, .weightGradient(let k)):
                let dw = try out(1, s.weightCount)
                if s.weightCount > 0 {
                    try weightGradient(k, x: try x(), dy: try ro(b.gradOutput, s.outputCount, "grad_output"), dw: dw)
                }
            case (.convTransposeBackward, .forward(let k)):
                let dx = try out(0, s.outputCount)
                if s.outputCount > 0 { try forward(k, x: try ro(b.gradOutput, s.inputCount, "grad_output"), bias: nil, y: dx) }
            case (.convTransposeBackward, .weightGradient(let k)):
                // The transposed op's input plays the conv's dy; its grad_output the conv's x.
                let dw = try out(1, s.weightCount)
                if s.weightCount > 0 {
                    try weightGradient(k, x: try ro(b.gradOutput, s.inputCount, "grad_output"),
                                       dy: try ro(b.input, s.outputCount, "input"), dw: dw)
                }
            case (_, .biasGradient):
                let (channels, pixels) = op == .convBackward ? (s.outChannels, s.outPixels) : (s.inChannels, s.inPixels)
                let db = try out(2, channels)
                if channels > 0 {
                    GemmWeightGradient.biasGradient(batch: s.batch, channels: channels, pixels: pixels,
                                                    dy: try ro(b.gradOutput, s.batch * channels * pixels, "grad_output"), db: db)
                }
            default:
                throw ConvError.invalidArgument("\(name): internal error, step \(step) does not belong to this op")
            }
        }
    }
}
