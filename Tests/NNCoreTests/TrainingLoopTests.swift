import XCTest
@testable import NNCore

/// The training loop of `Sequential.fit` (issue 3): validation_split,
/// class_weight and sample_weight, early stopping, the non-finite loss stop
/// and gradient clipping, against Keras's documented semantics and hand or
/// Double-reference computations.
final class TrainingLoopTests: XCTestCase {

    func rows(_ values: [Double], cols: Int) throws -> Tensor {
        try Tensor(shape: [values.count / cols, cols], scalars: values.map { Float($0) })
    }

    /// Rows lo..<hi of t.
    func slice(_ t: Tensor, _ lo: Int, _ hi: Int) throws -> Tensor {
        try Tensor(shape: [hi - lo, t.cols], scalars: Array(t.scalars[lo * t.cols ..< hi * t.cols]))
    }

    func allWeights(_ model: Sequential) throws -> [[Float]] {
        try (0..<model.weightSpecs.count).map { try model.weight($0) }
    }

    func regressionModel(seed: UInt64, optimizer: OptimizerOptions = .sgd(learningRate: 0.05)) throws -> Sequential {
        let model = try Sequential(inputDim: 3, seed: seed)
        try model.add(Dense(6, activation: .tanh))
        try model.add(Dense(2))
        try model.compile(loss: .meanSquaredError, optimizer: optimizer, metrics: [.meanAbsoluteError])
        return model
    }

    // MARK: validation_split

    func testValidationSplitHoldsOutTheLastRowsBeforeShuffling() throws {
        // 12 rows, split 0.25: rows 9, 10, 11 are the validation data (Keras:
        // the last 25 % of the arrays as given, before any shuffling).
        let x = try rows(uniformValues(36, -1, 1, seed: 1), cols: 3)
        let y = try rows(uniformValues(24, -1, 1, seed: 2), cols: 2)
        let split = try regressionModel(seed: 5), explicit = try regressionModel(seed: 5)
        let options = FitOptions(epochs: 4, batchSize: 4, shuffle: true, validationSplit: 0.25)
        let a = try split.fit(x: x, y: y, options: options)
        var manual = options
        manual.validationSplit = 0
        manual.validation = (try slice(x, 9, 12), try slice(y, 9, 12))
        let b = try explicit.fit(x: try slice(x, 0, 9), y: try slice(y, 0, 9), options: manual)

        XCTAssertEqual(Set(a.values.keys), ["loss", "mean_absolute_error", "val_loss", "val_mean_absolute_error"])
        // Same training rows in the same shuffled order, same validation rows: bit-identical.
        XCTAssertEqual(a.values["loss"], b.values["loss"])
        XCTAssertEqual(a.values["val_loss"], b.values["val_loss"])
        XCTAssertEqual(a.values["val_mean_absolute_error"], b.values["val_mean_absolute_error"])
        XCTAssertEqual(try allWeights(split), try allWeights(explicit))
        // The logged val_loss is evaluate on the last rows.
        XCTAssertEqual(a.values["val_loss"]?.last, try split.evaluate(x: try slice(x, 9, 12), y: try slice(y, 9, 12))[0])

        // The first rows as validation instead would log something else.
        let first = try regressionModel(seed: 5)
        var other = options
        other.validationSplit = 0
        other.validation = (try slice(x, 0, 3), try slice(y, 0, 3))
        let c = try first.fit(x: try slice(x, 3, 12), y: try slice(y, 3, 12), options: other)
        XCTAssertNotEqual(a.values["val_loss"], c.values["val_loss"])
    }

