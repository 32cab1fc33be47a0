import XCTest
@testable import NNCore

/// `Sequential.inputGradient` and `lossInputGradient` through the Swift API:
/// every differentiable activation's derivative on the way down to x,
/// against central differences of `predict`.
final class InputGradientTests: XCTestCase {
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
            func f(_ z: [[Float]], _ r: Int) throws -> Double {
                let p = try model.predict(try Tensor(z))
                return Double(p[r, 0]) - 0.5 * Double(p[r, 1])
            }
            let h: Float = 1e-2
            for r in 0..<2 {
                for i in 0..<3 {
                    var up = rows, down = rows
                    up[r][i] += h
                    down[r][i] -= h
                    let numeric = (try f(up, r) - f(down, r)) / Double(2 * h)
                    XCTAssertEqual(Double(g[r, i]), numeric, accuracy: 2e-3 + 2e-2 * abs(numeric),
                                   "\(activation.name): d/dx[\(r), \(i)]")
                }
            }
        }
    }

    func testLossGradientIsTheMeanLossGradient() throws {
        let model = try Sequential(inputDim: 2, seed: 2)
        try model.add(Dense(4, activation: .tanh))
        try model.add(Dense(1, activation: .sigmoid))
        try model.compile(loss: .binaryCrossentropy, optimizer: .sgd(learningRate: 0.1))
        let rows: [[Float]] = [[0.1, 0.9], [0.7, -0.3], [-0.5, 0.5]]
        let x = try Tensor(rows), y = try Tensor([[1], [0], [1]])
        let g = try model.lossInputGradient(x: x, y: y)
        let h: Float = 1e-2
        for r in 0..<3 {
            for i in 0..<2 {
                var up = rows, down = rows
                up[r][i] += h
                down[r][i] -= h
                let numeric = (try model.evaluate(x: Tensor(up), y: y)[0] - model.evaluate(x: Tensor(down), y: y)[0])
                    / Double(2 * h)
                XCTAssertEqual(Double(g[r, i]), numeric, accuracy: 1e-3 + 2e-2 * abs(numeric))
            }
        }
    }
}
