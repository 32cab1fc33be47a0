import XCTest
@testable import NNCore

/// Back-propagated gradients against central finite differences, in Double
/// with the reference kernels.
///
/// The error measure is the relative error as a norm ratio over the whole
/// gradient vector, ‖analytic − numeric‖ / max(‖analytic‖, ‖numeric‖, 1e-8),
/// checked both in the 2-norm and in the ∞-norm (see `relativeError`); both
/// must be below 1e-6. Central differences use h = 1e-6.
final class GradientCheckTests: XCTestCase {
    let tolerance = 1e-6

    struct Case {
        var net: Network<Double>
        var layers: [Dense]
        var x: [Double]
        var y: [Double]
        var rows: Int
    }

    /// A network and data from `seed`. When a layer's activation has a kink
    /// at 0 (relu, leaky_relu, elu), the seeds from `seed` on are tried until
    /// every such pre-activation is at least 1e-3 away from the kink and each
    /// such layer has pre-activations on both sides, so that finite
    /// differences never straddle the kink and both branches are checked.
    func makeCase(inputDim: Int, layers: [Dense], rows: Int, loss: Loss, seed: UInt64,
                  file: StaticString = #filePath, line: UInt = #line) throws -> Case {
        for s in seed ..< seed + 500 {
            let net = try makeNetwork(Double.self, inputDim: inputDim, layers: layers, seed: s, kernels: .reference)
            let x = uniformValues(rows * inputDim, -1, 1, seed: s &+ 1000)
            let y = targetValues(for: loss, rows: rows, outputs: net.outputDim, seed: s &+ 2000)
            let (margin, mixed) = reluMargin(net, layers: layers, x: x, rows: rows)
            if margin >= 1e-3 && mixed { return Case(net: net, layers: layers, x: x, y: y, rows: rows) }
        }
        XCTFail("no seed gives pre-activations away from the kink", file: file, line: line)
        throw NNError.invalidState("no usable seed")
    }

    /// Checks back-propagation against finite differences for every
    /// parameter; returns both gradients.
    @discardableResult
    func checkGradients(_ c: Case, _ loss: Loss, _ mode: LossMode, _ label: String, options: PassOptions = .inference,
                        file: StaticString = #filePath, line: UInt = #line) -> (analytic: [Double], numeric: [Double]) {
        let (value, analytic, _) = lossAndGradients(c.net, loss, mode, x: c.x, y: c.y, rows: c.rows, options: options)
        let numeric = numericGradients(c.net, loss, mode, x: c.x, y: c.y, rows: c.rows, options: options)
        XCTAssertTrue(value.isFinite, "\(label): loss \(value)", file: file, line: line)
        XCTAssertEqual(analytic.count, c.net.parameterCount, file: file, line: line)
        assertGradientsAgree(analytic, numeric, "\(label) [\(mode)]", tolerance: tolerance, file: file, line: line)
        return (analytic, numeric)
    }

    func testCheckerCatchesAWrongDerivative() throws {
        // The checker itself: a kernel table whose tanh backward uses 1 − y
        // instead of 1 − y² must fail the comparison by far.
        let broken = KernelTable<Double>.reference
        broken.activationBackwardBiasGradient = { f, z, y, dy, dbias, rows, cols in
            if f == .tanh {
                for i in 0..<rows * cols { dy[i] *= 1 - y[i] }
                Reference.activationBackwardBiasGradient(.linear, z, y, dy, dbias, rows, cols)
            } else {
                Reference.activationBackwardBiasGradient(f, z, y, dy, dbias, rows, cols)
            }
        }
        let loss = Loss.meanSquaredError
        let c = try makeCase(inputDim: 3, layers: [Dense(4, activation: .tanh), Dense(2)], rows: 5, loss: loss, seed: 50)
        c.net.kernels = broken
        let analytic = lossAndGradients(c.net, loss, .probabilities, x: c.x, y: c.y, rows: c.rows).gradients
        let numeric = numericGradients(c.net, loss, .probabilities, x: c.x, y: c.y, rows: c.rows)
        XCTAssertGreaterThan(relativeError(analytic, numeric).l2, 1e-2)
    }

    // MARK: Dense

    func testDenseLayerGradients() throws {
        // (inputs, units, rows): degenerate and odd shapes.
        for (i, (inputs, units, rows)) in [(1, 1, 1), (5, 3, 4), (7, 2, 9), (3, 6, 1)].enumerated() {
            let loss = Loss.meanSquaredError
            let c = try makeCase(inputDim: inputs, layers: [Dense(units)], rows: rows, loss: loss, seed: UInt64(10 + i))
            // A non-zero bias, so that the bias enters the outputs too.
            for j in 0..<units { c.net.parameters[inputs * units + j] = 0.1 * Double(j + 1) }
            checkGradients(c, loss, .training(loss, last: .linear), "Dense(\(units)) on \(inputs) inputs, \(rows) rows")
        }
    }

