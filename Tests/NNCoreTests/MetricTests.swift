import XCTest
@testable import NNCore

// The metric accumulators against hand counts and against plain, independent
// implementations of the Keras / scikit-learn formulas written here.

// MARK: Helpers

/// Runs `metric` for a model with `outputs` outputs trained with `loss` over
/// predictions p [rows, outputs] and targets y [rows, target columns], adding
/// `batch` rows at a time (all rows at once when nil); returns the result.
func metricValue<T: NNFloat>(_ metric: Metric, loss: Loss, outputs: Int, logits: Bool = false,
                             p: [T], y: [T], batch: Int? = nil) -> Double {
    let targetCols = loss.targetColumns(outputs: outputs)
    let rows = p.count / outputs
    precondition(p.count == rows * outputs && y.count == rows * targetCols, "bad test data")
    var accumulator = metric.makeAccumulator(loss: loss, outputs: outputs, outputsAreLogits: logits)
    let step = batch ?? max(rows, 1)
    p.withUnsafeBufferPointer { pb in
        y.withUnsafeBufferPointer { yb in
            var start = 0
            while start < rows {
                let n = min(step, rows - start)
                accumulator.add(pb.baseAddress! + start * outputs, yb.baseAddress! + start * targetCols,
                                rows: n, cols: outputs)
                start += n
            }
        }
    }
    return accumulator.result
}

/// log(q / (1 − q)): the logit whose sigmoid is q.
func logit(_ q: Double) -> Double { Double.log(q / (1 - q)) }

/// Row-wise softmax of z [rows, cols], written plainly.
func softmaxRows(_ z: [Double], cols: Int) -> [Double] {
    var out = z
    for r in 0..<z.count / cols {
        let row = Array(z[r * cols..<(r + 1) * cols])
        let m = row.max()!
        let e = row.map { Double.exp($0 - m) }
        let s = e.reduce(0, +)
        for j in 0..<cols { out[r * cols + j] = e[j] / s }
    }
    return out
}

/// scikit-learn's f1_score(y_true, y_pred, labels=range(classes), average="macro"),
/// written from its documentation: per class c, F1 = 2TP / (2TP + FP + FN),
/// 0 when that denominator is 0 (zero_division default), then the plain mean.
func sklearnMacroF1(truth: [Int], predicted: [Int], classes: Int) -> Double {
    var total = 0.0
    for c in 0..<classes {
        var tp = 0, fp = 0, fn = 0
        for (t, p) in zip(truth, predicted) {
            if t == c && p == c { tp += 1 }
            if t != c && p == c { fp += 1 }
            if t == c && p != c { fn += 1 }
        }
        let d = 2 * tp + fp + fn
        total += d == 0 ? 0 : Double(2 * tp) / Double(d)
    }
    return total / Double(classes)
}

/// The rank of the target among the predictions by sorting: 1 + the position,
/// in a descending sort, of the first value equal to the target's value —
/// the rank Keras's in_top_k compares with k.
func sortedRank(_ row: [Double], target: Int) -> Int {
    let sorted = row.sorted(by: >)
    return sorted.firstIndex(of: row[target])! + 1
}

/// First index of the row maximum, as numpy.argmax.
func firstArgmax(_ row: ArraySlice<Double>) -> Int {
    let m = row.max()!
    return row.firstIndex(of: m)! - row.startIndex
}

final class MetricTests: XCTestCase {
    let bce = Loss.binaryCrossentropy, cce = Loss.categoricalCrossentropy
    let scce = Loss.sparseCategoricalCrossentropy, mse = Loss.meanSquaredError

    // MARK: binary_accuracy

