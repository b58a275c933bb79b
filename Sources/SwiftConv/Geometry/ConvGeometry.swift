/// The one place where shape and parameter rules live, for 1, 2 and 3 spatial axes.
///
/// `ConvGeometry(validating:)` checks a request against PyTorch's rules (messages follow
/// PyTorch's wording, prefixed with the op's name), derives every size with overflow-checked
/// arithmetic, and expresses the op as a `ConvShape` (the forward convolution it is, or
/// transposes) plus the shapes of the results.
///
/// A padding mode other than zeros (conv ops) is expressed as a `border`: the input padded
/// by that mode, after which `shape` is the convolution of the padded input with no padding
/// of its own (as `torch.nn.Conv*d` computes it: `F.pad`, then the convolution).
public struct ConvGeometry: Sendable {
    /// The convolution the op computes or transposes.
    public let shape: ConvShape
    /// The padded copy of the input `shape` convolves (padding modes other than zeros with
    /// some non-zero padding), or nil (the input as it is, zeros read outside it).
    public let border: BorderPadding?
    /// The input had no batch axis (C, *spatial): results drop the batch axis too.
    public let unbatched: Bool
    /// Result shapes: forward ops use slot 0; backward ops (grad_input, grad_weight,
    /// grad_bias), nil where the output mask leaves one out.
    public let resultShapes: [[Int]?]

