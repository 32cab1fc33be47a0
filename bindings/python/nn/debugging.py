"""Seeing inside a network: the result types of the debugging tools.

    checks = model.gradient_check(x, y)          # backpropagation against finite differences
    print(checks)                                 # one line per layer with parameters
    assert checks.max_relative_error < 1e-6

    model.anomaly_detection = True                # fit stops at the first NaN/inf, naming
    model.fit(x, y)                               # the layer, stage, epoch, batch, element
    with nn.detect_anomaly(model):                # ... or only for a block
        model.fit(x, y)

    history = model.fit(x, y, callbacks=[nn.callbacks.LayerStatistics()])
    history.layer_stats                           # per epoch, per layer: activations,
                                                  # dead/saturated units, gradient norms
    diagnosis = model.diagnose(x, y)              # a short training run on a copy
    print(diagnosis)                              # what looks wrong, and what to try
    if "dead_units" in diagnosis: ...

The C side is include/nn.h, "Seeing inside: gradient check, anomaly
detection, layer statistics, diagnosis"; Sequential.gradient_check,
Sequential.anomaly_detection, Sequential.diagnose and
nn.callbacks.LayerStatistics are the Python entry points. This module holds
what they return.
"""

import contextlib
import math
from dataclasses import dataclass
from typing import Optional

from . import _lib

__all__ = ["LayerGradientCheck", "GradientCheck", "Finding", "Diagnosis", "detect_anomaly",
           "FINDING_KINDS"]

#: nn_finding_kind value -> the kind's name, as Finding.kind gives it.
FINDING_KINDS = {
    _lib.NN_FINDING_VANISHING_GRADIENTS: "vanishing_gradients",
    _lib.NN_FINDING_EXPLODING_GRADIENTS: "exploding_gradients",
    _lib.NN_FINDING_DEAD_UNITS: "dead_units",
    _lib.NN_FINDING_SATURATED_UNITS: "saturated_units",
    _lib.NN_FINDING_LEARNING_RATE_TOO_HIGH: "learning_rate_too_high",
    _lib.NN_FINDING_UNSCALED_INPUTS: "unscaled_inputs",
    _lib.NN_FINDING_LABEL_MISMATCH: "label_mismatch",
    _lib.NN_FINDING_LOSS_AT_CHANCE: "loss_at_chance",
}


def _none_if_nan(value):
    """A C double as a Python float, NaN (libnn's "not applicable") as None."""
    value = float(value)
    return None if math.isnan(value) else value


# --------------------------------------------------------------------------
# Gradient check
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerGradientCheck:
    """The gradient check of one layer with parameters
    (Sequential.gradient_check; nn_gradient_check_result).

    Attributes:
        layer: index of the layer in the model (0-based).
        name: the layer's name ('dense', 'dense_1', 'batch_normalization', ...).
        relative_error: ||analytic - numeric|| / (||analytic|| + ||numeric||)
            over the checked elements of the layer. Around 1e-9 for a correct
            layer in double precision, up to about 1e-3 in float.
        weight_index: the weight array (get_weights() index, over the whole
            model) where |analytic - numeric| is largest ...
        weight_name: ... its name ('kernel', 'bias', 'gamma', 'beta') ...
        element: ... and the element's flat index in it (row-major, the
            layout of get_weights()).
        analytic: backpropagation's derivative of the training loss there.
        numeric: the central finite difference (L(w + h) - L(w - h)) / 2h there.
        checked: number of elements compared in this layer.
        below_resolution: elements left out because both derivatives are
            below what finite differences resolve in this precision (about
            8·|L|·eps/h: 2e-9 for a loss near 1 in double); many of them in
            the first layers is itself a sign of vanishing gradients.
    """

    layer: int
    name: str
    relative_error: float
    weight_index: int
    weight_name: str
    element: int
    analytic: float
    numeric: float
    checked: int
    below_resolution: int = 0

    def __str__(self):
        unresolved = (f" ({self.below_resolution} below the resolution of finite differences)"
                      if self.below_resolution else "")
        return (f"layer {self.layer} ({self.name}): relative error {self.relative_error:.3g} "
                f"over {self.checked} elements{unresolved}; largest difference at "
                f"{self.weight_name}[{self.element}] (weight {self.weight_index}): "
                f"analytic {self.analytic:.6g}, numeric {self.numeric:.6g}")


