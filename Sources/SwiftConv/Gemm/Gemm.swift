import CSwiftConv  // sc_prefetch_l2

/// The GEMM core: C(i, j) = [C(i, j) +] sum over p < depth of A(i, p) * B(p, j), for i in
/// `rows` and j in `cols`. `c` points at C(rows.lowerBound, cols.lowerBound) and rows of C are
/// `ldc` elements apart. Single-threaded: callers partition the output across the thread
/// pool, so each C element is reduced by exactly one call, in a fixed order, and results do
/// not depend on the thread count.
///
/// Reduction order: every element starts from C (accumulate) or 0 and adds A(i, p) * B(p, j)
/// for p = 0, 1, ..., depth - 1 in order, one (fused, on AVX2 + FMA CPUs) multiply-add at a
/// time. That order depends on nothing else — not on the row / column range a caller asks
/// for, nor on the cache blocks — so callers may tile the output however they like (even
/// differently per thread count) and still get identical bits.
///
/// How: packed panels and register-blocked micro-kernels: 6 x 16 (Float) or 6 x 8 (Double)
/// on ymm registers (SwiftConvKernelsAVX2 / SwiftConvKernelsBaseline), or on AVX-512 CPUs
/// 12 x 32 / 12 x 16 on zmm registers reading two consecutive 6-row A panels and two
/// consecutive B panels at once (SwiftConvKernelsAVX512); the build and its cache blocks come from the active kernel table
/// (`KernelTable.active`, chosen at load time), the packed formats are the same for all of
/// them, and so are the results (fused multiply-adds in the same order; the baseline build is
/// unfused). Depth is cut in equal blocks of at most `kc`; the sizes named here are the
/// table's (`KernelTable.Blocking`). Two loop orders:
/// - small A (packed A <= `smallABytes`, the convolution case: C_out x patch): A is packed
///   once (or used in place when pre-packed with `tryPackA`) and stays in L2; for each panel
///   of 16 (8) columns and each depth block, the B panel is packed into L1 straight from the
///   operand (e.g. implicit im2col) and the micro-kernels sweep all rows of A over it, the
///   C tile staying in L1.
/// - otherwise GotoBLAS order: a kc x nc block of B packed (`ncBytes`, in L2; wider when A
///   is packed here, once per block of columns), then mc x kc blocks of A packed (or used
///   in place), then the micro-kernels over the block; for a narrow block of B, A is packed
///   in slices of a few rows, each swept right after its packing (`packedSliceRows`).
enum Gemm {
    /// Rows of a packed A panel (`KernelTable.mr`).
    @inline(__always) static var mr: Int { KernelTable.mr }

    /// Columns of a packed B panel for a scalar type (`KernelTable.nr`: 16 Floats, 8 Doubles).
    @inline(__always) static func nr<T: ConvScalar>(_: T.Type) -> Int { KernelTable.nr(T.self) }

    /// Packs rows `rows` (all `depth` columns) of `a` once, for reuse as the A operand of
    /// many `multiply` calls (e.g. the weights of one convolution, shared by every tile).
    /// nil when its memory cannot be had (never a trap); the caller then passes the operand
    /// itself (the same bits: packing only copies).
    static func tryPackA<A: GemmOperand>(_ a: A, rows: Range<Int>, depth: Int) -> PackedMatrix<A.Scalar>? {
        PackedMatrix(a, rows: rows, depth: depth)
    }

