"""The phases of Sequential.fit, each readable on its own.

Sequential.fit (models.py) runs them in this order:

1. Arguments and data: ``prepare_data`` checks the arguments and turns x,
   y, the validation data and the sample weights into float32 arrays (a
   ``FitData``); ``class_weights`` adds the class weights once the model is
   built (their length depends on its output width).
2. Callbacks: ``sort_callbacks`` checks them and picks out those libnn runs
   itself (a ``FitCallbacks``, History first); ``start_callbacks`` hands
   every callback the model and the fit's params.
3. The C side: ``EpochBridge`` is the per-epoch callback libnn calls (layer
   statistics, progress line, the on_test_* hooks of the validation, Keras
   callbacks, History) and, when asked for, the per-batch one (the
   progress bar, on_train_batch_end and the next batch's
   on_train_batch_begin, a per-step learning-rate schedule);
   ``fit_options`` fills nn_fit_options; ``install_lr_schedule`` gives libnn
   this fit's learning-rate schedule.
4. The call: ``train`` runs on_train_begin, the one nn_model_fit call
   (stopped within one batch by Ctrl-C: _interrupt), and re-raises a
   callback's exception; ``finish`` runs on_train_end and returns the
   History.

The whole fit is one call across the ABI; the only Python run per epoch is
EpochBridge.on_epoch_end, and per batch nothing unless a progress bar, a
batch callback or a per-step schedule asks for EpochBridge.on_batch_end.

5. evaluate and predict with callbacks (``evaluate_with_callbacks``,
   ``predict_with_callbacks``): Keras's on_test_* / on_predict_* hooks,
   batch by batch only when a callback has a batch hook of its own.
"""

import ctypes
import numbers
import time

import numpy as np

from . import _lib, callbacks as callbacks_module
from . import _arrays, _interrupt, _progress
from ._handle import Error


# --------------------------------------------------------------------------
# 1. Arguments and data
# --------------------------------------------------------------------------

class FitData:
    """The checked arguments of one fit: float32 C-contiguous arrays (the
    validation ones None without validation_data, weights and classes None
    when not given) and plain sizes."""

    __slots__ = ("x", "y", "val_x", "val_y", "split", "weights", "classes",
                 "epochs", "batch_size", "seed", "verbose", "shuffle")


def prepare_data(x, y, batch_size, epochs, verbose, seed, shuffle, validation_split,
                 validation_data, sample_weight):
    """Check fit's arguments and convert its arrays, in the order the errors
    are reported; returns a FitData (classes still None)."""
    if x is None or y is None:
        raise ValueError("fit needs x and y")
    data = FitData()
    data.x = x = _arrays._as_matrix(x, "x")
    data.y = y = _arrays._as_targets(y, "y")
    _arrays._check_rows(x, y, "fit")
    data.epochs = _arrays._size(epochs, "epochs")
    data.batch_size = 32 if batch_size is None else _arrays._size(batch_size, "batch_size")
    data.seed = _seed(seed)
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    data.verbose = verbose
    data.shuffle = shuffle
    data.val_x = data.val_y = None
    data.split = 0.0
    if validation_data is not None:
        data.val_x, data.val_y = _validation_arrays(validation_data, x, y)
    elif validation_split:
        if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real):
            raise ValueError(f"validation_split must be a number in [0, 1), got "
                             f"{validation_split!r}")
        data.split = float(validation_split)  # libnn checks the range and the row counts
    data.weights = None if sample_weight is None else _sample_weights(sample_weight, x.shape[0])
    data.classes = None
    return data


def logs_result(names, values, return_dict):
    """Keras's return value of evaluate-like calls from the log names and
    their values (Python floats): the loss alone without metrics, else
    [loss, metric, ...]; {name: value} with return_dict."""
    result = dict(zip(names, values))
    if return_dict:
        return result
    if len(result) == 1:
        return result["loss"]
    return list(result.values())


