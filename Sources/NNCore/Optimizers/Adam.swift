/// torch.optim.Adam: bias-corrected moment estimates, L2 weight decay added
/// to the gradient, amsgrad. State: "exp_avg", "exp_avg_sq", then
/// "max_exp_avg_sq" with amsgrad, all starting at zero.
enum Adam: OptimizerAlgorithm {
    static var defaults: OptimizerOptions { OptimizerOptions(kind: .adam, learningRate: 0.001) }

    static func validate(_ o: OptimizerOptions) throws {
        try o.requireUnit("beta_1", o.beta1)
        try o.requireUnit("beta_2", o.beta2)
        try o.requirePositive("epsilon", o.epsilon)
    }

    static func stateNames(for o: OptimizerOptions) -> [String] {
        ["exp_avg", "exp_avg_sq"] + (o.amsgrad ? ["max_exp_avg_sq"] : [])
    }

    @_specialize(where T == Float)
    static func step<T: NNFloat>(_ params: UnsafeMutablePointer<T>, _ grads: UnsafePointer<T>, count: Int,
                                 offset: Int, _ optimizer: Optimizer<T>) {
        adamStep(params, grads, count: count, offset: offset, optimizer, decoupled: false)
    }
}

/// torch.optim.AdamW: Adam with decoupled weight decay (default 0.01); the
/// same state as Adam.
enum AdamW: OptimizerAlgorithm {
    static var defaults: OptimizerOptions {
        var o = OptimizerOptions(kind: .adamw, learningRate: 0.001)
        o.weightDecay = 0.01
        return o
    }

    static func validate(_ o: OptimizerOptions) throws { try Adam.validate(o) }

    static func stateNames(for o: OptimizerOptions) -> [String] { Adam.stateNames(for: o) }

    @_specialize(where T == Float)
    static func step<T: NNFloat>(_ params: UnsafeMutablePointer<T>, _ grads: UnsafePointer<T>, count: Int,
                                 offset: Int, _ optimizer: Optimizer<T>) {
        adamStep(params, grads, count: count, offset: offset, optimizer, decoupled: true)
    }
}

/// The step of Adam (decoupled: false) and AdamW (true): the bias
/// corrections in Double, as PyTorch computes them in Python, then the
/// Float kernel of the CPU's widest registers, or `adamUpdate` for other types.
@inline(__always)
private func adamStep<T: NNFloat>(_ params: UnsafeMutablePointer<T>, _ grads: UnsafePointer<T>, count: Int,
                                  offset: Int, _ optimizer: Optimizer<T>, decoupled: Bool) {
    let o = optimizer.options, learningRate = optimizer.learningRate
    let bias1 = 1 - pow(o.beta1, optimizer.step), bias2 = 1 - pow(o.beta2, optimizer.step)
    if T.self == Float.self {
        // The same arithmetic, compiled for the CPU's widest registers.
        func f(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
            UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
        }
        CPULevel.selected.adamStep(
            f(params), UnsafeRawPointer(grads).assumingMemoryBound(to: Float.self), count,
            f(optimizer.state(0, at: offset)), f(optimizer.state(1, at: offset)), o.amsgrad ? f(optimizer.state(2, at: offset)) : nil,
            Float(learningRate / bias1), Float(bias2.squareRoot()), Float(1 - o.beta1), Float(o.beta2),
            Float(1 - o.beta2), Float(o.epsilon), decoupled ? 0 : Float(o.weightDecay),
            decoupled ? Float(1 - learningRate * o.weightDecay) : 1)
        return
    }
    adamUpdate(params, grads, count: count,
               expAvg: optimizer.state(0, at: offset), expAvgSq: optimizer.state(1, at: offset), maxExpAvgSq: o.amsgrad ? optimizer.state(2, at: offset) : nil,
               stepSize: T(learningRate / bias1), bias2Sqrt: T(bias2.squareRoot()),
               beta1Complement: T(1 - o.beta1), beta2: T(o.beta2), beta2Complement: T(1 - o.beta2),
               epsilon: T(o.epsilon),
               l2: decoupled ? 0 : T(o.weightDecay),
               decay: decoupled ? T(1 - learningRate * o.weightDecay) : 1)
}

/// torch.optim.Adam and torch.optim.AdamW, one step over n parameters, in
/// PyTorch's order of operations
/// (https://pytorch.org/docs/stable/generated/torch.optim.Adam.html,
/// https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html):
///
///     θ ← θ(1 − γλ)                      (AdamW: `decay` = 1 − γλ; Adam: 1)
///     g ← g + λθ                         (Adam: `l2` = λ; AdamW: 0)
///     m ← m + (1 − β₁)(g − m)            (= β₁m + (1 − β₁)g, torch's lerp)
///     v ← β₂v + (1 − β₂)g²
///     amsgrad:  v_max ← max(v_max, v)    (the raw v, as torch's max_exp_avg_sq)
///     θ ← θ − γ/(1 − β₁ᵗ) · m / (√v′ / √(1 − β₂ᵗ) + ε),  v′ = v_max or v
///
/// theta [n] is updated in place; grad [n] is read; expAvg, expAvgSq and
/// maxExpAvgSq (nil without amsgrad) [n] are read and overwritten.
/// stepSize = γ/(1 − β₁ᵗ) and bias2Sqrt = √(1 − β₂ᵗ) are computed by the
/// caller in Double, as PyTorch computes them in Python.
func adamUpdate<T: NNFloat>(_ theta: UnsafeMutablePointer<T>, _ grad: UnsafePointer<T>, count n: Int,
                            expAvg m: UnsafeMutablePointer<T>, expAvgSq v: UnsafeMutablePointer<T>,
                            maxExpAvgSq: UnsafeMutablePointer<T>?,
                            stepSize: T, bias2Sqrt: T, beta1Complement c1: T, beta2 b2: T, beta2Complement c2: T,
                            epsilon eps: T, l2: T, decay: T) {
    if let vmax = maxExpAvgSq {
        for i in 0..<n {
            let p = theta[i] * decay
            let g = grad[i] + l2 * p
            let mi = m[i] + c1 * (g - m[i])
            let vi = b2 * v[i] + c2 * g * g
            let top = max(vmax[i], vi)
            m[i] = mi; v[i] = vi; vmax[i] = top
            theta[i] = p - stepSize * (mi / (top.squareRoot() / bias2Sqrt + eps))
        }
    } else {
        for i in 0..<n {
            let p = theta[i] * decay
            let g = grad[i] + l2 * p
            let mi = m[i] + c1 * (g - m[i])
            let vi = b2 * v[i] + c2 * g * g
            m[i] = mi; v[i] = vi
            theta[i] = p - stepSize * (mi / (vi.squareRoot() / bias2Sqrt + eps))
        }
    }
}
