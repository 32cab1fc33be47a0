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

    public var kindName: String { Self.kindName }

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

    public var summaryLabel: String { activation == .linear ? kindName : "\(kindName), \(activation.name)" }
    public func describe(name: String) -> String { "\(name), \(activation.name)" }
    public var hasPenalty: Bool { !(kernelRegularizer?.isZero ?? true) }
    /// torch.nn.Linear, then the activation's module unless linear.
    public var torchModuleCount: Int { activation == .linear ? 1 : 2 }
}

extension Dense: RegisteredLayer {
    static let kindName = "Dense"
    static let code: UInt32 = 1

    var configuration: [String: JSONValue] {
        var object: [String: JSONValue] = [
            "units": .integer(units), "activation": activation.json,
            "kernel_initializer": kernelInitializer.json, "bias_initializer": biasInitializer.json,
            "kernel_regularizer": .null,
        ]
        if let r = kernelRegularizer { object["kernel_regularizer"] = .object(["l1": .number(r.l1), "l2": .number(r.l2)]) }
        return object
    }

    init(configuration field: Field) throws {
        var regularizer: Regularizer? = nil
        if let r = try field.optional("kernel_regularizer") {
            regularizer = Regularizer(l1: try r.double("l1"), l2: try r.double("l2"))
            try inFile(field.path) { try regularizer!.validate() }
        }
        self.init(try field.int("units", 1...(1 << 31)), activation: try Activation(json: field.member("activation")),
                  kernelInitializer: try Initializer(json: field.member("kernel_initializer")),
                  biasInitializer: try Initializer(json: field.member("bias_initializer")),
                  kernelRegularizer: regularizer)
    }

    func weightCount(inputDim: Int) -> (Int, Bool) {
        let (kernel, o1) = inputDim.multipliedReportingOverflow(by: units)
        let (total, o2) = kernel.addingReportingOverflow(units)
        return (total, o1 || o2)
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
        weights = [WeightSpec("kernel", [inputDim, config.units], torchName: "weight", torchTransposed: true),
                   WeightSpec("bias", [config.units])]
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

    var denseStep: DenseStep? {
        config.activation.needsPreactivation ? nil
            : DenseStep(inputs: inputDim, units: config.units, activation: config.activation)
    }

    private var step: DenseStep {
        DenseStep(inputs: inputDim, units: config.units, activation: deferActivation ? .linear : config.activation)
    }

    func forward(x: UnsafePointer<T>, y: UnsafeMutablePointer<T>, rows: Int,
                 params: UnsafePointer<T>, state: UnsafeMutablePointer<T>,
                 context: inout ForwardContext, kernels: KernelTable<T>) {
        let keepZ = config.activation.needsPreactivation && !deferActivation
        if keepZ { reserve(rows: rows) }
        step.forward(kernels, x: x, z: keepZ ? preactivation.pointer : y, y: y, rows: rows, params: params)
    }

    func backward(x: UnsafePointer<T>, y: UnsafePointer<T>,
                  dy: UnsafeMutablePointer<T>, dx: UnsafeMutablePointer<T>?,
                  rows: Int, params: UnsafePointer<T>, grads: UnsafeMutablePointer<T>,
                  kernels: KernelTable<T>) {
        let z = config.activation.needsPreactivation && !deferActivation ? UnsafePointer(preactivation.pointer) : y
        step.backward(kernels, x: x, z: z, y: y, dy: dy, dx: dx, rows: rows, params: params, grads: grads)
    }

    func regularize(_ params: UnsafePointer<T>, _ grads: UnsafeMutablePointer<T>?) -> Double {
        config.kernelRegularizer?.apply(params, count: inputDim * config.units, grads: grads) ?? 0
    }
}

/// The arithmetic of one Dense layer, stated once: `DenseOperation` runs it
/// through the model's kernel table, and `Network`'s small-network path runs
/// it through `ProductionKernels` (the same Float kernels, called directly).
public struct DenseStep: Sendable {
    public let inputs: Int
    public let units: Int
    /// The activation applied (`.linear` when the loss takes the logits).
    public let activation: Activation

    /// z = x · W, then one pass: z += b, y = f(z). params: the kernel
    /// [inputs, units], then the bias [units]; z may equal y.
    @inline(__always)
    func forward<K: DenseKernels>(_ k: K, x: UnsafePointer<K.Scalar>, z: UnsafeMutablePointer<K.Scalar>,
                                  y: UnsafeMutablePointer<K.Scalar>, rows: Int, params: UnsafePointer<K.Scalar>) {
        let n = units
        k.matrixProduct(false, false, rows, n, inputs, x, inputs, params, n, z, n)
        k.addBiasActivate(activation, params + inputs * n, z, y, rows, n)
    }

