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
public enum HalfKernel: String, Sendable {
    case depthwise = "depthwise", depthwiseAdjoint = "depthwise (gather adjoint)", direct = "direct planes"
}

enum HalfKernels {
    /// The largest input + output plane (float32 bytes) the direct kernel widens per task.
    static let maxPlaneBytes = 512 * 1024

    static func fitsPlanes(_ s: ConvShape) -> Bool {
        let (sum, o1) = s.inPixels.addingReportingOverflow(s.outPixels)
        let (bytes, o2) = sum.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        return !o1 && !o2 && bytes <= maxPlaneBytes
    }

    static func run(_ kernel: HalfKernel, _ s: ConvShape, dtype: ConvDType, src: UnsafePointer<UInt16>, w: UnsafePointer<Float>,
                    bias: UnsafePointer<Float>?, dst: UnsafeMutablePointer<UInt16>) {
        switch kernel {
        case .depthwise: DepthwiseConvolution.runHalf(s, adjoint: false, dtype: dtype, src: src, w: w, bias: bias, dst: dst)
        case .depthwiseAdjoint: DepthwiseConvolution.runHalf(s, adjoint: true, dtype: dtype, src: src, w: w, bias: bias, dst: dst)
        case .direct: directForward(s, dtype: dtype, x: src, w: w, bias: bias, y: dst)
        }
    }

