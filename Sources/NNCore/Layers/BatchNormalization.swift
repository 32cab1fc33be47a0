/// Batch normalization with PyTorch's `BatchNorm1d` semantics:
///
/// - training: each feature is normalized with the batch's mean μ and
///   biased variance σ², x̂ = (x − μ) / √(σ² + ε), y = γ x̂ + β; the running
///   estimates move by `momentum`: r ← (1 − m) r + m μ for the mean and the
///   unbiased variance σ² · n / (n − 1) for the variance;
/// - inference: x̂ = (x − running_mean) / √(running_var + ε).
///
/// A one-row training batch normalizes to β and leaves the running
/// estimates unchanged (PyTorch refuses such a batch).
///
/// `momentum` follows PyTorch's convention (default 0.1: the weight of the
/// new batch). Keras's BatchNormalization uses the opposite convention
/// (momentum 0.99 = weight of the old estimate) and epsilon 1e-3.
/// γ starts at 1, β at 0, the running mean at 0 and the running variance at 1.
public struct BatchNormalization: Layer, Equatable {
    public var momentum: Double
    public var epsilon: Double

    public init(momentum: Double = 0.1, epsilon: Double = 1e-5) {
        self.momentum = momentum
        self.epsilon = epsilon
    }

    public var kindName: String { Self.kindName }
    public var activation: Activation { .linear }

    public func outputDim(inputDim: Int) throws -> Int {
        guard momentum.isFinite, momentum >= 0, momentum <= 1 else {
            throw NNError.invalidArgument("batch normalization momentum must be in [0, 1], got \(momentum)")
        }
        guard epsilon.isFinite, epsilon > 0 else {
            throw NNError.invalidArgument("batch normalization epsilon must be a finite number > 0, got \(epsilon)")
        }
        return inputDim
    }

    public func makeOperation<T: NNFloat>(inputDim: Int, scalar: T.Type) -> any LayerOperation<T> {
        BatchNormOperation<T>(self, dim: inputDim)
    }

    public var hasPenalty: Bool { false }
    public var torchCounters: [String] { ["num_batches_tracked"] }
}

extension BatchNormalization: RegisteredLayer {
    static let kindName = "BatchNormalization"
    static let code: UInt32 = 3
    var configuration: [String: JSONValue] { ["momentum": .number(momentum), "epsilon": .number(epsilon)] }

    init(configuration field: Field) throws {
        self.init(momentum: try field.double("momentum"), epsilon: try field.double("epsilon"))
    }

    /// γ, β, the running mean and the running variance.
    func weightCount(inputDim: Int) -> (Int, Bool) { inputDim.multipliedReportingOverflow(by: 4) }
}

/// Parameter slice: γ [dim], β [dim]. State slice: running mean [dim],
/// running variance [dim].
final class BatchNormOperation<T: NNFloat>: LayerOperation {
    typealias Scalar = T
    let config: BatchNormalization
    let inputDim: Int
    var outputDim: Int { inputDim }
    let weights: [WeightSpec]
    /// x̂ [rows, dim] of the last forward pass, and 1 / √(var + ε) [dim].
    private var normalized = Buffer<T>(count: 0)
    private var inverseStd: Buffer<T>
    /// Whether the last forward pass used batch statistics (training).
    private var usedBatchStatistics = false

    init(_ config: BatchNormalization, dim: Int) {
        self.config = config
        self.inputDim = dim
        weights = [WeightSpec("gamma", [dim], torchName: "weight"), WeightSpec("beta", [dim], torchName: "bias"),
                   WeightSpec("moving_mean", [dim], trainable: false, torchName: "running_mean"),
                   WeightSpec("moving_variance", [dim], trainable: false, torchName: "running_var")]
        inverseStd = Buffer(count: dim)
    }

    func initialize(_ params: UnsafeMutablePointer<T>, _ state: UnsafeMutablePointer<T>, rng: inout RandomGenerator) {
        params.update(repeating: 1, count: inputDim)                 // γ
        (params + inputDim).update(repeating: 0, count: inputDim)    // β
        state.update(repeating: 0, count: inputDim)                  // running mean
        (state + inputDim).update(repeating: 1, count: inputDim)     // running variance
    }

    func reserve(rows: Int) {
        if normalized.count < rows * inputDim { normalized = Buffer(count: rows * inputDim) }
    }

    func forward(x: UnsafePointer<T>, y: UnsafeMutablePointer<T>, rows: Int,
                 params: UnsafePointer<T>, state: UnsafeMutablePointer<T>,
                 context: inout ForwardContext, kernels: KernelTable<T>) {
        reserve(rows: rows)
        let d = inputDim, eps = T(config.epsilon)
        let gamma = params, beta = params + d
        let runningMean = state, runningVar = state + d
        let xhat = normalized.pointer, inv = inverseStd.pointer
        usedBatchStatistics = context.training
        for j in 0..<d {
            var mean: T, variance: T
            if context.training {
                mean = 0
                for r in 0..<rows { mean += x[r * d + j] }
                mean /= T(rows)
                variance = 0
                for r in 0..<rows { let c = x[r * d + j] - mean; variance += c * c }
                variance /= T(rows)
                // A one-row batch has no variance to estimate (PyTorch refuses
                // it); its statistics would pull the running variance to 0, so
                // they are left out of the running estimates.
                if rows > 1 {
                    let m = T(config.momentum)
                    let unbiased = variance * T(rows) / T(rows - 1)
                    runningMean[j] = (1 - m) * runningMean[j] + m * mean
                    runningVar[j] = (1 - m) * runningVar[j] + m * unbiased
                }
            } else {
                mean = runningMean[j]
                variance = runningVar[j]
            }
            inv[j] = 1 / (variance + eps).squareRoot()
            for r in 0..<rows {
                let i = r * d + j
                xhat[i] = (x[i] - mean) * inv[j]
                y[i] = gamma[j] * xhat[i] + beta[j]
            }
        }
    }

    func backward(x: UnsafePointer<T>, y: UnsafePointer<T>,
                  dy: UnsafeMutablePointer<T>, dx: UnsafeMutablePointer<T>?,
                  rows: Int, params: UnsafePointer<T>, grads: UnsafeMutablePointer<T>,
                  kernels: KernelTable<T>) {
        let d = inputDim, n = T(rows)
        let gamma = params, xhat = normalized.pointer, inv = inverseStd.pointer
        for j in 0..<d {
            var sumDy: T = 0, sumDyXhat: T = 0
            for r in 0..<rows {
                let i = r * d + j
                sumDy += dy[i]
                sumDyXhat += dy[i] * xhat[i]
            }
            grads[j] = sumDyXhat        // ∂L/∂γ
            grads[d + j] = sumDy        // ∂L/∂β
            guard let dx else { continue }
            let scale = gamma[j] * inv[j]
            if usedBatchStatistics {
                // dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂))
                for r in 0..<rows {
                    let i = r * d + j
                    dx[i] = scale * (dy[i] - sumDy / n - xhat[i] * sumDyXhat / n)
                }
            } else {
                for r in 0..<rows { dx[r * d + j] = scale * dy[r * d + j] }
            }
        }
    }
}
