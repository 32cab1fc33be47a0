/// The production GEMM: the selected level's single-threaded kernel, split
/// across the shared thread pool when the product is large enough.
///
/// Each thread gets a fixed block of a grid over C — column edges on
/// multiples of 32, so the register tiles line up as in a single-threaded
/// call; row blocks of at least 24 rows, so no part takes the few-rows path.
/// Every element of C is then computed by the same micro-kernel with the
/// same summation order whatever the thread count: results are bit-identical
/// for any number of threads.
public enum ParallelGemm {
    /// Products below this many multiply-adds run on the calling thread:
    /// handing work to another thread costs about a microsecond.
    public static let threshold = 1 << 17
    /// Products up to this many multiply-adds take the plain loop nests.
    public static let tinyLimit = 2048
    static let columnUnit = 32
    static let rowUnit = 24

    /// See `KernelTable.Gemm`.
    public static func gemm(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
        _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        let (mn, o1) = m.multipliedReportingOverflow(by: n)
        let (mnk, o2) = mn.multipliedReportingOverflow(by: k)
        // Tiny products (a small network's layers, one sample at a time):
        // the plain loops cost less than the blocked driver's set-up.
        if !o1 && !o2 && mnk <= tinyLimit {
            FloatKernels.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        let single = CPULevel.selected.sgemm
        let pool = ThreadPool.shared
        let threads = pool.threadCount
        guard threads > 1, o1 || o2 || mnk >= threshold else {
            single(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        // A grid of rowParts × columnParts blocks of C, one per part: the
        // split that reads the least of A and B per thread (m/rows + n/columns
        // smallest), blocks at least columnUnit wide and rowUnit tall.
        var best: (rows: Int, columns: Int)? = nil
        for rowParts in 1...threads where threads % rowParts == 0 {
            let columnParts = threads / rowParts
            guard columnParts == 1 || n >= columnParts * columnUnit,
                  rowParts == 1 || m >= rowParts * rowUnit else { continue }
            let cost = m / rowParts + n / columnParts
            if best == nil || cost < m / best!.rows + n / best!.columns { best = (rowParts, columnParts) }
        }
        guard let (rowParts, columnParts) = best, rowParts * columnParts > 1 else {
            single(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        // Block edges on multiples of the units, so register tiles line up as
        // in one call (`block`).
        let rowBlock = { block($0, of: rowParts, total: m, unit: rowUnit) }
        let columnBlock = { block($0, of: columnParts, total: n, unit: columnUnit) }
        pool.run(parts: rowParts * columnParts) { p in
            let (i0, h) = rowBlock(p / columnParts), (j0, w) = columnBlock(p % columnParts)
            single(transA, transB, h, w, k, alpha, transA ? a + i0 : a + i0 * lda, lda,
                   transB ? b + j0 * ldb : b + j0, ldb, beta, c + i0 * ldc + j0, ldc)
        }
    }

    /// Block `p` of `parts` over [0, total) as (start, size), on multiples
    /// of `unit`: the whole units shared out evenly (the first blocks one
    /// more when they do not divide), the last block also taking the part of
    /// a unit left over. Needs total ≥ parts × unit unless parts is 1.
    /// (Before issue 12's second round every block but the last had the
    /// rounded-down size and the last took all the rest: 8 row blocks of
    /// 1024 rows were 7 × 120 and 184, 16 blocks of 1023 columns 15 × 32
    /// and 543.)
    @inline(__always)
    static func block(_ p: Int, of parts: Int, total: Int, unit: Int) -> (start: Int, size: Int) {
        let units = total / unit, base = units / parts, extra = units % parts
        let start = (p * base + min(p, extra)) * unit
        return (start, p == parts - 1 ? total - start : (base + (p < extra ? 1 : 0)) * unit)
    }
}
