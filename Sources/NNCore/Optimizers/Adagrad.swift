/// torch.optim.Adagrad: lr_decay, initial accumulator, L2 weight decay
/// (default epsilon 1e-10). State: "sum", starting at
/// initial_accumulator_value.
enum Adagrad: OptimizerAlgorithm {
    static var defaults: OptimizerOptions {
        var o = OptimizerOptions(kind: .adagrad, learningRate: 0.01)
        o.epsilon = 1e-10
        return o
    }

    static func validate(_ o: OptimizerOptions) throws {
        try o.requireNonNegative("lr_decay", o.lrDecay)
        try o.requireNonNegative("initial_accumulator_value", o.initialAccumulatorValue)
        try o.requirePositive("epsilon", o.epsilon)
    }

    static func stateNames(for o: OptimizerOptions) -> [String] { ["sum"] }

    static func initializeState<T: NNFloat>(_ buffers: [UnsafeMutablePointer<T>], count: Int,
                                            options: OptimizerOptions, learningRate: Double) {
        buffers[0].update(repeating: T(options.initialAccumulatorValue), count: count)
    }

    @_specialize(where T == Float)
    static func step<T: NNFloat>(_ params: UnsafeMutablePointer<T>, _ grads: UnsafePointer<T>, count: Int,
                                 offset: Int, _ optimizer: Optimizer<T>) {
        let o = optimizer.options
        let clr = optimizer.learningRate / (1 + Double(optimizer.step - 1) * o.lrDecay)
        adagradUpdate(params, grads, count: count, sum: optimizer.state(0, at: offset),
                      clr: T(clr), epsilon: T(o.epsilon), weightDecay: T(o.weightDecay))
    }
}

/// torch.optim.Adagrad, one step over n parameters, in PyTorch's order of
/// operations (https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html):
///
///     clr ← γ / (1 + (t − 1)η)          (η: lr_decay; computed by the caller)
///     g ← g + λθ
///     sum ← sum + g²                    (sum starts at initial_accumulator_value)
///     θ ← θ − clr · g / (√sum + ε)
///
/// theta [n] is updated in place; grad [n] is read; sum [n] is read and
/// overwritten.
func adagradUpdate<T: NNFloat>(_ theta: UnsafeMutablePointer<T>, _ grad: UnsafePointer<T>, count n: Int,
                               sum: UnsafeMutablePointer<T>, clr: T, epsilon eps: T, weightDecay wd: T) {
    for i in 0..<n {
        let g = grad[i] + wd * theta[i]
        let s = sum[i] + g * g
        sum[i] = s
        theta[i] -= clr * (g / (s.squareRoot() + eps))
    }
}
