/// The configuration of an optimizer: which one and its hyper-parameters.
/// Update rules and defaults are PyTorch's (`torch.optim.SGD`, `torch.optim.Adam`).
public struct OptimizerOptions: Equatable, Sendable {
    public enum Kind: String, CaseIterable, Sendable { case sgd, adam }

    public var kind: Kind
    public var learningRate: Double
    /// SGD: momentum factor (0 disables momentum).
    public var momentum: Double = 0
    /// SGD: Nesterov momentum (needs momentum > 0).
    public var nesterov: Bool = false
    /// Adam: decay rates of the first and second moment estimates.
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    /// Adam: added to the denominator for stability.
    public var epsilon: Double = 1e-8
    /// L2 penalty added to the gradient (PyTorch's `weight_decay`).
    public var weightDecay: Double = 0

    /// An optimizer of `kind` with `learningRate` and the other defaults.
    public init(kind: Kind, learningRate: Double) {
        self.kind = kind
        self.learningRate = learningRate
    }

    /// SGD; the default learning rate 0.01 is Keras's.
    public static func sgd(learningRate: Double = 0.01, momentum: Double = 0, nesterov: Bool = false,
                           weightDecay: Double = 0) -> OptimizerOptions {
        var o = OptimizerOptions(kind: .sgd, learningRate: learningRate)
        o.momentum = momentum; o.nesterov = nesterov; o.weightDecay = weightDecay
        return o
    }

    /// Adam with PyTorch's defaults.
    public static func adam(learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999,
                            epsilon: Double = 1e-8, weightDecay: Double = 0) -> OptimizerOptions {
        var o = OptimizerOptions(kind: .adam, learningRate: learningRate)
        o.beta1 = beta1; o.beta2 = beta2; o.epsilon = epsilon; o.weightDecay = weightDecay
        return o
    }

    /// Throws `invalidArgument` naming the first hyper-parameter out of range.
    public func validate() throws {
        func bad(_ name: String, _ value: Double, _ rule: String) -> NNError {
            .invalidArgument("\(kind.rawValue): \(name) must be \(rule), got \(value)")
        }
        guard learningRate.isFinite, learningRate > 0 else { throw bad("learning_rate", learningRate, "a finite number > 0") }
        guard weightDecay.isFinite, weightDecay >= 0 else { throw bad("weight_decay", weightDecay, "a finite number >= 0") }
        switch kind {
        case .sgd:
            guard momentum.isFinite, momentum >= 0 else { throw bad("momentum", momentum, "a finite number >= 0") }
            if nesterov && momentum <= 0 {
                throw NNError.invalidArgument("sgd: nesterov momentum requires momentum > 0, got \(momentum)")
            }
        case .adam:
            guard beta1 >= 0, beta1 < 1 else { throw bad("beta_1", beta1, "in [0, 1)") }
            guard beta2 >= 0, beta2 < 1 else { throw bad("beta_2", beta2, "in [0, 1)") }
            guard epsilon.isFinite, epsilon > 0 else { throw bad("epsilon", epsilon, "a finite number > 0") }
        }
    }
}

/// An optimizer with its state (moment buffers, step count) over the model's
/// flat parameter block. The state is part of the model.
final class Optimizer<T: NNFloat> {
    let options: OptimizerOptions
    /// SGD: momentum buffer; Adam: first moment.
    private(set) var first: Buffer<T>?
    /// Adam: second moment.
    private(set) var second: Buffer<T>?
    /// Number of steps taken.
    private(set) var step = 0

    init(_ options: OptimizerOptions) { self.options = options }

    /// Forgets all state (after the parameter layout changed).
    func reset() { first = nil; second = nil; step = 0 }

    /// One update of params[0..<count] with gradients grads[0..<count].
    func update(_ params: UnsafeMutablePointer<T>, _ grads: UnsafePointer<T>, count: Int) {
        step += 1
        let wd = T(options.weightDecay)
        switch options.kind {
        case .sgd:
            // torch.optim.SGD (dampening 0):
            //   g ← g + λθ;  b ← g on the first step, else b ← μb + g;
            //   g ← g + μb (Nesterov) or g ← b;  θ ← θ − γg
            let lr = T(options.learningRate), mu = T(options.momentum)
            if mu == 0 {
                for i in 0..<count { params[i] -= lr * (grads[i] + wd * params[i]) }
                return
            }
            let isFirst = first == nil
            if isFirst { first = Buffer(count: count) }
            let b = first!.pointer
            for i in 0..<count {
                let g = grads[i] + wd * params[i]
                b[i] = isFirst ? g : mu * b[i] + g
                let d = options.nesterov ? g + mu * b[i] : b[i]
                params[i] -= lr * d
            }
        case .adam:
            // torch.optim.Adam:
            //   g ← g + λθ;  m ← m + (1−β₁)(g − m);  v ← β₂v + (1−β₂)g²
            //   θ ← θ − (γ / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
            if first == nil { first = Buffer(count: count); second = Buffer(count: count) }
            let m = first!.pointer, v = second!.pointer
            let b1 = T(options.beta1), b2 = T(options.beta2), eps = T(options.epsilon)
            let bc1 = 1 - pow(options.beta1, step), bc2 = 1 - pow(options.beta2, step)
            let stepSize = T(options.learningRate / bc1)
            let bc2Sqrt = T(bc2.squareRoot())
            for i in 0..<count {
                let g = grads[i] + wd * params[i]
                m[i] += (1 - b1) * (g - m[i])
                v[i] = b2 * v[i] + (1 - b2) * g * g
                let denom = v[i].squareRoot() / bc2Sqrt + eps
                params[i] -= stepSize * m[i] / denom
            }
        }
    }
}

/// x^n for a small whole n, in Double (exact bias corrections for Adam).
@inline(__always)
func pow(_ x: Double, _ n: Int) -> Double {
    var r = 1.0, b = x, e = n
    while e > 0 {
        if e & 1 == 1 { r *= b }
        b *= b
        e >>= 1
    }
    return r
}
