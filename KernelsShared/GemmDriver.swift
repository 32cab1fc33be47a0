// The blocked single-precision GEMM driver, shared by every instruction-set
// level: each kernel target holds a symbolic link to this file, plus its own
// `Config.swift` (block sizes, tuning switches, public entry point) and its
// generated `MicroKernels.swift` (vector type `V`, lane count `W`, tile
// `MR` × `NR`, the micro-kernels). Nothing here is generic, so each target
// compiles its own copy for its own `-target-cpu`, and every symbol is
// mangled with that target's module name.
//
// Paths (gemmDriver):
// - m ≤ 3, B not transposed (gemmFewRows): a vector–matrix product; B is
//   read in place once by wide tiles (1×8, 2×4, 3×3 vectors), no K blocking.
// - m ≤ 3, B transposed (gemmDotRows): dot products of contiguous rows.
// - otherwise (gemmBlocked), BLIS-style: for each NC-wide column block of C,
//   for each KC-deep slice of K, for each row block (MC rows, or fewer
//   where a level caps a block at `aBlockFloats`), run the MR×NR
//   micro-kernel over every (strip of A, strip of B) pair. A transposed B is
//   packed into NR-wide strips (kc × NR, zero padded; one strip at a time
//   when there is a single row block); B not transposed is read in place
//   when there is a single row block, else packed. A not transposed is read
//   in place by the family-S kernels (rows lda apart); a transposed A is
//   read in place by the family-P kernels (k step lda). Strides that are
//   multiples of 1 KiB are packed instead on levels with `packPow2Strided`,
//   and a transposed A used by many strips of B on levels with
//   `packTransposedA`.
//   So all four (transA, transB) cases run the same register tiles.
//
// Threads: C's columns [j0, j1) depend only on op(B)'s columns [j0, j1), so
// NNCore's ParallelGemm.swift gives each thread of the persistent pool a
// fixed column range (a multiple of NR) and calls the level's entry point
// with B and C offset (B + j0, or B + j0·ldb when transposed; C + j0), or
// splits rows the same way (A + i0·lda, or A + i0 when transposed;
// C + i0·ldc). Each thread's pack buffers come from its own thread
// workspace (nnk_thread_workspace).

import NNCPUFeatures

@inline(__always) private func roundUp(_ x: Int, _ r: Int) -> Int { (x + r - 1) / r * r }
@inline(__always) private func ceilDiv(_ x: Int, _ r: Int) -> Int { (x + r - 1) / r }

/// C[m, n] = beta · C (beta == 0 writes zeros without reading C).
@inline(never)
func scaleC(_ m: Int, _ n: Int, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    if beta == 1 { return }
    for i in 0..<m {
        let ci = c + i * ldc
        if beta == 0 {
            ci.update(repeating: 0, count: n)
        } else {
            for j in 0..<n { ci[j] *= beta }
        }
    }
}

/// The prefetch hint of the micro-kernels that read B ahead of use
/// (`microKernelP1x8Prefetched`).
@inline(__always) func prefetch(_ p: UnsafeRawPointer) { nnk_prefetch(p) }

@inline(__always) func loadV(_ p: UnsafeMutablePointer<Float>) -> V {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}
@inline(__always) func loadV(_ p: UnsafePointer<Float>) -> V {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}
@inline(__always) func storeV(_ p: UnsafeMutablePointer<Float>, _ v: V) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

/// Floats of scratch space a micro-kernel needs for a tile narrower than its
/// vectors (the largest mr·nv·W of any tile).
@inline(__always) var scratchFloats: Int { max(MR * NR, 8 * W) }

/// C[0..<mr, 0..<ncols] = alpha · tile + beta · C, the tile's rows `stride`
/// floats apart (a micro-kernel's tile narrower than its vectors).
@inline(never)
func storeEdge(_ tile: UnsafeMutablePointer<Float>, _ stride: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
               _ mr: Int, _ ncols: Int, _ alpha: Float, _ beta: Float) {
    for i in 0..<mr {
        let t = tile + i * stride, ci = c + i * ldc
        if beta == 0 {
            for j in 0..<ncols { ci[j] = alpha * t[j] }
        } else {
            for j in 0..<ncols { ci[j] = alpha * t[j] + beta * ci[j] }
        }
    }
}