def _seed(seed):
    """fit's seed: 0 (continue the model's generator) for None."""
    if seed is None:
        return 0
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not (
            0 < seed < 2 ** 64):
        raise ValueError(f"seed must be None or an integer in [1, 2**64), got {seed!r}")
    return seed


def _validation_arrays(validation_data, x, y):
    """validation_data (x_val, y_val) as two arrays of x's and y's widths."""
    try:
        items = tuple(validation_data)
    except TypeError:
        raise ValueError("validation_data must be a tuple (x_val, y_val)") from None
    if len(items) != 2:
        raise ValueError("validation_data must be a tuple (x_val, y_val), got "
                         f"{len(items)} items")
    val_x = _arrays._as_matrix(items[0], "validation x")
    val_y = _arrays._as_targets(items[1], "validation y")
    _arrays._check_rows(val_x, val_y, "validation_data")
    # nn_fit_options has no column counts for the validation arrays: libnn
    # reads them with x's and y's widths, so they must match here (a
    # narrower array would be read past its end).
    if val_x.shape[1] != x.shape[1]:
        raise ValueError(f"validation x has {val_x.shape[1]} columns, but x has "
                         f"{x.shape[1]}")
    if val_y.shape[1] != y.shape[1]:
        raise ValueError(f"validation y has {val_y.shape[1]} columns, but y has "
                         f"{y.shape[1]}")
    if val_x.shape[0] == 0:
        raise ValueError("validation data has 0 rows")
    return val_x, val_y


def _sample_weights(sample_weight, rows):
    """sample_weight as a float32 C-contiguous vector of `rows` values."""
    try:
        arr = np.asarray(sample_weight, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"sample_weight must be numeric array data: {exc}") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"sample_weight must be a 1-D array (one weight per sample), got an "
                         f"array of shape {arr.shape}")
    if arr.shape[0] != rows:
        raise ValueError(f"sample_weight has {arr.shape[0]} values but x has {rows} samples")
    return np.ascontiguousarray(arr)


def class_weights(model, class_weight):
    """A Keras class_weight dict {class: weight} as a dense float32 vector
    covering at least the built model's classes (two for one output);
    classes not in the dict weigh 1.0. None stays None."""
    if class_weight is None:
        return None
    classes = max(model._handle.get_size(_lib.nn_model_output_dim), 2)
    if not isinstance(class_weight, dict):
        raise ValueError(f"class_weight must be a dict {{class index: weight}}, got "
                         f"{class_weight!r}")
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, numbers.Integral) or key < 0:
            raise ValueError(f"class_weight keys must be class indices (integers >= 0), got "
                             f"{key!r}")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"class_weight[{key}] must be a number, got {value!r}")
    size = max([classes] + [int(k) + 1 for k in class_weight])
    dense = np.ones(size, dtype=np.float32)
    for key, value in class_weight.items():
        dense[int(key)] = value
    return dense


# --------------------------------------------------------------------------
# 2. Callbacks
# --------------------------------------------------------------------------

class FitCallbacks:
    """The callbacks of one fit: `hooks` in call order (`history` first),
    and the ones libnn runs itself (each None when not given)."""

    __slots__ = ("hooks", "history", "stopper", "plateau", "statistics")


