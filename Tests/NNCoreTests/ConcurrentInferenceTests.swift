import Dispatch
import XCTest
@testable import NNCore

/// Inference calls on one model from many threads at once (Sequential's
/// threading rule): each runs on a network of the model's inference pool, a
/// replica over the same weights with its own workspace, so results are the
/// serial ones bit for bit; the pool follows every change of the model.
final class ConcurrentInferenceTests: XCTestCase {
    /// 5 → 24 relu → BatchNorm → 12 tanh → 3 softmax, trained a little (so
    /// BatchNorm's statistics are not 0 and 1), or (batchNorm false) the
    /// all-Dense model of the small-network path.
    func trainedModel(batchNorm: Bool) throws -> (Sequential, Tensor, Tensor) {
        let model = try Sequential(inputDim: 5, seed: 3)
        try model.add(Dense(24, activation: .relu))
        if batchNorm { try model.add(BatchNormalization()) }
        try model.add(Dense(12, activation: .tanh))
        try model.add(Dense(3, activation: .softmax))
        try model.compile(loss: .categoricalCrossentropy, optimizer: .adam(learningRate: 0.01), metrics: [.accuracy])
        let rows = 300
        let x = try Tensor(shape: [rows, 5], scalars: uniformValues(rows * 5, -2, 2, seed: 8).map { Float($0) })
        let y = try Tensor(shape: [rows, 3], scalars: (0..<rows * 3).map { Float($0 % 3 == ($0 / 3) % 3 ? 1 : 0) })
        _ = try model.fit(x: x, y: y, options: FitOptions(epochs: 2, batchSize: 32, shuffle: false))
        return (model, x, y)
    }

    /// Rows [start, start + count) of x.
    func rows(_ x: Tensor, _ start: Int, _ count: Int) throws -> Tensor {
        try Tensor(shape: [count, x.shape[1]], scalars: Array(x.scalars[start * x.shape[1]..<(start + count) * x.shape[1]]))
    }

    /// 8 threads × 150 predicts (1 to 300 rows) and evaluations (whose fused
    /// softmax + cross-entropy runs the last layer without its activation:
    /// a predict must never see that) give the serial results bit for bit.
    func testConcurrentPredictionsAndEvaluationsEqualTheSerialOnes() throws {
        for batchNorm in [true, false] {
            let (model, x, y) = try trainedModel(batchNorm: batchNorm)
            let shapes = (0..<8 * 150).map { call in (call * 7 % 290, call % 50 == 49 ? 300 : call % 3 == 0 ? 1 : 2 + call % 9) }
            let inputs = try shapes.map { try rows(x, min($0.0, 300 - $0.1), $0.1) }
            let expected = try inputs.map { try model.predict($0) }
            let evaluation = try model.evaluate(x: x, y: y)
            nonisolated(unsafe) let shared = model
            let lock = PosixLock()
            nonisolated(unsafe) var wrong: [String] = []
            DispatchQueue.concurrentPerform(iterations: 8) { thread in
                for i in 0..<150 {
                    let call = thread * 150 + i
                    do {
                        if i % 10 == 9 {
                            let values = try shared.evaluate(x: x, y: y)
                            if values != evaluation { lock.withLock { wrong.append("evaluate \(call): \(values)") } }
                        }
                        let out = try shared.predict(inputs[call])
                        if out != expected[call] { lock.withLock { wrong.append("predict \(call)") } }
                    } catch {
                        lock.withLock { wrong.append("call \(call): \(error)") }
                    }
                }
            }
            XCTAssertEqual(wrong.count, 0, "batchNorm \(batchNorm), the first: \(wrong.prefix(4))")
            // At most one network per thread that ran at once; kept for the next calls.
            XCTAssertLessThanOrEqual(model.inferenceNetworkCount, 8)
            XCTAssertGreaterThanOrEqual(model.inferenceNetworkCount, 1)
        }
    }

    /// One thread's calls reuse one pooled network (a steady state allocates
    /// none), which follows the model: new weights (set in place) at once,
    /// a new layer (new blocks) and new kernels by a new replica.
    func testThePoolFollowsTheModel() throws {
        let (model, x, _) = try trainedModel(batchNorm: true)
        let before = try model.predict(x)
        XCTAssertEqual(model.inferenceNetworkCount, 1)
        _ = try model.predict(x)
        XCTAssertEqual(model.inferenceNetworkCount, 1)

        var kernel = try model.weight(0)
        for i in kernel.indices { kernel[i] = -kernel[i] }
        try model.setWeight(0, kernel)
        let changed = try model.predict(x)
        XCTAssertNotEqual(changed, before)
        let fresh = try Sequential(inputDim: 5, seed: 3)
        for layer in model.layers { try fresh.add(layer) }
        for i in 0..<model.weightShapes.count { try fresh.setWeight(i, try model.weight(i)) }
        XCTAssertEqual(try fresh.predict(x), changed, "a pooled replica computes what a fresh model does")

        let untrained = try Sequential(inputDim: 5, seed: 3)
        try untrained.add(Dense(4, activation: .relu))
        _ = try untrained.predict(x)
        try untrained.add(Dense(2))
        XCTAssertEqual(try untrained.predict(x).shape, [300, 2], "a layer added after a predict is used")

        // New kernels (the reference ones: other bits) reach the pool too.
        model.network.kernels = .reference
        fresh.network.kernels = .reference
        let withReference = try model.predict(x)
        XCTAssertEqual(withReference, try fresh.predict(x))
        XCTAssertNotEqual(withReference, changed, "the reference kernels give other last bits here")
        XCTAssertEqual(model.inferenceNetworkCount, 1, "the old replica was replaced, not kept beside the new one")
    }
}
