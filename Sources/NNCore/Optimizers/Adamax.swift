/// torch.optim.Adamax: Adam with the infinity norm in place of the second
/// moment; L2 weight decay added to the gradient. State: "exp_avg" and
/// "exp_inf", starting at zero. PyTorch's defaults: learning rate 0.002,
/// betas (0.9, 0.999), eps 1e-8.
enum Adamax: OptimizerAlgorithm {
    static var defaults: OptimizerOptions { OptimizerOptions(kind: .adamax, learningRate: 0.002) }

    static func validate(_ o: OptimizerOptions) throws {
        try o.requireUnit("beta_1", o.beta1)
        try o.requireUnit("beta_2", o.beta2)
        try o.requirePositive("epsilon", o.epsilon)
    }

    static func stateNames(for o: OptimizerOptions) -> [String] { ["exp_avg", "exp_inf"] }

    @_specialize(where T == Float)
    static func step<T: NNFloat>(_ params: UnsafeMutablePointer<T>, _ grads: UnsafePointer<T>, count: Int,
                                 offset: Int, _ optimizer: Optimizer<T>) {
        let o = optimizer.options
        // The bias correction in Double, as PyTorch computes it in Python.
        let clr = optimizer.learningRate / (1 - pow(o.beta1, optimizer.step))
        adamaxUpdate(params, grads, count: count, expAvg: optimizer.state(0, at: offset),
                     expInf: optimizer.state(1, at: offset), clr: T(clr), beta1Complement: T(1 - o.beta1),
                     beta2: T(o.beta2), epsilon: T(o.epsilon), weightDecay: T(o.weightDecay))
    }
}

/// torch.optim.Adamax, one step over n parameters, in PyTorch's order of
/// operations (https://pytorch.org/docs/stable/generated/torch.optim.Adamax.html):
///
///     g ← g + λθ
///     m ← m + (1 − β₁)(g − m)            (torch's lerp)
///     u ← max(β₂u, |g| + ε)
///     θ ← θ − clr · m / u,  clr = γ / (1 − β₁ᵗ)   (computed by the caller)
///
/// theta [n] is updated in place; grad [n] is read; expAvg and expInf [n]
/// are read and overwritten.
func adamaxUpdate<T: NNFloat>(_ theta: UnsafeMutablePointer<T>, _ grad: UnsafePointer<T>, count n: Int,
                              expAvg m: UnsafeMutablePointer<T>, expInf u: UnsafeMutablePointer<T>,
                              clr: T, beta1Complement c1: T, beta2 b2: T, epsilon eps: T, weightDecay wd: T) {
    for i in 0..<n {
        let g = grad[i] + wd * theta[i]
        let mi = m[i] + c1 * (g - m[i])
        let ui = max(b2 * u[i], abs(g) + eps)
        m[i] = mi; u[i] = ui
        theta[i] -= clr * (mi / ui)
    }
}
