#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CSwiftConv  // sc_prefetch_l2

/// The direct dense convolution with output channels in the vector lanes (the NCHWc way, as
/// ONNX Runtime's MLAS runs a Conv on AVX-512): the input copied once per call into
/// zero-padded blocks of 16 channels (`ChannelBlockedLayout`), the weights into panels of up
/// to 64 output channels ([in block][tap][16 in][64 out]: per call, each task packing its
/// panel into a per-thread scratch, or once when prepared, `PackedWeights`), then tiles of R
/// output pixels x 16-64 output channels summed over every tap and input channel in registers
/// (ChannelBlockedKernels.swift), and a transposing store back to NCHW
/// (`depthwiseDeinterleaveF32`). The im2col GEMM instead makes a padded copy, packs B panels, and reloads its
/// C tile once per depth block; on dense 3x3 layers this runs without those passes. The same
/// driver (`run`) serves channels-last activations (`ChannelBlockedChannelsLast`: the copy and
/// the store only differ) and the stride-1 input gradient on the flipped kernel
/// (`ChannelBlockedAdjoint`: only the panels differ).
///
/// Float32 on tiers with `sconvChannelBlockedRow` (AVX-512); any other call (float64, other
/// tiers, or when the copy's memory cannot be had) runs the caller's fallback (here the im2col
/// GEMM), which sums in another order (so a call that runs out of memory for the copy gives the
/// GEMM's bits, not these). Which calls come here is the planner's choice
/// (`KernelSelector.channelBlockedWins`, `channelsLastConvForward`, `channelBlockedAdjointWins`).
///
/// Order of every sum: the bias, then input block by block (in blocks of 16 channels), tap by
/// tap, channel by channel, one fused multiply-add each, whatever the thread count, the rows a
/// task holds, or whether the weights were packed per call or ahead: the same bits.
enum ChannelBlockedConvolution {
    /// What `explain` says about the forward ("blocked").
    static let explanation = "direct conv on 16-channel blocks: input copied zero-padded as NCHW16c, weights as "
        + "[in block][tap][16 in][64 out] panels, R pixels x 64 output channels summed in registers over every tap "
        + "and input channel, stored back to NCHW"

    /// Whether this kernel runs `s` (as opposed to falling back to the GEMM) for element type T.
    static func runs<T: ConvScalar>(_ s: ConvShape, _: T.Type) -> Bool {
        T.kind == .float32 && KernelTable.active.sconvChannelBlockedRow != nil && ChannelBlockedLayout(s) != nil
    }

    /// Bytes of output tile per task at most (rows of the output x 64 channels, blocked): it
    /// stays in L2 while every input block adds to it.
    static let tileBytes = 64 * 1024
    /// Bytes of one pass's weights at most (one input block's taps x 16 x 64: 36 KB for 3x3):
    /// they stay in L1 while the pass sweeps the task's rows.
    static let passWeightBytes = 40 * 1024

    /// Packs w (C_out, C_in, kh, kw) into the layout's panels at dst (`weightCount` Floats),
    /// padding channels zero. Each panel is one task; 16 output channels at a time, 16
    /// (input channel, tap) pairs are transposed in registers (`transposeRows16F32`) and each
    /// pair's 16 output channels stored as one vector.
    /// Tried in session 10 (helper `pack`) and reverted, same bits, no measurable gain: the
    /// transposes staged contiguously then copied out in destination order (no 16 stores 4 KB
    /// apart), and the next 16 rows prefetched as one sequential stream. 512->512 3x3 N1 7x7
    /// plain blocked new vs old 2.60 vs 2.64 ms, 2.85 vs 2.75 (noise). The per-call packing is bound by
    /// reading w: a NumPy copy or sum of the same 9.4 MB costs 0.57-0.69 ms here against about
    /// 1.1-1.4 ms for the packing (plain minus prepared), so at most ~2x is left.
    /// Overlap with the compute was tried in session 11 (helper `packfuse`, Zen5) and reverted,
    /// same bits, no gain: each task packing its panel pass by pass just before the pass (the
    /// slice consumed hot from L1/L2), with the next slice's w rows (one output channel's run
    /// per row call) or the next panel's rows prefetched by the tile kernel meanwhile.
    /// 512->512 3x3 N1 one thread, ms per call (whole panel first / pass by pass / im2col /
    /// prepared blocked): 7x7 1.656 / 1.654 / 1.523 / 1.099, 14x14 s2 1.661 / 1.702 / 1.573 /
    /// 1.143; 1024->512 14x14 9.86 / 10.05 / 9.09 / 8.70. Profile (perf, 7x7): the tile
    /// kernel's samples are the same plain and prepared; the packing is ~1/3 of the plain call
    /// either way (transposeRows16F32 ~20%, packPanel's stores ~13%), and overlap found no idle
    /// time to hide it in. The cheaper transpose that suggested (64 shuffles in C instead of 88,
    /// helper `transpose`, the same session) took the 7x7 layer's packing only from 0.46 to
    /// 0.44 ms: what bounds it is reading w as 16 rows far apart (9-19 MB, far past L2), not
    /// the shuffles. Left: weights packed once (`prepare`) is the only large lever found.
    static func packWeights(_ s: ConvShape, _ l: ChannelBlockedLayout, w: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        ThreadPool.shared.parallelFor(l.panels, work: ThreadPool.copyWork(elements: l.weightCount)) { p in
            packPanel(s, l, w: w, p, into: dst + p * l.panelCount)
        }
    }

