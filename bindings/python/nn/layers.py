"""Layers of a Sequential model (Keras names and signatures).

Dense, Dropout, BatchNormalization and Activation, plus Input to declare
the input width, and Keras's activation layers ReLU, LeakyReLU, ELU and
Softmax (each an Activation layer in libnn). Every layer's ``kind`` is
libnn's (nn_model_layer_kind): 'dense', 'dropout', 'batch_normalization'
or 'activation'.

Every layer has Keras's ``get_config()`` and ``from_config(config)``:
``nn.layers.Dense.from_config(layer.get_config())`` is a new layer with
the same settings (and no weights, as in Keras).
"""

import ctypes
import numbers
import warnings

from . import _handle, _lib, _names
from . import activations as activations_module
from . import initializers as initializers_module
from . import regularizers as regularizers_module

#: Activation name -> nn_activation value (every name libnn knows).
ACTIVATIONS = {name: cls.code for name, cls in activations_module._BY_NAME.items()}
#: nn_activation value -> Keras name.
ACTIVATION_NAMES = dict(activations_module.NAMES)

#: Initializer name -> nn_initializer value.
INITIALIZERS = {name: cls.code for name, cls in initializers_module._BY_NAME.items()}

#: nn_layer_kind value -> the kind's name (also the layers' default name),
#: as libnn names it (nn_enum_name).
KIND_NAMES = _names.known_values(_lib.NN_ENUM_LAYER_KIND)


def activation_code(activation):
    """The nn_activation value for an activation (None is 'linear')."""
    return activations_module.get(activation).code


def initializer_code(initializer):
    """The nn_initializer value for an initializer name or object."""
    return initializers_module.get(initializer).code


