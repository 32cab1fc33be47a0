import XCTest
@testable import NNCore

// Properties every metric must have: the epoch result does not depend on how
// the rows are cut into batches (counts, not means of batch means), and
// handing logits gives the same result as handing the probabilities the
// loss's activation makes of them.

final class MetricConsistencyTests: XCTestCase {
    let bce = Loss.binaryCrossentropy, cce = Loss.categoricalCrossentropy
    let scce = Loss.sparseCategoricalCrossentropy, mse = Loss.meanSquaredError

    /// Targets for `loss`: 0/1 for binary cross-entropy, one-hot rows for
    /// categorical, class indices for sparse, uniform [0, 1) for MSE.
    func targets(_ loss: Loss, rows: Int, outputs: Int, _ rng: inout RandomGenerator) -> [Double] {
        switch loss.kind {
        case .sparseCategoricalCrossentropy:
            return (0..<rows).map { _ in Double(rng.next() % UInt64(outputs)) }
        case .categoricalCrossentropy:
            var y = [Double](repeating: 0, count: rows * outputs)
            for r in 0..<rows { y[r * outputs + Int(rng.next() % UInt64(outputs))] = 1 }
            return y
        case .binaryCrossentropy:
            return (0..<rows * outputs).map { _ in Double(rng.next() % 2) }
        default:
            return (0..<rows * outputs).map { _ in rng.uniform(0, 1) }
        }
    }

    func testBatchSizeIndependence() {
        let cases: [(Metric, Loss, Int, Bool)] = [
            (.accuracy, bce, 1, false), (.accuracy, cce, 4, true), (.accuracy, scce, 4, false),
            (.binaryAccuracy, bce, 3, true), (Metric(.binaryAccuracy, parameter: 0.3), cce, 4, true),
            (.categoricalAccuracy, cce, 4, false), (.categoricalAccuracy, scce, 4, true),
            (.sparseCategoricalAccuracy, scce, 5, false),
            (.precision, bce, 2, false), (.recall, bce, 2, true), (Metric(.f1Score, parameter: 0.4), bce, 3, false),
            (.f1Macro, cce, 4, false), (.f1Macro, scce, 5, true), (.f1Macro, bce, 1, false), (.f1Macro, bce, 3, true),
            (Metric(.topKAccuracy, parameter: 2), cce, 5, false), (Metric(.topKAccuracy, parameter: 3), scce, 6, true),
            (.meanAbsoluteError, mse, 2, false), (.meanAbsoluteError, bce, 2, true), (.meanAbsoluteError, cce, 3, true),
        ]
        var rng = RandomGenerator(seed: 8)
        let rows = 31
        for (metric, loss, outputs, logits) in cases {
            let p = (0..<rows * outputs).map { _ in logits ? rng.uniform(-3, 3) : rng.uniform(0, 1) }
            let y = targets(loss, rows: rows, outputs: outputs, &rng)
            let label = "\(metric.name) \(loss.kind.rawValue) outputs=\(outputs) logits=\(logits)"
            let whole = metricValue(metric, loss: loss, outputs: outputs, logits: logits, p: p, y: y)
            XCTAssertTrue(whole > 0 && whole.isFinite, label)
            for batch in [1, 3, 7] {
                XCTAssertEqual(metricValue(metric, loss: loss, outputs: outputs, logits: logits, p: p, y: y, batch: batch),
                               whole, "\(label) batch=\(batch)")
            }
        }
    }

    // The data above is sensitive to averaging: the mean of batch accuracies
    // differs from the accuracy over all rows when the last batch is short.
    func testMeanOfBatchMeansWouldDiffer() {
        let p: [Double] = [0.9, 0.9, 0.9, 0.1]
        let y: [Double] = [1, 1, 1, 1]
        // batches of 3: accuracies 1 and 0 → mean 0.5; over all rows 3/4.
        XCTAssertEqual(metricValue(.binaryAccuracy, loss: bce, outputs: 1, p: p, y: y, batch: 3), 0.75)
        var first = Metric.binaryAccuracy.makeAccumulator(loss: bce, outputs: 1, outputsAreLogits: false)
        var second = first
        p.withUnsafeBufferPointer { pb in
            y.withUnsafeBufferPointer { yb in
                first.add(pb.baseAddress!, yb.baseAddress!, rows: 3, cols: 1)
                second.add(pb.baseAddress! + 3, yb.baseAddress! + 3, rows: 1, cols: 1)
            }
        }
        XCTAssertEqual((first.result + second.result) / 2, 0.5)
    }