def sort_callbacks(callbacks, schedule):
    """Check fit's callbacks against each other and the optimizer's
    learning-rate `schedule`; returns a FitCallbacks with a new History."""
    hooks = list(callbacks or [])
    for hook in hooks:
        if not callable(hook) and not hasattr(hook, "on_epoch_end"):
            raise ValueError(f"a callback must be callable or have on_epoch_end, got "
                             f"{hook!r}")
    stoppers = [h for h in hooks if isinstance(h, callbacks_module.EarlyStopping)]
    plateaus = [h for h in hooks if isinstance(h, callbacks_module.ReduceLROnPlateau)]
    statistics = [h for h in hooks if isinstance(h, callbacks_module.LayerStatistics)]
    if len(statistics) > 1:
        raise ValueError(f"fit takes at most one LayerStatistics (libnn collects the "
                         f"statistics), got {len(statistics)}")
    if len(stoppers) > 1:
        raise ValueError(f"fit takes at most one EarlyStopping (libnn runs it), got "
                         f"{len(stoppers)}")
    if len(plateaus) > 1:
        raise ValueError(f"fit takes at most one ReduceLROnPlateau (libnn runs it), got "
                         f"{len(plateaus)}")
    if plateaus and schedule is not None:
        raise ValueError("ReduceLROnPlateau cannot be combined with an optimizer whose "
                         f"learning_rate is a schedule ({schedule!r}): "
                         "libnn runs one learning-rate schedule at a time")
    result = FitCallbacks()
    result.history = callbacks_module.History()
    result.hooks = [result.history] + hooks
    result.stopper = stoppers[0] if stoppers else None
    result.plateau = plateaus[0] if plateaus else None
    result.statistics = statistics[0] if statistics else None
    return result


def start_callbacks(model, cbs, data):
    """Give every callback the model and the fit's params (Keras' keys), make
    the History model.history, and clear model.stop_training."""
    split = data.split
    samples = data.x.shape[0] if not split else int(data.x.shape[0] * (1.0 - split))
    batch_size = data.batch_size
    params = {"verbose": int(data.verbose), "epochs": data.epochs,
              "steps": -(-samples // batch_size) if batch_size else 0,
              "batch_size": batch_size, "samples": samples}
    for hook in cbs.hooks:
        if hasattr(hook, "set_model"):
            hook.set_model(model)
        if hasattr(hook, "set_params"):
            hook.set_params(params)
    history = cbs.history
    history.model = model
    history.params = params
    model.history = history
    model.stop_training = False


def needs_epoch_callback(cbs, data):
    """Whether fit must hear from libnn after each epoch: to print progress
    (verbose), or for a callback or layer statistics. Otherwise libnn runs
    the whole fit without calling back into Python, and `read_history`
    fills the History in one pass at the end (one call per log name)."""
    return bool(data.verbose) or len(cbs.hooks) > 1 or cbs.statistics is not None


def needs_batch_callback(cbs, bar):
    """Whether the progress bar or a callback's training batch hook
    (callbacks.wants_batches) needs a call after each batch. fit asks
    EpochBridge.wants_batches, which also counts a per-step schedule."""
    return bar is not None or any(callbacks_module.wants_batches(h) for h in cbs.hooks)


def read_history(model, history):
    """The History of a fit that ran without a per-epoch callback, from the
    logs libnn kept (nn_model_fit_logs): the same epochs and values the
    callback would have given it."""
    handle = model._handle
    epochs, count = ctypes.c_size_t(), ctypes.c_size_t()
    handle.call(_lib.nn_model_fit_logs, ctypes.byref(epochs), ctypes.byref(count))
    n = epochs.value
    values = np.empty(n, dtype=np.float64)
    name = ctypes.c_char_p()
    columns = {}
    for i in range(count.value):
        handle.call(_lib.nn_model_fit_log, i, ctypes.byref(name),
                    values.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), n)
        columns[name.value.decode()] = values.tolist()
    history.epoch = list(range(n))
    history.history = columns


def call_hooks(hooks, method, *args):
    """Call `method` on every hook that has it, in order."""
    for hook in hooks:
        fn = getattr(hook, method, None)
        if fn is not None:
            fn(*args)


# --------------------------------------------------------------------------
# 3. The C side: the per-epoch callback, the options, the schedule
# --------------------------------------------------------------------------