class GradientCheck(list):
    """What Sequential.gradient_check returns: a list of LayerGradientCheck,
    one per layer with parameters, in layer order, that prints as a table.

    ``precision`` and ``epsilon`` record how the check ran (epsilon None:
    libnn's default step, 1e-6 in double, 1e-2 in float);
    ``max_relative_error`` is the largest relative_error (0.0 for a model
    without parameters)."""

    def __init__(self, results=(), precision="double", epsilon=None):
        super().__init__(results)
        self.precision = precision
        self.epsilon = epsilon

    @property
    def max_relative_error(self):
        """The largest relative error over the layers (0.0 if there are none)."""
        return max((r.relative_error for r in self), default=0.0)

    def __str__(self):
        step = "default step" if self.epsilon is None else f"step {self.epsilon:g}"
        if not self:
            return f"Gradient check ({self.precision} precision, {step}): no layer has parameters"
        header = ("layer", "name", "relative error", "checked", "too small", "worst element",
                  "analytic", "numeric")
        rows = [header]
        for r in self:
            rows.append((str(r.layer), r.name, f"{r.relative_error:.3g}", str(r.checked),
                         str(r.below_resolution), f"{r.weight_name}[{r.element}]", f"{r.analytic:.6g}",
                         f"{r.numeric:.6g}"))
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = [f"Gradient check ({self.precision} precision, {step}):"]
        for row in rows:
            lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        return "\n".join(lines)

    def __repr__(self):
        return (f"GradientCheck(layers={len(self)}, precision={self.precision!r}, "
                f"max_relative_error={self.max_relative_error:.3g})")


# --------------------------------------------------------------------------
# Diagnosis
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One thing Sequential.diagnose found (nn_finding).

    Attributes:
        kind: one of 'vanishing_gradients', 'exploding_gradients',
            'dead_units', 'saturated_units', 'learning_rate_too_high',
            'unscaled_inputs', 'label_mismatch', 'loss_at_chance'.
        layer: index of the layer concerned, or None.
        value: the figure behind the finding (a gradient ratio, a fraction of
            dead units, a ratio of feature scales, ...), or None when there is
            none (targets the loss cannot take at all).
        message: what was seen, with numbers.
        suggestion: what to try.
    """

    kind: str
    layer: Optional[int]
    value: Optional[float]
    message: str
    suggestion: str

    def __str__(self):
        return f"[{self.kind}] {self.message}\n    try: {self.suggestion}"


def _check_kind(kind):
    if kind not in FINDING_KINDS.values():
        raise ValueError(f"unknown finding kind {kind!r}; the kinds are "
                         + ", ".join(repr(k) for k in FINDING_KINDS.values()))
    return kind


class Diagnosis:
    """What Sequential.diagnose returns.

    ``findings`` is the list of Finding; ``report`` libnn's readable report
    (also ``str(diagnosis)``). A Diagnosis is true when something was found;
    ``len`` and iteration go over the findings; ``diagnosis[i]`` is finding
    i; ``diagnosis['dead_units']`` the first finding of that kind (KeyError
    if there is none); ``'dead_units' in diagnosis`` tells whether there is
    one; ``find(kind)`` returns the first finding of a kind or None, and
    ``find_all(kind)`` all of them. An unknown kind name is a ValueError.
    """

    def __init__(self, findings, report):
        self.findings = list(findings)
        self.report = report

    @property
    def kinds(self):
        """The kinds found, in order, each once."""
        return list(dict.fromkeys(f.kind for f in self.findings))

    def find(self, kind):
        """The first finding of `kind`, or None."""
        _check_kind(kind)
        return next((f for f in self.findings if f.kind == kind), None)

    def find_all(self, kind):
        """Every finding of `kind` (a list, possibly empty)."""
        _check_kind(kind)
        return [f for f in self.findings if f.kind == kind]

    def __getitem__(self, key):
        if isinstance(key, str):
            found = self.find(key)
            if found is None:
                raise KeyError(f"the diagnosis has no {key!r} finding (it found: "
                               f"{', '.join(self.kinds) or 'nothing'})")
            return found
        return self.findings[key]

    def __contains__(self, kind):
        if isinstance(kind, Finding):
            return kind in self.findings
        return self.find(kind) is not None

    def __len__(self):
        return len(self.findings)

    def __bool__(self):
        return bool(self.findings)

    def __iter__(self):
        return iter(self.findings)

    def __str__(self):
        return self.report

    def __repr__(self):
        return f"Diagnosis(findings={self.kinds})"


# --------------------------------------------------------------------------
# Anomaly detection
# --------------------------------------------------------------------------

@contextlib.contextmanager
def detect_anomaly(model, enabled=True):
    """Turn anomaly detection on for `model` inside a ``with`` block, as
    torch.autograd.detect_anomaly does for autograd::

        with nn.detect_anomaly(model):
            model.fit(x, y)   # stops at the first NaN/inf, naming where

    The model's previous setting (model.anomaly_detection) comes back when
    the block ends, also when it raises. ``enabled=False`` turns detection
    off for the block instead. Yields the model."""
    if not isinstance(enabled, bool):
        raise ValueError(f"enabled must be True or False, got {enabled!r}")
    previous = model.anomaly_detection
    model.anomaly_detection = enabled
    try:
        yield model
    finally:
        if not model.closed:
            model.anomaly_detection = previous
