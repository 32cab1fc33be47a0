/// Accumulates one metric over the batches of an epoch (or an evaluation).
///
/// Every accumulator keeps exact counts (or a running sum), never a mean of
/// batch means, so the result over an epoch does not depend on the batch size.
protocol MetricAccumulator {
    /// Adds a batch: predictions p [rows, cols] (logits when the accumulator
    /// was made with outputsAreLogits) and targets y [rows, targetCols]
    /// (targetCols is 1 for sparse class-index targets, else cols).
    mutating func add<T: NNFloat>(_ p: UnsafePointer<T>, _ y: UnsafePointer<T>, rows: Int, cols: Int)
    /// The metric over everything added so far (0 if nothing was added, or
    /// when a ratio is 0/0, as Keras returns 0).
    var result: Double { get }
    /// The accumulator's counts (or sums), as numbers that add up across
    /// accumulators of the same metric: what a data-parallel fit sums over
    /// the processes (DataParallel.swift) and sets back.
    var tally: [Double] { get set }
}

/// An accumulator whose work is `accumulate`; its `add` hands the batch to
/// `accumulate` typed as Float or Double. Called through
/// `any MetricAccumulator`, a generic method runs unspecialized (every
/// element conversion a dynamic call: 25–100 ns an element measured on
/// Float batches); with the concrete type named here the compiler
/// specializes `accumulate` (1–13 ns an element, release build).
protocol SpecializedAccumulator: MetricAccumulator {
    mutating func accumulate<T: NNFloat>(_ p: UnsafePointer<T>, _ y: UnsafePointer<T>, rows: Int, cols: Int)
}

extension SpecializedAccumulator {
    // Inlined into each conformer's witness, where Self is concrete: then
    // `accumulate` is a direct call with concrete types, which the compiler
    // specializes (a call through the protocol would run it generically).
    @inline(__always)
    mutating func add<T: NNFloat>(_ p: UnsafePointer<T>, _ y: UnsafePointer<T>, rows: Int, cols: Int) {
        // T is Float or Double, so the memory is bound to the type named.
        if T.self == Float.self {
            accumulate(UnsafeRawPointer(p).assumingMemoryBound(to: Float.self),
                       UnsafeRawPointer(y).assumingMemoryBound(to: Float.self), rows: rows, cols: cols)
        } else if T.self == Double.self {
            accumulate(UnsafeRawPointer(p).assumingMemoryBound(to: Double.self),
                       UnsafeRawPointer(y).assumingMemoryBound(to: Double.self), rows: rows, cols: cols)
        } else {
            accumulate(p, y, rows: rows, cols: cols)
        }
    }
}

extension Metric {
    /// A fresh accumulator for this metric.
    ///
    /// outputsAreLogits: the predictions passed to add() are pre-activation
    /// (logits). The accumulator then judges the probabilities the loss's
    /// activation makes of them (see `MetricActivation`): thresholds apply to
    /// sigmoid(z) — computed as z > log(t / (1 − t)) — or to the row's
    /// softmax for the categorical losses; argmax-based metrics are
    /// unaffected; mean_absolute_error compares the probabilities with the
    /// targets. So a metric reads the same whether the activation is fused
    /// into the loss or not.
    ///
    /// Call `validate(loss:outputs:)` first. For a combination it rejects, the
    /// accumulator reads no data and its result is NaN (it could not know how
    /// wide the targets are).
    func makeAccumulator(loss: Loss, outputs: Int, outputsAreLogits: Bool) -> any MetricAccumulator {
        do {
            try validate(loss: loss, outputs: outputs)
        } catch {
            return RejectedMetricAccumulator()
        }
        let activation = MetricActivation(loss: loss, outputsAreLogits: outputsAreLogits)
        let decision = ThresholdDecision(activation: activation, threshold: threshold)
        let sparse = loss.kind == .sparseCategoricalCrossentropy
        switch resolvedKind(loss: loss, outputs: outputs) {
        case .accuracy, .binaryAccuracy:
            // `.accuracy` never comes out of resolvedKind; it shares the binary case for exhaustiveness.
            return BinaryAccuracyAccumulator(decision: decision)
        case .categoricalAccuracy:
            return ClassAccuracyAccumulator(sparseTargets: sparse)
        case .sparseCategoricalAccuracy:
            return ClassAccuracyAccumulator(sparseTargets: true)
        case .precision:
            return BinaryCountsAccumulator(decision: decision, output: .precision)
        case .recall:
            return BinaryCountsAccumulator(decision: decision, output: .recall)
        case .f1Score:
            return BinaryCountsAccumulator(decision: decision, output: .f1)
        case .f1Macro:
            if loss.kind == .binaryCrossentropy && outputs > 1 {
                return MultiLabelF1Accumulator(decision: decision, labels: outputs)
            }
            return MacroF1Accumulator(decisions: ClassDecisions(
                loss: loss, outputs: outputs, threshold: threshold, outputsAreLogits: outputsAreLogits))
        case .topKAccuracy:
            return TopKAccuracyAccumulator(k: Int(topK), sparseTargets: sparse)
        case .meanAbsoluteError:
            return MeanAbsoluteErrorAccumulator(activation: activation)
        }
    }
}

