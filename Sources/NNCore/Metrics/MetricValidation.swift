extension Metric {
    /// What `parameter` stands for in this metric.
    enum ParameterRole: Sendable { case none, threshold, k }

    var parameterRole: ParameterRole {
        switch kind {
        case .binaryAccuracy, .precision, .recall, .f1Score, .f1Macro: return .threshold
        case .topKAccuracy: return .k
        case .accuracy, .categoricalAccuracy, .sparseCategoricalAccuracy, .meanAbsoluteError: return .none
        }
    }

    /// The decision threshold on probabilities (`parameter` or 0.5).
    var threshold: Double { parameter ?? Metric.defaultThreshold }

    /// k of top-k accuracy (`parameter` or 5), as given.
    var topK: Double { parameter ?? Double(Metric.defaultTopK) }

    /// The metric Keras computes for this one: "accuracy" becomes
    /// sparse_categorical_accuracy for sparse categorical cross-entropy,
    /// binary_accuracy for binary cross-entropy or one output, and
    /// categorical_accuracy otherwise (Keras's `compile_utils` rule). The
    /// other kinds stand for themselves.
    func resolvedKind(loss: Loss, outputs: Int) -> Kind {
        guard kind == .accuracy else { return kind }
        if loss.kind == .sparseCategoricalCrossentropy { return .sparseCategoricalAccuracy }
        if loss.kind == .binaryCrossentropy || outputs == 1 { return .binaryAccuracy }
        return .categoricalAccuracy
    }

    /// Checks that the metric applies to a model with `outputs` outputs
    /// trained with `loss`, and that `parameter` is valid.
    ///
    /// Throws `NNError.invalidArgument` naming the parameter when it is
    /// invalid (k must be a whole number >= 1; a threshold must lie in (0, 1),
    /// open so that log(t / (1 − t)) is finite; the other metrics take none),
    /// and `NNError.invalidState` when the metric does not fit the model:
    /// - binary_accuracy, mean_absolute_error: not with sparse targets (one
    ///   class-index column cannot be compared output by output);
    /// - categorical_accuracy: at least 2 outputs;
    /// - sparse_categorical_accuracy: at least 2 outputs and
    ///   sparse_categorical_crossentropy (the loss with class-index targets);
    /// - precision, recall, f1_score: not with (sparse) categorical
    ///   cross-entropy — a softmax over classes is not a set of binary
    ///   decisions, so this library refuses rather than averaging; the message
    ///   points to f1_macro;
    /// - top_k_accuracy: k < outputs (with k >= outputs every target would be
    ///   in the top k).
    func validate(loss: Loss, outputs: Int) throws {
        try validateParameter()
        guard outputs >= 1 else {
            throw NNError.invalidState("\(name) needs a model with at least 1 output, the model has \(outputs)")
        }
        let sparse = loss.kind == .sparseCategoricalCrossentropy
        let multiClass = sparse || loss.kind == .categoricalCrossentropy
        switch kind {
        case .accuracy, .f1Macro:
            break
        case .binaryAccuracy, .meanAbsoluteError:
            if sparse {
                throw NNError.invalidState(
                    "\(name) compares each output with a target, but sparse_categorical_crossentropy targets "
                    + "are class indices (1 column); use sparse_categorical_accuracy or accuracy")
            }
        case .categoricalAccuracy:
            if outputs < 2 {
                throw NNError.invalidState(
                    "categorical_accuracy needs at least 2 outputs (one per class), the model has 1; "
                    + "for one output use binary_accuracy or accuracy")
            }
        case .sparseCategoricalAccuracy:
            if outputs < 2 {
                throw NNError.invalidState(
                    "sparse_categorical_accuracy needs at least 2 outputs (one per class), the model has 1; "
                    + "for one output use binary_accuracy or accuracy")
            }
            if !sparse {
                throw NNError.invalidState(
                    "sparse_categorical_accuracy needs class-index targets (sparse_categorical_crossentropy), "
                    + "but \(loss.kind.rawValue) targets have \(outputs) columns; use categorical_accuracy or accuracy")
            }
        case .precision, .recall, .f1Score:
            if multiClass {
                throw NNError.invalidState(
                    "\(name) is a binary metric (each output thresholded), which does not fit a multi-class model "
                    + "trained with \(loss.kind.rawValue); use f1_macro (F1 averaged over the classes) or accuracy")
            }
        case .topKAccuracy:
            if topK >= Double(outputs) {
                throw NNError.invalidState(
                    "top_k_accuracy with k = \(Metric.describe(topK)) needs more than k outputs (classes), "
                    + "the model has \(outputs), so every target would be in the top k; set k below \(outputs)")
            }
        }
    }

    /// Throws `NNError.invalidArgument` naming the parameter when it is out of range.
    func validateParameter() throws {
        guard let value = parameter else { return }
        switch parameterRole {
        case .none:
            let hint = kind == .accuracy ? "; for a decision threshold use binary_accuracy" : ""
            throw NNError.invalidArgument("\(name) takes no parameter, got \(Metric.describe(value))\(hint)")
        case .threshold:
            guard value > 0, value < 1 else {
                throw NNError.invalidArgument(
                    "\(name): threshold must be in (0, 1) (a probability), got \(Metric.describe(value))")
            }
        case .k:
            guard value.isFinite, value >= 1, value.rounded(.towardZero) == value else {
                throw NNError.invalidArgument(
                    "top_k_accuracy: k must be a whole number >= 1, got \(Metric.describe(value))")
            }
        }
    }

    /// A parameter as a person wrote it: "3" rather than "3.0" for whole numbers.
    static func describe(_ value: Double) -> String {
        if value.isFinite, value.rounded(.towardZero) == value, abs(value) < 1e15 {
            return String(Int(value))
        }
        return String(value)
    }
}