    func testValidationSplitErrors() throws {
        let model = try regressionModel(seed: 1)
        let x = try rows(uniformValues(12, -1, 1, seed: 1), cols: 3), y = try rows(uniformValues(8, -1, 1, seed: 2), cols: 2)
        for bad in [1.0, -0.1, 1.5, .nan] {
            assertNNError(.invalidArgument(""), messageContains: "validation_split",
                          try model.fit(x: x, y: y, options: FitOptions(validationSplit: bad)))
        }
        // 4 rows × 0.1 leaves Int(3.6) = 3 training rows and 1 validation row: fine.
        XCTAssertNoThrow(try model.fit(x: x, y: y, options: FitOptions(validationSplit: 0.1)))
        // 4 rows × (1 − 0.9) leaves no training row.
        assertNNError(.invalidArgument(""), messageContains: "both must be > 0",
                      try model.fit(x: x, y: y, options: FitOptions(validationSplit: 0.9)))
        assertNNError(.invalidArgument(""), messageContains: "not both",
                      try model.fit(x: x, y: y, options: FitOptions(validation: (x, y), validationSplit: 0.5)))
    }

    // MARK: class_weight and sample_weight

    /// 2 → Dense 1 sigmoid with binary cross-entropy (fused: the loss sees logits).
    func logisticModel(learningRate: Double) throws -> Sequential {
        let model = try Sequential(inputDim: 2)
        try model.add(Dense(1, activation: .sigmoid))
        try model.setWeight(0, [0.5, -0.75])
        try model.setWeight(1, [0.25])
        try model.compile(loss: .binaryCrossentropy, optimizer: .sgd(learningRate: learningRate))
        return model
    }

    let logisticX: [Double] = [1, 2, -1, 0.5, 0.3, -2, 2, 1, -1.5, -0.5, 0, 1]
    let logisticY: [Double] = [1, 0, 1, 1, 0, 0]

    /// Keras's weighted loss by hand: L = Σ wᵣ lᵣ / n with lᵣ the binary
    /// cross-entropy of logit zᵣ = xᵣ·W + b, and its gradient
    /// ∂L/∂zᵣ = wᵣ (σ(zᵣ) − yᵣ) / n; returns L and the weights after one SGD step.
    func handWeightedStep(_ w: [Double], learningRate lr: Double) -> (loss: Double, kernel: [Double], bias: Double) {
        let n = 6
        var loss = 0.0, dW = [0.0, 0.0], db = 0.0
        for r in 0..<n {
            let z = logisticX[2 * r] * 0.5 + logisticX[2 * r + 1] * -0.75 + 0.25
            let p = 1 / (1 + Double.exp(-z)), t = logisticY[r]
            loss += w[r] * -(t * Double.log(p) + (1 - t) * Double.log(1 - p))
            let dz = w[r] * (p - t) / Double(n)
            dW[0] += logisticX[2 * r] * dz
            dW[1] += logisticX[2 * r + 1] * dz
            db += dz
        }
        return (loss / Double(n), [0.5 - lr * dW[0], -0.75 - lr * dW[1]], 0.25 - lr * db)
    }

    func checkWeightedFit(sampleWeight: [Float]?, classWeight: [Double]?, expectedRowWeights: [Double],
                          file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try logisticModel(learningRate: 0.5)
        let h = try model.fit(x: try rows(logisticX, cols: 2), y: try rows(logisticY, cols: 1),
                              options: FitOptions(epochs: 1, batchSize: 6, shuffle: false,
                                                  sampleWeight: sampleWeight, classWeight: classWeight))
        let expected = handWeightedStep(expectedRowWeights, learningRate: 0.5)
        XCTAssertEqual(try XCTUnwrap(h.values["loss"]?.first), expected.loss, accuracy: 1e-6, file: file, line: line)
        let kernel = try model.weight(0), bias = try model.weight(1)
        XCTAssertEqual(Double(kernel[0]), expected.kernel[0], accuracy: 1e-6, file: file, line: line)
        XCTAssertEqual(Double(kernel[1]), expected.kernel[1], accuracy: 1e-6, file: file, line: line)
        XCTAssertEqual(Double(bias[0]), expected.bias, accuracy: 1e-6, file: file, line: line)
    }

