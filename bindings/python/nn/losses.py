"""Loss functions (Keras names; libnn computes them, as the mean over samples).

Names: 'mse' / 'mean_squared_error', 'mae' / 'mean_absolute_error',
'huber', 'binary_crossentropy', 'categorical_crossentropy',
'sparse_categorical_crossentropy'; or an object of this module.
"""

import ctypes
import math
import numbers

from . import _handle, _lib


class Loss:
    """Base class. ``name`` is the Keras name, ``code`` the nn_loss value."""

    name = None
    code = None

    def __init__(self, from_logits=False):
        if not isinstance(from_logits, bool):
            raise ValueError(f"from_logits must be True or False, got {from_logits!r}")
        self.from_logits = from_logits

    def _options(self):
        """The nn_loss_options libnn receives (nn_model_set_loss_ex)."""
        options = _lib.nn_loss_options()
        _lib.nn_loss_options_init_sized(ctypes.byref(options), ctypes.sizeof(options), self.code)
        options.from_logits = 1 if self.from_logits else 0
        return options

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits}

    def __repr__(self):
        return f"{type(self).__name__}(from_logits={self.from_logits})"


class MeanSquaredError(Loss):
    """mean over all outputs of (y - p)^2 (Keras MeanSquaredError, torch MSELoss)."""

    name = "mean_squared_error"
    code = _lib.NN_LOSS_MEAN_SQUARED_ERROR

    def __init__(self):
        super().__init__(False)

    def __repr__(self):
        return "MeanSquaredError()"


class MeanAbsoluteError(Loss):
    """mean over all outputs of |y - p| (Keras MeanAbsoluteError, torch L1Loss)."""

    name = "mean_absolute_error"
    code = _lib.NN_LOSS_MEAN_ABSOLUTE_ERROR

    def __init__(self):
        super().__init__(False)

    def __repr__(self):
        return "MeanAbsoluteError()"


class Huber(Loss):
    """Huber loss (Keras Huber, torch HuberLoss), mean over all outputs of
        d^2 / 2                    if |d| <= delta
        delta * (|d| - delta / 2)  otherwise,        d = p - y.
    delta > 0, default 1.0."""

    name = "huber"
    code = _lib.NN_LOSS_HUBER

    def __init__(self, delta=1.0):
        super().__init__(False)
        if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or math.isnan(delta):
            raise ValueError(f"Huber delta must be a number, got {delta!r}")
        self.delta = float(delta)
        _handle.check_on_scratch_model(_lib.nn_model_set_loss_ex, ctypes.byref(self._options()))

    def _options(self):
        options = super()._options()
        options.huber_delta = self.delta
        return options

    def get_config(self):
        return {"name": self.name, "delta": self.delta}

    def __repr__(self):
        return f"Huber(delta={self.delta!r})"


class BinaryCrossentropy(Loss):
    """mean over all outputs of -(y log p + (1-y) log(1-p)); targets in [0, 1].

    from_logits=True: the model outputs raw scores and a sigmoid is applied
    inside the loss, stably."""

    name = "binary_crossentropy"
    code = _lib.NN_LOSS_BINARY_CROSSENTROPY


class CategoricalCrossentropy(Loss):
    """mean over samples of -sum_i y_i log p_i; targets one-hot (or probabilities).

    from_logits=True: a softmax is applied inside the loss, stably."""

    name = "categorical_crossentropy"
    code = _lib.NN_LOSS_CATEGORICAL_CROSSENTROPY


class SparseCategoricalCrossentropy(Loss):
    """mean over samples of -log p[label]; the target is the class index.

    from_logits=True: a softmax is applied inside the loss, stably."""

    name = "sparse_categorical_crossentropy"
    code = _lib.NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY


_BY_NAME = {
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "huber": Huber,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}


def get(identifier):
    """A Loss object from a name or a Loss object."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    valid = ", ".join(repr(n) for n in _BY_NAME)
    raise ValueError(f"unknown loss {identifier!r}; valid losses are {valid} "
                     "or an nn.losses.Loss object")
