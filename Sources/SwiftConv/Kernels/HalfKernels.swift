import SwiftConvKernelsAVX2

/// Kernels on float16 / bfloat16 activations (ConvPlan's `.halfKernel` step): the depthwise
/// tiles and the direct planes widened as they are filled and rounded as they are written
/// back, so the activations are never widened or narrowed by a separate pass over the whole
/// array. Each holds exactly the widened values and runs the float32 kernels on them, so
/// every result is bit for bit the float32 plan's result of the widened arrays, rounded once
/// to nearest even (what the widen / narrow steps give), for every thread count. The weights
/// and bias are small: the plan's widen step still widens them.
///
/// Measured (1 thread, N = 1, function calls, AVX-512 Xeon; half time / float32 time of the
/// same layer, the build before this step (widen / narrow passes) and this one loaded in one
/// process, calls interleaved, medians; the half results bitwise equal in both):
///
/// | layer                              | float16 before -> now | bfloat16 before -> now |
/// |------------------------------------|-----------------------|------------------------|
/// | dw 144ch 56x56 k3 (direct planes)  | 1.59 -> 1.12          | 1.61 -> 1.29           |
/// | dw 960ch 7x7 k3 (depthwise tiles)  | 1.14 -> 1.07          | 1.22 -> 1.16           |
/// | dw 672ch 14x14 k5 (depthwise tiles)| 1.22 -> 1.03          | 1.29 -> 1.14           |
///
/// What is left over float32 is the conversions themselves (now on L1-resident tiles) and,
/// for bfloat16, its integer rounding (no exact vector instruction: see Conversions.swift).
///
/// Then (this build against the one above, same method, thread CPU time, medians of 7
/// interleaved blocks; half / float32 of each build, old -> new): the conversions as 16-lane
/// zmm vectors, the tile copies through an L1 buffer (`halfCopies`), and conv_backward's
/// depthwise weight gradient on half tiles (x never widened whole):
///
/// | layer                  | fwd float16  | fwd bfloat16 | backward float16 | backward bfloat16 |
/// |------------------------|--------------|--------------|------------------|-------------------|
/// | dw 144ch 56x56 k3 (*)  | 1.15 -> 1.16 | 1.30 -> 1.24 | 1.57 -> 1.57     | 1.57 -> 1.58      |
/// | dw 960ch 7x7 k3        | 1.05 -> 1.08 | 1.15 -> 1.15 | 1.15 -> 1.09     | 1.18 -> 1.10      |
/// | dw 672ch 14x14 k5      | 1.05 -> 1.04 | 1.13 -> 1.10 | 1.26 -> 1.09     | 1.25 -> 1.12      |
///
/// (*) direct planes forward. The forward stays above float32: these layers' data sit in L2,
/// so half the bytes saves little, and the conversions are extra work (perf, dw 144ch
/// 56x56: the float32 plane kernel takes the same time; widening the input plane and
/// rounding the output plane are the 10-14% on top; converting inside the plane kernel
/// (DirectPlaneKernels) would remove that, not done here).
///
/// Then the backward of the direct-plane layers: grad_input of a stride-1 conv with one
/// output channel per group (`.directAdjoint`: the float32 plan's upsample formulation,
/// the direct planes on dy with the flipped kernel, dy widened and dx rounded per plane)
/// and the direct-plane weight gradient (`.directWeightGradient`: x and dy planes widened
/// per task), instead of whole-array widen / narrow passes. conv2d_backward of dw 144ch
/// 56x56 k3, half / float32 time (operator_bench's `timed`, 1 thread, the build before and
/// this one run alternately, two runs each; float16 (bfloat16)):
///
/// | output_mask                 | before                  | now                     |
/// |-----------------------------|-------------------------|-------------------------|
/// | grad_input                  | 1.61-1.70 (1.63-1.75)   | 1.13-1.15 (1.22-1.23)   |
/// | grad_weight                 | 1.62-1.74 (1.61-1.62)   | 1.14-1.15 (1.13-1.14)   |
/// | all three                   | 1.41-1.44 (1.41-1.44)   | 1.35-1.36 (1.35-1.36)   |
///
/// Then the bias gradient on the half grad_output (`.biasGradient`: rows widened piece by
/// piece into L1 scratch and summed by the float32 `ChannelSum`, so dy is never widened
/// whole), and narrow planes' rows widened and transposed straight into the tile
/// (`halfCopies`' interleaveRows, from 14 pixels wide). Half / float32 time, the build
/// before and this one in one process (ml_dtypes bfloat16), calls interleaved, thread CPU
/// time, medians of 15 blocks, two runs (before -> now; backward = all three gradients):
///
/// | layer                 | fwd float16        | fwd bfloat16       | bwd float16        | bwd bfloat16       |
/// |-----------------------|--------------------|--------------------|--------------------|--------------------|
/// | dw 144ch 56x56 k3     | 1.10-1.14 -> same  | 1.19-1.20 -> same  | 1.31 -> 1.12-1.15  | 1.31-1.32 -> 1.13  |
/// | dw 960ch 7x7 k3       | 1.04 -> 1.06-1.07  | 1.10 -> 1.12-1.13  | 1.09-1.11 -> same  | 1.11-1.14 -> same  |
/// | dw 672ch 14x14 k5     | 1.19-1.20 -> 1.04-1.05 | 1.31 -> 1.12-1.13 | 1.24-1.26 -> 1.08 | 1.30-1.33 -> 1.11-1.12 |
/// | dw 576ch 14x14 k3     | 1.22-1.23 -> 1.08  | 1.32-1.33 -> 1.15-1.17 | 1.31-1.35 -> 1.13-1.14 | 1.32-1.39 -> 1.17 |
/// | dw 1152ch 7x7 k5      | 1.10-1.11 -> same  | 1.15-1.16 -> same  | 1.09-1.12 -> 1.08 | 1.12-1.14 -> 1.11 |
///
/// ("same": the code path did not change; 960ch 7x7 forward read 0.01-0.03 higher in these
/// two runs and -0.01 to +0.01 in two others; 1152ch 7x7 forward -0.02 to +0.03.) What is
/// left above float32 on these L2-resident layers is the conversions themselves.
///
/// Then the array conversions' last few values as one more vector (Conversions.swift): the
/// tiles of planes 16 or more pixels wide widen each row by itself, and rows of 28 and 56
/// pixels left 12 and 8 values to the scalar loop. Forward, half / float32 time, N1, 1
/// thread, the build before and this one in alternating processes (9 interleaved blocks of
/// calls per process, thread CPU time, medians), two runs each, before -> now:
///
/// | layer                 | float16                  | bfloat16                 |
/// |-----------------------|--------------------------|--------------------------|
/// | dw 96ch 112x112 k3 s2 | 1.01-1.03 -> 0.995-0.998 | 1.09-1.11 -> 1.03         |
/// | dw 144ch 56x56 k5 s2  | 1.16-1.17 -> 1.06-1.13   | 1.22-1.23 -> 1.09-1.16   |
/// | dw 240ch 28x28 k5     | 0.94-1.00 -> 0.93-0.97   | 1.08-1.15 -> 1.01-1.05   |
/// | dw 384ch 28x28 k3     | 1.10-1.14 -> 1.06-1.08   | 1.24-1.33 -> 1.16-1.21   |
/// | dw 576ch 14x14 k3 (*) | 1.05-1.07 -> 1.03-1.04   | 1.14-1.15 -> 1.10-1.13   |
/// | dw 960ch 7x7 k3 (*)   | 1.03-1.04 -> same        | 1.10-1.14 -> same        |
///
/// (*) whole planes widened in one call (no tail): the same work, the difference is noise.
/// N8 (1 thread) moved within its run-to-run noise (+-5%).
///
/// Tried and not kept (same method): converting inside the tile copies' register
/// transposes (vcvtph2ps on the loads, vcvtps2ph / the bfloat16 rounding on the stores,
/// no L1 buffer): LLVM folds the conversions into the shuffles (objdump: 91 partial-width
/// vcvtph2ps and 152 vpermt2ps for one 16 x 16 float16 block, bfloat16 widening scalarised),
/// forward half / float32 1.1-1.8 where the buffered copies give 1.0-1.3; rounding only
/// on the stores (the widening buffered) 1.10-1.37 for float16 (buffered 1.01-1.17),
/// bfloat16 -0.06 to +0.09 from the buffered copies. Widening and rounding the direct planes band by band
/// in L1 (16 KB bands, not whole 112x112 planes through L2): no gain (32ch 112x112 k3
/// float16 1.38-1.42 -> 1.35-1.36, bfloat16 1.38-1.40 -> 1.43-1.44; 144ch 56x56 k3
/// float16 1.18-1.21 -> 1.20-1.23, bfloat16 1.24 -> 1.27-1.29).
/// What is left is the conversion instructions themselves.
///
/// Then the bfloat16 rounding 32 values at a time on AVX-512 (Conversions.swift,
/// `float32ToBfloat16`): perf cycles of that function, 1 thread, N1 forward, the build before
/// and this one: dw 384ch 28x28 k3 181M -> 144M (4000 calls), dw 144ch 56x56 k3 211M -> 156M
/// (3000 calls). Where the time goes (dw 384ch 28x28 k3, perf, float32 -> float16): the tile
/// transposes read and write the caller's arrays in float32 (38% of the time); in half they
/// run on the L1 buffer (21%) and the widening and rounding passes, which now do the memory
/// traffic, take another 20%, so half ends level with float32 rather than below it. Halving
/// the bytes would need the tile or the compute kernel itself to hold half values.
/// operator_bench --sections half --threads 1, old and new builds alternating, two runs each
/// (wall clock, machine load 6-10): bfloat16 minus float16 ratio on the five tile-route rows
/// 0.05-0.11 -> 0.02-0.09; the float32 ratios themselves moved within the runs' noise.
///
/// Then the tile copies with the half values in registers on AVX-512 (HalfDepthwiseKernels.swift:
/// 16 x 16 blocks transposed as 16-bit values, widened right before the float32 stores and
/// rounded right after the float32 loads; no conversion pass through the L1 buffer, except
/// whole float16 planes of up to 256 pixels). Half time / float32 time, the build before and
/// this one in one process (ml_dtypes bfloat16), calls interleaved, thread CPU time, medians
/// of 7 blocks, N1, 1 thread, load average 7-11 (backward = all three gradients), before -> now:
///
/// | layer                 | fwd float16   | fwd bfloat16  | bwd float16   | bwd bfloat16  |
/// |-----------------------|---------------|---------------|---------------|---------------|
/// | dw 144ch 56x56 k3     | 1.08 -> 1.02  | 1.15 -> 0.95  | 1.05 -> 1.05  | 1.04 -> 1.06  |
/// | dw 960ch 7x7 k3       | 1.03 -> 1.03  | 1.08 -> 1.05  | 1.08 -> 1.08  | 1.13 -> 1.08  |
/// | dw 672ch 14x14 k5     | 1.06 -> 1.07  | 1.09 -> 1.02  | 1.08 -> 1.07  | 1.10 -> 0.99  |
/// | dw 384ch 28x28 k3     | 0.99 -> 0.98  | 1.07 -> 0.93  | 1.10 -> 1.00  | 1.16 -> 0.96  |
/// | dw 96ch 112x112 k3 s2 | 1.05 -> 0.98  | 1.09 -> 0.89  | 1.01 -> 0.94  | 1.08 -> 0.94  |
/// | dw 32ch 112x112 k3    | 1.26 -> 1.25  | 1.27 -> 1.27  | 1.11 -> 1.09  | 1.11 -> 1.11  |
/// | dw 576ch 14x14 k3     | 1.01 -> 1.03  | 1.11 -> 1.02  | 1.10 -> 1.09  | 1.15 -> 1.03  |
/// | dw 1152ch 7x7 k5      | 1.07 -> 1.08  | 1.10 -> 1.09  | 1.07 -> 1.08  | 1.07 -> 1.07  |
/// | dw 240ch 28x28 k5     | 1.11 -> 1.07  | 1.15 -> 1.00  | 1.01 -> 0.97  | 1.03 -> 0.94  |
/// | dw 144ch 56x56 k5 s2  | 1.12 -> 1.02  | 1.14 -> 0.90  | 1.04 -> 1.03  | 1.08 -> 0.98  |
///
/// (32ch 112x112 k3 runs on direct planes: not this path. 144ch 56x56 k3 forward takes the
/// tiles; its backward the direct planes.) What stays above float32 is float16 on small planes
/// (7x7, 14x14: the whole-plane buffered copy, the transposes there are a smaller share) and
/// the direct-plane route.
///
/// Then the 3x3 stride-1 direct planes through a ring of widened rows (`directForward`,
/// DirectPlaneKernels.swift's `directPlaneHalf3x3`: rows widened into L1 one row ahead, output
/// rows rounded one row late, on AVX-512 zmm rows two at a time), also for `.directAdjoint`
/// and `.directBackward`'s grad_input; and the half forward on float32's kernel (ConvPlan:
/// the tiles rule for 96+ channels up to 64 wide is gone). operator_bench --sections half
/// --threads 1 (wall clock), the build before (dfdc050) and this one alternating, two runs
/// each, half / float32 time, forward (backward), before -> now:
///
/// | layer              | float16                         | bfloat16                        |
/// |--------------------|---------------------------------|---------------------------------|
/// | dw 32ch 112x112 k3 | 1.26-1.34 -> 0.81-0.95 (1.12-1.15 -> 1.01-1.02) | 1.26-1.34 -> 0.87-1.03 (1.13-1.16 -> 1.05) |
/// | dw 144ch 56x56 k3  | 1.02 -> 1.00-1.01 (1.04-1.05 -> 1.04) | 0.95-0.97 -> 1.08 (1.05 -> 1.09) |
///
/// The float32 3x3 direct planes got faster in the same change (their row body, `row3x3`,
/// now shared with the half kernel: 144ch 56x56 float32 319-320 us -> 266-268 us), so the
/// ratios understate the half gain there: half time itself, thread CPU time in one process
/// with the build before loaded too (medians of 9-15 interleaved blocks), this build / the
/// one before: 32ch 112x112 forward float16 0.57-0.75, bfloat16 0.62-0.83; N8 0.53-0.69 /
/// 0.60-0.78; backward (all three gradients) 0.86 / 0.89; 144ch 56x56 forward 0.84 / 0.94,
/// backward 0.94 / 0.98; every half result bitwise the build before's.
///
/// Then the float16 widening tile copies of 32 pixels or more, 32 pixels at a time with
/// one-uop shuffles only (HalfDepthwiseKernels.swift, `transposedWords32`; the word shuffles
/// before were two-uop vpermt2w). Half / float32 time, N1, 1 thread, the build before and
/// this one in one process, calls interleaved, thread CPU time, medians of 7-15 blocks, load
/// average 9-11 (bfloat16, whose code did not change, moved by -0.05 to +0.04 in the same
/// runs: the noise), float16 before -> now, two or three runs:
///
/// | layer              | forward                              | backward (all three)  |
/// |--------------------|--------------------------------------|-----------------------|
/// | dw 960ch 7x7 k3    | 1.04-1.06 -> 1.01-1.05               | 1.08-1.10 -> 1.04     |
/// | dw 1152ch 7x7 k5   | 1.10 -> 1.06                         |                       |
/// | dw 672ch 14x14 k5  | 1.01-1.04 -> 1.01-1.04               | 1.03 -> 1.00          |
/// | dw 576ch 14x14 k3  | 1.03-1.05 -> 1.05-1.07               | 1.08 -> 1.06          |
/// | dw 384ch 28x28 k3  | 0.92-0.95 -> 0.97-0.98               |                       |
/// | dw 96ch 112x112 s2 | 0.96 -> 0.86                         | 0.97 -> 0.93          |
/// | dw 144ch 56x56 k3  | 1.00 -> 0.98                         | 1.12 -> 1.11          |
///
/// Every half result bitwise the build before's. 7x7 planes and the wide stride-2 tiles
/// gain 2-10%, the backward (its weight gradient widens both x and dy tiles) 1-5%; 576ch
/// and 384ch forward read 0.02-0.05 higher, as bfloat16 did there by 0.03 (noise level).
public enum HalfKernel: String, Sendable {
    case depthwise = "depthwise", depthwiseAdjoint = "depthwise (gather adjoint)", direct = "direct planes"
    /// conv_backward's grad_weight from the half input and grad_output (float32 result).
    case depthwiseWeightGradient = "depthwise weight gradient"
    /// The stride-1 transposed conv with one output plane per input plane (conv_backward's
    /// grad_input of a depthwise conv on direct planes): the float32 plan's upsample
    /// formulation, the direct planes on dy with the flipped kernel (`runsDirectAdjoint`).
    case directAdjoint = "upsample: direct planes with the flipped kernel"
    /// conv_backward's grad_weight with one input plane per output plane, planes widened
    /// per task (float32 result; `runsDirectWeightGradient`).
    case directWeightGradient = "direct planes weight gradient"
    /// `directWeightGradient` that also sums each widened grad_output plane into grad_bias
    /// (float32 results; `directWeightGradient(db:)`): grad_output is widened once for both.
    case directWeightAndBiasGradient = "direct planes weight gradient and channel sums"
    /// conv_backward of a depthwise conv whose grad_input and grad_weight both run on direct
    /// planes (`runsDirectBackward`): one task per channel widens each x and dy plane once
    /// for grad_input (rounded per plane), grad_weight and, when asked, grad_bias
    /// (`directBackward`).
    case directBackward = "direct planes: grad_input (flipped kernel), weight gradient and channel sums from one widening"
    /// conv_backward's grad_bias: the channel sums of the half grad_output, widened piece
    /// by piece (float32 result; `biasGradient`).
    case biasGradient = "channel sums"

