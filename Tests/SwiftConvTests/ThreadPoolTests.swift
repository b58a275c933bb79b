@testable import SwiftConv
import XCTest
#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// The thread pool: every index exactly once for any count and thread count, nested calls
/// (inline, no deadlock), thread-count changes while computing, concurrent callers, fork.
final class ThreadPoolTests: XCTestCase {
    var saved = 1
    override func setUp() { saved = ThreadPool.shared.numThreads }
    override func tearDown() { try? ThreadPool.shared.setNumThreads(saved) }

    /// Runs parallelFor(count) and returns how many times each index ran.
    func counts(_ pool: ThreadPool, _ count: Int, work: Int = 0) -> [Int] {
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: max(1, count))
        slots.initialize(repeating: 0, count: max(1, count))
        defer { slots.deallocate() }
        pool.parallelFor(count) { i in
            var x = 0
            for j in 0..<work { x &+= j &* i }
            slots[i] += 1 + (x == -1 ? 1 : 0)
        }
        return Array(UnsafeBufferPointer(start: slots, count: count))
    }

    func testEveryIndexOnce() throws {
        for threads in [1, 2, 3, 4, 8, 17] {
            try ThreadPool.shared.setNumThreads(threads)
            for count in [0, 1, 2, 3, 5, 16, 100, 1000] {
                for work in [0, 2000] {
                    XCTAssertEqual(counts(ThreadPool.shared, count, work: work), [Int](repeating: 1, count: count),
                                   "threads \(threads) count \(count)")
                }
            }
        }
    }

    func testManyBackToBackCalls() throws {
        try ThreadPool.shared.setNumThreads(2)
        for i in 0..<3000 {
            let c = counts(ThreadPool.shared, 1 + i % 7)
            if c.contains(where: { $0 != 1 }) { XCTFail("call \(i): \(c)"); return }
        }
    }

    func testNumThreadsValidation() {
        XCTAssertThrowsError(try ThreadPool.shared.setNumThreads(0))
        XCTAssertThrowsError(try ThreadPool.shared.setNumThreads(1025))
        XCTAssertThrowsError(try ThreadPool.shared.setNumThreads(-3))
        XCTAssertNoThrow(try ThreadPool.shared.setNumThreads(1024))
        XCTAssertEqual(ThreadPool.shared.numThreads, 1024)
        XCTAssertNoThrow(try ThreadPool.shared.setNumThreads(1))
    }

    func testNestedCallsRunInline() throws {
        try ThreadPool.shared.setNumThreads(4)
        let outer = 8, inner = 50
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: outer * inner)
        slots.initialize(repeating: 0, count: outer * inner)
        defer { slots.deallocate() }
        ThreadPool.shared.parallelFor(outer) { i in
            ThreadPool.shared.parallelFor(inner) { j in
                ThreadPool.shared.parallelFor(1) { _ in slots[i * inner + j] += 1 }
            }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: slots, count: outer * inner)), [Int](repeating: 1, count: outer * inner))
    }

    func testThreadCountChangesWhileComputing() throws {
        try ThreadPool.shared.setNumThreads(2)
        let done = StopFlag()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            var n = 1
            while !done.isSet {
                try? ThreadPool.shared.setNumThreads(n)
                n = n % 5 + 1
            }
        }
        var failures = 0
        for i in 0..<500 where counts(ThreadPool.shared, 1 + i % 40, work: 100).contains(where: { $0 != 1 }) { failures += 1 }
        done.set()
        group.wait()
        XCTAssertEqual(failures, 0)
    }

    func testConcurrentCallers() throws {
        try ThreadPool.shared.setNumThreads(3)
        let callers = 4
        let failures = UnsafeMutablePointer<Int>.allocate(capacity: callers)
        failures.initialize(repeating: 0, count: callers)
        defer { failures.deallocate() }
        DispatchQueue.concurrentPerform(iterations: callers) { t in
            for i in 0..<300 where counts(ThreadPool.shared, 1 + (i * 7 + t) % 60, work: 50).contains(where: { $0 != 1 }) {
                failures[t] += 1
            }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: failures, count: callers)), [Int](repeating: 0, count: callers))
    }

    func testSeparatePoolsAndDeinit() throws {
        for _ in 0..<5 {
            let pool = ThreadPool()
            try pool.setNumThreads(3)
            XCTAssertEqual(counts(pool, 100, work: 100), [Int](repeating: 1, count: 100))
        }
    }

    /// The body's closure context is released by the time parallelFor returns
    /// (withoutActuallyEscaping would trap otherwise); captured objects die on time.
    func testClosureReleased() throws {
        try ThreadPool.shared.setNumThreads(2)
        final class Token {}
        weak var weakToken: Token?
        do {
            let token = Token()
            weakToken = token
            ThreadPool.shared.parallelFor(64) { _ in withExtendedLifetime(token) {} }
        }
        XCTAssertNil(weakToken)
    }

    /// A forked child gets a working pool (new workers), even when the parent had workers.
    func testWorksAfterFork() throws {
        try ThreadPool.shared.setNumThreads(2)
        XCTAssertEqual(counts(ThreadPool.shared, 100), [Int](repeating: 1, count: 100))
        let pid = fork()
        if pid == 0 {
            var ok = true
            for count in [1, 7, 100, 1000] where counts(ThreadPool.shared, count, work: 100) != [Int](repeating: 1, count: count) { ok = false }
            _exit(ok ? 0 : 1)
        }
        XCTAssertGreaterThan(pid, 0)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        XCTAssertEqual(status, 0, "child failed (status \(status))")
        XCTAssertEqual(counts(ThreadPool.shared, 100), [Int](repeating: 1, count: 100))
    }
}

/// A flag one thread sets and another polls: an atomic, so the race is defined behaviour
/// (and ThreadSanitizer agrees).
final class StopFlag: @unchecked Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