    // keras.metrics.binary_accuracy: mean over elements of (p > t) == y.
    func testBinaryAccuracyHandCounted() {
        let p: [Double] = [0.2, 0.7, 0.5, 0.9, 0.1, 0.6]
        let y: [Double] = [0, 1, 1, 0, 0, 1]
        // decisions at 0.5 (strictly above): 0 1 0 1 0 1 → matches y at 0, 1, 4, 5
        XCTAssertEqual(metricValue(.binaryAccuracy, loss: bce, outputs: 2, p: p, y: y), 4.0 / 6.0)
        // decisions at 0.65: 0 1 0 1 0 0 → matches at 0, 1, 4
        XCTAssertEqual(metricValue(Metric(.binaryAccuracy, parameter: 0.65), loss: bce, outputs: 2, p: p, y: y),
                       3.0 / 6.0)
        // "accuracy" with binary cross-entropy is binary accuracy.
        XCTAssertEqual(metricValue(.accuracy, loss: bce, outputs: 2, p: p, y: y), 4.0 / 6.0)
    }

    // Keras compares with ops.equal: a soft target never equals a 0/1 decision.
    func testBinaryAccuracySoftTargetNeverMatches() {
        let p: [Double] = [0.1, 0.9, 0.1]
        let y: [Double] = [0.3, 1, 0]
        XCTAssertEqual(metricValue(.binaryAccuracy, loss: bce, outputs: 1, p: p, y: y), 2.0 / 3.0)
    }

    // MARK: accuracy resolution

    func testAccuracyResolvesAsKeras() {
        XCTAssertEqual(Metric.accuracy.resolvedKind(loss: bce, outputs: 3), .binaryAccuracy)
        XCTAssertEqual(Metric.accuracy.resolvedKind(loss: mse, outputs: 1), .binaryAccuracy)
        XCTAssertEqual(Metric.accuracy.resolvedKind(loss: scce, outputs: 3), .sparseCategoricalAccuracy)
        XCTAssertEqual(Metric.accuracy.resolvedKind(loss: cce, outputs: 3), .categoricalAccuracy)
        XCTAssertEqual(Metric.accuracy.resolvedKind(loss: mse, outputs: 3), .categoricalAccuracy)
        XCTAssertEqual(Metric.precision.resolvedKind(loss: cce, outputs: 3), .precision)

        // Same values as the metric it resolves to, on data where they differ:
        // binary accuracy 4/6 vs categorical accuracy 1/3 on the same one-hot rows.
        let p: [Double] = [0.6, 0.3, 0.1, 0.2, 0.2, 0.6, 0.5, 0.4, 0.1]
        let y: [Double] = [1, 0, 0, 0, 1, 0, 0, 1, 0]
        // argmax p: 0, 2, 0; argmax y: 0, 1, 1 → 1 of 3.
        XCTAssertEqual(metricValue(.accuracy, loss: mse, outputs: 3, p: p, y: y), 1.0 / 3.0)
        XCTAssertEqual(metricValue(.accuracy, loss: cce, outputs: 3, p: p, y: y), 1.0 / 3.0)
        // element-wise at 0.5: decisions 1 0 0 0 0 1 0 0 0 vs y → 6 of 9 match.
        XCTAssertEqual(metricValue(.accuracy, loss: bce, outputs: 3, p: p, y: y), 6.0 / 9.0)
    }

    // MARK: categorical and sparse categorical accuracy

    // keras.metrics.categorical_accuracy: argmax(p) == argmax(y), first index on ties.
    func testCategoricalAccuracyHandCounted() {
        let p: [Double] = [0.1, 0.7, 0.2,
                           0.4, 0.4, 0.2,   // tie: argmax is class 0
                           0.3, 0.3, 0.4,
                           0.5, 0.2, 0.3]
        let y: [Double] = [0, 1, 0,
                           0, 1, 0,
                           0, 0, 1,
                           0, 0, 1]
        XCTAssertEqual(metricValue(.categoricalAccuracy, loss: cce, outputs: 3, p: p, y: y), 0.5)
        // The tied row counts when the target is the first of the tied classes.
        var y2 = y
        y2.replaceSubrange(3..<6, with: [1, 0, 0])
        XCTAssertEqual(metricValue(.categoricalAccuracy, loss: cce, outputs: 3, p: p, y: y2), 0.75)
        // With sparse targets the class index is used directly.
        let labels: [Double] = [1, 1, 2, 2]
        XCTAssertEqual(metricValue(.categoricalAccuracy, loss: scce, outputs: 3, p: p, y: labels), 0.5)
        XCTAssertEqual(metricValue(.sparseCategoricalAccuracy, loss: scce, outputs: 3, p: p, y: labels), 0.5)
    }

