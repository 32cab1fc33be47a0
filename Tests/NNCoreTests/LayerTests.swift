import XCTest
@testable import NNCore

/// BatchNormalization, Dropout and the step activation: forward semantics
/// against hand computations (PyTorch's BatchNorm1d and Dropout, Keras's
/// layers), finite-difference gradient checks in Double with the reference
/// kernels (the measure of GradientCheckTests: norm-ratio relative error
/// below 1e-6 in the 2-norm and the ∞-norm, h = 1e-6), and their weights.
final class LayerTests: XCTestCase {

    /// Sets every γ and β of the network's BatchNorm layers to values away
    /// from the initial 1 and 0, so the check covers general parameters.
    func randomizeBatchNorm(_ net: Network<Double>, seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        for (i, op) in net.operations.enumerated() where op is BatchNormOperation<Double> {
            let d = op.inputDim, base = net.parameterOffsets[i]
            for j in 0..<d {
                net.parameters[base + j] = rng.uniform(0.5, 2) * (j % 2 == 0 ? 1 : -1)   // γ
                net.parameters[base + d + j] = rng.uniform(-1, 1)                       // β
            }
        }
    }

    /// Sets the running statistics of the network's BatchNorm layers to
    /// values away from the initial 0 and 1.
    func randomizeRunningStatistics(_ net: Network<Double>, seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        for (i, op) in net.operations.enumerated() where op is BatchNormOperation<Double> {
            let d = op.inputDim, base = net.stateOffsets[i]
            for j in 0..<d {
                net.state[base + j] = rng.uniform(-0.5, 0.5)
                net.state[base + d + j] = rng.uniform(0.3, 2)
            }
        }
    }

    func forward(_ net: Network<Double>, _ x: [Double], rows: Int, training: Bool, seed: UInt64 = 0) -> [Double] {
        var context = ForwardContext(training: training, rng: RandomGenerator(seed: seed))
        return x.withUnsafeBufferPointer { xb in
            let y = net.forward(xb.baseAddress!, rows: rows, context: &context)
            return Array(UnsafeBufferPointer(start: y, count: rows * net.outputDim))
        }
    }

    // MARK: BatchNormalization forward

    /// x [4, 2]: column 0 is 1, 3, −2, 6 (mean 2, squared deviations
    /// 1 + 1 + 16 + 16 = 34: biased variance 8.5, unbiased 34/3); column 1 is
    /// 2, −1, 0.5, 4 (mean 1.375, squared deviations 13.6875: biased
    /// 3.421875, unbiased 4.5625).
    let bnX: [Double] = [1, 2, 3, -1, -2, 0.5, 6, 4]
    let bnMean = [2.0, 1.375]
    let bnBiased = [8.5, 3.421875]
    let bnUnbiased = [34.0 / 3, 4.5625]

