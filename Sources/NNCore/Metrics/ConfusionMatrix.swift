/// A confusion matrix: `counts[t * classes + p]` is the number of decisions
/// whose true class is t and predicted class p (rows are true classes,
/// columns predicted ones, as scikit-learn's `confusion_matrix`).
///
/// Built by `confusionMatrix(predictions:targets:rows:cols:loss:outputsAreLogits:)`:
/// - one output: 2 classes, class 1 when the prediction is above 0.5
///   (above 0 on sigmoid logits); one decision per row.
/// - binary cross-entropy on several outputs (multi-label): 2 classes, one
///   decision per output of each row, pooled over the outputs (the sum of
///   scikit-learn's `multilabel_confusion_matrix` over the labels), so the
///   counts add up to rows × outputs.
/// - otherwise one class per output: the predicted class is the argmax of the
///   row, the true class the sparse index or the argmax of the target row.
public struct ConfusionMatrix: Equatable, Sendable {
    /// Number of classes (the matrix is classes × classes).
    public let classes: Int
    /// Row-major counts, true class by predicted class.
    public private(set) var counts: [Int]

    /// An all-zero matrix.
    init(classes: Int) {
        self.classes = classes
        counts = [Int](repeating: 0, count: classes * classes)
    }

    /// The number of decisions of true class t predicted as p.
    public subscript(trueClass t: Int, predicted p: Int) -> Int { counts[t * classes + p] }

    /// Number of decisions counted.
    public var total: Int { counts.reduce(0, +) }

    /// Decisions whose true class is c (row sum): TP + FN of class c.
    public func trueCount(ofClass c: Int) -> Int {
        (0..<classes).reduce(0) { $0 + self[trueClass: c, predicted: $1] }
    }

    /// Decisions predicted as c (column sum): TP + FP of class c.
    public func predictedCount(ofClass c: Int) -> Int {
        (0..<classes).reduce(0) { $0 + self[trueClass: $1, predicted: c] }
    }

    /// TP / (TP + FP) of class c, 0 when nothing was predicted as c.
    public func precision(ofClass c: Int) -> Double {
        ratioOrZero(Double(self[trueClass: c, predicted: c]), Double(predictedCount(ofClass: c)))
    }

    /// TP / (TP + FN) of class c, 0 when no decision has true class c.
    public func recall(ofClass c: Int) -> Double {
        ratioOrZero(Double(self[trueClass: c, predicted: c]), Double(trueCount(ofClass: c)))
    }

    /// 2·TP / (2·TP + FP + FN) of class c — scikit-learn's F1 formula, equal to
    /// 2PR / (P + R) when both are defined — and 0 when the class is neither
    /// true nor predicted anywhere (sklearn's zero_division default).
    /// 2·TP + FP + FN is the row sum plus the column sum of c.
    public func f1(ofClass c: Int) -> Double {
        let tp = self[trueClass: c, predicted: c]
        return ratioOrZero(Double(2 * tp), Double(trueCount(ofClass: c) + predictedCount(ofClass: c)))
    }

    /// The unweighted mean over all classes of `f1(ofClass:)`: scikit-learn's
    /// `f1_score(y_true, y_pred, labels=range(classes), average="macro")` and
    /// Keras's `F1Score(average="macro")`. A class absent from both targets and
    /// predictions counts as 0; note that sklearn's default `labels=None`
    /// would leave such a class out of the mean instead.
    public var macroF1: Double {
        guard classes > 0 else { return 0 }
        return (0..<classes).reduce(0.0) { $0 + f1(ofClass: $1) } / Double(classes)
    }

    /// Fraction of decisions on the diagonal (0 for an empty matrix).
    public var accuracy: Double {
        ratioOrZero(Double((0..<classes).reduce(0) { $0 + self[trueClass: $1, predicted: $1] }), Double(total))
    }

    /// The element-wise sum of two matrices of the same classes: the matrix of
    /// both sets of decisions (to combine the chunks of a large evaluation).
    public func adding(_ other: ConfusionMatrix) -> ConfusionMatrix {
        var sum = self
        sum.add(other)
        return sum
    }

    /// Replaces the counts (the same number of them: classes²).
    mutating func setCounts(_ values: [Int]) {
        precondition(values.count == counts.count, "setCounts: \(values.count) counts for \(classes) classes")
        counts = values
    }

    /// Adds the counts of another matrix of the same classes.
    public mutating func add(_ other: ConfusionMatrix) {
        precondition(other.classes == classes,
                     "adding a \(other.classes)-class confusion matrix to a \(classes)-class one")
        for i in counts.indices { counts[i] += other.counts[i] }
    }

    /// Counts one decision.
    mutating func record(trueClass t: Int, predicted p: Int) {
        counts[t * classes + p] += 1
    }
}

/// How rows of predictions and targets become (true class, predicted class)
/// decisions; see `ConfusionMatrix` for the three cases.
struct ClassDecisions: Sendable {
    enum Mode: Sendable, Equatable {
        /// Two classes, one decision per element, by the threshold.
        case binary
        /// One class per output, one decision per row, by argmax.
        case argmax(sparseTargets: Bool)
    }

    let mode: Mode
    let classes: Int
    let decision: ThresholdDecision

    init(loss: Loss, outputs: Int, threshold: Double, outputsAreLogits: Bool) {
        if outputs == 1 || loss.kind == .binaryCrossentropy {
            mode = .binary
            classes = 2
        } else {
            mode = .argmax(sparseTargets: loss.kind == .sparseCategoricalCrossentropy)
            classes = outputs
        }
        decision = ThresholdDecision(activation: MetricActivation(loss: loss, outputsAreLogits: outputsAreLogits),
                                     threshold: threshold)
    }

    /// Records the decisions of predictions p [rows, cols] against targets y
    /// into m. A row whose target is no class (a sparse target that is not a
    /// whole number in [0, classes)) is left out, as is a row wider than the
    /// classes this was made for.
    func record<T: NNFloat>(_ p: UnsafePointer<T>, _ y: UnsafePointer<T>, rows: Int, cols: Int,
                            into m: inout ConfusionMatrix) {
        switch mode {
        case .binary:
            decision.forEach(p, rows: rows, cols: cols) { i, positive in
                m.record(trueClass: isPositiveTarget(y[i]) ? 1 : 0, predicted: positive ? 1 : 0)
            }
        case .argmax(let sparse):
            guard cols <= classes else { return }
            for r in 0..<rows {
                let truth = sparse ? classIndex(y[r], classes: cols) : argmax(y + r * cols, cols)
                guard let truth else { continue }
                m.record(trueClass: truth, predicted: argmax(p + r * cols, cols))
            }
        }
    }
}

/// The confusion matrix of predictions p [rows, cols] (logits when
/// `outputsAreLogits`) against targets y [rows, target columns of `loss`],
/// with the default threshold 0.5 on probabilities (0 on sigmoid logits) for
/// binary decisions. See `ConfusionMatrix` for how classes are decided.
/// The counts add up to rows (rows × cols for binary cross-entropy on
/// several outputs), less any row whose sparse target is not a class index.
func confusionMatrix<T: NNFloat>(predictions p: UnsafePointer<T>, targets y: UnsafePointer<T>,
                                 rows: Int, cols: Int, loss: Loss, outputsAreLogits: Bool) -> ConfusionMatrix {
    let decisions = ClassDecisions(loss: loss, outputs: cols, threshold: Metric.defaultThreshold,
                                   outputsAreLogits: outputsAreLogits)
    var m = ConfusionMatrix(classes: decisions.classes)
    decisions.record(p, y, rows: rows, cols: cols, into: &m)
    return m
}
