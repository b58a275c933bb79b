/// Volumetric (3-D) convolutions on the planar kernels.
///
/// For one output depth od, a 3-D convolution is a 2-D one whose input channels are the
/// (channel, kernel depth) pairs: channel c*kD + kd is the input plane at depth
/// od*strideD - padFront + kd*dilationD (a zero plane outside the input). The weights
/// (C_out, C_in/g, kD, kH, kW) are, unchanged in memory, the planar weights
/// (C_out, C_in/g * kD, kH, kW), so every planar kernel (GEMM, direct, taps, scatter,
/// upsample, weight gradient) runs a volumetric convolution with the same GEMM shape.
///
/// The (image, output depth) pairs are processed in blocks of `slicesPerBlock` — the planar
/// batch — so the gathered planes stay within a fixed budget. Per block:
/// - forward: gather the planes, run the planar forward, copy the result to y[n, :, od];
/// - adjoint: gather dy[n, :, od], run the planar adjoint, add each plane back to its depth
///   (blocks in order, so every dx element receives its terms in one fixed order);
/// - weight gradient: gather both, run the planar weight gradient; blocks after the first
///   are added to dw in block order.
/// Block sizes depend on the shape only, never on the thread count.
public struct DepthLowering: Sendable {
    /// The volumetric convolution.
    public let shape: ConvShape
    /// (image, output depth) pairs per planar call.
    public let slicesPerBlock: Int

    /// Bytes of gathered planes per block, at most (unless one slice alone is larger).
    static let budgetBytes = 16 << 20

    /// Elements of the gathered input planes and of the output slices of one block.
    let planeCount: Int, sliceCount: Int

    /// Throws outOfMemory when even one slice's planes cannot be counted. `budgetBytes`
    /// bounds the gathered planes of one block (tests pass small budgets to get many blocks).
    init(_ s: ConvShape, elementBytes: Int, budgetBytes: Int = DepthLowering.budgetBytes) throws {
        shape = s
        func what() -> String { "the depth slices of a \(s.kernelDepth)-deep kernel over \(s.inChannels) channels" }
        let inSlice = try Checked.product([s.inChannels, s.kernelDepth, s.inHeight, s.inWidth], what())
        let outSlice = s.outChannels * s.outHeight * s.outWidth  // <= the output size, checked by ConvGeometry
        let perSlice = max(1, try Checked.mul(try Checked.add(inSlice, outSlice, what()), elementBytes, what()))
        let total = s.batch * s.outDepth
        slicesPerBlock = max(1, min(total, budgetBytes / perSlice))
        planeCount = try Checked.mul(slicesPerBlock, inSlice, what())
        sliceCount = slicesPerBlock * outSlice
    }

    /// All (image, output depth) pairs.
    public var totalSlices: Int { shape.batch * shape.outDepth }
    public var blocks: Int { (totalSlices + slicesPerBlock - 1) / slicesPerBlock }

    /// The planar convolution of `slices` (image, output depth) pairs.
    public func planar(slices: Int) -> ConvShape {
        let s = shape
        return ConvShape(batch: slices, groups: s.groups, inChannels: s.inChannels * s.kernelDepth,
                         outChannels: s.outChannels, inHeight: s.inHeight, inWidth: s.inWidth,
                         outHeight: s.outHeight, outWidth: s.outWidth,
                         kernelHeight: s.kernelHeight, kernelWidth: s.kernelWidth,
                         strideH: s.strideH, strideW: s.strideW, dilationH: s.dilationH, dilationW: s.dilationW,
                         padTop: s.padTop, padLeft: s.padLeft)
    }

    /// The first full-size planar shape (what the kernels are chosen for).
    public var blockShape: ConvShape { planar(slices: slicesPerBlock) }