    func testSampleWeightScalesTheLossAsKeras() throws {
        let sw: [Float] = [0.5, 2, 0, 1, 3, 1.5]
        try checkWeightedFit(sampleWeight: sw, classWeight: nil, expectedRowWeights: sw.map(Double.init))
        // Unit weights are the unweighted loss.
        try checkWeightedFit(sampleWeight: nil, classWeight: nil, expectedRowWeights: [1, 1, 1, 1, 1, 1])
        // The weighted mean divides by the batch size, not by Σw: weights of
        // 2 double the loss (Σw/n would leave it unchanged).
        let unit = handWeightedStep([1, 1, 1, 1, 1, 1], learningRate: 0.5).loss
        let double = try logisticModel(learningRate: 0.5).fit(
            x: try rows(logisticX, cols: 2), y: try rows(logisticY, cols: 1),
            options: FitOptions(epochs: 1, batchSize: 6, shuffle: false, sampleWeight: [Float](repeating: 2, count: 6)))
        XCTAssertEqual(try XCTUnwrap(double.values["loss"]?.first), 2 * unit, accuracy: 1e-6)
    }

    func testClassWeightScalesTheLossAsKeras() throws {
        // Targets 1, 0, 1, 1, 0, 0 with class_weight [0.5, 3].
        try checkWeightedFit(sampleWeight: nil, classWeight: [0.5, 3], expectedRowWeights: [3, 0.5, 3, 3, 0.5, 0.5])
        // Both: the product.
        try checkWeightedFit(sampleWeight: [1, 2, 0, 1, 3, 1], classWeight: [0.5, 3],
                             expectedRowWeights: [3, 1, 0, 3, 1.5, 0.5])
    }

    func testClassWeightEqualsTheSampleWeightOfEachRowsClass() throws {
        // Sparse labels, one-hot rows (argmax) and 0/1 targets: class_weight
        // gives the same training as the per-row sample weights it implies.
        let labels = [0, 2, 1, 2, 0, 1, 1, 2]
        let classWeight = [1.5, 0.25, 4.0]
        let x = try rows(uniformValues(24, -1, 1, seed: 8), cols: 3)
        let targets: [(Loss, Tensor)] = [
            (.sparseCategoricalCrossentropy, try rows(labels.map(Double.init), cols: 1)),
            (.categoricalCrossentropy, try rows(labels.flatMap { l in (0..<3).map { $0 == l ? 1.0 : 0 } }, cols: 3)),
        ]
        for (loss, y) in targets {
            func train(_ options: FitOptions) throws -> ([[Float]], [Double]) {
                let model = try Sequential(inputDim: 3, seed: 4)
                try model.add(Dense(5, activation: .tanh))
                try model.add(Dense(3, activation: .softmax))
                try model.compile(loss: loss, optimizer: .adam(learningRate: 0.05))
                let h = try model.fit(x: x, y: y, options: options)
                return (try allWeights(model), try XCTUnwrap(h.values["loss"]))
            }
            let byClass = try train(FitOptions(epochs: 3, batchSize: 3, seed: 1, classWeight: classWeight))
            let byRow = try train(FitOptions(epochs: 3, batchSize: 3, seed: 1,
                                             sampleWeight: labels.map { Float(classWeight[$0]) }))
            let unweighted = try train(FitOptions(epochs: 3, batchSize: 3, seed: 1))
            XCTAssertEqual(byClass.0, byRow.0, "\(loss.kind.rawValue)")
            XCTAssertEqual(byClass.1, byRow.1, "\(loss.kind.rawValue)")
            XCTAssertNotEqual(byClass.1, unweighted.1)
        }
    }

    func testSampleWeightsFollowTheirRowsWhenShuffled() throws {
        // One batch of all rows: shuffling changes only the order of a sum.
        let sw: [Float] = [0.5, 2, 0, 1, 3, 1.5]
        let x = try rows(logisticX, cols: 2), y = try rows(logisticY, cols: 1)
        let ordered = try logisticModel(learningRate: 0.5), shuffled = try logisticModel(learningRate: 0.5)
        let a = try ordered.fit(x: x, y: y, options: FitOptions(epochs: 3, batchSize: 6, shuffle: false, sampleWeight: sw))
        let b = try shuffled.fit(x: x, y: y, options: FitOptions(epochs: 3, batchSize: 6, shuffle: true, seed: 3,
                                                                 sampleWeight: sw))
        for (u, v) in zip(try XCTUnwrap(a.values["loss"]), try XCTUnwrap(b.values["loss"])) {
            XCTAssertEqual(u, v, accuracy: 1e-6)
        }
        for (u, v) in zip(try ordered.weight(0), try shuffled.weight(0)) { XCTAssertEqual(u, v, accuracy: 1e-6) }
    }