/// Transposes the 4×4 block whose rows start at s, s + ld, s + 2·ld, s + 3·ld
/// into the rows d, d + dstride, d + 2·dstride, d + 3·dstride (shuffles of
/// SIMD4 pairs: two rounds of even/odd unshuffling transpose a 4×4 block).
@inline(__always)
func transpose4x4(_ s: UnsafePointer<Float>, _ ld: Int, _ d: UnsafeMutablePointer<Float>, _ dstride: Int) {
    let sr = UnsafeRawPointer(s), dr = UnsafeMutableRawPointer(d)
    let ldb = ld &* 4, dsb = dstride &* 4
    let r0 = sr.loadUnaligned(as: SIMD4<Float>.self)
    let r1 = sr.loadUnaligned(fromByteOffset: ldb, as: SIMD4<Float>.self)
    let r2 = sr.loadUnaligned(fromByteOffset: 2 &* ldb, as: SIMD4<Float>.self)
    let r3 = sr.loadUnaligned(fromByteOffset: 3 &* ldb, as: SIMD4<Float>.self)
    let x01 = SIMD8(lowHalf: r0, highHalf: r1), x23 = SIMD8(lowHalf: r2, highHalf: r3)
    let e01 = x01.evenHalf, o01 = x01.oddHalf, e23 = x23.evenHalf, o23 = x23.oddHalf
    let y0 = SIMD8(lowHalf: e01, highHalf: e23), y1 = SIMD8(lowHalf: o01, highHalf: o23)
    dr.storeBytes(of: y0.evenHalf, as: SIMD4<Float>.self)
    dr.storeBytes(of: y1.evenHalf, toByteOffset: dsb, as: SIMD4<Float>.self)
    dr.storeBytes(of: y0.oddHalf, toByteOffset: 2 &* dsb, as: SIMD4<Float>.self)
    dr.storeBytes(of: y1.oddHalf, toByteOffset: 3 &* dsb, as: SIMD4<Float>.self)
}

/// Packs B[0..<kc, 0..<nc] (op(B), starting at `b`) into NR-wide strips:
/// strip s holds, for each p, the NR values op(B)[p, s·NR ..< s·NR + NR]
/// contiguously, zero padded past nc.
@inline(never)
func packB(_ transB: Bool, _ kc: Int, _ nc: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
           _ dst: UnsafeMutablePointer<Float>) {
    if !transB {
        // eight rows at a time, strip after strip: the source is read in
        // runs of NR values from eight rows (with page-sized row strides, a
        // whole row at a time would put all the strips' destinations, kc·NR
        // floats apart, into the same L1 set)
        let full = nc / NR, edge = nc - full * NR
        var p0 = 0
        while p0 < kc {
            let rows = min(8, kc - p0)
            var d = dst + p0 * NR
            var j0 = 0
            for _ in 0..<full {
                var s = UnsafeRawPointer(b + p0 * ldb + j0)
                var t = UnsafeMutableRawPointer(d)
                for _ in 0..<rows {
                    for v in 0..<NV {
                        t.storeBytes(of: s.loadUnaligned(fromByteOffset: v * W * 4, as: V.self),
                                     toByteOffset: v * W * 4, as: V.self)
                    }
                    s += ldb * 4
                    t += NR * 4
                }
                d += NR * kc
                j0 += NR
            }
            if edge != 0 {
                for r in 0..<rows {
                    let src = b + (p0 + r) * ldb + j0
                    for j in 0..<edge { d[r * NR + j] = src[j] }
                    for j in edge..<NR { d[r * NR + j] = 0 }
                }
            }
            p0 += 8
        }
        return
    }
    var j0 = 0
    var d = dst
    while j0 < nc {
        let w = min(NR, nc - j0)
        if !transB {
            // op(B)[p, j] = b[p·ldb + j]: rows of the strip are contiguous
            var src = b + j0
            if w == NR {
                for _ in 0..<kc {
                    let s = UnsafeRawPointer(src), t = UnsafeMutableRawPointer(d)
                    for v in 0..<NV {
                        t.storeBytes(of: s.loadUnaligned(fromByteOffset: v * W * 4, as: V.self),
                                     toByteOffset: v * W * 4, as: V.self)
                    }
                    src += ldb
                    d += NR
                }
            } else {
                for _ in 0..<kc {
                    for j in 0..<w { d[j] = src[j] }
                    for j in w..<NR { d[j] = 0 }
                    src += ldb
                    d += NR
                }
            }
        } else {
            // op(B)[p, j] = b[j·ldb + p]: gather one value from each of w rows
            let src = b + j0 * ldb
            if w == NR {
                var p = 0
                // 4×4 blocks: four k steps of four rows at a time
                while p + 4 <= kc {
                    var j = 0
                    while j < NR {
                        transpose4x4(src + j * ldb + p, ldb, d + j, NR)
                        j += 4
                    }
                    d += 4 * NR
                    p += 4
                }
                while p < kc {
                    for j in 0..<NR { d[j] = src[j * ldb + p] }
                    d += NR
                    p += 1
                }
            } else {
                for p in 0..<kc {
                    for j in 0..<w { d[j] = src[j * ldb + p] }
                    for j in w..<NR { d[j] = 0 }
                    d += NR
                }
            }
        }
        j0 += NR
    }
}

