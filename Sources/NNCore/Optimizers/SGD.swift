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
