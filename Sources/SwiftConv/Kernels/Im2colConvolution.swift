/// The "im2col" formulation: per image and group, y_g = W_g · unfold(x_g), one GEMM whose
/// output IS the NCHW result. The unfolded matrix is an operand packed tile by tile, never
/// materialised whole.
enum Im2colConvolution {
    /// Output columns (pixels) per task, at most.
    static let columnTile = 512

    /// Output columns per task, at most, with big weight matrices (`prepackLimitBytes`):
    /// unless packed up front, each tile packs all of them again (at 512, a 784-pixel layer
    /// packed them twice; measured with `KernelTable.Blocking.ncBytesPackingA`).
    static let bigWeightsColumnTile = 1024

    /// Output columns per task for `jobs` (images x groups) of `pixels` columns each: at most
    /// `columnTile`, a multiple of 16, and, when there are few jobs, enough tiles to split
    /// evenly over the threads. The GEMM's per-element reduction order does not depend on
    /// how its output is tiled, so this choice never changes the result.
    static func balancedColumnTile(pixels: Int, jobs: Int) -> Int {
        if pixels <= 0 || jobs <= 0 { return columnTile }
        let threads = ThreadPool.shared.numThreads
        var tiles = (pixels + columnTile - 1) / columnTile
        if threads > 1 && jobs < 8 * threads {
            let total = (jobs * tiles + threads - 1) / threads * threads
            tiles = max(tiles, (total + jobs - 1) / jobs)
        }
        let perTile = (pixels + tiles - 1) / tiles
        return max(16, (perTile + 15) / 16 * 16)
    }

    /// Packed weights above this size are not packed up front when few column tiles share
    /// them (packing is then done block by block inside the GEMM, reading them once).
    static let prepackLimitBytes = 1 << 20

    /// Images with fewer output pixels than this fold the batch into the GEMM's columns
    /// (when there is more than one image): one GEMM over (image, pixel) columns instead of
    /// one per image, so the weights are packed / streamed once per call, not once per image,
    /// and the last column panel is padded once, not per image.
    static let foldBatchPixels = 512

    /// What the im2col forward does for one planar shape and element size: decided by the
    /// planner (ConvPlan keeps one per shape it runs), only executed here. The tiling
    /// assumes the thread count at planning time; results never depend on it.
    struct Schedule: Sendable, CustomStringConvertible {
        /// The convolution on a zero-padded copy of x, or nil (no copy).
        let padded: ConvShape?
        /// One GEMM over (image, pixel) columns per group instead of one per image.
        let foldBatch: Bool
        /// How the GEMMs are cut into tasks (for the folded or the per-image GEMMs).
        let tiling: Tiling
        /// A pointwise layer's per-image GEMMs pack their input instead of reading it in
        /// place (`KernelSelector.packsPointwiseInput`).
        let packsInput: Bool
        /// The tiling of the padded-width grid when the GEMM reads the padded copy in place
        /// (`PaddedGridConvolution`, `KernelSelector.readsPaddedGrid`), else nil.
        let grid: Tiling?
        /// A strided convolution's input split into its stride phases (instead of the
        /// zero-padded copy; `KernelSelector.splitsStridePhases`), else nil.
        let phases: StridePhases?
        /// GEMM columns per image of the grid read in place (0: none).
        let gridColumns: Int

