import XCTest
@testable import NNCore

// Independent references of PyTorch's optimizers, written from the
// algorithm boxes of the PyTorch documentation, in plain Double arithmetic.

/// torch.optim.SGD (https://pytorch.org/docs/stable/generated/torch.optim.SGD.html),
/// dampening τ = 0, maximize = False:
///
///     g_t ← ∇θ f_t(θ_{t−1})
///     if λ ≠ 0:  g_t ← g_t + λ θ_{t−1}
///     if μ ≠ 0:
///         if t > 1:  b_t ← μ b_{t−1} + (1 − τ) g_t
///         else:      b_t ← g_t
///         if nesterov:  g_t ← g_t + μ b_t
///         else:         g_t ← b_t
///     θ_t ← θ_{t−1} − γ g_t
struct TorchSGD {
    var lr: Double, momentum = 0.0, nesterov = false, weightDecay = 0.0
    var buffer: [Double]? = nil

    mutating func step(_ theta: inout [Double], _ grad: [Double]) {
        var g = grad
        if weightDecay != 0 { for i in g.indices { g[i] += weightDecay * theta[i] } }
        if momentum != 0 {
            var b: [Double]
            if let previous = buffer {
                b = previous
                for i in b.indices { b[i] = momentum * b[i] + g[i] }
            } else {
                b = g
            }
            buffer = b
            if nesterov { for i in g.indices { g[i] += momentum * b[i] } } else { g = b }
        }
        for i in theta.indices { theta[i] -= lr * g[i] }
    }
}

/// torch.optim.Adam (https://pytorch.org/docs/stable/generated/torch.optim.Adam.html),
/// amsgrad = False, maximize = False:
///
///     g_t ← ∇θ f_t(θ_{t−1})
///     if λ ≠ 0:  g_t ← g_t + λ θ_{t−1}
///     m_t ← β₁ m_{t−1} + (1 − β₁) g_t
///     v_t ← β₂ v_{t−1} + (1 − β₂) g_t²
///     m̂_t ← m_t / (1 − β₁ᵗ)
///     v̂_t ← v_t / (1 − β₂ᵗ)
///     θ_t ← θ_{t−1} − γ m̂_t / (√v̂_t + ε)
struct TorchAdam {
    var lr: Double, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.0
    var m: [Double] = [], v: [Double] = [], t = 0

    mutating func step(_ theta: inout [Double], _ grad: [Double]) {
        if m.isEmpty {
            m = [Double](repeating: 0, count: theta.count)
            v = m
        }
        t += 1
        var powerOfBeta1 = 1.0, powerOfBeta2 = 1.0
        for _ in 0..<t { powerOfBeta1 *= beta1; powerOfBeta2 *= beta2 }
        for i in theta.indices {
            var g = grad[i]
            if weightDecay != 0 { g += weightDecay * theta[i] }
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            let mHat = m[i] / (1 - powerOfBeta1)
            let vHat = v[i] / (1 - powerOfBeta2)
            theta[i] -= lr * mHat / (vHat.squareRoot() + eps)
        }
    }
}

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
        var sgd = TorchSGD(lr: options.learningRate, momentum: options.momentum, nesterov: options.nesterov,
                           weightDecay: options.weightDecay)
        var adam = TorchAdam(lr: options.learningRate, beta1: options.beta1, beta2: options.beta2,
                             eps: options.epsilon, weightDecay: options.weightDecay)
        for g in gradientSequence().prefix(steps) {
            let grad = g.map { Double(T($0)) }
            switch options.kind {
            case .sgd: sgd.step(&theta, grad)
            case .adam: adam.step(&theta, grad)
            }
        }
        return theta
    }

    let configurations: [(String, OptimizerOptions)] = [
        ("SGD", .sgd(learningRate: 0.1)),
        ("SGD + weight decay", .sgd(learningRate: 0.1, weightDecay: 0.05)),
        ("SGD + momentum", .sgd(learningRate: 0.02, momentum: 0.9)),
        ("SGD + Nesterov", .sgd(learningRate: 0.02, momentum: 0.9, nesterov: true)),
        ("SGD + Nesterov + weight decay", .sgd(learningRate: 0.02, momentum: 0.8, nesterov: true, weightDecay: 0.01)),
        ("SGD + momentum + weight decay", .sgd(learningRate: 0.03, momentum: 0.5, weightDecay: 0.1)),
        ("Adam", .adam(learningRate: 0.01)),
        ("Adam + weight decay", .adam(learningRate: 0.05, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.05)),
        ("Adam, large epsilon", .adam(learningRate: 0.1, epsilon: 0.5)),
    ]

    func testMatchesPyTorchInDouble() {
        for (name, options) in configurations {
            let got = runLibrary(options, Double.self), want = runReference(options, Double.self)
            XCTAssertTrue(want.allSatisfy { abs($0) > 0.1 }, "\(name): parameters must stay away from 0 for a relative check")
            XCTAssertGreaterThan(relativeError(want, initial).linf, 1e-3, "\(name): the parameters must move")
            for i in got.indices {
                XCTAssertLessThan(relativeDifference(got[i], want[i]), 1e-12, "\(name) parameter \(i): \(got[i]) vs \(want[i])")
            }
        }
    }

    func testMatchesPyTorchInFloat() {
        for (name, options) in configurations {
            let got = runLibrary(options, Float.self), want = runReference(options, Float.self)
            for i in got.indices {
                XCTAssertLessThan(relativeDifference(got[i], want[i]), 1e-5, "\(name) parameter \(i): \(got[i]) vs \(want[i])")
            }
        }
    }

    func testEveryStepMatches() {
        // Not only after 10 steps: after each of 1...10.
        for (name, options) in configurations {
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
        XCTAssertNil(optimizer.first)
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
        let sgd = OptimizerOptions.sgd()
        XCTAssertEqual(sgd.learningRate, 0.01)
        XCTAssertEqual(sgd.momentum, 0)
        XCTAssertFalse(sgd.nesterov)
    }

    func testValidation() {
        XCTAssertNoThrow(try OptimizerOptions.sgd(learningRate: 0.1, momentum: 0.9, nesterov: true).validate())
        XCTAssertNoThrow(try OptimizerOptions.adam().validate())
        let bad: [(OptimizerOptions, String)] = [
            (.sgd(learningRate: 0), "learning_rate"),
            (.sgd(learningRate: -1), "learning_rate"),
            (.sgd(learningRate: .nan), "learning_rate"),
            (.sgd(learningRate: .infinity), "learning_rate"),
            (.sgd(learningRate: 0.1, momentum: -0.5), "momentum"),
            (.sgd(learningRate: 0.1, nesterov: true), "nesterov"),
            (.sgd(learningRate: 0.1, weightDecay: -1), "weight_decay"),
            (.adam(beta1: 1), "beta_1"),
            (.adam(beta2: -0.1), "beta_2"),
            (.adam(epsilon: 0), "epsilon"),
        ]
        for (options, name) in bad {
            assertNNError(.invalidArgument(""), messageContains: name, try options.validate())
        }
    }
}