    func testWeightErrors() throws {
        let model = try logisticModel(learningRate: 0.1)
        let x = try rows(logisticX, cols: 2), y = try rows(logisticY, cols: 1)
        assertNNError(.shapeMismatch(""), messageContains: "sample_weight has 5 values",
                      try model.fit(x: x, y: y, options: FitOptions(sampleWeight: [1, 1, 1, 1, 1])))
        assertNNError(.invalidArgument(""), messageContains: "sample_weight 2",
                      try model.fit(x: x, y: y, options: FitOptions(sampleWeight: [1, 1, -1, 1, 1, 1])))
        assertNNError(.invalidArgument(""), messageContains: "sample_weight",
                      try model.fit(x: x, y: y, options: FitOptions(sampleWeight: [1, 1, .nan, 1, 1, 1])))
        assertNNError(.invalidArgument(""), messageContains: "class 1",
                      try model.fit(x: x, y: y, options: FitOptions(classWeight: [1])))
        assertNNError(.invalidArgument(""), messageContains: "class_weight of class 0",
                      try model.fit(x: x, y: y, options: FitOptions(classWeight: [-1, 1])))
        // class_weight needs class targets: a one-output regression target of 0.5 is none.
        let regression = try Sequential(inputDim: 3)
        try regression.add(Dense(1))
        try regression.compile(loss: .meanSquaredError, optimizer: .sgd())
        let rx = try rows(uniformValues(6, -1, 1, seed: 1), cols: 3)
        assertNNError(.invalidArgument(""), messageContains: "class targets",
                      try regression.fit(x: rx, y: try rows([1, 0.5], cols: 1), options: FitOptions(classWeight: [1, 1])))
        XCTAssertEqual(try model.weight(1), [0.25], "refused fits change nothing")
    }

    // MARK: Early stopping

    /// 1 → Dense 1 (zero weights) trained on y = 2 at x = 1 with plain SGD:
    /// the output s = w + b follows s ← s − 4·lr·(s − 2), so the training
    /// loss falls at every epoch.
    func lineModel(learningRate: Double = 0.05) throws -> Sequential {
        let model = try Sequential(inputDim: 1)
        try model.add(Dense(1, kernelInitializer: .zeros))
        try model.compile(loss: .meanSquaredError, optimizer: .sgd(learningRate: learningRate))
        return model
    }

    func lineData() throws -> (x: Tensor, y: Tensor) { (try Tensor([[1]]), try Tensor([[2]])) }

    func testEarlyStoppingPatience() throws {
        // Monitoring the falling training loss with mode "max": epoch 0
        // improves on −∞, every later epoch does not. Keras stops once
        // `patience` epochs in a row have not improved (and never at epoch 0):
        // after patience + 1 epochs, 2 for patience 0.
        let (x, y) = try lineData()
        for patience in [0, 1, 3] {
            let model = try lineModel()
            let stopping = EarlyStopping(monitor: "loss", patience: patience, mode: .max)
            let h = try model.fit(x: x, y: y, options: FitOptions(epochs: 20, batchSize: 1, earlyStopping: stopping))
            let losses = try XCTUnwrap(h.values["loss"])
            XCTAssertEqual(losses.count, max(patience, 1) + 1, "patience \(patience)")
            XCTAssertTrue(zip(losses, losses.dropFirst()).allSatisfy { $0 > $1 }, "the loss falls: \(losses)")
        }
        // Mode "min" on the same falling loss improves every epoch: no stop.
        let model = try lineModel()
        let h = try model.fit(x: x, y: y, options: FitOptions(epochs: 8, batchSize: 1,
                                                              earlyStopping: EarlyStopping(monitor: "loss", patience: 0)))
        XCTAssertEqual(h.epochs.count, 8)
    }

