import XCTest
@testable import NNCore

// Independent references of PyTorch's optimizers, written from the
// algorithm boxes of the PyTorch documentation (torch 2.x,
// https://pytorch.org/docs/stable/optim.html, one page per algorithm, cited
// above each type), in plain Double arithmetic on arrays. They share no code
// with NNCore: they follow the notation of the boxes (g_t, m_t, v_t, b_t, ...)
// step by step, not the fused loops of Sources/NNCore/Optimizers. The tests
// in this file and in Optimizer*Tests.swift compare `Optimizer<T>` with them.

/// One of the reference optimizers: θ_t from θ_{t−1} and g_t.
protocol ReferenceOptimizer {
    /// γ. Each step reads it (Rprop: only its first step, where it becomes
    /// the initial step size η₀), so a test can change it between steps as a
    /// learning-rate schedule does (torch: `param_group["lr"] = ...`).
    var lr: Double { get set }
    /// One step: θ ← θ_t given θ = θ_{t−1} and g = ∇f(θ_{t−1}).
    mutating func step(_ theta: inout [Double], _ grad: [Double])
    /// The state after the last step, by the keys of torch's
    /// `optimizer.state[p]` (empty before the first step).
    var state: [String: [Double]] { get }
}

/// torch.optim.SGD (https://pytorch.org/docs/stable/generated/torch.optim.SGD.html):
///
///     input: γ (lr), θ₀ (params), f(θ) (objective), λ (weight decay),
///            μ (momentum), τ (dampening), nesterov, maximize
///     for t = 1 to ... do
///         g_t ← ∇θ f_t(θ_{t−1})
///         if λ ≠ 0:  g_t ← g_t + λ θ_{t−1}
///         if μ ≠ 0:
///             if t > 1:  b_t ← μ b_{t−1} + (1 − τ) g_t
///             else:      b_t ← g_t
///             if nesterov:  g_t ← g_t + μ b_t
///             else:         g_t ← b_t
///         θ_t ← θ_{t−1} − γ g_t                    (maximize = False)
struct TorchSGD: ReferenceOptimizer {
    var lr: Double, momentum = 0.0, dampening = 0.0, nesterov = false, weightDecay = 0.0
    var b: [Double]? = nil
    var t = 0

    mutating func step(_ theta: inout [Double], _ grad: [Double]) {
        t += 1
        var g = grad
        if weightDecay != 0 { for i in g.indices { g[i] = g[i] + weightDecay * theta[i] } }
        if momentum != 0 {
            var bt = [Double](repeating: 0, count: g.count)
            for i in g.indices { bt[i] = t > 1 ? momentum * b![i] + (1 - dampening) * g[i] : g[i] }
            b = bt
            if nesterov { for i in g.indices { g[i] = g[i] + momentum * bt[i] } } else { g = bt }
        }
        for i in theta.indices { theta[i] = theta[i] - lr * g[i] }
    }

    var state: [String: [Double]] { b.map { ["momentum_buffer": $0] } ?? [:] }
}

/// torch.optim.Adam (https://pytorch.org/docs/stable/generated/torch.optim.Adam.html)
/// and torch.optim.AdamW (https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html),
/// which differ only in the weight decay line:
///
///     initialize: m₀ ← 0, v₀ ← 0, v₀^max ← 0
///     for t = 1 to ... do
///         g_t ← ∇θ f_t(θ_{t−1})
///         Adam:   if λ ≠ 0:  g_t ← g_t + λ θ_{t−1}
///         AdamW:  θ_t ← θ_{t−1} − γ λ θ_{t−1}
///         m_t ← β₁ m_{t−1} + (1 − β₁) g_t
///         v_t ← β₂ v_{t−1} + (1 − β₂) g_t²
///         m̂_t ← m_t / (1 − β₁ᵗ)
///         if amsgrad:
///             v_t^max ← max(v_{t−1}^max, v_t)
///             v̂_t ← v_t^max / (1 − β₂ᵗ)
///         else:
///             v̂_t ← v_t / (1 − β₂ᵗ)
///         θ_t ← θ_t − γ m̂_t / (√v̂_t + ε)          (θ_t = θ_{t−1} for Adam)
///
/// (Documentation of torch ≤ 2.0 wrote the maximum over the bias-corrected
/// v̂; the implementation, `torch.maximum(max_exp_avg_sqs[i], exp_avg_sq)`
/// in torch/optim/adam.py, has always kept the maximum of the raw v_t, which
/// the current box above states.)
struct TorchAdam: ReferenceOptimizer {
    var lr: Double, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.0
    var amsgrad = false, decoupled = false
    var m: [Double] = [], v: [Double] = [], vMax: [Double] = []
    var t = 0, beta1Power = 1.0, beta2Power = 1.0   // β₁ᵗ, β₂ᵗ

