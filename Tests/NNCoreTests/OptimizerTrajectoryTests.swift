import XCTest
@testable import NNCore

/// The acceptance test of the optimizers: each one, for 10 steps on a fixed
/// small problem from fixed initial weights, matches the independent
/// reference computation of PyTorch's formula (the `Torch*` types of
/// OptimizerTests.swift, transcribed from the algorithm boxes of the PyTorch
/// documentation) after every step: to 1e-10 relative as `Optimizer<Double>`
/// and to 1e-5 relative as `Optimizer<Float>`.
///
/// The problem is the quadratic f(θ) = ½ (θ − c)ᵀ H (θ − c) on θ ∈ R⁶, with H
/// symmetric tridiagonal and diagonally dominant (so positive definite; its
/// eigenvalues are about 0.73 ... 3.20). The gradient ∇f(θ) = H (θ − c) is
/// computed here from the current parameters before every step, so each
/// step's gradient depends on all the updates before it: an error in any
/// update changes the rest of the trajectory.
final class OptimizerTrajectoryTests: XCTestCase {
    /// H: diagonal and first off-diagonal (above and below).
    static let diagonal = [2.0, 1.0, 3.0, 1.5, 2.5, 0.8]
    static let offDiagonal = [0.4, -0.3, 0.5, 0.2, -0.35]
    /// c, the minimum; and θ₀. All coordinates are kept away from 0 by the
    /// whole trajectory (checked), so that a relative comparison is meaningful.
    static let minimum = [1.5, -2.0, 1.0, -1.25, 2.0, -1.5]
    static let start = [3.0, -0.75, 2.0, -2.75, 1.25, -2.5]

    /// ∇f(θ) = H (θ − c).
    static func gradient(_ theta: [Double]) -> [Double] {
        let d = zip(theta, minimum).map { $0 - $1 }
        return d.indices.map { i in
            var g = diagonal[i] * d[i]
            if i > 0 { g += offDiagonal[i - 1] * d[i - 1] }
            if i + 1 < d.count { g += offDiagonal[i] * d[i + 1] }
            return g
        }
    }

    /// θ after each of `steps` updates of `Optimizer<T>`; the gradient is
    /// evaluated in Double at the T parameters and rounded to T.
    /// `schedule(t)`, when given, is the learning rate of step t (1-based),
    /// set before that step.
    static func libraryRun<T: NNFloat>(_ options: OptimizerOptions, _ scalar: T.Type, steps: Int = 10,
                                schedule: ((Int) -> Double)? = nil) -> (trajectory: [[Double]], optimizer: Optimizer<T>) {
        let optimizer = Optimizer<T>(options)
        let params = Buffer<T>(Self.start.map { T($0) })
        let grads = Buffer<T>(count: params.count)
        var trajectory: [[Double]] = []
        for t in 1...steps {
            if let schedule { optimizer.learningRate = schedule(t) }
            let g = Self.gradient(params.array.map { Double($0) })
            for i in g.indices { grads[i] = T(g[i]) }
            optimizer.update(params.pointer, grads.pointer, count: params.count)
            trajectory.append(params.array.map { Double($0) })
        }
        keepAlive(grads)
        return (trajectory, optimizer)
    }

    /// The same run with the reference, all in Double.
    static func referenceRun(_ options: OptimizerOptions, steps: Int = 10,
                      schedule: ((Int) -> Double)? = nil) -> (trajectory: [[Double]], reference: any ReferenceOptimizer) {
        var reference = referenceOptimizer(options)
        var theta = Self.start
        var trajectory: [[Double]] = []
        for t in 1...steps {
            if let schedule { reference.lr = schedule(t) }
            reference.step(&theta, Self.gradient(theta))
            trajectory.append(theta)
        }
        return (trajectory, reference)
    }

