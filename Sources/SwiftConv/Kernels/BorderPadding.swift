/// Padding modes other than zeros ("reflect", "replicate", "circular"), as
/// `torch.nn.Conv*d(padding_mode=...)` computes them: `F.pad(x, pads, mode)`, then the
/// convolution with no padding of its own.
///
/// The plan materialises the padded input (`pad`) and runs the convolution on it; for the
/// backward, grad_input is computed for the padded input and folded back (`fold`, the
/// adjoint of `pad`: every padded position adds its gradient to the input element it was
/// copied from). Rank-generic on ConvShape's three axes (depth, height, width; missing outer
/// axes have size 1 and no padding). Both run in parallel over the (image, channel) planes;
/// within a plane the order is fixed, so the fold's sums are bitwise identical for every
/// thread count.
///
/// Padded position j of an axis reads the input element `indexMap` names for it (the
/// modes' rule: BorderIndexMap.source): k = j - before inside the input; reflect mirrors
/// without the edge, replicate clamps, circular wraps.
/// ConvGeometry enforces these rules (PyTorch's) before a BorderPadding is made.
public struct BorderPadding: Hashable, Sendable, CustomStringConvertible {
    public let mode: PaddingMode
    /// The convolution's spatial axes (1, 2 or 3): the last `rank` of the three.
    public let rank: Int
    /// (image, channel) planes: batch * channels.
    public let planes: Int
    /// The unpadded sizes (depth, height, width).
    public let size: [Int]
    /// Elements added before / after each axis (depth, height, width).
    public let before: [Int]
    public let after: [Int]
    /// Per axis, the input index each padded position reads (computed once, here).
    public let indexMap: BorderIndexMap

    /// `size`, `before`, `after`: three axes each; the caller (ConvGeometry) has checked
    /// the mode's rules and that the padded sizes fit. Throws outOfMemory when the index
    /// map's memory cannot be had.
    init(mode: PaddingMode, rank: Int = 3, planes: Int, size: [Int], before: [Int], after: [Int]) throws {
        self.mode = mode
        self.rank = rank
        self.planes = planes
        self.size = size
        self.before = before
        self.after = after
        paddedSize = (0..<3).map { before[$0] + size[$0] + after[$0] }
        indexMap = try BorderIndexMap(mode: mode, size: size, before: before, after: after)
    }

    // Equal borders: the same mode and sizes (the index map follows from them).
    public static func == (a: BorderPadding, b: BorderPadding) -> Bool {
        (a.mode, a.rank, a.planes, a.size, a.before, a.after) == (b.mode, b.rank, b.planes, b.size, b.before, b.after)
    }

    public func hash(into h: inout Hasher) {
        h.combine(mode); h.combine(rank); h.combine(planes); h.combine(size); h.combine(before); h.combine(after)
    }

    /// The padded sizes (depth, height, width).
    public let paddedSize: [Int]
    /// Elements of one unpadded / padded plane (all three axes).
    public var pixels: Int { size[0] * size[1] * size[2] }
    public var paddedPixels: Int { paddedSize.reduce(1, *) }
    /// Elements of the whole unpadded input.
    public var inputCount: Int { planes * pixels }

    public var description: String {
        let axes = (3 - rank)..<3
        let pads = axes.map { "(\(before[$0]), \(after[$0]))" }.joined(separator: ", ")
        let from = axes.map { String(size[$0]) }.joined(separator: "x")
        let to = axes.map { String(paddedSize[$0]) }.joined(separator: "x")
        return "\(mode.name) (before, after) \(pads): \(from) -> \(to)"
    }

    /// xp = F.pad(x, pads, mode): x is (planes, D, H, W), xp (planes, D', H', W'). Each
    /// padded depth is the padded plane of the input depth it maps to.
    func pad<T: ConvScalar>(_ x: UnsafePointer<T>, into xp: UnsafeMutablePointer<T>) {
        let depths = indexMap.sources(0), plane = size[1] * size[2], paddedPlane = paddedSize[1] * paddedSize[2]
        let pixels = pixels, paddedPixels = paddedPixels
        withPlanePadding { (padPlane: (UnsafePointer<T>, UnsafeMutablePointer<T>) -> Void) in
            ThreadPool.shared.parallelFor(planes, work: ThreadPool.copyWork(elements: planes * paddedPixels)) { p in
                let src = x + p * pixels, dst = xp + p * paddedPixels
                for (pd, sd) in depths.enumerated() { padPlane(src + sd * plane, dst + pd * paddedPlane) }
            }
        }
    }

    /// Calls `body` with a function that writes one padded (height, width) plane, H' x W',
    /// of an input plane (H x W): each padded row a copy of the input row it maps to, with
    /// its border elements.
    func withPlanePadding<T: ConvScalar, R>(_ body: ((UnsafePointer<T>, UnsafeMutablePointer<T>) -> Void) -> R) -> R {
        let w = size[2], bw = before[2], pw = paddedSize[2]
        let rows = indexMap.sources(1), cols = indexMap.sources(2)
        return body { src, dst in
            for (i, sh) in rows.enumerated() {
                let s = src + sh * w, out = dst + i * pw
                for j in 0..<bw { out[j] = s[cols[j]] }
                (out + bw).update(from: s, count: w)
                for j in (bw + w)..<pw { out[j] = s[cols[j]] }
            }
        }
    }

    /// The adjoint of `pad`: g[i] = the sum of gp over the padded positions that read input
    /// element i, in padded row order (the interior of a row before its borders).
    func fold<T: ConvScalar>(_ gp: UnsafePointer<T>, into g: UnsafeMutablePointer<T>) {
        let (h, w) = (size[1], size[2]), bw = before[2]
        let (ph, pw) = (paddedSize[1], paddedSize[2]), rows = paddedSize[0] * ph
        let depths = indexMap.sources(0), heights = indexMap.sources(1), cols = indexMap.sources(2)
        let pixels = pixels, paddedPixels = paddedPixels
        ThreadPool.shared.parallelFor(planes, work: ThreadPool.copyWork(elements: planes * paddedPixels)) { plane in
            let src = gp + plane * paddedPixels, dst = g + plane * pixels
            dst.update(repeating: 0, count: pixels)
            for row in 0..<rows {
                let out = dst + (depths[row / ph] * h + heights[row % ph]) * w, s = src + row * pw
                ScatterAdjoint.addRow(out, s + bw, w)
                for j in 0..<bw { out[cols[j]] += s[j] }
                for j in (bw + w)..<pw { out[cols[j]] += s[j] }
            }
        }
    }
}
