import XCTest
@testable import NNCore

/// The optimizer state: its names (PyTorch's state_dict keys), its lifetime
/// (made by the first update, kept by every later one, dropped by reset()).
final class OptimizerStateTests: XCTestCase {
    let start: [Double] = [0.5, -1.5, 2.5, -0.75]

    /// Gradients of f(θ) = ½‖θ − c‖² · scale, c = (1, −1, 2, 1), at θ.
    func gradient(_ theta: [Double]) -> [Double] {
        zip(theta, [1.0, -1, 2, 1]).enumerated().map { i, p in (p.0 - p.1) * Double(i + 1) }
    }

    /// `steps` updates of `optimizer` on `params`.
    func advance(_ optimizer: Optimizer<Double>, _ params: Buffer<Double>, steps: Int) {
        let grads = Buffer<Double>(count: params.count)
        for _ in 0..<steps {
            let g = gradient(params.array)
            for i in g.indices { grads[i] = g[i] }
            optimizer.update(params.pointer, grads.pointer, count: params.count)
        }
        keepAlive(grads)
    }

    func testStateNamesArePyTorchsKeys() {
        let expected: [(OptimizerOptions, [String])] = [
            (.sgd(), []),
            (.sgd(momentum: 0.9), ["momentum_buffer"]),
            (.adam(), ["exp_avg", "exp_avg_sq"]),
            (.adam(amsgrad: true), ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
            (.adamw(amsgrad: true), ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
            (.rmsprop(), ["square_avg"]),
            (.rmsprop(momentum: 0.5, centered: true), ["square_avg", "momentum_buffer", "grad_avg"]),
            (.rmsprop(centered: true), ["square_avg", "grad_avg"]),
            (.adagrad(), ["sum"]),
            (.rprop(), ["prev", "step_size"]),
        ]
        for (options, names) in expected {
            XCTAssertEqual(Optimizer<Float>.stateNames(for: options), names, "\(options.kind)")
            let optimizer = Optimizer<Float>(options)
            XCTAssertTrue(optimizer.stateBuffers.isEmpty, "no state before the first update")
            let params = Buffer<Float>([1, 2, 3]), grads = Buffer<Float>([0.5, -0.5, 0.25])
            optimizer.update(params.pointer, grads.pointer, count: 3)
            keepAlive(grads)
            XCTAssertEqual(optimizer.stateBuffers.map(\.name), names, "\(options.kind)")
            XCTAssertTrue(optimizer.stateBuffers.allSatisfy { $0.buffer.count == 3 }, "\(options.kind)")
            XCTAssertEqual(optimizer.parameterCount, 3)
        }
    }

    func testStateSurvivesUpdatesAndLearningRateChangesInPlace() {
        for (name, options) in optimizerConfigurations {
            let optimizer = Optimizer<Double>(options)
            let params = Buffer<Double>(start)
            advance(optimizer, params, steps: 1)
            let buffers = optimizer.stateBuffers.map(\.buffer)
            let afterOne = buffers.map(\.array)
            optimizer.learningRate *= 0.5
            advance(optimizer, params, steps: 4)
            XCTAssertEqual(optimizer.step, 5, name)
            // The same buffers (no reallocation after the first step), with new contents.
            XCTAssertEqual(optimizer.stateBuffers.count, buffers.count, name)
            for (held, now) in zip(buffers, optimizer.stateBuffers.map(\.buffer)) {
                XCTAssertTrue(held === now, "\(name): the state buffers are kept")
            }
            if !buffers.isEmpty {
                XCTAssertNotEqual(buffers.map(\.array), afterOne, "\(name): the state evolves")
            }
        }
    }

    func testResetForgetsAllStateOfEveryOptimizer() {
        for (name, options) in optimizerConfigurations {
            // Reference: a fresh optimizer's 10 steps from `start`.
            let fresh = Optimizer<Double>(options)
            let expected = Buffer<Double>(start)
            advance(fresh, expected, steps: 10)

            // The same after 3 steps elsewhere and a reset.
            let optimizer = Optimizer<Double>(options)
            let elsewhere = Buffer<Double>([3, 3, -3, 3])
            advance(optimizer, elsewhere, steps: 3)
            XCTAssertEqual(optimizer.step, 3, name)
            optimizer.reset()
            XCTAssertEqual(optimizer.step, 0, name)
            XCTAssertTrue(optimizer.stateBuffers.isEmpty, name)
            XCTAssertNil(optimizer.parameterCount, name)
            let params = Buffer<Double>(start)
            advance(optimizer, params, steps: 10)
            XCTAssertEqual(params.array, expected.array, "\(name): after reset() it runs as a new optimizer")
            XCTAssertEqual(optimizer.stateBuffers.map(\.buffer.array), fresh.stateBuffers.map(\.buffer.array), name)

            // Without the reset, the 3 earlier steps change the run (the state is not lost by accident).
            let kept = Optimizer<Double>(options)
            advance(kept, Buffer<Double>([3, 3, -3, 3]), steps: 3)
            let other = Buffer<Double>(start)
            advance(kept, other, steps: 10)
            if options.kind == .sgd && options.momentum == 0 {
                XCTAssertEqual(other.array, expected.array, "\(name) has no state")
            } else {
                XCTAssertNotEqual(other.array, expected.array, "\(name): the state carries over without reset()")
            }
        }
    }

    func testResetAllowsANewParameterCount() {
        let optimizer = Optimizer<Double>(.adam(learningRate: 0.1))
        advance(optimizer, Buffer<Double>(start), steps: 2)
        XCTAssertEqual(optimizer.parameterCount, 4)
        optimizer.reset()
        let params = Buffer<Double>([1, 2]), grads = Buffer<Double>([1, -1])
        optimizer.update(params.pointer, grads.pointer, count: 2)
        keepAlive(grads)
        XCTAssertEqual(optimizer.parameterCount, 2)
        XCTAssertEqual(optimizer.stateBuffer("exp_avg")?.count, 2)
        XCTAssertEqual(params[0], 0.9, accuracy: 1e-8)
        XCTAssertEqual(params[1], 2.1, accuracy: 1e-8)
    }

    func testRpropStepSizesStartAtTheLearningRateOfTheFirstUpdate() {
        // The state is made by the first update with the learning rate of that moment (torch:
        // state["step_size"] = full_like(grad, lr) at the first step), e.g. after a schedule set it.
        let optimizer = Optimizer<Double>(.rprop(learningRate: 0.01))
        optimizer.learningRate = 0.2
        let params = Buffer<Double>([1, 1]), grads = Buffer<Double>([0, 3])
        optimizer.update(params.pointer, grads.pointer, count: 2)
        XCTAssertEqual(optimizer.stateBuffer("step_size")?.array, [0.2, 0.2])
        XCTAssertEqual(params[0], 1, "a zero gradient does not move θ")
        XCTAssertEqual(params[1], 0.8, accuracy: 1e-15)
        // After reset, the current learning rate again.
        optimizer.reset()
        optimizer.learningRate = 0.05
        optimizer.update(params.pointer, grads.pointer, count: 2)
        keepAlive(grads)
        XCTAssertEqual(optimizer.stateBuffer("step_size")?.array, [0.05, 0.05])
        XCTAssertEqual(params[1], 0.75, accuracy: 1e-15)
    }

    func testFloatAndDoubleKeepTheSameState() {
        for (name, options) in optimizerConfigurations {
            let d = Optimizer<Double>(options), f = Optimizer<Float>(options)
            let pd = Buffer<Double>(start), pf = Buffer<Float>(start.map { Float($0) })
            let gd = Buffer<Double>(count: 4), gf = Buffer<Float>(count: 4)
            for _ in 0..<5 {
                let g = gradient(pd.array)
                for i in 0..<4 { gd[i] = g[i]; gf[i] = Float(g[i]) }
                d.update(pd.pointer, gd.pointer, count: 4)
                f.update(pf.pointer, gf.pointer, count: 4)
            }
            keepAlive(gd, gf)
            XCTAssertEqual(d.stateBuffers.map(\.name), f.stateBuffers.map(\.name), name)
            for (a, b) in zip(d.stateBuffers, f.stateBuffers) {
                XCTAssertLessThan(relativeError(a.buffer.array, b.buffer.array.map { Double($0) }).linf, 1e-5,
                                  "\(name) \(a.name)")
            }
        }
    }
}
