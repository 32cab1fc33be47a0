import Foundation
import XCTest
@testable import NNCore

/// The model file (safetensors with PyTorch's state_dict names): round
/// trips, exact resume, the PyTorch layout, load_weights, and rejection of
/// hostile files.
final class ModelFileTests: XCTestCase {
    // MARK: Fixtures

    /// Every layer kind: Dense (regularized, he_normal), BatchNormalization,
    /// Dropout, an Activation layer with a parameter, a softmax Dense.
    func everyLayerModel(seed: UInt64 = 7, optimizer: OptimizerOptions = .adam(learningRate: 0.01)) throws -> Sequential {
        let model = try Sequential(inputDim: 5, seed: seed)
        try model.add(Dense(8, activation: .relu, kernelInitializer: .heNormal, kernelRegularizer: .l2(1e-3)))
        try model.add(BatchNormalization(momentum: 0.2, epsilon: 1e-4))
        try model.add(Dropout(0.25))
        try model.add(ActivationLayer(.leakyRelu(negativeSlope: 0.1)))
        try model.add(Dense(6, activation: .tanh, biasInitializer: .constant(0.05)))
        try model.add(Dense(3, activation: .softmax))
        try model.compile(loss: Loss(.categoricalCrossentropy), optimizer: optimizer,
                          metrics: [Metric(.accuracy), Metric(.f1Macro, parameter: 0.4)])
        return model
    }

    /// 64 rows of 5 features and one-hot targets of 3 classes.
    func data(rows: Int = 64) throws -> (Tensor, Tensor) {
        let x = uniformValues(rows * 5, -2, 2, seed: 3).map { Float($0) }
        var y = [Float](repeating: 0, count: rows * 3)
        for r in 0..<rows { y[r * 3 + (x[r * 5] > 0.5 ? 0 : x[r * 5 + 1] > 0 ? 1 : 2)] = 1 }
        return (try Tensor(shape: [rows, 5], scalars: x), try Tensor(shape: [rows, 3], scalars: y))
    }

    func allWeights(_ model: Sequential) throws -> [[Float]] {
        try (0..<model.weightShapes.count).map { try model.weight($0) }
    }

    func bits(_ arrays: [[Float]]) -> [[UInt32]] { arrays.map { $0.map(\.bitPattern) } }

    // MARK: Round trip

    func testRoundTripOfEveryLayerKindPredictsTheSameBits() throws {
        let model = try everyLayerModel()
        let (x, y) = try data()
        _ = try model.fit(x: x, y: y, options: FitOptions(epochs: 3, batchSize: 16))
        for includeOptimizer in [true, false] {
            let bytes = try model.serialized(includeOptimizer: includeOptimizer)
            let loaded = try Sequential.load(serialized: bytes)
            XCTAssertEqual(bits(try allWeights(loaded)), bits(try allWeights(model)))
            XCTAssertEqual(try loaded.predict(x).scalars.map(\.bitPattern), try model.predict(x).scalars.map(\.bitPattern))
            XCTAssertEqual(loaded.summary(), model.summary())
            XCTAssertEqual(loaded.metricNames, model.metricNames)
            XCTAssertEqual(loaded.loss, model.loss)
            XCTAssertEqual(loaded.optimizerOptions, model.optimizerOptions)
            XCTAssertEqual(loaded.seed, model.seed)
            XCTAssertEqual(loaded.history.epochCount, 3)
            // Saving the loaded model gives the same bytes.
            XCTAssertEqual(try loaded.serialized(includeOptimizer: includeOptimizer), bytes)
            // A trained model takes no more layers, loaded or not.
            assertNNError(.invalidState(""), try loaded.add(Dense(2)))
        }
    }

