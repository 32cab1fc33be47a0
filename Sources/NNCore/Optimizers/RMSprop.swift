/// torch.optim.RMSprop: alpha, momentum, centered, L2 weight decay. State:
/// "square_avg", then "momentum_buffer" with momentum > 0, then "grad_avg"
/// when centered, all starting at zero.
enum RMSprop: OptimizerAlgorithm {
    static var defaults: OptimizerOptions { OptimizerOptions(kind: .rmsprop, learningRate: 0.01) }

    static func validate(_ o: OptimizerOptions) throws {
        try o.requireUnit("alpha", o.alpha)
        try o.requirePositive("epsilon", o.epsilon)
        try o.requireNonNegative("momentum", o.momentum)
    }

    static func stateNames(for o: OptimizerOptions) -> [String] {
        ["square_avg"] + (o.momentum > 0 ? ["momentum_buffer"] : []) + (o.centered ? ["grad_avg"] : [])
    }

    @_specialize(where T == Float)
    static func step<T: NNFloat>(_ params: UnsafeMutablePointer<T>, _ grads: UnsafePointer<T>, count: Int,
                                 offset: Int, _ optimizer: Optimizer<T>) {
        let o = optimizer.options
        var next = 1
        let buffer = o.momentum > 0 ? optimizer.state(next, at: offset) : nil
        if buffer != nil { next += 1 }
        let gradAvg = o.centered ? optimizer.state(next, at: offset) : nil
        rmspropUpdate(params, grads, count: count,
                      squareAvg: optimizer.state(0, at: offset), momentumBuffer: buffer, gradAvg: gradAvg,
                      lr: T(optimizer.learningRate), alpha: T(o.alpha), alphaComplement: T(1 - o.alpha),
                      epsilon: T(o.epsilon), momentum: T(o.momentum), weightDecay: T(o.weightDecay))
    }
}

/// torch.optim.RMSprop, one step over n parameters, in PyTorch's order of
/// operations (https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html):
///
///     g ← g + λθ
///     v ← αv + (1 − α)g²
///     centered:  g_avg ← g_avg + (1 − α)(g − g_avg);  d ← √(v − g_avg²) + ε
///     else:      d ← √v + ε
///     μ > 0:     b ← μb + g/d;  θ ← θ − γb
///     else:      θ ← θ − γ g/d
///
/// theta [n] is updated in place; grad [n] is read; squareAvg [n],
/// momentumBuffer [n] (nil when μ = 0) and gradAvg [n] (nil unless centered)
/// are read and overwritten. alphaComplement is 1 − α.
func rmspropUpdate<T: NNFloat>(_ theta: UnsafeMutablePointer<T>, _ grad: UnsafePointer<T>, count n: Int,
                               squareAvg v: UnsafeMutablePointer<T>, momentumBuffer: UnsafeMutablePointer<T>?,
                               gradAvg: UnsafeMutablePointer<T>?,
                               lr: T, alpha: T, alphaComplement ca: T, epsilon eps: T,
                               momentum mu: T, weightDecay wd: T) {
    // Each variant gets its own loop, so that no loop tests an option.
    switch (momentumBuffer, gradAvg) {
    case (nil, nil):
        for i in 0..<n {
            let g = grad[i] + wd * theta[i]
            let vi = alpha * v[i] + ca * g * g
            v[i] = vi
            theta[i] -= lr * (g / (vi.squareRoot() + eps))
        }
    case let (b?, nil):
        for i in 0..<n {
            let g = grad[i] + wd * theta[i]
            let vi = alpha * v[i] + ca * g * g
            v[i] = vi
            let bi = mu * b[i] + g / (vi.squareRoot() + eps)
            b[i] = bi
            theta[i] -= lr * bi
        }
    case let (nil, a?):
        for i in 0..<n {
            let g = grad[i] + wd * theta[i]
            let vi = alpha * v[i] + ca * g * g
            let ai = a[i] + ca * (g - a[i])
            v[i] = vi; a[i] = ai
            theta[i] -= lr * (g / ((vi - ai * ai).squareRoot() + eps))
        }
    case let (b?, a?):
        for i in 0..<n {
            let g = grad[i] + wd * theta[i]
            let vi = alpha * v[i] + ca * g * g
            let ai = a[i] + ca * (g - a[i])
            v[i] = vi; a[i] = ai
            let bi = mu * b[i] + g / ((vi - ai * ai).squareRoot() + eps)
            b[i] = bi
            theta[i] -= lr * bi
        }
    }
}
