import XCTest
@testable import NNCore

/// The Float production path (`Network<Float>` with `KernelTable.production`)
/// against the Double reference path on the same weights and data: outputs,
/// loss and gradients agree to a relative error below 1e-4 (norm ratios in
/// the 2-norm and the ∞-norm, see `relativeError`).
final class PrecisionTests: XCTestCase {
    let tolerance = 1e-4

    /// Builds the Float production network from `seed`, copies its weights
    /// into a Double reference network, and compares one training step's
    /// forward and backward pass on the same (Float-representable) data.
    func compare(inputDim: Int, layers: [Dense], rows: Int, loss: Loss, seed: UInt64, mode: LossMode? = nil,
                 file: StaticString = #filePath, line: UInt = #line) throws {
        let label = "\(layers.map { "\($0.units) \($0.activation.label)" }) \(loss.kind.rawValue) logits=\(loss.fromLogits)"
        var chosen: (Network<Float>, Network<Double>, [Float], [Float])?
        // Try seeds until relu pre-activations are clear of the kink, so both
        // precisions take the same branch.
        for s in seed ..< seed + 200 {
            let f = try makeNetwork(Float.self, inputDim: inputDim, layers: layers, seed: s, kernels: .production)
            let d = try makeNetwork(Double.self, inputDim: inputDim, layers: layers, seed: s, kernels: .reference)
            XCTAssertEqual(f.parameterCount, d.parameterCount, file: file, line: line)
            for i in 0..<f.parameterCount { d.parameters[i] = Double(f.parameters[i]) }
            let x = uniformValues(rows * inputDim, -1, 1, seed: s &+ 77).map { Float($0) }
            let y = targetValues(for: loss, rows: rows, outputs: f.outputDim, seed: s &+ 78).map { Float($0) }
            if reluMargin(d, layers: layers, x: x.map(Double.init), rows: rows).margin >= 1e-4 {
                chosen = (f, d, x, y)
                break
            }
        }
        guard let (f, d, x, y) = chosen else { return XCTFail("no usable seed for \(label)", file: file, line: line) }

        let m = mode ?? .training(loss, last: layers.last!.activation)
        let single = lossAndGradients(f, loss, m, x: x, y: y, rows: rows)
        let double = lossAndGradients(d, loss, m, x: x.map(Double.init), y: y.map(Double.init), rows: rows)

        let out = relativeError(single.outputs.map(Double.init), double.outputs)
        XCTAssertLessThan(max(out.l2, out.linf), tolerance, "\(label): outputs \(out)", file: file, line: line)
        XCTAssertLessThan(relativeDifference(single.loss, double.loss), tolerance,
                          "\(label): loss \(single.loss) vs \(double.loss)", file: file, line: line)
        let grad = relativeError(single.gradients.map(Double.init), double.gradients)
        XCTAssertLessThan(max(grad.l2, grad.linf), tolerance, "\(label): gradients \(grad)", file: file, line: line)
        XCTAssertGreaterThan(norm(double.gradients), 1e-3, file: file, line: line)
    }

    func testMeanSquaredErrorEveryActivation() throws {
        for (i, f) in Activation.differentiable.enumerated() {
            try compare(inputDim: 19, layers: [Dense(33, activation: f), Dense(17, activation: .tanh), Dense(5, activation: f)],
                        rows: 37, loss: .meanSquaredError, seed: UInt64(10 * i + 1))
        }
    }

    func testBinaryCrossentropy() throws {
        try compare(inputDim: 13, layers: [Dense(24, activation: .relu), Dense(3, activation: .sigmoid)],
                    rows: 29, loss: .binaryCrossentropy, seed: 100)
        try compare(inputDim: 13, layers: [Dense(24, activation: .tanh), Dense(3)],
                    rows: 29, loss: Loss(.binaryCrossentropy, fromLogits: true), seed: 110)
        try compare(inputDim: 13, layers: [Dense(24, activation: .tanh), Dense(3, activation: .sigmoid)],
                    rows: 29, loss: .binaryCrossentropy, seed: 120, mode: .probabilities)
    }

    func testCategoricalCrossentropy() throws {
        try compare(inputDim: 11, layers: [Dense(20, activation: .tanh), Dense(9, activation: .relu), Dense(6, activation: .softmax)],
                    rows: 33, loss: .categoricalCrossentropy, seed: 200)
        try compare(inputDim: 11, layers: [Dense(20, activation: .sigmoid), Dense(6)],
                    rows: 33, loss: Loss(.categoricalCrossentropy, fromLogits: true), seed: 210)
        try compare(inputDim: 11, layers: [Dense(20, activation: .tanh), Dense(6, activation: .sigmoid)],
                    rows: 33, loss: .categoricalCrossentropy, seed: 220)
    }

