/// A fully connected layer: y = activation(x · W + b), with the kernel W of
/// shape [inputs, units] (Keras's layout; PyTorch's Linear stores Wᵀ) and the
/// bias b of shape [units].
public struct Dense: Layer, Equatable {
    public var units: Int
    public var activation: Activation
    public var kernelInitializer: Initializer
    public var biasInitializer: Initializer

    public init(_ units: Int, activation: Activation = .linear,
                kernelInitializer: Initializer = .glorotUniform,
                biasInitializer: Initializer = .zeros) {
        self.units = units
        self.activation = activation
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
    }

    public var kindName: String { "Dense" }

    public func outputDim(inputDim: Int) throws -> Int {
        guard units > 0 else { throw NNError.shapeMismatch("a Dense layer needs at least 1 unit, got \(units)") }
        let (perInput, o1) = units.addingReportingOverflow(1)
        let (count, o2) = inputDim.multipliedReportingOverflow(by: perInput)
        guard !o1, !o2, count <= 1 << 34 else {
            throw NNError.outOfMemory("a Dense layer of \(inputDim) inputs and \(units) units is too large")
        }
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
    var deferActivation = false
    var parameterCount: Int { inputDim * config.units + config.units }
    var weightShapes: [[Int]] { [[inputDim, config.units], [config.units]] }

    init(_ config: Dense, inputDim: Int) {
        self.config = config
        self.inputDim = inputDim
    }

    func initialize(_ params: UnsafeMutablePointer<T>, rng: inout RandomGenerator) {
        let n = config.units
        config.kernelInitializer.fill(params, count: inputDim * n, fanIn: inputDim, fanOut: n, rng: &rng)
        config.biasInitializer.fill(params + inputDim * n, count: n, fanIn: inputDim, fanOut: n, rng: &rng)
    }

    func forward(x: UnsafePointer<T>, y: UnsafeMutablePointer<T>, rows: Int,
                 params: UnsafePointer<T>, kernels: KernelTable<T>) {
        let n = config.units
        // y = 1·b broadcast, then y += x · W, then the activation in place.
        kernels.broadcastRows(y, params + inputDim * n, rows, n)
        kernels.gemm(false, false, rows, n, inputDim, 1, x, inputDim, params, n, 1, y, n)
        if !deferActivation { kernels.activationForward(config.activation, y, rows, n) }
    }

    func backward(x: UnsafePointer<T>, y: UnsafePointer<T>,
                  dy: UnsafeMutablePointer<T>, dx: UnsafeMutablePointer<T>?,
                  rows: Int, params: UnsafePointer<T>, grads: UnsafeMutablePointer<T>,
                  kernels: KernelTable<T>) {
        let n = config.units
        // dz = dy ⊙ f'(z), in place (dy already is dz when the activation is deferred).
        if !deferActivation { kernels.activationBackward(config.activation, y, dy, rows, n) }
        // dW = xᵀ · dz [in, n];  db = Σ_rows dz;  dx = dz · Wᵀ [rows, in].
        kernels.gemm(true, false, inputDim, n, rows, 1, x, inputDim, dy, n, 0, grads, n)
        kernels.columnSums(dy, rows, n, grads + inputDim * n)
        if let dx {
            kernels.gemm(false, true, rows, inputDim, n, 1, dy, n, params, n, 0, dx, inputDim)
        }
    }
}