    /// y = conv(x, w) + bias; `run(planar, x, y)` runs the chosen planar forward kernel.
    /// With `border`, x is the unpadded input and the planes are gathered padded (`gatherPlanes`).
    func forward<T: ConvScalar>(x: UnsafePointer<T>, y: UnsafeMutablePointer<T>, border: BorderPadding? = nil,
                                run: (ConvShape, UnsafePointer<T>, UnsafeMutablePointer<T>) throws -> Void) throws {
        let s = shape
        let planes = try Workspace<T>(count: planeCount, for: "the depth slices of the input")
        let out = try Workspace<T>(count: sliceCount, for: "the planar output")
        for q0 in stride(from: 0, to: totalSlices, by: slicesPerBlock) {
            let q1 = min(totalSlices, q0 + slicesPerBlock)
            gatherPlanes(x, q0..<q1, into: planes.pointer, border: border)
            try run(planar(slices: q1 - q0), UnsafePointer(planes.pointer), out.pointer)
            moveSlices(UnsafePointer(out.pointer), q0..<q1, channels: s.outChannels, into: y)
        }
    }

    /// dx = conv^T(dy, w) + bias; `run(planar, dy, dx)` runs the chosen planar adjoint kernel
    /// (without bias).
    func adjoint<T: ConvScalar>(dy: UnsafePointer<T>, bias: UnsafePointer<T>?, dx: UnsafeMutablePointer<T>,
                                run: (ConvShape, UnsafePointer<T>, UnsafeMutablePointer<T>) throws -> Void) throws {
        let s = shape
        let planes = try Workspace<T>(count: planeCount, for: "the depth slices of the result")
        let slices = try Workspace<T>(count: sliceCount, for: "the depth slices of the gradient")
        for n in 0..<s.batch {
            fillRows(dx + n * s.inChannels * s.inPixels, rows: s.inChannels, cols: s.inPixels, ld: s.inPixels, values: bias)
        }
        for q0 in stride(from: 0, to: totalSlices, by: slicesPerBlock) {
            let q1 = min(totalSlices, q0 + slicesPerBlock)
            gatherSlices(dy, q0..<q1, channels: s.outChannels, into: slices.pointer)
            try run(planar(slices: q1 - q0), UnsafePointer(slices.pointer), planes.pointer)
            addPlanes(UnsafePointer(planes.pointer), q0..<q1, into: dx)
        }
    }

    /// dw = the weight gradient; `run(planar, x, dy, dw)` runs the chosen planar kernel.
    /// With `border`, x is the unpadded input (as in `forward`).
    func weightGradient<T: ConvScalar>(x: UnsafePointer<T>, dy: UnsafePointer<T>, dw: UnsafeMutablePointer<T>, border: BorderPadding? = nil,
                                       run: (ConvShape, UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>) throws -> Void) throws {
        let s = shape
        let planes = try Workspace<T>(count: planeCount, for: "the depth slices of the input")
        let slices = try Workspace<T>(count: sliceCount, for: "the depth slices of the gradient")
        let partial = try Workspace<T>(count: blocks > 1 ? s.weightCount : 0, for: "a partial weight gradient")
        for q0 in stride(from: 0, to: totalSlices, by: slicesPerBlock) {
            let q1 = min(totalSlices, q0 + slicesPerBlock)
            gatherPlanes(x, q0..<q1, into: planes.pointer, border: border)
            gatherSlices(dy, q0..<q1, channels: s.outChannels, into: slices.pointer)
            let target = q0 == 0 ? dw : partial.pointer
            try run(planar(slices: q1 - q0), UnsafePointer(planes.pointer), UnsafePointer(slices.pointer), target)
            if q0 > 0 { ScatterAdjoint.addRow(dw, UnsafePointer(partial.pointer), s.weightCount) }
        }
        if totalSlices == 0 { dw.update(repeating: 0, count: s.weightCount) }
    }

