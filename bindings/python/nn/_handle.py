"""Exceptions, status checking and the owner of an ``nn_model *``.

This is the middle layer of the binding: it knows about C handles and
statuses but nothing about Keras. ``ModelHandle`` frees its model exactly
once (``close()``, ``with``, or garbage collection through
``weakref.finalize``). ctypes releases the GIL while C runs, so calls from
several threads reach libnn at once, which allows what nn.h's "Threading"
allows: inference (predict, evaluate) and reads overlap each other; a call
that changes the model needs it to itself (NN_ERROR_BUSY otherwise). Here
every call but the inference ones takes the handle's lock (``_HandleLock``:
they wait for each other, as they always did, and its holder waits for the
running inference calls to end, so that a set_weights of several arrays is
never seen half done); the inference calls take no lock (``shared_call``,
``Sequential.predict``), so that threads predicting on one model run in
parallel. While the lock is held (a fit on another thread, a set_weights),
an inference call waits for it instead.
"""

import ctypes
import errno as errno_module
import os
import threading
import time
import weakref

from . import _lib


# --------------------------------------------------------------------------
# Exceptions
# --------------------------------------------------------------------------

class Error(Exception):
    """An error reported by libnn. ``status`` is the nn_status code (an int)
    and ``str(error)`` the library's message (nn_last_error())."""

    def __init__(self, message, status=_lib.NN_ERROR_INTERNAL):
        super().__init__(message)
        self.status = status

    @property
    def status_name(self):
        """The status as the library describes it ("invalid argument", ...)."""
        return status_string(self.status)


class InvalidArgumentError(Error, ValueError):
    """A NULL pointer, a value out of range, a shape that does not match, or
    NaN/infinity in data that must be finite."""


class InvalidStateError(Error, RuntimeError):
    """The call is not allowed now (fit before compile, a closed model, ...)."""


class BusyError(InvalidStateError):
    """Another thread uses the model in a way this call may not overlap
    (NN_ERROR_BUSY; nn.h, "Threading"). The binding waits instead of raising
    it wherever it can (a call that changes the model waits for running
    predictions, a prediction waits for a running fit)."""


class CommunicationError(Error, RuntimeError):
    """Data-parallel training (nn.distributed): the all-reduce failed, or
    another process failed during the step (NN_ERROR_COMMUNICATION); the
    message says which step, and the failing process raises its own error."""


class OutOfMemoryError(Error, MemoryError):
    """libnn could not allocate memory, or an allocation would be unreasonably large."""


class InvalidFileError(Error, ValueError):
    """A model file (or bytes) that libnn refuses: not a safetensors file, a
    truncated or corrupted one, offsets or sizes that do not add up, a
    tensor missing or of the wrong shape or dtype, metadata that does not
    describe a valid libnn model, or a safetensors file with no libnn
    metadata given to load_model. The message says which."""


class FileError(Error, OSError):
    """A file could not be opened, read or written (NN_ERROR_IO): the
    message carries the system's reason. Also an OSError, so
    ``except OSError`` catches it as it catches Python's own file errors;
    ``errno`` and ``strerror`` are set when the message ends with the
    system's text for an errno value ("No such file or directory": ENOENT),
    else None."""

    def __init__(self, message, status=_lib.NN_ERROR_IO):
        super().__init__(message, status)
        self.errno = self.strerror = None
        for code in sorted(errno_module.errorcode):
            text = os.strerror(code)
            if message.endswith(": " + text):
                self.errno, self.strerror = code, text
                break

    def __str__(self):
        # libnn's message (OSError would print "[Errno N] strerror" alone)
        return str(self.args[0]) if self.args else ""


_EXCEPTION_FOR_STATUS = {
    _lib.NN_ERROR_NULL_POINTER: InvalidArgumentError,
    _lib.NN_ERROR_INVALID_ARGUMENT: InvalidArgumentError,
    _lib.NN_ERROR_SHAPE_MISMATCH: InvalidArgumentError,
    _lib.NN_ERROR_NON_FINITE: InvalidArgumentError,
    _lib.NN_ERROR_INVALID_STATE: InvalidStateError,
    _lib.NN_ERROR_OUT_OF_MEMORY: OutOfMemoryError,
    _lib.NN_ERROR_IO: FileError,
    _lib.NN_ERROR_INVALID_FILE: InvalidFileError,
    _lib.NN_ERROR_BUSY: BusyError,
    _lib.NN_ERROR_COMMUNICATION: CommunicationError,
}