    /// Asserts that the two trajectories agree element by element to `tolerance` relative.
    func assertSameTrajectory(_ got: [[Double]], _ want: [[Double]], _ tolerance: Double, _ name: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, name, file: file, line: line)
        for (t, (g, w)) in zip(got, want).enumerated() {
            for i in g.indices {
                XCTAssertLessThan(relativeDifference(g[i], w[i]), tolerance,
                                  "\(name), step \(t + 1), parameter \(i): \(g[i]) vs \(w[i])", file: file, line: line)
            }
        }
    }

    func testTheProblemIsMeaningfulForEveryConfiguration() {
        for (name, options) in optimizerConfigurations {
            let (trajectory, _) = Self.referenceRun(options)
            let smallest = trajectory.joined().map(abs).min()!
            XCTAssertGreaterThan(smallest, 0.25, "\(name): the parameters stay away from 0")
            let moved = relativeError(trajectory.last!, Self.start).linf
            XCTAssertGreaterThan(moved, 0.02, "\(name): the parameters move")
            // Every step moves them (no step is a no-op that would hide a wrong update).
            for t in 1..<trajectory.count {
                XCTAssertNotEqual(trajectory[t], trajectory[t - 1], "\(name): step \(t + 1) moves the parameters")
            }
        }
    }

    func testEveryOptimizerMatchesTheReferenceInDouble() {
        for (name, options) in optimizerConfigurations {
            let (got, optimizer) = Self.libraryRun(options, Double.self)
            let (want, reference) = Self.referenceRun(options)
            assertSameTrajectory(got, want, 1e-10, name)
            XCTAssertEqual(optimizer.step, 10, name)
            // The state, by PyTorch's names, matches the reference's too.
            let state = reference.state
            XCTAssertEqual(Set(optimizer.stateBuffers.map(\.name)), Set(state.keys), name)
            XCTAssertEqual(optimizer.stateBuffers.map(\.name), Optimizer<Double>.stateNames(for: options), name)
            for (key, buffer) in optimizer.stateBuffers {
                let expected = state[key] ?? []
                XCTAssertEqual(buffer.count, expected.count, "\(name) \(key)")
                let error = relativeError(buffer.array, expected).linf
                XCTAssertLessThan(error, 1e-10, "\(name) state \(key): \(buffer.array) vs \(expected)")
            }
        }
    }

    func testEveryOptimizerMatchesTheReferenceInFloat() {
        for (name, options) in optimizerConfigurations {
            let (got, optimizer) = Self.libraryRun(options, Float.self)
            let (want, _) = Self.referenceRun(options)
            assertSameTrajectory(got, want, 1e-5, name)
            XCTAssertEqual(optimizer.step, 10, name)
        }
    }

    func testTheRpropProblemExercisesEveryBranch() {
        // With η₀ = 0.3, η₊ = 1.2, η₋ = 0.5 and step sizes in [0.1, 0.5], the
        // steps grow (0.3, 0.36, 0.432), reach the cap 0.5, overshoot the
        // minimum, flip signs and shrink down to the floor 0.1.
        let (name, options) = optimizerConfigurations.first { $0.name == "Rprop" }!
        let (_, result) = Self.referenceRun(options)
        let reference = result as! TorchRprop
        XCTAssertGreaterThan(reference.increases, 0, "\(name): η₊ used")
        XCTAssertGreaterThan(reference.decreases, 0, "\(name): η₋ used (a sign flip)")
        XCTAssertGreaterThan(reference.cappedAtMax, 0, "\(name): Γ_max reached")
        XCTAssertGreaterThan(reference.flooredAtMin, 0, "\(name): Γ_min reached")
        // The library holds the same step sizes, both bounds among them at some step.
        let optimizer = Optimizer<Double>(options)
        let params = Buffer<Double>(Self.start), grads = Buffer<Double>(count: Self.start.count)
        var seen = Set<Double>()
        for _ in 1...10 {
            let g = Self.gradient(params.array)
            for i in g.indices { grads[i] = g[i] }
            optimizer.update(params.pointer, grads.pointer, count: params.count)
            seen.formUnion(optimizer.stateBuffer("step_size")!.array)
        }
        keepAlive(grads)
        XCTAssertTrue(seen.contains(0.5), "step sizes seen: \(seen.sorted())")
        XCTAssertTrue(seen.contains(0.1), "step sizes seen: \(seen.sorted())")
        XCTAssertEqual(optimizer.stateBuffer("step_size")!.array, reference.eta)
        XCTAssertEqual(optimizer.stateBuffer("prev")!.array, reference.gPrev)
        XCTAssertTrue(reference.gPrev.contains(0), "a zeroed gradient is kept as prev")
    }

    func testLearningRateChangesTakeEffect() {
        // A schedule that changes γ before every step: γ_t = γ₀ · 0.8^(t−1).
        for (name, options) in optimizerConfigurations {
            let schedule = { (t: Int) in (1..<t).reduce(options.learningRate) { lr, _ in lr * 0.8 } }
            let (got, optimizer) = Self.libraryRun(options, Double.self, schedule: schedule)
            let (want, _) = Self.referenceRun(options, schedule: schedule)
            assertSameTrajectory(got, want, 1e-10, name + " with a schedule")
            XCTAssertEqual(optimizer.learningRate, schedule(10), name)
            let (constant, _) = Self.libraryRun(options, Double.self)
            if options.kind == .rprop {
                // PyTorch's Rprop reads lr once, as the initial step sizes.
                XCTAssertEqual(got, constant, "\(name): a schedule after the first step changes nothing")
            } else {
                XCTAssertEqual(got[0], constant[0], "\(name): the first step uses γ₀ either way")
                XCTAssertGreaterThan(relativeError(got[9], constant[9]).linf, 1e-4,
                                     "\(name): the schedule changes the trajectory")
            }
        }
    }

    func testLearningRateIsReadAtEachUpdateNotFromTheOptions() {
        // γ raised from 0.1 to 0.4 between two SGD steps on f: the second step
        // moves by exactly 0.4 · ∇f(θ₁).
        let optimizer = Optimizer<Double>(.sgd(learningRate: 0.1))
        let params = Buffer<Double>(Self.start), grads = Buffer<Double>(count: 6)
        let g0 = Self.gradient(params.array)
        for i in 0..<6 { grads[i] = g0[i] }
        optimizer.update(params.pointer, grads.pointer, count: 6)
        let theta1 = params.array
        for i in 0..<6 { XCTAssertEqual(theta1[i], Self.start[i] - 0.1 * g0[i], accuracy: 1e-15) }
        optimizer.learningRate = 0.4
        XCTAssertEqual(optimizer.options.learningRate, 0.1, "the options stay as given")
        let g1 = Self.gradient(theta1)
        for i in 0..<6 { grads[i] = g1[i] }
        optimizer.update(params.pointer, grads.pointer, count: 6)
        keepAlive(grads)
        for i in 0..<6 { XCTAssertEqual(params[i], theta1[i] - 0.4 * g1[i], accuracy: 1e-15) }
    }
}
