import XCTest
@testable import NNCore

/// Every Float GEMM — the loop nests of `FloatKernels`, the blocked
/// micro-kernels of each instruction-set level this CPU supports, and the
/// threaded production GEMM — against `Reference.gemm` (run in Double on the
/// same Float inputs), and `Reference.gemm` against a sum written out here.
final class GemmTests: XCTestCase {
    /// The implementations every case runs through.
    static let implementations: [(name: String, gemm: KernelTable<Float>.Gemm)] =
        [("FloatKernels", FloatKernels.gemm)]
        + CPULevel.allCases.filter(\.isSupported).map { ("level \($0)", $0.sgemm) }
        + [("ParallelGemm", ParallelGemm.gemm)]

    struct Case: CustomStringConvertible {
        var transA = false, transB = false
        var m = 1, n = 1, k = 1
        var alpha: Float = 1, beta: Float = 0
        /// Extra elements at the end of each stored row (stride − minimal stride).
        var padA = 0, padB = 0, padC = 0
        /// Fill C with NaN before the call (only meaningful with beta == 0).
        var nanC = false
        var seed: UInt64 = 1

        var description: String {
            "gemm(transA: \(transA), transB: \(transB), m: \(m), n: \(n), k: \(k), alpha: \(alpha), beta: \(beta), "
                + "pads: \(padA)/\(padB)/\(padC), nanC: \(nanC))"
        }
    }

    /// Marks the padding of C: it must survive every call untouched.
    let sentinel: Float = 4242.5

    /// Runs one case through every implementation and Reference.gemm<Double>;
    /// padding of A and B holds NaN, so reading it would poison the result.
    func check(_ c: Case, file: StaticString = #filePath, line: UInt = #line) {
        for (name, gemm) in Self.implementations { check(c, name, gemm, file: file, line: line) }
    }

    func check(_ c: Case, _ name: String, _ gemm: KernelTable<Float>.Gemm,
               file: StaticString, line: UInt) {
        var rng = RandomGenerator(seed: c.seed)
        let rowsA = c.transA ? c.k : c.m, colsA = c.transA ? c.m : c.k
        let rowsB = c.transB ? c.n : c.k, colsB = c.transB ? c.k : c.n
        let lda = colsA + c.padA, ldb = colsB + c.padB, ldc = c.n + c.padC

        func matrix(_ rows: Int, _ cols: Int, _ ld: Int, fill: () -> Float, pad: Float) -> [Float] {
            var v = [Float](repeating: pad, count: max(rows * ld, 1))
            for r in 0..<rows { for j in 0..<cols { v[r * ld + j] = fill() } }
            return v
        }
        let a = matrix(rowsA, colsA, lda, fill: { Float(rng.uniform(-1, 1)) }, pad: .nan)
        let b = matrix(rowsB, colsB, ldb, fill: { Float(rng.uniform(-1, 1)) }, pad: .nan)
        let c0 = matrix(c.m, c.n, ldc, fill: { c.nanC ? .nan : Float(rng.uniform(-1, 1)) }, pad: sentinel)

        // Logical elements of op(A) [m, k] and op(B) [k, n].
        func opA(_ i: Int, _ p: Int) -> Double { Double(c.transA ? a[p * lda + i] : a[i * lda + p]) }
        func opB(_ p: Int, _ j: Int) -> Double { Double(c.transB ? b[j * ldb + p] : b[p * ldb + j]) }

        let fast = Buffer<Float>(c0)
        let A = Buffer<Float>(a), B = Buffer<Float>(b)
        gemm(c.transA, c.transB, c.m, c.n, c.k, c.alpha, A.pointer, lda, B.pointer, ldb,
             c.beta, fast.pointer, ldc)

        let ref = Buffer<Double>(c0.map(Double.init))
        let Ad = Buffer<Double>(a.map(Double.init)), Bd = Buffer<Double>(b.map(Double.init))
        Reference.gemm(c.transA, c.transB, c.m, c.n, c.k, Double(c.alpha), Ad.pointer, lda, Bd.pointer, ldb,
                       Double(c.beta), ref.pointer, ldc)
        keepAlive(A, B, Ad, Bd)

        var worstFast = 0.0, worstRef = 0.0, failures = 0
        for i in 0..<c.m {
            for j in 0..<c.n {
                var sum = 0.0, magnitude = 0.0
                for p in 0..<c.k {
                    sum += opA(i, p) * opB(p, j)
                    magnitude += abs(opA(i, p) * opB(p, j))
                }
                let old = Double(c0[i * ldc + j])
                let expected = Double(c.alpha) * sum + (c.beta == 0 ? 0 : Double(c.beta) * old)
                let scale = abs(Double(c.alpha)) * magnitude + (c.beta == 0 ? 0 : abs(Double(c.beta) * old))
                // Float rounding of a k-term dot product plus the scaling: a
                // generous multiple of the classical (k + 2)·u bound.
                let bound = Double(c.k + 2) * 2 * Double(Float.ulpOfOne) * scale + 1e-30
                let got = Double(fast[i * ldc + j]), reference = ref[i * ldc + j]
                let errFast = abs(got - reference), errRef = abs(reference - expected)
                if !(errFast <= bound) || !(errRef <= 1e-12 * scale + 1e-300) { failures += 1 }
                worstFast = max(worstFast, errFast.isNaN ? .infinity : errFast / max(bound, 1e-300))
                worstRef = max(worstRef, errRef.isNaN ? .infinity : errRef)
            }
        }
        XCTAssertEqual(failures, 0, "\(name) \(c): worst fast error/bound \(worstFast), worst reference error \(worstRef)",
                       file: file, line: line)
        // Padding of C is never written.
        for i in 0..<c.m {
            for j in c.n..<ldc where fast[i * ldc + j] != sentinel || ref[i * ldc + j] != Double(sentinel) {
                XCTFail("\(name) \(c): C padding at row \(i), column \(j) was written", file: file, line: line)
                return
            }
        }
    }

