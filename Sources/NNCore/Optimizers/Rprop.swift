/// torch.optim.Rprop (FANN's default training algorithm): per-parameter
/// steps from gradient signs; no weight decay. State: "prev" (starts at 0)
/// and "step_size" (starts at the learning rate).
enum Rprop: OptimizerAlgorithm {
    static var defaults: OptimizerOptions { OptimizerOptions(kind: .rprop, learningRate: 0.01) }

    static func validate(_ o: OptimizerOptions) throws {
        guard o.weightDecay == 0 else {
            throw NNError.invalidArgument("rprop: weight_decay is not supported (PyTorch's Rprop has none), got \(o.weightDecay)")
        }
        guard o.etaMinus > 0, o.etaMinus < 1 else { throw o.invalid("eta_minus", o.etaMinus, "in (0, 1)") }
        guard o.etaPlus.isFinite, o.etaPlus > 1 else { throw o.invalid("eta_plus", o.etaPlus, "a finite number > 1") }
        try o.requirePositive("step_size_min", o.stepSizeMin)
        guard o.stepSizeMax.isFinite, o.stepSizeMax >= o.stepSizeMin else {
            throw o.invalid("step_size_max", o.stepSizeMax, "finite and >= step_size_min (\(o.stepSizeMin))")
        }
    }

    static func stateNames(for o: OptimizerOptions) -> [String] { ["prev", "step_size"] }

    /// "step_size" starts at the learning rate current when the state is made
    /// (PyTorch reads lr once, as the initial step of every parameter).
    static func initializeState<T: NNFloat>(_ buffers: [UnsafeMutablePointer<T>], count: Int,
                                            options: OptimizerOptions, learningRate: Double) {
        buffers[1].update(repeating: T(learningRate), count: count)
    }

    @_specialize(where T == Float)
    static func step<T: NNFloat>(_ params: UnsafeMutablePointer<T>, _ grads: UnsafePointer<T>, count: Int,
                                 offset: Int, _ optimizer: Optimizer<T>) {
        let o = optimizer.options
        rpropUpdate(params, grads, count: count, prev: optimizer.state(0, at: offset), stepSize: optimizer.state(1, at: offset),
                    etaMinus: T(o.etaMinus), etaPlus: T(o.etaPlus),
                    stepSizeMin: T(o.stepSizeMin), stepSizeMax: T(o.stepSizeMax))
    }
}

/// torch.optim.Rprop, one step over n parameters, as PyTorch's
/// implementation does it
/// (https://pytorch.org/docs/stable/generated/torch.optim.Rprop.html):
///
///     s ← sign(g · prev)
///     s > 0:  η ← η · η₊
///     s < 0:  η ← η · η₋,  g ← 0
///     η ← clamp(η, Γ_min, Γ_max)        (every step, whatever s is)
///     θ ← θ − sign(g) · η
///     prev ← g                          (the zeroed g where s < 0)
///
/// The documented algorithm box bounds η only in the branch that moved it
/// (min(η·η₊, Γ_max), max(η·η₋, Γ_min)); torch's code clamps every step, which
/// differs only while η lies outside [Γ_min, Γ_max], i.e. when the learning
/// rate (the initial η) does: then the first step already clamps it.
/// PyTorch's Rprop has no weight decay, so `OptimizerOptions.weightDecay` is
/// not used here.
///
/// theta [n] is updated in place; grad [n] is read; prev [n] (starts at 0)
/// and stepSize [n] (starts at the learning rate) are read and overwritten.
func rpropUpdate<T: NNFloat>(_ theta: UnsafeMutablePointer<T>, _ grad: UnsafePointer<T>, count n: Int,
                             prev: UnsafeMutablePointer<T>, stepSize: UnsafeMutablePointer<T>,
                             etaMinus: T, etaPlus: T, stepSizeMin: T, stepSizeMax: T) {
    for i in 0..<n {
        let product = grad[i] * prev[i]
        let factor: T = product > 0 ? etaPlus : (product < 0 ? etaMinus : 1)
        let eta = min(max(stepSize[i] * factor, stepSizeMin), stepSizeMax)
        let g: T = product < 0 ? 0 : grad[i]
        stepSize[i] = eta
        theta[i] -= g > 0 ? eta : (g < 0 ? -eta : 0)
        prev[i] = g
    }
}
