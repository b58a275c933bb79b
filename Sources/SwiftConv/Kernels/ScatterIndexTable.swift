/// col2im on few columns as a list made once per call: for each kernel tap t of one x channel,
/// the (col column j, x offset) pairs of the (image, pixel) columns whose window puts tap t
/// inside x, in increasing j. Adding col(t, j) at those offsets, tap by tap, gives every x
/// element its contributions in increasing r = (channel, kh, kw), one per r, exactly as
/// `ScatterAdjoint.col2im` does: the same bits. Used where col has at most
/// `ScatterAdjoint.pixelVectorColumns` columns: there the general col2im walked its row and
/// column bounds per tap and output row for runs of 1-4 elements, and took 12-20% of dcgan's
/// 512->256 4x4 and 256->128 8x8 layers at batch 1 (perf, one thread); here each element is
/// one indexed add.
struct ScatterIndexTable {
    /// taps + 1 offsets into `columns` / `offsets`: tap t's entries are starts[t]..<starts[t + 1].
    let starts: UnsafeMutablePointer<Int>
    /// The col column of each entry.
    let columns: UnsafeMutablePointer<Int>
    /// The x offset of each entry from (image 0, this channel, pixel 0).
    let offsets: UnsafeMutablePointer<Int>
    private let memory: UnsafeMutableRawPointer

    /// Entries at most (taps x columns): beyond, the general col2im (no large per-call table).
    static let maxEntries = 1 << 16

    /// The table of `s` for `columns` (image, pixel) columns, or nil when it would be larger
    /// than `maxEntries` or its memory cannot be had (then the general col2im: the same bits).
    init?(_ s: ConvShape, columns count: Int) {
        let taps = s.kernelTaps
        let (entries, o) = taps.multipliedReportingOverflow(by: count)
        guard !o, entries <= Self.maxEntries, taps > 0, count > 0,
              let raw = AlignedMemory.allocate(bytes: (taps + 1 + 2 * entries) * MemoryLayout<Int>.stride) else { return nil }
        memory = raw
        starts = raw.bindMemory(to: Int.self, capacity: taps + 1 + 2 * entries)
        columns = starts + taps + 1
        offsets = columns + entries
        let pixels = s.outPixels, outW = s.outWidth, inW = s.inWidth
        let imageStride = s.inChannels * s.inPixels
        var e = 0
        for kh in 0..<s.kernelHeight {
            let ihOff = kh * s.dilationH - s.padTop
            let validOh = ScatterAdjoint.validOutputs(offset: ihOff, stride: s.strideH, inSize: s.inHeight, outSize: s.outHeight)
            for kw in 0..<s.kernelWidth {
                let iwOff = kw * s.dilationW - s.padLeft
                let validOw = ScatterAdjoint.validOutputs(offset: iwOff, stride: s.strideW, inSize: inW, outSize: outW)
                starts[kh * s.kernelWidth + kw] = e
                for j in 0..<count {
                    let n = j / pixels, p = j - n * pixels, oh = p / outW, ow = p - oh * outW
                    guard validOh.contains(oh), validOw.contains(ow) else { continue }
                    columns[e] = j
                    offsets[e] = n * imageStride + (oh * s.strideH + ihOff) * inW + ow * s.strideW + iwOff
                    e += 1
                }
            }
        }
        starts[taps] = e
    }

    func release() { AlignedMemory.release(memory) }

    /// Adds col(r, j) into x for the rows `rows` (whole channels of the group, from
    /// `firstChannel`'s first tap) as `ScatterAdjoint.col2im` does; col rows `ldCol` apart.
    func add<T: ConvScalar>(_ s: ConvShape, col: UnsafePointer<T>, ldCol: Int, rows: Range<Int>,
                            dx: UnsafeMutablePointer<T>, firstChannel: Int) {
        let taps = s.kernelTaps
        for ci in (rows.lowerBound / taps)..<(rows.upperBound / taps) {
            let plane = dx + (ci &- firstChannel) &* s.inPixels
            var src = col + (ci &* taps &- rows.lowerBound) &* ldCol
            for t in 0..<taps {
                var e = starts[t]
                let end = starts[t &+ 1]
                while e < end {
                    plane[offsets[e]] += src[columns[e]]
                    e &+= 1
                }
                src += ldCol
            }
        }
    }
}
