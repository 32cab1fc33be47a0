import XCTest
@testable import NNCore

/// Adamax and mish, the optimizer and the activation added to prove that a
/// new one is a local change (issue 11). Their formulas are PyTorch's:
/// torch.optim.Adamax (https://pytorch.org/docs/stable/generated/torch.optim.Adamax.html)
/// and torch.nn.Mish (https://pytorch.org/docs/stable/generated/torch.nn.Mish.html).
final class AdamaxMishTests: XCTestCase {

    // MARK: Adamax

    /// torch.optim.Adamax's algorithm, written out in Double from its
    /// documentation, independently of `adamaxUpdate`:
    ///   g ← g + λθ;  m ← β₁m + (1 − β₁)g;  u ← max(β₂u, |g| + ε);
    ///   θ ← θ − γ m / ((1 − β₁ᵗ) u)
    func torchAdamax(_ start: [Double], _ gradients: [[Double]], lr: Double, beta1: Double, beta2: Double,
                     eps: Double, weightDecay: Double) -> (thetas: [[Double]], m: [Double], u: [Double]) {
        var theta = start, m = [Double](repeating: 0, count: start.count), u = m
        var thetas: [[Double]] = []
        for (t, grad) in gradients.enumerated() {
            for i in theta.indices {
                let g = grad[i] + weightDecay * theta[i]
                m[i] = beta1 * m[i] + (1 - beta1) * g
                u[i] = max(beta2 * u[i], abs(g) + eps)
                theta[i] -= lr * m[i] / ((1 - pow(beta1, Double(t + 1))) * u[i])
            }
            thetas.append(theta)
        }
        return (thetas, m, u)
    }

    func runLibrary<T: NNFloat>(_ options: OptimizerOptions, _ start: [Double], _ gradients: [[Double]],
                                _ scalar: T.Type) -> (thetas: [[Double]], optimizer: Optimizer<T>) {
        let optimizer = Optimizer<T>(options)
        let params = Buffer<T>(start.map { T($0) })
        var thetas: [[Double]] = []
        for g in gradients {
            let grad = Buffer<T>(g.map { T($0) })
            optimizer.update(params.pointer, grad.pointer, count: params.count)
            keepAlive(grad)
            thetas.append(params.array.map { Double($0) })
        }
        return (thetas, optimizer)
    }

    let start = [1.0, -2.0, 0.5, 3.0]
    let gradients: [[Double]] = [[0.5, -2, 0.01, 0], [-0.1, 1, 0.02, -0.3], [0.3, 0.4, -0.05, 0.2],
                                 [0.2, -0.1, 0.0, 0.6], [-0.4, 0.2, 0.1, -0.2]]

    func testAdamaxDefaultsAreTorchs() {
        let o = OptimizerOptions.defaults(for: .adamax)
        XCTAssertEqual(o.kind, .adamax)
        XCTAssertEqual(o.learningRate, 0.002)
        XCTAssertEqual(o.beta1, 0.9)
        XCTAssertEqual(o.beta2, 0.999)
        XCTAssertEqual(o.epsilon, 1e-8)
        XCTAssertEqual(o.weightDecay, 0)
        XCTAssertEqual(OptimizerOptions.Kind(rawValue: "adamax"), .adamax)
        XCTAssertEqual(OptimizerOptions.Kind(code: 7), .adamax)
    }

    func testAdamaxFollowsTorchsAlgorithm() {
        for weightDecay in [0.0, 0.1] {
            var o = OptimizerOptions.defaults(for: .adamax)
            o.learningRate = 0.1
            o.weightDecay = weightDecay
            let want = torchAdamax(start, gradients, lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8,
                                   weightDecay: weightDecay)
            let (double, optimizer) = runLibrary(o, start, gradients, Double.self)
            let float = runLibrary(o, start, gradients, Float.self).thetas
            for t in gradients.indices {
                for i in start.indices {
                    XCTAssertEqual(double[t][i], want.thetas[t][i], accuracy: 1e-13 * max(1, abs(want.thetas[t][i])),
                                   "weight decay \(weightDecay), step \(t + 1), θ\(i)")
                    XCTAssertEqual(float[t][i], want.thetas[t][i], accuracy: 1e-5 * max(1, abs(want.thetas[t][i])),
                                   "Float, weight decay \(weightDecay), step \(t + 1), θ\(i)")
                }
            }
            XCTAssertEqual(optimizer.stateBuffers.map(\.name), ["exp_avg", "exp_inf"])
            for i in start.indices {
                XCTAssertEqual(optimizer.stateBuffer("exp_avg")!.array[i], want.m[i], accuracy: 1e-15)
                XCTAssertEqual(optimizer.stateBuffer("exp_inf")!.array[i], want.u[i], accuracy: 1e-15)
            }
        }
    }

