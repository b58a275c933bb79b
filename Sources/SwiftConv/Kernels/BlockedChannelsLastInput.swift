/// The weight gradient's B operand read from a zero-bordered, channel-blocked copy of the
/// input: per channel block of a group, copy[n][hp][wp][c] holds x[n, cb * block + c,
/// hp - padTop, wp - padLeft] (zero in the border), `block` channels (one packed panel: 16
/// Floats, 8 Doubles) side by side per pixel. The unfolded input's column (kh, kw) of the
/// block at output pixel (oh, ow) is then one 64-byte row of the copy, so a B panel row is a
/// plain vector copy: no bounds test, no register transpose per tap. The transposes happen
/// once, when the copy is made (x's values, not kH * kW times as many: the per-tap transposes
/// and their setup took ~15-20% of a 3x3 grad_weight; see `GemmWeightGradient.blocked`).
/// Along one output row the rows of a tap are evenly spaced (strideW * block apart) and the
/// taps kw of a kernel row dilationW * block apart, so `GemmWeightGradient.blockedInPlace`
/// hands the copy to the block functions as B without packing it at all.
///
/// Column order of B: c = (cb * taps + t) * block + lane, t = kh * kW + kw, so one panel is one
/// tap of one channel block and the columns of a channel block (block * taps of them) are
/// contiguous: the caller reorders them to PyTorch's (ci, kh, kw). Every value is the one
/// `BatchedUnfoldedTransposed` gives for the same (ci, tap), and the GEMM sums each
/// element's products in the same (image, pixel) order, so the result has the same bits.
struct BlockedChannelsLastInput<Scalar: ConvScalar>: GemmOperand {
    /// The copy of channel block `firstBlock` of the group: image 0, padded pixel (0, 0);
    /// the next blocks follow, `blockStride` elements apart.
    let base: UnsafePointer<Scalar>
    let shape: ConvShape
    /// The group's channel block the copy starts with (B's columns before it are not read).
    let firstBlock: Int
    /// Channels per block (the B panel width).
    let block: Int
    let paddedHeight: Int
    let paddedWidth: Int
    /// Elements per channel block (all images).
    let blockStride: Int

    init(base: UnsafePointer<Scalar>, shape: ConvShape, firstBlock: Int) {
        self.base = base; self.shape = shape; self.firstBlock = firstBlock
        block = KernelTable.nr(Scalar.self)
        (paddedHeight, paddedWidth) = Self.paddedSize(shape)
        blockStride = shape.batch * paddedHeight * paddedWidth * block
    }

    /// Whether `shape` can use the copy: a planar conv, whole channel blocks per group, no
    /// cropping (negative padding).
    static func supports(_ s: ConvShape) -> Bool {
        s.isPlanar && s.padTop >= 0 && s.padLeft >= 0 && s.inChannelsPerGroup > 0
            && s.inChannelsPerGroup % KernelTable.nr(Scalar.self) == 0
    }

    /// The padded plane's size: the input after its top / left border, and every row and
    /// column a window reads (the bottom / right border).
    static func paddedSize(_ s: ConvShape) -> (height: Int, width: Int) {
        let h = max(s.padTop + s.inHeight, (s.outHeight - 1) * s.strideH + (s.kernelHeight - 1) * s.dilationH + 1)
        let w = max(s.padLeft + s.inWidth, (s.outWidth - 1) * s.strideW + (s.kernelWidth - 1) * s.dilationW + 1)
        return (h, w)
    }

    /// Elements of the copy of one channel block (every image), or nil when they cannot be
    /// counted.
    static func blockCount(_ s: ConvShape) -> Int? {
        let (h, w) = paddedSize(s)
        return try? Checked.product([s.batch, h, w, KernelTable.nr(Scalar.self)], "")
    }

    /// Copies one channel block of x (NCHW; `x` at its first channel of image 0) for every
    /// image, `block` input rows transposed at a time into the pixels' blocks, and zeroes
    /// the border: `blockCount` elements at `copy`. Only copies: no value changes.
    static func fill(_ s: ConvShape, x: UnsafePointer<Scalar>, into copy: UnsafeMutablePointer<Scalar>) {
        let block = KernelTable.nr(Scalar.self), (hp, wp) = paddedSize(s)
        let inH = s.inHeight, inW = s.inWidth, top = s.padTop, left = s.padLeft, right = wp - left - inW
        for n in 0..<s.batch {
            let image = copy + n * hp * wp * block, src = x + n * s.inChannels * s.inPixels
            for h in 0..<hp {
                let row = image + h * wp * block, ih = h - top
                if ih < 0 || ih >= inH {
                    row.update(repeating: 0, count: wp * block)
                    continue
                }
                row.update(repeating: 0, count: left * block)
                PackKernels.transposeTile(row + left * block, src + ih * inW, srcStride: s.inPixels, count: inW, nr: block)
                (row + (left + inW) * block).update(repeating: 0, count: right * block)
            }
        }
    }

