"""fit, evaluate and predict on data that does not fit in memory (issue 13,
item 3): the batches come one at a time, and Python drives the epoch,
handing each batch to libnn (nn_model_train_on_batch, the step nn_model_fit
takes for a batch; nn_model_test_on_batch; nn_model_predict).

What counts as such data (``is_stream``), besides numpy arrays:

- a Sequence-like object, Keras's PyDataset protocol: ``len(ds)`` batches,
  ``ds[i]`` the i-th, ``ds.on_epoch_end()`` (if it has one) after each
  epoch; with shuffle=True the batch order is shuffled every epoch;
- a generator, an iterator or any other iterable of batches: with
  steps_per_epoch, each epoch takes that many batches from it (an iterable
  is started again when it runs out); without, an epoch lasts until it runs
  out (an iterable is iterated afresh every epoch; a one-shot generator that
  has nothing left for the next epoch ends the training there with a
  warning, as Keras does);
- numpy memmap arrays (np.memmap x, and y, sample_weight): read batch by
  batch from the mapped file, the mapped pages given back to the OS as the
  epoch goes (madvise MADV_DONTNEED), so a dataset larger than memory
  trains with the resident memory of a few batches; shuffle=True shuffles
  the rows every epoch (numpy's generator seeded by fit's seed).

A batch is (x, y) or (x, y, sample_weight) for fit and evaluate; x, or a
tuple whose first item is x, for predict. A background thread takes the
next batch from the source (a generator's own code runs there), converts
and checks it while libnn trains on the current one (which releases the
GIL), so a source slower than training is the only bottleneck. An
exception raised by the source stops fit and is re-raised as it is (the
model keeps the weights of the last batch trained); a batch of the wrong
shape or type is a ValueError naming the batch; Ctrl-C stops within one
batch.

An epoch's logs are the means over its batches, each weighted by its rows:
exactly fit's for the loss and the metrics that are means over samples
(accuracy, mae, ...); precision, recall and AUC, which are not, are
averaged over batches. EarlyStopping runs here; ReduceLROnPlateau,
LayerStatistics and learning-rate schedules (libnn's epoch machinery) are
refused with a clear error.
"""

import ctypes
import mmap
import os
import queue
import threading
import time
import warnings

import numpy as np

from . import _arrays, _fit, _lib
from ._handle import Error
from .layers import positive_int


def is_stream(x):
    """Whether x is batch-by-batch data (see the module docstring) rather
    than an array: a memmap, a Sequence-like object, or an iterable that is
    not array data."""
    if isinstance(x, np.memmap):
        return True
    if x is None or isinstance(x, (np.ndarray, list, tuple, str, bytes)) or hasattr(x, "__array__"):
        return False
    if hasattr(x, "__getitem__") and hasattr(x, "__len__"):
        return True
    return hasattr(x, "__next__") or hasattr(x, "__iter__")


def _is_sequence(x):
    return hasattr(x, "__getitem__") and hasattr(x, "__len__") and not isinstance(x, np.ndarray)


# --------------------------------------------------------------------------
# Sources: the raw batches of one epoch
# --------------------------------------------------------------------------

class SequenceSource:
    def __init__(self, ds, steps, shuffle, seed):
        self.ds = ds
        count = len(ds)
        self.steps = count if steps is None else min(steps, count)
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)

    def epoch(self):
        order = self.rng.permutation(len(self.ds))[:self.steps] if self.shuffle else range(self.steps)
        for i in order:
            yield self.ds[int(i)]

    def end_epoch(self):
        hook = getattr(self.ds, "on_epoch_end", None)
        if callable(hook):
            hook()


class IterableSource:
    """Batches from a generator, iterator or iterable."""

    def __init__(self, source, steps):
        self.source = source
        self.steps = steps
        self.one_shot = hasattr(source, "__next__") or iter(source) is source
        self.iterator = None
        self.exhausted = False     # a one-shot source has run out

    def epoch(self):
        if self.steps is None:
            iterator = self.source if self.one_shot else iter(self.source)
            count = 0
            for batch in iterator:
                count += 1
                yield batch
            if count == 0:
                self.exhausted = True
            return
        for _ in range(self.steps):
            if self.iterator is None:
                self.iterator = iter(self.source)
            try:
                yield next(self.iterator)
            except StopIteration:
                if self.one_shot:
                    self.exhausted = True
                    return
                self.iterator = iter(self.source)
                try:
                    yield next(self.iterator)
                except StopIteration:
                    self.exhausted = True
                    return

    def end_epoch(self):
        pass


