import XCTest
@testable import NNCore

/// Properties of activations and losses: normalization, stability for
/// extreme inputs, minima at the target.
final class PropertyTests: XCTestCase {

    /// Loss value (sum over rows) and gradient of the batch mean.
    func evaluate<T: NNFloat>(_ loss: Loss, p: [T], y: [T], rows: Int, cols: Int, logits: Bool) -> (Double, [T]) {
        var grad = [T](repeating: .nan, count: rows * cols)
        let total = loss.evaluate(predictions: p, targets: y, rows: rows, cols: cols, logits: logits,
                                  grad: &grad, divisor: T(rows))
        return (total, grad)
    }

    func activate<T: NNFloat>(_ f: Activation, _ z: [T], rows: Int, cols: Int) -> [T] {
        let b = Buffer<T>(z)
        // In place (z == y), which every activation must support.
        KernelTable<T>.reference.activationForward(f, b.pointer, b.pointer, rows, cols)
        return b.array
    }

    // MARK: Softmax

    func checkSoftmax<T: NNFloat>(_ scalar: T.Type, tolerance: T) {
        let rows: [[T]] = [
            [1e4, -1e4, 0], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4 - 1], [-1e4, 0, 1e4],
            [0.5, -0.25, 3, 2], [7], [0, 0, 0, 0, 0],
        ]
        for row in rows {
            let s = activate(.softmax, row, rows: 1, cols: row.count)
            XCTAssertTrue(s.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "\(T.self) softmax\(row) = \(s)")
            XCTAssertEqual(s.reduce(0, +), 1, accuracy: tolerance, "\(T.self) softmax\(row) = \(s)")
            // The largest logit gets the largest probability.
            XCTAssertEqual(s.firstIndex(of: s.max()!), row.firstIndex(of: row.max()!))
        }
        // Several rows at once are normalized independently.
        let batch = uniformValues(5 * 7, -30, 30, seed: 3).map { T($0) }
        let s = activate(.softmax, batch, rows: 5, cols: 7)
        for r in 0..<5 { XCTAssertEqual(s[r * 7 ..< r * 7 + 7].reduce(0, +), 1, accuracy: tolerance) }
        // Shift invariance: softmax(z + c) = softmax(z).
        let shifted = activate(.softmax, batch.map { $0 + 1000 }, rows: 5, cols: 7)
        for (u, v) in zip(s, shifted) { XCTAssertEqual(u, v, accuracy: tolerance * 100) }
        // Hand-worked: softmax(0, ln 3) = (1/4, 3/4).
        let hand = activate(.softmax, [0, T.log(3)], rows: 1, cols: 2)
        XCTAssertEqual(hand[0], 0.25, accuracy: tolerance)
        XCTAssertEqual(hand[1], 0.75, accuracy: tolerance)
    }

    func testSoftmaxRowsSumToOneAndStayFinite() {
        checkSoftmax(Double.self, tolerance: 1e-14)
        checkSoftmax(Float.self, tolerance: 1e-6)
    }

    func testSoftmaxOfExtremeLogitsIsOneHot() {
        let s = activate(.softmax, [Float(-1e4), 1e4, 0], rows: 1, cols: 3)
        XCTAssertEqual(s, [0, 1, 0])
    }

    // MARK: Sigmoid, tanh, relu

    func checkSigmoid<T: NNFloat>(_ scalar: T.Type) {
        XCTAssertEqual(Reference.sigmoid(T(1e4)), 1)
        XCTAssertEqual(Reference.sigmoid(T(-1e4)), 0)
        XCTAssertEqual(Reference.sigmoid(T(0)), 0.5)
        for z in [T(0.3), 2, 15, 40] {
            XCTAssertEqual(Reference.sigmoid(-z), 1 - Reference.sigmoid(z), accuracy: T.ulpOfOne * 2)
        }
        // −80 underflows e^z gently: the result is tiny and positive, not NaN.
        XCTAssertGreaterThanOrEqual(Reference.sigmoid(T(-80)), 0)
        let z: [T] = [1e4, -1e4, 1e3, -1e3, 80, -80, 0]
        let y = activate(.sigmoid, z, rows: 1, cols: z.count)
        XCTAssertTrue(y.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "\(T.self) sigmoid \(y)")
        let dy = Buffer<T>([T](repeating: 1, count: z.count)), yb = Buffer<T>(y)
        KernelTable<T>.reference.activationBackward(.sigmoid, yb.pointer, yb.pointer, dy.pointer, 1, z.count)
        keepAlive(yb)
        XCTAssertTrue(dy.array.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 0.25 })
        XCTAssertEqual(dy[6], 0.25)
    }

    func testSigmoidIsStableForHugeInputs() {
        checkSigmoid(Double.self)
        checkSigmoid(Float.self)
        XCTAssertEqual(Reference.sigmoid(1.0), 1 / (1 + Double.exp(-1)), accuracy: 1e-16)
    }

    func testTanhSaturates() {
        XCTAssertEqual(activate(.tanh, [1e4, -1e4, 0], rows: 1, cols: 3), [1.0, -1.0, 0.0])
        XCTAssertEqual(activate(.tanh, [Float(1e4), -1e4], rows: 1, cols: 2), [1, -1])
    }

    func testReluForwardAndBackward() {
        let y = activate(.relu, [-2.0, 0, 3, -0.0, 1e-300], rows: 1, cols: 5)
        XCTAssertEqual(y, [0, 0, 3, 0, 1e-300])
        let dy = Buffer<Double>([5, 5, 5, 5, 5]), yb = Buffer<Double>(y)
        KernelTable<Double>.reference.activationBackward(.relu, yb.pointer, yb.pointer, dy.pointer, 1, 5)
        keepAlive(yb)
        // The derivative is taken as 0 at 0, as PyTorch does.
        XCTAssertEqual(dy.array, [0, 0, 5, 0, 5])
        XCTAssertTrue(activate(.relu, [Double.nan], rows: 1, cols: 1)[0].isNaN, "relu propagates NaN")
    }

    func testLinearIsIdentity() {
        let z = uniformValues(12, -5, 5, seed: 9)
        XCTAssertEqual(activate(.linear, z, rows: 3, cols: 4), z)
        let dy = Buffer<Double>(z), zb = Buffer<Double>(z)
        KernelTable<Double>.reference.activationBackward(.linear, zb.pointer, zb.pointer, dy.pointer, 3, 4)
        keepAlive(zb)
        XCTAssertEqual(dy.array, z)
    }

    // MARK: The activations of issue 3

    /// dy ⊙ f'(z) for dy = 1, from a forward pass that kept z and y apart.
    func derivative<T: NNFloat>(_ f: Activation, _ z: [T]) -> [T] {
        let zb = Buffer<T>(z), yb = Buffer<T>(count: z.count), dy = Buffer<T>([T](repeating: 1, count: z.count))
        KernelTable<T>.reference.activationForward(f, zb.pointer, yb.pointer, 1, z.count)
        KernelTable<T>.reference.activationBackward(f, zb.pointer, yb.pointer, dy.pointer, 1, z.count)
        keepAlive(zb, yb)
        return dy.array
    }

    func assertClose(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-15, _ label: String = "",
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, label, file: file, line: line)
        for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: tolerance, "\(label): \(a) vs \(b)", file: file, line: line) }
    }

    func testLeakyReluByHand() {
        let z = [-2.0, -0.5, 0, 3]
        assertClose(activate(.leakyRelu(negativeSlope: 0.1), z, rows: 1, cols: 4), [-0.2, -0.05, 0, 3])
        assertClose(activate(.defaultLeakyRelu, z, rows: 2, cols: 2), [-0.4, -0.1, 0, 3])
        // derivative: slope for z ≤ 0 (PyTorch takes the slope at 0), 1 above
        assertClose(derivative(.leakyRelu(negativeSlope: 0.1), z), [0.1, 0.1, 0.1, 1])
        assertClose(derivative(.leakyRelu(negativeSlope: 0), z), [0, 0, 0, 1])
        XCTAssertEqual(Activation.defaultLeakyRelu, .leakyRelu(negativeSlope: 0.2), "Keras's default slope")
    }

    func testEluByHand() {
        let z = [-2.0, -1e4, 0, 1.5]
        let a = 0.5
        assertClose(activate(.elu(alpha: a), z, rows: 1, cols: 4), [a * (Double.exp(-2) - 1), -a, 0, 1.5])
        // derivative α e^z for z ≤ 0 (α at 0), 1 above
        assertClose(derivative(.elu(alpha: a), z), [a * Double.exp(-2), 0, a, 1])
        assertClose(activate(Activation.defaultElu, [-1.0], rows: 1, cols: 1), [Double.exp(-1) - 1])
        // Float saturates at −α without NaN.
        let f = activate(.elu(alpha: 2), [Float(-1e4), -100, 50], rows: 1, cols: 3)
        XCTAssertEqual(f, [-2, -2, 50])
    }

    func testGeluByHand() {
        // gelu(z) = z Φ(z): Φ(1) = 0.841344746068543, φ(1) = 0.241970724519143.
        let z = [-1.0, 0, 1, 10, -10]
        assertClose(activate(.gelu, z, rows: 1, cols: 5),
                    [-0.158655253931457, 0, 0.841344746068543, 10, 0], 1e-14)
        // f'(z) = Φ(z) + z φ(z): 1 + ... at 1, 0.5 at 0, Φ(−1) − φ(−1) at −1.
        assertClose(derivative(.gelu, z), [0.158655253931457 - 0.241970724519143, 0.5,
                                           0.841344746068543 + 0.241970724519143, 1, 0], 1e-14)
        let f = activate(.gelu, [Float(1), -30, 30], rows: 1, cols: 3)
        XCTAssertEqual(f[0], 0.84134475, accuracy: 1e-6)
        XCTAssertEqual(f[1], 0, accuracy: 1e-30)
        XCTAssertEqual(f[2], 30)
    }

    func testSoftplusByHandAndStable() {
        let ln2 = Double.log(2)
        assertClose(activate(.softplus, [0.0, 1, -1], rows: 1, cols: 3),
                    [ln2, Double.log(1 + Double.exp(1)), Double.log(1 + Double.exp(-1))])
        // log(1 + e^z) for huge |z|: z and 0, finite, in both precisions.
        XCTAssertEqual(activate(.softplus, [1e4, -1e4], rows: 1, cols: 2), [1e4, 0])
        XCTAssertEqual(activate(.softplus, [Float(1e4), -1e4, 100], rows: 1, cols: 3), [1e4, 0, 100])
        // derivative σ(z)
        assertClose(derivative(.softplus, [0.0, 2, -2]), [0.5, Reference.sigmoid(2.0), Reference.sigmoid(-2.0)], 1e-15)
        XCTAssertEqual(derivative(.softplus, [Float(1e4), -1e4]), [1, 0])
    }

    func testOutOfPlaceEqualsInPlaceAndLeavesZ() {
        let z = uniformValues(24, -4, 4, seed: 31)
        for f in Activation.allCases + [.leakyRelu(negativeSlope: 0.05), .elu(alpha: 2)] {
            let zb = Buffer<Double>(z), yb = Buffer<Double>(count: 24)
            KernelTable<Double>.reference.activationForward(f, zb.pointer, yb.pointer, 4, 6)
            XCTAssertEqual(zb.array, z, "\(f.label) must not write z")
            XCTAssertEqual(yb.array, activate(f, z, rows: 4, cols: 6), "\(f.label)")
        }
    }

    func testActivationNamesAndParameters() {
        XCTAssertEqual(Activation.allCases.map(\.name),
                       ["linear", "sigmoid", "tanh", "relu", "softmax", "leaky_relu", "elu", "gelu", "softplus", "step",
                        "mish"])
        for f in Activation.allCases { XCTAssertEqual(Activation(name: f.name), f) }
        XCTAssertNil(Activation(name: "swish"))
        XCTAssertNil(Activation(name: "ReLU"))
        XCTAssertEqual(Activation.leakyRelu(negativeSlope: 0.3).parameter, 0.3)
        XCTAssertEqual(Activation.elu(alpha: 2).parameter, 2)
        XCTAssertNil(Activation.gelu.parameter)
        XCTAssertTrue(Activation.gelu.needsPreactivation)
        XCTAssertFalse(Activation.softplus.needsPreactivation)
        assertNNError(.invalidArgument(""), messageContains: "negative_slope", try Activation.leakyRelu(negativeSlope: -0.1).validate())
        assertNNError(.invalidArgument(""), messageContains: "alpha", try Activation.elu(alpha: 0).validate())
        assertNNError(.invalidArgument(""), messageContains: "alpha",
                      try Sequential(inputDim: 2).add(Dense(2, activation: .elu(alpha: .nan))))
        assertNNError(.invalidArgument(""), messageContains: "negative_slope",
                      try Sequential(inputDim: 2).add(ActivationLayer(.leakyRelu(negativeSlope: -1))))
    }

    // MARK: Losses at their target

    func testMeanSquaredErrorIsExactlyZeroAtTheTarget() {
        let y = uniformValues(4 * 3, -2, 2, seed: 1)
        let (total, grad) = evaluate(Loss.meanSquaredError, p: y, y: y, rows: 4, cols: 3, logits: false)
        XCTAssertEqual(total, 0)
        XCTAssertEqual(grad, [Double](repeating: 0, count: 12))
        let yf = y.map { Float($0) }
        let (tf, gf) = evaluate(Loss.meanSquaredError, p: yf, y: yf, rows: 4, cols: 3, logits: false)
        XCTAssertEqual(tf, 0)
        XCTAssertEqual(gf, [Float](repeating: 0, count: 12))
    }

    func testMeanSquaredErrorHandWorked() {
        // Rows [1, 2] vs [0, 0] and [3, −1] vs [1, 1]: per-row means of squares
        // 2.5 and 4, summed 6.5. Gradient of the batch mean: 2(p − y)/(cols·rows).
        let (total, grad) = evaluate(Loss.meanSquaredError, p: [1.0, 2, 3, -1], y: [0, 0, 1, 1], rows: 2, cols: 2, logits: false)
        XCTAssertEqual(total, 6.5)
        XCTAssertEqual(grad, [0.5, 1, 1, -1])
    }

    func testMeanAbsoluteErrorAndHuberAreZeroAtTheTarget() {
        let y = uniformValues(4 * 3, -2, 2, seed: 2)
        for loss in [Loss.meanAbsoluteError, .huber, Loss(.huber, delta: 0.1)] {
            let (total, grad) = evaluate(loss, p: y, y: y, rows: 4, cols: 3, logits: false)
            XCTAssertEqual(total, 0, "\(loss.kind)")
            XCTAssertEqual(grad, [Double](repeating: 0, count: 12), "\(loss.kind)")
            // and grow away from it
            let (moved, _) = evaluate(loss, p: y.map { $0 + 0.05 }, y: y, rows: 4, cols: 3, logits: false)
            XCTAssertGreaterThan(moved, 0)
        }
    }

    func testMeanAbsoluteErrorHandWorked() {
        // Row 1: |1 − 0.5| and |−2 − 1| → (0.5 + 3)/2 = 1.75; row 2: |0 − 0|, |4 − 2| → 1. Sum 2.75.
        // Gradient of the batch mean: sign(p − y)/(cols · rows).
        let (total, grad) = evaluate(Loss.meanAbsoluteError, p: [1.0, -2, 0, 4], y: [0.5, 1, 0, 2],
                                     rows: 2, cols: 2, logits: false)
        XCTAssertEqual(total, 2.75)
        XCTAssertEqual(grad, [0.25, -0.25, 0, 0.25])
    }

    func testHuberHandWorked() {
        // δ = 1, d = p − y = 0.5, −3, 1, −0.2: ½d² inside (0.125, 0.5, 0.02), δ(|d| − ½δ) outside (2.5).
        // Per row means over 2 columns: (0.125 + 2.5)/2 and (0.5 + 0.02)/2; sum 1.5725.
        let p = [1.0, -2, 1, 0], y = [0.5, 1, 0, 0.2]
        let (total, grad) = evaluate(Loss.huber, p: p, y: y, rows: 2, cols: 2, logits: false)
        XCTAssertEqual(total, 1.5725, accuracy: 1e-15)
        // gradient: d inside, δ·sign(d) outside, over cols · rows = 4
        XCTAssertEqual(grad[0], 0.125, accuracy: 1e-16)
        XCTAssertEqual(grad[1], -0.25, accuracy: 1e-16)
        XCTAssertEqual(grad[2], 0.25, accuracy: 1e-16)
        XCTAssertEqual(grad[3], -0.05, accuracy: 1e-16)
        // δ = 2: d = −3 → 2(3 − 1) = 4; d = 0.5 → 0.125.
        let (wide, _) = evaluate(Loss(.huber, delta: 2), p: [1.0, -2], y: [0.5, 1], rows: 1, cols: 2, logits: false)
        XCTAssertEqual(wide, (0.125 + 4) / 2, accuracy: 1e-15)
        // Continuous at |d| = δ: ½δ² on both sides.
        let (below, _) = evaluate(Loss(.huber, delta: 0.5), p: [0.5 - 1e-12], y: [0.0], rows: 1, cols: 1, logits: false)
        let (above, _) = evaluate(Loss(.huber, delta: 0.5), p: [0.5 + 1e-12], y: [0.0], rows: 1, cols: 1, logits: false)
        XCTAssertEqual(below, 0.125, accuracy: 1e-11)
        XCTAssertEqual(above, 0.125, accuracy: 1e-11)
        // The default δ is 1, as Keras and PyTorch.
        XCTAssertEqual(Loss.huber.delta, 1)
    }

    func testLossOptionValidation() {
        for bad in [0.0, -1, .nan, .infinity] {
            assertNNError(.invalidArgument(""), messageContains: "delta", try Loss(.huber, delta: bad).validate())
        }
        for kind in [Loss.Kind.meanSquaredError, .meanAbsoluteError, .huber] {
            assertNNError(.invalidArgument(""), messageContains: "from_logits", try Loss(kind, fromLogits: true).validate())
        }
        XCTAssertNoThrow(try Loss(.binaryCrossentropy, fromLogits: true).validate())
        XCTAssertFalse(Loss.huber.fusesActivation(.sigmoid))
        XCTAssertFalse(Loss.meanAbsoluteError.fusesActivation(.softmax))
        XCTAssertEqual(Loss.huber.targetColumns(outputs: 3), 3)
    }

    func testBinaryCrossentropyFromLogitsVanishesForHugeCorrectLogits() {
        let z = [1e4, -1e4, 1e4, -1e4], y = [1.0, 0, 1, 0]
        let (total, grad) = evaluate(Loss(.binaryCrossentropy, fromLogits: true), p: z, y: y, rows: 2, cols: 2, logits: true)
        XCTAssertEqual(total, 0, accuracy: 1e-12)
        XCTAssertTrue(grad.allSatisfy { abs($0) <= 1e-12 })
        let (tf, gf) = evaluate(Loss(.binaryCrossentropy, fromLogits: true), p: z.map { Float($0) }, y: y.map { Float($0) },
                                rows: 2, cols: 2, logits: true)
        XCTAssertEqual(tf, 0, accuracy: 1e-6)
        XCTAssertTrue(gf.allSatisfy { abs($0) <= 1e-6 })
    }

    func testBinaryCrossentropyOnProbabilitiesIsMinimalAtTheTarget() {
        // For a soft target t the minimum over p is at p = t (gradient 0),
        // where the loss is the entropy −(t log t + (1 − t) log(1 − t)).
        let t = [0.3, 0.8, 0.5]
        let (total, grad) = evaluate(Loss.binaryCrossentropy, p: t, y: t, rows: 1, cols: 3, logits: false)
        let entropy = t.map { -($0 * Double.log($0) + (1 - $0) * Double.log(1 - $0)) }.reduce(0, +) / 3
        XCTAssertEqual(total, entropy, accuracy: 1e-15)
        XCTAssertTrue(grad.allSatisfy { abs($0) < 1e-15 }, "\(grad)")
        for delta in [-0.01, 0.01] {
            let (moved, _) = evaluate(Loss.binaryCrossentropy, p: t.map { $0 + delta }, y: t, rows: 1, cols: 3, logits: false)
            XCTAssertGreaterThan(moved, total)
        }
        // Hard targets hit the clip at ε: the loss is −log(1 − ε) ≈ 1e-7.
        let (hard, _) = evaluate(Loss.binaryCrossentropy, p: [1.0, 0], y: [1.0, 0], rows: 1, cols: 2, logits: false)
        XCTAssertEqual(hard, -Double.log(1 - Loss.epsilon), accuracy: 1e-15)
    }

    func testBinaryCrossentropyClipsProbabilitiesOutsideEpsilon() {
        // p = 0 with target 1 would be log 0; Keras clips to ε: −log ε ≈ 16.12,
        // and the clipped side has no gradient.
        let (total, grad) = evaluate(Loss.binaryCrossentropy, p: [0.0, 1], y: [1.0, 0], rows: 1, cols: 2, logits: false)
        XCTAssertEqual(total, -Double.log(Loss.epsilon), accuracy: 1e-9)
        XCTAssertEqual(grad, [0, 0])
    }

    func testCategoricalCrossentropyFromLogitsVanishesForHugeCorrectLogit() {
        let z = [1e4, 0, -5, -3, 2e4, 1]
        let onehot = [1.0, 0, 0, 0, 1, 0]
        let (total, grad) = evaluate(Loss(.categoricalCrossentropy, fromLogits: true), p: z, y: onehot,
                                     rows: 2, cols: 3, logits: true)
        XCTAssertEqual(total, 0, accuracy: 1e-12)
        XCTAssertTrue(grad.allSatisfy { abs($0) <= 1e-12 })
        let (sparse, sgrad) = evaluate(Loss(.sparseCategoricalCrossentropy, fromLogits: true), p: z, y: [0.0, 1],
                                       rows: 2, cols: 3, logits: true)
        XCTAssertEqual(sparse, 0, accuracy: 1e-12)
        XCTAssertTrue(sgrad.allSatisfy { abs($0) <= 1e-12 })
    }

    func testCategoricalCrossentropyIsMinimalAtTheTarget() {
        // Logits z = log t give softmax(z) = t: zero gradient, loss = entropy.
        let t = [0.2, 0.5, 0.3]
        let entropy = -t.map { $0 * Double.log($0) }.reduce(0, +)
        let (fromLogits, g1) = evaluate(Loss(.categoricalCrossentropy, fromLogits: true), p: t.map { Double.log($0) },
                                        y: t, rows: 1, cols: 3, logits: true)
        XCTAssertEqual(fromLogits, entropy, accuracy: 1e-15)
        XCTAssertTrue(g1.allSatisfy { abs($0) < 1e-15 }, "\(g1)")
        // Probabilities equal to the target: same value, zero gradient.
        let (onProbabilities, g2) = evaluate(Loss.categoricalCrossentropy, p: t, y: t, rows: 1, cols: 3, logits: false)
        XCTAssertEqual(onProbabilities, entropy, accuracy: 1e-15)
        XCTAssertTrue(g2.allSatisfy { abs($0) < 1e-15 }, "\(g2)")
        // One-hot target and one-hot prediction: clipped at 1 − ε, ≈ 1e-7.
        let (hard, _) = evaluate(Loss.categoricalCrossentropy, p: [0.0, 1, 0], y: [0.0, 1, 0], rows: 1, cols: 3, logits: false)
        XCTAssertLessThan(hard, 1e-6)
        XCTAssertGreaterThanOrEqual(hard, 0)
    }

    func testCategoricalCrossentropyNormalizesProbabilityRows() {
        // Keras divides each row by its sum first: p and 2p give the same loss.
        let p = [0.1, 0.5, 0.2], y = [0.0, 1, 0]
        let (a, _) = evaluate(Loss.categoricalCrossentropy, p: p, y: y, rows: 1, cols: 3, logits: false)
        let (b, _) = evaluate(Loss.categoricalCrossentropy, p: p.map { 2 * $0 }, y: y, rows: 1, cols: 3, logits: false)
        XCTAssertEqual(a, -Double.log(0.5 / 0.8), accuracy: 1e-15)
        XCTAssertEqual(a, b, accuracy: 1e-15)
    }

    func testCrossEntropyWithExtremeLogitsIsFinite() {
        // Wrong-way logits of ±1e4: large but finite losses and bounded gradients.
        for (kind, cols, z, y) in [
            (Loss.Kind.binaryCrossentropy, 2, [1e4, -1e4, -1e4, 1e4], [0.0, 1, 1, 0]),
            (.categoricalCrossentropy, 3, [1e4, -1e4, 0, -1e4, 0, 1e4], [0.0, 1, 0, 1, 0, 0]),
            (.sparseCategoricalCrossentropy, 3, [1e4, -1e4, 0, -1e4, 0, 1e4], [1.0, 0]),
        ] {
            let loss = Loss(kind, fromLogits: true)
            let (total, grad) = evaluate(loss, p: z, y: y, rows: 2, cols: cols, logits: true)
            XCTAssertTrue(total.isFinite && total > 1e3, "\(kind): \(total)")
            XCTAssertTrue(grad.allSatisfy { $0.isFinite && abs($0) <= 1 }, "\(kind): \(grad)")
            let (tf, gf) = evaluate(loss, p: z.map { Float($0) }, y: y.map { Float($0) }, rows: 2, cols: cols, logits: true)
            XCTAssertTrue(tf.isFinite && tf > 1e3, "\(kind) Float: \(tf)")
            XCTAssertTrue(gf.allSatisfy { $0.isFinite && abs($0) <= 1 }, "\(kind) Float: \(gf)")
        }
        // Hand-worked: BCE with logit 1e4 against 0 costs 1e4 per element.
        let (bce, g) = evaluate(Loss(.binaryCrossentropy, fromLogits: true), p: [1e4], y: [0.0], rows: 1, cols: 1, logits: true)
        XCTAssertEqual(bce, 1e4)
        XCTAssertEqual(g, [1])
        // CCE: logits (1e4, −1e4) with the target on the second: 2e4.
        let (cce, _) = evaluate(Loss(.categoricalCrossentropy, fromLogits: true), p: [1e4, -1e4], y: [0.0, 1],
                                rows: 1, cols: 2, logits: true)
        XCTAssertEqual(cce, 2e4)
    }

    func testFusedNetworkWithHugeLogitsStaysFinite() throws {
        // A network whose logits reach ±1e4: forward, loss and backward all finite.
        let net = try makeNetwork(Float.self, inputDim: 2, layers: [Dense(3, activation: .softmax)], seed: 1,
                                  kernels: .production)
        let w: [Float] = [1e4, -1e4, 0, -1e4, 1e4, 5e3, 0, 0, 0]
        for (i, v) in w.enumerated() { net.parameters[i] = v }
        let loss = Loss.categoricalCrossentropy
        let (value, grads, _) = lossAndGradients(net, loss, .training(loss, last: .softmax),
                                                 x: [1, 0, 0, 1], y: [0, 1, 0, 1, 0, 0], rows: 2)
        XCTAssertTrue(value.isFinite && value > 1e3)
        XCTAssertTrue(grads.allSatisfy(\.isFinite))
        let bce = Loss.binaryCrossentropy
        let sig = try makeNetwork(Float.self, inputDim: 2, layers: [Dense(3, activation: .sigmoid)], seed: 1,
                                  kernels: .production)
        for (i, v) in w.enumerated() { sig.parameters[i] = v }
        let (v2, g2, _) = lossAndGradients(sig, bce, .training(bce, last: .sigmoid),
                                           x: [1, 0, 0, 1], y: [0, 1, 0, 1, 0, 0], rows: 2)
        XCTAssertTrue(v2.isFinite && v2 > 1e3)
        XCTAssertTrue(g2.allSatisfy(\.isFinite))
    }

    // MARK: Loss configuration checks

    func testLossCompatibilityAndTargetChecks() {
        XCTAssertEqual(Loss.sparseCategoricalCrossentropy.targetColumns(outputs: 5), 1)
        XCTAssertEqual(Loss.categoricalCrossentropy.targetColumns(outputs: 5), 5)
        assertNNError(.invalidState(""), messageContains: "at least 2 units",
                      try Loss.categoricalCrossentropy.checkCompatible(outputs: 1, targetColumns: 1))
        assertNNError(.shapeMismatch(""), messageContains: "one-hot",
                      try Loss.categoricalCrossentropy.checkCompatible(outputs: 3, targetColumns: 1))
        assertNNError(.shapeMismatch(""), messageContains: "expected 2 target columns, got 3",
                      try Loss.meanSquaredError.checkCompatible(outputs: 2, targetColumns: 3))
        XCTAssertNoThrow(try Loss.binaryCrossentropy.checkCompatible(outputs: 1, targetColumns: 1))
        let labels: [Double] = [0, 2, 1]
        XCTAssertNoThrow(try Loss.sparseCategoricalCrossentropy.checkTargets(labels, rows: 3, cols: 1, outputs: 3))
        for bad in [3.0, -1, 0.5] {
            assertNNError(.invalidArgument(""), messageContains: "class index",
                          try Loss.sparseCategoricalCrossentropy.checkTargets([0, bad], rows: 2, cols: 1, outputs: 3))
        }
        assertNNError(.invalidArgument(""), messageContains: "[0, 1]",
                      try Loss.binaryCrossentropy.checkTargets([0.5, 1.5], rows: 1, cols: 2, outputs: 2))
    }

    func testFusionRules() {
        XCTAssertTrue(Loss.binaryCrossentropy.fusesActivation(.sigmoid))
        XCTAssertTrue(Loss.categoricalCrossentropy.fusesActivation(.softmax))
        XCTAssertTrue(Loss.sparseCategoricalCrossentropy.fusesActivation(.softmax))
        XCTAssertFalse(Loss.binaryCrossentropy.fusesActivation(.softmax))
        XCTAssertFalse(Loss.categoricalCrossentropy.fusesActivation(.sigmoid))
        XCTAssertFalse(Loss.meanSquaredError.fusesActivation(.sigmoid))
        XCTAssertFalse(Loss(.categoricalCrossentropy, fromLogits: true).fusesActivation(.softmax))
    }
}