/// Rows of the strip of A that starts at row ir of an mc-row block: MR, except
/// that a remainder of fewer than MR/2 rows is merged with the strip before
/// it and the two are split evenly (few rows leave the FMA units idle).
@inline(__always)
func stripRows(_ ir: Int, _ mc: Int) -> Int {
    let r = mc - ir
    if r > MR && r < MR + MR / 2 { return (r + 1) / 2 }
    return min(MR, r)
}

/// Packs the transposed A's block op(A)[0..<mc, 0..<kc] (op(A)[i, p] =
/// a[p·lda + i]) into strips of `stripRows` rows: the strip of h rows
/// starting at row i0 is at dst + i0·kc and holds, for each p, the values
/// op(A)[i0 ..< i0 + h, p] contiguously (so its k step is h). (A that is not
/// transposed is never packed: the family-S kernels read it in place.)
@inline(never)
func packA(_ mc: Int, _ kc: Int, _ a: UnsafePointer<Float>, _ lda: Int,
           _ dst: UnsafeMutablePointer<Float>) {
    var i0 = 0
    while i0 < mc {
        let h = stripRows(i0, mc)
        var d = dst + i0 * kc
        var src = a + i0
        if h == MR {
            for _ in 0..<kc {
                for i in 0..<MR { d[i] = src[i] }
                src += lda
                d += MR
            }
        } else {
            for _ in 0..<kc {
                for i in 0..<h { d[i] = src[i] }
                src += lda
                d += h
            }
        }
        i0 += h
    }
}

// MARK: A packed B panel shared by threads

/// Floats of the panel that `packPanel` fills for an op(B) of k × n: every
/// K slice's NR-wide strips, zero padded to a whole strip.
@inline(__always)
func panelFloats(_ k: Int, _ n: Int) -> Int { k * roundUp(n, NR) }