class _FileRows:
    """The rows of a memmap that maps its file from `offset` (not a view of
    another memmap) and is C-contiguous, read with os.preadv straight from
    the file into a new array: the process maps nothing, so its resident
    memory holds one batch, whatever the file's size. (Reading the mapping
    instead maps more than is read: each page fault maps its neighbours too
    - fault-around, large folios - and 64 MB of random rows of a 1 GB file
    had made the whole file resident.)"""

    def __init__(self, a):
        self.fd = os.open(a.filename, os.O_RDONLY)
        self.offset = a.offset
        self.row_bytes = a.strides[0]
        self.row_shape = a.shape[1:]
        self.dtype = a.dtype

    @staticmethod
    def usable(a):
        """Only a shared mapping reads what its file holds: a copy-on-write
        one (mode "c") may hold edits of its own."""
        return (isinstance(a, np.memmap) and a.mode in ("r", "r+", "w+") and isinstance(a.base, mmap.mmap)
                and a.flags.c_contiguous and a.ndim >= 1 and a.filename is not None and hasattr(os, "preadv"))

    def take(self, rows):
        """A copy of rows (a slice with step 1, or sorted row indices)."""
        if isinstance(rows, slice):
            runs = [(rows.start, rows.stop - rows.start)]
            count = rows.stop - rows.start
        else:
            runs, count = [], len(rows)
            start = previous = int(rows[0])
            for r in rows[1:]:
                r = int(r)
                if r != previous + 1:
                    runs.append((start, previous - start + 1))
                    start = r
                previous = r
            runs.append((start, previous - start + 1))
        out = np.empty((count,) + self.row_shape, dtype=self.dtype)
        flat = out.reshape(count, -1) if count else out
        at = 0
        for first, n in runs:
            view = memoryview(flat[at:at + n]).cast("B")
            done = 0
            while done < len(view):
                got = os.preadv(self.fd, [view[done:]], self.offset + first * self.row_bytes + done)
                if got <= 0:
                    raise OSError(f"{self.fd}: the file ended before row {first + n} (it is shorter than "
                                  "the memmap's shape)")
                done += got
            at += n
        return out

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class ArraySource:
    """Batches of rows of (memmap) arrays, each a copy: read from the file
    with os.preadv (_FileRows) when the memmap maps a file directly, else
    copied out of the mapping, whose pages are then given back to the OS
    every RELEASE_BYTES read (madvise MADV_DONTNEED; they stay in the page
    cache)."""

    RELEASE_BYTES = 16 << 20

    def __init__(self, x, y, weights, batch_size, shuffle, seed, steps=None):
        self.arrays = (x, y, weights)
        self.readers = tuple(_FileRows(a) if _FileRows.usable(a) else None for a in self.arrays)
        self.rows = x.shape[0]
        self.batch_size = batch_size
        self.steps = -(-self.rows // batch_size) if steps is None else steps
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)
        self.read = 0

    def epoch(self):
        b = self.batch_size
        order = self.rng.permutation(self.rows) if self.shuffle else None
        for step in range(self.steps):
            start = step * b
            if start >= self.rows:
                return
            if order is None:
                rows = slice(start, min(start + b, self.rows))
            else:
                rows = np.sort(order[start:start + b])     # in file order: longer runs, fewer seeks
            batch = tuple(None if a is None else reader.take(rows) if reader is not None else np.array(a[rows])
                          for a, reader in zip(self.arrays, self.readers))
            self.read += sum(a.nbytes for a, reader in zip(batch, self.readers) if a is not None and reader is None)
            if self.read >= self.RELEASE_BYTES:
                self.release()
            yield batch

    def release(self):
        """Give the mapped pages read so far back to the OS."""
        self.read = 0
        for a in self.arrays:
            mapping = getattr(a, "_mmap", None)
            if getattr(a, "mode", "c") == "c":
                continue            # MADV_DONTNEED would drop a private mapping's own edits
            if isinstance(mapping, mmap.mmap) and hasattr(mapping, "madvise"):
                try:
                    mapping.madvise(mmap.MADV_DONTNEED)
                except (OSError, ValueError):
                    pass

    def end_epoch(self):
        self.release()

    def close(self):
        for reader in self.readers:
            if reader is not None:
                reader.close()


