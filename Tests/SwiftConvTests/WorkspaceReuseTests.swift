@testable import SwiftConv
import XCTest

/// Buffers reused across calls (BufferCache) and weights packed over the threads
/// (Gemm.tryPackA(count:)): the packing must be the serial packing's, bit for bit, at any
/// thread count, and a large buffer released by one call must serve the next.
final class WorkspaceReuseTests: XCTestCase {
    var saved = 1
    override func setUp() { saved = ThreadPool.shared.numThreads }
    override func tearDown() { try? ThreadPool.shared.setNumThreads(saved) }

    func testParallelPackingIsTheSerialPacking() throws {
        // Rows that start inside the matrix and end in a partial panel; a depth that makes
        // one task per panel, so the panels really are split over the threads.
        let rows = 2..<47, depth = 3001, groups = 3
        let values = (0..<(groups * 50 * depth)).map { Float(($0 * 7919) % 1013) - 500.5 }
        try values.withUnsafeBufferPointer { v in
            let operand = { (g: Int) in StridedMatrix(base: v.baseAddress! + g * 50 * depth, rowStride: depth, colStride: 1) }
            for threads in [1, 2, 3] {
                try ThreadPool.shared.setNumThreads(threads)
                let packed = try XCTUnwrap(Gemm.tryPackA(count: groups, rows: rows, depth: depth, operand))
                XCTAssertEqual(packed.count, groups)
                for g in 0..<groups {
                    let serial = PackedMatrix(allocating: operand(g), rows: rows, depth: depth)
                    let n = serial.byteCount / MemoryLayout<Float>.stride
                    XCTAssertEqual(packed[g].byteCount, serial.byteCount)
                    XCTAssertTrue(Array(UnsafeBufferPointer(start: packed[g].panels, count: n))
                                  == Array(UnsafeBufferPointer(start: serial.panels, count: n)),
                                  "group \(g), \(threads) threads")
                }
            }
        }
    }

    func testLargeBufferServesTheNextCall() throws {
        // A change of the thread count empties the cache: only this test's buffer is in it.
        try ThreadPool.shared.setNumThreads(ThreadPool.shared.numThreads == 1 ? 2 : 1)
        let live = AllocationFailures.liveAllocations
        let bytes = BufferCache.minimumBytes + 4096
        let first = try XCTUnwrap(AlignedMemory.allocate(bytes: bytes))
        XCTAssertEqual(Int(bitPattern: first) % 64, 0)
        AlignedMemory.release(first)
        XCTAssertEqual(AllocationFailures.liveAllocations, live, "a cached buffer is not a live allocation")
        // The same size, and a smaller one that still needs more than half of it, reuse it.
        let second = try XCTUnwrap(AlignedMemory.allocate(bytes: bytes))
        XCTAssertEqual(second, first)
        AlignedMemory.release(second)
        let third = try XCTUnwrap(AlignedMemory.allocate(bytes: bytes * 3 / 4))
        XCTAssertEqual(third, first)
        AlignedMemory.release(third)
        XCTAssertEqual(AllocationFailures.liveAllocations, live)
    }

    func testInjectedFailureStillFailsWithACachedBuffer() throws {
        let bytes = BufferCache.minimumBytes + 4096
        AlignedMemory.release(try XCTUnwrap(AlignedMemory.allocate(bytes: bytes)))
        AllocationFailures.failAfter(1)
        XCTAssertNil(AlignedMemory.allocate(bytes: bytes))
        AllocationFailures.failAfter(0)
    }

    func testCacheStaysWithinItsCaps() throws {
        try ThreadPool.shared.setNumThreads(ThreadPool.shared.numThreads == 1 ? 2 : 1)
        let live = AllocationFailures.liveAllocations
        // More buffers than it may hold, each from the C allocator (all held at once), then
        // all released: it keeps the last `maximumBuffers` of them.
        let small = BufferCache.minimumBytes
        let many = (0..<(BufferCache.maximumBuffers + 5)).map { _ in AlignedMemory.allocate(bytes: small) }
        for p in many { AlignedMemory.release(try XCTUnwrap(p)) }
        XCTAssertEqual(AllocationFailures.liveAllocations, live)
        let total = small + AlignedMemory.header
        XCTAssertEqual(BufferCache.empty(), BufferCache.maximumBuffers * total)
        // More bytes than it may hold, in few buffers: never more than `capacityBytes`.
        let large = BufferCache.capacityBytes / 3
        let big = (0..<5).map { _ in AlignedMemory.allocate(bytes: large) }
        for p in big { AlignedMemory.release(try XCTUnwrap(p)) }
        let kept = BufferCache.empty()
        XCTAssertLessThanOrEqual(kept, BufferCache.capacityBytes)
        XCTAssertEqual(kept, 2 * (large + AlignedMemory.header))
        XCTAssertEqual(BufferCache.empty(), 0, "emptied")
        // Below the floor nothing is kept.
        AlignedMemory.release(try XCTUnwrap(AlignedMemory.allocate(bytes: small / 2)))
        XCTAssertEqual(BufferCache.empty(), 0)
    }
}
