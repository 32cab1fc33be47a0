"""Threads and the kernels' instruction-set level (process-wide)."""
import ctypes

from . import _lib
from ._handle import _check

__all__ = ["set_num_threads", "get_num_threads", "cpu_level"]


def set_num_threads(threads):
    """Use `threads` threads in libnn's kernels (0 restores the default:
    NN_NUM_THREADS, else the number of CPUs). Small layers always run on
    one thread, and results are bit-identical for every thread count."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ValueError(f"threads must be a whole number >= 0, got {threads!r}")
    _check(_lib.nn_set_num_threads(threads))


def get_num_threads():
    """The number of threads libnn's kernels use."""
    out = ctypes.c_size_t()
    _check(_lib.nn_num_threads(ctypes.byref(out)))
    return out.value


def cpu_level():
    """'avx512', 'avx2' or 'baseline': the kernels in use (NN_CPU forces one)."""
    return _lib.nn_cpu_level().decode()
