/// Metrics reported beside the loss by `fit` and `evaluate`.
public enum Metric: String, CaseIterable, Sendable {
    /// Keras's "accuracy", resolved from the loss and the output width as
    /// Keras resolves it: binary accuracy for binary cross-entropy and for
    /// one-output models, sparse categorical accuracy for sparse categorical
    /// cross-entropy, categorical accuracy otherwise.
    case accuracy

    /// The name in logs ("accuracy"; validation adds "val_").
    public var name: String { rawValue }
}

/// Counts correct predictions for the accuracy metric.
struct AccuracyCounter {
    enum Mode { case binary, categorical, sparseCategorical }
    let mode: Mode
    /// Threshold of binary accuracy: 0.5 on probabilities, 0 on logits.
    let threshold: Double

    init(loss: Loss, outputs: Int, outputsAreLogits: Bool) {
        if loss.kind == .sparseCategoricalCrossentropy {
            mode = .sparseCategorical
        } else if loss.kind == .binaryCrossentropy || outputs == 1 {
            mode = .binary
        } else {
            mode = .categorical
        }
        threshold = outputsAreLogits ? 0 : 0.5
    }

    /// How many units count toward the mean per row (binary accuracy is the
    /// mean over every output, the others one decision per row).
    func units(rows: Int, cols: Int) -> Int { mode == .binary ? rows * cols : rows }

    /// Number of correct decisions for predictions p [rows, cols] and targets y.
    func correct<T: NNFloat>(_ p: UnsafePointer<T>, _ y: UnsafePointer<T>, rows: Int, cols: Int) -> Int {
        var n = 0
        switch mode {
        case .binary:
            let t = T(threshold)
            for i in 0..<rows * cols where (p[i] > t ? 1 : 0) == y[i] { n += 1 }
        case .categorical:
            for r in 0..<rows where argmax(p + r * cols, cols) == argmax(y + r * cols, cols) { n += 1 }
        case .sparseCategorical:
            for r in 0..<rows where argmax(p + r * cols, cols) == Int(y[r]) { n += 1 }
        }
        return n
    }

    private func argmax<T: NNFloat>(_ v: UnsafePointer<T>, _ n: Int) -> Int {
        var best = 0
        for j in 1..<max(n, 1) where v[j] > v[best] { best = j }
        return best
    }
}
