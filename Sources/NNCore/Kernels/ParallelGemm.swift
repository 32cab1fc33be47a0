/// The production GEMM: the selected level's single-threaded kernel, split
/// across the shared thread pool when the product is large enough.
///
/// Each thread gets a fixed block of C's columns (a multiple of 32, so the
/// register tiles line up as in a single-threaded call) or, for narrow
/// products, of C's rows (at least 24, so no part takes the few-rows path).
/// Every element of C is then computed by the same micro-kernel with the
/// same summation order whatever the thread count: results are bit-identical
/// for any number of threads.
public enum ParallelGemm {
    /// Products below this many multiply-adds run on the calling thread:
    /// handing work to another thread costs about a microsecond.
    public static let threshold = 1 << 19
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
        if n >= 2 * columnUnit {
            let chunk = (n + threads - 1) / threads
            let width = (chunk + columnUnit - 1) / columnUnit * columnUnit
            let parts = (n + width - 1) / width
            pool.run(parts: parts) { p in
                let j0 = p * width, w = min(width, n - j0)
                single(transA, transB, m, w, k, alpha, a, lda, transB ? b + j0 * ldb : b + j0, ldb,
                       beta, c + j0, ldc)
            }
        } else if m >= 2 * rowUnit {
            let chunk = (m + threads - 1) / threads
            let height = (chunk + rowUnit - 1) / rowUnit * rowUnit
            let parts = (m + height - 1) / height
            pool.run(parts: parts) { p in
                let i0 = p * height, h = min(height, m - i0)
                // A last part of fewer than rowUnit rows would take another
                // path; fold it into its neighbour instead.
                guard h >= rowUnit || p == 0 else { return }
                let rows = (p == parts - 2 && m - (i0 + h) < rowUnit) ? m - i0 : h
                single(transA, transB, rows, n, k, alpha, transA ? a + i0 : a + i0 * lda, lda, b, ldb,
                       beta, c + i0 * ldc, ldc)
            }
        } else {
            single(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        }
    }
}
