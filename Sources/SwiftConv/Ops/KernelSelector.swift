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
    /// Depthwise (multiplier 1) on channel vectors (DepthwiseConvolution.swift); "auto" only.
    case depthwise
}

/// Concrete kernels for the adjoint dx = conv^T(dy, w) (transposed conv, input gradient).
public enum AdjointKernel: String, Sendable {
    case reference, scatter, upsample
    /// Depthwise (multiplier 1): each dx pixel gathers its taps, on channel vectors; "auto" only.
    case depthwise
}

/// Concrete kernels for the weight gradient.
public enum WeightGradientKernel: String, Sendable {
    case reference, gemm, direct
    /// Depthwise (multiplier 1) on channel vectors; "auto" only.
    case depthwise
}

/// Picks the kernel for each step from the shape. "auto" only picks formulations that keep
/// the ordinary dot-product error bound (no Winograd, no FFT).
enum KernelSelector {
    /// Below this many multiply-adds a call is all overhead: stream it directly.
    static let tinyMacs = 32_768

    /// Depthwise convolutions (one input and one output channel per group) run on the
    /// channel-vectorised kernels (DepthwiseConvolution.swift: forward, gather adjoint, weight
    /// gradient), except plain 3x3 stride-1 layers whose planes are at least 56 wide: there
    /// the plane kernel's 3x3 path (direct forward and weight gradient; the adjoint is the
    /// flipped stride-1 conv on it) streams the NCHW planes with no transposes.
    ///
    /// Measured: every depthwise layer of MobileNetV2 / EfficientNet-B0, one thread, N = 1 (N = 8
    /// in brackets), AVX-512 Xeon; this kernel vs the kernels "auto" picked before it (direct for
    /// stride 1, im2col for stride 2; training = forward + conv2d_backward: upsample/scatter
    /// adjoint, direct weight gradient), from Python, one process, blocks interleaved, medians:
    ///
    /// | layer                  | forward old -> new (us)       | training old -> new (us)        |
    /// |------------------------|-------------------------------|---------------------------------|
    /// | 32 dw 112x112 k3       | 246 -> 351 (old kept)         | 724 -> 1191 (old kept)          |
    /// | 144 dw 56x56 k3        | 335 -> 393 (old kept)         | 1096 -> 1357 (old kept)         |
    /// | 192 dw 28x28 k3        | 177 -> 134                    | 555 -> 455                      |
    /// | 384 dw 14x14 k3        | 146 -> 84                     | 532 -> 254                      |
    /// | 576 dw 14x14 k3        | 227 -> 125                    | 764 -> 386                      |
    /// | 960 dw 7x7 k3          | 560 -> 65                     | 1505 -> 204                     |
    /// | 1152 dw 7x7 k3         | 694 -> 80                     | 1833 -> 235                     |
    /// | 240 dw 28x28 k5        | 895 -> 256                    | 2471 -> 914                     |
    /// | 672 dw 14x14 k5        | 1163 -> 194                   | 3714 -> 648                     |
    /// | 1152 dw 7x7 k5         | 1082 -> 107                   | 3393 -> 363                     |
    /// | 96 dw 112x112 k3 s2    | 1264 -> 456                   | 6341 -> 1553                    |
    /// | 144 dw 56x56 k3 s2     | 603 -> 174                    | 2401 -> 623                     |
    /// | 576 dw 14x14 k3 s2     | 415 -> 62                     | 1059 -> 199                     |
    /// | 144 dw 56x56 k5 s2     | 1037 -> 232                   | 6606 -> 830                     |
    /// | 672 dw 14x14 k5 s2     | 916 -> 101                    | 5162 -> 342                     |
    ///
    /// (Two threads on the shared 2-vCPU machine were too noisy to rank the two kernels of
    /// the large 3x3 layers; the other layers' gains held: e.g. 960 dw 7x7 k3 570 -> 68 us.)
    static func usesDepthwiseKernels(_ s: ConvShape, adjoint: Bool) -> Bool {
        guard DepthwiseConvolution.supports(s, adjoint: adjoint) else { return false }
        let plain3x3 = s.kernelHeight == 3 && s.kernelWidth == 3 && s.strideH == 1 && s.strideW == 1
            && s.dilationH == 1 && s.dilationW == 1
        return !(plain3x3 && s.outWidth >= 56)
    }

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
            if usesDepthwiseKernels(s, adjoint: false) { return .depthwise }
            if isSmallGroup(s) && directBeatsGemm(s) { return .direct }
            return .im2col
        }
    }

    /// Small groups where the direct kernel beats the GEMM on the zero-padded unfolded input
    /// (measured, one thread, 14x14 to 112x112 planes). The GEMM pads its 6-row register
    /// block, so it wastes rows when a group has few output channels; the direct kernel has a
    /// SIMD interior only for unit column stride and is fastest on plain 3x3 windows.
    /// Direct wins: one output channel per group (depthwise: 1.6-6x; most depthwise shapes
    /// now take the depthwise kernels first, `usesDepthwiseKernels`); plain 3x3 with up to 3
    /// output channels per group (1.3-1.6x), or 4 fed by one input channel (about even).
    /// GEMM wins: stride 2 (2-9x), 4 x 4 channels (resnext: 1.1-1.3x), 5x5, dilated or 1x1
    /// windows with several input channels (1.5-3x).
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
            if usesDepthwiseKernels(s, adjoint: true) { return .depthwise }
            if s.strideH == 1 && s.strideW == 1 { return .upsample }
            if isSmallGroup(s) && UpsampleAdjoint.isAffordable(s) { return .upsample }
            return .scatter
        }
    }

    static func weightGradient(_ s: ConvShape, _ a: ConvAlgorithm) -> WeightGradientKernel {
        if a == .reference { return .reference }
        if usesDepthwiseKernels(s, adjoint: false) { return .depthwise }
        if isSmallGroup(s) || s.macs < tinyMacs { return .direct }
        return .gemm
    }
}