def positive_int(value, what):
    """value as an int > 0, or ValueError naming `what`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a number, got {value!r}")
    return float(value)


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


def _input_width(input_dim, input_shape):
    """The input width a layer declares through input_dim or input_shape, or None."""
    if input_dim is not None and input_shape is not None:
        width = _width_from_shape(input_shape, "input_shape")
        if width != positive_int(input_dim, "input_dim"):
            raise ValueError(f"input_dim={input_dim} and input_shape={input_shape!r} "
                             "disagree")
    if input_dim is not None:
        return positive_int(input_dim, "input_dim")
    if input_shape is not None:
        return _width_from_shape(input_shape, "input_shape")
    return None


def _config_dict(config, what):
    if not isinstance(config, dict):
        raise ValueError(f"{what} must be a dict (as get_config() returns it), got {config!r}")
    return dict(config)


def _build_from(cls, arguments, what):
    """cls(**arguments), with a ValueError naming the keys cls does not take."""
    try:
        return cls(**arguments)
    except TypeError as exc:
        raise ValueError(f"{what}: cannot make {cls.__name__} from {arguments!r}: {exc}") from None


def _activation_from_config(value, what="activation"):
    """An activation from a name, None, an object, or its get_config() dict."""
    if not isinstance(value, dict):
        return activations_module.get(value)
    fields = dict(value)
    name = fields.pop("name", None)
    cls = activations_module._BY_NAME.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"{what}: unknown activation config {value!r}")
    return _build_from(cls, fields, what)


def _initializer_from_config(value, what):
    """An initializer from a name, an object, or its get_config() dict."""
    if not isinstance(value, dict):
        return initializers_module.get(value)
    fields = dict(value)
    name = fields.pop("name", None)
    table = dict(initializers_module._BY_NAME, constant=initializers_module.Constant)
    cls = table.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"{what}: unknown initializer config {value!r}")
    return _build_from(cls, fields, what)


def _regularizer_from_config(value, what="kernel_regularizer"):
    """None, a regularizer, a name, or a regularizer's get_config() dict
    ({'l1': ...}, {'l2': ...} or both)."""
    if not isinstance(value, dict):
        return regularizers_module.get(value)
    unknown = set(value) - {"l1", "l2"}
    if unknown:
        raise ValueError(f"{what}: unknown regularizer config keys {sorted(unknown)} in {value!r}")
    if "l1" in value and "l2" in value:
        return regularizers_module.L1L2(value["l1"], value["l2"])
    if "l1" in value:
        return regularizers_module.L1(value["l1"])
    if "l2" in value:
        return regularizers_module.L2(value["l2"])
    raise ValueError(f"{what}: a regularizer config needs 'l1' or 'l2', got {value!r}")


class Layer:
    """Base class of the layers a Sequential model takes.

    ``input_dim`` is the layer's input width once known; a first layer may
    declare it (``input_dim=n`` or ``input_shape=(n,)``, as in Keras).
    """

    #: nn_layer_kind of the layer class
    _kind_code = None
    #: number of weight arrays the layer contributes to get_weights()
    _weight_count = 0
    #: the base of the layer's default name in a model ('dense', 'dense_1',
    #: ...); None: libnn's name of its kind
    _default_name = None

    @classmethod
    def _from_libnn(cls, fields, read):
        """The layer libnn's model configuration describes (an item of
        nn_model_config's "architecture.layers", read by nn.load_model):
        `fields[key]` is one of its values, `fields.object(key)` a nested
        object, and `read.activation`/`read.initializer`/`read.regularizer`
        build those parts."""
        raise NotImplementedError

    def __init__(self, name=None, input_dim=None, input_shape=None):
        self.input_dim = _input_width(input_dim, input_shape)
        if name is not None and not isinstance(name, str):
            raise ValueError(f"name must be a string, got {name!r}")
        self.name = name
        self._model = None
        self._index = None

    @property
    def kind(self):
        """'dense', 'dropout', 'batch_normalization' or 'activation', as libnn
        reports it (nn_model_layer_kind) once the layer is in a built model."""
        model = self._model
        if model is not None and model.built and not model.closed:
            return model._layer_kind(self._index)
        return KIND_NAMES[self._kind_code]

    @property
    def output_dim(self):
        """Output width (None while the input width is unknown)."""
        return self.input_dim

    @property
    def input_shape(self):
        if self.input_dim is None:
            raise AttributeError(f"layer {self.name!r} has no defined input shape yet")
        return (None, self.input_dim)

    @property
    def output_shape(self):
        if self.output_dim is None:
            raise AttributeError(f"layer {self.name!r} has no defined output shape yet")
        return (None, self.output_dim)

    def _add_to(self, handle):
        """Append this layer to a libnn model (ModelHandle)."""
        raise NotImplementedError

    def count_params(self):
        """Number of scalars in the layer's weights, trainable or not (Keras)."""
        return 0

    def get_weights(self):
        """This layer's weight arrays (see the layer's docstring for the order)."""
        model = self._require_model()
        start = model._first_weight_index(self._index)
        return model.get_weights()[start:start + self._weight_count]

    def set_weights(self, weights):
        """Replace this layer's weight arrays (same order and shapes as get_weights)."""
        model = self._require_model()
        weights = list(weights)
        if len(weights) != self._weight_count:
            raise ValueError(f"layer {self.name!r} expects {self._weight_count} weight arrays, "
                             f"got {len(weights)}")
        start = model._first_weight_index(self._index)
        all_weights = model.get_weights()
        all_weights[start:start + self._weight_count] = weights
        model.set_weights(all_weights)

    def _require_model(self):
        if self._model is None:
            raise ValueError(f"layer {self.name!r} does not belong to a model yet")
        self._model._ensure_built_for("the layer's weights")
        return self._model

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        """A new layer from the dict get_config() returned (Keras's
        Layer.from_config): the same settings, no weights."""
        return _build_from(cls, _config_dict(config, f"{cls.__name__}.from_config"),
                           f"{cls.__name__}.from_config")