class EpochBridge:
    """What libnn calls at the end of each epoch (wrap on_epoch_end in
    _lib.nn_epoch_callback) and, when asked for, of each batch
    (on_batch_end, in _lib.nn_batch_callback). An exception in a callback
    stops the fit and is kept in `error`, for train to raise once the C
    call has returned. epoch_end and batch_end are the same steps for a fit
    that Python drives batch by batch (_stream)."""

    def __init__(self, model, cbs, data):
        self.model = model
        self.hooks = cbs.hooks
        overrides = callbacks_module.overrides
        # Keras's per-step schedule: the rate of each step is set before it
        # (at the start of an epoch, then after each batch for the next)
        optimizer = model._optimizer
        schedule = None if optimizer is None else optimizer.step_schedule
        self.stepper = None if schedule is None else _ScheduleStep(model, schedule)
        self.begin_hooks = [h for h in cbs.hooks if overrides(h, callbacks_module.TRAIN_BATCH_BEGIN)]
        self.end_hooks = [h for h in cbs.hooks if overrides(h, callbacks_module.TRAIN_BATCH_END)]
        # every object batch_end must call ("batch hooks": _stream calls
        # batch_end when there are some)
        self.batch_hooks = ([] if self.stepper is None else [self.stepper]) + [
            h for h in cbs.hooks if callbacks_module.wants_batches(h)]
        # the on_test_* hooks of the validation (array fits: data has the arrays)
        self.test_hooks = [h for h in cbs.hooks if overrides(h, callbacks_module.TEST)]
        self.validation = _validation_rows(data) if self.test_hooks else None
        self.batch_size = getattr(data, "batch_size", None) or 32
        self.stopper = cbs.stopper
        self.history = cbs.history
        self.statistics = cbs.statistics
        self.verbose = data.verbose
        self.epochs = data.epochs
        self.bar = _progress.ProgressBar(data.epochs) if _progress.bar_wanted(data.verbose) else None
        self.batches = 0        # batches per epoch, as the last batch callback said
        self.done = 0           # batches run in this epoch, as the last batch callback said
        self.stop_flag = None   # the fit's nn_fit_options.stop_flag (a c_int), set by train
        self.error = None
        self.tick = None        # time.perf_counter() at the start of the epoch
        self.stats_read = 0     # layer statistics entries already read from libnn

    def wants_batches(self):
        """Whether libnn must call back after each batch: for the progress
        bar, a training batch hook, or a per-step learning-rate schedule.
        Otherwise it calls nothing per batch (verbose=0 and epoch-level
        callbacks cost nothing per batch)."""
        return self.bar is not None or bool(self.batch_hooks)

    def begin_epoch(self, epoch):
        """The start of an epoch (after on_epoch_begin): its bar's clock
        (the header line waits for the first drawing: an epoch that never
        runs prints nothing), the first step's scheduled rate, and
        on_train_batch_begin(0)."""
        self.done = 0
        if self.bar is not None:
            self.bar.begin_epoch(epoch)
        if self.stepper is not None:
            self.stepper.set_rate()
        for hook in self.begin_hooks:
            callbacks_module.call_batch_begin(hook, 0, {})

    def _failed(self, exc):
        """Keep the first exception of a callback for train to raise, and set
        the stop flag: libnn then ends the fit at once (the epoch in
        progress unlogged and unfinished, no more callbacks)."""
        if self.error is None:
            self.error = exc
        if self.stop_flag is not None:
            self.stop_flag.value = 1
        return 1

    def on_epoch_end(self, user_data, epoch, n_logs, names, values):
        """The nn_epoch_callback: returns 1 to stop training, 0 to go on."""
        if self.error is not None:
            return 1
        try:
            if self.statistics is not None:
                self._read_layer_statistics(epoch)
            logs = {names[i].decode(): float(values[i]) for i in range(n_logs)}
            return 1 if self.epoch_end(epoch, logs) else 0
        except BaseException as exc:  # re-raised after the C call returns
            return self._failed(exc)

    def epoch_end(self, epoch, logs):
        """Progress, the callbacks, the next epoch's start; True to stop."""
        now = time.perf_counter()
        elapsed, self.tick = now - self.tick, now
        if self.bar is not None:
            self.bar.end_epoch(self.done or self.batches, self.batches, logs)
        elif self.verbose:
            self._print_progress(epoch, elapsed, logs)
        if self.validation is not None and any(k.startswith("val_") for k in logs):
            self._validation_hooks(logs)
        for hook in self.hooks:
            if hasattr(hook, "on_epoch_end"):
                hook.on_epoch_end(epoch, logs)
            else:
                hook(epoch, logs)
        if self.model.stop_training:
            return True
        stopper = self.stopper
        if stopper is not None and epoch > 0 and stopper.stopped_epoch == epoch:
            return False        # libnn's early stopping ends the fit after this callback
        if epoch + 1 < self.epochs:
            call_hooks(self.hooks, "on_epoch_begin", epoch + 1, {})
            self.begin_epoch(epoch + 1)
        return False

    def _validation_hooks(self, logs):
        """Keras's on_test_* hooks of fit's validation: on_test_begin, the
        validation rows batch by batch when a callback has a test batch hook
        (their logs from libnn's test_on_batch), then on_test_end with
        libnn's validation logs, 'val_' taken off."""
        hooks = self.test_hooks
        call_hooks(hooks, "on_test_begin", {})
        batch_hooks = [h for h in hooks if callbacks_module.overrides(h, callbacks_module.TEST_BATCH)]
        if batch_hooks:
            x, y, weights = self.validation
            run_test_batches(self.model, batch_hooks, x, y, weights, self.batch_size, stoppable=False)
        call_hooks(hooks, "on_test_end", {k[4:]: v for k, v in logs.items() if k.startswith("val_")})

    def on_batch_end(self, user_data, epoch, batch, batches, n_logs, names, values):
        """The nn_batch_callback: returns 1 to stop training, 0 to go on."""
        if self.error is not None:
            return 1
        try:
            logs = {names[i].decode(): float(values[i]) for i in range(n_logs)}
            return 1 if self.batch_end(epoch, batch, batches, logs) else 0
        except BaseException as exc:  # re-raised after the C call returns
            return self._failed(exc)

    def batch_end(self, epoch, batch, batches, logs):
        """After batch `batch` (from 0) of `batches` (0: not known, a
        generator's epoch): the bar, the next step's scheduled rate,
        on_train_batch_end, and the next batch's on_train_batch_begin
        (nothing runs in libnn between the two); True to stop
        (model.stop_training set by a hook). With `batches` unknown the
        next batch's on_train_batch_begin is not called (it may not
        exist)."""
        self.batches = batches
        self.done = batch + 1
        if self.bar is not None:
            self.bar.batch(batch + 1, batches, logs)
        if self.stepper is not None:
            # the next step's rate (after the fit's last step too: then
            # model.learning_rate is schedule(iterations), as in Keras)
            self.stepper.set_rate()
        for hook in self.end_hooks:
            callbacks_module.call_batch_end(hook, batch, logs)
        if self.model.stop_training:
            return True
        if self.begin_hooks and batch + 1 < batches:
            # (a stop_training set here ends the fit after that batch, as
            # Keras checks it after on_train_batch_end)
            for hook in self.begin_hooks:
                callbacks_module.call_batch_begin(hook, batch + 1, {})
        return False

    def before_batch(self, batch, batches):
        """For a fit that Python drives batch by batch (_stream): call it
        before each batch. When the epoch's batch count is not known
        (batches 0: a generator), batch_end cannot call the next batch's
        on_train_batch_begin, so this calls it (batch > 0; begin_epoch
        calls it for batch 0); otherwise it does nothing."""
        if batch == 0 and self.stepper is not None:
            # the first step's rate, now that the model is built (begin_epoch
            # comes before the first batch builds a model that was not)
            self.stepper.set_rate()
        if batch and not batches:
            for hook in self.begin_hooks:
                callbacks_module.call_batch_begin(hook, batch, {})

    def _read_layer_statistics(self, epoch):
        """Hand the entries libnn stored for this epoch, just before calling
        back, to the History and the LayerStatistics callback."""
        model, statistics = self.model, self.statistics
        count = model._handle.get_size(_lib.nn_model_layer_statistics_count)
        while self.stats_read < count:
            entry = model._layer_statistics(self.stats_read)
            self.stats_read += 1
            self.history.layer_stats.append(entry)
            statistics.stats.append(entry)
            statistics.on_layer_stats(epoch, entry)
            # other callbacks that take the statistics (TensorBoard)
            for hook in self.hooks:
                if hook is not statistics and hasattr(hook, "on_layer_stats"):
                    hook.on_layer_stats(epoch, entry)

    def _print_progress(self, epoch, elapsed, logs):
        """The progress line of one epoch."""
        parts = [f"Epoch {epoch + 1}/{self.epochs}", f"{elapsed:.3f}s"]
        parts += [f"{k}: {v:.4g}" if k == "learning_rate" else f"{k}: {v:.4f}"
                  for k, v in logs.items()]
        print(" - ".join(parts), flush=True)


