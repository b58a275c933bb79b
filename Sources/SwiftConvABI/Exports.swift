// The C ABI of swiftconv: @_cdecl entry points declared in CSwiftConv/include/swiftconv.h.
// They translate the header's structs into Swift values, run the engine, and turn every
// error into a status code and a message. Nothing here may trap on bad arguments.
import CSwiftConv
import SwiftConv
import Synchronization

let engineVersion: StaticString = "0.2.0"

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

/// Translates the C descriptor into a request (nothing validated yet but the descriptor itself).
func makeRequest(_ desc: UnsafePointer<sc_conv_desc>?) throws -> ConvRequest {
    guard let d = desc?.pointee else { throw ConvError.invalidArgument("swiftconv: NULL descriptor") }
    let rank = Int(d.spatial_dims)
    guard let op = ConvOp(rawValue: d.op) else { throw ConvError.invalidArgument("swiftconv: unknown op \(d.op)") }
    guard (1...Int(SC_MAX_SPATIAL)).contains(rank) else {
        throw ConvError.invalidArgument("swiftconv: convolutions have 1, 2 or 3 spatial dimensions, got \(d.spatial_dims)")
    }
    let name = op.name(rank: rank)
    guard let dtype = ConvDType(rawValue: d.dtype) else {
        throw ConvError.typeMismatch("\(name): unknown dtype code \(d.dtype)")
    }
    func axes<V>(_ tuple: V, _ count: Int) -> [Int] {
        withUnsafeBytes(of: tuple) { raw in
            let p = raw.bindMemory(to: Int64.self)
            return (0..<count).map { Int(p[$0]) }
        }
    }
    var r = ConvRequest(op: op, spatialRank: rank, inputShape: try dims(d.input, "input"), weightShape: try dims(d.weight, "weight"))
    r.dtype = dtype
    r.stride = axes(d.stride, rank)
    r.dilation = axes(d.dilation, rank)
    switch Int32(d.padding_form) {
    case Int32(SC_PADDING_SAME.rawValue): r.padding = .same
    case Int32(SC_PADDING_VALID.rawValue): r.padding = .valid
    case Int32(SC_PADDING_EXPLICIT.rawValue):
        let p = axes(d.padding, 2 * rank)
        r.padding = .explicit((0..<rank).map { AxisPadding(p[2 * $0], p[2 * $0 + 1]) })
    default: throw ConvError.invalidArgument("\(name): unknown padding form \(d.padding_form)")
    }
    guard let mode = PaddingMode(rawValue: d.padding_mode) else {
        let valid = PaddingMode.allCases.map { "\($0.rawValue) (\($0.name))" }.joined(separator: ", ")
        throw ConvError.invalidArgument("\(name): unknown padding_mode code \(d.padding_mode), expected one of \(valid)")
    }
    r.paddingMode = mode
    guard let layout = ActivationLayout(rawValue: d.layout) else {
        throw ConvError.invalidArgument("\(name): unknown layout code \(d.layout), expected 0 (channels-first) or 1 (channels-last)")
    }
    r.layout = layout
    if d.has_output_size != 0 { r.outputSize = try dims(d.output_size, "\(name): output_size") }
    r.outputPadding = axes(d.output_padding, rank)
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
    return r
}

/// What an `sc_plan *` points at: a retained plan object.
final class PlanHandle {
    let plan: ConvPlan
    init(_ plan: ConvPlan) { self.plan = plan }

    static func from(_ pointer: OpaquePointer?) throws -> PlanHandle {
        guard let pointer else { throw ConvError.invalidArgument("swiftconv: NULL plan") }
        return Unmanaged<PlanHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }
}

@_cdecl("sc_plan_create")
public func sc_plan_create(_ desc: UnsafePointer<sc_conv_desc>?, _ weight: UnsafeRawPointer?, _ weightsFrom: OpaquePointer?,
                           _ plan: UnsafeMutablePointer<OpaquePointer?>?,
                           _ msg: UnsafeMutablePointer<CChar>?, _ len: Int) -> Int32 {
    do {
        guard let plan else { throw ConvError.invalidArgument("swiftconv: NULL plan pointer") }
        plan.pointee = nil
        let request = try makeRequest(desc)
        let sharing = try weightsFrom.map { try PlanHandle.from($0).plan.packedWeights } ?? nil
        let handle = PlanHandle(try ConvPlan(request, weight: weight, sharing: sharing))
        plan.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
        return Int32(SC_OK.rawValue)
    } catch {
        return fail(error, msg, len)
    }
}

@_cdecl("sc_plan_destroy")
public func sc_plan_destroy(_ plan: OpaquePointer?) {
    guard let plan else { return }
    Unmanaged<PlanHandle>.fromOpaque(UnsafeRawPointer(plan)).release()
}

