import Foundation
import XCTest
@testable import NNCore

/// `Sequential.dataParallel` from Swift (the same seam nn_model_set_data_parallel
/// sets): ranks are threads here, summing through an in-process all-reduce.
final class DataParallelTests: XCTestCase {
    /// Sums the ranks' buffers in rank order; every rank gets the sum.
    final class ThreadGroup: @unchecked Sendable {
        let size: Int
        private let condition = NSCondition()
        private var buffers: [UnsafeMutablePointer<Float>?]
        private var arrived = 0, generation = 0
        private(set) var calls = 0

        init(size: Int) {
            self.size = size
            buffers = Array(repeating: nil, count: size)
        }

        func allReduce(rank: Int, _ values: UnsafeMutablePointer<Float>, _ count: Int) -> Int {
            condition.lock()
            defer { condition.unlock() }
            buffers[rank] = values
            let mine = generation
            arrived += 1
            if arrived == size {
                for i in 0..<count {
                    var sum: Float = 0
                    for r in 0..<size { sum += buffers[r]![i] }
                    for r in 0..<size { buffers[r]![i] = sum }
                }
                calls += 1
                arrived = 0
                generation += 1
                condition.broadcast()
            } else {
                while generation == mine { condition.wait() }
            }
            return 0
        }
    }

    func makeModel() throws -> Sequential {
        let model = try Sequential(inputDim: 6, seed: 9)
        try model.add(Dense(12, activation: .relu))
        try model.add(Dense(2, activation: .softmax))
        try model.compile(loss: .categoricalCrossentropy, optimizer: .adam(learningRate: 0.01), metrics: [.accuracy])
        return model
    }

    func data(rows: Int) throws -> (Tensor, Tensor) {
        let x = uniformValues(rows * 6, -1, 1, seed: 4).map { Float($0) }
        var y = [Float](repeating: 0, count: rows * 2)
        for r in 0..<rows { y[r * 2 + (x[r * 6] + x[r * 6 + 1] > 0 ? 1 : 0)] = 1 }
        return (try Tensor(shape: [rows, 6], scalars: x), try Tensor(shape: [rows, 2], scalars: y))
    }

    /// Two ranks on 32-row shares of 64-row batches: identical replicas and
    /// History, one process's weights to 1e-5; size 1 trains alone.
    func testTwoRanksMatchOneProcess() throws {
        let (x, y) = try data(rows: 640)
        let options = FitOptions(epochs: 2, batchSize: 64, shuffle: true, seed: 21)
        let alone = try makeModel()
        let single = try alone.fit(x: x, y: y, options: options)

        /// Each rank's model, History and error (each rank writes its own slot).
        final class Ranks: @unchecked Sendable {
            var models: [Sequential] = []
            var histories: [History?] = [nil, nil]
            var errors: [Error?] = [nil, nil]
            var options = FitOptions()
        }
        let group = ThreadGroup(size: 2)
        let ranks = Ranks()
        ranks.models = try [makeModel(), makeModel()]
        ranks.options = options
        for rank in 0..<2 {
            ranks.models[rank].dataParallel = try DataParallel(rank: rank, size: 2) {
                group.allReduce(rank: rank, $0, $1)
            }
        }
        let (xs, ys) = (x, y)
        // Two threads of their own (concurrentPerform may run both on one).
        let done = DispatchGroup()
        for rank in 0..<2 {
            done.enter()
            Thread {
                do {
                    ranks.histories[rank] = try ranks.models[rank].fit(x: xs, y: ys, options: ranks.options)
                } catch {
                    ranks.errors[rank] = error
                }
                done.leave()
            }.start()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 120), .success, "a rank is still waiting: a hang")
        let (models, histories) = (ranks.models, ranks.histories)
        XCTAssertNil(ranks.errors[0])
        XCTAssertNil(ranks.errors[1])
        XCTAssertEqual(group.calls, 1 + 2 * 10 + 2)          // check, 10 steps an epoch, each epoch's end
        XCTAssertEqual(models[0].network.parameters.array, models[1].network.parameters.array)
        for (a, b) in zip(models[0].network.parameters.array, alone.network.parameters.array) {
            XCTAssertEqual(a, b, accuracy: 1e-5)
        }
        XCTAssertEqual(histories[0]?.values["loss"], histories[1]?.values["loss"])
        for (a, b) in zip(histories[0]?.values["loss"] ?? [], single.values["loss"] ?? []) {
            XCTAssertEqual(a, b, accuracy: 1e-5 * b)
        }

        // Back to one process: the callback is never called again.
        models[0].dataParallel = try DataParallel(rank: 0, size: 1) { _, _ in XCTFail("called"); return 1 }
        _ = try models[0].fit(x: x, y: y, options: options)
        XCTAssertThrowsError(try DataParallel(rank: 2, size: 2) { _, _ in 0 })
    }
}
