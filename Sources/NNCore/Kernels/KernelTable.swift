/// The kernel interface the core calls: one dispatch table of plain functions
/// over raw row-major buffers. Layers, losses and the trainer reach the
/// arithmetic only through a `KernelTable`, so a faster implementation (SIMD,
/// threads, another instruction set) replaces entries here and nothing else.
///
/// Shapes are given in the comments as [rows, cols], row-major. "In place"
/// kernels overwrite their input.
public struct KernelTable<T: NNFloat>: Sendable {
    /// C[m, n] = alpha · op(A) · op(B) + beta · C, where op(A) is [m, k]
    /// (A stored [k, m] when transA) and op(B) is [k, n] (B stored [n, k]
    /// when transB); lda, ldb, ldc are row strides. beta == 0 never reads C,
    /// and alpha == 0 never reads A or B (BLAS's convention).
    public typealias Gemm = @Sendable (
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: T, _ a: UnsafePointer<T>, _ lda: Int,
        _ b: UnsafePointer<T>, _ ldb: Int,
        _ beta: T, _ c: UnsafeMutablePointer<T>, _ ldc: Int) -> Void

    public var gemm: Gemm
    /// y[r, :] = bias[:] for every row r < rows. y is [rows, cols].
    public var broadcastRows: @Sendable (
        _ y: UnsafeMutablePointer<T>, _ bias: UnsafePointer<T>, _ rows: Int, _ cols: Int) -> Void
    /// y = f(z), z and y [rows, cols]; z may equal y (in place).
    public var activationForward: @Sendable (
        _ f: Activation, _ z: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ rows: Int, _ cols: Int) -> Void
    /// dy = dy ⊙ f'(z), in place, from the forward pass's z and y = f(z)
    /// (softmax: dz_i = y_i (dy_i − Σ_j dy_j y_j)). Only activations whose
    /// `needsPreactivation` is true read z; the others accept z == y.
    public var activationBackward: @Sendable (
        _ f: Activation, _ z: UnsafePointer<T>, _ y: UnsafePointer<T>, _ dy: UnsafeMutablePointer<T>,
        _ rows: Int, _ cols: Int) -> Void
    /// out[j] = Σ_r x[r, j] (overwrites out). x [rows, cols], out [cols].
    public var columnSums: @Sendable (
        _ x: UnsafePointer<T>, _ rows: Int, _ cols: Int, _ out: UnsafeMutablePointer<T>) -> Void

    public init(gemm: @escaping Gemm,
                broadcastRows: @escaping @Sendable (UnsafeMutablePointer<T>, UnsafePointer<T>, Int, Int) -> Void,
                activationForward: @escaping @Sendable (Activation, UnsafePointer<T>, UnsafeMutablePointer<T>, Int, Int) -> Void,
                activationBackward: @escaping @Sendable (Activation, UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>, Int, Int) -> Void,
                columnSums: @escaping @Sendable (UnsafePointer<T>, Int, Int, UnsafeMutablePointer<T>) -> Void) {
        self.gemm = gemm
        self.broadcastRows = broadcastRows
        self.activationForward = activationForward
        self.activationBackward = activationBackward
        self.columnSums = columnSums
    }

    /// The plain reference kernels, for any scalar type (tests run them in Double).
    public static var reference: KernelTable<T> {
        KernelTable(
            gemm: Reference.gemm,
            broadcastRows: Reference.broadcastRows,
            activationForward: Reference.activationForward,
            activationBackward: Reference.activationBackward,
            columnSums: Reference.columnSums)
    }
}

extension KernelTable where T == Float {
    /// The kernels production code runs: the fastest available for Float.
    public static var production: KernelTable<Float> {
        var table = KernelTable<Float>.reference
        table.gemm = ParallelGemm.gemm
        return table
    }
}