    func testDenseGradientFormulaByHand() throws {
        // One row x = [1, 2], W = [[0.5], [-1]], b = [0.25]: p = 0.5 − 2 + 0.25 = −1.25.
        // MSE against y = 0.75: L = (p − y)² = 4, ∂L/∂p = 2(p − y) = −4,
        // ∂L/∂W = x · ∂L/∂p = [−4, −8], ∂L/∂b = −4.
        let net = try makeNetwork(Double.self, inputDim: 2, layers: [Dense(1)], seed: 1, kernels: .reference)
        for (i, v) in [0.5, -1, 0.25].enumerated() { net.parameters[i] = v }
        let (loss, grads, out) = lossAndGradients(net, .meanSquaredError, .probabilities, x: [1, 2], y: [0.75], rows: 1)
        XCTAssertEqual(out, [-1.25])
        XCTAssertEqual(loss, 4)
        XCTAssertEqual(grads, [-4, -8, -4])
    }

    // MARK: Activations

    func testEveryActivationAsHiddenAndOutputLayer() throws {
        for (i, f) in Activation.differentiable.enumerated() {
            let loss = Loss.meanSquaredError
            let layers = [Dense(4, activation: f), Dense(3, activation: f)]
            let c = try makeCase(inputDim: 3, layers: layers, rows: 5, loss: loss, seed: UInt64(100 + 10 * i))
            checkGradients(c, loss, .training(loss, last: f), "activation \(f.label)")
        }
    }

    func testEachActivationBetweenLinearLayers() throws {
        // Activation in the middle of a deeper stack, so its backward feeds
        // a dx that earlier layers consume.
        for (i, f) in Activation.differentiable.enumerated() {
            let loss = Loss.meanSquaredError
            let layers = [Dense(5), Dense(4, activation: f), Dense(2)]
            let c = try makeCase(inputDim: 3, layers: layers, rows: 6, loss: loss, seed: UInt64(200 + 10 * i))
            checkGradients(c, loss, .training(loss, last: .linear), "linear → \(f.label) → linear")
        }
    }

    func testReluCaseReallyHasBothBranches() throws {
        let layers = [Dense(4, activation: .relu), Dense(3, activation: .relu)]
        let c = try makeCase(inputDim: 3, layers: layers, rows: 5, loss: .meanSquaredError, seed: 130)
        let (pre, post) = manualForward(c.net, layers: layers, x: c.x, rows: c.rows)
        for l in 0..<2 {
            XCTAssertTrue(pre[l].contains { $0 < -1e-3 } && pre[l].contains { $0 > 1e-3 })
            XCTAssertTrue(post[l].contains(0))
        }
    }

    /// The activations of issue 3 with several parameters: leaky_relu with
    /// slopes 0.1 and 0.2 (Keras's default) and 0 (relu), elu with α = 1
    /// and 0.5, gelu and softplus.
    static let newActivations: [Activation] = [
        .leakyRelu(negativeSlope: 0.1), .leakyRelu(negativeSlope: 0.2), .leakyRelu(negativeSlope: 0),
        .elu(alpha: 1), .elu(alpha: 0.5), .gelu, .softplus,
    ]

    func testNewActivationsAsHiddenAndOutputActivations() throws {
        for (i, f) in Self.newActivations.enumerated() {
            let loss = Loss.meanSquaredError
            // hidden and output
            let both = [Dense(5, activation: f), Dense(3, activation: f)]
            let c = try makeCase(inputDim: 3, layers: both, rows: 6, loss: loss, seed: UInt64(1200 + 10 * i))
            checkGradients(c, loss, .training(loss, last: f), "\(f.label) hidden and output")
            // hidden only, between smooth layers
            let hidden = [Dense(4, activation: .tanh), Dense(5, activation: f), Dense(2)]
            let h = try makeCase(inputDim: 3, layers: hidden, rows: 6, loss: loss, seed: UInt64(1300 + 10 * i))
            checkGradients(h, loss, .training(loss, last: .linear), "tanh → \(f.label) → linear")
            // output only, after a smooth hidden layer
            let output = [Dense(5, activation: .sigmoid), Dense(3, activation: f)]
            let o = try makeCase(inputDim: 4, layers: output, rows: 7, loss: loss, seed: UInt64(1400 + 10 * i))
            checkGradients(o, loss, .training(loss, last: f), "sigmoid → \(f.label) output")
        }
    }

    func testKinkedActivationCasesHaveBothBranches() throws {
        // makeCase puts kinked pre-activations on both sides of 0, so both
        // branches of leaky_relu and elu are exercised: the negative side's
        // outputs are slope·z and α(e^z − 1), not z.
        for f in Self.newActivations where f.hasKinkAtZero {
            let layers = [Dense(5, activation: f), Dense(3, activation: f)]
            let c = try makeCase(inputDim: 3, layers: layers, rows: 6, loss: .meanSquaredError, seed: 1500)
            let (pre, post) = manualForward(c.net, layers: layers, x: c.x, rows: c.rows)
            for l in 0..<2 {
                XCTAssertTrue(pre[l].contains { $0 < -1e-3 } && pre[l].contains { $0 > 1e-3 }, f.label)
                for (z, y) in zip(pre[l], post[l]) where z < 0 {
                    XCTAssertLessThanOrEqual(y, 0, f.label)
                    if f != .leakyRelu(negativeSlope: 0) { XCTAssertNotEqual(y, z, f.label) }
                }
            }
        }
    }