    func testAllTransposesOddSizes() {
        let sizes = [1, 7, 17, 33]
        let scalings: [(Float, Float)] = [(1, 0), (1, 1), (-0.5, 2), (2, 0.25), (0.75, -1), (1.5, 0)]
        var n = 0
        for transA in [false, true] {
            for transB in [false, true] {
                for m in sizes {
                    for nn in sizes {
                        for k in sizes {
                            let (alpha, beta) = scalings[n % scalings.count]
                            check(Case(transA: transA, transB: transB, m: m, n: nn, k: k, alpha: alpha, beta: beta,
                                       padA: n % 3, padB: (n / 3) % 3, padC: (n / 2) % 4, nanC: beta == 0,
                                       seed: UInt64(n)))
                            n += 1
                        }
                    }
                }
            }
        }
        XCTAssertEqual(n, 4 * 64)
    }

    func testAllTransposesSize64AndLargeStrides() {
        var seed: UInt64 = 1000
        for transA in [false, true] {
            for transB in [false, true] {
                for (m, n, k) in [(64, 64, 64), (64, 33, 17), (1, 64, 64), (65, 3, 64)] {
                    check(Case(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, beta: 0,
                               padA: 13, padB: 5, padC: 9, nanC: true, seed: seed))
                    check(Case(transA: transA, transB: transB, m: m, n: n, k: k, alpha: -0.25, beta: 0.5,
                               padA: 1, padB: 31, padC: 2, seed: seed + 1))
                    seed += 2
                }
            }
        }
    }

    func testBetaZeroOverwritesNaN() {
        for transA in [false, true] {
            for transB in [false, true] {
                let c = Case(transA: transA, transB: transB, m: 9, n: 11, k: 5, alpha: 1, beta: 0,
                             padA: 2, padB: 3, padC: 4, nanC: true, seed: 7)
                check(c)
                // And explicitly: no NaN survives in the written part.
                let C = Buffer<Float>(repeating: .nan, count: 9 * 15)
                let A = Buffer<Float>(repeating: 0.5, count: 9 * 7), B = Buffer<Float>(repeating: 2, count: 11 * 8)
                let lda = transA ? 11 : 7, ldb = transB ? 8 : 13
                FloatKernels.gemm(transA, transB, 9, 11, 5, 1, A.pointer, lda, B.pointer, ldb, 0, C.pointer, 15)
                keepAlive(A, B)
                for i in 0..<9 { for j in 0..<11 { XCTAssertEqual(C[i * 15 + j], 5, "\(transA) \(transB) [\(i), \(j)]") } }
            }
        }
    }