def make_source(x, y, sample_weight, batch_size, steps, shuffle, seed, what):
    """The source of x (see the module docstring) for fit/evaluate/predict."""
    if isinstance(x, np.memmap) or isinstance(y, np.memmap):
        xs = _array_rows(x, "x")
        ys = None if y is None else _array_rows(y, "y", column=True)
        if ys is not None and ys.shape[0] != xs.shape[0]:
            raise ValueError(f"{what}: x and y have different numbers of samples: {xs.shape[0]} and {ys.shape[0]}")
        ws = None if sample_weight is None else _fit._sample_weights(sample_weight, xs.shape[0])
        return ArraySource(xs, ys, ws, batch_size or 32, shuffle, seed, steps)
    if y is not None:
        raise ValueError(f"{what}: y must not be given when x is a generator or a Sequence "
                         "(its batches are (x, y) or (x, y, sample_weight) tuples)")
    if sample_weight is not None:
        raise ValueError(f"{what}: sample_weight must not be given when x is a generator or a "
                         "Sequence (give it in the batches: (x, y, sample_weight))")
    if _is_sequence(x):
        return SequenceSource(x, steps, shuffle, seed)
    return IterableSource(x, steps)


def _array_rows(a, what, column=False):
    """A memmap (or array) as 2-D without reading it: (rows, cols), a 1-D
    target as a column view."""
    if not isinstance(a, np.ndarray):
        a = np.asarray(a)
    if column and a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array (samples, features), got an array of shape {a.shape}")
    return a


# --------------------------------------------------------------------------
# The prefetching thread
# --------------------------------------------------------------------------

class _SourceError:
    """An exception raised by the source itself: re-raised as it is."""

    def __init__(self, error):
        self.error = error


class Prefetcher:
    """Takes the batches of one epoch from a source in a background thread,
    converted by `convert(index, raw)`, `depth` ahead of the consumer."""

    _END = object()

    def __init__(self, source, convert, depth=2):
        self.queue = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.convert = convert
        self.thread = threading.Thread(target=self._run, args=(source,), name="nn-batch-prefetch",
                                       daemon=True)
        self.thread.start()

    def _put(self, item):
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, source):
        index = 0
        iterator = source.epoch()
        while not self.stop.is_set():
            try:
                raw = next(iterator)
            except StopIteration:
                break
            except BaseException as exc:           # the source's own exception
                self._put(_SourceError(exc))
                return
            try:
                item = self.convert(index, raw)
            except BaseException as exc:           # a bad batch: ValueError naming it
                self._put(exc)
                return
            if not self._put(item):
                return
            index += 1
        self._put(self._END)

    def __iter__(self):
        while True:
            item = self.queue.get()
            if item is self._END:
                return
            if isinstance(item, _SourceError):
                raise item.error
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self):
        self.stop.set()
        while True:              # unblock a put in progress
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        self.thread.join(timeout=5)


def _converter(what, with_targets, x_width=None):
    """convert(index, raw) -> (x, y, weights) float32 arrays, raising a
    ValueError that names the batch for a malformed one."""
    def convert(index, raw):
        try:
            if with_targets:
                if not isinstance(raw, (tuple, list)) or len(raw) not in (2, 3):
                    raise ValueError("a batch must be a tuple (x, y) or (x, y, sample_weight), got "
                                     f"{type(raw).__name__}"
                                     + (f" of {len(raw)} items" if isinstance(raw, (tuple, list)) else ""))
                x = _arrays._as_matrix(raw[0], "x")
                y = _arrays._as_targets(raw[1], "y")
                _arrays._check_rows(x, y, "the batch")
                w = None
                if len(raw) == 3 and raw[2] is not None:
                    w = _fit._sample_weights(raw[2], x.shape[0])
            else:
                x = raw[0] if isinstance(raw, (tuple, list)) else raw
                x = _arrays._as_matrix(x, "x")
                y = w = None
            if x.shape[0] == 0:
                raise ValueError("the batch has 0 rows")
            if x_width is not None and x.shape[1] != x_width:
                raise ValueError(f"x has {x.shape[1]} columns, the model takes {x_width}")
            return x, y, w
        except ValueError as exc:
            raise ValueError(f"{what}: batch {index}: {exc}") from None
    return convert


def _named(error, what, index):
    """libnn's error about batch `index`, as the same class naming it."""
    return type(error)(f"{what}: batch {index}: {error}", error.status)


# --------------------------------------------------------------------------
# fit
# --------------------------------------------------------------------------

class _StreamData:
    """What EpochBridge and the callbacks' params read of a fit."""

    def __init__(self, epochs, verbose, batch_size):
        self.epochs, self.verbose, self.batch_size = epochs, verbose, batch_size


