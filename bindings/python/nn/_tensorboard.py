"""The TensorBoard callback (nn.callbacks.TensorBoard).

Kept in its own module so that ``import nn`` stays light: the event-file
writer (tensorboardX, or PyTorch's torch.utils.tensorboard) is imported
only when a TensorBoard callback is created. callbacks.py re-exports the
class; both take the base class from _callback.py (no import cycle).
"""

import atexit
import itertools
import numbers
import os
import time

import numpy as np

from ._callback import Callback

# Event files are named events.out.tfevents.<seconds>.<host><suffix>, and
# tensorboardX opens its file with mode 'wb': two writers created in the
# same second in the same folder (two fits in a row) would otherwise give
# the second file the first one's name and erase it. The suffix (process,
# then a counter, zero-padded so that files sort in the order they were
# written, which is the order TensorBoard reads a run's files in) keeps
# every file.
_FILE_COUNTER = itertools.count(1)

# The callbacks whose event files are open. A fit that raises does not
# reach on_train_end, and tensorboardX writes from a daemon thread that
# dies with the interpreter, events still queued: the files left open are
# closed at exit (or by the callback's next fit, or its close()). The exit
# handler is registered once a writer exists, after the writer's own
# modules (multiprocessing's queue): handlers run last registered first,
# so it closes the files while their queues still work.
_OPEN = set()
_EXIT_HANDLER = []


def _close_open_files():
    for callback in list(_OPEN):
        callback.close()


# The per-layer statistics that are written as scalars, in this order (the
# keys of an entry of history.layer_stats; see nn.callbacks.LayerStatistics).
LAYER_STATISTICS = ("activation_mean", "activation_std", "dead_fraction", "saturated_fraction",
                    "gradient_norm", "weight_norm", "update_ratio", "batches")


def summary_writer_class():
    """The SummaryWriter class to write event files with: tensorboardX's,
    else PyTorch's torch.utils.tensorboard (the same API, which needs the
    tensorboard package), else ImportError saying what to install."""
    try:
        from tensorboardX import SummaryWriter
        return SummaryWriter
    except ImportError:
        pass
    try:
        from torch.utils.tensorboard import SummaryWriter
        return SummaryWriter
    except ImportError:
        pass
    raise ImportError("nn.callbacks.TensorBoard writes its event files with tensorboardX: "
                      "pip install tensorboardX (or PyTorch's writer: pip install torch "
                      "tensorboard)")


def _flag(value, what):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{what} must be True or False, got {value!r}")
    return bool(value)


def _log_dir(log_dir):
    if isinstance(log_dir, bytes) or not isinstance(log_dir, (str, os.PathLike)):
        raise ValueError(f"log_dir must be a path (str or os.PathLike), got {log_dir!r}")
    path = os.fspath(log_dir)
    if not isinstance(path, str) or not path:
        raise ValueError(f"log_dir must be a non-empty path, got {log_dir!r}")
    return path


def _histogram_freq(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"histogram_freq must be an integer >= 0 (epochs between weight "
                         f"histograms; 0: none), got {value!r}")
    return int(value)


def _update_freq(value):
    """Keras's rule: 'batch' is 1, 'epoch' stays, else an integer >= 1."""
    if value == "batch":
        return 1
    if value == "epoch":
        return "epoch"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"update_freq must be 'epoch', 'batch' or an integer >= 1 (batches "
                         f"between batch-level writes), got {value!r}")
    return int(value)


def _profile_batch(value):
    """0 (or Keras's pair (0, 0), or '0'): profiling off, the only setting
    libnn can honour."""
    off = (isinstance(value, numbers.Integral) and not isinstance(value, bool) and value == 0) \
        or value in ("0", "0,0") \
        or (isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v == 0
            for v in value))
    if not off:
        raise ValueError(f"profile_batch={value!r}: libnn has no profiler for TensorBoard to "
                         "trace batches with (Keras runs the TensorFlow or JAX profiler, and "
                         "refuses this too with the torch and numpy backends); leave "
                         "profile_batch=0")
    return 0


