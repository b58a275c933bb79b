/// Weights packed once, ahead of the calls that use them: per group, W_g as the A operand
/// of the forward GEMM ("im2col"), in the GEMM's panel format. A plan made for a prepared
/// convolution holds one, and plans for other input sizes of the same weights share it
/// (the packing depends on the weights, their shape and the groups only).
public final class PackedWeights: @unchecked Sendable {
    public let dtype: ConvDType
    public let weightShape: [Int]
    public let groups: Int
    private let float32: [PackedMatrix<Float>]
    private let float64: [PackedMatrix<Double>]

    /// Packs `weight` (of `weightShape`, C-contiguous, of `dtype`) for the forward GEMM of
    /// `shape`; throws outOfMemory when the memory cannot be had.
    init(shape s: ConvShape, dtype: ConvDType, weightShape: [Int], weight: UnsafeRawPointer) throws {
        self.dtype = dtype
        self.weightShape = weightShape
        groups = s.groups
        func pack<T: ConvScalar>(_: T.Type) throws -> [PackedMatrix<T>] {
            let w = weight.assumingMemoryBound(to: T.self)
            let cog = s.outChannelsPerGroup, k = s.patchSize
            let packed = (0..<s.groups).compactMap { g in
                Gemm.tryPackA(StridedMatrix(base: w + g * cog * k, rowStride: k, colStride: 1), rows: 0..<cog, depth: k)
            }
            if packed.count != s.groups {
                throw ConvError.outOfMemory("swiftconv: could not allocate the packed weights (\(s.outChannels) x \(k))")
            }
            return packed
        }
        switch dtype {
        case .float32: float32 = try pack(Float.self); float64 = []
        case .float64: float32 = []; float64 = try pack(Double.self)
        }
    }

    /// The packed groups for element type T (nil if the weights are of another type).
    func groups<T: ConvScalar>(_: T.Type) -> [PackedMatrix<T>]? {
        switch T.kind {
        case .float32: return float32.isEmpty ? nil : float32 as? [PackedMatrix<T>]
        case .float64: return float64.isEmpty ? nil : float64 as? [PackedMatrix<T>]
        }
    }

    /// Whether a plan for `request` may use these packed weights.
    func fits(_ request: ConvRequest) -> Bool {
        request.dtype == dtype && request.weightShape == weightShape && request.groups == groups
    }

    /// Bytes held.
    public var bytes: Int {
        float32.reduce(0) { $0 + $1.byteCount } + float64.reduce(0) { $0 + $1.byteCount }
    }
}