@_cdecl("sc_plan_results")
public func sc_plan_results(_ plan: OpaquePointer?, _ result: UnsafeMutablePointer<sc_plan_result>?,
                            _ msg: UnsafeMutablePointer<CChar>?, _ len: Int) -> Int32 {
    do {
        let p = try PlanHandle.from(plan).plan
        guard let result else { throw ConvError.invalidArgument("swiftconv: NULL plan result") }
        var out = sc_plan_result()
        let shapes = p.geometry.resultShapes
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

@_cdecl("sc_plan_execute")
public func sc_plan_execute(_ plan: OpaquePointer?, _ input: UnsafeRawPointer?, _ weight: UnsafeRawPointer?,
                            _ bias: UnsafeRawPointer?, _ gradOutput: UnsafeRawPointer?,
                            _ outputs: UnsafePointer<UnsafeMutableRawPointer?>?,
                            _ msg: UnsafeMutablePointer<CChar>?, _ len: Int) -> Int32 {
    do {
        let p = try PlanHandle.from(plan).plan
        let outs: [UnsafeMutableRawPointer?] = outputs.map { [$0[0], $0[1], $0[2]] } ?? [nil, nil, nil]
        for (i, shape) in p.geometry.resultShapes.enumerated() where shape != nil && outs[i] == nil {
            if shape!.reduce(1, *) > 0 { throw ConvError.invalidArgument("swiftconv: result \(i) has no buffer") }
        }
        if p.request.biasShape != nil && bias == nil {
            throw ConvError.invalidArgument("\(p.request.opName): has_bias is set but bias is NULL")
        }
        if BufferRecorder.armed.load(ordering: .relaxed) {
            BufferRecorder.input.store(Int(bitPattern: input), ordering: .relaxed)
            BufferRecorder.gradOutput.store(Int(bitPattern: gradOutput), ordering: .relaxed)
        }
        try ConvEngine.execute(p, .init(input: input, weight: weight, bias: bias, gradOutput: gradOutput, outputs: outs))
        return Int32(SC_OK.rawValue)
    } catch {
        return fail(error, msg, len)
    }
}

@_cdecl("sc_plan_explain")
public func sc_plan_explain(_ plan: OpaquePointer?, _ text: UnsafeMutablePointer<CChar>?, _ len: Int) -> Int32 {
    do {
        writeMessage(try PlanHandle.from(plan).plan.explanation, text, len)
        return Int32(SC_OK.rawValue)
    } catch {
        return fail(error, text, len)
    }
}

@_cdecl("sc_plan_packed_bytes")
public func sc_plan_packed_bytes(_ plan: OpaquePointer?) -> Int64 {
    guard let p = try? PlanHandle.from(plan).plan else { return 0 }
    return Int64(p.packedWeights?.bytes ?? 0)
}

@_cdecl("sc_algorithms")
public func sc_algorithms(_ op: Int32, _ text: UnsafeMutablePointer<CChar>?, _ len: Int) -> Int32 {
    guard let o = ConvOp(rawValue: op) else {
        writeMessage("swiftconv: unknown op \(op)", text, len)
        return Int32(SC_ERR_VALUE.rawValue)
    }
    writeMessage(ConvAlgorithm.valid(for: o).map(\.rawValue).joined(separator: " "), text, len)
    return Int32(SC_OK.rawValue)
}

@_cdecl("sc_test_allocation_failures")
public func sc_test_allocation_failures(_ failAfter: Int64, _ live: UnsafeMutablePointer<Int64>?) -> Int64 {
    let pending: Int
    if failAfter >= 0 {
        pending = AllocationFailures.failAfter(Int(failAfter))
    } else {
        pending = AllocationFailures.failAfter(AllocationFailures.failAfter(0))
    }
    live?.pointee = Int64(AllocationFailures.liveAllocations)
    return Int64(pending)
}

/// Tests only: the activation buffers the last sc_plan_execute was given, while armed.
enum BufferRecorder {
    static let armed = Atomic<Bool>(false)
    static let input = Atomic<Int>(0)
    static let gradOutput = Atomic<Int>(0)
}

@_cdecl("sc_test_record_buffers")
public func sc_test_record_buffers(_ record: Int32, _ input: UnsafeMutablePointer<UnsafeRawPointer?>?,
                                   _ gradOutput: UnsafeMutablePointer<UnsafeRawPointer?>?) {
    if record >= 0 { BufferRecorder.armed.store(record != 0, ordering: .relaxed) }
    input?.pointee = UnsafeRawPointer(bitPattern: BufferRecorder.input.load(ordering: .relaxed))
    gradOutput?.pointee = UnsafeRawPointer(bitPattern: BufferRecorder.gradOutput.load(ordering: .relaxed))
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

@_cdecl("sc_release_memory")
public func sc_release_memory() -> Int64 { Int64(releaseKeptBuffers()) }

@_cdecl("sc_get_num_threads")
public func sc_get_num_threads() -> Int64 { Int64(ThreadPool.shared.numThreads) }

@_cdecl("sc_version")
public func sc_version() -> UnsafePointer<CChar> {
    UnsafeRawPointer(engineVersion.utf8Start).assumingMemoryBound(to: CChar.self)
}