    /// The weight gradients: they read two half arrays and write a float32 one.
    var isWeightGradient: Bool {
        self == .depthwiseWeightGradient || self == .directWeightGradient || self == .directWeightAndBiasGradient
    }
    /// The steps that write a float32 result (narrowed with the plan's other results).
    var writesFloat32: Bool { isWeightGradient || self == .biasGradient }
    /// The transposed convs: they read grad_output (the result's shape is the input's).
    var isAdjoint: Bool { self == .depthwiseAdjoint || self == .directAdjoint }
    /// The conv_backward steps that write the half grad_input themselves.
    var writesHalfGradInput: Bool { isAdjoint || self == .directBackward }
}

enum HalfKernels {
    /// The largest input + output plane (float32 bytes) the direct kernel widens per task.
    static let maxPlaneBytes = 512 * 1024

    static func fitsPlanes(_ s: ConvShape) -> Bool { planeBytes(s).map { $0 <= maxPlaneBytes } ?? false }

    /// The float32 bytes of one input plane and one output plane of `s` (nil on overflow).
    private static func planeBytes(_ s: ConvShape) -> Int? {
        let (sum, o1) = s.inPixels.addingReportingOverflow(s.outPixels)
        let (bytes, o2) = sum.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        return o1 || o2 ? nil : bytes
    }

