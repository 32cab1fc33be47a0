"""Loading saved models: nn.load_model (also nn.models.load_model).

A model file is a safetensors file (https://github.com/huggingface/safetensors)
written by libnn (Sequential.save, save_weights, to_bytes): the weights are
tensors named as PyTorch names the state_dict of the equivalent
torch.nn.Sequential, and the rest of the model is JSON in the header's
``__metadata__`` (see include/nn.h, "Saving and loading").

load_model gives the file's bytes to libnn first (nn_model_load_from_buffer),
which treats them as untrusted and refuses anything wrong with
nn.InvalidFileError and a message that says what. Only then does this
module read the (now validated) metadata to rebuild the Python side of the
model: the layer objects, the loss, optimizer, metric and schedule objects
and the seed. The libnn model itself already holds everything, optimizer
state included, so it is not compiled again (that would reset the
optimizer's state): training continues exactly where the saved model
stopped.

Layer names are not stored in the file: a loaded model's layers get the
default names ('dense', 'dense_1', ...), and the model the name
'sequential'.
"""

import ctypes
import json
import os
import warnings

from . import _lib
from . import activations as activations_module
from . import callbacks as callbacks_module
from . import initializers as initializers_module
from . import layers as layers_module
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from . import regularizers as regularizers_module
from . import schedules as schedules_module
from ._handle import FileError, InvalidFileError, ModelHandle, _check

__all__ = ["load_model"]


# --------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------

def is_bytes_like(value):
    """Whether `value` is file content (bytes, bytearray, memoryview)
    rather than a path."""
    return isinstance(value, (bytes, bytearray, memoryview))


def path_argument(filepath, what):
    """A str or os.PathLike path as the bytes libnn receives (UTF-8 / the
    file system's encoding); TypeError or ValueError otherwise."""
    if isinstance(filepath, (bytes, bytearray, memoryview)):
        raise TypeError(f"{what} must be a path (str or os.PathLike), got "
                        f"{type(filepath).__name__}")
    try:
        path = os.fspath(filepath)
    except TypeError:
        raise TypeError(f"{what} must be a path (str or os.PathLike), got "
                        f"{filepath!r}") from None
    encoded = os.fsencode(path)
    if not encoded:
        raise ValueError(f"{what} is empty")
    if b"\0" in encoded:
        raise ValueError(f"{what} contains a NUL character: {path!r}")
    return encoded


def save_flags(include_optimizer):
    """nn_model_save's flags for include_optimizer (True or False)."""
    if not isinstance(include_optimizer, bool):
        raise TypeError(f"include_optimizer must be True or False, got {include_optimizer!r}")
    return _lib.NN_SAVE_INCLUDE_OPTIMIZER if include_optimizer else 0


def check_overwrite(filepath, overwrite):
    if not isinstance(overwrite, bool):
        raise TypeError(f"overwrite must be True or False, got {overwrite!r}")
    if not overwrite and os.path.lexists(filepath):
        raise FileExistsError(f"{os.fspath(filepath)} exists and overwrite=False")


def _read(filepath):
    """The bytes of the file at `filepath`; nn.FileError (an OSError) with
    the system's reason if it cannot be read."""
    path = path_argument(filepath, "filepath")
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        error = FileError(f"cannot open {os.fsdecode(path)}: {exc.strerror or exc}",
                          _lib.NN_ERROR_IO)
        error.errno, error.strerror, error.filename = exc.errno, exc.strerror, os.fsdecode(path)
        raise error from exc


# --------------------------------------------------------------------------
# load_model
# --------------------------------------------------------------------------

