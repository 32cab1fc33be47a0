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