    func testBatchNormTrainingForwardByHand() throws {
        let net = try makeNetwork(Double.self, inputDim: 2, layers: [BatchNormalization()], seed: 1, kernels: .reference)
        // γ = 1, β = 0, running mean 0, running variance 1 initially.
        XCTAssertEqual(net.parameters.array, [1, 1, 0, 0])
        XCTAssertEqual(net.state.array, [0, 0, 1, 1])
        let y = forward(net, bnX, rows: 4, training: true)
        for r in 0..<4 {
            for j in 0..<2 {
                let expected = (bnX[r * 2 + j] - bnMean[j]) / (bnBiased[j] + 1e-5).squareRoot()
                XCTAssertEqual(y[r * 2 + j], expected, accuracy: 1e-14, "row \(r), feature \(j)")
            }
        }
        // Running estimates, momentum 0.1 with the unbiased variance (PyTorch):
        // mean 0.9·0 + 0.1·μ, variance 0.9·1 + 0.1·σ²·n/(n − 1).
        let state = net.state.array
        XCTAssertEqual(state[0], 0.2, accuracy: 1e-15)
        XCTAssertEqual(state[1], 0.1375, accuracy: 1e-15)
        XCTAssertEqual(state[2], 0.9 + 3.4 / 3, accuracy: 1e-14)
        XCTAssertEqual(state[3], 0.9 + 0.45625, accuracy: 1e-14)

        // A second training batch moves the estimates again from there.
        let x2: [Double] = [0, 1, 2, 3]     // column 0: 0, 2 (mean 1, unbiased 2); column 1: 1, 3 (mean 2, unbiased 2)
        _ = forward(net, x2, rows: 2, training: true)
        let s2 = net.state.array
        XCTAssertEqual(s2[0], 0.9 * 0.2 + 0.1 * 1, accuracy: 1e-15)
        XCTAssertEqual(s2[1], 0.9 * 0.1375 + 0.1 * 2, accuracy: 1e-15)
        XCTAssertEqual(s2[2], 0.9 * (0.9 + 3.4 / 3) + 0.1 * 2, accuracy: 1e-14)
        XCTAssertEqual(s2[3], 0.9 * (0.9 + 0.45625) + 0.1 * 2, accuracy: 1e-14)
    }

    func testBatchNormInferenceUsesRunningStatisticsAndLeavesThem() throws {
        let net = try makeNetwork(Double.self, inputDim: 2, layers: [BatchNormalization()], seed: 1, kernels: .reference)
        // γ = (2, 0.5), β = (−1, 3); running mean (0.5, −1), running variance (4, 0.25).
        for (i, v) in [2.0, 0.5, -1, 3].enumerated() { net.parameters[i] = v }
        for (i, v) in [0.5, -1, 4, 0.25].enumerated() { net.state[i] = v }
        let y = forward(net, bnX, rows: 4, training: false)
        let gamma = [2.0, 0.5], beta = [-1.0, 3], mean = [0.5, -1.0], variance = [4.0, 0.25]
        for r in 0..<4 {
            for j in 0..<2 {
                let expected = gamma[j] * (bnX[r * 2 + j] - mean[j]) / (variance[j] + 1e-5).squareRoot() + beta[j]
                XCTAssertEqual(y[r * 2 + j], expected, accuracy: 1e-14)
            }
        }
        XCTAssertEqual(net.state.array, [0.5, -1, 4, 0.25], "inference leaves the running statistics alone")
        // Row by row gives the same (no batch statistics in inference).
        for r in 0..<4 {
            let one = forward(net, Array(bnX[r * 2 ..< r * 2 + 2]), rows: 1, training: false)
            XCTAssertEqual(one, Array(y[r * 2 ..< r * 2 + 2]))
        }
        // Training mode normalizes with the batch instead.
        let t = forward(net, bnX, rows: 4, training: true)
        XCTAssertEqual(t[0], 2 * (1 - 2) / (8.5 + 1e-5).squareRoot() - 1, accuracy: 1e-14)
    }

    func testBatchNormOneRowTrainingBatchLeavesRunningStatistics() throws {
        // One row has no variance (PyTorch refuses such a batch): the output
        // is β, and the running estimates are not pulled towards 0.
        let net = try makeNetwork(Double.self, inputDim: 2, layers: [BatchNormalization()], seed: 1, kernels: .reference)
        for (i, v) in [2.0, 0.5, -1, 3].enumerated() { net.parameters[i] = v }
        for (i, v) in [0.5, -1, 4, 0.25].enumerated() { net.state[i] = v }
        let y = forward(net, [7, -3], rows: 1, training: true)
        XCTAssertEqual(y, [-1, 3])
        XCTAssertEqual(net.state.array, [0.5, -1, 4, 0.25])
    }

