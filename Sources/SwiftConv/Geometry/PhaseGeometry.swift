/// The sub-pixel (phase) decomposition of a strided transposed convolution: along an axis
/// with stride s, the outputs x[i] whose (i + padding) mod s is r (the phase r) receive
/// contributions from the kernel taps k with k * dilation mod s == r only, and from dy
/// positions that advance one by one with i's step of s. So each phase is an ordinary
/// stride-1 convolution of dy with a kernel of about k / s taps (those of the phase, in
/// reverse order), writing every s-th output: no zeros inserted, no col2im.
///
/// With g = gcd(dilation, s), the taps of a phase are k0, k0 + s/g, k0 + 2 s/g, ... and their
/// dy positions step by dilation/g: the phase convolution has dilation dilation/g. Phases
/// whose r is not a multiple of g have no taps (their outputs are the bias alone).
struct PhaseAxis: Hashable, Sendable {
    /// Outputs (x indices) of the phase: first, first + stride, ... (`count` of them).
    let first: Int
    let count: Int
    /// Kernel taps of the phase, in the order the phase convolution reads them: tap t is the
    /// kernel index `topTap - t * tapStep` (t < taps; no taps: the outputs are the bias).
    let topTap: Int
    let tapStep: Int
    let taps: Int
    /// Output q of the phase and tap t read dy[q + offset + t * dilation].
    let offset: Int
    let dilation: Int

    /// The s phases of one axis (phase r at index r) of the adjoint of a convolution with
    /// `kernel` taps, `stride`, `dilation` and `padding` (before), whose input has `inSize`
    /// positions (the transposed conv's output) and output `outSize` (its input, dy).
    static func phases(kernel: Int, stride s: Int, dilation d: Int, padding p: Int, inSize: Int) -> [PhaseAxis] {
        var g = d, b = s
        while b != 0 { (g, b) = (b, g % b) }
        let tapStep = s / g, dil = d / g
        return (0..<s).map { r in
            let first = ((r - p) % s + s) % s
            let count = first < inSize ? (inSize - first + s - 1) / s : 0
            // The smallest tap of the phase: k * d mod s runs through its values with period s/g.
            guard let k0 = (0..<min(kernel, tapStep)).first(where: { ($0 * d) % s == r }) else {
                return PhaseAxis(first: first, count: count, topTap: 0, tapStep: tapStep, taps: 0, offset: 0, dilation: dil)
            }
            let taps = (kernel - 1 - k0) / tapStep + 1
            // x[first + s*q] takes tap k0 + j*tapStep from dy[base + q - j*dil] (exact division).
            let base = (first + p - k0 * d) / s
            return PhaseAxis(first: first, count: count, topTap: k0 + (taps - 1) * tapStep, tapStep: tapStep, taps: taps,
                             offset: base - (taps - 1) * dil, dilation: dil)
        }
    }

    /// Whether the phase computes anything (it has outputs and taps).
    var isActive: Bool { count > 0 && taps > 0 }
    /// The dy positions the phase reads: offset ..< offset + span.
    var span: Int { count - 1 + (taps - 1) * dilation + 1 }
}

/// The phases of a planar adjoint (height x width), and the dy window they read together.
struct PhaseDecomposition: Hashable, Sendable {
    let rows: [PhaseAxis]
    let columns: [PhaseAxis]
    /// dy rows / columns the active phases read, from `low` (possibly negative: zeros above /
    /// left of dy) through `high` (possibly past dy: zeros below / right), dy's own included.
    let lowRow: Int, highRow: Int, lowColumn: Int, highColumn: Int

    init(_ s: ConvShape) {
        rows = PhaseAxis.phases(kernel: s.kernelHeight, stride: s.strideH, dilation: s.dilationH, padding: s.padTop, inSize: s.inHeight)
        columns = PhaseAxis.phases(kernel: s.kernelWidth, stride: s.strideW, dilation: s.dilationW, padding: s.padLeft, inSize: s.inWidth)
        func window(_ axes: [PhaseAxis], _ size: Int) -> (Int, Int) {
            var lo = 0, hi = size - 1
            for a in axes where a.isActive {
                lo = min(lo, a.offset)
                hi = max(hi, a.offset + a.span - 1)
            }
            return (lo, hi)
        }
        (lowRow, highRow) = window(rows, s.outHeight)
        (lowColumn, highColumn) = window(columns, s.outWidth)
    }

