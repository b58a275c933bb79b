/// Where each position of an input padded by a padding mode reads from: per axis (depth,
/// height, width), padded position j -> the input index it copies. The one statement of
/// the modes' rule; computed once per plan (BorderPadding holds one, made by ConvGeometry),
/// so that kernels can read the padded input through it instead of a padded copy
/// (BorderedUnfoldedInput, DepthLowering), and the copy and its adjoint (BorderPadding.pad /
/// fold) use the same rule. Its memory is the engine's failable kind (an axis can be padded
/// far beyond what fits): when it cannot be had, making the plan is a MemoryError.
public final class BorderIndexMap: @unchecked Sendable {
    /// One 64-byte aligned buffer per axis, written once in init, read-only after.
    private let axes: [UnsafeMutableBufferPointer<Int>]

    /// Three axes each; the caller (ConvGeometry) has checked the mode's size rules and that
    /// the padded sizes fit in Int.
    init(mode: PaddingMode, size: [Int], before: [Int], after: [Int]) throws {
        var made: [UnsafeMutableBufferPointer<Int>] = []
        for a in 0..<3 {
            let n = before[a] + size[a] + after[a]
            let (bytes, overflow) = n.multipliedReportingOverflow(by: MemoryLayout<Int>.stride)
            guard !overflow, let raw = AlignedMemory.allocate(bytes: bytes) else {
                for b in made { AlignedMemory.release(UnsafeMutableRawPointer(b.baseAddress!)) }
                throw ConvError.outOfMemory("swiftconv: the index map of a padded axis of \(n) positions (padding_mode='\(mode.name)') could not be allocated")
            }
            let p = raw.bindMemory(to: Int.self, capacity: max(n, 1))
            for j in 0..<n { p[j] = Self.source(j, size: size[a], before: before[a], mode) }
            made.append(UnsafeMutableBufferPointer(start: p, count: n))
        }
        axes = made
    }

    deinit { for b in axes { AlignedMemory.release(UnsafeMutableRawPointer(b.baseAddress!)) } }

    /// sources(axis)[j]: the input index padded position j of that axis reads.
    public func sources(_ axis: Int) -> UnsafeBufferPointer<Int> { UnsafeBufferPointer(axes[axis]) }

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