def fit(model, x, y, batch_size, epochs, verbose, callbacks, validation_data, shuffle, class_weight,
        sample_weight, seed, steps_per_epoch, validation_steps, validation_split):
    """Sequential.fit on batch-by-batch data (see the module docstring)."""
    epochs = _arrays._size(epochs, "epochs")
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    steps = None if steps_per_epoch is None else positive_int(steps_per_epoch, "steps_per_epoch")
    if validation_split:
        raise ValueError("validation_split is not supported when x is a generator, a Sequence or a "
                         "memmap: give validation_data")
    if batch_size is not None:
        batch_size = _arrays._size(batch_size, "batch_size")
        if not isinstance(x, np.memmap) and not isinstance(y, np.memmap):
            raise ValueError("batch_size must not be given when x is a generator or a Sequence "
                             "(its batches have their own size)")
    seed = _fit._seed(seed)
    source = make_source(x, y, sample_weight, batch_size, steps, shuffle, seed or None, "fit")
    try:
        model._require_compiled("fit")
        if model._optimizer.schedule is not None:
            raise ValueError("a learning-rate schedule is not supported when x is a generator, a Sequence "
                             "or a memmap (libnn steps it per epoch inside nn_model_fit): use a constant "
                             "learning_rate, or train on arrays")
        cbs = _fit.sort_callbacks(callbacks, None)
        for kind in ("plateau", "statistics"):
            if getattr(cbs, kind) is not None:
                raise ValueError(f"{type(getattr(cbs, kind)).__name__} is not supported when x is a "
                                 "generator, a Sequence or a memmap (libnn runs it inside nn_model_fit)")
        validation = _validation(validation_data, validation_steps)
        data = _StreamData(epochs, verbose, batch_size)
        history = cbs.history
        params = {"verbose": int(verbose), "epochs": epochs, "steps": source.steps}
        for hook in cbs.hooks:
            if hasattr(hook, "set_model"):
                hook.set_model(model)
            if hasattr(hook, "set_params"):
                hook.set_params(params)
        history.model, history.params = model, params
        model.history = history
        model.stop_training = False
        bridge = _fit.EpochBridge(model, cbs, data)
        _fit.call_hooks(cbs.hooks, "on_train_begin", {})
        stopper, best = cbs.stopper, None
        for epoch in range(epochs):
            if model.stop_training:
                break
            _fit.call_hooks(cbs.hooks, "on_epoch_begin", epoch, {})
            bridge.begin_epoch(epoch)
            bridge.tick = time.perf_counter()
            logs = _train_epoch(model, source, epoch, class_weight, bridge)
            if logs is None:               # a one-shot source with nothing left
                warnings.warn("the training data ran out of batches: training stopped after "
                              f"{epoch} epoch(s); give steps_per_epoch and a source that can "
                              "produce epochs x steps_per_epoch batches (as Keras)", stacklevel=3)
                break
            if validation is not None:
                logs.update({"val_" + k: v for k, v in _evaluate_source(model, validation(), "validation").items()})
            if stopper is not None and stopper.monitor not in logs:
                raise ValueError(f"early stopping monitors '{stopper.monitor}', but this fit logs "
                                 f"{', '.join(logs)}" + (" (give validation data)" if stopper.monitor.startswith("val_")
                                                         and validation is None else ""))
            stop = bridge.epoch_end(epoch, logs)
            if stopper is not None:
                if stopper.best_epoch == epoch and stopper.wait == 0 and stopper.restore_best_weights:
                    best = model.get_weights()
                if stopper.stopped_epoch == epoch and epoch > 0:
                    stop = True
            if stop:
                break
        if best is not None:
            model.set_weights(best)
        return _fit.finish(cbs)
    finally:
        _close(source)


def _close(source):
    close = getattr(source, "close", None)
    if close is not None:
        close()


def _validation(validation_data, validation_steps):
    """A function giving the validation source of each epoch, or None."""
    if validation_data is None:
        return None
    steps = None if validation_steps is None else positive_int(validation_steps, "validation_steps")
    if isinstance(validation_data, tuple) and not is_stream(validation_data[0]):
        items = validation_data
        if len(items) not in (2, 3):
            raise ValueError("validation_data must be (x_val, y_val), (x_val, y_val, sample_weight), "
                             f"a generator or a Sequence, got {len(items)} items")
        arrays = (_arrays._as_matrix(items[0], "validation x"), _arrays._as_targets(items[1], "validation y"),
                  None if len(items) == 2 else items[2])
        return lambda: [arrays]
    if isinstance(validation_data, tuple):       # (memmap x, memmap y)
        vx, vy = validation_data[0], validation_data[1]

        def memmap_batches():
            source = ArraySource(_array_rows(vx, "validation x"), _array_rows(vy, "validation y", column=True),
                                 None, 1024, False, None, None)
            try:
                yield from source.epoch()
            finally:
                source.close()
        return memmap_batches
    if _is_sequence(validation_data):
        source = SequenceSource(validation_data, steps, False, None)
        return source.epoch
    iterable = IterableSource(validation_data, steps)
    return iterable.epoch


