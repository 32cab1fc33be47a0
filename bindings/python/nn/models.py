"""Sequential: the Keras-like model, on top of one libnn model handle."""

import ctypes
import json
import numbers

import numpy as np

from . import _arrays, _config, _fast, _files, _fit, _handle, _lib, debugging, distributed, losses as losses_module
from . import metrics as metrics_module
from . import _stream, explain, onnx_export
from . import layers as layers_module
from . import optimizers as optimizers_module
from ._arrays import _as_matrix, _as_targets, _check_rows, _ptr, _size  # noqa: F401 (numpy <-> C)
from ._handle import Error, InvalidStateError, ModelHandle, _check
from .layers import KIND_NAMES, Dense, Input, Layer, positive_int

_FLOAT32 = np.dtype(np.float32)
_EMPTY = np.empty
_DOUBLE_ARRAYS = {}


def _doubles(count):
    """A zeroed ctypes array of `count` doubles (the array type made once per
    count: making one costs microseconds)."""
    kind = _DOUBLE_ARRAYS.get(count)
    if kind is None:
        kind = _DOUBLE_ARRAYS[count] = ctypes.c_double * count
    return kind()

_C_FLOAT = ctypes.c_float
_C_SIZE = ctypes.c_size_t
_byref = ctypes.byref


# Sequential.predict's call into libnn by the compiled helper (nn/_fast.py),
# or None: through ctypes.
_fast_predict = _fast.predict

_SIZE_P = ctypes.POINTER(ctypes.c_size_t)
DEFAULT_SEED = 0


# --------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------

