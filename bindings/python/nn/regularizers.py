"""Weight penalties added to the loss (Keras's kernel_regularizer).

``Dense(..., kernel_regularizer=nn.regularizers.L2(0.01))`` adds
``0.01 * sum(kernel ** 2)`` to the loss that fit minimizes and that fit and
evaluate report (as Keras does). L1 adds ``l1 * sum(|kernel|)``; L1L2 both.
The strings 'l1' and 'l2' mean L1() and L2(), with Keras's default 0.01.

This is a penalty on the loss. The optimizers' ``weight_decay`` is
PyTorch's, applied to the gradient instead (decoupled for AdamW).
"""

import math
import numbers


def _factor(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(
            value) or value < 0:
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    return float(value)


class Regularizer:
    """Base class: ``l1`` and ``l2`` are the factors libnn receives."""

    l1 = 0.0
    l2 = 0.0

    def __call__(self, weights):
        """The penalty for a weight array, computed in numpy (for checking)."""
        import numpy as np
        w = np.asarray(weights, dtype=np.float64)
        return self.l1 * float(np.abs(w).sum()) + self.l2 * float((w * w).sum())

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}

    def __eq__(self, other):
        return isinstance(other, Regularizer) and (self.l1, self.l2) == (other.l1, other.l2)

    def __hash__(self):
        return hash((self.l1, self.l2))


class L1(Regularizer):
    """l1 * sum(|w|); Keras's default l1=0.01."""

    def __init__(self, l1=0.01):
        self.l1 = _factor(l1, "L1 regularizer l1")

    def get_config(self):
        return {"l1": self.l1}

    def __repr__(self):
        return f"L1(l1={self.l1!r})"


class L2(Regularizer):
    """l2 * sum(w^2); Keras's default l2=0.01."""

    def __init__(self, l2=0.01):
        self.l2 = _factor(l2, "L2 regularizer l2")

    def get_config(self):
        return {"l2": self.l2}

    def __repr__(self):
        return f"L2(l2={self.l2!r})"


class L1L2(Regularizer):
    """l1 * sum(|w|) + l2 * sum(w^2); Keras's defaults l1=0.0, l2=0.0."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(l1, "L1L2 regularizer l1")
        self.l2 = _factor(l2, "L1L2 regularizer l2")

    def __repr__(self):
        return f"L1L2(l1={self.l1!r}, l2={self.l2!r})"


_BY_NAME = {"l1": L1, "l2": L2}


def get(identifier):
    """None, a Regularizer, or the name 'l1' / 'l2' (factor 0.01)."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    valid = ", ".join(repr(n) for n in _BY_NAME)
    raise ValueError(f"unknown regularizer {identifier!r}; valid regularizers are None, {valid}, "
                     "or nn.regularizers.L1(l1), L2(l2), L1L2(l1, l2)")
