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
