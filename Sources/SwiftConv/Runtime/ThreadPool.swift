#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CSwiftConv
import Synchronization

/// Runs loop iterations on the engine's worker threads (the caller takes part).
/// Work is always partitioned by output, so results never depend on the thread count.
///
/// A persistent pool of our own on pthreads (no Foundation, no Dispatch). Workers are
/// created lazily, spin briefly after each job and then sleep on a condition variable.
/// One parallel loop runs at a time across all pools: a call that finds one already
/// running (a nested call from inside a loop body, on a worker or on the caller, or a call
/// from another thread) runs its iterations inline on the calling thread. So does a call
/// with count 1 or numThreads 1. After fork() the child starts with no workers and creates
/// new ones on first use.
public final class ThreadPool: @unchecked Sendable {
    public static let shared = ThreadPool()

    private let requested = Atomic<Int>(ThreadPool.defaultThreadCount())
    /// The worker crew; only touched while holding the global pool lock.
    private var crew: Crew?
    private var crewEpoch = 0

    public init() {}

    /// The thread count a process starts with: SWIFTCONV_NUM_THREADS when it is an int in
    /// 1...1024, otherwise the CPUs this process may run on (its affinity mask), at most 1024.
    /// (The one place this rule lives: the Python package and Swift programs both get it.)
    public static func defaultThreadCount() -> Int {
        if let raw = getenv("SWIFTCONV_NUM_THREADS") {
            let text = String(cString: raw)
            if !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int(text), (1...1024).contains(n) {
                return n
            }
        }
        return max(1, min(1024, Int(sc_cpu_count())))
    }

    deinit {
        // (A crew inherited through fork() has no threads here and is left alone.)
        if crewEpoch == PoolLock.forkEpoch { crew?.shutdown() }
    }

    /// Threads used by parallelFor, the caller included (1...1024). Safe to read and set
    /// from any thread at any time; each parallelFor call reads it once.
    public var numThreads: Int { requested.load(ordering: .relaxed) }

    public func setNumThreads(_ n: Int) throws {
        guard n >= 1 && n <= 1024 else {
            throw ConvError.invalidArgument("set_num_threads: expected 1 <= n <= 1024, got \(n)")
        }
        // Buffers sized for the old thread count's tiling are not kept for the new one.
        if requested.exchange(n, ordering: .relaxed) != n { BufferCache.empty() }
    }

    /// Below this many multiply-adds in a whole loop, waking workers costs more than it
    /// saves (a wake-up is several microseconds): such loops run on the caller alone.
    public static let minimumParallelWork = 100_000

    /// Multiply-adds one element is worth, in a loop that copies or converts elements rather
    /// than multiplying them (packing, zero-padded copies): measured on the AVX-512 host, one
    /// thread, packing 320->1280 weights (410k elements) took ~100 us (~4 elements/ns) where
    /// that layer's GEMM on 7x7 did ~74 multiply-adds/ns. So a copy of 6k elements (~25 KiB)
    /// already pays for a worker (the zero-padded input copy, counted as a quarter of a
    /// multiply-add per element, stayed on one thread up to 400k elements: 1.6 MB).
    public static let copiedElementWork = 16

    /// `elements` copied, as work for `parallelFor` (saturating).
    public static func copyWork(elements: Int) -> Int {
        let (w, o) = max(0, elements).multipliedReportingOverflow(by: copiedElementWork)
        return o ? Int.max : w
    }

    /// Calls body(i) for every i in 0..<count, in any order and on any thread. `work`, when
    /// given, estimates the multiply-adds of the whole loop, so that small loops stay on the
    /// calling thread.
    public func parallelFor(_ count: Int, work: Int = Int.max, _ body: (Int) -> Void) {
        if count <= 0 { return }
        let threads = work < ThreadPool.minimumParallelWork ? 1 : min(numThreads, count)
        if threads <= 1 || !PoolLock.tryAcquire() {
            for i in 0..<count { body(i) }
            return
        }
        defer { PoolLock.release() }
        if crewEpoch != PoolLock.forkEpoch {
            // A forked child: the old crew's threads do not exist here, and its mutexes may
            // be in any state. Leak it and start a new one.
            if let old = crew { _ = Unmanaged.passRetained(old) }
            crew = nil
            crewEpoch = PoolLock.forkEpoch
        }
        let c: Crew
        if let existing = crew { c = existing } else { c = Crew(); crew = c }
        let participants = 1 + c.ensureWorkers(threads - 1)
        if participants <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        c.run(count: count, participants: participants, body: body)
    }
}

/// The one lock held by the thread running a parallel loop (all pools), replaced in a
/// forked child.
enum PoolLock {
    nonisolated(unsafe) static var mutex: UnsafeMutablePointer<pthread_mutex_t> = makeMutex()
    nonisolated(unsafe) static var forkEpoch = 0

    private static let registered: Bool = {
        _ = mutex
        pthread_atfork(nil, nil) {
            // Runs in the child, single-threaded: the old lock may be held by a thread that
            // does not exist here.
            PoolLock.mutex = makeMutex()
            PoolLock.forkEpoch &+= 1
        }
        return true
    }()

    static func tryAcquire() -> Bool {
        _ = registered
        return pthread_mutex_trylock(mutex) == 0
    }

    static func release() { pthread_mutex_unlock(mutex) }
}

func makeMutex() -> UnsafeMutablePointer<pthread_mutex_t> {
    let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    m.initialize(to: pthread_mutex_t())
    pthread_mutex_init(m, nil)
    return m
}

func makeCondition() -> UnsafeMutablePointer<pthread_cond_t> {
    let c = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    c.initialize(to: pthread_cond_t())
    pthread_cond_init(c, nil)
    return c
}

