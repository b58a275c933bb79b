/// A dense, C-contiguous (row-major) array of `Scalar`s with a shape: what a `Convolution`
/// takes and returns.
///
/// A value type over a Swift array, so copies are cheap until written (copy-on-write) and
/// no caller ever hands the engine a pointer. The invariant `storage.count == product of
/// shape` is checked by every initialiser and kept by every mutation, which is what lets
/// the engine trust the buffer sizes it is given.
///
/// Layouts follow PyTorch: input (N, C, *spatial) or unbatched (C, *spatial); weight
/// (C_out, C_in / groups, *kernel) for a convolution, (C_in, C_out / groups, *kernel) for a
/// transposed one; bias (C_out).
public struct Tensor<Scalar: TensorScalar>: Equatable, Sendable {
    /// Sizes of the dimensions, outermost first; [] for a scalar (one element).
    public let shape: [Int]
    /// The elements in row-major order (`storage.count == shape.reduce(1, *)`).
    public private(set) var storage: [Scalar]

    /// A tensor of `shape` holding `storage` in row-major order; throws
    /// `ConvError.invalidArgument` when a dimension is negative or the counts differ.
    public init(shape: [Int], storage: [Scalar]) throws {
        let count = try Tensor.elementCount(shape)
        guard count == storage.count else {
            throw ConvError.invalidArgument("Tensor: shape \(shapeText(shape)) has \(count) elements, but \(storage.count) were given")
        }
        self.shape = shape
        self.storage = storage
    }

    /// A tensor of `shape` with every element `value`.
    public init(shape: [Int], repeating value: Scalar) throws {
        self.shape = shape
        storage = Array(repeating: value, count: try Tensor.elementCount(shape))
    }

    /// A tensor of `shape` whose element at flat index i is `element(i)` (row-major).
    public init(shape: [Int], _ element: (Int) throws -> Scalar) throws {
        self.shape = shape
        storage = try (0..<Tensor.elementCount(shape)).map(element)
    }

    /// A tensor whose count is known to match (the engine's results).
    init(checkedShape shape: [Int], storage: [Scalar]) {
        self.shape = shape
        self.storage = storage
    }

    /// A 1-D tensor (a bias, a signal) holding `values`.
    public init(_ values: [Scalar]) {
        shape = [values.count]
        storage = values
    }

    /// A tensor of `shape` filled with zeros.
    public static func zeros(shape: [Int]) throws -> Tensor { try Tensor(shape: shape, repeating: 0) }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// Number of elements.
    public var count: Int { storage.count }

    /// The element at row-major position `index`. Traps when out of range, as Array does.
    public subscript(flat index: Int) -> Scalar {
        get { storage[index] }
        set { storage[index] = newValue }
    }

    /// The element at one index per dimension (`t[n, c, h, w]`). Traps when the number of
    /// indices is not the rank or one is out of range, as Array does: an index is a
    /// programming error, unlike a shape read from data.
    public subscript(_ indices: Int...) -> Scalar {
        get { storage[offset(indices)] }
        set { storage[offset(indices)] = newValue }
    }

    /// The same elements under another shape with the same count (e.g. adding or dropping a
    /// batch axis of 1).
    public func reshaped(_ newShape: [Int]) throws -> Tensor { try Tensor(shape: newShape, storage: storage) }

    private func offset(_ indices: [Int]) -> Int {
        precondition(indices.count == shape.count, "Tensor: \(indices.count) indices for a tensor of rank \(shape.count)")
        var o = 0
        for (i, n) in zip(indices, shape) {
            precondition(i >= 0 && i < n, "Tensor: index \(indices) out of range for shape \(shapeText(shape))")
            o = o * n + i
        }
        return o
    }

    /// The element count of `shape`, or an error for negative dimensions and overflow.
    static func elementCount(_ shape: [Int]) throws -> Int {
        if shape.contains(where: { $0 < 0 }) {
            throw ConvError.invalidArgument("Tensor: negative dimension in shape \(shapeText(shape))")
        }
        var count = 1
        for d in shape {
            let (r, overflow) = count.multipliedReportingOverflow(by: d)
            if overflow { throw ConvError.invalidArgument("Tensor: the element count of shape \(shapeText(shape)) overflows 64-bit integers") }
            count = r
        }
        return count
    }
}

extension Tensor: CustomStringConvertible {
    /// "Tensor<Float>[2, 3, 8]": the type and the shape (not the elements, which may be many).
    public var description: String { "Tensor<\(Scalar.self)>\(shapeText(shape))" }
}

/// PyTorch-style size text: [1, 3, 10, 10].
func shapeText(_ dims: [Int]) -> String { "[" + dims.map(String.init).joined(separator: ", ") + "]" }