class _ScheduleStep:
    """Keras's per-step learning-rate schedule during fit: libnn's rate
    set to schedule(optimizer.iterations) before each step (a batch hook
    of the EpochBridge, so that _stream's fits step it too)."""

    def __init__(self, model, schedule):
        self.model = model
        self.schedule = schedule

    def set_rate(self):
        """The next step's rate, under the schedule the optimizer has now (a
        callback may have assigned another); nothing before the model is
        built (a generator fit builds it from its first batch)."""
        model = self.model
        if model._handle is None:
            return
        optimizer = model._optimizer
        schedule = None if optimizer is None else optimizer.step_schedule
        if schedule is not None:
            self.schedule = schedule
        model._set_scheduled_rate(self.schedule)

    def on_train_batch_end(self, batch, logs=None):
        """(EpochBridge.batch_end calls set_rate itself, before the hooks.)"""


def _validation_rows(data):
    """(x, y, sample weights or None) of a fit's validation rows, as libnn
    takes them: validation_data, or the last rows of x and y for
    validation_split (libnn's split: the first int(rows * (1 - split))
    rows train); None without validation, or for data that is not arrays
    (_stream's fits)."""
    if getattr(data, "val_x", None) is not None:
        return data.val_x, data.val_y, None
    split = getattr(data, "split", 0.0)
    if not split:
        return None
    at = int(data.x.shape[0] * (1.0 - split))
    weights = None if data.weights is None else data.weights[at:]
    return data.x[at:], data.y[at:], weights


