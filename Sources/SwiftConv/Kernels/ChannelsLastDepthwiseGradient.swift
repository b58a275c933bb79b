/// The depthwise weight gradient on channels-last x and dy, row blocks outermost (what
/// `ChannelsLastConvolution.weightGradient` runs for depthwise shapes).
///
/// WHY: the first version of this loop gave each task one channel block and walked the whole
/// image for it: with pixel stride C, a block's 64 bytes of a pixel share their cache-line
/// pair with the next block's, and on large planes every pass fetches the pairs again
/// (96 dw 112x112 s2: 1.80x the NCHW time, 1.12x here). Here a task owns a run of
/// consecutive channel blocks and, per image and row block, runs every block of its run
/// over the same rows while they are in cache.
///
/// Bits: each channel's sum is still its taps over images and row blocks (the same row
/// blocks, of a size fixed by the shape) in that order, into that channel's own
/// accumulators: the same bits as the block-per-task loop, for every thread count (the
/// runs only decide which thread computes a channel).
enum ChannelsLastDepthwiseGradient {
    static func weightGradient<T: ConvScalar>(_ s: ConvShape, x: UnsafePointer<T>, dy: UnsafePointer<T>,
                                              dw: UnsafeMutablePointer<T>) {
        let t = DepthwiseConvolution.Tiling(s, adjoint: false, elementBytes: MemoryLayout<T>.stride)
        let L = t.lanes, C = s.groups, taps = s.kernelTaps
        if C == 0 { return }
        if s.batch == 0 || t.dstH == 0 || t.dstW == 0 {
            dw.update(repeating: 0, count: C * taps)
            return
        }
        let blocks = (C + L - 1) / L, tail = C % L
        // The row blocks of the block-per-task loop (fixed by the shape, not the threads).
        let R = t.rowsPerBlock(threads: 1, outerTasks: blocks)
        let srcImage = t.srcH * t.srcW * C, dstImage = t.dstH * t.dstW * C
        let runs = min(blocks, ThreadPool.shared.numThreads), perRun = (blocks + runs - 1) / runs
        let accCount = perRun * taps * L
        ThreadPool.shared.parallelFor(runs, work: s.macs) { run in
            let b0 = run * perRun, b1 = min(blocks, b0 + perRun)
            if b0 >= b1 { return }
            let acc = ThreadScratch.depthwise.buffer(bytes: accCount * MemoryLayout<T>.stride)
                .bindMemory(to: T.self, capacity: accCount)
            acc.update(repeating: 0, count: (b1 - b0) * taps * L)
            for n in 0..<s.batch {
                var r0 = 0
                while r0 < t.dstH {
                    let r1 = min(t.dstH, r0 + R)
                    let g = t.inPlace(rows: r0, r1, channels: C, dstPixelStride: C)
                    for cb in b0..<b1 {
                        // The partial last block reads channels C - L ..< C (see the block loop).
                        let c0 = tail != 0 && cb == blocks - 1 ? C - L : cb * L
                        DepthwiseConvolution.weightGradientRows(g, x + (n * srcImage + c0), dy + (n * dstImage + c0),
                                                                acc + (cb - b0) * taps * L)
                    }
                    r0 = r1
                }
            }
            for cb in b0..<b1 {
                let partial = tail != 0 && cb == blocks - 1
                let c0 = partial ? C - L : cb * L, a = acc + (cb - b0) * taps * L
                for l in (partial ? L - tail : 0)..<L {
                    for k in 0..<taps { dw[(c0 + l) * taps + k] = a[k * L + l] }
                }
            }
        }
    }
}