        /// `weightsReadable`: the caller's weights are a plain row-major matrix (false for
        /// a flipped kernel), so the GEMM may read them in place.
        init(_ s: ConvShape, elementBytes: Int, weightsReadable: Bool = true) {
            padded = paddedShape(s)
            foldBatch = s.batch > 1 && s.outPixels < foldBatchPixels && s.outPixels > 0
            packsInput = !foldBatch && KernelSelector.packsPointwiseInput(s, elementBytes: elementBytes)
            let phases = KernelSelector.splitsStridePhases(s, elementBytes: elementBytes) ? StridePhases(s) : nil
            self.phases = phases
            // The grid read in place: a phase plane's (strided), or the zero-padded copy's.
            let columns: Int?
            if let ph = phases {
                columns = KernelSelector.readsPhaseGrid(s, phases: ph, elementBytes: elementBytes)
                    ? PaddedGridConvolution.gridColumns(s, phases: ph) : nil
            } else if let p = padded {
                columns = KernelSelector.readsPaddedGrid(s, padded: p, elementBytes: elementBytes)
                    ? PaddedGridConvolution.gridColumns(p) : nil
            } else {
                columns = nil
            }
            gridColumns = columns ?? 0
            grid = columns.map { Tiling(elementBytes: elementBytes, cog: s.outChannelsPerGroup, k: s.patchSize,
                                        columns: $0, jobs: s.batch * s.groups, imagesPerGroup: s.batch) }
            let inPlace = weightsReadable && KernelSelector.readsWeightsInPlace(s)
            tiling = foldBatch ? Tiling(elementBytes: elementBytes, cog: s.outChannelsPerGroup, k: s.patchSize,
                                        columns: s.batch * s.outPixels, jobs: s.groups, imagesPerGroup: 1, weightsInPlace: inPlace)
                               : Tiling(elementBytes: elementBytes, cog: s.outChannelsPerGroup, k: s.patchSize,
                                        columns: s.outPixels, jobs: s.batch * s.groups, imagesPerGroup: s.batch, weightsInPlace: inPlace)
        }

        var description: String {
            var parts: [String] = []
            if let ph = phases {
                parts.append("input split into \(ph.strideH)x\(ph.strideW) stride phases of \(ph.height)x\(ph.width)")
                if grid == nil { parts.append("packed as contiguous runs") }
            } else if let p = padded { parts.append("zero-padded copy to \(p.inHeight)x\(p.inWidth)") }
            if let grid, let width = phases?.width ?? padded?.inWidth {
                parts.append("read in place on a \(width)-wide grid of \(gridColumns) columns per image, "
                             + "\(grid.tiles) column tile\(grid.tiles == 1 ? "" : "s") of \(grid.tile)"
                             + (grid.rowBlocks > 1 ? ", \(grid.rowBlocks) row blocks of \(grid.rowBlock)" : ""))
                return parts.joined(separator: "; ")
            }
            if foldBatch { parts.append("batch folded into the GEMM columns") }
            if packsInput { parts.append("input packed row by row, not read in place") }
            parts.append("\(tiling.tiles) column tile\(tiling.tiles == 1 ? "" : "s") of \(tiling.tile)")
            if tiling.rowBlocks > 1 { parts.append("\(tiling.rowBlocks) row blocks of \(tiling.rowBlock)") }
            return parts.joined(separator: "; ")
        }

        /// The tiling of the per-image GEMMs: the schedule's, or, when it folds the batch
        /// (and the folded GEMM's workspace could not be had), one made for them.
        func perImageTiling(_ s: ConvShape, elementBytes: Int) -> Tiling {
            foldBatch ? Tiling(elementBytes: elementBytes, cog: s.outChannelsPerGroup, k: s.patchSize,
                               columns: s.outPixels, jobs: s.batch * s.groups, imagesPerGroup: s.batch,
                               weightsInPlace: tiling.weightsInPlace)
                      : tiling
        }

        /// How the weights are packed when the plan holds no packed copy.
        var packingText: String {
            if grid != nil { return "weights packed once per call" }
            if tiling.weightsInPlace { return "weights read in place, no packing" }
            return tiling.prepack ? "weights packed once per call" : "weights packed block by block in the GEMM"
        }
    }