def run_test_batches(model, hooks, x, y, weights, batch_size, stoppable=True):
    """on_test_batch_begin / on_test_batch_end over x, y in batches of
    batch_size rows, the logs of each the means so far (row-weighted)
    of libnn's test_on_batch values; returns the rows run (fewer when a
    hook sets model.stop_evaluating and `stoppable`)."""
    names = model._c_metric_names()
    count = len(names)
    out = (ctypes.c_double * count)()
    totals = np.zeros(count)
    ptr = _arrays._ptr
    rows = x.shape[0]
    seen = 0
    for index, start in enumerate(range(0, rows, batch_size)):
        call_hooks(hooks, "on_test_batch_begin", index, {})
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        wb = None if weights is None else ptr(weights[start:start + batch_size])
        model._handle.shared_call(_lib.nn_model_test_on_batch, ptr(xb), ptr(yb), xb.shape[0],
                                  xb.shape[1], yb.shape[1], wb, out, count)
        totals += np.asarray(out[:count]) * xb.shape[0]
        seen += xb.shape[0]
        call_hooks(hooks, "on_test_batch_end", index, dict(zip(names, (totals / seen).tolist())))
        if stoppable and model.stop_evaluating:
            break
    return seen


def _hook_objects(callbacks, what):
    """evaluate's and predict's callbacks as a list of objects (Keras takes
    Callback objects there; a plain function has no hook to call)."""
    if isinstance(callbacks, (list, tuple)):
        hooks = list(callbacks)
    else:
        raise ValueError(f"{what}: callbacks must be a list of Callback objects, got {callbacks!r}")
    for hook in hooks:
        if isinstance(hook, callbacks_module.Callback):
            continue
        if not any(hasattr(hook, name) for name in (
                callbacks_module.TEST + callbacks_module.PREDICT_BATCH
                + ("on_predict_begin", "on_predict_end", "set_model"))):
            raise ValueError(f"{what}: a callback must be an nn.callbacks.Callback (or have its "
                             f"on_test_* / on_predict_* methods), got {hook!r}")
    return hooks