    mutating func step(_ theta: inout [Double], _ grad: [Double]) {
        if t == 0 {
            m = [Double](repeating: 0, count: theta.count)
            v = m
            vMax = m
        }
        t += 1
        beta1Power *= beta1
        beta2Power *= beta2
        let previous = theta
        var g = grad
        if decoupled {
            for i in theta.indices { theta[i] = previous[i] - lr * weightDecay * previous[i] }
        } else if weightDecay != 0 {
            for i in g.indices { g[i] = g[i] + weightDecay * previous[i] }
        }
        for i in theta.indices {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            let mHat = m[i] / (1 - beta1Power)
            let vHat: Double
            if amsgrad {
                vMax[i] = max(vMax[i], v[i])
                vHat = vMax[i] / (1 - beta2Power)
            } else {
                vHat = v[i] / (1 - beta2Power)
            }
            theta[i] = theta[i] - lr * mHat / (vHat.squareRoot() + eps)
        }
    }

    var state: [String: [Double]] {
        if t == 0 { return [:] }
        var s = ["exp_avg": m, "exp_avg_sq": v]
        if amsgrad { s["max_exp_avg_sq"] = vMax }
        return s
    }
}

/// torch.optim.RMSprop (https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html):
///
///     input: α (alpha), γ (lr), θ₀ (params), f(θ) (objective), λ (weight decay),
///            μ (momentum), centered, ε (epsilon)
///     initialize: v₀ ← 0 (square average), b₀ ← 0 (buffer), g₀^ave ← 0
///     for t = 1 to ... do
///         g_t ← ∇θ f_t(θ_{t−1})
///         if λ ≠ 0:  g_t ← g_t + λ θ_{t−1}
///         v_t ← α v_{t−1} + (1 − α) g_t²
///         ṽ_t ← v_t
///         if centered:
///             g_t^ave ← g_{t−1}^ave α + (1 − α) g_t
///             ṽ_t ← ṽ_t − (g_t^ave)²
///         if μ > 0:
///             b_t ← μ b_{t−1} + g_t / (√ṽ_t + ε)
///             θ_t ← θ_{t−1} − γ b_t
///         else:
///             θ_t ← θ_{t−1} − γ g_t / (√ṽ_t + ε)
struct TorchRMSprop: ReferenceOptimizer {
    var lr: Double, alpha = 0.99, eps = 1e-8, weightDecay = 0.0, momentum = 0.0, centered = false
    var v: [Double] = [], b: [Double] = [], gAve: [Double] = []

    mutating func step(_ theta: inout [Double], _ grad: [Double]) {
        if v.isEmpty {
            v = [Double](repeating: 0, count: theta.count)
            b = v
            gAve = v
        }
        var g = grad
        if weightDecay != 0 { for i in g.indices { g[i] = g[i] + weightDecay * theta[i] } }
        for i in theta.indices {
            v[i] = alpha * v[i] + (1 - alpha) * g[i] * g[i]
            var vTilde = v[i]
            if centered {
                gAve[i] = gAve[i] * alpha + (1 - alpha) * g[i]
                vTilde = vTilde - gAve[i] * gAve[i]
            }
            if momentum > 0 {
                b[i] = momentum * b[i] + g[i] / (vTilde.squareRoot() + eps)
                theta[i] = theta[i] - lr * b[i]
            } else {
                theta[i] = theta[i] - lr * g[i] / (vTilde.squareRoot() + eps)
            }
        }
    }

