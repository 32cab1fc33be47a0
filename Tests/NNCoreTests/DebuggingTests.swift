import XCTest
@testable import NNCore

/// Seeing inside the network: the gradient check API, anomaly detection,
/// per-layer statistics and the diagnosis.
final class DebuggingTests: XCTestCase {
    /// rows × cols uniform in [low, high), and the view of it.
    func matrix(_ rows: Int, _ cols: Int, _ low: Double = -1, _ high: Double = 1, seed: UInt64) -> [Float] {
        uniformValues(rows * cols, low, high, seed: seed).map { Float($0) }
    }

    func oneHot(_ rows: Int, _ classes: Int, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        var y = [Float](repeating: 0, count: rows * classes)
        for r in 0..<rows { y[r * classes + Int(rng.next() % UInt64(classes))] = 1 }
        return y
    }

    func check(_ model: Sequential, _ x: [Float], _ y: [Float], rows: Int,
               _ options: GradientCheckOptions = GradientCheckOptions()) throws -> [LayerGradientCheck] {
        try x.withUnsafeBufferPointer { xb in
            try y.withUnsafeBufferPointer { yb in
                try model.gradientCheck(x: MatrixView(xb.baseAddress!, rows: rows, cols: model.inputDim),
                                        y: MatrixView(yb.baseAddress!, rows: rows, cols: y.count / rows),
                                        options: options)
            }
        }
    }

    /// Every layer kind, smooth activations (no ReLU kink within h).
    func everyKindModel() throws -> Sequential {
        let model = try Sequential(inputDim: 6, seed: 11)
        try model.add(Dense(7, activation: .tanh, kernelRegularizer: Regularizer(l1: 0, l2: 1e-2)))
        try model.add(BatchNormalization())
        try model.add(Dropout(0.3))
        try model.add(ActivationLayer(.elu(alpha: 0.7)))
        try model.add(Dense(5, activation: .softplus))
        try model.add(Dense(4, activation: .softmax))
        try model.compile(loss: Loss(.categoricalCrossentropy), optimizer: .adam())
        return model
    }

    // MARK: Gradient check

    func testGradientCheckPassesForEveryLayerKindInDoubleAndFloat() throws {
        let model = try everyKindModel()
        let x = matrix(9, 6, seed: 1), y = oneHot(9, 4, seed: 2)
        let double = try check(model, x, y, rows: 9, GradientCheckOptions(maxChecksPerArray: 0))
        XCTAssertEqual(double.map(\.layer), [0, 1, 4, 5])  // the layers with parameters
        XCTAssertEqual(double.map(\.name), ["dense", "batch_normalization", "dense_1", "dense_2"])
        for r in double {
            XCTAssertLessThan(r.relativeError, 1e-6, "\(r.name): \(r)")
            XCTAssertGreaterThan(r.checked, 0)
        }
        XCTAssertEqual(double[0].checked + double[0].belowResolution, 6 * 7 + 7)
        let float = try check(model, x, y, rows: 9, GradientCheckOptions(precision: .float))
        for r in float { XCTAssertLessThan(r.relativeError, 1e-2, "float \(r.name): \(r)") }
        // Other losses and output activations.
        for (loss, last, outputs) in [(Loss(.binaryCrossentropy), Activation.sigmoid, 3),
                                      (Loss(.meanSquaredError), .linear, 2), (Loss(.huber, delta: 0.5), .gelu, 2)] {
            let m = try Sequential(inputDim: 4, seed: 3)
            try m.add(Dense(5, activation: .sigmoid))
            try m.add(Dense(outputs, activation: last))
            try m.compile(loss: loss, optimizer: .sgd())
            let yy = matrix(6, outputs, 0, 1, seed: 4)
            for r in try check(m, matrix(6, 4, seed: 5), yy, rows: 6) {
                XCTAssertLessThan(r.relativeError, 1e-6, "\(loss.kind) \(r)")
            }
        }
        // The model itself is unchanged (the check runs on a copy).
        let before = try (0..<model.weightShapes.count).map { try model.weight($0) }
        _ = try check(model, x, y, rows: 9)
        XCTAssertEqual(try (0..<model.weightShapes.count).map { try model.weight($0) }, before)
    }

    #if NN_TEST_HOOKS
    /// A derivative perturbed by the test hook (layer 4's gradients × 1.01)
    /// is found, in that layer only.
    func testGradientCheckPointsAtAPerturbedDerivative() throws {
        let model = try everyKindModel()
        let x = matrix(9, 6, seed: 1), y = oneHot(9, 4, seed: 2)
        testHookPerturbedLayer = 4
        defer { testHookPerturbedLayer = nil }
        let results = try check(model, x, y, rows: 9)
        let worst = results.max { $0.relativeError < $1.relativeError }!
        XCTAssertEqual(worst.layer, 4)
        XCTAssertGreaterThan(worst.relativeError, 1e-3)
        for r in results where r.layer != 4 { XCTAssertLessThan(r.relativeError, 1e-6, "\(r)") }
    }
    #endif

