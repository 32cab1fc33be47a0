"""Sequential: the Keras-like model, on top of one libnn model handle."""

import ctypes
import numbers
import time

import numpy as np

from . import _lib, callbacks as callbacks_module, losses as losses_module
from . import optimizers as optimizers_module
from ._handle import Error, InvalidStateError, ModelHandle
from .layers import Dense, Input, Layer, positive_int

_FLOAT_P = ctypes.POINTER(ctypes.c_float)
_METRICS = {"accuracy": _lib.NN_METRIC_ACCURACY, "acc": _lib.NN_METRIC_ACCURACY}
_METRIC_LOG_NAME = {"accuracy": "accuracy", "acc": "accuracy"}
DEFAULT_SEED = 0


# --------------------------------------------------------------------------
# numpy <-> C
# --------------------------------------------------------------------------

def _as_matrix(a, what):
    """a as a 2-D float32 C-contiguous array; no copy when it already is one."""
    if isinstance(a, np.ndarray) and a.dtype == np.float32 and a.flags.c_contiguous:
        arr = a
    else:
        try:
            arr = np.ascontiguousarray(a, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{what} must be numeric array data: {exc}") from None
    if arr.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array (samples, features), got an array of "
                         f"shape {arr.shape}")
    return arr


def _as_targets(a, what):
    """Targets: a 1-D array becomes a column; integers become float32."""
    arr = np.asarray(a)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    return _as_matrix(arr, what)


def _ptr(arr):
    return arr.ctypes.data_as(_FLOAT_P)