    var state: [String: [Double]] {
        if v.isEmpty { return [:] }
        var s = ["square_avg": v]
        if momentum > 0 { s["momentum_buffer"] = b }
        if centered { s["grad_avg"] = gAve }
        return s
    }
}

/// torch.optim.Adagrad (https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html):
///
///     input: γ (lr), θ₀ (params), f(θ) (objective), λ (weight decay),
///            τ (initial accumulator value), η (lr decay)
///     initialize: state_sum₀ ← τ
///     for t = 1 to ... do
///         g_t ← ∇θ f_t(θ_{t−1})
///         γ̃ ← γ / (1 + (t − 1) η)
///         if λ ≠ 0:  g_t ← g_t + λ θ_{t−1}
///         state_sum_t ← state_sum_{t−1} + g_t²
///         θ_t ← θ_{t−1} − γ̃ g_t / (√state_sum_t + ε)
struct TorchAdagrad: ReferenceOptimizer {
    var lr: Double, lrDecay = 0.0, weightDecay = 0.0, initialAccumulatorValue = 0.0, eps = 1e-10
    var stateSum: [Double] = []
    var t = 0

    mutating func step(_ theta: inout [Double], _ grad: [Double]) {
        if t == 0 { stateSum = [Double](repeating: initialAccumulatorValue, count: theta.count) }
        t += 1
        let gammaTilde = lr / (1 + Double(t - 1) * lrDecay)
        var g = grad
        if weightDecay != 0 { for i in g.indices { g[i] = g[i] + weightDecay * theta[i] } }
        for i in theta.indices {
            stateSum[i] = stateSum[i] + g[i] * g[i]
            theta[i] = theta[i] - gammaTilde * g[i] / (stateSum[i].squareRoot() + eps)
        }
    }

    var state: [String: [Double]] { t == 0 ? [:] : ["sum": stateSum] }
}

/// torch.optim.Adamax (https://pytorch.org/docs/stable/generated/torch.optim.Adamax.html):
/// m ← β₁m + (1 − β₁)g, u ← max(β₂u, |g| + ε), θ ← θ − γ m / ((1 − β₁ᵗ) u),
/// g with λθ added.
struct TorchAdamax: ReferenceOptimizer {
    var lr: Double, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.0
    var m: [Double] = [], u: [Double] = []
    var t = 0

    mutating func step(_ theta: inout [Double], _ grad: [Double]) {
        if t == 0 { m = [Double](repeating: 0, count: theta.count); u = m }
        t += 1
        for i in theta.indices {
            let g = grad[i] + weightDecay * theta[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            u[i] = max(beta2 * u[i], abs(g) + eps)
            theta[i] = theta[i] - lr * m[i] / ((1 - pow(beta1, Double(t))) * u[i])
        }
    }

    var state: [String: [Double]] { t == 0 ? [:] : ["exp_avg": m, "exp_inf": u] }
}

/// torch.optim.Rprop (https://pytorch.org/docs/stable/generated/torch.optim.Rprop.html):
///
///     input: θ₀ ∈ R^d (params), f(θ) (objective), η_{+/−} (etaplus, etaminus),
///            Γ_{max/min} (step sizes)
///     initialize: g⁰_prev ← 0, η₀ ← lr (learning rate)
///     for t = 1 to ... do
///         g_t ← ∇θ f_t(θ_{t−1})
///         for i = 0, 1, ..., d − 1 do
///             if g^i_prev g^i_t > 0:
///                 η^i_t ← min(η^i_{t−1} η₊, Γ_max)
///             else if g^i_prev g^i_t < 0:
///                 η^i_t ← max(η^i_{t−1} η₋, Γ_min)
///                 g^i_t ← 0
///             else:
///                 η^i_t ← η^i_{t−1}
///         θ_t ← θ_{t−1} − η_t sign(g_t)
///         g_prev ← g_t
///
/// This box bounds η only where it moved. torch's code
/// (`step_size.mul_(sign).clamp_(step_size_min, step_size_max)` in
/// torch/optim/rprop.py) clamps every step size on every step: the same while
/// the learning rate lies in [Γ_min, Γ_max] (η then never leaves it), which
/// every comparison with this reference keeps; the other case is a
/// hand-worked test (testRpropClampsALearningRateOutsideTheBounds).
struct TorchRprop: ReferenceOptimizer {
    var lr: Double, etaMinus = 0.5, etaPlus = 1.2, stepMin = 1e-6, stepMax = 50.0
    var gPrev: [Double] = [], eta: [Double] = []
    /// Counts of the branches taken (for the tests that check what a problem exercises).
    var increases = 0, decreases = 0, cappedAtMax = 0, flooredAtMin = 0

