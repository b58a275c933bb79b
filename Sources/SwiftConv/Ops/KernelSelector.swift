/// The one place where kernels are chosen.
///
/// The public algorithm names are the notebook's formulations; "auto" picks the fastest one
/// for the shape, among formulations that keep the ordinary dot-product error bound.
public enum ConvAlgorithm: String, CaseIterable, Sendable {
    case auto, direct, im2col, taps, scatter, upsample, phase, depthwise, dot, blocked, reference

    /// The names each op accepts ("reference" is the plain-loop oracle, for tests).
    /// The same for every rank. "depthwise" names the kernel "auto" picks for most depthwise
    /// shapes (so that a caller can pin it, as swiftconv.dask does for its chunks); on a shape
    /// it does not run (not depthwise, or a row too wide for its tile) it is "auto" without it.
    /// "dot" names the one-pixel dot products "auto" picks for 1x1 convs on a 1x1 plane
    /// (`KernelSelector.onePixelForward`), for the same reason: they sum in another order
    /// than the GEMM, so a chunk of a larger 1x1 conv must be able to pin either. On any
    /// other shape it is an error (`KernelSelector.checkNamed`): it computes nothing else.
    /// "blocked" names the channel-blocked direct conv "auto" picks for some dense layers
    /// (`KernelSelector.channelBlockedWins`), for the same reason; where it does not run
    /// (groups, float64, a tier without it) it is the im2col GEMM.
    public static func valid(for op: ConvOp) -> [ConvAlgorithm] {
        switch op {
        case .conv: return [.auto, .direct, .im2col, .taps, .depthwise, .dot, .blocked, .reference]
        case .convTranspose: return [.auto, .scatter, .upsample, .phase, .depthwise, .reference]
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
    /// 1x1 convs on a 1x1 plane: one dot product over C_in/groups per output, on the arrays
    /// in place (OnePixelConvolution.forward); its own summation order, not the GEMM's.
    case dot
    /// Dense convolutions on 16-channel blocks, output channels in the vector lanes
    /// (ChannelBlockedConvolution.swift); its own summation order, not the GEMM's.
    case blocked
}

/// Concrete kernels for the adjoint dx = conv^T(dy, w) (transposed conv, input gradient).
public enum AdjointKernel: String, Sendable {
    case reference, scatter, upsample
    /// One stride-1 GEMM per output phase with that phase's kernel taps (PhaseAdjoint.swift).
    /// Named on a shape it does not run (more than `PhaseDecomposition.maxPhases`): "auto".
    case phase
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
    /// Depthwise convolutions (one input and one output channel per group) run on the
    /// channel-vectorised kernels (DepthwiseConvolution.swift: forward, gather adjoint, weight
    /// gradient), except plain 3x3 stride-1 layers whose planes are at least 56 wide: there
    /// the plane kernel's 3x3 path (direct forward and weight gradient; the adjoint is the
    /// flipped stride-1 conv on it) streams the NCHW planes with no transposes.
    ///
    /// Measured: every depthwise layer of MobileNetV2 / EfficientNet-B0, one thread, N = 1 and
    /// N = 8, AVX-512 Xeon, us per call from Python: the kernels "auto" picked before (old:
    /// direct for stride 1, im2col for stride 2; training = conv2d + conv2d_backward, whose
    /// adjoint was upsample > direct / upsample > im2col and weight gradient direct) against
    /// these (new); old and new builds loaded in one process, blocks interleaved, medians of 5.
    /// (*) the layers where the plane kernel stays (figures of an earlier run of the same
    /// comparison with the depthwise kernels forced there):
    ///
    /// | layer                  | fwd N1 old -> new | fwd N8 old -> new | train N1 old -> new | train N8 old -> new |
    /// |------------------------|-------------------|-------------------|---------------------|---------------------|
    /// | 32 dw 112x112 k3 (*)   | 233 -> 397        | 1619 -> 2944      | 771 -> 1277         | 5418 -> 9597        |
    /// | 96 dw 112x112 k3 s2    | 1322 -> 433       | 38.0k -> 4948     | 7952 -> 1433        | 126.9k -> 27.5k     |
    /// | 144 dw 56x56 k3 (*)    | 324 -> 423        | 2589 -> 3272      | 1044 -> 1296        | 8106 -> 15.1k       |
    /// | 144 dw 56x56 k3 s2     | 646 -> 182        | 9426 -> 1503      | 2631 -> 603         | 23.1k -> 5164       |
    /// | 192 dw 28x28 k3        | 176 -> 138        | 1425 -> 1239      | 558 -> 438          | 5292 -> 4093        |
    /// | 192 dw 28x28 k3 s2     | 314 -> 63         | 2231 -> 541       | 985 -> 220          | 10.7k -> 2081       |
    /// | 384 dw 14x14 k3        | 154 -> 80         | 1147 -> 704       | 512 -> 243          | 3910 -> 2162        |
    /// | 576 dw 14x14 k3        | 220 -> 113        | 1820 -> 1102      | 745 -> 372          | 5732 -> 3713        |
    /// | 576 dw 14x14 k3 s2     | 417 -> 64         | 2189 -> 484       | 1016 -> 215         | 6999 -> 1778        |
    /// | 960 dw 7x7 k3          | 572 -> 64         | 4428 -> 480       | 1612 -> 193         | 14.4k -> 1536       |
    /// | 144 dw 56x56 k5 s2     | 1072 -> 232       | 13.3k -> 2060     | 10.1k -> 797        | 64.3k -> 8017       |
    /// | 240 dw 28x28 k5        | 893 -> 238        | 10.3k -> 1664     | 3126 -> 861         | 26.5k -> 8398       |
    /// | 240 dw 28x28 k3 s2     | 398 -> 72         | 2927 -> 685       | 1175 -> 302         | 13.0k -> 2771       |
    /// | 480 dw 14x14 k3        | 180 -> 95         | 1472 -> 960       | 609 -> 295          | 6847 -> 2966        |
    /// | 480 dw 14x14 k5        | 824 -> 117        | 10.7k -> 1171     | 2545 -> 392         | 28.0k -> 4107       |
    /// | 672 dw 14x14 k5        | 1166 -> 170       | 13.4k -> 1628     | 5187 -> 608         | 44.0k -> 10.4k      |
    /// | 672 dw 14x14 k5 s2     | 814 -> 93         | 6351 -> 802       | 2929 -> 352         | 24.8k -> 2842       |
    /// | 1152 dw 7x7 k5         | 1053 -> 83        | 11.0k -> 675      | 5214 -> 320         | 32.3k -> 2352       |
    /// | 1152 dw 7x7 k3         | 682 -> 76         | 6823 -> 589       | 1952 -> 233         | 21.0k -> 1800       |
    ///
    /// Against the best of PyTorch and ONNX Runtime (same runs), forward N = 1: 0.6-1.4x,
    /// except 576 dw 14x14 k3 s2 1.72x, 960 dw 7x7 k3 1.64x, 1152 dw 7x7 k3 1.53x (ONNX Runtime
    /// 37-50 us; about 8 us of each of ours is the Python call); N = 8 at most 1.18x; training
    /// (PyTorch) at most 0.73x (N = 1) and 1.12x (N = 8). Two threads could not be ranked on the
    /// shared 2-vCPU machine (a dense 3x3 GEMM layer did not speed up either at the time).
    static func usesDepthwiseKernels(_ s: ConvShape, adjoint: Bool) -> Bool {
        guard DepthwiseConvolution.supports(s, adjoint: adjoint) else { return false }
        let plain3x3 = s.kernelHeight == 3 && s.kernelWidth == 3 && s.strideH == 1 && s.strideW == 1
            && s.dilationH == 1 && s.dilationW == 1
        return !(plain3x3 && s.outWidth >= 56)
    }

    /// Whether the NCHW depthwise kernels' whole-plane tasks prefetch the next task's planes
    /// into L2 while a tile's taps run (`DepthwiseConvolution.run`): the call's source and
    /// destination planes (elements of `elementBytes`) together exceed
    /// `depthwisePrefetchMinBytes` (below it they stay in L2 between calls and the
    /// prefetches only cost instructions), and a plane's taps take at least
    /// `depthwisePrefetchMinTapsPerElement` multiply-adds per element fetched (time for the
    /// fetch to land while they run).
    ///
    /// Measured (session 11, one thread, N8, CPU time, without / with the prefetch
    /// interleaved in one process, paired medians of 101-151 rounds, two runs, Zen5 under
    /// load 8-10; /tmp/s11/dw/ab.py):
    ///
    /// | layer (forward)     | taps / element | with / without |
    /// |---------------------|----------------|----------------|
    /// | 1152 dw 7x7 k5      | 12.5           | 0.945          |
    /// | 1152 dw 7x7 k3      | 4.5            | 0.96-0.98      |
    /// | 960 dw 7x7 k3       | 4.5            | 0.99-1.02      |
    /// | 672 dw 14x14 k5     | 12.5           | 0.92-0.93      |
    /// | 672 dw 14x14 k5 s2  | 5.0            | faster         |
    /// | 480 dw 14x14 k3     | 4.5            | 0.92-0.97      |
    /// | 576 dw 14x14 k3     | 4.5            | 0.89-0.99      |
    /// | 576 dw 14x14 k3 s2  | 1.8            | 1.04-1.10 (off)|
    /// | 384 dw 14x14 k3     | 4.5            | 1.09-1.10, 0.93 in another run |
    ///
    /// Training (conv2d + conv2d_backward) 0.85-0.98; N1 (under the 1 MB threshold) with the
    /// prefetch 1-3% slower on the 7x7 layers, hence the threshold. Tried, no gain: tasks in
    /// channel-block-major chunks (each block's weights interleaved once per chunk, the
    /// prefetch within the chunk), within 3% at N8; prefetching only the source or only the
    /// destination, within 2%. Two threads (wall clock) could not be ranked (0.78-1.05 on
    /// the 7x7 layers, +-40% between runs on unchanged layers).
    ///
    /// One thread only: the pool's threads claim tasks from a shared counter, so with two the
    /// next task is usually the other thread's, and each thread fetched planes the other one
    /// was about to read. Measured (session 12, Zen5, quiet machine, two threads, wall clock,
    /// one process, 9 interleaved rounds, prefetch off / on at two threads): N8 960 dw 7x7
    /// 0.87, 192 dw 28x28 0.85, 384 dw 14x14 0.89, 576 dw 14x14 0.92, 1152 dw 7x7 k5 0.93,
    /// large planes 0.99-1.01; the depthwise and 1x1 layers of MobileNetV2 / EfficientNet-B0
    /// at N8, two threads: 0.988 / 0.993 of the total.
    static func depthwisePrefetchesNextPlanes(_ s: ConvShape, elementBytes: Int, threads: Int) -> Bool {
        if threads > 1 { return false }
        let (srcPlane, dstPlane) = (s.inHeight * s.inWidth, s.outHeight * s.outWidth)  // (either direction: both planes)
        let taps = s.kernelTaps.multipliedReportingOverflow(by: s.outHeight * s.outWidth)
        if taps.overflow || taps.partialValue < depthwisePrefetchMinTapsPerElement * (srcPlane + dstPlane) {
            return false
        }
        let planes = s.batch.multipliedReportingOverflow(by: s.groups)
        let elements = planes.partialValue.multipliedReportingOverflow(by: srcPlane + dstPlane)
        if planes.overflow || elements.overflow { return true }
        return elements.partialValue > depthwisePrefetchMinBytes / elementBytes
    }

    /// `depthwisePrefetchesNextPlanes`' call size: the 1 MB L2 of the Zen5 measured.
    static let depthwisePrefetchMinBytes = 1024 * 1024
    /// `depthwisePrefetchesNextPlanes`' multiply-adds per prefetched element.
    static let depthwisePrefetchMinTapsPerElement = 3

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
        case .dot: return .dot  // (only on the shapes `checkNamed` lets through)
        case .blocked: return .blocked
        case .depthwise where DepthwiseConvolution.supports(s, adjoint: false): return .depthwise
        case .depthwise: return forwardWithoutDepthwise(s)
        default:
            if usesDepthwiseKernels(s, adjoint: false) { return .depthwise }
            return forwardWithoutDepthwise(s)
        }
    }

    /// "auto" among the kernels other than the depthwise ones: the direct kernel for some
    /// small groups, the one-pixel dot products (`onePixelForward`), else the GEMM.
    static func forwardWithoutDepthwise(_ s: ConvShape) -> ForwardKernel {
        // Tiny calls included: with the plan made once, what is left of a tiny call is
        // the kernel, and the GEMM's is the faster one there too. Measured with prepared
        // plans, one thread, AVX-512 Xeon (direct vs im2col, us per call from Python):
        // notebook N1 2->4 10x10 k3 s2 p1 d2 2.8 vs 2.0; 2->4 10x10 k3 p1 3.2 vs 2.9;
        // dilated 7.1 vs 2.4; 3->8 16x16 k3 11.6 vs 4.3 (stride 2: 22.1 vs 3.8);
        // 8->8 8x8 k3 38.1 vs 5.9; 16->16 8x8 k1 39.6 vs 1.8; 1->4 28x28 k5 7.1 vs 5.5;
        // N2 4->4 12x12 k3 13.9 vs 7.3. Small groups follow `directBeatsGemm` at any size.
        if isSmallGroup(s) && directBeatsGemm(s) { return .direct }
        if channelBlockedWins(s) { return .blocked }
        return onePixelForward(s) ? .dot : .im2col
    }