    func testBatchNormMomentumAndEpsilonOptions() throws {
        let layer = BatchNormalization(momentum: 0.25, epsilon: 0.5)
        let net = try makeNetwork(Double.self, inputDim: 2, layers: [layer], seed: 1, kernels: .reference)
        let y = forward(net, bnX, rows: 4, training: true)
        XCTAssertEqual(y[0], (1 - 2) / (8.5 + 0.5).squareRoot(), accuracy: 1e-14)
        XCTAssertEqual(net.state[0], 0.25 * 2, accuracy: 1e-15)
        XCTAssertEqual(net.state[2], 0.75 + 0.25 * 34 / 3, accuracy: 1e-14)
        for bad in [BatchNormalization(momentum: -0.1), BatchNormalization(momentum: 1.5),
                    BatchNormalization(momentum: .nan)] {
            assertNNError(.invalidArgument(""), messageContains: "momentum", try bad.outputDim(inputDim: 3))
        }
        assertNNError(.invalidArgument(""), messageContains: "epsilon", try BatchNormalization(epsilon: 0).outputDim(inputDim: 3))
        assertNNError(.invalidArgument(""), messageContains: "-1", try Sequential(inputDim: 2).add(BatchNormalization(epsilon: -1)))
    }

    func testBatchNormInASequentialFit() throws {
        // A model of one BatchNorm layer, one full-batch epoch without
        // shuffling: the running statistics move once, from the batch.
        let model = try Sequential(inputDim: 2, seed: 3)
        try model.add(BatchNormalization())
        try model.compile(loss: .meanSquaredError, optimizer: .sgd(learningRate: 0.1))
        let x = try Tensor(shape: [4, 2], scalars: bnX.map { Float($0) })
        let y = try Tensor(shape: [4, 2], scalars: [0.5, 1, -1, 0, 2, -0.5, 1, 1])
        try model.fit(x: x, y: y, options: FitOptions(epochs: 1, batchSize: 4, shuffle: false))
        let mean = try model.weight(2), variance = try model.weight(3)
        for j in 0..<2 {
            XCTAssertEqual(Double(mean[j]), 0.1 * bnMean[j], accuracy: 1e-6)
            XCTAssertEqual(Double(variance[j]), 0.9 + 0.1 * bnUnbiased[j], accuracy: 1e-6)
        }
        // γ and β moved (one SGD step), and predict uses them with the running statistics.
        let gamma = try model.weight(0), beta = try model.weight(1)
        XCTAssertNotEqual(gamma, [1, 1])
        XCTAssertNotEqual(beta, [0, 0])
        let p = try model.predict(x)
        for r in 0..<4 {
            for j in 0..<2 {
                let xhat = (bnX[r * 2 + j] - Double(mean[j])) / (Double(variance[j]) + 1e-5).squareRoot()
                XCTAssertEqual(Double(p[r, j]), Double(gamma[j]) * xhat + Double(beta[j]), accuracy: 1e-5)
            }
        }
        // Neither predict nor evaluate changes the running statistics.
        _ = try model.evaluate(x: x, y: y)
        XCTAssertEqual(try model.weight(2), mean)
        XCTAssertEqual(try model.weight(3), variance)
    }

    // MARK: BatchNormalization gradients

    func testBatchNormGradientsInTrainingMode() throws {
        // Every loss evaluation runs a training-mode forward (batch
        // statistics); the running statistics it updates do not enter the output.
        let options = PassOptions.training()
        let loss = Loss.meanSquaredError
        let configurations: [[any Layer]] = [
            [Dense(4), BatchNormalization(), ActivationLayer(.tanh), Dense(2)],
            [Dense(3, activation: .tanh), BatchNormalization()],
            [Dense(5, activation: .sigmoid), BatchNormalization(momentum: 0.3, epsilon: 1e-3), Dense(3, activation: .tanh),
             BatchNormalization(), Dense(2)],
        ]
        for (n, layers) in configurations.enumerated() {
            let c = try makeLayerCase(inputDim: 3, layers: layers, rows: 6, loss: loss, seed: UInt64(10 + n), options: options)
            randomizeBatchNorm(c.net, seed: UInt64(20 + n))
            checkLayerGradients(c, loss, .probabilities, "BatchNorm training, configuration \(n)", options: options)
        }
    }