    func testZeroInnerDimensionScalesC() {
        for transA in [false, true] {
            for transB in [false, true] {
                // k = 0: C = beta · C, and beta = 0 clears NaN.
                check(Case(transA: transA, transB: transB, m: 5, n: 6, k: 0, alpha: 1, beta: 0, padC: 3, nanC: true))
                check(Case(transA: transA, transB: transB, m: 5, n: 6, k: 0, alpha: 1, beta: 0.5, padC: 2))
                check(Case(transA: transA, transB: transB, m: 3, n: 17, k: 0, alpha: 2, beta: 1))
                let C = Buffer<Float>([1, 2, 3, 4])
                let dummy = Buffer<Float>(count: 1)
                FloatKernels.gemm(transA, transB, 2, 2, 0, 1, dummy.pointer, 1, dummy.pointer, 1, 0.5, C.pointer, 2)
                keepAlive(dummy)
                XCTAssertEqual(C.array, [0.5, 1, 1.5, 2])
            }
        }
    }

    func testEmptyOutputWritesNothing() {
        for (m, n) in [(0, 5), (4, 0), (0, 0)] {
            let C = Buffer<Float>(repeating: 3, count: 20)
            let A = Buffer<Float>(repeating: 1, count: 20), B = Buffer<Float>(repeating: 1, count: 20)
            FloatKernels.gemm(false, false, m, n, 4, 1, A.pointer, 4, B.pointer, 5, 0, C.pointer, 5)
            XCTAssertEqual(C.array, [Float](repeating: 3, count: 20))
            let D = Buffer<Double>(repeating: 3, count: 20)
            let Ad = Buffer<Double>(repeating: 1, count: 20), Bd = Buffer<Double>(repeating: 1, count: 20)
            Reference.gemm(false, false, m, n, 4, 1, Ad.pointer, 4, Bd.pointer, 5, 0, D.pointer, 5)
            keepAlive(A, B, Ad, Bd)
            XCTAssertEqual(D.array, [Double](repeating: 3, count: 20))
        }
    }

    func testAlphaZeroKeepsBetaC() {
        for transA in [false, true] {
            for transB in [false, true] {
                check(Case(transA: transA, transB: transB, m: 7, n: 9, k: 17, alpha: 0, beta: 1, padA: 1, seed: 3))
                check(Case(transA: transA, transB: transB, m: 7, n: 9, k: 17, alpha: 0, beta: -2, padB: 2, seed: 4))
            }
        }
    }

    func testAlphaZeroReadsNeitherAnorB() {
        // BLAS convention, in both implementations: alpha = 0 leaves C = beta·C
        // even when A or B holds NaN.
        var a: [Double] = [.nan], b: [Double] = [1], c: [Double] = [2]
        Reference.gemm(false, false, 1, 1, 1, 0, &a, 1, &b, 1, 1, &c, 1)
        XCTAssertEqual(c, [2])
        var af: [Float] = [.nan], bf: [Float] = [1], cf: [Float] = [2]
        FloatKernels.gemm(false, false, 1, 1, 1, 0, &af, 1, &bf, 1, 1, &cf, 1)
        XCTAssertEqual(cf, [2])
    }

