"""ctypes mirror of include/nn.h, one declaration for one declaration.

Nothing here is friendly: this module only loads libnn.so and declares the
C types, constants and prototypes exactly as the header does, in the
header's order. tests/test_prototypes.py parses nn.h and checks every
declaration below against it.

Type conventions of the mirror:
  - C enums are ``c_int`` (their size on every platform libnn supports);
    their values are module-level int constants with the C names.
  - ``size_t`` is ``c_size_t``, ``uint64_t`` is ``c_uint64``, ``int64_t`` is
    ``c_int64``.
  - ``const char *`` (a NUL-terminated string) is ``c_char_p``; a writable
    ``char *`` buffer is ``POINTER(c_char)``.
  - ``nn_model *`` is ``POINTER(nn_model)`` with ``nn_model`` an opaque
    structure.

The library is searched, in order, at:
  1. the path in the environment variable NN_LIBRARY;
  2. libnn.so in the package's own folder: inside an installed wheel, where
     the build put it, or bindings/python/nn/libnn.so, where ``make python``
     copies it. An editable install (pip install -e .) gives the package two
     folders, the installed one (with the libnn.so that install built) first
     and the checkout's after it; each is searched in that order;
  3. the SwiftPM build tree of the repository (<repo>/.build/release/libnn.so).
"""

import ctypes
import os
import sys
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_float,
                    c_int, c_int64, c_size_t, c_uint, c_uint64, c_void_p)

# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------

if sys.platform == "darwin":
    LIBRARY_NAME = "libnn.dylib"
elif sys.platform == "win32":
    LIBRARY_NAME = "nn.dll"
else:
    LIBRARY_NAME = "libnn.so"

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# bindings/python/nn -> repository root
_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(_PACKAGE_DIR)))


def _package_folders():
    """The folders of the nn package: its __path__ (several for an editable
    install), or this module's folder when imported on its own."""
    package = sys.modules.get(__package__ or "")
    folders = [os.path.abspath(f) for f in getattr(package, "__path__", None) or []]
    if _PACKAGE_DIR not in folders:
        folders.append(_PACKAGE_DIR)
    return folders


def candidate_paths():
    """The places searched for the library, in order, as (origin, path)."""
    paths = []
    env = os.environ.get("NN_LIBRARY")
    if env:
        paths.append(("NN_LIBRARY", env))
    for folder in _package_folders():
        paths.append(("package", os.path.join(folder, LIBRARY_NAME)))
    paths.append(("build tree", os.path.join(_REPO_ROOT, ".build", "release", LIBRARY_NAME)))
    return paths


def _load():
    tried = []
    for origin, path in candidate_paths():
        if origin == "NN_LIBRARY":
            # An explicit choice must work: do not silently fall back to
            # another copy of the library.
            try:
                return ctypes.CDLL(path), path
            except OSError as exc:
                raise ImportError(
                    f"cannot load libnn from NN_LIBRARY={path!r}: {exc}") from exc
        if not os.path.exists(path):
            tried.append(f"  {path} ({origin}): not found")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as exc:
            tried.append(f"  {path} ({origin}): {exc}")
    raise ImportError(
        "cannot find the libnn shared library. Looked at:\n" + "\n".join(tried)
        + "\nBuild it (make, or swift build -c release -Xswiftc -static-stdlib) "
        "or set NN_LIBRARY to the path of " + LIBRARY_NAME + ".")


lib, library_path = _load()

# --------------------------------------------------------------------------
# Version
# --------------------------------------------------------------------------

NN_VERSION_MAJOR = 0
NN_VERSION_MINOR = 8
NN_VERSION_PATCH = 0
NN_VERSION_STRING = "0.8.0"

nn_version = lib.nn_version
nn_version.argtypes = []
nn_version.restype = c_char_p

# --------------------------------------------------------------------------
# Status and errors
# --------------------------------------------------------------------------

nn_status = c_int
NN_OK = 0
NN_ERROR_NULL_POINTER = 1
NN_ERROR_INVALID_ARGUMENT = 2
NN_ERROR_SHAPE_MISMATCH = 3
NN_ERROR_INVALID_HANDLE = 4
NN_ERROR_INVALID_STATE = 5
NN_ERROR_NON_FINITE = 6
NN_ERROR_OUT_OF_MEMORY = 7
NN_ERROR_INTERNAL = 8
NN_ERROR_IO = 9
NN_ERROR_INVALID_FILE = 10
NN_ERROR_BUSY = 11
NN_ERROR_COMMUNICATION = 12

nn_last_error = lib.nn_last_error
nn_last_error.argtypes = []
nn_last_error.restype = c_char_p

nn_status_string = lib.nn_status_string
nn_status_string.argtypes = [nn_status]
nn_status_string.restype = c_char_p

# --------------------------------------------------------------------------
# Enumerations
# --------------------------------------------------------------------------

nn_activation = c_int
NN_ACTIVATION_LINEAR = 0
NN_ACTIVATION_SIGMOID = 1
NN_ACTIVATION_TANH = 2
NN_ACTIVATION_RELU = 3
NN_ACTIVATION_SOFTMAX = 4
NN_ACTIVATION_LEAKY_RELU = 5
NN_ACTIVATION_ELU = 6
NN_ACTIVATION_GELU = 7
NN_ACTIVATION_SOFTPLUS = 8
NN_ACTIVATION_STEP = 9
NN_ACTIVATION_MISH = 10