    func testBatchNormInputGradientInTrainingMode() throws {
        // dx through the batch statistics: every row's output depends on
        // every row's input.
        let options = PassOptions.training()
        for (n, loss) in [Loss.meanSquaredError, .sparseCategoricalCrossentropy].enumerated() {
            let last: any Layer = loss == .meanSquaredError ? Dense(2) : Dense(3, activation: .softmax)
            let layers: [any Layer] = [BatchNormalization(), Dense(4, activation: .tanh), last]
            let c = try makeLayerCase(inputDim: 3, layers: layers, rows: 5, loss: loss, seed: UInt64(30 + n), options: options)
            randomizeBatchNorm(c.net, seed: 31)
            let mode = LossMode.training(loss, last: last.activation)
            checkInputGradient(c, loss, mode, "BatchNorm first, training, \(loss.kind.rawValue)", options: options)
            // The batch-statistics gradient sums to zero over the rows of each feature.
            let dx = inputGradient(c.net, loss, mode, x: c.x, y: c.y, rows: 5, options: options).dx
            for j in 0..<3 {
                XCTAssertEqual((0..<5).map { dx[$0 * 3 + j] }.reduce(0, +), 0, accuracy: 1e-14)
            }
        }
    }

    func testBatchNormGradientsInInferenceMode() throws {
        let loss = Loss.meanSquaredError
        let layers: [any Layer] = [BatchNormalization(), Dense(4), BatchNormalization(), ActivationLayer(.tanh), Dense(2)]
        let c = try makeLayerCase(inputDim: 3, layers: layers, rows: 5, loss: loss, seed: 40)
        randomizeBatchNorm(c.net, seed: 41)
        randomizeRunningStatistics(c.net, seed: 42)
        let before = c.net.state.array
        checkLayerGradients(c, loss, .probabilities, "BatchNorm inference")
        checkInputGradient(c, loss, .probabilities, "BatchNorm inference, dx")
        XCTAssertEqual(c.net.state.array, before)
        // The two modes are different functions of the parameters.
        let inference = lossAndGradients(c.net, loss, .probabilities, x: c.x, y: c.y, rows: 5)
        let training = lossAndGradients(c.net, loss, .probabilities, x: c.x, y: c.y, rows: 5, options: .training())
        XCTAssertGreaterThan(relativeError(inference.gradients, training.gradients).linf, 1e-3)
    }

    // MARK: Dropout

    func testDropoutGradientWithAFixedMask() throws {
        // Every pass starts from a copy of the same context, so every pass
        // draws the same mask: the loss is then a smooth function.
        let loss = Loss.meanSquaredError
        for (n, rate) in [0.4, 0.1, 0.75].enumerated() {
            let options = PassOptions.training(seed: UInt64(50 + n))
            let layers: [any Layer] = [Dense(6, activation: .tanh), Dropout(rate), Dense(2)]
            let c = try makeLayerCase(inputDim: 3, layers: layers, rows: 5, loss: loss, seed: UInt64(60 + n), options: options)
            let masked = checkLayerGradients(c, loss, .probabilities, "Dropout(\(rate))", options: options)
            // The mask is real: some units dropped, the others scaled by 1 / (1 − rate).
            let hidden = Array(UnsafeBufferPointer(start: c.net.layerOutput(0), count: 30))
            let dropped = Array(UnsafeBufferPointer(start: c.net.layerOutput(1), count: 30))
            XCTAssertTrue(dropped.contains(0) && dropped.contains { $0 != 0 }, "rate \(rate): \(dropped)")
            for (h, d) in zip(hidden, dropped) where d != 0 {
                XCTAssertEqual(d, h / (1 - rate), accuracy: 1e-14)
            }
            // Without the mask (inference) the gradient differs.
            let plain = lossAndGradients(c.net, loss, .probabilities, x: c.x, y: c.y, rows: 5).gradients
            XCTAssertGreaterThan(relativeError(plain, masked).linf, 1e-3)

            // dx through a first-layer Dropout.
            let first: [any Layer] = [Dropout(rate), Dense(4, activation: .tanh), Dense(2)]
            let d = try makeLayerCase(inputDim: 6, layers: first, rows: 4, loss: loss, seed: UInt64(70 + n), options: options)
            checkInputGradient(d, loss, .probabilities, "Dropout(\(rate)) first", options: options)
            let dx = inputGradient(d.net, loss, .probabilities, x: d.x, y: d.y, rows: 4, options: options).dx
            XCTAssertTrue(dx.contains(0), "dropped inputs get no gradient")
        }
    }

