import XCTest
@testable import NNCore

// confusionMatrix(...): rows are true classes, columns predicted ones, as
// sklearn.metrics.confusion_matrix(y_true, y_pred, labels=range(classes)).

final class MetricConfusionMatrixTests: XCTestCase {
    let bce = Loss.binaryCrossentropy, cce = Loss.categoricalCrossentropy
    let scce = Loss.sparseCategoricalCrossentropy

    func matrix(_ p: [Double], _ y: [Double], cols: Int, loss: Loss, logits: Bool = false) -> ConfusionMatrix {
        p.withUnsafeBufferPointer { pb in
            y.withUnsafeBufferPointer { yb in
                confusionMatrix(predictions: pb.baseAddress!, targets: yb.baseAddress!, rows: p.count / cols,
                                cols: cols, loss: loss, outputsAreLogits: logits)
            }
        }
    }

    func testBinaryOneOutput() {
        let p: [Double] = [0.9, 0.2, 0.6, 0.4, 0.7, 0.5]
        let y: [Double] = [1, 0, 0, 1, 1, 0]
        // decisions (> 0.5): 1 0 1 0 1 0
        // true 0: rows 1, 2, 5 → predicted 0, 1, 0; true 1: rows 0, 3, 4 → predicted 1, 0, 1
        let m = matrix(p, y, cols: 1, loss: bce)
        XCTAssertEqual(m.classes, 2)
        XCTAssertEqual(m.counts, [2, 1, 1, 2])
        XCTAssertEqual(m[trueClass: 0, predicted: 1], 1)
        XCTAssertEqual(m.total, 6)
        XCTAssertEqual(m.accuracy, 4.0 / 6.0)
        // On logits the threshold is 0; p = 0.5 is the logit 0, still class 0.
        XCTAssertEqual(matrix(p.map(logit), y, cols: 1, loss: bce, logits: true), m)
        // Any loss on one output is binary.
        XCTAssertEqual(matrix(p, y, cols: 1, loss: .meanSquaredError).counts, [2, 1, 1, 2])
    }

    // truth 0 0 1 1 2 2, predicted 0 1 1 1 2 0.
    func testThreeClasses() {
        let p: [Double] = [0.8, 0.1, 0.1,  0.3, 0.6, 0.1,  0.2, 0.7, 0.1,
                           0.1, 0.5, 0.4,  0.1, 0.1, 0.8,  0.5, 0.2, 0.3]
        let oneHot: [Double] = [1, 0, 0,  1, 0, 0,  0, 1, 0,  0, 1, 0,  0, 0, 1,  0, 0, 1]
        let labels: [Double] = [0, 0, 1, 1, 2, 2]
        let m = matrix(p, oneHot, cols: 3, loss: cce)
        XCTAssertEqual(m.classes, 3)
        XCTAssertEqual(m.counts, [1, 1, 0,
                                  0, 2, 0,
                                  1, 0, 1])
        XCTAssertEqual(m.total, 6)
        XCTAssertEqual(matrix(p, labels, cols: 3, loss: scce), m)
        // softmax does not move the argmax
        XCTAssertEqual(matrix(p.map { Double.log($0) }, labels, cols: 3, loss: scce, logits: true), m)
        XCTAssertEqual(m.precision(ofClass: 0), 0.5)
        XCTAssertEqual(m.recall(ofClass: 1), 1)
        XCTAssertEqual(m.recall(ofClass: 2), 0.5)
        XCTAssertEqual(m.f1(ofClass: 1), 0.8, accuracy: 1e-15)
        XCTAssertEqual(m.macroF1, 59.0 / 90.0, accuracy: 1e-15)
        XCTAssertEqual(m.trueCount(ofClass: 2), 2)
        XCTAssertEqual(m.predictedCount(ofClass: 1), 3)
    }

    // Multi-label (binary cross-entropy on several outputs): decisions pooled
    // over the outputs, the sum of sklearn's multilabel_confusion_matrix; the
    // cells are TN, FP, FN, TP of binary precision/recall.
    func testMultiLabelPooled() {
        let p: [Double] = [0.9, 0.2, 0.8, 0.4, 0.6, 0.3, 0.7, 0.1]
        let y: [Double] = [1, 0, 0, 1, 1, 0, 1, 1]
        let m = matrix(p, y, cols: 2, loss: bce)
        // TP 3, FP 1, FN 2, TN 2 (as in the precision test)
        XCTAssertEqual(m.counts, [2, 1, 2, 3])
        XCTAssertEqual(m.total, 8)
        let precision = metricValue(.precision, loss: bce, outputs: 2, p: p, y: y)
        XCTAssertEqual(m.precision(ofClass: 1), precision)
    }

    // Random 5-class data: every cell against a count written here, the sum is
    // the number of rows, and chunked matrices add up to the whole.
    func testRandomAgainstCountsAndChunks() {
        var rng = RandomGenerator(seed: 21)
        let rows = 73, classes = 5
        let p = (0..<rows * classes).map { _ in rng.uniform(-2, 2) }
        let truth = (0..<rows).map { _ in Int(rng.next() % UInt64(classes)) }
        let m = matrix(p, truth.map(Double.init), cols: classes, loss: scce, logits: true)
        var expected = [Int](repeating: 0, count: classes * classes)
        for r in 0..<rows {
            expected[truth[r] * classes + firstArgmax(p[r * classes..<(r + 1) * classes])] += 1
        }
        XCTAssertEqual(m.counts, expected)
        XCTAssertEqual(m.total, rows)
        XCTAssertEqual(m.counts.reduce(0, +), rows)
        XCTAssertEqual(m.macroF1, metricValue(.f1Macro, loss: scce, outputs: classes, logits: true,
                                             p: p, y: truth.map(Double.init)), accuracy: 1e-15)

        let split = 30
        let first = matrix(Array(p[..<(split * classes)]), truth[..<split].map(Double.init), cols: classes, loss: scce)
        let second = matrix(Array(p[(split * classes)...]), truth[split...].map(Double.init), cols: classes, loss: scce)
        XCTAssertEqual(first.adding(second), m)
        var sum = first
        sum.add(second)
        XCTAssertEqual(sum, m)
    }

    // A sparse target that is no class index is left out, without trapping.
    func testInvalidSparseTargetIsLeftOut() {
        let p: [Double] = [0.9, 0.1, 0.2, 0.8, 0.6, 0.4]
        let labels: [Double] = [0, .nan, 7]
        let m = matrix(p, labels, cols: 2, loss: scce)
        XCTAssertEqual(m.counts, [1, 0, 0, 0])
        XCTAssertEqual(m.total, 1)
    }

    func testEmptyMatrix() {
        let p: [Double] = [0.2, 0.3, 0.5], y: [Double] = [0, 0, 1]
        let m = p.withUnsafeBufferPointer { pb in
            y.withUnsafeBufferPointer { yb in
                confusionMatrix(predictions: pb.baseAddress!, targets: yb.baseAddress!, rows: 0, cols: 3,
                                loss: cce, outputsAreLogits: false)
            }
        }
        XCTAssertEqual(m.classes, 3)
        XCTAssertEqual(m.counts, [Int](repeating: 0, count: 9))
        XCTAssertEqual(m.accuracy, 0)
        XCTAssertEqual(m.macroF1, 0)
    }
}