class Input(Layer):
    """Declares the width of the model's input: ``Input(shape=(n,))``.

    Put it first in a Sequential model (Keras's ``keras.Input``)."""

    def __init__(self, shape=None, name=None):
        if shape is None:
            raise ValueError("Input needs a shape, for example Input(shape=(20,))")
        self.input_dim = _width_from_shape(shape, "Input shape")
        self.shape = (None, self.input_dim)
        self.name = name
        self._model = None
        self._index = None

    def get_config(self):
        return {"name": self.name, "shape": (self.input_dim,)}

    def __repr__(self):
        return f"Input(shape=({self.input_dim},))"


class Dense(Layer):
    """A fully connected layer: ``output = activation(input · kernel + bias)``.

    Args:
        units: number of outputs (> 0).
        activation: None or a name ('linear', 'sigmoid', 'tanh', 'relu',
            'softmax', 'leaky_relu', 'elu', 'gelu', 'softplus', 'step') or an
            nn.activations object (``LeakyReLU(negative_slope=0.1)``,
            ``ELU(alpha=0.5)``).
        input_dim / input_shape: width of the model's input, when this is the
            first layer (``input_shape=(n,)`` as in Keras).
        kernel_initializer, bias_initializer: a name ('glorot_uniform',
            'glorot_normal', 'he_uniform', 'he_normal', 'lecun_uniform',
            'lecun_normal', 'zeros', 'ones') or an nn.initializers object
            (``Constant(0.1)``); Keras's formulas and defaults.
        kernel_regularizer: None, 'l1', 'l2' or an nn.regularizers object
            (``L2(0.01)``): a penalty on the kernel added to the loss.
        name: layer name; by default 'dense', 'dense_1', ... within a model.

    The kernel has shape (inputs, units) and the bias (units,), as in Keras.
    """

    _kind_code = _lib.NN_LAYER_DENSE
    _weight_count = 2

    @classmethod
    def _from_libnn(cls, fields, read):
        return cls(fields["units"], activation=read.activation(fields.object("activation")),
                   kernel_initializer=read.initializer(fields.object("kernel_initializer")),
                   bias_initializer=read.initializer(fields.object("bias_initializer")),
                   kernel_regularizer=read.regularizer(fields.object("kernel_regularizer")))

    def __init__(self, units, activation=None, input_dim=None, input_shape=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, name=None):
        self.units = positive_int(units, "units")
        self.activation_function = activations_module.get(activation)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)
        super().__init__(name=name, input_dim=input_dim, input_shape=input_shape)

    @property
    def activation(self):
        """The activation's name ('relu', 'leaky_relu', ...)."""
        return self.activation_function.name

    @property
    def output_dim(self):
        return self.units

    def _options(self):
        options = _lib.nn_dense_options()
        _lib.nn_dense_options_init_sized(options, ctypes.sizeof(options), self.units)
        options.activation = self.activation_function.code
        options.activation_parameter = self.activation_function.parameter
        options.kernel_initializer = self.kernel_initializer.code
        options.kernel_initializer_value = self.kernel_initializer.value
        options.bias_initializer = self.bias_initializer.code
        options.bias_initializer_value = self.bias_initializer.value
        if self.kernel_regularizer is not None:
            options.kernel_l1 = self.kernel_regularizer.l1
            options.kernel_l2 = self.kernel_regularizer.l2
        return options

    def _add_to(self, handle):
        handle.call(_lib.nn_model_add_dense_ex, self._options())

    def count_params(self):
        if self.input_dim is None:
            raise ValueError(f"layer {self.name!r} is not built yet")
        return self.input_dim * self.units + self.units

    def get_weights(self):
        """[kernel (inputs, units), bias (units,)] of this layer."""
        return super().get_weights()

    def set_weights(self, weights):
        """Replace [kernel, bias] of this layer."""
        super().set_weights(weights)

    def get_config(self):
        return {"name": self.name, "units": self.units,
                "activation": self.activation_function.get_config(),
                "kernel_initializer": self.kernel_initializer.get_config(),
                "bias_initializer": self.bias_initializer.get_config(),
                "kernel_regularizer": (None if self.kernel_regularizer is None
                                       else self.kernel_regularizer.get_config())}

    @classmethod
    def from_config(cls, config):
        what = f"{cls.__name__}.from_config"
        fields = _config_dict(config, what)
        if "activation" in fields:
            fields["activation"] = _activation_from_config(fields["activation"], what)
        for key in ("kernel_initializer", "bias_initializer"):
            if key in fields:
                fields[key] = _initializer_from_config(fields[key], f"{what}: {key}")
        if "kernel_regularizer" in fields:
            fields["kernel_regularizer"] = _regularizer_from_config(fields["kernel_regularizer"],
                                                                    f"{what}: kernel_regularizer")
        return _build_from(cls, fields, what)

    def __repr__(self):
        return f"Dense({self.units}, activation={self.activation!r}, name={self.name!r})"


