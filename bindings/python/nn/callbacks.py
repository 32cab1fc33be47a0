"""Callbacks for Sequential.fit (the Keras protocol, per epoch).

fit() accepts, in ``callbacks=[...]``, Callback objects (or any object with
an ``on_epoch_end(epoch, logs)`` method) and plain callables
``f(epoch, logs)``. libnn trains a whole fit in one C call and reports after
each epoch, so the hooks are: set_model, set_params, on_train_begin,
on_epoch_begin, on_epoch_end, on_train_end; and, per batch, Keras's
on_train_batch_end(batch, logs) (alias on_batch_end), with the epoch's
logs so far (mean loss and metrics over its batches run), which libnn
calls only when a callback defines it (or the progress bar needs it), so a
fit without one costs nothing per batch (libnn calls back after a batch
only: there is no on_train_batch_begin). Set ``model.stop_training = True``
in a hook to stop after the current epoch (after the current batch, from a
batch hook). An exception raised in a hook stops training and is re-raised
by fit().

EarlyStopping and ReduceLROnPlateau are run by libnn itself, inside the
training loop (see their docstrings). LayerStatistics has libnn collect
per-layer statistics during the fit and puts them in
``history.layer_stats``.
"""

import ctypes
import math
import numbers

from . import _handle, _lib


class Callback:
    """Base class; override the hooks you need."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass


def wants_batches(hook):
    """Whether a callback has per-batch work: an on_train_batch_end (or
    Keras 2's on_batch_end) of its own, not the base class's no-op."""
    for name in ("on_train_batch_end", "on_batch_end"):
        fn = getattr(hook, name, None)
        if fn is None:
            continue
        base = getattr(Callback, name, None)
        if getattr(fn, "__func__", fn) is not base:
            return True
    return False


def call_batch_end(hook, batch, logs):
    """The hook's per-batch method (on_train_batch_end, else on_batch_end)."""
    fn = getattr(hook, "on_train_batch_end", None)
    if fn is None or getattr(fn, "__func__", fn) is Callback.on_train_batch_end:
        fn = getattr(hook, "on_batch_end", fn)
    if fn is not None:
        fn(batch, logs)


class LambdaCallback(Callback):
    """A callback built from functions, as in Keras."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_end=None):
        super().__init__()
        if on_train_batch_end is not None:
            self.on_train_batch_end = on_train_batch_end
        if on_epoch_begin is not None:
            self.on_epoch_begin = on_epoch_begin
        if on_epoch_end is not None:
            self.on_epoch_end = on_epoch_end
        if on_train_begin is not None:
            self.on_train_begin = on_train_begin
        if on_train_end is not None:
            self.on_train_end = on_train_end


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
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto",
                 restore_best_weights=False):
        super().__init__()
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