    func testGradientCheckRejectsBadArguments() throws {
        let model = try everyKindModel()
        let x = matrix(3, 6, seed: 1), y = oneHot(3, 4, seed: 2)
        assertNNError(.invalidArgument(""), messageContains: "epsilon",
                      try check(model, x, y, rows: 3, GradientCheckOptions(epsilon: -1)))
        assertNNError(.shapeMismatch(""), try check(model, x, oneHot(3, 3, seed: 2), rows: 3))
        let bare = try Sequential(inputDim: 6)
        try bare.add(Dense(2))
        assertNNError(.invalidState(""), messageContains: "loss", try check(bare, x, y, rows: 3))
    }

    // MARK: Anomaly detection

    func fit(_ model: Sequential, _ x: [Float], _ y: [Float], rows: Int, epochs: Int = 1, batch: Int = 4) throws {
        try x.withUnsafeBufferPointer { xb in
            try y.withUnsafeBufferPointer { yb in
                _ = try model.fit(x: MatrixView(xb.baseAddress!, rows: rows, cols: model.inputDim),
                                  y: MatrixView(yb.baseAddress!, rows: rows, cols: y.count / rows), sampleWeights: nil,
                                  validation: nil, options: FitOptions(epochs: epochs, batchSize: batch, shuffle: false))
            }
        }
    }

    func threeLayerModel(_ optimizer: OptimizerOptions = .sgd(learningRate: 0.1),
                         firstKernel: Initializer = .glorotUniform) throws -> Sequential {
        let model = try Sequential(inputDim: 4, seed: 5)
        try model.add(Dense(6, activation: .relu, kernelInitializer: firstKernel))
        try model.add(Dense(5, activation: .tanh))
        try model.add(Dense(3, activation: .softmax))
        try model.compile(loss: Loss(.categoricalCrossentropy), optimizer: optimizer)
        return model
    }

    func testAnomalyModeNamesTheLayerAndStageOfAnOverflow() throws {
        // Row 6 (batch 2, row 2) holds a value that overflows the first
        // layer's products to infinity.
        var x = matrix(8, 4, seed: 7)
        x[6 * 4 + 1] = 3e38
        x[6 * 4 + 2] = 3e38
        let y = oneHot(8, 3, seed: 8)
        // Kernel 1: 3e38 + 3e38 overflows to +inf, which ReLU keeps.
        let model = try threeLayerModel(firstKernel: .constant(1))
        model.anomalyDetection = true
        assertNNError(.nonFinite(""), messageContains: "in forward of layer 0 (dense, relu) at epoch 1, batch 2",
                      try fit(model, x, y, rows: 8))
        do { try fit(model, x, y, rows: 8) } catch let error as NNError {
            XCTAssertTrue(error.message.contains("element [2, "), error.message)
        }
        // Off: the same data fails later, without the layer named.
        let plain = try threeLayerModel(firstKernel: .constant(1))
        do {
            try fit(plain, x, y, rows: 8)
            XCTFail("training on an overflowing input should fail")
        } catch let error as NNError {
            XCTAssertFalse(error.message.contains("in forward of layer"), error.message)
        }
    }

    func testAnomalyModeCatchesAnUpdateThatOverflows() throws {
        let x = matrix(8, 4, seed: 7), y = oneHot(8, 3, seed: 8)
        // Targets of 1e3 give gradients of ~1e3: a step of 1e37 × 1e3 overflows.
        let model = try Sequential(inputDim: 4, seed: 5)
        try model.add(Dense(3, activation: .tanh))
        try model.add(Dense(1))
        try model.compile(loss: Loss(.meanSquaredError), optimizer: .sgd(learningRate: 1e37))
        model.anomalyDetection = true
        assertNNError(.nonFinite(""), messageContains: "in update of layer 0 (dense, tanh) at epoch 1, batch 1",
                      try fit(model, x, [Float](repeating: 1e3, count: 8), rows: 8))
        // Training a healthy model with anomaly detection on changes nothing.
        let a = try threeLayerModel(), b = try threeLayerModel()
        b.anomalyDetection = true
        try fit(a, x, y, rows: 8, epochs: 3)
        try fit(b, x, y, rows: 8, epochs: 3)
        XCTAssertEqual(try (0..<6).map { try a.weight($0) }, try (0..<6).map { try b.weight($0) })
    }

    // MARK: Layer statistics

