#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NNCPUFeatures

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
    /// handing work to another thread costs about a microsecond, and more on
    /// a VM with slow core-to-core transfers (Zen 2, 2 vCPUs: 1.2–2.3 µs
    /// more than one thread for a 1.35 µs product; CONTRIBUTING, "The thread
    /// pool").
    public static let threshold = 1 << 17
    /// Products up to this many multiply-adds take the plain loop nests.
    public static let tinyLimit = 2048
    static let columnUnit = 32
    static let rowUnit = 24

    /// Whether a product split into several row parts packs B once, into a
    /// panel that all its threads read (BLIS's shared B panel), instead of
    /// letting each part pack or read B itself. The bits are the same either
    /// way. Off unless NN_GEMM_SHARED_B=1: on 2 threads (Zen 2, issue 12)
    /// it was 0–5 % slower at W1's shapes (each thread packs half of B, and
    /// then reads the other half from the other core's cache instead of its
    /// own copy); the many-core case it is meant for (8 row parts each
    /// packing or reading the same B) is still to be measured
    /// (benchmarks/scaling.py with and without it).
    nonisolated(unsafe) static var sharesPackedB: Bool = {
        guard let raw = getenv("NN_GEMM_SHARED_B") else { return false }
        return String(cString: raw) == "1"
    }()
    /// The largest op(B), in floats, packed into a shared panel (16 MiB):
    /// the panel stays allocated, one per calling thread.
    static let panelLimit = 1 << 22

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
        // The row parts of a column would each pack (or read) the same B:
        // the threads pack it once, into one panel (a first job, strips
        // shared out), and every part reads its columns there.
        if rowParts > 1 && sharesPackedB && alpha != 0 && k > 0 && !o1 && !o2 && k * n <= panelLimit,
           case let level = CPULevel.selected.panelGemm, let panel = nnk_thread_panel(level.floats(k, n)) {
            let strips = (n + level.strip - 1) / level.strip
            let packParts = min(threads, strips)
            pool.run(parts: packParts) { p in
                let (s0, count) = block(p, of: packParts, total: strips, unit: 1)
                level.pack(transB, k, n, b, ldb, panel, s0, s0 + count)
            }
            pool.run(parts: rowParts * columnParts) { p in
                let (i0, h) = rowBlock(p / columnParts), (j0, w) = columnBlock(p % columnParts)
                level.gemm(transA, h, w, k, alpha, transA ? a + i0 : a + i0 * lda, lda, panel, n, j0,
                           beta, c + i0 * ldc + j0, ldc)
            }
            return
        }
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
