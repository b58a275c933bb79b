#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The buffers the last calls released (workspaces, packed weights, packed operands), kept
/// for the next call instead of going back to the C allocator, which hands them back to the
/// kernel: glibc serves a buffer above its mmap threshold (which rises with use to at most
/// 32 MiB) by a fresh mapping and unmaps it on free, and returns a freed block below it to
/// the kernel by trimming the heap top whenever the free space there exceeds twice that
/// threshold. Either way the next call faults the buffer in anew: the U-Net decoder's
/// 128->64 112x112 layer at batch 8 (a 53 MB zero-padded input) took 13,000 page faults
/// per forward pass, and ResNet-50's grad_input workspace and packed dy (2-30 MB at batch
/// 8) were faulted in on every call (perf: faults 4-6% of their time on one thread).
///
/// So every buffer of `minimumBytes` or more is kept; an earlier 32 MiB floor kept only
/// mmap-sized ones. Measured, minor faults per network pass (the distinct dense layers once
/// each, batch 8, one thread, 2-vCPU AVX-512 Xeon; swiftconv's calls alternating with
/// torch's as benchmarks/network_bench.py times them), 32 MiB floor -> 1 MiB floor:
///
///     ResNet-50 forward        694 -> 0     U-Net forward         0 -> 0
///     ResNet-50 grad_input       0 -> 0     U-Net grad_input    266 -> 0
///     ResNet-50 fwd + backward 900 -> 0     U-Net fwd + backward 1110 -> 0
///
/// Network passes without torch in between: after the first, 116-1205 -> 0-361 faults per
/// op; peak RSS 658 -> 587 MB. The cost is the first pass of an op after passes of another
/// (grad_weight after grad_input: 1,000-1,500 -> 6,900-7,800 faults, its time within the
/// noise): the cache holds the other op's sizes while glibc needs fresh memory (what an
/// earlier trial saw). Freeing the least recently released buffers on a miss, to give glibc
/// that memory back, made later passes fault again (U-Net: 0 -> 730-880 per pass): not done.
///
/// Bounded: at most `maximumBuffers` buffers, `capacityBytes` in all, the least recently
/// released go first; emptied when the thread count changes (`ThreadPool`) and by
/// `releaseKeptBuffers` (sc.release_memory). One lock for all threads, only ever tried: a
/// thread that finds it taken (or a forked child that inherited it taken) goes to the C
/// allocator, so nothing ever waits on it.
enum BufferCache {
    /// Smaller buffers are left to glibc's free lists (a floor below 1 MiB was not tried).
    static let minimumBytes = 1 << 20
    static let capacityBytes = 128 << 20
    /// Enough for the buffers of a few consecutive calls; few enough that a lookup is a
    /// short scan.
    static let maximumBuffers = 16

    private struct Entry { var pointer: UnsafeMutableRawPointer; var bytes: Int }
    nonisolated(unsafe) private static var entries: [Entry] = []
    nonisolated(unsafe) private static var cachedBytes = 0
    private static let mutex = makeMutex()

    /// A cached buffer of at least `bytes` (and at most twice that, so a small request does
    /// not take a large buffer a later one needs), or nil. (Buffers are AlignedMemory's:
    /// their size is in their header.)
    static func take(bytes: Int) -> UnsafeMutableRawPointer? {
        if bytes > capacityBytes || bytes < minimumBytes / 2 || pthread_mutex_trylock(mutex) != 0 { return nil }
        defer { pthread_mutex_unlock(mutex) }
        var best = -1
        for (i, e) in entries.enumerated() where e.bytes >= bytes && e.bytes / 2 <= bytes {
            if best < 0 || e.bytes < entries[best].bytes { best = i }
        }
        if best < 0 { return nil }
        let e = entries.remove(at: best)
        cachedBytes -= e.bytes
        return e.pointer
    }

    /// Keeps `pointer` (from posix_memalign, `bytes` long) for a later call when it is large
    /// enough and there is room; false: the caller frees it.
    static func keep(_ pointer: UnsafeMutableRawPointer, bytes: Int) -> Bool {
        if bytes < minimumBytes || bytes > capacityBytes || pthread_mutex_trylock(mutex) != 0 { return false }
        var evicted: [UnsafeMutableRawPointer] = []
        entries.append(Entry(pointer: pointer, bytes: bytes))
        cachedBytes += bytes
        while cachedBytes > capacityBytes || entries.count > maximumBuffers {
            let e = entries.removeFirst()
            cachedBytes -= e.bytes
            evicted.append(e.pointer)
        }
        pthread_mutex_unlock(mutex)
        for p in evicted { free(p) }
        return true
    }

    /// Frees every cached buffer (unless another thread holds the lock right now); the
    /// bytes it freed.
    @discardableResult
    static func empty() -> Int {
        if pthread_mutex_trylock(mutex) != 0 { return 0 }
        let all = entries
        entries.removeAll()
        cachedBytes = 0
        pthread_mutex_unlock(mutex)
        for e in all { free(e.pointer) }
        return all.reduce(0) { $0 + $1.bytes }
    }
}

/// Frees the buffers kept between calls, for a user who wants the memory back now (the C
/// ABI's sc_release_memory); the bytes freed.
public func releaseKeptBuffers() -> Int { BufferCache.empty() }