    /// The largest input + output plane (float32 bytes) for which `directBackward` computes
    /// grad_input from the dy plane it widened for the weight gradient (both planes stay in
    /// L1, 48 KB) instead of through `directPlaneHalf3x3`'s ring, which widens dy's rows a
    /// second time. Ring -> widened plane, conv2d_backward (all three gradients) half /
    /// float32 time, Zen5, 1 thread, the build before (ed61161) and this one in one process,
    /// calls interleaved, process CPU time, medians of 7 (N8: 5) blocks (/tmp/s11/half/ab.py),
    /// float16 (bfloat16): dw 144ch 56x56 k3 N1 1.18 -> 1.07 (1.24 -> 1.08), N8 0.64 -> 0.55
    /// (0.63 -> 0.56).
    ///
    /// Not kept: the forward (`directForward`) on whole widened planes by the same rule (two
    /// conversion calls per plane instead of two per row): dw 144ch 56x56 k3 N1 float16 1.18
    /// -> 1.17 (bfloat16 1.23 -> 1.16), N8 1.21 -> 1.28 (1.29 -> 1.26). Its remaining 17-25%
    /// was the conversion passes themselves (about 0.3-0.5 ns per 16 values, store-bound like
    /// a float32 copy); the 3x3 kernel now reads the half rows itself on AVX-512
    /// (DirectPlaneKernels.swift, `fusedHalfPlaneRows`: vcvtph2ps from memory costs about
    /// what a float32 load does on Zen5, C microbenchmark, 12 independent load + FMA chains,
    /// 0.70 against 0.66-0.67 ns per step).
    static let wholePlaneBytes = 32 * 1024