class Sequential:
    """A linear stack of layers (Dense, Dropout, BatchNormalization,
    Activation), trained by libnn.

    ``Sequential(layers=None, seed=None, name=None)``

    seed seeds the model's random generator (weight initialization, batch
    shuffling and dropout masks). The default, None, means seed 0, so that
    two runs of the same script give the same model bit for bit; pass
    another integer for another initialization.

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
        self._output_dim = None          # the last layer's width, once known
        self._call_sizes = None          # (input width, its c_size_t, output width's, 1's)
        self._handle = None
        self._loss = None
        self._optimizer = None
        self._metrics = []          # nn.metrics.Metric objects, in compile order
        self._compiled = False
        self._closed = False
        # the key of the ReduceLROnPlateau that a fit installed as the
        # model's schedule, while it is installed (None otherwise)
        self._plateau_key = None
        # anomaly detection as the user set it; given to libnn at build
        self._anomaly_detection = False
        self.stop_training = False
        # Keras 3's flags: a callback sets one to end evaluate's or
        # predict's batch loop (evaluate/predict with callbacks=)
        self.stop_evaluating = False
        self.stop_predicting = False
        self.history = None
        for layer in layers or []:
            self.add(layer)

    # -- building ----------------------------------------------------------

    def add(self, layer):
        """Append a layer (Dense, Dropout, BatchNormalization, Activation) or
        declare the input width (Input)."""
        self._require_open()
        if isinstance(layer, Input):
            if self._layers or self._input_dim is not None:
                raise ValueError("an Input must come first, before any other layer")
            self._input_dim = layer.input_dim
            self._build_if_ready()
            return
        if not isinstance(layer, Layer):
            raise ValueError("Sequential takes nn.layers layers (Dense, Dropout, "
                             f"BatchNormalization, Activation; an Input first), got {layer!r}")
        if layer._model is not None:
            raise ValueError(f"layer {layer.name!r} already belongs to a model")
        if not self._layers:
            if layer.input_dim is not None:
                if self._input_dim is not None and self._input_dim != layer.input_dim:
                    raise ValueError(f"layer input_dim={layer.input_dim} disagrees with the "
                                     f"model's input width {self._input_dim}")
                self._input_dim = layer.input_dim
        else:
            previous = self._layers[-1].output_dim
            if layer.input_dim is not None and previous is not None and \
                    layer.input_dim != previous:
                raise ValueError(f"layer input_dim={layer.input_dim} does not match the "
                                 f"previous layer's {previous} outputs")
        base = layer._default_name or KIND_NAMES[layer._kind_code]
        name = layer.name if layer.name is not None else self._unique_name(base)
        if any(existing.name == name for existing in self._layers):
            raise ValueError(f"a layer named {name!r} is already in the model; layer names "
                             "must be unique")
        if self._handle is not None:
            # may fail (e.g. after fit): nothing is changed on the Python side then
            layer._add_to(self._handle)
        layer.name = name
        layer._model = self
        layer._index = len(self._layers)
        self._layers.append(layer)
        self._propagate_widths()
        self._build_if_ready()

    def _unique_name(self, base):
        taken = {layer.name for layer in self._layers}
        candidate, i = base, 0
        while candidate in taken:
            i += 1
            candidate = f"{base}_{i}"
        return candidate

    def get_layer(self, name=None, index=None):
        """The layer called `name`, or at position `index` in model.layers
        (Keras's get_layer). An Input is not a layer of model.layers, as in
        Keras 3. ValueError for a name or index the model does not have, or
        when neither or both are given (Keras 3)."""
        if index is not None and name is not None:
            raise ValueError("get_layer: give a name or an index, not both")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, numbers.Integral):
                raise ValueError(f"get_layer: index must be an integer, got {index!r}")
            if not -len(self._layers) <= index < len(self._layers):
                raise ValueError(f"get_layer: asked for the layer at index {index}, but the model "
                                 f"has {len(self._layers)} layers")
            return self._layers[index]
        if name is not None:
            for layer in self._layers:
                if layer.name == name:
                    return layer
            names = ", ".join(repr(layer.name) for layer in self._layers) or "none"
            raise ValueError(f"get_layer: no layer named {name!r}; the model's layers are {names}")
        raise ValueError("get_layer needs a layer name or an index")

    def pop(self, rebuild=True):
        """Remove the last layer and return it (Keras's Sequential.pop).

        The other layers keep their weights (and batch-normalization
        statistics). libnn cannot remove a layer from a model, so a built
        model gets a new libnn model of the remaining layers, with their
        weights copied; rebuild (Keras 3's argument) is accepted, and the
        rebuild is always done at once.

        Compile state, as in Keras 3: the model stays compiled with the
        same loss, optimizer object (class and hyper-parameters) and
        metrics; the optimizer's state starts afresh (moments, and
        optimizer.iterations at 0: Keras's optimizer would keep variables
        built for weights that no longer exist). The random generator
        starts again from the model's seed. The popped layer leaves with
        its settings, not its weights (libnn keeps weights in the model),
        and may be added to another model.

        TypeError (as Keras) when the model has no layer; InvalidStateError
        during a fit of this model (from a callback).
        """
        self._require_open()
        if not isinstance(rebuild, bool):
            raise TypeError(f"rebuild must be True or False, got {rebuild!r}")
        if not self._layers:
            raise TypeError("pop: there are no layers in the model")
        old = self._handle
        if old is None:
            layer = self._layers.pop()
            self._propagate_widths()
        else:
            with old._lock:
                if old._busy is not None:
                    raise InvalidStateError(f"cannot pop a layer while {old._busy} is running on "
                                            "this model (for example from a fit callback)",
                                            _lib.NN_ERROR_INVALID_STATE)
                kept = self._layers[:-1]
                weights = self.get_weights()[:sum(layer._weight_count for layer in kept)]
                handle = ModelHandle(self._input_dim, self.seed)
                try:
                    for layer in kept:
                        layer._add_to(handle)
                    for i, array in enumerate(weights):
                        handle.call(_lib.nn_model_set_weight, i, _ptr(array), array.size)
                    if self._anomaly_detection:
                        handle.call(_lib.nn_model_set_anomaly_detection, 1)
                except BaseException:
                    handle.close()
                    raise
                layer = self._layers.pop()
                self._handle = handle
                self._propagate_widths()
                if self._compiled:
                    self._apply_compile()
                old.close()
        layer._model = None
        layer._index = None
        return layer

    def _propagate_widths(self):
        """Set each layer's input width from the model's input width."""
        width = self._input_dim
        for layer in self._layers:
            layer.input_dim = width
            width = layer.output_dim
        self._output_dim = width
        self._call_sizes = None          # predict's ready-made size arguments

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
                layer._add_to(handle)
            if self._anomaly_detection:
                handle.call(_lib.nn_model_set_anomaly_detection, 1)
        except BaseException:
            handle.close()
            raise
        self._handle = handle
        self._input_dim = input_dim
        self._propagate_widths()
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

    def _require_compiled(self, what):
        if not self._compiled:
            raise InvalidStateError(f"the model must be compiled before {what}: call "
                                    "model.compile(optimizer=..., loss=...)",
                                    _lib.NN_ERROR_INVALID_STATE)

    # -- compile -----------------------------------------------------------

    def compile(self, optimizer="adam", loss=None, metrics=None):
        """Configure training.

        optimizer: 'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'rprop', or
            an nn.optimizers object (PyTorch's update rules and defaults);
            its learning_rate may be an nn.schedules schedule.
        loss: 'mse' / 'mean_squared_error', 'mae' / 'mean_absolute_error',
            'huber', 'binary_crossentropy', 'categorical_crossentropy',
            'sparse_categorical_crossentropy', or an nn.losses object (e.g.
            Huber(delta=2.0), CategoricalCrossentropy(from_logits=True)).
        metrics: None or a list of names or nn.metrics objects (see
            nn.metrics): 'accuracy' ('acc'), 'binary_accuracy',
            'categorical_accuracy', 'sparse_categorical_accuracy',
            'precision', 'recall', 'f1_score', 'f1_macro', 'top_k_accuracy',
            'mae' ('mean_absolute_error').

        Compiling again replaces all three and resets the optimizer's state.
        """
        self._require_open()
        opt = optimizers_module.get(optimizer)
        loss_obj = losses_module.get(loss) if loss is not None else None
        if metrics is None:
            requested = []
        elif isinstance(metrics, (str, metrics_module.Metric)):
            requested = [metrics]
        else:
            requested = list(metrics)
        chosen = []
        for m in requested:
            metric = metrics_module.get(m)
            if metric in chosen:
                continue
            clash = next((c for c in chosen if c.name == metric.name), None)
            if clash is not None:
                raise ValueError(f"metrics {clash!r} and {metric!r} would both be logged as "
                                 f"{metric.name!r}; keep one of them")
            chosen.append(metric)
        # libnn checks every setting now, before anything changes (also for
        # objects modified since they were constructed, and for a model that
        # is not built yet); its message names the value out of range.
        opt._check()
        if opt.schedule is not None:
            opt.schedule._check()
        # (a per-step schedule's rate at step 0 was checked by opt._check)
        if loss_obj is not None:
            _handle.check_on_scratch_model(_lib.nn_model_set_loss_ex,
                                           ctypes.byref(loss_obj._options()))
        for metric in chosen:
            metric._check()
        self._optimizer = opt
        self._bind_optimizer()
        self._loss = loss_obj
        self._metrics = chosen
        self._compiled = True
        if self._handle is not None:
            self._apply_compile()

    def _bind_optimizer(self):
        """Make the optimizer object know this model, so that
        ``optimizer.learning_rate = x`` and ``optimizer.iterations`` reach
        it (Keras's optimizer is bound to the model's variables)."""
        self._optimizer._bind(self)

    def _apply_compile(self):
        handle = self._handle
        if self._loss is not None:
            handle.call(_lib.nn_model_set_loss_ex, ctypes.byref(self._loss._options()))
        handle.call(_lib.nn_model_set_optimizer, ctypes.byref(self._optimizer._options()))
        self._plateau_key = None
        self._apply_schedule()
        handle._metric_names = None
        handle.call(_lib.nn_model_clear_metrics)
        for metric in self._metrics:
            handle.call(_lib.nn_model_add_metric_ex, metric.code, metric.parameter)

    def _apply_schedule(self):
        """Give libnn the optimizer's schedule (or none)."""
        schedule = self._optimizer.schedule
        if schedule is None:
            self._handle.call(_lib.nn_model_set_lr_schedule, None)
        else:
            self._handle.call(_lib.nn_model_set_lr_schedule, ctypes.byref(schedule._options()))

    def _set_scheduled_rate(self, schedule):
        """Give libnn the rate of the optimizer's next step under a per-step
        schedule (nn.optimizers.schedules): schedule(optimizer.iterations)."""
        rate = optimizers_module.scheduled_rate(schedule, self._optimizer_iterations())
        self._handle.call(_lib.nn_model_set_learning_rate, rate)

    def _optimizer_iterations(self):
        """nn_model_optimizer_iterations: the updates made so far."""
        return self._handle.get_size(_lib.nn_model_optimizer_iterations)

    def _optimizer_rate_assigned(self, optimizer, value):
        """``optimizer.learning_rate = value`` on this model's optimizer
        (called before the value is stored; raising leaves it unchanged).
        As in Keras, a schedule may replace the rate, and a number may not
        replace a schedule (TypeError). The per-epoch nn.schedules
        schedules are set in libnn by compile: changing to or from one
        needs compile."""
        current = optimizer.learning_rate
        epoch_schedule = optimizers_module._epoch_schedules.LearningRateSchedule
        if isinstance(current, epoch_schedule) or isinstance(value, epoch_schedule):
            raise TypeError("an nn.schedules (per-epoch) schedule is given to libnn by compile: to "
                            "change the learning rate to or from one, compile again with the "
                            "new optimizer")
        if isinstance(value, optimizers_module.LearningRateSchedule):
            if self._handle is not None:
                self._set_scheduled_rate(value)
            return
        if isinstance(current, optimizers_module.LearningRateSchedule):
            raise TypeError("this optimizer's learning_rate is a schedule, so it cannot be set to a "
                            "number (as in Keras): assign another schedule, or compile with a "
                            "number as learning_rate")
        if self._handle is not None:
            self._handle.call(_lib.nn_model_set_learning_rate, float(value))

    @property
    def optimizer(self):
        return self._optimizer

    @property
    def loss(self):
        return self._loss

    @property
    def metrics_names(self):
        """['loss'] followed by the compiled metrics' log names, as evaluate
        returns them."""
        if self._handle is not None and self._compiled:
            return self._c_metric_names()
        return ["loss"] + [m.name for m in self._metrics]

    @property
    def learning_rate(self):
        """The optimizer's current learning rate in libnn: after the epochs
        trained so far under a schedule, or a ReduceLROnPlateau's reductions."""
        self._ensure_built_for("learning rate")
        out = ctypes.c_double()
        self._handle.call(_lib.nn_model_learning_rate, ctypes.byref(out))
        return out.value

    def _c_metric_names(self):
        """libnn's log names of the compiled loss and metrics, asked once per
        handle and compile (1 + metrics calls, about 10 µs: most of a small
        evaluate's cost otherwise); _apply_compile forgets them."""
        handle = self._handle
        names = handle._metric_names
        if names is None:
            count = handle.get_size(_lib.nn_model_metric_count)
            names = []
            for i in range(count):
                out = ctypes.c_char_p()
                handle.call(_lib.nn_model_metric_name, i, ctypes.byref(out))
                names.append(out.value.decode())
            handle._metric_names = names
        return list(names)

    # -- training ----------------------------------------------------------

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, seed=None, steps_per_epoch=None, validation_steps=None):
        """Train the model; returns a History.

        The whole fit is one call into libnn; the per-epoch logs come back
        through a C callback, which drives `callbacks` and the progress lines.

        batch_size: default 32. epochs: passes over the data.
        verbose: 0 silent; 1 Keras's progress bar on a terminal (redrawn at
            most ten times a second, then a line per epoch with its time
            and logs), one line per epoch otherwise; 2 one line per epoch.
            Only the bar, training batch hooks and a per-step learning-rate
            schedule make libnn call back per batch. Ctrl-C stops the fit
            within one batch (KeyboardInterrupt; the model keeps the last
            batch's weights).
        callbacks: nn.callbacks.Callback objects, objects with
            on_epoch_end(epoch, logs), or callables f(epoch, logs); every
            Keras hook is called in Keras's order, the on_test_* ones for
            the validation data too (see nn.callbacks).
            nn.callbacks.EarlyStopping and ReduceLROnPlateau (at most one
            each) are run by libnn inside the training loop;
            nn.callbacks.LayerStatistics (at most one) has libnn collect
            per-layer statistics for this fit into history.layer_stats.
        validation_split: fraction in [0, 1) of the data, taken from the END
            of x and y (before shuffling), held out for validation (Keras);
            libnn splits the arrays, nothing is copied.
        validation_data: (x_val, y_val); when given, validation_split is
            ignored (as in Keras).
        shuffle: reshuffle the training samples before each epoch.
        class_weight: dict {class index: weight} (Keras): each training
            sample's loss is multiplied by the weight of its class (its
            index, the argmax of a one-hot row, or the 0/1 target of a
            one-output model); classes left out weigh 1.0.
        sample_weight: one weight >= 0 per sample of x (Keras): each
            sample's loss is multiplied by it; the batch loss stays the sum
            divided by the batch size. Multiplied with class_weight.
        seed: seed of this call's shuffling; None continues the model's
            generator (so repeated fits differ but the script is reproducible).

        Data larger than memory: x may also be a generator or iterable of
        (x, y) / (x, y, sample_weight) batches, a Sequence-like object
        (Keras's PyDataset: len() batches, [i] the i-th, optional
        on_epoch_end()), or numpy memmaps (x, y); steps_per_epoch and
        validation_steps then bound the batches per epoch, and
        validation_data may be such data too. Python then hands libnn one
        batch at a time while a background thread prepares the next (see
        nn._stream for the rules).
        """
        self._require_open()
        if _stream.is_stream(x) or isinstance(y, np.memmap):
            if distributed.active():
                raise ValueError("fit on generators, Sequences and memmaps is not data-parallel "
                                 "(nn.distributed): give every process the same arrays")
            if self._handle is not None:
                distributed.apply(self._handle)   # one process again after dist.shutdown()
            return _stream.fit(self, x, y, batch_size, epochs, verbose, callbacks, validation_data, shuffle,
                               class_weight, sample_weight, seed, steps_per_epoch, validation_steps,
                               validation_split)
        if steps_per_epoch is not None or validation_steps is not None:
            raise ValueError("steps_per_epoch and validation_steps are for generators, Sequences and "
                             "memmaps; with arrays, an epoch is one pass over them")
        if self._handle is not None and self._handle._busy is not None:
            raise InvalidStateError(f"cannot run fit while {self._handle._busy} is running on "
                                    "this model (for example from a fit callback)",
                                    _lib.NN_ERROR_INVALID_STATE)
        if not distributed.prints():
            verbose = 0                  # nn.distributed: rank 0 prints
        names = self._check_columns(x, "fit")
        if isinstance(validation_data, (tuple, list)) and validation_data:
            self._same_columns(_arrays._feature_names(validation_data[0]),
                               names or getattr(self, "feature_names_in_", None), "fit: validation_data",
                               "those of x")
        # The phases are in _fit.py, in this order.
        data = _fit.prepare_data(x, y, batch_size, epochs, verbose, seed, shuffle,
                                 validation_split, validation_data, sample_weight)
        self._ensure_built_from(data.x)
        self._require_compiled("fit")
        if names is not None:
            self.feature_names_in_ = names
        # nn.distributed: this model's fits data-parallel, or one process again
        parallel = distributed.apply(self._handle)
        data.classes = _fit.class_weights(self, class_weight)
        cbs = _fit.sort_callbacks(callbacks, self._optimizer.schedule or self._optimizer.step_schedule)
        _fit.start_callbacks(self, cbs, data)
        bridge = _fit.EpochBridge(self, cbs, data)
        # Without progress output or callbacks libnn runs every epoch without
        # calling back, and the History is read from libnn at the end.
        c_callback = (_lib.nn_epoch_callback(bridge.on_epoch_end)
                      if _fit.needs_epoch_callback(cbs, data) else None)
        c_batch_callback = (_lib.nn_batch_callback(bridge.on_batch_end)
                            if bridge.wants_batches() else None)
        options, stopping = _fit.fit_options(data, cbs.stopper, c_callback, c_batch_callback)
        _fit.install_lr_schedule(self, cbs.plateau)
        # c_callback, c_batch_callback, options, stopping and data's arrays
        # stay referenced by this frame for the whole call.
        try:
            _fit.train(self, data, cbs, bridge, options)
        except _handle.CommunicationError as exc:
            if parallel is not None and parallel.error is not None:
                raise exc from parallel.error      # the all-reduce's own exception
            raise
        return _fit.finish(cbs)

    def _layer_statistics(self, entry):
        """Entry `entry` of libnn's per-layer statistics as the dict that
        History.layer_stats holds (see nn.callbacks.LayerStatistics)."""
        out = _lib.nn_layer_statistics()
        layers = []
        epoch = None
        for i, layer in enumerate(self._layers):
            self._handle.call(_lib.nn_model_layer_statistics, entry, i, ctypes.byref(out))
            epoch = int(out.epoch)
            none = debugging._none_if_nan
            layers.append({
                "layer": i,
                "name": layer.name,
                "activation_mean": none(out.activation_mean),
                "activation_std": none(out.activation_std),
                "dead_fraction": none(out.dead_fraction),
                "saturated_fraction": none(out.saturated_fraction),
                "gradient_norm": none(out.gradient_norm),
                "weight_norm": none(out.weight_norm),
                "update_ratio": none(out.update_ratio),
                "batches": int(out.batches),
            })
        return {"epoch": epoch, "layers": layers}

    # -- seeing inside -----------------------------------------------------

    @property
    def anomaly_detection(self):
        """Whether fit checks for NaN and infinity at every step (default
        False), as PyTorch's torch.autograd.set_detect_anomaly.

        While True, fit checks every layer's output (forward), every
        gradient (backward) and every updated parameter (update), and stops
        at the first NaN or infinity with nn.InvalidArgumentError (status
        NN_ERROR_NON_FINITE) and libnn's message naming the layer, the
        stage, the epoch, the batch and the element, e.g. "non-finite value
        (inf) in forward of layer 2 (dense_2, relu) at epoch 37, batch 12
        (counting from 1), element [5, 17] of its output". Without it fit
        notices only a non-finite loss. Off, it costs nothing; on, training
        is otherwise identical (same weights). May be set before the model
        is built (it then applies from the build). See also
        nn.detect_anomaly(model) for a with-block."""
        return self._anomaly_detection

    @anomaly_detection.setter
    def anomaly_detection(self, enabled):
        self._require_open()
        if not isinstance(enabled, (bool, np.bool_)):
            raise ValueError(f"anomaly_detection must be True or False, got {enabled!r}")
        enabled = bool(enabled)
        if self._handle is not None:
            self._handle.call(_lib.nn_model_set_anomaly_detection, 1 if enabled else 0)
        self._anomaly_detection = enabled

    def gradient_check(self, x, y, precision="double", epsilon=None, max_checks_per_array=64,
                       seed=0):
        """Check backpropagation against finite differences, layer by layer
        (PyTorch's torch.autograd.gradcheck, for the whole model on x, y).

        The derivative of the training loss (the loss plus the kernel
        regularizers' penalties, in training mode: Dropout masks held fixed,
        batch normalization on batch statistics) with respect to each
        checked parameter is compared with the central difference
        (L(w + h) - L(w - h)) / 2h. The model is not changed.

        Args:
            x, y: a batch of inputs and targets, as for fit (a few rows are
                enough; every row enters each of the many loss evaluations).
            precision: 'double' (default): the layers rebuilt in double
                precision over libnn's reference kernels, a sharp test (a
                correct layer gives about 1e-9); 'float': the float32
                kernels that training uses (up to about 1e-3 is normal).
            epsilon: the step h; None: 1e-6 in double, 1e-2 in float.
            max_checks_per_array: at most this many elements of each weight
                array are checked (random ones from `seed`, plus the one of
                largest gradient); 0 checks every element.
            seed: chooses the elements and the Dropout masks.

        Returns a GradientCheck: a list of nn.debugging.LayerGradientCheck,
        one per layer with parameters, in layer order (layer, name,
        relative_error, weight_index, weight_name, element, analytic,
        numeric, checked); print it for a table. Needs a compiled model
        with a loss; data errors as evaluate.
        """
        if precision not in ("double", "float"):
            raise ValueError(f"precision must be 'double' or 'float', got {precision!r}")
        if epsilon is not None:
            if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not (
                    np.isfinite(epsilon) and epsilon > 0):
                raise ValueError(f"epsilon must be None or a finite number > 0, got {epsilon!r}")
        checks = _size(max_checks_per_array, "max_checks_per_array")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not (
                0 <= seed < 2 ** 64):
            raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
        x, y = self._xy(x, y, "gradient_check")
        options = _lib.nn_gradient_check_options()
        _lib.nn_gradient_check_options_init_sized(ctypes.byref(options), ctypes.sizeof(options))
        options.use_float = 1 if precision == "float" else 0
        options.epsilon = 0.0 if epsilon is None else float(epsilon)
        options.max_checks_per_array = checks
        options.seed = int(seed)
        capacity = len(self._layers)
        results = (_lib.nn_gradient_check_result * max(capacity, 1))()
        count = ctypes.c_size_t()
        with self._handle._lock:
            self._handle.call(_lib.nn_model_gradient_check, _ptr(x), _ptr(y), x.shape[0],
                              x.shape[1], y.shape[1], ctypes.byref(options), results, capacity,
                              ctypes.byref(count))
            weight_names = {}
            layer_results = []
            for r in results[:count.value]:
                index = int(r.weight_index)
                if index not in weight_names:
                    name = ctypes.c_char_p()
                    self._handle.call(_lib.nn_model_weight_info, index, ctypes.byref(name), None)
                    weight_names[index] = name.value.decode()
                layer_results.append(debugging.LayerGradientCheck(
                    layer=int(r.layer), name=self._layers[r.layer].name,
                    relative_error=float(r.relative_error), weight_index=index,
                    weight_name=weight_names[index], element=int(r.element),
                    analytic=float(r.analytic), numeric=float(r.numeric),
                    checked=int(r.checked), below_resolution=int(r.below_resolution)))
        return debugging.GradientCheck(layer_results, precision=precision,
                                       epsilon=None if epsilon is None else float(epsilon))

    def diagnose(self, x, y, steps=20, batch_size=32):
        """Look for the usual reasons a network does not train.

        libnn trains a copy of the model (this model's weights, optimizer
        state and random generator are not changed) for `steps`
        mini-batches of `batch_size` rows drawn from x, y, watching the
        gradients, the activations and the loss, and checks the data
        against the loss. Findings, by kind: 'vanishing_gradients',
        'exploding_gradients', 'dead_units', 'saturated_units',
        'learning_rate_too_high', 'unscaled_inputs', 'label_mismatch',
        'loss_at_chance'.

        Returns an nn.debugging.Diagnosis: ``.findings`` (Finding: kind,
        layer, value, message, suggestion), ``.report`` (libnn's readable
        report, also ``str(diagnosis)``), true when something was found,
        ``diagnosis['dead_units']`` / ``diagnosis.find('dead_units')`` to
        pick a finding by kind. Needs a compiled model.
        """
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 2:
            raise ValueError(f"steps must be an integer >= 2, got {steps!r}")
        batch_size = positive_int(batch_size, "batch_size")
        x, y = self._xy(x, y, "diagnose")
        with self._handle._lock:
            count = self._handle.get_size(_lib.nn_model_diagnose, _ptr(x), _ptr(y), x.shape[0],
                                          x.shape[1], y.shape[1], int(steps), batch_size)
            findings = []
            out = _lib.nn_finding()
            for i in range(count):
                self._handle.call(_lib.nn_model_finding, i, ctypes.byref(out))
                findings.append(debugging.Finding(
                    kind=debugging.FINDING_KINDS.get(out.kind, f"unknown_{out.kind}"),
                    layer=None if out.layer < 0 else int(out.layer),
                    value=debugging._none_if_nan(out.value),
                    message=(out.message or b"").decode("utf-8", "replace"),
                    suggestion=(out.suggestion or b"").decode("utf-8", "replace")))
            length = self._handle.get_size(_lib.nn_model_diagnosis_report, None, 0)
            buffer = ctypes.create_string_buffer(length + 1)
            self._handle.call(_lib.nn_model_diagnosis_report, buffer, len(buffer), None)
        return debugging.Diagnosis(findings, buffer.value.decode("utf-8", "replace"))

    # -- evaluation and prediction ----------------------------------------

    def _check_columns(self, x, what):
        """A DataFrame's column names (None for other data), checked against
        feature_names_in_ (the columns of the DataFrame the model was fitted
        on, as scikit-learn keeps them): a frame with other columns, or the
        same in another order, would silently feed the wrong features."""
        return self._same_columns(_arrays._feature_names(x), getattr(self, "feature_names_in_", None),
                                  what, "those the model was fitted on")

    @staticmethod
    def _same_columns(names, known, what, whose):
        """names (a DataFrame's columns, or None) unless they differ from
        known (None: anything goes): then a ValueError saying how."""
        if names is not None and known is not None and names != known:
            missing = [n for n in known if n not in names]
            extra = [n for n in names if n not in known]
            detail = (f"missing {missing}" if missing else "") + \
                (("; " if missing else "") + f"unexpected {extra}" if extra else "")
            raise ValueError(f"{what}: the DataFrame's columns are not {whose} "
                             f"({detail or 'the same names in another order'}); give the columns "
                             f"{known} in this order")
        return names

    def _xy(self, x, y, what):
        """Checked (x, y) arrays of a compiled, built model, for evaluate-like calls."""
        self._require_open()
        if x is None or y is None:
            raise ValueError(f"{what} needs x and y")
        self._check_columns(x, what)
        x = _as_matrix(x, "x")
        y = _as_targets(y, "y")
        _check_rows(x, y, what)
        self._ensure_built_from(x)
        self._require_compiled(what)
        return x, y

    def evaluate(self, x=None, y=None, batch_size=None, verbose=0, return_dict=False, steps=None,
                 callbacks=None):
        """Loss (and metrics) on x, y, in inference mode (dropout off,
        batch normalization with its running statistics). The loss includes
        the kernel regularizers' penalties, as in Keras.

        Returns the loss as a float when the model has no metrics, else
        [loss, metric, ...] in the order of metrics_names; a dict
        {name: value} with return_dict=True. Without callbacks, batch_size
        is accepted for Keras compatibility: libnn evaluates the whole
        array in one call and the result does not depend on it.

        callbacks: Callback objects, whose on_test_begin, on_test_end(logs)
        and, per batch of batch_size rows (default 32), on_test_batch_begin
        and on_test_batch_end(batch, logs) are called as Keras calls them
        (set_model and set_params first; nn.callbacks explains the batch
        logs). The data goes to libnn batch by batch only when a callback
        has a test batch hook of its own; a hook may set
        model.stop_evaluating to end after the current batch (the result is
        then over the rows run). Not with generators and Sequences.
        """
        if _stream.is_stream(x) or isinstance(y, np.memmap):
            # batch by batch (nn._stream): a generator or Sequence of (x, y)
            # batches, or memmaps read in chunks of batch_size (1024) rows
            if callbacks is not None:
                raise ValueError("evaluate: callbacks are not supported when x is a generator, a "
                                 "Sequence or a memmap; give arrays")
            return _stream.evaluate(self, x, y, batch_size, steps, return_dict)
        if batch_size is not None:
            positive_int(batch_size, "batch_size")
        x, y = self._xy(x, y, "evaluate")
        if callbacks is not None:
            names, values = _fit.evaluate_with_callbacks(self, x, y, batch_size, verbose, callbacks)
            if verbose:
                print(" - ".join(f"{k}: {v:.4f}" for k, v in zip(names, values)), flush=True)
            return _fit.logs_result(names, values, return_dict)
        names = self._c_metric_names()
        values = _doubles(len(names))
        self._handle.shared_call(_lib.nn_model_evaluate, _ptr(x), _ptr(y), x.shape[0], x.shape[1],
                                 y.shape[1], values, len(names))
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in zip(names, values[:])), flush=True)
        return _fit.logs_result(names, values[:], return_dict)

    # -- one batch at a time (Keras's *_on_batch) -------------------------

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient step on one batch, as Keras's train_on_batch: the
        step fit takes for a batch (training mode, the optimizer and its
        state, regularization, gradient clipping, BatchNormalization's
        statistics), with no epoch around it - the rows in their order, no
        per-epoch (nn.schedules) schedule step, no History entry, no
        callback; a per-step schedule (nn.optimizers.schedules) gives the
        step its rate, schedule(optimizer.iterations), as in Keras. For a
        training loop of your own (data from a stream, online learning).

        sample_weight: one weight >= 0 per row; class_weight: a dict
        {class: weight}, as fit's. Returns the batch's loss (with the
        regularization penalty, as fit's logs) as a float when the model
        has no metrics, else [loss, metric, ...] in metrics_names order,
        the metrics of the outputs the step computed before its update (as
        Keras); a dict with return_dict=True.
        """
        x, y = self._xy(x, y, "train_on_batch")
        distributed.apply(self._handle)  # libnn refuses a data-parallel model here
        weights = self._batch_weights(x, y, sample_weight, class_weight)
        names = self._c_metric_names()
        values = _doubles(len(names))
        step_schedule = self._optimizer.step_schedule
        if step_schedule is not None:        # Keras's per-step schedule: this step's rate
            self._set_scheduled_rate(step_schedule)
        self._handle.call_busy("train_on_batch", _lib.nn_model_train_on_batch, _ptr(x), _ptr(y), x.shape[0],
                               x.shape[1], y.shape[1], None if weights is None else _ptr(weights), values,
                               len(names))
        return _fit.logs_result(names, values[:], return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss and metrics of one batch in inference mode, as Keras's
        test_on_batch: evaluate on it, the loss weighted by sample_weight
        (one weight >= 0 per row: the mean over the rows of weight x loss,
        as fit's val_loss), the metrics unweighted. Returns what
        train_on_batch returns."""
        x, y = self._xy(x, y, "test_on_batch")
        weights = self._batch_weights(x, y, sample_weight, None)
        names = self._c_metric_names()
        values = _doubles(len(names))
        self._handle.shared_call(_lib.nn_model_test_on_batch, _ptr(x), _ptr(y), x.shape[0], x.shape[1],
                                 y.shape[1], None if weights is None else _ptr(weights), values, len(names))
        return _fit.logs_result(names, values[:], return_dict)

    def predict_on_batch(self, x):
        """The model's outputs for one batch, as Keras's predict_on_batch:
        predict(x) (libnn computes any batch in one call)."""
        return self.predict(x)

    def _batch_weights(self, x, y, sample_weight, class_weight):
        """The per-row weights of a batch, float32 C-contiguous, or None:
        sample_weight times the weight of each row's class (its index, the
        argmax of a one-hot row, or the 0/1 target of a one-output model, as
        fit's class_weight). libnn checks that they are finite and >= 0."""
        weights = None if sample_weight is None else _fit._sample_weights(sample_weight, x.shape[0])
        dense = _fit.class_weights(self, class_weight)
        if dense is not None:
            classes = (np.argmax(y, axis=1) if y.shape[1] > 1 else np.rint(y[:, 0])).astype(np.int64)
            if classes.min() < 0 or classes.max() >= dense.shape[0]:
                bad = int(classes[(classes < 0) | (classes >= dense.shape[0])][0])
                raise ValueError(f"class_weight gives {dense.shape[0]} weights but a row is of class {bad}")
            by_class = dense[classes]
            weights = by_class if weights is None else weights * by_class
        return weights

    def confusion_matrix(self, x, y):
        """The confusion matrix of the model's decisions on x, y, as a numpy
        int64 array (classes, classes): rows are the true class, columns the
        predicted one (scikit-learn's convention).

        One output gives 2 classes (threshold 0.5 on probabilities, 0 on
        logits); binary cross-entropy on several outputs pools the 2x2
        counts of every output; otherwise one class per output, decided by
        argmax. Needs a classification loss.
        """
        x, y = self._xy(x, y, "confusion_matrix")
        outputs = self._handle.get_size(_lib.nn_model_output_dim)
        largest = max(outputs, 2)
        counts = np.zeros(largest * largest, dtype=np.uintp)  # size_t
        classes = ctypes.c_size_t()
        self._handle.shared_call(_lib.nn_model_confusion_matrix, _ptr(x), _ptr(y), x.shape[0],
                                 x.shape[1], y.shape[1], counts.ctypes.data_as(_SIZE_P), counts.size,
                                 ctypes.byref(classes))
        k = classes.value
        return counts[:k * k].reshape(k, k).astype(np.int64)

    def input_gradients(self, x, output=None, grad_outputs=None):
        """∂output/∂x for each row of x, shaped as x (float32), in inference
        mode (nn_model_input_gradient). output: None (the predicted class,
        or the only output), an output index, or one index per row;
        grad_outputs (samples, outputs) weighs every output instead, as
        torch.autograd.grad's. See nn.explain (saliency, integrated
        gradients)."""
        return explain.input_gradients(self, x, output, grad_outputs)

    def loss_input_gradients(self, x, y):
        """∂L/∂x of the compiled loss on (x, y), the mean over rows as
        evaluate reports it (nn_model_loss_input_gradient; see
        nn.explain.loss_input_gradients)."""
        return explain.loss_input_gradients(self, x, y)

    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None):
        """The model's outputs for x (samples, features) as a float32 array
        (samples, outputs), filled by libnn, in inference mode. Without
        callbacks, batch_size is accepted for Keras compatibility; the
        whole array is computed in one call.

        callbacks: Callback objects, whose on_predict_begin, on_predict_end
        and, per batch of batch_size rows (default 32),
        on_predict_batch_begin and on_predict_batch_end(batch, {"outputs":
        the batch's outputs}) are called as Keras calls them (set_model and
        set_params first). The data goes to libnn batch by batch only when a
        callback has a predict batch hook of its own; a hook may set
        model.stop_predicting to end after the current batch (the result
        then has the rows run). Not with generators and Sequences."""
        handle = self._handle
        if handle is not None and batch_size is None and type(x) is np.ndarray and x.dtype is _FLOAT32 \
                and callbacks is None:
            shape = x.shape
            fast = _fast_predict
            if len(shape) == 2 and fast is None:
                out = self._predict_ctypes(handle, x, shape)
                if out is not None:
                    return out
            elif len(shape) == 2:
                # predict's common case, straight to libnn through the
                # compiled helper (nn/_speedups.c), written out here: a
                # one-sample predict is a few microseconds, and a Python
                # call costs about 0.1 of them. The helper takes any
                # C-contiguous float32 x and a writable out as they are, and
                # returns None for others (the general path below converts
                # or refuses them); libnn checks x's width and values and
                # out's size, with its own messages. No lock is taken: an
                # inference call, with ModelHandle.shared_call's protocol.
                out = _EMPTY((shape[0], self._output_dim), _FLOAT32)
                readers = handle._readers
                readers.append(None)
                if not handle._writers:
                    try:
                        status = fast(handle._require_value(), x, out)
                    finally:
                        readers.pop()
                    if status == 0:
                        return out
                else:
                    readers.pop()
                    status = _lib.NN_ERROR_BUSY
                if status is not None and self._predict_helper_retry(handle, x, out, status):
                    return out
        self._require_open()
        if _stream.is_stream(x):
            # batch by batch (nn._stream): a generator or Sequence of x (or
            # (x, ...)) batches, or a memmap read in chunks of batch_size rows
            if callbacks is not None:
                raise ValueError("predict: callbacks are not supported when x is a generator or a "
                                 "Sequence; give an array")
            return _stream.predict(self, x, batch_size, steps)
        self._check_columns(x, "predict")
        x = _as_matrix(x, "x")
        if batch_size is not None:
            positive_int(batch_size, "batch_size")
        self._ensure_built_from(x)
        if callbacks is not None:
            return _fit.predict_with_callbacks(self, x, batch_size, verbose, callbacks)
        # The output width is the last layer's (kept by _propagate_widths):
        # no call into libnn to ask it. libnn checks x's width and the
        # buffer's size itself, with its own messages.
        out = np.empty((x.shape[0], self._output_dim), dtype=np.float32)
        self._handle.shared_call(_lib.nn_model_predict, _ptr(x), x.shape[0], x.shape[1], _ptr(out),
                                 out.size)
        return out

    def __call__(self, x):
        return self.predict(x)

    @staticmethod
    def _predict_helper_retry(handle, x, out, status):
        """predict's helper path after a call that did not succeed: raises
        libnn's error, or (busy: a change on another thread, or this
        thread's fit calling back) calls again under the handle's lock, as
        shared_call does. True when out is filled; False when the helper
        could not take the arrays after all (the general path then runs)."""
        if status != _lib.NN_ERROR_BUSY:
            _check(status)
        with handle._lock:
            status = _fast_predict(handle._require_value(), x, out)
        if status is None:
            return False
        _check(status)
        return True

    def _predict_ctypes(self, handle, x, shape):
        """predict's common case without the compiled helper: through ctypes, with
        c_float.from_buffer, which refuses read-only, non-contiguous and
        empty arrays, standing for the flag checks, and the arguments passed
        ready-made (_lib.nn_model_predict_ready, a prototype without
        argtypes)."""
        try:
            px = _C_FLOAT.from_buffer(x)
        except (TypeError, ValueError, BufferError):
            return None
        rows, cols = shape
        width = self._output_dim
        out = np.empty((rows, width), dtype=_FLOAT32)
        sizes = self._call_sizes
        if sizes is None or sizes[0] != cols:
            sizes = self._call_sizes = (cols, _C_SIZE(cols), _C_SIZE(width), _C_SIZE(1))
        if rows == 1:
            c_rows, c_out = sizes[3], sizes[2]
        else:
            c_rows, c_out = _C_SIZE(rows), _C_SIZE(out.size)
        px = _byref(px)
        po = _byref(_C_FLOAT.from_buffer(out))
        readers = handle._readers
        readers.append(None)
        if not handle._writers:
            try:
                status = _lib.nn_model_predict_ready(handle._require_address(), px, c_rows, sizes[1], po, c_out)
            finally:
                readers.pop()
            if not status:
                return out
            if status != _lib.NN_ERROR_BUSY:
                _check(status)
        else:
            readers.pop()
        with handle._lock:
            _check(_lib.nn_model_predict_ready(handle._require_address(), px, c_rows, sizes[1], po, c_out))
        return out

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

    def weight_info(self):
        """[(name, shape, trainable)] of every weight array, in get_weights()
        order, as libnn names them ('kernel', 'bias', 'gamma', 'beta',
        'moving_mean', 'moving_variance')."""
        self._ensure_built_for("weights")
        result = []
        for i, shape in enumerate(self._weight_shapes()):
            name, trainable = ctypes.c_char_p(), ctypes.c_int()
            self._handle.call(_lib.nn_model_weight_info, i, ctypes.byref(name),
                              ctypes.byref(trainable))
            result.append((name.value.decode(), shape, bool(trainable.value)))
        return result

    def get_weights(self):
        """Every weight array in Keras order: for each Dense layer its kernel
        (inputs, units) and its bias (units,); for each BatchNormalization its
        gamma, beta, moving_mean and moving_variance (features,). Fresh
        float32 copies, all of one state of the model (the handle's lock is
        held throughout, so a set_weights on another thread is not seen half
        done)."""
        self._ensure_built_for("weights")
        result = []
        with self._handle._lock:
            for i, shape in enumerate(self._weight_shapes()):
                arr = np.empty(shape, dtype=np.float32)
                self._handle.call(_lib.nn_model_get_weight, i, _ptr(arr), arr.size)
                result.append(arr)
        return result

    def set_weights(self, weights):
        """Replace every weight array (same order and shapes as get_weights,
        batch-normalization statistics included). The optimizer's state is
        kept.

        All arrays are checked before any is written; if libnn refuses one
        (e.g. NaN, a negative moving_variance), the arrays already written
        are restored. Predictions on other threads see the old weights or
        the new ones, never a mix (the handle's lock is held throughout)."""
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
        with self._handle._lock:
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
        """Number of scalars in all weight arrays, trainable or not (as Keras:
        batch-normalization statistics count)."""
        self._ensure_built_for("parameters")
        return int(sum(int(np.prod(shape, dtype=np.int64)) for shape in self._weight_shapes()))

    def count_trainable_params(self):
        """Number of trainable scalars (nn_model_parameter_count)."""
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

    def _layer_kind(self, index):
        out = _lib.nn_layer_kind()
        self._handle.call(_lib.nn_model_layer_kind, index, ctypes.byref(out))
        return KIND_NAMES[out.value]

    def _first_weight_index(self, layer_index):
        return sum(layer._weight_count for layer in self._layers[:layer_index])

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
        dense = [layer for layer in self._layers if isinstance(layer, Dense)]
        if dense:
            return (None, dense[-1].units)
        raise AttributeError("the model has no Dense layer and no input width yet, so no "
                             "output shape")

    # -- configuration (Keras's get_config / from_config) ------------------

    def get_config(self):
        """The model's architecture as a dict of plain values (Keras's
        Sequential.get_config): {"name", "seed", "layers": [{"class_name",
        "config"}, ...]}, an "InputLayer" entry first once the input width
        is known (its "batch_shape" is [None, width], as in Keras), then
        each layer's class name and get_config(). No weights and no compile
        settings, as in Keras; JSON-serializable (to_json).
        Sequential.from_config(config) makes a new model from it."""
        layers = []
        if self._input_dim is not None:
            layers.append({"class_name": "InputLayer",
                           "config": {"batch_shape": [None, self._input_dim],
                                      "name": "input_layer"}})
        for layer in self._layers:
            layers.append({"class_name": type(layer).__name__, "config": layer.get_config()})
        return {"name": self.name, "seed": self.seed, "layers": layers}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new, uncompiled model from a get_config() dict (Keras's
        Sequential.from_config): the same layers with the same settings and
        names, and the same seed, so its weights are initialized as the
        original model's were when it was built (not its trained weights:
        use get_weights / set_weights for those). custom_objects: {class
        name: nn.layers.Layer subclass} for layer classes of your own.
        ValueError naming what it cannot rebuild."""
        if not isinstance(config, dict):
            raise ValueError(f"Sequential.from_config takes the dict get_config() returns, got "
                             f"{config!r}")
        items = config.get("layers")
        if not isinstance(items, (list, tuple)):
            raise ValueError("Sequential.from_config: the config has no 'layers' list")
        if custom_objects is not None and not isinstance(custom_objects, dict):
            raise ValueError(f"custom_objects must be a dict {{class name: class}}, got "
                             f"{custom_objects!r}")
        classes = dict(layers_module.BY_CLASS_NAME, **(custom_objects or {}))
        model = cls(seed=config.get("seed"), name=config.get("name"))
        if config.get("build_input_shape") is not None:           # Keras writes it
            model.add(Input(shape=(_input_width(config["build_input_shape"]),)))
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("class_name"), str):
                raise ValueError(f"Sequential.from_config: layers[{i}] must be a dict with "
                                 f"'class_name' and 'config', got {item!r}")
            class_name, layer_config = item["class_name"], item.get("config") or {}
            if class_name in ("InputLayer", "Input"):
                if model._input_dim is None:
                    shape = (layer_config.get("batch_shape") or layer_config.get("batch_input_shape")
                             or layer_config.get("shape"))
                    model.add(Input(shape=(_input_width(shape),)))
                continue
            layer_class = classes.get(class_name)
            if layer_class is None:
                raise ValueError(f"Sequential.from_config: unknown layer class {class_name!r} "
                                 f"(layers[{i}]); known: {', '.join(sorted(classes))}; pass yours "
                                 "in custom_objects")
            model.add(layer_class.from_config(layer_config))
        return model

    def to_json(self, **kwargs):
        """The configuration as a JSON string, {"class_name": "Sequential",
        "config": get_config()} (Keras's to_json; kwargs go to json.dumps).
        nn.models.model_from_json reads it back."""
        return json.dumps({"class_name": "Sequential", "config": self.get_config()}, **kwargs)

    # -- saving and loading ------------------------------------------------

    def export_onnx(self, path, opset=None):
        """Write the model's inference graph to `path` as ONNX (opset 17 by
        default; needs the onnx package). What is exported and how: see
        nn.onnx_export. Returns `path`."""
        return onnx_export.export_onnx(self, path, opset=opset or onnx_export.OPSET)

    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Save the whole model to `filepath` as a safetensors file
        (https://github.com/huggingface/safetensors; the extension is up to
        you, '.safetensors' is the usual one); nn.load_model reads it back.

        The file holds every weight array, named as PyTorch names the
        state_dict of the equivalent torch.nn.Sequential ("0.weight" is the
        first Dense kernel transposed, [units, inputs]; see include/nn.h,
        "Saving and loading"), so the `safetensors` package, PyTorch and
        other tools read it too; and, as JSON in its metadata, the layers,
        the compile settings (loss, optimizer and its hyper-parameters,
        metrics, learning-rate schedule), the seed and the training state.
        include_optimizer=True (the default) also stores the optimizer's
        state (moments, step count, current learning rate), so that a loaded
        model continues training exactly as this one would; with False the
        loaded model starts with fresh optimizer state, as after compile.

        libnn writes the file atomically: the bytes go to a temporary file in
        the same directory, flushed to disk, and renamed over `filepath`, so
        a crash or a kill at any moment leaves the previous file or the new
        one, never a truncated one. overwrite=False refuses (FileExistsError)
        to replace an existing file; Keras would ask instead.

        Raises nn.FileError (an OSError) if the file cannot be written.
        """
        path = _files.path_argument(filepath, "filepath")
        flags = _files.save_flags(include_optimizer)
        if not distributed.saves():
            return                       # nn.distributed: rank 0 writes the files
        self._ensure_built_for("weights to save")
        _files.check_overwrite(filepath, overwrite)
        self._handle.call(_lib.nn_model_save, path, flags)

    def save_weights(self, filepath, overwrite=True):
        """Save the model to `filepath` without the optimizer's state (a
        safetensors file, as save(filepath, include_optimizer=False) writes
        it, atomically): model.load_weights reads its weights back into a
        model of the same architecture, and PyTorch's load_state_dict into
        the equivalent torch.nn.Sequential."""
        self.save(filepath, overwrite=overwrite, include_optimizer=False)

    def load_weights(self, filepath):
        """Replace every weight array of this (built) model with the tensors
        of a safetensors file: one written by save or save_weights, or by
        any tool in PyTorch's layout (for instance
        ``safetensors.torch.save_file(torch_model.state_dict(), path)`` of
        the equivalent torch.nn.Sequential). `filepath` may also be the
        file's bytes (bytes, bytearray or memoryview).

        Strict, as PyTorch's load_state_dict(strict=True): every weight must
        be there with its exact shape and dtype F32 (num_batches_tracked:
        I64, or absent); a tensor the model does not have is an error;
        tensors under "optimizer." are ignored. All or nothing: on any error
        (nn.InvalidFileError naming the tensor; nn.InvalidArgumentError for
        NaN or infinity in a weight; nn.FileError if the file cannot be read)
        the weights are unchanged. The optimizer's state is kept.
        """
        self._ensure_built_for("weights to load")
        if _files.is_bytes_like(filepath):
            data = bytes(filepath)
            self._handle.call(_lib.nn_model_load_weights_from_buffer, data, len(data))
        else:
            path = _files.path_argument(filepath, "filepath")
            self._handle.call(_lib.nn_model_load_weights, path)

    def to_bytes(self, include_optimizer=True):
        """The file that save(filepath, include_optimizer=...) would write,
        as bytes (nn.load_model takes them back)."""
        flags = _files.save_flags(include_optimizer)
        self._ensure_built_for("weights to save")
        # One serialization: a buffer sized for the weights (and two optimizer
        # state arrays per weight, Adam's) plus room for the header; libnn
        # reports the exact size when that is too small, and the second try
        # fits (amsgrad, centered RMSprop).
        capacity = 4 * self.count_params() * (3 if flags else 1) + 65536
        with self._handle._lock:
            pointer = self._handle._require()
            while True:
                buffer = ctypes.create_string_buffer(capacity)
                size = ctypes.c_size_t()
                status = _lib.nn_model_save_to_buffer(pointer, flags, buffer, capacity, ctypes.byref(size))
                if status == _lib.NN_ERROR_SHAPE_MISMATCH and size.value > capacity:
                    capacity = size.value
                    continue
                _handle._check(status)
                return ctypes.string_at(buffer, size.value)

    @classmethod
    def _from_config(cls, handle, config, compile=True):
        """The nn.Sequential around `handle`, a libnn model that libnn built
        (nn_model_load_from_buffer), with the Python objects of `config`
        (its nn_model_config, parsed; see nn._config). The libnn model holds
        everything already, optimizer state included, so it is not compiled
        again (that would reset the optimizer's state): only the Python side
        is set. compile=False leaves the Python side uncompiled."""
        objects = _config.objects(config)
        model = cls(seed=objects.seed)
        for layer in objects.layers:
            model.add(layer)             # the model has no handle yet: nothing goes to C
        model._handle = handle
        model._input_dim = objects.input_dim
        model._propagate_widths()
        if not compile:
            return model
        model._loss = objects.loss
        model._metrics = objects.metrics
        if objects.optimizer is not None:
            model._optimizer = objects.optimizer
            model._bind_optimizer()
            model._compiled = True
            model._plateau_key = objects.plateau_key
        return model

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
    data = _files.contents(filepath)
    # libnn reads and validates the file (it is untrusted) and builds the
    # model; Python then asks libnn what it built (nn_model_config).
    pointer = _lib.nn_model_p()
    _handle._check(_lib.nn_model_load_from_buffer(data, len(data), ctypes.byref(pointer)))
    handle = ModelHandle.adopt(pointer)
    try:
        return Sequential._from_config(handle, _config.read(handle), compile)
    except BaseException:
        handle.close()
        raise