/// Packs the strips [s0, s1) (columns s0·NR ..< min(s1·NR, n)) of op(B)
/// [0..<k, 0..<n] into `panel`, in every K slice, as `gemmBlocked` packs a
/// block of B: slice pc (of the driver's kc rows) starts at
/// panel + pc·roundUp(n, NR), its strip s at s·NR·kc from there. Threads
/// that pack disjoint strip ranges fill one panel together; each then
/// computes its block of C from it (`gemmBlocked`'s `panel`), with the same
/// bits as from B packed or read by itself.
func packPanel(_ transB: Bool, _ k: Int, _ n: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
               _ panel: UnsafeMutablePointer<Float>, _ s0: Int, _ s1: Int) {
    let kcStep = ceilDiv(k, ceilDiv(k, KC)), width = roundUp(n, NR)
    let j0 = s0 * NR, columns = min(s1 * NR, n) - j0
    guard columns > 0 else { return }
    var pc = 0
    while pc < k {
        let kc = min(kcStep, k - pc)
        packB(transB, kc, columns, transB ? b + j0 * ldb + pc : b + pc * ldb + j0, ldb,
              panel + (pc * width + j0 * kc))
        pc += kc
    }
}

/// C[m, n] = alpha · op(A) · op(B)[:, column ..< column + n] + beta · C, with
/// op(B) (k rows, `width` columns in all) read from a panel that
/// `packPanel` filled; `column` is a multiple of NR. Always the blocked
/// path: for m ≤ 3 its bits may differ from `gemmDriver`'s few-rows paths
/// (no K slices there); ParallelGemm's row parts have at least 24 rows.
func gemmPanel(
    _ transA: Bool, _ m: Int, _ n: Int, _ k: Int,
    _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
    _ panel: UnsafePointer<Float>, _ width: Int, _ column: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
) {
    if m <= 0 || n <= 0 { return }
    if k <= 0 || alpha == 0 { scaleC(m, n, beta, c, ldc); return }
    gemmBlocked(transA, false, m, n, k, alpha, a, lda, panel, 0, beta, c, ldc,
                panel: panel, panelWidth: roundUp(width, NR), panelColumn: column)
}

/// Stores one dot product: c = alpha·t + beta·c (beta == 0 never reads c).
@inline(__always)
func storeScalar(_ c: UnsafeMutablePointer<Float>, _ t: Float, _ alpha: Float, _ beta: Float) {
    c.pointee = beta == 0 ? alpha * t : alpha * t + beta * c.pointee
}

