/// A loss function and whether the model's outputs are logits (Keras's
/// `from_logits`). Every loss is the mean over the samples of a batch.
public struct Loss: Equatable, Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        /// mean over outputs of (y − p)² — Keras MeanSquaredError, PyTorch MSELoss.
        case meanSquaredError = "mean_squared_error"
        /// mean over outputs of −(y log p + (1 − y) log(1 − p)) — Keras
        /// BinaryCrossentropy, PyTorch BCELoss (BCEWithLogitsLoss with logits).
        case binaryCrossentropy = "binary_crossentropy"
        /// −Σᵢ yᵢ log pᵢ — Keras CategoricalCrossentropy; with logits PyTorch
        /// CrossEntropyLoss with probability targets.
        case categoricalCrossentropy = "categorical_crossentropy"
        /// −log p[label] — Keras SparseCategoricalCrossentropy; with logits
        /// PyTorch CrossEntropyLoss with class-index targets.
        case sparseCategoricalCrossentropy = "sparse_categorical_crossentropy"
        /// mean over outputs of |y − p| — Keras MeanAbsoluteError, PyTorch L1Loss.
        case meanAbsoluteError = "mean_absolute_error"
        /// mean over outputs of ½d² for |d| ≤ δ, else δ(|d| − ½δ), d = p − y —
        /// Keras Huber, PyTorch HuberLoss (δ = `delta`, default 1).
        case huber
    }

    public var kind: Kind
    /// The outputs are raw scores: the loss applies sigmoid (binary) or
    /// softmax (categorical) itself, in a numerically stable form.
    public var fromLogits: Bool
    /// Huber's δ (ignored by the other losses).
    public var delta: Double

    public init(_ kind: Kind, fromLogits: Bool = false, delta: Double = 1) {
        self.kind = kind
        self.fromLogits = fromLogits
        self.delta = delta
    }

    /// Throws invalidArgument for options that do not fit the loss.
    public func validate() throws {
        guard delta.isFinite, delta > 0 else {
            throw NNError.invalidArgument("huber: delta must be a finite number > 0, got \(delta)")
        }
        if fromLogits, ![.binaryCrossentropy, .categoricalCrossentropy, .sparseCategoricalCrossentropy].contains(kind) {
            throw NNError.invalidArgument("from_logits applies to the cross-entropy losses only, not to \(kind.rawValue)")
        }
    }

    public static let meanSquaredError = Loss(.meanSquaredError)
    public static let binaryCrossentropy = Loss(.binaryCrossentropy)
    public static let categoricalCrossentropy = Loss(.categoricalCrossentropy)
    public static let sparseCategoricalCrossentropy = Loss(.sparseCategoricalCrossentropy)
    public static let meanAbsoluteError = Loss(.meanAbsoluteError)
    public static let huber = Loss(.huber)

    /// Keras's epsilon: probabilities are clipped to [ε, 1 − ε] before a log.
    public static let epsilon = 1e-7

    /// Whether, after a last layer with `activation`, the loss should take
    /// that layer's logits and apply the activation itself (the stable,
    /// fused form of softmax + cross-entropy and sigmoid + binary
    /// cross-entropy, as Keras does when it sees those activations).
    public func fusesActivation(_ activation: Activation) -> Bool {
        guard !fromLogits else { return false }
        switch (kind, activation) {
        case (.binaryCrossentropy, .sigmoid): return true
        case (.categoricalCrossentropy, .softmax), (.sparseCategoricalCrossentropy, .softmax): return true
        default: return false
        }
    }

    /// Number of target columns this loss expects for `outputs` model outputs.
    public func targetColumns(outputs: Int) -> Int {
        kind == .sparseCategoricalCrossentropy ? 1 : outputs
    }

    /// Checks that the loss can train a model whose last layer has `outputs`
    /// units, and that targets have the expected width.
    public func checkCompatible(outputs: Int, targetColumns: Int) throws {
        switch kind {
        case .categoricalCrossentropy, .sparseCategoricalCrossentropy:
            guard outputs >= 2 else {
                throw NNError.invalidState(
                    "\(kind.rawValue) needs a last layer of at least 2 units (one per class), "
                    + "the model has \(outputs); for two classes with one output use binary_crossentropy")
            }
        default: break
        }
        let expected = self.targetColumns(outputs: outputs)
        guard targetColumns == expected else {
            if kind == .sparseCategoricalCrossentropy {
                throw NNError.shapeMismatch(
                    "sparse_categorical_crossentropy expects 1 target column of class indices, got \(targetColumns)")
            }
            if kind == .categoricalCrossentropy && targetColumns == 1 {
                throw NNError.shapeMismatch(
                    "categorical_crossentropy expects one-hot targets with \(outputs) columns, got 1 column; "
                    + "one-hot encode the labels (to_categorical) or use sparse_categorical_crossentropy")
            }
            if kind == .binaryCrossentropy && targetColumns == 1 {
                throw NNError.shapeMismatch(
                    "binary_crossentropy compares each of the \(outputs) outputs with its own 0/1 target, so it "
                    + "expects \(outputs) target columns, got 1; for class labels use sparse_categorical_crossentropy")
            }
            throw NNError.shapeMismatch("expected \(expected) target columns, got \(targetColumns)")
        }
    }

    /// Checks the values of targets y [rows, cols]: class indices must be
    /// whole numbers in [0, outputs), binary targets must lie in [0, 1].
    public func checkTargets<T: NNFloat>(_ y: UnsafePointer<T>, rows: Int, cols: Int, outputs: Int) throws {
        switch kind {
        case .sparseCategoricalCrossentropy:
            for r in 0..<rows {
                let v = y[r]
                if v < 0 || v >= T(outputs) || v.rounded(.towardZero) != v {
                    throw NNError.invalidArgument(
                        "label \(v) in row \(r) is not a class index in [0, \(outputs - 1)]")
                }
            }
        case .binaryCrossentropy:
            for i in 0..<rows * cols where y[i] < 0 || y[i] > 1 {
                let hint = y[i] >= 2 && y[i].rounded() == y[i]
                    ? " (class labels? use sparse_categorical_crossentropy with one output per class)" : ""
                throw NNError.invalidArgument(
                    "binary_crossentropy targets must lie in [0, 1]; found \(y[i]) in row \(i / cols), column \(i % cols)\(hint)")
            }
        default: break
        }
    }

    /// Sum over the `rows` samples of the per-sample loss of predictions
    /// p [rows, cols] (logits when `logits` is true) against targets y.
    /// If `grad` is not nil, writes ∂(sum / divisor)/∂p into grad [rows, cols]
    /// (divisor is the batch size, so grad is the gradient of the batch mean).
    /// `logits` is true when the model output is pre-activation, either
    /// because of `fromLogits` or because the activation is fused.
    ///
    /// `weights`, if given, holds one weight per row: the row's loss (and its
    /// gradient) is multiplied by it — Keras's sample_weight, whose weighted
    /// mean divides by the batch size, not by the sum of the weights.
    public func evaluate<T: NNFloat>(
        predictions p: UnsafePointer<T>, targets y: UnsafePointer<T>, rows: Int, cols: Int,
        logits: Bool, grad: UnsafeMutablePointer<T>?, divisor: T, weights: UnsafePointer<T>? = nil
    ) -> Double {
        guard let weights else {
            return unweighted(predictions: p, targets: y, rows: rows, cols: cols, logits: logits,
                              grad: grad, divisor: divisor)
        }
        var total = 0.0
        let targetCols = targetColumns(outputs: cols)
        for r in 0..<rows {
            let w = weights[r]
            let l = unweighted(predictions: p + r * cols, targets: y + r * targetCols, rows: 1, cols: cols,
                               logits: logits, grad: grad.map { $0 + r * cols }, divisor: divisor)
            total += Double(w) * l
            if let g = grad { for j in 0..<cols { g[r * cols + j] *= w } }
        }
        return total
    }

    private func unweighted<T: NNFloat>(
        predictions p: UnsafePointer<T>, targets y: UnsafePointer<T>, rows: Int, cols: Int,
        logits: Bool, grad: UnsafeMutablePointer<T>?, divisor: T
    ) -> Double {
        var total = 0.0
        let eps = T(Loss.epsilon)
        switch kind {
        case .meanAbsoluteError:
            let scale = 1 / (T(cols) * divisor)
            for i in 0..<rows * cols {
                let d = p[i] - y[i]
                total += Double(abs(d))
                grad?[i] = scale * (d > 0 ? 1 : (d < 0 ? -1 : 0))
            }
            total /= Double(cols)

        case .huber:
            let scale = 1 / (T(cols) * divisor), delta = T(self.delta)
            for i in 0..<rows * cols {
                let d = p[i] - y[i]
                if abs(d) <= delta {
                    total += Double(d * d / 2)
                    grad?[i] = scale * d
                } else {
                    total += Double(delta * (abs(d) - delta / 2))
                    grad?[i] = scale * (d > 0 ? delta : -delta)
                }
            }
            total /= Double(cols)

        case .meanSquaredError:
            let scale = 2 / (T(cols) * divisor)
            for i in 0..<rows * cols {
                let d = p[i] - y[i]
                total += Double(d * d)
                grad?[i] = scale * d
            }
            total /= Double(cols)

        case .binaryCrossentropy:
            let scale = 1 / (T(cols) * divisor)
            for i in 0..<rows * cols {
                if logits {
                    // max(z, 0) − z·y + log(1 + e^−|z|), the stable form.
                    let z = p[i]
                    total += Double(max(z, 0) - z * y[i] + T.log1p(T.exp(-abs(z))))
                    grad?[i] = scale * (Reference.sigmoid(z) - y[i])
                } else {
                    let q = min(max(p[i], eps), 1 - eps)
                    total += Double(-(y[i] * T.log(q) + (1 - y[i]) * T.log(1 - q)))
                    if let grad {
                        let clipped = p[i] < eps || p[i] > 1 - eps
                        grad[i] = clipped ? 0 : scale * (-y[i] / q + (1 - y[i]) / (1 - q))
                    }
                }
            }
            total /= Double(cols)

        case .categoricalCrossentropy, .sparseCategoricalCrossentropy:
            let sparse = kind == .sparseCategoricalCrossentropy
            let scale = 1 / divisor
            for r in 0..<rows {
                let pr = p + r * cols, gr = grad.map { $0 + r * cols }
                // target weight of class j in this row
                @inline(__always) func target(_ j: Int) -> T {
                    sparse ? (Int(y[r]) == j ? 1 : 0) : y[r * cols + j]
                }
                var tsum: T = 0
                for j in 0..<cols { tsum += target(j) }
                if logits {
                    // log-softmax: z_j − max − log Σ e^(z − max)
                    var mx = pr[0]
                    for j in 1..<cols where pr[j] > mx { mx = pr[j] }
                    var s: T = 0
                    for j in 0..<cols { s += T.exp(pr[j] - mx) }
                    let lse = mx + T.log(s)
                    var l: T = 0
                    for j in 0..<cols {
                        let t = target(j)
                        if t != 0 { l -= t * (pr[j] - lse) }
                        gr?[j] = scale * (T.exp(pr[j] - lse) * tsum - t)
                    }
                    total += Double(l)
                } else {
                    // Keras: normalize the row to sum 1, clip to [ε, 1 − ε], −Σ y log q.
                    var s: T = 0
                    for j in 0..<cols { s += pr[j] }
                    var l: T = 0
                    var gq_dot_q: T = 0
                    for j in 0..<cols {
                        let q = pr[j] / s
                        let c = min(max(q, eps), 1 - eps)
                        let t = target(j)
                        if t != 0 { l -= t * T.log(c) }
                        let clipped = q < eps || q > 1 - eps
                        let gq: T = clipped ? 0 : -t / c
                        gr?[j] = gq
                        gq_dot_q += gq * q
                    }
                    total += Double(l)
                    if let gr {
                        // through q = p / s: ∂L/∂p_k = (g_k − Σ_j g_j q_j) / s
                        for j in 0..<cols { gr[j] = scale * (gr[j] - gq_dot_q) / s }
                    }
                }
            }
        }
        return total
    }
}