    // keras.metrics.sparse_categorical_accuracy: argmax(p) == y, compared as
    // numbers, so a label that is not a whole class index never matches.
    func testSparseCategoricalAccuracyHandCounted() {
        let p: [Double] = [0.1, 0.7, 0.2,  0.6, 0.3, 0.1,  0.2, 0.3, 0.5,  0.8, 0.1, 0.1,
                           0.9, 0.05, 0.05, 0.1, 0.1, 0.8]
        // argmax: 1, 0, 2, 0, 0, 2
        let y: [Double] = [1, 0, 2, 1.5, .nan, 3]
        // rows 0–2 match; 1.5, NaN and the out-of-range 3 do not (and do not trap)
        XCTAssertEqual(metricValue(.sparseCategoricalAccuracy, loss: scce, outputs: 3, p: p, y: y), 0.5)
        XCTAssertEqual(metricValue(.accuracy, loss: scce, outputs: 3, p: p, y: y), 0.5)
    }

    // MARK: precision, recall, f1_score

    // keras.metrics.Precision / Recall (thresholds=t) count TP, FP, FN over all
    // elements; F1 = 2PR / (P + R) = sklearn f1_score(average="binary").
    func testPrecisionRecallF1HandCounted() {
        let p: [Double] = [0.9, 0.2, 0.8, 0.4, 0.6, 0.3, 0.7, 0.1]
        let y: [Double] = [1, 0, 0, 1, 1, 0, 1, 1]
        // at 0.5: decisions 1 0 1 0 1 0 1 0 → TP = 3 (0, 4, 6), FP = 1 (2), FN = 2 (3, 7)
        XCTAssertEqual(metricValue(.precision, loss: bce, outputs: 2, p: p, y: y), 0.75)
        XCTAssertEqual(metricValue(.recall, loss: bce, outputs: 2, p: p, y: y), 0.6)
        let f1: Double = 6.0 / 9.0  // 2TP / (2TP + FP + FN)
        XCTAssertEqual(metricValue(.f1Score, loss: bce, outputs: 2, p: p, y: y), f1, accuracy: 1e-15)
        // at 0.75: decisions 1 0 1 0 0 0 0 0 → TP = 1, FP = 1, FN = 4
        let t = 0.75
        XCTAssertEqual(metricValue(Metric(.precision, parameter: t), loss: bce, outputs: 2, p: p, y: y), 0.5)
        XCTAssertEqual(metricValue(Metric(.recall, parameter: t), loss: bce, outputs: 2, p: p, y: y), 0.2)
        XCTAssertEqual(metricValue(Metric(.f1Score, parameter: t), loss: bce, outputs: 2, p: p, y: y),
                       2.0 / 7.0, accuracy: 1e-15)
        // A regression loss on one output uses the same counts.
        XCTAssertEqual(metricValue(.precision, loss: mse, outputs: 1, p: p, y: y), 0.75)
    }

    // Keras's divide_no_nan: 0/0 ratios are 0.
    func testPrecisionRecallF1ZeroDivision() {
        let noPositivePredictions: [Double] = [0.1, 0.2, 0.3]
        let y: [Double] = [1, 0, 1]
        for metric in [Metric.precision, .recall, .f1Score] {
            XCTAssertEqual(metricValue(metric, loss: bce, outputs: 1, p: noPositivePredictions, y: y), 0)
        }
        // no positive targets either way: recall is 0/0
        XCTAssertEqual(metricValue(.recall, loss: bce, outputs: 1, p: [0.9, 0.8], y: [0, 0] as [Double]), 0)
        XCTAssertEqual(metricValue(.precision, loss: bce, outputs: 1, p: [0.9, 0.8], y: [0, 0] as [Double]), 0)
    }

