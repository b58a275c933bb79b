/// A validated request with every decision made: what `ConvEngine.execute` runs. Immutable;
/// any number of threads may execute one plan at once.
///
/// Decisions: the algorithm ("auto" resolved per step), how a volumetric convolution is
/// cut into planar ones (`lowering`), the kernel of every step, the border padding of a
/// padding mode other than zeros (a step before the convolution, and the fold of grad_input
/// after it), the conversions of a float16 / bfloat16 call (its arrays widened to float32
/// first, the float32 steps, its results rounded back last), and optionally weights packed
/// ahead of the calls (`packedWeights`).
public struct ConvPlan: Sendable {
    public let request: ConvRequest
    public let geometry: ConvGeometry
    public let algorithm: ConvAlgorithm
    /// How a volumetric shape runs on the planar kernels; nil for planar shapes and for the
    /// reference kernels (which run every rank as it is).
    public let lowering: DepthLowering?
    /// The shape the kernels were chosen for: the geometry's, or the lowering's planar block.
    public let kernelShape: ConvShape
    /// The steps the op runs, each with its kernel (see `explanation`).
    public let steps: [Step]
    /// Weights packed at creation for the forward GEMM or the adjoint's (`layout`), or nil
    /// (the kernels pack per call).
    public let packedWeights: PackedWeights?
    /// The im2col decisions (zero-padded copy, batch folding, tiling) for every planar shape
    /// a GEMM forward of this plan runs (the step's, the lowering's last block, the upsample
    /// formulation's inner convolution).
    let im2colSchedules: [ConvShape: Im2colConvolution.Schedule]
    /// How "scatter" runs its GEMM (`KernelSelector.scatterRoute`) on every planar shape a
    /// scatter step of this plan runs.
    let scatterRoutes: [ConvShape: ScatterAdjoint.Route]
    /// How the GEMM weight gradient reads its operands (`KernelSelector.weightGradientRoute`)
    /// on every planar shape a GEMM weight-gradient step of this plan runs. (Whether the
    /// pool has enough channel blocks for a blocked route is checked per call: it depends
    /// on the thread count, which may change after planning.)
    let weightGradientRoutes: [ConvShape: GemmWeightGradient.Route]
    /// The phase decomposition of every planar shape a "phase" adjoint step of this plan runs.
    let phaseDecompositions: [ConvShape: PhaseDecomposition]

    public enum Step: Sendable {
        /// float16 / bfloat16 calls, first: the named arrays (those the other steps read)
        /// widened exactly into one float32 workspace; every other step is the float32
        /// plan's and reads the widened copies. Weights a prepared plan widened at creation
        /// (`packedWeights.widenedWeight`) are not listed: they are not widened again.
        case widen(ConvDType, [ConvArray])
        /// float16 / bfloat16 calls, last: the float32 results (these indices of
        /// `geometry.resultShapes`) rounded to nearest even into the caller's buffers.
        case narrow(ConvDType, [Int])
        /// float16 / bfloat16 calls whose one step is a depthwise forward or adjoint, or a
        /// direct forward with one input channel per group or the stride-1 direct adjoint
        /// with one output channel per group (conv_backward: with the depthwise or
        /// direct-plane weight gradient, `halfDepthwiseBackward`): that step on the `source`
        /// activation's half bit patterns, widened as the kernel fills its tiles (planes), and
        /// result 0 rounded as it writes them back (`HalfKernels`): neither is in the widen /
        /// narrow steps. The same float32 arithmetic on the same values: the same bits.
        case halfKernel(ConvDType, HalfKernel, source: ConvArray)
        /// float16 / bfloat16 calls whose one step is a 1x1 forward GEMM (pointwise, planar):
        /// that GEMM on the `source` activation's half bit patterns, widened chunk by chunk
        /// as its B operand, and result 0 rounded from each float32 result tile while it is in
        /// cache (`HalfGemmConvolution`): neither is in the widen / narrow steps. The same
        /// float32 arithmetic on the same values: the same bits.
        case halfGemm(ConvDType, HalfGemm, source: ConvArray)
        /// Copy the input into a buffer with its border filled by the padding mode
        /// (BorderPadding.pad); the steps after it read the padded input.
        case padInput(BorderPadding)
        /// Instead of `padInput`: the steps after it read the unpadded input through the
        /// border's index maps (`BorderPadding.indexMap`), never a padded copy: the im2col
        /// forward packs its B panels through them, a depth lowering gathers its planes
        /// padded. Same values, same bits; where it measured faster
        /// (KernelSelector.readsBorderWhilePacking).
        case readBorder(BorderPadding)
        /// grad_input of the padded input (the adjoint step's result) folded back onto the
        /// input: the adjoint of `padInput` (BorderPadding.fold).
        case foldGradInput(BorderPadding)
        /// y = conv(x, w) (+ bias).
        case forward(ForwardKernel)
        /// x = conv^T(y, w) (+ bias); `inner` is the forward kernel the upsample formulation
        /// runs on the zero-inserted input (nil for the other kernels, and when that input
        /// is too large to count).
        case adjoint(AdjointKernel, inner: ForwardKernel?)
        case weightGradient(WeightGradientKernel)
        case biasGradient
        /// Channels-last calls whose steps have no channels-last kernel, first (before any
        /// widening): the named activations transposed from (N, *spatial, C) to
        /// (N, C, *spatial) into an engine workspace (`LayoutConversion`); the steps after
        /// it are the channels-first plan's, on those copies.
        case toChannelsFirst([ConvArray])
        /// Channels-last calls with a `toChannelsFirst` step, last: these results (indices
        /// of `geometry.resultShapes`; the activations only: grad_weight and grad_bias have
        /// no layout) transposed from the channels-first workspace into the caller's buffers.
        case toChannelsLast([Int])
        /// y = conv(x, w) (+ bias) on channels-last x and y, read and written in place.
        case forwardChannelsLast(ChannelsLastKernel)
        /// x = conv^T(y, w) (+ bias) on channels-last y and x (stride 1), in place.
        case adjointChannelsLast(ChannelsLastKernel)
        /// The weight gradient from channels-last x and dy, in place.
        case weightGradientChannelsLast(ChannelsLastKernel)
        /// The bias gradient from channels-last dy (row sums), in place.
        case biasGradientChannelsLast
    }

