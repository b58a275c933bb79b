#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Scratch memory whose size depends on user input. Swift's own allocator traps when memory
/// runs out, which would kill the Python interpreter; this one reports a ConvError instead
/// (MemoryError in Python).
struct Workspace<T>: ~Copyable {
    let pointer: UnsafeMutablePointer<T>
    let count: Int

    init(count: Int, for purpose: @autoclosure () -> String) throws {
        let (bytes, overflow) = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard !overflow, let raw = malloc(bytes) else {
            throw ConvError.outOfMemory("swiftconv: could not allocate \(count) elements of workspace for \(purpose())")
        }
        pointer = raw.bindMemory(to: T.self, capacity: max(count, 1))
        self.count = count
    }

    deinit { free(pointer) }
}
