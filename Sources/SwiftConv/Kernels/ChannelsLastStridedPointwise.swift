/// The gradients of strided 1x1 convolutions without padding (ResNet's downsampling
/// shortcuts, 1x1 s2) on channels-last data. Such a convolution reads only the input pixels
/// on its output grid (`ConvShape.pointwiseOnOutputGrid`), so its gradients are the stride-1
/// 1x1 ones (`ChannelsLastConvolution`: dy, x and W read in place) on a dense copy of those
/// pixels: grad_input = dy x W into a dense (N * outPixels x C_in) workspace, then spread
/// onto the grid (every other pixel gets the bias, or 0); grad_weight = dy^T x (x gathered
/// from the grid).
///
/// WHY: the conversion path transposed x, dy and dx (three passes over the activations,
/// about 0.5 ns per element); here a quarter of x (stride 2) is copied, and dx written once.
/// Bits: every element is the stride-1 kernel's fixed-order sum (or a copied bias / 0): the
/// same for every thread count.
extension ChannelsLastConvolution {
    static func adjointOnOutputGrid<T: ConvScalar>(_ kernel: ChannelsLastKernel, _ s: ConvShape, _ p: ConvShape,
                                                   dy: UnsafePointer<T>, w: UnsafePointer<T>, bias: UnsafePointer<T>?,
                                                   dx: UnsafeMutablePointer<T>) throws {
        let cin = s.inChannels
        // (At most dx's size: no overflow.)
        let dense = try Workspace<T>(count: max(1, s.batch * s.outPixels * cin), for: "the grid pixels of a strided 1x1 grad_input")
        let d = dense.pointer
        try adjoint(kernel, p, dy: dy, w: w, bias: bias, dx: d)
        let lines = s.batch * s.inHeight
        ThreadPool.shared.parallelFor(lines, work: ThreadPool.copyWork(elements: s.batch * s.inPixels * cin)) { line in
            let n = line / s.inHeight, ih = line - n * s.inHeight, oh = ih / s.strideH
            let onGrid = ih - oh * s.strideH == 0 && oh < s.outHeight
            let out = dx + line * s.inWidth * cin, rowBase = d + (n * s.outHeight + oh) * s.outWidth * cin
            for iw in 0..<s.inWidth {
                let o = out + iw * cin, ow = iw / s.strideW
                if onGrid && iw - ow * s.strideW == 0 && ow < s.outWidth {
                    o.update(from: rowBase + ow * cin, count: cin)
                } else if let bias {
                    o.update(from: bias, count: cin)
                } else {
                    o.update(repeating: 0, count: cin)
                }
            }
        }
    }

    static func weightGradientOnOutputGrid<T: ConvScalar>(_ kernel: ChannelsLastKernel, _ s: ConvShape, _ p: ConvShape,
                                                          x: UnsafePointer<T>, dy: UnsafePointer<T>,
                                                          dw: UnsafeMutablePointer<T>) throws {
        let cin = s.inChannels
        let grid = try Workspace<T>(count: max(1, s.batch * s.outPixels * cin), for: "the grid pixels of a strided 1x1 grad_weight")
        let g = grid.pointer
        let lines = s.batch * s.outHeight
        ThreadPool.shared.parallelFor(lines, work: ThreadPool.copyWork(elements: s.batch * s.outPixels * cin)) { line in
            let n = line / s.outHeight, oh = line - n * s.outHeight
            let src = x + (n * s.inHeight + oh * s.strideH) * s.inWidth * cin, dst = g + line * s.outWidth * cin
            for ow in 0..<s.outWidth { (dst + ow * cin).update(from: src + ow * s.strideW * cin, count: cin) }
        }
        try weightGradient(kernel, p, x: UnsafePointer(g), dy: dy, dw: dw)
    }
}