    /// `kcLimit`: the most depth per block, instead of the table's kc (a caller sizing its
    /// column blocks to `Blocking.ncBytes`, `GemmWeightGradient.pairedBlocksDepth`); any
    /// value gives the same bits.
    static func multiply<A: GemmOperand, B: GemmOperand>(
        _ a: A, _ b: B, rows: Range<Int>, cols: Range<Int>, depth: Int,
        c: UnsafeMutablePointer<A.Scalar>, ldc: Int, accumulate: Bool, kcLimit kcOverride: Int? = nil
    ) where A.Scalar == B.Scalar {
        typealias T = A.Scalar
        let m = rows.count, n = cols.count
        if m <= 0 || n <= 0 { return }
        if depth <= 0 {
            if !accumulate { for i in 0..<m { (c + i &* ldc).update(repeating: 0, count: n) } }
            return
        }
        if let weights = a as? InPlaceWeights<T> {
            return multiplyInPlaceA(weights, b, rows: rows, cols: cols, depth: depth, c: c, ldc: ldc, accumulate: accumulate)
        }
        let blocking = KernelTable.active.blocking
        let mr = KernelTable.mr, nr = KernelTable.nr(T.self), tileCount = blocking.edgeTileElements
        // Equal depth blocks of at most `kc` (576 -> 2 x 288, not 256 + 256 + 64).
        let kcLimit = kcOverride ?? blocking.kc(T.self)
        let kcBlocks = (depth + kcLimit - 1) / kcLimit
        let kcMax = (depth + kcBlocks - 1) / kcBlocks
        let mPadded = (m + mr - 1) / mr * mr

        // A used in place when pre-packed and the rows start on a panel boundary.
        var packedA: PackedMatrix<T>? = a.prepacked
        if let p = packedA, rows.lowerBound % mr != 0 || rows.upperBound > p.rows || depth > p.depth || rows.lowerBound < 0 {
            packedA = nil
        }

        if isSmallA(rows: m, depth: depth, elementBytes: MemoryLayout<T>.stride) {
            // Small A (all of it stays in L2): A packed once (or used in place); then for
            // each block of columns and depth, a kc x nc block of B is packed (row by row
            // where the operand allows, which streams its source) and the micro-kernels
            // sweep every row of A over each B panel while it is in L1.
            // B read in place when the table has a block function for that and B is a
            // row-major Float matrix (a pointwise convolution's input): its full panels need
            // no packing pass; an edge panel is packed as usual. Its depth blocks are then
            // at most `kcRowMajorB` (B's rows are a whole image row apart: see Blocking).
            // Packing B one pair of panels at a time instead (each swept while still in L1)
            // measured slower: one thread, CPU clock, new / old 64->64 56x56 k3 N1 1.03, N8
            // 1.06, 128->64 112x112 k3 1.03 (benchmarks/thread_bench.py, 7 passes).
            let inPlaceB: (UnsafePointer<Float>, Int)? = {
                guard T.kind == .float32, KernelTable.active.sgemmBlockRowMajorB != nil,
                      let sm = b as? StridedMatrix<T>, sm.colStride == 1 else { return nil }
                return (UnsafeRawPointer(sm.base).assumingMemoryBound(to: Float.self), sm.rowStride)
            }()
            let kcSmall = inPlaceB == nil ? kcMax : {
                let blocks = (depth + blocking.kcRowMajorB - 1) / blocking.kcRowMajorB
                return (depth + blocks - 1) / blocks
            }()
            let ncSmall = max(nr, blocking.smallBBytes / (kcSmall * MemoryLayout<T>.stride) / nr * nr)
            let ncBlock = min(ncSmall, (n + nr - 1) / nr * nr)
            let aCount = packedA == nil ? mPadded * depth : 0
            let bCount = kcSmall * ncBlock
            let scratch = ThreadScratch.gemm.buffer(bytes: (bCount + aCount + tileCount) * MemoryLayout<T>.stride)
                .bindMemory(to: T.self, capacity: bCount + aCount + tileCount)
            let bBuf = scratch, aBuf = scratch + bCount, tile = scratch + bCount + aCount
            let aBase: UnsafePointer<T>, aStride: Int
            if let p = packedA {
                aBase = UnsafePointer(p.panels + rows.lowerBound / mr * p.depth * mr)
                aStride = p.depth * mr
            } else {
                a.packA(into: aBuf, rows: rows, depth: 0..<depth)
                aBase = UnsafePointer(aBuf)
                aStride = depth * mr
            }
            var jc = 0
            while jc < n {
                let nc = min(ncBlock, n - jc)
                var pc = 0
                while pc < depth {
                    let kcb = min(kcSmall, depth - pc)
                    var done = 0
                    if let (base, ldb) = inPlaceB, let direct = KernelTable.active.sgemmBlockRowMajorB, nc >= nr {
                        done = nc / nr * nr
                        direct(m, done, kcb, UnsafeRawPointer(aBase + pc * mr).assumingMemoryBound(to: Float.self), aStride,
                               base + (pc * ldb + cols.lowerBound + jc), ldb,
                               UnsafeMutableRawPointer(c + jc).assumingMemoryBound(to: Float.self), ldc, accumulate || pc > 0)
                    }
                    if done < nc {
                        b.packB(into: bBuf, depth: pc..<(pc + kcb), cols: (cols.lowerBound + jc + done)..<(cols.lowerBound + jc + nc), nr: nr)
                        block(mc: m, nc: nc - done, kc: kcb, a: aBase + pc * mr, aPanelStride: aStride,
                              b: UnsafePointer(bBuf), bPanelStride: kcb * nr,
                              c: c + jc + done, ldc: ldc, loadC: accumulate || pc > 0, tile: tile)
                    }
                    pc += kcb
                }
                jc += nc
            }
            return
        }

        // General case, blocked like GotoBLAS: a kc x nc block of B packed (fits L2), then
        // mc x kc blocks of A.
        // Equal column blocks of at most `ncBytes` (`ncBytesPackingA` when A is packed here,
        // again for each block: 196 columns are one block of 208, not 192 + 16).
        let ncBytes = packedA == nil ? blocking.ncBytesPackingA : blocking.ncBytes
        let ncMax = max(nr, ncBytes / (kcMax * MemoryLayout<T>.stride) / nr * nr)
        let ncBlocks = (n + ncMax - 1) / ncMax
        let ncBlock = ((n + ncBlocks - 1) / ncBlocks + nr - 1) / nr * nr
        // A packed here for a narrow block of columns (a weight-heavy layer on a small plane:
        // each A element serves few columns, so packing it is a large part of the call): a
        // slice of `packedSliceRows` rows at a time, swept over the B block right after its
        // packing (still in L1), the first lines of the next slice's rows prefetched so the
        // hardware streams them meanwhile (`prefetchRowStarts`). See `packedSliceRows` for
        // what this measured.
        let sliceRows: StridedMatrix<T>? = {
            guard packedA == nil, ncBlock <= packedSliceMaxColumns else { return nil }
            guard let matrix = (a as? StridedMatrix<T>) ?? (a as? InPlaceWeights<T>)?.matrix, matrix.colStride == 1 else { return nil }
            return matrix
        }()
        let mcBlock = min(sliceRows == nil ? blocking.mc : packedSliceRows, mPadded)
        let bCount = kcMax * ncBlock
        let aCount = packedA == nil ? kcMax * mcBlock : 0
        let scratch = ThreadScratch.gemm.buffer(bytes: (bCount + aCount + tileCount) * MemoryLayout<T>.stride)
            .bindMemory(to: T.self, capacity: bCount + aCount + tileCount)
        let bBuf = scratch, aBuf = scratch + bCount, tile = scratch + bCount + aCount

        var jc = 0
        while jc < n {
            let nc = min(ncBlock, n - jc)
            var pc = 0
            while pc < depth {
                let kcb = min(kcMax, depth - pc)
                b.packB(into: bBuf, depth: pc..<(pc + kcb), cols: (cols.lowerBound + jc)..<(cols.lowerBound + jc + nc), nr: nr)
                var ic = 0
                while ic < m {
                    let mcb = min(mcBlock, m - ic)
                    let aPtr: UnsafePointer<T>, aStride: Int
                    if let p = packedA {
                        aPtr = UnsafePointer(p.panels + ((rows.lowerBound + ic) / mr * p.depth * mr + pc * mr))
                        aStride = p.depth * mr
                    } else {
                        a.packA(into: aBuf, rows: (rows.lowerBound + ic)..<(rows.lowerBound + ic + mcb), depth: pc..<(pc + kcb))
                        aPtr = UnsafePointer(aBuf)
                        aStride = kcb * mr
                        if let matrix = sliceRows {
                            // The next slice: the next rows of this depth block, or after the
                            // last, the first rows of the next depth block.
                            let next = ic + mcb < m ? (row: ic + mcb, depth: pc) : (row: 0, depth: pc + kcb)
                            if next.depth < depth {
                                prefetchRowStarts(matrix, rows: (rows.lowerBound + next.row)..<(rows.lowerBound + min(m, next.row + mcBlock)),
                                                  depth: next.depth)
                            }
                        }
                    }
                    block(mc: mcb, nc: nc, kc: kcb, a: aPtr, aPanelStride: aStride,
                          b: UnsafePointer(bBuf), bPanelStride: kcb * nr,
                          c: c + (ic * ldc + jc), ldc: ldc, loadC: accumulate || pc > 0, tile: tile)
                    ic += mcb
                }
                pc += kcb
            }
            jc += nc
        }
    }