def load_model(filepath, compile=True):
    """Load a model saved by Sequential.save (or to_bytes).

    filepath: a path (str or os.PathLike) or the file's bytes (bytes,
        bytearray, memoryview).
    compile: False gives the model uncompiled, as Keras's
        load_model(compile=False) does: predict works, and fit and evaluate
        need a compile() first (which starts a fresh optimizer).

    Returns a new, built and (when the saved model was) compiled
    nn.Sequential with its weights, layers, loss, optimizer (the same class
    and hyper-parameters, clipping included, and its state if it was
    saved), metrics, learning-rate schedule and seed: predict, evaluate,
    summary and get_weights give what the saved model gave, and fit
    continues the training bit for bit.

    Raises nn.InvalidFileError (a ValueError) with libnn's message for a file
    that is not a valid libnn model file (corrupted, truncated, a plain
    safetensors file of weights — load those into a built model with
    load_weights — or one written by a newer libnn); nn.FileError (an
    OSError) if the file cannot be read; TypeError for an argument that is
    neither a path nor bytes.
    """
    if not isinstance(compile, bool):
        raise TypeError(f"compile must be True or False, got {compile!r}")
    if is_bytes_like(filepath):
        data = bytes(filepath)
    else:
        data = _read(filepath)

    # libnn validates everything first: the file is untrusted.
    pointer = _lib.nn_model_p()
    _check(_lib.nn_model_load_from_buffer(data, len(data), ctypes.byref(pointer)))
    handle = ModelHandle.adopt(pointer)
    try:
        model = _rebuild(handle, _metadata(data), compile)
    except BaseException:
        handle.close()
        raise
    return model


def _strict_object(pairs):
    """json object_pairs_hook: an object, refusing duplicate keys (as libnn's
    parser does), so that Python never reads a value libnn did not."""
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _json(text, what):
    try:
        return json.loads(text, object_pairs_hook=_strict_object)
    except (ValueError, TypeError) as exc:
        raise InvalidFileError(f"metadata {what!r}: {exc}", _lib.NN_ERROR_INVALID_FILE) from None


def _metadata(data):
    """{"architecture": ..., "compile": ..., "training": ...} parsed from the
    safetensors header's __metadata__ of a file libnn has validated."""
    length = int.from_bytes(data[:8], "little")
    try:
        text = data[8:8 + length].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid(f"the safetensors header is not UTF-8: {exc}") from None
    header = _json(text, "safetensors header")
    metadata = header.get("__metadata__") or {}
    return {key: _json(metadata[key], key) for key in ("architecture", "compile", "training")}


class _Fields:
    """A JSON object of the metadata, read with messages naming the field."""

    def __init__(self, value, path):
        if not isinstance(value, dict):
            raise _invalid(f"{path}: expected a JSON object")
        self.value = value
        self.path = path

    def get(self, key, default=None):
        value = self.value.get(key)
        return default if value is None else value

    def __getitem__(self, key):
        if self.value.get(key) is None:
            raise _invalid(f"{self.path}: missing {key!r}")
        return self.value[key]

    def object(self, key):
        value = self.value.get(key)
        return None if value is None else _Fields(value, f"{self.path}.{key}")


def _invalid(message):
    return InvalidFileError(message, _lib.NN_ERROR_INVALID_FILE)


# --------------------------------------------------------------------------
# Rebuilding the Python objects
# --------------------------------------------------------------------------

_ACTIVATIONS = activations_module._BY_NAME
_INITIALIZERS = dict(initializers_module._BY_NAME, constant=initializers_module.Constant)
_LOSSES = {cls.name: cls for cls in (losses_module.MeanSquaredError,
                                     losses_module.MeanAbsoluteError, losses_module.Huber,
                                     losses_module.BinaryCrossentropy,
                                     losses_module.CategoricalCrossentropy,
                                     losses_module.SparseCategoricalCrossentropy)}
_METRICS = {cls.name: cls for cls in set(metrics_module._BY_NAME.values())}
_OPTIMIZERS = optimizers_module._BY_NAME
_MODES = {"auto": _lib.NN_MONITOR_AUTO, "min": _lib.NN_MONITOR_MIN, "max": _lib.NN_MONITOR_MAX}


def _activation(fields):
    name = fields["name"]
    cls = _ACTIVATIONS.get(name)
    if cls is None:
        raise _invalid(f"{fields.path}: unknown activation {name!r}")
    parameter = fields.get("parameter")
    if cls is activations_module.LeakyReLU:
        return cls() if parameter is None else cls(negative_slope=parameter)
    if cls is activations_module.ELU:
        return cls() if parameter is None else cls(alpha=parameter)
    return cls()