class Dropout(Layer):
    """Dropout (Keras Dropout, PyTorch nn.Dropout): while training, each input
    is zeroed with probability ``rate`` and the others are scaled by
    1 / (1 - rate), so the expected value is unchanged; evaluate and predict
    pass the inputs through. Masks come from the model's seeded generator.

    rate: in [0, 1). No weights.
    """

    _kind_code = _lib.NN_LAYER_DROPOUT

    @classmethod
    def _from_libnn(cls, fields, read):
        return cls(fields["rate"])

    def __init__(self, rate, name=None, input_dim=None, input_shape=None):
        self.rate = _number(rate, "dropout rate")
        _handle.check_on_scratch_model(_lib.nn_model_add_dropout, self.rate)
        super().__init__(name=name, input_dim=input_dim, input_shape=input_shape)

    def _add_to(self, handle):
        handle.call(_lib.nn_model_add_dropout, self.rate)

    def get_config(self):
        return {"name": self.name, "rate": self.rate}

    def __repr__(self):
        return f"Dropout({self.rate!r}, name={self.name!r})"


class BatchNormalization(Layer):
    """Batch normalization with PyTorch BatchNorm1d's semantics.

    !!! momentum IS PYTORCH'S, NOT KERAS'S !!!
    ``momentum`` is the weight of the NEW batch in the running estimates:
        running = (1 - momentum) * running + momentum * batch_statistic
    so the default 0.1 here equals Keras's momentum=0.9 (Keras's default 0.99
    is momentum=0.01 here). Passing a Keras value such as 0.99 makes the
    running estimates follow the last batch almost alone; a momentum >= 0.9
    therefore gives a warning.

    Training normalizes each feature with the batch mean and the biased batch
    variance: ``gamma * (x - mean) / sqrt(var + epsilon) + beta``, and updates
    moving_mean with the batch mean and moving_variance with the UNBIASED
    batch variance (as PyTorch). evaluate and predict use the running
    estimates: ``gamma * (x - moving_mean) / sqrt(moving_variance + epsilon)
    + beta``.

    Args:
        momentum: in [0, 1], default 0.1 (PyTorch).
        epsilon: > 0, default 1e-5 (PyTorch; Keras uses 1e-3).

    Weights, in get_weights() order: gamma (starts at 1), beta (0) — trained —
    then moving_mean (0), moving_variance (1) — not trained, but counted by
    count_params() and returned by get_weights() as in Keras.
    """

    _kind_code = _lib.NN_LAYER_BATCH_NORMALIZATION

    @classmethod
    def _from_libnn(cls, fields, read):
        return cls(momentum=fields["momentum"], epsilon=fields["epsilon"])
    _weight_count = 4

    def __init__(self, momentum=0.1, epsilon=1e-5, name=None, input_dim=None,
                 input_shape=None):
        self.momentum = _number(momentum, "batch normalization momentum")
        self.epsilon = _number(epsilon, "batch normalization epsilon")
        _handle.check_on_scratch_model(_lib.nn_model_add_batch_normalization, self.momentum,
                                       self.epsilon)
        if self.momentum >= 0.9:
            warnings.warn(
                f"BatchNormalization(momentum={self.momentum}) uses PyTorch's convention: "
                "momentum is the weight of the NEW batch in the running statistics. A value "
                "this high is almost surely a Keras momentum (which weighs the OLD "
                f"statistics); the PyTorch equivalent of Keras's {self.momentum} is "
                f"{1 - self.momentum:.4g}.", UserWarning, stacklevel=2)
        super().__init__(name=name, input_dim=input_dim, input_shape=input_shape)

    def _add_to(self, handle):
        handle.call(_lib.nn_model_add_batch_normalization, self.momentum, self.epsilon)

    def count_params(self):
        if self.input_dim is None:
            raise ValueError(f"layer {self.name!r} is not built yet")
        return 4 * self.input_dim

    def get_config(self):
        return {"name": self.name, "momentum": self.momentum, "epsilon": self.epsilon}

    @classmethod
    def from_config(cls, config):
        # the momentum warning was given when the layer was first made
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return super().from_config(config)

    def __repr__(self):
        return (f"BatchNormalization(momentum={self.momentum!r}, epsilon={self.epsilon!r}, "
                f"name={self.name!r})")