    mutating func step(_ theta: inout [Double], _ grad: [Double]) {
        if eta.isEmpty {
            gPrev = [Double](repeating: 0, count: theta.count)
            eta = [Double](repeating: lr, count: theta.count)
        }
        var g = grad
        for i in 0..<theta.count {
            if gPrev[i] * g[i] > 0 {
                increases += 1
                if eta[i] * etaPlus >= stepMax { cappedAtMax += 1 }
                eta[i] = min(eta[i] * etaPlus, stepMax)
            } else if gPrev[i] * g[i] < 0 {
                decreases += 1
                if eta[i] * etaMinus <= stepMin { flooredAtMin += 1 }
                eta[i] = max(eta[i] * etaMinus, stepMin)
                g[i] = 0
            }
        }
        for i in theta.indices {
            let sign: Double = g[i] > 0 ? 1 : (g[i] < 0 ? -1 : 0)
            theta[i] = theta[i] - eta[i] * sign
        }
        gPrev = g
    }

    var state: [String: [Double]] { eta.isEmpty ? [:] : ["prev": gPrev, "step_size": eta] }
}

/// The reference for `options`, with the same hyper-parameters.
func referenceOptimizer(_ o: OptimizerOptions) -> any ReferenceOptimizer {
    switch o.kind {
    case .sgd:
        return TorchSGD(lr: o.learningRate, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov,
                        weightDecay: o.weightDecay)
    case .adam, .adamw:
        return TorchAdam(lr: o.learningRate, beta1: o.beta1, beta2: o.beta2, eps: o.epsilon, weightDecay: o.weightDecay,
                         amsgrad: o.amsgrad, decoupled: o.kind == .adamw)
    case .rmsprop:
        return TorchRMSprop(lr: o.learningRate, alpha: o.alpha, eps: o.epsilon, weightDecay: o.weightDecay,
                            momentum: o.momentum, centered: o.centered)
    case .adagrad:
        return TorchAdagrad(lr: o.learningRate, lrDecay: o.lrDecay, weightDecay: o.weightDecay,
                            initialAccumulatorValue: o.initialAccumulatorValue, eps: o.epsilon)
    case .rprop:
        return TorchRprop(lr: o.learningRate, etaMinus: o.etaMinus, etaPlus: o.etaPlus,
                          stepMin: o.stepSizeMin, stepMax: o.stepSizeMax)
    case .adamax:
        return TorchAdamax(lr: o.learningRate, beta1: o.beta1, beta2: o.beta2, eps: o.epsilon,
                           weightDecay: o.weightDecay)
    }
}

/// One configuration of every case the acceptance criterion names.
let optimizerConfigurations: [(name: String, options: OptimizerOptions)] = {
    var rmspropAll = OptimizerOptions.rmsprop(learningRate: 0.005, alpha: 0.95, weightDecay: 0.1, momentum: 0.5,
                                              centered: true)
    rmspropAll.epsilon = 1e-6
    return [
        ("SGD", .sgd(learningRate: 0.1)),
        ("SGD + weight decay", .sgd(learningRate: 0.1, weightDecay: 0.05)),
        ("SGD + momentum", .sgd(learningRate: 0.05, momentum: 0.9)),
        ("SGD + momentum + dampening + weight decay",
         .sgd(learningRate: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.02)),
        ("SGD + Nesterov + weight decay", .sgd(learningRate: 0.05, momentum: 0.7, nesterov: true, weightDecay: 0.01)),
        ("Adam", .adam(learningRate: 0.1)),
        ("Adam + weight decay", .adam(learningRate: 0.1, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.05)),
        ("Adam + amsgrad", .adam(learningRate: 0.1, amsgrad: true)),
        ("Adam + amsgrad + weight decay", .adam(learningRate: 0.05, beta2: 0.9, weightDecay: 0.1, amsgrad: true)),
        ("AdamW", .adamw(learningRate: 0.1, weightDecay: 0.1)),
        ("AdamW + amsgrad", .adamw(learningRate: 0.1, beta1: 0.8, beta2: 0.9, weightDecay: 0.1, amsgrad: true)),
        ("RMSprop", .rmsprop(learningRate: 0.01)),
        ("RMSprop + momentum", .rmsprop(learningRate: 0.01, momentum: 0.8)),
        ("RMSprop + centered", .rmsprop(learningRate: 0.01, alpha: 0.9, centered: true)),
        ("RMSprop + weight decay", .rmsprop(learningRate: 0.02, weightDecay: 0.2)),
        ("RMSprop + centered + momentum + weight decay", rmspropAll),
        ("Adagrad", .adagrad(learningRate: 0.3)),
        ("Adagrad + lr decay", .adagrad(learningRate: 0.5, lrDecay: 0.1)),
        ("Adagrad + initial accumulator", .adagrad(learningRate: 0.5, initialAccumulatorValue: 0.5)),
        ("Adagrad + lr decay + initial accumulator + weight decay",
         .adagrad(learningRate: 0.3, lrDecay: 0.1, weightDecay: 0.05, initialAccumulatorValue: 0.5)),
        ("Rprop", .rprop(learningRate: 0.3, etaMinus: 0.5, etaPlus: 1.2, stepSizeMin: 0.1, stepSizeMax: 0.5)),
        ("Rprop, default bounds", .rprop(learningRate: 0.05, etaMinus: 0.3, etaPlus: 1.5)),
    ]
}()

final class OptimizerTests: XCTestCase {
    let initial: [Double] = [1.5, -2.5, 2.0, -1.75, 2.25, -3.0]

