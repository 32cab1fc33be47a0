"""nn: Python binding of libnn, a small neural-network library.

A Keras-like API on top of the C library (include/nn.h), through ctypes:

    import nn
    model = nn.Sequential([
        nn.layers.Dense(10, input_dim=20, activation="relu"),
        nn.layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=100, batch_size=10)
    probabilities = model.predict(x)

Errors from libnn become exceptions carrying the library's message:
nn.InvalidArgumentError (also a ValueError), nn.InvalidStateError (also a
RuntimeError), nn.OutOfMemoryError (also a MemoryError), all subclasses of
nn.Error.
"""

from . import _lib
from . import activations, initializers, regularizers, schedules
from . import callbacks, layers, losses, metrics, optimizers, utils
from . import models
from ._handle import Error, InvalidArgumentError, InvalidStateError, OutOfMemoryError
from .callbacks import History
from .layers import Activation, BatchNormalization, Dense, Dropout, Input
from .models import Sequential
from .threads import cpu_level, get_num_threads, set_num_threads
from .utils import to_categorical

#: Version of the libnn library that was loaded (nn_version()).
__version__ = _lib.nn_version().decode()
#: Version of the nn.h this binding mirrors.
__header_version__ = _lib.NN_VERSION_STRING
#: Path of the libnn shared library in use.
library_path = _lib.library_path

__all__ = [
    "Sequential", "set_num_threads", "get_num_threads", "cpu_level", "Dense", "Dropout", "BatchNormalization", "Activation", "Input", "History",
    "to_categorical",
    "Error", "InvalidArgumentError", "InvalidStateError", "OutOfMemoryError",
    "activations", "callbacks", "initializers", "layers", "losses", "metrics", "models",
    "optimizers", "regularizers", "schedules", "utils",
    "__version__",
]