    /// Dense layers where the channel-blocked direct conv (`ChannelBlockedConvolution`: input
    /// as NCHW16c, tiles of 6 (stride 1) or 7 (stride 2) pixels x 64 output channels summed over every tap and input channel in
    /// registers, the next pass's weights prefetched meanwhile) beats the im2col GEMM (padded
    /// copy, packed B, C tiles reloaded per depth block): 3x3 windows, stride 1 or 2, at least
    /// 64 channels in and out, output rows of 7 pixels or more. The shape alone decides (so
    /// plain and prepared calls agree); float32 on the AVX-512 tier only (the planner takes
    /// im2col for float64, `ConvPlan`; the tier check is here).
    ///
    /// Measured: one thread, 2-vCPU AVX-512 Xeon (shared, load 9-11), float32, ms per call from
    /// Python, CPU time, medians of 7 (N1) / 3 (N8) calls, algorithm="im2col" and "blocked"
    /// interleaved in one process, plain call / prepared (sc.prepare, same algorithm), two runs
    /// (/tmp/blk7/ab.py, session 10); "*": the rule takes it. Since the tile kernel prefetches the
    /// next pass's weights (before: the first row of each pass waited on them), prepared calls
    /// win by 8-29% on the small planes too; plain calls at N1 with large weights lose 3-12%
    /// (512 7x7, 512 14x14 s2, 1024->512 14x14: the per-call weight packing, 9.4-19 MB, is not
    /// overlapped with the compute). The helper took them (the prepared gain is 2-5x the plain
    /// loss in ms); the lead kept them out, by `channelBlockedMaxWeightsPerPixel` ("*" below
    /// marks what the rule takes now).
    ///
    /// | layer (3x3 p1)          | N1 im2col     | N1 blocked    | N8 im2col     | N8 blocked    |
    /// |-------------------------|---------------|---------------|---------------|---------------|
    /// | 256->256 14x14 *        | 1.794 / 1.674 | 1.636 / 1.537 | 14.22 / 13.11 | 12.60 / 11.89 |
    /// | 512->512 7x7 (N8*)      | 2.213 / 2.052 | 2.418 / 1.451 | 12.25 / 13.21 | 11.76 / 10.76 |
    /// | 512->512 14x14 s2 (N8*) | 2.268 / 2.059 | 2.549 / 1.506 | 13.87 / 13.37 | 12.95 / 11.44 |
    /// | 1024->512 14x14 (N8*)   | 14.08 / 13.69 | 15.44 / 11.90 | 102.6 / 102.3 | 91.90 / 87.32 |
    /// | 512->512 14x14 (N8*)    | 6.844 / 6.395 | 7.077 / 5.851 | 50.92 / 51.06 | 46.28 / 43.28 |
    ///
    /// The same on this 2-vCPU AMD EPYC Zen5 (1 MB L2 per core, shared, load 7-16), session 11
    /// (helper `packfuse`, /tmp/s11/packfuse/ab.py, the session-start build, medians of 15 (N1)
    /// / 5-7 (N8) rounds): the rule's N1 limit holds (plain blocked loses there), but three of
    /// its picks lose plain too: 256->256 14x14 N1 1.266 vs 1.209 (21 rounds), 512->512 7x7 N8
    /// and 14x14 s2 N8 by 4-6% and 11-12% (two runs); at two threads (CPU time) 512 7x7 N8
    /// 9.80 vs 9.64, 14x14 s2 N8 11.05 vs 11.30. Prepared blocked wins on every row. Left
    /// as it was (weights per pixel does not separate them here: 1024->512 14x14 N8, 3009 per
    /// pixel, wins by 6%, 256->256 14x14 N1, 3008, loses 5%); for the lead to weigh against
    /// the network runs. Overlapping the per-call packing with the compute did not pay (the
    /// note next to `ChannelBlockedConvolution.packWeights`).
    ///
    /// | layer (3x3 p1, Zen5)    | N1 im2col     | N1 blocked    | N8 im2col     | N8 blocked    |
    /// |-------------------------|---------------|---------------|---------------|---------------|
    /// | 64->64 56x56 *          | 1.165 / 1.145 | 1.129 / 1.097 |               |               |
    /// | 128->128 28x28 *        | 1.154 / 1.110 | 1.107 / 1.057 |               |               |
    /// | 256->256 14x14 *        | 1.173 / 1.188 | 1.249 / 1.077 |               |               |
    /// | 512->512 7x7 (N8*)      | 1.519 / 1.587 | 1.635 / 1.085 | 9.187 / 10.32 | 9.546 / 8.608 |
    /// | 512->512 14x14 s2 (N8*) | 1.625 / 1.723 | 1.871 / 1.145 | 10.22 / 11.19 | 11.42 / 9.765 |
    /// | 1024->512 14x14 (N8*)   | 8.976 / 10.82 | 9.750 / 8.603 | 76.89 / 80.71 | 72.04 / 69.18 |
    /// | 512->512 14x14 (N8*)    | 4.522 / 4.754 | 4.935 / 4.437 | 40.00 / 40.81 | 35.94 / 35.11 |
    ///
    /// Before the prefetch (session 9, load 6-7, same method), where the rule took rows of 14+
    /// and more than 196 output pixels:
    ///
    /// | layer (3x3 p1)          | N1 im2col     | N1 blocked    | N8 im2col     | N8 blocked    |
    /// |-------------------------|---------------|---------------|---------------|---------------|
    /// | 64->64 56x56 *          | 1.686 / 1.687 | 1.625 / 1.555 | 14.45 / 14.29 | 13.90 / 13.88 |
    /// | 128->128 56x56 s2 *     | 1.878 / 1.833 | 1.711 / 1.658 | 16.84 / 16.36 | 16.03 / 15.68 |
    /// | 128->128 28x28 *        | 1.690 / 1.659 | 1.569 / 1.490 | 13.86 / 13.63 | 12.56 / 12.34 |
    /// | 256->256 28x28 s2 *     | 1.869 / 1.852 | 1.861 / 1.768 | 16.14 / 15.47 | 14.60 / 13.74 |
    /// | 256->256 14x14          | 1.734 / 1.688 | 1.765 / 1.679 | 14.77 / 13.37 | 12.64 / 12.11 |
    /// | 512->512 14x14 s2       | 2.576 / 2.207 | 2.930 / 2.423 | 13.65 / 13.75 | 15.44 / 15.13 |
    /// | 512->512 7x7            | 2.442 / 2.137 | 2.787 / 2.335 | 13.42 / 13.52 | 13.65 / 13.34 |
    /// | 1024->512 14x14         | 14.19 / 13.99 | 16.17 / 13.28 | 106.6 / 109.0 | 98.3 / 98.5   |
    /// | 512->512 14x14          | 7.087 / 6.669 | 7.413 / 6.619 | 54.24 / 54.31 | 48.84 / 48.79 |
    /// | 512->256 28x28 *        | 13.78 / 13.16 | 12.74 / 12.39 | 100.7 / 101.2 | 96.45 / 97.29 |
    /// | 256->256 28x28 *        | 6.865 / 6.531 | 6.391 / 6.155 | 51.30 / 50.92 | 48.76 / 49.17 |
    /// | 256->128 56x56 *        | 13.50 / 13.20 | 12.43 / 12.14 | 104.3 / 103.3 | 97.84 / 98.01 |
    /// | 128->128 56x56 *        | 6.753 / 6.479 | 6.322 / 6.131 | 52.85 / 52.45 | 49.94 / 49.75 |
    /// | 128->64 112x112 *       | 13.88 / 13.86 | 13.15 / 12.97 | 107.6 / 109.1 | 102.6 / 102.5 |
    /// | 64->64 112x112 *        | 6.959 / 6.946 | 6.664 / 6.626 | 56.02 / 55.61 | 52.77 / 52.51 |
    static func channelBlockedWins(_ s: ConvShape) -> Bool {
        guard KernelTable.active.sconvChannelBlockedRow != nil, ChannelBlockedLayout(s) != nil else { return false }
        return s.kernelHeight == 3 && s.kernelWidth == 3 && s.dilationH == 1 && s.dilationW == 1
            && s.strideH <= 2 && s.strideW <= 2 && s.inChannels >= 64 && s.outChannels >= 64
            && s.outWidth >= 7
            // (divided, not multiplied: no product of the call's sizes can overflow)
            && s.inChannels * s.outChannels * s.kernelTaps / max(1, s.outPixels) / max(1, s.batch) <= channelBlockedMaxWeightsPerPixel
    }

    /// The most weights per output pixel of the call (C_in x C_out x taps over N x H_out x
    /// W_out) that the channel-blocked conv takes: above it the per-call weight packing (a
    /// transpose of the whole kernel into its panels, about 0.9 ms for 9.4 MB) outweighs the
    /// gain, and plain calls lose to the GEMM, whose packing is a copy. Measured (table above,
    /// plain N1): 256->256 14x14 (3008 per pixel) wins 0.91x, 512->512 14x14 (12037) loses
    /// 1.03x, 1024->512 14x14 (24075) 1.10x, 512->512 7x7 and 14x14 s2 (48149) 1.09-1.12x; at
    /// N8 512->512 7x7 (6019) wins 0.96x. The rule sees the shape only (plain and prepared
    /// calls must give the same bits), so prepared calls of those layers keep the GEMM too,
    /// although prepared blocked beats it by 13-29% there (lead, session 10: the plain call is
    /// the default and what the network targets time).
    static let channelBlockedMaxWeightsPerPixel = 8192

    /// Whether a prepared layer's forward GEMM reads the caller's weights in place (the plain
    /// call's route, `readsWeightsInPlace`: `schedule.tiling.weightsInPlace`, not on the padded
    /// grid, which packs its own way) instead of the
    /// panels packed at creation. Either way the same micro-kernels sum in the same order
    /// (GemmOperands.swift), so prepared and plain calls keep the same bits; only the time
    /// differs. Float32 only (a half prepared layer keeps its packed widened weights).
    ///
    /// Measured (2-vCPU Zen5, shared, load 9-20; one thread, CPU time, plain = in place and
    /// prepared = packed at creation interleaved in one process, medians of 5-7 rounds,
    /// /tmp/s12/prep/pp.py, session 12), packed / in place by GEMM columns (pixels, batch
    /// folded in below 512 pixels):
    ///
    /// | layer                 | 49 (N1)     | 98 (N2)     | 196         | 392         |
    /// |-----------------------|-------------|-------------|-------------|-------------|
    /// | 512->512 7x7 k3       | 0.956       | 1.049       | 1.048 (N4)  | (blocked)   |
    /// | 512->512 14x14 k3 s2  | 0.960       | 1.017       | 1.057 (N4)  | (blocked)   |
    /// | 1024->512 14x14 k3    |             |             | 1.213 (N1)  | 1.205 (N2)  |
    /// | 512->512 14x14 k3     |             |             | 1.067 (N1)  | (blocked)   |
    /// | 1x1 14x14 (4 layers)  |             |             | 0.913-0.963 (N1) | 1.008 (1024->512 N2) |
    /// | 512->2048 7x7 k1      | (packed)    | 0.958       | 1.014 (N4)  | 1.059 (N8)  |
    /// | 2048->512 7x7 k1      | (packed)    | 0.906       | 0.981 (N4)  | 1.072 (N8)  |
    /// | 1024->2048 14x14 k1 s2| (packed)    | 1.009       | 1.047 (N4)  | 1.093 (N8)  |
    ///
    /// So: windows of several taps (a deep patch) from 64 columns, 1x1 layers from 256.
    /// (1024->2048 s2 at N4, 1.047, is left packed: the networks run N1 and N8.)
    static func preparedReadsWeightsInPlace(_ s: ConvShape, schedule: Im2colConvolution.Schedule, dtype: ConvDType) -> Bool {
        guard dtype == .float32, schedule.tiling.weightsInPlace, schedule.grid == nil else { return false }
        let columns = schedule.foldBatch ? s.batch * s.outPixels : s.outPixels
        return columns >= (s.kernelTaps > 1 ? preparedInPlaceMinColumns : preparedInPlaceMinColumnsPointwise)
    }

    /// Whether a prepared float32 1x1 layer whose plain call runs the im2col GEMM runs the
    /// channel-blocked conv instead, on panels packed at creation (`ChannelBlockedConvolution`:
    /// output channels in the lanes, pixels broadcast, tiles of up to 6 pixels x 64 channels).
    /// For a 1x1 kernel its sum order is the GEMM's: the bias (or +0), then input channel by
    /// input channel, one fused multiply-add each; with no padded input channels (C_in a
    /// multiple of 16: a padded channel's 0 x 0 would turn a -0 sum into +0) and every window
    /// inside the input, the bits are the plain call's. The GEMM's 49 columns of a 7x7 plane
    /// are 3 x 16 + 1 (the one-column edge, `narrowColumnBlockF`); the blocked tiles have no
    /// column edge. Prepared blocked / prepared GEMM, one thread, CPU time, 2-vCPU Zen5
    /// (shared), medians of 5 interleaved rounds in one process (/tmp/s12/prep/blk1x1.py), bits
    /// identical to the plain call on every row:
    ///
    /// | layer (1x1)          | N1 (49 columns) | N8 / 14x14 N1                     |
    /// |----------------------|-----------------|-----------------------------------|
    /// | 512->2048 7x7        | 0.919           | N8 0.973                          |
    /// | 2048->512 7x7        | 0.911           | N8 1.151                          |
    /// | 1024->2048 14x14 s2  | 0.873           |                                   |
    /// | 960->160 7x7         | 0.971           |                                   |
    /// | 160->960 7x7         | 0.924           |                                   |
    /// | 320->1280 7x7        | 0.941           |                                   |
    /// | 1024->256 14x14      |                 | N1 (196 columns) 1.060            |
    /// | 256->1024 14x14      |                 | N1 1.024                          |
    /// | 1024->512 14x14      |                 | N1 1.030                          |
    ///
    /// So: 32 to 64 GEMM columns (N x output pixels; 7x7 planes at batch 1), and at least
    /// `preparedBlockedPointwiseMinPanels` panels of 64 output channels: the blocked conv's
    /// tasks are its panels (a 7x7 image is one row chunk), so 960->160 or 1152->192 (3 panels)
    /// would split 2 : 1 over two threads where the GEMM splits its rows evenly (two-thread
    /// times could not be ranked on the shared machine; this keeps them off the route).
    static func preparedRunsPointwiseBlocked(_ s: ConvShape) -> Bool {
        guard KernelTable.active.sconvChannelBlockedRow != nil, let l = ChannelBlockedLayout(s),
              l.panels >= preparedBlockedPointwiseMinPanels,
              s.kernelHeight == 1, s.kernelWidth == 1, s.padTop == 0, s.padLeft == 0,
              (s.outHeight - 1) * s.strideH < s.inHeight, (s.outWidth - 1) * s.strideW < s.inWidth,
              s.inChannels % 16 == 0, s.outPixels > 0 else { return false }
        // (divided, not multiplied: no product of the call's sizes can overflow)
        let columnsMax = preparedBlockedPointwiseMaxColumns
        return s.batch <= columnsMax / s.outPixels && s.batch * s.outPixels >= preparedBlockedPointwiseMinColumns
    }

    static let preparedBlockedPointwiseMinColumns = 32
    static let preparedBlockedPointwiseMaxColumns = 64
    static let preparedBlockedPointwiseMinPanels = 8

    /// GEMM columns from which a prepared layer with a multi-tap window reads its weights in
    /// place (`preparedReadsWeightsInPlace`), and a 1x1 layer.
    static let preparedInPlaceMinColumns = 64
    static let preparedInPlaceMinColumnsPointwise = 256

    /// A named algorithm that computes only some shapes, on another one: an error, not a
    /// silent fallback. "dot" (the one-pixel dot products) has no formulation for other
    /// shapes; ("depthwise" and "phase" fall back to "auto" instead, as documented.)
    static func checkNamed(_ a: ConvAlgorithm, _ s: ConvShape, op: String) throws {
        if a == .dot && !onePixel(s) {
            throw ConvError.invalidArgument(
                "\(op): algorithm 'dot' computes only 1x1 convolutions of a single input pixel (input length, or "
                + "height and width, 1; kernel 1, stride 1 and no padding there; conv3d: any depth), each output a dot "
                + "product over the input channels; this call's planar conv is \(s); use algorithm='auto' or 'im2col'")
        }
    }

    /// The forward kernel of the upsample formulation's inner conv (on the flipped kernel).
    /// It must not depend on the plane's size: swiftconv.dask runs a wide transposed conv as
    /// narrower chunks named "upsample", each with the whole call's bits. So it is "auto"
    /// without the depthwise tiles and without the one-pixel dot products (their own sums):
    /// - depthwise (more than one channel): the direct kernel at every width. The tiles
    ///   ("auto" below 56 columns, `usesDepthwiseKernels`) add the taps in the same order from
    ///   the bias, but add the padding's zeros where the direct kernel skips those taps:
    ///   acc + 0 * w is acc except for acc = -0.0 (a -0.0 bias) or a non-finite w, so the two
    ///   round alike only on such data (test_depthwise_small_planes.py,
    ///   test_dask_adapter.py's depthwise transposed cases). Costs only a named "upsample"
    ///   on planes where the tiles ran ("auto" takes the depthwise gather adjoint there, and
    ///   the direct kernel where it took upsample); measured: one thread, N1, AVX-512 Xeon,
    ///   conv_transpose2d(algorithm="upsample") on dy C x H x W, us of CPU time, medians of 3
    ///   alternating old / new processes (/tmp probe), tiles -> direct: 32x28x28 k3 22.9 ->
    ///   34.1, 144x28x28 k3 s2 547 -> 653, 576x7x7 k3 s2 139 -> 307, 960x7x7 k3 61 -> 577,
    ///   240x28x28 k5 166 -> 888, 672x14x14 k5 141 -> 1223, 672x7x7 k5 s2 190 -> 1346
    ///   (32x112x112 k3, direct before too: 212 -> 220).
    /// - a 1x1 plane: W^T dy on the few-column kernels in the GEMM's order
    ///   (`OnePixelConvolution.adjoint`, UpsampleAdjoint): the im2col inner conv.
    static func upsampleInner(_ c: ConvShape) -> ForwardKernel {
        let k = forwardWithoutDepthwise(c)
        return k == .dot || k == .blocked ? .im2col : k
    }