    /// Ten fixed gradients of mixed signs and sizes, one per step.
    func gradientSequence() -> [[Double]] {
        var rng = RandomGenerator(seed: 2024)
        return (0..<10).map { t in
            initial.indices.map { i in
                // One coordinate keeps its sign, one flips every step, the rest are random.
                if i == 0 { return 0.2 + 0.05 * Double(t) }
                if i == 1 { return t % 2 == 0 ? 0.7 : -0.6 }
                return rng.uniform(-1, 1)
            }
        }
    }

    /// Runs `Optimizer<T>` for the gradient sequence and returns the parameters.
    func runLibrary<T: NNFloat>(_ options: OptimizerOptions, _ scalar: T.Type, steps: Int = 10) -> [Double] {
        let optimizer = Optimizer<T>(options)
        let params = Buffer<T>(initial.map { T($0) })
        for g in gradientSequence().prefix(steps) {
            let grads = Buffer<T>(g.map { T($0) })
            optimizer.update(params.pointer, grads.pointer, count: params.count)
            keepAlive(grads)
        }
        XCTAssertEqual(optimizer.step, steps)
        return params.array.map { Double($0) }
    }

    /// The reference run, on the same gradients (rounded to T first, so that
    /// the Float comparison sees the same inputs).
    func runReference<T: NNFloat>(_ options: OptimizerOptions, _ scalar: T.Type, steps: Int = 10) -> [Double] {
        var theta = initial.map { Double(T($0)) }
        var reference = referenceOptimizer(options)
        for g in gradientSequence().prefix(steps) {
            reference.step(&theta, g.map { Double(T($0)) })
        }
        return theta
    }

    func testMatchesPyTorchInDouble() {
        for (name, options) in optimizerConfigurations {
            let got = runLibrary(options, Double.self), want = runReference(options, Double.self)
            XCTAssertTrue(want.allSatisfy { abs($0) > 0.1 }, "\(name): parameters must stay away from 0 for a relative check")
            XCTAssertGreaterThan(relativeError(want, initial).linf, 1e-3, "\(name): the parameters must move")
            for i in got.indices {
                XCTAssertLessThan(relativeDifference(got[i], want[i]), 1e-12, "\(name) parameter \(i): \(got[i]) vs \(want[i])")
            }
        }
    }

