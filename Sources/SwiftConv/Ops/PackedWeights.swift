/// Weights packed once, ahead of the calls that use them: per group, W_g as the A operand
/// of the forward GEMM ("im2col"), in the GEMM's panel format; for channels-last forward
/// plans, W^T as the pixel-major GEMM's B operand; or, for plans whose
/// transposed conv / grad_input runs as a conv with the flipped kernel ("upsample" on the
/// GEMM), that flipped, regrouped kernel (`FlippedKernel`) in the same format (a plan never
/// has both steps: conv_backward's grad_input is an adjoint, conv_transpose_backward's a
/// forward). Packing the flipped kernel ahead saves its per-call packing (see
/// `UpsampleAdjoint`). A plan made for a prepared
/// convolution holds one, and plans for other input sizes of the same weights share it
/// (the packing depends on the weights, their dtype, their shape and the groups only).
/// float16 / bfloat16 weights are widened to float32 once, here: the packed panels are
/// float32 (the kernels compute in float32), and the widened copy is kept for the steps that
/// read the weights unpacked, so no call widens them again.
public final class PackedWeights: @unchecked Sendable {
    /// The weights' dtype as the caller gave them.
    public let dtype: ConvDType
    public let weightShape: [Int]
    public let groups: Int
    /// Which GEMM the panels are an operand of.
    public enum Layout: String, Sendable {
        /// W_g (output channels x patch) as the A operand of the forward conv.
        case forward
        /// The flipped kernel (input channels x (output channel, reversed tap)) as the A
        /// operand of the transposed conv run as a conv.
        case adjoint
        /// W^T as the B operand of the channels-last (pixel-major) forward GEMM
        /// (`ChannelsLastWeights`; the A panels are then empty).
        case channelsLast
        /// The kernel taps of each output phase of a strided adjoint (`PhaseKernel`): per
        /// group and phase (index g * phases + phase), input channels x (output channel,
        /// phase tap), the A operand of that phase's GEMM (`PhaseAdjoint`).
        case phase
        /// Float32 weights in the channel-blocked conv's panels ([panel of 64 output channels]
        /// [in block][tap][16 in][64 out], `ChannelBlockedConvolution.packWeights`).
        case channelBlocked
        /// Float32 W_g^T in the panels scatter's pixel-vector GEMM reads (`ScatterWeightPanels`).
        case scatterPanels
    }
    public let layout: Layout
    /// The phase layout's (strideH, strideW, dilationH, dilationW): which taps each phase
    /// holds (empty for the other layouts).
    let phaseGeometry: [Int]
    private let float32: [PackedMatrix<Float>]
    private let float64: [PackedMatrix<Double>]
    private let channelsLast32: ChannelsLastWeights<Float>?
    private let channelsLast64: ChannelsLastWeights<Double>?
    /// float16 / bfloat16 weights: their float32 values (C-contiguous, the weight's shape);
    /// nil for float32 / float64 weights (the caller's array is read as it is).
    let widenedWeight: UnsafeMutablePointer<Float>?
    /// The channel-blocked layout's panels (nil for the other layouts).
    let channelBlocked: UnsafePointer<Float>?
    private let channelBlockedBytes: Int
    /// The scatter layout's panels (nil for the other layouts).
    let scatterPanels: ScatterWeightPanels?
    /// Bytes of `widenedWeight` (0 without one).
    public let widenedBytes: Int

