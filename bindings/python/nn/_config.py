"""A model's configuration, as libnn describes it, turned into this
binding's objects.

nn_model_config gives the JSON of a libnn model (include/nn.h):

    {"format": 1,
     "architecture": {"input_dim", "seed", "layers": [{"kind": "Dense", ...}, ...]},
     "compile": {"loss", "optimizer", "metrics", "schedule"},
     "layer_names": ["dense", "dense_1", ...]}

— the objects libnn writes into a model file's metadata, so Python never
parses a file. `read` asks libnn for it; `objects` builds the layer, loss,
optimizer, metric and schedule objects it describes. models.py puts them
around the libnn model (Sequential._from_config, used by load_model).

This module imports the modules of the objects it builds, never models or
saving, so that no import cycles.
"""

import ctypes
import json
import types
import warnings
from dataclasses import dataclass, field
from typing import Optional

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
from ._handle import InvalidFileError

#: The "format" of nn_model_config this binding reads.
FORMAT = 1


def read(handle):
    """The configuration of the libnn model behind `handle` (a ModelHandle),
    parsed: nn_model_config's JSON as Python dicts and lists."""
    with handle._lock:                   # the size and the text of one state
        length = handle.get_size(_lib.nn_model_config, None, 0)
        buffer = ctypes.create_string_buffer(length + 1)
        handle.call(_lib.nn_model_config, buffer, len(buffer), None)
    try:
        return json.loads(ctypes.string_at(buffer, length).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _invalid(f"libnn's configuration is not UTF-8 JSON: {exc}") from None


@dataclass
class Objects:
    """What a configuration describes, as this binding's objects."""
    seed: int
    input_dim: int
    layers: list                     # nn.layers objects, named, not yet in a model
    loss: object = None
    optimizer: object = None
    plateau_key: Optional[tuple] = None
    metrics: list = field(default_factory=list)


def objects(config):
    """The Objects of a configuration that `read` returned. Raises
    nn.InvalidFileError if it describes something this binding cannot
    build (a libnn newer than the binding)."""
    top = _Fields(config, "configuration")
    if top["format"] != FORMAT:
        raise _invalid(f"libnn describes the model in configuration format {top['format']}; "
                       f"this binding reads format {FORMAT}")
    architecture = top.object("architecture")
    compile_fields = top.object("compile")
    if architecture is None or compile_fields is None:
        raise _invalid("libnn's configuration lacks \"architecture\" or \"compile\"")
    try:
        seed = int(architecture["seed"])
        input_dim = int(architecture["input_dim"])
        with warnings.catch_warnings():
            # BatchNormalization warns about a high momentum when it is
            # constructed; the user saw that when the model was made.
            warnings.simplefilter("ignore", UserWarning)
            layers = [_layer(_Fields(item, f"architecture.layers[{i}]"))
                      for i, item in enumerate(architecture.get("layers", []))]
        names = top.get("layer_names", [])
        if len(names) != len(layers):
            raise _invalid(f"libnn's configuration has {len(layers)} layers but "
                           f"{len(names)} layer names")
        for layer, name in zip(layers, names):
            layer.name = str(name)
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
        # libnn built the model, so this is a disagreement between libnn
        # and this binding (e.g. a newer libnn's fields): say so.
        raise _invalid(f"libnn loaded the file but its configuration does not describe a model "
                       f"this binding can rebuild: {exc}") from exc
    return Objects(seed=seed, input_dim=input_dim, layers=layers, loss=loss,
                   optimizer=optimizer, plateau_key=plateau_key, metrics=metrics)


class _Fields:
    """A JSON object of the configuration, read with messages naming the field."""

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
# The objects, one kind at a time
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


def _known(table, name, what, fields):
    """table[name], or the error naming the field and the unknown value."""
    cls = table.get(name)
    if cls is None:
        raise _invalid(f"{fields.path}: unknown {what} {name!r}")
    return cls


def _activation(fields):
    name = fields["name"]
    cls = _known(_ACTIVATIONS, name, "activation", fields)
    return cls._from_parameter(fields.get("parameter"))


def _initializer(fields):
    name = fields["name"]
    cls = _known(_INITIALIZERS, name, "initializer", fields)
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


#: What a layer's _from_libnn builds its nested objects with.
_PARTS = types.SimpleNamespace(activation=_activation, initializer=_initializer,
                               regularizer=_regularizer)


def _layer(fields):
    kind = fields["kind"]
    cls = _known(layers_module.BY_KIND, kind, "layer kind", fields)
    return cls._from_libnn(fields, _PARTS)


def _loss(fields):
    name = fields["kind"]
    cls = _known(_LOSSES, name, "loss", fields)
    if cls is losses_module.Huber:
        return cls(delta=fields["delta"])
    if cls in (losses_module.MeanSquaredError, losses_module.MeanAbsoluteError):
        return cls()
    return cls(from_logits=bool(fields.get("from_logits", False)))


def _metric(fields):
    name = fields["kind"]
    cls = _known(_METRICS, name, "metric", fields)
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
    cls = _known(_OPTIMIZERS, kind, "optimizer", fields)
    rate = fields["learning_rate"]
    schedule, plateau_key = _schedule(schedule_fields, rate)
    clipping = {"clipvalue": fields.get("clipvalue"), "clipnorm": fields.get("clipnorm"),
                "global_clipnorm": fields.get("global_clipnorm")}
    learning_rate = rate if schedule is None else schedule
    optimizer = cls._from_libnn(fields, learning_rate, **clipping)
    return optimizer, plateau_key
