"""The arguments of saving and loading: paths, file contents, save flags.

Used by models.py (save, save_weights, load_weights, to_bytes, load_model);
it imports no module of the package but _lib and _handle, so that nothing
cycles through it.
"""

import os

from . import _lib
from ._handle import FileError


def is_bytes_like(value):
    """Whether `value` is file content (bytes, bytearray, memoryview)
    rather than a path."""
    return isinstance(value, (bytes, bytearray, memoryview))


def path_argument(filepath, what):
    """A str or os.PathLike path as the bytes libnn receives (UTF-8 / the
    file system's encoding); TypeError or ValueError otherwise."""
    if is_bytes_like(filepath):
        raise TypeError(f"{what} must be a path (str or os.PathLike), got "
                        f"{type(filepath).__name__}")
    try:
        path = os.fspath(filepath)
    except TypeError:
        raise TypeError(f"{what} must be a path (str or os.PathLike), got "
                        f"{filepath!r}") from None
    encoded = os.fsencode(path)
    if not encoded:
        raise ValueError(f"{what} is empty")
    if b"\0" in encoded:
        raise ValueError(f"{what} contains a NUL character: {path!r}")
    return encoded


def save_flags(include_optimizer):
    """nn_model_save's flags for include_optimizer (True or False)."""
    if not isinstance(include_optimizer, bool):
        raise TypeError(f"include_optimizer must be True or False, got {include_optimizer!r}")
    return _lib.NN_SAVE_INCLUDE_OPTIMIZER if include_optimizer else 0


def check_overwrite(filepath, overwrite):
    """FileExistsError if overwrite is False and `filepath` exists."""
    if not isinstance(overwrite, bool):
        raise TypeError(f"overwrite must be True or False, got {overwrite!r}")
    if not overwrite and os.path.lexists(filepath):
        raise FileExistsError(f"{os.fspath(filepath)} exists and overwrite=False")


def contents(filepath):
    """The bytes of a model file given as a path or as its bytes: a copy of
    bytes-like content, or the file read; nn.FileError (an OSError) with the
    system's reason if it cannot be read, TypeError or ValueError for an
    argument that is neither."""
    if is_bytes_like(filepath):
        return bytes(filepath)
    path = path_argument(filepath, "filepath")
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        error = FileError(f"cannot open {os.fsdecode(path)}: {exc.strerror or exc}",
                          _lib.NN_ERROR_IO)
        error.errno, error.strerror, error.filename = exc.errno, exc.strerror, os.fsdecode(path)
        raise error from exc
