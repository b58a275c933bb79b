/// Why a call was refused. Each case maps to one Python exception type across the C ABI,
/// and every message names the argument and the sizes involved.
public enum ConvError: Error, Equatable, Sendable {
    /// A shape or parameter is invalid (Python: ValueError).
    case invalidArgument(String)
    /// A dtype or type is wrong (Python: TypeError).
    case typeMismatch(String)
    /// Memory for a result or a workspace could not be had (Python: MemoryError).
    case outOfMemory(String)

    public var message: String {
        switch self {
        case .invalidArgument(let m), .typeMismatch(let m), .outOfMemory(let m): return m
        }
    }
}