/// keras.metrics.binary_accuracy (BinaryAccuracy): the fraction of all
/// elements whose decision, 1 when the prediction is above the threshold
/// else 0, equals the target exactly — Keras compares with `ops.equal`, so a
/// soft target such as 0.3 never matches.
struct BinaryAccuracyAccumulator: SpecializedAccumulator {
    let decision: ThresholdDecision
    private(set) var correct = 0, total = 0

    init(decision: ThresholdDecision) { self.decision = decision }

    mutating func accumulate<T: NNFloat>(_ p: UnsafePointer<T>, _ y: UnsafePointer<T>, rows: Int, cols: Int) {
        var hits = 0
        decision.forEach(p, rows: rows, cols: cols) { i, positive in
            if y[i] == (positive ? 1 : 0) { hits += 1 }
        }
        correct += hits
        total += rows * cols
    }

    var result: Double { ratioOrZero(Double(correct), Double(total)) }

    var tally: [Double] {
        get { [Double(correct), Double(total)] }
        set { correct = Int(newValue[0]); total = Int(newValue[1]) }
    }
}

/// keras.metrics.categorical_accuracy: argmax(p) == argmax(y) per row; with
/// sparse targets keras.metrics.sparse_categorical_accuracy: argmax(p) == y.
/// A sparse target that is not a whole class index never matches (Keras
/// compares the argmax with the float target, so 1.5 matches nothing).
struct ClassAccuracyAccumulator: SpecializedAccumulator {
    let sparseTargets: Bool
    private(set) var correct = 0, total = 0

    init(sparseTargets: Bool) { self.sparseTargets = sparseTargets }

    mutating func accumulate<T: NNFloat>(_ p: UnsafePointer<T>, _ y: UnsafePointer<T>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let truth = sparseTargets ? classIndex(y[r], classes: cols) : argmax(y + r * cols, cols)
            if let truth, argmax(p + r * cols, cols) == truth { correct += 1 }
        }
        total += rows
    }

    var result: Double { ratioOrZero(Double(correct), Double(total)) }

    var tally: [Double] {
        get { [Double(correct), Double(total)] }
        set { correct = Int(newValue[0]); total = Int(newValue[1]) }
    }
}

/// keras.metrics.Precision / Recall (thresholds = t) and the binary F1 from
/// the same counts, over all elements as multi-label decisions: a prediction
/// is positive when above the threshold, a target when > 0.5.
/// precision = TP / (TP + FP), recall = TP / (TP + FN) (0 for 0/0, Keras's
/// divide_no_nan), f1 = 2PR / (P + R) (0 when P + R = 0) — which equals
/// scikit-learn's f1_score(average="binary") 2TP / (2TP + FP + FN).
struct BinaryCountsAccumulator: SpecializedAccumulator {
    enum Output: Sendable { case precision, recall, f1 }
    let decision: ThresholdDecision
    let output: Output
    private(set) var truePositives = 0, falsePositives = 0, falseNegatives = 0

