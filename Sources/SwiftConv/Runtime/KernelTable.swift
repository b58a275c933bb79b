#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CSwiftConv
import SwiftConvKernelsAVX512
import SwiftConvKernelsAVX2
import SwiftConvKernelsBaseline

/// Everything that depends on the CPU tier, in one place: the entry points of one build of
/// the SIMD kernels (SwiftConvKernelsAVX512 / AVX2 / Baseline: GEMM micro-kernels, packing
/// loops, direct plane kernels, depthwise kernels, few-column kernels, float16 / bfloat16 conversions) and the GEMM's blocking for them. One table per tier
/// (`avx512`, `avx2`, `baseline`); the engine runs `KernelTable.active`, chosen once, at
/// first use, and never looks at the tier anywhere else. Every tier gives the same bits
/// (the fused tiers: one fused multiply-add per element in the same order; packing moves
/// values only), except that the baseline build's multiply-adds are unfused.
///
/// Choosing a tier: the best this CPU can run (`CPUFeatures.bestTier`), unless the
/// environment variable SWIFTCONV_KERNEL_TIER names one (`avx512`, `avx2` or `baseline`),
/// read once with getenv when the table is first used: a tier above what this CPU can run is
/// clamped to the best it can; an unknown value is ignored. E.g. SWIFTCONV_KERNEL_TIER=avx2
/// times the AVX2 kernels on an AVX-512 machine.
///
/// The entry points are held as C function pointers (`@convention(c)`: plain pointers, so a
/// call through the table costs no reference counting, unlike a Swift closure's context).
struct KernelTable {
    /// The build these entry points belong to.
    let tier: KernelTier

    // MARK: Packed formats (the same for every tier)

    /// Rows of a packed A panel: A(i, p) at `p * mr + i` (GemmOperands.swift). Every build's
    /// micro-kernels and packers read this format (the AVX-512 kernels take two panels at a
    /// time), and packed weights (`PackedMatrix`) outlive a change of table, so it is not a
    /// per-tier choice.
    static let mr = 6
    /// Columns of a packed B panel: 64 bytes, 16 Floats or 8 Doubles (the 64-byte packing
    /// loops and the micro-kernels of every build read one panel row as one 64-byte vector).
    static let nrFloat = 16
    static let nrDouble = 8

    @inline(__always) static func nr<T: ConvScalar>(_: T.Type) -> Int {
        switch T.kind {
        case .float32: return nrFloat
        case .float64: return nrDouble
        }
    }

    // MARK: GEMM blocking

    /// The cache blocks of `Gemm.multiply` for this tier's micro-kernels.
    struct Blocking {
        /// Depth per block, at most (equal blocks of at most this): a 6 x kc A panel plus a
        /// kc x 16 (8) B panel fit in L1.
        let kcFloat: Int
        let kcDouble: Int
        /// Depth per block, at most, when B is read in place (`sgemmBlockRowMajorB`, a
        /// pointwise conv's input): B's rows are an image row apart, a stride that maps them
        /// to a fraction of L1's sets, so a panel pair of kc x 32 Floats stays in L1 only
        /// when shorter than the kc of packed panels. Measured (one thread, forward GFLOP/s,
        /// two interleaved rounds, kc 320 -> 160; packed B in brackets): 256->64 56x56
        /// 105 -> 113 (118), 512->128 28x28 127 -> 138 (134), 256->128 56x56 132 -> 134
        /// (129), 128->256 28x28 154 -> 159 (149); with depth <= 160 nothing changes
        /// (64->64 56x56 140, packed 119). Then new / old time, median of 5 interleaved
        /// runs: 256->64 56x56 0.93, 512->128 28x28 0.93; unchanged layers 0.99-1.05 (noise).
        /// Re-measured with the next-panel prefetch (`sgemmBlockRowMajorB`; from Python, time
        /// over kc 160, median of 5 interleaved rounds) for kc 192 / 256 / 320: N8 256->64
        /// 56x56 1.02 / 1.09 / 1.13, N8 512->128 28x28 1.05 / 1.06 / 1.09, N1 256->64 56x56
        /// 1.00 / 1.06 / 1.06, N1 512->128 28x28 1.00 / 0.99 / 0.99: 160 stays.
        let kcRowMajorB: Int
        /// Rows per block (general case): an mc x kc block of packed A stays in L2.
        let mc: Int
        /// Bytes of packed B per block in the general case (kc x nc, in L2), at most, when A
        /// is packed ahead (read in place).
        let ncBytes: Int
        /// The same when the GEMM packs A itself: every block of columns packs all of A
        /// again, so the block is as wide as a convolution's column tile (B is then read
        /// from L2 or L3 once per mc rows, a panel at a time into L1; the mc x kc block of A,
        /// re-read for every panel, stays in L2).
        let ncBytesPackingA: Int
        /// Packed A up to this size takes the small-A path (A in L2, one B panel at a time).
        let smallABytes: Int
        /// Bytes of packed B per block on the small-A path (kc x nc, in L2).
        let smallBBytes: Int
        /// Elements of the edge-tile scratch the block functions need (6 x 16 Floats; 6 x 8
        /// Doubles use half).
        let edgeTileElements: Int

        @inline(__always) func kc<T: ConvScalar>(_: T.Type) -> Int {
            switch T.kind {
            case .float32: return kcFloat
            case .float64: return kcDouble
            }
        }