    func testHandWorkedProduct() {
        // [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[19, 22], [43, 50]].
        // Stored transposed, A = [[1, 3], [2, 4]], B = [[5, 7], [6, 8]].
        let plainA: [Float] = [1, 2, 3, 4], plainB: [Float] = [5, 6, 7, 8]
        let tA: [Float] = [1, 3, 2, 4], tB: [Float] = [5, 7, 6, 8]
        for transA in [false, true] {
            for transB in [false, true] {
                let A = Buffer<Float>(transA ? tA : plainA), B = Buffer<Float>(transB ? tB : plainB)
                let C = Buffer<Float>([1, 1, 1, 1])
                FloatKernels.gemm(transA, transB, 2, 2, 2, 2, A.pointer, 2, B.pointer, 2, -1, C.pointer, 2)
                XCTAssertEqual(C.array, [37, 43, 85, 99], "transA \(transA) transB \(transB)")
                let Cd = Buffer<Double>([1, 1, 1, 1])
                let Ad = Buffer<Double>((transA ? tA : plainA).map(Double.init))
                let Bd = Buffer<Double>((transB ? tB : plainB).map(Double.init))
                Reference.gemm(transA, transB, 2, 2, 2, 2, Ad.pointer, 2, Bd.pointer, 2, -1, Cd.pointer, 2)
                keepAlive(A, B, Ad, Bd)
                XCTAssertEqual(Cd.array, [37, 43, 85, 99], "transA \(transA) transB \(transB)")
            }
        }
    }

    func testProductionTableUsesTheSelectedLevel() {
        // Below the threading threshold, the production table's gemm gives the
        // same bits as the selected level's kernel.
        let m = 5, n = 19, k = 23
        let a = uniformValues(m * k, -1, 1, seed: 1).map { Float($0) }
        let b = uniformValues(n * k, -1, 1, seed: 2).map { Float($0) }
        let A = Buffer<Float>(a), B = Buffer<Float>(b)
        let viaTable = Buffer<Float>(count: m * n), direct = Buffer<Float>(count: m * n)
        KernelTable<Float>.production.gemm(false, true, m, n, k, 1, A.pointer, k, B.pointer, k, 0, viaTable.pointer, n)
        CPULevel.selected.sgemm(false, true, m, n, k, 1, A.pointer, k, B.pointer, k, 0, direct.pointer, n)
        keepAlive(A, B)
        XCTAssertEqual(viaTable.array, direct.array)
        XCTAssertEqual(CPULevel.selected, CPULevel.best, "NN_CPU is not set in the tests")
    }

    func testBlockingAcrossKCAndMC() {
        // Larger than one KC slice (512 on AVX-512, 1024 on AVX2) and one MC
        // block (192): the blocked path's accumulation across slices and its
        // row blocks (on AVX2 the A blocks are capped at 48 K floats: 90-row
        // blocks at k = 1030).
        for (transA, transB) in [(false, false), (true, false), (false, true)] {
            check(Case(transA: transA, transB: transB, m: 194, n: 20, k: 520, alpha: 1, beta: 0.5, seed: 9))
            check(Case(transA: transA, transB: transB, m: 194, n: 20, k: 1030, alpha: 1, beta: 0.5, seed: 10))
        }
        // a transposed A with a stride that is no multiple of 1 KiB, used by
        // more than four strips of B (packed on AVX2: `packTransposedA`),
        // in one row block and in several
        for (m, k) in [(100, 130), (300, 700)] {
            check(Case(transA: true, m: m, n: 90, k: k, alpha: -0.5, beta: 0.25, padA: 3, padB: 1, padC: 2, seed: 11))
        }
    }

    /// One row times a large B: the AVX2 level streams B row after row
    /// (`gemmOneRow`, from `streamOneRowMinimum` floats of B): every
    /// transpose of A, a k that is not a multiple of 4, columns beyond the
    /// last full vector, strides, alpha and beta.
    func testOneRowTimesALargeB() {
        for (transA, n, k, alpha, beta, nanC) in [(false, 517, 515, Float(1), Float(0), true),
                                                   (true, 1024, 259, 1, 1, false),
                                                   (false, 263, 1027, -0.5, 0.25, false)] {
            check(Case(transA: transA, m: 1, n: n, k: k, alpha: alpha, beta: beta, padA: 3, padB: 5, padC: 2,
                       nanC: nanC, seed: 21))
        }
    }