    func testAdamaxFirstStepByHand() {
        // t = 1: m = (1 − β₁) g, u = |g| + ε, so θ moves by γ g / (|g| + ε):
        // by γ (the sign of g) for |g| ≫ ε, and not at all for g = 0.
        var o = OptimizerOptions.defaults(for: .adamax)
        o.learningRate = 0.1
        let (thetas, _) = runLibrary(o, start, [gradients[0]], Double.self)
        XCTAssertEqual(thetas[0][0], 1 - 0.1 * 0.5 / (0.5 + 1e-8), accuracy: 1e-15)
        XCTAssertEqual(thetas[0][1], -2 + 0.1 * 2 / (2 + 1e-8), accuracy: 1e-15)
        XCTAssertEqual(thetas[0][3], 3)
        // t = 2 for θ₁: u = max(β₂ (2 + ε), 1 + ε) keeps the old maximum.
        let (two, optimizer) = runLibrary(o, start, Array(gradients[0...1]), Double.self)
        XCTAssertEqual(optimizer.stateBuffer("exp_inf")!.array[1], 0.999 * (2 + 1e-8), accuracy: 1e-15)
        let m = 0.9 * (0.1 * -2) + 0.1 * 1
        XCTAssertEqual(two[1][1], thetas[0][1] - 0.1 / (1 - 0.81) * m / (0.999 * (2 + 1e-8)), accuracy: 1e-14)
    }

    func testAdamaxValidation() {
        for (change, field) in [({ (o: inout OptimizerOptions) in o.beta1 = 1 }, "beta_1"),
                                ({ (o: inout OptimizerOptions) in o.beta2 = -0.1 }, "beta_2"),
                                ({ (o: inout OptimizerOptions) in o.epsilon = 0 }, "epsilon"),
                                ({ (o: inout OptimizerOptions) in o.weightDecay = -1 }, "weight_decay")] {
            var o = OptimizerOptions.defaults(for: .adamax)
            change(&o)
            XCTAssertThrowsError(try o.validate()) { error in
                XCTAssertTrue("\(error)".contains(field), "\(error)")
            }
        }
        XCTAssertNoThrow(try OptimizerOptions.defaults(for: .adamax).validate())
    }

    // MARK: mish

    func mish<T: NNFloat>(_ z: [T]) -> [T] {
        let b = Buffer<T>(z)
        KernelTable<T>.reference.activationForward(.mish, b.pointer, b.pointer, 1, z.count)
        return b.array
    }

    func testMishValuesAreTorchs() {
        // torch.nn.functional.mish(x) = x * tanh(softplus(x)), in float64:
        let z = [1.0, -1.0, 2.5, -3.0, 0, -20]
        let want = [0.8650983882673103, -0.30340146137410895, 2.471392304557881, -0.1456474612756246, 0,
                    -4.122307240628762e-08]
        for (got, w) in zip(mish(z), want) { XCTAssertEqual(got, w, accuracy: 1e-15 * max(1, abs(w))) }
        // Large inputs stay finite: mish(z) → z above, → 0 below.
        XCTAssertEqual(mish([1e4, -1e4]), [1e4, -0.0])
        let far = mish([Float(100), -100])
        XCTAssertEqual(far[0], 100)
        XCTAssertTrue(far[1] <= 0 && far[1] > -1e-40, "\(far[1])")  // −100 e^−100, a subnormal Float
        let floats = mish(z.map { Float($0) })
        for (got, w) in zip(floats, want) { XCTAssertEqual(Double(got), w, accuracy: 1e-6) }
    }

    func testMishDerivative() {
        // f'(0) = tanh(log 2) = 0.6; elsewhere against a central difference.
        let z = [0.0, 1, -1, 2.5, -3]
        let zb = Buffer<Double>(z), yb = Buffer<Double>(count: z.count), dy = Buffer<Double>(z.map { _ in 1 })
        KernelTable<Double>.reference.activationForward(.mish, zb.pointer, yb.pointer, 1, z.count)
        KernelTable<Double>.reference.activationBackward(.mish, zb.pointer, yb.pointer, dy.pointer, 1, z.count)
        XCTAssertEqual(dy.array[0], 0.6, accuracy: 1e-15)
        let h = 1e-6
        for (i, v) in z.enumerated() where i > 0 {
            let numeric = (mish([v + h])[0] - mish([v - h])[0]) / (2 * h)
            XCTAssertEqual(dy.array[i], numeric, accuracy: 1e-8, "z = \(v)")
        }
        XCTAssertTrue(Activation.mish.needsPreactivation)
        XCTAssertEqual(Activation(name: "mish"), .mish)
        XCTAssertEqual(Activation(code: 10), .mish)
    }
}
