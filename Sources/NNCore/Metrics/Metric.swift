/// A metric reported beside the loss by `fit` and `evaluate`, with Keras's
/// names and formulas.
public struct Metric: Hashable, Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        /// Keras's "accuracy", resolved from the loss and the output width as
        /// Keras resolves it: binary accuracy for binary cross-entropy and for
        /// one-output models, sparse categorical accuracy for sparse
        /// categorical cross-entropy, categorical accuracy otherwise.
        case accuracy
        /// Mean over all outputs of (prediction > threshold) == target.
        case binaryAccuracy = "binary_accuracy"
        /// argmax(prediction) == argmax(target), per row.
        case categoricalAccuracy = "categorical_accuracy"
        /// argmax(prediction) == class index target, per row.
        case sparseCategoricalAccuracy = "sparse_categorical_accuracy"
        /// Binary, Keras `Precision`: TP / (TP + FP) over all outputs, a
        /// prediction positive when above the threshold, a target when > 0.5.
        /// Not for models trained with (sparse) categorical cross-entropy:
        /// `validate` throws and points to f1_macro.
        case precision
        /// Binary, Keras `Recall`: TP / (TP + FN) from the same counts as precision.
        case recall
        /// Binary F1: 2·P·R / (P + R) from the same counts (0 when P + R = 0).
        case f1Score = "f1_score"
        /// Macro F1: the mean over classes of each class's 2·TP / (2·TP + FP + FN),
        /// classes decided by argmax (by the threshold for one output; per output
        /// for binary cross-entropy on several outputs) — scikit-learn's
        /// f1_score(average="macro") over all classes.
        case f1Macro = "f1_macro"
        /// The target class is among the k highest predictions (k = parameter,
        /// default 5; a class tied with the k-th highest is in, as Keras's in_top_k).
        case topKAccuracy = "top_k_accuracy"
        /// Mean over all outputs of |target − prediction|, predictions as the
        /// model outputs them (probabilities after a sigmoid or softmax).
        case meanAbsoluteError = "mean_absolute_error"
    }

    public var kind: Kind
    /// k of top-k accuracy (a whole number >= 1, default 5); the decision
    /// threshold of the thresholded metrics (binary_accuracy, precision,
    /// recall, f1_score, f1_macro) on probabilities, in (0, 1), default 0.5 —
    /// on sigmoid logits it becomes z > log(t / (1 − t)), 0 for 0.5.
    /// nil means the default; the other metrics take none.
    public var parameter: Double?

    public init(_ kind: Kind, parameter: Double? = nil) {
        self.kind = kind
        self.parameter = parameter
    }

    public static let accuracy = Metric(.accuracy)
    public static let binaryAccuracy = Metric(.binaryAccuracy)
    public static let categoricalAccuracy = Metric(.categoricalAccuracy)
    public static let sparseCategoricalAccuracy = Metric(.sparseCategoricalAccuracy)
    public static let precision = Metric(.precision)
    public static let recall = Metric(.recall)
    public static let f1Score = Metric(.f1Score)
    public static let f1Macro = Metric(.f1Macro)
    /// Top-5 accuracy; `Metric(.topKAccuracy, parameter: k)` for another k.
    public static let topKAccuracy = Metric(.topKAccuracy)
    public static let meanAbsoluteError = Metric(.meanAbsoluteError)

    /// The decision threshold of the binary metrics when `parameter` is nil.
    public static let defaultThreshold = 0.5
    /// k of top-k accuracy when `parameter` is nil (Keras's default).
    public static let defaultTopK = 5

    /// The name in logs ("accuracy"; validation adds "val_").
    public var name: String { kind.rawValue }
}