    func testDropoutIsTheIdentityInInference() throws {
        let net = try makeNetwork(Double.self, inputDim: 7, layers: [Dropout(0.5)], seed: 1, kernels: .reference)
        let x = uniformValues(7 * 9, -3, 3, seed: 2)
        XCTAssertEqual(forward(net, x, rows: 9, training: false), x)
        // and so is its backward
        let (dx, _) = inputGradient(net, .meanSquaredError, .probabilities, x: x, y: [Double](repeating: 0, count: 63), rows: 9)
        for (g, v) in zip(dx, x) { XCTAssertEqual(g, 2 * v / 63, accuracy: 1e-15) }
    }

    func testDropoutTrainingOutputIsZeroOrScaled() throws {
        for rate in [0.3, 0.5, 0.9] {
            let n = 100_000
            let net = try makeNetwork(Double.self, inputDim: 100, layers: [Dropout(rate)], seed: 1, kernels: .reference)
            let x = uniformValues(n, 0.5, 2, seed: 3)
            let y = forward(net, x, rows: n / 100, training: true, seed: 4)
            var zeros = 0
            for (v, u) in zip(x, y) {
                if u == 0 { zeros += 1 } else { XCTAssertEqual(u, v / (1 - rate), accuracy: 1e-14 * u) }
            }
            // The dropped fraction is the rate (binomial: σ = √(rate(1 − rate)/n) ≤ 0.0016).
            XCTAssertEqual(Double(zeros) / Double(n), rate, accuracy: 0.01, "rate \(rate)")
            // Inverted scaling keeps the mean: E[y] = E[x].
            let ratio = y.reduce(0, +) / x.reduce(0, +)
            XCTAssertEqual(ratio, 1, accuracy: 0.05, "rate \(rate)")
        }
    }

    func testDropoutMasksFollowTheSeed() throws {
        let net = try makeNetwork(Float.self, inputDim: 50, layers: [Dropout(0.5)], seed: 1, kernels: .production)
        let x = [Float](repeating: 1, count: 500)
        func mask(_ seed: UInt64) -> [Float] {
            var context = ForwardContext(training: true, rng: RandomGenerator(seed: seed))
            return x.withUnsafeBufferPointer { Array(UnsafeBufferPointer(start: net.forward($0.baseAddress!, rows: 10,
                                                                                            context: &context), count: 500)) }
        }
        XCTAssertEqual(mask(7), mask(7), "same seed, same mask")
        XCTAssertNotEqual(mask(7), mask(8))
        // The context's generator advances: two passes with one context draw two masks.
        var context = ForwardContext(training: true, rng: RandomGenerator(seed: 7))
        let first = x.withUnsafeBufferPointer {
            Array(UnsafeBufferPointer(start: net.forward($0.baseAddress!, rows: 10, context: &context), count: 500))
        }
        let second = x.withUnsafeBufferPointer {
            Array(UnsafeBufferPointer(start: net.forward($0.baseAddress!, rows: 10, context: &context), count: 500))
        }
        XCTAssertEqual(first, mask(7))
        XCTAssertNotEqual(first, second)
        XCTAssertTrue(first.allSatisfy { $0 == 0 || $0 == 2 })
    }