    /// One row times a B whose rows are at most `oneRowPrefetchMaxStride`
    /// floats apart: on AVX2 the 8-vector strips prefetch B's rows ahead
    /// (`microKernelP1x8Prefetched`); every transpose of A, padded strides,
    /// columns past the last strip, a single k step, alpha and beta.
    func testOneRowStripsThatReadBAhead() {
        for (transA, n, k, alpha, beta, padB, nanC) in [(false, 200, 777, Float(1), Float(0.25), 3, false),
                                                         (true, 448, 9, -1, 0, 0, true),
                                                         (false, 129, 1, 0.5, 0, 7, true),
                                                         (true, 509, 300, 2, 1, 3, false)] {
            check(Case(transA: transA, m: 1, n: n, k: k, alpha: alpha, beta: beta, padA: 2, padB: padB, padC: 1,
                       nanC: nanC, seed: 23))
        }
    }

    /// The plain loops' columns past the last 8 (computed as lanes in the
    /// p loop of the first 8) are the same bits as each column computed
    /// alone (n = 1: one scalar sum), for beta 0 and not, a single k step,
    /// and padded B (NaN in the padding, which the lanes past the tail read
    /// and never store).
    func testFloatKernelsTailColumnsGiveTheBitsOfEachColumnAlone() {
        for (m, n, k, alpha, beta) in [(1, 10, 128, Float(1), Float(0)), (3, 13, 7, 0.5, 0.25), (2, 23, 1, -1, 0),
                                       (1, 9, 33, 2, 1)] {
            let ldb = n + 3
            var b = uniformValues(k * ldb, -1, 1, seed: 31).map { Float($0) }
            for p in 0..<k { for j in n..<ldb { b[p * ldb + j] = .nan } }
            let a = uniformValues(m * k, -1, 1, seed: 32).map { Float($0) }
            let c = uniformValues(m * n, -1, 1, seed: 33).map { Float($0) }
            let A = Buffer<Float>(a), B = Buffer<Float>(b), all = Buffer<Float>(c)
            FloatKernels.gemm(false, false, m, n, k, alpha, A.pointer, k, B.pointer, ldb, beta, all.pointer, n)
            var differing: [(Int, Int)] = []
            for j in 0..<n {
                let one = Buffer<Float>((0..<m).map { c[$0 * n + j] })
                FloatKernels.gemm(false, false, m, 1, k, alpha, A.pointer, k, B.pointer + j, ldb, beta, one.pointer, 1)
                for i in 0..<m where one[i].bitPattern != all[i * n + j].bitPattern { differing.append((i, j)) }
            }
            XCTAssertEqual(differing.count, 0, "\(m)×\(k)·\(k)×\(n), beta \(beta): (row, column) \(differing.prefix(5)) differ")
            keepAlive(A, B)
        }
    }

    /// A row's products are the same bits whether it is alone (m = 1: column
    /// strips, prefetching B's rows ahead or not, or B streamed row after row) or the first of two rows (the
    /// 2-row tiles): each element is the same chain of FMAs in order of k
    /// from +0, stored the same way, on every level this CPU supports —
    /// with beta ≠ 0 too, and widths whose last tile is partial (n mod 16 =
    /// 9: the edge stores of the tiles).
    func testOneRowGivesTheBitsOfTheSameRowInATwoRowProduct() {
        for level in CPULevel.allCases where level.isSupported {
            for (n, k, alpha, beta) in [(256, 784, Float(0.5), Float(0)), (1024, 300, 0.5, 0), (517, 515, 0.5, 0),
                                        (37, 11, 0.5, 0), (1033, 256, 0.1, 1), (1049, 300, 0.7, -0.3),
                                        (300, 129, 0.7, -0.3), (448, 33, 1, 1)] {
                let a = uniformValues(2 * k, -1, 1, seed: 8).map { Float($0) }
                let b = uniformValues(k * n, -1, 1, seed: 9).map { Float($0) }
                let c = uniformValues(2 * n, -1, 1, seed: 10).map { Float($0) }
                let A = Buffer<Float>(a), B = Buffer<Float>(b)
                let one = Buffer<Float>(Array(c[0..<n])), two = Buffer<Float>(c)
                level.sgemm(false, false, 1, n, k, alpha, A.pointer, k, B.pointer, n, beta, one.pointer, n)
                level.sgemm(false, false, 2, n, k, alpha, A.pointer, k, B.pointer, n, beta, two.pointer, n)
                let differing = (0..<n).filter { one[$0].bitPattern != two[$0].bitPattern }
                XCTAssertEqual(differing.count, 0,
                               "level \(level), 1×\(k)·\(k)×\(n), beta \(beta): columns \(differing.prefix(5)) differ")
                keepAlive(A, B)
            }
        }
    }

