"""Data-parallel training across processes over MPI (mpi4py), as Horovod and
PyTorch's DistributedDataParallel do it:

    # train.py, run as: mpirun -n 4 python train.py
    import nn
    import nn.distributed as dist

    dist.init()                      # mpi4py's COMM_WORLD
    model = nn.Sequential([...], seed=42)    # the same model on every process
    model.compile(...)
    model.fit(x, y, batch_size=256, epochs=10, seed=7)   # the same data everywhere
    if dist.is_main():
        print(model.evaluate(x_test, y_test))

Every process holds the same model and calls fit with the same arrays;
each global batch of batch_size rows is cut into one share per process,
and after each step's backward pass libnn sums the gradients across the
processes through an all-reduce callback (include/nn.h, "Data-parallel
training": nn_model_set_data_parallel), so every process takes the same
step and the models stay identical. The History is the same on every
process (the global loss and metrics). BatchNormalization normalizes with
each process's own batch statistics (as DDP without SyncBatchNorm), taking
rank 0's running statistics at the end of each epoch; Dropout's masks
differ between processes.

After init(), every fit of every model in this process is data-parallel.
Only rank 0 prints (verbose) and writes files (save, save_weights, and so
a callback that saves through them) unless init(print_on_all_ranks=True,
save_on_all_ranks=True) asks otherwise. fit on generators, Sequences and
memmaps, and train_on_batch, are not data-parallel (an error says so).
One communicator serves the process: fit data-parallel models one at a
time (two fits on two threads would interleave their collectives). Checks
made in Python before libnn's fit (shapes and types of the arrays) fail
alike on every process given the same data; libnn's own checks refuse on
every process when one refuses (include/nn.h).

The reduction is MPI_Allreduce (IN_PLACE, FLOAT, SUM) on mpi4py's
communicator, called from libnn's training loop on the fitting thread. With
the package's compiled helper (nn/_speedups.c, CPython >= 3.11) and an MPI
library whose MPI_Allreduce it can find (loaded by mpi4py), libnn calls a C
function that calls MPI_Allreduce directly: no Python and no GIL at each
step. Otherwise (or with a communicator that is not mpi4py's) a Python
callback calls comm.Allreduce on libnn's step buffer, wrapped once per fit
(mpi4py releases the GIL inside MPI). mpi4py is needed only by init().
"""

import ctypes

import numpy as np

from . import _fast, _lib


class _AllreduceTarget(ctypes.Structure):
    """_speedups.c's struct allreduce_target."""
    _fields_ = [("allreduce", ctypes.c_void_p), ("in_place", ctypes.c_ssize_t), ("datatype", ctypes.c_ssize_t),
                ("op", ctypes.c_ssize_t), ("comm", ctypes.c_ssize_t)]


def _mpi_allreduce_address():
    """The address of MPI_Allreduce in the MPI library that mpi4py loaded
    (found in /proc/self/maps), or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "/libmpi" in line and ".so" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            return ctypes.cast(ctypes.CDLL(path).MPI_Allreduce, ctypes.c_void_p).value
        except (OSError, AttributeError):
            continue
    return None

_context = None


class _Context:
    """The communicator and the callback libnn calls (kept alive here).
    `MPI` is mpi4py's MPI module (IN_PLACE, FLOAT, SUM), or a stand-in."""

    def __init__(self, comm, print_on_all_ranks, save_on_all_ranks, MPI):
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.print_on_all_ranks = bool(print_on_all_ranks)
        self.save_on_all_ranks = bool(save_on_all_ranks)
        self._in_place = MPI.IN_PLACE
        self._sum = MPI.SUM
        self._float = MPI.FLOAT
        self._view = None           # (address, count, numpy view) of the last buffer
        self.error = None           # the exception of a failed all-reduce
        self.user_data = None
        self.callback = None
        # MPI_Allreduce called from C (nn/_speedups.c) when possible
        handleof = getattr(MPI, "_handleof", None)
        address = _mpi_allreduce_address() if _fast.mpi_allreduce_callback and handleof else None
        if address:
            try:
                self._target = _AllreduceTarget(address, int(MPI.IN_PLACE), handleof(MPI.FLOAT),
                                                handleof(MPI.SUM), handleof(comm))
            except (TypeError, ValueError):
                self._target = None       # not an mpi4py communicator: the Python path
            if self._target is not None:
                self.callback = ctypes.cast(_fast.mpi_allreduce_callback, _lib.nn_allreduce_callback)
                self.user_data = ctypes.addressof(self._target)
        if self.callback is None:
            self.callback = _lib.nn_allreduce_callback(self._allreduce)

    @property
    def in_c(self):
        """Whether libnn calls MPI_Allreduce from C (no Python per step)."""
        return self.user_data is not None

    def _allreduce(self, values, count, user_data):
        try:
            address = ctypes.addressof(values.contents)
            view = self._view
            if view is None or view[0] != address or view[1] != count:
                # libnn hands in the same buffer at every step of a fit: wrap it once
                array = np.ctypeslib.as_array(values, shape=(count,))
                view = self._view = (address, count, array)
            self.comm.Allreduce(self._in_place, [view[2], self._float], op=self._sum)
            return 0
        except BaseException as exc:  # never let an exception cross into libnn
            self.error = exc
            return 1


def init(comm=None, print_on_all_ranks=False, save_on_all_ranks=False):
    """Starts data-parallel training on `comm` (default: mpi4py's
    MPI.COMM_WORLD, initializing MPI if needed). Returns nothing; rank(),
    size() and is_main() tell this process's place."""
    global _context
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise ImportError("nn.distributed needs mpi4py (pip install mpi4py) and an MPI "
                          "(Open MPI: apt-get install openmpi-bin libopenmpi-dev)") from exc
    _context = _Context(comm if comm is not None else MPI.COMM_WORLD, print_on_all_ranks,
                        save_on_all_ranks, MPI)


def shutdown():
    """Back to one process: later fits train locally."""
    global _context
    _context = None


def is_initialized():
    return _context is not None


def rank():
    """This process's index (0 without init())."""
    return _context.rank if _context is not None else 0


def size():
    """The number of processes (1 without init())."""
    return _context.size if _context is not None else 1


def reduces_in_c():
    """Whether each step's all-reduce is called from C (nn/_speedups.c: no
    Python, no GIL) rather than through a Python callback."""
    return _context is not None and _context.in_c


def is_main():
    """Whether this process is rank 0: the one that prints and saves."""
    return rank() == 0


def active():
    """The context when data-parallel training is on with more than one
    process, else None (models.Sequential.fit's test)."""
    return _context if _context is not None and _context.size > 1 else None


def prints():
    """Whether this process prints progress (rank 0, or every rank if asked)."""
    return _context is None or _context.rank == 0 or _context.print_on_all_ranks


def saves():
    """Whether this process writes model files (rank 0, or every rank if asked)."""
    return _context is None or _context.rank == 0 or _context.save_on_all_ranks


def apply(handle):
    """Sets `handle`'s model to this context (data-parallel or one process)
    before a fit, unless it already is; returns the context in use, or
    None."""
    context = active()
    want = None if context is None else (id(context), context.rank, context.size)
    if getattr(handle, "_data_parallel", None) == want:
        if context is not None:
            context.error = None
        return context
    if context is None:
        handle.call(_lib.nn_model_set_data_parallel, 0, 1, _lib.nn_allreduce_callback(), None)
    else:
        context.error = None
        handle.call(_lib.nn_model_set_data_parallel, context.rank, context.size, context.callback,
                    context.user_data)
    handle._data_parallel = want
    return context