    // Targets count as positive when > 0.5 (Keras casts to bool, which differs
    // only for soft targets in (0, 0.5]).
    func testSoftTargetsSplitAtOneHalf() {
        let p: [Double] = [0.9, 0.9, 0.9]
        let y: [Double] = [0.95, 0.3, 0.5]
        // TP = 1 (0.95), FP = 2 (0.3 and 0.5 are negatives)
        XCTAssertEqual(metricValue(.precision, loss: bce, outputs: 1, p: p, y: y), 1.0 / 3.0, accuracy: 1e-15)
    }

    // MARK: f1_macro

    // By hand: truth 0 0 1 1 2 2, predicted 0 1 1 1 2 0.
    // class 0: TP 1, FP 1, FN 1 → 1/2; class 1: TP 2, FP 1 → 4/5; class 2: TP 1, FN 1 → 2/3.
    func testF1MacroHandComputed() {
        let p: [Double] = [0.8, 0.1, 0.1,  0.3, 0.6, 0.1,  0.2, 0.7, 0.1,
                           0.1, 0.5, 0.4,  0.1, 0.1, 0.8,  0.5, 0.2, 0.3]
        let oneHot: [Double] = [1, 0, 0,  1, 0, 0,  0, 1, 0,  0, 1, 0,  0, 0, 1,  0, 0, 1]
        let labels: [Double] = [0, 0, 1, 1, 2, 2]
        let expected = (0.5 + 0.8 + 2.0 / 3.0) / 3  // 59/90
        XCTAssertEqual(metricValue(.f1Macro, loss: cce, outputs: 3, p: p, y: oneHot), expected, accuracy: 1e-15)
        XCTAssertEqual(metricValue(.f1Macro, loss: scce, outputs: 3, p: p, y: labels), expected, accuracy: 1e-15)
        XCTAssertEqual(sklearnMacroF1(truth: [0, 0, 1, 1, 2, 2], predicted: [0, 1, 1, 1, 2, 0], classes: 3),
                       expected, accuracy: 1e-15)
    }

    // A class that is neither true nor predicted anywhere counts as 0 (sklearn with
    // labels=range(3), Keras F1Score(average="macro")); sklearn's default
    // labels=None would drop it and report 1.0.
    func testF1MacroAbsentClassCountsAsZero() {
        let p: [Double] = [0.9, 0.05, 0.05,  0.1, 0.8, 0.1,  0.7, 0.2, 0.1,  0.2, 0.7, 0.1]
        let labels: [Double] = [0, 1, 0, 1]
        XCTAssertEqual(metricValue(.f1Macro, loss: scce, outputs: 3, p: p, y: labels), 2.0 / 3.0, accuracy: 1e-15)
    }

    // One output: two classes by the threshold, both averaged, as
    // sklearn f1_score(y, y_hat, average="macro") on 0/1 labels.
    func testF1MacroOneOutputAveragesBothClasses() {
        let p: [Double] = [0.9, 0.2, 0.6, 0.4, 0.7]
        let y: [Double] = [1, 0, 0, 1, 1]
        // decisions 1 0 1 0 1. class 1: TP 2, FP 1, FN 1 → 4/6; class 0: TP 1, FP 1, FN 1 → 2/4
        XCTAssertEqual(metricValue(.f1Macro, loss: bce, outputs: 1, p: p, y: y), (4.0 / 6 + 0.5) / 2, accuracy: 1e-15)
        XCTAssertEqual(sklearnMacroF1(truth: [1, 0, 0, 1, 1], predicted: [1, 0, 1, 0, 1], classes: 2),
                       (4.0 / 6 + 0.5) / 2, accuracy: 1e-15)
        // threshold 0.65: decisions 1 0 0 0 1. class 1: TP 2, FN 1 → 4/5; class 0: TP 2, FN 0, FP 1 → 4/5
        XCTAssertEqual(metricValue(Metric(.f1Macro, parameter: 0.65), loss: bce, outputs: 1, p: p, y: y),
                       0.8, accuracy: 1e-15)
    }