    /// Plans `request`. With `weight` (the request's weight array, of its dtype), the weights
    /// are packed now for the forward GEMM when a step uses it; `sharing` offers packed
    /// weights of an earlier plan, used when they fit.
    public init(_ request: ConvRequest, weight: UnsafeRawPointer? = nil, sharing: PackedWeights? = nil) throws {
        self.request = request
        geometry = try ConvGeometry(validating: request)
        algorithm = try ConvAlgorithm.parse(request.algorithm, for: request.op, rank: request.spatialRank)
        let s = geometry.shape, a = algorithm
        if s.isPlanar || a == .reference {
            lowering = nil
            kernelShape = s
        } else {
            let l = try DepthLowering(s, elementBytes: request.dtype.computeBytes)
            lowering = l
            kernelShape = l.blockShape
        }
        let k = kernelShape
        try KernelSelector.checkNamed(a, k, op: request.opName)
        // "auto" runs stride-1 adjoints of planar shapes on the channel-blocked conv by shape; float32
        // only (float64: the GEMM), and float16 / bfloat16 follow float32's kernel, as the forward.
        let blockedAdjoint = a == .auto && request.dtype.computeBytes == 4 && lowering == nil && KernelSelector.channelBlockedAdjointWins(k)
        let blockedAdjointChannelsLast = a == .auto && request.dtype.computeBytes == 4 && lowering == nil
            && KernelSelector.channelsLastBlockedAdjointWins(k)
        func adjointStep() -> Step {
            let kernel = KernelSelector.adjoint(k, a)
            if kernel == .upsample && blockedAdjoint {
                return .adjoint(.upsample, inner: .blocked)
            }
            let inner = kernel == .upsample ? UpsampleAdjoint.equivalentConvolution(k).map(KernelSelector.upsampleInner) : nil
            return .adjoint(kernel, inner: inner)
        }
        // "auto" picks the channel-blocked conv by shape; it computes float32 only (float64: the
        // GEMM). float16 / bfloat16 follow float32's kernel (their results are its results
        // rounded once), so they widen the whole input and run it too.
        func forwardKernel() -> ForwardKernel {
            let kernel = KernelSelector.forward(k, a)
            return kernel == .blocked && a == .auto && request.dtype.computeBytes != 4 ? .im2col : kernel
        }
        let m = request.outputMask
        let border = geometry.border
        var st: [Step] = []
        switch request.op {
        case .conv:
            if request.layout == .channelsLast && border == nil && lowering == nil,
               let kernel = KernelSelector.channelsLastConvForward(k, a, channelsFirst: forwardKernel()) {
                st.append(.forwardChannelsLast(kernel))
                break
            }
            // A half forward runs float32's kernel. Until the direct planes converted rows in a
            // ring (DirectPlaneKernels.swift, `directPlaneHalf3x3`), half depthwise 3x3 stride-1
            // forwards with 96+ channels up to 64 wide ran the depthwise tiles instead (which
            // converted in L1 chunks, the direct planes whole planes through L2); now the direct
            // planes are ahead there too, so that rule is gone, and with it the one place where a
            // half plan's kernel (and its last bit where the tiles add 0 * w at a padding tap)
            // differed from float32's. Forward half / float32 time, float32 on the direct planes,
            // 1 thread, AVX-512 Xeon, one process, calls interleaved, thread CPU time, medians
            // of 9 blocks; tiles -> direct planes, float16 (bfloat16):
            //   dw 144ch 56x56 N1  1.073 -> 0.903 (1.046 -> 0.968)
            //   dw 144ch 56x56 N8  1.042 -> 0.872 (1.025 -> 0.913)
            //   dw 96ch 56x56 N1   1.091 -> 0.908 (1.044 -> 0.977)
            //   dw 96ch 56x56 N8   1.179 -> 1.002 (1.160 -> 1.069)
            var kernel = forwardKernel()
            // A prepared float32 1x1 layer on few pixels runs the channel-blocked conv on its
            // panels packed at creation where the plain call runs the GEMM: for a 1x1 kernel
            // both sum bias, then channel by channel (KernelSelector.preparedRunsPointwiseBlocked).
            if kernel == .im2col && a == .auto && (weight != nil || sharing != nil) && border == nil && lowering == nil
                && request.dtype == .float32 && KernelSelector.preparedRunsPointwiseBlocked(k) {
                kernel = .blocked
            }
            if let border {
                st.append(KernelSelector.readsBorderWhilePacking(kernel, k, lowered: lowering != nil) ? .readBorder(border) : .padInput(border))
            }
            st.append(.forward(kernel))
        case .convTranspose:
            if request.layout == .channelsLast && lowering == nil, let kernel = KernelSelector.channelsLastAdjoint(k, a) {
                st = [.adjointChannelsLast(KernelSelector.channelsLastConvAdjoint(kernel, blockedAdjoint: blockedAdjointChannelsLast))]
                break
            }
            st = [adjointStep()]
        case .convBackward:
            if request.layout == .channelsLast && border == nil && lowering == nil,
               let kernel = KernelSelector.channelsLastBackward(k, a) {
                if m.input { st.append(.adjointChannelsLast(KernelSelector.channelsLastConvAdjoint(kernel, blockedAdjoint: blockedAdjointChannelsLast))) }
                if m.weight { st.append(.weightGradientChannelsLast(kernel)) }
                if m.bias { st.append(.biasGradientChannelsLast) }
                break
            }
            // grad_input = conv^T(grad_output, w); grad_weight = x (*) grad_output. With a
            // border, both are of the padded input: grad_input is folded back (one padded
            // buffer serves the fold, then the padded x).
            if m.input {
                st.append(adjointStep())
                if let border { st.append(.foldGradInput(border)) }
            }
            if m.weight {
                let kernel = KernelSelector.weightGradient(k, a)
                if let border {
                    st.append(KernelSelector.readsBorderWhilePacking(kernel, k, lowered: lowering != nil) ? .readBorder(border) : .padInput(border))
                }
                st.append(.weightGradient(kernel))
            }
            if m.bias { st.append(.biasGradient) }
        case .convTransposeBackward:
            // The transposed op is y = conv^T(x, w): grad_input = conv(grad_output, w);
            // grad_weight is the conv weight gradient with (x, dy) = (grad_output, input).
            if request.layout == .channelsLast && border == nil && lowering == nil,
               let kernel = KernelSelector.channelsLastTransposedBackward(k, a) {
                if m.input { st.append(.forwardChannelsLast(kernel)) }
                if m.weight { st.append(.weightGradientChannelsLast(kernel)) }
                if m.bias { st.append(.biasGradientChannelsLast) }
                break
            }
            if m.input { st.append(.forward(forwardKernel())) }
            if m.weight { st.append(.weightGradient(KernelSelector.weightGradient(k, a))) }
            if m.bias { st.append(.biasGradient) }
        }
        // The planar shapes each forward GEMM runs, and their im2col schedules.
        var planar = [k]
        if let l = lowering, l.totalSlices % l.slicesPerBlock != 0 { planar.append(l.planar(slices: l.totalSlices % l.slicesPerBlock)) }
        var schedules: [ConvShape: Im2colConvolution.Schedule] = [:]
        var routes: [ConvShape: ScatterAdjoint.Route] = [:]
        var gradientRoutes: [ConvShape: GemmWeightGradient.Route] = [:]
        var phases: [ConvShape: PhaseDecomposition] = [:]
        let bytes = request.dtype.computeBytes
        func gradientRoute(_ p: ConvShape) -> GemmWeightGradient.Route {
            bytes == 8 ? KernelSelector.weightGradientRoute(p, Double.self) : KernelSelector.weightGradientRoute(p, Float.self)
        }
        for step in st {
            switch step {
            case .weightGradient(.gemm):
                for p in planar { gradientRoutes[p] = gradientRoute(p) }
            case .weightGradientChannelsLast(.gemm):
                gradientRoutes[k] = gradientRoute(k)
            case .adjoint(.phase, _):
                for p in planar where PhaseDecomposition.supports(p) { phases[p] = PhaseDecomposition(p) }
            case .adjoint(.scatter, _):
                for p in planar { routes[p] = KernelSelector.scatterRoute(p, elementBytes: bytes) }
            case .forward(.im2col):
                for p in planar { schedules[p] = Im2colConvolution.Schedule(p, elementBytes: bytes) }
            case .adjoint(.upsample, .im2col):
                for p in planar {
                    // The inner conv reads the flipped kernel (`FlippedKernel`), never in place.
                    if let c = UpsampleAdjoint.equivalentConvolution(p) {
                        schedules[c] = Im2colConvolution.Schedule(c, elementBytes: bytes, weightsReadable: false)
                    }
                }
            default: break
            }
        }
        im2colSchedules = schedules
        scatterRoutes = routes
        weightGradientRoutes = gradientRoutes
        phaseDecompositions = phases

        // Packing ahead pays when a forward step runs the GEMM on these weights, or an
        // adjoint step the GEMM on the flipped kernel (upsample with an im2col inner conv);
        // a prepared convolution (weight given) packs whenever its plans for other sizes may,
        // so that the one packed copy it shares is there for them. (No plan has both steps.)
        let hasForward = st.contains { if case .forward = $0 { return true }; return false }
        let hasAdjoint = st.contains { if case .adjoint = $0 { return true }; return false }
        let channelsLastForward = st.contains { if case .forwardChannelsLast(.gemm) = $0 { return true }; return false }
        let blockedForward = st.contains {
            switch $0 {
            case .forward(.blocked), .forwardChannelsLast(.blocked): return true
            default: return false
            }
        }
        let layout: PackedWeights.Layout?
        if blockedForward && request.dtype.computeBytes == 4 && ChannelBlockedConvolution.runs(k, Float.self) {
            // The channel-blocked conv's panels (they depend on the channels and taps only).
            layout = .channelBlocked
        } else if channelsLastForward {
            // The channels-last GEMM's own packing (B panels), shared by the plans of one
            // prepared object for every channels-last input size.
            layout = .channelsLast
        } else if hasForward && (a == .im2col || (a == .auto && !DepthwiseConvolution.isDepthwise(k))) {
            // (auto never runs a depthwise shape on the GEMM: the depthwise or direct kernels)
            // A prepared plan whose GEMM is faster reading the weights in place keeps them
            // unpacked: the plain call's route, so the same bits (KernelSelector.preparedReadsWeightsInPlace).
            let inPlace = lowering == nil && st.contains { if case .forward(.im2col) = $0 { return true }; return false }
                && schedules[k].map { KernelSelector.preparedReadsWeightsInPlace(k, schedule: $0, dtype: request.dtype) } == true
            layout = inPlace ? nil : .forward
        } else if hasAdjoint && ConvPlan.upsampleMayRun(k, a, planarStrides: request.stride.suffix(2)),
                  let c = UpsampleAdjoint.equivalentConvolution(k), KernelSelector.upsampleInner(c) == .im2col {
            layout = .adjoint
        } else if st.contains(where: { if case .adjoint(.phase, _) = $0 { return true }; return false }) {
            // The phase kernels of this plan's strides (a prepared object's plans for sizes
            // whose strides normalise differently pack their own: `PackedWeights.fits`).
            layout = .phase
        } else if request.dtype == .float32 && lowering == nil && routes[k] == .pixelVectors {
            // Scatter's pixel vectors on W_g^T's panels (`ScatterWeightPanels`): no L1-set
            // conflicts of W's rows, the whole depth per tile (float32, planar plans only).
            layout = .scatterPanels
        } else {
            layout = nil
        }
        if let layout, k.weightCount > 0 {
            if let shared = sharing, shared.fits(request, layout: layout, shape: k) {
                packedWeights = shared
            } else if let weight {
                packedWeights = try PackedWeights(shape: k, dtype: request.dtype, weightShape: request.weightShape,
                                                  weight: weight, layout: layout)
            } else {
                packedWeights = nil
            }
        } else {
            packedWeights = nil
        }

        // float16 / bfloat16: widen what the steps read, narrow every result.
        let dtype = request.dtype
        if dtype.isHalf && !st.isEmpty {
            var read: [ConvArray] = []
            switch request.op {
            case .conv, .convTranspose:
                read = [.input, .weight] + (request.biasShape == nil ? [] : [.bias])
            case .convBackward, .convTransposeBackward:
                // grad_weight needs the input; every result grad_output. The weights are
                // always widened (the engine reads them first; they are small).
                read = (m.weight ? [.input] : []) + [.weight, .gradOutput]
            }
            if packedWeights?.widenedWeight != nil { read.removeAll { $0 == .weight } }
            let shapes = geometry.resultShapes
            let results = shapes.indices.filter { shapes[$0] != nil }
            if lowering == nil, st.count == 1,
               let direct = Self.halfKernel(request.op, st[0], dtype, k) ?? Self.halfGemm(request.op, st[0], dtype, k),
               let source = direct.convertingSource {
                // The kernel converts its tiles: no pass over the activations. Measured
                // (float16 / float32 time, 1 thread; table in HalfKernels.swift): dw 144ch
                // 56x56 k3 1.59 -> 1.12, dw 672ch 14x14 k5 1.22 -> 1.03, dw 960ch 7x7 1.14 -> 1.07.
                // The im2col GEMM (table in HalfGemmConvolution.swift): 1x1 256->64 56x56
                // 1.18 -> 0.86, 1x1 512->2048 7x7 1.27 -> 0.99, 3x3 256->256 14x14 1.13 -> 1.03.
                read.removeAll { $0 == source }
                // The GEMM widens the weights as it packs them (when not packed ahead).
                if case .halfGemm(_, .forward, _) = direct { read.removeAll { $0 == .weight } }
                let rest = results.filter { $0 != 0 }
                st = (read.isEmpty ? [] : [.widen(dtype, read)]) + [direct] + (rest.isEmpty ? [] : [.narrow(dtype, rest)])
            } else if lowering == nil, let half = Self.halfDepthwiseBackward(request.op, st, dtype, k) {
                // conv_backward of a depthwise conv: grad_weight from tiles widened as they
                // are filled, grad_input rounded as it is written, grad_bias from grad_output
                // widened piece by piece: neither x nor dy is widened whole.
                read.removeAll { $0 == .input || $0 == .gradOutput }
                let writesHalf = half.contains { if case .halfKernel(_, let kernel, _) = $0 { return kernel.writesHalfGradInput }; return false }
                let rest = results.filter { !(writesHalf && $0 == 0) }
                st = (read.isEmpty ? [] : [.widen(dtype, read)]) + half + (rest.isEmpty ? [] : [.narrow(dtype, rest)])
            } else {
                st = [.widen(dtype, read)] + st + [.narrow(dtype, results)]
            }
        }

        // Channels-last calls: steps that have no channels-last kernel run on channels-first
        // copies of the activations they read, made first (on the caller's dtype, so before
        // any widening); the activation results are transposed back last.
        let native = st.contains { step in
            switch step {
            case .forwardChannelsLast, .adjointChannelsLast, .weightGradientChannelsLast, .biasGradientChannelsLast: return true
            default: return false
            }
        }
        if request.layout == .channelsLast && !native && !st.isEmpty {
            let read: [ConvArray], results: [Int]
            switch request.op {
            case .conv, .convTranspose:
                (read, results) = ([.input], [0])
            case .convBackward, .convTransposeBackward:
                (read, results) = ((m.weight ? [.input] : []) + [.gradOutput], m.input ? [0] : [])
            }
            st = [.toChannelsFirst(read)] + st + (results.isEmpty ? [] : [.toChannelsLast(results)])
        }
        steps = st
    }

