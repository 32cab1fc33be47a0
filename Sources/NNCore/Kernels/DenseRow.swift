// MARK: One row of a Dense layer, fused

/// A network trained one sample at a time (XOR, online learning) spends its
/// step in the set-up of five GEMM calls and four epilogues on vectors of a
/// few elements. For one row these kernels compute the same thing in one
/// pass each, with the sums in registers — and the same bits, term by term:
///
/// - forward, z = x · W: GEMM's plain loops start each element with
///   x[0] · W[0, j] and add x[p] · W[p, j] for p = 1, 2, … in order (its
///   `scale` then `axpy`, or its narrow loop); these loops do exactly that.
///   Then z + b and f(z) as `biasActivation` (sigmoid through the same
///   `sigmoid` lanes);
/// - backward: dz = dy ⊙ f'(y) and db = 0 + dz by
///   `activationBackwardBiasGradient` itself; dW[i, :] = x[i] · dz as GEMM's
///   transposed-A `scale`; dx[i] = `dot`(dz, W[i, :]) as its transposed-B
///   loop.
///
/// Only the activations the production epilogues run in SIMD are fused
/// (forward: linear, relu, sigmoid; backward: those and tanh); for the
/// others the functions return false and the caller takes the general step.
/// `DensePathTests` checks the bits against the general path.
extension FloatKernels {
    /// y [units] = f(x [inputs] · W + b), params = W [inputs, units] then
    /// b [units]. Returns false, writing nothing, unless f is linear, relu
    /// or sigmoid.
    @inline(__always)
    static func denseRowForward(_ f: Activation, _ x: UnsafePointer<Float>, inputs: Int, units: Int,
                                _ params: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) -> Bool {
        let kind: Int
        switch f {
        case .linear: kind = 0
        case .relu: kind = 1
        case .sigmoid: kind = 2
        default: return false
        }
        guard inputs > 0 else { return false }
        let bias = params + inputs * units
        var j = 0
        while j < units {
            let width = min(8, units - j)
            var z: V8
            if width == 8 {
                z = V8(repeating: x[0]) * load8(params + j)
                for p in 1..<inputs { z = z + V8(repeating: x[p]) * load8(params + p * units + j) }
                z = z + load8(bias + j)
            } else {
                // The rest, built in registers from its sums (lanes stored
                // one by one would stall the vector's load).
                func lane(_ l: Int) -> Float {
                    guard l < width else { return 0 }
                    var s = x[0] * params[j + l]
                    for p in 1..<inputs { s += x[p] * params[p * units + j + l] }
                    return s + bias[j + l]
                }
                let low = SIMD4(lane(0), lane(1), lane(2), lane(3))
                if width <= 4 && kind == 2 {
                    // A short rest through 4 lanes (the same bits per lane).
                    let out = sigmoid(low)
                    for l in 0..<width { y[j + l] = out[l] }
                    return true
                }
                z = V8(lowHalf: low, highHalf: SIMD4(lane(4), lane(5), lane(6), lane(7)))
            }
            switch kind {
            case 1: z = z.replacing(with: 0, where: z .< 0)
            case 2: z = sigmoid(z)
            default: break
            }
            if width == 8 {
                store8(z, y + j)
            } else {
                for l in 0..<width { y[j + l] = z[l] }
            }
            j += 8
        }
        return true
    }

    /// The backward pass of `denseRowForward`'s layer for one row: dy
    /// [units] becomes dz = dy ⊙ f'(y); grads = dW [inputs, units] then db
    /// [units] (overwritten); dx [inputs] = dz · Wᵀ unless nil. Returns
    /// false, writing nothing, unless f is linear, relu, sigmoid or tanh.
    @inline(__always)
    static func denseRowBackward(_ f: Activation, _ x: UnsafePointer<Float>, inputs: Int, units: Int,
                                 _ params: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                                 _ dy: UnsafeMutablePointer<Float>, _ dx: UnsafeMutablePointer<Float>?,
                                 _ grads: UnsafeMutablePointer<Float>) -> Bool {
        guard backwardKind(f) != nil else { return false }
        // dz = dy ⊙ f'(y) in place and db = 0 + dz: the epilogue itself, on one row.
        activationBackwardBiasGradient(f, y, dy, grads + inputs * units, 1, units, stride: units)
        let dz = UnsafePointer(dy)
        if units == 1 {
            // One unit (a network's output): dW = x · dz[0], and each
            // dx[i] = dot of one term = +0 + dz[0] · W[i, 0], 8 at a time.
            let d = dz[0], dv = V8(repeating: d)
            var i = 0
            while i + 8 <= inputs {
                store8(load8(x + i) * dv, grads + i)
                if let dx { store8(V8(repeating: 0) + dv * load8(params + i), dx + i) }
                i += 8
            }
            while i < inputs {
                grads[i] = x[i] * d
                if let dx { dx[i] = 0 + d * params[i] }
                i += 1
            }
            return true
        }
        for i in 0..<inputs { scale(units, x[i], dz, grads + i * units) }
        if let dx {
            for i in 0..<inputs { dx[i] = dot(units, dz, params + i * units) }
        }
        return true
    }
}