    /// Whether grad_input of `directBackward`'s equivalent conv `c` runs on the ring of
    /// widened rows (`directPlaneHalf3x3`): a 3x3 unit-stride plane larger than `wholePlaneBytes`.
    static func runsRing(_ s: ConvShape) -> Bool {
        SwiftConvKernelsAVX2.directPlaneHalf3x3Supports(DirectConvolution.planeGeometry(s)) && (planeBytes(s).map { $0 > wholePlaneBytes } ?? true)
    }

    /// Whether the transposed conv of `s` runs as `.directAdjoint`: stride 1 (dy is the
    /// upsample formulation's input as it is), one output channel per group (so one input
    /// plane per output plane of that conv), planes within `maxPlaneBytes`.
    static func runsDirectAdjoint(_ s: ConvShape) -> Bool {
        guard s.isPlanar && s.strideH == 1 && s.strideW == 1 && s.outChannelsPerGroup == 1 && s.inPixels > 0 && s.outPixels > 0,
              let c = UpsampleAdjoint.equivalentConvolution(s) else { return false }
        return c.isPlanar && c.inChannelsPerGroup == 1 && fitsPlanes(c)
    }

    /// Whether the weight gradient of `s` runs as `.directWeightGradient`: one input plane
    /// per output plane, planes within `maxPlaneBytes`.
    static func runsDirectWeightGradient(_ s: ConvShape) -> Bool {
        s.isPlanar && s.inChannelsPerGroup == 1 && fitsPlanes(s)
    }