    /// `packed`: W_g of every group packed ahead (PackedWeights), or nil to pack here;
    /// `schedule`: the planner's decisions for `s` (nil: decided here, for direct calls).
    static func forward<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                       bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>,
                                       packed: [PackedMatrix<T>]? = nil, schedule: Schedule? = nil) {
        let cog = s.outChannelsPerGroup, k = s.patchSize
        let plan = schedule ?? Schedule(s, elementBytes: MemoryLayout<T>.stride)
        if plan.tiling.weightsInPlace && packed == nil {
            return forward(s, x: x, weights: { g in InPlaceWeights(base: w + g * cog * k, lda: k) },
                           bias: bias, y: y, packed: nil, schedule: plan)
        }
        forward(s, x: x, weights: { g in StridedMatrix(base: w + g * cog * k, rowStride: k, colStride: 1) },
                bias: bias, y: y, packed: packed, schedule: plan)
    }

    /// As above with W_g given as a GEMM operand (`weights(g)`: rows = the group's output
    /// channels, depth = its patch), e.g. the flipped kernel of the transposed convolution
    /// read in place (`FlippedKernel`).
    static func forward<T: ConvScalar, A: GemmOperand>(_ s: ConvShape, x: UnsafePointer<T>, weights: (Int) -> A,
                                                       bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>,
                                                       packed: [PackedMatrix<T>]? = nil, schedule: Schedule? = nil) where A.Scalar == T {
        // (A schedule made here knows only an operand, e.g. a flipped kernel: packed.)
        let plan = schedule ?? Schedule(s, elementBytes: MemoryLayout<T>.stride, weightsReadable: false)
        if let ph = plan.phases,
           let split = try? Workspace<T>(count: ph.elementCount(channels: s.batch * s.inChannels) + PaddedGridConvolution.slack,
                                         for: "the input's stride phases") {
            // (Without the workspace, the zero-padded copy or the packing's own gathers below.)
            StridePhaseSplit.split(s, x: x, phases: ph, into: split.pointer)
            return forwardOnPhases(s, phases: ph, split: split.pointer, weights: weights, bias: bias, y: y, packed: packed,
                                   plan: plan, grid: plan.grid)
        }
        let slack = plan.grid == nil ? 0 : PaddedGridConvolution.slack
        if let p = plan.padded, let copy = try? Workspace<T>(count: p.inputCount + slack, for: "the zero-padded input") {
            // Windows that cross the border make the unfolded input's packing check bounds
            // and zero-fill lane by lane; on a zero-padded copy every panel is a plain copy
            // or gather. Same bits: the padding is read as zero either way. (Without the
            // workspace, the packing handles the padding itself.)
            pad(s, x: x, into: p, copy.pointer)
            if let grid = plan.grid,
               PaddedGridConvolution.forward(p, xp: copy.pointer, weights: weights, bias: bias, y: y, packed: packed, tiling: grid) {
                return
            }
            forwardUnpadded(p, x: UnsafePointer(copy.pointer), weights: weights, bias: bias, y: y, packed: packed, plan: plan)
        } else {
            forwardUnpadded(s, x: x, weights: weights, bias: bias, y: y, packed: packed, plan: plan)
        }
    }

    /// The shape of the convolution on a zero-padded copy of x (no padding, every window
    /// inside the input), or nil when that copy is not worth making: 1x1 stride-1 (plain
    /// matrix operand), no window crossing the border, or a copy far larger than the call's
    /// own arrays (huge padding).
    static func paddedShape(_ s: ConvShape) -> ConvShape? {
        if s.isPointwise || s.outPixels == 0 || s.batch == 0 || s.inChannels == 0 { return nil }
        // Rows / columns that the windows read: dilation*(k-1) and the output size were
        // overflow-checked by ConvGeometry, and (out-1)*stride < in + padding.
        let h = (s.outHeight - 1) * s.strideH + (s.kernelHeight - 1) * s.dilationH + 1
        let w = (s.outWidth - 1) * s.strideW + (s.kernelWidth - 1) * s.dilationW + 1
        if s.padTop == 0 && s.padLeft == 0 && h <= s.inHeight && w <= s.inWidth { return nil }
        guard let count = try? Checked.product([s.batch, s.inChannels, h, w, 2], ""),
              count / 2 <= 2 * (s.inputCount + s.outputCount) + 65_536 else { return nil }
        var p = s
        p.inHeight = h; p.inWidth = w; p.padTop = 0; p.padLeft = 0
        return p
    }

    /// Copies x into `xp` laid out for the shape `p` (from `paddedShape(s)`), zeros around.
    static func pad<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, into p: ConvShape, _ xp: UnsafeMutablePointer<T>) {
        let planes = s.batch * s.inChannels
        let hp = p.inHeight, wp = p.inWidth, inW = s.inWidth
        // Columns j of a padded row that come from x: padLeft <= j < padLeft + inW (the
        // padding may be negative: the upsample adjoint's equivalent convolution crops).
        let lo = min(wp, max(0, s.padLeft)), hi = max(lo, min(wp, s.padLeft + inW))
        // Planes, cut in row blocks when they are too few to share evenly (an RGB image:
        // three planes would split 2:1 over two threads). A copy: any split, the same bits.
        let threads = ThreadPool.shared.numThreads
        let wanted = planes >= 4 * threads ? 1 : (4 * threads + planes - 1) / max(planes, 1)
        let rowsPerBlock = max(1, (hp + wanted - 1) / wanted)
        let blocks = (hp + rowsPerBlock - 1) / rowsPerBlock
        ThreadPool.shared.parallelFor(planes * blocks, work: ThreadPool.copyWork(elements: planes * hp * wp)) { task in
            let plane = task / blocks, r0 = task % blocks * rowsPerBlock
            let src = x + plane * s.inPixels, dst = xp + plane * hp * wp
            for i in r0..<min(hp, r0 + rowsPerBlock) {
                let row = dst + i * wp, ih = i - s.padTop
                if ih < 0 || ih >= s.inHeight || hi <= lo {
                    row.update(repeating: 0, count: wp)
                    continue
                }
                row.update(repeating: 0, count: lo)
                (row + lo).update(from: src + (ih * inW + lo - s.padLeft), count: hi - lo)
                (row + hi).update(repeating: 0, count: wp - hi)
            }
        }
    }

    static func forwardUnpadded<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                               bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>,
                                               packed: [PackedMatrix<T>]? = nil, plan schedule: Schedule? = nil) {
        let cog = s.outChannelsPerGroup, k = s.patchSize
        let plan = schedule ?? Schedule(s, elementBytes: MemoryLayout<T>.stride)
        if plan.tiling.weightsInPlace && packed == nil {
            return forwardUnpadded(s, x: x, weights: { g in InPlaceWeights(base: w + g * cog * k, lda: k) },
                                   bias: bias, y: y, packed: nil, plan: plan)
        }
        forwardUnpadded(s, x: x, weights: { g in StridedMatrix(base: w + g * cog * k, rowStride: k, colStride: 1) },
                        bias: bias, y: y, packed: packed, plan: plan)
    }

    static func forwardUnpadded<T: ConvScalar, A: GemmOperand>(_ s: ConvShape, x: UnsafePointer<T>, weights: (Int) -> A,
                                                               bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>,
                                                               packed: [PackedMatrix<T>]? = nil, plan schedule: Schedule? = nil)
        where A.Scalar == T {
        let plan = schedule ?? Schedule(s, elementBytes: MemoryLayout<T>.stride)
        let imageStride = s.inChannels * s.inPixels
        if plan.foldBatch {
            // The GEMM's output (channel, (image, pixel)) is not the NCHW layout: it goes to a
            // workspace and is copied out. If that cannot be had, per image below (same bits:
            // the GEMM's reduction order does not depend on its columns).
            if let c = try? Workspace<T>(count: s.outputCount, for: "the batched GEMM output") {
                if s.isPointwise {
                    runBatched(s, weights: weights, bias: bias, y: y, c: c.pointer, packed: packed, tiling: plan.tiling) { g in
                        ImageColumns(base: x + g * s.inChannelsPerGroup * s.inPixels, rowStride: s.inPixels,
                                     imageStride: imageStride, pixels: s.inPixels)
                    }
                } else {
                    runBatched(s, weights: weights, bias: bias, y: y, c: c.pointer, packed: packed, tiling: plan.tiling) { g in
                        UnfoldedInput(x: x + g * s.inChannelsPerGroup * s.inPixels, shape: s, imageStride: imageStride)
                    }
                }
                return
            }
        }
        // Per image (also when the folded GEMM's workspace could not be had: then tiled here).
        let tiling = plan.perImageTiling(s, elementBytes: MemoryLayout<T>.stride)
        if s.isPointwise {
            // 1x1, stride 1, no padding: the unfolded input IS the image, a row-major
            // (C_in/groups x pixels) matrix, read in place or packed (`packsInput`).
            let image = { (n: Int, g: Int) in
                StridedMatrix(base: x + (n * s.inChannels + g * s.inChannelsPerGroup) * s.inPixels,
                              rowStride: s.inPixels, colStride: 1)
            }
            if plan.packsInput {
                run(s, weights: weights, bias: bias, y: y, packed: packed, tiling: tiling) { n, g in PackedPointwiseInput(image(n, g)) }
            } else {
                run(s, weights: weights, bias: bias, y: y, packed: packed, tiling: tiling, operand: image)
            }
        } else {
            run(s, weights: weights, bias: bias, y: y, packed: packed, tiling: tiling) { n, g in
                UnfoldedInput(x: x + (n * s.inChannels + g * s.inChannelsPerGroup) * s.inPixels, shape: s)
            }
        }
    }

    /// The forward of the strided `s` on its stride phases (`split`, from `StridePhaseSplit`,
    /// with `PaddedGridConvolution.slack` elements after them): read in place on the phase
    /// grid when `grid` is given (and the block function is there), else packed from them.
    static func forwardOnPhases<T: ConvScalar, A: GemmOperand>(_ s: ConvShape, phases ph: StridePhases, split: UnsafeMutablePointer<T>,
                                                               weights: (Int) -> A, bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>,
                                                               packed: [PackedMatrix<T>]?, plan: Schedule, grid: Tiling?)
        where A.Scalar == T {
        if let grid, PaddedGridConvolution.forward(s, xp: split, weights: weights, bias: bias, y: y, packed: packed, tiling: grid, phases: ph) {
            return
        }
        let source = UnsafePointer(split), cig = s.inChannelsPerGroup
        runUnfolded(s, weights: weights, bias: bias, y: y, packed: packed, plan: plan,
                    batched: { g in
                        PhaseUnfoldedInput(x: source + g * cig * ph.channelStride, shape: s, phases: ph,
                                           imageStride: ph.elementCount(channels: s.inChannels))
                    },
                    image: { n, g in
                        PhaseUnfoldedInput(x: source + (n * s.inChannels + g * cig) * ph.channelStride, shape: s, phases: ph)
                    })
    }

    /// y = W_g * B for an unfolded input given as `batched(g)` (columns over (image, pixel))
    /// and `image(n, g)`: one GEMM per group when the plan folds the batch (and its output
    /// workspace can be had), else one per image. Same bits either way.
    @inline(__always)
    static func runUnfolded<T: ConvScalar, A: GemmOperand, B: GemmOperand>(_ s: ConvShape, weights: (Int) -> A, bias: UnsafePointer<T>?,
                                                                           y: UnsafeMutablePointer<T>, packed: [PackedMatrix<T>]?, plan: Schedule,
                                                                           batched: (Int) -> B, image: (Int, Int) -> B)
        where A.Scalar == T, B.Scalar == T {
        if plan.foldBatch, let c = try? Workspace<T>(count: s.outputCount, for: "the batched GEMM output") {
            runBatched(s, weights: weights, bias: bias, y: y, c: c.pointer, packed: packed, tiling: plan.tiling, operand: batched)
            return
        }
        run(s, weights: weights, bias: bias, y: y, packed: packed, tiling: plan.perImageTiling(s, elementBytes: MemoryLayout<T>.stride),
            operand: image)
    }

    /// How one group's GEMM (cog x columns, depth k) is cut into tasks: column tiles, and
    /// for big weight matrices with few tiles also output-channel blocks (multiples of 6
    /// rows). Also whether the weights are packed once up front. `jobs` GEMMs of this size
    /// run side by side; `uses` is how many column tiles in all share one group's weights.
    struct Tiling: Sendable {
        var tile: Int, tiles: Int, rowBlock: Int, rowBlocks: Int, prepack: Bool
        /// The GEMMs read the weights in place (`InPlaceWeights`), never packing them.
        var weightsInPlace: Bool

        init(elementBytes: Int, cog: Int, k: Int, columns: Int, jobs: Int, imagesPerGroup: Int, weightsInPlace: Bool = false) {
            let mr = Gemm.mr
            self.weightsInPlace = weightsInPlace
            let bigA = (cog + mr - 1) / mr * mr * k * elementBytes > prepackLimitBytes
            if weightsInPlace {
                // No packing to share: equal tiles of at most `columnTile`, and the threads
                // split the rows (below) rather than a few columns.
                let count = max(1, (columns + columnTile - 1) / columnTile)
                tile = max(16, ((columns + count - 1) / count + 15) / 16 * 16)
            } else if bigA {
                // Equal tiles of at most `bigWeightsColumnTile` (a multiple of 16).
                let count = max(1, (columns + bigWeightsColumnTile - 1) / bigWeightsColumnTile)
                tile = max(16, ((columns + count - 1) / count + 15) / 16 * 16)
            } else {
                tile = balancedColumnTile(pixels: columns, jobs: jobs)
            }
            tiles = (columns + tile - 1) / tile
            // Output-channel blocks: only when the tiles alone cannot keep the threads busy.
            // The GEMM's reduction order does not depend on them.
            let threads = ThreadPool.shared.numThreads
            var blocks = 1
            if weightsInPlace && threads > 1 && jobs * tiles < threads {
                // One row block per thread (rows in multiples of the wide tiles' 12).
                blocks = min((cog + 2 * mr - 1) / (2 * mr), threads)
            } else if bigA && threads > 1 && jobs * tiles < 2 * threads {
                blocks = min((cog + mr - 1) / mr, (2 * threads + jobs * tiles - 1) / (jobs * tiles))
                // An even split over the threads when possible.
                blocks = max(1, blocks / threads * threads)
            }
            // (At least one panel: a group with no output channels has no row blocks.)
            let rowStep = weightsInPlace ? 2 * mr : mr
            rowBlock = max(mr, ((cog + blocks - 1) / blocks + rowStep - 1) / rowStep * rowStep)
            rowBlocks = (cog + rowBlock - 1) / rowBlock
            prepack = !weightsInPlace && (!bigA || imagesPerGroup * tiles >= 3)
        }
    }

    /// The weights of each group, packed once for every tile (when `prepack`), or [] (also
    /// when the memory cannot be had: the GEMM then packs them itself, with the same bits).
    @inline(__always)
    static func packWeights<T: ConvScalar, A: GemmOperand>(_ s: ConvShape, weights: (Int) -> A, _ prepack: Bool) -> [PackedMatrix<T>]
        where A.Scalar == T {
        let cog = s.outChannelsPerGroup, k = s.patchSize
        if !prepack { return [] }
        return Gemm.tryPackA(count: s.groups, rows: 0..<cog, depth: k, weights) ?? []
    }

    /// y_g = W_g * B(n, g) for every image and group, tiled over output columns (and, for big
    /// weight matrices with few tiles, over output-channel blocks too).
    @inline(__always)
    static func run<T: ConvScalar, A: GemmOperand, B: GemmOperand>(_ s: ConvShape, weights: (Int) -> A, bias: UnsafePointer<T>?,
                                                                   y: UnsafeMutablePointer<T>, packed prepacked: [PackedMatrix<T>]?,
                                                                   tiling plan: Tiling, operand: (Int, Int) -> B)
        where A.Scalar == T, B.Scalar == T {
        let pixels = s.outPixels, k = s.patchSize
        let cog = s.outChannelsPerGroup
        let jobs = s.batch * s.groups
        if pixels <= 0 || cog <= 0 || jobs <= 0 { return }
        let tile = plan.tile, tiles = plan.tiles, rowBlock = plan.rowBlock
        let packed = prepacked ?? packWeights(s, weights: weights, plan.prepack)
        let perJob = tiles * plan.rowBlocks
        ThreadPool.shared.parallelFor(jobs * perJob, work: s.macs) { task in
            let r = task % perJob, ng = task / perJob
            let t = r % tiles, rb = r / tiles
            let g = ng % s.groups, n = ng / s.groups
            let cols = (t * tile)..<min(pixels, (t + 1) * tile)
            let rows = (rb * rowBlock)..<min(cog, (rb + 1) * rowBlock)
            let yTile = y + (n * s.outChannels + g * cog + rows.lowerBound) * pixels + cols.lowerBound
            // With a bias, every sum starts from it; without, from zero: the GEMM writes the
            // tile itself (not accumulating: its sums start from +0, the same bits as from a
            // zero-filled tile), saving a pass over the output.
            let hasBias = bias != nil
            if let bias = bias {
                fillRows(yTile, rows: rows.count, cols: cols.count, ld: pixels, values: bias + g * cog + rows.lowerBound)
            }
            if !packed.isEmpty {
                Gemm.multiply(packed[g], operand(n, g), rows: rows, cols: cols, depth: k, c: yTile, ldc: pixels, accumulate: hasBias)
            } else {
                Gemm.multiply(weights(g), operand(n, g),
                              rows: rows, cols: cols, depth: k, c: yTile, ldc: pixels, accumulate: hasBias)
            }
        }
    }

    /// y_g = W_g * B(g) for every group, where B's columns run over (image, pixel): the GEMM
    /// of each tile writes its block of `c` (a (group, channel) x (image, pixel) matrix, the
    /// batch folded into the columns), which the same task then copies to the NCHW output.
    /// Every element is bias + the GEMM's fixed-order sum, exactly as in `run`.
    @inline(__always)
    static func runBatched<T: ConvScalar, A: GemmOperand, B: GemmOperand>(_ s: ConvShape, weights: (Int) -> A, bias: UnsafePointer<T>?,
                                                                          y: UnsafeMutablePointer<T>, c: UnsafeMutablePointer<T>,
                                                                          packed prepacked: [PackedMatrix<T>]?, tiling plan: Tiling,
                                                                          operand: (Int) -> B) where A.Scalar == T, B.Scalar == T {
        let pixels = s.outPixels, k = s.patchSize, columns = s.batch * pixels
        let cog = s.outChannelsPerGroup
        if pixels <= 0 || cog <= 0 || s.groups <= 0 || s.batch <= 0 { return }
        let tile = plan.tile, tiles = plan.tiles, rowBlock = plan.rowBlock
        let packed = prepacked ?? packWeights(s, weights: weights, plan.prepack)
        let perGroup = tiles * plan.rowBlocks
        ThreadPool.shared.parallelFor(s.groups * perGroup, work: s.macs) { task in
            let r = task % perGroup, g = task / perGroup
            let t = r % tiles, rb = r / tiles
            let cols = (t * tile)..<min(columns, (t + 1) * tile)
            let rows = (rb * rowBlock)..<min(cog, (rb + 1) * rowBlock)
            let cTile = c + (g * cog + rows.lowerBound) * columns + cols.lowerBound
            // With a bias, every sum starts from it; without, from zero: the GEMM writes the
            // tile itself (not accumulating: its sums start from +0, the same bits as from a
            // zero-filled tile), saving a pass over the output.
            let hasBias = bias != nil
            if let bias = bias {
                fillRows(cTile, rows: rows.count, cols: cols.count, ld: columns, values: bias + g * cog + rows.lowerBound)
            }
            if !packed.isEmpty {
                Gemm.multiply(packed[g], operand(g), rows: rows, cols: cols, depth: k, c: cTile, ldc: columns, accumulate: hasBias)
            } else {
                Gemm.multiply(weights(g), operand(g),
                              rows: rows, cols: cols, depth: k, c: cTile, ldc: columns, accumulate: hasBias)
            }
            // Copy out, image by image of the tile.
            var j = cols.lowerBound
            while j < cols.upperBound {
                let n = j / pixels, p = j - n * pixels
                let len = min(cols.upperBound - j, pixels - p)
                let src = cTile + (j - cols.lowerBound)
                let dst = y + (n * s.outChannels + g * cog + rows.lowerBound) * pixels + p
                for i in 0..<rows.count {
                    (dst + i * pixels).update(from: src + i * columns, count: len)
                }
                j += len
            }
        }
    }
}

/// Sets rows x cols of a row-major block (rows `ld` apart) to values[row], or to zero.
@inline(__always)
func fillRows<T: ConvScalar>(_ c: UnsafeMutablePointer<T>, rows: Int, cols: Int, ld: Int,
                             values: UnsafePointer<T>?) {
    for r in 0..<rows {
        (c + r * ld).update(repeating: values?[r] ?? 0, count: cols)
    }
}
