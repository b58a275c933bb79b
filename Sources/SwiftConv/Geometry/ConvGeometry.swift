/// The one place where shape and parameter rules live.
///
/// `ConvGeometry(validating:)` checks a request against PyTorch's rules (messages follow
/// PyTorch's wording, prefixed with the op's name), derives every size with overflow-checked
/// arithmetic, and expresses the op as a `ConvShape` (the forward convolution it is, or
/// transposes) plus the shapes of the results.
public struct ConvGeometry {
    /// The convolution the op computes or transposes.
    public let shape: ConvShape
    /// The input was 3-D (C, H, W): results drop the batch dimension too.
    public let unbatched: Bool
    /// Result shapes: forward ops use slot 0; backward ops (grad_input, grad_weight,
    /// grad_bias), nil where the output mask leaves one out.
    public let resultShapes: [[Int]?]

    public init(validating r: ConvRequest) throws {
        let op = r.op.name
        func fail(_ m: String) -> ConvError { .invalidArgument("\(op): \(m)") }

        // Parameters alone.
        if r.stride.h <= 0 || r.stride.w <= 0 {
            throw fail("non-positive stride is not supported, got stride=(\(r.stride.h), \(r.stride.w))")
        }
        if r.dilation.h <= 0 || r.dilation.w <= 0 {
            throw fail("dilation should be greater than zero, got dilation=(\(r.dilation.h), \(r.dilation.w))")
        }
        if case .explicit(let t, let b, let l, let rt) = r.padding, min(t, b, l, rt) < 0 {
            throw fail("negative padding is not supported, got padding=((\(t), \(b)), (\(l), \(rt)))")
        }
        if r.outputPadding.h < 0 || r.outputPadding.w < 0 {
            throw fail("negative output_padding is not supported, got output_padding=(\(r.outputPadding.h), \(r.outputPadding.w))")
        }
        if r.groups <= 0 { throw fail("non-positive groups is not supported, got groups=\(r.groups)") }
        if r.op.isTransposed {
            if r.padding == .same || r.padding == .valid {
                // The Python layer only passes strings for conv2d; keep the rule here anyway.
                throw fail("padding must be an int or a pair of ints for transposed convolution")
            }
            if case .explicit(let t, let b, let l, let rt) = r.padding, t != b || l != rt {
                throw fail("asymmetric padding is not supported for transposed convolution, got padding=((\(t), \(b)), (\(l), \(rt)))")
            }
        } else if r.outputPadding != (0, 0) {
            throw fail("output_padding is only meaningful for transposed convolution")
        }

        // Array ranks.
        let x = r.inputShape, w = r.weightShape
        if w.count != 4 {
            throw fail("expected a 4-dimensional weight, but got weight of size \(fmt(w))")
        }
        if x.count != 3 && x.count != 4 {
            let fwd = r.op.isTransposed ? "conv_transpose2d" : "conv2d"
            throw fail("Expected 3D (unbatched) or 4D (batched) input to \(fwd), but got input of size: \(fmt(x))")
        }
        if (x + w).contains(where: { $0 < 0 }) { throw fail("negative dimension in input \(fmt(x)) or weight \(fmt(w))") }
        let unbatched = x.count == 3
        let n = unbatched ? 1 : x[0]
        let (cIn, hIn, wIn) = unbatched ? (x[0], x[1], x[2]) : (x[1], x[2], x[3])
        let kH = w[2], kW = w[3]
        if kH == 0 || kW == 0 { throw fail("expected a non-empty kernel, but got weight of size \(fmt(w))") }

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
        let extentH = try extent(r.dilation.h, kH), extentW = try extent(r.dilation.w, kW)

        var shape: ConvShape
        if !r.op.isTransposed {
            let cOut = w[0]
            let expected = try Checked.mul(w[1], g, "\(op): input channels weight.shape[1]*groups = \(w[1])*\(g)")
            if cIn != expected {
                throw fail("Given groups=\(g), weight of size \(fmt(w)), expected input\(fmt(x)) to have \(expected) channels, but got \(cIn) channels instead")
            }
            let pad: (t: Int, b: Int, l: Int, r: Int)
            switch r.padding {
            case .valid: pad = (0, 0, 0, 0)
            case .same:
                if r.stride != (1, 1) {
                    throw fail("padding='same' is not supported for strided convolutions, got stride=(\(r.stride.h), \(r.stride.w))")
                }
                let th = extentH - 1, tw = extentW - 1
                pad = (th / 2, th - th / 2, tw / 2, tw - tw / 2)
            case .explicit(let t, let b, let l, let rt): pad = (t, b, l, rt)
            }
            func padded(_ size: Int, _ a: Int, _ b: Int, _ name: String) throws -> Int {
                func what() -> String { "\(op): the padded \(name) \(size) + \(a) + \(b) (padding \(a), \(b))" }
                return try Checked.add(try Checked.add(size, a, what()), b, what())
            }
            let paddedH = try padded(hIn, pad.t, pad.b, "height"), paddedW = try padded(wIn, pad.l, pad.r, "width")
            if paddedH < extentH || paddedW < extentW {
                throw fail("Calculated padded input size per channel: (\(paddedH) x \(paddedW)). Kernel size: (\(extentH) x \(extentW)). Kernel size can't be greater than actual input size")
            }
            let hOut = (paddedH - extentH) / r.stride.h + 1
            let wOut = (paddedW - extentW) / r.stride.w + 1
            shape = ConvShape(batch: n, groups: g, inChannels: cIn, outChannels: cOut,
                              inHeight: hIn, inWidth: wIn, outHeight: hOut, outWidth: wOut,
                              kernelHeight: kH, kernelWidth: kW, strideH: r.stride.h, strideW: r.stride.w,
                              dilationH: r.dilation.h, dilationW: r.dilation.w, padTop: pad.t, padLeft: pad.l)
        } else {
            // Transposed: weight is (C_in, C_out/groups, kH, kW).
            if cIn != w[0] {
                throw fail("Given transposed=1, weight of size \(fmt(w)), expected input\(fmt(x)) to have \(w[0]) channels, but got \(cIn) channels instead")
            }
            let outPad = r.outputPadding
            if !((outPad.w < r.stride.w || outPad.w < r.dilation.w) && (outPad.h < r.stride.h || outPad.h < r.dilation.h)) {
                throw fail("output padding must be smaller than either stride or dilation, but got output_padding_height: \(outPad.h) output_padding_width: \(outPad.w) stride_height: \(r.stride.h) stride_width: \(r.stride.w) dilation_height: \(r.dilation.h) dilation_width: \(r.dilation.w)")
            }
            guard case .explicit(let pH, _, let pW, _) = r.padding else { fatalError("unreachable: checked above") }
            if w[1] == 0 {
                throw fail("non-empty 4D weight tensor expected, but got: \(fmt(w))")
            }
            // out = (in - 1) * s - 2p + d(k - 1) + output_padding + 1 (in = 0 included, as PyTorch)
            func outSize(_ i: Int, _ s: Int, _ p: Int, _ ext: Int, _ o: Int) throws -> Int {
                func what() -> String { "\(op): the output size (\(i) - 1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1 with stride=\(s), padding=\(p), output_padding=\(o)" }
                let a = try Checked.mul(i - 1, s, what())
                let b = try Checked.add(try Checked.add(a, ext, what()), o, what())
                return try Checked.sub(b, try Checked.mul(2, p, what()), what())
            }
            let hOut = try outSize(hIn, r.stride.h, pH, extentH, outPad.h)
            let wOut = try outSize(wIn, r.stride.w, pW, extentW, outPad.w)
            // An empty batch may have an empty output; otherwise every output dimension is >= 1.
            if hOut < 0 || wOut < 0 || (n > 0 && (hOut == 0 || wOut == 0)) {
                throw fail("Given input size per channel: (\(hIn) x \(wIn)). Calculated output size per channel: (\(hOut) x \(wOut)). Output size is too small")
            }
            let cOut = try Checked.mul(w[1], g, "\(op): output channels weight.shape[1]*groups = \(w[1])*\(g)")
            shape = ConvShape(batch: n, groups: g, inChannels: cOut, outChannels: cIn,
                              inHeight: hOut, inWidth: wOut, outHeight: hIn, outWidth: wIn,
                              kernelHeight: kH, kernelWidth: kW, strideH: r.stride.h, strideW: r.stride.w,
                              dilationH: r.dilation.h, dilationW: r.dilation.w, padTop: pH, padLeft: pW)
        }

        // PyTorch computes nothing over empty planes unless the batch or the channels are empty.
        if n > 0 && cIn > 0 && (hIn == 0 || wIn == 0) {
            throw fail("Only zero batch or zero channel inputs are supported, but got input shape: \(fmt(x))")
        }

        // The op's own output channels (for bias and grad_bias).
        let opOutChannels = r.op.isTransposed ? shape.inChannels : shape.outChannels
        if let b = r.biasShape {
            if b.count != 1 || b[0] != opOutChannels {
                let t = r.op.isTransposed ? "Given transposed=1, weight" : "Given weight"
                throw fail("\(t) of size \(fmt(w)), expected bias to be 1-dimensional with \(opOutChannels) elements, but got bias of size \(fmt(b)) instead")
            }
        }

        // Every array the call touches must have a byte size that fits in Int.
        for (name, dims) in [("input", [n, shape.inChannels, shape.inHeight, shape.inWidth]),
                             ("output", [n, shape.outChannels, shape.outHeight, shape.outWidth]),
                             ("weight", w)] {
            _ = try Checked.product(dims + [8], "\(op): \(name) of size \(fmt(dims))")
        }
        _ = try Checked.product([shape.patchSize, shape.outPixels, 8], "\(op): unfolded input")

        // Result shapes, in the user's batchedness.
        func user(_ c: Int, _ h: Int, _ wd: Int) -> [Int] { unbatched ? [c, h, wd] : [n, c, h, wd] }
        let opOutput = r.op.isTransposed ? user(shape.inChannels, shape.inHeight, shape.inWidth)
                                          : user(shape.outChannels, shape.outHeight, shape.outWidth)
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
    }
}

/// PyTorch-style size text: [1, 3, 10, 10].
func fmt(_ dims: [Int]) -> String { "[" + dims.map(String.init).joined(separator: ", ") + "]" }