    /// Blocks of columns up to which `multiply` packs A a slice of rows at a time, each
    /// swept right after its packing (see there; 14x14 planes are 196 columns, one tile).
    static let packedSliceMaxColumns = 256

    /// Rows of A packed and swept at a time when A is packed in slices. Measured (one
    /// thread, CPU time per conv2d call from Python, median of interleaved processes,
    /// 2-vCPU AVX-512 Xeon; 512->2048 7x7 N1, ms; old = mc blocks of 120 rows packed in one
    /// pass): old 1.04-1.07; slices of 12 rows, no prefetch 0.98-0.99; slices of 12 rows
    /// with every line of the next slice prefetched 1.07-1.10 (the burst of prefetches fills
    /// the load buffer and stalls the kernels); with the first three lines of each row
    /// prefetched: slices of 12 rows 0.99-1.00, of 24 rows 0.97-0.98; with the 16-column
    /// AVX-512 `packA6F32` as well: 24 rows 0.93-0.95, 48 rows 0.98. Prepared weights (A
    /// packed ahead, no packing in the call): 0.74.
    static let packedSliceRows = 24

    /// Prefetches the first three cache lines of A(i, depth ..< ) for each i in `rows` into
    /// L2: the hardware's streamer then follows each row while the kernels run (a prefetch
    /// never faults, so lines past a short row are harmless).
    @inline(__always)
    static func prefetchRowStarts<T: ConvScalar>(_ matrix: StridedMatrix<T>, rows: Range<Int>, depth: Int) {
        for i in rows {
            let row = UnsafeRawPointer(matrix.base + (i * matrix.rowStride + depth))
            sc_prefetch_l2(row); sc_prefetch_l2(row + 64); sc_prefetch_l2(row + 128)
        }
    }

