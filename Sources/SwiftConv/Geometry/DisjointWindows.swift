extension ConvShape {
    /// A planar convolution whose windows tile the input without overlap or gaps: the kernel
    /// is the stride (kH = strideH, kW = strideW, at least one over 1), no dilation, no
    /// padding (U-Net's 2x2 stride-2 up-convolutions, patchify stems). Each input pixel
    /// (ih, iw) then belongs to exactly one window, output pixel (ih / kH, iw / kW), as its tap
    /// (ih % kH, iw % kW); input rows or columns past outH * kH / outW * kW (a transposed
    /// conv's output_padding) belong to none.
    var hasDisjointWindows: Bool {
        isPlanar && kernelHeight == strideH && kernelWidth == strideW && kernelTaps > 1
            && dilationH == 1 && dilationW == 1 && padTop == 0 && padLeft == 0
            && outHeight * strideH <= inHeight && outWidth * strideW <= inWidth
    }
}