    func testTheDifferentiableListLeavesOutOnlyStep() {
        XCTAssertFalse(Activation.differentiable.contains(.step))
        XCTAssertEqual(Activation.differentiable.count, Activation.allCases.count - 1)
        XCTAssertTrue(Activation.allCases.contains(.step))
        for f in Self.newActivations { XCTAssertTrue(f.isDifferentiable, f.label) }
    }

    // MARK: The Activation layer

    func testActivationLayerGradients() throws {
        let loss = Loss.meanSquaredError
        for (i, f) in (Activation.differentiable + Self.newActivations).enumerated() {
            // Activation layers after linear Dense layers, hidden and last.
            let layers: [any Layer] = [Dense(5), ActivationLayer(f), Dense(3), ActivationLayer(f)]
            let c = try makeLayerCase(inputDim: 4, layers: layers, rows: 6, loss: loss, seed: UInt64(1600 + 10 * i))
            checkLayerGradients(c, loss, .training(loss, last: f), "Dense → Activation(\(f.label)) → Dense → Activation")
            // As the first layer: the gradient with respect to the input.
            let first: [any Layer] = [ActivationLayer(f), Dense(3, activation: .tanh), Dense(2)]
            let d = try makeLayerCase(inputDim: 4, layers: first, rows: 5, loss: loss, seed: UInt64(1700 + 10 * i))
            checkInputGradient(d, loss, .training(loss, last: .linear), "Activation(\(f.label)) first")
        }
    }

    func testActivationLayerEqualsTheDenseActivation() throws {
        // Dense(n, f) and Dense(n) → Activation(f) are the same function with
        // the same parameters and gradients.
        for f in Activation.differentiable + Self.newActivations {
            let loss = Loss.meanSquaredError
            let fused = try makeNetwork(Double.self, inputDim: 3, layers: [Dense(4, activation: f), Dense(2)], seed: 3,
                                        kernels: .reference)
            let split = try makeNetwork(Double.self, inputDim: 3, layers: [Dense(4), ActivationLayer(f), Dense(2)],
                                        seed: 3, kernels: .reference)
            XCTAssertEqual(fused.parameters.array, split.parameters.array)
            let x = uniformValues(15, -1, 1, seed: 4), y = uniformValues(10, -1, 1, seed: 5)
            let a = lossAndGradients(fused, loss, .probabilities, x: x, y: y, rows: 5)
            let b = lossAndGradients(split, loss, .probabilities, x: x, y: y, rows: 5)
            XCTAssertEqual(a.loss, b.loss, accuracy: 1e-15, f.label)
            XCTAssertLessThan(relativeError(a.gradients, b.gradients).linf, 1e-14, f.label)
            XCTAssertGreaterThan(norm(a.gradients), 1e-3, f.label)
        }
    }

    func testSoftmaxActivationLayerFusesWithCrossEntropy() throws {
        // A last Activation(softmax) is fused with categorical cross-entropy
        // like a Dense softmax: the network leaves logits and the loss takes them.
        let loss = Loss.sparseCategoricalCrossentropy
        let layers: [any Layer] = [Dense(5, activation: .tanh), Dense(4), ActivationLayer(.softmax)]
        let c = try makeLayerCase(inputDim: 3, layers: layers, rows: 6, loss: loss, seed: 1800)
        let mode = LossMode.training(loss, last: .softmax)
        XCTAssertTrue(mode.deferLast)
        checkLayerGradients(c, loss, mode, "Activation(softmax) fused with sparse CCE")
        let logits = lossAndGradients(c.net, loss, mode, x: c.x, y: c.y, rows: c.rows).outputs
        XCTAssertEqual(logits, Array(UnsafeBufferPointer(start: c.net.layerOutput(1), count: 6 * 4)),
                       "deferred: the Activation layer passes the logits through")
        checkLayerGradients(c, loss, .probabilities, "Activation(softmax), loss on probabilities")
    }

    // MARK: Mean squared error

    func testMeanSquaredErrorWithEachOutputActivation() throws {
        for (i, f) in Activation.differentiable.enumerated() {
            let loss = Loss.meanSquaredError
            let layers = [Dense(5, activation: .tanh), Dense(3, activation: f)]
            let c = try makeCase(inputDim: 4, layers: layers, rows: 7, loss: loss, seed: UInt64(300 + 10 * i))
            let mode = LossMode.training(loss, last: f)
            XCTAssertFalse(mode.deferLast || mode.logits, "MSE never fuses an activation")
            checkGradients(c, loss, mode, "MSE after \(f.label)")
        }
    }