    func testSparseCategoricalCrossentropy() throws {
        try compare(inputDim: 8, layers: [Dense(16, activation: .relu), Dense(7, activation: .softmax)],
                    rows: 41, loss: .sparseCategoricalCrossentropy, seed: 300)
        try compare(inputDim: 8, layers: [Dense(16, activation: .tanh), Dense(7)],
                    rows: 41, loss: Loss(.sparseCategoricalCrossentropy, fromLogits: true), seed: 310)
    }

    func testRegressionLosses() throws {
        try compare(inputDim: 9, layers: [Dense(21, activation: .gelu), Dense(4)],
                    rows: 23, loss: .meanAbsoluteError, seed: 400)
        try compare(inputDim: 9, layers: [Dense(21, activation: .softplus), Dense(4, activation: .elu(alpha: 0.5))],
                    rows: 23, loss: Loss(.huber, delta: 0.5), seed: 410)
    }

    /// Float production against Double reference for any layers, with the
    /// state (running statistics) copied too, in the forward mode of
    /// `options` (the same Dropout mask in both: masks are drawn in Double).
    func compareLayers(inputDim: Int, layers: [any Layer], rows: Int, loss: Loss, seed: UInt64,
                       options: PassOptions, file: StaticString = #filePath, line: UInt = #line) throws {
        let f = try makeNetwork(Float.self, inputDim: inputDim, layers: layers, seed: seed, kernels: .production)
        let d = try makeNetwork(Double.self, inputDim: inputDim, layers: layers, seed: seed, kernels: .reference)
        XCTAssertEqual(f.stateCount, d.stateCount, file: file, line: line)
        for i in 0..<f.parameterCount { d.parameters[i] = Double(f.parameters[i]) }
        for i in 0..<f.stateCount { d.state[i] = Double(f.state[i]) }
        let x = uniformValues(rows * inputDim, -1, 1, seed: seed &+ 77).map { Float($0) }
        let y = targetValues(for: loss, rows: rows, outputs: f.outputDim, seed: seed &+ 78).map { Float($0) }
        let m = LossMode.training(loss, last: layers.last!.activation)
        let single = lossAndGradients(f, loss, m, x: x, y: y, rows: rows, options: options)
        let double = lossAndGradients(d, loss, m, x: x.map(Double.init), y: y.map(Double.init), rows: rows, options: options)
        let out = relativeError(single.outputs.map(Double.init), double.outputs)
        XCTAssertLessThan(max(out.l2, out.linf), tolerance, "outputs \(out)", file: file, line: line)
        XCTAssertLessThan(relativeDifference(single.loss, double.loss), tolerance, file: file, line: line)
        let grad = relativeError(single.gradients.map(Double.init), double.gradients)
        XCTAssertLessThan(max(grad.l2, grad.linf), tolerance, "gradients \(grad)", file: file, line: line)
        XCTAssertGreaterThan(norm(double.gradients), 1e-3, file: file, line: line)
        // The running statistics moved alike in training mode.
        let state = relativeError(f.state.array.map(Double.init), d.state.array)
        XCTAssertLessThan(state.linf, tolerance, "state \(state)", file: file, line: line)
    }

    func testBatchNormAndDropout() throws {
        let layers: [any Layer] = [Dense(24), BatchNormalization(), ActivationLayer(.tanh), Dropout(0.3),
                                   Dense(12, activation: .softplus), BatchNormalization(), Dropout(0.1),
                                   Dense(5, activation: .softmax)]
        try compareLayers(inputDim: 10, layers: layers, rows: 31, loss: .categoricalCrossentropy, seed: 500,
                          options: .training(seed: 3))
        try compareLayers(inputDim: 10, layers: layers, rows: 31, loss: .categoricalCrossentropy, seed: 510,
                          options: .inference)
    }

    func testSameSeedInitializesBothPrecisionsAlike() throws {
        // Initializers draw Doubles and convert, so the Float weights are the
        // Double weights rounded to Float, bit for bit.
        let layers = [Dense(9, activation: .tanh, kernelInitializer: .heNormal, biasInitializer: .zeros),
                      Dense(4, kernelInitializer: .glorotUniform)]
        let f = try makeNetwork(Float.self, inputDim: 6, layers: layers, seed: 5, kernels: .production)
        let d = try makeNetwork(Double.self, inputDim: 6, layers: layers, seed: 5, kernels: .reference)
        XCTAssertEqual(f.parameters.array, d.parameters.array.map { Float($0) })
    }
}