    init(decision: ThresholdDecision, output: Output) {
        self.decision = decision
        self.output = output
    }

    mutating func accumulate<T: NNFloat>(_ p: UnsafePointer<T>, _ y: UnsafePointer<T>, rows: Int, cols: Int) {
        var tp = 0, fp = 0, fn = 0
        decision.forEach(p, rows: rows, cols: cols) { i, positive in
            switch (positive, isPositiveTarget(y[i])) {
            case (true, true): tp += 1
            case (true, false): fp += 1
            case (false, true): fn += 1
            case (false, false): break
            }
        }
        truePositives += tp
        falsePositives += fp
        falseNegatives += fn
    }

    var tally: [Double] {
        get { [Double(truePositives), Double(falsePositives), Double(falseNegatives)] }
        set { (truePositives, falsePositives, falseNegatives) = (Int(newValue[0]), Int(newValue[1]), Int(newValue[2])) }
    }

    var precision: Double { ratioOrZero(Double(truePositives), Double(truePositives + falsePositives)) }
    var recall: Double { ratioOrZero(Double(truePositives), Double(truePositives + falseNegatives)) }

    var result: Double {
        switch output {
        case .precision: return precision
        case .recall: return recall
        case .f1:
            let p = precision, r = recall
            return ratioOrZero(2 * p * r, p + r)
        }
    }
}

/// Macro F1 over classes from a confusion matrix: the mean over all classes
/// of 2·TP / (2·TP + FP + FN) — scikit-learn's
/// f1_score(y_true, y_pred, labels=range(classes), average="macro"), and
/// Keras's F1Score(average="macro", threshold=None) on one-hot targets. A class
/// absent from both targets and predictions counts as 0 (sklearn's
/// zero_division default when it is listed in `labels`, and Keras's result);
/// sklearn's default labels=None would drop such a class from the mean.
/// One output gives 2 classes by the threshold, both averaged, as sklearn
/// does for average="macro" on 0/1 labels.
struct MacroF1Accumulator: SpecializedAccumulator {
    let decisions: ClassDecisions
    private(set) var matrix: ConfusionMatrix

    init(decisions: ClassDecisions) {
        self.decisions = decisions
        matrix = ConfusionMatrix(classes: decisions.classes)
    }

    mutating func accumulate<T: NNFloat>(_ p: UnsafePointer<T>, _ y: UnsafePointer<T>, rows: Int, cols: Int) {
        decisions.record(p, y, rows: rows, cols: cols, into: &matrix)
    }

    var result: Double { matrix.total == 0 ? 0 : matrix.macroF1 }

    var tally: [Double] {
        get { matrix.counts.map(Double.init) }
        set { matrix.setCounts(newValue.map { Int($0) }) }
    }
}

/// Macro F1 of a multi-label model (binary cross-entropy on several outputs):
/// each output is its own binary problem (positive when above the threshold)
/// and the result is the mean over outputs of 2·TP / (2·TP + FP + FN), 0 for
/// an output never positive in targets or predictions — scikit-learn's
/// f1_score(average="macro") on label-indicator matrices, and Keras's
/// F1Score(average="macro", threshold=t).
struct MultiLabelF1Accumulator: SpecializedAccumulator {
    let decision: ThresholdDecision
    let labels: Int
    private(set) var truePositives: [Int], falsePositives: [Int], falseNegatives: [Int]
    private(set) var rows = 0

    init(decision: ThresholdDecision, labels: Int) {
        self.decision = decision
        self.labels = labels
        truePositives = [Int](repeating: 0, count: labels)
        falsePositives = truePositives
        falseNegatives = truePositives
    }

