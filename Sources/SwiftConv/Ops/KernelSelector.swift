/// The one place where kernels are chosen.
///
/// The public algorithm names are the notebook's formulations; "auto" picks the fastest one
/// for the shape, among formulations that keep the ordinary dot-product error bound.
public enum ConvAlgorithm: String, CaseIterable, Sendable {
    case auto, direct, im2col, taps, scatter, upsample, reference

    /// The names each op accepts ("reference" is the plain-loop oracle, for tests).
    /// The same for every rank.
    public static func valid(for op: ConvOp) -> [ConvAlgorithm] {
        switch op {
        case .conv: return [.auto, .direct, .im2col, .taps, .reference]
        case .convTranspose: return [.auto, .scatter, .upsample, .reference]
        case .convBackward, .convTransposeBackward: return [.auto, .reference]
        }
    }

    static func parse(_ name: String, for op: ConvOp, rank: Int = 2) throws -> ConvAlgorithm {
        let valid = valid(for: op)
        if let a = ConvAlgorithm(rawValue: name), valid.contains(a) { return a }
        let list = valid.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        throw ConvError.invalidArgument("\(op.name(rank: rank)): unknown algorithm '\(name)', expected one of \(list)")
    }
}

/// Concrete kernels for y = conv(x, w).
public enum ForwardKernel: String, Sendable {
    case reference, direct, im2col, taps
}

/// Concrete kernels for the adjoint dx = conv^T(dy, w) (transposed conv, input gradient).
public enum AdjointKernel: String, Sendable {
    case reference, scatter, upsample
}

/// Concrete kernels for the weight gradient.
public enum WeightGradientKernel: String, Sendable {
    case reference, gemm, direct
}

/// Picks the kernel for each step from the shape. "auto" only picks formulations that keep
/// the ordinary dot-product error bound (no Winograd, no FFT).
enum KernelSelector {
    /// Below this many multiply-adds a call is all overhead: stream it directly.
    static let tinyMacs = 32_768

    /// Few channels per group (depthwise, small-group convolutions): a GEMM would have
    /// m and k too small to fill its registers, while the direct kernel streams the data once.
    static func isSmallGroup(_ s: ConvShape) -> Bool {
        s.groups > 1 && s.inChannelsPerGroup <= 4 && s.outChannelsPerGroup <= 4
    }

    static func forward(_ s: ConvShape, _ a: ConvAlgorithm) -> ForwardKernel {
        switch a {
        case .reference: return .reference
        case .direct: return .direct
        case .taps: return .taps
        case .im2col: return .im2col
        default:
            // Tiny calls included: with the plan made once, what is left of a tiny call is
            // the kernel, and the GEMM's is the faster one there too. Measured with prepared
            // plans, one thread, AVX-512 Xeon (direct vs im2col, us per call from Python):
            // notebook N1 2->4 10x10 k3 s2 p1 d2 2.8 vs 2.0; 2->4 10x10 k3 p1 3.2 vs 2.9;
            // dilated 7.1 vs 2.4; 3->8 16x16 k3 11.6 vs 4.3 (stride 2: 22.1 vs 3.8);
            // 8->8 8x8 k3 38.1 vs 5.9; 16->16 8x8 k1 39.6 vs 1.8; 1->4 28x28 k5 7.1 vs 5.5;
            // N2 4->4 12x12 k3 13.9 vs 7.3. Small groups follow `directBeatsGemm` at any size.
            if isSmallGroup(s) && directBeatsGemm(s) { return .direct }
            return .im2col
        }
    }

    /// Small groups where the direct kernel beats the GEMM on the zero-padded unfolded input
    /// (measured, one thread, 14x14 to 112x112 planes). The GEMM pads its 6-row register
    /// block, so it wastes rows when a group has few output channels; the direct kernel has a
    /// SIMD interior only for unit column stride and is fastest on plain 3x3 windows.
    /// Direct wins: one output channel per group (depthwise: 1.6-6x); plain 3x3 with up to 3
    /// output channels per group (1.3-1.6x), or 4 fed by one input channel (about even).
    /// GEMM wins: stride 2 (2-9x, also depthwise), 4 x 4 channels (resnext: 1.1-1.3x), 5x5,
    /// dilated or 1x1 windows with several input channels (1.5-3x).
    static func directBeatsGemm(_ s: ConvShape) -> Bool {
        if s.strideW != 1 { return false }
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        if cog == 1 { return true }
        if s.kernelTaps == 1 { return cig == 1 }
        let plain3x3 = s.kernelHeight <= 3 && s.kernelWidth <= 3 && s.dilationH == 1 && s.dilationW == 1
        return plain3x3 && (cog <= 3 || cig == 1)
    }

    static func adjoint(_ s: ConvShape, _ a: ConvAlgorithm) -> AdjointKernel {
        switch a {
        case .reference: return .reference
        case .upsample: return .upsample
        case .scatter: return .scatter
        default:
            // With stride 1 nothing is inserted: the transposed conv IS a conv with the flipped
            // kernel, which runs on the forward kernels (GEMM, or direct for small groups) with
            // no col2im pass. With larger strides zero-insertion would multiply the work by
            // strideH*strideW, so the GEMM + col2im scatter wins, except for small groups where
            // the direct kernel's streaming beats any GEMM. (Tiny strided calls too: scatter
            // measured 4-35% faster than upsample on four of four tiny strided shapes, e.g.
            // N1 4->8 5x5 k4 s2 p1 15.0 vs 27.1 us from Python, one thread.)
            if s.strideH == 1 && s.strideW == 1 { return .upsample }
            if isSmallGroup(s) && UpsampleAdjoint.isAffordable(s) { return .upsample }
            return .scatter
        }
    }

