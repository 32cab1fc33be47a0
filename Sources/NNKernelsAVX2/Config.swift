// NNKernelsAVX2: block sizes and the public entry point. Tile sizes and the vector
// type come from MicroKernels.swift (generated); the driver is the shared
// GemmDriver.swift (a symbolic link to KernelsShared/GemmDriver.swift).

// Block sizes measured on Zen 2 (2 vCPUs of an AMD EPYC, 512 KiB of L2 per
// core, from C against OpenBLAS 0.3.31's Haswell kernels, issue 12): with
// KC = 1024 (one slice for k up to 1024: C is read and written once), A
// blocks of at most 48 K floats (192 KiB, so that a block stays in L2 next
// to the B strips) and NC = 1024, n = 1024 went from 0.97–0.98 of OpenBLAS
// to 1.02–1.03, n = 2048 from 0.95 to 1.00–1.02, and no measured W1 shape
// lost. (KC = 512 with MC = 192, the AVX-512 level's sizes, put 384 KiB of A
// in a 512 KiB L2.)

/// Depth of a K slice (packed panels are kc × MR and kc × NR).
@inline(__always) var KC: Int { 1024 }
/// Height of a block of A packed at once (a multiple of MR); an A of at most
/// MC rows is one block.
@inline(__always) var MC: Int { 192 }
/// Taller A blocks hold at most this many floats (so MC shrinks as the K
/// slice deepens: 48 rows at kc = 1024, 96 at 512).
@inline(__always) var aBlockFloats: Int { 48 * 1024 }
/// Width of a block of B packed at once (a multiple of NR).
@inline(__always) var NC: Int { 1024 }
/// Operands whose block spans at most this many floats are read in place.
@inline(__always) var directLimit: Int { 8192 }

/// C[m, n] = alpha · op(A) · op(B) + beta · C on the calling thread, with
/// the AVX2 micro-kernels (see KernelTable.Gemm for the contract).
public func sgemmAVX2(
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
public func panelFloatsAVX2(_ k: Int, _ n: Int) -> Int { panelFloats(k, n) }
public let panelStripAVX2 = NR
public func packPanelAVX2(_ transB: Bool, _ k: Int, _ n: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                        _ panel: UnsafeMutablePointer<Float>, _ s0: Int, _ s1: Int) {
    packPanel(transB, k, n, b, ldb, panel, s0, s1)
}
public func gemmPanelAVX2(
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
/// Whether a transposed A is packed whatever its stride when its block is
/// used by more than four strips of B (read in place, each k step of a strip
/// is a new row of A: 1000×1000 transposed ran at 0.85 of OpenBLAS, packed
/// at 0.97).
@inline(__always) var packTransposedA: Bool { true }
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
@inline(__always) var streamOneRowMinimum: Int { 1 << 18 }
/// One row of A times B read in place by 8-vector column strips
/// (`gemmFewRows`): each strip's k loop prefetches B's row this many rows
/// ahead, where B's rows are at most `oneRowPrefetchMaxStride` floats apart
/// (0: no prefetch). Measured on Zen 2 from C against OpenBLAS's sgemv, B
/// from L3 as malloc gives it (16 bytes past a cache line): 1×784·784×256
/// 0.83–0.86 → 0.96, 1×256·256×128 0.78–0.79 → 0.90; an intrinsics
/// prototype of the same strips reached 1.09–1.12 on 64-byte-aligned B
/// (libnn's weights). In the prototype, rows 4 KiB or more apart (n = 1024,
/// 2048) lost 30–45 % to the prefetches (the strip's rows share L1 sets),
/// hence the stride limit; 4 rows ahead gained half as much as 8, and 16
/// rows lost at 1024×512.
@inline(__always) var oneRowPrefetchRows: Int { 8 }
@inline(__always) var oneRowPrefetchMaxStride: Int { 512 }