    /// Whether the adjoint of `k` (or of another input size of the same weights and
    /// parameters) may run "upsample": named, or "auto" with stride 1 (where the choice
    /// depends on the sizes) or small groups (KernelSelector.adjoint). Strided dense
    /// transposed convs scatter or run "phase" (which packs its own kernels): no flipped
    /// kernel to pack for them. The strides are
    /// the request's (the shape's are 1 along an axis with one output, e.g. a probe's).
    private static func upsampleMayRun(_ k: ConvShape, _ a: ConvAlgorithm, planarStrides: ArraySlice<Int>) -> Bool {
        a == .upsample || (a == .auto && (planarStrides.allSatisfy { $0 == 1 } || KernelSelector.isSmallGroup(k)))
    }

    /// The `.halfKernel` step replacing `step`, a half plan's only step, or nil: the
    /// kernels that convert their tiles (planes) as they go, which saves a pass over each
    /// activation. The direct planes only with one input plane per output plane, of at most
    /// `HalfKernels.maxPlaneBytes` (their float32 copies are per-thread scratch).
    private static func halfKernel(_ op: ConvOp, _ step: Step, _ dtype: ConvDType, _ s: ConvShape) -> Step? {
        let source: ConvArray = op == .conv || op == .convTranspose ? .input : .gradOutput
        switch (op, step) {
        case (.conv, .forward(.depthwise)), (.convTransposeBackward, .forward(.depthwise)):
            return .halfKernel(dtype, .depthwise, source: source)
        case (.convTranspose, .adjoint(.depthwise, _)), (.convBackward, .adjoint(.depthwise, _)):
            return .halfKernel(dtype, .depthwiseAdjoint, source: source)
        case (.convTranspose, .adjoint(.upsample, .direct?)), (.convBackward, .adjoint(.upsample, .direct?)):
            return HalfKernels.runsDirectAdjoint(s) ? .halfKernel(dtype, .directAdjoint, source: source) : nil
        case (.conv, .forward(.direct)), (.convTransposeBackward, .forward(.direct)):
            guard s.isPlanar && s.inChannelsPerGroup == 1 && HalfKernels.fitsPlanes(s) else { return nil }
            return .halfKernel(dtype, .direct, source: source)
        default:
            return nil
        }
    }

