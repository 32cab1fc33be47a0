/// Float kernels for production. These are straightforward loop nests that
/// the compiler vectorizes (the inner loops are SIMD8 axpy and dot
/// products over contiguous rows); a later blocked, packed micro-kernel GEMM
/// replaces `gemm` here without touching any caller.
public enum FloatKernels {
    /// See `KernelTable.Gemm`.
    public static func gemm(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
        _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        // C = beta · C first (beta == 0 overwrites, so NaN in C disappears).
        for i in 0..<m {
            let ci = c + i * ldc
            if beta == 0 {
                ci.update(repeating: 0, count: n)
            } else if beta != 1 {
                for j in 0..<n { ci[j] *= beta }
            }
        }
        guard k > 0, alpha != 0 else { return }
        switch (transA, transB) {
        case (false, false):
            // C[i, :] += alpha · A[i, p] · B[p, :]
            for i in 0..<m {
                let ci = c + i * ldc, ai = a + i * lda
                for p in 0..<k { axpy(n, alpha * ai[p], b + p * ldb, ci) }
            }
        case (true, false):
            // A is stored [k, m]: C[i, :] += alpha · A[p, i] · B[p, :]
            for p in 0..<k {
                let ap = a + p * lda, bp = b + p * ldb
                for i in 0..<m { axpy(n, alpha * ap[i], bp, c + i * ldc) }
            }
        case (false, true):
            // B is stored [n, k]: C[i, j] += alpha · <A[i, :], B[j, :]>
            for i in 0..<m {
                let ai = a + i * lda, ci = c + i * ldc
                for j in 0..<n { ci[j] += alpha * dot(k, ai, b + j * ldb) }
            }
        case (true, true):
            // A stored [k, m], B stored [n, k]: rare; plain loops.
            for i in 0..<m {
                let ci = c + i * ldc
                for j in 0..<n {
                    var s: Float = 0
                    for p in 0..<k { s += a[p * lda + i] * b[j * ldb + p] }
                    ci[j] += alpha * s
                }
            }
        }
    }

    /// y[0..<n] += s · x[0..<n]
    @inline(__always)
    static func axpy(_ n: Int, _ s: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        var j = 0
        let sv = SIMD8<Float>(repeating: s)
        let xr = UnsafeRawPointer(x), yr = UnsafeMutableRawPointer(y)
        while j + 8 <= n {
            let off = j * MemoryLayout<Float>.stride
            let yv = yr.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self)
            let xv = xr.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self)
            yr.storeBytes(of: yv + sv * xv, toByteOffset: off, as: SIMD8<Float>.self)
            j += 8
        }
        while j < n { y[j] += s * x[j]; j += 1 }
    }

    /// Σ x[i] · y[i], in a fixed order (8 partial sums, then the tail).
    @inline(__always)
    static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var j = 0
        let xr = UnsafeRawPointer(x), yr = UnsafeRawPointer(y)
        while j + 8 <= n {
            let off = j * MemoryLayout<Float>.stride
            acc += xr.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self)
                * yr.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self)
            j += 8
        }
        var s = acc.sum()
        while j < n { s += x[j] * y[j]; j += 1 }
        return s
    }
}