    /// `multiply` with A read in place (`InPlaceWeights`: no packing pass over it). For each
    /// block of columns and depth, B is packed (or, a row-major matrix such as a pointwise
    /// convolution's input, read in place, only its partial last panel packed) and the
    /// in-place micro-kernels sweep A's rows over it, a tile of rows at a time (the tile's A
    /// rows stay in L1 while the kc x nc block of B streams from L1 / L2). Same per-element
    /// order as the packed path, so the same bits.
    static func multiplyInPlaceA<T: ConvScalar, B: GemmOperand>(
        _ a: InPlaceWeights<T>, _ b: B, rows: Range<Int>, cols: Range<Int>, depth: Int,
        c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool
    ) where B.Scalar == T {
        let m = rows.count, n = cols.count
        let blocking = KernelTable.active.blocking
        let nr = KernelTable.nr(T.self), stride = MemoryLayout<T>.stride
        let rowMajorB: (base: UnsafePointer<T>, ldb: Int)? = {
            guard let sm = b as? StridedMatrix<T>, sm.colStride == 1 else { return nil }
            return (sm.base, sm.rowStride)
        }()
        // Equal depth blocks; B read in place takes the shorter blocks of `kcRowMajorB`.
        let kcLimit = rowMajorB == nil ? blocking.kc(T.self) : blocking.kcRowMajorB
        let kcBlocks = (depth + kcLimit - 1) / kcLimit
        let kcMax = (depth + kcBlocks - 1) / kcBlocks
        let ncMax = max(nr, blocking.smallBBytes / (kcMax * stride) / nr * nr)
        let ncBlock = min(ncMax, (n + nr - 1) / nr * nr)
        let bCount = rowMajorB == nil ? kcMax * ncBlock : kcMax * nr
        let bBuf = ThreadScratch.gemm.buffer(bytes: bCount * stride).bindMemory(to: T.self, capacity: bCount)
        let aRows = a.base + rows.lowerBound * a.lda
        var jc = 0
        while jc < n {
            let nc = min(ncBlock, n - jc), c0 = cols.lowerBound + jc
            let full = nc / nr * nr
            var pc = 0
            while pc < depth {
                let kcb = min(kcMax, depth - pc)
                let bp: UnsafePointer<T>, panelStride: Int, ldb: Int, edge: UnsafePointer<T>?
                if let (base, rowStride) = rowMajorB {
                    bp = base + (pc * rowStride + c0); panelStride = nr; ldb = rowStride
                    if full < nc {
                        b.packB(into: bBuf, depth: pc..<(pc + kcb), cols: (c0 + full)..<(c0 + nc), nr: nr)
                        edge = UnsafePointer(bBuf)
                    } else {
                        edge = nil
                    }
                } else {
                    b.packB(into: bBuf, depth: pc..<(pc + kcb), cols: c0..<(c0 + nc), nr: nr)
                    bp = UnsafePointer(bBuf); panelStride = kcb * nr; ldb = nr
                    edge = full < nc ? UnsafePointer(bBuf + full / nr * kcb * nr) : nil
                }
                blockInPlaceA(mc: m, nc: nc, kc: kcb, a: aRows + pc, lda: a.lda, b: bp, bPanelStride: panelStride, ldb: ldb,
                              bEdge: edge, c: c + jc, ldc: ldc, loadC: accumulate || pc > 0)
                pc += kcb
            }
            jc += nc
        }
    }

