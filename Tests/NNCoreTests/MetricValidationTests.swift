import XCTest
@testable import NNCore

// Metric.validate(loss:outputs:): which metric fits which model, and which
// parameters are valid, with the messages a user sees.

final class MetricValidationTests: XCTestCase {
    let bce = Loss.binaryCrossentropy, cce = Loss.categoricalCrossentropy
    let scce = Loss.sparseCategoricalCrossentropy, mse = Loss.meanSquaredError

    /// The error validate() throws, or nil.
    func error(_ metric: Metric, _ loss: Loss, _ outputs: Int) -> NNError? {
        do {
            try metric.validate(loss: loss, outputs: outputs)
            return nil
        } catch let e as NNError {
            return e
        } catch {
            XCTFail("unexpected error type \(error)")
            return nil
        }
    }

    /// Asserts an invalidArgument whose message contains every fragment.
    func assertInvalidArgument(_ metric: Metric, _ loss: Loss, _ outputs: Int, _ fragments: [String],
                               file: StaticString = #filePath, line: UInt = #line) {
        guard case .invalidArgument(let message)? = error(metric, loss, outputs) else {
            return XCTFail("expected invalidArgument, got \(String(describing: error(metric, loss, outputs)))",
                           file: file, line: line)
        }
        for f in fragments { XCTAssertTrue(message.contains(f), "'\(message)' lacks '\(f)'", file: file, line: line) }
    }

    /// Asserts an invalidState whose message contains every fragment.
    func assertInvalidState(_ metric: Metric, _ loss: Loss, _ outputs: Int, _ fragments: [String],
                            file: StaticString = #filePath, line: UInt = #line) {
        guard case .invalidState(let message)? = error(metric, loss, outputs) else {
            return XCTFail("expected invalidState, got \(String(describing: error(metric, loss, outputs)))",
                           file: file, line: line)
        }
        for f in fragments { XCTAssertTrue(message.contains(f), "'\(message)' lacks '\(f)'", file: file, line: line) }
    }

    func testTopKParameter() {
        for bad in [0, -1, 2.5, .nan, .infinity] {
            assertInvalidArgument(Metric(.topKAccuracy, parameter: bad), scce, 10,
                                  ["top_k_accuracy", "k must be a whole number >= 1"])
        }
        assertInvalidArgument(Metric(.topKAccuracy, parameter: 2.5), scce, 10, ["2.5"])
        // Parameter checks come first, even where the model would not fit either.
        assertInvalidArgument(Metric(.topKAccuracy, parameter: 0), bce, 1, ["k must be"])
        XCTAssertNil(error(Metric(.topKAccuracy, parameter: 2), scce, 3))
        XCTAssertNil(error(.topKAccuracy, cce, 10))
    }

    func testTopKNeedsMoreOutputsThanK() {
        assertInvalidState(Metric(.topKAccuracy, parameter: 3), scce, 3, ["k = 3", "the model has 3", "set k below 3"])
        // the default k = 5 on a 5-class model
        assertInvalidState(.topKAccuracy, cce, 5, ["k = 5"])
        assertInvalidState(Metric(.topKAccuracy, parameter: 1), bce, 1, ["top_k_accuracy"])
        assertInvalidState(Metric(.topKAccuracy, parameter: 1e300), scce, 3, ["top_k_accuracy"])
    }

    func testThresholdParameter() {
        let thresholded: [Metric.Kind] = [.binaryAccuracy, .precision, .recall, .f1Score, .f1Macro]
        for kind in thresholded {
            for bad in [0, 1, 1.5, -0.1, .nan, .infinity] {
                assertInvalidArgument(Metric(kind, parameter: bad), bce, 1,
                                      [kind.rawValue, "threshold must be in (0, 1)"])
            }
            XCTAssertNil(error(Metric(kind, parameter: 0.3), bce, 1), kind.rawValue)
            XCTAssertNil(error(Metric(kind, parameter: 0.999), bce, 2), kind.rawValue)
        }
    }

    func testMetricsWithoutParameterRejectOne() {
        assertInvalidArgument(Metric(.accuracy, parameter: 0.5), bce, 1,
                              ["accuracy takes no parameter", "0.5", "binary_accuracy"])
        assertInvalidArgument(Metric(.categoricalAccuracy, parameter: 1), cce, 3, ["categorical_accuracy takes no parameter"])
        assertInvalidArgument(Metric(.sparseCategoricalAccuracy, parameter: 1), scce, 3, ["takes no parameter"])
        assertInvalidArgument(Metric(.meanAbsoluteError, parameter: 1), mse, 3, ["mean_absolute_error takes no parameter"])
    }

