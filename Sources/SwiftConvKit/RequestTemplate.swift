import SwiftConv

/// A convolution's parameters in the engine's terms, for any input shape: turns the typed
/// arguments into `ConvRequest`s. Validation is left to the engine (`ConvPlan`), the one
/// place the rules live, so messages are the same as from Python.
struct RequestTemplate {
    let kind: ConvKind
    let rank: Int
    private var base: ConvRequest

    init<Scalar: TensorScalar>(_ kind: ConvKind, _: Scalar.Type, weightShape: [Int], biasShape: [Int]?,
                               stride: AxisValues, padding: Padding, dilation: AxisValues, groups: Int,
                               outputPadding: AxisValues, algorithm: ConvAlgorithm,
                               paddingMode: PaddingMode = .zeros) throws {
        let rank = weightShape.count - 2
        guard (1...3).contains(rank) else {
            let layout = kind == .conv ? "(C_out, C_in / groups, *kernel)" : "(C_in, C_out / groups, *kernel)"
            throw ConvError.invalidArgument("\(kind == .conv ? "conv" : "conv_transpose"): expected a weight of 3, 4 or 5 dimensions "
                + "\(layout) for 1, 2 or 3 spatial dimensions, but got weight of size \(shapeText(weightShape))")
        }
        self.kind = kind
        self.rank = rank
        var r = ConvRequest(op: kind.forwardOp, spatialRank: rank, inputShape: [], weightShape: weightShape)
        r.dtype = Scalar.convDType
        r.stride = stride.resolved(rank: rank)
        r.dilation = dilation.resolved(rank: rank)
        r.padding = padding.resolved(rank: rank)
        r.outputPadding = outputPadding.resolved(rank: rank)
        r.groups = groups
        r.paddingMode = paddingMode
        r.algorithm = algorithm.rawValue
        r.biasShape = biasShape
        base = r
    }

    /// The request of `op` on an input of `inputShape` (bias only for the forward op);
    /// `outputSize`: a transposed convolution's requested output size (fixes output_padding).
    func request(_ op: ConvOp, input inputShape: [Int], outputSize: [Int]? = nil) -> ConvRequest {
        var r = base
        r.op = op
        r.inputShape = inputShape
        r.outputSize = outputSize
        if op.isBackward { r.biasShape = nil }
        return r
    }

    /// A batched input (1, C, *sizes) that these parameters accept if any input does: the
    /// channels the weight expects and, per axis, the smallest size whose (padded) extent
    /// the kernel fits and its padding mode can fill — or whose transposed output is not empty. Where a parameter is so
    /// wrong that no size helps (or the arithmetic would overflow), any size does: the
    /// plan refuses the parameter itself.
    func probeInputShape() -> [Int] {
        let r = base, w = r.weightShape
        func value(_ a: [Int], _ i: Int, _ fallback: Int) -> Int { i < a.count ? a[i] : fallback }
        func checked(_ f: () -> (Int, Bool)) -> Int? { let (v, o) = f(); return o ? nil : v }
        let channels = kind == .conv ? (checked { w[1].multipliedReportingOverflow(by: r.groups) } ?? 1) : w[0]
        var sizes: [Int] = []
        for a in 0..<rank {
            let k = w[2 + a], d = value(r.dilation, a, 1), s = value(r.stride, a, 1)
            // The dilated kernel extent d*(k-1)+1.
            guard let ext = checked({ d.multipliedReportingOverflow(by: k - 1) }).flatMap({ e in checked { e.addingReportingOverflow(1) } }) else {
                sizes.append(1); continue
            }
            var pad = (before: 0, after: 0)
            switch r.padding {
            case .valid: break
            case .same: pad = (ext - 1, 0)  // any split: size 1 fits
            case .explicit(let p): if a < p.count { pad = (p[a].before, p[a].after) }
            }
            if kind == .conv {
                // padded = size + before + after >= ext; a padding mode other than zeros
                // also needs size > each side's padding (reflect's rule, the strictest).
                let total = checked { pad.before.addingReportingOverflow(pad.after) } ?? 0
                var size = max(1, checked { ext.subtractingReportingOverflow(total) } ?? 1)
                if r.paddingMode != .zeros, let border = checked({ max(pad.before, pad.after).addingReportingOverflow(1) }) {
                    size = max(size, border)
                }
                sizes.append(size)
            } else {
                // out = (size - 1)*s - 2*before + ext + output_padding >= 1.
                let o = value(r.outputPadding, a, 0)
                guard s > 0, let twoP = checked({ pad.before.multipliedReportingOverflow(by: 2) }),
                      let gain = checked({ ext.addingReportingOverflow(o) }),
                      let deficit = checked({ (twoP + 1).subtractingReportingOverflow(gain) }), deficit > 0 else {
                    sizes.append(1); continue
                }
                sizes.append(1 + ((deficit - 1) / s + 1))  // 1 + ceil(deficit / s)
            }
        }
        return [1, channels] + sizes
    }
}
