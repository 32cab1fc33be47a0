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

    /// See `KernelTable.biasActivation`. Element-wise activations add the
    /// bias and apply f in the same pass; softmax adds it, then normalizes
    /// each row.
    public static func biasActivation<T: NNFloat>(
        _ f: Activation, _ bias: UnsafePointer<T>, _ z: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>,
        _ rows: Int, _ cols: Int
    ) {
        for r in 0..<rows {
            let zr = z + r * cols, yr = y + r * cols
            switch f {
            case .linear:
                for j in 0..<cols { zr[j] += bias[j]; yr[j] = zr[j] }
            case .relu:
                for j in 0..<cols {
                    let v = zr[j] + bias[j]
                    zr[j] = v
                    yr[j] = v > 0 || v.isNaN ? v : 0
                }
            case .sigmoid:
                for j in 0..<cols { zr[j] += bias[j]; yr[j] = sigmoid(zr[j]) }
            case .tanh:
                for j in 0..<cols { zr[j] += bias[j]; yr[j] = T.tanh(zr[j]) }
            default:
                for j in 0..<cols { zr[j] += bias[j] }
                activationForward(f, zr, yr, 1, cols)
            }
        }
    }

    public static func activationForward<T: NNFloat>(
        _ f: Activation, _ z: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ rows: Int, _ cols: Int
    ) {
        let n = rows * cols
        switch f {
        case .linear:
            if UnsafePointer(y) != z { y.update(from: z, count: n) }
        case .sigmoid:
            for i in 0..<n { y[i] = sigmoid(z[i]) }
        case .tanh:
            for i in 0..<n { y[i] = T.tanh(z[i]) }
        case .relu:
            // NaN propagates (NaN > 0 is false, but NaN is kept), as PyTorch.
            for i in 0..<n { y[i] = z[i] > 0 || z[i].isNaN ? z[i] : 0 }
        case .softmax:
            if UnsafePointer(y) != z { y.update(from: z, count: n) }
            for r in 0..<rows { softmaxRow(y + r * cols, cols) }
        case .leakyRelu(let slope):
            let s = T(slope)
            for i in 0..<n { y[i] = z[i] > 0 ? z[i] : s * z[i] }
        case .elu(let alpha):
            let a = T(alpha)
            for i in 0..<n { y[i] = z[i] > 0 ? z[i] : a * (T.exp(z[i]) - 1) }
        case .gelu:
            for i in 0..<n { y[i] = z[i] * normalCDF(z[i]) }
        case .softplus:
            // log(1 + e^z) = max(z, 0) + log1p(e^−|z|), finite for any z
            for i in 0..<n { y[i] = max(z[i], 0) + T.log1p(T.exp(-abs(z[i]))) }
        case .step:
            for i in 0..<n { y[i] = z[i] > 0 ? 1 : 0 }
        }
    }

    public static func activationBackward<T: NNFloat>(
        _ f: Activation, _ z: UnsafePointer<T>, _ y: UnsafePointer<T>, _ dy: UnsafeMutablePointer<T>,
        _ rows: Int, _ cols: Int
    ) {
        let n = rows * cols
        switch f {
        case .linear:
            break
        case .sigmoid:
            for i in 0..<n { dy[i] *= y[i] * (1 - y[i]) }
        case .tanh:
            for i in 0..<n { dy[i] *= 1 - y[i] * y[i] }
        case .relu:
            for i in 0..<n where !(y[i] > 0) { dy[i] = 0 }
        case .softmax:
            for r in 0..<rows {
                let yr = y + r * cols, dr = dy + r * cols
                var dot: T = 0
                for j in 0..<cols { dot += yr[j] * dr[j] }
                for j in 0..<cols { dr[j] = yr[j] * (dr[j] - dot) }
            }
        case .leakyRelu(let slope):
            // y > 0 exactly when z > 0 (slope ≥ 0)
            let s = T(slope)
            for i in 0..<n where !(y[i] > 0) { dy[i] *= s }
        case .elu(let alpha):
            // z ≤ 0: f'(z) = α e^z = y + α
            let a = T(alpha)
            for i in 0..<n where !(y[i] > 0) { dy[i] *= y[i] + a }
        case .gelu:
            // f'(z) = Φ(z) + z φ(z)
            for i in 0..<n { dy[i] *= normalCDF(z[i]) + z[i] * normalPDF(z[i]) }
        case .softplus:
            // f'(z) = σ(z) = 1 − e^−y
            for i in 0..<n { dy[i] *= -T.expm1(-y[i]) }
        case .step:
            for i in 0..<n { dy[i] = 0 }
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
            let yr = y + r * cols, dr = dy + r * cols
            switch f {
            case .linear:
                break
            case .relu:
                for j in 0..<cols where !(yr[j] > 0) { dr[j] = 0 }
            case .sigmoid:
                for j in 0..<cols { dr[j] *= yr[j] * (1 - yr[j]) }
            case .tanh:
                for j in 0..<cols { dr[j] *= 1 - yr[j] * yr[j] }
            default:
                activationBackward(f, z + r * cols, yr, dr, 1, cols)
            }
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