    func testEarlyStoppingMinDelta() throws {
        // The monitored "learning_rate" log of an exponential schedule is
        // 0.01·0.5^e: 0.01, 0.005, 0.0025, 0.00125, 0.000625, ... Each epoch
        // improves on the best by 0.005, 0.0025, 0.00125, 0.000625: with
        // min_delta 0.001 the first three count, the fourth does not
        // (Keras: current < best − min_delta). With patience 2 the epochs 4
        // and 5 do not improve: stop after 6 epochs.
        let (x, y) = try lineData()
        func run(minDelta: Double) throws -> History {
            let model = try lineModel(learningRate: 0.01)
            try model.setLearningRateSchedule(.exponential(gamma: 0.5))
            let stopping = EarlyStopping(monitor: "learning_rate", minDelta: minDelta, patience: 2)
            return try model.fit(x: x, y: y, options: FitOptions(epochs: 12, batchSize: 1, earlyStopping: stopping))
        }
        let h = try run(minDelta: 0.001)
        XCTAssertEqual(h.epochs.count, 6)
        XCTAssertEqual(try XCTUnwrap(h.values["learning_rate"]).first, 0.01)
        XCTAssertEqual(try run(minDelta: 0).epochs.count, 12, "without min_delta every epoch improves")
        XCTAssertEqual(try run(minDelta: 0.02).epochs.count, 3, "nothing beats the first epoch by 0.02")
    }

    /// The line model trained towards 2 and validated against 1: s after k
    /// updates is 2 − 2·0.8^k (lr 0.05), so the validation loss (s − 1)²
    /// falls (0.36, 0.0784, 0.000576) and then rises (0.0327, ...): its best
    /// epoch is epoch 2 (counting from 0).
    func overshootFit(patience: Int, epochs: Int, restore: Bool) throws -> (Sequential, History, Tensor, Tensor) {
        let model = try lineModel()
        let (x, y) = try lineData()
        let vx = try Tensor([[1]]), vy = try Tensor([[1]])
        let stopping = EarlyStopping(patience: patience, restoreBestWeights: restore)
        let h = try model.fit(x: x, y: y, options: FitOptions(epochs: epochs, batchSize: 1, validation: (vx, vy),
                                                              earlyStopping: stopping))
        return (model, h, vx, vy)
    }

    func testEarlyStoppingRestoresTheBestWeights() throws {
        let (model, h, vx, vy) = try overshootFit(patience: 2, epochs: 50, restore: true)
        let val = try XCTUnwrap(h.values["val_loss"])
        XCTAssertEqual(val.count, 5, "best at epoch 2, then 2 epochs without improvement")
        XCTAssertEqual(val.firstIndex(of: val.min()!), 2)
        XCTAssertEqual(val[2], 0.000576, accuracy: 1e-6)
        XCTAssertGreaterThan(val[4], val[3])
        // The restored weights give the best val_loss seen, not the last one.
        XCTAssertEqual(try model.evaluate(x: vx, y: vy)[0], val.min()!)
        XCTAssertEqual(Double(try model.weight(0)[0] + model.weight(1)[0]), 2 - 2 * 0.8 * 0.8 * 0.8, accuracy: 1e-6)

        // Without restoring, the model keeps its last weights.
        let (last, h2, _, _) = try overshootFit(patience: 2, epochs: 50, restore: false)
        XCTAssertEqual(try last.evaluate(x: vx, y: vy)[0], try XCTUnwrap(h2.values["val_loss"]?.last))
        XCTAssertEqual(h2.epochs.count, 5)
    }

    func testBestWeightsAreRestoredWhenTrainingEndsWithoutStopping() throws {
        // 4 epochs with patience 10: no stop, but the best epoch (2) is restored.
        let (model, h, vx, vy) = try overshootFit(patience: 10, epochs: 4, restore: true)
        let val = try XCTUnwrap(h.values["val_loss"])
        XCTAssertEqual(val.count, 4)
        XCTAssertEqual(try model.evaluate(x: vx, y: vy)[0], val[2])
        XCTAssertLessThan(val[2], val[3])
    }