    func testLayerStatisticsSeeDeadAndSaturatedUnits() throws {
        let model = try Sequential(inputDim: 4, seed: 9)
        try model.add(Dense(6, activation: .sigmoid, kernelInitializer: .constant(50)))
        try model.add(Dense(8, activation: .relu, biasInitializer: .constant(-100)))
        try model.add(Dense(3, activation: .softmax))
        try model.compile(loss: Loss(.categoricalCrossentropy), optimizer: .sgd(learningRate: 0.01))
        model.layerStatisticsEvery = 2
        let x = matrix(16, 4, seed: 1), y = oneHot(16, 3, seed: 2)
        try fit(model, x, y, rows: 16, epochs: 2, batch: 4)  // 4 batches per epoch, 2 sampled
        XCTAssertEqual(model.history.layerStatistics.map(\.epoch), [0, 1])
        let first = model.history.layerStatistics[0].layers
        XCTAssertEqual(first.map(\.name), ["dense", "dense_1", "dense_2"])
        XCTAssertEqual(first[0].batches, 2)
        // Kernel 50 on inputs in [-1, 1]: most sigmoid outputs sit on a tail.
        XCTAssertGreaterThan(try XCTUnwrap(first[0].saturatedFraction), 0.8)
        XCTAssertNil(first[0].deadFraction)
        // Bias −100: the ReLU units never fire, and nothing flows back through them.
        XCTAssertEqual(first[1].deadFraction, 1)
        XCTAssertEqual(first[1].activationMean, 0)
        XCTAssertEqual(first[1].activationStd, 0)
        XCTAssertEqual(first[1].gradientNorm, 0)
        XCTAssertEqual(first[0].gradientNorm, 0)
        XCTAssertNil(first[2].saturatedFraction)
        XCTAssertNil(first[2].deadFraction)
        XCTAssertGreaterThan(try XCTUnwrap(first[2].gradientNorm), 0)
        XCTAssertGreaterThan(try XCTUnwrap(first[2].weightNorm), 0)
        XCTAssertGreaterThan(try XCTUnwrap(first[2].updateRatio), 0)
        XCTAssertEqual(first[2].weightNorm!, norm(model.network.parameters.pointer + model.network.parameterOffsets[2], 3 * 8 + 3),
                       accuracy: 1, "end-of-epoch norm is close to the final one after one more epoch of lr 0.01")
        // Off by default.
        let plain = try threeLayerModel()
        try fit(plain, x, oneHot(16, 3, seed: 2), rows: 16)
        XCTAssertTrue(plain.history.layerStatistics.isEmpty)
    }

    // MARK: Diagnosis

    func diagnose(_ model: Sequential, _ x: [Float], _ y: [Float], rows: Int) throws -> Diagnosis {
        try x.withUnsafeBufferPointer { xb in
            try y.withUnsafeBufferPointer { yb in
                try model.diagnose(x: MatrixView(xb.baseAddress!, rows: rows, cols: model.inputDim),
                                   y: MatrixView(yb.baseAddress!, rows: rows, cols: y.count / rows))
            }
        }
    }

    func testDiagnosisFindsVanishingGradientsInADeepSigmoidNetwork() throws {
        let model = try Sequential(inputDim: 16, seed: 1)
        for _ in 0..<9 { try model.add(Dense(16, activation: .sigmoid, kernelInitializer: .constant(0.01))) }
        try model.add(Dense(4, activation: .softmax))
        try model.compile(loss: Loss(.categoricalCrossentropy), optimizer: .sgd(learningRate: 0.1))
        let before = try model.weight(0)
        let d = try diagnose(model, matrix(64, 16, seed: 3), oneHot(64, 4, seed: 4), rows: 64)
        let vanishing = try XCTUnwrap(d.findings.first { $0.kind == .vanishingGradients }, d.report)
        XCTAssertLessThan(vanishing.value, 1e-3)
        XCTAssertTrue(vanishing.message.contains("times that of the last"), vanishing.message)
        XCTAssertTrue(vanishing.suggestion.contains("he_normal"))
        XCTAssertTrue(d.report.contains("[vanishing_gradients]"))
        XCTAssertEqual(try model.weight(0), before)  // the model is not changed
    }

