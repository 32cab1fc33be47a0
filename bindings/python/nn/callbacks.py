"""Callbacks for Sequential.fit, evaluate and predict (the Keras protocol).

fit() accepts, in ``callbacks=[...]``, Callback objects (or any object with
an ``on_epoch_end(epoch, logs)`` method) and plain callables
``f(epoch, logs)``; evaluate() and predict() accept Callback objects. The
hooks are Keras's, called in Keras's order (logs are dicts, {} where Keras
passes no values):

    fit:      set_model, set_params, on_train_begin, then per epoch
              on_epoch_begin, per batch on_train_batch_begin(batch) and
              on_train_batch_end(batch, logs), then with validation data
              on_test_begin, per validation batch on_test_batch_begin and
              on_test_batch_end, on_test_end(logs), then on_epoch_end; at
              the end on_train_end
    evaluate: on_test_begin, per batch on_test_batch_begin/_end, on_test_end
    predict:  on_predict_begin, per batch on_predict_batch_begin and
              on_predict_batch_end(batch, {"outputs": the batch's outputs}),
              on_predict_end

(on_batch_begin / on_batch_end are Keras 2's names of the training batch
hooks, and still work.) Batch logs are the means so far over the epoch's
(or the evaluation's) batches, as Keras's.

How libnn runs them: a whole fit is one C call that calls back after each
epoch, and after each batch only when asked: fit asks only when a callback
has a training batch hook of its own (or the progress bar, or a per-step
learning-rate schedule, needs it), so a fit without one costs nothing per
batch. libnn calls back after a batch, never before: on_train_batch_begin
(b + 1) is called right after on_train_batch_end(b) - nothing runs
between the two in libnn, so the order and what the hooks can do are
Keras's - and on_train_batch_begin(0) right after on_epoch_begin. libnn
computes the validation logs inside the fit call; the on_test_* hooks of
fit's validation run after it, before on_epoch_end, and when a callback
has on_test_batch_begin/_end of its own the validation data is run again
batch by batch (batch_size rows, libnn's test_on_batch) for their logs:
on_test_end gets libnn's validation logs (the val_ values without
'val_'). evaluate and predict run batch by batch (batch_size rows, default
32) only when a callback has a batch hook of its own; otherwise the data
goes to libnn in one call, as without callbacks. In batch logs, loss,
accuracies, top-k accuracy and mae are exactly Keras's running means;
precision, recall and the F1 scores are the row-weighted means of the
batches' values (Keras accumulates their counts); on_test_end and
evaluate's result are libnn's values over all rows run. On generators and
Sequences (nn._stream) fit calls no on_test_* hooks.

Set ``model.stop_training = True`` in a hook to stop after the current
epoch (after the current batch, from a batch hook);
``model.stop_evaluating`` / ``model.stop_predicting`` end evaluate's or
predict's batch loop after the current batch (Keras 3). An exception
raised in a hook stops training and is re-raised by fit().

EarlyStopping and ReduceLROnPlateau are run by libnn itself, inside the
training loop (see their docstrings). ModelCheckpoint saves the model (or
its weights) after every epoch or every n batches, with libnn's atomic
write; LambdaCallback builds a callback from functions. LayerStatistics has libnn collect
per-layer statistics during the fit and puts them in
``history.layer_stats``.
"""

import ctypes
import math
import numbers
import os

from . import _handle, _lib
from ._callback import Callback  # noqa: F401 (the base class, nn.callbacks.Callback)


#: The hooks a per-batch call into Python is needed for, by kind of loop;
#: the Keras 2 names are the training batch hooks'.
TRAIN_BATCH_BEGIN = ("on_train_batch_begin", "on_batch_begin")
TRAIN_BATCH_END = ("on_train_batch_end", "on_batch_end")
TEST_BATCH = ("on_test_batch_begin", "on_test_batch_end")
TEST = ("on_test_begin", "on_test_end") + TEST_BATCH
PREDICT_BATCH = ("on_predict_batch_begin", "on_predict_batch_end")