    mutating func accumulate<T: NNFloat>(_ p: UnsafePointer<T>, _ y: UnsafePointer<T>, rows: Int, cols: Int) {
        guard cols == labels else { return }
        var tp = truePositives, fp = falsePositives, fn = falseNegatives
        decision.forEach(p, rows: rows, cols: cols) { i, positive in
            let label = i % cols
            switch (positive, isPositiveTarget(y[i])) {
            case (true, true): tp[label] += 1
            case (true, false): fp[label] += 1
            case (false, true): fn[label] += 1
            case (false, false): break
            }
        }
        truePositives = tp
        falsePositives = fp
        falseNegatives = fn
        self.rows += rows
    }

    var tally: [Double] {
        get { (truePositives + falsePositives + falseNegatives).map(Double.init) + [Double(rows)] }
        set {
            let n = labels
            truePositives = newValue[0..<n].map { Int($0) }
            falsePositives = newValue[n..<(2 * n)].map { Int($0) }
            falseNegatives = newValue[(2 * n)..<(3 * n)].map { Int($0) }
            rows = Int(newValue[3 * n])
        }
    }

    var result: Double {
        guard rows > 0, labels > 0 else { return 0 }
        var sum = 0.0
        for c in 0..<labels {
            sum += ratioOrZero(Double(2 * truePositives[c]),
                               Double(2 * truePositives[c] + falsePositives[c] + falseNegatives[c]))
        }
        return sum / Double(labels)
    }
}

/// keras.metrics.top_k_categorical_accuracy (one-hot targets, the class is
/// their argmax) and sparse_top_k_categorical_accuracy (class-index targets):
/// the fraction of rows whose target class is among the k highest
/// predictions, ties with the k-th counting as in (`isInTopK`). A sparse
/// target that is not a class index counts as a miss.
struct TopKAccuracyAccumulator: SpecializedAccumulator {
    let k: Int
    let sparseTargets: Bool
    private(set) var correct = 0, total = 0

    init(k: Int, sparseTargets: Bool) {
        self.k = k
        self.sparseTargets = sparseTargets
    }

    mutating func accumulate<T: NNFloat>(_ p: UnsafePointer<T>, _ y: UnsafePointer<T>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let truth = sparseTargets ? classIndex(y[r], classes: cols) : argmax(y + r * cols, cols)
            if let truth, isInTopK(p + r * cols, cols: cols, target: truth, k: k) { correct += 1 }
        }
        total += rows
    }

    var result: Double { ratioOrZero(Double(correct), Double(total)) }

    var tally: [Double] {
        get { [Double(correct), Double(total)] }
        set { correct = Int(newValue[0]); total = Int(newValue[1]) }
    }
}

/// keras.metrics.mean_absolute_error (MeanAbsoluteError): the mean over all
/// elements of |y − q|, q the model's output — the probability the loss's
/// activation gives when the accumulator is handed logits (sigmoid or
/// softmax), the raw output otherwise.
struct MeanAbsoluteErrorAccumulator: SpecializedAccumulator {
    let activation: MetricActivation
    private(set) var sum = 0.0, count = 0

    init(activation: MetricActivation) { self.activation = activation }

    mutating func accumulate<T: NNFloat>(_ p: UnsafePointer<T>, _ y: UnsafePointer<T>, rows: Int, cols: Int) {
        // One running sum in element order: the same additions in the same
        // order whatever the batch size, so the result is bit-for-bit equal.
        var s = sum
        activation.forEachProbability(p, rows: rows, cols: cols) { i, q in s += abs(Double(y[i]) - q) }
        sum = s
        count += rows * cols
    }

    var result: Double { ratioOrZero(sum, Double(count)) }

    var tally: [Double] {
        get { [sum, Double(count)] }
        set { (sum, count) = (newValue[0], Int(newValue[1])) }
    }
}

/// The accumulator of a metric that `validate` rejects for the model: it
/// reads nothing (the targets' width is unknown) and reports NaN, so a caller
/// that skipped validation sees a wrong number rather than reading out of bounds.
struct RejectedMetricAccumulator: MetricAccumulator {
    mutating func add<T: NNFloat>(_ p: UnsafePointer<T>, _ y: UnsafePointer<T>, rows: Int, cols: Int) {}
    var result: Double { .nan }
    var tally: [Double] {
        get { [] }
        set {}
    }
}
