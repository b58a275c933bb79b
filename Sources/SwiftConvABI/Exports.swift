// The C ABI of swiftconv: @_cdecl entry points declared in CSwiftConv/include/swiftconv.h.
// They translate the header's structs into Swift values, run the engine, and turn every
// error into a status code and a message. Nothing here may trap on bad arguments.
import CSwiftConv
import SwiftConv

let engineVersion: StaticString = "0.1.0"

/// Copies `text` into a caller buffer as a NUL-terminated string, truncating if needed.
func writeMessage(_ text: String, _ buffer: UnsafeMutablePointer<CChar>?, _ length: Int) {
    guard let buffer, length > 0 else { return }
    var count = 0
    for byte in text.utf8 {
        if count >= length - 1 { break }
        buffer[count] = CChar(bitPattern: byte)
        count += 1
    }
    buffer[count] = 0
}

/// Maps an error to a status code, writing its message.
func fail(_ error: Error, _ msg: UnsafeMutablePointer<CChar>?, _ len: Int) -> Int32 {
    guard let e = error as? ConvError else {
        writeMessage("swiftconv: internal error: \(error)", msg, len)
        return Int32(SC_ERR_INTERNAL.rawValue)
    }
    writeMessage(e.message, msg, len)
    switch e {
    case .invalidArgument: return Int32(SC_ERR_VALUE.rawValue)
    case .typeMismatch: return Int32(SC_ERR_TYPE.rawValue)
    case .outOfMemory: return Int32(SC_ERR_MEMORY.rawValue)
    }
}

/// The dims of an sc_shape, or an error if its rank is impossible.
func dims(_ shape: sc_shape, _ name: String) throws -> [Int] {
    guard shape.ndim >= 0 && shape.ndim <= Int64(SC_MAX_DIMS) else {
        throw ConvError.invalidArgument("\(name) has an invalid number of dimensions: \(shape.ndim)")
    }
    return withUnsafeBytes(of: shape.dims) { raw in
        let p = raw.bindMemory(to: Int64.self)
        return (0..<Int(shape.ndim)).map { Int(p[$0]) }
    }
}

/// Translates the C descriptor into a validated plan.
func makePlan(_ desc: UnsafePointer<sc_conv_desc>?) throws -> ConvPlan {
    guard let d = desc?.pointee else { throw ConvError.invalidArgument("swiftconv: NULL descriptor") }
    guard let op = ConvOp(rawValue: d.op) else { throw ConvError.invalidArgument("swiftconv: unknown op \(d.op)") }
    guard let dtype = ConvDType(rawValue: d.dtype) else {
        throw ConvError.typeMismatch("\(op.name): unknown dtype code \(d.dtype)")
    }
    var r = ConvRequest(op: op, inputShape: try dims(d.input, "input"), weightShape: try dims(d.weight, "weight"))
    r.dtype = dtype
    r.stride = (Int(d.stride.0), Int(d.stride.1))
    r.dilation = (Int(d.dilation.0), Int(d.dilation.1))
    switch Int32(d.padding_mode) {
    case Int32(SC_PADDING_SAME.rawValue): r.padding = .same
    case Int32(SC_PADDING_VALID.rawValue): r.padding = .valid
    case Int32(SC_PADDING_EXPLICIT.rawValue):
        r.padding = .explicit(top: Int(d.padding.0), bottom: Int(d.padding.1), left: Int(d.padding.2), right: Int(d.padding.3))
    default: throw ConvError.invalidArgument("\(op.name): unknown padding mode \(d.padding_mode)")
    }
    r.outputPadding = (Int(d.output_padding.0), Int(d.output_padding.1))
    r.groups = Int(d.groups)
    if let a = d.algorithm { r.algorithm = String(cString: a) }
    if op.isBackward {
        r.gradOutputShape = try dims(d.grad_output, "grad_output")
        let m = d.output_mask
        r.outputMask = (m & Int32(SC_MASK_GRAD_INPUT) != 0, m & Int32(SC_MASK_GRAD_WEIGHT) != 0,
                        m & Int32(SC_MASK_GRAD_BIAS) != 0)
    } else if d.has_bias != 0 {
        r.biasShape = try dims(d.bias, "bias")
    }
    return try ConvPlan(r)
}