    /// One block through the active table's in-place-A micro-kernels.
    @inline(__always)
    static func blockInPlaceA<T: ConvScalar>(mc: Int, nc: Int, kc: Int, a: UnsafePointer<T>, lda: Int,
                                             b: UnsafePointer<T>, bPanelStride: Int, ldb: Int, bEdge: UnsafePointer<T>?,
                                             c: UnsafeMutablePointer<T>, ldc: Int, loadC: Bool) {
        switch T.kind {
        case .float32:
            KernelTable.active.sgemmBlockInPlaceA(mc, nc, kc, UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), lda,
                                                  UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), bPanelStride, ldb,
                                                  bEdge.map { UnsafeRawPointer($0).assumingMemoryBound(to: Float.self) },
                                                  UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), ldc, loadC)
        case .float64:
            KernelTable.active.dgemmBlockInPlaceA(mc, nc, kc, UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), lda,
                                                  UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), bPanelStride, ldb,
                                                  bEdge.map { UnsafeRawPointer($0).assumingMemoryBound(to: Double.self) },
                                                  UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), ldc, loadC)
        }
    }

    /// One cache block through the active table's micro-kernels.
    @inline(__always)
    static func block<T: ConvScalar>(mc: Int, nc: Int, kc: Int, a: UnsafePointer<T>, aPanelStride: Int,
                                     b: UnsafePointer<T>, bPanelStride: Int,
                                     c: UnsafeMutablePointer<T>, ldc: Int, loadC: Bool,
                                     tile: UnsafeMutablePointer<T>) {
        switch T.kind {
        case .float32:
            let a = UnsafeRawPointer(a).assumingMemoryBound(to: Float.self)
            let b = UnsafeRawPointer(b).assumingMemoryBound(to: Float.self)
            let c = UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self)
            let tile = UnsafeMutableRawPointer(tile).assumingMemoryBound(to: Float.self)
            KernelTable.active.sgemmBlock(mc, nc, kc, a, aPanelStride, b, bPanelStride, c, ldc, loadC, tile)
        case .float64:
            let a = UnsafeRawPointer(a).assumingMemoryBound(to: Double.self)
            let b = UnsafeRawPointer(b).assumingMemoryBound(to: Double.self)
            let c = UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self)
            let tile = UnsafeMutableRawPointer(tile).assumingMemoryBound(to: Double.self)
            KernelTable.active.dgemmBlock(mc, nc, kc, a, aPanelStride, b, bPanelStride, c, ldc, loadC, tile)
        }
    }
}