def _initializer(fields):
    name = fields["name"]
    cls = _INITIALIZERS.get(name)
    if cls is None:
        raise _invalid(f"{fields.path}: unknown initializer {name!r}")
    if cls is initializers_module.Constant:
        return cls(fields.get("value", 0.0))
    return cls()


def _regularizer(fields):
    if fields is None:
        return None
    l1, l2 = float(fields.get("l1", 0.0)), float(fields.get("l2", 0.0))
    if l1 == 0 and l2 != 0:
        return regularizers_module.L2(l2)
    if l2 == 0 and l1 != 0:
        return regularizers_module.L1(l1)
    return regularizers_module.L1L2(l1, l2)


def _layer(fields):
    kind = fields["kind"]
    if kind == "Dense":
        return layers_module.Dense(
            fields["units"], activation=_activation(fields.object("activation")),
            kernel_initializer=_initializer(fields.object("kernel_initializer")),
            bias_initializer=_initializer(fields.object("bias_initializer")),
            kernel_regularizer=_regularizer(fields.object("kernel_regularizer")))
    if kind == "Dropout":
        return layers_module.Dropout(fields["rate"])
    if kind == "BatchNormalization":
        return layers_module.BatchNormalization(momentum=fields["momentum"],
                                                epsilon=fields["epsilon"])
    if kind == "Activation":
        return layers_module.Activation(_activation(fields.object("activation")))
    raise _invalid(f"{fields.path}: unknown layer kind {kind!r}")


def _loss(fields):
    name = fields["kind"]
    cls = _LOSSES.get(name)
    if cls is None:
        raise _invalid(f"{fields.path}: unknown loss {name!r}")
    if cls is losses_module.Huber:
        return cls(delta=fields["delta"])
    if cls in (losses_module.MeanSquaredError, losses_module.MeanAbsoluteError):
        return cls()
    return cls(from_logits=bool(fields.get("from_logits", False)))


def _metric(fields):
    name = fields["kind"]
    cls = _METRICS.get(name)
    if cls is None:
        raise _invalid(f"{fields.path}: unknown metric {name!r}")
    parameter = fields.get("parameter")
    if parameter is None:
        return cls()
    if cls is metrics_module.TopKAccuracy:
        return cls(k=int(parameter))
    if issubclass(cls, metrics_module._Thresholded):
        return cls(threshold=parameter)
    return cls()


def _schedule(fields, initial_learning_rate):
    """(schedule object or None, plateau key or None) for compile.schedule."""
    if fields is None:
        return None, None
    kind = fields["kind"]
    if kind == "step":
        return schedules_module.StepDecay(initial_learning_rate, fields["step_size"],
                                          gamma=fields["gamma"]), None
    if kind == "exponential":
        return schedules_module.ExponentialDecay(initial_learning_rate, fields["gamma"]), None
    if kind == "cosine":
        return schedules_module.CosineDecay(initial_learning_rate, fields["t_max"],
                                            eta_min=fields["eta_min"]), None
    if kind == "reduce_on_plateau":
        # A ReduceLROnPlateau that a fit installed: libnn runs it (and saved
        # its state); the optimizer's own rate stays a number. The key is the
        # one an equal callback has, so that passing it to the next fit keeps
        # libnn's schedule state instead of installing it anew.
        plateau = callbacks_module.ReduceLROnPlateau(
            monitor=fields["monitor"], factor=fields["factor"], patience=fields["patience"],
            mode=fields["mode"], min_delta=fields["min_delta"], cooldown=fields["cooldown"],
            min_lr=fields["min_lr"])
        return None, plateau._key()
    raise _invalid(f"{fields.path}: unknown schedule {kind!r}")


