/// The kernel interface the core calls: one dispatch table of plain functions
/// over raw row-major buffers. Layers, losses and the trainer reach the
/// arithmetic only through a `KernelTable`, so a faster implementation (SIMD,
/// threads, another instruction set) replaces entries here and nothing else.
///
/// Shapes are given in the comments as [rows, cols], row-major. "In place"
/// kernels overwrite their input.
///
/// A class, so that handing the table to every layer call costs one
/// reference, not a copy of each function value.
public final class KernelTable<T: NNFloat>: @unchecked Sendable {
    /// C[m, n] = alpha · op(A) · op(B) + beta · C, where op(A) is [m, k]
    /// (A stored [k, m] when transA) and op(B) is [k, n] (B stored [n, k]
    /// when transB); lda, ldb, ldc are row strides. beta == 0 never reads C,
    /// and alpha == 0 never reads A or B (BLAS's convention).
    public typealias Gemm = @Sendable (
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: T, _ a: UnsafePointer<T>, _ lda: Int,
        _ b: UnsafePointer<T>, _ ldb: Int,
        _ beta: T, _ c: UnsafeMutablePointer<T>, _ ldc: Int) -> Void

    public var gemm: Gemm { didSet { isProduction = false } }
    /// Whether this is the unmodified production table (`production`), whose
    /// kernels small networks may then call directly (`Network`'s dense path).
    public private(set) var isProduction = false
    /// The epilogue of a Dense forward pass, one pass over z: z[r, :] += bias
    /// for every row, then y = f(z) (activation `f`; z may equal y).
    /// z, y [rows, cols], bias [cols].
    public var biasActivation: @Sendable (
        _ f: Activation, _ bias: UnsafePointer<T>, _ z: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>,
        _ rows: Int, _ cols: Int) -> Void { didSet { isProduction = false } }
    /// y = f(z), z and y [rows, cols]; z may equal y (in place).
    public var activationForward: @Sendable (
        _ f: Activation, _ z: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ rows: Int, _ cols: Int) -> Void { didSet { isProduction = false } }
    /// dy = dy ⊙ f'(z), in place, from the forward pass's z and y = f(z)
    /// (softmax: dz_i = y_i (dy_i − Σ_j dy_j y_j)). Only activations whose
    /// `needsPreactivation` is true read z; the others accept z == y.
    public var activationBackward: @Sendable (
        _ f: Activation, _ z: UnsafePointer<T>, _ y: UnsafePointer<T>, _ dy: UnsafeMutablePointer<T>,
        _ rows: Int, _ cols: Int) -> Void { didSet { isProduction = false } }
    /// The start of a Dense backward pass, one pass over dy: dy = dy ⊙ f'(z)
    /// in place (as `activationBackward`), and dbias[j] = Σ_r dy[r, j]
    /// (overwritten). z, y, dy [rows, cols], dbias [cols].
    public var activationBackwardBiasGradient: @Sendable (
        _ f: Activation, _ z: UnsafePointer<T>, _ y: UnsafePointer<T>, _ dy: UnsafeMutablePointer<T>,
        _ dbias: UnsafeMutablePointer<T>, _ rows: Int, _ cols: Int) -> Void { didSet { isProduction = false } }

    public init(gemm: @escaping Gemm,
                biasActivation: @escaping @Sendable (Activation, UnsafePointer<T>, UnsafeMutablePointer<T>, UnsafeMutablePointer<T>, Int, Int) -> Void,
                activationForward: @escaping @Sendable (Activation, UnsafePointer<T>, UnsafeMutablePointer<T>, Int, Int) -> Void,
                activationBackward: @escaping @Sendable (Activation, UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>, Int, Int) -> Void,
                activationBackwardBiasGradient: @escaping @Sendable (Activation, UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>, UnsafeMutablePointer<T>, Int, Int) -> Void) {
        self.gemm = gemm
        self.biasActivation = biasActivation
        self.activationForward = activationForward
        self.activationBackward = activationBackward
        self.activationBackwardBiasGradient = activationBackwardBiasGradient
    }

    /// The plain reference kernels, for any scalar type (tests run them in Double).
    public static var reference: KernelTable<T> {
        KernelTable(
            gemm: Reference.gemm,
            biasActivation: Reference.biasActivation,
            activationForward: Reference.activationForward,
            activationBackward: Reference.activationBackward,
            activationBackwardBiasGradient: Reference.activationBackwardBiasGradient)
    }
}

extension KernelTable where T == Float {
    /// The kernels production code runs: the fastest available for Float.
    public static var production: KernelTable<Float> {
        let table = KernelTable<Float>.reference
        table.gemm = ParallelGemm.gemm
        table.biasActivation = FloatKernels.biasActivation
        table.activationForward = FloatKernels.activationForward
        table.activationBackwardBiasGradient = FloatKernels.activationBackwardBiasGradient
        table.isProduction = true
        return table
    }
}