/// Nanoseconds on the monotonic clock.
@inline(__always)
func monotonicNanoseconds() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// The worker threads of one pool and the state of the job they share.
///
/// A job is published by storing a new `word` (release) under the mutex, after its fields
/// and `tickets` = participants - 1. A worker that sees a new word joins by claiming a
/// ticket; it then claims indices from `next`, drops its reference to the body and counts
/// itself in `finished`. The caller claims indices too; when none are left it revokes the
/// unclaimed tickets (so a worker that has not woken up yet is not waited for) and waits
/// until every worker that joined has finished. So a job's fields are never rewritten while
/// a worker still reads them, and nobody holds the body after parallelFor returns.
final class Crew: @unchecked Sendable {
    static let shutdownBit = 1
    /// How long a worker (or the waiting caller) spins before sleeping.
    static let spinNanoseconds = 100_000

    let mutex = makeMutex()
    let wake = makeCondition()
    let done = makeCondition()
    let word = Atomic<Int>(0)
    let tickets = Atomic<Int>(0)
    let finished = Atomic<Int>(0)
    let callerWaiting = Atomic<Bool>(false)
    let next = Atomic<Int>(0)
    let jobCount = Atomic<Int>(0)
    let job = UnsafeMutablePointer<((Int) -> Void)?>.allocate(capacity: 1)
    /// Under `mutex`.
    var sleepers = 0
    /// Caller side only (under the pool lock).
    var workers = 0
    var sequence = 0

    init() { job.initialize(to: nil) }

    deinit {
        job.deinitialize(count: 1); job.deallocate()
        pthread_mutex_destroy(mutex); mutex.deallocate()
        pthread_cond_destroy(wake); wake.deallocate()
        pthread_cond_destroy(done); done.deallocate()
    }

    /// Starts workers until there are `n` (or thread creation fails); returns how many exist.
    func ensureWorkers(_ n: Int) -> Int {
        while workers < n {
            let context = Unmanaged.passRetained(self).toOpaque()
            var attr = pthread_attr_t()
            pthread_attr_init(&attr)
            pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
            var tid = pthread_t()
            let rc = pthread_create(&tid, &attr, { arg in
                let crew = Unmanaged<Crew>.fromOpaque(arg!).takeRetainedValue()
                crew.workerLoop()
                return nil
            }, context)
            pthread_attr_destroy(&attr)
            if rc != 0 {
                Unmanaged<Crew>.fromOpaque(context).release()
                break
            }
            workers += 1
        }
        return workers
    }

    private func publish(_ w: Int) {
        pthread_mutex_lock(mutex)
        word.store(w, ordering: .releasing)
        if sleepers > 0 { pthread_cond_broadcast(wake) }
        pthread_mutex_unlock(mutex)
    }

    func shutdown() {
        tickets.store(0, ordering: .releasing)
        sequence += 1
        publish(sequence << 1 | Crew.shutdownBit)
    }

    func run(count: Int, participants: Int, body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            job.pointee = body
            jobCount.store(count, ordering: .relaxed)
            next.store(0, ordering: .relaxed)
            finished.store(0, ordering: .relaxed)
            tickets.store(participants - 1, ordering: .releasing)
            sequence += 1
            publish(sequence << 1)
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if i >= count { break }
                body(i)
            }
            let unclaimed = tickets.exchange(0, ordering: .acquiringAndReleasing)
            let joined = participants - 1 - max(0, unclaimed)
            if finished.load(ordering: .acquiring) != joined {
                let deadline = monotonicNanoseconds() + Crew.spinNanoseconds
                var spins = 0
                while finished.load(ordering: .acquiring) != joined {
                    spins += 1
                    if spins & 255 == 0 && monotonicNanoseconds() > deadline {
                        pthread_mutex_lock(mutex)
                        callerWaiting.store(true, ordering: .sequentiallyConsistent)
                        while finished.load(ordering: .sequentiallyConsistent) != joined { pthread_cond_wait(done, mutex) }
                        callerWaiting.store(false, ordering: .relaxed)
                        pthread_mutex_unlock(mutex)
                        break
                    }
                }
            }
            job.pointee = nil
        }
    }

    func workerLoop() {
        var seen = 0
        while true {
            var w = word.load(ordering: .acquiring)
            if w == seen {
                let deadline = monotonicNanoseconds() + Crew.spinNanoseconds
                var spins = 0
                while w == seen {
                    spins += 1
                    if spins & 255 == 0 && monotonicNanoseconds() > deadline {
                        pthread_mutex_lock(mutex)
                        sleepers += 1
                        while true {
                            w = word.load(ordering: .acquiring)
                            if w != seen { break }
                            pthread_cond_wait(wake, mutex)
                        }
                        sleepers -= 1
                        pthread_mutex_unlock(mutex)
                        break
                    }
                    w = word.load(ordering: .acquiring)
                }
            }
            seen = w
            if w & Crew.shutdownBit != 0 { return }
            // Join the job if a ticket is left.
            var t = tickets.load(ordering: .acquiring)
            while t > 0 {
                let r = tickets.compareExchange(expected: t, desired: t - 1, ordering: .acquiringAndReleasing)
                if r.exchanged {
                    work()
                    finished.wrappingAdd(1, ordering: .sequentiallyConsistent)
                    if callerWaiting.load(ordering: .sequentiallyConsistent) {
                        pthread_mutex_lock(mutex)
                        pthread_cond_signal(done)
                        pthread_mutex_unlock(mutex)
                    }
                    break
                }
                t = r.original
            }
        }
    }

    /// Claims and runs indices; the reference to the body ends with this call.
    @inline(never)
    private func work() {
        guard let body = job.pointee else { return }
        let count = jobCount.load(ordering: .relaxed)
        while true {
            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if i >= count { break }
            body(i)
        }
    }
}
