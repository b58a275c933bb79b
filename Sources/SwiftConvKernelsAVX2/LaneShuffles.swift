/// The even / odd lanes of two vectors side by side (a's, then b's): the step of the row
/// sums' transpose-add (FewColumnKernels), through the standard library's `evenHalf` /
/// `oddHalf` of the same bits as unsigned integers. Its Float / Double specialisations are
/// the register transposes' and the stride-2 gathers' (TransposePacking, Packing): a
/// specialisation shared by many functions stops being inlined into some of them, which
/// cost the transposes 16 out-of-line calls each. Lane-by-lane forms always inline but made
/// the SE expand layers' row sums 1.1-2.5x as slow (measured).

@inline(__always) func evenLanes(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    unsafeBitCast(SIMD32(lowHalf: unsafeBitCast(a, to: SIMD16<UInt32>.self), highHalf: unsafeBitCast(b, to: SIMD16<UInt32>.self)).evenHalf,
                  to: SIMD16<Float>.self)
}

@inline(__always) func oddLanes(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    unsafeBitCast(SIMD32(lowHalf: unsafeBitCast(a, to: SIMD16<UInt32>.self), highHalf: unsafeBitCast(b, to: SIMD16<UInt32>.self)).oddHalf,
                  to: SIMD16<Float>.self)
}

@inline(__always) func evenLanes(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    unsafeBitCast(SIMD16(lowHalf: unsafeBitCast(a, to: SIMD8<UInt32>.self), highHalf: unsafeBitCast(b, to: SIMD8<UInt32>.self)).evenHalf,
                  to: SIMD8<Float>.self)
}

@inline(__always) func oddLanes(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    unsafeBitCast(SIMD16(lowHalf: unsafeBitCast(a, to: SIMD8<UInt32>.self), highHalf: unsafeBitCast(b, to: SIMD8<UInt32>.self)).oddHalf,
                  to: SIMD8<Float>.self)
}

@inline(__always) func evenLanes(_ a: SIMD8<Double>, _ b: SIMD8<Double>) -> SIMD8<Double> {
    unsafeBitCast(SIMD16(lowHalf: unsafeBitCast(a, to: SIMD8<UInt64>.self), highHalf: unsafeBitCast(b, to: SIMD8<UInt64>.self)).evenHalf,
                  to: SIMD8<Double>.self)
}

@inline(__always) func oddLanes(_ a: SIMD8<Double>, _ b: SIMD8<Double>) -> SIMD8<Double> {
    unsafeBitCast(SIMD16(lowHalf: unsafeBitCast(a, to: SIMD8<UInt64>.self), highHalf: unsafeBitCast(b, to: SIMD8<UInt64>.self)).oddHalf,
                  to: SIMD8<Double>.self)
}

@inline(__always) func evenLanes(_ a: SIMD4<Double>, _ b: SIMD4<Double>) -> SIMD4<Double> {
    unsafeBitCast(SIMD8(lowHalf: unsafeBitCast(a, to: SIMD4<UInt64>.self), highHalf: unsafeBitCast(b, to: SIMD4<UInt64>.self)).evenHalf,
                  to: SIMD4<Double>.self)
}

@inline(__always) func oddLanes(_ a: SIMD4<Double>, _ b: SIMD4<Double>) -> SIMD4<Double> {
    unsafeBitCast(SIMD8(lowHalf: unsafeBitCast(a, to: SIMD4<UInt64>.self), highHalf: unsafeBitCast(b, to: SIMD4<UInt64>.self)).oddHalf,
                  to: SIMD4<Double>.self)
}
