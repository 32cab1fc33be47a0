import XCTest
@testable import NNCore

/// `Sequential.inputGradient` and `lossInputGradient` through the Swift API:
/// every differentiable activation's derivative on the way down to x,
/// against central differences of `predict`.
final class InputGradientTests: XCTestCase {
    /// Asserts that `analytic` [rows, cols] is, element by element, the
    /// central difference (h = 1e-2) of f at `rows`, within
    /// atol + 2e-2 · |numeric|.
    func assertMatchesCentralDifferences(_ analytic: Tensor, _ rows: [[Float]], atol: Double, _ what: String,
                                         _ f: ([[Float]], Int) throws -> Double) throws {
        let h: Float = 1e-2
        for r in rows.indices {
            for i in rows[r].indices {
                var up = rows, down = rows
                up[r][i] += h
                down[r][i] -= h
                let numeric = (try f(up, r) - f(down, r)) / Double(2 * h)
                XCTAssertEqual(Double(analytic[r, i]), numeric, accuracy: atol + 2e-2 * abs(numeric),
                               "\(what): d/dx[\(r), \(i)]")
            }
        }
    }

    func testEveryActivationAgainstFiniteDifferences() throws {
        let rows: [[Float]] = [[0.3, -0.7, 0.9], [-0.2, 0.4, -0.8]]
        let x = try Tensor(rows)
        for activation in Activation.differentiable {
            let model = try Sequential(inputDim: 3, seed: 4)
            try model.add(Dense(5, activation: activation))
            try model.add(Dense(2, activation: .tanh))
            // weights 1 and -0.5 on the two outputs of every row
            let weights = try Tensor([[1, -0.5], [1, -0.5]])
            let g = try model.inputGradient(x, outputGradient: weights)
            XCTAssertEqual(g.shape, [2, 3])
            try assertMatchesCentralDifferences(g, rows, atol: 2e-3, activation.name) { z, r in
                let p = try model.predict(try Tensor(z))
                return Double(p[r, 0]) - 0.5 * Double(p[r, 1])
            }
        }
    }

    func testLossGradientIsTheMeanLossGradient() throws {
        let model = try Sequential(inputDim: 2, seed: 2)
        try model.add(Dense(4, activation: .tanh))
        try model.add(Dense(1, activation: .sigmoid))
        try model.compile(loss: .binaryCrossentropy, optimizer: .sgd(learningRate: 0.1))
        let rows: [[Float]] = [[0.1, 0.9], [0.7, -0.3], [-0.5, 0.5]]
        let y = try Tensor([[1], [0], [1]])
        let g = try model.lossInputGradient(x: try Tensor(rows), y: y)
        // the mean loss over the rows (what evaluate reports)
        try assertMatchesCentralDifferences(g, rows, atol: 1e-3, "mean loss") { z, _ in
            try model.evaluate(x: Tensor(z), y: y)[0]
        }
    }
}
