/// The fully derived sizes of one 2-D convolution `y = conv(x, w)`, after validation.
///
/// Every kernel works on this one description. Transposed convolution is the adjoint of a
/// convolution, so it is described by the ConvShape of the convolution it transposes: its
/// input is that convolution's `y`, its output that convolution's `x`. Out-of-range input
/// rows/columns (padding, including asymmetric bottom/right padding) read as zero, so the
/// output size is stored rather than re-derived; `ConvGeometry` is the only place that
/// derives it from user parameters.
///
/// Layouts: x is (batch, inChannels, inHeight, inWidth); w is
/// (outChannels, inChannels / groups, kernelHeight, kernelWidth); y is
/// (batch, outChannels, outHeight, outWidth); all C-contiguous.
public struct ConvShape: Equatable, CustomStringConvertible {
    public var batch: Int
    public var groups: Int
    public var inChannels: Int
    public var outChannels: Int
    public var inHeight: Int
    public var inWidth: Int
    public var outHeight: Int
    public var outWidth: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideH: Int
    public var strideW: Int
    public var dilationH: Int
    public var dilationW: Int
    /// Zeros virtually added above / left of x. (Bottom/right padding is implied by outHeight.)
    public var padTop: Int
    public var padLeft: Int

    public init(batch: Int, groups: Int, inChannels: Int, outChannels: Int,
                inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int,
                kernelHeight: Int, kernelWidth: Int, strideH: Int = 1, strideW: Int = 1,
                dilationH: Int = 1, dilationW: Int = 1, padTop: Int = 0, padLeft: Int = 0) {
        self.batch = batch; self.groups = groups
        self.inChannels = inChannels; self.outChannels = outChannels
        self.inHeight = inHeight; self.inWidth = inWidth
        self.outHeight = outHeight; self.outWidth = outWidth
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideH = strideH; self.strideW = strideW
        self.dilationH = dilationH; self.dilationW = dilationW
        self.padTop = padTop; self.padLeft = padLeft
    }

    public var inChannelsPerGroup: Int { inChannels / groups }
    public var outChannelsPerGroup: Int { outChannels / groups }
    public var inPixels: Int { inHeight * inWidth }
    public var outPixels: Int { outHeight * outWidth }
    public var kernelTaps: Int { kernelHeight * kernelWidth }
    /// Rows of the unfolded (im2col) matrix of one group: (channel, kh, kw).
    public var patchSize: Int { inChannelsPerGroup * kernelTaps }

    public var inputCount: Int { batch * inChannels * inPixels }
    public var weightCount: Int { outChannels * patchSize }
    public var outputCount: Int { batch * outChannels * outPixels }

    /// Multiply-adds of one forward pass (each is 2 flops).
    public var macs: Int { batch * outChannels * outPixels * patchSize }

    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideH == 1 && strideW == 1
            && padTop == 0 && padLeft == 0 && outHeight == inHeight && outWidth == inWidth
    }

    public var description: String {
        "N\(batch) \(inChannels)->\(outChannels) \(inHeight)x\(inWidth)->\(outHeight)x\(outWidth) "
            + "k\(kernelHeight)x\(kernelWidth) s\(strideH)x\(strideW) d\(dilationH)x\(dilationW) "
            + "pad(top \(padTop), left \(padLeft)) groups \(groups)"
    }
}
