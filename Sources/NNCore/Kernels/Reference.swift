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

    public static func broadcastRows<T: NNFloat>(
        _ y: UnsafeMutablePointer<T>, _ bias: UnsafePointer<T>, _ rows: Int, _ cols: Int
    ) {
        for r in 0..<rows { (y + r * cols).update(from: bias, count: cols) }
    }

    public static func activationForward<T: NNFloat>(
        _ f: Activation, _ y: UnsafeMutablePointer<T>, _ rows: Int, _ cols: Int
    ) {
        let n = rows * cols
        switch f {
        case .linear:
            break
        case .sigmoid:
            for i in 0..<n { y[i] = sigmoid(y[i]) }
        case .tanh:
            for i in 0..<n { y[i] = T.tanh(y[i]) }
        case .relu:
            for i in 0..<n where !(y[i] > 0) { y[i] = y[i].isNaN ? y[i] : 0 }
        case .softmax:
            for r in 0..<rows { softmaxRow(y + r * cols, cols) }
        }
    }

    public static func activationBackward<T: NNFloat>(
        _ f: Activation, _ y: UnsafePointer<T>, _ dy: UnsafeMutablePointer<T>,
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
        }
    }

    public static func columnSums<T: NNFloat>(
        _ x: UnsafePointer<T>, _ rows: Int, _ cols: Int, _ out: UnsafeMutablePointer<T>
    ) {
        out.update(repeating: 0, count: cols)
        for r in 0..<rows {
            let xr = x + r * cols
            for j in 0..<cols { out[j] += xr[j] }
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