    /// The same copy of one channel block from channels-last x (`x` at the block's first
    /// channel of image 0): zeroed (the border), then each pixel's `block` channels copied as
    /// one 64-byte row. Only copies.
    static func fillFromChannelsLast(_ s: ConvShape, x: UnsafePointer<Scalar>, into copy: UnsafeMutablePointer<Scalar>) {
        let block = KernelTable.nr(Scalar.self), (hp, wp) = paddedSize(s)
        let inW = s.inWidth, channels = s.inChannels
        copy.update(repeating: 0, count: s.batch * hp * wp * block)
        for line in 0..<(s.batch * s.inHeight) {
            let n = line / s.inHeight, ih = line - n * s.inHeight
            let src = x + line * inW * channels, out = copy + ((n * hp + ih + s.padTop) * wp + s.padLeft) * block
            for iw in 0..<inW { copyPanelRow(out + iw &* block, src + iw &* channels) }
        }
    }

    @inline(__always) func element(_ q: Int, _ c: Int) -> Scalar {
        let s = shape, taps = s.kernelTaps
        let lane = c % block, bt = c / block, cb = bt / taps, t = bt &- cb &* taps
        let kh = t / s.kernelWidth, kw = t &- kh &* s.kernelWidth
        let n = q / s.outPixels, p = q &- n &* s.outPixels
        let oh = p / s.outWidth, ow = p &- oh &* s.outWidth
        let hp = oh &* s.strideH &+ kh &* s.dilationH, wpos = ow &* s.strideW &+ kw &* s.dilationW
        return base[(cb &- firstBlock) &* blockStride &+ ((n &* paddedHeight &+ hp) &* paddedWidth &+ wpos) &* block &+ lane]
    }

    func packB(into dst: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>, nr: Int) {
        let s = shape, taps = s.kernelTaps, pixels = s.outPixels, outW = s.outWidth
        let kc = depth.count
        if kc == 0 || cols.isEmpty { return }
        if nr != block {
            // Not the layout's panel width (no caller asks for it): element by element.
            var d = dst, j0 = cols.lowerBound
            while j0 < cols.upperBound {
                let w = min(nr, cols.upperBound &- j0)
                for p in 0..<kc { for jj in 0..<nr { d[p &* nr &+ jj] = jj < w ? element(depth.lowerBound &+ p, j0 &+ jj) : 0 } }
                d += kc &* nr; j0 &+= nr
            }
            return
        }
        let rowStep = s.strideH &* paddedWidth &* block, colStep = s.strideW &* block
        var d = dst, j0 = cols.lowerBound
        while j0 < cols.upperBound {
            // Panels start on a block (the caller's columns are whole panels of one tap).
            let w = min(nr, cols.upperBound &- j0)
            let bt = j0 / block, cb = bt / taps, t = bt &- cb &* taps
            let kh = t / s.kernelWidth, kw = t &- kh &* s.kernelWidth
            let tapBase = base + ((cb &- firstBlock) &* blockStride &+ (kh &* s.dilationH &* paddedWidth &+ kw &* s.dilationW) &* block)
            var n = depth.lowerBound / pixels, p = depth.lowerBound &- n &* pixels
            var oh = p / outW, ow = p &- oh &* outW
            var src = tapBase + ((n &* paddedHeight &+ oh &* s.strideH) &* paddedWidth &+ ow &* s.strideW) &* block
            var rowStart = src - ow &* colStep
            for q in 0..<kc {
                let o = d + q &* nr
                if w == nr {
                    copyPanelRow(o, src)
                } else {
                    for jj in 0..<nr { o[jj] = jj < w ? src[jj] : 0 }
                }
                ow &+= 1
                if ow == outW {
                    ow = 0; oh &+= 1
                    if oh == s.outHeight {
                        oh = 0; n &+= 1
                        rowStart = tapBase + n &* paddedHeight &* paddedWidth &* block
                    } else {
                        rowStart += rowStep
                    }
                    src = rowStart
                } else {
                    src += colStep
                }
            }
            d += kc &* nr; j0 &+= nr
        }
    }
}
