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

Keras's class names and string names work too: TopKCategoricalAccuracy(k)
and SparseTopKCategoricalAccuracy(k) ('top_k_categorical_accuracy',
'sparse_top_k_categorical_accuracy') are TopKAccuracy, which takes one-hot
and class-index targets alike; Precision and Recall also take Keras's
``thresholds`` (one number). What libnn does not do is refused with a
ValueError: a ``name`` other than libnn's log name (logs keep libnn's
names), Precision/Recall's top_k and class_id, several thresholds, and
F1Score's ``average`` (libnn's F1Score is the binary F1; Keras's F1Score
averages over classes: use F1Macro for average='macro'). keras.metrics.AUC
is not in libnn.

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


def _check_name(cls, name):
    """Keras metrics take name=; libnn logs each metric under its own name
    (Keras's default names of the class are accepted: the log name is
    libnn's)."""
    if name is not None and name != cls.name and name not in getattr(cls, "keras_names", ()):
        raise ValueError(f"{cls.__name__}(name={name!r}): libnn logs this metric as "
                         f"{cls.name!r} (History keys, monitors), and a metric cannot be renamed")


def _threshold(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"threshold must be a number, got {value!r}")
    value = float(value)
    if math.isnan(value):  # libnn would read NaN as "the default"
        raise ValueError("threshold must be in (0, 1), got nan")
    return value


class _Thresholded(Metric):
    def __init__(self, threshold=0.5, name=None):
        _check_name(type(self), name)
        self.threshold = _threshold(threshold)
        self._check()

    @property
    def parameter(self):
        return self.threshold

    def get_config(self):
        return {"name": self.name, "threshold": self.threshold}

    def __repr__(self):
        return f"{type(self).__name__}(threshold={self.threshold!r})"


class _Plain(Metric):
    """A metric without a parameter; ``name`` as Keras takes it (see _check_name)."""

    def __init__(self, name=None):
        _check_name(type(self), name)


class Accuracy(_Plain):
    """Keras's compile-time 'accuracy', resolved from the loss and outputs
    (see the module docstring). Not keras.metrics.Accuracy (exact equality)."""
    name = "accuracy"
    code = _lib.NN_METRIC_ACCURACY


class BinaryAccuracy(_Thresholded):
    """Mean over all outputs of (p > threshold) == y (keras.metrics.BinaryAccuracy)."""
    name = "binary_accuracy"
    code = _lib.NN_METRIC_BINARY_ACCURACY


class CategoricalAccuracy(_Plain):
    """argmax(p) == argmax(y) per row (or the class index for sparse targets)."""
    name = "categorical_accuracy"
    code = _lib.NN_METRIC_CATEGORICAL_ACCURACY


class SparseCategoricalAccuracy(_Plain):
    """argmax(p) == the class index in y (sparse_categorical_crossentropy)."""
    name = "sparse_categorical_accuracy"
    code = _lib.NN_METRIC_SPARSE_CATEGORICAL_ACCURACY


class _Counted(_Thresholded):
    """Precision and Recall: Keras's signature, Precision(thresholds=None,
    top_k=None, class_id=None, name=None), with one threshold."""

    def __init__(self, threshold=0.5, name=None, thresholds=None, top_k=None, class_id=None):
        cls = type(self).__name__
        if top_k is not None or class_id is not None:
            raise ValueError(f"{cls}: libnn's {self.name} counts every output at the threshold; "
                             "top_k and class_id are not supported")
        if thresholds is not None:
            if isinstance(thresholds, (list, tuple)):
                if len(thresholds) != 1:
                    raise ValueError(f"{cls}(thresholds={thresholds!r}): libnn computes one "
                                     "threshold per metric; give one number")
                thresholds = thresholds[0]
            if threshold != 0.5 and threshold != thresholds:
                raise ValueError(f"{cls}: threshold={threshold!r} and thresholds={thresholds!r} "
                                 "disagree; give one")
            threshold = thresholds
        super().__init__(threshold, name=name)


class Precision(_Counted):
    """TP / (TP + FP) of the decisions p > threshold over all outputs
    (keras.metrics.Precision; a target counts as positive when > 0.5).
    ``thresholds`` is Keras's name of ``threshold`` (one number)."""
    name = "precision"
    code = _lib.NN_METRIC_PRECISION


class Recall(_Counted):
    """TP / (TP + FN) of the decisions p > threshold (keras.metrics.Recall).
    ``thresholds`` is Keras's name of ``threshold`` (one number)."""
    name = "recall"
    code = _lib.NN_METRIC_RECALL


class F1Score(_Thresholded):
    """Binary F1, 2 P R / (P + R) of the decisions p > threshold (0 when P + R = 0).

    Unlike keras.metrics.F1Score, which by default gives one F1 per class
    (average=None) and takes average='micro'/'macro'/'weighted', this is
    the binary F1 over all outputs; ``average`` is refused with a
    ValueError (F1Macro is average='macro')."""
    name = "f1_score"
    code = _lib.NN_METRIC_F1_SCORE

    def __init__(self, average=None, threshold=None, name=None):
        # Keras's order (average first); a number first is libnn 0.7's
        # positional threshold, F1Score(0.3)
        if isinstance(average, numbers.Real) and not isinstance(average, bool) and threshold is None:
            average, threshold = None, average
        if average is not None:
            raise ValueError(f"F1Score(average={average!r}): libnn's F1Score is the binary F1 "
                             "over all outputs; for average='macro' use nn.metrics.F1Macro "
                             "('f1_macro')")
        # threshold None: 0.5 (Keras's None, argmax per row, has no binary meaning)
        super().__init__(0.5 if threshold is None else threshold, name=name)


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
    keras_names = ("top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy")

    def __init__(self, k=5, name=None):
        _check_name(type(self), name)
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
        return f"{type(self).__name__}(k={self.k})"


class TopKCategoricalAccuracy(TopKAccuracy):
    """keras.metrics.TopKCategoricalAccuracy(k=5): TopKAccuracy (logged as
    'top_k_accuracy'; libnn's takes one-hot and class-index targets alike)."""


class SparseTopKCategoricalAccuracy(TopKAccuracy):
    """keras.metrics.SparseTopKCategoricalAccuracy(k=5): TopKAccuracy
    (logged as 'top_k_accuracy')."""


class MeanAbsoluteError(_Plain):
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
    # Keras's names of top_k_accuracy
    "top_k_categorical_accuracy": TopKAccuracy,
    "sparse_top_k_categorical_accuracy": TopKAccuracy,
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