    /// Stride-1 adjoints (grad_input of a stride-1 conv, the stride-1 transposed conv) whose
    /// upsample inner conv "auto" runs on the channel-blocked conv, the flipped kernel packed
    /// per task into its panels (`ChannelBlockedAdjoint`), instead of the im2col GEMM on the
    /// flipped kernel (`FlippedKernel`): dense 3x3 windows, at least 64 channels in and out,
    /// rows of 14 pixels or more, and either at most 256 layer input channels (the inner
    /// conv's outputs) or at least 1568 (8 x 14 x 14) pixels in the call. Only for "auto" (a
    /// named "upsample" keeps `upsampleInner`, whose choice must not depend on the plane) and
    /// float32 and half (the planner's check); the shape alone decides.
    ///
    /// Measured: one thread, 2-vCPU AVX-512 Xeon (shared, load 6-9), float32, ms of thread CPU
    /// time per call from Python, conv_transpose2d(dy, w, padding=1) (= grad_input of the
    /// stride-1 conv) with algorithm="upsample" (im2col on the flipped kernel) and the blocked
    /// inner conv interleaved in one process, medians of 5 (N1) / 3 (N8) (/tmp/gb_ab.py);
    /// "*": the rule takes it. Packing the flipped panels once per call into one buffer
    /// instead of per task lost on small planes (N1 256 14x14 1.00, 1024->512 14x14 1.18,
    /// 512->512 14x14 1.12: the panels go through memory, not L2).
    ///
    /// | layer (3x3 p1, grad_input) | N1 im2col | N1 blocked | ratio | N8 im2col | N8 blocked | ratio |
    /// |----------------------------|-----------|------------|-------|-----------|------------|-------|
    /// | 64->64 56x56 *             | 1.680     | 1.619      | 0.96  | 13.77     | 12.99      | 0.94  |
    /// | 128->128 28x28 *           | 1.692     | 1.531      | 0.90  | 12.90     | 12.07      | 0.94  |
    /// | 256->256 14x14 *           | 1.838     | 1.714      | 0.93  | 14.14     | 12.56      | 0.89  |
    /// | 512->512 7x7               | 2.602     | 2.704      | 1.04  | 13.46     | 13.26      | 0.99  |
    /// | 1024->512 14x14 (N8*)      | 14.34     | 15.23      | 1.06  | 99.24     | 94.20      | 0.95  |
    /// | 512->512 14x14 (N8*)       | 7.297     | 7.550      | 1.03  | 51.80     | 49.41      | 0.95  |
    /// | 512->256 28x28 (N8*)       | 12.74     | 12.83      | 1.01  | 98.08     | 94.91      | 0.97  |
    /// | 256->256 28x28 *           | 6.532     | 6.263      | 0.96  | 50.79     | 48.80      | 0.96  |
    /// | 256->128 56x56 *           | 12.80     | 12.05      | 0.94  | 102.7     | 97.45      | 0.95  |
    /// | 128->128 56x56 *           | 6.376     | 5.995      | 0.94  | 51.95     | 50.08      | 0.96  |
    /// | 128->64 112x112 *          | 12.66     | 12.36      | 0.98  | 101.9     | 99.30      | 0.97  |
    /// | 64->64 112x112 *           | 6.758     | 6.443      | 0.95  | 53.92     | 51.85      | 0.96  |
    /// Re-checked on the 2-vCPU Zen5 (session 12, grad_input only, one process, medians of 7
    /// interleaved rounds, the rule opened above 256 channels by a test switch), im2col /
    /// blocked ms: N1 1024->512 14x14 9.47 / 9.76, 512->512 14x14 4.92 / 4.95, 512->256 28x28
    /// 8.83 / 8.59: too little to change the rule (the 14x14 loss is the flipped kernel's
    /// scalar packing, `FlippedKernel.packA`, about 1 ms of the 1024->512 call).
    static func channelBlockedAdjointWins(_ s: ConvShape) -> Bool {
        guard let c = channelBlockedAdjointFits(s) else { return false }
        return c.outChannels <= 256 || c.batch * c.outPixels >= 8 * 14 * 14
    }