    static func run(_ kernel: HalfKernel, _ s: ConvShape, dtype: ConvDType, src: UnsafePointer<UInt16>, w: UnsafePointer<Float>,
                    bias: UnsafePointer<Float>?, dst: UnsafeMutablePointer<UInt16>) throws {
        switch kernel {
        case .depthwise: DepthwiseConvolution.runHalf(s, adjoint: false, dtype: dtype, src: src, w: w, bias: bias, dst: dst)
        case .depthwiseAdjoint: DepthwiseConvolution.runHalf(s, adjoint: true, dtype: dtype, src: src, w: w, bias: bias, dst: dst)
        case .direct: directForward(s, dtype: dtype, x: src, w: w, bias: bias, y: dst)
        case .directAdjoint:
            // UpsampleAdjoint's direct formulation: the same flipped kernel, the same planes.
            guard let c = UpsampleAdjoint.equivalentConvolution(s) else {
                throw ConvError.invalidArgument("conv_transpose: internal error, a half direct adjoint for a shape it does not support")
            }
            let flipped = try Workspace<Float>(count: c.weightCount, for: "the flipped kernel")
            UpsampleAdjoint.flippedKernel(s, w: w, into: flipped.pointer)
            directForward(c, dtype: dtype, x: src, w: UnsafePointer(flipped.pointer), bias: bias, y: dst)
        case .depthwiseWeightGradient, .directWeightGradient, .directWeightAndBiasGradient:
            preconditionFailure("the weight gradient reads two arrays: weightGradient")
        case .biasGradient:
            preconditionFailure("the bias gradient writes float32: biasGradient")
        case .directBackward:
            preconditionFailure("every gradient at once: directBackward")
        }
    }

    /// Whether conv_backward of `s` runs as `.directBackward`: a depthwise conv (one input
    /// and one output channel per group) whose grad_input runs `.directAdjoint` and whose
    /// weight gradient runs `.directWeightGradient`.
    static func runsDirectBackward(_ s: ConvShape) -> Bool {
        s.inChannelsPerGroup == 1 && s.outChannelsPerGroup == 1 && runsDirectAdjoint(s) && runsDirectWeightGradient(s)
    }