    /// conv_backward's steps with the depthwise or direct-plane weight gradient (and
    /// adjoint) on the half arrays (`.halfKernel`), or nil: only when every step is such an
    /// adjoint, weight gradient or the bias gradient (no border padding, which reads a
    /// padded float32 copy), and the weight gradient is one of them. Measured (table in
    /// HalfKernels.swift): dw 144ch 56x56 k3 on direct planes, grad_weight float16 / float32
    /// time 1.62-1.74 -> 1.14-1.15, all three gradients 1.41-1.44 -> 1.35-1.36, and with the
    /// bias gradient on the half grad_output too 1.31 -> 1.12-1.15.
    ///
    /// A depthwise conv whose grad_input and grad_weight both run on direct planes (plain 3x3
    /// stride 1 from 56 wide) runs them and grad_bias as one step (`.directBackward`: dy
    /// widened once, not three times; the same values in the same order, so the same bits);
    /// grad_weight + grad_bias alone as `.directWeightAndBiasGradient`. conv2d_backward half /
    /// float32 time, AVX-512 Xeon, 1 thread, the build before (main) and this one in
    /// alternating processes, calls interleaved, thread CPU time, medians of 5 (N8: 3)
    /// blocks, two runs each, before -> now, float16 (bfloat16):
    ///
    /// | layer              | N1 all three                      | N1 grad_input + grad_weight       | N8 grad_input + grad_weight       |
    /// |--------------------|-----------------------------------|-----------------------------------|-----------------------------------|
    /// | dw 32ch 112x112 k3 | 1.25-1.27 (1.26-1.28) -> 1.15-1.16 (1.14-1.16) | 1.27-1.33 (1.30-1.33) -> 1.20-1.26 (1.20-1.22) | 1.35-1.37 (1.30-1.32) -> 1.18-1.24 (1.15-1.20) |
    /// | dw 144ch 56x56 k3  | 1.15-1.17 (1.15-1.16) -> 1.05-1.07 (1.02-1.07) | 1.14-1.19 (1.17) -> 1.09-1.11 (1.09-1.12)      | 1.25-1.30 (1.27-1.29) -> 1.16-1.22 (1.15-1.22) |
    ///
    /// Two threads (wall time, N1, grad_input + grad_weight, same method, machine shared):
    /// 32ch 112x112 1.23-1.29 (1.22-1.27) -> 1.08-1.09 (1.07-1.08), 144ch 56x56 1.16-1.17
    /// (1.18) -> 1.04-1.05 (1.02). (The depthwise-tile layers do not take these steps.)
    private static func halfDepthwiseBackward(_ op: ConvOp, _ steps: [Step], _ dtype: ConvDType, _ s: ConvShape) -> [Step]? {
        guard op == .convBackward else { return nil }
        var out: [Step] = [], weightGradient = false
        for step in steps {
            switch step {
            case .adjoint(.depthwise, _): out.append(.halfKernel(dtype, .depthwiseAdjoint, source: .gradOutput))
            case .adjoint(.upsample, .direct?) where HalfKernels.runsDirectAdjoint(s):
                out.append(.halfKernel(dtype, .directAdjoint, source: .gradOutput))
            case .weightGradient(.depthwise):
                out.append(.halfKernel(dtype, .depthwiseWeightGradient, source: .input))
                weightGradient = true
            case .weightGradient(.direct) where HalfKernels.runsDirectWeightGradient(s):
                out.append(.halfKernel(dtype, .directWeightGradient, source: .input))
                weightGradient = true
            case .biasGradient: out.append(.halfKernel(dtype, .biasGradient, source: .gradOutput))
            default: return nil
            }
        }
        guard weightGradient else { return nil }
        let adjoint = out.contains { if case .halfKernel(_, .directAdjoint, _) = $0 { return true }; return false }
        if adjoint && HalfKernels.runsDirectBackward(s) { return [.halfKernel(dtype, .directBackward, source: .gradOutput)] }
        return fusingBiasGradient(out)
    }