class TensorBoard(Callback):
    """Write the training logs as TensorBoard event files, as Keras's
    ``keras.callbacks.TensorBoard`` does; view them with
    ``tensorboard --logdir logs``.

    ``TensorBoard(log_dir="logs", histogram_freq=0, write_graph=True,
    write_images=False, write_steps_per_second=False, update_freq="epoch",
    profile_batch=0, embeddings_freq=0, embeddings_metadata=None)``

    Keras's runs and tags, after each epoch:

    - ``log_dir/train``: ``epoch_loss``, ``epoch_<metric>`` (e.g.
      ``epoch_accuracy``) and ``epoch_learning_rate``;
    - ``log_dir/validation`` (with validation data): ``epoch_loss`` and
      ``epoch_<metric>``, the ``val_`` logs without their prefix.

    The step is the epoch. ``epoch_learning_rate`` is the rate the epoch
    trained with: the logs' (History's) 'learning_rate' under a per-epoch
    schedule (nn.schedules, ReduceLROnPlateau); without one, the
    optimizer's rate as libnn holds it at the end of the epoch
    (model.learning_rate), which is what Keras writes in every case (under
    Keras's per-step schedules, the next step's rate).
    Scalars are float32 in the event file, as in Keras.

    histogram_freq: every `histogram_freq` epochs (epochs 0, n, 2n, ...; 0:
        never), a histogram of each weight array of each layer, with its
        values at the end of that epoch, tag ``<layer name>/<weight
        name>/histogram`` (``dense/kernel/histogram``,
        ``batch_normalization/moving_mean/histogram``), in the train run.
        Keras 3 names them ``<weight name>/histogram`` (``kernel/histogram``,
        the same tag for every layer); tf.keras 2 ``dense/kernel_0/histogram``.
        Unlike older Keras, no validation data is needed. A weight holding
        NaN or infinity stops the fit with ValueError (a histogram of it
        cannot be drawn; model.anomaly_detection finds where it came from).
    write_images: with histogram_freq, also each weight array as a
        grayscale image, tag ``<layer name>/<weight name>/image``, shaped as
        Keras shapes it (a kernel with more rows than columns transposed, a
        bias as one column). libnn scales each image from its minimum
        (black) to its maximum (white); Keras clips the raw values to
        [0, 1]. Refused without histogram_freq (Keras would write nothing).
    write_graph: libnn has no computation graph to write. With True (the
        default) the model's ``summary()`` table is written as text (tag
        ``model_summary``, TensorBoard's Text dashboard) at the first step of
        each fit, in place of Keras's model graph; False writes nothing.
    write_steps_per_second: as Keras, ``epoch_steps_per_second`` (batches
        trained in the epoch over the epoch's time, validation included) in
        the train run, and ``batch_steps_per_second`` with the batch-level
        scalars. libnn calls back after a batch but not before it, so a
        batch's time runs from the end of the previous batch (or from the
        start of the epoch), the callbacks' time included.
    update_freq: 'epoch' (default): write after each epoch only. 'batch' or
        an integer n: also, every n-th batch, ``batch_loss`` and
        ``batch_<metric>`` in the train run (the epoch's logs so far: the
        mean over its batches run, as Keras's), at step = the number of
        batches trained so far, counting from 1 (as Keras 3). With 'epoch',
        libnn makes no call back into Python per batch for this callback.
    profile_batch: libnn has no profiler: 0 (the default; also Keras's
        other spellings of "off", (0, 0) and "0") only; any other value is
        refused with ValueError (Keras refuses it too on its torch and
        numpy backends).
    embeddings_freq, embeddings_metadata: libnn has no Embedding layer: 0
        and None only; other values are refused with ValueError.

    Per-layer statistics: when the fit also has an
    ``nn.callbacks.LayerStatistics()`` callback, each epoch's statistics
    (``history.layer_stats``) are written too, in the train run, as
    ``layer_stats/<layer name>/<statistic>`` for the statistics
    activation_mean, activation_std, dead_fraction, saturated_fraction,
    gradient_norm, weight_norm, update_ratio and batches (the number of
    batches sampled); a statistic that does not apply to a layer (None in
    the History) is not written. Keras has no equivalent.

    Several fits with the same callback continue one another: the second
    fit's first epoch is written at the step after the first fit's last
    (and its batches after the first fit's), as Keras does when a fit is
    continued with initial_epoch (libnn's fit has no initial_epoch: its
    schedules already count every epoch the model trained). Each fit adds
    new event files to the runs (one per run), and closes them when it
    ends (Keras closes its writers then too). They are flushed after each
    epoch, so that a running TensorBoard shows the epochs as they end
    (tensorboardX hands events to a writer thread, which may write the
    last ones after the flush; it flushes by itself every two minutes). A
    fit that raises leaves them open: the callback's next fit, its
    ``close()``, or the end of the program closes them, with every epoch
    finished before the error. A new callback starts again at step 0: give
    it a new log_dir, or TensorBoard shows the two curves over each other.

    Under nn.distributed only rank 0 writes (Keras writes the chief's).

    The files are written with tensorboardX's SummaryWriter, else with
    PyTorch's torch.utils.tensorboard.SummaryWriter; ImportError when
    neither is installed (``pip install tensorboardX``). Bad arguments
    raise ValueError.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        self.log_dir = _log_dir(log_dir)
        self.histogram_freq = _histogram_freq(histogram_freq)
        self.write_graph = _flag(write_graph, "write_graph")
        self.write_images = _flag(write_images, "write_images")
        if self.write_images and not self.histogram_freq:
            raise ValueError("write_images=True writes the weights as images with their "
                             "histograms: give histogram_freq >= 1 too (with "
                             "histogram_freq=0 nothing would be written)")
        self.write_steps_per_second = _flag(write_steps_per_second, "write_steps_per_second")
        self.update_freq = _update_freq(update_freq)
        self.profile_batch = _profile_batch(profile_batch)
        if embeddings_freq != 0 or isinstance(embeddings_freq, bool):
            raise ValueError(f"embeddings_freq={embeddings_freq!r}: libnn has no Embedding "
                             "layer to visualize; leave embeddings_freq=0")
        self.embeddings_freq = 0
        if embeddings_metadata is not None:
            raise ValueError(f"embeddings_metadata={embeddings_metadata!r}: libnn has no "
                             "Embedding layer to visualize; leave embeddings_metadata=None")
        self.embeddings_metadata = None
        # Fail now rather than after a fit has started.
        self._writer_class = summary_writer_class()
        self._writers = {}          # "train" / "validation" -> SummaryWriter, while open
        self._steps_written = 0     # epochs written by earlier fits: the next fit's first step
        self._batches_written = 0   # batches seen by earlier fits and this one
        self._step_base = 0         # this fit's first step
        self._active = False        # writing during this fit (rank 0)
        self._summary_due = False   # the model summary text is still to write in this fit
        self._stats_read = 0        # entries of this fit's history.layer_stats written
        self._stats_written = []    # entries written through on_layer_stats in this fit
        self._epoch_batches = 0     # batches of the current epoch (batch hook)
        self._epoch_start = None    # time.perf_counter() at on_epoch_begin
        self._batch_tick = None     # time.perf_counter() at the previous batch end
        if self.update_freq != "epoch" or self.write_steps_per_second:
            # An instance attribute, not a method of the class: fit asks
            # libnn to call back after every batch only for callbacks that
            # have their own on_train_batch_end (callbacks.wants_batches).
            self.on_train_batch_end = self._batch_end

    # -- the writers ---------------------------------------------------------

    def _writer(self, run):
        """The open writer of `run` ('train' or 'validation'), created on first
        use (as Keras: a run with nothing to write gets no file)."""
        writer = self._writers.get(run)
        if writer is None:
            suffix = f".{os.getpid()}.{next(_FILE_COUNTER):06d}.nn"
            writer = self._writer_class(os.path.join(self.log_dir, run), filename_suffix=suffix)
            self._writers[run] = writer
            _OPEN.add(self)
            if not _EXIT_HANDLER:
                _EXIT_HANDLER.append(atexit.register(_close_open_files))
        return writer

    def _flush(self):
        for writer in self._writers.values():
            writer.flush()

    def close(self):
        """Flush and close the event files (fit does it when it ends; for a
        fit that raised, call it to release the files at once). Safe to call
        twice; a later fit opens new ones."""
        writers, self._writers = self._writers, {}
        _OPEN.discard(self)
        for writer in writers.values():
            writer.close()

    # -- the hooks ------------------------------------------------------------

    def on_train_begin(self, logs=None):
        from . import distributed
        self.close()                 # files left open by a fit that raised
        self._active = distributed.is_main()
        self._step_base = self._steps_written
        self._summary_due = self.write_graph
        self._stats_read = 0
        self._stats_written = []

    def on_train_end(self, logs=None):
        self.close()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_batches = 0
        self._epoch_start = self._batch_tick = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        step = self._step_base + epoch
        self._steps_written = step + 1
        if not self._active:
            return
        logs = dict(logs or {})
        if self._summary_due:
            self._write_summary(self._step_base)
            self._summary_due = False
        self._write_epoch_logs(step, logs)
        history = getattr(self.model, "history", None)
        entries = getattr(history, "layer_stats", None) or []
        for entry in entries[self._stats_read:]:
            if not any(entry is done for done in self._stats_written):
                self._write_layer_statistics(step, entry)
        self._stats_read = len(entries)
        self._stats_written = []
        if self.histogram_freq and step % self.histogram_freq == 0:
            self._write_weights(step)
        self._flush()

    def on_layer_stats(self, epoch, stats):
        """Write one epoch's per-layer statistics (an entry of
        history.layer_stats) at that epoch's step. on_epoch_end writes the
        entries that fit puts in model.history.layer_stats, so this is only
        needed where fit hands them to every callback; an entry written
        here is not written again by on_epoch_end."""
        if self._active:
            self._write_layer_statistics(self._step_base + epoch, stats)
            self._stats_written.append(stats)

    def _batch_end(self, batch, logs=None):
        """on_train_batch_end (installed by __init__ when update_freq is not
        'epoch' or write_steps_per_second is on)."""
        now = time.perf_counter()
        elapsed = now - self._batch_tick if self._batch_tick is not None else None
        self._batch_tick = now
        self._epoch_batches += 1
        self._batches_written += 1
        step = self._batches_written
        if not self._active or self.update_freq == "epoch" or step % self.update_freq:
            return
        writer = self._writer("train")
        for name, value in (logs or {}).items():
            writer.add_scalar("batch_" + name, float(value), step)
        if self.write_steps_per_second and elapsed:
            writer.add_scalar("batch_steps_per_second", 1.0 / elapsed, step)

    # -- what is written ---------------------------------------------------------

    def _write_epoch_logs(self, step, logs):
        """Keras's epoch_* scalars: the train logs and the learning rate in the
        train run, the val_ logs (prefix removed) in the validation run."""
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        validation = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        if "learning_rate" not in train and self.model.optimizer is not None:
            train["learning_rate"] = self.model.learning_rate
        if self.write_steps_per_second and self._epoch_start is not None:
            elapsed = time.perf_counter() - self._epoch_start
            if elapsed > 0:
                train["steps_per_second"] = self._epoch_batches / elapsed
        for run, values in (("train", train), ("validation", validation)):
            if values:
                writer = self._writer(run)
                for name, value in values.items():
                    writer.add_scalar("epoch_" + name, float(value), step)

    def _write_layer_statistics(self, step, entry):
        writer = self._writer("train")
        for layer in entry.get("layers", []):
            for key in LAYER_STATISTICS:
                value = layer.get(key)
                if value is not None:
                    writer.add_scalar(f"layer_stats/{layer['name']}/{key}", float(value), step)

    def _layer_weights(self):
        """[(tag prefix, array)] for every weight array, layer by layer:
        ('dense/kernel', kernel), ('dense/bias', bias), ..."""
        model = self.model
        weights = model.get_weights()
        names = [name for name, _, _ in model.weight_info()]
        result, index = [], 0
        for layer in model.layers:
            for _ in range(layer._weight_count):
                result.append((f"{layer.name}/{names[index]}", weights[index]))
                index += 1
        return result

    def _write_weights(self, step):
        writer = self._writer("train")
        for name, array in self._layer_weights():
            if not np.all(np.isfinite(array)):
                raise ValueError(f"TensorBoard: weight {name} holds NaN or infinity at epoch "
                                 f"{step}, so no histogram of it can be written (set "
                                 "model.anomaly_detection = True to stop where it appears)")
            writer.add_histogram(f"{name}/histogram", array.astype(np.float64), step)
            if self.write_images:
                writer.add_image(f"{name}/image", _weight_image(array), step, dataformats="HW")

    def _write_summary(self, step):
        lines = []
        self.model.summary(print_fn=lines.append)
        text = "\n".join(lines)
        # TensorBoard renders text as Markdown: a code block keeps the table.
        self._writer("train").add_text("model_summary", "```\n" + text + "\n```", step)

    def __repr__(self):
        return (f"TensorBoard(log_dir={self.log_dir!r}, histogram_freq={self.histogram_freq}, "
                f"write_graph={self.write_graph}, write_images={self.write_images}, "
                f"write_steps_per_second={self.write_steps_per_second}, "
                f"update_freq={self.update_freq!r})")


def _weight_image(array):
    """A weight array (libnn's are vectors and matrices) as a 2-D float
    image in [0, 1], in Keras's layout: a vector as one column, a matrix
    with more rows than columns transposed; scaled from its minimum (0) to
    its maximum (1), a constant array gray."""
    image = np.asarray(array, dtype=np.float64)
    if image.ndim == 1:
        image = image.reshape(-1, 1)
    elif image.shape[0] > image.shape[1]:
        image = image.T
    low, high = float(image.min()), float(image.max())
    if high == low:
        return np.full(image.shape, 0.5, dtype=np.float32)
    return ((image - low) / (high - low)).astype(np.float32)