    /// dx (half), dw and db (float32, db when asked) of a `runsDirectBackward` conv: a task
    /// (one channel) widens each image's x and dy planes once into per-thread scratch, adds
    /// their window products into dw by the float32 plane kernel and dy into the channel's
    /// `ChannelSum` (images in order, as `directWeightGradient` and `biasGradient` do), and
    /// runs the plane kernel with the flipped kernel on dy into a float32 dx plane, rounded
    /// into dx (as `.directAdjoint` does): every value and order is the float32 plan's, so
    /// the same bits for every thread count, with dy widened once instead of three times.
    static func directBackward(_ s: ConvShape, dtype: ConvDType, x: UnsafePointer<UInt16>, dy: UnsafePointer<UInt16>,
                               w: UnsafePointer<Float>, dx: UnsafeMutablePointer<UInt16>, dw: UnsafeMutablePointer<Float>,
                               db: UnsafeMutablePointer<Float>?) throws {
        guard let c = UpsampleAdjoint.equivalentConvolution(s) else {
            throw ConvError.invalidArgument("conv_backward: internal error, a half direct backward for a shape it does not support")
        }
        let flipped = try Workspace<Float>(count: c.weightCount, for: "the flipped kernel")
        UpsampleAdjoint.flippedKernel(s, w: w, into: flipped.pointer)
        let flippedKernel = UnsafePointer(flipped.pointer)
        let table = KernelTable.active
        let widen = table.widening(dtype), narrow = table.narrowing(dtype)
        let taps = s.kernelTaps, adjointTaps = c.kernelTaps
        let gradientPlane = DirectConvolution.planeGeometry(s), adjointPlane = DirectConvolution.planeGeometry(c)
        let inCount = (s.inPixels + 15) & ~15, outCount = (s.outPixels + 15) & ~15
        // Two planes of scratch: dy, and the float32 dx plane, then (once rounded) x: the
        // working set of the separate steps (three planes overflowed L1 on 56x56 planes:
        // grad_input + grad_weight float16 / float32 1.16-1.17 -> 1.19-1.21). A 3x3 dx plane
        // runs `directPlaneHalf3x3` on the half dy instead (its rows widened again, into the
        // small ring after the two planes), as `.directAdjoint` does, unless the planes fit
        // `wholePlaneBytes`: then from the widened dy plane (`runsRing`).
        let rows = runsRing(c)
        let ringCount = rows ? SwiftConvKernelsAVX2.directPlaneHalf3x3RingCount(inWidth: c.inWidth, outWidth: c.outWidth) : 0
        let scratchCount = inCount + outCount + ringCount
        let scratchBytes = scratchCount * MemoryLayout<Float>.stride
        let rowKernel = table.directPlaneHalf3x3
        ThreadPool.shared.parallelFor(s.outChannels, work: s.macs) { co in
            let dwRow = dw + co * taps
            dwRow.update(repeating: 0, count: taps)
            let scratch = ThreadScratch.depthwise.buffer(bytes: scratchBytes).bindMemory(to: Float.self, capacity: scratchCount)
            let plane = scratch, dyp = scratch + inCount, ring = scratch + inCount + outCount
            var sum = ChannelSum<Float>()
            for n in 0..<s.batch {
                let xPlane = (n * s.inChannels + co) * s.inPixels, dyPlane = dy + (n * s.outChannels + co) * s.outPixels
                widen(dyPlane, dyp, s.outPixels)
                if db != nil { sum.add(UnsafePointer(dyp), count: s.outPixels) }
                if rows {
                    rowKernel(adjointPlane, dyPlane, flippedKernel + co * adjointTaps, dx + xPlane, 0, ring, widen, narrow,
                              dtype == .bfloat16)
                } else {
                    DirectConvolution.firstPlane(adjointPlane, UnsafePointer(dyp), flippedKernel + co * adjointTaps, plane, initial: 0)
                    narrow(UnsafePointer(plane), dx + xPlane, s.inPixels)
                }
                widen(x + xPlane, plane, s.inPixels)
                Float.directWeightGradientPlane(gradientPlane, UnsafePointer(plane), UnsafePointer(dyp), dwRow)
            }
            db?[co] = sum.total
        }
    }

    /// dw (float32) = the weight gradient of half x and dy (`kernel.isWeightGradient`), and
    /// db (float32) = the bias gradient for `.directWeightAndBiasGradient` (nil otherwise).
    static func weightGradient(_ kernel: HalfKernel, _ s: ConvShape, dtype: ConvDType, x: UnsafePointer<UInt16>,
                               dy: UnsafePointer<UInt16>, dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>?) {
        if kernel == .depthwiseWeightGradient {
            DepthwiseConvolution.weightGradientHalf(s, dtype: dtype, x: x, dy: dy, dw: dw)
        } else {
            directWeightGradient(s, dtype: dtype, x: x, dy: dy, dw: dw, db: kernel == .directWeightAndBiasGradient ? db : nil)
        }
    }

    /// Values of grad_output widened at a time by `biasGradient` (a multiple of 16, so
    /// `ChannelSum` sees each row split where its order allows; 16 KiB of float32, in L1).
    static let biasGradientPiece = 4096
    /// The most channels `biasGradient` sums side by side (their rows are contiguous in an
    /// image, so small planes are widened in one call per group, not one per row).
    static let biasGradientGroup = 64