    public init(validating r: ConvRequest) throws {
        let rank = r.spatialRank
        guard (1...3).contains(rank) else {
            throw ConvError.invalidArgument("swiftconv: convolutions have 1, 2 or 3 spatial dimensions, got \(rank)")
        }
        let op = r.opName
        func fail(_ m: String) -> ConvError { .invalidArgument("\(op): \(m)") }
        let names = axisNames(rank)

        // Parameters alone.
        for (name, values) in [("stride", r.stride), ("dilation", r.dilation), ("output_padding", r.outputPadding)]
        where values.count != rank {
            throw fail("\(name) must have \(rank) value\(rank == 1 ? "" : "s") (one per spatial dimension), got \(values.count)")
        }
        if r.stride.contains(where: { $0 <= 0 }) {
            throw fail("non-positive stride is not supported, got stride=\(tuple(r.stride))")
        }
        if r.dilation.contains(where: { $0 <= 0 }) {
            throw fail("dilation should be greater than zero, got dilation=\(tuple(r.dilation))")
        }
        if case .explicit(let pads) = r.padding {
            if pads.count != rank {
                throw fail("padding must have \(rank) (before, after) pair\(rank == 1 ? "" : "s") (one per spatial dimension), got \(pads.count)")
            }
            if pads.contains(where: { min($0.before, $0.after) < 0 }) {
                throw fail("negative padding is not supported, got padding=\(padText(pads))")
            }
        }
        // With output_size, output_padding is derived from it (the given one is ignored, as
        // ConvTranspose*d.forward ignores the module's).
        if r.outputSize == nil && r.outputPadding.contains(where: { $0 < 0 }) {
            throw fail("negative output_padding is not supported, got output_padding=\(tuple(r.outputPadding))")
        }
        if r.groups <= 0 { throw fail("non-positive groups is not supported, got groups=\(r.groups)") }
        if r.op.isTransposed {
            if r.paddingMode != .zeros {
                throw fail("Only \"zeros\" padding mode is supported for ConvTranspose\(rank)d, got padding_mode='\(r.paddingMode.name)'")
            }
            if r.padding == .same || r.padding == .valid {
                // The Python layer only passes strings for the conv ops; keep the rule here anyway.
                throw fail("padding must be an int or a tuple of ints for transposed convolution")
            }
            if case .explicit(let pads) = r.padding, pads.contains(where: { $0.before != $0.after }) {
                throw fail("asymmetric padding is not supported for transposed convolution, got padding=\(padText(pads))")
            }
        } else if r.outputPadding.contains(where: { $0 != 0 }) {
            throw fail("output_padding is only meaningful for transposed convolution")
        } else if let os = r.outputSize {
            throw fail("output_size is only meaningful for transposed convolution, got output_size=\(fmt(os))")
        }

        // Array ranks.
        let x = r.inputShape, w = r.weightShape
        if w.count != rank + 2 {
            throw fail("expected a \(rank + 2)-dimensional weight, but got weight of size \(fmt(w))")
        }
        if x.count != rank + 1 && x.count != rank + 2 {
            let fwd = r.op.isTransposed ? ConvOp.convTranspose.name(rank: rank) : ConvOp.conv.name(rank: rank)
            throw fail("Expected \(rank + 1)D (unbatched) or \(rank + 2)D (batched) input to \(fwd), but got input of size: \(fmt(x)) (weight of size \(fmt(w)))")
        }
        if (x + w).contains(where: { $0 < 0 }) { throw fail("negative dimension in input \(fmt(x)) or weight \(fmt(w))") }
        let unbatched = x.count == rank + 1
        let n = unbatched ? 1 : x[0]
        let cIn = x[unbatched ? 0 : 1]
        let inSizes = Array(x.suffix(rank)), kernel = Array(w.suffix(rank))
        if kernel.contains(0) { throw fail("expected a non-empty kernel, but got weight of size \(fmt(w))") }

        // Groups against the weight's first dimension.
        let g = r.groups
        if w[0] < g {
            throw fail("Given groups=\(g), expected weight to be at least \(g) at dimension 0, but got weight of size \(fmt(w)) instead")
        }
        if w[0] % g != 0 {
            throw fail("Given groups=\(g), expected weight to be divisible by \(g) at dimension 0, but got weight of size \(fmt(w)) instead")
        }

        // (Messages are autoclosures: built only when something overflows.)
        func extent(_ d: Int, _ k: Int) throws -> Int {
            func what() -> String { "\(op): the dilated kernel size dilation*(kernel-1)+1 with dilation=\(d) and kernel size \(k)" }
            return try Checked.add(try Checked.mul(d, k - 1, what()), 1, what())
        }
        var extents: [Int] = []
        for a in 0..<rank { extents.append(try extent(r.dilation[a], kernel[a])) }

        // Per axis, in the convolution's own terms: x size, y size, pad before.
        var convIn: [Int] = [], convOut: [Int] = [], padBefore: [Int] = []
        var border: BorderPadding? = nil
        let convInChannels: Int, convOutChannels: Int
        if !r.op.isTransposed {
            let expected = try Checked.mul(w[1], g, "\(op): input channels weight.shape[1]*groups = \(w[1])*\(g)")
            if cIn != expected {
                throw fail("Given groups=\(g), weight of size \(fmt(w)), expected input\(fmt(x)) to have \(expected) channels, but got \(cIn) channels instead")
            }
            let pads: [AxisPadding]
            switch r.padding {
            case .valid: pads = Array(repeating: AxisPadding(0, 0), count: rank)
            case .same:
                if r.stride.contains(where: { $0 != 1 }) {
                    throw fail("padding='same' is not supported for strided convolutions, got stride=\(tuple(r.stride))")
                }
                pads = extents.map { AxisPadding(($0 - 1) / 2, ($0 - 1) - ($0 - 1) / 2) }
            case .explicit(let p): pads = p
            }
            if r.paddingMode != .zeros {
                try checkPaddingMode(r.paddingMode, pads: pads, input: x, unbatched: unbatched, fail)
            }
            var padded: [Int] = []
            for a in 0..<rank {
                let size = inSizes[a], p = pads[a]
                func what() -> String { "\(op): the padded \(names[a]) \(size) + \(p.before) + \(p.after) (padding \(p.before), \(p.after))" }
                padded.append(try Checked.add(try Checked.add(size, p.before, what()), p.after, what()))
            }
            if zip(padded, extents).contains(where: { $0 < $1 }) {
                throw fail("Calculated padded input size per channel: (\(padded.map(String.init).joined(separator: " x "))). Kernel size: (\(extents.map(String.init).joined(separator: " x "))). Kernel size can't be greater than actual input size")
            }
            convOut = (0..<rank).map { (padded[$0] - extents[$0]) / r.stride[$0] + 1 }
            if r.paddingMode == .zeros {
                convIn = inSizes
                padBefore = pads.map(\.before)
            } else {
                // The convolution of the padded input, which the plan materialises (none is
                // needed when every pad is 0).
                convIn = padded
                padBefore = Array(repeating: 0, count: rank)
                if pads.contains(where: { $0.before != 0 || $0.after != 0 }) {
                    let fill = Array(repeating: 0, count: 3 - rank)
                    let planes = try Checked.mul(n, cIn, "\(op): the input planes \(n) x \(cIn)")
                    border = try BorderPadding(mode: r.paddingMode, rank: rank, planes: planes, size: Array(repeating: 1, count: 3 - rank) + inSizes,
                                           before: fill + pads.map(\.before), after: fill + pads.map(\.after))
                }
            }
            convInChannels = cIn; convOutChannels = w[0]
        } else {
            // Transposed: weight is (C_in, C_out/groups, *kernel).
            if cIn != w[0] {
                throw fail("Given transposed=1, weight of size \(fmt(w)), expected input\(fmt(x)) to have \(w[0]) channels, but got \(cIn) channels instead")
            }
            guard case .explicit(let pads) = r.padding else { fatalError("unreachable: checked above") }
            // out = (in - 1) * s - 2p + d(k - 1) + output_padding + 1 (in = 0 included, as PyTorch)
            func outSize(_ i: Int, _ s: Int, _ p: Int, _ ext: Int, _ o: Int) throws -> Int {
                func what() -> String { "\(op): the output size (\(i) - 1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1 with stride=\(s), padding=\(p), output_padding=\(o)" }
                let a = try Checked.mul(i - 1, s, what())
                let b = try Checked.add(try Checked.add(a, ext, what()), o, what())
                return try Checked.sub(b, try Checked.mul(2, p, what()), what())
            }
            var outPad = r.outputPadding
            if let os = r.outputSize {
                // ConvTranspose*d.forward(input, output_size): the last `rank` entries are the
                // sizes; each between the size output_padding 0 gives and stride - 1 more.
                let nonSpatial = unbatched ? 1 : 2
                guard os.count == rank || os.count == rank + nonSpatial else {
                    throw fail("for \(x.count)D input, output_size must have \(rank) or \(rank + nonSpatial) elements (got \(os.count): output_size=\(fmt(os)))")
                }
                let want = Array(os.suffix(rank))
                var minSizes: [Int] = [], maxSizes: [Int] = []
                for a in 0..<rank {
                    let least = try outSize(inSizes[a], r.stride[a], pads[a].before, extents[a], 0)
                    minSizes.append(least)
                    maxSizes.append(try Checked.add(least, r.stride[a] - 1, "\(op): the largest output size \(least) + stride - 1 with stride=\(r.stride[a])"))
                }
                if (0..<rank).contains(where: { want[$0] < minSizes[$0] || want[$0] > maxSizes[$0] }) {
                    throw fail("requested an output size of \(fmt(want)), but valid sizes range from \(fmt(minSizes)) to \(fmt(maxSizes)) (for an input of \(fmt(inSizes)))")
                }
                outPad = (0..<rank).map { want[$0] - minSizes[$0] }
            }
            if (0..<rank).contains(where: { outPad[$0] >= r.stride[$0] && outPad[$0] >= r.dilation[$0] }) {
                let parts = [("output_padding", outPad), ("stride", r.stride), ("dilation", r.dilation)].flatMap { label, v in
                    (0..<rank).map { "\(label)_\(names[$0]): \(v[$0])" }
                }
                throw fail("output padding must be smaller than either stride or dilation, but got \(parts.joined(separator: " "))")
            }
            if w[1] == 0 {
                throw fail("non-empty \(rank + 2)D weight tensor expected, but got: \(fmt(w))")
            }
            var outSizes: [Int] = []
            for a in 0..<rank {
                outSizes.append(try outSize(inSizes[a], r.stride[a], pads[a].before, extents[a], outPad[a]))
            }
            // An empty batch may have an empty output; otherwise every output dimension is >= 1.
            if outSizes.contains(where: { $0 < 0 }) || (n > 0 && outSizes.contains(0)) {
                throw fail("Given input size per channel: (\(inSizes.map(String.init).joined(separator: " x "))). Calculated output size per channel: (\(outSizes.map(String.init).joined(separator: " x "))). Output size is too small")
            }
            convIn = outSizes
            convOut = inSizes
            padBefore = pads.map(\.before)
            convInChannels = try Checked.mul(w[1], g, "\(op): output channels weight.shape[1]*groups = \(w[1])*\(g)")
            convOutChannels = cIn
        }

        // PyTorch computes nothing over empty planes unless the batch or the channels are empty.
        if n > 0 && cIn > 0 && inSizes.contains(0) {
            throw fail("Only zero batch or zero channel inputs are supported, but got input shape: \(fmt(x))")
        }

        // The three axes (depth, height, width): missing outer axes have size 1.
        func axis3(_ v: [Int], _ fill: Int) -> [Int] { Array(repeating: fill, count: 3 - rank) + v }
        // A stride on an axis with one output position, or a dilation of a one-tap kernel,
        // changes nothing: set to 1, so that equal convolutions get equal shapes (and kernels).
        let xi = axis3(convIn, 1), yo = axis3(convOut, 1), k3 = axis3(kernel, 1), p3 = axis3(padBefore, 0)
        let s3 = (0..<3).map { yo[$0] == 1 ? 1 : axis3(r.stride, 1)[$0] }
        let d3 = (0..<3).map { k3[$0] == 1 ? 1 : axis3(r.dilation, 1)[$0] }
        let shape = ConvShape(batch: n, groups: g, inChannels: convInChannels, outChannels: convOutChannels,
                              inHeight: xi[1], inWidth: xi[2], outHeight: yo[1], outWidth: yo[2],
                              kernelHeight: k3[1], kernelWidth: k3[2], strideH: s3[1], strideW: s3[2],
                              dilationH: d3[1], dilationW: d3[2], padTop: p3[1], padLeft: p3[2],
                              inDepth: xi[0], outDepth: yo[0], kernelDepth: k3[0], strideD: s3[0],
                              dilationD: d3[0], padFront: p3[0])

        // The op's own output channels (for bias and grad_bias).
        let opOutChannels = r.op.isTransposed ? shape.inChannels : shape.outChannels
        if let b = r.biasShape {
            if b.count != 1 || b[0] != opOutChannels {
                let t = r.op.isTransposed ? "Given transposed=1, weight" : "Given weight"
                throw fail("\(t) of size \(fmt(w)), expected bias to be 1-dimensional with \(opOutChannels) elements, but got bias of size \(fmt(b)) instead")
            }
        }

        // Every array the call touches must have a byte size that fits in Int.
        for (name, dims) in [("input", [n, shape.inChannels] + convIn), ("output", [n, shape.outChannels] + convOut), ("weight", w)] {
            _ = try Checked.product(dims + [8], "\(op): \(name) of size \(fmt(dims))")
        }
        _ = try Checked.product([shape.inChannelsPerGroup, shape.kernelTaps, shape.outPixels, 8], "\(op): unfolded input")

        // Result shapes, in the user's batchedness.
        func user(_ c: Int, _ sizes: [Int]) -> [Int] { unbatched ? [c] + sizes : [n, c] + sizes }
        let opOutput = r.op.isTransposed ? user(shape.inChannels, convIn) : user(shape.outChannels, convOut)
        if r.op.isBackward {
            guard let go = r.gradOutputShape else { throw fail("grad_output is required") }
            if go != opOutput {
                throw fail("expected grad_output of size \(fmt(opOutput)) (the forward output for input \(fmt(x)) and weight \(fmt(w))), but got grad_output of size \(fmt(go))")
            }
            let m = r.outputMask
            resultShapes = [m.input ? x : nil, m.weight ? w : nil, m.bias ? [opOutChannels] : nil]
        } else {
            resultShapes = [opOutput]
        }
        self.shape = shape
        self.unbatched = unbatched
        self.border = border
    }
}