nn_initializer = c_int
NN_INIT_DEFAULT = 0
NN_INIT_GLOROT_UNIFORM = 1
NN_INIT_GLOROT_NORMAL = 2
NN_INIT_HE_UNIFORM = 3
NN_INIT_HE_NORMAL = 4
NN_INIT_ZEROS = 5
NN_INIT_ONES = 6
NN_INIT_LECUN_UNIFORM = 7
NN_INIT_LECUN_NORMAL = 8
NN_INIT_CONSTANT = 9

nn_loss = c_int
NN_LOSS_MEAN_SQUARED_ERROR = 1
NN_LOSS_BINARY_CROSSENTROPY = 2
NN_LOSS_CATEGORICAL_CROSSENTROPY = 3
NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY = 4
NN_LOSS_MEAN_ABSOLUTE_ERROR = 5
NN_LOSS_HUBER = 6

nn_optimizer = c_int
NN_OPTIMIZER_SGD = 1
NN_OPTIMIZER_ADAM = 2
NN_OPTIMIZER_ADAMW = 3
NN_OPTIMIZER_RMSPROP = 4
NN_OPTIMIZER_ADAGRAD = 5
NN_OPTIMIZER_RPROP = 6
NN_OPTIMIZER_ADAMAX = 7

nn_metric = c_int
NN_METRIC_ACCURACY = 1
NN_METRIC_BINARY_ACCURACY = 2
NN_METRIC_CATEGORICAL_ACCURACY = 3
NN_METRIC_SPARSE_CATEGORICAL_ACCURACY = 4
NN_METRIC_PRECISION = 5
NN_METRIC_RECALL = 6
NN_METRIC_F1_SCORE = 7
NN_METRIC_F1_MACRO = 8
NN_METRIC_TOP_K_ACCURACY = 9
NN_METRIC_MEAN_ABSOLUTE_ERROR = 10

nn_layer_kind = c_int
NN_LAYER_DENSE = 1
NN_LAYER_DROPOUT = 2
NN_LAYER_BATCH_NORMALIZATION = 3
NN_LAYER_ACTIVATION = 4

nn_monitor_mode = c_int
NN_MONITOR_AUTO = 0
NN_MONITOR_MIN = 1
NN_MONITOR_MAX = 2

nn_enum = c_int
NN_ENUM_ACTIVATION = 1
NN_ENUM_INITIALIZER = 2
NN_ENUM_LOSS = 3
NN_ENUM_OPTIMIZER = 4
NN_ENUM_METRIC = 5
NN_ENUM_LAYER_KIND = 6

# nn_schedule is declared further down in nn.h (with the schedule
# functions); its values are here with the other enums.
nn_schedule = c_int
NN_SCHEDULE_NONE = 0
NN_SCHEDULE_STEP = 1
NN_SCHEDULE_EXPONENTIAL = 2
NN_SCHEDULE_COSINE = 3
NN_SCHEDULE_REDUCE_ON_PLATEAU = 4

# nn_finding_kind is declared with nn_model_diagnose ("Seeing inside"); its
# values are here with the other enums.
nn_finding_kind = c_int
NN_FINDING_VANISHING_GRADIENTS = 0
NN_FINDING_EXPLODING_GRADIENTS = 1
NN_FINDING_DEAD_UNITS = 2
NN_FINDING_SATURATED_UNITS = 3
NN_FINDING_LEARNING_RATE_TOO_HIGH = 4
NN_FINDING_UNSCALED_INPUTS = 5
NN_FINDING_LABEL_MISMATCH = 6
NN_FINDING_LOSS_AT_CHANCE = 7