        /// What every tier uses today: the AVX-512 kernels read the same 6-row panels (two at
        /// a time) and 64-byte B panels (two at a time: 12 x 32 tiles) as the AVX2 ones, from
        /// the same caches. Measured for the 12 x 32 tiles (GemmTests.testDenseLayersBenchmark,
        /// the network bench's dense layers, one thread, interleaved): kcFloat 256 and
        /// smallABytes 1 MB were within the noise of these values (+-5% on this shared
        /// machine), so there is no AVX-512 blocking of its own. ncBytesPackingA (was
        /// ncBytes, 192-224 columns: a 784-column conv packed its weights five times, a
        /// 196-column one twice), with `Im2colConvolution.bigWeightsColumnTile`, measured
        /// one thread, new / old time, median of 5 interleaved runs (2-vCPU Xeon, AVX-512):
        /// U-Net 1024->512 14x14 k3 forward 0.90, 512->256 28x28 forward 0.94 / grad_input
        /// 0.88, 256->256 28x28 0.94 / 0.88, ResNet-50 N8 512->512 7x7 k3 0.96 / 0.90, N8
        /// 2048->512 7x7 k1 0.97 / 0.96; layers whose blocks did not change 0.99-1.03 (noise).
        /// kcFloat 192 (a 12 x 32 tile's B panel pair plus its A panels in a 48 KB L1; in the
        /// kernel probe's block functions, GFLOP/s kc 192 / kc 288: 256 x 208 1.15-1.21,
        /// 128 x 448 1.03-1.07, 64 x 448 0.89-0.97) measured no faster on whole
        /// networks: benchmarks/thread_bench.py, one thread, CPU clock, 7 interleaved passes,
        /// new / old total: ResNet-50 N1 1.02, N8 1.01, U-Net decoder N1 1.00, N8 1.00 (deep
        /// layers slower: 512->512 7x7 k3 1.05, 1024->2048 14x14 k1 s2 1.07), so kc stays.
        /// Re-measured on whole GEMMs (kernel_probe "layers": prepacked A, the general path's
        /// loops, thread CPU time, session 8; +-3% noise between identical code): kc 192 /
        /// 256 / 288 on a 66 x 784 x 2304 row block 169 / 167-172 / 172-175 GFLOP/s, on 512 x
        /// 392 x 4608 148 / 150 / 154; ncBytes wide enough for one block of columns (A read
        /// from L3 once, not per block) 0.95-1.02x as fast: 256 x 784 x 2304 nc 784 / 208
        /// 163.5 / 162.6, 512 x 392 x 4608 nc 400 / 208 151.5 / 154.6, 256 x 1568 x 2304 nc
        /// 784 / 224 154 / 161.5. So kc, mc and ncBytes stay.
        static let standard = Blocking(kcFloat: 320, kcDouble: 256, kcRowMajorB: 160, mc: 120, ncBytes: 256 * 1024, ncBytesPackingA: 1280 * 1024,
                                       smallABytes: 384 * 1024, smallBBytes: 512 * 1024,
                                       edgeTileElements: KernelTable.mr * KernelTable.nrFloat)
    }

    let blocking: Blocking

    // MARK: GEMM micro-kernels (MicroKernels.swift)

    /// One cache block: C(mc x nc) (+)= A(mc x kc) B(kc x nc) on packed panels. Arguments:
    /// mc, nc, kc, a, aPanelStride, b, bPanelStride, c, ldc, loadC, tile.
    let sgemmBlock: @convention(c) (Int, Int, Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int,
                                    UnsafeMutablePointer<Float>, Int, Bool, UnsafeMutablePointer<Float>) -> Void
    let dgemmBlock: @convention(c) (Int, Int, Int, UnsafePointer<Double>, Int, UnsafePointer<Double>, Int,
                                    UnsafeMutablePointer<Double>, Int, Bool, UnsafeMutablePointer<Double>) -> Void
    /// As `sgemmBlock` for full 16-column panels with B read in place from a row-major
    /// matrix (no packing of B). Arguments: mc, nc (a multiple of 16), kc, a, aPanelStride,
    /// b, ldb, c, ldc, loadC. nil: B is always packed (the tiers without it).
    let sgemmBlockRowMajorB: (@convention(c) (Int, Int, Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int,
                                              UnsafeMutablePointer<Float>, Int, Bool) -> Void)?
    /// The few-column product of the transposed conv with the columns as vector lanes
    /// (PixelVectorKernels.swift, `ScatterAdjoint.Route.pixelVectors`): col(r, j) (+)= sum over
    /// k of W(k, r) dy(k, j), W read in place. Arguments: vectors (1, 2, 4: 16 columns each),
    /// width, kc, w, ldw, dy (packed, 16 * vectors per k), c, loadC, prefetchAhead. nil on the
    /// tiers without zmm registers.
    let sgemmPixelVectors: (@convention(c) (Int, Int, Int, UnsafePointer<Float>, Int, UnsafePointer<Float>,
                                            UnsafeMutablePointer<Float>, Bool, Int) -> Void)?
    /// As `sgemmBlockRowMajorB` with B row k at `b + rowOffsets[k]` (OffsetRowKernels.swift:
    /// a stride-1 convolution's padded input read in place, `PaddedGridConvolution`).
    /// Arguments: mc, nc (a multiple of 16), kc, a, aPanelStride, b, rowOffsets, c, ldc,
    /// loadC. nil: the tiers without it (their convolutions pack B).
    let sgemmBlockOffsetRowsB: (@convention(c) (Int, Int, Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, UnsafePointer<Int>,
                                                UnsafeMutablePointer<Float>, Int, Bool) -> Void)?

    /// As `sgemmBlock` with A read in place, row-major (InPlaceWeightKernels.swift).
    /// Arguments: mc, nc, kc, a, lda, b, bPanelStride, ldb, bEdge (the packed partial last
    /// panel, when nc is not a multiple of the panel width), c, ldc, loadC.
    let sgemmBlockInPlaceA: @convention(c) (Int, Int, Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int, Int,
                                            UnsafePointer<Float>?, UnsafeMutablePointer<Float>, Int, Bool) -> Void
    let dgemmBlockInPlaceA: @convention(c) (Int, Int, Int, UnsafePointer<Double>, Int, UnsafePointer<Double>, Int, Int,
                                            UnsafePointer<Double>?, UnsafeMutablePointer<Double>, Int, Bool) -> Void

    // MARK: Packing loops (Packing.swift, TransposePacking.swift)

