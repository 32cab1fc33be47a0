import XCTest
@testable import NNCore

/// The small-network path of `Network` (all-Dense Float models with tiny
/// products call the production kernels directly) must give exactly the
/// bits of the general path, which goes through the kernel table and each
/// layer's operation.
final class DensePathTests: XCTestCase {
    func model(seed: UInt64, activations: [Activation], loss: Loss, widths: [Int]? = nil) throws -> Sequential {
        let m = try Sequential(inputDim: 3, seed: seed)
        for (i, f) in activations.enumerated() {
            try m.add(Dense(widths?[i] ?? (i == activations.count - 1 ? 2 : 6), activation: f))
        }
        try m.compile(loss: loss, optimizer: .adam(learningRate: 0.05), metrics: [.accuracy])
        return m
    }

    func testDensePathMatchesTheGeneralPathBitForBit() throws {
        let x = try Tensor(shape: [8, 3], scalars: (0..<24).map { Float(($0 * 7) % 11) / 5 - 1 })
        let cases: [([Activation], Loss, Tensor)] = [
            ([.tanh, .sigmoid], .binaryCrossentropy,
             try Tensor(shape: [8, 2], scalars: (0..<16).map { Float($0 % 3 == 0 ? 1 : 0) })),
            ([.relu, .leakyRelu(negativeSlope: 0.1), .softmax], .sparseCategoricalCrossentropy,
             try Tensor(shape: [8, 1], scalars: (0..<8).map { Float($0 % 2) })),
            ([.elu(alpha: 1), .linear], .meanSquaredError,
             try Tensor(shape: [8, 2], scalars: (0..<16).map { Float($0) / 16 })),
        ]
        for (activations, loss, y) in cases {
            let fast = try model(seed: 4, activations: activations, loss: loss)
            let general = try model(seed: 4, activations: activations, loss: loss)
            let table = KernelTable<Float>.production
            let gemm = table.gemm
            table.gemm = gemm   // the same kernels, no longer marked as the production table
            general.network.kernels = table
            XCTAssertTrue(fast.network.kernels.isProduction)
            XCTAssertFalse(general.network.kernels.isProduction)
            for batch in [1, 3, 8] {
                let options = FitOptions(epochs: 5, batchSize: batch, shuffle: true, seed: 9)
                let a = try fast.fit(x: x, y: y, options: options), b = try general.fit(x: x, y: y, options: options)
                XCTAssertEqual(a.values, b.values, "\(activations) batch \(batch): logs")
            }
            for i in 0..<fast.weightShapes.count {
                XCTAssertEqual(try fast.weight(i), try general.weight(i), "\(activations): weight \(i)")
            }
            XCTAssertEqual(try fast.predict(x), try general.predict(x))
        }
    }

    /// One row at a time takes the fused row kernels (`denseRowForward`,
    /// `denseRowBackward`): widths that cover their vector part, their rest
    /// and the one-unit output, for each activation they fuse and one they
    /// leave to the general step.
    func testFusedRowKernelsMatchTheGeneralPathBitForBit() throws {
        let x = try Tensor(shape: [6, 3], scalars: (0..<18).map { Float(($0 * 5) % 13) / 6 - 1 })
        let y = try Tensor(shape: [6, 1], scalars: (0..<6).map { Float($0 % 2) })
        let cases: [([Activation], [Int])] = [
            ([.sigmoid, .sigmoid], [8, 1]),
            ([.relu, .tanh, .sigmoid], [11, 17, 1]),
            ([.tanh, .relu, .linear], [3, 19, 1]),
            ([.sigmoid, .elu(alpha: 1), .sigmoid], [16, 5, 1]),
        ]
        for (activations, widths) in cases {
            let fast = try model(seed: 7, activations: activations, loss: .meanSquaredError, widths: widths)
            let general = try model(seed: 7, activations: activations, loss: .meanSquaredError, widths: widths)
            let table = KernelTable<Float>.production
            let gemm = table.gemm
            table.gemm = gemm
            general.network.kernels = table
            try fast.compile(loss: .meanSquaredError, optimizer: .sgd(learningRate: 0.3))
            try general.compile(loss: .meanSquaredError, optimizer: .sgd(learningRate: 0.3))
            let options = FitOptions(epochs: 20, batchSize: 1, shuffle: true, seed: 3)
            let a = try fast.fit(x: x, y: y, options: options), b = try general.fit(x: x, y: y, options: options)
            XCTAssertEqual(a.values, b.values, "\(activations) \(widths): logs")
            for i in 0..<fast.weightShapes.count {
                XCTAssertEqual(try fast.weight(i), try general.weight(i), "\(activations) \(widths): weight \(i)")
            }
            for r in 0..<6 {
                let row = try Tensor(shape: [1, 3], scalars: Array(x.scalars[(r * 3)..<(r * 3 + 3)]))
                XCTAssertEqual(try fast.predict(row), try general.predict(row))
            }
        }
    }
}