    /// The shape part of `channelBlockedAdjointWins` (the window, channels and rows, not the
    /// size of the call): the equivalent stride-1 conv, or nil. (`channelsLastBlockedAdjointWins`
    /// asks it alone.)
    static func channelBlockedAdjointFits(_ s: ConvShape) -> ConvShape? {
        guard s.strideH == 1, s.strideW == 1, s.groups == 1, KernelTable.active.sconvChannelBlockedRow != nil,
              let c = UpsampleAdjoint.equivalentConvolution(s), ChannelBlockedLayout(c) != nil else { return nil }
        let fits = c.kernelHeight == 3 && c.kernelWidth == 3 && c.dilationH == 1 && c.dilationW == 1
            && c.inChannels >= 64 && c.outChannels >= 64 && c.outWidth >= 14
        return fits ? c : nil
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
        case .phase where PhaseDecomposition.supports(s): return .phase
        case .depthwise where DepthwiseConvolution.supports(s, adjoint: true): return .depthwise
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
            if a == .auto && usesDepthwiseKernels(s, adjoint: true) { return .depthwise }
            if isSmallGroup(s) && UpsampleAdjoint.isAffordable(s) { return .upsample }
            if s.strideH == 1 && s.strideW == 1 && s.inPixels * 4 <= s.outPixels * 5 { return .upsample }
            if phaseWins(s) { return .phase }
            return .scatter
        }
    }

    /// Strided adjoints that "phase" (one stride-1 GEMM per output phase, PhaseAdjoint.swift)
    /// computes faster than "scatter" in a function call: at least 16 x channels per group,
    /// some phase with 2 or more taps, windows that do not tile x (scatter's col2im is then a
    /// plain permutation), and at least `phaseMinimumColumnsPerChannel` phase pixels (batch folded) per x channel of a
    /// group: a plain call packs the phase kernels straight from w (one sweep, `PhaseKernels`,
    /// memory-bound: dcgan's 512->256 layer reads 8 MB for 16 pixels per phase, with the GEMM
    /// idle meanwhile), scatter adds every tap into x (col2im), which grows with the pixels.
    ///
    /// Measured: one thread, float32, AVX-512 Xeon (2 vCPUs, shared with other jobs), ms per
    /// call from Python (conv_transpose2d; grad_input of a conv is the same call), median of
    /// 5 interleaved rounds of best-of-3 CPU-time blocks (/tmp probe, after the unfolded dy
    /// was packed once per call); "prepared": sc.prepare with algorithm="phase" (the phase
    /// kernels packed once; scatter packs per call either way). cols = batch x pixels per
    /// phase, cig = x channels. "auto" is the rule's choice.
    ///
    /// | layer                         | N | cols/cig | scatter | phase | phase prepared | auto    |
    /// |-------------------------------|---|----------|---------|-------|----------------|---------|
    /// | dcgan T 512->256 4x4 k4 s2 p1 | 1 | 0.06     | 1.24    | 1.31  | 0.70           | scatter |
    /// | dcgan T 256->128 8x8 k4 s2 p1 | 1 | 0.5      | 0.73    | 0.89  | 0.57           | scatter |
    /// | dcgan T 128->64 16x16 k4 s2 p1| 1 | 4        | 0.64    | 0.66  | 0.57           | scatter |
    /// | dcgan T 64->3 32x32 k4 s2 p1  | 1 | 341      | 0.089   | 0.24  | 0.22           | scatter |
    /// | dcgan T 512->256 4x4 k4 s2 p1 | 8 | 0.5      | 5.30    | 5.44  | 4.59           | scatter |
    /// | dcgan T 256->128 8x8 k4 s2 p1 | 8 | 4        | 4.86    | 5.28  | 4.47           | scatter |
    /// | dcgan T 128->64 16x16 k4 s2 p1| 8 | 32       | 5.11    | 4.96  | 4.69           | phase   |
    /// | dcgan T 64->3 32x32 k4 s2 p1  | 8 | 2731     | 0.74    | 1.84  | 1.82           | scatter |
    /// | unet T 1024->512 7x7 k2 s2    | 1 | 0.1      | 2.46    | 3.13  | 2.18           | scatter |
    /// | r50 gi 128->128 56 k3 s2 p1   | 1 | 6        | 2.14    | 2.24  | 2.07           | scatter |
    /// | r50 gi 256->256 28 k3 s2 p1   | 1 | 0.8      | 2.16    | 2.29  | 2.01           | scatter |
    /// | r50 gi 512->512 14 k3 s2 p1   | 1 | 0.1      | 3.01    | 3.24  | 2.43           | scatter |
    /// | r50 gi 128->128 56 k3 s2 p1   | 8 | 49       | 19.6    | 18.1  | 17.8           | phase   |
    /// | r50 gi 256->256 28 k3 s2 p1   | 8 | 6        | 16.5    | 17.0  | 16.2           | scatter |
    /// | r50 gi 512->512 14 k3 s2 p1   | 8 | 0.8      | 16.9    | 18.5  | 16.4           | scatter |
    ///
    /// Rows of an earlier run (scatter / phase, ms; the rule excludes them by structure):
    /// unet k2 s2 up-convs (one tap per phase, tiling) 512->256 14x14 1.71 / 2.53, 256->128
    /// 28x28 1.63 / 2.10, 128->64 56x56 1.94 / 2.53, N8 1024->512 14.4 / 20.8; r50 gi 3->64
    /// 224 k7 s2 p3 2.49 / 7.22; 1x1 stride-2 grad_inputs 256->512 56 1.87 / 2.55, 512->1024
    /// 28 1.76 / 3.21, 1024->2048 14 2.45 / 8.00. (dcgan's first layer, 100->512 1x1 -> 4x4
    /// k4, is stride 1 and runs scatter's in-place GEMM, `ScatterAdjoint.writesInPlace`.)
    /// With the weights packed once (prepared), phase wins dcgan's three large layers
    /// (1.1-1.8x at N1) and unet's largest; but a prepared call must give the plain call's
    /// bits, so "auto" follows the function calls, where the per-call sweep over the weights
    /// (not overlapped with the GEMM) keeps phase 5-20% behind scatter at batch 1.
    /// Since scatter reads the weights in place on few columns (then the weights streamed as
    /// B; now `scatterRoute`'s pixel vectors, Float on AVX-512, faster still), its lead on
    /// dcgan's 512->256 N1 grew: scatter 1.00 vs phase 1.36 ms (same probe, 5 rounds, load
    /// ~12 on the 2 vCPUs; N8: 5.30 vs 5.59).
    static func phaseWins(_ s: ConvShape) -> Bool {
        guard s.strideH > 1 || s.strideW > 1, s.inChannelsPerGroup >= 16, !ScatterAdjoint.isTiling(s),
              PhaseDecomposition.supports(s) else { return false }
        let phases = PhaseDecomposition(s)
        let pixels = phases.rows.map(\.count).max()! * phases.columns.map(\.count).max()!
        return phases.maxTaps >= 2 && s.batch * pixels >= phaseMinimumColumnsPerChannel * s.inChannelsPerGroup
    }

    /// Phase pixels (batch folded) per x channel of a group from which "phase" wins (see
    /// `phaseWins`). Was 16 (the Xeon table above: dcgan 128->64 N8, 32 per channel, phase
    /// 4.96 vs scatter 5.11). Zen5 (EPYC, AVX-512 with 512-bit FMA pipes), one thread, CPU-time
    /// medians of 5 interleaved rounds, session-start build (ms, auto / scatter / phase; auto
    /// was phase on the first three): dcgan T 128->64 16x16 N8 (32 per channel) 3.21 / 3.01 /
    /// 3.20, N4 (16) 1.66 / 1.49 / 1.65; r50 gi 128->128 56 k3 s2 N8 (49) 11.83 / 13.11 / 11.97;
    /// r50 gi 256->256 28 N8 (6) 10.48 / 10.45 / 11.70. So 40: phase from 49 up. (Scatter also
    /// scales better on two threads: dcgan 128->64 N8 ran phase at 1.36x on 2 threads.)
    static let phaseMinimumColumnsPerChannel = 40

    /// Up to this many GEMM columns ((image, pixel) pairs: dcgan's first layer has one per
    /// image), scatter's GEMM runs transposed (`ScatterAdjoint.Route.swapped`). Measured, one
    /// thread, scatter plain vs transposed (ms): 100->512 1x1 k4 N1 0.320 vs 0.278, N4 0.574
    /// vs 0.499, N8 0.853 vs 0.827, N16 1.30 vs 1.42; 512->256 3x3 k4 s2 1.52 vs 1.18;
    /// 256->128 2x2 k3 0.156 vs 0.163; 512->256 4x4 k4 s2 (16 columns) 1.13 vs 1.57. (Those
    /// 1x1-input times include the col^T transpose and col2im; without them, `inPlace`, a 1x1
    /// dy runs transposed at every batch.)
    static let scatterSwapColumns = 8

    /// How "scatter" runs its GEMM on `s` (`ScatterAdjoint.Route`; every route gives the same
    /// bits, so this is speed only), decided once per plan and shown by `explain`:
    /// - a 1x1 dy whose window covers x: x written in place by the transposed GEMM (`inPlace`),
    ///   up to `inPlaceRowsImages` images by the few-row kernel over W's rows (`inPlaceRows`);
    /// - Float, at most `ScatterAdjoint.pixelVectorColumns` columns, a tier with zmm
    ///   registers: the columns as vector lanes, the weights loaded once each (`pixelVectors`);
    /// - else few columns (`scatterSwapColumns`): transposed;
    /// - else plain.
    /// Measured, one thread, N1, "scatter" from Python (ms, CPU-time medians, prepared, 2-vCPU
    /// AVX-512 Xeon, load ~10 from other jobs; old and new builds alternated twice):
    ///
    /// | layer                          | columns | route before        | before    | pixel vectors |
    /// |--------------------------------|---------|---------------------|-----------|---------------|
    /// | dcgan T 512->256 4x4 k4 s2 p1  | 16      | weights streamed as B | 1.06-1.24 | 0.84-0.85   |
    /// | dcgan T 256->128 8x8 k4 s2 p1  | 64      | plain               | 0.79-0.80 | 0.56-0.58     |
    /// | unet T 1024->512 7x7 k2 s2     | 49      | plain               | 3.01-3.08 | 2.13          |
    ///
    /// (The weights streamed as B, the row-major-B block function over dy^T, had replaced
    /// plain up to 24 columns: 512->256 4x4 1.20-1.23 -> 0.96-0.97; 49 and 64 columns did
    /// not gain, 0.71 -> 1.04 at 64. The pixel vectors beat it on every shape it took, on the
    /// one tier that had it, so it is gone.) Over 64 columns (dcgan 128->64 16x16 N1, every
    /// N8 layer) the plain GEMM stays.
    /// A prepared float32 plan on the pixel vectors packs W^T once into the panels they read
    /// (`ScatterWeightPanels`, `ConvPlan`): the same route and bits, W read as one stream per
    /// tile over the whole depth. Zen5, one thread, CPU time, medians of 7 rounds in one
    /// process against the session-start build (ms, prepared before / after): dcgan 512->256
    /// 4x4 N1 0.407 / 0.339, 256->128 8x8 N1 0.342 / 0.323, unet 1024->512 7x7 k2 N1 1.269 /
    /// 1.237 (4 vectors: four FMAs per weight, the stream mattered less).
    /// Up to this many images, a 1x1 dy whose window covers x (`ScatterAdjoint.writesInPlace`)
    /// runs `inPlaceRows`: the few-row kernel (`OnePixelConvolution.smallGemm`, 4 images per
    /// pass over W on AVX-512) streams W's rows in place, where the GEMM read W as its B
    /// operand in 16-column panels down 100 rows 32 KB apart. The same sums in the same order
    /// (from 0, one multiply-add per dy channel in order, the bias added after), so the same
    /// bits. Measured, one thread, dcgan's 100->512 1x1 -> 4x4 k4 from Python (ms, CPU-time
    /// medians of 7, the GEMM route's build and this one alternated in one process, 2-vCPU
    /// AVX-512 Xeon shared with other jobs): N1 0.196 -> 0.132, N2 0.208 -> 0.153, N4 0.249 ->
    /// 0.193, N8 0.366 -> 0.261; N16 (GEMM either way) 0.491 / 0.500.
    static let inPlaceRowsImages = 8

    static func scatterRoute(_ s: ConvShape, elementBytes: Int) -> ScatterAdjoint.Route {
        let columns = s.batch * s.outPixels
        if ScatterAdjoint.writesInPlace(s) { return s.batch <= inPlaceRowsImages ? .inPlaceRows : .inPlace }
        guard s.outChannelsPerGroup > 0 else { return .plain }
        let float = elementBytes == 4
        if float && columns <= ScatterAdjoint.pixelVectorColumns && KernelTable.active.sgemmPixelVectors != nil {
            return .pixelVectors
        }
        return columns <= scatterSwapColumns ? .swapped : .plain
    }

    /// Whether scatter's plain route (`ScatterAdjoint`) reads dy in place, one image at a time
    /// (B = that image's dy rows, a row-major matrix: the GEMM's small-A loop with the tier's
    /// row-major-B block function, `Gemm.multiply`), instead of packing dy into B panels:
    /// Float on a tier with that function, images of at least `scatterImagesInPlacePixels`
    /// pixels, and a task's rows of W_g^T small enough for that loop. The same sums in the same order (each element from 0,
    /// one fused multiply-add per dy channel in order), so the same bits. dcgan's 64->3 32x32
    /// N8 spent 18% of its time packing dy (2 MB) into the shared panels, 37% in the GEMM.
    static func scatterReadsImagesInPlace(_ s: ConvShape, rowsPerTask: Int, elementBytes: Int) -> Bool {
        guard elementBytes == 4, KernelTable.active.sgemmBlockRowMajorB != nil, s.outPixels >= scatterImagesInPlacePixels else { return false }
        return Gemm.isSmallA(rows: rowsPerTask, depth: s.outChannelsPerGroup, elementBytes: elementBytes)
    }

    /// Pixels of a dy image from which `scatterReadsImagesInPlace` may hold.
    static let scatterImagesInPlacePixels = 256

    /// How a channel block's `tiles` column tiles of scatter's plain route (of `tile` columns,
    /// images of `pixels`) are split over tasks: at tiles that start an image only, so that no x element is written by
    /// two tasks, and every element still receives its contributions in the order of one task
    /// over every tile (tile by tile, the same tiles): the same bits whatever the split, so
    /// the split may follow the thread count. Into as few parts as give `tasks` (channel
    /// blocks) x parts equal tasks a multiple of `threads` (up to 16 parts): dcgan's 64->3
    /// 32x32 has 3 one-channel blocks, 2 of them on one thread of 2 (N8: 16 one-image groups,
    /// 2 parts, 6 tasks).
    static func scatterImageParts(tiles: Int, tile: Int, pixels: Int, tasks: Int, threads: Int) -> ScatterAdjoint.ImageParts {
        guard threads > 1, tiles > 1, pixels > 0, tasks % threads != 0 else { return ScatterAdjoint.ImageParts(tileStarts: [0, tiles]) }
        var groupStarts: [Int] = [0]
        for t in 1..<tiles where (t * tile) % pixels == 0 { groupStarts.append(t) }
        let groups = groupStarts.count
        // The fewest parts with the best balance of equal tasks over the threads.
        var best = 1, bestShare = 0.0
        for p in 1...min(groups, 16) {
            let n = tasks * p, share = Double(n) / Double(threads * ((n + threads - 1) / threads))
            if share > bestShare + 1e-9 { best = p; bestShare = share }
        }
        var starts: [Int] = []
        for i in 0..<best { starts.append(groupStarts[i * groups / best]) }
        starts.append(tiles)
        return ScatterAdjoint.ImageParts(tileStarts: starts)
    }

    static func weightGradient(_ s: ConvShape, _ a: ConvAlgorithm) -> WeightGradientKernel {
        if a == .reference { return .reference }
        if usesDepthwiseKernels(s, adjoint: false) { return .depthwise }
        if isSmallGroup(s) || directWeightGradientWins(s) { return .direct }
        return .gemm
    }

    /// Whether the GEMM weight gradient reads its B operand from a channel-blocked copy of x
    /// (`GemmWeightGradient.blocked`: one 64-byte copy per panel row, the transposes done once
    /// per input value) instead of transposing the unfolded input tap by tap
    /// (`GemmWeightGradient.unfolded`); the same bits either way. The copy saves packing work
    /// in proportion to depth x patch (depth = batch x output pixels) and costs a reordering
    /// of dW (C_out x patch), so it pays when the depth is large against C_out/g; strided
    /// convs gain more (their unfolded packing has no register-transpose path).
    ///
    /// Measured: one thread, AVX-512 Xeon (2 vCPUs, shared: load 6-8), float32, grad_weight
    /// only from Python, ms, CPU-time medians of 3 alternating process pairs (unfolded /
    /// blocked), 3x3 p1 unless noted; depth / cog in brackets; "*": the rule takes blocked.
    ///
    /// | layer                  | depth/cog | unfolded | blocked |   | layer               | depth/cog | unfolded | blocked |
    /// |------------------------|-----------|----------|---------|---|---------------------|-----------|----------|---------|
    /// | 64->64 112x112 *       | 196       | 7.65     | 7.46    |   | 512->256 28x28      | 3.1       | 13.12    | 13.16   |
    /// | 128->64 112x112 *      | 196       | 15.40    | 14.21   |   | 256->256 14x14      | 0.77      | 1.74     | 1.79    |
    /// | 64->64 56x56 *         | 49        | 2.03     | 1.73    |   | 512->512 14x14      | 0.38      | 7.16     | 8.55    |
    /// | 256->128 56x56 *       | 25        | 13.66    | 12.66   |   | N4 512->512 7x7     | 0.38      | 7.47     | 8.50    |
    /// | 32->32 28x28 *         | 25        | 0.173    | 0.128   |   | 512->512 7x7        | 0.1       | 1.77     | 2.76    |
    /// | 128->128 28x28 *       | 6.1       | 1.85     | 1.59    |   | N8 512->512 7x7     | 0.77      | 14.00    | 14.42   |
    /// | N8 256->256 14x14 *    | 6.1       | 14.37    | 13.01   |   | s2 512->512 14x14   | 0.1       | 2.08     | 2.93    |
    /// | N8 64->64 56x56 *      | 392       | 16.33    | 14.75   |   |                     |           |          |         |
    /// | s2 128->128 56x56 *    | 6.1       | 3.24     | 1.69    |   |                     |           |          |         |
    /// | s2 256->256 28x28 *    | 0.77      | 2.38     | 1.85    |   |                     |           |          |         |
    /// | s2 1x1 256->512 56x56 *| 1.5       | 2.28     | 2.02    |   |                     |           |          |         |
    /// (Shape only; the planner records it in `weightGradientRoute`, and the kernel checks
    /// `weightGradientCopyFeedsThreads` per call.)
    static func weightGradientReadsBlockedCopy<T: ConvScalar>(_ s: ConvShape, _: T.Type) -> Bool {
        guard BlockedChannelsLastInput<T>.supports(s), !s.isPointwise else { return false }
        let depth = s.batch * s.outPixels, cog = s.outChannelsPerGroup
        let strided = s.strideH > 1 || s.strideW > 1
        return strided ? 2 * depth >= cog : depth >= 4 * cog
    }

    /// Whether the GEMM weight gradient reads both operands in place
    /// (`GemmWeightGradient.blockedInPlace`: dy's rows as A, the channel-blocked copy of x as
    /// B, one output row of depth per block call) instead of packing them (`blocked`,
    /// `unfolded`); the same bits every way. No packing pass at all, but the depth is cut at
    /// every output row (a 14-wide plane reloads its C tiles every 14 multiply-adds) and each
    /// task reads all of dy_g and copies its channels of x whole (a 1x1 conv with many input
    /// channels spills the copy from L2). So: unit stride, rows of 56 pixels or more (a 1x1
    /// unpadded plane is one row), at least 16 output channels (rows of the 12-row tiles),
    /// and a depth of 16 x C_out/g or more (8 x for 1x1 with at most 128 input channels).
    /// Strided convs were about even with `blocked` (s2 128->128 56x56 N1 in place 2.0-2.1 vs
    /// 1.9 ms, s2 1x1 256->512 56x56 2.04 vs 2.09), so they keep it; so did 28-pixel rows at
    /// N8 (ms, in place vs `blocked`: 128->128 28x28 14.05 vs 13.24, 256->256 55.5 vs 50.4,
    /// 512->256 106.2 vs 96.3).
    ///
    /// Measured: one thread, AVX-512 Xeon (2 vCPUs, shared: load 9-13), float32, grad_weight
    /// only from Python, ms, CPU-time medians of 7 (N1) / 3 (N8) calls interleaved in one
    /// process (`unfolded` / in place); depth / cog in brackets; "*": the rule takes it.
    ///
    /// | layer                     | N1 d/cog | unfolded | in place | N8 d/cog | unfolded | in place |
    /// |---------------------------|----------|----------|----------|----------|----------|----------|
    /// | 64->64 112x112 k3 *       | 196      | 9.25     | 6.90     | 1568     | 68.1     | 54.5     |
    /// | 128->64 112x112 k3 *      | 196      | 16.19    | 13.27    | 1568     | 155.3    | 109.6    |
    /// | 64->64 56x56 k3 *         | 49       | 2.10     | 1.74     | 392      | 17.28    | 14.24    |
    /// | 128->128 56x56 k3 *       | 24.5     | 7.10     | 6.58     | 196      | 59.8     | 55.5     |
    /// | 256->128 56x56 k3 *       | 24.5     | 14.20    | 13.84    | 196      | 117.4    | 111.8    |
    /// | 128->128 28x28 k3         | 6.1      | 1.88     | 1.77     | 49       | 15.20    | 14.46    |
    /// | 256->256 28x28 k3         | 3.1      | 6.98     | 7.53     | 24.5     | 54.0     | 56.8     |
    /// | 512->256 28x28 k3         | 3.1      | 13.66    | 14.78    | 12.3     | 107.0    | 111.1    |
    /// | 256->256 14x14 k3         | 0.77     | 1.85     | 2.33     | 6.1      | 14.17    | 16.25    |
    /// | 512->512 14x14 k3         | 0.38     | 7.46     | 10.80    | 3.1      | 52.1     | 67.0     |
    /// | 512->512 7x7 k3           | 0.1      | 2.37     | 5.02     | 0.77     | 14.37    | 24.74    |
    /// | s2 128->128 56x56 k3     | 6.1      | 3.33     | 1.89     | 49       | 26.9     | 16.1     |
    /// | s2 256->256 28x28 k3      | 0.77     | 2.52     | 2.37     | 6.1      | 19.2     | 19.0     |
    /// | s2 512->512 14x14 k3      | 0.1      | 2.23     | 4.00     | 0.77     | 16.1     | 23.2     |
    /// | s2 1x1 256->512 56x56    | 1.5      | 2.48     | 2.09     | 12.3     | 21.1     | 17.7     |
    /// | s2 1x1 512->1024 28x28    | 0.19     | 1.93     | 2.90     | 1.5      | 16.9     | 17.6     |
    /// | 1x1 64->64 56x56 *        | 49       | 0.278    | 0.230    | 392      | 2.73     | 2.68     |
    /// | 1x1 64->256 56x56 *       | 12.3     | 0.962    | 0.778    | 98       | 8.55     | 7.09     |
    /// | 1x1 128->512 28x28 (N8 *) | 1.5      | 0.793    | 0.799    | 12.3     | 6.86     | 6.24     |
    /// | 1x1 256->64 56x56         | 49       | 0.942    | 0.954    | 392      | 9.21     | 11.23    |
    /// | 1x1 256->128 56x56        | 24.5     | 1.70     | 1.61     | 196      | 15.76    | 16.18    |
    /// | 1x1 512->128 28x28        | 6.1      | 0.795    | 0.861    | 49       | 7.02     | 7.23     |
    /// | 1x1 256->1024 14x14       | 0.19     | 0.713    | 1.187    | 1.5      | 6.45     | 6.57     |
    /// | 1x1 64->2 112x112 +b      | 6272     | 0.270    | 0.377    | 50176    | 2.90     | 5.79     |
    ///
    /// (`blocked`, which packs B from the same copy, is no faster than in place where this
    /// rule takes the copy; where it does not, `weightGradientReadsBlockedCopy` decides.)
    /// (Shape only, as `weightGradientReadsBlockedCopy`.)
    static func weightGradientReadsCopyInPlace<T: ConvScalar>(_ s: ConvShape, _: T.Type) -> Bool {
        guard BlockedChannelsLastInput<T>.supports(s), s.outChannelsPerGroup >= 16 else { return false }
        let depth = s.batch * s.outPixels, cog = s.outChannelsPerGroup
        if s.isPointwise { return s.inChannelsPerGroup <= 128 && depth >= 8 * cog }
        return s.strideH == 1 && s.strideW == 1 && s.outWidth >= 56 && depth >= 16 * cog
    }

    /// How the GEMM weight gradient of planar shape `s` reads its operands, decided once by
    /// the planner (`ConvPlan.weightGradientRoutes`): in place from the channel-blocked copy,
    /// packed from it, or unfolded tap by tap. The channels-last kernel takes the same routes
    /// (`ChannelsLastConvolution.weightGradientInPlaceFromBlockedCopy`, `weightGradientFromBlockedCopy`).
    static func weightGradientRoute<T: ConvScalar>(_ s: ConvShape, _: T.Type) -> GemmWeightGradient.Route {
        if weightGradientReadsCopyInPlace(s, T.self) { return .blockedInPlace }
        return weightGradientReadsBlockedCopy(s, T.self) ? .blocked : .unfolded
    }

    /// The part of the blocked routes that depends on the pool, checked by the kernels on
    /// every call (not planned: a plan made at one thread count may run at another, and
    /// prepared plans are not keyed by it): a task takes whole channel blocks, so with fewer
    /// blocks than threads some would idle; the kernels then unfold instead (same bits).
    static func weightGradientCopyFeedsThreads<T: ConvScalar>(_ s: ConvShape, _: T.Type) -> Bool {
        s.groups * (s.inChannelsPerGroup / KernelTable.nr(T.self)) >= ThreadPool.shared.numThreads
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

/// Concrete kernels for y = conv(x, w) on channels-last activations, read in place.
public enum ChannelsLastKernel: String, Sendable {
    /// Pixel-major GEMM: y[pixels, C_out] = unfold(x)[pixels, (kh, kw, ci)] x W^T per group
    /// (ChannelsLastConvolution).
    case gemm = "channels-last gemm"
    /// Depthwise: 16 Float (8 Double) channels of each pixel per vector, the source rows copied
    /// per row block into channel-interleaved tiles (every channel of a pixel read at once),
    /// the result stored in place with the pixel stride C (ChannelsLastDepthwise).
    case depthwise = "channels-last depthwise"
    /// The channel-blocked direct conv, copying its input from and storing its output to the
    /// channels-last arrays (ChannelBlockedChannelsLast).
    case blocked = "channels-last blocked"

    func explanation(_ s: ConvShape) -> String {
        if self == .depthwise {
            return "source rows copied per row block into zero-bordered 16-channel tiles, no transpose (strided: read in place, but forwards from inputs over 2 MB with planes up to 56x56), stored in place with pixel stride C"
        }
        if self == .blocked { return ChannelBlockedChannelsLast.explanation }
        return s.isPointwise ? "pixels x C_in times C_in x C_out, no unfolding"
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
        if channelsLastDepthwise(s, a) { return .depthwise }
        guard a == .auto || a == .im2col, channelsLastGemmShape(s, a) else { return nil }
        let activations = s.inputCount + s.outputCount
        return s.weightCount <= 4 * activations ? .gemm : nil
    }

    /// The channels-last forward of a conv plan whose channels-first forward kernel is
    /// `channelsFirst` (`ConvPlan`'s, dtype rule included): the channel-blocked conv wherever
    /// the channels-first plan runs it and it computes (float32 on a tier that has it:
    /// `ChannelBlockedConvolution.runs`), so both layouts give the same bits; else
    /// `channelsLastForward`. Its input copy reorders anyway (to NCHW16c): from channels-last
    /// memory it is one 64-byte row per pixel, and its output tile stores as 64-byte rows.
    ///
    /// Measured: one thread, 2-vCPU AVX-512 Xeon (shared, load 6-11), float32, 3x3 p1 with
    /// bias, ms per call from Python, thread CPU time, medians of 5 (N1) / 3 (N8; stride 2: 7)
    /// interleaved blocks in one process (/tmp/nhwcblk/ab.py): the NCHW call (blocked), the
    /// NHWC call before (algorithm="im2col": the channels-last GEMM, what "auto" ran) and now.
    ///
    /// | layer              | N1 NCHW | N1 GEMM | N1 blocked | N8 NCHW | N8 GEMM | N8 blocked |
    /// |--------------------|---------|---------|------------|---------|---------|------------|
    /// | 64->64 56x56       | 1.594   | 1.973   | 1.595      | 13.95   | 16.33   | 13.59      |
    /// | 128->128 56x56 s2  | 1.808   | 1.991   | 1.840      | 15.88   | 15.34   | 16.51      |
    /// | 128->128 28x28     | 1.563   | 1.823   | 1.555      | 12.68   | 14.46   | 13.06      |
    /// | 256->256 28x28 s2  |         |         |            | 15.03   | 15.05   | 15.50      |
    /// | 256->256 14x14     |         |         |            | 13.05   | 14.50   | 12.86      |
    /// | 512->256 28x28     | 12.74   | 14.28   | 12.79      | 100.1   | 113.5   | 100.2      |
    /// | 256->256 28x28     | 6.163   | 7.170   | 6.233      | 48.98   | 55.50   | 49.77      |
    /// | 256->128 56x56     | 12.16   | 14.37   | 12.38      | 96.55   | 111.7   | 95.10      |
    /// | 128->128 56x56     | 6.117   | 6.973   | 6.175      | 49.58   | 54.64   | 50.05      |
    /// | 128->64 112x112    | 13.05   | 15.71   | 13.10      | 100.3   | 123.9   | 102.2      |
    /// | 64->64 112x112     | 6.635   | 7.996   | 6.610      | 52.00   | 60.77   | 52.90      |
    /// | 1024->512 14x14    |         |         |            | 99.40   | 110.4   | 99.30      |
    /// | 512->512 14x14     |         |         |            | 49.06   | 56.68   | 49.46      |
    ///
    /// (Empty: "auto" does not take blocked at N1.) Those runs copied the input one task per
    /// channel block; the GEMM won N8 128->128 56x56 s2 (1.08x) and 256 28x28 s2 (1.03x). Now
    /// one task per padded row (every block of a pixel read at once; same process, NHWC
    /// per-block -> per-row copy, / NCHW, medians of 5): N1 128->128 56x56 s2 1.07 -> 0.99,
    /// N8 1.04 -> 0.97, N8 256 28x28 s2 1.00 -> 0.98, N8 64->64 56x56 1.00 -> 0.97, N8 256->128
    /// 56x56 1.04 -> 1.01. So the rule is the channels-first one: one kernel, the same bits in
    /// both layouts.
    static func channelsLastConvForward(_ s: ConvShape, _ a: ConvAlgorithm, channelsFirst: ForwardKernel) -> ChannelsLastKernel? {
        channelsFirst == .blocked && ChannelBlockedConvolution.runs(s, Float.self) ? .blocked : channelsLastForward(s, a)
    }

    /// Where the channels-last GEMM can run at all: a planar shape that the channels-first
    /// plan runs on the GEMM too (for algorithm `a`), with enough channels per group (above).
    /// (1x1 planes: channels-first and channels-last memory are the same; they convert, so
    /// that both layouts run the same kernel for every algorithm.) 1x1 windows take any C_out/g:
    /// x is read in place, nothing is packed but the small weights, and the padded 16-column
    /// panel costs less than the two transposes of the conversion path. Measured (one thread,
    /// N = 1, float32, AVX-512 Xeon, forward from Python, NHWC / NCHW, converted (the commit
    /// before) -> in place, CPU-time medians of 5 interleaved blocks, load 8): U-Net's head
    /// 1x1 64->2 112x112 2.89 -> 2.33 (NCHW 0.17 ms: still the transposes' order of cost).
    /// (Shapes "auto" runs channels-first on the channel-blocked conv keep the channels-last
    /// GEMM: its rule was measured against the channels-first GEMM only.)
    static func channelsLastGemmShape(_ s: ConvShape, _ a: ConvAlgorithm = .auto) -> Bool {
        s.isPlanar && [.im2col, .blocked].contains(forward(s, a)) && !onePixel(s)
            && channelsLastPackedRun(s) >= channelsLastMinInChannels && s.outChannelsPerGroup >= (s.isPointwise ? 1 : channelsLastMinOutChannels)
    }

    /// The values the channels-last GEMM packs per run (`ChannelsLastUnfolded`): a whole
    /// kernel row, kernelWidth x C_in, with one group and dilation 1 along the width (the
    /// taps of a row lie contiguous in the input), else one tap's C_in/g channels.
    ///
    /// WHY the row: the 3-channel stems, which converted their activations (7x7 3->64 s2 p3
    /// 224x224: 21-value runs; 3x3 3->32 s2 p1: 9). Measured (one thread, AVX-512 Xeon,
    /// float32, N = 1, 224x224; NHWC / NCHW time of the same forward call, CPU-time medians
    /// of 7 interleaved blocks; converted (before) -> in place): 7x7 3->64 s2 p3 1.44 -> 1.34,
    /// 3x3 3->32 s2 p1 2.64 -> 1.62. Still over 1: runs of 21 / 9 values through the 6-row
    /// panel transpose, and panels across output rows or the border packed pixel by pixel.
    static func channelsLastPackedRun(_ s: ConvShape) -> Int {
        s.groups == 1 && s.dilationW == 1 ? s.kernelWidth * s.inChannelsPerGroup : s.inChannelsPerGroup
    }
}

extension KernelSelector {
    /// The channels-last kernel for dx = conv^T(dy, w) of a planar shape, or nil (convert):
    /// at stride 1 it is the stride-1 convolution with the flipped kernel, so the GEMM runs
    /// where it runs for that convolution (strided ones need a channels-last col2im: not yet).
    static func channelsLastAdjoint(_ s: ConvShape, _ a: ConvAlgorithm) -> ChannelsLastKernel? {
        if channelsLastDepthwise(s, a) { return .depthwise }
        // Strided 1x1 without padding: the stride-1 one on the grid pixels (ChannelsLastStridedPointwise).
        if let p = s.pointwiseOnOutputGrid { return a == .auto || a == .upsample ? channelsLastAdjoint(p, .auto) : nil }
        // Windows that do not overlap (kernel = stride): one 1x1 GEMM per tap and dy row (ChannelsLastDisjointWindows).
        if s.hasDisjointWindows { return a == .auto && disjointWindowsGemmShape(s) ? .gemm : nil }
        guard a == .auto || a == .upsample, s.isPlanar, s.strideH == 1, s.strideW == 1,
              let c = UpsampleAdjoint.equivalentConvolution(s) else { return nil }
        // 1x1: dy x W with W read in place, nothing packed per call, at any weight size, and
        // at any C_out (the adjoint's depth) where the forward runs in place: U-Net's head 1x1
        // 64->2 112x112 (one thread, grad_input, converted -> in place, ms, NHWC / the NCHW
        // call in brackets): N1 0.158 -> 0.043 (0.89), N8 3.78 -> 0.92 (0.75).
        if s.isPointwise { return channelsLastGemmShape(c) || channelsLastGemmShape(s) ? .gemm : nil }
        return channelsLastForward(c, .auto)
    }

    /// The channels-last adjoint step's kernel, given `kernel` (`channelsLastAdjoint` /
    /// `channelsLastBackward`) and `blockedAdjoint`: ConvPlan's rule ("auto", float32, planar)
    /// with `channelsLastBlockedAdjointWins`. There `.blocked` (ChannelsLastConvolution.
    /// adjointBlocked: the channels-first kernel, `ChannelBlockedAdjoint`'s flipped panels, on
    /// dy and dx in place); else `kernel`. Where the channels-first plan runs the blocked
    /// adjoint too (`channelBlockedAdjointWins`) both layouts give the same bits.
    static func channelsLastConvAdjoint(_ kernel: ChannelsLastKernel, blockedAdjoint: Bool) -> ChannelsLastKernel {
        kernel == .gemm && blockedAdjoint ? .blocked : kernel
    }

    /// Where the channels-last adjoint runs the channel-blocked conv: every shape it fits
    /// (`channelBlockedAdjointFits`: 3x3, 64+ channels both ways, rows of 14+), without the
    /// channels-first rule's size clause, which weighs the blocked kernel against the NCHW
    /// im2col GEMM (about even at N1 for more than 256 layer input channels); the
    /// channels-last GEMM it replaces is 1.1-1.2x that GEMM.
    ///
    /// Measured (one thread, Zen5 2 vCPU shared (load 7-19), float32, grad_input alone from
    /// Python, ms, CPU-time medians of 5 (N1) / 3 (N8) interleaved blocks in one process;
    /// NHWC channels-last GEMM (the session-start build) -> blocked, and the NCHW call;
    /// /tmp/s12/nhwc/ab.py; "*": not the channels-first rule's pick, so not its bits):
    ///
    /// | layer (3x3 p1)       | N1 GEMM -> blocked | N1 NCHW | N8 GEMM -> blocked | N8 NCHW |
    /// |----------------------|--------------------|---------|--------------------|---------|
    /// | 64->64 56x56         | 1.178 -> 0.988     | 0.982   | 9.566 -> 8.285     | 8.139   |
    /// | 128->128 28x28       | 1.197 -> 1.005     | 1.018   |                    |         |
    /// | 256->256 14x14       | 1.093 -> 1.093 (a) | 1.072   | 9.034 -> 7.805     | 8.037   |
    /// | 512->512 14x14       | (converts)         |         | 37.21 -> 31.47     | 31.98   |
    /// | 1024->512 14x14      | (converts)         |         | 73.92 -> 61.41     | 61.03   |
    /// | 64->64 112x112       | 4.879 -> 4.143     | 4.067   |                    |         |
    /// | 128->128 56x56       | 4.332 -> 3.927     | 3.879   |                    |         |
    /// | 256->256 28x28       | 4.807 -> 3.905     | 3.853   |                    |         |
    /// | 512->256 28x28 *     | 9.625 -> 7.720     | 8.219   |                    |         |
    ///
    /// (a) N1 256->256 14x14 converts (weights over 4x the activations): unchanged.
    static func channelsLastBlockedAdjointWins(_ s: ConvShape) -> Bool {
        channelBlockedAdjointFits(s) != nil
    }

    /// Where the transposed conv of non-overlapping windows runs in place: the per-tap GEMM's
    /// columns are C_in/g (16-wide panels) and its depth C_out/g, as for the 1x1 GEMM, and
    /// its rows one dy row: at least `disjointWindowsMinRowPixels` of them, since every call
    /// copies the tap's packed weights into the GEMM's B blocks (on a 7-pixel row that copy,
    /// 2 MB for 1024->512, costs ten times the row's multiply-adds).
    ///
    /// Measured (one thread, float32, AVX-512 Xeon, conv_transpose2d forward from Python, 2x2
    /// s2 with bias; NHWC / NCHW, converted (the commit before) -> per-tap GEMMs, CPU-time
    /// medians of 5 interleaved blocks in one process, machine load 7-8): 128->64 56x56 1.66
    /// -> 0.98; 256->128 28x28 1.25 -> 1.26; 512->256 14x14 1.16 -> 1.94 (N8 1.27 -> 1.80);
    /// 1024->512 7x7 1.04 -> 9.63 (N8 1.11 -> 4.23).
    static func disjointWindowsGemmShape(_ s: ConvShape) -> Bool {
        s.inChannelsPerGroup >= channelsLastMinOutChannels && s.outChannelsPerGroup >= channelsLastMinInChannels
            && s.outWidth >= disjointWindowsMinRowPixels
    }

    static let disjointWindowsMinRowPixels = 56

    /// Whether a conv backward runs every step on channels-last data (grad_input by
    /// `channelsLastAdjoint`, grad_weight by the pixel-major GEMM dy^T x unfold(x), grad_bias
    /// by row sums): where both the forward and the adjoint run the channels-last GEMM.
    /// (All or nothing: a plan that converts its activations for one step converts them for
    /// every step.)
    ///
    /// Measured (one thread, N = 1, float32, all three gradients; channels-last / NCHW time,
    /// medians of 9 interleaved runs, CPU time; native vs converted): 3x3 128->128 28x28
    /// 0.86 vs 1.05, 1x1 512->128 28x28 0.66, 1x1 1024->256 14x14 0.85, 1x1 64->256 56x56
    /// 1.20 vs 1.35, 1x1 256->64 56x56 1.36 vs 1.72; but 3x3 64->64 56x56 1.39 vs 1.09 (the
    /// weight gradient's B panels, packed pixel by pixel from the unfolded input with runs
    /// of C_in/g channels per tap, cost as much as its GEMM when the plane is large): planes
    /// of over `channelsLastBackwardMaxPixels` output pixels convert, but where grad_weight takes the channels-first
    /// kernel's in-place route there (`weightGradientReadsCopyInPlace`; dy transposed once,
    /// the copy filled from channels-last x: `weightGradientInPlaceFromBlockedCopy`). Measured
    /// (one thread, N = 1, float32, AVX-512 Xeon, conv2d + conv2d_backward from Python;
    /// NHWC / NCHW, converted (the commit before) -> in place, CPU-time medians of 5
    /// interleaved blocks in one process, machine load 8): 3x3 64->64 112x112 1.15 -> 1.15,
    /// 128->64 112x112 1.19 -> 1.12, 128->128 56x56 1.14 -> 1.09, 256->128 56x56 1.12 -> 1.06,
    /// 64->64 56x56 1.21 -> 1.16 (grad_input alone 64->64 112x112 1.22 -> 1.14, grad_weight
    /// alone 1.23 -> 1.14).
    /// Depthwise shapes: the channels-last depthwise loops for every step (`channelsLastDepthwise`).
    ///
    /// 1x1 windows since grad_input reads W in place (dy x W) and grad_weight reads x or dy in
    /// place: wherever the GEMM's channel counts fit (`channelsLastGemmShape`), also with
    /// weights over 4x the activations, which the forward still converts. Measured as above
    /// (medians of 5; grad_input, then grad_weight + grad_bias, each on its own; converted
    /// (the commit before) -> in place): 960->320 7x7 1.17 -> 0.91, 1.25 -> 0.94; 320->1280
    /// 7x7 1.16 -> 0.80, 1.18 -> 1.01; 512->2048 7x7 1.18 -> 1.15, 1.15 -> 1.14; 2048->512
    /// 7x7 1.20 -> 1.05, 1.13 -> 1.03. Also with fewer than 8 output channels, where the
    /// forward runs in place (`channelsLastAdjoint`): U-Net's head 1x1 64->2 112x112, grad_weight
    /// + grad_bias (one thread, ms, converted -> in place (NHWC / NCHW)): N1 0.248 -> 0.101
    /// (0.96), N8 4.84 -> 2.42 (1.61: dy^T x x with 2 GEMM rows).
    ///
    /// Strided 1x1 windows without padding: the stride-1 kernels on the grid pixels
    /// (ChannelsLastStridedPointwise). Measured (one thread, N = 1, float32, forward + all
    /// three gradients, NHWC / NCHW, CPU-time medians of 7 interleaved blocks; converted ->
    /// in place): 256->512 56x56 s2 1.37 -> 0.83, 512->1024 28x28 s2 1.19 -> 0.89,
    /// 1024->2048 14x14 s2 1.14 -> 0.98.
    ///
    /// grad_weight takes the channel-blocked copy where the channels-first one does
    /// (`weightGradientReadsBlockedCopy`; ChannelsLastBlockedWeightGradient). Measured as
    /// above, grad_weight only: 3x3 128->128 28x28 1.53 -> 1.13.
    static func channelsLastBackward(_ s: ConvShape, _ a: ConvAlgorithm) -> ChannelsLastKernel? {
        guard a == .auto else { return nil }
        if channelsLastDepthwise(s, a) { return .depthwise }
        if let p = s.pointwiseOnOutputGrid { return channelsLastBackward(p, a) }
        if s.isPointwise {
            return channelsLastGemmShape(s) && channelsLastAdjoint(s, .auto) == .gemm ? .gemm : nil
        }
        // (Runs of one tap's channels: the weight gradient's packing does not take whole kernel rows.)
        // (Large planes only where grad_weight takes the in-place route: the float32 rule.)
        let gemm = (s.kernelTaps == 1 || s.outPixels <= channelsLastBackwardMaxPixels || weightGradientReadsCopyInPlace(s, Float.self))
            && s.inChannelsPerGroup >= channelsLastMinInChannels
            && channelsLastForward(s, .auto) == .gemm && channelsLastAdjoint(s, .auto) == .gemm
        return gemm ? .gemm : nil
    }


    static let channelsLastBackwardMaxPixels = 1024

    /// Whether a transposed conv's backward runs every step on channels-last data: grad_input
    /// is the forward conv of grad_output, grad_weight the conv weight gradient with (x, dy) =
    /// (grad_output, input). Depthwise shapes, and windows that do not overlap (kernel =
    /// stride: U-Net's up-convolutions) where the forward runs the channels-last GEMM, on at
    /// least `disjointWindowsBackwardMinPixels` GEMM rows (batch x the transposed conv's input
    /// pixels). Measured (one thread, float32, AVX-512 Xeon, conv_transpose2d_backward, all
    /// three gradients, from Python; NHWC / NCHW, converted (the commit before) -> in place,
    /// CPU-time medians of 3-5 interleaved blocks in one process, machine load 8): 2x2 s2
    /// 128->64 56x56 1.34 -> 1.08, 256->128 28x28 1.23 -> 1.13, N8 512->256 14x14 1.19 ->
    /// 1.05; fewer rows lost: 512->256 14x14 1.10 -> 1.17, N8 1024->512 7x7 1.10 -> 1.32.
    static func channelsLastTransposedBackward(_ s: ConvShape, _ a: ConvAlgorithm) -> ChannelsLastKernel? {
        guard a == .auto else { return nil }
        if channelsLastDepthwise(s, a) { return .depthwise }
        return s.hasDisjointWindows && s.batch * s.outPixels >= disjointWindowsBackwardMinPixels
            && channelsLastForward(s, .auto) == .gemm ? .gemm : nil
    }

    static let disjointWindowsBackwardMinPixels = 512

    /// The 1x1 channels-last weight gradient's orientation: dW^T = x^T x dy (dy, C_out wide,
    /// read in place; x^T packed; the small result transposed into dw) where dy is much
    /// larger than x and the result, else dW = dy^T x x (x read in place, dy^T packed: its
    /// packing is the cost, about C_out x pixels gathered elements). The rule compares those
    /// costs: C_out x pixels against twice C_in x (pixels + C_out).
    ///
    /// Measured (one thread, N = 1, float32, AVX-512 Xeon, grad_weight + grad_bias on NHWC /
    /// the NCHW call, CPU time, medians of 3 interleaved runs; dy^T x x -> x^T x dy):
    /// 24->144 56x56 1.83 -> 0.93, 32->192 28x28 1.35 -> 0.87, 64->256 56x56 1.43 -> 1.14,
    /// 16->96 112x112 1.66 -> 1.25, 128->512 28x28 1.37 -> 1.26, and on the edge, 64->384
    /// 14x14 1.46 -> 1.60 (75 K against 74 K: a loss the rule takes) (transposed by the
    /// rule); 96->576 14x14 1.50 -> 1.59, 256->1024 14x14 1.48 -> 2.34, 160->960 7x7 2.09 ->
    /// 3.30, 512->2048 7x7 2.21 -> 9.02 (the transpose of a large result on a small plane:
    /// not transposed).
    static func channelsLastWeightGradientTransposed(_ s: ConvShape) -> Bool {
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup, pixels = s.batch * s.outPixels
        return cog > cig && cog * pixels > 2 * cig * (pixels + cog)
    }
}

extension KernelSelector {
    /// Channels-last depthwise convolutions (at least 16 channels: a Float block must fit in
    /// a pixel) run every step on the depthwise loops in place (forward, adjoint at any
    /// stride, weight gradient; DepthwiseConvolution, channels-last), also the plain 3x3
    /// layers that the channels-first plan leaves on the plane kernel: no conversion step.
    /// "auto" and the named "depthwise" only; other named algorithms convert.
    ///
    /// Measured (one thread, N = 1, float32, AVX-512 Xeon, every depthwise layer of MobileNetV2 /
    /// EfficientNet-B0; channels-last / NCHW time of the same call from Python, CPU time;
    /// training = conv2d + conv2d_backward). "converted": the conversion path this replaces
    /// (network_bench.py --quick --layout both --clock cpu, one interleaved block per layer);
    /// "in place": these loops (NCHW and NHWC calls interleaved in one process, medians of 7
    /// blocks of 20 ms):
    ///
    /// | layer               | fwd converted -> in place | train converted -> in place |
    /// |---------------------|---------------------------|-----------------------------|
    /// | 32 dw 112x112 k3    | 2.87 -> 1.36              | 2.30 -> 1.84                |
    /// | 96 dw 112x112 k3 s2 | 3.30 -> 0.80              | 2.62 -> 1.10                |
    /// | 144 dw 56x56 k3     | 2.86 -> 0.86              | 2.36 -> 1.23                |
    /// | 144 dw 56x56 k3 s2  | 2.59 -> 0.73              | 3.05 -> 0.92                |
    /// | 192 dw 28x28 k3     | 2.10 -> 0.86              | 2.90 -> 0.97                |
    /// | 192 dw 28x28 k3 s2  | 2.13 -> 0.73              | 1.98 -> 0.78                |
    /// | 384 dw 14x14 k3     | 1.67 -> 0.95              | 2.08 -> 1.23                |
    /// | 576 dw 14x14 k3     | 1.90 -> 0.96              | 2.11 -> 1.07                |
    /// | 576 dw 14x14 k3 s2  | 1.82 -> 0.57              | 2.23 -> 0.65                |
    /// | 960 dw 7x7 k3       | 1.62 -> 0.93              | 1.61 -> 0.90                |
    /// | 144 dw 56x56 k5 s2  | 2.38 -> 0.79              | 2.27 -> 0.93                |
    /// | 240 dw 28x28 k5     | 1.93 -> 1.54              | 1.50 -> 1.32                |
    /// | 240 dw 28x28 k3 s2  | 1.88 -> 0.71              | 2.02 -> 0.81                |
    /// | 480 dw 14x14 k3     | 1.69 -> 0.93              | 1.87 -> 1.03                |
    /// | 480 dw 14x14 k5     | 1.86 -> 1.31              | 1.68 -> 1.18                |
    /// | 672 dw 14x14 k5     | 1.94 -> 1.43              | 1.86 -> 1.48                |
    /// | 672 dw 14x14 k5 s2  | 1.64 -> 0.81              | 1.92 -> 0.86                |
    /// | 1152 dw 7x7 k5      | 1.60 -> 1.31              | 1.48 -> 1.17                |
    /// | 1152 dw 7x7 k3      | 1.58 -> 0.96              | 1.65 -> 0.95                |
    ///
    /// In place wins over converting on every layer. Still slower than NCHW: the plain 3x3
    /// layer on 112x112 (NCHW: the plane kernel) and 5x5 stride 1, whose loops run with
    /// runtime steps (pixel stride C) where the tiles' constant steps fold into the loads.
    /// Since then the forward and the stride-1 adjoint copy their source rows into those
    /// tiles, without transposes (`channelsLastDepthwiseTiles`, ChannelsLastDepthwise).
    static func channelsLastDepthwise(_ s: ConvShape, _ a: ConvAlgorithm) -> Bool {
        (a == .auto || a == .depthwise) && DepthwiseConvolution.supportsChannelsLast(s)
    }

    /// Whether the channels-last depthwise forward / adjoint copies its source rows into
    /// channel-interleaved tiles (ChannelsLastDepthwise: every channel of a pixel read at once,
    /// the zero border built in, the loops' constant-step blocks) or runs the loops in place
    /// (`DepthwiseConvolution.forwardChannelsLast`: pixel stride C, border taps skipped). Tiles
    /// at stride 1; strided forwards, where the tile copies about stride^2 source pixels per
    /// output, only when the whole input is over `channelsLastDepthwiseTileMinBytes` (it comes from
    /// L3 or memory, where the in-place reads of one 64-byte block per pixel defeat the
    /// prefetchers) and its planes are at most `channelsLastDepthwiseStridedMaxPixels`.
    ///
    /// Measured (one thread, Zen5, shared machine (load 12-13), float32, forward from Python,
    /// CPU time, medians of 3 (N8) / 5 (N1) interleaved rounds in one process; in place (the
    /// session-start build) -> tiles for every layer, ms; /tmp/s11/nhwc/ab.py):
    ///
    /// | layer                 | N1 in place -> tiles | N8 in place -> tiles | N8 NCHW |
    /// |-----------------------|----------------------|----------------------|---------|
    /// | 32 dw 112x112 k3      | 0.192 -> 0.168       | 1.981 -> 2.134       | 1.772   |
    /// | 144 dw 56x56 k3       | 0.216 -> 0.215       | 2.815 -> 2.858       | 1.432   |
    /// | 240 dw 28x28 k5       | 0.177 -> 0.115       | 4.304 -> 1.614       | 1.235   |
    /// | 192 dw 28x28 k3       | 0.095 -> 0.074       | 1.001 -> 0.927       | 0.609   |
    /// | 480 dw 14x14 k3       | 0.064 -> 0.061       | 2.292 -> 0.719       | 0.479   |
    /// | 672 dw 14x14 k5       | 0.216 -> 0.090       | 4.731 -> 1.399       | 1.191   |
    /// | 576 dw 14x14 k3       | 0.094 -> 0.068       | 2.665 -> 0.717       | 0.709   |
    /// | 1152 dw 7x7 k5        | 0.086 -> 0.068       | 1.150 -> 0.546       | 0.431   |
    /// | 960 dw 7x7 k3         | 0.037 -> 0.039       | 0.324 -> 0.271       | 0.252   |
    /// | 96 dw 112x112 k3 s2   | 0.218 -> 0.447       | 3.514 -> 5.873       | 3.240   |
    /// | 144 dw 56x56 k3 s2    | 0.094 -> 0.103       | 2.037 -> 2.144       | 1.224   |
    /// | 144 dw 56x56 k5 s2    | 0.140 -> 0.150       | 3.474 -> 2.206       | 1.467   |
    /// | 240 dw 28x28 k3 s2    | 0.041 -> 0.049       | 0.916 -> 0.735       | 0.372   |
    /// | 192 dw 28x28 k3 s2    | 0.027 -> 0.041       | 0.250 -> 0.366       | 0.267   |
    /// | 672 dw 14x14 k5 s2    | 0.053 -> 0.062       | 1.479 -> 0.618       | 0.505   |
    /// | 576 dw 14x14 k3 s2    | 0.024 -> 0.036       | 0.299 -> 0.251       | 0.226   |
    ///
    /// (N8 in place was 1.7-4.8x the NCHW time on the 7x7-28x28 planes: the reads, not the
    /// loops. Strided layers of at most 56x56 at N8: 8.46 ms in place, 6.32 tiled; at N1 0.379
    /// in place, 0.441 tiled.) The strided adjoint (grad_input; tiles of dy) stays in place:
    /// N8, grad_input alone, in place -> tiles: 96 dw 112x112 s2 4.58 -> 5.78, 144 dw 56x56 s2
    /// 2.50 -> 3.06, 192 dw 28x28 s2 0.613 -> 0.691 (at stride 1: 144 dw 56x56 3.28 -> 2.62,
    /// 480 dw 14x14 0.981 -> 0.650, 672 dw 14x14 k5 5.08 -> 1.02).
    ///
    /// Not the weight gradient (ChannelsLastDepthwiseGradient stays in place): the same tiles
    /// for x and dy there lost everywhere (N8, grad_weight alone, in place -> tiles: 144 dw
    /// 56x56 4.51 -> 6.40, 144 dw 56x56 s2 0.885 -> 2.69, 480 dw 14x14 0.410 -> 0.547, 672 dw
    /// 14x14 k5 1.57 -> 1.72): its loops run one tap over a whole row at a time, a stream the
    /// prefetchers follow, so the copies are pure cost.
    static func channelsLastDepthwiseTiles(_ s: ConvShape, adjoint: Bool, elementBytes: Int) -> Bool {
        if s.strideH == 1 && s.strideW == 1 { return true }
        return !adjoint && s.inputCount >= channelsLastDepthwiseTileMinBytes / elementBytes
            && s.inPixels <= channelsLastDepthwiseStridedMaxPixels
    }

    static let channelsLastDepthwiseTileMinBytes = 2 * 1024 * 1024
    static let channelsLastDepthwiseStridedMaxPixels = 56 * 56
}

extension KernelSelector {
    /// Whether a padding mode's border (reflect, replicate, circular) is read through its
    /// index maps by the kernels (`ConvPlan.Step.readBorder`) instead of a padded copy made
    /// first (`padInput`): any forward kernel of a depth lowering (its planes are gathered
    /// padded: the copy it makes anyway), and the im2col forward of 1-D rows (height 1) of at
    /// least `borderReadMinWidth` outputs (its B panels packed through the maps). 2-D planes
    /// keep the copy: every panel at a row's ends (both panels of a 32-wide plane) packs row
    /// by row through the maps, while on the padded copy each panel is one vector gather.
    ///
    /// Measured (one thread, float32, AVX-512 Xeon, reflect and circular alike; maps / copy
    /// time of the same call, this build against one that copies (the commit before), in one
    /// process, CPU time, medians of 5 interleaved blocks, function - prepared;
    /// `benchmarks/padding_bench.py --threads 1 --clock cpu`, `--backward` for conv*_backward
    /// with all three gradients). Before the rule (maps wherever supported):
    ///
    /// | layer                           | forward      | backward     |
    /// |---------------------------------|--------------|--------------|
    /// | conv1d N8 32->32 k3 1000        | 0.86 - 0.88  |              |
    /// | conv1d 64->64 k9 4000           | 0.95 - 0.98  |              |
    /// | conv1d 16->32 k7 s2 2000        | 0.95 - 1.04  |              |
    /// | conv1d 128->128 k3 256          | 1.00 - 1.01  |              |
    /// | conv1d N8 64->64 k5 128         | 1.02 - 1.03  |              |
    /// | conv3d 32->32 k3 16x32x32       | 0.96 - 0.99  | 0.98 - 1.00  |
    /// | conv3d 64->64 k3 8x28x28        | 0.96 - 0.99  | 1.00 - 1.01  |
    /// | conv3d N2 16->16 k3 8x16x16     | 1.00 - 1.02  | 0.99         |
    /// | 2-D 128->128 3x3 64x64 (N1, N8) | 1.05 - 1.08  |              |
    /// | 2-D 3->32 9x9 256x256           | 1.07 - 1.09  |              |
    /// | 2-D 3->64 7x7 256x256           | 1.02 - 1.04  |              |
    /// | 2-D 64->64 3x3 128x128          | 0.99 - 1.03  |              |
    /// | 2-D 64->128 4x4 s2 128x128      | 1.01 - 1.05  |              |
    /// | 2-D 256->256 3x3 16x16          | 1.09 - 1.19  |              |
    /// | 2-D N8 32->32 3x3 32x32         | 1.36 - 1.40  |              |
    ///
    /// With the rule (same command, final build): the maps layers 0.86 (conv1d N8 1000),
    /// 0.95 - 0.99 (conv1d 4000), 0.96 - 0.99 (conv3d), 0.96 - 1.02 (conv1d s2 2000); every
    /// copy layer 0.99 - 1.03 (the same path). (Packing the 2-D row ends through the maps
    /// lane by lane was the cheapest of three versions tried; gathering every row at a clamped
    /// start and rewriting the crossing rows, or splitting each row into mapped and plain
    /// lanes, measured 1.02 - 2.2.)
    static func readsBorderWhilePacking(_ kernel: ForwardKernel, _ s: ConvShape, lowered: Bool) -> Bool {
        if lowered { return true }
        return kernel == .im2col && s.isPlanar && !s.isPointwise && s.inHeight == 1 && s.outWidth >= borderReadMinWidth
    }

    static let borderReadMinWidth = 512

    /// The weight gradient's border: read through the maps by a depth lowering's gathered
    /// planes (as its forward); planar kernels read the padded copy.
    static func readsBorderWhilePacking(_ kernel: WeightGradientKernel, _ s: ConvShape, lowered: Bool) -> Bool {
        lowered && kernel != .reference
    }

    /// 1x1 convolutions on a 1x1 plane (squeeze-and-excitation layers, a classifier run as a
    /// conv): grad_input (the upsample adjoint's inner GEMM) and grad_weight run on the
    /// few-column kernels (`OnePixelConvolution`: the arrays read in place, no packing, the
    /// GEMM's order and so its bits) for every such shape. The forward: `onePixelForward`.
    ///
    /// Measured (one thread, float32, AVX-512 Xeon, us per conv2d_backward call from Python,
    /// one gradient at a time; GEMM (the build before) -> few-column, interleaved runs):
    ///
    /// | layer       | grad_input N1 | grad_input N8 | grad_weight N1 | grad_weight N8 |
    /// |-------------|---------------|---------------|----------------|----------------|
    /// | 1152->48    | 24.4 -> 14.2  | 65.2 -> 20.1  | 18.4 -> 17.8   | 33.5 -> 24.9   |
    /// | 48->1152    | 27.3 -> 17.7  | 55.5 -> 20.3  | 17.1 -> 18.9   | 31.2 -> 19.2   |
    /// | 672->28     | 16.8 -> 12.1  | 37.4 -> 15.1  | 15.7 -> 11.4   | 21.9 -> 15.2   |
    /// | 28->672     | 19.0 -> 18.5  | 32.8 -> 29.9  | 32.2 -> 17.7   | 39.0 -> 32.2   |
    /// | 96->4       | 11.4 -> 10.8  | 14.7 -> 11.0  | 10.0 -> 9.7    | 11.4 -> 9.7    |
    /// | 4->96       | 11.6 -> 11.6  | 13.7 -> 13.0  | 10.8 -> 10.3   | 11.8 -> 12.0   |
    /// | 6->144      | 12.1 -> 12.4  | 14.9 -> 14.2  | 11.4 -> 11.4   | 13.3 -> 14.2   |
    ///
    /// Then B's partial last vector loaded whole but in the last rows (smallGemm; same
    /// command, two interleaved runs, before -> after): grad_input N1 / N8 28->672 13.7-14.2
    /// -> 7.8-8.5 / 24.9-25.0 -> 12.3-12.7, 20->480 11.2-11.9 -> 7.3-7.8 / 18.6-19.9 ->
    /// 9.9-10.9, 10->240 8.1-8.3 -> 6.1-6.9 / 11.3-12.2 -> 7.1-7.6; grad_weight N8 28->672
    /// 28.0-28.6 -> 15.0-15.8, 20->480 19.1-19.5 -> 11.7, 10->240 12.8-13.0 -> 8.5-8.8; the
    /// other SE layers (both directions) within the runs' spread or faster.
    static func onePixel(_ s: ConvShape) -> Bool {
        OnePixelConvolution.supports(s)
    }

    /// The forward of a 1x1 conv on a 1x1 plane runs as dot products over C_in/groups
    /// (`OnePixelConvolution.forward`) when a group has at least as many input as output
    /// channels; otherwise the im2col GEMM. The dot products sum in their own order, so the
    /// rule looks at the weights' shape only, never at the batch: a call's bits must not
    /// depend on how its batch is cut (swiftconv.dask runs the whole call's kernel on each
    /// batch chunk). Channels-last calls of these shapes take the conversion path (the same
    /// memory: a copy of N x C elements), so that both layouts give the same bits.
    ///
    /// Measured (one thread, float32, AVX-512 Xeon, prepared calls (weights packed ahead
    /// for the GEMM), us per call from Python, GEMM -> dot products, interleaved runs): the
    /// reduce layers win at every batch, N1 / N8 / N64: 1152->48 9.7 -> 3.9 / 36.3 -> 9.8 /
    /// 190 -> 150 (an earlier run); 672->28 6.4 -> 3.0 / 20.0 -> 5.8; 240->10 3.1 -> 1.7 /
    /// 7.3 -> 2.3 / 34.3 -> 7.2; 96->4 2.2 -> 1.6 / 3.8 -> 1.8; 144->6 2.5 -> 1.9 / 5.1 -> 3.0;
    /// a classifier 1280->1000 203 -> 180 / 408 -> 335 / 1350 -> 1412 (about even). The
    /// expand layers lose (one horizontal sum per output over a short depth): 48->1152 8.7
    /// -> 7.8 / 47 -> 52 / 265 -> 394; 28->672 4.9 -> 9.5 / 25 -> 38; 10->240 2.5 -> 4.2 /
    /// 9.4 -> 14.5; 6->144 2.2 -> 3.2 / 6.6 -> 9.5; 4->96 2.0 -> 2.6 / 5.1 -> 6.9. Function calls
    /// (not prepared) also pack the weights for the GEMM each call: 1152->48 N1 25.4 -> 11.2.
    ///
    /// The expand layers with short rows (C_in/groups <= `onePixelShortDepth`) run the dot
    /// products too: 16 rows (8 Doubles) at a time, their lanes transposed in registers and
    /// added in the dot product's tree (FewColumnKernels.swift, `rowBlock`: the same bits as
    /// one row at a time), so no horizontal sum per output. Longer expand rows keep the GEMM
    /// (not measured here; one row at a time lost above).
    ///
    /// Measured (one thread, float32, AVX-512 Xeon, us per sc.conv2d call from Python with
    /// bias, process CPU time, medians of 3 interleaved runs of 7 blocks of calls each;
    /// GEMM (the build before) -> row blocks, and the best of PyTorch 1-thread F.conv2d /
    /// ONNX Runtime 1-thread session in the same runs):
    ///
    /// | layer    | N1 before -> after (best) | N8 before -> after (best) |
    /// |----------|---------------------------|---------------------------|
    /// | 4->96    | 4.14 -> 3.47 (6.51)       | 7.21 -> 5.52 (8.47)       |
    /// | 6->144   | 4.53 -> 3.72 (6.66)       | 8.92 -> 6.71 (9.46)       |
    /// | 10->240  | 5.15 -> 4.04 (7.02)       | 12.21 -> 8.66 (11.96)     |
    /// | 20->480  | 7.98 -> 5.09 (8.14)       | 22.24 -> 13.37 (14.50)    |
    /// | 28->672  | 11.19 -> 5.81 (8.65)      | 31.56 -> 17.31 (17.73)    |
    /// | 48->1152 | 21.47 -> 6.59 (10.21)     | 61.02 -> 25.40 (29.51)    |
    ///
    /// N64: 48->1152 285 -> 150, 28->672 154 -> 109, 4->96 24 -> 20; prepared calls (weights
    /// packed ahead for the GEMM) N1 / N8 / N64: 48->1152 8.7 -> 5.9 / 47 -> 24 / 259 -> 163,
    /// 28->672 5.1 -> 3.8 / 26 -> 16 / 145 -> 110, 4->96 2.1 -> 1.9 / 5.1 -> 3.9 / 22 -> 18.
    /// SWIFTCONV_KERNEL_TIER=avx2 (half-vector blocks), N1 / N8: 48->1152 21.6 -> 8.8 / 62
    /// -> 42, 28->672 11.2 -> 6.7 / 33 -> 29, 4->96 4.2 -> 3.6 / 7.5 -> 6.6; baseline: N1
    /// 0.45 - 0.90x, N8 0.81 - 1.10x (20->480 25.6 -> 28.1, 6->144 9.2 -> 9.7: one run).
    ///
    /// The dot products are the kernel "dot" (ForwardKernel.dot), never a part of "im2col":
    /// swiftconv.dask cuts spatial axes and pins the whole call's kernel by name for every
    /// chunk, and a one-pixel chunk of a larger 1x1 conv (whose whole call runs the GEMM)
    /// must run the GEMM; when both hid under "im2col" the expand rule was switched off.
    /// Re-measured with both kernels named in one process (one thread, float32, 2-vCPU
    /// AVX-512 Xeon, us per sc.conv2d call from Python with bias, process CPU time, medians
    /// of 7 interleaved blocks of >= 20 ms; "auto" picks "dot" on every row; `/tmp/onepix/
    /// se_bench.py`, PyTorch 2.x F.conv2d one thread in the same blocks):
    ///
    /// | layer    | N1 im2col -> dot (torch) | N8 im2col -> dot (torch) |
    /// |----------|--------------------------|--------------------------|
    /// | 48->1152 | 21.2 -> 7.7 (12.2)       | 59.2 -> 22.2 (60.9)      |
    /// | 28->672  | 11.1 -> 5.9 (8.3)        | 31.4 -> 17.5 (34.3)      |
    /// | 20->480  | 8.2 -> 5.4 (7.3)         | 22.6 -> 13.4 (26.0)      |
    /// | 10->240  | 5.6 -> 4.2 (5.3)         | 12.5 -> 8.7 (11.3)       |
    /// | 4->96    | 4.8 -> 3.7 (4.7)         | 7.7 -> 5.6 (7.7)         |
    /// | 1152->48 | 20.8 -> 5.9 (8.2)        | 50.9 -> 13.9 (34.6)      |
    /// | 672->28  | 12.2 -> 4.5 (5.8)        | 27.3 -> 7.4 (15.5)       |
    /// | 240->10  | 6.1 -> 3.6 (4.6)         | 10.8 -> 4.4 (6.4)        |
    /// | 96->4    | 4.9 -> 3.5 (4.4)         | 6.5 -> 3.8 (5.4)         |
    ///
    /// (A call with algorithm="auto" takes the argument fast path: about 0.5 us less than
    /// the named "dot".) SWIFTCONV_KERNEL_TIER=avx2, N1 / N8 im2col -> dot: 48->1152 21.5 ->
    /// 9.5 / 61.9 -> 41.6, 28->672 11.4 -> 7.3 / 31.8 -> 28.2, 20->480 8.3 -> 6.2 / 22.9 ->
    /// 20.9, 4->96 4.9 -> 4.0 / 7.9 -> 7.3; baseline: 48->1152 26.6 -> 12.0 / 81.9 -> 62.9,
    /// 28->672 13.0 -> 8.2 / 38.5 -> 37.6, 20->480 9.9 -> 6.9 / 26.9 -> 28.2 (the one row
    /// that loses, 1.05x), 4->96 4.9 -> 4.1 / 8.0 -> 7.7 (5 blocks each).
    static func onePixelForward(_ s: ConvShape) -> Bool {
        onePixel(s) && (s.inChannelsPerGroup >= s.outChannelsPerGroup || s.inChannelsPerGroup <= onePixelShortDepth)
    }

    /// The longest rows (C_in/groups) of an expand layer that runs the dot products: the
    /// row blocks' limit (`rowBlockMaxDepth` in FewColumnKernels.swift).
    static let onePixelShortDepth = 64

    /// The im2col forward's GEMMs read the weights in place (`InPlaceWeights`: no packing
    /// pass over them per call; InPlaceWeightKernels.swift) when a GEMM has
    /// `inPlaceWeightsMinColumns ... inPlaceWeightsMaxColumns` columns (the output plane, or
    /// the planes of a batch folded into the columns); the threads then split its rows, not
    /// its few columns. Prepared weights stay packed (the same bits: the kernels differ only
    /// in where they read A).
    ///
    /// Why so little: a partial last column panel needs A's rows in the vector lanes, i.e.
    /// packed. In place it takes a full-width tile (49 = 3 x 16 + 1: the last column costs a
    /// panel of multiply-adds), about what the pack plus the packed build's narrow kernel cost.
    /// Measured (one thread, float32, CPU time per conv2d call from Python, median of 3
    /// interleaved processes x 5 blocks, 2-vCPU AVX-512 Xeon, packed -> in place):
    ///
    /// | layer                  | N1 us          | layer                 | N1 us         |
    /// |------------------------|----------------|-----------------------|---------------|
    /// | 576->160 7x7           | 89.9 -> 93.0   | 2048->512 7x7         | 1092 -> 1109  |
    /// | 960->160 7x7           | 159.2 -> 150.2 | 512->2048 7x7         | 1093 -> 1123  |
    /// | 960->320 7x7           | 297.2 -> 300.2 | 512->512 7x7 k3       | 2487 -> 2351  |
    /// | 320->1280 7x7          | 397.7 -> 404.6 | 576->96 14x14         | 163.6 -> 159.7|
    /// | 160->960 7x7           | 152.1 -> 148.3 | 96->576 14x14         | 173.8 -> 171.1|
    /// | 672->192 7x7           | 128.2 -> 125.4 | 672->112 14x14        | 226.6 -> 221.9|
    /// | 1152->192 7x7          | 228.4 -> 214.7 | 1024->256 14x14       | 802 -> 783    |
    /// | 1152->320 7x7          | 360.9 -> 369.1 | 256->1024 14x14       | 794 -> 782    |
    /// | 192->1152 7x7          | 226.9 -> 219.7 | 384->64 14x14         | 79.4 -> 77.2  |
    ///
    /// (0.94-1.03, noise about 3%). Batch 8 on 7x7 (392 folded columns; the packed path
    /// packs A for the GEMM there too), same method, N8 us: 576->160 593 -> 564, 960->160
    /// 965 -> 923, 960->320 1810 -> 1745, 320->1280 2516 -> 2392, 160->960 1076 -> 1010,
    /// 672->192 802 -> 752, 1152->192 1371 -> 1275, 1152->320 2154 -> 2047, 192->1152
    /// 1501 -> 1408, 2048->512 6167 -> 5811, 512->2048 6777 -> 6702, 512->512 k3 14234 ->
    /// 13281 (0.93-0.99). Two threads, N1 (wall clock, a loaded machine): 0.64-0.96 of the
    /// packed path, from splitting the rows (49 columns split 32 + 17 did not balance).
    ///
    /// Re-measured by the lead after the merge (same method, quiet machine, one thread / two
    /// threads wall clock, N1): tall weights over one column panel lose in place, 512->2048
    /// 7x7 1.06-1.09x / 1.04-1.09x and 320->1280 7x7 1.05x / 1.01x, while 192->1152 7x7 is
    /// 1.01x / 0.74x and 2048->512 7x7 1.01x / 0.97x; so GEMMs of fewer than
    /// 2 x `inPlaceWeightsMinColumns` columns keep packed weights above
    /// `inPlaceWeightsMaxRowsFewColumns` rows. (At N8 the
    /// folded 392 columns of 512->2048 gain: 0.94x / 0.93x.)
    ///
    /// Since the GEMM packs a large A in slices for few columns (`Gemm.packedSliceRows`:
    /// each slice swept right after its packing, the next one's rows streamed meanwhile),
    /// 1x1 layers with fewer columns than 2 x `inPlaceWeightsMinColumns` and more than `inPlaceWeightsMaxElementsFewColumns`
    /// weights keep them packed too. Measured (one thread, CPU time per conv2d call from
    /// Python, median of interleaved processes, 2-vCPU AVX-512 Xeon, N1, ms, in place ->
    /// packed in slices): 2048->512 7x7 1.04-1.06 -> 0.98-0.99, 1152->320 7x7 0.34 -> 0.33,
    /// 960->320 7x7 0.274-0.276 -> 0.272-0.273; at or below the limit in place still wins or
    /// ties: 192->1152 7x7 0.200 -> 0.193-0.197, 960->160 0.143 -> 0.149-0.151, 160->960
    /// 0.132-0.135 -> 0.137-0.138, 672->192 0.117-0.118 -> 0.121-0.122; and so it does for
    /// the 3x3 layers: 512->512 7x7 k3 2.24-2.26 -> 2.30-2.35, 512->512 14x14 k3 s2
    /// 2.24-2.26 -> 2.26-2.30. The limit is 2^19, not the 2^18 that one thread suggests:
    /// with two threads the rows are cut in four blocks and a block of a smaller matrix is
    /// packed whole before its use (below `smallABytes`, not in slices), which measured
    /// slower than in place (wall clock, loaded machine: 960->320 7x7 0.31-0.33 -> 0.35-0.36;
    /// 2048->512 7x7 1.07-1.11 -> 1.03-1.05 gains).
    ///
    /// The dot products over C_in with W's rows in place (no packing either), instead of this
    /// GEMM, measured slower on every 7x7 reduce layer at N1: `OnePixelConvolution`'s header.
    ///
    /// Since session 12 the AVX-512 tier takes a partial panel of 1-8 columns in place with
    /// the rows in the lanes as well (`sc_sgemm_inplace_edge_f32`, InPlaceWeightKernels.swift),
    /// so the full-width-tile cost above holds for the AVX2 and baseline tiers only. Re-measured
    /// on Zen5 (1 thread, CPU time, median of 3 alternating processes x 5 blocks, forced in place
    /// / this rule's packed slices, N1): 320->1280 7x7 0.90, 512->2048 7x7 0.94, 1024->2048
    /// 14x14 s2 0.95, 2048->512 7x7 1.01. The lead's check of the limits lifted on the AVX-512
    /// tier (one process, old build beside it, 7 interleaved rounds, quiet Zen5; in place /
    /// packed, 1 thread CPU time | 2 threads wall clock): 320->1280 7x7 0.94 | 0.94, 512->2048
    /// 7x7 1.01 | 0.99, 2048->512 7x7 1.12 | 1.06, 1024->2048 14x14 s2 1.09 | 1.06, the layers
    /// already in place 0.99-1.00. So the limits stay (one layer of 6% against two of 9-12%).
    static func readsWeightsInPlace(_ s: ConvShape) -> Bool {
        let folded = s.batch > 1 && s.outPixels < Im2colConvolution.foldBatchPixels
        let columns = folded ? s.batch * s.outPixels : s.outPixels
        if columns < 2 * inPlaceWeightsMinColumns {
            if s.outChannelsPerGroup > inPlaceWeightsMaxRowsFewColumns { return false }
            if s.kernelTaps == 1 && s.outChannelsPerGroup * s.patchSize > inPlaceWeightsMaxElementsFewColumns { return false }
        }
        return columns >= inPlaceWeightsMinColumns && columns <= inPlaceWeightsMaxColumns
    }

    /// Below two full column panels the partial panel is most of the work, and there the
    /// packed build's narrow kernel (rows in the lanes) wins: 1x1-plane expand layers at N1
    /// measured 1.12-1.34x slower in place (20->480 14.4 -> 19.3 us, 48->1152 27.3 -> 34.1).
    static let inPlaceWeightsMinColumns = 32
    static let inPlaceWeightsMaxColumns = 512
    static let inPlaceWeightsMaxRowsFewColumns = 1152
    static let inPlaceWeightsMaxElementsFewColumns = 1 << 19

    /// A pointwise (1x1, stride 1) layer's per-image GEMMs read its input in place as their
    /// B operand (`sgemmBlockRowMajorB`: kc rows a plane apart, the next panel prefetched),
    /// except when the input is large (not in cache: a batch), deep and on planes of a
    /// page or more: then the GEMM packs B (`PackedPointwiseInput`), copying each row of a
    /// column tile in one sequential sweep, which the hardware prefetchers follow where the
    /// in-place panels' kc scattered 128-byte pieces (each row in another page) run at a
    /// fraction of the memory bandwidth. Same bits either way (packing only copies).
    ///
    /// Measured (one thread, forward from Python, time of packed B / in place with the
    /// prefetch, median of 5-7 interleaved rounds, 2-vCPU Xeon AVX-512; input MB in brackets):
    ///
    /// | layer              | N8 packed / in place      | N1 packed / in place |
    /// |--------------------|---------------------------|----------------------|
    /// | 256->64 56x56      | 0.87, 0.78 (25.7)         | 1.09, 1.11 (3.2)     |
    /// | 256->128 56x56     | 0.92 (25.7)               |                      |
    /// | 144->24 56x56      | 0.94, 0.97 (14.4)         |                      |
    /// | 96->24 56x56       | 1.01, 1.07 (9.6)          | 1.32 (1.2)           |
    /// | 64->64 56x56       | 1.01 (6.4)                |                      |
    /// | 32->16 112x112     | 1.22 (12.8)               |                      |
    /// | 16->96 112x112     | 1.09 (6.4)                |                      |
    /// | 512->128 28x28     | 0.98, 1.05 (12.8)         | 1.08 (1.6)           |
    /// | 512->256 28x28     | 1.00 (12.8)               |                      |
    /// | 240->40 28x28      | 1.12 (6.0)                |                      |
    ///
    /// So: depth >= 128, planes >= 1024 pixels (4 KB of Float32) and an input of 8 MiB or
    /// more (four times this CPU's 2 MB L2; the N1 layers, 3.2 MB at most, stay in place).
    static func packsPointwiseInput(_ s: ConvShape, elementBytes: Int) -> Bool {
        guard s.isPointwise, s.inChannelsPerGroup >= packedInputMinDepth, s.inPixels >= packedInputMinPixels,
              let bytes = try? Checked.product([s.inputCount, elementBytes], "") else { return false }
        return bytes >= packedInputMinBytes
    }

    static let packedInputMinDepth = 128
    static let packedInputMinPixels = 1024
    static let packedInputMinBytes = 8 << 20

    /// A stride-1 convolution on its zero-padded copy reads the unfolded input in place on
    /// the padded-width grid (`PaddedGridConvolution`: no packing pass over B, for grid
    /// columns the output drops, one GEMM per image) when the AVX-512 block function is
    /// there (Float), the grid has at most `paddedGridMaxColumnRatio` times the image's
    /// output columns, and the batch is not folded into the GEMM's columns (small planes:
    /// images are not one linear grid).
    ///
    /// Measured (one thread, prepared weights, CPU clock, time grid / packed path, median
    /// of 7 interleaved rounds in one process, 2-vCPU Xeon AVX-512, load average 8-10 from
    /// other jobs: an A/A run of the same path spread 0.97-1.03; grid / output columns in
    /// brackets; the rows below the rule's ratio with the grid forced):
    ///
    /// | layer (3x3, pad 1)     | forward N1  | forward N8  | training N1 |
    /// |------------------------|-------------|-------------|-------------|
    /// | 64->64 112x112 (1.02)  | 0.90, 0.92  | 0.96        | 0.96        |
    /// | 128->64 112x112 (1.02) | 0.92        | 0.92        | 0.96        |
    /// | 64->64 56x56 (1.04)    | 0.95        | 0.93        | 0.97        |
    /// | 128->128 56x56 (1.04)  | 0.99        | 0.98        | 0.99        |
    /// | 128->128 28x28 (1.08)  | 0.96        | 1.00        |             |
    /// | 256->256 28x28 (1.08)  | 1.06        |             |             |
    /// | 256->256 14x14 (1.14)  | 0.97        | 1.01        |             |
    /// | 1024->512 14x14 (1.14) | 0.99        |             |             |
    /// | 512->512 7x7 (1.31)    | 1.09        |             |             |
    ///
    /// (Training: forward + all three gradients; grad_input is this forward with the
    /// flipped kernel; N8 64->64 56x56 0.97. Before the copy to y went channel by channel, 7x7 measured 1.13 N1 /
    /// 1.23 N8.) Whole networks, one thread, N1, prepared, ratio to ONNX Runtime (the
    /// network bench, grid off / on, run one after the other): U-Net decoder 1.12x -> 1.09x,
    /// ResNet-50 0.98x -> 0.97x.
    static func readsPaddedGrid(_ s: ConvShape, padded p: ConvShape, elementBytes: Int) -> Bool {
        s.strideH == 1 && s.strideW == 1 && !s.isPointwise
            && readsGrid(s, columns: PaddedGridConvolution.gridColumns(p), elementBytes: elementBytes)
    }

    /// The same rule for a strided convolution on its stride phases (the grid is a phase
    /// plane's; `splitsStridePhases` for the table).
    static func readsPhaseGrid(_ s: ConvShape, phases: StridePhases, elementBytes: Int) -> Bool {
        readsGrid(s, columns: PaddedGridConvolution.gridColumns(s, phases: phases), elementBytes: elementBytes)
    }

    private static func readsGrid(_ s: ConvShape, columns: Int, elementBytes: Int) -> Bool {
        guard elementBytes == 4, KernelTable.active.sgemmBlockOffsetRowsB != nil, s.isPlanar, s.outPixels > 0,
              !(s.batch > 1 && s.outPixels < Im2colConvolution.foldBatchPixels) else { return false }
        return Double(columns) <= paddedGridMaxColumnRatio * Double(s.outPixels)
    }

    static let paddedGridMaxColumnRatio = 1.05
}

extension KernelSelector {
    /// A strided convolution's im2col forward splits its input into the stride phases once
    /// per call (`StridePhaseSplit`; then `PhaseUnfoldedInput` packs contiguous runs, or the
    /// GEMM reads a phase plane's grid in place, `readsPhaseGrid`) instead of gathering every
    /// s-th element of the zero-padded copy in every column tile, for planar shapes with a
    /// kernel wider than one tap, at most `StridePhases.maxPhases` phases, outputs at least
    /// `phaseMinOutputWidth` wide, few output channels per group (at most
    /// `phaseMaxOutputChannels`: the packing's share of the work falls with them) and not
    /// too few input channels (at least `phaseMinInputChannels`).
    ///
    /// Measured (forward, process CPU clock, new / old time, median of 3-5 interleaved
    /// blocks in one process: this build against main's loaded as `swiftconv_old`, see
    /// benchmarks/README.md; both builds bit for bit the same, 2-vCPU Xeon AVX-512, load average 5-11 from other jobs; an A/A of the same path
    /// spread 0.99-1.02; k3 s2 p1; "forced": the route on every strided shape, before this
    /// rule; the route the shape takes on AVX-512):
    ///
    /// | layer          | 1 thread N1 | N8   | 2 threads N1, N8 | forced N1 (N8)   | route  |
    /// |----------------|-------------|------|------------------|------------------|--------|
    /// | 16->16 112x112 | 0.82        | 0.83 | 0.99, 0.81       | 0.82             | grid   |
    /// | 32->32 112x112 | 0.93        | 0.90 | 0.78, 0.93       | 0.89 (0.91)      | grid   |
    /// | 16->32 224x224 | 0.93        | 0.88 | 0.93, 0.90       | 0.95             | grid   |
    /// | 64->64 112x112 | not taken   |      |                  | 1.00             | grid   |
    /// | 64->64 56x56   | not taken   |      |                  | 0.99             | packed |
    /// | 3->32 224x224  | not taken   |      |                  | 1.13 (1.09)      | grid   |
    /// | 32->64 56x56   | not taken   |      |                  | 1.06             | packed |
    /// | 64->128 28x28  | not taken   |      |                  | 1.09             | packed |
    /// | 128->128 56x56 | not taken   |      |                  | 1.03 (1.00-1.07) | grid   |
    /// | 256->256 28x28 | not taken   |      |                  | 1.05 (1.08-1.14) | packed |
    /// | 512->512 14x14 | not taken   |      |                  | 1.07 (1.08-1.12) | packed |
    ///
    /// So ResNet-50's three strided 3x3 layers keep the gathering path: on this CPU the
    /// old stride-2 packing is already one vector gather per packed row
    /// (`packRowsGatherStride2F32`), and the split costs more than the padded copy it
    /// replaces (perf samples: the split 10% of the layer vs the padded copy's 6-7%; for
    /// 128->128 56x56 the grid GEMM 70% vs the packed GEMM + its packing 78%).
    static func splitsStridePhases(_ s: ConvShape, elementBytes: Int) -> Bool {
        guard elementBytes == 4 || elementBytes == 8, s.kernelTaps > 1, s.batch > 0, s.inChannels > 0,
              s.outWidth >= phaseMinOutputWidth, s.outChannelsPerGroup <= phaseMaxOutputChannels,
              s.inChannelsPerGroup >= phaseMinInputChannels,
              let phases = StridePhases(s),
              let count = try? Checked.product([s.batch, s.inChannels, phases.channelStride], "") else { return false }
        return count <= 2 * (s.inputCount + s.outputCount) + 65_536
    }

    static let phaseMinOutputWidth = 56
    static let phaseMaxOutputChannels = 32
    static let phaseMinInputChannels = 16
}
