import XCTest
@testable import NNCore

/// First steps of each update rule worked out by hand from PyTorch's
/// formulas (see the `Torch*` references in OptimizerTests.swift), so that a
/// mistake shared by the library and the reference would still show.
final class OptimizerHandWorkedTests: XCTestCase {
    /// Runs `Optimizer<Double>` over `gradients` (one array per step) from
    /// `start` and returns θ after each step and the optimizer.
    func run(_ options: OptimizerOptions, from start: [Double], _ gradients: [[Double]])
        -> (thetas: [[Double]], optimizer: Optimizer<Double>) {
        let optimizer = Optimizer<Double>(options)
        let params = Buffer<Double>(start)
        var thetas: [[Double]] = []
        for g in gradients {
            let grad = Buffer<Double>(g)
            optimizer.update(params.pointer, grad.pointer, count: params.count)
            keepAlive(grad)
            thetas.append(params.array)
        }
        return (thetas, optimizer)
    }

    func assertClose(_ got: [Double], _ want: [Double], _ accuracy: Double = 1e-15, _ message: String = "",
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, message, file: file, line: line)
        for (g, w) in zip(got, want) {
            XCTAssertEqual(g, w, accuracy: accuracy, "\(message): \(got) vs \(want)", file: file, line: line)
        }
    }

    // MARK: SGD

    func testSGDDampeningSparesTheFirstStep() {
        // θ₀ = 1, γ = 0.1, μ = 0.9, τ = 0.5, gradients 0.5 then −0.2:
        //   t=1: b₁ = g₁ = 0.5 (no dampening on the first step), θ₁ = 1 − 0.05 = 0.95
        //   t=2: b₂ = 0.9 · 0.5 + (1 − 0.5)(−0.2) = 0.35, θ₂ = 0.95 − 0.035 = 0.915
        let (thetas, optimizer) = run(.sgd(learningRate: 0.1, momentum: 0.9, dampening: 0.5), from: [1], [[0.5], [-0.2]])
        XCTAssertEqual(thetas[0][0], 0.95, accuracy: 1e-15)
        XCTAssertEqual(thetas[1][0], 0.915, accuracy: 1e-15)
        assertClose(optimizer.stateBuffer("momentum_buffer")?.array ?? [], [0.35], 1e-15)
    }

    func testSGDWithoutMomentumKeepsNoState() {
        let (thetas, optimizer) = run(.sgd(learningRate: 0.5, dampening: 0.5), from: [1, 2], [[1, -1], [1, -1]])
        // Dampening only acts on a momentum buffer: plain steps of 0.5.
        assertClose(thetas[1], [0, 3])
        XCTAssertTrue(optimizer.stateBuffers.isEmpty)
        XCTAssertEqual(optimizer.step, 2)
    }

    // MARK: Adam, AdamW

    func testAMSGradKeepsTheMaximumOfTheRawSecondMoment() {
        // β₁ = 0, β₂ = 0.5, γ = 1, ε = 1e-300, θ₀ = 0, gradients 1 then 0.5:
        //   t=1: m = 1, v = 0.5, v_max = 0.5, m̂ = 1, v̂ = 0.5 / 0.5 = 1, θ₁ = −1
        //   t=2: m = 0.5, v = 0.25 + 0.125 = 0.375, v_max = max(0.5, 0.375) = 0.5,
        //        v̂ = 0.5 / (1 − 0.25) = 2/3, θ₂ = −1 − 0.5/√(2/3) = −1.6123724356957945
        // (The maximum of the bias-corrected v̂ would give max(1, 0.5) = 1 and
        // θ₂ = −1.5; plain Adam gives −1 − 0.5/√0.5 = −1.7071067811865475.)
        var options = OptimizerOptions.adam(learningRate: 1, beta1: 0, beta2: 0.5, amsgrad: true)
        options.epsilon = 1e-300
        let (thetas, optimizer) = run(options, from: [0], [[1], [0.5]])
        XCTAssertEqual(thetas[0][0], -1, accuracy: 1e-15)
        XCTAssertEqual(thetas[1][0], -1.6123724356957945, accuracy: 1e-15)
        assertClose(optimizer.stateBuffer("max_exp_avg_sq")?.array ?? [], [0.5], 0)
        assertClose(optimizer.stateBuffer("exp_avg_sq")?.array ?? [], [0.375], 0)
        options.amsgrad = false
        XCTAssertEqual(run(options, from: [0], [[1], [0.5]]).thetas[1][0], -1.7071067811865475, accuracy: 1e-15)
    }

    func testAdamWDecaysTheWeightsApartFromTheGradient() {
        // γ = 0.1, λ = 0.5, ε = 1e-8, θ₀ = (2, 2), gradients (3, 0):
        //   θ ← θ(1 − γλ) = 1.9 for both; then m̂ = g, v̂ = g²:
        //   θ₁[0] = 1.9 − 0.1 · 3/(3 + 1e-8) = 1.8000000003333332
        //   θ₁[1] = 1.9 (zero gradient: only the decay)
        let (thetas, _) = run(.adamw(learningRate: 0.1, weightDecay: 0.5), from: [2, 2], [[3, 0]])
        assertClose(thetas[0], [1.8000000003333332, 1.9])
        // Adam's L2 instead adds λθ = 1 to the gradient: both coordinates move by ≈ γ.
        let (adam, _) = run(.adam(learningRate: 0.1, weightDecay: 0.5), from: [2, 2], [[3, 0]])
        assertClose(adam[0], [2 - 0.1 * 4 / (4 + 1e-8), 2 - 0.1 * 1 / (1 + 1e-8)])
    }

    // MARK: RMSprop

    func testRMSpropFirstStepsByHand() {
        // α = 0.99, γ = 0.01, ε = 1e-8, θ₀ = 1, g = 2:
        //   v = 0.01 · 4 = 0.04, θ₁ = 1 − 0.01 · 2/(0.2 + 1e-8) ≈ 1 − 0.1 (10γ: 1/√(1 − α) = 10)
        let (plain, _) = run(.rmsprop(learningRate: 0.01), from: [1], [[2]])
        XCTAssertEqual(plain[0][0], 1 - 0.01 * 2 / (0.2 + 1e-8), accuracy: 1e-15)
        XCTAssertEqual(plain[0][0], 0.9, accuracy: 1e-8)
        // Centered, α = 0.75, g = 2 twice:
        //   t=1: v = 0.25 · 4 = 1, g_avg = 0.5, ṽ = 1 − 0.25 = 0.75, θ₁ = 1 − 0.01 · 2/√0.75
        //   t=2: v = 0.75 + 1 = 1.75, g_avg = 0.375 + 0.5 = 0.875, ṽ = 1.75 − 0.765625 = 0.984375,
        //        θ₂ = θ₁ − 0.01 · 2/√0.984375
        var centered = OptimizerOptions.rmsprop(learningRate: 0.01, alpha: 0.75, centered: true)
        centered.epsilon = 1e-300
        let (c, cOptimizer) = run(centered, from: [1], [[2], [2]])
        let c1 = 1 - 0.01 * 2 / 0.75.squareRoot()
        XCTAssertEqual(c[0][0], c1, accuracy: 1e-15)
        XCTAssertEqual(c[1][0], c1 - 0.01 * 2 / 0.984375.squareRoot(), accuracy: 1e-15)
        assertClose(cOptimizer.stateBuffer("grad_avg")?.array ?? [], [0.875], 1e-15)
        assertClose(cOptimizer.stateBuffer("square_avg")?.array ?? [], [1.75], 1e-15)
        // Momentum μ = 0.5, α = 0.75, g = 2 twice (not centered):
        //   t=1: v = 1, b = 2/1 = 2, θ₁ = 1 − 0.02 = 0.98
        //   t=2: v = 1.75, b = 1 + 2/√1.75, θ₂ = 0.98 − 0.01 b
        var momentum = OptimizerOptions.rmsprop(learningRate: 0.01, alpha: 0.75, momentum: 0.5)
        momentum.epsilon = 1e-300
        let (m, mOptimizer) = run(momentum, from: [1], [[2], [2]])
        XCTAssertEqual(m[0][0], 0.98, accuracy: 1e-15)
        XCTAssertEqual(m[1][0], 0.98 - 0.01 * (1 + 2 / 1.75.squareRoot()), accuracy: 1e-15)
        assertClose(mOptimizer.stateBuffer("momentum_buffer")?.array ?? [], [1 + 2 / 1.75.squareRoot()], 1e-15)
        // Weight decay λ = 0.5 at θ₀ = 1 makes g = 2 + 0.5 = 2.5: v = 0.25 · 6.25, step 0.01 · 2.5/1.25 = 0.02.
        var decay = OptimizerOptions.rmsprop(learningRate: 0.01, alpha: 0.75, weightDecay: 0.5)
        decay.epsilon = 1e-300
        XCTAssertEqual(run(decay, from: [1], [[2]]).thetas[0][0], 0.98, accuracy: 1e-15)
    }

    // MARK: Adagrad

    func testAdagradFirstStepsByHand() {
        // γ = 0.1, lr_decay η = 0.5, λ = 0.2, initial accumulator τ = 0.75, ε = 1e-10, θ₀ = 2, g = 0.5 twice:
        //   t=1: γ̃ = 0.1, g = 0.5 + 0.2 · 2 = 0.9, sum = 0.75 + 0.81 = 1.56,
        //        θ₁ = 2 − 0.1 · 0.9/(√1.56 + 1e-10) = 1.92794233079348
        //   t=2: γ̃ = 0.1/(1 + 0.5) = 1/15, g = 0.5 + 0.2 θ₁, sum = 1.56 + g², θ₂ = θ₁ − γ̃ g/(√sum + ε)
        let options = OptimizerOptions.adagrad(learningRate: 0.1, lrDecay: 0.5, weightDecay: 0.2,
                                               initialAccumulatorValue: 0.75)
        let (thetas, optimizer) = run(options, from: [2], [[0.5], [0.5]])
        XCTAssertEqual(thetas[0][0], 1.92794233079348, accuracy: 1e-14)
        let theta1 = 1.92794233079348, g2 = 0.5 + 0.2 * theta1
        let sum2 = 1.56 + g2 * g2
        XCTAssertEqual(thetas[1][0], theta1 - (0.1 / 1.5) * g2 / (sum2.squareRoot() + 1e-10), accuracy: 1e-14)
        assertClose(optimizer.stateBuffer("sum")?.array ?? [], [sum2], 1e-14)
        // With τ = 0 the first step moves by γ · g/(|g| + ε) ≈ γ whatever |g| is (ε = 1e-10).
        let (plain, _) = run(.adagrad(learningRate: 0.1), from: [1, 1], [[0.001, -40]])
        assertClose(plain[0], [1 - 0.1 * 0.001 / (0.001 + 1e-10), 1 + 0.1 * 40 / (40 + 1e-10)])
        assertClose(plain[0], [0.9, 1.1], 1e-8)
    }

    func testAdagradSumStartsAtTheInitialAccumulator() {
        // A zero gradient leaves sum = τ and θ unchanged.
        let (thetas, optimizer) = run(.adagrad(learningRate: 0.1, initialAccumulatorValue: 0.3), from: [1, -1], [[0, 0]])
        assertClose(thetas[0], [1, -1], 0)
        assertClose(optimizer.stateBuffer("sum")?.array ?? [], [0.3, 0.3], 0)
    }

    // MARK: Rprop

    func testRpropFirstStepsByHand() {
        // η₀ = 0.1, η₊ = 1.5, η₋ = 0.5, step sizes in [0.04, 0.2]; three parameters:
        //   A: θ₀ = 1, g = 2, 3, −1, 4, 5, 0, 6
        //      t=1: g·prev = 0      η = 0.1     θ = 0.9     prev = 2
        //      t=2: > 0             η = 0.15    θ = 0.75    prev = 3
        //      t=3: < 0             η = 0.075   θ = 0.75    prev = 0 (g zeroed: no move)
        //      t=4: = 0             η = 0.075   θ = 0.675   prev = 4
        //      t=5: > 0             η = 0.1125  θ = 0.5625  prev = 5
        //      t=6: = 0 (g = 0)     η = 0.1125  θ = 0.5625  prev = 0
        //      t=7: = 0             η = 0.1125  θ = 0.45    prev = 6
        //   B: θ₀ = 0, g = −1, −1, −1, 1, −1, 1, −1
        //      η = 0.1, 0.15, 0.2 (capped: 0.225 > 0.2), 0.1, 0.1, 0.05, 0.05
        //      θ = 0.1, 0.25, 0.45, 0.45, 0.55, 0.55, 0.6
        //   C: θ₀ = 0, g = 1, −1, 1, −1, 1, −1, 1
        //      η = 0.1, 0.05, 0.05, 0.04 (floored: 0.025 < 0.04), 0.04, 0.04 (0.02 floored), 0.04
        //      θ = −0.1, −0.1, −0.15, −0.15, −0.19, −0.19, −0.23
        let options = OptimizerOptions.rprop(learningRate: 0.1, etaMinus: 0.5, etaPlus: 1.5,
                                             stepSizeMin: 0.04, stepSizeMax: 0.2)
        let a = [2.0, 3, -1, 4, 5, 0, 6], b = [-1.0, -1, -1, 1, -1, 1, -1], c = [1.0, -1, 1, -1, 1, -1, 1]
        let gradients = (0..<7).map { [a[$0], b[$0], c[$0]] }
        let optimizer = Optimizer<Double>(options)
        let params = Buffer<Double>([1, 0, 0])
        let wantTheta: [[Double]] = [
            [0.9, 0.1, -0.1], [0.75, 0.25, -0.1], [0.75, 0.45, -0.15], [0.675, 0.45, -0.15],
            [0.5625, 0.55, -0.19], [0.5625, 0.55, -0.19], [0.45, 0.6, -0.23],
        ]
        let wantEta: [[Double]] = [
            [0.1, 0.1, 0.1], [0.15, 0.15, 0.05], [0.075, 0.2, 0.05], [0.075, 0.1, 0.04],
            [0.1125, 0.1, 0.04], [0.1125, 0.05, 0.04], [0.1125, 0.05, 0.04],
        ]
        let wantPrev: [[Double]] = [
            [2, -1, 1], [3, -1, 0], [0, -1, 1], [4, 0, 0], [5, -1, 1], [0, 0, 0], [6, -1, 1],
        ]
        for t in 0..<7 {
            let grad = Buffer<Double>(gradients[t])
            optimizer.update(params.pointer, grad.pointer, count: 3)
            keepAlive(grad)
            assertClose(params.array, wantTheta[t], 1e-15, "θ after step \(t + 1)")
            assertClose(optimizer.stateBuffer("step_size")!.array, wantEta[t], 1e-15, "η after step \(t + 1)")
            assertClose(optimizer.stateBuffer("prev")!.array, wantPrev[t], 0, "prev after step \(t + 1)")
        }
    }

    func testRpropClampsALearningRateOutsideTheBounds() {
        // torch/optim/rprop.py: `step_size.mul_(sign).clamp_(step_size_min, step_size_max)` runs on every
        // step, the first included (where sign = 1): η₀ = 1 > Γ_max = 0.5 moves θ by 0.5,
        // η₀ = 0.001 < Γ_min = 0.01 by 0.01.
        let high = run(.rprop(learningRate: 1, stepSizeMin: 0.01, stepSizeMax: 0.5), from: [0, 0], [[1, -2]])
        assertClose(high.thetas[0], [-0.5, 0.5])
        assertClose(high.optimizer.stateBuffer("step_size")!.array, [0.5, 0.5])
        let low = run(.rprop(learningRate: 0.001, stepSizeMin: 0.01, stepSizeMax: 0.5), from: [0, 0], [[1, -2]])
        assertClose(low.thetas[0], [-0.01, 0.01])
    }

    func testRpropRejectsAndIgnoresWeightDecay() {
        // PyTorch's Rprop has no weight_decay: validation refuses it, and the
        // update rule (if handed one anyway) changes nothing.
        let gradients: [[Double]] = [[1, -1], [1, 1], [-1, 1]]
        var decayed = OptimizerOptions.rprop(learningRate: 0.1)
        decayed.weightDecay = 0.5
        XCTAssertThrowsError(try decayed.validate()) { error in
            XCTAssertTrue("\(error)".contains("weight_decay"), "\(error)")
        }
        let plain = run(.rprop(learningRate: 0.1), from: [3, -3], gradients).thetas
        XCTAssertEqual(run(decayed, from: [3, -3], gradients).thetas, plain)
        assertClose(plain[2], [3 - 0.1 - 0.12, -3 + 0.1 - 0.05])
    }
}