    /// `steps` with the bias gradient summed by the direct-plane weight gradient from the
    /// grad_output planes it widens anyway (`.directWeightAndBiasGradient`), when both are
    /// there: grad_output is widened once less. conv2d_backward grad_weight + grad_bias, half
    /// / float32 time (same method as `halfDepthwiseBackward`'s table, N1, two runs), before
    /// -> now, float16 (bfloat16): dw 32ch 112x112 k3 1.22-1.26 (1.25-1.26) -> 1.12-1.13
    /// (0.98-1.14); dw 144ch 56x56 k3 1.14-1.33 (1.03-1.12) -> 1.04-1.07 (1.03-1.04).
    private static func fusingBiasGradient(_ steps: [Step]) -> [Step] {
        guard let bias = steps.firstIndex(where: { if case .halfKernel(_, .biasGradient, _) = $0 { return true }; return false }),
              let weight = steps.firstIndex(where: { if case .halfKernel(_, .directWeightGradient, _) = $0 { return true }; return false }),
              case .halfKernel(let dtype, _, let source) = steps[weight] else { return steps }
        var fused = steps
        fused[weight] = .halfKernel(dtype, .directWeightAndBiasGradient, source: source)
        fused.remove(at: bias)
        return fused
    }

    /// The `.halfGemm` step replacing `step`, a half plan's only step, or nil: the GEMM of a
    /// planar 1x1 convolution (stride 1, no padding), or of the transposed one's upsample
    /// formulation when that is such a convolution, whose B operand is the activation
    /// itself, converted chunk by chunk (HalfGemmConvolution).
    private static func halfGemm(_ op: ConvOp, _ step: Step, _ dtype: ConvDType, _ s: ConvShape) -> Step? {
        let source: ConvArray = op == .conv || op == .convTranspose ? .input : .gradOutput
        guard s.isPlanar else { return nil }
        switch (op, step) {
        case (.conv, .forward(.im2col)), (.convTransposeBackward, .forward(.im2col)):
            return HalfGemmConvolution.supports(s) ? .halfGemm(dtype, .forward, source: source) : nil
        case (.convTranspose, .adjoint(.upsample, .im2col?)), (.convBackward, .adjoint(.upsample, .im2col?)):
            guard s.strideH == 1 && s.strideW == 1, let c = UpsampleAdjoint.equivalentConvolution(s),
                  HalfGemmConvolution.supports(c) else { return nil }
            return .halfGemm(dtype, .adjoint, source: source)
        default:
            return nil
        }
    }