    func testSaveAndLoadThroughAFileLeavesNoTemporaryFile() throws {
        let model = try everyLayerModel()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nn-modelfile-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.safetensors").path
        try model.save(to: path)
        try model.save(to: path)  // over an existing file
        let loaded = try Sequential.load(from: path)
        XCTAssertEqual(bits(try allWeights(loaded)), bits(try allWeights(model)))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["model.safetensors"])
        assertNNError(.io(""), messageContains: "no-such-dir", try model.save(to: dir.path + "/no-such-dir/m.safetensors"))
        assertNNError(.io(""), messageContains: "missing.safetensors",
                      try Sequential.load(from: dir.path + "/missing.safetensors"))
        assertNNError(.io(""), messageContains: "not a regular file", try Sequential.load(from: dir.path))
    }

    // MARK: Exact resume

    /// Training 10 epochs equals training 5, saving (with the optimizer),
    /// loading and training 5 more, bit for bit — for every optimizer, with
    /// shuffling, dropout, batch normalization and a step schedule.
    func testResumeIsExactForEveryOptimizer() throws {
        let optimizers: [OptimizerOptions] = [
            .sgd(learningRate: 0.05, momentum: 0.9, nesterov: true),
            .adam(learningRate: 0.01, amsgrad: true),
            .adamw(learningRate: 0.01),
            .rmsprop(learningRate: 0.005, momentum: 0.5, centered: true),
            .adagrad(learningRate: 0.05, initialAccumulatorValue: 0.1),
            .rprop(learningRate: 0.01),
        ]
        let (x, y) = try data()
        for options in optimizers {
            let whole = try everyLayerModel(optimizer: options)
            try whole.setLearningRateSchedule(.step(stepSize: 3, gamma: 0.5))
            _ = try whole.fit(x: x, y: y, options: FitOptions(epochs: 10, batchSize: 12))

            let first = try everyLayerModel(optimizer: options)
            try first.setLearningRateSchedule(.step(stepSize: 3, gamma: 0.5))
            _ = try first.fit(x: x, y: y, options: FitOptions(epochs: 5, batchSize: 12))
            let resumed = try Sequential.load(serialized: try first.serialized(includeOptimizer: true))
            _ = try resumed.fit(x: x, y: y, options: FitOptions(epochs: 5, batchSize: 12))

            XCTAssertEqual(bits(try allWeights(resumed)), bits(try allWeights(whole)), "\(options.kind)")
            XCTAssertEqual(resumed.learningRate, whole.learningRate, "\(options.kind)")
        }
    }

    /// Without the optimizer's state the loaded model starts its optimizer
    /// afresh (so training differs from an uninterrupted run with momentum).
    func testWithoutOptimizerStateTheOptimizerStartsAfresh() throws {
        let (x, y) = try data()
        let model = try everyLayerModel(optimizer: .adam(learningRate: 0.01))
        _ = try model.fit(x: x, y: y, options: FitOptions(epochs: 2, batchSize: 16))
        let file = try SafeTensorsFile(bytes: try model.serialized(includeOptimizer: false))
        XCTAssertFalse(file.orderedNames.contains { $0.hasPrefix("optimizer.") })
        let loaded = try Sequential.load(serialized: try model.serialized(includeOptimizer: false))
        XCTAssertEqual(loaded.optimizer?.step, 0)
        let withState = try Sequential.load(serialized: try model.serialized(includeOptimizer: true))
        XCTAssertEqual(withState.optimizer?.step, model.optimizer?.step)
        XCTAssertGreaterThan(withState.optimizer?.step ?? 0, 0)
    }

    // MARK: PyTorch's layout

    func testTensorsCarryPyTorchNamesAndLayout() throws {
        let model = try everyLayerModel()
        let (x, y) = try data()
        _ = try model.fit(x: x, y: y, options: FitOptions(epochs: 1, batchSize: 16))
        let file = try SafeTensorsFile(bytes: try model.serialized(includeOptimizer: true))
        // Sequential(Linear, ReLU, BatchNorm1d, Dropout, LeakyReLU, Linear, Tanh, Linear, Softmax)
        let expected: [String: [Int]] = [
            "0.weight": [8, 5], "0.bias": [8],
            "2.weight": [8], "2.bias": [8], "2.running_mean": [8], "2.running_var": [8], "2.num_batches_tracked": [],
            "5.weight": [6, 8], "5.bias": [6], "7.weight": [3, 6], "7.bias": [3],
        ]
        let weightNames = file.orderedNames.filter { !$0.hasPrefix("optimizer.") }
        XCTAssertEqual(Set(weightNames), Set(expected.keys))
        for (name, shape) in expected { XCTAssertEqual(file.entries[name]?.shape, shape, name) }
        XCTAssertEqual(file.entries["2.num_batches_tracked"]?.dtype, .i64)
        XCTAssertEqual(try file.int64s("2.num_batches_tracked"), [4])  // 64 rows / 16 per batch
        // Linear.weight is the transpose of the kernel.
        let kernel = try model.weight(0), weight = try file.floats("0.weight")
        for u in 0..<8 { for i in 0..<5 { XCTAssertEqual(weight[u * 5 + i], kernel[i * 8 + u]) } }
        XCTAssertEqual(try file.floats("2.running_var"), try model.weight(5))
        // Adam's moments, per tensor, in the tensor's layout.
        for name in ["0.weight", "0.bias", "2.weight", "2.bias", "5.weight", "5.bias", "7.weight", "7.bias"] {
            for state in ["exp_avg", "exp_avg_sq"] {
                XCTAssertEqual(file.entries["optimizer.\(name).\(state)"]?.shape, expected[name], "\(name).\(state)")
            }
        }
        XCTAssertEqual(file.metadata["format"], "libnn")
        XCTAssertEqual(file.metadata["format_version"], "1")
        XCTAssertNotNil(file.metadata["libnn_version"])
    }

    /// A file in PyTorch's layout, made here as another tool would make it
    /// (no libnn metadata), loads with loadWeights and predicts as a plain
    /// computation of Linear → ReLU → Linear.
    func testLoadWeightsFromAPyTorchStyleFile() throws {
        let model = try Sequential(inputDim: 3, seed: 1)
        try model.add(Dense(4, activation: .relu))
        try model.add(Dense(2))
        let w0 = uniformValues(12, -1, 1, seed: 5).map { Float($0) }, b0 = [Float](arrayLiteral: 0.1, -0.2, 0.3, 0)
        let w2 = uniformValues(8, -1, 1, seed: 6).map { Float($0) }, b2: [Float] = [0.5, -0.5]
        var writer = SafeTensorsWriter()
        try w0.withUnsafeBufferPointer { try writer.add("0.weight", floats: $0, shape: [4, 3]) }
        try b0.withUnsafeBufferPointer { try writer.add("0.bias", floats: $0, shape: [4]) }
        try w2.withUnsafeBufferPointer { try writer.add("2.weight", floats: $0, shape: [2, 4]) }
        try b2.withUnsafeBufferPointer { try writer.add("2.bias", floats: $0, shape: [2]) }
        try model.loadWeights(serialized: writer.serialized(metadata: ["format": "pt"]))
        let x: [Float] = [0.5, -1, 2]
        var hidden = [Float](repeating: 0, count: 4)
        for u in 0..<4 {
            var s = b0[u]
            for i in 0..<3 { s += w0[u * 3 + i] * x[i] }
            hidden[u] = max(s, 0)
        }
        let got = try model.predict(try Tensor([x])).scalars
        for o in 0..<2 {
            var s = b2[o]
            for u in 0..<4 { s += w2[o * 4 + u] * hidden[u] }
            XCTAssertEqual(got[o], s, accuracy: 1e-5)
        }
        // A libnn file also loads as weights only.
        try model.loadWeights(serialized: try model.serialized())
    }

    func testLoadWeightsRejectsMismatchesAndLeavesTheModelUnchanged() throws {
        let model = try Sequential(inputDim: 3, seed: 1)
        try model.add(Dense(4, activation: .relu))
        try model.add(Dense(2))
        let before = try allWeights(model)
        func file(_ tensors: [(String, [Float], [Int])]) throws -> [UInt8] {
            var writer = SafeTensorsWriter()
            for (name, values, shape) in tensors {
                try values.withUnsafeBufferPointer { try writer.add(name, floats: $0, shape: shape) }
            }
            return writer.serialized(metadata: [:])
        }
        let good: [(String, [Float], [Int])] = [
            ("0.weight", [Float](repeating: 1, count: 12), [4, 3]), ("0.bias", [0, 0, 0, 0], [4]),
            ("2.weight", [Float](repeating: 1, count: 8), [2, 4]), ("2.bias", [0, 0], [2]),
        ]
        assertNNError(.invalidFile(""), messageContains: "\"2.bias\"", try model.loadWeights(serialized: file(Array(good.prefix(3)))))
        var transposed = good
        transposed[0] = ("0.weight", good[0].1, [3, 4])
        assertNNError(.invalidFile(""), messageContains: "[units, inputs]", try model.loadWeights(serialized: file(transposed)))
        assertNNError(.invalidFile(""), messageContains: "\"4.weight\"",
                      try model.loadWeights(serialized: file(good + [("4.weight", [1], [1])])))
        var nan = good
        nan[3] = ("2.bias", [0, .nan], [2])
        assertNNError(.nonFinite(""), messageContains: "2.bias", try model.loadWeights(serialized: file(nan)))
        XCTAssertEqual(bits(try allWeights(model)), bits(before))
        // Optimizer tensors are ignored by loadWeights.
        try model.loadWeights(serialized: file(good + [("optimizer.0.weight.exp_avg", [Float](repeating: 0, count: 12), [4, 3])]))
        XCTAssertEqual(try model.weight(0), [Float](repeating: 1, count: 12))
    }

    // MARK: Hostile files

    /// A libnn file whose metadata entry `key` is replaced by `edit(old)`.
    func editedFile(_ model: Sequential, _ key: String, _ edit: (String) -> String) throws -> [UInt8] {
        let file = try SafeTensorsFile(bytes: try model.serialized(includeOptimizer: false))
        var metadata = file.metadata
        metadata[key] = edit(metadata[key] ?? "")
        var writer = SafeTensorsWriter()
        for name in file.orderedNames {
            let entry = file.entries[name]!
            if entry.dtype == .i64 {
                try writer.add(name, int64s: try file.int64s(name), shape: entry.shape)
            } else {
                try file.floats(name).withUnsafeBufferPointer { try writer.add(name, floats: $0, shape: entry.shape) }
            }
        }
        return writer.serialized(metadata: metadata)
    }

    func testHostileMetadataIsRejectedWithSpecificMessages() throws {
        let model = try everyLayerModel()
        XCTAssertNoThrow(try Sequential.load(serialized: try editedFile(model, "format") { $0 }))
        assertNNError(.invalidFile(""), messageContains: "unknown layer kind \"Conv2D\"",
                      try Sequential.load(serialized: try editedFile(model, "architecture") {
                          $0.replacingOccurrences(of: "\"Dropout\"", with: "\"Conv2D\"") }))
        assertNNError(.invalidFile(""), messageContains: "format version 2",
                      try Sequential.load(serialized: try editedFile(model, "format_version") { _ in "2" }))
        assertNNError(.invalidFile(""), messageContains: "not a libnn model file",
                      try Sequential.load(serialized: try editedFile(model, "format") { _ in "keras" }))
        assertNNError(.invalidFile(""), messageContains: "more weights than the file holds",
                      try Sequential.load(serialized: try editedFile(model, "architecture") {
                          $0.replacingOccurrences(of: "\"units\":8", with: "\"units\":100000") }))
        assertNNError(.invalidFile(""), messageContains: "unknown activation",
                      try Sequential.load(serialized: try editedFile(model, "architecture") {
                          $0.replacingOccurrences(of: "\"tanh\"", with: "\"swish\"") }))
        assertNNError(.invalidFile(""), messageContains: "compile",
                      try Sequential.load(serialized: try editedFile(model, "compile") { _ in "{\"loss\": 3" }))
        assertNNError(.invalidFile(""), messageContains: "unknown optimizer",
                      try Sequential.load(serialized: try editedFile(model, "compile") {
                          $0.replacingOccurrences(of: "\"adam\"", with: "\"lion\"") }))
        assertNNError(.invalidFile(""), messageContains: "dropout",
                      try Sequential.load(serialized: try editedFile(model, "architecture") {
                          $0.replacingOccurrences(of: "\"rate\":0.25", with: "\"rate\":1.5") }))
        assertNNError(.invalidFile(""), messageContains: "rng",
                      try Sequential.load(serialized: try editedFile(model, "training") {
                          $0.replacingOccurrences(of: "\"rng\":[", with: "\"rng\":[\"0\",") }))
    }

    func testTruncatedAndFlippedFilesNeverCrash() throws {
        let model = try everyLayerModel()
        let bytes = try model.serialized(includeOptimizer: true)
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 97)) {
            assertNNError(.invalidFile(""), try Sequential.load(serialized: Array(bytes[0..<cut])))
        }
        var rng = RandomGenerator(seed: 99)
        var loaded = 0
        for _ in 0..<2000 {
            var copy = bytes
            for _ in 0..<Int(rng.next() % 4 + 1) {
                copy[Int(rng.next() % UInt64(copy.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            }
            do {
                _ = try Sequential.load(serialized: copy)
                loaded += 1  // a flipped weight value still makes a valid file
            } catch let error as NNError {
                if case .invalidFile = error {} else { XCTFail("unexpected error kind: \(error)") }
            }
        }
        XCTAssertLessThan(loaded, 2000)
    }
}
