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
/// Padded position j of an axis with `before` padding and `size` elements reads input
/// element k = j - before when 0 <= k < size, and otherwise
/// - reflect: the mirror image without the edge (-k, or 2*(size-1) - k); needs
///   before, after < size;
/// - replicate: the nearest edge element (k clamped to 0...size-1); needs size >= 1;
/// - circular: k modulo size; needs before, after <= size.
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

    /// `size`, `before`, `after`: three axes each; the caller (ConvGeometry) has checked
    /// the mode's rules and that the padded sizes fit.
    init(mode: PaddingMode, rank: Int = 3, planes: Int, size: [Int], before: [Int], after: [Int]) {
        self.mode = mode
        self.rank = rank
        self.planes = planes
        self.size = size
        self.before = before
        self.after = after
    }

    /// The padded sizes (depth, height, width).
    public var paddedSize: [Int] { (0..<3).map { before[$0] + size[$0] + after[$0] } }
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

    /// The input element padded position `j` of an axis of `n` elements with `before`
    /// padding reads (see the type's comment).
    @inline(__always)
    static func source(_ j: Int, size n: Int, before: Int, _ mode: PaddingMode) -> Int {
        let k = j &- before
        if k >= 0 && k < n { return k }
        switch mode {
        case .reflect: return k < 0 ? 0 &- k : 2 &* (n &- 1) &- k
        case .replicate: return k < 0 ? 0 : n &- 1
        case .circular: return k < 0 ? k &+ n : k &- n
        case .zeros: return -1  // never made for zeros
        }
    }

    /// xp = F.pad(x, pads, mode): x is (planes, D, H, W), xp (planes, D', H', W'). Each
    /// padded row is a copy of the input row it maps to, with its border elements.
    func pad<T: ConvScalar>(_ x: UnsafePointer<T>, into xp: UnsafeMutablePointer<T>) {
        let (d, h, w) = (size[0], size[1], size[2]), (bd, bh, bw) = (before[0], before[1], before[2])
        let (ph, pw) = (paddedSize[1], paddedSize[2]), rows = paddedSize[0] * ph
        let mode = mode, pixels = pixels, paddedPixels = paddedPixels
        ThreadPool.shared.parallelFor(planes, work: planes * paddedPixels / 4) { plane in
            let src = x + plane * pixels, dst = xp + plane * paddedPixels
            for row in 0..<rows {
                let sd = Self.source(row / ph, size: d, before: bd, mode), sh = Self.source(row % ph, size: h, before: bh, mode)
                let s = src + (sd * h + sh) * w, out = dst + row * pw
                for j in 0..<bw { out[j] = s[Self.source(j, size: w, before: bw, mode)] }
                (out + bw).update(from: s, count: w)
                for j in (bw + w)..<pw { out[j] = s[Self.source(j, size: w, before: bw, mode)] }
            }
        }
    }

    /// The adjoint of `pad`: g[i] = the sum of gp over the padded positions that read input
    /// element i, in padded row order (the interior of a row before its borders).
    func fold<T: ConvScalar>(_ gp: UnsafePointer<T>, into g: UnsafeMutablePointer<T>) {
        let (d, h, w) = (size[0], size[1], size[2]), (bd, bh, bw) = (before[0], before[1], before[2])
        let (ph, pw) = (paddedSize[1], paddedSize[2]), rows = paddedSize[0] * ph
        let mode = mode, pixels = pixels, paddedPixels = paddedPixels
        ThreadPool.shared.parallelFor(planes, work: planes * paddedPixels / 4) { plane in
            let src = gp + plane * paddedPixels, dst = g + plane * pixels
            dst.update(repeating: 0, count: pixels)
            for row in 0..<rows {
                let sd = Self.source(row / ph, size: d, before: bd, mode), sh = Self.source(row % ph, size: h, before: bh, mode)
                let out = dst + (sd * h + sh) * w, s = src + row * pw
                ScatterAdjoint.addRow(out, s + bw, w)
                for j in 0..<bw { out[Self.source(j, size: w, before: bw, mode)] += s[j] }
                for j in (bw + w)..<pw { out[Self.source(j, size: w, before: bw, mode)] += s[j] }
            }
        }
    }
}