    /// Every decision, one line each: the convolution, the depth lowering, each step's
    /// kernel, the packed weights.
    public var explanation: String {
        let s = geometry.shape
        var lines = ["\(request.opName) algorithm=\(algorithm.rawValue) conv: \(s)"]
        if request.layout == .channelsLast {
            let converts = steps.contains { if case .toChannelsFirst = $0 { return true }; return false }
            lines.append("  layout: channels-last activations ((N, *spatial, C) in memory); "
                         + (converts ? "converted for the steps below, which have no channels-last kernel"
                                     : "read and written in place"))
        }
        if let l = lowering {
            lines.append("  depth lowering: \(l.totalSlices) (image, depth) slices in \(l.blocks) block\(l.blocks == 1 ? "" : "s") of \(l.slicesPerBlock); planar conv: \(kernelShape)")
        }
        let results = request.op.isBackward ? ["grad_input", "grad_weight", "grad_bias"] : ["output"]
        for step in steps {
            switch step {
            case .widen(let dtype, let arrays):
                let names = arrays.map(\.rawValue).joined(separator: ", ")
                lines.append("  \(dtype.name) -> float32: \(names.isEmpty ? "nothing" : names) widened exactly into a float32 workspace (\(KernelTable.active.conversionText(dtype, widening: true))); the steps below compute in float32")
            case .narrow(let dtype, let indices):
                let names = indices.map { $0 < results.count ? results[$0] : "result \($0)" }.joined(separator: ", ")
                lines.append("  float32 -> \(dtype.name): \(names) rounded to nearest even (\(KernelTable.active.conversionText(dtype, widening: false)))")
            case .halfKernel(let dtype, .biasGradient, _):
                lines.append("  bias gradient: channel sums of the \(dtype.name) grad_output, widened piece by piece into float32 scratch (\(KernelTable.active.conversionText(dtype, widening: true))): no float32 copy of it")
            case .halfKernel(let dtype, .directBackward, _):
                lines.append("  grad_input, weight gradient\(geometry.resultShapes.count > 2 && geometry.resultShapes[2] != nil ? ", bias gradient" : ""): \(HalfKernel.directBackward.rawValue): each \(dtype.name) input and grad_output plane widened once into float32 scratch (\(KernelTable.active.conversionText(dtype, widening: true))), grad_input rounded to nearest even as each tile is written back (a tile is a plane; \(KernelTable.active.conversionText(dtype, widening: false))): no float32 copy of either")
            case .halfKernel(let dtype, let kernel, _) where kernel.isWeightGradient:
                let planes = kernel == .directWeightGradient || kernel == .directWeightAndBiasGradient
                let bias = kernel == .directWeightAndBiasGradient
                    ? "; bias gradient: channel sums of the \(dtype.name) grad_output planes widened there (no second widening)" : ""
                lines.append("  weight gradient: \(kernel.rawValue) on the \(dtype.name) input and grad_output, each widened into the float32 \(planes ? "planes" : "tiles") (\(KernelTable.active.conversionText(dtype, widening: true))): no float32 copy of either\(bias)")
            case .halfKernel(let dtype, let kernel, let source):
                lines.append("  \(kernel.isAdjoint ? "transposed conv" : "forward conv"): \(kernel.rawValue) on the \(dtype.name) \(source.rawValue), widened into each float32 tile (\(KernelTable.active.conversionText(dtype, widening: true))), \(results[0]) rounded to nearest even as each tile is written back (\(KernelTable.active.conversionText(dtype, widening: false))): no separate pass over either")
            case .halfGemm(let dtype, let kind, let source):
                let gemmShape = kind == .adjoint ? UpsampleAdjoint.equivalentConvolution(kernelShape) : kernelShape
                let grid = gemmShape.map(HalfGemmConvolution.readsGrid) == true
                    ? "; each chunk's zero-padded rows read in place on their padded-width grid" : ""
                lines.append("  \(kind == .adjoint ? "transposed conv" : "forward conv"): \(kind.rawValue) on the \(dtype.name) \(source.rawValue), widened chunk by chunk into the GEMM's float32 B operand (\(KernelTable.active.conversionText(dtype, widening: true))), \(results[0]) rounded to nearest even from each float32 result tile while in cache (\(KernelTable.active.conversionText(dtype, widening: false))): no separate pass over either\(grid)\(packedWeights == nil && kind == .forward ? "; the \(dtype.name) weights widened as the GEMM packs them" : "")")
            case .padInput(let b):
                lines.append("  border padding: \(b), copied before the conv (which then pads nothing)")
            case .readBorder(let b):
                let how = lowering == nil ? "while packing the GEMM's B panels" : "while gathering the depth slices"
                lines.append("  border padding: \(b), read through per-axis index maps \(how) (no padded copy)")
            case .foldGradInput(let b):
                lines.append("  grad_input: of the padded input, folded back onto the input (the adjoint of the \(b.mode.name) padding)")
            case .forward(.dot): lines.append("  forward conv: dot (\(OnePixelConvolution.explanation))")
            case .forward(.blocked):
                let ahead = packedWeights?.layout == .channelBlocked ? "weights packed once" : "weights packed per call"
                lines.append("  forward conv: blocked (\(ChannelBlockedConvolution.explanation); \(ahead))")
            case .forward(let k): lines.append("  forward conv: \(k.rawValue)\(scheduleText(kernelShape))")
            case .adjoint(.upsample, let inner) where inner == .im2col && KernelSelector.onePixel(kernelShape):
                lines.append("  transposed conv: upsample, then forward conv: im2col (1x1 plane: W^T dy by the few-column kernel on the arrays in place, in the GEMM's order)")
            case .adjoint(.upsample, .blocked?):
                lines.append("  transposed conv: upsample, then forward conv: blocked (\(ChannelBlockedAdjoint.explanation))")
            case .adjoint(.upsample, let inner):
                let text = UpsampleAdjoint.equivalentConvolution(kernelShape).map(scheduleText) ?? ""
                lines.append("  transposed conv: upsample, then forward conv: \(inner?.rawValue ?? "none (too large)")\(text)")
            case .adjoint(.phase, _):
                lines.append("  transposed conv: phase (\(PhaseAdjoint.explanation(kernelShape, phaseDecompositions[kernelShape] ?? PhaseDecomposition(kernelShape))))")
            case .adjoint(.scatter, _):
                lines.append("  transposed conv: scatter (\(ScatterAdjoint.explanation(scatterRoutes[kernelShape] ?? .plain)))")
            case .adjoint(let k, _): lines.append("  transposed conv: \(k.rawValue)")
            case .weightGradient(let k):
                let onePixel = k == .gemm && KernelSelector.onePixel(kernelShape) ? " (1x1 plane: few-column kernel on the arrays in place)" : ""
                let blocked: String
                switch k == .gemm && !KernelSelector.onePixel(kernelShape) ? blockedWeightGradientRoute : nil {
                case .blocked?: blocked = " (B from a zero-bordered, channel-blocked copy of the input)"
                case .blockedInPlace?: blocked = " (B from a zero-bordered, channel-blocked copy of the input, read in place with dy's rows as A: no packing)"
                case .unfolded?, nil: blocked = ""
                }
                lines.append("  weight gradient: \(k.rawValue)\(onePixel)\(blocked)")
            case .biasGradient: lines.append("  bias gradient: channel sums")
            case .toChannelsFirst(let arrays):
                let names = arrays.map(\.rawValue).joined(separator: ", ")
                lines.append("  channels-last -> channels-first: \(names) transposed into an engine workspace (\(LayoutConversion.explanation))")
            case .toChannelsLast(let indices):
                let names = indices.map { $0 < results.count ? results[$0] : "result \($0)" }.joined(separator: ", ")
                lines.append("  channels-first -> channels-last: \(names) transposed into the caller's buffer")
            case .forwardChannelsLast(.blocked):
                let ahead = packedWeights?.layout == .channelBlocked ? "weights packed once" : "weights packed per call"
                lines.append("  forward conv: \(ChannelsLastKernel.blocked.rawValue), reads the channels-last input and writes the channels-last output in place (\(ChannelBlockedChannelsLast.explanation); \(ahead))")
            case .forwardChannelsLast(let k):
                // conv_transpose_backward's grad_input is this forward conv of grad_output.
                let (src, dst) = request.op == .convTransposeBackward ? ("grad_output", "grad_input") : ("input", "output")
                lines.append("  forward conv: \(k.rawValue), reads the channels-last \(src) and writes the channels-last \(dst) in place (\(k.explanation(kernelShape)))")
            case .adjointChannelsLast(.depthwise):
                // conv_backward's grad_input is this transposed conv of grad_output.
                let (src, dst) = request.op == .convBackward ? ("grad_output", "grad_input") : ("input", "output")
                lines.append("  transposed conv: \(ChannelsLastKernel.depthwise.rawValue), each dx pixel gathers its taps, reads the channels-last \(src) and writes the channels-last \(dst) in place (\(ChannelsLastKernel.depthwise.explanation(kernelShape)))")
            case .adjointChannelsLast(.blocked):
                lines.append("  transposed conv: \(ChannelsLastKernel.blocked.rawValue) of the stride-1 conv with the flipped kernel, dy and dx channels-last in place (\(ChannelBlockedAdjoint.explanation); each pixel's 16 channels copied and stored as 64-byte rows; the NCHW blocked adjoint's sums: that call's bits where it runs this route)")
            case .adjointChannelsLast(let k) where kernelShape.pointwiseOnOutputGrid != nil:
                lines.append("  transposed conv: \(k.rawValue), dy x W (strided 1x1: the weights read in place) into a workspace of the grid pixels, spread onto the channels-last result (other pixels: bias or 0)")
            case .adjointChannelsLast(let k) where kernelShape.hasDisjointWindows:
                lines.append("  transposed conv: \(k.rawValue), windows that do not overlap (kernel = stride): per tap dy x W_tap into the tap's dx pixels, channels-last in place (no col2im)")
            case .adjointChannelsLast(let k):
                lines.append(kernelShape.isPointwise
                    ? "  transposed conv: \(k.rawValue), dy x W (1x1: the weights read in place, no flip), channels-last in place"
                    : "  transposed conv: \(k.rawValue) of the stride-1 conv with the flipped kernel, channels-last in place")
            case .weightGradientChannelsLast(.depthwise):
                lines.append("  weight gradient: \(ChannelsLastKernel.depthwise.rawValue), from the channels-last arrays read in place")
            case .weightGradientChannelsLast(let k) where kernelShape.pointwiseOnOutputGrid != nil:
                lines.append("  weight gradient: \(k.rawValue), dy^T x x (strided 1x1: x's grid pixels copied, dy read in place)")
            case .weightGradientChannelsLast(let k):
                let route = blockedWeightGradientRoute
                lines.append(kernelShape.isPointwise
                    ? (KernelSelector.channelsLastWeightGradientTransposed(kernelShape)
                       ? "  weight gradient: \(k.rawValue), x^T x dy (1x1: x transposed once to (C_in, pixels) rows and dy read in place, both without packing; the small result transposed into dw)"
                       : "  weight gradient: \(k.rawValue), dy^T x x (1x1: x read in place) from the channels-last arrays")
                    : route == .blockedInPlace ? "  weight gradient: \(k.rawValue), grad_output transposed once to (C_out, pixels) rows read in place as A, B from a zero-bordered, channel-blocked copy of the channels-last input read in place (one 64-byte row per pixel)"
                    : route == .blocked ? "  weight gradient: \(k.rawValue), dy^T (read in place) x unfold(x) with B from a zero-bordered, channel-blocked copy of the channels-last input (one 64-byte row per pixel)"
                    : "  weight gradient: \(k.rawValue), dy^T x unfold(x) from the channels-last arrays in place")
            case .biasGradientChannelsLast:
                lines.append("  bias gradient: channel sums of the channels-last grad_output in place")
            }
        }
        if let p = packedWeights {
            let widened = p.widenedWeight == nil ? "" : ", from the \(p.dtype.name) weights widened to float32 once (\(p.widenedBytes) bytes kept)"
            let what = p.layout == .adjoint ? "flipped kernel" : p.layout == .phase ? "phase kernels"
                : p.layout == .scatterPanels ? "W^T panels for the pixel vectors" : "weights"
            lines.append("  \(what): packed at creation (\(p.bytes) bytes\(widened))")
        }
        lines.append("  kernels: \(KernelTable.active.tier) build")
        return lines.joined(separator: "\n")
    }