def status_string(status):
    """nn_status_string(status) as a Python str."""
    return _lib.nn_status_string(int(status)).decode("utf-8", "replace")


def error_for(status, message):
    """The exception for a non-zero status and its message."""
    cls = _EXCEPTION_FOR_STATUS.get(status, Error)
    if not message:
        message = status_string(status)
    return cls(message, status)


def _check(status):
    """Raise the exception for a non-zero nn_status, with nn_last_error().

    Must be called at once after the failing C call, on the same thread and
    before any other libnn call, because the message lives only until the
    thread's next call into libnn."""
    if status != _lib.NN_OK:
        message = _lib.nn_last_error().decode("utf-8", "replace")
        raise error_for(status, message)


# --------------------------------------------------------------------------
# Model handle
# --------------------------------------------------------------------------

def _free_model(pointer):
    _lib.nn_model_free(pointer)


class ModelHandle:
    """Owns one ``nn_model *``.

    ``call(fn, *args)`` calls ``fn(model, *args)`` with the lock held and
    turns a failing status into an exception. Once ``close()`` has run (or
    the object has been collected) the pointer is None and every call raises
    InvalidStateError; the C model is freed exactly once.
    """

    def __init__(self, input_dim, seed):
        if input_dim <= 0:
            raise ValueError(f"input_dim must be a positive integer, got {input_dim}")
        pointer = _lib.nn_model_p()
        _check(_lib.nn_model_create(input_dim, seed, ctypes.byref(pointer)))
        self._own(pointer)

    @classmethod
    def adopt(cls, pointer):
        """A handle that owns `pointer`, a model libnn has just created
        (nn_model_load_from_buffer, ...): it will free it exactly once."""
        self = cls.__new__(cls)
        self._own(pointer)
        return self

    def _own(self, pointer):
        self._pointer = pointer
        # The same address as an int (for the compiled helper, nn/_speedups.c)
        # and as a c_void_p (for the calls made without argtypes): both for
        # models.Sequential.predict.
        self._address_value = ctypes.cast(pointer, ctypes.c_void_p).value
        self._address = ctypes.c_void_p(self._address_value)
        # A re-entrant lock: callbacks run on the calling thread while fit
        # holds the lock. As nn.h allows, they may read the model and set its
        # weights; a nested fit or a close gets a clear error (see `busy`).
        # Inference calls do not take it (module docstring) unless it is held.
        self._lock = _HandleLock(self)
        # Whether the lock is held (0 or 1; written by its holder only).
        self._writers = 0
        # One entry per inference call running without the lock (list.append
        # and list.pop are atomic under the GIL; an int's += is not).
        self._readers = []
        self._busy = None
        # nn.distributed's setting of this model (distributed.apply), None: one process
        self._data_parallel = None
        # libnn's log names (loss, metrics), cached by the model until its
        # next compile (models.Sequential._c_metric_names).
        self._metric_names = None
        self._finalizer = weakref.finalize(self, _free_model, pointer)

    @property
    def closed(self):
        return self._pointer is None

    def close(self):
        """Free the C model now. Safe to call more than once."""
        with self._lock:
            if self._busy is not None:
                raise InvalidStateError(
                    f"cannot close the model while {self._busy} is running on it")
            if self._pointer is None:
                return
            self._pointer = None
            self._finalizer()  # runs nn_model_free once; later calls do nothing

    def _require(self):
        pointer = self._pointer
        if pointer is None:
            raise InvalidStateError("the model has been closed", _lib.NN_ERROR_INVALID_HANDLE)
        return pointer

    def _require_value(self):
        """_require(), as the int made when the handle was taken."""
        if self._pointer is None:
            raise InvalidStateError("the model has been closed", _lib.NN_ERROR_INVALID_HANDLE)
        return self._address_value

    def _require_address(self):
        """_require(), as the c_void_p made when the handle was taken."""
        if self._pointer is None:
            raise InvalidStateError("the model has been closed", _lib.NN_ERROR_INVALID_HANDLE)
        return self._address

    def call(self, fn, *args):
        """fn(model, *args) under the lock; raises on a non-zero status."""
        with self._lock:
            pointer = self._require()
            status = _until_not_busy(fn, pointer, args)
            _check(status)

    def shared_call(self, fn, *args):
        """fn(model, *args) for an inference call (nn.h lets them overlap):
        without the lock, so that threads run it in parallel, unless the lock
        is held (a change on another thread: this waits for it; a callback of
        this thread's fit: the lock is this thread's). The same protocol as
        Sequential.predict's."""
        readers = self._readers
        readers.append(None)
        if not self._writers:
            try:
                status = fn(self._require(), *args)
            finally:
                readers.pop()
            if status != _lib.NN_ERROR_BUSY:
                _check(status)
                return
        else:
            readers.pop()
        with self._lock:
            _check(fn(self._require(), *args))

    def call_busy(self, what, fn, *args):
        """Like call(), but marks the handle busy for the duration, so that
        Python code run from inside fn (callbacks) cannot start another busy
        call (a nested fit) or close the model."""
        with self._lock:
            pointer = self._require()
            if self._busy is not None:
                raise InvalidStateError(
                    f"cannot run {what} while {self._busy} is running on this model "
                    "(for example from a fit callback)", _lib.NN_ERROR_INVALID_STATE)
            self._busy = what
            try:
                status = _until_not_busy(fn, pointer, args)
                _check(status)
            finally:
                self._busy = None

    def get_size(self, fn, *args):
        """For getters ending with a size_t out-parameter: returns its value."""
        out = ctypes.c_size_t()
        self.call(fn, *args, ctypes.byref(out))
        return out.value


