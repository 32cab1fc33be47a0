"""numpy <-> C: the conversions every call into libnn makes (float32
C-contiguous matrices without a copy when possible, size_t arguments,
pointers). Used by models.py and _fit.py."""

import ctypes
import numbers

import numpy as np

_FLOAT = ctypes.c_float
_FLOAT_P = ctypes.POINTER(_FLOAT)



def _as_matrix(a, what):
    """a as a 2-D float32 C-contiguous array; no copy when it already is one."""
    if isinstance(a, np.ndarray) and a.dtype == np.float32 and a.flags.c_contiguous:
        arr = a
    else:
        try:
            arr = np.ascontiguousarray(a, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{what} must be numeric array data: {exc}") from None
    if arr.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array (samples, features), got an array of "
                         f"shape {arr.shape}")
    return arr


def _as_targets(a, what):
    """Targets: a 1-D array becomes a column; integers become float32."""
    arr = np.asarray(a)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    return _as_matrix(arr, what)


def _ptr(arr):
    """A float * argument for arr's data. A ctypes c_float over arr's own
    buffer (ctypes passes its address where a POINTER(c_float) is declared)
    costs a quarter of `arr.ctypes.data_as` (0.6 µs against 3.7 on the
    project's machine), which is most of a small predict's Python overhead;
    read-only and empty arrays, which from_buffer refuses, take the general
    path."""
    try:
        return _FLOAT.from_buffer(arr)
    except (TypeError, ValueError):
        return arr.ctypes.data_as(_FLOAT_P)


def _pointer(arr):
    """A POINTER(c_float) to arr's data, for a pointer field of a struct
    (where ctypes does not take the address of a c_float itself)."""
    return arr.ctypes.data_as(_FLOAT_P)


def _size(value, what):
    """A non-negative int for a size_t argument (ctypes would wrap negatives)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    return int(value)


def _check_rows(x, y, what):
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{what}: x and y have different numbers of samples: "
                         f"{x.shape[0]} and {y.shape[0]}")