    func testMatchesPyTorchInFloat() {
        for (name, options) in optimizerConfigurations {
            let got = runLibrary(options, Float.self), want = runReference(options, Float.self)
            for i in got.indices {
                XCTAssertLessThan(relativeDifference(got[i], want[i]), 1e-5, "\(name) parameter \(i): \(got[i]) vs \(want[i])")
            }
        }
    }

    func testEveryStepMatches() {
        // Not only after 10 steps: after each of 1...10.
        for (name, options) in optimizerConfigurations {
            for steps in 1...10 {
                let got = runLibrary(options, Double.self, steps: steps), want = runReference(options, Double.self, steps: steps)
                XCTAssertLessThan(relativeError(got, want).linf, 1e-12, "\(name) after \(steps) steps")
            }
        }
    }

    // MARK: Hand-worked steps

    func testAdamFirstStepMovesByLearningRateTimesSign() {
        // Step 1: m̂ = g and v̂ = g², so θ₁ = θ₀ − γ g / (|g| + ε) ≈ θ₀ − γ sign(g).
        // With γ = 0.001, ε = 1e-8:
        //   g = 0.5:   θ = 1 − 0.001 · 0.5 / 0.50000001 = 0.99900000002 (to 1e-16)
        //   g = −0.25: θ = −2 + 0.001 · 0.25 / 0.25000001 = −1.99900000004
        //   g = 3:     θ = 0.5 − 0.001 · 3 / 3.00000001 = 0.49900000000333333…
        //   g = 0:     m = v = 0, θ unchanged.
        let optimizer = Optimizer<Double>(.adam(learningRate: 0.001))
        let params = Buffer<Double>([1, -2, 0.5, 4]), grads = Buffer<Double>([0.5, -0.25, 3, 0])
        optimizer.update(params.pointer, grads.pointer, count: 4)
        keepAlive(grads)
        XCTAssertEqual(params[0], 0.99900000002, accuracy: 1e-15)
        XCTAssertEqual(params[1], -1.99900000004, accuracy: 1e-15)
        XCTAssertEqual(params[2], 0.49900000000333333, accuracy: 1e-15)
        XCTAssertEqual(params[3], 4)
        for (i, start) in [1.0, -2, 0.5].enumerated() {
            XCTAssertEqual(abs(params[i] - start), 0.001, accuracy: 1e-10, "|Δθ| ≈ lr")
        }
    }

    func testAdamSecondStepByHand() {
        // β₁ = 0.5, β₂ = 0.75, ε = 0, γ = 1, θ₀ = 0, gradients 1 then 3:
        //   t=1: m = 0.5, v = 0.25, m̂ = 1, v̂ = 1, θ = −1
        //   t=2: m = 0.25 + 1.5 = 1.75, v = 0.1875 + 2.25 = 2.4375,
        //        m̂ = 1.75 / 0.75 = 7/3, v̂ = 2.4375 / 0.4375 = 39/7,
        //        θ = −1 − (7/3) / √(39/7) = −1.98854…
        var options = OptimizerOptions.adam(learningRate: 1, beta1: 0.5, beta2: 0.75)
        options.epsilon = 1e-300
        let optimizer = Optimizer<Double>(options)
        let params = Buffer<Double>([0])
        let g1 = Buffer<Double>([1])
        optimizer.update(params.pointer, g1.pointer, count: 1)
        XCTAssertEqual(params[0], -1, accuracy: 1e-15)
        let g2 = Buffer<Double>([3])
        optimizer.update(params.pointer, g2.pointer, count: 1)
        keepAlive(g1, g2)
        XCTAssertEqual(params[0], -1 - (7.0 / 3) / (39.0 / 7).squareRoot(), accuracy: 1e-15)
    }