    /// DirectConvolution.forward with one input plane per output plane: a task widens its
    /// input plane into per-thread scratch, runs the plane kernel into a float32 plane and
    /// rounds that into y.
    static func directForward(_ s: ConvShape, dtype: ConvDType, x: UnsafePointer<UInt16>, w: UnsafePointer<Float>,
                              bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<UInt16>) {
        let table = KernelTable.active
        let widen = dtype == .bfloat16 ? table.bfloat16ToFloat32 : table.float16ToFloat32
        let narrow = dtype == .bfloat16 ? table.float32ToBfloat16 : table.float32ToFloat16
        let cog = s.outChannelsPerGroup, taps = s.kernelTaps
        let plane = DirectConvolution.planeGeometry(s)
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
    /// from the `dtype` source bit patterns to the `dtype` destination, float32 weights.
    static func runHalf(_ s: ConvShape, adjoint: Bool, dtype: ConvDType, src: UnsafePointer<UInt16>,
                        w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, dst: UnsafeMutablePointer<UInt16>) {
        let t = Tiling(s, adjoint: adjoint, elementBytes: MemoryLayout<Float>.stride)
        let L = t.lanes, C = s.groups, taps = s.kernelTaps
        let blocks = (C + L - 1) / L
        if s.batch == 0 || C == 0 || t.dstH == 0 || t.dstW == 0 { return }
        let table = KernelTable.active
        let widen = dtype == .bfloat16 ? table.bfloat16ToFloat32 : table.float16ToFloat32
        let narrow = dtype == .bfloat16 ? table.float32ToBfloat16 : table.float32ToFloat16
        let outer = s.batch * blocks
        let threads = ThreadPool.shared.numThreads
        let R = t.rowsPerBlock(threads: threads, outerTasks: outer)
        let rowBlocks = (t.dstH + R - 1) / R
        let srcTile = t.sourceRows(R) * t.tileWidth * L, dstTile = R * t.dstW * L
        // Staging: the widened source planes (L x source rows x srcW), then for narrow
        // planes their interleaved copy (as fillTile's); the output's planes reuse it.
        let widened = t.sourceRows(R) * t.srcW * L
        let staging = max(widened + t.stagingCount(R), dstTile)
        let scratchCount = srcTile + dstTile + (taps + 1) * L + staging
        let scratchBytes = scratchCount * MemoryLayout<Float>.stride
        ThreadPool.shared.parallelFor(outer * rowBlocks, work: s.macs) { task in
            let rb = task % rowBlocks, cb = (task / rowBlocks) % blocks, n = task / (rowBlocks * blocks)
            let c0 = cb * L, count = min(L, C - c0)
            let r0 = rb * R, r1 = min(t.dstH, r0 + R)
            let scratch = ThreadScratch.depthwise.buffer(bytes: scratchBytes).bindMemory(to: Float.self, capacity: scratchCount)
            let tile = scratch, out = scratch + srcTile, wt = out + dstTile, bt = wt + taps * L, stage = bt + L
            interleave(wt, w + c0 * taps, stride: taps, lanes: count, pixels: taps)
            bt.update(repeating: 0, count: L)
            if let bias { bt.update(from: bias + c0, count: count) }
            let a = t.sourceRange(r0, r1)
            t.fillTileWidening(tile, src: src, widen: widen, n: n, c0: c0, count: count, rows: a.lowerBound, a.upperBound,
                               staging: stage, interleaved: stage + widened)
            let g = t.geometry(rows: r0, r1, source: a.lowerBound, a.upperBound)
            let xBase = tile - (a.lowerBound * t.tileWidth + t.colLo) * L
            let yBase = out - r0 * t.dstW * L
            rows(g, UnsafePointer(xBase), UnsafePointer(wt), UnsafePointer(bt), yBase)
            // Rows r0 ..< r1 of a plane are contiguous: transposed into `count` runs, each
            // rounded into its plane.
            let pixels = (r1 - r0) * t.dstW
            deinterleave(stage, stride: pixels, UnsafePointer(out), lanes: count, pixels: pixels)
            let first = dst + ((n * C + c0) * t.dstH + r0) * t.dstW
            if pixels == t.dstH * t.dstW {
                narrow(stage, first, count * pixels)  // whole planes: one contiguous run
            } else {
                for l in 0..<count { narrow(stage + l * pixels, first + l * t.dstH * t.dstW, pixels) }
            }
        }
    }
}

extension DepthwiseConvolution.Tiling {
    /// `fillTile` from half-precision planes: rows [a, b) of image n, channels
    /// c0 ..< c0 + count widened by `widen` into `staging` (count x the rows inside the
    /// source x srcW), then interleaved into `tile` as fillTile does (`interleaved`: its
    /// staging for narrow planes, `stagingCount` elements).
    func fillTileWidening(_ tile: UnsafeMutablePointer<Float>, src: UnsafePointer<UInt16>,
                          widen: @convention(c) (UnsafePointer<UInt16>, UnsafeMutablePointer<Float>, Int) -> Void,
                          n: Int, c0: Int, count: Int, rows a: Int, _ b: Int,
                          staging: UnsafeMutablePointer<Float>, interleaved: UnsafeMutablePointer<Float>) {
        let L = lanes
        let inLo = max(colLo, 0), inHi = min(colHi, srcW)
        let rLo = max(a, 0), rHi = min(b, srcH)
        let span = max(rHi - rLo, 0) * srcW
        if span > 0 && inLo < inHi {
            let first = src + ((n * s.groups + c0) * srcH + rLo) * srcW
            if span == srcH * srcW {
                widen(first, staging, count * span)  // whole planes: one contiguous run
            } else {
                for l in 0..<count { widen(first + l * srcH * srcW, staging + l * span, span) }
            }
            if srcW < 16 {
                // Narrow planes: interleaved in one pass, rows copied into place (fillTile's way).
                DepthwiseConvolution.interleave(interleaved, UnsafePointer(staging), stride: span, lanes: count, pixels: span)
            }
        }
        for r in a..<b {
            let row = tile + (r - a) * tileWidth * L
            if r < rLo || r >= rHi || inLo >= inHi {
                row.update(repeating: 0, count: tileWidth * L)
                continue
            }
            if colLo < inLo { row.update(repeating: 0, count: (inLo - colLo) * L) }
            if inHi < colHi { (row + (inHi - colLo) * L).update(repeating: 0, count: (colHi - inHi) * L) }
            let at = (r - rLo) * srcW + inLo
            if srcW < 16 {
                (row + (inLo - colLo) * L).update(from: interleaved + at * L, count: (inHi - inLo) * L)
            } else {
                DepthwiseConvolution.interleave(row + (inLo - colLo) * L, UnsafePointer(staging + at), stride: span,
                                                lanes: count, pixels: inHi - inLo)
            }
        }
    }
}
