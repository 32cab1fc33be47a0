// NNKernelsBaseline: block sizes and the public entry point. Tile sizes and the vector
// type come from MicroKernels.swift (generated); the driver is the shared
// GemmDriver.swift (a symbolic link to KernelsShared/GemmDriver.swift).

/// Depth of a K slice (packed panels are kc × MR and kc × NR).
@inline(__always) var KC: Int { 256 }
/// Height of a block of A packed at once (a multiple of MR).
@inline(__always) var MC: Int { 96 }
/// Taller A blocks hold at most this many floats (no limit here: MC rows).
@inline(__always) var aBlockFloats: Int { .max }
/// Width of a block of B packed at once (a multiple of NR).
@inline(__always) var NC: Int { 2048 }
/// Operands whose block spans at most this many floats are read in place.
@inline(__always) var directLimit: Int { 8192 }

/// C[m, n] = alpha · op(A) · op(B) + beta · C on the calling thread, with
/// the Baseline micro-kernels (see KernelTable.Gemm for the contract).
public func sgemmBaseline(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
    _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
    _ b: UnsafePointer<Float>, _ ldb: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
) {
    gemmDriver(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

/// The packed B panel that threads share (GemmDriver.swift's `packPanel`
/// and `gemmPanel`), with this level's strips: its size in floats for an
/// op(B) of k × n, its strip width, the packing of strips [s0, s1), and
/// the product of a block of C with the panel's columns from `column` on.
public func panelFloatsBaseline(_ k: Int, _ n: Int) -> Int { panelFloats(k, n) }
public let panelStripBaseline = NR
public func packPanelBaseline(_ transB: Bool, _ k: Int, _ n: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                        _ panel: UnsafeMutablePointer<Float>, _ s0: Int, _ s1: Int) {
    packPanel(transB, k, n, b, ldb, panel, s0, s1)
}
public func gemmPanelBaseline(
    _ transA: Bool, _ m: Int, _ n: Int, _ k: Int,
    _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
    _ panel: UnsafePointer<Float>, _ width: Int, _ column: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
) {
    gemmPanel(transA, m, n, k, alpha, a, lda, panel, width, column, beta, c, ldc)
}

/// Whether an operand with a row stride that is a multiple of 1 KiB is
/// packed even where it could be read in place (L1/L2 set conflicts; the
/// AVX-512 kernels were measured not to mind, the AVX2 ones lose 30 %).
@inline(__always) var packPow2Strided: Bool { true }
/// Whether a transposed A is packed whatever its stride when many strips of
/// B use it (measured on AVX2 only; see that level's Config.swift).
@inline(__always) var packTransposedA: Bool { false }
/// B blocks of at most this many floats are swept row strip by row strip
/// (C written row after row) instead of in BLIS order.
@inline(__always) var rowMajorTilesLimit: Int { 16384 }
/// One row of A times a B (not transposed) of at least this many floats
/// streams B row after row (`gemmOneRow`: C accumulated in a buffer, each
/// row of B read once, contiguously) instead of in 8-vector column strips
/// (each strip a strided walk down B). Measured on AVX2 (Zen 2, from C,
/// against OpenBLAS's sgemv): from 1 MB of B (1×1024·1024×512 and larger)
/// streaming wins, 0.99–1.09 against 0.61–0.72; at 1×784·784×256 the strips
/// were as good or better. The other levels keep the strips until measured
/// on their machines.
@inline(__always) var streamOneRowMinimum: Int { .max }
/// B's rows prefetched ahead by the one-row strips of `gemmFewRows`
/// (AVX2's Config): off until measured on this level's machines.
@inline(__always) var oneRowPrefetchRows: Int { 0 }
@inline(__always) var oneRowPrefetchMaxStride: Int { 0 }
