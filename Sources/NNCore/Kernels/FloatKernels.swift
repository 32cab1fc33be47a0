/// Float kernels of the production table that live in NNCore: `gemm` is a
/// plain loop nest (SIMD8 axpy and dot products over contiguous rows) that
/// the production GEMM (`ParallelGemm`) uses for tiny products, where it
/// beats the blocked micro-kernels' set-up; the Dense epilogues below are
/// explicit SIMD16 loops for the common activations.
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

// MARK: Dense epilogues, explicit SIMD for the common activations

extension FloatKernels {
    typealias V = SIMD16<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }
    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// See `KernelTable.biasActivation`. linear and relu run as SIMD16 loops
    /// (relu keeps NaN, as PyTorch); the others take the reference path.
    public static func biasActivation(
        _ f: Activation, _ bias: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>,
        _ y: UnsafeMutablePointer<Float>, _ rows: Int, _ cols: Int
    ) {
        guard f == .relu || f == .linear else {
            Reference.biasActivation(f, bias, z, y, rows, cols)
            return
        }
        let relu = f == .relu
        for r in 0..<rows {
            let zr = z + r * cols, yr = y + r * cols
            var j = 0
            while j + 16 <= cols {
                let v = load(zr + j) + load(bias + j)
                store(v, zr + j)
                store(relu ? v.replacing(with: 0, where: v .< 0) : v, yr + j)
                j += 16
            }
            while j < cols {
                let v = zr[j] + bias[j]
                zr[j] = v
                yr[j] = relu && v < 0 ? 0 : v
                j += 1
            }
        }
    }

    /// See `KernelTable.activationBackwardBiasGradient`: linear and relu as
    /// SIMD16 loops, the others by the reference.
    public static func activationBackwardBiasGradient(
        _ f: Activation, _ z: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>,
        _ dbias: UnsafeMutablePointer<Float>, _ rows: Int, _ cols: Int
    ) {
        guard f == .relu || f == .linear else {
            Reference.activationBackwardBiasGradient(f, z, y, dy, dbias, rows, cols)
            return
        }
        let relu = f == .relu
        dbias.update(repeating: 0, count: cols)
        for r in 0..<rows {
            let yr = y + r * cols, dr = dy + r * cols
            var j = 0
            while j + 16 <= cols {
                var d = load(dr + j)
                if relu {
                    d = d.replacing(with: 0, where: .!(load(yr + j) .> 0))
                    store(d, dr + j)
                }
                store(load(dbias + j) + d, dbias + j)
                j += 16
            }
            while j < cols {
                if relu && !(yr[j] > 0) { dr[j] = 0 }
                dbias[j] += dr[j]
                j += 1
            }
        }
    }
}