# The values of each enum, by C name (used by the prototype test and by the
# Python layer to translate names).
ENUMS = {
    "nn_status": {
        "NN_OK": NN_OK,
        "NN_ERROR_NULL_POINTER": NN_ERROR_NULL_POINTER,
        "NN_ERROR_INVALID_ARGUMENT": NN_ERROR_INVALID_ARGUMENT,
        "NN_ERROR_SHAPE_MISMATCH": NN_ERROR_SHAPE_MISMATCH,
        "NN_ERROR_INVALID_HANDLE": NN_ERROR_INVALID_HANDLE,
        "NN_ERROR_INVALID_STATE": NN_ERROR_INVALID_STATE,
        "NN_ERROR_NON_FINITE": NN_ERROR_NON_FINITE,
        "NN_ERROR_OUT_OF_MEMORY": NN_ERROR_OUT_OF_MEMORY,
        "NN_ERROR_INTERNAL": NN_ERROR_INTERNAL,
        "NN_ERROR_IO": NN_ERROR_IO,
        "NN_ERROR_INVALID_FILE": NN_ERROR_INVALID_FILE,
        "NN_ERROR_BUSY": NN_ERROR_BUSY,
        "NN_ERROR_COMMUNICATION": NN_ERROR_COMMUNICATION,
    },
    "nn_activation": {
        "NN_ACTIVATION_LINEAR": NN_ACTIVATION_LINEAR,
        "NN_ACTIVATION_SIGMOID": NN_ACTIVATION_SIGMOID,
        "NN_ACTIVATION_TANH": NN_ACTIVATION_TANH,
        "NN_ACTIVATION_RELU": NN_ACTIVATION_RELU,
        "NN_ACTIVATION_SOFTMAX": NN_ACTIVATION_SOFTMAX,
        "NN_ACTIVATION_LEAKY_RELU": NN_ACTIVATION_LEAKY_RELU,
        "NN_ACTIVATION_ELU": NN_ACTIVATION_ELU,
        "NN_ACTIVATION_GELU": NN_ACTIVATION_GELU,
        "NN_ACTIVATION_SOFTPLUS": NN_ACTIVATION_SOFTPLUS,
        "NN_ACTIVATION_STEP": NN_ACTIVATION_STEP,
        "NN_ACTIVATION_MISH": NN_ACTIVATION_MISH,
    },
    "nn_initializer": {
        "NN_INIT_DEFAULT": NN_INIT_DEFAULT,
        "NN_INIT_GLOROT_UNIFORM": NN_INIT_GLOROT_UNIFORM,
        "NN_INIT_GLOROT_NORMAL": NN_INIT_GLOROT_NORMAL,
        "NN_INIT_HE_UNIFORM": NN_INIT_HE_UNIFORM,
        "NN_INIT_HE_NORMAL": NN_INIT_HE_NORMAL,
        "NN_INIT_ZEROS": NN_INIT_ZEROS,
        "NN_INIT_ONES": NN_INIT_ONES,
        "NN_INIT_LECUN_UNIFORM": NN_INIT_LECUN_UNIFORM,
        "NN_INIT_LECUN_NORMAL": NN_INIT_LECUN_NORMAL,
        "NN_INIT_CONSTANT": NN_INIT_CONSTANT,
    },
    "nn_loss": {
        "NN_LOSS_MEAN_SQUARED_ERROR": NN_LOSS_MEAN_SQUARED_ERROR,
        "NN_LOSS_BINARY_CROSSENTROPY": NN_LOSS_BINARY_CROSSENTROPY,
        "NN_LOSS_CATEGORICAL_CROSSENTROPY": NN_LOSS_CATEGORICAL_CROSSENTROPY,
        "NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY": NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
        "NN_LOSS_MEAN_ABSOLUTE_ERROR": NN_LOSS_MEAN_ABSOLUTE_ERROR,
        "NN_LOSS_HUBER": NN_LOSS_HUBER,
    },
    "nn_optimizer": {
        "NN_OPTIMIZER_SGD": NN_OPTIMIZER_SGD,
        "NN_OPTIMIZER_ADAM": NN_OPTIMIZER_ADAM,
        "NN_OPTIMIZER_ADAMW": NN_OPTIMIZER_ADAMW,
        "NN_OPTIMIZER_RMSPROP": NN_OPTIMIZER_RMSPROP,
        "NN_OPTIMIZER_ADAGRAD": NN_OPTIMIZER_ADAGRAD,
        "NN_OPTIMIZER_RPROP": NN_OPTIMIZER_RPROP,
        "NN_OPTIMIZER_ADAMAX": NN_OPTIMIZER_ADAMAX,
    },
    "nn_metric": {
        "NN_METRIC_ACCURACY": NN_METRIC_ACCURACY,
        "NN_METRIC_BINARY_ACCURACY": NN_METRIC_BINARY_ACCURACY,
        "NN_METRIC_CATEGORICAL_ACCURACY": NN_METRIC_CATEGORICAL_ACCURACY,
        "NN_METRIC_SPARSE_CATEGORICAL_ACCURACY": NN_METRIC_SPARSE_CATEGORICAL_ACCURACY,
        "NN_METRIC_PRECISION": NN_METRIC_PRECISION,
        "NN_METRIC_RECALL": NN_METRIC_RECALL,
        "NN_METRIC_F1_SCORE": NN_METRIC_F1_SCORE,
        "NN_METRIC_F1_MACRO": NN_METRIC_F1_MACRO,
        "NN_METRIC_TOP_K_ACCURACY": NN_METRIC_TOP_K_ACCURACY,
        "NN_METRIC_MEAN_ABSOLUTE_ERROR": NN_METRIC_MEAN_ABSOLUTE_ERROR,
    },
    "nn_layer_kind": {
        "NN_LAYER_DENSE": NN_LAYER_DENSE,
        "NN_LAYER_DROPOUT": NN_LAYER_DROPOUT,
        "NN_LAYER_BATCH_NORMALIZATION": NN_LAYER_BATCH_NORMALIZATION,
        "NN_LAYER_ACTIVATION": NN_LAYER_ACTIVATION,
    },
    "nn_monitor_mode": {
        "NN_MONITOR_AUTO": NN_MONITOR_AUTO,
        "NN_MONITOR_MIN": NN_MONITOR_MIN,
        "NN_MONITOR_MAX": NN_MONITOR_MAX,
    },
    "nn_enum": {
        "NN_ENUM_ACTIVATION": NN_ENUM_ACTIVATION,
        "NN_ENUM_INITIALIZER": NN_ENUM_INITIALIZER,
        "NN_ENUM_LOSS": NN_ENUM_LOSS,
        "NN_ENUM_OPTIMIZER": NN_ENUM_OPTIMIZER,
        "NN_ENUM_METRIC": NN_ENUM_METRIC,
        "NN_ENUM_LAYER_KIND": NN_ENUM_LAYER_KIND,
    },
    "nn_schedule": {
        "NN_SCHEDULE_NONE": NN_SCHEDULE_NONE,
        "NN_SCHEDULE_STEP": NN_SCHEDULE_STEP,
        "NN_SCHEDULE_EXPONENTIAL": NN_SCHEDULE_EXPONENTIAL,
        "NN_SCHEDULE_COSINE": NN_SCHEDULE_COSINE,
        "NN_SCHEDULE_REDUCE_ON_PLATEAU": NN_SCHEDULE_REDUCE_ON_PLATEAU,
    },
    "nn_finding_kind": {
        "NN_FINDING_VANISHING_GRADIENTS": NN_FINDING_VANISHING_GRADIENTS,
        "NN_FINDING_EXPLODING_GRADIENTS": NN_FINDING_EXPLODING_GRADIENTS,
        "NN_FINDING_DEAD_UNITS": NN_FINDING_DEAD_UNITS,
        "NN_FINDING_SATURATED_UNITS": NN_FINDING_SATURATED_UNITS,
        "NN_FINDING_LEARNING_RATE_TOO_HIGH": NN_FINDING_LEARNING_RATE_TOO_HIGH,
        "NN_FINDING_UNSCALED_INPUTS": NN_FINDING_UNSCALED_INPUTS,
        "NN_FINDING_LABEL_MISMATCH": NN_FINDING_LABEL_MISMATCH,
        "NN_FINDING_LOSS_AT_CHANCE": NN_FINDING_LOSS_AT_CHANCE,
    },
}

