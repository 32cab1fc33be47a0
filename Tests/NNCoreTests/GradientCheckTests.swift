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

    /// A network and data from `seed`. When a layer uses relu, the seeds
    /// from `seed` on are tried until every relu pre-activation is at least
    /// 1e-3 away from the kink and each relu layer has both active and
    /// inactive units, so that finite differences never straddle the kink.
    func makeCase(inputDim: Int, layers: [Dense], rows: Int, loss: Loss, seed: UInt64,
                  file: StaticString = #filePath, line: UInt = #line) throws -> Case {
        for s in seed ..< seed + 500 {
            let net = try makeNetwork(Double.self, inputDim: inputDim, layers: layers, seed: s, kernels: .reference)
            let x = uniformValues(rows * inputDim, -1, 1, seed: s &+ 1000)
            let y = targetValues(for: loss, rows: rows, outputs: net.outputDim, seed: s &+ 2000)
            let (margin, mixed) = reluMargin(net, layers: layers, x: x, rows: rows)
            if margin >= 1e-3 && mixed { return Case(net: net, layers: layers, x: x, y: y, rows: rows) }
        }
        XCTFail("no seed gives relu pre-activations away from the kink", file: file, line: line)
        throw NNError.invalidState("no usable seed")
    }

    /// Checks back-propagation against finite differences for every
    /// parameter; returns both gradients.
    @discardableResult
    func checkGradients(_ c: Case, _ loss: Loss, _ mode: LossMode, _ label: String,
                        file: StaticString = #filePath, line: UInt = #line) -> (analytic: [Double], numeric: [Double]) {
        let (value, analytic, _) = lossAndGradients(c.net, loss, mode, x: c.x, y: c.y, rows: c.rows)
        let numeric = numericGradients(c.net, loss, mode, x: c.x, y: c.y, rows: c.rows)
        XCTAssertTrue(value.isFinite, "\(label): loss \(value)", file: file, line: line)
        XCTAssertEqual(analytic.count, c.net.parameterCount, file: file, line: line)
        // A gradient check of a vanishing gradient proves nothing.
        XCTAssertGreaterThan(norm(numeric), 1e-4, "\(label): gradient too small to check", file: file, line: line)
        let err = relativeError(analytic, numeric)
        XCTAssertLessThan(err.l2, tolerance, "\(label) [\(mode)]: 2-norm relative error \(err.l2)", file: file, line: line)
        XCTAssertLessThan(err.linf, tolerance, "\(label) [\(mode)]: ∞-norm relative error \(err.linf)", file: file, line: line)
        return (analytic, numeric)
    }

    func testCheckerCatchesAWrongDerivative() throws {
        // The checker itself: a kernel table whose tanh backward uses 1 − y
        // instead of 1 − y² must fail the comparison by far.
        var broken = KernelTable<Double>.reference
        broken.activationBackward = { f, y, dy, rows, cols in
            if f == .tanh {
                for i in 0..<rows * cols { dy[i] *= 1 - y[i] }
            } else {
                Reference.activationBackward(f, y, dy, rows, cols)
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
        for (i, f) in Activation.allCases.enumerated() {
            let loss = Loss.meanSquaredError
            let layers = [Dense(4, activation: f), Dense(3, activation: f)]
            let c = try makeCase(inputDim: 3, layers: layers, rows: 5, loss: loss, seed: UInt64(100 + 10 * i))
            checkGradients(c, loss, .training(loss, last: f), "activation \(f.rawValue)")
        }
    }

    func testEachActivationBetweenLinearLayers() throws {
        // Activation in the middle of a deeper stack, so its backward feeds
        // a dx that earlier layers consume.
        for (i, f) in Activation.allCases.enumerated() {
            let loss = Loss.meanSquaredError
            let layers = [Dense(5), Dense(4, activation: f), Dense(2)]
            let c = try makeCase(inputDim: 3, layers: layers, rows: 6, loss: loss, seed: UInt64(200 + 10 * i))
            checkGradients(c, loss, .training(loss, last: .linear), "linear → \(f.rawValue) → linear")
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

    // MARK: Mean squared error

    func testMeanSquaredErrorWithEachOutputActivation() throws {
        for (i, f) in Activation.allCases.enumerated() {
            let loss = Loss.meanSquaredError
            let layers = [Dense(5, activation: .tanh), Dense(3, activation: f)]
            let c = try makeCase(inputDim: 4, layers: layers, rows: 7, loss: loss, seed: UInt64(300 + 10 * i))
            let mode = LossMode.training(loss, last: f)
            XCTAssertFalse(mode.deferLast || mode.logits, "MSE never fuses an activation")
            checkGradients(c, loss, mode, "MSE after \(f.rawValue)")
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

    // MARK: Forward pass

    func testForwardMatchesAHandWrittenForwardPass() throws {
        for (i, f) in Activation.allCases.enumerated() {
            let layers = [Dense(6, activation: .tanh), Dense(5, activation: f), Dense(3, activation: f)]
            let c = try makeCase(inputDim: 4, layers: layers, rows: 5, loss: .meanSquaredError, seed: UInt64(700 + i))
            let (_, _, out) = lossAndGradients(c.net, .meanSquaredError, .probabilities, x: c.x, y: c.y, rows: c.rows)
            let expected = manualForward(c.net, layers: layers, x: c.x, rows: c.rows).post.last!
            XCTAssertLessThan(relativeError(out, expected).linf, 1e-13, "forward with \(f.rawValue)")
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

    /// Runs the layer operations by hand, asking every layer (the first one
    /// included) for dx; returns ∂(mean loss)/∂x and the parameter gradients.
    func inputGradient(_ net: Network<Double>, _ loss: Loss, _ mode: LossMode,
                       x: [Double], y: [Double], rows: Int) -> (dx: [Double], parameters: [Double]) {
        net.lastActivationDeferred = mode.deferLast
        let ops = net.operations
        var activations = [Buffer<Double>(x)]
        for (i, op) in ops.enumerated() {
            let out = Buffer<Double>(count: rows * op.outputDim)
            op.forward(x: activations[i].pointer, y: out.pointer, rows: rows,
                       params: net.parameters.pointer + net.parameterOffsets[i], kernels: net.kernels)
            activations.append(out)
        }
        var dy = Buffer<Double>(count: rows * net.outputDim)
        _ = loss.evaluate(predictions: activations[ops.count].pointer, targets: y, rows: rows, cols: net.outputDim,
                          logits: mode.logits, grad: dy.pointer, divisor: Double(rows))
        let grads = Buffer<Double>(count: net.parameterCount)
        for i in stride(from: ops.count - 1, through: 0, by: -1) {
            let dx = Buffer<Double>(count: rows * ops[i].inputDim)
            ops[i].backward(x: activations[i].pointer, y: activations[i + 1].pointer, dy: dy.pointer, dx: dx.pointer,
                            rows: rows, params: net.parameters.pointer + net.parameterOffsets[i],
                            grads: grads.pointer + net.parameterOffsets[i], kernels: net.kernels)
            dy = dx
        }
        return (dy.array, grads.array)
    }

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

            let h = 1e-6
            var numeric = [Double]()
            for i in 0..<c.x.count {
                var xp = c.x, xm = c.x
                xp[i] += h; xm[i] -= h
                numeric.append((meanLoss(c.net, loss, mode, x: xp, y: c.y, rows: c.rows)
                                - meanLoss(c.net, loss, mode, x: xm, y: c.y, rows: c.rows)) / (2 * h))
            }
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