    /// One pass: dz = dy ⊙ f'(z) in place (dy already is dz when the
    /// activation is linear) and db = Σ_rows dz; then dW = xᵀ · dz [in, n]
    /// and, if dx is not nil, dx = dz · Wᵀ [rows, in]. Gradients overwrite.
    @inline(__always)
    func backward<K: DenseKernels>(_ k: K, x: UnsafePointer<K.Scalar>, z: UnsafePointer<K.Scalar>,
                                   y: UnsafePointer<K.Scalar>, dy: UnsafeMutablePointer<K.Scalar>,
                                   dx: UnsafeMutablePointer<K.Scalar>?, rows: Int,
                                   params: UnsafePointer<K.Scalar>, grads: UnsafeMutablePointer<K.Scalar>) {
        let n = units
        k.activationDerivativeBiasGradient(activation, z, y, dy, grads + inputs * n, rows, n)
        k.matrixProduct(true, false, inputs, n, rows, x, inputs, UnsafePointer(dy), n, grads, n)
        if let dx {
            k.matrixProduct(false, true, rows, inputs, n, UnsafePointer(dy), n, params, n, dx, inputs)
        }
    }
}

/// The three kernels a Dense layer calls (C = op(A) · op(B), the forward
/// epilogue, the backward prologue; see `KernelTable`), so that `DenseStep`
/// can run on the model's table or on the production Float kernels directly.
protocol DenseKernels {
    associatedtype Scalar: NNFloat
    func matrixProduct(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                       _ a: UnsafePointer<Scalar>, _ lda: Int, _ b: UnsafePointer<Scalar>, _ ldb: Int,
                       _ c: UnsafeMutablePointer<Scalar>, _ ldc: Int)
    func addBiasActivate(_ f: Activation, _ bias: UnsafePointer<Scalar>, _ z: UnsafeMutablePointer<Scalar>,
                         _ y: UnsafeMutablePointer<Scalar>, _ rows: Int, _ cols: Int)
    func activationDerivativeBiasGradient(_ f: Activation, _ z: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>,
                                          _ dy: UnsafeMutablePointer<Scalar>, _ dbias: UnsafeMutablePointer<Scalar>,
                                          _ rows: Int, _ cols: Int)
}

extension KernelTable: DenseKernels {
    @inline(__always)
    func matrixProduct(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                       _ a: UnsafePointer<T>, _ lda: Int, _ b: UnsafePointer<T>, _ ldb: Int,
                       _ c: UnsafeMutablePointer<T>, _ ldc: Int) {
        gemm(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
    }

    @inline(__always)
    func addBiasActivate(_ f: Activation, _ bias: UnsafePointer<T>, _ z: UnsafeMutablePointer<T>,
                         _ y: UnsafeMutablePointer<T>, _ rows: Int, _ cols: Int) {
        biasActivation(f, bias, z, y, rows, cols)
    }

    @inline(__always)
    func activationDerivativeBiasGradient(_ f: Activation, _ z: UnsafePointer<T>, _ y: UnsafePointer<T>,
                                          _ dy: UnsafeMutablePointer<T>, _ dbias: UnsafeMutablePointer<T>,
                                          _ rows: Int, _ cols: Int) {
        activationBackwardBiasGradient(f, z, y, dy, dbias, rows, cols)
    }
}

/// The production Float kernels called directly, without the table's
/// function values (see `Network`'s small-network path).
struct ProductionKernels: DenseKernels {
    typealias Scalar = Float

    @inline(__always)
    func matrixProduct(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                       _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                       _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        FloatKernels.gemm(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
    }

    @inline(__always)
    func addBiasActivate(_ f: Activation, _ bias: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>,
                         _ y: UnsafeMutablePointer<Float>, _ rows: Int, _ cols: Int) {
        FloatKernels.biasActivation(f, bias, z, y, rows, cols)
    }

    @inline(__always)
    func activationDerivativeBiasGradient(_ f: Activation, _ z: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                                          _ dy: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>,
                                          _ rows: Int, _ cols: Int) {
        FloatKernels.activationBackwardBiasGradient(f, z, y, dy, dbias, rows, cols)
    }
}