def _train_epoch(model, source, epoch, class_weight, bridge):
    """One epoch of train_on_batch calls over the source's batches; the
    epoch's logs, or None if the source had no batch for it."""
    names = None
    totals, rows_seen, step = None, 0, -1
    convert = _converter("fit", True, model._input_dim)
    prefetch = Prefetcher(source, convert)
    steps = source.steps or 0
    try:
        for step, (x, y, w) in enumerate(prefetch):
            if names is None:
                model._ensure_built_from(x)
                names = model._c_metric_names()
                totals = np.zeros(len(names))
                out = (ctypes.c_double * len(names))()     # one buffer for the epoch's batches
            weights = model._batch_weights(x, y, w, class_weight)
            bridge.before_batch(step, steps)     # on_train_batch_begin when the batch count is unknown
            try:
                model._handle.call_busy("fit", _lib.nn_model_train_on_batch, _arrays._ptr(x), _arrays._ptr(y),
                                        x.shape[0], x.shape[1], y.shape[1],
                                        None if weights is None else _arrays._ptr(weights), out, len(names))
            except Error as exc:
                raise _named(exc, "fit", step) from None
            rows = x.shape[0]
            totals += np.asarray(out[:len(names)]) * rows
            rows_seen += rows
            if bridge.bar is not None or bridge.batch_hooks:
                logs = dict(zip(names, (totals / rows_seen).tolist()))
                if bridge.batch_end(epoch, step, steps, logs):
                    break
    finally:
        prefetch.close()
    source.end_epoch()
    if names is None:
        if isinstance(source, IterableSource) and source.exhausted:
            return None
        raise ValueError(f"fit: epoch {epoch + 1} got no batch from the training data")
    bridge.batches, bridge.done = steps, step + 1
    return dict(zip(names, (totals / rows_seen).tolist()))


# --------------------------------------------------------------------------
# evaluate and predict
# --------------------------------------------------------------------------

def _evaluate_source(model, batches, what):
    """Row-weighted means of test_on_batch over an iterable of raw batches."""
    names = model._c_metric_names()
    totals, rows_seen = np.zeros(len(names)), 0
    convert = _converter(what, True)
    for index, raw in enumerate(batches):
        x, y, w = convert(index, raw)
        out = (ctypes.c_double * len(names))()
        try:
            model._handle.shared_call(_lib.nn_model_test_on_batch, _arrays._ptr(x), _arrays._ptr(y), x.shape[0],
                                      x.shape[1], y.shape[1], None if w is None else _arrays._ptr(w), out,
                                      len(names))
        except Error as exc:
            raise _named(exc, what, index) from None
        totals += np.asarray(out[:len(names)]) * x.shape[0]
        rows_seen += x.shape[0]
    if rows_seen == 0:
        raise ValueError(f"{what}: the data gave no batch (a one-shot generator serves one pass: for "
                         "validation in every epoch give an iterable, a Sequence or arrays)")
    return dict(zip(names, (totals / rows_seen).tolist()))


def evaluate(model, x, y, batch_size, steps, return_dict):
    model._require_open()
    model._require_compiled("evaluate")
    source = make_source(x, y, None, batch_size or 1024, None if steps is None else positive_int(steps, "steps"),
                         False, None, "evaluate")
    prefetch = Prefetcher(source, lambda index, raw: raw)
    try:
        result = _evaluate_source(model, prefetch, "evaluate")
    finally:
        prefetch.close()
        _close(source)
    source.end_epoch()
    return _fit.logs_result(list(result), list(result.values()), return_dict)


def predict(model, x, batch_size, steps):
    model._require_open()
    source = make_source(x, None, None, batch_size or 1024, None if steps is None else positive_int(steps, "steps"),
                         False, None, "predict")
    convert = _converter("predict", False)
    prefetch = Prefetcher(source, convert)
    parts = []
    try:
        for index, (xb, _, _) in enumerate(prefetch):
            try:
                parts.append(model.predict(xb))
            except Error as exc:
                raise _named(exc, "predict", index) from None
    finally:
        prefetch.close()
        _close(source)
    source.end_epoch()
    if not parts:
        raise ValueError("predict: the data gave no batch")
    return np.concatenate(parts, axis=0)