def overrides(hook, names):
    """Whether `hook` has one of the methods `names` of its own (a
    subclass's, an instance attribute, or a method of an object that is
    not a Callback), not the base class's no-op."""
    for name in names:
        fn = getattr(hook, name, None)
        if fn is None:
            continue
        if getattr(fn, "__func__", fn) is not getattr(Callback, name, None):
            return True
    return False


def wants_batches(hook):
    """Whether a callback has per-batch work in fit: an on_train_batch_begin
    or on_train_batch_end (or Keras 2's on_batch_begin / on_batch_end) of
    its own, not the base class's no-op."""
    return overrides(hook, TRAIN_BATCH_END) or overrides(hook, TRAIN_BATCH_BEGIN)


def _call_batch(hook, names, batch, logs):
    """The hook's training batch method: names[0] (Keras 3's), else names[1]
    (Keras 2's) for an object that is not a Callback."""
    fn = getattr(hook, names[0], None)
    if fn is None:
        fn = getattr(hook, names[1], None)
    if fn is not None:
        fn(batch, logs)


def call_batch_begin(hook, batch, logs):
    """The hook's on_train_batch_begin (else on_batch_begin)."""
    _call_batch(hook, TRAIN_BATCH_BEGIN, batch, logs)


def call_batch_end(hook, batch, logs):
    """The hook's on_train_batch_end (else on_batch_end)."""
    _call_batch(hook, TRAIN_BATCH_END, batch, logs)


class LambdaCallback(Callback):
    """A callback built from functions, as in Keras: each argument given
    replaces that hook. on_epoch_begin/on_epoch_end take (epoch, logs);
    on_train_begin/on_train_end, on_test_begin/on_test_end and
    on_predict_begin/on_predict_end take (logs); the batch hooks take
    (batch, logs). Keras takes any other hook as a keyword too; here every
    hook is a named argument, and an unknown keyword is a TypeError."""

    _HOOKS = ("on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end",
              "on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end",
              "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
              "on_predict_begin", "on_predict_end", "on_predict_batch_begin",
              "on_predict_batch_end")

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 on_batch_begin=None, on_batch_end=None, on_test_begin=None, on_test_end=None,
                 on_test_batch_begin=None, on_test_batch_end=None, on_predict_begin=None,
                 on_predict_end=None, on_predict_batch_begin=None, on_predict_batch_end=None):
        super().__init__()
        given = locals()
        for name in self._HOOKS:
            fn = given[name]
            if fn is None:
                continue
            if not callable(fn):
                raise ValueError(f"LambdaCallback: {name} must be callable, got {fn!r}")
            setattr(self, name, fn)


def _mode(mode, monitor):
    """Check a monitor mode; return (nn_monitor_mode value, resolved 'min'/'max')."""
    codes = {"auto": _lib.NN_MONITOR_AUTO, "min": _lib.NN_MONITOR_MIN, "max": _lib.NN_MONITOR_MAX}
    if mode not in codes:
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        # libnn's rule (nn.h, NN_MONITOR_AUTO), which is Keras's
        increasing = ("acc", "precision", "recall", "f1", "auc")
        resolved = "max" if any(word in monitor for word in increasing) else "min"
    else:
        resolved = mode
    return codes[mode], resolved


def _monitor(monitor):
    if not isinstance(monitor, str) or not monitor:
        raise ValueError(f"monitor must be a log name such as 'val_loss', got {monitor!r}")
    return monitor