    // MARK: Binary cross-entropy

    func testBinaryCrossentropyFusedWithSigmoid() throws {
        let loss = Loss.binaryCrossentropy
        let layers = [Dense(5, activation: .tanh), Dense(3, activation: .sigmoid)]
        let c = try makeCase(inputDim: 4, layers: layers, rows: 6, loss: loss, seed: 400)
        let mode = LossMode.training(loss, last: .sigmoid)
        XCTAssertTrue(mode.deferLast && mode.logits, "sigmoid + binary_crossentropy is fused")
        checkGradients(c, loss, mode, "BCE fused with sigmoid")
    }

    func testBinaryCrossentropyFromLogitsAfterLinear() throws {
        let loss = Loss(.binaryCrossentropy, fromLogits: true)
        let layers = [Dense(5, activation: .relu), Dense(2)]
        let c = try makeCase(inputDim: 3, layers: layers, rows: 6, loss: loss, seed: 410)
        let mode = LossMode.training(loss, last: .linear)
        XCTAssertTrue(!mode.deferLast && mode.logits)
        checkGradients(c, loss, mode, "BCE from logits")
    }

    func testBinaryCrossentropyOnProbabilitiesFromALinearLayer() throws {
        // The probability path: a linear last layer scaled so that every
        // output lies well inside (0, 1), hence nothing is clipped.
        let loss = Loss.binaryCrossentropy
        let layers = [Dense(4, activation: .tanh), Dense(2)]
        let c = try makeCase(inputDim: 3, layers: layers, rows: 6, loss: loss, seed: 420)
        let offset = c.net.parameterOffsets[1]
        for i in 0..<8 { c.net.parameters[offset + i] *= 0.1 }
        for j in 0..<2 { c.net.parameters[offset + 8 + j] = 0.5 }
        let mode = LossMode.training(loss, last: .linear)
        XCTAssertFalse(mode.deferLast || mode.logits)
        let (_, _, out) = lossAndGradients(c.net, loss, mode, x: c.x, y: c.y, rows: c.rows)
        XCTAssertTrue(out.allSatisfy { $0 > 0.05 && $0 < 0.95 }, "outputs \(out) must not be clipped")
        checkGradients(c, loss, mode, "BCE on linear probabilities")
    }

    func testBinaryCrossentropyOnSigmoidProbabilitiesWithoutFusion() throws {
        // Sigmoid applied by the layer and the loss on probabilities: the
        // gradient then flows through sigmoid's backward.
        let loss = Loss.binaryCrossentropy
        let layers = [Dense(4, activation: .tanh), Dense(3, activation: .sigmoid)]
        let c = try makeCase(inputDim: 3, layers: layers, rows: 5, loss: loss, seed: 430)
        let (_, _, out) = lossAndGradients(c.net, loss, .probabilities, x: c.x, y: c.y, rows: c.rows)
        XCTAssertTrue(out.allSatisfy { $0 > 1e-3 && $0 < 1 - 1e-3 })
        let checked = checkGradients(c, loss, .probabilities, "BCE on sigmoid probabilities")
        // The fused and unfused forms are the same function of the parameters.
        let fused = lossAndGradients(c.net, loss, .training(loss, last: .sigmoid), x: c.x, y: c.y, rows: c.rows)
        XCTAssertLessThan(relativeError(fused.gradients, checked.analytic).l2, 1e-10)
        XCTAssertEqual(fused.loss, meanLoss(c.net, loss, .probabilities, x: c.x, y: c.y, rows: c.rows), accuracy: 1e-12)
    }

    // MARK: Categorical cross-entropy

    func testCategoricalCrossentropyFusedWithSoftmax() throws {
        let loss = Loss.categoricalCrossentropy
        let layers = [Dense(5, activation: .tanh), Dense(4, activation: .softmax)]
        let c = try makeCase(inputDim: 3, layers: layers, rows: 6, loss: loss, seed: 500)
        let mode = LossMode.training(loss, last: .softmax)
        XCTAssertTrue(mode.deferLast && mode.logits)
        checkGradients(c, loss, mode, "CCE fused with softmax")
    }

    func testCategoricalCrossentropyFromLogits() throws {
        let loss = Loss(.categoricalCrossentropy, fromLogits: true)
        let layers = [Dense(5, activation: .sigmoid), Dense(4)]
        let c = try makeCase(inputDim: 3, layers: layers, rows: 6, loss: loss, seed: 510)
        checkGradients(c, loss, .training(loss, last: .linear), "CCE from logits")
    }

    func testCategoricalCrossentropyFromLogitsWithUnnormalizedTargets() throws {
        // −Σ t log softmax(z) has gradient softmax(z)·Σt − t for any t.
        let loss = Loss(.categoricalCrossentropy, fromLogits: true)
        var c = try makeCase(inputDim: 3, layers: [Dense(4, activation: .tanh), Dense(3)], rows: 4, loss: loss, seed: 515)
        c.y = [0.5, 0.25, 1, 0, 0, 2, 0.3, 0.3, 0.3, 1, 0, 0]
        checkGradients(c, loss, .training(loss, last: .linear), "CCE from logits, targets not summing to 1")
    }

