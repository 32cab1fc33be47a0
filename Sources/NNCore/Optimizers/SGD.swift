/// torch.optim.SGD: momentum, dampening, Nesterov, L2 weight decay.
/// State: "momentum_buffer" (only with momentum ≠ 0, as PyTorch keeps none
/// then), starting as the first step's gradient.
enum SGD: OptimizerAlgorithm {
    /// Learning rate 0.01 (Keras's; PyTorch's SGD has no default).
    static var defaults: OptimizerOptions { OptimizerOptions(kind: .sgd, learningRate: 0.01) }

    static func validate(_ o: OptimizerOptions) throws {
        try o.requireNonNegative("momentum", o.momentum)
        try o.requireNonNegative("dampening", o.dampening)
        if o.nesterov && (o.momentum <= 0 || o.dampening != 0) {
            throw NNError.invalidArgument(
                "sgd: nesterov momentum requires momentum > 0 and dampening 0, got momentum \(o.momentum), dampening \(o.dampening)")
        }
    }

    static func stateNames(for o: OptimizerOptions) -> [String] {
        o.momentum != 0 ? ["momentum_buffer"] : []
    }

    @_specialize(where T == Float)
    static func step<T: NNFloat>(_ params: UnsafeMutablePointer<T>, _ grads: UnsafePointer<T>, count: Int,
                                 offset: Int, _ optimizer: Optimizer<T>) {
        let o = optimizer.options
        sgdUpdate(params, grads, count: count,
                  momentumBuffer: o.momentum != 0 ? optimizer.state(0, at: offset) : nil, firstStep: optimizer.isFirstStep,
                  lr: T(optimizer.learningRate), momentum: T(o.momentum), dampeningComplement: T(1 - o.dampening),
                  nesterov: o.nesterov, weightDecay: T(o.weightDecay))
    }
}

/// torch.optim.SGD, one step over n parameters, in PyTorch's order of
/// operations (https://pytorch.org/docs/stable/generated/torch.optim.SGD.html):
///
///     g ← g + λθ
///     if μ ≠ 0:  b ← g on the first step, else b ← μb + (1 − τ)g
///                g ← g + μb (Nesterov), else g ← b
///     θ ← θ − γg
///
/// theta [n] is updated in place; grad [n] is read; momentumBuffer [n] is
/// nil when μ = 0 (PyTorch keeps no buffer then), else read and overwritten.
/// `firstStep` is true when the buffer was just made (PyTorch: it was None).
/// `dampeningComplement` is 1 − τ.
func sgdUpdate<T: NNFloat>(_ theta: UnsafeMutablePointer<T>, _ grad: UnsafePointer<T>, count n: Int,
                           momentumBuffer: UnsafeMutablePointer<T>?, firstStep: Bool,
                           lr: T, momentum mu: T, dampeningComplement keep: T,
                           nesterov: Bool, weightDecay wd: T) {
    guard let b = momentumBuffer else {
        for i in 0..<n { theta[i] -= lr * (grad[i] + wd * theta[i]) }
        return
    }
    switch (firstStep, nesterov) {
    case (true, false):
        for i in 0..<n {
            let g = grad[i] + wd * theta[i]
            b[i] = g
            theta[i] -= lr * g
        }
    case (true, true):
        for i in 0..<n {
            let g = grad[i] + wd * theta[i]
            b[i] = g
            theta[i] -= lr * (g + mu * g)
        }
    case (false, false):
        for i in 0..<n {
            let g = grad[i] + wd * theta[i]
            let m = mu * b[i] + keep * g
            b[i] = m
            theta[i] -= lr * m
        }
    case (false, true):
        for i in 0..<n {
            let g = grad[i] + wd * theta[i]
            let m = mu * b[i] + keep * g
            b[i] = m
            theta[i] -= lr * (g + mu * m)
        }
    }
}
