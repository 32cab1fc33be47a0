/// A fully connected layer: y = activation(x · W + b), with the kernel W of
/// shape [inputs, units] (Keras's layout; PyTorch's Linear stores Wᵀ) and the
/// bias b of shape [units]. An optional L1/L2 penalty applies to the kernel
/// (Keras's `kernel_regularizer`).
public struct Dense: Layer, Equatable {
    public var units: Int
    public var activation: Activation
    public var kernelInitializer: Initializer
    public var biasInitializer: Initializer
    public var kernelRegularizer: Regularizer?

    public init(_ units: Int, activation: Activation = .linear,
                kernelInitializer: Initializer = .glorotUniform,
                biasInitializer: Initializer = .zeros,
                kernelRegularizer: Regularizer? = nil) {
        self.units = units
        self.activation = activation
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        self.kernelRegularizer = kernelRegularizer
    }

    public var kindName: String { "Dense" }

    public func outputDim(inputDim: Int) throws -> Int {
        guard units > 0 else { throw NNError.shapeMismatch("a Dense layer needs at least 1 unit, got \(units)") }
        let (perInput, o1) = units.addingReportingOverflow(1)
        let (count, o2) = inputDim.multipliedReportingOverflow(by: perInput)
        guard !o1, !o2, count <= 1 << 31 else {
            throw NNError.outOfMemory("a Dense layer of \(inputDim) inputs and \(units) units is too large")
        }
        try activation.validate()
        try kernelInitializer.validate()
        try biasInitializer.validate()
        try kernelRegularizer?.validate()
        return units
    }

    public func makeOperation<T: NNFloat>(inputDim: Int, scalar: T.Type) -> any LayerOperation<T> {
        DenseOperation<T>(self, inputDim: inputDim)
    }
}

/// The computation of a `Dense` layer. Parameter slice: kernel [in, out]
/// row-major, then bias [out].
final class DenseOperation<T: NNFloat>: LayerOperation {
    typealias Scalar = T
    let config: Dense
    let inputDim: Int
    var outputDim: Int { config.units }
    var activation: Activation { config.activation }
    var deferActivation = false
    let weights: [WeightSpec]
    /// Pre-activations z [rows, units], kept only for activations whose
    /// derivative needs them (gelu); otherwise the activation runs in place.
    private var preactivation = Buffer<T>(count: 0)

    init(_ config: Dense, inputDim: Int) {
        self.config = config
        self.inputDim = inputDim
        weights = [WeightSpec("kernel", [inputDim, config.units]), WeightSpec("bias", [config.units])]
    }

    func initialize(_ params: UnsafeMutablePointer<T>, _ state: UnsafeMutablePointer<T>, rng: inout RandomGenerator) {
        let n = config.units
        config.kernelInitializer.fill(params, count: inputDim * n, fanIn: inputDim, fanOut: n, rng: &rng)
        config.biasInitializer.fill(params + inputDim * n, count: n, fanIn: inputDim, fanOut: n, rng: &rng)
    }

    func reserve(rows: Int) {
        if config.activation.needsPreactivation, preactivation.count < rows * config.units {
            preactivation = Buffer(count: rows * config.units)
        }
    }

    func forward(x: UnsafePointer<T>, y: UnsafeMutablePointer<T>, rows: Int,
                 params: UnsafePointer<T>, state: UnsafeMutablePointer<T>,
                 context: inout ForwardContext, kernels: KernelTable<T>) {
        let n = config.units
        let keepZ = config.activation.needsPreactivation && !deferActivation
        if keepZ { reserve(rows: rows) }
        let z = keepZ ? preactivation.pointer : y
        // z = x · W, then one pass: z += b, y = f(z) (linear when deferred).
        kernels.gemm(false, false, rows, n, inputDim, 1, x, inputDim, params, n, 0, z, n)
        kernels.biasActivation(deferActivation ? .linear : config.activation, params + inputDim * n, z, y, rows, n)
    }

    func backward(x: UnsafePointer<T>, y: UnsafePointer<T>,
                  dy: UnsafeMutablePointer<T>, dx: UnsafeMutablePointer<T>?,
                  rows: Int, params: UnsafePointer<T>, grads: UnsafeMutablePointer<T>,
                  kernels: KernelTable<T>) {
        let n = config.units
        // One pass: dz = dy ⊙ f'(z) in place (dy already is dz when the
        // activation is deferred) and db = Σ_rows dz.
        let z = config.activation.needsPreactivation && !deferActivation ? UnsafePointer(preactivation.pointer) : y
        kernels.activationBackwardBiasGradient(deferActivation ? .linear : config.activation, z, y, dy,
                                               grads + inputDim * n, rows, n)
        // dW = xᵀ · dz [in, n];  dx = dz · Wᵀ [rows, in].
        kernels.gemm(true, false, inputDim, n, rows, 1, x, inputDim, dy, n, 0, grads, n)
        if let dx {
            kernels.gemm(false, true, rows, inputDim, n, 1, dy, n, params, n, 0, dx, inputDim)
        }
    }

    func regularize(_ params: UnsafePointer<T>, _ grads: UnsafeMutablePointer<T>?) -> Double {
        config.kernelRegularizer?.apply(params, count: inputDim * config.units, grads: grads) ?? 0
    }
}