    func testDropoutRateZeroIsTheIdentityAndDrawsNothing() throws {
        let net = try makeNetwork(Double.self, inputDim: 4, layers: [Dropout(0)], seed: 1, kernels: .reference)
        let x = uniformValues(20, -1, 1, seed: 2)
        var context = ForwardContext(training: true, rng: RandomGenerator(seed: 3))
        let y = x.withUnsafeBufferPointer {
            Array(UnsafeBufferPointer(start: net.forward($0.baseAddress!, rows: 5, context: &context), count: 20))
        }
        XCTAssertEqual(y, x)
        var untouched = RandomGenerator(seed: 3)
        XCTAssertEqual(context.rng.next(), untouched.next())
    }

    func testDropoutRateValidation() {
        for bad in [1.0, 1.5, -0.1, .nan, .infinity] {
            assertNNError(.invalidArgument(""), messageContains: "dropout rate", try Dropout(bad).outputDim(inputDim: 3))
        }
        assertNNError(.invalidArgument(""), messageContains: "got 1.0", try Sequential(inputDim: 3).add(Dropout(1)))
        XCTAssertEqual(try Dropout(0.999).outputDim(inputDim: 3), 3)
    }

    func testDropoutInASequentialModel() throws {
        // Training drops (the loss of a fit differs from the same fit without
        // dropout); predict is deterministic and ignores the layer.
        func model(_ rate: Double?) throws -> Sequential {
            let m = try Sequential(inputDim: 3, seed: 9)
            try m.add(Dense(16, activation: .tanh))
            if let rate { try m.add(Dropout(rate)) }
            try m.add(Dense(1))
            try m.compile(loss: .meanSquaredError, optimizer: .sgd(learningRate: 0.05))
            return m
        }
        let with = try model(0.5), without = try model(nil)
        XCTAssertEqual(with.parameterCount, without.parameterCount)
        for i in 0..<4 { XCTAssertEqual(try with.weight(i), try without.weight(i)) }
        let x = try Tensor(shape: [8, 3], scalars: uniformValues(24, -1, 1, seed: 1).map { Float($0) })
        let y = try Tensor(shape: [8, 1], scalars: uniformValues(8, -1, 1, seed: 2).map { Float($0) })
        XCTAssertEqual(try with.predict(x), try without.predict(x))
        XCTAssertEqual(try with.predict(x), try with.predict(x))
        XCTAssertEqual(try with.evaluate(x: x, y: y), try without.evaluate(x: x, y: y))
        let options = FitOptions(epochs: 1, batchSize: 8, shuffle: false)
        let a = try with.fit(x: x, y: y, options: options), b = try without.fit(x: x, y: y, options: options)
        XCTAssertNotEqual(a.values["loss"], b.values["loss"], "dropout is active in fit")
        XCTAssertNotEqual(try with.weight(0), try without.weight(0))
    }

    // MARK: Step

    func testStepForwardValues() {
        let z: [Double] = [-2, -1e-300, 0, -0.0, 1e-300, 0.5, 3]
        let b = Buffer<Double>(z), out = Buffer<Double>(count: z.count)
        KernelTable<Double>.reference.activationForward(.step, b.pointer, out.pointer, 1, z.count)
        XCTAssertEqual(out.array, [0, 0, 0, 0, 1, 1, 1])
        XCTAssertEqual(b.array, z, "out of place leaves z alone")
        let f = Buffer<Float>([-1, 0, 2, 1e-30])
        KernelTable<Float>.production.activationForward(.step, f.pointer, f.pointer, 2, 2)
        XCTAssertEqual(f.array, [0, 0, 1, 1])
        XCTAssertFalse(Activation.step.isDifferentiable)
        XCTAssertEqual(Activation(name: "step"), .step)
    }