    /// Packs `weight` (of `weightShape`, C-contiguous, of `dtype`) for the forward GEMM of
    /// `shape`; throws outOfMemory when the memory cannot be had.
    init(shape s: ConvShape, dtype: ConvDType, weightShape: [Int], weight: UnsafeRawPointer, layout: Layout = .forward) throws {
        self.dtype = dtype
        self.weightShape = weightShape
        self.layout = layout
        groups = s.groups
        phaseGeometry = layout == .phase ? PackedWeights.phaseGeometry(s) : []
        func packChannelsLast<T: ConvScalar>(_ w: UnsafePointer<T>) throws -> ChannelsLastWeights<T>? {
            guard layout == .channelsLast else { return nil }
            guard let packed = ChannelsLastWeights(w, shape: s) else {
                throw ConvError.outOfMemory("swiftconv: could not allocate the packed weights (\(s.outChannels) x \(s.patchSize))")
            }
            return packed
        }
        func pack<T: ConvScalar>(_ w: UnsafePointer<T>) throws -> [PackedMatrix<T>] {
            let cog = s.outChannelsPerGroup, k = s.patchSize, cig = s.inChannelsPerGroup, taps = s.kernelTaps
            let packed: [PackedMatrix<T>]?
            switch layout {
            case .channelsLast, .channelBlocked, .scatterPanels:
                return []  // packed as B panels (packChannelsLast) or channel-blocked panels (packBlocked) instead
            case .forward:
                packed = Gemm.tryPackA(count: s.groups, rows: 0..<cog, depth: k) { g in
                    StridedMatrix(base: w + g * cog * k, rowStride: k, colStride: 1)
                }
            case .adjoint:
                packed = Gemm.tryPackA(count: s.groups, rows: 0..<cig, depth: cog * taps) { g in
                    FlippedKernel(base: w + g * cog * k, cig: cig, taps: taps)
                }
            case .phase:
                guard let phases = PhaseAdjoint.pack(s, PhaseDecomposition(s), w: w) else {
                    throw ConvError.outOfMemory("swiftconv: could not allocate the packed phase kernels (\(s.outChannels) x \(k))")
                }
                return phases
            }
            guard let packed else {
                throw ConvError.outOfMemory("swiftconv: could not allocate the packed weights (\(s.outChannels) x \(k))")
            }
            return packed
        }
        // The channel-blocked panels, from float32 weights (or the widened copy of half ones).
        func packBlocked(_ w: UnsafePointer<Float>) throws -> (UnsafePointer<Float>?, Int) {
            guard layout == .channelBlocked else { return (nil, 0) }
            guard let l = ChannelBlockedLayout(s),
                  case let (bytes, overflow) = l.weightCount.multipliedReportingOverflow(by: MemoryLayout<Float>.stride), !overflow,
                  let raw = AlignedMemory.allocate(bytes: bytes) else {
                throw ConvError.outOfMemory("swiftconv: could not allocate the channel-blocked weights (\(s.outChannels) x \(s.patchSize))")
            }
            let panels = raw.bindMemory(to: Float.self, capacity: max(l.weightCount, 1))
            ChannelBlockedConvolution.packWeights(s, l, w: w, into: panels)
            return (UnsafePointer(panels), bytes)
        }
        if layout == .scatterPanels {
            guard dtype == .float32, let panels = ScatterWeightPanels(s, w: weight.assumingMemoryBound(to: Float.self)) else {
                throw ConvError.outOfMemory("swiftconv: could not allocate the scatter weight panels (\(s.outChannels) x \(s.patchSize))")
            }
            scatterPanels = panels
        } else {
            scatterPanels = nil
        }
        switch dtype {
        case .float32:
            (channelBlocked, channelBlockedBytes) = try packBlocked(weight.assumingMemoryBound(to: Float.self))
            float32 = try pack(weight.assumingMemoryBound(to: Float.self)); float64 = []
            channelsLast32 = try packChannelsLast(weight.assumingMemoryBound(to: Float.self)); channelsLast64 = nil
            widenedWeight = nil; widenedBytes = 0
        case .float64:
            (channelBlocked, channelBlockedBytes) = (nil, 0)
            float32 = []; float64 = try pack(weight.assumingMemoryBound(to: Double.self))
            channelsLast32 = nil; channelsLast64 = try packChannelsLast(weight.assumingMemoryBound(to: Double.self))
            widenedWeight = nil; widenedBytes = 0
        case .float16, .bfloat16:
            let count = s.weightCount
            let (bytes, overflow) = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
            guard !overflow, let raw = AlignedMemory.allocate(bytes: bytes) else {
                throw ConvError.outOfMemory("swiftconv: could not allocate the float32 copy of the \(dtype.name) weights (\(count) elements)")
            }
            let widened = raw.bindMemory(to: Float.self, capacity: max(count, 1))
            ConvEngine.widen(dtype, weight.assumingMemoryBound(to: UInt16.self), into: widened, count: count)
            do {
                (channelBlocked, channelBlockedBytes) = try packBlocked(UnsafePointer(widened))
                float32 = try pack(UnsafePointer(widened))
                channelsLast32 = try packChannelsLast(UnsafePointer(widened))
            } catch {
                AlignedMemory.release(raw)
                throw error
            }
            float64 = []
            channelsLast64 = nil
            widenedWeight = widened
            widenedBytes = bytes
        }
    }

    deinit {
        if let channelBlocked { AlignedMemory.release(UnsafeMutableRawPointer(mutating: channelBlocked)) }
        if let widenedWeight { AlignedMemory.release(UnsafeMutableRawPointer(widenedWeight)) }
    }

    /// The packed groups for element type T and the GEMM `layout` (nil if the weights are of
    /// another type or packed for the other GEMM).
    func groups<T: ConvScalar>(_ t: T.Type, for layout: Layout) -> [PackedMatrix<T>]? {
        layout == self.layout ? groups(t) : nil
    }

    /// The packed groups for element type T (nil if the weights are of another type).
    func groups<T: ConvScalar>(_: T.Type) -> [PackedMatrix<T>]? {
        switch T.kind {
        case .float32: return float32.isEmpty ? nil : float32 as? [PackedMatrix<T>]
        case .float64: return float64.isEmpty ? nil : float64 as? [PackedMatrix<T>]
        }
    }

    /// The channels-last GEMM's packed weights for element type T, if packed for it.
    func channelsLast<T: ConvScalar>(_: T.Type) -> ChannelsLastWeights<T>? {
        switch T.kind {
        case .float32: return channelsLast32 as? ChannelsLastWeights<T>
        case .float64: return channelsLast64 as? ChannelsLastWeights<T>
        }
    }

    /// Whether a plan for `request` (whose kernels run `shape`) may use these packed weights
    /// for the GEMM `layout`.
    func fits(_ request: ConvRequest, layout: Layout, shape: ConvShape) -> Bool {
        request.dtype == dtype && request.weightShape == weightShape && request.groups == groups && layout == self.layout
            && (layout != .phase || PackedWeights.phaseGeometry(shape) == phaseGeometry)
    }

    /// What the phase kernels depend on besides the weights (not the padding: a phase is
    /// named by its residue, whose taps do not depend on it).
    static func phaseGeometry(_ s: ConvShape) -> [Int] { [s.strideH, s.strideW, s.dilationH, s.dilationW] }

    /// Bytes of the packed panels (the widened copy of half weights not included).
    public var bytes: Int {
        float32.reduce(0) { $0 + $1.byteCount } + float64.reduce(0) { $0 + $1.byteCount }
            + (channelsLast32?.byteCount ?? 0) + (channelsLast64?.byteCount ?? 0) + channelBlockedBytes
            + (scatterPanels?.byteCount ?? 0)
    }
}
