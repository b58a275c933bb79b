#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-thread packing buffers for the GEMM core: grown on demand, reused by every call on
/// the same thread, freed when the thread exits. Never shared between threads.
enum GemmScratch {
    /// Header in front of each buffer: its usable size in bytes.
    private static let header = 64

    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { p in free(p) }
        return k
    }()

    /// A 64-byte-aligned buffer of at least `bytes` bytes, valid until the next call on this
    /// thread.
    static func buffer(bytes: Int) -> UnsafeMutableRawPointer {
        if let p = pthread_getspecific(key) {
            if p.load(as: Int.self) >= bytes { return p + header }
            free(p)
            pthread_setspecific(key, nil)
        }
        let size = (bytes + header + 4095) / 4096 * 4096
        guard let p = aligned_alloc(64, size) else {
            // Out of memory: nothing sensible to do without trapping later; fall back to the
            // Swift allocator (which reports the failure itself).
            let q = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
            q.storeBytes(of: size - header, as: Int.self)
            return q + header
        }
        p.storeBytes(of: size - header, as: Int.self)
        pthread_setspecific(key, p)
        return p + header
    }
}