nn_enum_name = lib.nn_enum_name
nn_enum_name.argtypes = [nn_enum, c_int]
nn_enum_name.restype = c_char_p

# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------


class nn_model(Structure):
    """Opaque model handle (struct nn_model); only ever used through a pointer."""
    _fields_ = []


nn_model_p = POINTER(nn_model)

nn_model_create = lib.nn_model_create
nn_model_create.argtypes = [c_size_t, c_uint64, POINTER(nn_model_p)]
nn_model_create.restype = nn_status

nn_model_free = lib.nn_model_free
nn_model_free.argtypes = [nn_model_p]
nn_model_free.restype = None


class nn_dense_options(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("units", c_size_t),
        ("activation", nn_activation),
        ("kernel_initializer", nn_initializer),
        ("bias_initializer", nn_initializer),
        ("activation_parameter", c_double),
        ("kernel_initializer_value", c_double),
        ("bias_initializer_value", c_double),
        ("kernel_l1", c_double),
        ("kernel_l2", c_double),
    ]


nn_dense_options_init_sized = lib.nn_dense_options_init_sized
nn_dense_options_init_sized.argtypes = [POINTER(nn_dense_options), c_size_t, c_size_t]
nn_dense_options_init_sized.restype = None

nn_dense_options_init = lib.nn_dense_options_init
nn_dense_options_init.argtypes = [POINTER(nn_dense_options), c_size_t]
nn_dense_options_init.restype = None

nn_model_add_dense = lib.nn_model_add_dense
nn_model_add_dense.argtypes = [nn_model_p, c_size_t, nn_activation]
nn_model_add_dense.restype = nn_status

nn_model_add_dense_ex = lib.nn_model_add_dense_ex
nn_model_add_dense_ex.argtypes = [nn_model_p, POINTER(nn_dense_options)]
nn_model_add_dense_ex.restype = nn_status

nn_model_add_dropout = lib.nn_model_add_dropout
nn_model_add_dropout.argtypes = [nn_model_p, c_double]
nn_model_add_dropout.restype = nn_status

nn_model_add_batch_normalization = lib.nn_model_add_batch_normalization
nn_model_add_batch_normalization.argtypes = [nn_model_p, c_double, c_double]
nn_model_add_batch_normalization.restype = nn_status

nn_model_add_activation = lib.nn_model_add_activation
nn_model_add_activation.argtypes = [nn_model_p, nn_activation, c_double]
nn_model_add_activation.restype = nn_status

nn_model_set_loss = lib.nn_model_set_loss
nn_model_set_loss.argtypes = [nn_model_p, nn_loss, c_int]
nn_model_set_loss.restype = nn_status


class nn_loss_options(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("loss", nn_loss),
        ("from_logits", c_int),
        ("huber_delta", c_double),
    ]


nn_loss_options_init_sized = lib.nn_loss_options_init_sized
nn_loss_options_init_sized.argtypes = [POINTER(nn_loss_options), c_size_t, nn_loss]
nn_loss_options_init_sized.restype = None

nn_loss_options_init = lib.nn_loss_options_init
nn_loss_options_init.argtypes = [POINTER(nn_loss_options), nn_loss]
nn_loss_options_init.restype = None

nn_model_set_loss_ex = lib.nn_model_set_loss_ex
nn_model_set_loss_ex.argtypes = [nn_model_p, POINTER(nn_loss_options)]
nn_model_set_loss_ex.restype = nn_status


class nn_optimizer_options(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("kind", nn_optimizer),
        ("learning_rate", c_double),
        ("momentum", c_double),
        ("nesterov", c_int),
        ("beta1", c_double),
        ("beta2", c_double),
        ("epsilon", c_double),
        ("weight_decay", c_double),
        ("dampening", c_double),
        ("amsgrad", c_int),
        ("alpha", c_double),
        ("centered", c_int),
        ("lr_decay", c_double),
        ("initial_accumulator_value", c_double),
        ("eta_minus", c_double),
        ("eta_plus", c_double),
        ("step_size_min", c_double),
        ("step_size_max", c_double),
        ("clip_value", c_double),
        ("clip_norm", c_double),
        ("global_clip_norm", c_double),
    ]


nn_optimizer_options_init_sized = lib.nn_optimizer_options_init_sized
nn_optimizer_options_init_sized.argtypes = [POINTER(nn_optimizer_options), c_size_t, nn_optimizer]
nn_optimizer_options_init_sized.restype = nn_status

nn_optimizer_options_init = lib.nn_optimizer_options_init
nn_optimizer_options_init.argtypes = [POINTER(nn_optimizer_options), nn_optimizer]
nn_optimizer_options_init.restype = nn_status