    /// db (float32) = GemmWeightGradient.biasGradient of the widened half dy, without a
    /// float32 copy of dy: each task widens its rows into per-thread scratch (the rows of up
    /// to `biasGradientGroup` channels of an image at once when they fit in
    /// `biasGradientPiece`, else one row `biasGradientPiece` values at a time) and adds them
    /// to each channel's `ChannelSum`, images in order: the same values in the same order as
    /// the float32 channel sums, so the same bits, for every thread count.
    static func biasGradient(batch: Int, channels: Int, pixels: Int, dtype: ConvDType, dy: UnsafePointer<UInt16>,
                             db: UnsafeMutablePointer<Float>) {
        let widen = KernelTable.active.widening(dtype)
        let piece = biasGradientPiece, group = max(1, min(biasGradientGroup, piece / max(1, pixels)))
        let perTask = GemmWeightGradient.biasGradientChannelsPerTask(batch: batch, pixels: pixels)
        let tasks = (channels + perTask - 1) / perTask
        ThreadPool.shared.parallelFor(tasks, work: batch * channels * pixels) { task in
            let scratch = ThreadScratch.depthwise.buffer(bytes: piece * MemoryLayout<Float>.stride)
                .bindMemory(to: Float.self, capacity: piece)
            withUnsafeTemporaryAllocation(of: ChannelSum<Float>.self, capacity: group) { sums in
                var c = task * perTask
                let end = min(channels, (task + 1) * perTask)
                while c < end {
                    let g = min(group, end - c)
                    for j in 0..<g { sums[j] = ChannelSum() }
                    for n in 0..<batch {
                        let rows = dy + (n * channels + c) * pixels
                        if g * pixels <= piece {
                            widen(rows, scratch, g * pixels)
                            for j in 0..<g { sums[j].add(UnsafePointer(scratch + j * pixels), count: pixels) }
                        } else {
                            // One row (g == 1) longer than a piece: in pieces of a multiple of 16.
                            var p = 0
                            while p < pixels {
                                let count = min(piece, pixels - p)
                                widen(rows + p, scratch, count)
                                sums[0].add(UnsafePointer(scratch), count: count)
                                p += count
                            }
                        }
                    }
                    for j in 0..<g { db[c + j] = sums[j].total }
                    c += g
                }
            }
        }
    }

    /// DirectConvolution.weightGradient with one input plane per output plane: a task (one
    /// output channel) widens each image's x and dy planes into per-thread scratch and adds
    /// their window products by the float32 plane kernel, images in order: the same sums of
    /// the same values, so the same bits, without float32 copies of x and dy. With `db`, the
    /// task also adds each widened dy plane to its channel's `ChannelSum` (whole planes,
    /// images in order: GemmWeightGradient.biasGradient's order, so its bits), which saves
    /// `biasGradient`'s second widening of dy.
    static func directWeightGradient(_ s: ConvShape, dtype: ConvDType, x: UnsafePointer<UInt16>, dy: UnsafePointer<UInt16>,
                                     dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>? = nil) {
        let table = KernelTable.active
        let widen = table.widening(dtype)
        let cog = s.outChannelsPerGroup, taps = s.kernelTaps
        let plane = DirectConvolution.planeGeometry(s)
        let inCount = (s.inPixels + 15) & ~15, scratchCount = inCount + s.outPixels
        let scratchBytes = scratchCount * MemoryLayout<Float>.stride
        ThreadPool.shared.parallelFor(s.outChannels, work: s.macs) { co in
            let g = co / cog, dwRow = dw + co * taps
            dwRow.update(repeating: 0, count: taps)
            let scratch = ThreadScratch.depthwise.buffer(bytes: scratchBytes).bindMemory(to: Float.self, capacity: scratchCount)
            let xp = scratch, dyp = scratch + inCount
            var sum = ChannelSum<Float>()
            for n in 0..<s.batch {
                widen(x + (n * s.inChannels + g) * s.inPixels, xp, s.inPixels)
                widen(dy + (n * s.outChannels + co) * s.outPixels, dyp, s.outPixels)
                Float.directWeightGradientPlane(plane, UnsafePointer(xp), UnsafePointer(dyp), dwRow)
                if db != nil { sum.add(UnsafePointer(dyp), count: s.outPixels) }
            }
            db?[co] = sum.total
        }
    }

    /// DirectConvolution.forward with one input plane per output plane. A 3x3 unit-stride
    /// plane (`directPlaneHalf3x3Supports`) runs the kernel table's `directPlaneHalf3x3`:
    /// input rows widened into a ring of three float32 rows in per-thread scratch, each output
    /// row rounded as soon as it is computed. Other planes: a task widens its input plane
    /// into per-thread scratch, runs the plane kernel into a float32 plane and rounds that
    /// into y. Both are the float32 plane kernel's values rounded once.
    ///
    /// Rows through the ring instead of whole planes (forward, half / float32 time, the
    /// build before and this one ...): see the table in DirectPlaneKernels.swift's
    /// `directPlaneHalf3x3`.
    static func directForward(_ s: ConvShape, dtype: ConvDType, x: UnsafePointer<UInt16>, w: UnsafePointer<Float>,
                              bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<UInt16>) {
        let table = KernelTable.active
        let widen = table.widening(dtype), narrow = table.narrowing(dtype)
        let cog = s.outChannelsPerGroup, taps = s.kernelTaps
        let plane = DirectConvolution.planeGeometry(s)
        if SwiftConvKernelsAVX2.directPlaneHalf3x3Supports(plane) {
            let ringCount = SwiftConvKernelsAVX2.directPlaneHalf3x3RingCount(inWidth: s.inWidth, outWidth: s.outWidth)
            let ringBytes = ringCount * MemoryLayout<Float>.stride
            let kernel = table.directPlaneHalf3x3
            ThreadPool.shared.parallelFor(s.batch * s.outChannels, work: s.macs) { index in
                let n = index / s.outChannels, co = index % s.outChannels, g = co / cog
                let ring = ThreadScratch.depthwise.buffer(bytes: ringBytes).bindMemory(to: Float.self, capacity: ringCount)
                kernel(plane, x + (n * s.inChannels + g) * s.inPixels, w + co * taps, y + index * s.outPixels, bias?[co] ?? 0,
                       ring, widen, narrow, dtype == .bfloat16)
            }
            return
        }
        let inCount = (s.inPixels + 15) & ~15, scratchCount = inCount + s.outPixels
        let scratchBytes = scratchCount * MemoryLayout<Float>.stride
        ThreadPool.shared.parallelFor(s.batch * s.outChannels, work: s.macs) { index in
            let n = index / s.outChannels, co = index % s.outChannels, g = co / cog
            let scratch = ThreadScratch.depthwise.buffer(bytes: scratchBytes).bindMemory(to: Float.self, capacity: scratchCount)
            let xp = scratch, yp = scratch + inCount
            widen(x + (n * s.inChannels + g) * s.inPixels, xp, s.inPixels)
            DirectConvolution.firstPlane(plane, UnsafePointer(xp), w + co * taps, yp, initial: bias?[co] ?? 0)
            narrow(UnsafePointer(yp), y + index * s.outPixels, s.outPixels)
        }
    }
}