def _until_not_busy(fn, pointer, args):
    """fn(pointer, *args), called again while libnn answers NN_ERROR_BUSY:
    with the handle's lock held that means an inference call the lock did
    not wait for (see _HandleLock.READER_WAIT_SECONDS), which ends soon."""
    status = fn(pointer, *args)
    while status == _lib.NN_ERROR_BUSY:
        time.sleep(50e-6)
        status = fn(pointer, *args)
    return status


class _HandleLock:
    """A ModelHandle's lock: re-entrant (a fit's callbacks run on its
    thread). Its outermost holder marks the handle (`_writers`), so that new
    inference calls wait for the lock instead of running, and waits for the
    inference calls already running (`_readers`) to end. The two sides
    check each other's mark after setting their own (a reader appends
    before it looks at `_writers`, the holder sets `_writers` before it
    looks at `_readers`), so no inference call overlaps the holder's calls:
    libnn never answers NN_ERROR_BUSY to this binding, and a change made of
    several calls (set_weights) is never seen half done."""

    def __init__(self, handle):
        self._lock = threading.RLock()
        self._depth = 0
        self._handle = weakref.ref(handle)

    # How long the holder waits for the readers before it goes on anyway:
    # a reader's mark can outlive its call if KeyboardInterrupt lands
    # between the mark and its try block (a bytecode or two), and libnn's
    # own gate still keeps the calls apart (call() retries while busy).
    READER_WAIT_SECONDS = 2.0

    def __enter__(self):
        self._lock.acquire()
        try:
            if self._depth == 0:
                handle = self._handle()
                if handle is not None:
                    handle._writers = 1
                    deadline = time.monotonic() + self.READER_WAIT_SECONDS
                    while handle._readers and time.monotonic() < deadline:
                        time.sleep(20e-6)        # inference calls end within one call
        except BaseException:                    # (KeyboardInterrupt in the wait)
            if self._depth == 0:
                handle = self._handle()
                if handle is not None:
                    handle._writers = 0
            self._lock.release()
            raise
        self._depth += 1
        return self

    def __exit__(self, *exc):
        self._depth -= 1
        if self._depth == 0:
            handle = self._handle()
            if handle is not None:
                handle._writers = 0
        self._lock.release()
        return False


# --------------------------------------------------------------------------
# Checking hyper-parameters before a model exists
# --------------------------------------------------------------------------

def check_on_scratch_model(fn, *args):
    """Call fn(scratch_model, *args) on a throw-away one-input model and
    raise its error, if any.

    libnn is the one place that knows the valid range of every
    hyper-parameter; this lets an optimizer, a layer or a metric object be
    checked when it is constructed (with libnn's message, which names the
    value), not first when a model is built or trained."""
    pointer = _lib.nn_model_p()
    _check(_lib.nn_model_create(1, 0, ctypes.byref(pointer)))
    try:
        # _check reads nn_last_error() before nn_model_free, the next libnn call
        _check(fn(pointer, *args))
    finally:
        _lib.nn_model_free(pointer)