/// The whole GEMM on the calling thread (see KernelTable.Gemm for the contract).
@inline(never)
func gemmDriver(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
    _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
    _ b: UnsafePointer<Float>, _ ldb: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
) {
    if m <= 0 || n <= 0 { return }
    if k <= 0 || alpha == 0 { scaleC(m, n, beta, c, ldc); return }
    if m <= 3 {
        if transB {
            gemmDotRows(transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        } else {
            gemmFewRows(transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        }
        return
    }
    gemmBlocked(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

/// m ≤ 3, B not transposed (a vector–matrix product or nearly): B is read
/// in place once, by wide tiles (enough accumulators to hide the FMA
/// latency), with no blocking of K.
@inline(never)
func gemmFewRows(
    _ transA: Bool, _ m: Int, _ n: Int, _ k: Int,
    _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
    _ b: UnsafePointer<Float>, _ ldb: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
) {
    if m == 1 && k * n >= streamOneRowMinimum {
        gemmOneRow(transA, n, k, alpha, a, lda, b, ldb, beta, c)
        return
    }
    let edge = n % NR
    guard let ws = nnk_thread_workspace(scratchFloats + m * k + (edge != 0 ? NR * k : 0)) else {
        fatalError("gemm: cannot allocate workspace")
    }
    let scratch = ws + m * k + (edge != 0 ? NR * k : 0)
    // A as the family-P kernels read it: A(i, p) = ap[p·aStep + i]
    // (one row not transposed is its own transpose: a[p], step 1, no copy)
    let ap: UnsafePointer<Float>, aStep: Int
    if transA {
        ap = a; aStep = lda
    } else if m == 1 {
        ap = a; aStep = 1
    } else {
        for i in 0..<m { for p in 0..<k { ws[p * m + i] = a[i * lda + p] } }
        ap = UnsafePointer(ws); aStep = m
    }
    let wideNV = m == 1 ? 8 : m == 2 ? 4 : 3
    let wide = wideNV * W
    // one row: the strips read B's rows `ahead` bytes on (the level's
    // Config), the same FMAs in the same order
    let ahead = m == 1 && ldb <= oneRowPrefetchMaxStride ? oneRowPrefetchRows * ldb * 4 : 0
    var j = 0
    while j + wide <= n {
        if ahead > 0 {
            microKernelP1x8Prefetched(k, ap, aStep, b + j, ldb, c + j, ldc, wide, alpha, beta, scratch, ahead)
        } else {
            microKernelP(m, wideNV, k, ap, aStep, b + j, ldb, c + j, ldc, wide, alpha, beta, scratch)
        }
        j += wide
    }
    while j + NR <= n {
        microKernelP(m, NV, k, ap, aStep, b + j, ldb, c + j, ldc, NR, alpha, beta, scratch)
        j += NR
    }
    if j < n {
        let bEdge = ws + m * k
        packB(false, k, n - j, b + j, ldb, bEdge)
        microKernelP(m, (n - j + W - 1) / W, k, ap, aStep, UnsafePointer(bEdge), NR, c + j, ldc, n - j, alpha, beta, scratch)
    }
}

/// One row of A times B not transposed (a one-sample forward pass), with B
/// streamed row after row, four at a time: t[j] += a₀·B[p, j] + … as four
/// FMAs per vector of 8 columns in order of p (so each element gets the
/// same sequence of FMAs as in the register tiles of `gemmFewRows`, from
/// +0), t kept in the thread's workspace (n floats, in L1 for a layer's
/// width); then C = alpha·t (+ beta·C) as `gemmFewRows`' tiles store it:
/// the columns of full tiles with vector FMAs, those of its last, partial
/// NR-wide tile (n mod NR of them, unless exactly one vector) as
/// `storeEdge` — so that with beta ≠ 0 too each column gets the same bits
/// on either path, whichever a thread's block of columns takes.
@inline(never)
func gemmOneRow(
    _ transA: Bool, _ n: Int, _ k: Int,
    _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
    _ b: UnsafePointer<Float>, _ ldb: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>
) {
    guard let t = nnk_thread_workspace(n) else { fatalError("gemm: cannot allocate workspace") }
    t.update(repeating: 0, count: n)
    let aStep = transA ? lda : 1
    let vectors = n / W * W
    let edge = n % NR, tiled = edge == W ? n : n - edge
    var p = 0
    while p + 4 <= k {
        let x0 = a[p * aStep], x1 = a[(p + 1) * aStep], x2 = a[(p + 2) * aStep], x3 = a[(p + 3) * aStep]
        let v0 = V(repeating: x0), v1 = V(repeating: x1), v2 = V(repeating: x2), v3 = V(repeating: x3)
        let r0 = b + p * ldb, r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb
        var j = 0
        while j < vectors {
            var s = loadV(t + j)
            s = s.addingProduct(v0, loadV(r0 + j))
            s = s.addingProduct(v1, loadV(r1 + j))
            s = s.addingProduct(v2, loadV(r2 + j))
            s = s.addingProduct(v3, loadV(r3 + j))
            storeV(t + j, s)
            j += W
        }
        while j < n {
            t[j] = t[j].addingProduct(x0, r0[j]).addingProduct(x1, r1[j]).addingProduct(x2, r2[j]).addingProduct(x3, r3[j])
            j += 1
        }
        p += 4
    }
    while p < k {
        let x = a[p * aStep], v = V(repeating: x), r = b + p * ldb
        var j = 0
        while j < vectors {
            storeV(t + j, loadV(t + j).addingProduct(v, loadV(r + j)))
            j += W
        }
        while j < n {
            t[j] = t[j].addingProduct(x, r[j])
            j += 1
        }
        p += 1
    }
    let va = V(repeating: alpha)
    var j = 0
    while j < tiled {
        let s = loadV(t + j)
        if beta == 0 {
            storeV(c + j, s * va)
        } else if beta == 1 {
            storeV(c + j, loadV(c + j).addingProduct(s, va))
        } else {
            storeV(c + j, (loadV(c + j) * V(repeating: beta)).addingProduct(s, va))
        }
        j += W
    }
    storeEdge(t + tiled, 0, c + tiled, 0, 1, n - tiled, alpha, beta)
}

/// m ≤ 3, B transposed (B stored [n, k]): each C value is a dot product of
/// two contiguous rows (A's rows copied first when A is transposed).
@inline(never)
func gemmDotRows(
    _ transA: Bool, _ m: Int, _ n: Int, _ k: Int,
    _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
    _ b: UnsafePointer<Float>, _ ldb: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
) {
    let ar: UnsafePointer<Float>, ldar: Int
    if transA {
        guard let ws = nnk_thread_workspace(m * k) else { fatalError("gemm: cannot allocate workspace") }
        for p in 0..<k { for i in 0..<m { ws[i * k + p] = a[p * lda + i] } }
        ar = UnsafePointer(ws); ldar = k
    } else {
        ar = a; ldar = lda
    }
    let nb = dotRowsOfB(m)
    var j = 0
    while j + nb <= n {
        dotKernel(m, nb, k, ar, ldar, b + j * ldb, ldb, c + j, ldc, alpha, beta)
        j += nb
    }
    while j < n {
        dotKernel(m, 1, k, ar, ldar, b + j * ldb, ldb, c + j, ldc, alpha, beta)
        j += 1
    }
}

/// The general case: blocked, packed (or in place where that is as good).
@inline(never)
func gemmBlocked(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
    _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
    _ b: UnsafePointer<Float>, _ ldb: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
    panel: UnsafePointer<Float>? = nil, panelWidth: Int = 0, panelColumn: Int = 0
) {
    // Block sizes fitted to the problem: the same number of blocks as the
    // maximal sizes would give, but of (nearly) equal size.
    let kcStep = ceilDiv(k, ceilDiv(k, KC))
    let mcMax = m <= MC ? MC : max(MR, min(MC, aBlockFloats / kcStep / MR * MR))
    let mcStep = roundUp(ceilDiv(m, ceilDiv(m, mcMax)), MR)
    let ncStep = roundUp(ceilDiv(n, ceilDiv(n, NC)), NR)

    // Operands read in place instead of packed (measured: as fast or faster,
    // and no packing cost), except where set conflicts make packing pay:
    // row strides that are multiples of 1 KiB on levels with
    // `packPow2Strided`.
    //   B (not transposed): when there is a single block of A rows or B's
    //   block is small (with many blocks of A rows, packed B is faster).
    //   A not transposed: always, by the family-S kernels (rows lda apart).
    //   A transposed: family P with k step lda, unless many strips of B
    //   use the block (`packTransposedA`).
    //   B in a shared panel (`panel`, packed by `packPanel`): read there.
    let directB = panel == nil && !transB && (k * ldb <= directLimit
        || (m <= MC && !(packPow2Strided && ldb % 256 == 0)))
    let directA = !transA || n <= NR || k * lda <= directLimit
        || !((packPow2Strided && lda % 256 == 0) || (packTransposedA && n > 4 * NR))
    let familyS = !transA
    let aFloats = directA ? 0 : mcStep * kcStep
    let bFloats = panel != nil ? 0 : directB ? NR * kcStep : ncStep * kcStep
    guard let ws = nnk_thread_workspace(aFloats + bFloats + scratchFloats) else {
        fatalError("gemm: cannot allocate \(4 * (aFloats + bFloats + scratchFloats)) bytes of workspace")
    }
    let aBuf = ws, bBuf = ws + aFloats, scratch = ws + aFloats + bFloats

    var jc = 0
    while jc < n {
        let nc = min(ncStep, n - jc)
        let edgeCols = nc % NR  // width of a short last strip (0: none)
        var pc = 0
        while pc < k {
            let kc = min(kcStep, k - pc)
            let betaK: Float = pc == 0 ? beta : 1

            let rowMajor = kc * nc <= rowMajorTilesLimit
            // With a single block of A rows, each strip of B is used right
            // after it is packed: pack it then, while it stays in L1/L2
            // (packing the whole block first sends it to L3 when it is large).
            let lazyB = panel == nil && transB && !rowMajor && m <= mcStep
            let bBlock = transB ? b + jc * ldb + pc : b + pc * ldb + jc
            if panel != nil {
                // packed already (by the threads together)
            } else if directB {
                if edgeCols != 0 {
                    packB(false, kc, edgeCols, b + pc * ldb + jc + (nc - edgeCols), ldb, bBuf)
                }
            } else if !lazyB {
                packB(transB, kc, nc, bBlock, ldb, bBuf)
            }
            // where strip jr of B starts, and its k step
            @inline(__always) func bStrip(_ jr: Int, _ ncols: Int) -> (UnsafePointer<Float>, Int) {
                if let panel { return (panel + (pc * panelWidth + (panelColumn + jc + jr) * kc), NR) }
                if lazyB {
                    packB(transB, kc, ncols, transB ? bBlock + jr * ldb : bBlock + jr, ldb, bBuf)
                    return (UnsafePointer(bBuf), NR)
                }
                if !directB { return (UnsafePointer(bBuf + jr * kc), NR) }
                if ncols == NR { return (b + pc * ldb + jc + jr, ldb) }
                return (UnsafePointer(bBuf), NR)
            }

            var ic = 0
            while ic < m {
                let mc = min(mcStep, m - ic)
                // where the strip of A at row ir (of mr rows) starts, and its
                // k step (family S: its row step)
                if !directA {
                    packA(mc, kc, a + pc * lda + ic, lda, aBuf)
                }
                @inline(__always) func aStrip(_ ir: Int, _ mr: Int) -> (UnsafePointer<Float>, Int) {
                    if familyS { return (a + ((ic + ir) * lda + pc), lda) }
                    if directA { return (a + (pc * lda + ic + ir), lda) }
                    return (UnsafePointer(aBuf + ir * kc), mr)
                }

                if rowMajor {
                    // small B block (stays in cache): sweep C row strip by row strip
                    var ir = 0
                    while ir < mc {
                        let mr = stripRows(ir, mc)
                        let (aS, aStep) = aStrip(ir, mr)
                        var jr = 0
                        while jr < nc {
                            let ncols = min(NR, nc - jr)
                            let nv = (ncols + W - 1) / W
                            let (bs, bStep) = bStrip(jr, ncols)
                            let ct = c + ((ic + ir) * ldc + jc + jr)
                            if familyS {
                                microKernelS(mr, nv, kc, aS, aStep, bs, bStep, ct, ldc, ncols, alpha, betaK, scratch)
                            } else {
                                microKernelP(mr, nv, kc, aS, aStep, bs, bStep, ct, ldc, ncols, alpha, betaK, scratch)
                            }
                            jr += NR
                        }
                        ir += mr
                    }
                } else {
                    // BLIS order: one strip of B against every strip of A
                    var jr = 0
                    while jr < nc {
                        let ncols = min(NR, nc - jr)
                        let nv = (ncols + W - 1) / W
                        let (bs, bStep) = bStrip(jr, ncols)
                        var ir = 0
                        while ir < mc {
                            let mr = stripRows(ir, mc)
                            let (aS, aStep) = aStrip(ir, mr)
                            let ct = c + ((ic + ir) * ldc + jc + jr)
                            if familyS {
                                microKernelS(mr, nv, kc, aS, aStep, bs, bStep, ct, ldc, ncols, alpha, betaK, scratch)
                            } else {
                                microKernelP(mr, nv, kc, aS, aStep, bs, bStep, ct, ldc, ncols, alpha, betaK, scratch)
                            }
                            ir += mr
                        }
                        jr += NR
                    }
                }
                ic += mcStep
            }
            pc += kcStep
        }
        jc += ncStep
    }
}