    // Binary cross-entropy on several outputs is multi-label: sklearn
    // f1_score(Y, Y_hat, average="macro") on indicator matrices, the mean of
    // each output's binary F1.
    func testF1MacroMultiLabel() {
        let p: [Double] = [0.9, 0.1,  0.8, 0.7,  0.2, 0.6,  0.3, 0.4]
        let y: [Double] = [1, 0,  0, 1,  0, 1,  1, 1]
        // output 0: decisions 1 1 0 0 vs 1 0 0 1 → TP 1, FP 1, FN 1 → 1/2
        // output 1: decisions 0 1 1 0 vs 0 1 1 1 → TP 2, FN 1 → 4/5
        XCTAssertEqual(metricValue(.f1Macro, loss: bce, outputs: 2, p: p, y: y), 0.65, accuracy: 1e-15)
    }

    // Random data against the plain sklearn reference, one-hot and sparse.
    func testF1MacroMatchesSklearnReference() {
        var rng = RandomGenerator(seed: 11)
        let rows = 57, classes = 4
        let p = (0..<rows * classes).map { _ in rng.uniform(0, 1) }
        let truth = (0..<rows).map { _ in Int(rng.next() % UInt64(classes)) }
        var oneHot = [Double](repeating: 0, count: rows * classes)
        for r in 0..<rows { oneHot[r * classes + truth[r]] = 1 }
        let predicted = (0..<rows).map { firstArgmax(p[$0 * classes..<($0 + 1) * classes]) }
        let expected = sklearnMacroF1(truth: truth, predicted: predicted, classes: classes)
        XCTAssertGreaterThan(expected, 0.05)
        XCTAssertEqual(metricValue(.f1Macro, loss: cce, outputs: classes, p: p, y: oneHot), expected, accuracy: 1e-14)
        XCTAssertEqual(metricValue(.f1Macro, loss: scce, outputs: classes, p: p, y: truth.map(Double.init)),
                       expected, accuracy: 1e-14)
    }

    // MARK: top_k_accuracy

    // Keras in_top_k: rank = 1 + #(predictions > the target's); in when rank <= k,
    // so classes tied with the k-th largest are all in.
    func testTopKHandWithTies() {
        let p: [Double] = [0.1, 0.4, 0.3, 0.2,   // target 2: rank 2
                           0.1, 0.4, 0.3, 0.2,   // target 3: rank 3
                           0.3, 0.3, 0.3, 0.1,   // target 2: three-way tie at the top, rank 1
                           0.5, 0.2, 0.2, 0.1,   // target 2: tied with class 1 for second, rank 2
                           0.2, 0.2, 0.2, 0.4]   // target 0: rank 2
        let labels: [Double] = [2, 3, 2, 2, 0]
        var oneHot = [Double](repeating: 0, count: 20)
        for (r, c) in labels.enumerated() { oneHot[r * 4 + Int(c)] = 1 }
        let expected: [Int: Double] = [1: 1.0 / 5, 2: 4.0 / 5, 3: 1]
        for (k, value) in expected {
            let metric = Metric(.topKAccuracy, parameter: Double(k))
            XCTAssertEqual(metricValue(metric, loss: scce, outputs: 4, p: p, y: labels), value, "k = \(k)")
            XCTAssertEqual(metricValue(metric, loss: cce, outputs: 4, p: p, y: oneHot), value, "k = \(k)")
        }
    }