    /// The threads' blocks: on multiples of the unit, covering [0, total)
    /// in order, and even — no two differ by more than one unit, except
    /// the last, which also takes what is left of a unit.
    func testBlocksAreEvenAndOnUnits() {
        for (total, parts, unit) in [(1024, 8, 24), (1023, 16, 32), (256, 2, 32), (126, 2, 32), (1000, 16, 16),
                                     (96, 4, 24), (50, 1, 24), (4096, 3, 32)] {
            let blocks = (0..<parts).map { ParallelGemm.block($0, of: parts, total: total, unit: unit) }
            XCTAssertEqual(blocks.first?.start, 0)
            for (a, b) in zip(blocks, blocks.dropFirst()) { XCTAssertEqual(a.start + a.size, b.start, "\(total)/\(parts)") }
            XCTAssertEqual(blocks.last.map { $0.start + $0.size }, total)
            let whole = blocks.map { $0.size / unit }
            XCTAssertTrue(blocks.allSatisfy { $0.start % unit == 0 }, "\(total)/\(parts)")
            XCTAssertLessThanOrEqual(whole.max()! - whole.min()!, 1, "\(total)/\(parts): \(blocks)")
            XCTAssertTrue(blocks.dropLast().allSatisfy { $0.size % unit == 0 }, "\(total)/\(parts)")
        }
    }

    func testThreadCountDoesNotChangeAnyBit() throws {
        // Fixed partitioning: 1, 2 and 3 threads give identical results,
        // for products large enough to be split by columns and by rows.
        let pool = ThreadPool.shared
        let saved = pool.threadCount
        defer { pool.setThreadCount(saved) }
        let shapes = [(false, false, 128, 256, 784), (true, false, 784, 256, 128), (false, true, 128, 784, 256),
                      (false, false, 300, 20, 500), (true, false, 257, 10, 300), (false, false, 1, 1024, 300),
                      (false, false, 1, 1033, 256)]
        for (transA, transB, m, n, k) in shapes {
            let a = uniformValues(m * k, -1, 1, seed: 3).map { Float($0) }
            let b = uniformValues(k * n, -1, 1, seed: 4).map { Float($0) }
            let A = Buffer<Float>(a), B = Buffer<Float>(b)
            let lda = transA ? m : k, ldb = transB ? k : n
            var results: [[Float]] = []
            for threads in [1, 2, 3] {
                pool.setThreadCount(threads)
                let C = Buffer<Float>(repeating: 0.25, count: m * n)
                ParallelGemm.gemm(transA, transB, m, n, k, 0.7, A.pointer, lda, B.pointer, ldb, 1, C.pointer, n)
                results.append(C.array)
            }
            keepAlive(A, B)
            XCTAssertEqual(results[0], results[1], "1 vs 2 threads, \((transA, transB, m, n, k))")
            XCTAssertEqual(results[0], results[2], "1 vs 3 threads, \((transA, transB, m, n, k))")
        }
    }

