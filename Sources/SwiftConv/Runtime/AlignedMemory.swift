#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// 64-byte aligned memory that reports failure instead of trapping (Swift's own allocator
/// traps when memory runs out, which would kill the Python interpreter). For every buffer
/// whose size depends on user input. Each buffer has a 64-byte header in front holding its
/// size, so that large ones can be recycled through `BufferCache`: a call reuses memory an
/// earlier call faulted in.
enum AlignedMemory {
    static let header = 64

    static func allocate(bytes: Int) -> UnsafeMutableRawPointer? {
        if AllocationFailures.injectFailure() { return nil }
        let (total, overflow) = max(bytes, 1).addingReportingOverflow(header)
        guard bytes >= 0, !overflow else { return nil }
        if let p = BufferCache.take(bytes: total) {
            AllocationFailures.live.add(1, ordering: .relaxed)
            return p + header
        }
        var p: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&p, 64, total) == 0, let base = p else { return nil }
        base.storeBytes(of: total, as: Int.self)
        if total >= hugePageBytes { adviseHugePages(base, bytes: total) }
        AllocationFailures.live.add(1, ordering: .relaxed)
        return base + header
    }

    /// Fresh buffers of this size or more are backed by transparent huge pages where the
    /// kernel allows it (as NumPy does for its arrays of 4 MiB or more): their first touch
    /// then takes one fault per 2 MiB instead of one per 4 KiB: first-touching 64 MB of
    /// NumPy array took 90 ms without the advice and 40 ms with it (2-vCPU Xeon host).
    static let hugePageBytes = 4 << 20

    private static func adviseHugePages(_ base: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        let page = 4096
        let start = (Int(bitPattern: base) + page - 1) / page * page
        let end = (Int(bitPattern: base) + bytes) / page * page
        if end > start, let p = UnsafeMutableRawPointer(bitPattern: start) {
            _ = madvise(p, end - start, MADV_HUGEPAGE)  // advice only: failure changes nothing
        }
        #endif
    }

    static func release(_ pointer: UnsafeMutableRawPointer) {
        AllocationFailures.live.subtract(1, ordering: .relaxed)
        let base = pointer - header
        if !BufferCache.keep(base, bytes: base.load(as: Int.self)) { free(base) }
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
