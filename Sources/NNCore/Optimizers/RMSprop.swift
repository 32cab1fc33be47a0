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