    /// Panel p of `packWeights` at `panel` (`panelCount` Floats).
    static func packPanel(_ s: ConvShape, _ l: ChannelBlockedLayout, w: UnsafePointer<Float>, _ p: Int, into panel: UnsafeMutablePointer<Float>) {
        let taps = s.kernelTaps, depth = s.inChannels * taps
        let transpose = KernelTable.active.transposeRows16F32
        do {
            let blocks = l.blocks(inPanel: p), width = 16 * blocks
            // Zeros only where channels are padded (every other Float is written below).
            if s.inChannels % 16 != 0 || s.outChannels % 16 != 0 { panel.initialize(repeating: 0, count: l.panelCount) }
            // Where (input channel c, tap t) of output channel column `column` goes.
            @inline(__always) func at(_ c: Int, _ t: Int, _ column: Int) -> UnsafeMutablePointer<Float> {
                panel + ChannelBlockedLayout.panelOffset(channel: c, tap: t, taps: taps, column: column, width: width)
            }
            @inline(__always) func at(_ k: Int, _ column: Int) -> UnsafeMutablePointer<Float> {
                let c = k / taps
                return at(c, k - c * taps, column)
            }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 256) { buffer in
                let tile = buffer.baseAddress!
                for b in 0 ..< blocks {
                    let o0 = ChannelBlockedLayout.firstChannel(ofPanel: p) + b * 16, valid = min(16, s.outChannels - o0)
                    let src = w + o0 * depth
                    guard valid == 16, depth >= 16 else {
                        for o in 0 ..< valid { for k in 0 ..< depth { at(k, b * 16 + o).pointee = src[o * depth + k] } }
                        continue
                    }
                    var k0 = 0
                    while k0 < depth {
                        let k = min(k0, depth - 16)  // (the last 16 overlap the previous ones: the same values)
                        // The 16 rows' lines 8 steps ahead: 16 strided streams, which the hardware
                        // prefetchers do not follow far enough to hide L3 (per-call packing of 512->512
                        // 3x3 was 40% of its call without this).
                        for r in 0 ..< 16 { sc_prefetch_l2(src + r * depth + k + 128) }
                        transpose(tile, src + k, depth, 16)
                        var c = k / taps, t = k - c * taps  // of k + u, counted up (no division per row)
                        for u in 0 ..< 16 {
                            at(c, t, b * 16).update(from: tile + u * 16, count: 16)
                            t += 1
                            if t == taps { t = 0; c += 1 }
                        }
                        k0 = k + 16
                    }
                }
            }
        }
    }

    /// y = bias + conv(x, w); `packed`: the weights packed ahead (`packWeights`), or nil.
    static func forward<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>, bias: UnsafePointer<T>?,
                                       y: UnsafeMutablePointer<T>, packed: UnsafePointer<Float>? = nil) {
        if !run(s, x: x, w: w, bias: bias, y: y, packed: packed, channelsLast: false) {
            Im2colConvolution.forward(s, x: x, w: w, bias: bias, y: y)
        }
    }

    /// `forward` on activations of either layout (`channelsLast`: x and y (N, H, W, C), copied
    /// from and stored to in place by `ChannelBlockedChannelsLast`); false, having written
    /// nothing, where this kernel does not run (`runs`, or the copy's memory not had): the
    /// caller's fallback for its layout runs then. `panelSource`: packs panel p per call in
    /// place of `packPanel` of w (nil: w's panels); a caller whose panels are not w's
    /// (`ChannelBlockedAdjoint`: the flipped kernel) passes it.
    static func run<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, w: UnsafePointer<T>, bias: UnsafePointer<T>?,
                                   y: UnsafeMutablePointer<T>, packed: UnsafePointer<Float>?,
                                   panelSource: ((Int, UnsafeMutablePointer<Float>) -> Void)? = nil, channelsLast: Bool) -> Bool {
        if s.outputCount == 0 { return true }
        guard runs(s, T.self), let l = ChannelBlockedLayout(s), let kernel = KernelTable.active.sconvChannelBlockedRow else {
            return false
        }
        let panelWidth = 16 * ChannelBlockedLayout.blocksPerPanel
        let rowFloats = s.outWidth * panelWidth
        let rowsPerTask = max(1, min(s.outHeight, tileBytes / (4 * rowFloats)))
        var parts = WorkspaceLayout(alignment: 16, tooLarge: "")
        guard let inputAt = try? parts.reserve(l.inputCount), let biasAt = try? parts.reserve(l.biasCount),
              let space = try? Workspace<Float>(count: parts.total, for: "the channel-blocked copies"),
              ThreadScratch.channelBlocked.reserve(bytes: 4 * rowsPerTask * rowFloats),
              packed != nil || ThreadScratch.channelBlockedWeights.reserve(bytes: 4 * l.panelCount) else {
            return false
        }
        let xf: UnsafePointer<Float> = cast(x), yf: UnsafeMutablePointer<Float> = castMutable(y), wf: UnsafePointer<Float> = cast(w)
        let xb = space.pointer + inputAt, bb = space.pointer + biasAt
        bb.initialize(repeating: 0, count: l.biasCount)
        if let bias { bb.update(from: cast(bias) as UnsafePointer<Float>, count: s.outChannels) }
        if channelsLast { ChannelBlockedChannelsLast.copyInput(s, l, x: xf, into: xb) } else { copyInput(s, l, x: xf, into: xb) }

        let taps = l.tapOffsets(s), tapCount = s.kernelTaps, store = KernelTable.active.depthwiseDeinterleaveF32
        let rowChunks = (s.outHeight + rowsPerTask - 1) / rowsPerTask
        let planes = s.outHeight * s.outWidth
        let rowStride = s.strideH * l.paddedWidth * 16
        // Units of work: (image, row chunk) of one panel. With the weights packed per call, a
        // task packs its panel into its thread's scratch (memory reused from call to call: a
        // fresh buffer of all panels took a page fault per 4 KB) for a run of units, as few runs
        // as keep the threads busy.
        let units = s.batch * rowChunks
        let runs = packed != nil ? units : min(units, max(1, (2 * ThreadPool.shared.numThreads + l.panels - 1) / l.panels))
        /// Rows [r0, r0 + rows) of image n, the output channels of panel p (a tile of
        /// [block][rows x outWidth pixels][16]).
        func computeUnit(_ unit: Int, _ p: Int, _ panel: UnsafePointer<Float>) {
            let n = unit / rowChunks, chunk = unit % rowChunks
            let r0 = chunk * rowsPerTask, rows = min(rowsPerTask, s.outHeight - r0)
            let blocks = l.blocks(inPanel: p), width = 16 * blocks
            let tile = ThreadScratch.channelBlocked.buffer(bytes: 4 * rows * rowFloats).bindMemory(to: Float.self, capacity: rows * rowFloats)
            let panelBias = UnsafePointer(bb + p * panelWidth)
            let tapBlock = tapCount * 16 * width, blockStride = rows * s.outWidth * 16
            let perPass = max(1, passWeightBytes / (4 * tapBlock))
            let image = UnsafePointer(xb + n * l.imageCount)
            taps.withUnsafeBufferPointer { tp in
                var cb = 0
                while cb < l.inBlocks {
                    let count = min(perPass, l.inBlocks - cb)
                    // The next pass's weights (after the last pass: the next panel's first, when packed
                    // ahead), prefetched into L2 by the rows of this pass, an equal slice each.
                    let next: UnsafePointer<Float>?, nextFloats: Int
                    if cb + count < l.inBlocks {
                        (next, nextFloats) = (panel + (cb + count) * tapBlock, min(perPass, l.inBlocks - cb - count) * tapBlock)
                    } else if let packed, p + 1 < l.panels {
                        (next, nextFloats) = (packed + (p + 1) * l.panelCount, perPass * tapBlock)
                    } else {
                        (next, nextFloats) = (nil, 0)
                    }
                    for r in 0 ..< rows {
                        let pf = (next ?? panel) + r * nextFloats / rows / 16 * 16, pfEnd = (next ?? panel) + (r + 1) * nextFloats / rows / 16 * 16
                        kernel(blocks, s.outWidth, count, tp.baseAddress!, tapCount, image + cb * l.blockCount + (r0 + r) * rowStride,
                               l.blockCount, s.strideW * 16, panel + cb * tapBlock, panelBias, tile + r * s.outWidth * 16, blockStride, cb > 0,
                               pf, pfEnd)
                    }
                    cb += count
                }
            }
            // Back to NCHW: rows x outWidth contiguous pixels of each channel.
            let pixels = rows * s.outWidth
            if channelsLast {
                return ChannelBlockedChannelsLast.store(s, tile: tile, blocks: blocks, blockStride: blockStride, firstChannel: p * panelWidth,
                                                        pixels: pixels, y: yf + (n * planes + r0 * s.outWidth) * s.outChannels)
            }
            for b in 0 ..< blocks {
                let c0 = p * panelWidth + b * 16, valid = min(16, s.outChannels - c0)
                store(yf + (n * s.outChannels + c0) * planes + r0 * s.outWidth, planes, tile + b * blockStride, valid, pixels)
            }
        }
        ThreadPool.shared.parallelFor(l.panels * runs, work: s.macs) { task in
            let p = task / runs, run = task % runs
            let panel: UnsafePointer<Float>
            if let packed { panel = packed + p * l.panelCount } else {
                let scratch = ThreadScratch.channelBlockedWeights.buffer(bytes: 4 * l.panelCount).bindMemory(to: Float.self, capacity: l.panelCount)
                if let panelSource { panelSource(p, scratch) } else { packPanel(s, l, w: wf, p, into: scratch) }
                panel = UnsafePointer(scratch)
            }
            for unit in run * units / runs ..< (run + 1) * units / runs {
                computeUnit(unit, p, panel)
            }
        }
        return true
    }

    /// x (N, C, H, W) into the zero-padded channel blocks (N, C/16, paddedHeight, paddedWidth,
    /// 16), channels past C zero. One task per (image, block).
    static func copyInput(_ s: ConvShape, _ l: ChannelBlockedLayout, x: UnsafePointer<Float>, into xb: UnsafeMutablePointer<Float>) {
        let h = s.inHeight, w = s.inWidth, plane = h * w, rowFloats = l.paddedWidth * 16
        let transpose = KernelTable.active.transposeRows16F32
        ThreadPool.shared.parallelFor(s.batch * l.inBlocks, work: ThreadPool.copyWork(elements: l.inputCount)) { task in
            let n = task / l.inBlocks, cb = task % l.inBlocks
            let block = xb + n * l.imageCount + cb * l.blockCount
            block.initialize(repeating: 0, count: s.padTop * rowFloats)
            let below = (s.padTop + h) * rowFloats
            (block + below).initialize(repeating: 0, count: l.blockCount - below)
            let c0 = cb * 16, channels = min(16, s.inChannels - c0)
            let src = x + (n * s.inChannels + c0) * plane
            for r in 0 ..< h {
                let row = block + (s.padTop + r) * rowFloats
                row.initialize(repeating: 0, count: s.padLeft * 16)
                (row + (s.padLeft + w) * 16).initialize(repeating: 0, count: rowFloats - (s.padLeft + w) * 16)
                let interior = row + s.padLeft * 16
                if channels == 16 {
                    transpose(interior, src + r * w, plane, w)
                } else {
                    for q in 0 ..< w {
                        for c in 0 ..< 16 { interior[q * 16 + c] = c < channels ? src[c * plane + r * w + q] : 0 }
                    }
                }
            }
        }
    }
}