// MARK: - Both operands packed by the caller (scatter's shared dy panels)

extension Gemm {
    /// Whether `multiply` takes its small-A loop for `rows` x `depth` (A packed whole, at most
    /// `smallABytes`: it stays in L2 while every B panel streams past); callers that choose a
    /// B operand for that loop ask here. False when the size overflows.
    static func isSmallA(rows: Int, depth: Int, elementBytes: Int) -> Bool {
        let mPadded = (rows + mr - 1) / mr * mr
        let (elements, o1) = mPadded.multipliedReportingOverflow(by: depth)
        let (bytes, o2) = elements.multipliedReportingOverflow(by: elementBytes)
        return !o1 && !o2 && bytes <= KernelTable.active.blocking.smallABytes
    }

    /// Elements of an A buffer for `multiplyPacked`: `rows` rows over the whole `depth` in
    /// mr-row panels (`GemmOperand.packA`'s layout, panels depth * mr apart), then the
    /// micro-kernels' edge tile.
    static func packedAElements(rows: Int, depth: Int) -> Int {
        (rows + mr - 1) / mr * mr * depth + KernelTable.active.blocking.edgeTileElements
    }

    /// C (m x n, rows ldc apart) = A B, with A packed over the whole depth at the start of
    /// `aBuffer` (`packedAElements(rows: m, depth:)` elements; the edge tile after the panels
    /// is written) and B packed over the whole depth in nr-column panels `bPanelStride` apart:
    /// `multiply`'s small-A loop (equal depth blocks of at most kc, the micro-kernels over each
    /// B panel) without its packing, for callers that pack an operand once and share it.
    /// Every element is summed over the depth in order from 0, as `multiply` does: the same bits.
    /// (Depth 0 writes nothing, unlike `multiply`: callers have a depth.)
    static func multiplyPacked<T: ConvScalar>(m: Int, n: Int, depth: Int, aBuffer: UnsafeMutablePointer<T>,
                                              b: UnsafePointer<T>, bPanelStride: Int, c: UnsafeMutablePointer<T>, ldc: Int) {
        if m <= 0 || n <= 0 || depth <= 0 { return }
        let mPadded = (m + mr - 1) / mr * mr, nr = nr(T.self)
        let kcLimit = KernelTable.active.blocking.kc(T.self)
        let kcBlocks = (depth + kcLimit - 1) / kcLimit, kcMax = (depth + kcBlocks - 1) / kcBlocks
        var pc = 0
        while pc < depth {
            let kcb = min(kcMax, depth - pc)
            block(mc: m, nc: n, kc: kcb, a: aBuffer + pc * mr, aPanelStride: depth * mr, b: b + pc * nr, bPanelStride: bPanelStride,
                  c: c, ldc: ldc, loadC: pc > 0, tile: aBuffer + mPadded * depth)
            pc += kcb
        }
    }
}