    func testCategoricalCrossentropyOnSigmoidProbabilities() throws {
        // Not fused (the activation is not softmax): Keras normalizes each row
        // of probabilities to sum 1, then takes −Σ y log q.
        let loss = Loss.categoricalCrossentropy
        let layers = [Dense(5, activation: .tanh), Dense(4, activation: .sigmoid)]
        let c = try makeCase(inputDim: 3, layers: layers, rows: 6, loss: loss, seed: 520)
        let mode = LossMode.training(loss, last: .sigmoid)
        XCTAssertFalse(mode.deferLast || mode.logits)
        checkGradients(c, loss, mode, "CCE on sigmoid outputs")
    }

    func testCategoricalCrossentropyOnSoftmaxProbabilitiesWithoutFusion() throws {
        let loss = Loss.categoricalCrossentropy
        let layers = [Dense(5, activation: .tanh), Dense(3, activation: .softmax)]
        let c = try makeCase(inputDim: 4, layers: layers, rows: 5, loss: loss, seed: 530)
        let checked = checkGradients(c, loss, .probabilities, "CCE on softmax probabilities")
        let fused = lossAndGradients(c.net, loss, .training(loss, last: .softmax), x: c.x, y: c.y, rows: c.rows)
        XCTAssertLessThan(relativeError(fused.gradients, checked.analytic).l2, 1e-10)
    }

    // MARK: Sparse categorical cross-entropy

    func testSparseCategoricalCrossentropyFusedWithSoftmax() throws {
        let loss = Loss.sparseCategoricalCrossentropy
        let layers = [Dense(5, activation: .relu), Dense(4, activation: .softmax)]
        let c = try makeCase(inputDim: 3, layers: layers, rows: 8, loss: loss, seed: 600)
        let mode = LossMode.training(loss, last: .softmax)
        XCTAssertTrue(mode.deferLast && mode.logits)
        checkGradients(c, loss, mode, "sparse CCE fused with softmax")
    }

    func testSparseCategoricalCrossentropyFromLogits() throws {
        let loss = Loss(.sparseCategoricalCrossentropy, fromLogits: true)
        let layers = [Dense(5, activation: .tanh), Dense(3)]
        let c = try makeCase(inputDim: 4, layers: layers, rows: 7, loss: loss, seed: 610)
        checkGradients(c, loss, .training(loss, last: .linear), "sparse CCE from logits")
    }

    func testSparseCategoricalCrossentropyOnProbabilities() throws {
        let loss = Loss.sparseCategoricalCrossentropy
        let layers = [Dense(5, activation: .tanh), Dense(3, activation: .sigmoid)]
        let c = try makeCase(inputDim: 4, layers: layers, rows: 7, loss: loss, seed: 620)
        checkGradients(c, loss, .training(loss, last: .sigmoid), "sparse CCE on sigmoid outputs")
    }

    func testSparseAndOneHotCategoricalAgree() throws {
        let sparse = Loss(.sparseCategoricalCrossentropy, fromLogits: true)
        let dense = Loss(.categoricalCrossentropy, fromLogits: true)
        let c = try makeCase(inputDim: 3, layers: [Dense(4, activation: .tanh), Dense(4)], rows: 6, loss: sparse, seed: 630)
        var oneHot = [Double](repeating: 0, count: 6 * 4)
        for r in 0..<6 { oneHot[r * 4 + Int(c.y[r])] = 1 }
        let a = lossAndGradients(c.net, sparse, .training(sparse, last: .linear), x: c.x, y: c.y, rows: 6)
        let b = lossAndGradients(c.net, dense, .training(dense, last: .linear), x: c.x, y: oneHot, rows: 6)
        XCTAssertEqual(a.loss, b.loss, accuracy: 1e-14)
        XCTAssertLessThan(relativeError(a.gradients, b.gradients).linf, 1e-14)
    }

    // MARK: Mean absolute error and Huber

    /// A case whose targets are the initial outputs minus chosen differences
    /// d = p − y: every |d| lies in one of `magnitudes`' ranges, so no finite
    /// difference straddles |d| = 0 (MAE, Huber) or |d| = δ (Huber).
    func regressionCase(magnitudes: [ClosedRange<Double>], seed: UInt64) throws -> Case {
        let layers = [Dense(5, activation: .tanh), Dense(3)]
        var c = try makeCase(inputDim: 4, layers: layers, rows: 8, loss: .meanSquaredError, seed: seed)
        let p = lossAndGradients(c.net, .meanSquaredError, .probabilities, x: c.x, y: c.y, rows: c.rows).outputs
        var rng = RandomGenerator(seed: seed)
        c.y = p.enumerated().map { i, v in
            let range = magnitudes[i % magnitudes.count]
            let d = rng.uniform(range.lowerBound, range.upperBound) * (i % 3 == 0 ? -1 : 1)
            return v - d
        }
        return c
    }