def _start_hooks(model, hooks, verbose, steps):
    """set_model and set_params as Keras's evaluate and predict give them."""
    params = {"verbose": int(verbose), "epochs": 1, "steps": steps}
    for hook in hooks:
        if hasattr(hook, "set_model"):
            hook.set_model(model)
        if hasattr(hook, "set_params"):
            hook.set_params(params)


def evaluate_with_callbacks(model, x, y, batch_size, verbose, callbacks):
    """Sequential.evaluate(x, y, callbacks=...) on arrays: the hooks in
    Keras's order; returns (names, values) over the rows run (all of
    them unless a hook set model.stop_evaluating)."""
    hooks = _hook_objects(callbacks, "evaluate")
    batch_size = 32 if batch_size is None else batch_size
    _start_hooks(model, hooks, verbose, -(-x.shape[0] // batch_size))
    model.stop_evaluating = False
    call_hooks(hooks, "on_test_begin", {})
    rows = x.shape[0]
    batch_hooks = [h for h in hooks if callbacks_module.overrides(h, callbacks_module.TEST_BATCH)]
    if batch_hooks:
        rows = run_test_batches(model, batch_hooks, x, y, None, batch_size)
    names = model._c_metric_names()
    values = (ctypes.c_double * len(names))()
    xs, ys = x[:rows], y[:rows]
    model._handle.shared_call(_lib.nn_model_evaluate, _arrays._ptr(xs), _arrays._ptr(ys), rows,
                              xs.shape[1], ys.shape[1], values, len(names))
    values = values[:]
    call_hooks(hooks, "on_test_end", dict(zip(names, values)))
    return names, values


def predict_with_callbacks(model, x, batch_size, verbose, callbacks):
    """Sequential.predict(x, callbacks=...) on an array (checked, of a
    built model): the hooks in Keras's order; the outputs of the rows run
    (all of them unless a hook set model.stop_predicting)."""
    hooks = _hook_objects(callbacks, "predict")
    batch_size = 32 if batch_size is None else batch_size
    _start_hooks(model, hooks, verbose, -(-x.shape[0] // batch_size))
    model.stop_predicting = False
    call_hooks(hooks, "on_predict_begin", {})
    batch_hooks = [h for h in hooks if callbacks_module.overrides(h, callbacks_module.PREDICT_BATCH)]
    if batch_hooks and x.shape[0]:
        parts = []
        for index, start in enumerate(range(0, x.shape[0], batch_size)):
            call_hooks(batch_hooks, "on_predict_batch_begin", index, {})
            outputs = model.predict(x[start:start + batch_size])
            parts.append(outputs)
            call_hooks(batch_hooks, "on_predict_batch_end", index, {"outputs": outputs})
            if model.stop_predicting:
                break
        result = np.concatenate(parts, axis=0)
    else:
        result = model.predict(x)
    call_hooks(hooks, "on_predict_end", {})
    return result


def fit_options(data, stopper, c_callback, c_batch_callback=None):
    """nn_fit_options for the call, pointing into data's arrays; returns the
    options and the early-stopping options they point to (the caller keeps
    both, the arrays and the callbacks alive for the whole call)."""
    ptr = _arrays._pointer
    options = _lib.nn_fit_options()
    _lib.nn_fit_options_init_sized(ctypes.byref(options), ctypes.sizeof(options))
    options.epochs = data.epochs
    options.batch_size = data.batch_size
    options.shuffle = 1 if data.shuffle else 0
    options.seed = int(data.seed)
    if data.val_x is not None:
        options.validation_x = ptr(data.val_x)
        options.validation_y = ptr(data.val_y)
        options.validation_rows = data.val_x.shape[0]
    options.validation_split = data.split
    if data.weights is not None:
        options.sample_weights = ptr(data.weights)
    if data.classes is not None:
        options.class_weights = ptr(data.classes)
        options.class_weight_count = data.classes.size
    stopping = stopper._c_options() if stopper is not None else None
    if stopping is not None:
        options.early_stopping = ctypes.pointer(stopping)
    if c_callback is not None:  # else NULL: libnn does not call back
        options.on_epoch_end = c_callback
    if c_batch_callback is not None:
        options.on_batch_end = c_batch_callback
    return options, stopping


def install_lr_schedule(model, plateau):
    """The learning-rate schedule of this fit: the ReduceLROnPlateau given
    here, else the optimizer's (if an earlier fit installed a plateau).
    libnn keeps a plateau's state across fits while its settings stay."""
    if plateau is not None:
        key = plateau._key()
        if model._plateau_key != key:
            model._handle.call(_lib.nn_model_set_lr_schedule,
                               ctypes.byref(plateau._c_options()))
            model._plateau_key = key
    elif model._plateau_key is not None:
        model._apply_schedule()
        model._plateau_key = None


# --------------------------------------------------------------------------
# 4. The call and the end
# --------------------------------------------------------------------------

def train(model, data, cbs, bridge, options):
    """on_train_begin, on_epoch_begin(0), then the one nn_model_fit call.
    A callback's exception is raised here, chained to the C error it caused;
    layer statistics are switched on for this call only."""
    handle, hooks, statistics = model._handle, cbs.hooks, cbs.statistics
    call_hooks(hooks, "on_train_begin", {})
    if model.stop_training:
        options.epochs = 0
    elif data.epochs:
        call_hooks(hooks, "on_epoch_begin", 0, {})
        bridge.begin_epoch(0)
    if statistics is not None:
        bridge.stats_read = handle.get_size(_lib.nn_model_layer_statistics_count)
        handle.call(_lib.nn_model_set_layer_statistics, statistics.every_batches)
    bridge.tick = time.perf_counter()
    x, y = data.x, data.y
    try:
        # Ctrl-C stops libnn between two batches; KeyboardInterrupt follows.
        # libnn reads the flag only when something may set it (Ctrl-C is
        # watched, or a Python callback may fail): the check before each
        # batch costs 4% of a 2-8-1 network's step.
        watch = _interrupt.stop_on_interrupt()
        with watch as stop_flag:
            if watch.active or options.on_epoch_end or options.on_batch_end:
                options.stop_flag = ctypes.pointer(stop_flag)
                bridge.stop_flag = stop_flag
            handle.call_busy("fit", _lib.nn_model_fit, _arrays._ptr(x), _arrays._ptr(y), x.shape[0],
                             x.shape[1], y.shape[1], ctypes.byref(options))
    except Error as c_error:
        if bridge.error is not None:  # the callback's exception comes first
            raise bridge.error from c_error
        if not options.on_epoch_end:
            read_history(model, cbs.history)  # the epochs before the failure
        raise
    finally:
        if statistics is not None:
            # only for this fit (the exception above already holds its message)
            handle.call(_lib.nn_model_set_layer_statistics, 0)
    if not options.on_epoch_end:
        read_history(model, cbs.history)
    if bridge.error is not None:
        raise bridge.error


def finish(cbs):
    """on_train_end with the last epoch's logs; returns the History."""
    history = cbs.history
    last = {k: v[-1] for k, v in history.history.items()}
    call_hooks(cbs.hooks, "on_train_end", last)
    return history
