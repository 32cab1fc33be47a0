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
