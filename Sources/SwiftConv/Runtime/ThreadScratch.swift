#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A per-thread scratch buffer: grown on demand, reused by every call on the same thread,
/// freed when the thread exits, never shared between threads. Each use has its own instance
/// because they nest on one thread (a scatter task holds its col tile while its GEMM packs).
final class ThreadScratch: @unchecked Sendable {
    /// The GEMM's packing buffers (Gemm.swift).
    static let gemm = ThreadScratch()
    /// The scatter adjoint's col tiles (ScatterAdjoint.swift).
    static let columns = ThreadScratch()
    /// The depthwise kernels' channel-interleaved tiles (DepthwiseConvolution.swift).
    static let depthwise = ThreadScratch()
    /// The half-precision GEMM's widened chunks and result tiles (HalfGemmConvolution.swift).
    static let halfGemm = ThreadScratch()
    /// The weight gradient's channel-blocked input copies and dW tiles (GemmWeightGradient.swift).
    static let weightGradient = ThreadScratch()
    /// The channel-blocked conv's output tiles (ChannelBlockedConvolution.swift).
    static let channelBlocked = ThreadScratch()
    /// The channel-blocked conv's weight panel, when packed per call (ChannelBlockedConvolution.swift).
    static let channelBlockedWeights = ThreadScratch()

    /// Header in front of each buffer: its usable size in bytes.
    private static let header = 64
    private let key: pthread_key_t

    private init() {
        var k = pthread_key_t()
        pthread_key_create(&k) { p in free(p) }
        key = k
    }

    /// Makes sure this thread's buffer holds `bytes`; false when the memory cannot be had.
    func reserve(bytes: Int) -> Bool {
        if let p = pthread_getspecific(key), p.load(as: Int.self) >= bytes { return true }
        let (padded, overflow) = bytes.addingReportingOverflow(ThreadScratch.header + 4095)
        if overflow { return false }
        let size = padded / 4096 * 4096
        if AllocationFailures.injectFailure() { return false }
        guard let q = aligned_alloc(64, size) else { return false }
        if let p = pthread_getspecific(key) { free(p) }
        q.storeBytes(of: size - ThreadScratch.header, as: Int.self)
        pthread_setspecific(key, q)
        return true
    }

    /// A 64-byte-aligned buffer of at least `bytes` bytes, valid until the next call on this
    /// thread. Callers whose size depends on user input reserve it first on the calling
    /// thread (and report failure); should a worker still fail, the Swift allocator is the
    /// fallback (kept as this thread's buffer, so nothing leaks).
    func buffer(bytes: Int) -> UnsafeMutableRawPointer {
        if reserve(bytes: bytes), let p = pthread_getspecific(key) { return p + ThreadScratch.header }
        let q = UnsafeMutableRawPointer.allocate(byteCount: bytes + ThreadScratch.header, alignment: 64)
        q.storeBytes(of: bytes, as: Int.self)
        if let p = pthread_getspecific(key) { free(p) }
        pthread_setspecific(key, q)
        return q + ThreadScratch.header
    }
}
