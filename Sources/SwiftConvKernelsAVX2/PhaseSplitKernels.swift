/// The two column phases of a row, for the stride-phase split of stride-2 convolutions
/// (SwiftConv's StridePhaseSplit): even[j] = src[2j], odd[j] = src[2j + 1] for j < count,
/// by vectors (the last one overlapping the one before), reading src[0 ..< 2 count] only.
/// Here, compiled per tier, so the shuffles are the CPU's widest (in SwiftConv's baseline
/// build they were SSE and took twice the time of the copy they replace).
@inline(never)
public func deinterleavePairsF32(_ even: UnsafeMutablePointer<Float>, _ odd: UnsafeMutablePointer<Float>,
                                 _ src: UnsafePointer<Float>, count: Int) {
    var j = 0
    if count >= 16 {
        while true {
            let at = min(j, count &- 16), s = UnsafeRawPointer(src + 2 &* at)
            let v0 = s.loadUnaligned(as: SIMD16<Float>.self), v1 = s.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(even + at).storeBytes(of: SIMD16(lowHalf: v0.evenHalf, highHalf: v1.evenHalf), as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(odd + at).storeBytes(of: SIMD16(lowHalf: v0.oddHalf, highHalf: v1.oddHalf), as: SIMD16<Float>.self)
            j = at &+ 16
            if j >= count { return }
        }
    }
    if count >= 8 {
        while true {
            let at = min(j, count &- 8), s = UnsafeRawPointer(src + 2 &* at)
            let v0 = s.loadUnaligned(as: SIMD8<Float>.self), v1 = s.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(even + at).storeBytes(of: SIMD8(lowHalf: v0.evenHalf, highHalf: v1.evenHalf), as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(odd + at).storeBytes(of: SIMD8(lowHalf: v0.oddHalf, highHalf: v1.oddHalf), as: SIMD8<Float>.self)
            j = at &+ 8
            if j >= count { return }
        }
    }
    while j < count { even[j] = src[2 &* j]; odd[j] = src[2 &* j &+ 1]; j &+= 1 }
}

@inline(never)
public func deinterleavePairsF64(_ even: UnsafeMutablePointer<Double>, _ odd: UnsafeMutablePointer<Double>,
                                 _ src: UnsafePointer<Double>, count: Int) {
    var j = 0
    if count >= 8 {
        while true {
            let at = min(j, count &- 8), s = UnsafeRawPointer(src + 2 &* at)
            let v0 = s.loadUnaligned(as: SIMD8<Double>.self), v1 = s.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self)
            UnsafeMutableRawPointer(even + at).storeBytes(of: SIMD8(lowHalf: v0.evenHalf, highHalf: v1.evenHalf), as: SIMD8<Double>.self)
            UnsafeMutableRawPointer(odd + at).storeBytes(of: SIMD8(lowHalf: v0.oddHalf, highHalf: v1.oddHalf), as: SIMD8<Double>.self)
            j = at &+ 8
            if j >= count { return }
        }
    }
    while j < count { even[j] = src[2 &* j]; odd[j] = src[2 &* j &+ 1]; j &+= 1 }
}
