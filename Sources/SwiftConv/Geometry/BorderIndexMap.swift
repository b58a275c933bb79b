/// Where each position of an input padded by a padding mode reads from: per axis (depth,
/// height, width), padded position j -> the input index it copies. The one statement of
/// the modes' rule; computed once per plan (BorderPadding holds one), so that kernels can
/// read the padded input through it instead of a padded copy (BorderedUnfoldedInput,
/// DepthLowering), and the copy and its adjoint (BorderPadding.pad / fold) use the same rule.
public struct BorderIndexMap: Hashable, Sendable {
    /// sources[axis][j]: the input index padded position j of that axis reads.
    public let sources: [[Int]]

    /// Three axes each; the caller (ConvGeometry) has checked the mode's size rules.
    init(mode: PaddingMode, size: [Int], before: [Int], after: [Int]) {
        sources = (0..<3).map { a in
            (0..<(before[a] + size[a] + after[a])).map { Self.source($0, size: size[a], before: before[a], mode) }
        }
    }

    /// The input element padded position `j` of an axis of `n` elements with `before`
    /// padding reads: k = j - before when 0 <= k < n, and otherwise
    /// - reflect: the mirror image without the edge (-k, or 2*(n-1) - k); needs
    ///   before, after < n;
    /// - replicate: the nearest edge element (k clamped to 0...n-1); needs n >= 1;
    /// - circular: k modulo n; needs before, after <= n.
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
}
