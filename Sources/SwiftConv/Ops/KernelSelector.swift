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
            // Small groups: the direct kernel's streaming (upsample's inner conv) beats any
            // GEMM, while zero-insertion stays affordable. Otherwise from the work each does:
            // upsample is a conv producing every x pixel from full windows over the
            // zero-inserted, padded dy (x pixels x taps per channel pair; with stride 1 nothing
            // is inserted, but windows hanging over dy's border read zeros); scatter is a GEMM
            // over dy's pixels (dy pixels x taps) plus the col2im adding its result into x.
            // With stride > 1 zero-insertion multiplies the work by strideH*strideW: scatter.
            // With stride 1 the ratio is x pixels / dy pixels: 1 for "same" convs (upsample
            // then skips col2im and wins), up to 16 for dcgan's first layer (1x1 -> 4x4).
            // Measured, one thread, conv_transpose2d scatter vs upsample (ms, interleaved;
            // grad_input of a stride-1 conv is the same call): ratio 1: 1x1 512->2048 7x7
            // 1.14 vs 1.02, 2048->512 1.33 vs 1.02, 192->32 28x28 0.159 vs 0.079, 64->256
            // 56x56 1.38 vs 0.87; 3x3 p1 64 56x56 2.15 vs 1.80, 128 28x28 1.90 vs 1.73, 512 7x7
            // 2.82 vs 2.76, 256 28x28 6.83 vs 7.26; k5 p2 64 14x14 0.558 vs 0.419. Ratio 1.31
            // (k2 7->8): 0.115 vs 0.117; 1.36 (k3 12->14): 0.159 vs 0.159; 2.25 (k3 4->6):
            // 0.192 vs 0.350; 6.25 (k4 2->5): 0.076 vs 0.091; 16 (dcgan 100->512 1->4): 0.292 vs
            // 0.519, N8 0.841 vs 1.736. Strided: dcgan 512->256 4x4 k4 s2 1.15 vs 2.71, unet
            // 1024->512 7x7 k2 s2 2.35 vs 8.18. (Tiny strided calls too: scatter 4-35% faster
            // on four of four, e.g. N1 4->8 5x5 k4 s2 p1 15.0 vs 27.1 us from Python.)
            if isSmallGroup(s) && UpsampleAdjoint.isAffordable(s) { return .upsample }
            if s.strideH == 1 && s.strideW == 1 && s.inPixels * 4 <= s.outPixels * 5 { return .upsample }
            return .scatter
        }
    }

    static func weightGradient(_ s: ConvShape, _ a: ConvAlgorithm) -> WeightGradientKernel {
        if a == .reference { return .reference }
        if isSmallGroup(s) || directWeightGradientWins(s) { return .direct }
        return .gemm
    }

    /// Dense shapes whose weight gradient the direct kernel computes faster than the GEMM:
    /// it calls one plane kernel per (image, output channel, input channel), so it pays when
    /// there are few channel pairs, each with a large plane of unit-stride windows (the GEMM's
    /// rows are the output channels: few of them waste its register block). The per-pair cost
    /// is fixed, so tiny planes with many pairs must not take it: EfficientNet's SE convs on a
    /// 1x1 plane were 30-50x slower on it than on the GEMM (a former "tiny calls go direct"
    /// rule). Measured, one thread, AVX-512 Xeon, float32, conv2d_backward(grad_weight only)
    /// from Python, direct vs gemm in us (interleaved medians; /tmp probe `wg.py`):
    /// - GEMM: 1x1 plane 672->28 820 vs 27, 28->672 849 vs 21, 1152->48 2596 vs 75,
    ///   96->4 27 vs 12; 64->64 2x2 k1 206 vs 14; 32->32 4x4 k3 189 vs 27; N8 16->16 4x4 k3
    ///   374 vs 64; 8->8 8x8 k3 34 vs 22; 16->16 8x8 k1 24 vs 16; 4->8 5x5 k3 18 vs 13;
    ///   stride 2: 3->8 16x16 k3 21 vs 14, 2->4 10x10 k3 d2 12 vs 11; 32 pairs or more:
    ///   4->8 32x32 k3 52 vs 44, 8->16 16x16 k3 82 vs 66, 3->16 32x32 k3 62 vs 39,
    ///   16->16 10x10 k3 82 vs 51, (8->8 12x12 k3 35 vs 38: about even); padded 5x5:
    ///   2->12 64x64 k5 p2 320 vs 114.
    /// - direct: 2->4 10x10 k3 p1 12.6 vs 15.5; 3->8 16x16 k3 17 vs 24 (N4 p1: 58 vs 83);
    ///   N2 4->4 12x12 k3 22 vs 35; 2->2 12x12 k3 11 vs 16; 1->4 28x28 k5 17 vs 39;
    ///   1->8 28x28 k5 23 vs 44; 3->8 28x28 k1 15 vs 27; 4->6 28x28 k3 d2 29 vs 71;
    ///   larger planes too: 3->8 128x128 k3 216 vs 244, 1->16 64x64 k3 56 vs 68,
    ///   N2 3->6 112x112 k3 252 vs 272.
    static func directWeightGradientWins(_ s: ConvShape) -> Bool {
        let unpaddedOrSmall = s.kernelTaps <= 9 || (s.padTop == 0 && s.padLeft == 0)
        return s.strideH == 1 && s.strideW == 1 && s.inChannelsPerGroup * s.outChannelsPerGroup < 32
            && s.outPixels * s.kernelTaps >= 768 && unpaddedOrSmall
    }
}
