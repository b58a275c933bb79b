extension ConvShape {
    /// A planar 1x1 convolution with a stride over 1 and no padding reads only the input
    /// pixels on its output grid (ih = oh * strideH, iw = ow * strideW; every one inside the
    /// input): on those pixels it is the stride-1 1x1 convolution returned here, whose input
    /// plane is the output plane. nil for any other shape (a padded grid reads zeros).
    var pointwiseOnOutputGrid: ConvShape? {
        guard isPlanar, kernelTaps == 1, strideH > 1 || strideW > 1, padTop == 0, padLeft == 0,
              outHeight > 0, outWidth > 0,
              (outHeight - 1) * strideH < inHeight, (outWidth - 1) * strideW < inWidth else { return nil }
        return ConvShape(batch: batch, groups: groups, inChannels: inChannels, outChannels: outChannels,
                         inHeight: outHeight, inWidth: outWidth, outHeight: outHeight, outWidth: outWidth,
                         kernelHeight: 1, kernelWidth: 1)
    }
}
