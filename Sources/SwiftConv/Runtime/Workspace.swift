/// Scratch memory whose size depends on user input: reports ConvError.outOfMemory
/// (MemoryError in Python) instead of trapping when it cannot be had.
struct Workspace<T>: ~Copyable {
    let pointer: UnsafeMutablePointer<T>
    let count: Int

    init(count: Int, for purpose: @autoclosure () -> String) throws {
        let (bytes, overflow) = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard !overflow, let buffer = AlignedMemory.allocate(bytes: bytes) else {
            throw ConvError.outOfMemory("swiftconv: could not allocate \(count) elements of workspace for \(purpose())")
        }
        pointer = buffer.bindMemory(to: T.self, capacity: max(count, 1))
        self.count = count
    }

    deinit { AlignedMemory.release(UnsafeMutableRawPointer(pointer)) }
}

/// Several arrays in one workspace: `reserve` hands out element offsets, each part rounded up
/// to `alignment` elements (so every part starts 64-byte aligned when `alignment` elements
/// make 64 bytes), with the arithmetic overflow-checked (`ConvError.outOfMemory(tooLarge)`).
struct WorkspaceLayout {
    let alignment: Int
    let tooLarge: String
    private(set) var total = 0

    /// `alignment`: a power of two.
    init(alignment: Int, tooLarge: String) {
        self.alignment = alignment
        self.tooLarge = tooLarge
    }

    /// The offset of a new part of `count` elements.
    mutating func reserve(_ count: Int) throws -> Int {
        let start = total
        let (padded, o1) = count.addingReportingOverflow(alignment - 1)
        let (next, o2) = total.addingReportingOverflow(padded & ~(alignment - 1))
        if o1 || o2 { throw ConvError.outOfMemory(tooLarge) }
        total = next
        return start
    }
}
