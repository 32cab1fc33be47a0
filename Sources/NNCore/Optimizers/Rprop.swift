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