def _input_width(shape):
    """The width of a configuration's input shape ([None, n], (n,) or n)."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        return int(shape)
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[-1], numbers.Integral):
        return int(shape[-1])
    raise ValueError(f"Sequential.from_config: cannot read an input width from {shape!r}")


def model_from_json(json_string, custom_objects=None):
    """The model that Sequential.to_json described (Keras's
    keras.models.model_from_json): new and uncompiled, initialized as
    Sequential.from_config does."""
    try:
        document = json.loads(json_string)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"model_from_json: not a JSON model description: {exc}") from None
    if not isinstance(document, dict) or document.get("class_name") != "Sequential":
        raise ValueError("model_from_json: libnn rebuilds Sequential models, described as "
                         "{\"class_name\": \"Sequential\", \"config\": ...}")
    return Sequential.from_config(document.get("config"), custom_objects=custom_objects)


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):
    """A new model with `model`'s architecture (Keras's
    keras.models.clone_model): the same layers, settings, names, name and
    seed, newly initialized weights and no compile settings (compile it
    before training), as Keras.

    The weights are new ones drawn from the seed: equal to those `model`
    started with when it was built, not its trained ones (Keras draws
    other random ones; libnn's models are reproducible from their seed:
    give ``nn.Sequential(seed=...)`` another seed for another draw, or copy
    the trained weights with set_weights(model.get_weights())).

    clone_function(layer) -> layer makes each new layer (default:
    ``type(layer).from_config(layer.get_config())``), as in Keras.
    input_tensors and call_function (Keras's functional-API arguments)
    are not supported by libnn's Sequential: a ValueError unless None;
    recursive has no meaning without nested models and is accepted.
    """
    if not isinstance(model, Sequential):
        raise ValueError(f"clone_model takes an nn.Sequential model, got {model!r}")
    if input_tensors is not None or call_function is not None:
        raise ValueError("clone_model: input_tensors and call_function are for Keras's functional "
                         "models; libnn's Sequential does not take them")
    if kwargs:
        raise TypeError(f"clone_model got unexpected arguments {sorted(kwargs)}")
    if not isinstance(recursive, bool):
        raise ValueError(f"recursive must be True or False, got {recursive!r}")
    model._require_open()
    if clone_function is None:
        def clone_function(layer):
            return type(layer).from_config(layer.get_config())
    elif not callable(clone_function):
        raise ValueError(f"clone_function must be callable, got {clone_function!r}")
    clone = Sequential(seed=model.seed, name=model.name)
    if model._input_dim is not None:
        clone.add(Input(shape=(model._input_dim,)))
    for layer in model.layers:
        new_layer = clone_function(layer)
        if not isinstance(new_layer, Layer):
            raise ValueError(f"clone_function must return an nn.layers layer, got {new_layer!r}")
        clone.add(new_layer)
    return clone
