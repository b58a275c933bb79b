/// The im2col forward of a convolution whose input is padded by a padding mode, without the
/// padded copy: the GEMM's B panels are packed from the unpadded input through the border's
/// index maps (BorderedUnfoldedInput). Same GEMM, same schedule, same packed values as the
/// im2col forward on the padded copy (`BorderPadding.pad`, then `forward`): the same bits.
/// The planner picks it where it measured faster (KernelSelector.readsBorderWhilePacking).
extension Im2colConvolution {
    /// `s`: the convolution of the padded input (ConvGeometry's shape, planar); `x`: the
    /// unpadded input, (batch, inChannels) planes of `border.size`.
    static func forward<T: ConvScalar>(_ s: ConvShape, border: BorderPadding, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>,
                                       packed: [PackedMatrix<T>]? = nil, schedule: Schedule? = nil) {
        let plan = schedule ?? Schedule(s, elementBytes: MemoryLayout<T>.stride)
        let cog = s.outChannelsPerGroup, k = s.patchSize
        if plan.tiling.weightsInPlace && packed == nil {
            return forward(s, border: border, x: x, weights: { g in InPlaceWeights(base: w + g * cog * k, lda: k) },
                           bias: bias, y: y, packed: nil, plan: plan)
        }
        forward(s, border: border, x: x, weights: { g in StridedMatrix(base: w + g * cog * k, rowStride: k, colStride: 1) },
                bias: bias, y: y, packed: packed, plan: plan)
    }

    /// As above with W_g given as a GEMM operand (`weights(g)`), read in place or packed.
    private static func forward<T: ConvScalar, A: GemmOperand>(_ s: ConvShape, border: BorderPadding, x: UnsafePointer<T>,
                                                               weights: (Int) -> A, bias: UnsafePointer<T>?,
                                                               y: UnsafeMutablePointer<T>, packed: [PackedMatrix<T>]?,
                                                               plan: Schedule) where A.Scalar == T {
        let cig = s.inChannelsPerGroup
        let (height, width) = (border.size[1], border.size[2]), pixels = border.pixels
        let rows = border.indexMap.sources(1).baseAddress!, columns = border.indexMap.sources(2).baseAddress!
        func operand(_ base: UnsafePointer<T>, imageStride: Int) -> BorderedUnfoldedInput<T> {
            BorderedUnfoldedInput(x: base, shape: s, rows: rows, columns: columns,
                                  height: height, width: width, top: border.before[1], left: border.before[2],
                                  imageStride: imageStride)
        }
        if plan.foldBatch, let c = try? Workspace<T>(count: s.outputCount, for: "the batched GEMM output") {
            runBatched(s, weights: weights, bias: bias, y: y, c: c.pointer, packed: packed, tiling: plan.tiling) { g in
                operand(x + g * cig * pixels, imageStride: s.inChannels * pixels)
            }
            return
        }
        run(s, weights: weights, bias: bias, y: y, packed: packed, tiling: plan.perImageTiling(s, elementBytes: MemoryLayout<T>.stride)) { n, g in
            operand(x + (n * s.inChannels + g * cig) * pixels, imageStride: 0)
        }
    }
}