    func testRestoringAlsoRestoresTheRunningStatistics() throws {
        // Noise targets: the validation loss bottoms out and rises as the
        // network fits the training noise. The best epoch's BatchNorm
        // statistics come back with its weights, so evaluate in inference
        // mode reproduces the best val_loss exactly.
        let xs = uniformValues(96, -1, 1, seed: 40), noise = uniformValues(32, -0.5, 0.5, seed: 41)
        let x = try rows(xs, cols: 3)
        var targets = [Double]()
        for r in 0..<32 { targets.append(xs[3 * r] - 0.5 * xs[3 * r + 1] + noise[r]) }
        let y = try rows(targets, cols: 1)
        let model = try Sequential(inputDim: 3, seed: 42)
        try model.add(Dense(16, activation: .tanh))
        try model.add(BatchNormalization())
        try model.add(Dense(1))
        try model.compile(loss: .meanSquaredError, optimizer: .adam(learningRate: 0.02))
        let stopping = EarlyStopping(patience: 3, restoreBestWeights: true)
        let h = try model.fit(x: x, y: y, options: FitOptions(epochs: 200, batchSize: 8, validationSplit: 0.25,
                                                              earlyStopping: stopping))
        let val = try XCTUnwrap(h.values["val_loss"])
        let best = val.firstIndex(of: val.min()!)!
        XCTAssertEqual(val.count, best + 4, "stopped 3 epochs after the best")
        XCTAssertLessThan(val.count, 200)
        XCTAssertGreaterThan(best, 0)
        XCTAssertEqual(try model.evaluate(x: try slice(x, 24, 32), y: try slice(y, 24, 32))[0], val[best])
        XCTAssertNotEqual(try model.weight(4), [Float](repeating: 0, count: 16), "trained statistics")
    }

    func testEarlyStoppingMonitorMustBeLogged() throws {
        let (x, y) = try lineData()
        let model = try lineModel()
        assertNNError(.invalidArgument(""), messageContains: "'val_loss'",
                      try model.fit(x: x, y: y, options: FitOptions(earlyStopping: EarlyStopping())))
        assertNNError(.invalidArgument(""), messageContains: "validation_split",
                      try model.fit(x: x, y: y, options: FitOptions(earlyStopping: EarlyStopping())))
        assertNNError(.invalidArgument(""), messageContains: "'accuracy'",
                      try model.fit(x: x, y: y, options: FitOptions(earlyStopping: EarlyStopping(monitor: "accuracy"))))
        assertNNError(.invalidArgument(""), messageContains: "'learning_rate'",
                      try model.fit(x: x, y: y, options: FitOptions(earlyStopping: EarlyStopping(monitor: "learning_rate"))))
        assertNNError(.invalidArgument(""), messageContains: "patience",
                      try model.fit(x: x, y: y, options: FitOptions(earlyStopping: EarlyStopping(monitor: "loss", patience: -1))))
        assertNNError(.invalidArgument(""), messageContains: "min_delta",
                      try model.fit(x: x, y: y, options: FitOptions(earlyStopping: EarlyStopping(monitor: "loss", minDelta: -0.1))))
        XCTAssertTrue(model.history.epochs.isEmpty, "nothing trained")
        XCTAssertEqual(try model.weight(0), [0])
    }

    func testMonitorModeAuto() {
        XCTAssertEqual(MonitorMode.auto.resolved(for: "val_loss"), .min)
        XCTAssertEqual(MonitorMode.auto.resolved(for: "mean_absolute_error"), .min)
        XCTAssertEqual(MonitorMode.auto.resolved(for: "val_accuracy"), .max)
        XCTAssertEqual(MonitorMode.auto.resolved(for: "precision"), .max)
        XCTAssertEqual(MonitorMode.auto.resolved(for: "val_f1_score"), .max)
        XCTAssertEqual(MonitorMode.min.resolved(for: "accuracy"), .min)
    }

    // MARK: Non-finite loss