    func testDiagnosisFindsDeadUnitsUnscaledInputsAndLabelMismatch() throws {
        let model = try Sequential(inputDim: 5, seed: 2)
        try model.add(Dense(10, activation: .relu, biasInitializer: .constant(-20)))
        try model.add(Dense(3, activation: .softmax))
        try model.compile(loss: Loss(.categoricalCrossentropy), optimizer: .adam())
        let d = try diagnose(model, matrix(50, 5, seed: 5), oneHot(50, 3, seed: 6), rows: 50)
        let dead = try XCTUnwrap(d.findings.first { $0.kind == .deadUnits }, d.report)
        XCTAssertGreaterThanOrEqual(dead.value, 0.9)
        XCTAssertEqual(dead.layer, 0)
        XCTAssertFalse(d.findings.contains { $0.kind == .unscaledInputs }, d.report)
        var x = matrix(50, 5, seed: 5)
        for r in 0..<50 { x[r * 5 + 3] *= 1e4 }
        let wide = try Sequential(inputDim: 5, seed: 2)
        try wide.add(Dense(4, activation: .relu))
        try wide.add(Dense(3, activation: .softmax))
        try wide.compile(loss: Loss(.categoricalCrossentropy), optimizer: .adam())
        let u = try diagnose(wide, x, oneHot(50, 3, seed: 6), rows: 50)
        let scale = try XCTUnwrap(u.findings.first { $0.kind == .unscaledInputs }, u.report)
        XCTAssertTrue(scale.message.contains("feature 3"), scale.message)
        XCTAssertGreaterThan(scale.value, 1e3)

        let regression = try Sequential(inputDim: 5, seed: 2)
        try regression.add(Dense(4, activation: .tanh))
        try regression.add(Dense(3, activation: .relu))
        try regression.compile(loss: Loss(.categoricalCrossentropy), optimizer: .adam())
        let mismatch = try diagnose(regression, matrix(20, 5, seed: 5), oneHot(20, 3, seed: 6), rows: 20)
        XCTAssertTrue(mismatch.findings.contains { $0.kind == .labelMismatch && $0.message.contains("softmax") },
                      mismatch.report)
        // Class indices given to categorical_crossentropy: a finding, not an error.
        let indices = (0..<20).map { Float($0 % 3) }
        let wrong = try diagnose(model, matrix(20, 5, seed: 5), indices, rows: 20)
        XCTAssertTrue(wrong.findings.contains { $0.kind == .labelMismatch }, wrong.report)
    }

    func testDiagnosisFindsATooHighLearningRateAndALossAtChance() throws {
        let model = try Sequential(inputDim: 5, seed: 3)
        try model.add(Dense(16, activation: .relu))
        try model.add(Dense(1))
        try model.compile(loss: Loss(.meanSquaredError), optimizer: .sgd(learningRate: 100))
        let x = matrix(64, 5, seed: 7), y = matrix(64, 1, seed: 8)
        let d = try diagnose(model, x, y, rows: 64)
        XCTAssertTrue(d.findings.contains { $0.kind == .learningRateTooHigh }, d.report)

        let stuck = try Sequential(inputDim: 5, seed: 3)
        try stuck.add(Dense(8, activation: .relu, kernelInitializer: .zeros))
        try stuck.add(Dense(4, activation: .softmax, kernelInitializer: .zeros))
        try stuck.compile(loss: Loss(.categoricalCrossentropy), optimizer: .sgd(learningRate: 0.01))
        var y4 = [Float](repeating: 0, count: 64 * 4)
        for r in 0..<64 { y4[r * 4 + r % 4] = 1 }
        let s = try diagnose(stuck, x, y4, rows: 64)
        let chance = try XCTUnwrap(s.findings.first { $0.kind == .lossAtChance }, s.report)
        XCTAssertEqual(chance.value, Double.log(4), accuracy: 0.05)
        // A healthy model: no findings.
        // (Learnable labels: the class is the largest of the first three features.)
        let healthy = try threeLayerModel(.adam(learningRate: 0.01))
        let hx = matrix(64, 4, seed: 9)
        var hy = [Float](repeating: 0, count: 64 * 3)
        for r in 0..<64 {
            let row = hx[(r * 4)..<(r * 4 + 3)]
            hy[r * 3 + row.firstIndex(of: row.max()!)! - r * 4] = 1
        }
        let h = try diagnose(healthy, hx, hy, rows: 64)
        XCTAssertTrue(h.findings.isEmpty, h.report)
        XCTAssertTrue(h.report.contains("nothing looks wrong"))
    }

    /// The Swift API on tensors gives the same answers.
    func testTensorAPI() throws {
        let model = try everyKindModel()
        let xs = matrix(9, 6, seed: 1), ys = oneHot(9, 4, seed: 2)
        let viaTensors = try model.gradientCheck(x: try Tensor(shape: [9, 6], scalars: xs),
                                                 y: try Tensor(shape: [9, 4], scalars: ys))
        XCTAssertEqual(viaTensors, try check(model, xs, ys, rows: 9))
        let d = try model.diagnose(x: try Tensor(shape: [9, 6], scalars: xs), y: try Tensor(shape: [9, 4], scalars: ys),
                                   steps: 4, batchSize: 9)
        XCTAssertEqual(d.steps, 4)
        XCTAssertFalse(d.report.isEmpty)
    }
}