def _count(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{what} must be an integer >= 0, got {value!r}")
    return int(value)


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(
            value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return float(value)


class EarlyStopping(Callback):
    """Stop training when `monitor` has stopped improving (Keras's EarlyStopping).

    After each epoch the monitored log improves if it beats the best so far
    by more than min_delta (downwards for mode 'min', upwards for 'max';
    'auto' is 'max' for names containing acc, precision, recall, f1 or auc,
    else 'min'). Training stops once `patience` epochs in a row have not
    improved (patience=0: at the first epoch that does not improve), never
    after the first epoch. With restore_best_weights=True the model ends
    fit with the weights (and batch-normalization statistics) of its best
    epoch, whether training stopped early or ran all its epochs.

    libnn runs it (nn_fit_options.early_stopping) inside the training loop;
    this object mirrors its bookkeeping from the logs, so that after fit
    ``best`` is the best monitored value, ``best_epoch`` its epoch, and
    ``stopped_epoch`` the epoch training stopped after (0 if it did not stop
    early, as in Keras). A fit takes at most one EarlyStopping. A monitor
    that fit does not log (e.g. 'val_loss' without validation data) is an
    error when fit starts.

    verbose=1 prints Keras's lines when training stops early ("Epoch 7:
    early stopping", and with restore_best_weights the best epoch whose
    weights the model gets back). Keras's baseline and start_from_epoch
    are not in libnn's early stopping: only their defaults (None, 0) are
    accepted.
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if verbose not in (0, 1, True, False):
            raise ValueError(f"verbose must be 0 or 1, got {verbose!r}")
        self.verbose = int(verbose)
        if baseline is not None:
            raise ValueError(f"EarlyStopping(baseline={baseline!r}): libnn's early stopping has "
                             "no baseline; leave it None")
        if start_from_epoch != 0:
            raise ValueError(f"EarlyStopping(start_from_epoch={start_from_epoch!r}): libnn's "
                             "early stopping watches from the first epoch; leave it 0")
        self.monitor = _monitor(monitor)
        # Keras takes the magnitude: min_delta=-0.01 means 0.01
        self.min_delta = abs(_number(min_delta, "min_delta"))
        self.patience = _count(patience, "patience")
        self._mode_code, self._resolved_mode = _mode(mode, self.monitor)
        self.mode = mode
        if not isinstance(restore_best_weights, bool):
            raise ValueError(f"restore_best_weights must be True or False, got "
                             f"{restore_best_weights!r}")
        self.restore_best_weights = restore_best_weights
        self._reset()

    def _reset(self):
        self.best = math.inf if self._resolved_mode == "min" else -math.inf
        self.best_epoch = 0
        self.wait = 0
        self.stopped_epoch = 0

    def _c_options(self):
        """The nn_early_stopping_options for fit (keep it referenced during fit)."""
        options = _lib.nn_early_stopping_options()
        _lib.nn_early_stopping_options_init_sized(ctypes.byref(options), ctypes.sizeof(options))
        options.monitor = self.monitor.encode()
        options.min_delta = self.min_delta
        options.patience = self.patience
        options.mode = self._mode_code
        options.restore_best_weights = 1 if self.restore_best_weights else 0
        return options

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        # The same rule libnn applies right after this callback returns.
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        if self._resolved_mode == "min":
            improved = value < self.best - self.min_delta
        else:
            improved = value > self.best + self.min_delta
        if improved:
            self.best = value
            self.best_epoch = epoch
            self.wait = 0
            return
        self.wait += 1
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            if self.verbose and self.restore_best_weights:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.", flush=True)

    def on_train_end(self, logs=None):
        if self.verbose and self.stopped_epoch > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping", flush=True)

    def __repr__(self):
        return (f"EarlyStopping(monitor={self.monitor!r}, min_delta={self.min_delta!r}, "
                f"patience={self.patience}, mode={self.mode!r}, "
                f"restore_best_weights={self.restore_best_weights})")


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by `factor` when `monitor` has not improved
    by more than min_delta for `patience` epochs (Keras's ReduceLROnPlateau):
    after a reduction, `cooldown` epochs pass before epochs count again, and
    the rate never goes below min_lr. mode as EarlyStopping's.

    libnn runs it as the model's learning-rate schedule for the fit it is
    given to (nn_model_set_lr_schedule), so History gets a 'learning_rate'
    entry. The reduced rate stays after fit, as in Keras (see
    Sequential.learning_rate); a later fit given a ReduceLROnPlateau again
    continues from it. Compiling again, or a fit without this callback,
    returns to the optimizer's learning rate (libnn cannot remove a schedule
    and keep the rate it reached). It cannot be combined with an optimizer
    whose learning_rate is a schedule.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        super().__init__()
        self.monitor = _monitor(monitor)
        self.factor = _number(factor, "factor")
        self.patience = _count(patience, "patience")
        self._mode_code, _ = _mode(mode, self.monitor)
        self.mode = mode
        self.min_delta = _number(min_delta, "min_delta")
        self.cooldown = _count(cooldown, "cooldown")
        self.min_lr = _number(min_lr, "min_lr")
        _handle.check_on_scratch_model(_lib.nn_model_set_lr_schedule,
                                       ctypes.byref(self._c_options()))

    def _c_options(self):
        """The nn_schedule_options of this callback."""
        options = _lib.nn_schedule_options()
        _handle._check(_lib.nn_schedule_options_init_sized(ctypes.byref(options), ctypes.sizeof(options),
                                                     _lib.NN_SCHEDULE_REDUCE_ON_PLATEAU))
        options.monitor = self.monitor.encode()
        options.factor = self.factor
        options.patience = self.patience
        options.min_delta = self.min_delta
        options.cooldown = self.cooldown
        options.min_lr = self.min_lr
        options.mode = self._mode_code
        return options

    def _key(self):
        return (self.monitor, self.factor, self.patience, self._mode_code, self.min_delta,
                self.cooldown, self.min_lr)

    def __repr__(self):
        return (f"ReduceLROnPlateau(monitor={self.monitor!r}, factor={self.factor!r}, "
                f"patience={self.patience}, mode={self.mode!r}, min_delta={self.min_delta!r}, "
                f"cooldown={self.cooldown}, min_lr={self.min_lr!r})")


class LayerStatistics(Callback):
    """Collect per-layer statistics during fit (nn_model_set_layer_statistics).

    ``model.fit(x, y, callbacks=[nn.callbacks.LayerStatistics()])``

    For the fit it is given to, libnn measures every ``every_batches``-th
    batch of each epoch (1: every batch): for each layer the mean and
    standard deviation of its outputs, the fraction of dead ReLU units
    (never positive on any sampled row of the epoch), the fraction of
    saturated sigmoid/tanh outputs (derivative under 5 % of its maximum),
    and for layers with parameters the mean L2 norm of the parameter
    gradient, the L2 norm of the parameters at the end of the epoch and the
    mean update-to-weight ratio ||update|| / ||weights|| of one step (about
    1e-3 is healthy, Karpathy's rule of thumb). Collection is turned off
    again when fit returns or raises.

    After each epoch the epoch's statistics are appended to the History
    that fit returns, ``history.layer_stats``, as::

        {"epoch": 3,                 # counting from 0 over all fits of the model
         "layers": [{"layer": 0, "name": "dense", "activation_mean": ...,
                     "activation_std": ..., "dead_fraction": ...,
                     "saturated_fraction": ..., "gradient_norm": ...,
                     "weight_norm": ..., "update_ratio": ...,
                     "batches": 8},  # batches sampled
                    ...]}

    A value that does not apply to a layer is None (dead_fraction except
    for ReLU layers, saturated_fraction except for sigmoid/tanh layers, the
    gradient, weight and update figures for layers without parameters).
    ``nn.plot_layer_stats(history, path)`` draws them.

    Override ``on_layer_stats(epoch, stats)`` to act on each epoch's
    statistics as they arrive (it runs after the epoch, before the
    on_epoch_end hooks of the other callbacks); ``epoch`` counts from 0
    within this fit, as on_epoch_end's does, and ``stats`` is the entry
    above. The callback also keeps this fit's entries in ``self.stats``.
    A fit takes at most one LayerStatistics.
    """

    def __init__(self, every_batches=1):
        super().__init__()
        if isinstance(every_batches, bool) or not isinstance(every_batches, numbers.Integral) \
                or not 1 <= every_batches < 2 ** 31:
            raise ValueError(f"every_batches must be an integer in [1, 2**31), got "
                             f"{every_batches!r}")
        self.every_batches = int(every_batches)
        self.stats = []

    def on_train_begin(self, logs=None):
        self.stats = []

    def on_layer_stats(self, epoch, stats):
        """Called by fit after each epoch with that epoch's statistics (see
        the class docstring). Does nothing by default; override it."""

    def __repr__(self):
        return f"LayerStatistics(every_batches={self.every_batches})"


class ModelCheckpoint(Callback):
    """Save the model (or its weights) during fit (Keras's ModelCheckpoint).

    ``ModelCheckpoint(filepath, monitor='val_loss', verbose=0,
    save_best_only=False, save_weights_only=False, mode='auto',
    save_freq='epoch', initial_value_threshold=None)``

    filepath: a path that may hold Python format fields filled from the
        epoch and the logs, as Keras's: ``'model_{epoch:02d}-{val_loss:.2f}
        .keras'`` ({epoch} counts from 1, as in Keras; with an integer
        save_freq {batch} counts from 1 within the epoch). A field that the
        logs do not have is a KeyError naming it, as in Keras. Missing
        directories are created.
    save_freq: 'epoch' saves after every epoch; an integer n saves after
        every n batches (counted across epochs), with the batch's logs
        (libnn then calls back after every batch).
    save_best_only: save only when `monitor` improves on the best value so
        far (strictly: below it for mode 'min', above it for 'max'; 'auto'
        is 'max' for names containing acc, precision, recall, f1 or auc,
        else 'min'); the best value starts at initial_value_threshold when
        given, and is kept across fits, as in Keras.
    save_weights_only: model.save_weights(path) instead of model.save(path).
    verbose: 1 prints a line for each save (or each epoch that does not
        improve), as Keras.

    Every save is libnn's atomic write (Sequential.save: a temporary file in
    the same directory, flushed, then renamed over the path), so a crash or
    a kill during a save leaves the previous checkpoint whole; with
    save_best_only a checkpoint is replaced only by a better one.

    Different from Keras, on purpose: the file is libnn's safetensors
    model file (nn.load_model reads it; with save_weights_only,
    model.load_weights), whatever its extension: '.keras', '.h5' and
    '.weights.h5' are accepted but hold safetensors, not Keras's formats;
    and with save_best_only a monitor that the logs lack is a ValueError
    (Keras warns and saves anyway) - e.g. 'val_loss' without validation
    data, or with an integer save_freq (batch logs have no val_ values).
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        try:
            path = os.fspath(filepath)
        except TypeError:
            raise TypeError(f"filepath must be a path (str or os.PathLike), got {filepath!r}") \
                from None
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not path:
            raise ValueError("filepath is empty")
        self.filepath = path
        self.monitor = _monitor(monitor)
        if verbose not in (0, 1, True, False):
            raise ValueError(f"verbose must be 0 or 1, got {verbose!r}")
        self.verbose = int(verbose)
        for name, value in (("save_best_only", save_best_only),
                            ("save_weights_only", save_weights_only)):
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be True or False, got {value!r}")
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self._mode_code, self._resolved_mode = _mode(mode, self.monitor)
        self.mode = mode
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(
                save_freq, numbers.Integral) or save_freq < 1):
            raise ValueError(f"save_freq must be 'epoch' or an integer >= 1 (a number of "
                             f"batches), got {save_freq!r}")
        self.save_freq = save_freq if save_freq == "epoch" else int(save_freq)
        if initial_value_threshold is not None:
            initial_value_threshold = _number(initial_value_threshold, "initial_value_threshold")
        self.initial_value_threshold = initial_value_threshold
        if initial_value_threshold is not None:
            self.best = initial_value_threshold
        else:
            self.best = math.inf if self._resolved_mode == "min" else -math.inf
        self._current_epoch = 0
        self._batches_since_save = 0
        self._last_batch = 0
        if self.save_freq != "epoch":
            # An instance attribute, not a method of the class: fit asks
            # libnn to call back after each batch only for callbacks that
            # have a batch hook of their own (wants_batches).
            self.on_train_batch_end = self._save_on_batch

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _save_on_batch(self, batch, logs=None):
        # batches since the last save, across epochs (batch counts from 0
        # in each epoch: a batch number not above the last is a new epoch)
        if batch <= self._last_batch:
            self._batches_since_save += batch + 1
        else:
            self._batches_since_save += batch - self._last_batch
        self._last_batch = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._current_epoch, batch, logs)

    def _file_path(self, epoch, batch, logs):
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as exc:
            raise KeyError(f"ModelCheckpoint cannot format filepath {self.filepath!r}: it names "
                           f"{exc} but the logs have {sorted(logs)} (and epoch"
                           f"{'' if batch is None else ', batch'})") from None

    def _improves(self, current):
        if self._resolved_mode == "min":
            return current < self.best
        return current > self.best

    def _save(self, epoch, batch, logs):
        logs = dict(logs or {})
        path = self._file_path(epoch, batch, logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                where = "epoch" if batch is None else "batch (save_freq is a number of batches)"
                raise ValueError(f"ModelCheckpoint(save_best_only=True) monitors "
                                 f"{self.monitor!r}, but the {where} logs have only "
                                 f"{', '.join(sorted(logs)) or 'nothing'}"
                                 + (" (give validation data)" if self.monitor.startswith("val_")
                                    and batch is None else ""))
            if not self._improves(current):
                if self.verbose:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}", flush=True)
                return
            if self.verbose:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                      f"{current:.5f}, saving model to {path}", flush=True)
            self._write(path)
            self.best = current
            return
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: saving model to {path}", flush=True)
        self._write(path)

    def _write(self, path):
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)

    def __repr__(self):
        return (f"ModelCheckpoint({self.filepath!r}, monitor={self.monitor!r}, "
                f"save_best_only={self.save_best_only}, save_weights_only="
                f"{self.save_weights_only}, mode={self.mode!r}, save_freq={self.save_freq!r})")


class History(Callback):
    """What fit() returns: ``history`` maps each log name ('loss',
    'accuracy', 'val_loss', 'val_accuracy', and 'learning_rate' while a
    learning-rate schedule is set) to its list of per-epoch values,
    ``epoch`` lists the epochs run, ``params`` holds fit's settings.
    ``layer_stats`` holds the per-layer statistics of each epoch when fit
    was given a LayerStatistics callback (else it is empty); ``plot(path)``
    draws the learning curves."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []
        self.layer_stats = []

    def on_train_begin(self, logs=None):
        self.history = {}
        self.epoch = []
        self.layer_stats = []

    def plot(self, path, title=None):
        """Write a PNG of the learning curves to `path`: one panel per
        quantity ('loss', each metric), training solid and validation
        dashed, against the epoch (nn.plotting.plot_history). Needs
        matplotlib; raises ValueError when there is nothing to plot.
        Returns path."""
        from . import plotting
        return plotting.plot_history(self, path, title=title)

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


# Keras's TensorBoard callback (nn/_tensorboard.py; its writer, tensorboardX
# or torch.utils.tensorboard, is imported when one is made).
from ._tensorboard import TensorBoard  # noqa: E402,F401
