/// The fully derived sizes of one convolution `y = conv(x, w)` with up to three spatial
/// axes (depth, height, width), after validation.
///
/// Every kernel works on this one description; 1-D and 2-D convolutions have depth 1
/// (and 1-D height 1), so they are `isPlanar` and run on the plane kernels directly, while
/// volumetric ones are lowered to planar ones over depth slices (DepthLowering.swift).
/// Transposed convolution is the adjoint of a convolution, so it is described by the
/// ConvShape of the convolution it transposes: its input is that convolution's `y`, its
/// output that convolution's `x`. Out-of-range input positions (padding, including the
/// asymmetric after-padding) read as zero, so the output size is stored rather than
/// re-derived; `ConvGeometry` is the only place that derives it from user parameters.
///
/// Layouts: x is (batch, inChannels, inDepth, inHeight, inWidth); w is
/// (outChannels, inChannels / groups, kernelDepth, kernelHeight, kernelWidth); y is
/// (batch, outChannels, outDepth, outHeight, outWidth); all C-contiguous.
public struct ConvShape: Hashable, Sendable, CustomStringConvertible {
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
    /// The depth axis (1, 1, 1, 1, 1, 0 for 1-D and 2-D convolutions).
    public var inDepth: Int
    public var outDepth: Int
    public var kernelDepth: Int
    public var strideD: Int
    public var dilationD: Int
    public var padFront: Int

    public init(batch: Int, groups: Int, inChannels: Int, outChannels: Int,
                inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int,
                kernelHeight: Int, kernelWidth: Int, strideH: Int = 1, strideW: Int = 1,
                dilationH: Int = 1, dilationW: Int = 1, padTop: Int = 0, padLeft: Int = 0,
                inDepth: Int = 1, outDepth: Int = 1, kernelDepth: Int = 1, strideD: Int = 1,
                dilationD: Int = 1, padFront: Int = 0) {
        self.batch = batch; self.groups = groups
        self.inChannels = inChannels; self.outChannels = outChannels
        self.inHeight = inHeight; self.inWidth = inWidth
        self.outHeight = outHeight; self.outWidth = outWidth
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideH = strideH; self.strideW = strideW
        self.dilationH = dilationH; self.dilationW = dilationW
        self.padTop = padTop; self.padLeft = padLeft
        self.inDepth = inDepth; self.outDepth = outDepth; self.kernelDepth = kernelDepth
        self.strideD = strideD; self.dilationD = dilationD; self.padFront = padFront
    }

    public var inChannelsPerGroup: Int { inChannels / groups }
    public var outChannelsPerGroup: Int { outChannels / groups }
    /// Elements of one input / output channel (all spatial axes).
    public var inPixels: Int { inDepth * inHeight * inWidth }
    public var outPixels: Int { outDepth * outHeight * outWidth }
    public var kernelTaps: Int { kernelDepth * kernelHeight * kernelWidth }
    /// Rows of the unfolded (im2col) matrix of one group: (channel, kd, kh, kw).
    public var patchSize: Int { inChannelsPerGroup * kernelTaps }

    public var inputCount: Int { batch * inChannels * inPixels }
    public var weightCount: Int { outChannels * patchSize }
    public var outputCount: Int { batch * outChannels * outPixels }

    /// Multiply-adds of one forward pass (each is 2 flops).
    public var macs: Int { batch * outChannels * outPixels * patchSize }

    /// No depth axis in play: the plane kernels run this shape as it is.
    public var isPlanar: Bool { inDepth == 1 && outDepth == 1 && kernelDepth == 1 && padFront == 0 }

    public var isPointwise: Bool {
        kernelTaps == 1 && strideH == 1 && strideW == 1 && strideD == 1
            && padTop == 0 && padLeft == 0 && padFront == 0
            && outHeight == inHeight && outWidth == inWidth && outDepth == inDepth
    }

    public var description: String {
        if isPlanar {
            return "N\(batch) \(inChannels)->\(outChannels) \(inHeight)x\(inWidth)->\(outHeight)x\(outWidth) "
                + "k\(kernelHeight)x\(kernelWidth) s\(strideH)x\(strideW) d\(dilationH)x\(dilationW) "
                + "pad(top \(padTop), left \(padLeft)) groups \(groups)"
        }
        return "N\(batch) \(inChannels)->\(outChannels) \(inDepth)x\(inHeight)x\(inWidth)->\(outDepth)x\(outHeight)x\(outWidth) "
            + "k\(kernelDepth)x\(kernelHeight)x\(kernelWidth) s\(strideD)x\(strideH)x\(strideW) "
            + "d\(dilationD)x\(dilationH)x\(dilationW) pad(front \(padFront), top \(padTop), left \(padLeft)) groups \(groups)"
    }
}
