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

Saving and loading: ``model.save("model.safetensors")`` writes the whole
model (layers, weights, compile settings, optimizer state) as a safetensors
file, atomically, with PyTorch's state_dict names for the weights;
``nn.load_model(path)`` gives it back, ready to predict or to continue
training exactly; ``model.save_weights`` / ``model.load_weights`` move the
weights alone (also to and from PyTorch); ``model.to_bytes()`` and
``nn.load_model(data)`` do the same in memory.

Seeing inside: ``model.gradient_check(x, y)`` checks backpropagation
against finite differences layer by layer; ``model.anomaly_detection =
True`` (or ``with nn.detect_anomaly(model):``) makes fit stop at the first
NaN or infinity, naming the layer, stage, epoch, batch and element;
``callbacks=[nn.callbacks.LayerStatistics()]`` puts per-layer statistics
(activations, dead and saturated units, gradient norms, update ratios) in
``history.layer_stats``; ``model.diagnose(x, y)`` reports vanishing or
exploding gradients, dead units, unscaled inputs, mismatched labels and
more. ``history.plot(path)`` and ``nn.plot_layer_stats(history, path)``
draw them (matplotlib needed).

Keras's everyday idioms run with ``import nn as keras``: model.get_layer,
model.pop, get_config / Sequential.from_config / nn.models.clone_model /
to_json, callbacks.ModelCheckpoint and LambdaCallback, every Callback hook
(per batch too, and in evaluate and predict, in Keras's order), the
per-step schedules of nn.optimizers.schedules (ExponentialDecay,
PiecewiseConstantDecay, CosineDecay, InverseTimeDecay, your own
LearningRateSchedule), ``model.optimizer.learning_rate = x``, the
activation layers ReLU, LeakyReLU, ELU and Softmax, and metric objects
under Keras's class names. Where libnn differs on purpose (safetensors
files, libnn's log names), the docstrings say so.

Errors from libnn become exceptions carrying the library's message:
nn.InvalidArgumentError (also a ValueError), nn.InvalidStateError (also a
RuntimeError), nn.OutOfMemoryError (also a MemoryError), nn.InvalidFileError
(also a ValueError: a model file that libnn refuses), nn.FileError (also
an OSError: a file that cannot be read or written) and nn.BusyError (an
InvalidStateError: another thread uses the model in a way the call may not
overlap) and nn.CommunicationError (a RuntimeError: data-parallel training's
all-reduce or another process failed, nn.distributed), all subclasses of
nn.Error.

Threads: predict and evaluate on one model run in parallel from any number
of threads (the GIL is released while libnn computes); a call that changes
the model (fit, set_weights, compile, ...) waits for the running
predictions, and a prediction made during another thread's fit waits for
it.
"""

from . import _lib
from . import activations, initializers, regularizers, schedules
from . import callbacks, layers, losses, metrics, optimizers, utils
from . import debugging, distributed, models, plotting, saving
from ._handle import (BusyError, CommunicationError, Error, FileError, InvalidArgumentError,
                      InvalidFileError, InvalidStateError, OutOfMemoryError)
from .callbacks import History
from .debugging import Diagnosis, Finding, GradientCheck, LayerGradientCheck, detect_anomaly
from .layers import Activation, BatchNormalization, Dense, Dropout, Input
from .models import Sequential
from .plotting import plot_history, plot_layer_stats
from .saving import load_model
from .threads import cpu_level, get_num_threads, set_num_threads
from .utils import to_categorical

#: Version of the libnn library that was loaded (nn_version()).
__version__ = _lib.nn_version().decode()
#: Version of the nn.h this binding mirrors.
__header_version__ = _lib.NN_VERSION_STRING
#: Path of the libnn shared library in use.
library_path = _lib.library_path

__all__ = [
    "Sequential", "load_model", "set_num_threads", "get_num_threads", "cpu_level", "Dense", "Dropout", "BatchNormalization", "Activation", "Input", "History",
    "to_categorical",
    "detect_anomaly", "plot_history", "plot_layer_stats", "Diagnosis", "Finding",
    "GradientCheck", "LayerGradientCheck",
    "Error", "InvalidArgumentError", "InvalidStateError", "BusyError", "OutOfMemoryError",
    "InvalidFileError", "FileError", "CommunicationError",
    "activations", "callbacks", "debugging", "distributed", "initializers", "layers", "losses", "metrics", "models",
    "optimizers", "plotting", "regularizers", "saving", "schedules", "utils",
    "__version__",
]