    func testNonFiniteLossNamesEpochAndBatch() throws {
        // Row 4 is 1e20: its squared error overflows Float in the third batch
        // of 2 rows of the first epoch.
        let model = try Sequential(inputDim: 1)
        try model.add(Dense(1, kernelInitializer: .ones))
        try model.compile(loss: .meanSquaredError, optimizer: .sgd(learningRate: 1e-3))
        let x = try Tensor([[1], [2], [1], [0.5], [1e20], [1]]), y = try Tensor([[0], [0], [0], [0], [0], [0]])
        assertNNError(.nonFinite(""), messageContains: "at epoch 1, batch 3",
                      try model.fit(x: x, y: y, options: FitOptions(epochs: 5, batchSize: 2, shuffle: false)))

        // Divergence: x = 1e18 gives a finite first epoch (loss 1e36) whose
        // step sends the kernel to about −2e33; the second epoch's output overflows.
        let diverging = try Sequential(inputDim: 1)
        try diverging.add(Dense(1, kernelInitializer: .ones))
        try diverging.compile(loss: .meanSquaredError, optimizer: .sgd(learningRate: 1e-3))
        var epochsSeen = 0
        assertNNError(.nonFinite(""), messageContains: "at epoch 2, batch 1",
                      try diverging.fit(x: try Tensor([[1e18]]), y: try Tensor([[0]]),
                                        options: FitOptions(epochs: 5, onEpochEnd: { _, _ in
                                            epochsSeen += 1
                                            return .continue
                                        })))
        XCTAssertEqual(epochsSeen, 1)
        XCTAssertEqual(diverging.history.values["loss"]?.count, 1)
    }

    // MARK: Gradient clipping

    /// Trains a 4 → 3 tanh → 2 network for one full-batch SGD step with
    /// lr = 1 and the given clipping; returns the unclipped gradient (from
    /// the Double reference network on the same weights), its split into the
    /// four weight arrays, and the change of the weights.
    func clippedStep(_ configure: (inout OptimizerOptions) -> Void) throws
        -> (gradient: [Double], arrays: [Range<Int>], change: [Double]) {
        let layers = [Dense(3, activation: .tanh), Dense(2)]
        let model = try Sequential(inputDim: 4, seed: 17)
        for l in layers { try model.add(l) }
        var options = OptimizerOptions.sgd(learningRate: 1)
        configure(&options)
        try model.compile(loss: .meanSquaredError, optimizer: options)
        let before = try allWeights(model).flatMap { $0 }.map(Double.init)
        let x = uniformValues(20, -1, 1, seed: 18).map { Float($0) }
        let y = uniformValues(10, -2, 2, seed: 19).map { Float($0) }

        let net = try makeNetwork(Double.self, inputDim: 4, layers: layers, seed: 0, kernels: .reference)
        for (i, v) in before.enumerated() { net.parameters[i] = v }
        let g = lossAndGradients(net, .meanSquaredError, .probabilities, x: x.map(Double.init), y: y.map(Double.init),
                                 rows: 5).gradients

        try model.fit(x: try Tensor(shape: [5, 4], scalars: x), y: try Tensor(shape: [5, 2], scalars: y),
                      options: FitOptions(epochs: 1, batchSize: 5, shuffle: false))
        let after = try allWeights(model).flatMap { $0 }.map(Double.init)
        return (g, [0..<12, 12..<15, 15..<21, 21..<23], zip(after, before).map { $0 - $1 })
    }

    func assertStep(_ change: [Double], equals expected: [Double], _ label: String,
                    file: StaticString = #filePath, line: UInt = #line) {
        let err = relativeError(change, expected.map { -$0 })
        XCTAssertLessThan(err.linf, 1e-4, "\(label): \(err)", file: file, line: line)
    }

    func testUnclippedStepIsTheGradient() throws {
        let (g, _, change) = try clippedStep { _ in }
        XCTAssertGreaterThan(norm(g), 0.1)
        assertStep(change, equals: g, "no clipping")
    }

