/// The unfolded (im2col) input of a strided convolution, read from its stride phases
/// (`StridePhaseSplit`): unfolded row (ci, kh, kw) over an output row is one contiguous run
/// of a phase plane (`ConvShape.unfoldedRowOffsets` with phases), so its panels pack like a
/// stride-1 convolution's on a zero-padded copy (one 64-byte copy per packed row, or a few
/// runs when a panel wraps to the next output row) instead of a gather of every s-th element.
/// The same values as `UnfoldedInput` on the same shape, in the same places: the same bits.
struct PhaseUnfoldedInput<Scalar: ConvScalar>: GemmOperand {
    /// The phases of the group's first channel (of image 0 when columns span images).
    let x: UnsafePointer<Scalar>
    let shape: ConvShape
    let phases: StridePhases
    /// Elements from one image's phases to the next (columns run over (image, pixel)).
    let imageStride: Int

    init(x: UnsafePointer<Scalar>, shape: ConvShape, phases: StridePhases, imageStride: Int = 0) {
        self.x = x; self.shape = shape; self.phases = phases; self.imageStride = imageStride
    }

    /// Where output column j's window starts on the phase grid (image, oh, ow).
    @inline(__always) func origin(_ j: Int) -> Int {
        let pixels = shape.outPixels, outW = shape.outWidth
        let n = j / pixels, p = j - n &* pixels
        let oh = p / outW, ow = p - oh &* outW
        return n &* imageStride &+ oh &* phases.width &+ ow
    }

    @inline(__always) func element(_ r: Int, _ j: Int) -> Scalar {
        var offset = 0
        shape.unfoldedRowOffsets(r..<(r &+ 1), plane: 0, width: 0, phases: phases, into: &offset)
        return x[origin(j) &+ offset]
    }

    func packB(into dst: UnsafeMutablePointer<Scalar>, depth: Range<Int>, cols: Range<Int>, nr: Int) {
        let kc = depth.count
        if kc == 0 || cols.isEmpty { return }
        let outW = shape.outWidth, outH = shape.outHeight, pixels = shape.outPixels
        let width = phases.width, imageStride = self.imageStride
        withUnsafeTemporaryAllocation(of: Int.self, capacity: kc &+ 3 &* nr) { buffer in
            let offsets = buffer.baseAddress!, segs = offsets + kc
            shape.unfoldedRowOffsets(depth, plane: 0, width: 0, phases: phases, into: offsets)
            var n = cols.lowerBound / pixels
            var oh = (cols.lowerBound - n &* pixels) / outW
            var ow = cols.lowerBound - n &* pixels - oh &* outW
            var d = dst, j0 = cols.lowerBound
            while j0 < cols.upperBound {
                let w = min(nr, cols.upperBound &- j0)
                if w == nr && outW &- ow >= nr {
                    // Inside one output row: each packed row is one copy.
                    PackKernels.gatherRows(d, x + (n &* imageStride &+ oh &* width &+ ow), offsets, count: kc)
                } else {
                    // The panel's columns as runs within output rows (source offset in
                    // elements, destination byte, bytes), the rest of the panel zero.
                    let count = shape.outputRowRuns(image: n, row: oh, column: ow, count: w, imageStride: imageStride,
                                                    rowStride: width, elementBytes: MemoryLayout<Scalar>.stride, into: segs)
                    PackKernels.segmentRows(d, x, offsets, count: kc, segs, segCount: count, filled: w)
                }
                d += kc &* nr; j0 &+= nr
                ow &+= nr
                while ow >= outW { ow &-= outW; oh &+= 1; if oh == outH { oh = 0; n &+= 1 } }
            }
        }
    }
}
