"""Metrics reported by fit and evaluate beside the loss (Keras names; libnn
computes them).

compile(metrics=[...]) takes names or objects of this module:

===============================  ==================================  ===========================
name                             what                                object
===============================  ==================================  ===========================
'accuracy' / 'acc'               Keras's resolved accuracy (below)
'binary_accuracy'                mean over outputs of (p > t) == y   BinaryAccuracy(threshold)
'categorical_accuracy'           argmax p == argmax y                CategoricalAccuracy()
'sparse_categorical_accuracy'    argmax p == class index in y        SparseCategoricalAccuracy()
'precision'                      TP / (TP + FP) of p > t             Precision(threshold)
'recall'                         TP / (TP + FN) of p > t             Recall(threshold)
'f1_score'                       2 P R / (P + R) of p > t            F1Score(threshold)
'f1_macro'                       mean over classes of each F1        F1Macro(threshold)
'top_k_accuracy'                 true class among the k highest      TopKAccuracy(k)
'mae' / 'mean_absolute_error'    mean over outputs of |y - p|        MeanAbsoluteError()
===============================  ==================================  ===========================

'accuracy' is Keras's: binary accuracy for binary cross-entropy or one
output, sparse categorical accuracy for sparse categorical cross-entropy,
categorical accuracy otherwise. Thresholds t are on probabilities, in
(0, 1), default 0.5 (on logits, from_logits=True, libnn compares with
log(t / (1 - t))). precision, recall and f1_score are binary metrics: with a
(sparse) categorical cross-entropy, use f1_macro (scikit-learn's
f1_score(average='macro')). Whether a metric fits the model is checked when
fit or evaluate starts.

Logs use libnn's name for each metric ('acc' and 'mae' are logged as
'accuracy' and 'mean_absolute_error'), with 'val_' in front for validation.
"""

import math
import numbers

from . import _handle, _lib


class Metric:
    """Base class. ``name`` is the log name, ``code`` the nn_metric value and
    ``parameter`` the value given to nn_model_add_metric_ex (NaN: default)."""

    name = None
    code = None

    @property
    def parameter(self):
        return math.nan

    def _check(self):
        """Let libnn check the parameter now (its message names the value)."""
        _handle.check_on_scratch_model(_lib.nn_model_add_metric_ex, self.code, self.parameter)

    def _key(self):
        return (self.code, None if math.isnan(self.parameter) else self.parameter)

    def __eq__(self, other):
        return isinstance(other, Metric) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def get_config(self):
        return {"name": self.name}

    def __repr__(self):
        return f"{type(self).__name__}()"


def _threshold(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"threshold must be a number, got {value!r}")
    value = float(value)
    if math.isnan(value):  # libnn would read NaN as "the default"
        raise ValueError("threshold must be in (0, 1), got nan")
    return value


class _Thresholded(Metric):
    def __init__(self, threshold=0.5):
        self.threshold = _threshold(threshold)
        self._check()

    @property
    def parameter(self):
        return self.threshold

    def get_config(self):
        return {"name": self.name, "threshold": self.threshold}

    def __repr__(self):
        return f"{type(self).__name__}(threshold={self.threshold!r})"


class Accuracy(Metric):
    """Keras's compile-time 'accuracy', resolved from the loss and outputs
    (see the module docstring). Not keras.metrics.Accuracy (exact equality)."""
    name = "accuracy"
    code = _lib.NN_METRIC_ACCURACY


class BinaryAccuracy(_Thresholded):
    """Mean over all outputs of (p > threshold) == y (keras.metrics.BinaryAccuracy)."""
    name = "binary_accuracy"
    code = _lib.NN_METRIC_BINARY_ACCURACY


class CategoricalAccuracy(Metric):
    """argmax(p) == argmax(y) per row (or the class index for sparse targets)."""
    name = "categorical_accuracy"
    code = _lib.NN_METRIC_CATEGORICAL_ACCURACY


class SparseCategoricalAccuracy(Metric):
    """argmax(p) == the class index in y (sparse_categorical_crossentropy)."""
    name = "sparse_categorical_accuracy"
    code = _lib.NN_METRIC_SPARSE_CATEGORICAL_ACCURACY


class Precision(_Thresholded):
    """TP / (TP + FP) of the decisions p > threshold over all outputs
    (keras.metrics.Precision; a target counts as positive when > 0.5)."""
    name = "precision"
    code = _lib.NN_METRIC_PRECISION


class Recall(_Thresholded):
    """TP / (TP + FN) of the decisions p > threshold (keras.metrics.Recall)."""
    name = "recall"
    code = _lib.NN_METRIC_RECALL


class F1Score(_Thresholded):
    """Binary F1, 2 P R / (P + R) of the decisions p > threshold (0 when P + R = 0)."""
    name = "f1_score"
    code = _lib.NN_METRIC_F1_SCORE


class F1Macro(_Thresholded):
    """Mean over classes of each class's F1, 2 TP / (2 TP + FP + FN):
    scikit-learn's f1_score(average='macro'). Classes are decided by argmax
    (by the threshold for a one-output model)."""
    name = "f1_macro"
    code = _lib.NN_METRIC_F1_MACRO


class TopKAccuracy(Metric):
    """The true class is among the k highest outputs (Keras's
    TopKCategoricalAccuracy / SparseTopKCategoricalAccuracy; a class tied
    with the k-th highest counts as in). k: a whole number >= 1, below the
    number of outputs; default 5."""

    name = "top_k_accuracy"
    code = _lib.NN_METRIC_TOP_K_ACCURACY

    def __init__(self, k=5):
        if isinstance(k, bool) or not isinstance(k, numbers.Integral):
            raise ValueError(f"top_k_accuracy: k must be a whole number >= 1, got {k!r}")
        self.k = int(k)
        self._check()

    @property
    def parameter(self):
        return float(self.k)

    def get_config(self):
        return {"name": self.name, "k": self.k}

    def __repr__(self):
        return f"TopKAccuracy(k={self.k})"


class MeanAbsoluteError(Metric):
    """Mean over all outputs of |y - p|, p as the model outputs it."""
    name = "mean_absolute_error"
    code = _lib.NN_METRIC_MEAN_ABSOLUTE_ERROR


_BY_NAME = {
    "accuracy": Accuracy,
    "acc": Accuracy,
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "precision": Precision,
    "recall": Recall,
    "f1_score": F1Score,
    "f1_macro": F1Macro,
    "top_k_accuracy": TopKAccuracy,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
}


def get(identifier):
    """A Metric object from a name or a Metric object."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    valid = ", ".join(repr(n) for n in _BY_NAME)
    raise ValueError(f"unknown metric {identifier!r}; valid metrics are {valid}, "
                     "or an nn.metrics.Metric object")