def _optimizer(fields, schedule_fields):
    """(optimizer object, plateau key or None)."""
    kind = fields["kind"]
    cls = _OPTIMIZERS.get(kind)
    if cls is None:
        raise _invalid(f"{fields.path}: unknown optimizer {kind!r}")
    rate = fields["learning_rate"]
    schedule, plateau_key = _schedule(schedule_fields, rate)
    clipping = {"clipvalue": fields.get("clipvalue"), "clipnorm": fields.get("clipnorm"),
                "global_clipnorm": fields.get("global_clipnorm")}
    learning_rate = rate if schedule is None else schedule
    if cls is optimizers_module.SGD:
        optimizer = cls(learning_rate, momentum=fields["momentum"],
                        dampening=fields["dampening"], nesterov=bool(fields["nesterov"]),
                        weight_decay=fields["weight_decay"], **clipping)
    elif cls in (optimizers_module.Adam, optimizers_module.AdamW):
        optimizer = cls(learning_rate, beta_1=fields["beta1"], beta_2=fields["beta2"],
                        epsilon=fields["epsilon"], weight_decay=fields["weight_decay"],
                        amsgrad=bool(fields["amsgrad"]), **clipping)
    elif cls is optimizers_module.RMSprop:
        optimizer = cls(learning_rate, rho=fields["alpha"], momentum=fields["momentum"],
                        epsilon=fields["epsilon"], centered=bool(fields["centered"]),
                        weight_decay=fields["weight_decay"], **clipping)
    elif cls is optimizers_module.Adagrad:
        optimizer = cls(learning_rate, lr_decay=fields["lr_decay"],
                        initial_accumulator_value=fields["initial_accumulator_value"],
                        epsilon=fields["epsilon"], weight_decay=fields["weight_decay"],
                        **clipping)
    else:
        optimizer = cls(learning_rate, etas=(fields["eta_minus"], fields["eta_plus"]),
                        step_sizes=(fields["step_size_min"], fields["step_size_max"]),
                        **clipping)
    return optimizer, plateau_key


def _rebuild(handle, metadata, compile):
    """The nn.Sequential around `handle` (a loaded libnn model), its Python
    objects rebuilt from the file's metadata."""
    from .models import Sequential

    architecture = _Fields(metadata["architecture"], "architecture")
    compile_fields = _Fields(metadata["compile"], "compile")
    try:
        seed = int(architecture["seed"])
        with warnings.catch_warnings():
            # BatchNormalization warns about a high momentum when it is
            # constructed; the user saw that when the model was made.
            warnings.simplefilter("ignore", UserWarning)
            layers = [_layer(_Fields(item, f"architecture.layers[{i}]"))
                      for i, item in enumerate(architecture["layers"])]
        loss = compile_fields.object("loss")
        loss = None if loss is None else _loss(loss)
        optimizer_fields = compile_fields.object("optimizer")
        optimizer, plateau_key = (None, None) if optimizer_fields is None else _optimizer(
            optimizer_fields, compile_fields.object("schedule"))
        metrics = [_metric(_Fields(item, f"compile.metrics[{i}]"))
                   for i, item in enumerate(compile_fields.get("metrics", []))]
    except InvalidFileError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        # libnn accepted the file, so this is a disagreement between libnn
        # and this binding (e.g. a newer libnn's fields): say so.
        raise _invalid(f"libnn loaded the file but its metadata does not describe a model "
                       f"this binding can rebuild: {exc}") from exc

    _check_layers(handle, layers)
    model = Sequential(seed=seed)
    for layer in layers:
        model.add(layer)                 # the model has no handle yet: nothing goes to C
    model._handle = handle
    model._input_dim = handle.get_size(_lib.nn_model_input_dim)
    model._propagate_widths()
    if not compile:
        return model
    # The libnn model is compiled already (with its optimizer state): only
    # the Python side is set, never nn_model_set_optimizer.
    model._loss = loss
    model._metrics = metrics
    if optimizer is not None:
        model._optimizer = optimizer
        model._compiled = True
        model._plateau_key = plateau_key
    return model


def _check_layers(handle, layers):
    """The layers rebuilt from the metadata are those libnn built."""
    count = handle.get_size(_lib.nn_model_layer_count)
    if count != len(layers):
        raise _invalid(f"the metadata lists {len(layers)} layers but libnn built {count}")
    for i, layer in enumerate(layers):
        kind = _lib.nn_layer_kind()
        handle.call(_lib.nn_model_layer_kind, i, ctypes.byref(kind))
        if kind.value != layer._kind_code:
            raise _invalid(f"layer {i}: the metadata says {type(layer).__name__} but libnn "
                           f"built a {layers_module.KIND_NAMES.get(kind.value, kind.value)}")