    func testSGDStepsByHand() {
        // θ₀ = 1, γ = 0.1, λ = 0.01, gradients 0.5 then −0.2.
        // Plain:    θ₁ = 1 − 0.1 (0.5 + 0.01) = 0.949
        // Momentum μ = 0.9: b₁ = 0.51, θ₁ = 0.949;
        //   g₂ = −0.2 + 0.01 · 0.949 = −0.19051, b₂ = 0.459 − 0.19051 = 0.26849,
        //   θ₂ = 0.949 − 0.026849 = 0.922151
        // Nesterov: b₁ = 0.51, step g + μb = 0.51 + 0.459 = 0.969, θ₁ = 0.9031
        func run(_ options: OptimizerOptions, _ gradients: [Double]) -> Double {
            let optimizer = Optimizer<Double>(options)
            let params = Buffer<Double>([1])
            for g in gradients {
                let grad = Buffer<Double>([g])
                optimizer.update(params.pointer, grad.pointer, count: 1)
                keepAlive(grad)
            }
            return params[0]
        }
        XCTAssertEqual(run(.sgd(learningRate: 0.1, weightDecay: 0.01), [0.5]), 0.949, accuracy: 1e-15)
        XCTAssertEqual(run(.sgd(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01), [0.5]), 0.949, accuracy: 1e-15)
        XCTAssertEqual(run(.sgd(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01), [0.5, -0.2]), 0.922151, accuracy: 1e-15)
        XCTAssertEqual(run(.sgd(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01), [0.5]), 0.9031,
                       accuracy: 1e-15)
    }

    func testResetForgetsState() {
        let optimizer = Optimizer<Double>(.sgd(learningRate: 0.1, momentum: 0.9))
        let params = Buffer<Double>([0]), grad = Buffer<Double>([1])
        optimizer.update(params.pointer, grad.pointer, count: 1)
        optimizer.update(params.pointer, grad.pointer, count: 1)
        // Momentum: the second step moves by 0.1 · 1.9.
        XCTAssertEqual(params[0], -0.1 - 0.19, accuracy: 1e-15)
        optimizer.reset()
        XCTAssertEqual(optimizer.step, 0)
        XCTAssertTrue(optimizer.stateBuffers.isEmpty)
        optimizer.update(params.pointer, grad.pointer, count: 1)
        keepAlive(grad)
        // After reset, the first step again moves by 0.1 · 1.
        XCTAssertEqual(params[0], -0.39, accuracy: 1e-15)
    }

    // MARK: Options

    func testDefaultsArePyTorchs() {
        let adam = OptimizerOptions.adam()
        XCTAssertEqual(adam.learningRate, 0.001)
        XCTAssertEqual(adam.beta1, 0.9)
        XCTAssertEqual(adam.beta2, 0.999)
        XCTAssertEqual(adam.epsilon, 1e-8)
        XCTAssertEqual(adam.weightDecay, 0)
        XCTAssertFalse(adam.amsgrad)
        let sgd = OptimizerOptions.sgd()
        XCTAssertEqual(sgd.learningRate, 0.01)
        XCTAssertEqual(sgd.momentum, 0)
        XCTAssertEqual(sgd.dampening, 0)
        XCTAssertFalse(sgd.nesterov)
        // torch.optim.AdamW(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False)
        let adamw = OptimizerOptions.adamw()
        XCTAssertEqual(adamw.kind, .adamw)
        XCTAssertEqual(adamw.learningRate, 0.001)
        XCTAssertEqual(adamw.weightDecay, 0.01)
        XCTAssertEqual(adamw.epsilon, 1e-8)
        XCTAssertEqual(OptimizerOptions.defaults(for: .adamw), adamw)
        // torch.optim.RMSprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False)
        let rmsprop = OptimizerOptions.rmsprop()
        XCTAssertEqual(rmsprop.learningRate, 0.01)
        XCTAssertEqual(rmsprop.alpha, 0.99)
        XCTAssertEqual(rmsprop.epsilon, 1e-8)
        XCTAssertEqual(rmsprop.momentum, 0)
        XCTAssertFalse(rmsprop.centered)
        XCTAssertEqual(OptimizerOptions.defaults(for: .rmsprop), rmsprop)
        // torch.optim.Adagrad(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10)
        let adagrad = OptimizerOptions.adagrad()
        XCTAssertEqual(adagrad.learningRate, 0.01)
        XCTAssertEqual(adagrad.lrDecay, 0)
        XCTAssertEqual(adagrad.initialAccumulatorValue, 0)
        XCTAssertEqual(adagrad.epsilon, 1e-10)
        XCTAssertEqual(OptimizerOptions.defaults(for: .adagrad), adagrad)
        // torch.optim.Rprop(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50))
        let rprop = OptimizerOptions.rprop()
        XCTAssertEqual(rprop.learningRate, 0.01)
        XCTAssertEqual(rprop.etaMinus, 0.5)
        XCTAssertEqual(rprop.etaPlus, 1.2)
        XCTAssertEqual(rprop.stepSizeMin, 1e-6)
        XCTAssertEqual(rprop.stepSizeMax, 50)
        XCTAssertEqual(OptimizerOptions.defaults(for: .rprop), rprop)
    }