    func testMeanAbsoluteErrorGradients() throws {
        let loss = Loss.meanAbsoluteError
        let c = try regressionCase(magnitudes: [0.05...0.8, 0.2...2], seed: 1900)
        let mode = LossMode.training(loss, last: .linear)
        XCTAssertFalse(mode.deferLast || mode.logits)
        checkGradients(c, loss, mode, "MAE")
        // MAE's gradient of the batch mean is sign(p − y) / (cols · rows).
        var grad = [Double](repeating: .nan, count: 24)
        let p = lossAndGradients(c.net, loss, mode, x: c.x, y: c.y, rows: 8).outputs
        let total = loss.evaluate(predictions: p, targets: c.y, rows: 8, cols: 3, logits: false, grad: &grad, divisor: 8)
        for i in 0..<24 { XCTAssertEqual(grad[i], (p[i] > c.y[i] ? 1.0 : -1.0) / 24) }
        XCTAssertEqual(total, zip(p, c.y).map { abs($0 - $1) }.reduce(0, +) / 3, accuracy: 1e-12)
    }

    func testHuberGradientsOnBothSidesOfDelta() throws {
        for delta in [1.0, 0.5, 2.0] {
            let loss = Loss(.huber, delta: delta)
            // quadratic zone |d| < δ and linear zone |d| > δ, clear of both kinks
            let c = try regressionCase(magnitudes: [(0.05 * delta)...(0.8 * delta), (1.2 * delta)...(3 * delta)],
                                       seed: 2000 + UInt64(delta * 10))
            let p = lossAndGradients(c.net, loss, .probabilities, x: c.x, y: c.y, rows: c.rows).outputs
            let d = zip(p, c.y).map { abs($0 - $1) }
            XCTAssertTrue(d.contains { $0 < delta } && d.contains { $0 > delta }, "both Huber zones, δ = \(delta)")
            XCTAssertTrue(d.allSatisfy { $0 > 1e-3 && abs($0 - delta) > 1e-3 })
            checkGradients(c, loss, .training(loss, last: .linear), "Huber δ = \(delta)")
        }
    }

    func testHuberAndMeanAbsoluteErrorAfterEachOutputActivation() throws {
        for (i, f) in Activation.differentiable.enumerated() where f != .softmax {
            for loss in [Loss.meanAbsoluteError, Loss(.huber, delta: 0.3)] {
                let layers = [Dense(4, activation: .tanh), Dense(2, activation: f)]
                var c = try makeCase(inputDim: 3, layers: layers, rows: 6, loss: loss, seed: UInt64(2100 + 10 * i))
                let p = lossAndGradients(c.net, loss, .probabilities, x: c.x, y: c.y, rows: c.rows).outputs
                // targets 0.1 to 0.2 away from the outputs (inside δ = 0.3), alternating sides
                c.y = p.enumerated().map { j, v in v + (j % 2 == 0 ? 1 : -1) * (0.1 + 0.01 * Double(j % 10)) }
                checkGradients(c, loss, .probabilities, "\(loss.kind.rawValue) after \(f.label)")
            }
        }
    }

    // MARK: Sample weights

    func testSampleWeightedLossGradients() throws {
        let weights = [0.5, 2, 0, 1.5, 1, 3]
        let configurations: [([Dense], Loss)] = [
            ([Dense(4, activation: .tanh), Dense(3)], .meanSquaredError),
            ([Dense(4, activation: .tanh), Dense(2, activation: .sigmoid)], .binaryCrossentropy),
            ([Dense(4, activation: .tanh), Dense(3, activation: .softmax)], .sparseCategoricalCrossentropy),
            ([Dense(4, activation: .tanh), Dense(3, activation: .softmax)], .categoricalCrossentropy),
        ]
        for (n, (layers, loss)) in configurations.enumerated() {
            let c = try makeCase(inputDim: 3, layers: layers, rows: 6, loss: loss, seed: UInt64(2200 + 10 * n))
            let mode = LossMode.training(loss, last: layers.last!.activation)
            let options = PassOptions(sampleWeights: weights)
            checkGradients(c, loss, mode, "\(loss.kind.rawValue) with sample weights", options: options)

            // Keras: Σ wᵢ lᵢ / rows, not / Σ wᵢ. Compare with per-row unweighted losses.
            let targetCols = loss.targetColumns(outputs: c.net.outputDim)
            var expected = 0.0
            for r in 0..<6 {
                let row = lossAndGradients(c.net, loss, mode, x: Array(c.x[r * 3 ..< r * 3 + 3]),
                                           y: Array(c.y[r * targetCols ..< (r + 1) * targetCols]), rows: 1)
                expected += weights[r] * row.loss
            }
            let weighted = lossAndGradients(c.net, loss, mode, x: c.x, y: c.y, rows: 6, options: options)
            XCTAssertEqual(weighted.loss, expected / 6, accuracy: 1e-14, "\(loss.kind.rawValue)")

            // Unit weights are the unweighted loss; doubling every weight doubles loss and gradient.
            let plain = lossAndGradients(c.net, loss, mode, x: c.x, y: c.y, rows: 6)
            let ones = lossAndGradients(c.net, loss, mode, x: c.x, y: c.y, rows: 6,
                                        options: PassOptions(sampleWeights: [Double](repeating: 1, count: 6)))
            XCTAssertEqual(ones.loss, plain.loss, accuracy: 1e-15)
            XCTAssertLessThan(relativeError(ones.gradients, plain.gradients).linf, 1e-15)
            let twos = lossAndGradients(c.net, loss, mode, x: c.x, y: c.y, rows: 6,
                                        options: PassOptions(sampleWeights: [Double](repeating: 2, count: 6)))
            XCTAssertEqual(twos.loss, 2 * plain.loss, accuracy: 1e-14)
            XCTAssertLessThan(relativeError(twos.gradients, plain.gradients.map { 2 * $0 }).linf, 1e-14)
        }
    }