nn_model_set_optimizer = lib.nn_model_set_optimizer
nn_model_set_optimizer.argtypes = [nn_model_p, POINTER(nn_optimizer_options)]
nn_model_set_optimizer.restype = nn_status

nn_model_add_metric = lib.nn_model_add_metric
nn_model_add_metric.argtypes = [nn_model_p, nn_metric]
nn_model_add_metric.restype = nn_status

nn_model_add_metric_ex = lib.nn_model_add_metric_ex
nn_model_add_metric_ex.argtypes = [nn_model_p, nn_metric, c_double]
nn_model_add_metric_ex.restype = nn_status

nn_model_clear_metrics = lib.nn_model_clear_metrics
nn_model_clear_metrics.argtypes = [nn_model_p]
nn_model_clear_metrics.restype = nn_status


class nn_schedule_options(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("kind", nn_schedule),
        ("step_size", c_size_t),
        ("gamma", c_double),
        ("t_max", c_size_t),
        ("eta_min", c_double),
        # A c_char_p field keeps the bytes object it is given alive in the
        # structure's _objects; the C call copies the string.
        ("monitor", c_char_p),
        ("factor", c_double),
        ("patience", c_size_t),
        ("min_delta", c_double),
        ("cooldown", c_size_t),
        ("min_lr", c_double),
        ("mode", nn_monitor_mode),
    ]


nn_schedule_options_init_sized = lib.nn_schedule_options_init_sized
nn_schedule_options_init_sized.argtypes = [POINTER(nn_schedule_options), c_size_t, nn_schedule]
nn_schedule_options_init_sized.restype = nn_status

nn_schedule_options_init = lib.nn_schedule_options_init
nn_schedule_options_init.argtypes = [POINTER(nn_schedule_options), nn_schedule]
nn_schedule_options_init.restype = nn_status

nn_model_set_lr_schedule = lib.nn_model_set_lr_schedule
nn_model_set_lr_schedule.argtypes = [nn_model_p, POINTER(nn_schedule_options)]
nn_model_set_lr_schedule.restype = nn_status

nn_model_learning_rate = lib.nn_model_learning_rate
nn_model_learning_rate.argtypes = [nn_model_p, POINTER(c_double)]
nn_model_learning_rate.restype = nn_status

nn_model_set_learning_rate = lib.nn_model_set_learning_rate
nn_model_set_learning_rate.argtypes = [nn_model_p, c_double]
nn_model_set_learning_rate.restype = nn_status

nn_model_optimizer_iterations = lib.nn_model_optimizer_iterations
nn_model_optimizer_iterations.argtypes = [nn_model_p, POINTER(c_size_t)]
nn_model_optimizer_iterations.restype = nn_status

nn_model_metric_count = lib.nn_model_metric_count
nn_model_metric_count.argtypes = [nn_model_p, POINTER(c_size_t)]
nn_model_metric_count.restype = nn_status

nn_model_metric_name = lib.nn_model_metric_name
nn_model_metric_name.argtypes = [nn_model_p, c_size_t, POINTER(c_char_p)]
nn_model_metric_name.restype = nn_status

# --------------------------------------------------------------------------
# Inspection
# --------------------------------------------------------------------------

nn_model_input_dim = lib.nn_model_input_dim
nn_model_input_dim.argtypes = [nn_model_p, POINTER(c_size_t)]
nn_model_input_dim.restype = nn_status

nn_model_output_dim = lib.nn_model_output_dim
nn_model_output_dim.argtypes = [nn_model_p, POINTER(c_size_t)]
nn_model_output_dim.restype = nn_status

nn_model_layer_count = lib.nn_model_layer_count
nn_model_layer_count.argtypes = [nn_model_p, POINTER(c_size_t)]
nn_model_layer_count.restype = nn_status

nn_model_layer_kind = lib.nn_model_layer_kind
nn_model_layer_kind.argtypes = [nn_model_p, c_size_t, POINTER(nn_layer_kind)]
nn_model_layer_kind.restype = nn_status

nn_model_layer_info = lib.nn_model_layer_info
nn_model_layer_info.argtypes = [nn_model_p, c_size_t, POINTER(c_size_t), POINTER(nn_activation)]
nn_model_layer_info.restype = nn_status

nn_model_parameter_count = lib.nn_model_parameter_count
nn_model_parameter_count.argtypes = [nn_model_p, POINTER(c_size_t)]
nn_model_parameter_count.restype = nn_status

nn_model_summary = lib.nn_model_summary
nn_model_summary.argtypes = [nn_model_p, POINTER(c_char), c_size_t, POINTER(c_size_t)]
nn_model_summary.restype = nn_status

# --------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------

NN_MAX_DIMS = 4

nn_model_weight_count = lib.nn_model_weight_count
nn_model_weight_count.argtypes = [nn_model_p, POINTER(c_size_t)]
nn_model_weight_count.restype = nn_status

nn_model_weight_info = lib.nn_model_weight_info
nn_model_weight_info.argtypes = [nn_model_p, c_size_t, POINTER(c_char_p), POINTER(c_int)]
nn_model_weight_info.restype = nn_status

nn_model_weight_shape = lib.nn_model_weight_shape
nn_model_weight_shape.argtypes = [nn_model_p, c_size_t, POINTER(c_size_t), POINTER(c_size_t),
                                  c_size_t]
nn_model_weight_shape.restype = nn_status

nn_model_get_weight = lib.nn_model_get_weight
nn_model_get_weight.argtypes = [nn_model_p, c_size_t, POINTER(c_float), c_size_t]
nn_model_get_weight.restype = nn_status

