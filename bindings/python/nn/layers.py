"""Layers of a Sequential model (Keras names and signatures)."""

import numbers

from . import _lib

ACTIVATIONS = {
    "linear": _lib.NN_ACTIVATION_LINEAR,
    "sigmoid": _lib.NN_ACTIVATION_SIGMOID,
    "tanh": _lib.NN_ACTIVATION_TANH,
    "relu": _lib.NN_ACTIVATION_RELU,
    "softmax": _lib.NN_ACTIVATION_SOFTMAX,
}
ACTIVATION_NAMES = {value: name for name, value in ACTIVATIONS.items()}

INITIALIZERS = {
    "glorot_uniform": _lib.NN_INIT_GLOROT_UNIFORM,
    "glorot_normal": _lib.NN_INIT_GLOROT_NORMAL,
    "he_uniform": _lib.NN_INIT_HE_UNIFORM,
    "he_normal": _lib.NN_INIT_HE_NORMAL,
    "zeros": _lib.NN_INIT_ZEROS,
    "ones": _lib.NN_INIT_ONES,
}


def _valid(names):
    return ", ".join(repr(n) for n in names)


def activation_code(activation):
    """The nn_activation value for a Keras activation name (None is 'linear')."""
    if activation is None:
        return _lib.NN_ACTIVATION_LINEAR
    if isinstance(activation, str) and activation.lower() in ACTIVATIONS:
        return ACTIVATIONS[activation.lower()]
    raise ValueError(f"unknown activation {activation!r}; valid activations are None, "
                     f"{_valid(ACTIVATIONS)}")


def initializer_code(initializer):
    """The nn_initializer value for a Keras initializer name."""
    if isinstance(initializer, str) and initializer.lower() in INITIALIZERS:
        return INITIALIZERS[initializer.lower()]
    raise ValueError(f"unknown initializer {initializer!r}; valid initializers are "
                     f"{_valid(INITIALIZERS)}")


def positive_int(value, what):
    """value as an int > 0, or ValueError naming `what`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _width_from_shape(shape, what):
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise ValueError(f"{what} must be a tuple like (n,), got {shape!r}") from None
    if len(shape) != 1:
        raise ValueError(f"{what} must have exactly one dimension (features,) for a "
                         f"Dense model, got {shape!r}")
    return positive_int(shape[0], f"{what}[0]")


class Layer:
    """Base class of the layers a Sequential model takes."""


class Input(Layer):
    """Declares the width of the model's input: ``Input(shape=(n,))``.

    Put it first in a Sequential model (Keras's ``keras.Input``)."""

    def __init__(self, shape=None, name=None):
        if shape is None:
            raise ValueError("Input needs a shape, for example Input(shape=(20,))")
        self.input_dim = _width_from_shape(shape, "Input shape")
        self.shape = (None, self.input_dim)
        self.name = name

    def __repr__(self):
        return f"Input(shape=({self.input_dim},))"


class Dense(Layer):
    """A fully connected layer: ``output = activation(input · kernel + bias)``.

    Args:
        units: number of outputs (> 0).
        activation: None or 'linear', 'sigmoid', 'tanh', 'relu', 'softmax'.
        input_dim / input_shape: width of the model's input, when this is the
            first layer (``input_shape=(n,)`` as in Keras).
        kernel_initializer, bias_initializer: 'glorot_uniform',
            'glorot_normal', 'he_uniform', 'he_normal', 'zeros', 'ones'
            (Keras's formulas; the defaults are Keras's).
        name: layer name; by default 'dense', 'dense_1', ... within a model.

    The kernel has shape (inputs, units) and the bias (units,), as in Keras.
    """

    def __init__(self, units, activation=None, input_dim=None, input_shape=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", name=None):
        self.units = positive_int(units, "units")
        self._activation_code = activation_code(activation)
        self.activation = ACTIVATION_NAMES[self._activation_code]
        self._kernel_init_code = initializer_code(kernel_initializer)
        self._bias_init_code = initializer_code(bias_initializer)
        self.kernel_initializer = kernel_initializer.lower()
        self.bias_initializer = bias_initializer.lower()
        if input_dim is not None and input_shape is not None:
            width = _width_from_shape(input_shape, "input_shape")
            if width != positive_int(input_dim, "input_dim"):
                raise ValueError(f"input_dim={input_dim} and input_shape={input_shape!r} "
                                 "disagree")
        if input_dim is not None:
            self.input_dim = positive_int(input_dim, "input_dim")
        elif input_shape is not None:
            self.input_dim = _width_from_shape(input_shape, "input_shape")
        else:
            self.input_dim = None
        if name is not None and not isinstance(name, str):
            raise ValueError(f"name must be a string, got {name!r}")
        self.name = name
        self._model = None
        self._index = None

    def _options(self):
        options = _lib.nn_dense_options()
        _lib.nn_dense_options_init(options, self.units)
        options.activation = self._activation_code
        options.kernel_initializer = self._kernel_init_code
        options.bias_initializer = self._bias_init_code
        return options

    @property
    def input_shape(self):
        if self.input_dim is None:
            raise AttributeError(f"layer {self.name!r} has no defined input shape yet")
        return (None, self.input_dim)

    @property
    def output_shape(self):
        return (None, self.units)

    def get_weights(self):
        """[kernel (inputs, units), bias (units,)] of this layer."""
        model = self._require_model()
        return model.get_weights()[2 * self._index: 2 * self._index + 2]

    def set_weights(self, weights):
        """Replace [kernel, bias] of this layer."""
        model = self._require_model()
        all_weights = model.get_weights()
        if len(weights) != 2:
            raise ValueError(f"layer {self.name!r} expects 2 weight arrays (kernel, bias), "
                             f"got {len(weights)}")
        all_weights[2 * self._index: 2 * self._index + 2] = list(weights)
        model.set_weights(all_weights)

    def count_params(self):
        if self.input_dim is None:
            raise ValueError(f"layer {self.name!r} is not built yet")
        return self.input_dim * self.units + self.units

    def _require_model(self):
        if self._model is None:
            raise ValueError(f"layer {self.name!r} does not belong to a model yet")
        self._model._ensure_built_for("the layer's weights")
        return self._model

    def get_config(self):
        return {"name": self.name, "units": self.units, "activation": self.activation,
                "kernel_initializer": self.kernel_initializer,
                "bias_initializer": self.bias_initializer}

    def __repr__(self):
        return f"Dense({self.units}, activation={self.activation!r}, name={self.name!r})"