    func testAZeroWeightRowDoesNotCount() throws {
        // Row 2 has weight 0: changing its target changes neither loss nor gradient.
        let loss = Loss.meanSquaredError
        let c = try makeCase(inputDim: 3, layers: [Dense(4, activation: .tanh), Dense(2)], rows: 4, loss: loss, seed: 2300)
        let options = PassOptions(sampleWeights: [1, 1, 0, 1])
        let a = lossAndGradients(c.net, loss, .probabilities, x: c.x, y: c.y, rows: 4, options: options)
        var moved = c.y
        moved[4] += 5; moved[5] -= 3
        let b = lossAndGradients(c.net, loss, .probabilities, x: c.x, y: moved, rows: 4, options: options)
        XCTAssertEqual(a.loss, b.loss)
        XCTAssertEqual(a.gradients, b.gradients)
        let unweighted = lossAndGradients(c.net, loss, .probabilities, x: c.x, y: moved, rows: 4)
        XCTAssertNotEqual(unweighted.loss, a.loss, "without weights the moved target counts")
    }

    // MARK: Regularizers

    func testKernelRegularizersPenaltyAndGradient() throws {
        let regularizers: [Regularizer] = [.l1(0.01), .l2(0.02), Regularizer(l1: 0.03, l2: 0.05)]
        for (n, r) in regularizers.enumerated() {
            let loss = Loss.meanSquaredError
            let layers = [Dense(4, activation: .tanh, kernelRegularizer: r), Dense(3), Dense(2, kernelRegularizer: .l2(0.1))]
            let c = try makeCase(inputDim: 3, layers: layers, rows: 5, loss: loss, seed: UInt64(2400 + 10 * n))
            // The penalty by hand: kernels only, never biases.
            let p = c.net.parameters.array
            let k0 = Array(p[0 ..< 12]), k2 = Array(p[c.net.parameterOffsets[2] ..< c.net.parameterOffsets[2] + 6])
            XCTAssertGreaterThan(k0.map(abs).min()!, 1e-5, "L1's kink at 0 must be clear of the finite differences")
            let expected = r.l1 * k0.map(abs).reduce(0, +) + r.l2 * k0.map { $0 * $0 }.reduce(0, +)
                + 0.1 * k2.map { $0 * $0 }.reduce(0, +)
            XCTAssertEqual(c.net.regularization(addGradients: false), expected, accuracy: 1e-15)
            // Biases are not penalized: changing one leaves the penalty as it is.
            c.net.parameters[12] += 1
            XCTAssertEqual(c.net.regularization(addGradients: false), expected, accuracy: 1e-15)
            c.net.parameters[12] -= 1

            let options = PassOptions(regularize: true)
            let checked = checkGradients(c, loss, .probabilities, "MSE + \(r)", options: options)
            // The penalty's gradient l1·sign(w) + 2·l2·w is added to the kernel's gradient only.
            let plain = lossAndGradients(c.net, loss, .probabilities, x: c.x, y: c.y, rows: c.rows).gradients
            var added = [Double](repeating: 0, count: p.count)
            for i in 0..<12 { added[i] = r.l1 * (k0[i] > 0 ? 1 : -1) + 2 * r.l2 * k0[i] }
            for i in 0..<6 { added[c.net.parameterOffsets[2] + i] = 2 * 0.1 * k2[i] }
            for i in 0..<p.count {
                XCTAssertEqual(checked.analytic[i] - plain[i], added[i], accuracy: 1e-14, "parameter \(i)")
            }
        }
    }

    func testRegularizerValidation() {
        XCTAssertNoThrow(try Regularizer(l1: 0, l2: 0).validate())
        XCTAssertTrue(Regularizer().isZero)
        XCTAssertEqual(Regularizer.l1(), Regularizer(l1: 0.01, l2: 0))
        XCTAssertEqual(Regularizer.l2(), Regularizer(l1: 0, l2: 0.01))
        assertNNError(.invalidArgument(""), messageContains: "-0.5", try Regularizer(l1: -0.5).validate())
        assertNNError(.invalidArgument(""), messageContains: "l2", try Regularizer(l2: .nan).validate())
        assertNNError(.invalidArgument(""), messageContains: "l1",
                      try Sequential(inputDim: 2).add(Dense(2, kernelRegularizer: Regularizer(l1: -1))))
    }