    /// A B packed once into a panel by several threads, each a range of
    /// strips (`packPanel`), then read by every row block (`gemmPanel`):
    /// the same bits as the level's own GEMM, on every level this CPU runs,
    /// for both transposes of A and of B, beta ≠ 0, widths that end in a
    /// partial strip and k across K slices (1030).
    func testASharedPanelGivesTheBitsOfTheLevelsGemm() {
        for level in CPULevel.allCases where level.isSupported {
            let kernels = level.panelGemm
            for (transA, transB, m, n, k) in [(false, false, 100, 70, 300), (true, false, 90, 45, 1030),
                                                (false, true, 77, 100, 129), (true, true, 50, 33, 17)] {
                let a = uniformValues(m * k, -1, 1, seed: 12).map { Float($0) }
                let b = uniformValues(k * n, -1, 1, seed: 13).map { Float($0) }
                let c = uniformValues(m * n, -1, 1, seed: 14).map { Float($0) }
                let A = Buffer<Float>(a), B = Buffer<Float>(b)
                let lda = transA ? m : k, ldb = transB ? k : n
                let direct = Buffer<Float>(c), shared = Buffer<Float>(c)
                level.sgemm(transA, transB, m, n, k, 0.7, A.pointer, lda, B.pointer, ldb, -0.5, direct.pointer, n)
                // the panel, sentinel-filled past its end, packed in three strip ranges
                let floats = kernels.floats(k, n), strips = (n + kernels.strip - 1) / kernels.strip
                let panel = Buffer<Float>(repeating: .nan, count: floats + 64)
                let cuts = [0, strips / 3, 2 * strips / 3, strips]
                for i in 0..<3 { kernels.pack(transB, k, n, B.pointer, ldb, panel.pointer, cuts[i], cuts[i + 1]) }
                XCTAssertTrue((floats..<floats + 64).allSatisfy { panel[$0].isNaN }, "\(level): written past the panel")
                XCTAssertFalse((0..<floats).contains { panel[$0].isNaN }, "\(level): a hole in the panel")
                // two row blocks × two column blocks (the second from a strip edge)
                let rowCut = m / 2, columnCut = max(kernels.strip, n / 2 / kernels.strip * kernels.strip)
                for (i0, h) in [(0, rowCut), (rowCut, m - rowCut)] {
                    for (j0, w) in [(0, columnCut), (columnCut, n - columnCut)] where w > 0 {
                        kernels.gemm(transA, h, w, k, 0.7, transA ? A.pointer + i0 : A.pointer + i0 * lda, lda,
                                     panel.pointer, n, j0, -0.5, shared.pointer + i0 * n + j0, n)
                    }
                }
                keepAlive(A, B)
                let differing = (0..<m * n).filter { direct[$0].bitPattern != shared[$0].bitPattern }
                XCTAssertEqual(differing.count, 0, "\(level) \((transA, transB, m, n, k)): \(differing.prefix(5))")
            }
        }
    }

    /// ParallelGemm with the shared panel (NN_GEMM_SHARED_B=1) gives the
    /// bits of one thread, and of the row parts packing B themselves.
    func testSharedPanelDoesNotChangeAnyBit() {
        let pool = ThreadPool.shared
        let saved = (pool.threadCount, ParallelGemm.sharesPackedB)
        defer {
            pool.setThreadCount(saved.0)
            ParallelGemm.sharesPackedB = saved.1
        }
        for (transA, transB, m, n, k) in [(false, false, 1024, 256, 784), (true, false, 784, 256, 1024),
                                            (false, true, 300, 100, 257), (false, false, 200, 40, 1030)] {
            let a = uniformValues(m * k, -1, 1, seed: 15).map { Float($0) }
            let b = uniformValues(k * n, -1, 1, seed: 16).map { Float($0) }
            let A = Buffer<Float>(a), B = Buffer<Float>(b)
            let lda = transA ? m : k, ldb = transB ? k : n
            var results: [[Float]] = []
            for (threads, shares) in [(1, false), (2, false), (2, true), (4, true)] {
                pool.setThreadCount(threads)
                ParallelGemm.sharesPackedB = shares
                let C = Buffer<Float>(repeating: 0.25, count: m * n)
                ParallelGemm.gemm(transA, transB, m, n, k, 0.7, A.pointer, lda, B.pointer, ldb, 1, C.pointer, n)
                results.append(C.array)
            }
            keepAlive(A, B)
            for r in 1..<results.count {
                XCTAssertEqual(results[0], results[r], "run \(r), \((transA, transB, m, n, k))")
            }
        }
    }
}

extension Buffer {
    /// A buffer of `count` copies of `value` (test helper).
    convenience init(repeating value: T, count: Int) {
        self.init([T](repeating: value, count: count))
    }
}