class Activation(Layer):
    """An activation on its own (Keras Activation layer), e.g. after a
    BatchNormalization that follows a linear Dense.

    activation: a name or an nn.activations object, as Dense takes."""

    _kind_code = _lib.NN_LAYER_ACTIVATION

    @classmethod
    def _from_libnn(cls, fields, read):
        return cls(read.activation(fields.object("activation")))

    def __init__(self, activation, name=None, input_dim=None, input_shape=None):
        self.activation_function = activations_module.get(activation)
        super().__init__(name=name, input_dim=input_dim, input_shape=input_shape)

    @property
    def activation(self):
        return self.activation_function.name

    def _add_to(self, handle):
        handle.call(_lib.nn_model_add_activation, self.activation_function.code,
                    self.activation_function.parameter)

    def get_config(self):
        return {"name": self.name, "activation": self.activation_function.get_config()}

    @classmethod
    def from_config(cls, config):
        what = f"{cls.__name__}.from_config"
        fields = _config_dict(config, what)
        if "activation" in fields:
            fields["activation"] = _activation_from_config(fields["activation"], what)
        return _build_from(cls, fields, what)

    def __repr__(self):
        return f"Activation({self.activation!r}, name={self.name!r})"


# --------------------------------------------------------------------------
# Keras's activation layers: each is an Activation layer in libnn
# --------------------------------------------------------------------------

class _KerasActivation(Activation):
    """What Keras's activation layers share: get_config lists the Keras
    constructor arguments `_arguments` (with the name), repr those of
    `_shown` (default: the same)."""

    _arguments = ()
    _shown = None

    def get_config(self):
        return {"name": self.name, **{argument: getattr(self, argument) for argument in self._arguments}}

    def __repr__(self):
        shown = self._arguments if self._shown is None else self._shown
        args = "".join(f"{argument}={getattr(self, argument)!r}, " for argument in shown)
        return f"{type(self).__name__}({args}name={self.name!r})"