extension DepthwiseConvolution {
    /// Forward (`adjoint` false: y = conv(x, w) + bias) or adjoint (dx = conv^T(dy, w) + bias)
    /// from the `dtype` source bit patterns to the `dtype` destination, float32 weights: the
    /// float32 driver with `halfCopies`.
    static func runHalf(_ s: ConvShape, adjoint: Bool, dtype: ConvDType, src: UnsafePointer<UInt16>,
                        w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, dst: UnsafeMutablePointer<UInt16>) {
        run(Tiling(s, adjoint: adjoint, elementBytes: MemoryLayout<Float>.stride), src: src, w: w, bias: bias, dst: dst,
            copies: halfCopies(dtype))
    }

    /// dw (float32) = the weight gradient of half x and dy, their tiles widened as they are
    /// filled: the float32 kernel's sums of the same values, so the same bits as widening the
    /// arrays first, without the float32 copies of x and dy.
    static func weightGradientHalf(_ s: ConvShape, dtype: ConvDType, x: UnsafePointer<UInt16>, dy: UnsafePointer<UInt16>,
                                   dw: UnsafeMutablePointer<Float>) {
        weightGradient(s, x: x, dy: dy, dw: dw, copies: halfCopies(dtype))
    }

    /// Floats of scratch the half copies take per task (the same in every kernel build).
    static let halfCopyBufferCount = SwiftConvKernelsAVX2.depthwiseHalfCopyBufferCount

    /// The tile copies of `dtype` planes: each value widened exactly as a tile is filled, and
    /// rounded to nearest even as a tile is written back (the kernel table's
    /// depthwiseInterleaveFloat16 / ...Bfloat16 and their inverses, HalfDepthwiseKernels.swift:
    /// in registers on AVX-512, else through the L1 buffer): a tile reads half the bytes a
    /// float32 tile reads, and no pass over a whole plane is made.
    ///
    /// Narrow planes' rows go straight into the tile rows (`interleaveRows`, widened in the
    /// L1 buffer first) from 14 pixels wide; on 7-wide rows that was slower than the staging
    /// copy. Forward half / float32 time, staging -> straight (AVX-512 Xeon, 1 thread, N1,
    /// one process, calls interleaved, thread CPU time, medians of 15 blocks, two runs):
    ///
    /// | layer              | float16                   | bfloat16                  |
    /// |--------------------|---------------------------|---------------------------|
    /// | dw 576ch 14x14 k3  | 1.27-1.32 -> 1.08-1.09    | 1.35-1.43 -> 1.17-1.19    |
    /// | dw 672ch 14x14 k5  | 1.19 -> 1.05              | 1.28 -> 1.09              |
    /// | dw 960ch 7x7 k3    | 1.04-1.05 -> 1.07-1.08    | 1.10-1.11 -> 1.09-1.14    |
    /// | dw 1152ch 7x7 k5   | 1.07-1.08 -> 1.10-1.11    | 1.12-1.14 -> 1.16-1.18    |
    static let halfInterleaveRowsMinWidth = 14

    static func halfCopies(_ dtype: ConvDType) -> PlaneCopies<UInt16, Float> {
        let table = KernelTable.active
        let widen = dtype == .bfloat16 ? table.depthwiseInterleaveBfloat16 : table.depthwiseInterleaveFloat16
        let narrow = dtype == .bfloat16 ? table.depthwiseDeinterleaveBfloat16 : table.depthwiseDeinterleaveFloat16
        let intoRows = dtype == .bfloat16 ? table.depthwiseInterleaveRowsBfloat16 : table.depthwiseInterleaveRowsFloat16
        return PlaneCopies(bufferCount: halfCopyBufferCount,
                           interleave: { widen($0, $1, $2, $3, $4, $5) }, deinterleave: { narrow($0, $1, $2, $3, $4, $5) },
                           interleaveRows: { intoRows($0, $1, $2, $3, $4, $5, $6, $7) },
                           interleaveRowsMinWidth: halfInterleaveRowsMinWidth)
    }
}