    // Binary cross-entropy: logits z against probabilities sigmoid(z).
    func testSigmoidLogitsMatchProbabilities() {
        var rng = RandomGenerator(seed: 13)
        let rows = 40
        for outputs in [1, 3] {
            let z = (0..<rows * outputs).map { _ in rng.uniform(-4, 4) }
            let q = z.map { 1 / (1 + Double.exp(-$0)) }
            let y = (0..<rows * outputs).map { _ in Double(rng.next() % 2) }
            var metrics: [Metric] = [.accuracy, .precision, .recall, .f1Score, .f1Macro, .meanAbsoluteError]
            for t in [0.2, 0.5, 0.85] {
                metrics += [Metric(.binaryAccuracy, parameter: t), Metric(.f1Score, parameter: t),
                            Metric(.f1Macro, parameter: t), Metric(.recall, parameter: t)]
            }
            for metric in metrics {
                let fromLogits = metricValue(metric, loss: bce, outputs: outputs, logits: true, p: z, y: y)
                let fromProbabilities = metricValue(metric, loss: bce, outputs: outputs, p: q, y: y)
                XCTAssertEqual(fromLogits, fromProbabilities, accuracy: 1e-12,
                               "\(metric.name) \(metric.parameter ?? 0.5) outputs=\(outputs)")
            }
        }
    }

    // Categorical losses: logits z against probabilities softmax(z) — argmax
    // metrics are unaffected, thresholds and MAE see the softmax.
    func testSoftmaxLogitsMatchProbabilities() {
        var rng = RandomGenerator(seed: 17)
        let rows = 40, classes = 4
        let z = (0..<rows * classes).map { _ in rng.uniform(-3, 3) }
        let q = softmaxRows(z, cols: classes)
        let oneHot = targets(cce, rows: rows, outputs: classes, &rng)
        let labels = targets(scce, rows: rows, outputs: classes, &rng)
        let oneHotMetrics: [Metric] = [.accuracy, .categoricalAccuracy, .f1Macro, Metric(.topKAccuracy, parameter: 2),
                                       Metric(.binaryAccuracy, parameter: 0.3), .meanAbsoluteError]
        for metric in oneHotMetrics {
            XCTAssertEqual(metricValue(metric, loss: cce, outputs: classes, logits: true, p: z, y: oneHot),
                           metricValue(metric, loss: cce, outputs: classes, p: q, y: oneHot), accuracy: 1e-12, metric.name)
        }
        for metric in [Metric.accuracy, .sparseCategoricalAccuracy, .f1Macro, Metric(.topKAccuracy, parameter: 3)] {
            XCTAssertEqual(metricValue(metric, loss: scce, outputs: classes, logits: true, p: z, y: labels),
                           metricValue(metric, loss: scce, outputs: classes, p: q, y: labels), metric.name)
        }
        // The softmax really is applied: raw logits against one-hot targets give another MAE.
        XCTAssertNotEqual(metricValue(.meanAbsoluteError, loss: cce, outputs: classes, logits: true, p: z, y: oneHot),
                          metricValue(.meanAbsoluteError, loss: cce, outputs: classes, p: z, y: oneHot))
    }

    // On sigmoid logits the threshold t becomes z > log(t / (1 − t)).
    func testLogitThresholdIsTheLogitOfT() {
        let t = 0.3, cut = logit(0.3)  // ≈ −0.847
        let z: [Double] = [cut - 1e-9, cut + 1e-9, -0.9, -0.8]
        let y: [Double] = [0, 1, 0, 1]
        XCTAssertEqual(metricValue(Metric(.binaryAccuracy, parameter: t), loss: bce, outputs: 1, logits: true, p: z, y: y), 1)
        // Without the logit flag the same numbers are probabilities, all below 0.3.
        XCTAssertEqual(metricValue(Metric(.binaryAccuracy, parameter: t), loss: bce, outputs: 1, p: z, y: y), 0.5)
        // Default threshold on logits: 0.
        XCTAssertEqual(metricValue(.accuracy, loss: bce, outputs: 1, logits: true, p: [-0.01, 0.01, 0], y: [0, 1, 0]), 1)
        // A threshold near 1 on large logits: log(t / (1 − t)) ≈ 20.7.
        XCTAssertEqual(metricValue(Metric(.recall, parameter: 0.999_999_999), loss: bce, outputs: 1, logits: true,
                                   p: [40, 10], y: [1, 1]), 0.5)
    }

    // Float logits take the same decisions as Double probabilities away from ties.
    func testFloatLogits() {
        var rng = RandomGenerator(seed: 29)
        let rows = 30
        let z = (0..<rows * 2).map { _ in rng.uniform(-4, 4) }
        let y = (0..<rows * 2).map { _ in Double(rng.next() % 2) }
        let q = z.map { 1 / (1 + Double.exp(-$0)) }
        for metric in [Metric.accuracy, .precision, .f1Macro, Metric(.recall, parameter: 0.7)] {
            XCTAssertEqual(metricValue(metric, loss: bce, outputs: 2, logits: true, p: z.map(Float.init), y: y.map(Float.init)),
                           metricValue(metric, loss: bce, outputs: 2, p: q, y: y), metric.name)
        }
    }
}