class ReLU(_KerasActivation):
    """keras.layers.ReLU: f(z) = max(z, 0), or z for z > 0 and
    negative_slope * z below when negative_slope > 0 (a leaky ReLU).

    ``ReLU(max_value=None, negative_slope=0.0, threshold=0.0)``

    libnn's relu has no upper bound and no threshold: max_value must be None
    and threshold 0 (a ValueError otherwise; Keras's ReLU(max_value=6.0) is
    ReLU6, which libnn does not have). In libnn the layer is an Activation
    layer ('relu', or 'leaky_relu' with the slope), and a model loaded from
    a file gives it back as ``Activation``.
    """

    _default_name = "re_lu"
    _arguments = ("max_value", "negative_slope", "threshold")
    _shown = ("negative_slope",)

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, name=None,
                 input_dim=None, input_shape=None):
        if max_value is not None:
            raise ValueError(f"ReLU(max_value={max_value!r}): libnn's relu has no upper bound; "
                             "max_value must be None")
        threshold = _number(threshold, "ReLU threshold")
        if threshold != 0.0:
            raise ValueError(f"ReLU(threshold={threshold!r}): libnn's relu switches at 0; "
                             "threshold must be 0")
        slope = _number(negative_slope, "ReLU negative_slope")
        if not slope >= 0.0:
            raise ValueError(f"ReLU negative_slope must be >= 0, got {negative_slope!r}")
        self.max_value = None
        self.negative_slope = slope
        self.threshold = 0.0
        function = (activations_module.ReLU() if slope == 0.0
                    else activations_module.LeakyReLU(negative_slope=slope))
        super().__init__(function, name=name, input_dim=input_dim, input_shape=input_shape)


class LeakyReLU(_KerasActivation):
    """keras.layers.LeakyReLU: f(z) = z for z > 0, else negative_slope * z.

    ``LeakyReLU(negative_slope=0.3)``: 0.3 is the Keras layer's default
    (keras.activations.leaky_relu and activation='leaky_relu' use 0.2,
    PyTorch's nn.LeakyReLU 0.01). Keras 2's name ``alpha`` is taken too,
    with a DeprecationWarning, as Keras 3 does. An Activation layer
    ('leaky_relu') in libnn.
    """

    _default_name = "leaky_re_lu"
    _arguments = ("negative_slope",)

    def __init__(self, negative_slope=0.3, name=None, input_dim=None, input_shape=None,
                 alpha=None):
        if alpha is not None:
            warnings.warn("LeakyReLU: the argument alpha is deprecated (Keras 2's name); use "
                          "negative_slope", DeprecationWarning, stacklevel=2)
            negative_slope = alpha
        function = activations_module.LeakyReLU(negative_slope=negative_slope)
        self.negative_slope = function.negative_slope
        super().__init__(function, name=name, input_dim=input_dim, input_shape=input_shape)


class ELU(_KerasActivation):
    """keras.layers.ELU: f(z) = z for z > 0, else alpha * (exp(z) - 1).

    ``ELU(alpha=1.0)``; alpha > 0. An Activation layer ('elu') in libnn."""

    _default_name = "elu"
    _arguments = ("alpha",)

    def __init__(self, alpha=1.0, name=None, input_dim=None, input_shape=None):
        function = activations_module.ELU(alpha=alpha)
        self.alpha = function.alpha
        super().__init__(function, name=name, input_dim=input_dim, input_shape=input_shape)


class Softmax(_KerasActivation):
    """keras.layers.Softmax: f(z)_i = exp(z_i) / sum_j exp(z_j) over each row.

    ``Softmax(axis=-1)``: libnn's inputs are (samples, features), so the
    features axis, -1 (or 1), is the only one; any other axis is a
    ValueError. An Activation layer ('softmax') in libnn."""

    _default_name = "softmax"
    _arguments = ("axis",)

    def __init__(self, axis=-1, name=None, input_dim=None, input_shape=None):
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or axis not in (-1, 1):
            raise ValueError(f"Softmax(axis={axis!r}): libnn's softmax runs over the features "
                             "axis of (samples, features) inputs; axis must be -1 (or 1)")
        self.axis = -1
        super().__init__(activations_module.Softmax(), name=name, input_dim=input_dim,
                         input_shape=input_shape)


#: The layer classes by the kind libnn's configuration names them with (the
#: Keras class name, "Dense"), for nn.load_model.
BY_KIND = {cls.__name__: cls for cls in (Dense, Dropout, BatchNormalization, Activation)}

#: Every layer class by its Keras class name, for Sequential.from_config.
BY_CLASS_NAME = {cls.__name__: cls for cls in (Dense, Dropout, BatchNormalization, Activation,
                                               ReLU, LeakyReLU, ELU, Softmax)}