/// PyTorch's rules on the sizes a padding mode accepts (those of `F.pad`, which
/// `torch.nn.Conv*d` calls whatever the padding): reflect and replicate need every
/// dimension but the batch non-empty; reflect needs each pad < the input size on its axis,
/// circular each pad <= it. Axes are checked innermost first, as PyTorch does.
private func checkPaddingMode(_ mode: PaddingMode, pads: [AxisPadding], input x: [Int], unbatched: Bool,
                              _ fail: (String) -> ConvError) throws {
    let rank = pads.count, names = axisNames(rank), first = x.count - rank
    let prefix = "padding_mode='\(mode.name)'"
    if mode == .reflect || mode == .replicate, x.dropFirst(unbatched ? 0 : 1).contains(0) {
        throw fail("\(prefix): Expected \(rank + 1)D or \(rank + 2)D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: \(fmt(x))")
    }
    for a in (0..<rank).reversed() {
        let size = x[first + a], p = pads[a]
        let at = "padding (\(p.before), \(p.after)) at dimension \(first + a) (\(names[a])) of input \(fmt(x))"
        if mode == .reflect && max(p.before, p.after) >= size {
            throw fail("\(prefix): Padding size should be less than the corresponding input dimension, but got: \(at)")
        }
        if mode == .circular && max(p.before, p.after) > size {
            throw fail("\(prefix): Padding value causes wrapping around more than once (circular padding may be at most the input size), but got: \(at)")
        }
    }
}

/// PyTorch-style size text: [1, 3, 10, 10].
func fmt(_ dims: [Int]) -> String { "[" + dims.map(String.init).joined(separator: ", ") + "]" }

/// Python tuple text: (2,) or (1, 2).
func tuple(_ v: [Int]) -> String { v.count == 1 ? "(\(v[0]),)" : "(" + v.map(String.init).joined(separator: ", ") + ")" }

/// Per-axis (before, after) padding as Python would print it: ((1, 2), (0, 0)).
func padText(_ pads: [AxisPadding]) -> String {
    let items = pads.map { "(\($0.before), \($0.after))" }
    return items.count == 1 ? "(\(items[0]),)" : "(" + items.joined(separator: ", ") + ")"
}

/// The names of the spatial axes in messages, outermost first.
func axisNames(_ rank: Int) -> [String] {
    switch rank {
    case 1: return ["length"]
    case 2: return ["height", "width"]
    default: return ["depth", "height", "width"]
    }
}