    // MARK: Forward pass

    func testForwardMatchesAHandWrittenForwardPass() throws {
        for (i, f) in (Activation.allCases + Self.newActivations).enumerated() {
            let layers = [Dense(6, activation: .tanh), Dense(5, activation: f), Dense(3, activation: f)]
            let c = try makeCase(inputDim: 4, layers: layers, rows: 5, loss: .meanSquaredError, seed: UInt64(700 + i))
            let (_, _, out) = lossAndGradients(c.net, .meanSquaredError, .probabilities, x: c.x, y: c.y, rows: c.rows)
            let expected = manualForward(c.net, layers: layers, x: c.x, rows: c.rows).post.last!
            XCTAssertLessThan(relativeError(out, expected).linf, 1e-13, "forward with \(f.label)")
        }
    }

    func testDeferredActivationLeavesLogits() throws {
        let layers = [Dense(4, activation: .tanh), Dense(3, activation: .softmax)]
        let c = try makeCase(inputDim: 2, layers: layers, rows: 3, loss: .categoricalCrossentropy, seed: 800)
        let mode = LossMode(deferLast: true, logits: true)
        let (_, _, logits) = lossAndGradients(c.net, .categoricalCrossentropy, mode, x: c.x, y: c.y, rows: c.rows)
        let pre = manualForward(c.net, layers: layers, x: c.x, rows: c.rows).pre.last!
        XCTAssertLessThan(relativeError(logits, pre).linf, 1e-13)
    }

    // MARK: Gradient with respect to the input

    func testInputGradientThroughTheChain() throws {
        let configurations: [([Dense], Loss)] = [
            ([Dense(5, activation: .tanh), Dense(6, activation: .relu), Dense(4, activation: .sigmoid),
              Dense(3, activation: .softmax)], .categoricalCrossentropy),
            ([Dense(6, activation: .sigmoid), Dense(4, activation: .softmax), Dense(2)], .meanSquaredError),
            ([Dense(5, activation: .relu), Dense(2, activation: .sigmoid)], .binaryCrossentropy),
        ]
        for (n, (layers, loss)) in configurations.enumerated() {
            let c = try makeCase(inputDim: 4, layers: layers, rows: 5, loss: loss, seed: UInt64(900 + 20 * n))
            let mode = LossMode.training(loss, last: layers.last!.activation)
            let (dx, paramGrads) = inputGradient(c.net, loss, mode, x: c.x, y: c.y, rows: c.rows)

            let numeric = numericInputGradient(c.net, loss, mode, x: c.x, y: c.y, rows: c.rows)
            XCTAssertGreaterThan(norm(numeric), 1e-4)
            let err = relativeError(dx, numeric)
            XCTAssertLessThan(err.l2, tolerance, "dx, configuration \(n): \(err)")
            XCTAssertLessThan(err.linf, tolerance, "dx, configuration \(n): \(err)")

            // The network's own backward computes the same parameter gradients.
            let viaNetwork = lossAndGradients(c.net, loss, mode, x: c.x, y: c.y, rows: c.rows).gradients
            XCTAssertEqual(viaNetwork, paramGrads, "configuration \(n)")
        }
    }

    // MARK: Batch conventions

    func testGradientIsOfTheBatchMean() throws {
        // Duplicating every row leaves the mean loss and its gradient unchanged.
        let loss = Loss.categoricalCrossentropy
        let c = try makeCase(inputDim: 3, layers: [Dense(4, activation: .tanh), Dense(3, activation: .softmax)],
                             rows: 4, loss: loss, seed: 1000)
        let mode = LossMode.training(loss, last: .softmax)
        let once = lossAndGradients(c.net, loss, mode, x: c.x, y: c.y, rows: 4)
        let twice = lossAndGradients(c.net, loss, mode, x: c.x + c.x, y: c.y + c.y, rows: 8)
        XCTAssertEqual(once.loss, twice.loss, accuracy: 1e-14)
        XCTAssertLessThan(relativeError(once.gradients, twice.gradients).linf, 1e-13)
    }

    func testBackwardOverwritesGradients() throws {
        // Two backward passes in a row give the same gradients (no accumulation).
        let loss = Loss.meanSquaredError
        let c = try makeCase(inputDim: 3, layers: [Dense(4, activation: .sigmoid), Dense(2)], rows: 3, loss: loss, seed: 1100)
        let a = lossAndGradients(c.net, loss, .probabilities, x: c.x, y: c.y, rows: 3).gradients
        let b = lossAndGradients(c.net, loss, .probabilities, x: c.x, y: c.y, rows: 3).gradients
        XCTAssertEqual(a, b)
    }
}
