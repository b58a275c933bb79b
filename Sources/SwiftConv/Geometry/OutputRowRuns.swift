extension ConvShape {
    /// GEMM columns j ..< j + `count` of an unfolded input whose columns run over (image,
    /// output row, output column), the first at image `n`, row `oh`, column `ow`, as runs
    /// within output rows (a panel that wraps to the next row is two runs or more). For run r:
    /// `segs[3r]` = where it starts in the source, `n * imageStride + oh * rowStride + ow`
    /// elements; `segs[3r + 1]` = its first column's byte offset in the panel row;
    /// `segs[3r + 2]` = its bytes (the format `PackKernels.segmentRows` reads). Returns the
    /// number of runs. The one place this rule lives for the packings that copy such runs
    /// (the unfolded input on a zero-padded copy, and on stride phases).
    @inline(__always)
    func outputRowRuns(image n: Int, row oh: Int, column ow: Int, count: Int, imageStride: Int, rowStride: Int,
                       elementBytes: Int, into segs: UnsafeMutablePointer<Int>) -> Int {
        var runs = 0, t = 0, sn = n, soh = oh, sow = ow
        while t < count {
            let len = min(count &- t, outWidth &- sow)
            segs[3 &* runs] = sn &* imageStride &+ soh &* rowStride &+ sow
            segs[3 &* runs &+ 1] = t &* elementBytes
            segs[3 &* runs &+ 2] = len &* elementBytes
            runs &+= 1; t &+= len; sow = 0; soh &+= 1
            if soh == outHeight { soh = 0; sn &+= 1 }
        }
        return runs
    }
}