    /// The planned route of the GEMM weight gradient on `kernelShape` as it runs on the
    /// current pool: unfolded when the pool has more threads than channel blocks (the
    /// kernels' per-call check), nil without a GEMM weight-gradient step.
    private var blockedWeightGradientRoute: GemmWeightGradient.Route? {
        guard let route = weightGradientRoutes[kernelShape] else { return nil }
        let feeds = request.dtype.computeBytes == 8 ? KernelSelector.weightGradientCopyFeedsThreads(kernelShape, Double.self)
                                                    : KernelSelector.weightGradientCopyFeedsThreads(kernelShape, Float.self)
        return feeds ? route : .unfolded
    }

    /// " (the im2col decisions)" for a shape that has a schedule, else "".
    private func scheduleText(_ shape: ConvShape) -> String {
        guard let schedule = im2colSchedules[shape] else { return "" }
        // Packed weights at creation: for the step's own shape (forward layout) or for the
        // upsample formulation's flipped kernel (adjoint layout).
        let packedAhead: Bool
        switch packedWeights?.layout {
        case .forward?: packedAhead = shape == kernelShape
        case .adjoint?: packedAhead = shape != kernelShape
        case .channelsLast?, .phase?, .channelBlocked?, .scatterPanels?, nil: packedAhead = false
        }
        return " (\(schedule)\(packedAhead ? "" : "; " + schedule.packingText))"
    }
}

extension ConvPlan.Step {
    /// The half activation a `.halfKernel` / `.halfGemm` step reads itself (it writes result
    /// 0 itself too), or nil for the other steps.
    var convertingSource: ConvArray? {
        switch self {
        case .halfKernel(_, _, let source), .halfGemm(_, _, let source): return source
        default: return nil
        }
    }
}