    func testCategoricalAccuracyNeedsTwoOutputs() {
        assertInvalidState(.categoricalAccuracy, bce, 1, ["categorical_accuracy", "at least 2 outputs", "binary_accuracy"])
        assertInvalidState(.categoricalAccuracy, mse, 1, ["at least 2 outputs"])
        XCTAssertNil(error(.categoricalAccuracy, cce, 2))
        XCTAssertNil(error(.categoricalAccuracy, scce, 3))
        XCTAssertNil(error(.categoricalAccuracy, mse, 4))
    }

    func testSparseCategoricalAccuracyNeedsSparseTargets() {
        assertInvalidState(.sparseCategoricalAccuracy, cce, 3,
                           ["class-index targets", "categorical_crossentropy", "use categorical_accuracy"])
        assertInvalidState(.sparseCategoricalAccuracy, bce, 1, ["at least 2 outputs"])
        XCTAssertNil(error(.sparseCategoricalAccuracy, scce, 2))
    }

    func testBinaryMetricsRefuseMultiClassModels() {
        for kind in [Metric.Kind.precision, .recall, .f1Score] {
            for loss in [cce, scce] {
                assertInvalidState(Metric(kind), loss, 4, [kind.rawValue, "multi-class", loss.kind.rawValue, "f1_macro"])
            }
            XCTAssertNil(error(Metric(kind), bce, 1))
            XCTAssertNil(error(Metric(kind), bce, 5))
            XCTAssertNil(error(Metric(kind), mse, 2))
            XCTAssertNil(error(Metric(kind), Loss(.binaryCrossentropy, fromLogits: true), 1))
        }
    }

    func testElementwiseMetricsRefuseSparseTargets() {
        assertInvalidState(.binaryAccuracy, scce, 3, ["binary_accuracy", "class indices", "sparse_categorical_accuracy"])
        assertInvalidState(.meanAbsoluteError, scce, 3, ["mean_absolute_error", "class indices"])
        XCTAssertNil(error(.binaryAccuracy, cce, 3))
        XCTAssertNil(error(.meanAbsoluteError, bce, 1))
    }

    func testAlwaysApplicable() {
        for (loss, outputs) in [(bce, 1), (bce, 3), (cce, 3), (scce, 3), (mse, 1), (mse, 2)] {
            XCTAssertNil(error(.accuracy, loss, outputs))
            XCTAssertNil(error(.f1Macro, loss, outputs))
        }
    }

    func testNoOutputs() {
        assertInvalidState(.accuracy, bce, 0, ["at least 1 output"])
    }

    // validate() and makeAccumulator() agree on every combination: an accepted one
    // gives a number, a rejected one NaN.
    func testValidateAndMakeAccumulatorAgree() {
        let metrics: [Metric] = Metric.Kind.allCases.map { Metric($0) }
            + [Metric(.topKAccuracy, parameter: 1), Metric(.precision, parameter: 0)]
        let models: [(Loss, Int)] = [(bce, 1), (bce, 3), (cce, 2), (cce, 6), (scce, 6), (mse, 1), (mse, 3)]
        var accepted = 0, rejected = 0
        for metric in metrics {
            for (loss, outputs) in models {
                let rows = 4, targetCols = loss.targetColumns(outputs: outputs)
                let p = (0..<rows * outputs).map { Double($0 % 7) / 7 }
                let y = (0..<rows * targetCols).map { Double($0 % 2) }
                let value = metricValue(metric, loss: loss, outputs: outputs, p: p, y: y)
                if error(metric, loss, outputs) == nil {
                    accepted += 1
                    XCTAssertTrue(value.isFinite, "\(metric.name) \(loss.kind.rawValue) \(outputs)")
                } else {
                    rejected += 1
                    XCTAssertTrue(value.isNaN, "\(metric.name) \(loss.kind.rawValue) \(outputs)")
                }
            }
        }
        XCTAssertGreaterThan(accepted, 0)
        XCTAssertGreaterThan(rejected, 0)
    }
}
