"""Callbacks for Sequential.fit (the Keras protocol, per epoch).

fit() accepts, in ``callbacks=[...]``, Callback objects (or any object with
an ``on_epoch_end(epoch, logs)`` method) and plain callables
``f(epoch, logs)``. libnn trains a whole fit in one C call and reports after
each epoch, so the hooks are: set_model, set_params, on_train_begin,
on_epoch_begin, on_epoch_end, on_train_end. Set ``model.stop_training = True``
in a hook to stop after the current epoch. An exception raised in a hook
stops training and is re-raised by fit().
"""


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


class LambdaCallback(Callback):
    """A callback built from functions, as in Keras."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None):
        super().__init__()
        if on_epoch_begin is not None:
            self.on_epoch_begin = on_epoch_begin
        if on_epoch_end is not None:
            self.on_epoch_end = on_epoch_end
        if on_train_begin is not None:
            self.on_train_begin = on_train_begin
        if on_train_end is not None:
            self.on_train_end = on_train_end


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than min_delta for
    `patience` epochs (Keras's EarlyStopping, without weight restoring)."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto"):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        self.mode = mode
        self.best = None
        self.wait = 0
        self.stopped_epoch = None

    def on_train_begin(self, logs=None):
        self.best = None
        self.wait = 0
        self.stopped_epoch = None

    def _improved(self, value):
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise KeyError(f"EarlyStopping monitors {self.monitor!r}, which is not in the "
                           f"logs (available: {', '.join(sorted(logs))})")
        value = logs[self.monitor]
        if self._improved(value):
            self.best = value
            self.wait = 0
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True


class History(Callback):
    """What fit() returns: ``history`` maps each log name ('loss',
    'accuracy', 'val_loss', 'val_accuracy') to its list of per-epoch values,
    ``epoch`` lists the epochs run, ``params`` holds fit's settings."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"
