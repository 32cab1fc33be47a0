import XCTest
@testable import NNCore

/// `Sequential` end to end: training, determinism, logs, callbacks, errors,
/// predict/evaluate and the summary.
final class SequentialTests: XCTestCase {
    func xor() throws -> (x: Tensor, y: Tensor) {
        (try Tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), try Tensor([[0], [1], [1], [0]]))
    }

    func xorModel(seed: UInt64, loss: Loss, optimizer: OptimizerOptions) throws -> Sequential {
        let model = try Sequential(inputDim: 2, seed: seed)
        try model.add(Dense(8, activation: .tanh))
        try model.add(Dense(1, activation: .sigmoid))
        try model.compile(loss: loss, optimizer: optimizer, metrics: [.accuracy])
        return model
    }

    func allWeights(_ model: Sequential) throws -> [[Float]] {
        try (0..<model.weightShapes.count).map { try model.weight($0) }
    }

    /// Mean squared error of the model's predictions against XOR.
    func xorError(_ model: Sequential) throws -> Double {
        let (x, y) = try xor()
        let p = try model.predict(x)
        return (0..<4).map { Double(p[$0, 0] - y[$0, 0]) }.map { $0 * $0 }.reduce(0, +) / 4
    }

    // MARK: Training

    func testXORTrainsWithAdam() throws {
        let (x, y) = try xor()
        let model = try xorModel(seed: 1, loss: .meanSquaredError, optimizer: .adam(learningRate: 0.05))
        XCTAssertGreaterThan(try xorError(model), 0.1, "an untrained model does not solve XOR")
        try model.fit(x: x, y: y, options: FitOptions(epochs: 500, batchSize: 4))
        let mse = try model.evaluate(x: x, y: y)
        XCTAssertLessThan(mse[0], 0.01)
        XCTAssertEqual(mse[0], try xorError(model), accuracy: 1e-6, "evaluate's loss is the MSE of predict")
        XCTAssertEqual(mse[1], 1, "accuracy")
    }

    func testXORTrainsWithSGDMomentum() throws {
        let (x, y) = try xor()
        let model = try xorModel(seed: 2, loss: .meanSquaredError, optimizer: .sgd(learningRate: 0.5, momentum: 0.9))
        try model.fit(x: x, y: y, options: FitOptions(epochs: 600, batchSize: 4))
        XCTAssertLessThan(try xorError(model), 0.01)
    }

    func testXORTrainsWithBinaryCrossentropy() throws {
        let (x, y) = try xor()
        let model = try xorModel(seed: 3, loss: .binaryCrossentropy, optimizer: .adam(learningRate: 0.05))
        let history = try model.fit(x: x, y: y, options: FitOptions(epochs: 400, batchSize: 2))
        let losses = try XCTUnwrap(history.values["loss"])
        XCTAssertLessThan(losses.last!, losses.first! / 10, "the loss falls")
        XCTAssertLessThan(try xorError(model), 0.01)
        XCTAssertEqual(history.values["accuracy"]?.last, 1)
    }

    func testSoftmaxClassifierTrains() throws {
        // Three well separated clusters, sparse labels.
        var rows: [[Float]] = [], labels: [[Float]] = []
        var rng = RandomGenerator(seed: 5)
        let centers: [[Float]] = [[2, 0], [-2, 1], [0, -2]]
        for i in 0..<60 {
            let c = i % 3
            rows.append([centers[c][0] + Float(rng.uniform(-0.5, 0.5)), centers[c][1] + Float(rng.uniform(-0.5, 0.5))])
            labels.append([Float(c)])
        }
        let x = try Tensor(rows), y = try Tensor(labels)
        let model = try Sequential(inputDim: 2, seed: 6)
        try model.add(Dense(8, activation: .relu))
        try model.add(Dense(3, activation: .softmax))
        try model.compile(loss: .sparseCategoricalCrossentropy, optimizer: .adam(learningRate: 0.05), metrics: [.accuracy])
        try model.fit(x: x, y: y, options: FitOptions(epochs: 60, batchSize: 16))
        let result = try model.evaluate(x: x, y: y)
        XCTAssertEqual(model.metricNames, ["loss", "accuracy"])
        XCTAssertLessThan(result[0], 0.1)
        XCTAssertEqual(result[1], 1)
        // Softmax outputs: rows of probabilities.
        let p = try model.predict(x)
        for r in 0..<60 {
            XCTAssertEqual((0..<3).map { p[r, $0] }.reduce(0, +), 1, accuracy: 1e-5)
        }
    }

    func testFitIsMiniBatchGradientDescent() throws {
        // fit without shuffling, 7 rows in batches of 3 (the last one holds 1
        // row), against the same steps taken by hand: Double reference network,
        // gradient of each batch's mean loss, the PyTorch update formulas of
        // OptimizerTests.
        let layers = [Dense(5, activation: .tanh), Dense(3, activation: .softmax)]
        let rows = 7, batch = 3, epochs = 2
        let xs = uniformValues(rows * 4, -1, 1, seed: 31).map { Float($0) }
        let ys = targetValues(for: .categoricalCrossentropy, rows: rows, outputs: 3, seed: 32).map { Float($0) }
        for options in [OptimizerOptions.sgd(learningRate: 0.3, momentum: 0.9, nesterov: true, weightDecay: 0.01),
                        .adam(learningRate: 0.05, weightDecay: 0.02)] {
            let model = try Sequential(inputDim: 4, seed: 33)
            for l in layers { try model.add(l) }
            try model.compile(loss: .categoricalCrossentropy, optimizer: options)
            let initial = try allWeights(model).flatMap { $0 }.map(Double.init)

            let net = try makeNetwork(Double.self, inputDim: 4, layers: layers, seed: 0, kernels: .reference)
            var offset = 0
            for i in 0..<model.weightShapes.count {
                for v in try model.weight(i) { net.parameters[offset] = Double(v); offset += 1 }
            }
            var sgd = TorchSGD(lr: options.learningRate, momentum: options.momentum, nesterov: options.nesterov,
                               weightDecay: options.weightDecay)
            var adam = TorchAdam(lr: options.learningRate, beta1: options.beta1, beta2: options.beta2,
                                 eps: options.epsilon, weightDecay: options.weightDecay)
            let loss = Loss.categoricalCrossentropy
            for _ in 0..<epochs {
                for start in stride(from: 0, to: rows, by: batch) {
                    let n = min(batch, rows - start)
                    let x = xs[start * 4 ..< (start + n) * 4].map(Double.init)
                    let y = ys[start * 3 ..< (start + n) * 3].map(Double.init)
                    let g = lossAndGradients(net, loss, .training(loss, last: .softmax), x: x, y: y, rows: n).gradients
                    var theta = net.parameters.array
                    if options.kind == .sgd { sgd.step(&theta, g) } else { adam.step(&theta, g) }
                    for (i, v) in theta.enumerated() { net.parameters[i] = v }
                }
            }
            try model.fit(x: try Tensor(shape: [rows, 4], scalars: xs), y: try Tensor(shape: [rows, 3], scalars: ys),
                          options: FitOptions(epochs: epochs, batchSize: batch, shuffle: false))
            let got = try allWeights(model).flatMap { $0 }.map(Double.init)
            let err = relativeError(got, net.parameters.array)
            XCTAssertLessThan(err.linf, 1e-5, "\(options.kind): \(err)")
            XCTAssertGreaterThan(relativeError(got, initial).linf, 1e-2, "\(options.kind): the weights must move")
        }
    }

    // MARK: Determinism

    func testSameSeedGivesBitIdenticalTraining() throws {
        let (x, y) = try xor()
        func train(seed: UInt64, shuffleSeed: UInt64? = nil) throws -> ([[Float]], [Double]) {
            let model = try xorModel(seed: seed, loss: .binaryCrossentropy, optimizer: .adam(learningRate: 0.02))
            let h = try model.fit(x: x, y: y, options: FitOptions(epochs: 25, batchSize: 3, shuffle: true, seed: shuffleSeed))
            return (try allWeights(model), try XCTUnwrap(h.values["loss"]))
        }
        let a = try train(seed: 7), b = try train(seed: 7), c = try train(seed: 8)
        XCTAssertEqual(a.0, b.0, "same seed, same weights after fit")
        XCTAssertEqual(a.1, b.1, "same seed, same losses")
        XCTAssertNotEqual(a.0, c.0)
        // An explicit shuffle seed: same seed same result, another seed another order.
        let d = try train(seed: 7, shuffleSeed: 1), e = try train(seed: 7, shuffleSeed: 1), f = try train(seed: 7, shuffleSeed: 2)
        XCTAssertEqual(d.0, e.0)
        XCTAssertNotEqual(d.0, f.0)
    }

    func testShuffleOffIsIndependentOfTheSeedGenerator() throws {
        // Without shuffling, two models with the same weights train identically
        // even if their generators differ.
        let (x, y) = try xor()
        let a = try xorModel(seed: 1, loss: .meanSquaredError, optimizer: .sgd(learningRate: 0.3))
        let b = try xorModel(seed: 2, loss: .meanSquaredError, optimizer: .sgd(learningRate: 0.3))
        for (i, w) in try allWeights(a).enumerated() { try b.setWeight(i, w) }
        let options = FitOptions(epochs: 5, batchSize: 3, shuffle: false)
        try a.fit(x: x, y: y, options: options)
        try b.fit(x: x, y: y, options: options)
        XCTAssertEqual(try allWeights(a), try allWeights(b))
    }

    // MARK: Logs, history, callbacks

    func testHistoryLogsLossAccuracyAndValidation() throws {
        let (x, y) = try xor()
        let model = try xorModel(seed: 4, loss: .binaryCrossentropy, optimizer: .adam(learningRate: 0.01))
        var names: [[String]] = []
        let options = FitOptions(epochs: 3, batchSize: 4, shuffle: false, validation: (x, y),
                                 onEpochEnd: { _, logs in names.append(logs.names); return .continue })
        let initialLoss = try model.evaluate(x: x, y: y)[0]
        let history = try model.fit(x: x, y: y, options: options)
        XCTAssertEqual(names, [[String]](repeating: ["loss", "accuracy", "val_loss", "val_accuracy"], count: 3))
        XCTAssertEqual(Set(history.values.keys), ["loss", "accuracy", "val_loss", "val_accuracy"])
        XCTAssertEqual(history.epochs, [0, 1, 2])
        for values in history.values.values { XCTAssertEqual(values.count, 3) }
        // One batch per epoch: epoch 0's loss is the loss before any update.
        XCTAssertEqual(try XCTUnwrap(history.values["loss"]?.first), initialLoss, accuracy: 1e-6)
        // The last validation loss is the model's loss after the last update.
        XCTAssertEqual(try XCTUnwrap(history.values["val_loss"]?.last), try model.evaluate(x: x, y: y)[0])
        XCTAssertTrue(try XCTUnwrap(history.values["accuracy"]).allSatisfy { $0 >= 0 && $0 <= 1 })

        // A second fit continues the epoch count; its return value holds only its own epochs.
        let second = try model.fit(x: x, y: y, options: FitOptions(epochs: 2, batchSize: 4))
        XCTAssertEqual(second.epochs, [3, 4])
        XCTAssertEqual(second.values["loss"]?.count, 2)
        XCTAssertNil(second.values["val_loss"])
        XCTAssertEqual(model.history.epochs, [0, 1, 2, 3, 4])
        XCTAssertEqual(model.history.values["loss"]?.count, 5)
        XCTAssertEqual(model.history.values["val_loss"]?.count, 3)
    }

    func testCallbackReturningStopStops() throws {
        let (x, y) = try xor()
        let model = try xorModel(seed: 5, loss: .meanSquaredError, optimizer: .sgd(learningRate: 0.1))
        var seen: [Int] = []
        let history = try model.fit(x: x, y: y, options: FitOptions(epochs: 10, batchSize: 4, onEpochEnd: { epoch, logs in
            seen.append(epoch)
            XCTAssertNotNil(logs["loss"])
            XCTAssertNil(logs["val_loss"])
            return epoch == 2 ? .stop : .continue
        }))
        XCTAssertEqual(seen, [0, 1, 2])
        XCTAssertEqual(history.epochs.count, 3)
        XCTAssertEqual(model.history.values["loss"]?.count, 3)
    }

    func testZeroEpochsChangesNothing() throws {
        let (x, y) = try xor()
        let model = try xorModel(seed: 5, loss: .meanSquaredError, optimizer: .sgd(learningRate: 0.1))
        let before = try allWeights(model)
        let history = try model.fit(x: x, y: y, options: FitOptions(epochs: 0))
        XCTAssertEqual(history.epochs, [])
        XCTAssertEqual(try allWeights(model), before)
        // A fit of zero epochs trains nothing, so layers can still be added.
        XCTAssertNoThrow(try model.add(Dense(2)))
        XCTAssertEqual(model.outputDim, 2)
    }

    // MARK: Errors

    func testWrongInputWidth() throws {
        let model = try Sequential(inputDim: 20)
        try model.add(Dense(2))
        try model.compile(loss: .meanSquaredError, optimizer: .sgd())
        let x = try Tensor(shape: [3, 19], scalars: [Float](repeating: 0, count: 57))
        let y = try Tensor(shape: [3, 2], scalars: [Float](repeating: 0, count: 6))
        let message = "expected 20 input columns, got 19"
        assertNNError(.shapeMismatch(""), messageContains: message, try model.predict(x))
        assertNNError(.shapeMismatch(""), messageContains: message, try model.fit(x: x, y: y))
        assertNNError(.shapeMismatch(""), messageContains: message, try model.evaluate(x: x, y: y))
        // Wrong target width and row count.
        let good = try Tensor(shape: [3, 20], scalars: [Float](repeating: 0, count: 60))
        assertNNError(.shapeMismatch(""), messageContains: "expected 2 target columns, got 3",
                      try model.fit(x: good, y: try Tensor(shape: [3, 3], scalars: [Float](repeating: 0, count: 9))))
        assertNNError(.shapeMismatch(""), messageContains: "rows",
                      try model.fit(x: good, y: try Tensor(shape: [2, 2], scalars: [0, 0, 0, 0])))
        assertNNError(.shapeMismatch(""), messageContains: "0 rows",
                      try model.predict(try Tensor(shape: [0, 20], scalars: [])))
    }

    func testNonFiniteData() throws {
        let model = try Sequential(inputDim: 2)
        try model.add(Dense(1))
        try model.compile(loss: .meanSquaredError, optimizer: .sgd())
        let x = try Tensor([[0, 1], [.nan, 2]]), y = try Tensor([[0], [1]])
        assertNNError(.nonFinite(""), messageContains: "row 1, column 0", try model.fit(x: x, y: y))
        assertNNError(.nonFinite(""), try model.predict(x))
        assertNNError(.nonFinite(""), try model.evaluate(x: x, y: y))
        assertNNError(.nonFinite(""), try model.predict(try Tensor([[.infinity, 0]])))
        assertNNError(.nonFinite(""), messageContains: "target",
                      try model.fit(x: try Tensor([[0, 1]]), y: try Tensor([[.nan]])))
    }

    /// The input check's vector scan (`MatrixView.allFinite`) finds NaN and
    /// ±∞ in every position, in its 16-lane part and its tail, and passes
    /// -0, the largest finite values and subnormals; the error then names the
    /// first offending element.
    func testNonFiniteInputFoundInEveryPosition() throws {
        let model = try Sequential(inputDim: 37)
        try model.add(Dense(1))
        let fine: [Float] = (0..<37).map { i in
            [Float(-0.0), .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude][i % 4] }
        XCTAssertNoThrow(try model.predict(try Tensor(shape: [1, 37], scalars: fine)))
        for bad in [Float.nan, .infinity, -.infinity] {
            for position in [0, 5, 15, 16, 31, 32, 36, 37 + 20, 73] {
                var values = fine + fine
                values[position] = bad
                assertNNError(.nonFinite(""), messageContains: "row \(position / 37), column \(position % 37)",
                              try model.predict(try Tensor(shape: [2, 37], scalars: values)))
            }
        }
    }

    func testStateErrors() throws {
        let empty = try Sequential(inputDim: 3)
        assertNNError(.invalidState(""), messageContains: "no layers", try empty.predict(try Tensor([[1, 2, 3]])))
        try empty.add(Dense(2))
        let x = try Tensor([[1, 2, 3]]), y = try Tensor([[1, 0]])
        // fit before compile
        assertNNError(.invalidState(""), try empty.fit(x: x, y: y))
        assertNNError(.invalidState(""), messageContains: "no loss", try empty.evaluate(x: x, y: y))
        // A loss alone is enough to evaluate, not to fit.
        try empty.setLoss(.meanSquaredError)
        XCTAssertNoThrow(try empty.evaluate(x: x, y: y))
        assertNNError(.invalidState(""), messageContains: "no optimizer", try empty.fit(x: x, y: y))
        try empty.setOptimizer(.sgd())
        try empty.fit(x: x, y: y)
        // add after fit
        assertNNError(.invalidState(""), messageContains: "trained", try empty.add(Dense(1)))
        XCTAssertEqual(empty.layers.count, 1)
    }

    func testInvalidConfiguration() throws {
        assertNNError(.shapeMismatch(""), try Sequential(inputDim: 0))
        let model = try Sequential(inputDim: 2)
        assertNNError(.shapeMismatch(""), messageContains: "at least 1 unit", try model.add(Dense(0)))
        XCTAssertEqual(model.layers.count, 0)
        assertNNError(.invalidArgument(""), messageContains: "learning_rate",
                      try model.compile(loss: .meanSquaredError, optimizer: .sgd(learningRate: -1)))
        try model.add(Dense(1))
        try model.compile(loss: .meanSquaredError, optimizer: .sgd())
        let x = try Tensor([[1, 2]]), y = try Tensor([[1]])
        assertNNError(.invalidArgument(""), messageContains: "epochs", try model.fit(x: x, y: y, options: FitOptions(epochs: -1)))
        assertNNError(.invalidArgument(""), messageContains: "batch_size",
                      try model.fit(x: x, y: y, options: FitOptions(batchSize: 0)))
        // Absurd sizes are refused before anything is allocated.
        assertNNError(.outOfMemory(""), try Sequential(inputDim: 1 << 20).add(Dense(1 << 20)))
        assertNNError(.outOfMemory(""), try Sequential(inputDim: Int.max).add(Dense(2)))
        assertNNError(.outOfMemory(""), try Sequential(inputDim: 2).add(Dense(Int.max)))
        assertNNError(.outOfMemory(""), try Sequential(inputDim: 1 << 16).add(Dense(1 << 16)))
        // A batch whose workspace would pass 2^31 floats is refused before
        // anything is allocated; a reasonable one is not.
        let wide = try Sequential(inputDim: 1000)
        try wide.add(Dense(1000))
        assertNNError(.outOfMemory(""), messageContains: "smaller batch", try wide.checkWorkspace(rows: 1 << 20, what: "batch_size"))
        XCTAssertNoThrow(try wide.checkWorkspace(rows: 1024, what: "batch_size"))
        assertNNError(.shapeMismatch(""), messageContains: "too many elements",
                      try Tensor(shape: [1 << 62, 4], scalars: []))
        assertNNError(.shapeMismatch(""), try Tensor(shape: [2, 2], scalars: [1, 2, 3]))
        assertNNError(.shapeMismatch(""), try Tensor([[1, 2], [3]]))
    }

    func testClassificationTargetErrors() throws {
        let model = try Sequential(inputDim: 2)
        try model.add(Dense(3, activation: .softmax))
        try model.compile(loss: .sparseCategoricalCrossentropy, optimizer: .sgd())
        let x = try Tensor([[0, 1], [1, 0]])
        assertNNError(.invalidArgument(""), messageContains: "label 3", try model.fit(x: x, y: try Tensor([[0], [3]])))
        assertNNError(.invalidArgument(""), try model.fit(x: x, y: try Tensor([[-1], [0]])))
        assertNNError(.invalidArgument(""), try model.fit(x: x, y: try Tensor([[0.5], [0]])))
        assertNNError(.invalidArgument(""), try model.evaluate(x: x, y: try Tensor([[0], [3]])))
        assertNNError(.shapeMismatch(""), messageContains: "1 target column",
                      try model.fit(x: x, y: try Tensor([[0, 1, 0], [1, 0, 0]])))

        try model.compile(loss: .categoricalCrossentropy, optimizer: .sgd())
        assertNNError(.shapeMismatch(""), messageContains: "one-hot", try model.fit(x: x, y: try Tensor([[0], [2]])))
        XCTAssertNoThrow(try model.fit(x: x, y: try Tensor([[0, 0, 1], [1, 0, 0]])))

        let single = try Sequential(inputDim: 2)
        try single.add(Dense(1, activation: .softmax))
        try single.compile(loss: .categoricalCrossentropy, optimizer: .sgd())
        assertNNError(.invalidState(""), messageContains: "binary_crossentropy", try single.fit(x: x, y: try Tensor([[1], [0]])))

        let binary = try Sequential(inputDim: 2)
        try binary.add(Dense(1, activation: .sigmoid))
        try binary.compile(loss: .binaryCrossentropy, optimizer: .sgd())
        assertNNError(.invalidArgument(""), messageContains: "[0, 1]", try binary.fit(x: x, y: try Tensor([[2], [0]])))
    }

    func testDivergenceIsReported() throws {
        let model = try Sequential(inputDim: 1, seed: 1)
        try model.add(Dense(1, kernelInitializer: .ones))
        try model.compile(loss: .meanSquaredError, optimizer: .sgd(learningRate: 1e6))
        let x = try Tensor([[1000], [-1000]]), y = try Tensor([[0], [0]])
        assertNNError(.nonFinite(""), messageContains: "the loss became",
                      try model.fit(x: x, y: y, options: FitOptions(epochs: 20, batchSize: 2)))
    }

    // MARK: Weights

    func testWeightAccess() throws {
        let model = try Sequential(inputDim: 3)
        try model.add(Dense(4, activation: .relu))
        try model.add(Dense(2))
        XCTAssertEqual(model.weightShapes, [[3, 4], [4], [4, 2], [2]])
        XCTAssertEqual(model.parameterCount, 3 * 4 + 4 + 4 * 2 + 2)
        XCTAssertEqual(model.outputDim, 2)
        XCTAssertEqual(model.outputDim(ofLayer: 0), 4)
        XCTAssertEqual(model.outputDim(ofLayer: 1), 2)
        let w = (0..<12).map { Float($0) / 10 }
        try model.setWeight(0, w)
        XCTAssertEqual(try model.weight(0), w)
        var out = [Float](repeating: 0, count: 12)
        try out.withUnsafeMutableBufferPointer { try model.copyWeight(0, into: $0) }
        XCTAssertEqual(out, w)

        for bad in [4, -1, 100] {
            assertNNError(.invalidArgument(""), messageContains: "out of range", try model.weight(bad))
            assertNNError(.invalidArgument(""), messageContains: "out of range", try model.setWeight(bad, [1]))
        }
        assertNNError(.shapeMismatch(""), messageContains: "got 3 values", try model.setWeight(1, [1, 2, 3]))
        var small = [Float](repeating: 0, count: 3)
        assertNNError(.shapeMismatch(""), try small.withUnsafeMutableBufferPointer { try model.copyWeight(1, into: $0) })
        assertNNError(.nonFinite(""), messageContains: "value 2", try model.setWeight(1, [0, 1, .nan, 3]))
        assertNNError(.nonFinite(""), try model.setWeight(3, [.infinity, 0]))
        // A rejected array leaves the weights as they were.
        XCTAssertEqual(try model.weight(1), [0, 0, 0, 0])
        XCTAssertEqual(try model.weight(0), w)
    }

    // MARK: Predict and evaluate

    /// 2 → Dense 2 relu → Dense 1 linear with hand-picked weights.
    func handModel() throws -> Sequential {
        let model = try Sequential(inputDim: 2)
        try model.add(Dense(2, activation: .relu))
        try model.add(Dense(1))
        try model.setWeight(0, [1, -1, 2, 0.5])   // W0 = [[1, −1], [2, 0.5]]
        try model.setWeight(1, [0.5, -0.25])
        try model.setWeight(2, [2, -3])
        try model.setWeight(3, [0.1])
        return model
    }

    func testPredictByHand() throws {
        // x = (1, 1):    z = (3.5, −0.75) → relu (3.5, 0) → 7 + 0.1 = 7.1
        // x = (−1, 0.5): z = (0.5, 1)     → 1 − 3 + 0.1 = −1.9
        // x = (0, 0):    z = (0.5, −0.25) → (0.5, 0) → 1.1
        let model = try handModel()
        let p = try model.predict(try Tensor([[1, 1], [-1, 0.5], [0, 0]]))
        XCTAssertEqual(p.shape, [3, 1])
        XCTAssertEqual(p.scalars[0], 7.1, accuracy: 1e-6)
        XCTAssertEqual(p.scalars[1], -1.9, accuracy: 1e-6)
        XCTAssertEqual(p.scalars[2], 1.1, accuracy: 1e-6)
    }

    func testEvaluateByHand() throws {
        let model = try handModel()
        let x = try Tensor([[1, 1], [-1, 0.5], [0, 0]])
        try model.setLoss(.meanSquaredError)
        try model.addMetric(.accuracy)
        try model.addMetric(.accuracy)
        XCTAssertEqual(model.metricNames, ["loss", "accuracy"])
        // Errors 0.1, 0.1, 0.1 → MSE 0.01. Binary accuracy (one output,
        // threshold 0.5): 7.1 → 1 ≠ 7, −1.9 → 0 ≠ −2, 1.1 → 1 = 1: 1/3.
        let r = try model.evaluate(x: x, y: try Tensor([[7], [-2], [1]]))
        XCTAssertEqual(r[0], 0.01, accuracy: 1e-6)
        XCTAssertEqual(r[1], 1.0 / 3, accuracy: 1e-12)
        let s = try model.evaluate(x: x, y: try Tensor([[1], [0], [1]]))
        XCTAssertEqual(s[1], 1)
    }

    func testEvaluateCategoricalByHand() throws {
        // 3 → Dense 3 softmax with W = I, b = 0: predict = softmax(x).
        let model = try Sequential(inputDim: 3)
        try model.add(Dense(3, activation: .softmax))
        try model.setWeight(0, [1, 0, 0, 0, 1, 0, 0, 0, 1])
        try model.setWeight(1, [0, 0, 0])
        try model.compile(loss: .categoricalCrossentropy, optimizer: .sgd(), metrics: [.accuracy])
        let rows: [[Float]] = [[1, 2, 3], [0, 0, 4], [2, -1, 0], [0.5, 0.5, 0]]
        let labels = [2, 1, 0, 1]
        let x = try Tensor(rows)
        let y = try Tensor(labels.map { l in (0..<3).map { $0 == l ? Float(1) : 0 } })
        var loss = 0.0, correct = 0
        for (row, label) in zip(rows, labels) {
            let z = row.map(Double.init)
            let lse = Double.log(z.map { Double.exp($0) }.reduce(0, +))
            loss += lse - z[label]
            if z.firstIndex(of: z.max()!) == label { correct += 1 }
        }
        let r = try model.evaluate(x: x, y: y)
        XCTAssertEqual(r[0], loss / 4, accuracy: 1e-5)
        XCTAssertEqual(r[1], Double(correct) / 4)
        XCTAssertEqual(correct, 2)
        let p = try model.predict(x)
        XCTAssertEqual(p[0, 2], Float(Double.exp(3) / (Double.exp(1) + Double.exp(2) + Double.exp(3))), accuracy: 1e-6)
        // The sparse loss on the same labels gives the same value.
        try model.setLoss(.sparseCategoricalCrossentropy)
        let sparse = try model.evaluate(x: x, y: try Tensor(labels.map { [Float($0)] }))
        XCTAssertEqual(sparse[0], r[0], accuracy: 1e-6)
        XCTAssertEqual(sparse[1], r[1])
    }

    func testBinaryAccuracyOnLogitsThresholdsAtZero() throws {
        // Sigmoid + binary cross-entropy is fused, so accuracy sees logits and
        // thresholds them at 0 (probability 0.5). With W = 1, b = 0 the logit
        // is x: 0.3 → p = 0.574 → class 1, −0.3 → class 0.
        let x = try Tensor([[0.3], [-0.3], [2], [-2]]), y = try Tensor([[1], [0], [1], [0]])
        for (activation, loss) in [(Activation.sigmoid, Loss.binaryCrossentropy),
                                   (.linear, Loss(.binaryCrossentropy, fromLogits: true))] {
            let model = try Sequential(inputDim: 1)
            try model.add(Dense(1, activation: activation))
            try model.setWeight(0, [1])
            try model.compile(loss: loss, optimizer: .sgd(), metrics: [.accuracy])
            let r = try model.evaluate(x: x, y: y)
            XCTAssertEqual(r[1], 1, "\(activation)")
            // Hand-worked loss: mean of log(1 + e^−|x|) over the four rows (all correct sides).
            let expected = [0.3, 0.3, 2, 2].map { Double.log1p(Double.exp(-$0)) }.reduce(0, +) / 4
            XCTAssertEqual(r[0], expected, accuracy: 1e-6, "\(activation)")
        }
    }

    func testLargeInputsArePredictedInChunks() throws {
        // More rows than the inference chunk: every row as if predicted alone.
        let model = try Sequential(inputDim: 3, seed: 12)
        try model.add(Dense(5, activation: .tanh))
        try model.add(Dense(2))
        let n = Sequential.inferenceChunk * 2 + 37
        let values = uniformValues(n * 3, -1, 1, seed: 3).map { Float($0) }
        let x = try Tensor(shape: [n, 3], scalars: values)
        let all = try model.predict(x)
        XCTAssertEqual(all.shape, [n, 2])
        for r in [0, 1, Sequential.inferenceChunk - 1, Sequential.inferenceChunk, n - 1] {
            let one = try model.predict(try Tensor(shape: [1, 3], scalars: Array(values[r * 3 ..< r * 3 + 3])))
            XCTAssertEqual(all[r, 0], one[0, 0], accuracy: 1e-6)
            XCTAssertEqual(all[r, 1], one[0, 1], accuracy: 1e-6)
        }
        // evaluate over chunks is the mean over all rows.
        try model.setLoss(.meanSquaredError)
        let zeros = try Tensor(shape: [n, 2], scalars: [Float](repeating: 0, count: n * 2))
        let expected = all.scalars.map { Double($0) * Double($0) }.reduce(0, +) / Double(n * 2)
        XCTAssertEqual(try model.evaluate(x: x, y: zeros)[0], expected, accuracy: 1e-6)
    }

    // MARK: Summary

    func testSummary() throws {
        let model = try Sequential(inputDim: 2)
        try model.add(Dense(8, activation: .tanh))
        try model.add(Dense(1, activation: .sigmoid))
        try model.add(Dense(3))
        func spaces(_ n: Int) -> String { String(repeating: " ", count: n) }
        // Columns of 46 and 22 characters, rules of 80 (wide enough for
        // "batch_normalization (BatchNormalization)").
        let rule = String(repeating: "_", count: 80), double = String(repeating: "=", count: 80)
        let expected = [
            "Model: \"sequential\"",
            rule,
            " Layer (type)" + spaces(33) + "Output Shape" + spaces(10) + "Param #",
            double,
            " dense (Dense, tanh)" + spaces(26) + "(None, 8)" + spaces(13) + "24",
            " dense_1 (Dense, sigmoid)" + spaces(21) + "(None, 1)" + spaces(13) + "9",
            " dense_2 (Dense)" + spaces(30) + "(None, 3)" + spaces(13) + "6",
            double,
            "Total params: 39",
            "Trainable params: 39",
            "Non-trainable params: 0",
            rule,
        ].joined(separator: "\n") + "\n"
        XCTAssertEqual(model.summary(), expected)
        XCTAssertTrue(try Sequential(inputDim: 3).summary().contains("(no layers; input width 3)"))
    }
}