    // Many ties (predictions drawn from {0, 1, 2}) against a sort-based rank.
    func testTopKMatchesSortedRankWithTies() {
        var rng = RandomGenerator(seed: 5)
        let rows = 200, classes = 6
        let p = (0..<rows * classes).map { _ in Double(rng.next() % 3) }
        let labels = (0..<rows).map { _ in Int(rng.next() % UInt64(classes)) }
        for k in 1..<classes {
            var hits = 0
            for r in 0..<rows where sortedRank(Array(p[r * classes..<(r + 1) * classes]), target: labels[r]) <= k {
                hits += 1
            }
            let value = metricValue(Metric(.topKAccuracy, parameter: Double(k)), loss: scce, outputs: classes,
                                    p: p, y: labels.map(Double.init))
            XCTAssertEqual(value, Double(hits) / Double(rows), "k = \(k)")
        }
        // Sanity of the data: ties make top-1 count more than one class per row.
        XCTAssertGreaterThan(metricValue(Metric(.topKAccuracy, parameter: 1), loss: scce, outputs: classes,
                                         p: p, y: labels.map(Double.init)), 1.0 / Double(classes))
    }

    // MARK: mean_absolute_error

    // keras.metrics.mean_absolute_error: mean over elements of |y − p|.
    func testMeanAbsoluteErrorHand() {
        let p: [Double] = [0.2, 0.9, 0.5, 0.1]
        let y: [Double] = [0, 1, 1, 0]
        XCTAssertEqual(metricValue(.meanAbsoluteError, loss: mse, outputs: 2, p: p, y: y), 0.225, accuracy: 1e-15)
        // regression targets outside [0, 1] too
        XCTAssertEqual(metricValue(.meanAbsoluteError, loss: mse, outputs: 1, p: [-1, 2.5] as [Double],
                                   y: [1, 0.5] as [Double]), 2, accuracy: 1e-15)
        // On sigmoid logits it compares the probabilities.
        XCTAssertEqual(metricValue(.meanAbsoluteError, loss: bce, outputs: 2, logits: true, p: p.map(logit), y: y),
                       0.225, accuracy: 1e-12)
    }

    // MARK: empty, Float, rejected

    func testNothingAddedGivesZero() {
        let cases: [(Metric, Loss, Int)] = [
            (.accuracy, bce, 1), (.binaryAccuracy, bce, 2), (.categoricalAccuracy, cce, 3),
            (.sparseCategoricalAccuracy, scce, 3), (.precision, bce, 1), (.recall, bce, 1), (.f1Score, bce, 1),
            (.f1Macro, cce, 3), (.f1Macro, bce, 3), (.f1Macro, bce, 1),
            (Metric(.topKAccuracy, parameter: 2), cce, 3), (.meanAbsoluteError, mse, 2),
        ]
        for (metric, loss, outputs) in cases {
            let accumulator = metric.makeAccumulator(loss: loss, outputs: outputs, outputsAreLogits: false)
            XCTAssertEqual(accumulator.result, 0, metric.name)
        }
    }

    // The Float path makes the same decisions as the Double one.
    func testFloatAndDoubleAgree() {
        var rng = RandomGenerator(seed: 3)
        let rows = 40, classes = 3
        let p = (0..<rows * classes).map { _ in rng.uniform(0, 1) }
        let labels = (0..<rows).map { _ in Double(rng.next() % UInt64(classes)) }
        let pf = p.map(Float.init), lf = labels.map(Float.init)
        for metric in [Metric.accuracy, .f1Macro, Metric(.topKAccuracy, parameter: 2)] {
            XCTAssertEqual(metricValue(metric, loss: scce, outputs: classes, p: p, y: labels),
                           metricValue(metric, loss: scce, outputs: classes, p: pf, y: lf), metric.name)
        }
    }

    // A combination validate() rejects reads nothing and reports NaN: here
    // binary_accuracy with sparse targets, whose y holds one value per row.
    func testRejectedCombinationReportsNaN() {
        var accumulator = Metric.binaryAccuracy.makeAccumulator(loss: scce, outputs: 3, outputsAreLogits: false)
        let p: [Double] = [0.1, 0.8, 0.1, 0.7, 0.2, 0.1]
        let y: [Double] = [1, 0]
        p.withUnsafeBufferPointer { pb in
            y.withUnsafeBufferPointer { yb in accumulator.add(pb.baseAddress!, yb.baseAddress!, rows: 2, cols: 3) }
        }
        XCTAssertTrue(accumulator.result.isNaN)
    }
}
