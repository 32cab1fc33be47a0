// Element-wise kernels that gain from the wide registers of a level, shared
// by every kernel target like GemmDriver.swift (each target compiles its own
// copy for its own -target-cpu; the names are qualified by the module).
// The arithmetic is the reference's (NNCore/Optimizers/Adam.swift), in the
// same order, with no fused multiply-add, so every level gives the same bits.

/// torch.optim.Adam / AdamW over n Float parameters; see `adamUpdate` in
/// NNCore for the formula. maxExpAvgSq is nil without amsgrad.
public func adamStep(
    _ theta: UnsafeMutablePointer<Float>, _ grad: UnsafePointer<Float>, count n: Int,
    expAvg m: UnsafeMutablePointer<Float>, expAvgSq v: UnsafeMutablePointer<Float>,
    maxExpAvgSq: UnsafeMutablePointer<Float>?,
    stepSize: Float, bias2Sqrt: Float, beta1Complement c1: Float, beta2 b2: Float, beta2Complement c2: Float,
    epsilon eps: Float, l2: Float, decay: Float
) {
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