    /// planes[qi, c*kD + kd] = x[n, c, od*strideD - padFront + kd*dilationD] (zeros outside)
    /// for the slices q = n*outDepth + od in `q`. With `border` (a padding mode; the shape is
    /// the convolution of the padded input), x is the unpadded input and each plane is the
    /// padded plane of the depth the border's map names (`BorderPadding.withPlanePadding`): the
    /// planes of the padded copy, without making it.
    func gatherPlanes<T: ConvScalar>(_ x: UnsafePointer<T>, _ q: Range<Int>, into planes: UnsafeMutablePointer<T>,
                                     border: BorderPadding? = nil) {
        let s = shape, plane = s.inHeight * s.inWidth, kD = s.kernelDepth, c = s.inChannels
        if let border {
            let depths = border.indexMap.sources(0), inputPlane = border.size[1] * border.size[2], pixels = border.pixels
            border.withPlanePadding { (padPlane: (UnsafePointer<T>, UnsafeMutablePointer<T>) -> Void) in
                ThreadPool.shared.parallelFor(q.count * c, work: ThreadPool.copyWork(elements: q.count * c * kD * plane)) { task in
                    let qi = task / c, ch = task % c
                    let n = (q.lowerBound + qi) / s.outDepth, od = (q.lowerBound + qi) % s.outDepth
                    let src = x + (n * c + ch) * pixels, dst = planes + (qi * c + ch) * kD * plane
                    for kd in 0..<kD { padPlane(src + depths[od * s.strideD + kd * s.dilationD] * inputPlane, dst + kd * plane) }
                }
            }
            return
        }
        ThreadPool.shared.parallelFor(q.count * c, work: ThreadPool.copyWork(elements: q.count * c * kD * plane)) { task in
            let qi = task / c, ch = task % c
            let n = (q.lowerBound + qi) / s.outDepth, od = (q.lowerBound + qi) % s.outDepth
            let dst = planes + (qi * c + ch) * kD * plane
            let src = x + (n * c + ch) * s.inPixels
            for kd in 0..<kD {
                let id = od * s.strideD - s.padFront + kd * s.dilationD
                if id >= 0 && id < s.inDepth {
                    (dst + kd * plane).update(from: src + id * plane, count: plane)
                } else {
                    (dst + kd * plane).update(repeating: 0, count: plane)
                }
            }
        }
    }

    /// dx[n, c, id] += planes[qi, c*kD + kd] for every slice q = n*outDepth + od in `q` and
    /// kd whose depth id = od*strideD - padFront + kd*dilationD lies inside dx, in (q, kd)
    /// order per element.
    func addPlanes<T: ConvScalar>(_ planes: UnsafePointer<T>, _ q: Range<Int>, into dx: UnsafeMutablePointer<T>) {
        let s = shape, plane = s.inHeight * s.inWidth, kD = s.kernelDepth, c = s.inChannels
        ThreadPool.shared.parallelFor(c, work: ThreadPool.copyWork(elements: q.count * c * kD * plane)) { ch in
            for qi in 0..<q.count {
                let n = (q.lowerBound + qi) / s.outDepth, od = (q.lowerBound + qi) % s.outDepth
                let dst = dx + (n * c + ch) * s.inPixels
                let src = planes + (qi * c + ch) * kD * plane
                for kd in 0..<kD {
                    let id = od * s.strideD - s.padFront + kd * s.dilationD
                    if id >= 0 && id < s.inDepth { ScatterAdjoint.addRow(dst + id * plane, src + kd * plane, plane) }
                }
            }
        }
    }

    /// slices[qi, ch] = a[n, ch, od] for q = n*outDepth + od in `q` (a has `channels`
    /// channels of outDepth planes).
    func gatherSlices<T: ConvScalar>(_ a: UnsafePointer<T>, _ q: Range<Int>, channels: Int, into slices: UnsafeMutablePointer<T>) {
        let s = shape, plane = s.outHeight * s.outWidth
        ThreadPool.shared.parallelFor(q.count, work: ThreadPool.copyWork(elements: q.count * channels * plane)) { qi in
            let n = (q.lowerBound + qi) / s.outDepth, od = (q.lowerBound + qi) % s.outDepth
            for ch in 0..<channels {
                (slices + (qi * channels + ch) * plane).update(from: a + ((n * channels + ch) * s.outDepth + od) * plane, count: plane)
            }
        }
    }

    /// a[n, ch, od] = slices[qi, ch]: the inverse of `gatherSlices`.
    func moveSlices<T: ConvScalar>(_ slices: UnsafePointer<T>, _ q: Range<Int>, channels: Int, into a: UnsafeMutablePointer<T>) {
        let s = shape, plane = s.outHeight * s.outWidth
        ThreadPool.shared.parallelFor(q.count, work: ThreadPool.copyWork(elements: q.count * channels * plane)) { qi in
            let n = (q.lowerBound + qi) / s.outDepth, od = (q.lowerBound + qi) % s.outDepth
            for ch in 0..<channels {
                (a + ((n * channels + ch) * s.outDepth + od) * plane).update(from: slices + (qi * channels + ch) * plane, count: plane)
            }
        }
    }
}