    func testClipValue() throws {
        let g = try clippedStep { _ in }.gradient
        // The median |g|: half the elements are clipped.
        let c = g.map(abs).sorted()[g.count / 2]
        let (_, _, change) = try clippedStep { $0.clipValue = c }
        let expected = g.map { min(max($0, -c), c) }
        XCTAssertTrue(zip(g, expected).contains { $0 != $1 } && zip(g, expected).contains { $0 == $1 })
        assertStep(change, equals: expected, "clipvalue \(c)")
    }

    func testClipNormPerWeightArray() throws {
        let (g, arrays, _) = try clippedStep { _ in }
        // Keras clipnorm: each weight array's gradient rescaled to norm ≤ c.
        let norms = arrays.map { norm(Array(g[$0])) }
        let c = norms.sorted()[2] * 0.999     // the two largest arrays are clipped, the others not
        let (_, _, change) = try clippedStep { $0.clipNorm = c }
        var expected = g
        var clipped = 0
        for (range, n) in zip(arrays, norms) where n > c {
            clipped += 1
            for i in range { expected[i] = g[i] * c / n }
        }
        XCTAssertEqual(clipped, 2)
        assertStep(change, equals: expected, "clipnorm \(c)")
        for (range, n) in zip(arrays, norms) {
            XCTAssertEqual(norm(Array(change[range])), min(n, c), accuracy: 1e-5 * n)
        }
    }

    func testGlobalClipNorm() throws {
        let g = try clippedStep { _ in }.gradient
        let total = norm(g), c = 0.4 * total
        let (_, _, change) = try clippedStep { $0.globalClipNorm = c }
        assertStep(change, equals: g.map { $0 * c / total }, "global_clipnorm \(c)")
        XCTAssertEqual(norm(change), c, accuracy: 1e-5 * c)
        // A bound above the norm changes nothing.
        let (_, _, loose) = try clippedStep { $0.globalClipNorm = 2 * total }
        assertStep(loose, equals: g, "global_clipnorm above the norm")
    }

    func testClippingOptionsAreValidated() throws {
        let settings: [(inout OptimizerOptions) -> Void] = [{ $0.clipValue = 0 }, { $0.clipNorm = -1 },
                                                            { $0.globalClipNorm = .nan }]
        for configure in settings {
            var o = OptimizerOptions.sgd()
            configure(&o)
            assertNNError(.invalidArgument(""), messageContains: "clip", try o.validate())
        }
        // Keras 3: "Only one of clipnorm, clipvalue and global_clipnorm can be set".
        var both = OptimizerOptions.sgd()
        both.clipNorm = 1
        both.clipValue = 0.5
        assertNNError(.invalidArgument(""), messageContains: "only one", try both.validate())
    }

    func testValidationSplitWeighsValidationLossWithTheHeldOutSampleWeights() throws {
        // Keras splits sample_weight with the rows: val_loss is the weighted
        // mean (Σ wᵢ lᵢ / n) over the held-out rows.
        let x = try rows(uniformValues(24, -1, 1, seed: 11), cols: 3)
        let y = try rows(uniformValues(16, -1, 1, seed: 12), cols: 2)
        let weights: [Float] = [1, 2, 1, 1, 3, 1, 0.5, 4]
        let model = try regressionModel(seed: 3)
        let logged = try model.fit(x: x, y: y, options: FitOptions(
            epochs: 1, batchSize: 8, shuffle: false, validationSplit: 0.25, sampleWeight: weights))
        // Rows 6 and 7 are held out; recompute their weighted loss by hand.
        let p = try model.predict(try slice(x, 6, 8)).scalars
        var expected = 0.0
        for r in 0..<2 {
            var l = 0.0
            for j in 0..<2 { let d = Double(p[r * 2 + j]) - Double(y.scalars[(6 + r) * 2 + j]); l += d * d }
            expected += Double(weights[6 + r]) * l / 2
        }
        expected /= 2
        XCTAssertEqual(logged.values["val_loss"]![0], expected, accuracy: 1e-6 * max(1, expected))
        let unweighted = try model.evaluate(x: try slice(x, 6, 8), y: try slice(y, 6, 8))[0]
        XCTAssertNotEqual(logged.values["val_loss"]![0], unweighted, accuracy: 1e-6)
    }
}