    /// Phases in (row phase, column phase) order.
    var count: Int { rows.count * columns.count }
    func axes(_ phase: Int) -> (rows: PhaseAxis, columns: PhaseAxis) {
        (rows[phase / columns.count], columns[phase % columns.count])
    }
    /// Kernel taps of one phase (its convolution's kH * kW).
    func taps(_ phase: Int) -> Int {
        let (r, c) = axes(phase)
        return r.taps * c.taps
    }
    /// The largest number of taps of a phase.
    var maxTaps: Int { (0..<count).map(taps).max() ?? 0 }

    /// Whether every phase reads inside dy (no zero border to build).
    func readsInside(_ s: ConvShape) -> Bool {
        lowRow == 0 && highRow == s.outHeight - 1 && lowColumn == 0 && highColumn == s.outWidth - 1
    }

    /// Phases at most (sH * sW): every phase has its own GEMM, tiles and bookkeeping, so a
    /// huge stride (a valid call with a 2^31 stride computes a 1x1 output) is not cut into
    /// billions of them.
    static let maxPhases = 256

    /// Whether the decomposition applies: a planar shape (the depth axis goes through
    /// DepthLowering, which calls this kernel per depth slice) with at most `maxPhases`.
    static func supports(_ s: ConvShape) -> Bool {
        let (phases, overflow) = s.strideH.multipliedReportingOverflow(by: s.strideW)
        return s.isPlanar && !overflow && phases <= maxPhases
    }
}

/// The stride phases (space-to-depth) of a strided convolution's zero-padded input: along an
/// axis with stride s, phase a holds the padded positions a, a + s, a + 2s, ... So output
/// position o and tap k (offset k * dilation into the window) read phase (k * dilation) mod s
/// at o + (k * dilation) / s: in each phase plane, the unfolded row of a tap is a contiguous
/// run over an output row, as for a stride-1 convolution (`StridePhaseSplit` makes the
/// planes, `PhaseUnfoldedInput` packs from them). Every phase plane has the same
/// `height x width` (padded positions past the window span read as zero).
struct StridePhases: Hashable, Sendable {
    let strideH: Int, strideW: Int
    /// Rows / columns of one phase plane.
    let height: Int, width: Int

    /// Phases at most (sH * sW): each input element is copied once whatever their number,
    /// but every phase plane is rounded up to whole rows and columns.
    static let maxPhases = 16

    /// The phases of the planar shape `s`, or nil (not planar, stride 1, too many phases, or
    /// sizes that overflow).
    init?(_ s: ConvShape) {
        guard s.isPlanar, s.strideH > 1 || s.strideW > 1, s.strideH * s.strideW <= StridePhases.maxPhases,
              s.outHeight > 0, s.outWidth > 0 else { return nil }
        // Padded rows / columns the windows read (overflow-checked by ConvGeometry).
        let h = (s.outHeight - 1) * s.strideH + (s.kernelHeight - 1) * s.dilationH + 1
        let w = (s.outWidth - 1) * s.strideW + (s.kernelWidth - 1) * s.dilationW + 1
        strideH = s.strideH; strideW = s.strideW
        height = (h + s.strideH - 1) / s.strideH
        width = (w + s.strideW - 1) / s.strideW
        guard (try? Checked.product([s.batch, s.inChannels, count, plane, 2], "")) != nil else { return nil }
    }

    var count: Int { strideH * strideW }
    /// Elements of one phase plane, and of one channel's phases (phase (a, b) at index
    /// a * strideW + b).
    var plane: Int { height * width }
    var channelStride: Int { count * plane }
    /// Elements of the phases of `channels` channels.
    func elementCount(channels: Int) -> Int { channels * channelStride }
}