nn_model_set_weight = lib.nn_model_set_weight
nn_model_set_weight.argtypes = [nn_model_p, c_size_t, POINTER(c_float), c_size_t]
nn_model_set_weight.restype = nn_status

# --------------------------------------------------------------------------
# Training, evaluation, prediction
# --------------------------------------------------------------------------

# typedef int (*nn_epoch_callback)(void *user_data, size_t epoch, size_t n_logs,
#                                  const char *const *names, const double *values);
nn_epoch_callback = CFUNCTYPE(c_int, c_void_p, c_size_t, c_size_t, POINTER(c_char_p),
                              POINTER(c_double))

nn_batch_callback = CFUNCTYPE(c_int, c_void_p, c_size_t, c_size_t, c_size_t, c_size_t,
                              POINTER(c_char_p), POINTER(c_double))


class nn_early_stopping_options(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("monitor", c_char_p),  # kept alive by the structure, as above
        ("min_delta", c_double),
        ("patience", c_size_t),
        ("mode", nn_monitor_mode),
        ("restore_best_weights", c_int),
    ]


nn_early_stopping_options_init_sized = lib.nn_early_stopping_options_init_sized
nn_early_stopping_options_init_sized.argtypes = [POINTER(nn_early_stopping_options), c_size_t]
nn_early_stopping_options_init_sized.restype = None

nn_early_stopping_options_init = lib.nn_early_stopping_options_init
nn_early_stopping_options_init.argtypes = [POINTER(nn_early_stopping_options)]
nn_early_stopping_options_init.restype = None


class nn_fit_options(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("epochs", c_size_t),
        ("batch_size", c_size_t),
        ("shuffle", c_int),
        ("seed", c_uint64),
        ("validation_x", POINTER(c_float)),
        ("validation_y", POINTER(c_float)),
        ("validation_rows", c_size_t),
        ("on_epoch_end", nn_epoch_callback),
        ("user_data", c_void_p),
        ("validation_split", c_double),
        ("sample_weights", POINTER(c_float)),
        ("class_weights", POINTER(c_float)),
        ("class_weight_count", c_size_t),
        ("early_stopping", POINTER(nn_early_stopping_options)),
        ("on_batch_end", nn_batch_callback),
        ("stop_flag", POINTER(c_int)),
    ]


nn_fit_options_init_sized = lib.nn_fit_options_init_sized
nn_fit_options_init_sized.argtypes = [POINTER(nn_fit_options), c_size_t]
nn_fit_options_init_sized.restype = None

nn_fit_options_init = lib.nn_fit_options_init
nn_fit_options_init.argtypes = [POINTER(nn_fit_options)]
nn_fit_options_init.restype = None

nn_model_fit = lib.nn_model_fit
nn_model_fit.argtypes = [nn_model_p, POINTER(c_float), POINTER(c_float), c_size_t, c_size_t,
                         c_size_t, POINTER(nn_fit_options)]
nn_model_fit.restype = nn_status

nn_model_fit_logs = lib.nn_model_fit_logs
nn_model_fit_logs.argtypes = [nn_model_p, POINTER(c_size_t), POINTER(c_size_t)]
nn_model_fit_logs.restype = nn_status

nn_model_fit_log = lib.nn_model_fit_log
nn_model_fit_log.argtypes = [nn_model_p, c_size_t, POINTER(c_char_p), POINTER(c_double), c_size_t]
nn_model_fit_log.restype = nn_status

nn_model_evaluate = lib.nn_model_evaluate
nn_model_evaluate.argtypes = [nn_model_p, POINTER(c_float), POINTER(c_float), c_size_t,
                              c_size_t, c_size_t, POINTER(c_double), c_size_t]
nn_model_evaluate.restype = nn_status

nn_model_train_on_batch = lib.nn_model_train_on_batch
nn_model_train_on_batch.argtypes = [nn_model_p, POINTER(c_float), POINTER(c_float), c_size_t, c_size_t,
                                    c_size_t, POINTER(c_float), POINTER(c_double), c_size_t]
nn_model_train_on_batch.restype = nn_status

nn_model_test_on_batch = lib.nn_model_test_on_batch
nn_model_test_on_batch.argtypes = [nn_model_p, POINTER(c_float), POINTER(c_float), c_size_t, c_size_t,
                                   c_size_t, POINTER(c_float), POINTER(c_double), c_size_t]
nn_model_test_on_batch.restype = nn_status

# typedef int (*nn_allreduce_callback)(float *values, size_t count, void *user_data);
nn_allreduce_callback = CFUNCTYPE(c_int, POINTER(c_float), c_size_t, c_void_p)

nn_model_set_data_parallel = lib.nn_model_set_data_parallel
nn_model_set_data_parallel.argtypes = [nn_model_p, c_size_t, c_size_t, nn_allreduce_callback, c_void_p]
nn_model_set_data_parallel.restype = nn_status

nn_model_predict = lib.nn_model_predict
nn_model_predict.argtypes = [nn_model_p, POINTER(c_float), c_size_t, c_size_t, POINTER(c_float),
                             c_size_t]
nn_model_predict.restype = nn_status

# The same function without argtypes: converting six arguments costs ctypes
# about 0.8 µs (a one-sample predict of a small MLP is 10 µs), so the caller
# passes them ready-made, exactly as nn.h declares them: the model as a
# c_void_p, byref(c_float) for the two arrays, c_size_t for the three sizes
# (models.Sequential.predict, the only caller). It releases the GIL like
# every call through `lib`, so that threads predicting on one model run in
# parallel (nn.h, "Threading"); keeping it (a PyDLL) saved nothing
# measurable here (0.1-0.3 µs, within the noise).
nn_model_predict_ready = ctypes.CDLL(library_path).nn_model_predict
nn_model_predict_ready.restype = nn_status

