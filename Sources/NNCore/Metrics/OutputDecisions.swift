// The per-element and per-row decisions the metrics are built from: which
// probability an output stands for, whether it is above a threshold, which
// class a row predicts or holds. Every metric goes through these, so "what
// the model predicted" means the same thing in all of them.

/// The activation the metrics apply to what they are handed, so that they
/// judge what the model predicts.
///
/// The training loop hands logits to the metrics when the activation of the
/// last layer is fused into the loss, and when the loss has `fromLogits`. The
/// activation a loss implies is then applied: sigmoid for binary
/// cross-entropy, softmax over the row for the categorical cross-entropies.
/// The regression losses (mean squared error, ...) imply none, so their
/// outputs are judged as they are.
enum MetricActivation: Sendable, Equatable {
    case identity, sigmoid, softmax

    init(loss: Loss, outputsAreLogits: Bool) {
        guard outputsAreLogits else {
            self = .identity
            return
        }
        switch loss.kind {
        case .binaryCrossentropy: self = .sigmoid
        case .categoricalCrossentropy, .sparseCategoricalCrossentropy: self = .softmax
        default: self = .identity  // the regression losses imply no activation
        }
    }

    /// Calls `body(i, q)` for every element i of p [rows, cols], in order,
    /// with q the probability (in Double) that element stands for.
    func forEachProbability<T: NNFloat>(
        _ p: UnsafePointer<T>, rows: Int, cols: Int, _ body: (Int, Double) -> Void
    ) {
        switch self {
        case .identity:
            for i in 0..<rows * cols { body(i, Double(p[i])) }
        case .sigmoid:
            for i in 0..<rows * cols { body(i, logistic(Double(p[i]))) }
        case .softmax:
            guard cols > 0 else { return }
            for r in 0..<rows {
                let row = p + r * cols
                // exp(z − max) / Σ exp(z − max): no overflow for large logits.
                var top = Double(row[0])
                for j in 1..<cols where Double(row[j]) > top { top = Double(row[j]) }
                var sum = 0.0
                for j in 0..<cols { sum += Double.exp(Double(row[j]) - top) }
                for j in 0..<cols { body(r * cols + j, Double.exp(Double(row[j]) - top) / sum) }
            }
        }
    }
}

/// 1 / (1 + e^−z) in a form that overflows for neither sign of z.
func logistic(_ z: Double) -> Double {
    if z >= 0 { return 1 / (1 + Double.exp(-z)) }
    let e = Double.exp(z)
    return e / (1 + e)
}

/// The decision "the predicted probability is above the threshold", element
/// by element, as Keras's thresholded metrics take it (strictly greater).
struct ThresholdDecision: Sendable {
    let activation: MetricActivation
    /// On probabilities, in (0, 1).
    let threshold: Double
    /// What the handed value is compared with: sigmoid(z) > t ⇔ z > log(t / (1 − t)),
    /// so on sigmoid logits the comparison stays in logit space (exact even
    /// where sigmoid(z) rounds to 1); otherwise the probability meets t itself.
    let cut: Double

    init(activation: MetricActivation, threshold: Double) {
        self.activation = activation
        self.threshold = threshold
        cut = activation == .sigmoid ? Double.log(threshold / (1 - threshold)) : threshold
    }

    /// Calls `body(i, positive)` for every element i of p [rows, cols], in order.
    func forEach<T: NNFloat>(_ p: UnsafePointer<T>, rows: Int, cols: Int, _ body: (Int, Bool) -> Void) {
        switch activation {
        case .identity, .sigmoid:
            for i in 0..<rows * cols { body(i, Double(p[i]) > cut) }
        case .softmax:
            activation.forEachProbability(p, rows: rows, cols: cols) { i, q in body(i, q > cut) }
        }
    }
}

/// Index of the largest of v[0..<n], the first one on ties (as numpy's and
/// Keras's argmax). A NaN never beats a number.
func argmax<T: NNFloat>(_ v: UnsafePointer<T>, _ n: Int) -> Int {
    var best = 0
    for j in 1..<max(n, 1) where v[j] > v[best] || (v[best].isNaN && !v[j].isNaN) { best = j }
    return best
}

/// The class index a sparse target stands for, or nil when it is not a whole
/// number in [0, classes) (NaN included). Never traps, unlike `Int(v)`.
func classIndex<T: NNFloat>(_ v: T, classes: Int) -> Int? {
    guard v >= 0, v < T(classes), v.rounded(.towardZero) == v else { return nil }
    return Int(v)
}

/// Whether a 0/1 target counts as the positive class: y > 0.5.
///
/// Keras casts targets to bool (any non-zero is positive); the two agree on
/// 0/1 targets and differ only on soft targets in (0, 0.5], which this
/// library counts as negative (a smoothed label 0.1 is a negative).
@inline(__always)
func isPositiveTarget<T: NNFloat>(_ y: T) -> Bool { y > 0.5 }

/// Whether the target class is among the k largest of row[0..<cols], with
/// Keras's `ops.in_top_k` rule (TensorFlow's `tf.math.in_top_k`): the rank of
/// the target is 1 + the number of predictions strictly greater than its
/// own, so every class tied with the k-th largest is in the top k. A NaN
/// prediction at the target counts as −∞ (as Keras's JAX backend does).
func isInTopK<T: NNFloat>(_ row: UnsafePointer<T>, cols: Int, target: Int, k: Int) -> Bool {
    var score = row[target]
    if score.isNaN { score = -T.infinity }
    var above = 0
    for j in 0..<cols where row[j] > score {
        above += 1
        if above >= k { return false }
    }
    return true
}

/// a / b, or 0 when b is 0 (Keras's `divide_no_nan`).
@inline(__always)
func ratioOrZero(_ a: Double, _ b: Double) -> Double { b == 0 ? 0 : a / b }