    func testStepPredictsButRefusesToTrain() throws {
        // A perceptron: step(x₀ + x₁ − 1.5) is AND.
        let model = try Sequential(inputDim: 2)
        try model.add(Dense(1, activation: .step))
        try model.setWeight(0, [1, 1])
        try model.setWeight(1, [-1.5])
        let x = try Tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), y = try Tensor([[0], [0], [0], [1]])
        XCTAssertEqual(try model.predict(x).scalars, [0, 0, 0, 1])
        try model.compile(loss: .meanSquaredError, optimizer: .sgd())
        XCTAssertEqual(try model.evaluate(x: x, y: y)[0], 0, "evaluation is inference: allowed")
        assertNNError(.invalidState(""), messageContains: "step", try model.fit(x: x, y: y))
        assertNNError(.invalidState(""), messageContains: "dense", try model.fit(x: x, y: y))
        XCTAssertEqual(try model.weight(0), [1, 1], "a refused fit changes nothing")
        XCTAssertTrue(model.history.epochs.isEmpty)

        // The same through an Activation layer.
        let layered = try Sequential(inputDim: 2)
        try layered.add(Dense(3))
        try layered.add(ActivationLayer(.step))
        try layered.add(Dense(1))
        try layered.compile(loss: .meanSquaredError, optimizer: .adam())
        assertNNError(.invalidState(""), messageContains: "activation uses the step activation",
                      try layered.fit(x: x, y: y))
    }

    // MARK: Weights of the new layers

    func testBatchNormWeightOrderAndFlags() throws {
        let model = try Sequential(inputDim: 2)
        try model.add(Dense(3))
        try model.add(BatchNormalization())
        try model.add(Dropout(0.2))
        try model.add(Dense(1))
        XCTAssertEqual(model.weightSpecs.map(\.name),
                       ["kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance", "kernel", "bias"])
        XCTAssertEqual(model.weightSpecs.map(\.trainable), [true, true, true, true, false, false, true, true])
        XCTAssertEqual(model.weightShapes, [[2, 3], [3], [3], [3], [3], [3], [3, 1], [1]])
        XCTAssertEqual(model.parameterCount, 6 + 3 + 3 + 3 + 3 + 1)
        XCTAssertEqual(model.nonTrainableCount, 6)
        XCTAssertEqual(try model.weight(2), [1, 1, 1])
        XCTAssertEqual(try model.weight(3), [0, 0, 0])
        XCTAssertEqual(try model.weight(4), [0, 0, 0])
        XCTAssertEqual(try model.weight(5), [1, 1, 1])

        // Statistics can be set (a negative mean is fine, a negative variance is not).
        try model.setWeight(4, [-1, 0.5, 2])
        try model.setWeight(5, [0, 4, 0.25])
        XCTAssertEqual(try model.weight(4), [-1, 0.5, 2])
        XCTAssertEqual(try model.weight(5), [0, 4, 0.25])
        assertNNError(.invalidArgument(""), messageContains: "moving_variance", try model.setWeight(5, [1, -0.5, 1]))
        XCTAssertEqual(try model.weight(5), [0, 4, 0.25], "a rejected array changes nothing")
        // The trainable arrays around it are unaffected by the state writes.
        XCTAssertEqual(try model.weight(2), [1, 1, 1])
        XCTAssertEqual(try model.weight(7), [0])
        XCTAssertEqual(model.weightSpecs.count, 8)
        assertNNError(.invalidArgument(""), messageContains: "out of range", try model.weight(8))

        // predict reads the statistics that were set: with W = I-like weights.
        try model.setWeight(0, [1, 0, 0, 0, 1, 0])
        try model.setWeight(1, [0, 0, 0])
        try model.setWeight(6, [1, 1, 1])
        try model.setWeight(7, [0])
        let p = try model.predict(try Tensor([[3, 1]]))
        // BN: ((3 + 1)/√1e-5, (1 − 0.5)/√(4 + 1e-5), (0 − 2)/√(0.25 + 1e-5)); summed by the last Dense.
        let expected = 4 / 1e-5.squareRoot() + 0.5 / (4 + 1e-5).squareRoot() - 2 / (0.25 + 1e-5).squareRoot()
        XCTAssertEqual(Double(p[0, 0]), expected, accuracy: 1e-5 * abs(expected))
    }

    func testSummaryCountsNonTrainableParameters() throws {
        let model = try Sequential(inputDim: 2)
        try model.add(Dense(3, activation: .relu))
        try model.add(BatchNormalization())
        try model.add(Dropout(0.5))
        try model.add(ActivationLayer(.tanh))
        try model.add(Dense(1))
        XCTAssertEqual(model.layerNames, ["dense", "batch_normalization", "dropout", "activation", "dense_1"])
        func line(_ name: String, _ shape: String, _ params: Int) -> String {
            name + String(repeating: " ", count: 46 - name.count) + shape
                + String(repeating: " ", count: 22 - shape.count) + "\(params)"
        }
        let rule = String(repeating: "_", count: 80), double = String(repeating: "=", count: 80)
        let expected = [
            "Model: \"sequential\"",
            rule,
            " Layer (type)" + String(repeating: " ", count: 33) + "Output Shape" + String(repeating: " ", count: 10) + "Param #",
            double,
            line(" dense (Dense, relu)", "(None, 3)", 9),
            line(" batch_normalization (BatchNormalization)", "(None, 3)", 12),
            line(" dropout (Dropout 0.5)", "(None, 3)", 0),
            line(" activation (Activation, tanh)", "(None, 3)", 0),
            line(" dense_1 (Dense)", "(None, 1)", 4),
            double,
            "Total params: 25",
            "Trainable params: 19",
            "Non-trainable params: 6",
            rule,
        ].joined(separator: "\n") + "\n"
        XCTAssertEqual(model.summary(), expected)
    }

    // MARK: Determinism

    func testSameSeedGivesBitIdenticalTrainingWithDropoutAndBatchNorm() throws {
        let x = try Tensor(shape: [40, 4], scalars: uniformValues(160, -2, 2, seed: 1).map { Float($0) })
        let y = try Tensor(shape: [40, 1], scalars: (0..<40).map { Float($0 % 2) })
        func train(seed: UInt64) throws -> ([[Float]], [Double], Tensor) {
            let m = try Sequential(inputDim: 4, seed: seed)
            try m.add(Dense(8))
            try m.add(BatchNormalization())
            try m.add(ActivationLayer(.relu))
            try m.add(Dropout(0.3))
            try m.add(Dense(8, activation: .elu(alpha: 1)))
            try m.add(Dropout(0.2))
            try m.add(Dense(1, activation: .sigmoid))
            try m.compile(loss: .binaryCrossentropy, optimizer: .adam(learningRate: 0.01), metrics: [.accuracy])
            let h = try m.fit(x: x, y: y, options: FitOptions(epochs: 6, batchSize: 7, validationSplit: 0.25))
            let weights = try (0..<m.weightSpecs.count).map { try m.weight($0) }
            return (weights, try XCTUnwrap(h.values["loss"]) + XCTUnwrap(h.values["val_loss"]), try m.predict(x))
        }
        let a = try train(seed: 21), b = try train(seed: 21), c = try train(seed: 22)
        XCTAssertEqual(a.0, b.0, "same seed: same weights and running statistics, bit for bit")
        XCTAssertEqual(a.1, b.1, "same seed: same logged losses")
        XCTAssertEqual(a.2, b.2)
        XCTAssertNotEqual(a.0, c.0)
        XCTAssertNotEqual(a.1, c.1)
        // The running statistics did move during training.
        XCTAssertNotEqual(a.0[4], [Float](repeating: 0, count: 8))
    }
}