nn_model_confusion_matrix = lib.nn_model_confusion_matrix
nn_model_confusion_matrix.argtypes = [nn_model_p, POINTER(c_float), POINTER(c_float), c_size_t,
                                      c_size_t, c_size_t, POINTER(c_size_t), c_size_t,
                                      POINTER(c_size_t)]
nn_model_confusion_matrix.restype = nn_status

nn_model_input_gradient = lib.nn_model_input_gradient
nn_model_input_gradient.argtypes = [nn_model_p, POINTER(c_float), c_size_t, c_size_t, POINTER(c_float), c_size_t,
                                    POINTER(c_float), c_size_t]
nn_model_input_gradient.restype = nn_status

nn_model_loss_input_gradient = lib.nn_model_loss_input_gradient
nn_model_loss_input_gradient.argtypes = [nn_model_p, POINTER(c_float), POINTER(c_float), c_size_t, c_size_t, c_size_t,
                                         POINTER(c_float), c_size_t]
nn_model_loss_input_gradient.restype = nn_status

# --------------------------------------------------------------------------
# Saving and loading
# --------------------------------------------------------------------------

NN_SAVE_INCLUDE_OPTIMIZER = 1

nn_model_save = lib.nn_model_save
nn_model_save.argtypes = [nn_model_p, c_char_p, c_uint]
nn_model_save.restype = nn_status

nn_model_save_to_buffer = lib.nn_model_save_to_buffer
nn_model_save_to_buffer.argtypes = [nn_model_p, c_uint, c_void_p, c_size_t, POINTER(c_size_t)]
nn_model_save_to_buffer.restype = nn_status

nn_model_load = lib.nn_model_load
nn_model_load.argtypes = [c_char_p, POINTER(nn_model_p)]
nn_model_load.restype = nn_status

nn_model_load_from_buffer = lib.nn_model_load_from_buffer
nn_model_load_from_buffer.argtypes = [c_void_p, c_size_t, POINTER(nn_model_p)]
nn_model_load_from_buffer.restype = nn_status

nn_model_load_weights = lib.nn_model_load_weights
nn_model_load_weights.argtypes = [nn_model_p, c_char_p]
nn_model_load_weights.restype = nn_status

nn_model_load_weights_from_buffer = lib.nn_model_load_weights_from_buffer
nn_model_load_weights_from_buffer.argtypes = [nn_model_p, c_void_p, c_size_t]
nn_model_load_weights_from_buffer.restype = nn_status

nn_model_config = lib.nn_model_config
nn_model_config.argtypes = [nn_model_p, POINTER(c_char), c_size_t, POINTER(c_size_t)]
nn_model_config.restype = nn_status

# --------------------------------------------------------------------------
# Seeing inside: gradient check, anomaly detection, layer statistics,
# diagnosis
# --------------------------------------------------------------------------


class nn_gradient_check_options(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("use_float", c_int),
        ("epsilon", c_double),
        ("max_checks_per_array", c_size_t),
        ("seed", c_uint64),
    ]


class nn_gradient_check_result(Structure):
    _fields_ = [
        ("layer", c_size_t),
        ("relative_error", c_double),
        ("weight_index", c_size_t),
        ("element", c_size_t),
        ("analytic", c_double),
        ("numeric", c_double),
        ("checked", c_size_t),
        ("below_resolution", c_size_t),
    ]


nn_gradient_check_options_init_sized = lib.nn_gradient_check_options_init_sized
nn_gradient_check_options_init_sized.argtypes = [POINTER(nn_gradient_check_options), c_size_t]
nn_gradient_check_options_init_sized.restype = None

nn_gradient_check_options_init = lib.nn_gradient_check_options_init
nn_gradient_check_options_init.argtypes = [POINTER(nn_gradient_check_options)]
nn_gradient_check_options_init.restype = None

nn_model_gradient_check = lib.nn_model_gradient_check
nn_model_gradient_check.argtypes = [nn_model_p, POINTER(c_float), POINTER(c_float), c_size_t,
                                    c_size_t, c_size_t, POINTER(nn_gradient_check_options),
                                    POINTER(nn_gradient_check_result), c_size_t,
                                    POINTER(c_size_t)]
nn_model_gradient_check.restype = nn_status

nn_model_set_anomaly_detection = lib.nn_model_set_anomaly_detection
nn_model_set_anomaly_detection.argtypes = [nn_model_p, c_int]
nn_model_set_anomaly_detection.restype = nn_status

nn_model_set_layer_statistics = lib.nn_model_set_layer_statistics
nn_model_set_layer_statistics.argtypes = [nn_model_p, c_size_t]
nn_model_set_layer_statistics.restype = nn_status


class nn_layer_statistics(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("epoch", c_size_t),
        ("layer", c_size_t),
        ("batches", c_size_t),
        ("activation_mean", c_double),
        ("activation_std", c_double),
        ("dead_fraction", c_double),
        ("saturated_fraction", c_double),
        ("gradient_norm", c_double),
        ("weight_norm", c_double),
        ("update_ratio", c_double),
    ]


nn_model_layer_statistics_count = lib.nn_model_layer_statistics_count
nn_model_layer_statistics_count.argtypes = [nn_model_p, POINTER(c_size_t)]
nn_model_layer_statistics_count.restype = nn_status