    static func weightGradient(_ s: ConvShape, _ a: ConvAlgorithm) -> WeightGradientKernel {
        if a == .reference { return .reference }
        if isSmallGroup(s) || s.macs < tinyMacs { return .direct }
        return .gemm
    }
}

/// Concrete kernels for y = conv(x, w) on channels-last activations, read in place.
public enum ChannelsLastKernel: String, Sendable {
    /// Pixel-major GEMM: y[pixels, C_out] = unfold(x)[pixels, (kh, kw, ci)] x W^T per group
    /// (ChannelsLastConvolution).
    case gemm = "channels-last gemm"

    func explanation(_ s: ConvShape) -> String {
        s.isPointwise ? "pixels x C_in times C_in x C_out, no unfolding"
                      : "pixels x (kh, kw, ci) unfolded while packing, times (kh, kw, ci) x C_out"
    }
}

extension KernelSelector {
    /// The channels-last GEMM packs one run of C_in/g channels per tap and pixel, and pads
    /// C_out/g to 16-column panels: with few channels per group both cost more than the
    /// transposes of the conversion path (see channelsLastForward's table).
    static let channelsLastMinInChannels = 8
    static let channelsLastMinOutChannels = 16

    /// The channels-last forward kernel for a planar shape, or nil: the plan then converts
    /// the activations to channels-first around the channels-first kernels. The GEMM runs
    /// where the channels-first plan would run the GEMM too (im2col); small groups
    /// (depthwise) stay on the conversion path until a channel-vectorised kernel reads them.
    ///
    /// Measured (one thread, N = 1, float32, AVX-512 Xeon; channels-last / NCHW time of the
    /// same call, medians of interleaved runs, CPU time; function calls, not prepared):
    /// the GEMM 0.95-1.11 on every dense layer of ResNet-50 and the U-Net decoder (3x3
    /// 64->64 56x56 1.05, 1x1 256->64 56x56 0.98, 1x1 1024->256 14x14 1.04), where the
    /// conversion path costs 1.04-1.25 (1x1 1024->256 14x14 1.25: two transposes of the
    /// activations, memory-bound at about 0.5 ns per element). The GEMM packs the weights
    /// per call (kxk: about 0.6 ns per element) and copies its B panels: with weights more
    /// than 4x the activations (3x3 512->512 7x7: 2.4 M weights, 50 K activations) it lost
    /// (1.54, converted 1.02). 7x7 3->64 (3 channels, one per tap run) lost 4.5x, converted
    /// 1.36; grouped 128 g32 (4 x 4 channels, 16-column panels a quarter used) 4.6x,
    /// converted 1.29.
    static func channelsLastForward(_ s: ConvShape, _ a: ConvAlgorithm) -> ChannelsLastKernel? {
        guard s.isPlanar, a == .auto || a == .im2col, forward(s, a) == .im2col else { return nil }
        guard s.inChannelsPerGroup >= channelsLastMinInChannels && s.outChannelsPerGroup >= channelsLastMinOutChannels else { return nil }
        let activations = s.inputCount + s.outputCount
        return s.weightCount <= 4 * activations ? .gemm : nil
    }
}

extension KernelSelector {
    /// The channels-last kernel for dx = conv^T(dy, w) of a planar shape, or nil (convert):
    /// at stride 1 it is the stride-1 convolution with the flipped kernel, so the GEMM runs
    /// where it runs for that convolution (strided ones need a channels-last col2im: not yet).
    static func channelsLastAdjoint(_ s: ConvShape, _ a: ConvAlgorithm) -> ChannelsLastKernel? {
        guard a == .auto || a == .upsample, s.isPlanar, s.strideH == 1, s.strideW == 1,
              let c = UpsampleAdjoint.equivalentConvolution(s) else { return nil }
        return channelsLastForward(c, .auto)
    }

    /// Whether a conv backward runs every step on channels-last data (grad_input by
    /// `channelsLastAdjoint`, grad_weight by the pixel-major GEMM dy^T x unfold(x), grad_bias
    /// by row sums): where both the forward and the adjoint run the channels-last GEMM, for
    /// 1x1 windows and for planes of at most `channelsLastBackwardMaxPixels` output pixels.
    /// (All or nothing: a plan that converts its activations for one step converts them for
    /// every step.)
    ///
    /// Measured (one thread, N = 1, float32, all three gradients; channels-last / NCHW time,
    /// medians of 9 interleaved runs, CPU time; native vs converted): 3x3 128->128 28x28
    /// 0.86 vs 1.05, 1x1 512->128 28x28 0.66, 1x1 1024->256 14x14 0.85, 1x1 64->256 56x56
    /// 1.20 vs 1.35, 1x1 256->64 56x56 1.36 vs 1.72; but 3x3 64->64 56x56 1.39 vs 1.09 (the
    /// weight gradient's B panels, packed pixel by pixel from the unfolded input with runs
    /// of C_in/g channels per tap, cost as much as its GEMM when the plane is large).
    static func channelsLastBackward(_ s: ConvShape, _ a: ConvAlgorithm) -> Bool {
        a == .auto && (s.kernelTaps == 1 || s.outPixels <= channelsLastBackwardMaxPixels)
            && channelsLastForward(s, .auto) != nil && channelsLastAdjoint(s, .auto) != nil
    }

    static let channelsLastBackwardMaxPixels = 1024
}