def _size(value, what):
    """A non-negative int for a size_t argument (ctypes would wrap negatives)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    return int(value)


def _check_rows(x, y, what):
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{what}: x and y have different numbers of samples: "
                         f"{x.shape[0]} and {y.shape[0]}")


# --------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------

class Sequential:
    """A linear stack of Dense layers, trained by libnn.

    ``Sequential(layers=None, seed=None, name=None)``

    seed seeds the model's random generator (weight initialization and
    batch shuffling). The default, None, means seed 0, so that two runs of
    the same script give the same model bit for bit; pass another integer
    for another initialization.

    The libnn model is created as soon as the input width is known: from
    the first layer's input_dim / input_shape, from an Input layer, or, as
    Keras builds lazily, from the data of the first fit, evaluate or predict.
    """

    def __init__(self, layers=None, seed=None, name=None):
        if seed is None:
            seed = DEFAULT_SEED
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not (
                0 <= seed < 2 ** 64):
            raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
        self.seed = int(seed)
        self.name = name or "sequential"
        self._layers = []
        self._input_dim = None
        self._handle = None
        self._loss = None
        self._optimizer = None
        self._metrics = []          # log names requested in compile ('accuracy')
        self._compiled = False
        self._closed = False
        self.stop_training = False
        self.history = None
        for layer in layers or []:
            self.add(layer)

    # -- building ----------------------------------------------------------

    def add(self, layer):
        """Append a layer (Dense) or declare the input width (Input)."""
        self._require_open()
        if isinstance(layer, Input):
            if self._layers or self._input_dim is not None:
                raise ValueError("an Input must come first, before any other layer")
            self._input_dim = layer.input_dim
            self._build_if_ready()
            return
        if not isinstance(layer, Dense):
            kind = type(layer).__name__ if isinstance(layer, Layer) else repr(layer)
            raise ValueError(f"Sequential takes Dense layers (and an Input first), got {kind}")
        if layer._model is not None:
            raise ValueError(f"layer {layer.name!r} already belongs to a model")
        if not self._layers:
            if layer.input_dim is not None:
                if self._input_dim is not None and self._input_dim != layer.input_dim:
                    raise ValueError(f"layer input_dim={layer.input_dim} disagrees with the "
                                     f"model's input width {self._input_dim}")
                self._input_dim = layer.input_dim
        else:
            previous = self._layers[-1].units
            if layer.input_dim is not None and layer.input_dim != previous:
                raise ValueError(f"layer input_dim={layer.input_dim} does not match the "
                                 f"previous layer's {previous} units")
        name = layer.name if layer.name is not None else self._unique_name()
        if any(existing.name == name for existing in self._layers):
            raise ValueError(f"a layer named {name!r} is already in the model; layer names "
                             "must be unique")
        if self._handle is not None:
            # may fail (e.g. after fit): nothing is changed on the Python side then
            self._handle.call(_lib.nn_model_add_dense_ex, layer._options())
        layer.name = name
        if not self._layers:
            layer.input_dim = self._input_dim
        else:
            layer.input_dim = self._layers[-1].units
        layer._model = self
        layer._index = len(self._layers)
        self._layers.append(layer)
        self._build_if_ready()

    def _unique_name(self):
        taken = {layer.name for layer in self._layers}
        candidate, i = "dense", 0
        while candidate in taken:
            i += 1
            candidate = f"dense_{i}"
        return candidate

    def _build_if_ready(self):
        if self._handle is None and self._input_dim is not None:
            self.build(self._input_dim)

    def build(self, input_shape=None):
        """Create the libnn model for inputs of the given width ((None, n), (n,) or n)."""
        self._require_open()
        if input_shape is None:
            input_dim = self._input_dim
            if input_dim is None:
                raise ValueError("build() needs an input shape: the model has no input "
                                 "width yet")
        else:
            if isinstance(input_shape, numbers.Integral):
                input_dim = input_shape
            else:
                shape = tuple(input_shape)
                input_dim = shape[-1] if shape else None
                if len(shape) not in (1, 2) or input_dim is None:
                    raise ValueError(f"input_shape must be (n,) or (None, n), got {input_shape!r}")
            input_dim = positive_int(input_dim, "input width")
        if self._handle is not None:
            if input_dim != self._input_dim:
                raise ValueError(f"the model is built for {self._input_dim} inputs, not "
                                 f"{input_dim}")
            return
        handle = ModelHandle(input_dim, self.seed)
        try:
            for layer in self._layers:
                handle.call(_lib.nn_model_add_dense_ex, layer._options())
        except BaseException:
            handle.close()
            raise
        self._handle = handle
        self._input_dim = input_dim
        if self._layers:
            self._layers[0].input_dim = input_dim
        if self._compiled:
            self._apply_compile()

    @property
    def built(self):
        return self._handle is not None

    def _ensure_built_for(self, what):
        self._require_open()
        if self._handle is None:
            raise ValueError(f"the model is not built yet, so it has no {what}: give the "
                             "first layer an input_dim or input_shape, add an Input, or call "
                             "fit/predict first")

    def _ensure_built_from(self, x):
        """Build lazily from the data's width (Keras builds on first call)."""
        self._require_open()
        if self._handle is None:
            if not self._layers:
                raise InvalidStateError("the model has no layers: add a Dense layer first",
                                        _lib.NN_ERROR_INVALID_STATE)
            self.build(x.shape[1])

    def _require_open(self):
        if self._closed:
            raise InvalidStateError("the model has been closed", _lib.NN_ERROR_INVALID_HANDLE)

    # -- compile -----------------------------------------------------------

    def compile(self, optimizer="adam", loss=None, metrics=None):
        """Configure training.

        optimizer: 'sgd', 'adam', or an nn.optimizers.SGD / Adam object
            (PyTorch's update rules and defaults).
        loss: 'mse' / 'mean_squared_error', 'binary_crossentropy',
            'categorical_crossentropy', 'sparse_categorical_crossentropy', or
            an nn.losses object (e.g. CategoricalCrossentropy(from_logits=True)).
        metrics: None or ['accuracy'] ('acc' is accepted too).
        """
        self._require_open()
        opt = optimizers_module.get(optimizer)
        loss_obj = losses_module.get(loss) if loss is not None else None
        if metrics is None:
            metric_names = []
        elif isinstance(metrics, str):
            metric_names = [metrics]
        else:
            metric_names = list(metrics)
        requested = []
        for m in metric_names:
            key = m.lower() if isinstance(m, str) else m
            if key not in _METRICS:
                valid = ", ".join(repr(n) for n in _METRICS)
                raise ValueError(f"unknown metric {m!r}; valid metrics are {valid}")
            log_name = _METRIC_LOG_NAME[key]
            if log_name not in requested:
                requested.append(log_name)
        self._optimizer = opt
        self._loss = loss_obj
        self._metrics = requested
        self._compiled = True
        if self._handle is not None:
            self._apply_compile()

    def _apply_compile(self):
        handle = self._handle
        if self._loss is not None:
            handle.call(_lib.nn_model_set_loss, self._loss.code, 1 if self._loss.from_logits else 0)
        handle.call(_lib.nn_model_set_optimizer, ctypes.byref(self._optimizer._options()))
        for name in self._metrics:
            handle.call(_lib.nn_model_add_metric, _METRICS[name])

    @property
    def optimizer(self):
        return self._optimizer

    @property
    def loss(self):
        return self._loss

    @property
    def metrics_names(self):
        """['loss'] followed by the compiled metrics, as evaluate returns them."""
        return ["loss"] + list(self._metrics)

    def _c_metric_names(self):
        count = self._handle.get_size(_lib.nn_model_metric_count)
        names = []
        for i in range(count):
            out = ctypes.c_char_p()
            self._handle.call(_lib.nn_model_metric_name, i, ctypes.byref(out))
            names.append(out.value.decode())
        return names

    # -- training ----------------------------------------------------------

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, seed=None):
        """Train the model; returns a History.

        The whole fit is one call into libnn; the per-epoch logs come back
        through a C callback, which drives `callbacks` and the progress lines.

        batch_size: default 32. epochs: passes over the data.
        verbose: 0 silent, 1 or 2 one line per epoch.
        callbacks: nn.callbacks.Callback objects, objects with
            on_epoch_end(epoch, logs), or callables f(epoch, logs).
        validation_split: fraction in [0, 1) of the data, taken from the END
            of x and y (before shuffling), held out for validation (Keras).
        validation_data: (x_val, y_val); overrides validation_split.
        shuffle: reshuffle the training samples before each epoch.
        seed: seed of this call's shuffling; None continues the model's
            generator (so repeated fits differ but the script is reproducible).
        """
        self._require_open()
        if x is None or y is None:
            raise ValueError("fit needs x and y")
        x = _as_matrix(x, "x")
        y = _as_targets(y, "y")
        _check_rows(x, y, "fit")
        epochs = _size(epochs, "epochs")
        batch_size = 32 if batch_size is None else _size(batch_size, "batch_size")
        if seed is None:
            seed = 0
        elif isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not (
                0 < seed < 2 ** 64):
            raise ValueError(f"seed must be None or an integer in [1, 2**64), got {seed!r}")
        if verbose not in (0, 1, 2, True, False):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")

        val_x = val_y = None
        if validation_data is not None:
            try:
                items = tuple(validation_data)
            except TypeError:
                raise ValueError("validation_data must be a tuple (x_val, y_val)") from None
            if len(items) != 2:
                raise ValueError("validation_data must be a tuple (x_val, y_val), got "
                                 f"{len(items)} items")
            val_x = _as_matrix(items[0], "validation x")
            val_y = _as_targets(items[1], "validation y")
            _check_rows(val_x, val_y, "validation_data")
        elif validation_split:
            if isinstance(validation_split, bool) or not isinstance(
                    validation_split, numbers.Real) or not 0.0 <= validation_split < 1.0:
                raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
            split_at = int(np.floor(x.shape[0] * (1.0 - float(validation_split))))
            if split_at == 0 or split_at == x.shape[0]:
                raise ValueError(f"validation_split={validation_split} of {x.shape[0]} samples "
                                 "leaves no training or no validation samples")
            # slices of C-contiguous rows stay C-contiguous: no copy
            x, val_x = x[:split_at], x[split_at:]
            y, val_y = y[:split_at], y[split_at:]
        if val_x is not None:
            # nn_fit_options has no column counts for the validation arrays:
            # libnn reads them with x's and y's widths, so they must match
            # here (a narrower array would be read past its end).
            if val_x.shape[1] != x.shape[1]:
                raise ValueError(f"validation x has {val_x.shape[1]} columns, but x has "
                                 f"{x.shape[1]}")
            if val_y.shape[1] != y.shape[1]:
                raise ValueError(f"validation y has {val_y.shape[1]} columns, but y has "
                                 f"{y.shape[1]}")
            if val_x.shape[0] == 0:
                raise ValueError("validation data has 0 rows")

        self._ensure_built_from(x)
        if not self._compiled:
            raise InvalidStateError("the model must be compiled before fit: call "
                                    "model.compile(optimizer=..., loss=...)",
                                    _lib.NN_ERROR_INVALID_STATE)

        history = callbacks_module.History()
        hooks = [history] + list(callbacks or [])
        params = {"verbose": int(verbose), "epochs": epochs,
                  "steps": -(-x.shape[0] // batch_size) if batch_size else 0,
                  "batch_size": batch_size, "samples": x.shape[0]}
        for hook in hooks:
            if not callable(hook) and not hasattr(hook, "on_epoch_end"):
                raise ValueError(f"a callback must be callable or have on_epoch_end, got "
                                 f"{hook!r}")
        for hook in hooks:
            if hasattr(hook, "set_model"):
                hook.set_model(self)
            if hasattr(hook, "set_params"):
                hook.set_params(params)
        history.model = self
        history.params = params
        self.history = history
        self.stop_training = False
        wanted = set(self._metrics)
        state = {"error": None, "tick": None}

        def call_hooks(method, *args):
            for hook in hooks:
                fn = getattr(hook, method, None)
                if fn is not None:
                    fn(*args)

        def on_epoch_end(user_data, epoch, n_logs, names, values):
            try:
                logs = {}
                for i in range(n_logs):
                    key = names[i].decode()
                    base = key[4:] if key.startswith("val_") else key
                    if base == "loss" or base in wanted:
                        logs[key] = float(values[i])
                now = time.perf_counter()
                elapsed, state["tick"] = now - state["tick"], now
                if verbose:
                    parts = [f"Epoch {epoch + 1}/{epochs}", f"{elapsed:.3f}s"]
                    parts += [f"{k}: {v:.4f}" for k, v in logs.items()]
                    print(" - ".join(parts), flush=True)
                for hook in hooks:
                    if hasattr(hook, "on_epoch_end"):
                        hook.on_epoch_end(epoch, logs)
                    else:
                        hook(epoch, logs)
                if self.stop_training:
                    return 1
                if epoch + 1 < epochs:
                    call_hooks("on_epoch_begin", epoch + 1, {})
                return 0
            except BaseException as exc:  # re-raised after the C call returns
                state["error"] = exc
                return 1

        c_callback = _lib.nn_epoch_callback(on_epoch_end)
        options = _lib.nn_fit_options()
        _lib.nn_fit_options_init(ctypes.byref(options))
        options.epochs = epochs
        options.batch_size = batch_size
        options.shuffle = 1 if shuffle else 0
        options.seed = int(seed)
        if val_x is not None:
            options.validation_x = _ptr(val_x)
            options.validation_y = _ptr(val_y)
            options.validation_rows = val_x.shape[0]
        options.on_epoch_end = c_callback

        call_hooks("on_train_begin", {})
        if self.stop_training:
            epochs_to_run = 0
            options.epochs = 0
        else:
            epochs_to_run = epochs
            if epochs_to_run:
                call_hooks("on_epoch_begin", 0, {})
        state["tick"] = time.perf_counter()
        # c_callback, options and the arrays stay referenced by this frame
        # for the whole call.
        try:
            self._handle.call_busy("fit", _lib.nn_model_fit, _ptr(x), _ptr(y), x.shape[0],
                                   x.shape[1], y.shape[1], ctypes.byref(options))
        except Error as c_error:
            if state["error"] is not None:  # the callback's exception comes first
                raise state["error"] from c_error
            raise
        if state["error"] is not None:
            raise state["error"]
        last = {k: v[-1] for k, v in history.history.items()}
        call_hooks("on_train_end", last)
        return history

    # -- evaluation and prediction ----------------------------------------

    def evaluate(self, x=None, y=None, batch_size=None, verbose=0, return_dict=False):
        """Loss (and metrics) on x, y, in inference mode.

        Returns the loss as a float when the model has no metrics, else
        [loss, metric, ...] in the order of metrics_names; a dict
        {name: value} with return_dict=True. batch_size is accepted for
        Keras compatibility: libnn evaluates the whole array in one call and
        the result does not depend on it.
        """
        self._require_open()
        if x is None or y is None:
            raise ValueError("evaluate needs x and y")
        x = _as_matrix(x, "x")
        y = _as_targets(y, "y")
        _check_rows(x, y, "evaluate")
        if batch_size is not None:
            positive_int(batch_size, "batch_size")
        self._ensure_built_from(x)
        if not self._compiled:
            raise InvalidStateError("the model must be compiled before evaluate: call "
                                    "model.compile(optimizer=..., loss=...)",
                                    _lib.NN_ERROR_INVALID_STATE)
        names = self._c_metric_names()
        values = (ctypes.c_double * len(names))()
        self._handle.call(_lib.nn_model_evaluate, _ptr(x), _ptr(y), x.shape[0], x.shape[1],
                          y.shape[1], values, len(names))
        by_name = dict(zip(names, (float(v) for v in values)))
        result = {name: by_name[name] for name in self.metrics_names}
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in result.items()), flush=True)
        if return_dict:
            return result
        if len(result) == 1:
            return result["loss"]
        return list(result.values())

    def predict(self, x, batch_size=None, verbose=0):
        """The model's outputs for x (samples, features) as a float32 array
        (samples, outputs), filled by libnn. batch_size is accepted for Keras
        compatibility; the whole array is computed in one call."""
        self._require_open()
        x = _as_matrix(x, "x")
        if batch_size is not None:
            positive_int(batch_size, "batch_size")
        self._ensure_built_from(x)
        outputs = self._handle.get_size(_lib.nn_model_output_dim)
        out = np.empty((x.shape[0], outputs), dtype=np.float32)
        self._handle.call(_lib.nn_model_predict, _ptr(x), x.shape[0], x.shape[1], _ptr(out),
                          out.size)
        return out

    def __call__(self, x):
        return self.predict(x)

    # -- weights and inspection -------------------------------------------

    def _weight_shapes(self):
        count = self._handle.get_size(_lib.nn_model_weight_count)
        shapes = []
        for i in range(count):
            ndim = ctypes.c_size_t()
            dims = (ctypes.c_size_t * _lib.NN_MAX_DIMS)()
            self._handle.call(_lib.nn_model_weight_shape, i, ctypes.byref(ndim), dims,
                              _lib.NN_MAX_DIMS)
            shapes.append(tuple(dims[d] for d in range(ndim.value)))
        return shapes

    def get_weights(self):
        """Every weight array in Keras order: for each Dense layer its kernel
        (inputs, units) and its bias (units,). Fresh float32 copies."""
        self._ensure_built_for("weights")
        result = []
        for i, shape in enumerate(self._weight_shapes()):
            arr = np.empty(shape, dtype=np.float32)
            self._handle.call(_lib.nn_model_get_weight, i, _ptr(arr), arr.size)
            result.append(arr)
        return result

    def set_weights(self, weights):
        """Replace every weight array (same order and shapes as get_weights).

        All arrays are checked before any is written; if libnn refuses one
        (e.g. NaN), the arrays already written are restored."""
        self._ensure_built_for("weights")
        shapes = self._weight_shapes()
        weights = list(weights)
        if len(weights) != len(shapes):
            raise ValueError(f"set_weights expected {len(shapes)} arrays, got {len(weights)}")
        arrays = []
        for i, (w, shape) in enumerate(zip(weights, shapes)):
            arr = np.ascontiguousarray(w, dtype=np.float32)
            if arr.shape != shape:
                raise ValueError(f"weight {i}: expected shape {shape}, got {arr.shape}")
            arrays.append(arr)
        backup = self.get_weights()
        written = 0
        try:
            for i, arr in enumerate(arrays):
                self._handle.call(_lib.nn_model_set_weight, i, _ptr(arr), arr.size)
                written = i + 1
        except BaseException:
            for i in range(written):
                self._handle.call(_lib.nn_model_set_weight, i, _ptr(backup[i]), backup[i].size)
            raise

    def count_params(self):
        """Number of trainable scalars."""
        self._ensure_built_for("parameters")
        return self._handle.get_size(_lib.nn_model_parameter_count)

    def summary(self, print_fn=None):
        """Print libnn's Keras-style summary (through print_fn, default print)."""
        self._ensure_built_for("summary")
        length = self._handle.get_size(_lib.nn_model_summary, None, 0)
        buffer = ctypes.create_string_buffer(length + 1)
        self._handle.call(_lib.nn_model_summary, buffer, len(buffer), None)
        text = buffer.value.decode("utf-8", "replace")
        (print_fn or print)(text)

    @property
    def layers(self):
        return list(self._layers)

    @property
    def input_shape(self):
        if self._handle is not None:
            return (None, self._handle.get_size(_lib.nn_model_input_dim))
        if self._input_dim is not None:
            return (None, self._input_dim)
        raise AttributeError("the model is not built yet and has no input shape")

    @property
    def output_shape(self):
        if self._handle is not None:
            return (None, self._handle.get_size(_lib.nn_model_output_dim))
        if self._layers:
            return (None, self._layers[-1].units)
        raise AttributeError("the model has no layers and no output shape")

    # -- life cycle --------------------------------------------------------

    @property
    def closed(self):
        return self._closed

    def close(self):
        """Free the libnn model now (it is also freed when garbage-collected).
        Any later use raises nn.InvalidStateError. Safe to call twice."""
        if self._handle is not None:
            self._handle.close()
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def __repr__(self):
        state = "closed" if self._closed else ("built" if self.built else "not built")
        return f"<nn.Sequential {self.name!r} layers={len(self._layers)} {state}>"