nn_model_layer_statistics = lib.nn_model_layer_statistics
nn_model_layer_statistics.argtypes = [nn_model_p, c_size_t, c_size_t,
                                      POINTER(nn_layer_statistics)]
nn_model_layer_statistics.restype = nn_status


class nn_finding(Structure):
    _fields_ = [
        ("kind", nn_finding_kind),
        ("layer", c_int64),
        ("value", c_double),
        # const char * owned by the model (valid until the next diagnosis)
        ("message", c_char_p),
        ("suggestion", c_char_p),
    ]


nn_model_diagnose = lib.nn_model_diagnose
nn_model_diagnose.argtypes = [nn_model_p, POINTER(c_float), POINTER(c_float), c_size_t, c_size_t,
                              c_size_t, c_size_t, c_size_t, POINTER(c_size_t)]
nn_model_diagnose.restype = nn_status

nn_model_finding = lib.nn_model_finding
nn_model_finding.argtypes = [nn_model_p, c_size_t, POINTER(nn_finding)]
nn_model_finding.restype = nn_status

nn_model_diagnosis_report = lib.nn_model_diagnosis_report
nn_model_diagnosis_report.argtypes = [nn_model_p, POINTER(c_char), c_size_t, POINTER(c_size_t)]
nn_model_diagnosis_report.restype = nn_status

# --------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------

nn_set_num_threads = lib.nn_set_num_threads
nn_set_num_threads.argtypes = [c_size_t]
nn_set_num_threads.restype = nn_status

nn_num_threads = lib.nn_num_threads
nn_num_threads.argtypes = [POINTER(c_size_t)]
nn_num_threads.restype = nn_status

nn_cpu_level = lib.nn_cpu_level
nn_cpu_level.argtypes = []
nn_cpu_level.restype = c_char_p

nn_sgemm = lib.nn_sgemm
nn_sgemm.argtypes = [c_int, c_int, c_size_t, c_size_t, c_size_t, c_float, POINTER(c_float),
                     c_size_t, POINTER(c_float), c_size_t, c_float, POINTER(c_float), c_size_t]
nn_sgemm.restype = nn_status

# Every function of nn.h, in header order (the prototype test checks that
# this list and the header agree).
FUNCTIONS = (
    "nn_version",
    "nn_last_error",
    "nn_status_string",
    "nn_enum_name",
    "nn_model_create",
    "nn_model_free",
    "nn_dense_options_init_sized",
    "nn_dense_options_init",
    "nn_model_add_dense",
    "nn_model_add_dense_ex",
    "nn_model_add_dropout",
    "nn_model_add_batch_normalization",
    "nn_model_add_activation",
    "nn_model_set_loss",
    "nn_loss_options_init_sized",
    "nn_loss_options_init",
    "nn_model_set_loss_ex",
    "nn_optimizer_options_init_sized",
    "nn_optimizer_options_init",
    "nn_model_set_optimizer",
    "nn_model_add_metric",
    "nn_model_add_metric_ex",
    "nn_model_clear_metrics",
    "nn_schedule_options_init_sized",
    "nn_schedule_options_init",
    "nn_model_set_lr_schedule",
    "nn_model_learning_rate",
    "nn_model_set_learning_rate",
    "nn_model_optimizer_iterations",
    "nn_model_metric_count",
    "nn_model_metric_name",
    "nn_model_input_dim",
    "nn_model_output_dim",
    "nn_model_layer_count",
    "nn_model_layer_kind",
    "nn_model_layer_info",
    "nn_model_parameter_count",
    "nn_model_summary",
    "nn_model_weight_count",
    "nn_model_weight_info",
    "nn_model_weight_shape",
    "nn_model_get_weight",
    "nn_model_set_weight",
    "nn_early_stopping_options_init_sized",
    "nn_early_stopping_options_init",
    "nn_fit_options_init_sized",
    "nn_fit_options_init",
    "nn_model_fit",
    "nn_model_fit_logs",
    "nn_model_fit_log",
    "nn_model_evaluate",
    "nn_model_train_on_batch",
    "nn_model_test_on_batch",
    "nn_model_set_data_parallel",
    "nn_model_predict",
    "nn_model_confusion_matrix",
    "nn_model_input_gradient",
    "nn_model_loss_input_gradient",
    "nn_model_save",
    "nn_model_save_to_buffer",
    "nn_model_load",
    "nn_model_load_from_buffer",
    "nn_model_load_weights",
    "nn_model_load_weights_from_buffer",
    "nn_model_config",
    "nn_gradient_check_options_init_sized",
    "nn_gradient_check_options_init",
    "nn_model_gradient_check",
    "nn_model_set_anomaly_detection",
    "nn_model_set_layer_statistics",
    "nn_model_layer_statistics_count",
    "nn_model_layer_statistics",
    "nn_model_diagnose",
    "nn_model_finding",
    "nn_model_diagnosis_report",
    "nn_set_num_threads",
    "nn_num_threads",
    "nn_cpu_level",
    "nn_sgemm",
)

STRUCTS = {
    "nn_dense_options": nn_dense_options,
    "nn_loss_options": nn_loss_options,
    "nn_optimizer_options": nn_optimizer_options,
    "nn_schedule_options": nn_schedule_options,
    "nn_early_stopping_options": nn_early_stopping_options,
    "nn_fit_options": nn_fit_options,
    "nn_gradient_check_options": nn_gradient_check_options,
    "nn_gradient_check_result": nn_gradient_check_result,
    "nn_layer_statistics": nn_layer_statistics,
    "nn_finding": nn_finding,
}
