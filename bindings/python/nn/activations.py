"""Activation functions (Keras names; formulas as documented in nn.h).

Wherever a layer takes an activation (``Dense(activation=...)``,
``layers.Activation(...)``) it accepts None, one of the names below, or an
object of this module, which is how the parameterized activations get their
parameter::

    Dense(16, activation="leaky_relu")                        # slope 0.2
    Dense(16, activation=nn.activations.LeakyReLU(negative_slope=0.1))
    nn.layers.Activation(nn.activations.ELU(alpha=0.5))

Names: 'linear' (also None), 'sigmoid', 'tanh', 'relu', 'softmax',
'leaky_relu', 'elu', 'gelu', 'softplus', 'step', 'mish'.

'leaky_relu' without a parameter uses slope 0.2, as
keras.activations.leaky_relu does (PyTorch's nn.LeakyReLU uses 0.01 and
Keras's LeakyReLU *layer* 0.3: pass negative_slope to get those).
'step' is a perceptron threshold for inference: fit refuses to train
through it, because its derivative is 0 almost everywhere.
"""

import math
import numbers

from . import _handle, _lib, _names


def _valid(names):
    return ", ".join(repr(n) for n in names)


class ActivationFunction:
    """Base class. ``name`` is the Keras name, ``code`` the nn_activation
    value and ``parameter`` the value given to libnn (NaN: the default)."""

    name = None
    code = None

    @property
    def parameter(self):
        return math.nan

    def _check(self):
        """Let libnn check the parameter now (the message names the value)."""
        _handle.check_on_scratch_model(_lib.nn_model_add_activation, self.code, self.parameter)

    @classmethod
    def _from_parameter(cls, parameter):
        """The activation with libnn's `parameter` (None: the default), as
        nn_model_config describes it."""
        return cls()

    def get_config(self):
        return {"name": self.name}

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self):
        return hash((type(self), tuple(sorted(self.get_config().items()))))

    def __repr__(self):
        return f"{type(self).__name__}()"


class Linear(ActivationFunction):
    """f(z) = z."""
    code = _lib.NN_ACTIVATION_LINEAR


class Sigmoid(ActivationFunction):
    """f(z) = 1 / (1 + exp(-z))."""
    code = _lib.NN_ACTIVATION_SIGMOID


class Tanh(ActivationFunction):
    """f(z) = tanh(z)."""
    code = _lib.NN_ACTIVATION_TANH


class ReLU(ActivationFunction):
    """f(z) = max(z, 0)."""
    code = _lib.NN_ACTIVATION_RELU


class Softmax(ActivationFunction):
    """f(z)_i = exp(z_i) / sum_j exp(z_j), per row."""
    code = _lib.NN_ACTIVATION_SOFTMAX


class LeakyReLU(ActivationFunction):
    """f(z) = z for z > 0, else negative_slope * z.

    negative_slope >= 0; the default 0.2 is keras.activations.leaky_relu's
    (PyTorch's nn.LeakyReLU default is 0.01)."""

    code = _lib.NN_ACTIVATION_LEAKY_RELU

    def __init__(self, negative_slope=0.2):
        self.negative_slope = _number(negative_slope, "leaky_relu: negative_slope")
        self._check()

    @property
    def parameter(self):
        return self.negative_slope

    @classmethod
    def _from_parameter(cls, parameter):
        return cls() if parameter is None else cls(negative_slope=parameter)

    def get_config(self):
        return {"name": self.name, "negative_slope": self.negative_slope}

    def __repr__(self):
        return f"LeakyReLU(negative_slope={self.negative_slope!r})"


class ELU(ActivationFunction):
    """f(z) = z for z > 0, else alpha * (exp(z) - 1); alpha > 0, default 1."""

    code = _lib.NN_ACTIVATION_ELU

    def __init__(self, alpha=1.0):
        self.alpha = _number(alpha, "elu: alpha")
        self._check()

    @property
    def parameter(self):
        return self.alpha

    @classmethod
    def _from_parameter(cls, parameter):
        return cls() if parameter is None else cls(alpha=parameter)

    def get_config(self):
        return {"name": self.name, "alpha": self.alpha}

    def __repr__(self):
        return f"ELU(alpha={self.alpha!r})"


class GELU(ActivationFunction):
    """f(z) = z * Phi(z), Phi the standard normal CDF (the exact form,
    PyTorch's default; not the tanh approximation)."""
    code = _lib.NN_ACTIVATION_GELU


class Softplus(ActivationFunction):
    """f(z) = log(1 + exp(z))."""
    code = _lib.NN_ACTIVATION_SOFTPLUS


class Step(ActivationFunction):
    """f(z) = 1 for z > 0, else 0: a perceptron threshold for inference.
    fit refuses to train a model that contains it (set the weights, or train
    with sigmoid and switch)."""
    code = _lib.NN_ACTIVATION_STEP


class Mish(ActivationFunction):
    """f(z) = z * tanh(softplus(z)) (PyTorch's nn.Mish, Keras's mish)."""
    code = _lib.NN_ACTIVATION_MISH


#: Keras name -> class; the names are libnn's (nn_enum_name).
_BY_NAME = _names.name_classes(_lib.NN_ENUM_ACTIVATION, (Linear, Sigmoid, Tanh, ReLU, Softmax, LeakyReLU,
                                                         ELU, GELU, Softplus, Step, Mish))

#: nn_activation value -> Keras name.
NAMES = {cls.code: name for name, cls in _BY_NAME.items()}


def _number(value, what):
    """A parameter as a float. NaN is refused here because libnn reads a NaN
    parameter as "the default"."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a number, got {value!r}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{what} must be a finite number, got nan")
    return value


def get(identifier):
    """An ActivationFunction from None ('linear'), a name, or an object."""
    if identifier is None:
        return Linear()
    if isinstance(identifier, ActivationFunction):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"unknown activation {identifier!r}; valid activations are None, "
                     f"{_valid(_BY_NAME)}, or an nn.activations object such as "
                     "LeakyReLU(negative_slope=0.1)")