@_cdecl("sc_plan")
public func sc_plan(_ desc: UnsafePointer<sc_conv_desc>?, _ result: UnsafeMutablePointer<sc_plan_result>?,
                    _ msg: UnsafeMutablePointer<CChar>?, _ len: Int) -> Int32 {
    do {
        let plan = try makePlan(desc)
        guard let result else { throw ConvError.invalidArgument("swiftconv: NULL plan result") }
        var out = sc_plan_result()
        let shapes = plan.geometry.resultShapes
        out.count = Int32(shapes.count)
        withUnsafeMutableBytes(of: &out.present) { presentRaw in
            withUnsafeMutableBytes(of: &out.shapes) { shapesRaw in
                let present = presentRaw.bindMemory(to: Int32.self)
                let all = shapesRaw.bindMemory(to: sc_shape.self)
                for (i, s) in shapes.enumerated() {
                    present[i] = s == nil ? 0 : 1
                    guard let s else { continue }
                    all[i].ndim = Int64(s.count)
                    withUnsafeMutableBytes(of: &all[i].dims) { d in
                        let dd = d.bindMemory(to: Int64.self)
                        for (j, v) in s.enumerated() { dd[j] = Int64(v) }
                    }
                }
            }
        }
        result.pointee = out
        return Int32(SC_OK.rawValue)
    } catch {
        return fail(error, msg, len)
    }
}

@_cdecl("sc_execute")
public func sc_execute(_ desc: UnsafePointer<sc_conv_desc>?, _ input: UnsafeRawPointer?, _ weight: UnsafeRawPointer?,
                       _ bias: UnsafeRawPointer?, _ gradOutput: UnsafeRawPointer?,
                       _ outputs: UnsafePointer<UnsafeMutableRawPointer?>?,
                       _ msg: UnsafeMutablePointer<CChar>?, _ len: Int) -> Int32 {
    do {
        let plan = try makePlan(desc)
        let outs: [UnsafeMutableRawPointer?] = outputs.map { [$0[0], $0[1], $0[2]] } ?? [nil, nil, nil]
        for (i, shape) in plan.geometry.resultShapes.enumerated() where shape != nil && outs[i] == nil {
            if shape!.reduce(1, *) > 0 { throw ConvError.invalidArgument("swiftconv: result \(i) has no buffer") }
        }
        if plan.request.biasShape != nil && bias == nil {
            throw ConvError.invalidArgument("\(plan.request.op.name): has_bias is set but bias is NULL")
        }
        try ConvEngine.execute(plan, .init(input: input, weight: weight, bias: bias, gradOutput: gradOutput, outputs: outs))
        return Int32(SC_OK.rawValue)
    } catch {
        return fail(error, msg, len)
    }
}

@_cdecl("sc_explain")
public func sc_explain(_ desc: UnsafePointer<sc_conv_desc>?, _ text: UnsafeMutablePointer<CChar>?, _ len: Int) -> Int32 {
    do {
        let plan = try makePlan(desc)
        writeMessage(plan.explanation, text, len)
        return Int32(SC_OK.rawValue)
    } catch {
        return fail(error, text, len)
    }
}

@_cdecl("sc_set_num_threads")
public func sc_set_num_threads(_ n: Int64, _ msg: UnsafeMutablePointer<CChar>?, _ len: Int) -> Int32 {
    do {
        try ThreadPool.shared.setNumThreads(Int(n))
        return Int32(SC_OK.rawValue)
    } catch {
        return fail(error, msg, len)
    }
}

@_cdecl("sc_get_num_threads")
public func sc_get_num_threads() -> Int64 { Int64(ThreadPool.shared.numThreads) }

@_cdecl("sc_version")
public func sc_version() -> UnsafePointer<CChar> {
    UnsafeRawPointer(engineVersion.utf8Start).assumingMemoryBound(to: CChar.self)
}