    func testValidation() {
        for kind in OptimizerOptions.Kind.allCases {
            XCTAssertNoThrow(try OptimizerOptions.defaults(for: kind).validate(), "\(kind) defaults")
        }
        for (name, options) in optimizerConfigurations {
            XCTAssertNoThrow(try options.validate(), name)
        }
        XCTAssertNoThrow(try OptimizerOptions.sgd(learningRate: 0.1, momentum: 0.9, nesterov: true).validate())
        func with(_ kind: OptimizerOptions.Kind, _ change: (inout OptimizerOptions) -> Void) -> OptimizerOptions {
            var o = OptimizerOptions.defaults(for: kind)
            change(&o)
            return o
        }
        let bad: [(OptimizerOptions, String)] = [
            (.sgd(learningRate: 0), "learning_rate"),
            (.sgd(learningRate: -1), "learning_rate"),
            (.sgd(learningRate: .nan), "learning_rate"),
            (.sgd(learningRate: .infinity), "learning_rate"),
            (.sgd(learningRate: 0.1, momentum: -0.5), "momentum"),
            (.sgd(learningRate: 0.1, momentum: .infinity), "momentum"),
            (.sgd(learningRate: 0.1, dampening: -0.1), "dampening"),
            (.sgd(learningRate: 0.1, nesterov: true), "nesterov"),
            (.sgd(learningRate: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true), "nesterov"),
            (.sgd(learningRate: 0.1, weightDecay: -1), "weight_decay"),
            (.adam(weightDecay: .nan), "weight_decay"),
            (.adam(beta1: 1), "beta_1"),
            (.adam(beta1: .nan), "beta_1"),
            (.adam(beta2: -0.1), "beta_2"),
            (.adam(epsilon: 0), "epsilon"),
            (.adamw(beta1: -0.5), "beta_1"),
            (.adamw(beta2: 1), "beta_2"),
            (.adamw(epsilon: -1e-8), "epsilon"),
            (.adamw(weightDecay: -0.01), "weight_decay"),
            (.rmsprop(alpha: 1), "alpha"),
            (.rmsprop(alpha: -0.1), "alpha"),
            (.rmsprop(epsilon: 0), "epsilon"),
            (.rmsprop(momentum: -1), "momentum"),
            (.rmsprop(learningRate: -0.01), "learning_rate"),
            (.adagrad(lrDecay: -0.1), "lr_decay"),
            (.adagrad(initialAccumulatorValue: -1), "initial_accumulator_value"),
            (.adagrad(epsilon: 0), "epsilon"),
            (.adagrad(weightDecay: .infinity), "weight_decay"),
            (.rprop(etaMinus: 0), "eta_minus"),
            (.rprop(etaMinus: 1), "eta_minus"),
            (.rprop(etaPlus: 1), "eta_plus"),
            (.rprop(etaPlus: .infinity), "eta_plus"),
            (.rprop(stepSizeMin: 0), "step_size_min"),
            (.rprop(stepSizeMin: 1, stepSizeMax: 0.5), "step_size_max"),
            (.rprop(stepSizeMax: .infinity), "step_size_max"),
            (with(.sgd) { $0.clipValue = 0 }, "clipvalue"),
            (with(.adam) { $0.clipNorm = -1 }, "clipnorm"),
            (with(.rprop) { $0.globalClipNorm = .nan }, "global_clipnorm"),
        ]
        for (options, name) in bad {
            assertNNError(.invalidArgument(""), messageContains: name, try options.validate())
            // The message names the optimizer too.
            assertNNError(.invalidArgument(""), messageContains: options.kind.rawValue + ":", try options.validate())
        }
    }
}
