/// Plain reference kernels, generic over the scalar type. They are written
/// for clarity, not speed: tests run them in Double to check gradients against
/// finite differences and to check the fast Float kernels against them.
public enum Reference {
    /// See `KernelTable.Gemm`. Textbook triple loop, accumulating in T.
    public static func gemm<T: NNFloat>(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: T, _ a: UnsafePointer<T>, _ lda: Int,
        _ b: UnsafePointer<T>, _ ldb: Int,
        _ beta: T, _ c: UnsafeMutablePointer<T>, _ ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: T = 0
                for p in 0..<k where alpha != 0 {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += av * bv
                }
                let old: T = beta == 0 ? 0 : beta * c[i * ldc + j]
                c[i * ldc + j] = alpha * sum + old
            }
        }
    }

    /// See `KernelTable.biasActivation`: each row gets the bias added, then
    /// the activation (softmax: normalized).
    public static func biasActivation<T: NNFloat>(
        _ f: Activation, _ bias: UnsafePointer<T>, _ z: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>,
        _ rows: Int, _ cols: Int
    ) {
        for r in 0..<rows {
            let zr = z + r * cols
            for j in 0..<cols { zr[j] += bias[j] }
            activationForward(f, zr, y + r * cols, 1, cols)
        }
    }

    /// y = f(z): element by element with `Activation.value`, softmax by rows.
    public static func activationForward<T: NNFloat>(
        _ f: Activation, _ z: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ rows: Int, _ cols: Int
    ) {
        let n = rows * cols
        switch f {
        case .linear:
            if UnsafePointer(y) != z { y.update(from: z, count: n) }
        case .softmax:
            if UnsafePointer(y) != z { y.update(from: z, count: n) }
            for r in 0..<rows { softmaxRow(y + r * cols, cols) }
        default:
            for i in 0..<n { y[i] = f.value(z[i]) }
        }
    }

    /// dy = dy ⊙ f'(z) in place: element by element with
    /// `Activation.backward`, softmax by rows (dz_i = y_i (dy_i − Σ_j dy_j y_j)).
    public static func activationBackward<T: NNFloat>(
        _ f: Activation, _ z: UnsafePointer<T>, _ y: UnsafePointer<T>, _ dy: UnsafeMutablePointer<T>,
        _ rows: Int, _ cols: Int
    ) {
        switch f {
        case .linear:
            break
        case .softmax:
            for r in 0..<rows {
                let yr = y + r * cols, dr = dy + r * cols
                var dot: T = 0
                for j in 0..<cols { dot += yr[j] * dr[j] }
                for j in 0..<cols { dr[j] = yr[j] * (dr[j] - dot) }
            }
        default:
            for i in 0..<rows * cols { dy[i] = f.backward(dy[i], z: z[i], y: y[i]) }
        }
    }

    /// Φ(z) = (1 + erf(z / √2)) / 2, the standard normal CDF.
    @inline(__always)
    public static func normalCDF<T: NNFloat>(_ z: T) -> T {
        T(0.5) * (1 + T.erf(z * T(0.70710678118654752440)))
    }

    /// φ(z) = e^(−z²/2) / √(2π), the standard normal density.
    @inline(__always)
    public static func normalPDF<T: NNFloat>(_ z: T) -> T {
        T.exp(-z * z / 2) * T(0.39894228040143267794)
    }

    /// See `KernelTable.activationBackwardBiasGradient`.
    public static func activationBackwardBiasGradient<T: NNFloat>(
        _ f: Activation, _ z: UnsafePointer<T>, _ y: UnsafePointer<T>, _ dy: UnsafeMutablePointer<T>,
        _ dbias: UnsafeMutablePointer<T>, _ rows: Int, _ cols: Int
    ) {
        dbias.update(repeating: 0, count: cols)
        for r in 0..<rows {
            let dr = dy + r * cols
            activationBackward(f, z + r * cols, y + r * cols, dr, 1, cols)
            for j in 0..<cols { dbias[j] += dr[j] }
        }
    }

    /// 1 / (1 + e^-z), computed without overflow for large |z|.
    @inline(__always)
    public static func sigmoid<T: NNFloat>(_ z: T) -> T {
        if z >= 0 { return 1 / (1 + T.exp(-z)) }
        let e = T.exp(z)
        return e / (1 + e)
    }

    /// Softmax of one row in place, shifted by the row's maximum so that
    /// logits of any magnitude give finite results.
    public static func softmaxRow<T: NNFloat>(_ row: UnsafeMutablePointer<T>, _ cols: Int) {
        var mx = row[0]
        for j in 1..<max(cols, 1) where row[j] > mx { mx = row[j] }
        var sum: T = 0
        for j in 0..<cols { row[j] = T.exp(row[j] - mx); sum += row[j] }
        for j in 0..<cols { row[j] /= sum }
    }
}
