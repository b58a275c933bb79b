#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// 64-byte aligned memory that reports failure instead of trapping (Swift's own allocator
/// traps when memory runs out, which would kill the Python interpreter). For every buffer
/// whose size depends on user input. (A cache of buffers across calls was measured: glibc
/// already reuses these sizes without fresh page faults, so it bought nothing.)
enum AlignedMemory {
    static func allocate(bytes: Int) -> UnsafeMutableRawPointer? {
        var p: UnsafeMutableRawPointer? = nil
        guard bytes >= 0, posix_memalign(&p, 64, max(bytes, 1)) == 0 else { return nil }
        return p
    }

    static func release(_ pointer: UnsafeMutableRawPointer) { free(pointer) }
}
