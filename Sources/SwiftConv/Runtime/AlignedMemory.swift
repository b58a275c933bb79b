#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// 64-byte aligned memory that reports failure instead of trapping (Swift's own allocator
/// traps when memory runs out, which would kill the Python interpreter). For every buffer
/// whose size depends on user input. (A cache of buffers across calls was measured: glibc
/// already reuses these sizes without fresh page faults, so it bought nothing.)
enum AlignedMemory {
    static func allocate(bytes: Int) -> UnsafeMutableRawPointer? {
        if AllocationFailures.injectFailure() { return nil }
        var p: UnsafeMutableRawPointer? = nil
        guard bytes >= 0, posix_memalign(&p, 64, max(bytes, 1)) == 0 else { return nil }
        AllocationFailures.live.add(1, ordering: .relaxed)
        return p
    }

    static func release(_ pointer: UnsafeMutableRawPointer) {
        AllocationFailures.live.subtract(1, ordering: .relaxed)
        free(pointer)
    }
}

/// Failure injection for tests of the out-of-memory paths: `failAfter(n)` makes the n-th
/// engine allocation from now on fail (as if memory ran out), once. Off (the default) it
/// costs one relaxed atomic load per allocation. `live` counts the engine's allocations not
/// yet released, so a test can tell that a failed call leaked nothing.
public enum AllocationFailures {
    static let countdown = Atomic<Int>(0)
    static let live = Atomic<Int>(0)

    /// Arms (n >= 1) or disarms (n == 0) the injection; returns how many allocations were
    /// still to go before the previous setting would have failed one (0: none pending).
    @discardableResult
    public static func failAfter(_ n: Int) -> Int {
        countdown.exchange(max(0, n), ordering: .relaxed)
    }

    /// Engine allocations not yet released.
    public static var liveAllocations: Int { live.load(ordering: .relaxed) }

    @inline(__always)
    static func injectFailure() -> Bool {
        if countdown.load(ordering: .relaxed) == 0 { return false }
        return countdown.wrappingSubtract(1, ordering: .relaxed).newValue == 0
    }
}