    /// (dst, base, offsets, count, elementShift)
    let packRowsGather64: @convention(c) (UnsafeMutableRawPointer, UnsafeRawPointer, UnsafePointer<Int>, Int, Int) -> Void
    /// (dst, base, offsets, count, odd)
    let packRowsGatherStride2F32: @convention(c) (UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafePointer<Int>, Int, Bool) -> Void
    let packRowsGatherStride2F64: @convention(c) (UnsafeMutablePointer<Double>, UnsafePointer<Double>, UnsafePointer<Int>, Int, Bool) -> Void
    /// (dst, dstStride bytes, src, srcStride bytes, count)
    let packRowsStrided64: @convention(c) (UnsafeMutableRawPointer, Int, UnsafeRawPointer, Int, Int) -> Void
    /// (dst, base, offsets, count, elementShift, segs, segCount, filledBytes)
    let packRowsSegments64: @convention(c) (UnsafeMutableRawPointer, UnsafeRawPointer, UnsafePointer<Int>, Int, Int,
                             UnsafePointer<Int>, Int, Int) -> Void
    /// (even, odd, src, count): a row's two column phases (StridePhaseSplit, PhaseSplitKernels.swift).
    let deinterleavePairsF32: @convention(c) (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void
    let deinterleavePairsF64: @convention(c) (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafePointer<Double>, Int) -> Void
    /// (dst, dstRowStride, a, b, srcRowStride, rows, lo, hi, lo1, hi1): ScatterAdjoint.col2im's
    /// stride-2 tap pairs over a block of rows (InterleavedAddKernels.swift).
    let addInterleavedTapRowsF32: @convention(c) (UnsafeMutablePointer<Float>, Int, UnsafePointer<Float>, UnsafePointer<Float>, Int,
                                                  Int, Int, Int, Int, Int) -> Void
    /// (dst, src, rowStride, count)
    let packA6F32: @convention(c) (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int, Int) -> Void
    let packA6F64: @convention(c) (UnsafeMutablePointer<Double>, UnsafePointer<Double>, Int, Int) -> Void
    /// (dst, src, srcStride, count)
    let transposeRows16F32: @convention(c) (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int, Int) -> Void
    let transposeRows8F64: @convention(c) (UnsafeMutablePointer<Double>, UnsafePointer<Double>, Int, Int) -> Void
    /// (dst, rows, count): the grad_weight packer's register transpose straight from 16 input
    /// rows (BatchedUnfoldedTransposed.packRowsDirect); nil: that packer goes through the
    /// scratch tile and `transposeRows16F32` instead.
    let transposePointers16F32: (@convention(c) (UnsafeMutablePointer<Float>, UnsafePointer<UnsafePointer<Float>>, Int) -> Void)?

    // MARK: Channel-blocked direct convolution (ChannelBlockedKernels.swift)

    /// One output row segment of the channel-blocked direct conv (`ChannelBlockedConvolution`):
    /// R pixels x 16-64 output channels per tile, summed over input blocks and taps in
    /// registers. Arguments: blocks (1-4), width, inBlocks, taps, tapCount, x, xBlockStride,
    /// pixelStride, w, bias, y, yBlockStride, accumulate, prefetch, prefetchEnd (lines to prefetch into L2
    /// meanwhile: the next pass's weights). nil on the tiers without zmm
    /// registers (their dense convolutions keep the im2col GEMM). Its store back to planes is
    /// `depthwiseDeinterleaveF32`.
    let sconvChannelBlockedRow: (@convention(c) (Int, Int, Int, UnsafePointer<Int>, Int, UnsafePointer<Float>, Int, Int,
                                                 UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Bool,
                                                 UnsafePointer<Float>, UnsafePointer<Float>) -> Void)?

    // MARK: Direct plane kernels (DirectPlaneKernels.swift)

    /// (g, x, w, y, initial): y = initial + conv(x, w) for one plane pair.
    let directPlaneF32: @convention(c) (sc_plane_geometry, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Float) -> Void
    let directPlaneF64: @convention(c) (sc_plane_geometry, UnsafePointer<Double>, UnsafePointer<Double>, UnsafeMutablePointer<Double>, Double) -> Void
    /// (g, x, w, y): y += conv(x, w).
    let directAccumulatePlaneF32: @convention(c) (sc_plane_geometry, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    let directAccumulatePlaneF64: @convention(c) (sc_plane_geometry, UnsafePointer<Double>, UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void
    /// (g, x, w, y, initial, ring, widen, narrow, bfloat16): y = initial + conv(x, w) for one plane pair
    /// of half values with a 3x3 unit-stride kernel, rows widened into a ring as it goes.
    let directPlaneHalf3x3: @convention(c) (sc_plane_geometry, UnsafePointer<UInt16>, UnsafePointer<Float>, UnsafeMutablePointer<UInt16>,
                                            Float, UnsafeMutablePointer<Float>,
                                            @convention(c) (UnsafePointer<UInt16>, UnsafeMutablePointer<Float>, Int) -> Void,
                                            @convention(c) (UnsafePointer<Float>, UnsafeMutablePointer<UInt16>, Int) -> Void, Bool) -> Void
    /// (g, x, dy, dw): dw += the weight gradient of one plane pair.
    let directWeightGradientPlaneF32: @convention(c) (sc_plane_geometry, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    let directWeightGradientPlaneF64: @convention(c) (sc_plane_geometry, UnsafePointer<Double>, UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void

    // MARK: Depthwise kernels (DepthwiseKernels.swift)

    /// (g, x, w, bias, y): y = bias + the depthwise conv of `g`'s rows on channel-interleaved
    /// pixels (16 Floats / 8 Doubles each; w taps x lanes).
    let depthwiseRowsF32: @convention(c) (sc_depthwise_rows, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    let depthwiseRowsF64: @convention(c) (sc_depthwise_rows, UnsafePointer<Double>, UnsafePointer<Double>, UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void
    /// (g, x, dy, dw): dw (taps x lanes) += the weight gradient of `g`'s rows.
    let depthwiseWeightGradientRowsF32: @convention(c) (sc_depthwise_rows, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    let depthwiseWeightGradientRowsF64: @convention(c) (sc_depthwise_rows, UnsafePointer<Double>, UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void
    /// (dst, src, srcStride, lanes, count): `lanes` plane rows into `count` interleaved pixels.
    let depthwiseInterleaveF32: @convention(c) (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int, Int, Int) -> Void
    let depthwiseInterleaveF64: @convention(c) (UnsafeMutablePointer<Double>, UnsafePointer<Double>, Int, Int, Int) -> Void
    /// (dst, rowStride, rowWidth, src, srcStride, lanes, count): `depthwiseInterleaveF32` with
    /// pixel u at dst + (u / rowWidth) * rowStride + (u % rowWidth) * 16 (rows of a tile).
    let depthwiseInterleaveRowsF32: @convention(c) (UnsafeMutablePointer<Float>, Int, Int, UnsafePointer<Float>, Int, Int, Int) -> Void
    /// (dst, dstStride, src, lanes, count): interleaved pixels back into `lanes` plane rows.
    let depthwiseDeinterleaveF32: @convention(c) (UnsafeMutablePointer<Float>, Int, UnsafePointer<Float>, Int, Int) -> Void
    let depthwiseDeinterleaveF64: @convention(c) (UnsafeMutablePointer<Double>, Int, UnsafePointer<Double>, Int, Int) -> Void
    /// (dst, src, srcStride, lanes, count, buffer): `depthwiseInterleaveF32` from float16 /
    /// bfloat16 plane rows, widened exactly on the way (buffer: `depthwiseHalfCopyBufferCount`
    /// floats of scratch).
    let depthwiseInterleaveFloat16: @convention(c) (UnsafeMutablePointer<Float>, UnsafePointer<UInt16>, Int, Int, Int, UnsafeMutablePointer<Float>) -> Void
    let depthwiseInterleaveBfloat16: @convention(c) (UnsafeMutablePointer<Float>, UnsafePointer<UInt16>, Int, Int, Int, UnsafeMutablePointer<Float>) -> Void
    /// (dst, rowStride, rowWidth, src, srcStride, lanes, count, buffer): `depthwiseInterleaveRowsF32`
    /// from float16 / bfloat16 plane rows, widened exactly on the way (buffer as above).
    let depthwiseInterleaveRowsFloat16: @convention(c) (UnsafeMutablePointer<Float>, Int, Int, UnsafePointer<UInt16>, Int, Int, Int, UnsafeMutablePointer<Float>) -> Void
    let depthwiseInterleaveRowsBfloat16: @convention(c) (UnsafeMutablePointer<Float>, Int, Int, UnsafePointer<UInt16>, Int, Int, Int, UnsafeMutablePointer<Float>) -> Void
    /// (dst, dstStride, src, lanes, count, buffer): `depthwiseDeinterleaveF32` into float16 /
    /// bfloat16 plane rows, rounded to nearest even on the way.
    let depthwiseDeinterleaveFloat16: @convention(c) (UnsafeMutablePointer<UInt16>, Int, UnsafePointer<Float>, Int, Int, UnsafeMutablePointer<Float>) -> Void
    let depthwiseDeinterleaveBfloat16: @convention(c) (UnsafeMutablePointer<UInt16>, Int, UnsafePointer<Float>, Int, Int, UnsafeMutablePointer<Float>) -> Void

    // MARK: Few-column kernels (FewColumnKernels.swift)

    /// (rows, cols, depth, w, ldw, x, ldx, bias, y, ldy): y[j * ldy + r] = bias[r] +
    /// dot(w row r, x column j), vectorised over the depth (its own fixed order).
    let dotRowsF32: @convention(c) (Int, Int, Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int,
                                    UnsafePointer<Float>?, UnsafeMutablePointer<Float>, Int) -> Void
    let dotRowsF64: @convention(c) (Int, Int, Int, UnsafePointer<Double>, Int, UnsafePointer<Double>, Int,
                                    UnsafePointer<Double>?, UnsafeMutablePointer<Double>, Int) -> Void
    /// (m, n, k, a, aRow, aDepth, b, ldb, initial, c, ldc): C = initial + A B, B row-major,
    /// in the GEMM's order (the same bits).
    let smallGemmF32: @convention(c) (Int, Int, Int, UnsafePointer<Float>, Int, Int, UnsafePointer<Float>, Int,
                                      UnsafePointer<Float>?, UnsafeMutablePointer<Float>, Int) -> Void
    let smallGemmF64: @convention(c) (Int, Int, Int, UnsafePointer<Double>, Int, Int, UnsafePointer<Double>, Int,
                                      UnsafePointer<Double>?, UnsafeMutablePointer<Double>, Int) -> Void

    // MARK: Half-precision conversions (Conversions.swift)

    /// (src, dst, count): float16 / bfloat16 bit patterns to float32, exactly.
    let float16ToFloat32: @convention(c) (UnsafePointer<UInt16>, UnsafeMutablePointer<Float>, Int) -> Void
    let bfloat16ToFloat32: @convention(c) (UnsafePointer<UInt16>, UnsafeMutablePointer<Float>, Int) -> Void
    /// (src, dst, count): float32 to float16 / bfloat16 bit patterns, rounded to nearest even.
    let float32ToFloat16: @convention(c) (UnsafePointer<Float>, UnsafeMutablePointer<UInt16>, Int) -> Void
    let float32ToBfloat16: @convention(c) (UnsafePointer<Float>, UnsafeMutablePointer<UInt16>, Int) -> Void
    /// (src, readable, stride, dst, count): src[i * stride] widened exactly, i < count, no
    /// element read at or past src[readable] (a strided 1x1 conv's sampled pixels).
    let float16ToFloat32Sampled: @convention(c) (UnsafePointer<UInt16>, Int, Int, UnsafeMutablePointer<Float>, Int) -> Void
    let bfloat16ToFloat32Sampled: @convention(c) (UnsafePointer<UInt16>, Int, Int, UnsafeMutablePointer<Float>, Int) -> Void
    /// (src, rowStride, rows, panels, dst): a row-major half matrix's first panels * 16
    /// columns widened exactly into the GEMM's packed 16-column B panels (rows * 16 apart).
    let float16ToFloat32Panels: @convention(c) (UnsafePointer<UInt16>, Int, Int, Int, UnsafeMutablePointer<Float>) -> Void
    let bfloat16ToFloat32Panels: @convention(c) (UnsafePointer<UInt16>, Int, Int, Int, UnsafeMutablePointer<Float>) -> Void

    /// How this build converts `dtype` (a half type) to float32 (`widening`) or back, for
    /// explain(); the build is named on the explanation's last line.
    func conversionText(_ dtype: ConvDType, widening: Bool) -> String {
        switch (dtype, tier) {
        case (.bfloat16, .avx512) where !widening:
            return "integer arithmetic on the bit pattern; the 3x3 direct planes use AVX512-BF16 vcvtne2ps2bf16 where the CPU has it, the same bits"
        case (.bfloat16, _): return widening ? "a 16-bit shift" : "integer arithmetic on the bit pattern"
        case (_, .baseline): return "bit operations: this build has no F16C"
        default: return widening ? "F16C vcvtph2ps" : "F16C vcvtps2ph"
        }
    }
}

// MARK: - The tables

extension KernelTable {
    /// x86-64-v4 (SwiftConvKernelsAVX512): 12 x 16 / 12 x 8 micro-kernels on zmm registers and
    /// the AVX-512 packing loops. The float32 / float64 direct plane kernels are the AVX2
    /// build's: compiled for x86-64-v4 they measured 1% slower (depthwise 144 ch 56x56). The
    /// half one (`directPlaneHalf3x3`) is this build's: zmm rows, two at a time.
    static let avx512 = KernelTable(
        tier: .avx512,
        blocking: .standard,
        sgemmBlock: SwiftConvKernelsAVX512.sgemmBlock(mc:nc:kc:a:aPanelStride:b:bPanelStride:c:ldc:loadC:tile:),
        dgemmBlock: SwiftConvKernelsAVX512.dgemmBlock(mc:nc:kc:a:aPanelStride:b:bPanelStride:c:ldc:loadC:tile:),
        sgemmBlockRowMajorB: SwiftConvKernelsAVX512.sgemmBlockRowMajorB(mc:nc:kc:a:aPanelStride:b:ldb:c:ldc:loadC:),
        sgemmPixelVectors: SwiftConvKernelsAVX512.sgemmPixelVectors(vectors:width:kc:w:ldw:dy:c:loadC:prefetchAhead:),
        sgemmBlockOffsetRowsB: SwiftConvKernelsAVX512.sgemmBlockOffsetRowsB(mc:nc:kc:a:aPanelStride:b:rowOffsets:c:ldc:loadC:),
        sgemmBlockInPlaceA: SwiftConvKernelsAVX512.sgemmBlockInPlaceA(mc:nc:kc:a:lda:b:bPanelStride:ldb:bEdge:c:ldc:loadC:),
        dgemmBlockInPlaceA: SwiftConvKernelsAVX512.dgemmBlockInPlaceA(mc:nc:kc:a:lda:b:bPanelStride:ldb:bEdge:c:ldc:loadC:),
        packRowsGather64: SwiftConvKernelsAVX512.packRowsGather64(_:_:_:count:elementShift:),
        packRowsGatherStride2F32: SwiftConvKernelsAVX512.packRowsGatherStride2F32(_:_:_:count:odd:),
        packRowsGatherStride2F64: SwiftConvKernelsAVX512.packRowsGatherStride2F64(_:_:_:count:odd:),
        packRowsStrided64: SwiftConvKernelsAVX512.packRowsStrided64(_:dstStride:_:srcStride:count:),
        packRowsSegments64: SwiftConvKernelsAVX512.packRowsSegments64(_:_:_:count:elementShift:_:segCount:filledBytes:),
        deinterleavePairsF32: SwiftConvKernelsAVX512.deinterleavePairsF32(_:_:_:count:),
        deinterleavePairsF64: SwiftConvKernelsAVX512.deinterleavePairsF64(_:_:_:count:),
        addInterleavedTapRowsF32: SwiftConvKernelsAVX512.addInterleavedTapRowsF32(_:dstRowStride:_:_:srcRowStride:rows:lo:hi:lo1:hi1:),
        packA6F32: SwiftConvKernelsAVX512.packA6F32(_:_:rowStride:count:),
        packA6F64: SwiftConvKernelsAVX512.packA6F64(_:_:rowStride:count:),
        transposeRows16F32: SwiftConvKernelsAVX512.transposeRows16F32(_:_:srcStride:count:),
        transposeRows8F64: SwiftConvKernelsAVX512.transposeRows8F64(_:_:srcStride:count:),
        transposePointers16F32: SwiftConvKernelsAVX512.transposePointers16F32(_:_:count:),
        sconvChannelBlockedRow: SwiftConvKernelsAVX512.sconvChannelBlockedRow(blocks:width:inBlocks:taps:tapCount:x:xBlockStride:pixelStride:w:bias:y:yBlockStride:accumulate:prefetch:prefetchEnd:),
        directPlaneF32: SwiftConvKernelsAVX2.directPlaneF32(_:_:_:_:initial:),
        directPlaneF64: SwiftConvKernelsAVX2.directPlaneF64(_:_:_:_:initial:),
        directAccumulatePlaneF32: SwiftConvKernelsAVX2.directAccumulatePlaneF32,
        directAccumulatePlaneF64: SwiftConvKernelsAVX2.directAccumulatePlaneF64,
        directPlaneHalf3x3: SwiftConvKernelsAVX512.directPlaneHalf3x3(_:_:_:_:initial:ring:widen:narrow:bfloat16:),
        directWeightGradientPlaneF32: SwiftConvKernelsAVX2.directWeightGradientPlaneF32,
        directWeightGradientPlaneF64: SwiftConvKernelsAVX2.directWeightGradientPlaneF64,
        depthwiseRowsF32: SwiftConvKernelsAVX512.depthwiseRowsF32,
        depthwiseRowsF64: SwiftConvKernelsAVX512.depthwiseRowsF64,
        depthwiseWeightGradientRowsF32: SwiftConvKernelsAVX512.depthwiseWeightGradientRowsF32,
        depthwiseWeightGradientRowsF64: SwiftConvKernelsAVX512.depthwiseWeightGradientRowsF64,
        depthwiseInterleaveF32: SwiftConvKernelsAVX512.depthwiseInterleaveF32(_:_:srcStride:lanes:count:),
        depthwiseInterleaveF64: SwiftConvKernelsAVX512.depthwiseInterleaveF64(_:_:srcStride:lanes:count:),
        depthwiseInterleaveRowsF32: SwiftConvKernelsAVX512.depthwiseInterleaveRowsF32(_:rowStride:rowWidth:_:srcStride:lanes:count:),
        depthwiseDeinterleaveF32: SwiftConvKernelsAVX512.depthwiseDeinterleaveF32(_:dstStride:_:lanes:count:),
        depthwiseDeinterleaveF64: SwiftConvKernelsAVX512.depthwiseDeinterleaveF64(_:dstStride:_:lanes:count:),
        depthwiseInterleaveFloat16: SwiftConvKernelsAVX512.depthwiseInterleaveFloat16(_:_:srcStride:lanes:count:buffer:),
        depthwiseInterleaveBfloat16: SwiftConvKernelsAVX512.depthwiseInterleaveBfloat16(_:_:srcStride:lanes:count:buffer:),
        depthwiseInterleaveRowsFloat16: SwiftConvKernelsAVX512.depthwiseInterleaveRowsFloat16(_:rowStride:rowWidth:_:srcStride:lanes:count:buffer:),
        depthwiseInterleaveRowsBfloat16: SwiftConvKernelsAVX512.depthwiseInterleaveRowsBfloat16(_:rowStride:rowWidth:_:srcStride:lanes:count:buffer:),
        depthwiseDeinterleaveFloat16: SwiftConvKernelsAVX512.depthwiseDeinterleaveFloat16(_:dstStride:_:lanes:count:buffer:),
        depthwiseDeinterleaveBfloat16: SwiftConvKernelsAVX512.depthwiseDeinterleaveBfloat16(_:dstStride:_:lanes:count:buffer:),
        dotRowsF32: SwiftConvKernelsAVX512.dotRowsF32(rows:cols:depth:w:ldw:x:ldx:bias:y:ldy:),
        dotRowsF64: SwiftConvKernelsAVX512.dotRowsF64(rows:cols:depth:w:ldw:x:ldx:bias:y:ldy:),
        smallGemmF32: SwiftConvKernelsAVX512.smallGemmF32(m:n:k:a:aRow:aDepth:b:ldb:initial:c:ldc:),
        smallGemmF64: SwiftConvKernelsAVX512.smallGemmF64(m:n:k:a:aRow:aDepth:b:ldb:initial:c:ldc:),
        float16ToFloat32: SwiftConvKernelsAVX512.float16ToFloat32(_:_:count:),
        bfloat16ToFloat32: SwiftConvKernelsAVX512.bfloat16ToFloat32(_:_:count:),
        float32ToFloat16: SwiftConvKernelsAVX512.float32ToFloat16(_:_:count:),
        float32ToBfloat16: SwiftConvKernelsAVX512.float32ToBfloat16(_:_:count:),
        float16ToFloat32Sampled: SwiftConvKernelsAVX512.float16ToFloat32Sampled(_:readable:stride:_:count:),
        bfloat16ToFloat32Sampled: SwiftConvKernelsAVX512.bfloat16ToFloat32Sampled(_:readable:stride:_:count:),
        float16ToFloat32Panels: SwiftConvKernelsAVX512.float16ToFloat32Panels(_:rowStride:rows:panels:_:),
        bfloat16ToFloat32Panels: SwiftConvKernelsAVX512.bfloat16ToFloat32Panels(_:rowStride:rows:panels:_:))

    /// x86-64-v3 (SwiftConvKernelsAVX2): AVX2 + FMA, 6 x 16 / 6 x 8 micro-kernels on ymm
    /// registers; every kernel from this build.
    static let avx2 = KernelTable(
        tier: .avx2,
        blocking: .standard,
        sgemmBlock: SwiftConvKernelsAVX2.sgemmBlock(mc:nc:kc:a:aPanelStride:b:bPanelStride:c:ldc:loadC:tile:),
        dgemmBlock: SwiftConvKernelsAVX2.dgemmBlock(mc:nc:kc:a:aPanelStride:b:bPanelStride:c:ldc:loadC:tile:),
        sgemmBlockRowMajorB: nil,
        sgemmPixelVectors: nil,
        sgemmBlockOffsetRowsB: nil,
        sgemmBlockInPlaceA: SwiftConvKernelsAVX2.sgemmBlockInPlaceA(mc:nc:kc:a:lda:b:bPanelStride:ldb:bEdge:c:ldc:loadC:),
        dgemmBlockInPlaceA: SwiftConvKernelsAVX2.dgemmBlockInPlaceA(mc:nc:kc:a:lda:b:bPanelStride:ldb:bEdge:c:ldc:loadC:),
        packRowsGather64: SwiftConvKernelsAVX2.packRowsGather64(_:_:_:count:elementShift:),
        packRowsGatherStride2F32: SwiftConvKernelsAVX2.packRowsGatherStride2F32(_:_:_:count:odd:),
        packRowsGatherStride2F64: SwiftConvKernelsAVX2.packRowsGatherStride2F64(_:_:_:count:odd:),
        packRowsStrided64: SwiftConvKernelsAVX2.packRowsStrided64(_:dstStride:_:srcStride:count:),
        packRowsSegments64: SwiftConvKernelsAVX2.packRowsSegments64(_:_:_:count:elementShift:_:segCount:filledBytes:),
        deinterleavePairsF32: SwiftConvKernelsAVX2.deinterleavePairsF32(_:_:_:count:),
        deinterleavePairsF64: SwiftConvKernelsAVX2.deinterleavePairsF64(_:_:_:count:),
        addInterleavedTapRowsF32: SwiftConvKernelsAVX2.addInterleavedTapRowsF32(_:dstRowStride:_:_:srcRowStride:rows:lo:hi:lo1:hi1:),
        packA6F32: SwiftConvKernelsAVX2.packA6F32(_:_:rowStride:count:),
        packA6F64: SwiftConvKernelsAVX2.packA6F64(_:_:rowStride:count:),
        transposeRows16F32: SwiftConvKernelsAVX2.transposeRows16F32(_:_:srcStride:count:),
        transposeRows8F64: SwiftConvKernelsAVX2.transposeRows8F64(_:_:srcStride:count:),
        transposePointers16F32: SwiftConvKernelsAVX2.transposePointers16F32(_:_:count:),
        sconvChannelBlockedRow: nil,
        directPlaneF32: SwiftConvKernelsAVX2.directPlaneF32(_:_:_:_:initial:),
        directPlaneF64: SwiftConvKernelsAVX2.directPlaneF64(_:_:_:_:initial:),
        directAccumulatePlaneF32: SwiftConvKernelsAVX2.directAccumulatePlaneF32,
        directAccumulatePlaneF64: SwiftConvKernelsAVX2.directAccumulatePlaneF64,
        directPlaneHalf3x3: SwiftConvKernelsAVX2.directPlaneHalf3x3(_:_:_:_:initial:ring:widen:narrow:bfloat16:),
        directWeightGradientPlaneF32: SwiftConvKernelsAVX2.directWeightGradientPlaneF32,
        directWeightGradientPlaneF64: SwiftConvKernelsAVX2.directWeightGradientPlaneF64,
        depthwiseRowsF32: SwiftConvKernelsAVX2.depthwiseRowsF32,
        depthwiseRowsF64: SwiftConvKernelsAVX2.depthwiseRowsF64,
        depthwiseWeightGradientRowsF32: SwiftConvKernelsAVX2.depthwiseWeightGradientRowsF32,
        depthwiseWeightGradientRowsF64: SwiftConvKernelsAVX2.depthwiseWeightGradientRowsF64,
        depthwiseInterleaveF32: SwiftConvKernelsAVX2.depthwiseInterleaveF32(_:_:srcStride:lanes:count:),
        depthwiseInterleaveF64: SwiftConvKernelsAVX2.depthwiseInterleaveF64(_:_:srcStride:lanes:count:),
        depthwiseInterleaveRowsF32: SwiftConvKernelsAVX2.depthwiseInterleaveRowsF32(_:rowStride:rowWidth:_:srcStride:lanes:count:),
        depthwiseDeinterleaveF32: SwiftConvKernelsAVX2.depthwiseDeinterleaveF32(_:dstStride:_:lanes:count:),
        depthwiseDeinterleaveF64: SwiftConvKernelsAVX2.depthwiseDeinterleaveF64(_:dstStride:_:lanes:count:),
        depthwiseInterleaveFloat16: SwiftConvKernelsAVX2.depthwiseInterleaveFloat16(_:_:srcStride:lanes:count:buffer:),
        depthwiseInterleaveBfloat16: SwiftConvKernelsAVX2.depthwiseInterleaveBfloat16(_:_:srcStride:lanes:count:buffer:),
        depthwiseInterleaveRowsFloat16: SwiftConvKernelsAVX2.depthwiseInterleaveRowsFloat16(_:rowStride:rowWidth:_:srcStride:lanes:count:buffer:),
        depthwiseInterleaveRowsBfloat16: SwiftConvKernelsAVX2.depthwiseInterleaveRowsBfloat16(_:rowStride:rowWidth:_:srcStride:lanes:count:buffer:),
        depthwiseDeinterleaveFloat16: SwiftConvKernelsAVX2.depthwiseDeinterleaveFloat16(_:dstStride:_:lanes:count:buffer:),
        depthwiseDeinterleaveBfloat16: SwiftConvKernelsAVX2.depthwiseDeinterleaveBfloat16(_:dstStride:_:lanes:count:buffer:),
        dotRowsF32: SwiftConvKernelsAVX2.dotRowsF32(rows:cols:depth:w:ldw:x:ldx:bias:y:ldy:),
        dotRowsF64: SwiftConvKernelsAVX2.dotRowsF64(rows:cols:depth:w:ldw:x:ldx:bias:y:ldy:),
        smallGemmF32: SwiftConvKernelsAVX2.smallGemmF32(m:n:k:a:aRow:aDepth:b:ldb:initial:c:ldc:),
        smallGemmF64: SwiftConvKernelsAVX2.smallGemmF64(m:n:k:a:aRow:aDepth:b:ldb:initial:c:ldc:),
        float16ToFloat32: SwiftConvKernelsAVX2.float16ToFloat32(_:_:count:),
        bfloat16ToFloat32: SwiftConvKernelsAVX2.bfloat16ToFloat32(_:_:count:),
        float32ToFloat16: SwiftConvKernelsAVX2.float32ToFloat16(_:_:count:),
        float32ToBfloat16: SwiftConvKernelsAVX2.float32ToBfloat16(_:_:count:),
        float16ToFloat32Sampled: SwiftConvKernelsAVX2.float16ToFloat32Sampled(_:readable:stride:_:count:),
        bfloat16ToFloat32Sampled: SwiftConvKernelsAVX2.bfloat16ToFloat32Sampled(_:readable:stride:_:count:),
        float16ToFloat32Panels: SwiftConvKernelsAVX2.float16ToFloat32Panels(_:rowStride:rows:panels:_:),
        bfloat16ToFloat32Panels: SwiftConvKernelsAVX2.bfloat16ToFloat32Panels(_:rowStride:rows:panels:_:))

    /// Any CPU (SwiftConvKernelsBaseline: SSE2 on x86-64, unfused multiply-add). The
    /// grad_weight packer takes the scratch-tile path here (no `transposePointers16F32`), as
    /// it has since that register transpose was written for the AVX2 / AVX-512 builds.
    static let baseline = KernelTable(
        tier: .baseline,
        blocking: .standard,
        sgemmBlock: SwiftConvKernelsBaseline.sgemmBlock(mc:nc:kc:a:aPanelStride:b:bPanelStride:c:ldc:loadC:tile:),
        dgemmBlock: SwiftConvKernelsBaseline.dgemmBlock(mc:nc:kc:a:aPanelStride:b:bPanelStride:c:ldc:loadC:tile:),
        sgemmBlockRowMajorB: nil,
        sgemmPixelVectors: nil,
        sgemmBlockOffsetRowsB: nil,
        sgemmBlockInPlaceA: SwiftConvKernelsBaseline.sgemmBlockInPlaceA(mc:nc:kc:a:lda:b:bPanelStride:ldb:bEdge:c:ldc:loadC:),
        dgemmBlockInPlaceA: SwiftConvKernelsBaseline.dgemmBlockInPlaceA(mc:nc:kc:a:lda:b:bPanelStride:ldb:bEdge:c:ldc:loadC:),
        packRowsGather64: SwiftConvKernelsBaseline.packRowsGather64(_:_:_:count:elementShift:),
        packRowsGatherStride2F32: SwiftConvKernelsBaseline.packRowsGatherStride2F32(_:_:_:count:odd:),
        packRowsGatherStride2F64: SwiftConvKernelsBaseline.packRowsGatherStride2F64(_:_:_:count:odd:),
        packRowsStrided64: SwiftConvKernelsBaseline.packRowsStrided64(_:dstStride:_:srcStride:count:),
        packRowsSegments64: SwiftConvKernelsBaseline.packRowsSegments64(_:_:_:count:elementShift:_:segCount:filledBytes:),
        deinterleavePairsF32: SwiftConvKernelsBaseline.deinterleavePairsF32(_:_:_:count:),
        deinterleavePairsF64: SwiftConvKernelsBaseline.deinterleavePairsF64(_:_:_:count:),
        addInterleavedTapRowsF32: SwiftConvKernelsBaseline.addInterleavedTapRowsF32(_:dstRowStride:_:_:srcRowStride:rows:lo:hi:lo1:hi1:),
        packA6F32: SwiftConvKernelsBaseline.packA6F32(_:_:rowStride:count:),
        packA6F64: SwiftConvKernelsBaseline.packA6F64(_:_:rowStride:count:),
        transposeRows16F32: SwiftConvKernelsBaseline.transposeRows16F32(_:_:srcStride:count:),
        transposeRows8F64: SwiftConvKernelsBaseline.transposeRows8F64(_:_:srcStride:count:),
        transposePointers16F32: nil,
        sconvChannelBlockedRow: nil,
        directPlaneF32: SwiftConvKernelsBaseline.directPlaneF32(_:_:_:_:initial:),
        directPlaneF64: SwiftConvKernelsBaseline.directPlaneF64(_:_:_:_:initial:),
        directAccumulatePlaneF32: SwiftConvKernelsBaseline.directAccumulatePlaneF32,
        directAccumulatePlaneF64: SwiftConvKernelsBaseline.directAccumulatePlaneF64,
        directPlaneHalf3x3: SwiftConvKernelsBaseline.directPlaneHalf3x3(_:_:_:_:initial:ring:widen:narrow:bfloat16:),
        directWeightGradientPlaneF32: SwiftConvKernelsBaseline.directWeightGradientPlaneF32,
        directWeightGradientPlaneF64: SwiftConvKernelsBaseline.directWeightGradientPlaneF64,
        depthwiseRowsF32: SwiftConvKernelsBaseline.depthwiseRowsF32,
        depthwiseRowsF64: SwiftConvKernelsBaseline.depthwiseRowsF64,
        depthwiseWeightGradientRowsF32: SwiftConvKernelsBaseline.depthwiseWeightGradientRowsF32,
        depthwiseWeightGradientRowsF64: SwiftConvKernelsBaseline.depthwiseWeightGradientRowsF64,
        depthwiseInterleaveF32: SwiftConvKernelsBaseline.depthwiseInterleaveF32(_:_:srcStride:lanes:count:),
        depthwiseInterleaveF64: SwiftConvKernelsBaseline.depthwiseInterleaveF64(_:_:srcStride:lanes:count:),
        depthwiseInterleaveRowsF32: SwiftConvKernelsBaseline.depthwiseInterleaveRowsF32(_:rowStride:rowWidth:_:srcStride:lanes:count:),
        depthwiseDeinterleaveF32: SwiftConvKernelsBaseline.depthwiseDeinterleaveF32(_:dstStride:_:lanes:count:),
        depthwiseDeinterleaveF64: SwiftConvKernelsBaseline.depthwiseDeinterleaveF64(_:dstStride:_:lanes:count:),
        depthwiseInterleaveFloat16: SwiftConvKernelsBaseline.depthwiseInterleaveFloat16(_:_:srcStride:lanes:count:buffer:),
        depthwiseInterleaveBfloat16: SwiftConvKernelsBaseline.depthwiseInterleaveBfloat16(_:_:srcStride:lanes:count:buffer:),
        depthwiseInterleaveRowsFloat16: SwiftConvKernelsBaseline.depthwiseInterleaveRowsFloat16(_:rowStride:rowWidth:_:srcStride:lanes:count:buffer:),
        depthwiseInterleaveRowsBfloat16: SwiftConvKernelsBaseline.depthwiseInterleaveRowsBfloat16(_:rowStride:rowWidth:_:srcStride:lanes:count:buffer:),
        depthwiseDeinterleaveFloat16: SwiftConvKernelsBaseline.depthwiseDeinterleaveFloat16(_:dstStride:_:lanes:count:buffer:),
        depthwiseDeinterleaveBfloat16: SwiftConvKernelsBaseline.depthwiseDeinterleaveBfloat16(_:dstStride:_:lanes:count:buffer:),
        dotRowsF32: SwiftConvKernelsBaseline.dotRowsF32(rows:cols:depth:w:ldw:x:ldx:bias:y:ldy:),
        dotRowsF64: SwiftConvKernelsBaseline.dotRowsF64(rows:cols:depth:w:ldw:x:ldx:bias:y:ldy:),
        smallGemmF32: SwiftConvKernelsBaseline.smallGemmF32(m:n:k:a:aRow:aDepth:b:ldb:initial:c:ldc:),
        smallGemmF64: SwiftConvKernelsBaseline.smallGemmF64(m:n:k:a:aRow:aDepth:b:ldb:initial:c:ldc:),
        float16ToFloat32: SwiftConvKernelsBaseline.float16ToFloat32(_:_:count:),
        bfloat16ToFloat32: SwiftConvKernelsBaseline.bfloat16ToFloat32(_:_:count:),
        float32ToFloat16: SwiftConvKernelsBaseline.float32ToFloat16(_:_:count:),
        float32ToBfloat16: SwiftConvKernelsBaseline.float32ToBfloat16(_:_:count:),
        float16ToFloat32Sampled: SwiftConvKernelsBaseline.float16ToFloat32Sampled(_:readable:stride:_:count:),
        bfloat16ToFloat32Sampled: SwiftConvKernelsBaseline.bfloat16ToFloat32Sampled(_:readable:stride:_:count:),
        float16ToFloat32Panels: SwiftConvKernelsBaseline.float16ToFloat32Panels(_:rowStride:rows:panels:_:),
        bfloat16ToFloat32Panels: SwiftConvKernelsBaseline.bfloat16ToFloat32Panels(_:rowStride:rows:panels:_:))

    /// The table of `tier` (its kernels must only run on a CPU that supports it).
    init(_ tier: KernelTier) {
        switch tier {
        case .avx512: self = .avx512
        case .avx2: self = .avx2
        case .baseline: self = .baseline
        }
    }
}

// MARK: - The active table

extension KernelTable {
    /// The tier chosen at load: `requestedTier(_:best:)` of SWIFTCONV_KERNEL_TIER and this CPU.
    static let selectedTier: KernelTier = {
        let value = getenv("SWIFTCONV_KERNEL_TIER").map { String(cString: $0) }
        return requestedTier(value, best: CPUFeatures.bestTier)
    }()

    /// The table every kernel runs: `KernelTable(selectedTier)`. Nothing in the library writes
    /// it; @testable tests may assign another tier's table (one this CPU supports, while no
    /// convolution runs) and restore it afterwards.
    nonisolated(unsafe) static var active = KernelTable(selectedTier)

    /// The tier for a value of SWIFTCONV_KERNEL_TIER on a CPU whose best tier is `best`: the
    /// named tier (`avx512`, `avx2` or `baseline`, any case), clamped to `best`; `best` when
    /// unset or unknown.
    static func requestedTier(_ value: String?, best: KernelTier) -> KernelTier {
        guard let value, let tier = KernelTier.allCases.first(where: { $0.environmentName == value.lowercased() }) else {
            return best
        }
        return min(tier, best)
    }
}

extension KernelTier {
    /// The tier's name in SWIFTCONV_KERNEL_TIER.
    var environmentName: String {
        switch self {
        case .baseline: return "baseline"
        case .avx2: return "avx2"
        case .avx512: return "avx512"
        }
    }
}
