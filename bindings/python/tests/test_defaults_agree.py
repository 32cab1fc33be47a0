"""Defaults must agree across the three places that state them (issue 11, item 3).

1. libnn itself: what the C ``*_options_init_sized`` functions fill in;
2. include/nn.h: the "default X" in each struct field's comment;
3. the Python binding: the defaults of the ``__init__``/method signatures.

libnn is the reference. Each Python check maps an argument (or one element
of a pair argument) to a C field, with a converter for the places where
Python spells "the default" differently (None for a disabled clipping or for
the model's own seed, True/False for 0/1, 'auto' for NN_MONITOR_AUTO).
Floats are compared exactly. Every failure names the class/struct, the
argument/field and the optimizer or schedule kind.

Not covered, for lack of a clean mapping: layers.Dense (its Python defaults
are None/objects resolved by activations.get/initializers.get, not values
of nn_dense_options) — its header comments are still checked against libnn.
"""

import ctypes
import inspect
import math
import os
import re

import pytest

from nn import _lib, callbacks, losses, optimizers, schedules
from nn.models import Sequential

HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                      "include", "nn.h")


# --------------------------------------------------------------------------
# libnn's defaults
# --------------------------------------------------------------------------

def c_optimizer(kind):
    options = _lib.nn_optimizer_options()
    status = _lib.nn_optimizer_options_init_sized(ctypes.byref(options), ctypes.sizeof(options), kind)
    assert status == 0
    return options


def c_schedule(kind):
    options = _lib.nn_schedule_options()
    status = _lib.nn_schedule_options_init_sized(ctypes.byref(options), ctypes.sizeof(options), kind)
    assert status == 0
    return options


def c_loss(loss):
    options = _lib.nn_loss_options()
    _lib.nn_loss_options_init_sized(ctypes.byref(options), ctypes.sizeof(options), loss)
    return options


def c_dense(units=1):
    options = _lib.nn_dense_options()
    _lib.nn_dense_options_init_sized(ctypes.byref(options), ctypes.sizeof(options), units)
    return options


def c_plain(struct, init):
    options = struct()
    init(ctypes.byref(options), ctypes.sizeof(options))
    return options


def c_early_stopping():
    return c_plain(_lib.nn_early_stopping_options, _lib.nn_early_stopping_options_init_sized)


def c_fit():
    return c_plain(_lib.nn_fit_options, _lib.nn_fit_options_init_sized)


def c_gradient_check():
    return c_plain(_lib.nn_gradient_check_options, _lib.nn_gradient_check_options_init_sized)


# --------------------------------------------------------------------------
# Python's defaults and the argument -> field mappings
# --------------------------------------------------------------------------

def same(a, b):
    """Exact equality; NaN equals NaN; bytes from c_char_p compared as str."""
    if isinstance(a, bytes):
        a = a.decode()
    if isinstance(b, bytes):
        b = b.decode()
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    a, b = float(a), float(b)
    return a == b or (math.isnan(a) and math.isnan(b))


def as_c(value):
    """Python's spelling of a value -> the C field's (bools are 0/1)."""
    if isinstance(value, bool):
        return int(value)
    return value


def none_is_zero(value):
    """None (disabled / continue the model's generator / the precision's own step) is 0 in C."""
    return 0 if value is None else as_c(value)


MONITOR_MODES = {"auto": _lib.NN_MONITOR_AUTO, "min": _lib.NN_MONITOR_MIN, "max": _lib.NN_MONITOR_MAX}


def monitor_mode(value):
    return MONITOR_MODES[value]


# (python argument, element of a pair or None, C field, converter)
CLIPPING = [("clipvalue", None, "clip_value", none_is_zero),
            ("clipnorm", None, "clip_norm", none_is_zero),
            ("global_clipnorm", None, "global_clip_norm", none_is_zero)]

OPTIMIZERS = {
    optimizers.SGD: [("learning_rate", None, "learning_rate", as_c),
                     ("momentum", None, "momentum", as_c),
                     ("dampening", None, "dampening", as_c),
                     ("nesterov", None, "nesterov", as_c),
                     ("weight_decay", None, "weight_decay", as_c)] + CLIPPING,
    optimizers.Adam: [("learning_rate", None, "learning_rate", as_c),
                      ("beta_1", None, "beta1", as_c),
                      ("beta_2", None, "beta2", as_c),
                      ("epsilon", None, "epsilon", as_c),
                      ("weight_decay", None, "weight_decay", as_c),
                      ("amsgrad", None, "amsgrad", as_c)] + CLIPPING,
    optimizers.AdamW: [("learning_rate", None, "learning_rate", as_c),
                       ("beta_1", None, "beta1", as_c),
                       ("beta_2", None, "beta2", as_c),
                       ("epsilon", None, "epsilon", as_c),
                       ("weight_decay", None, "weight_decay", as_c),
                       ("amsgrad", None, "amsgrad", as_c)] + CLIPPING,
    optimizers.RMSprop: [("learning_rate", None, "learning_rate", as_c),
                         ("rho", None, "alpha", as_c),  # rho is Keras's name of PyTorch's alpha
                         ("momentum", None, "momentum", as_c),
                         ("epsilon", None, "epsilon", as_c),
                         ("centered", None, "centered", as_c),
                         ("weight_decay", None, "weight_decay", as_c)] + CLIPPING,
    optimizers.Adagrad: [("learning_rate", None, "learning_rate", as_c),
                         ("lr_decay", None, "lr_decay", as_c),
                         ("initial_accumulator_value", None, "initial_accumulator_value", as_c),
                         ("epsilon", None, "epsilon", as_c),
                         ("weight_decay", None, "weight_decay", as_c)] + CLIPPING,
    optimizers.Adamax: [("learning_rate", None, "learning_rate", as_c),
                        ("beta_1", None, "beta1", as_c),
                        ("beta_2", None, "beta2", as_c),
                        ("epsilon", None, "epsilon", as_c),
                        ("weight_decay", None, "weight_decay", as_c)] + CLIPPING,
    optimizers.Rprop: [("learning_rate", None, "learning_rate", as_c),
                       ("etas", 0, "eta_minus", as_c),
                       ("etas", 1, "eta_plus", as_c),
                       ("step_sizes", 0, "step_size_min", as_c),
                       ("step_sizes", 1, "step_size_max", as_c)] + CLIPPING,
}

# Arguments without a default (StepDecay's step_size, CosineDecay's t_max,
# ExponentialDecay's gamma) are required in Python and have nothing to compare.
SCHEDULES = {
    schedules.StepDecay: (_lib.NN_SCHEDULE_STEP, [("gamma", None, "gamma", as_c)]),
    schedules.CosineDecay: (_lib.NN_SCHEDULE_COSINE, [("eta_min", None, "eta_min", as_c)]),
    callbacks.ReduceLROnPlateau: (_lib.NN_SCHEDULE_REDUCE_ON_PLATEAU, [
        ("monitor", None, "monitor", as_c),
        ("factor", None, "factor", as_c),
        ("patience", None, "patience", as_c),
        ("mode", None, "mode", monitor_mode),
        ("min_delta", None, "min_delta", as_c),
        ("cooldown", None, "cooldown", as_c),
        ("min_lr", None, "min_lr", as_c)]),
}

EARLY_STOPPING = [("monitor", None, "monitor", as_c),
                  ("min_delta", None, "min_delta", as_c),
                  ("patience", None, "patience", as_c),
                  ("mode", None, "mode", monitor_mode),
                  ("restore_best_weights", None, "restore_best_weights", as_c)]


def fit_batch_size(value):
    # fit(batch_size=None) means 32 (_fit.prepare_data; Keras's rule); a number is itself.
    return 32 if value is None else value


FIT = [("epochs", None, "epochs", as_c),
       ("batch_size", None, "batch_size", fit_batch_size),
       ("shuffle", None, "shuffle", as_c),
       ("seed", None, "seed", none_is_zero),
       ("validation_split", None, "validation_split", as_c)]

GRADIENT_CHECK = [("precision", None, "use_float", lambda p: 1 if p == "float" else 0),
                  ("epsilon", None, "epsilon", none_is_zero),
                  ("max_checks_per_array", None, "max_checks_per_array", as_c),
                  ("seed", None, "seed", as_c)]


def python_default(function, argument, element):
    parameter = inspect.signature(function).parameters[argument]
    assert parameter.default is not inspect.Parameter.empty, \
        f"{function.__qualname__}: {argument} has no default"
    value = parameter.default
    return value if element is None else value[element]


def disagreements(what, function, mapping, c_options):
    """The (argument -> field) pairs whose Python default differs from libnn's, as messages."""
    found = []
    for argument, element, field, convert in mapping:
        py = python_default(function, argument, element)
        name = argument if element is None else f"{argument}[{element}]"
        c_value = getattr(c_options, field)
        if not same(convert(py), c_value):
            found.append(f"{what}: Python {name}={py!r} but libnn's {field}={c_value!r}")
    return found


@pytest.mark.parametrize("cls", list(OPTIMIZERS), ids=lambda c: c.__name__)
def test_optimizer_python_defaults_match_libnn(cls):
    problems = disagreements(cls.__name__, cls.__init__, OPTIMIZERS[cls], c_optimizer(cls.kind))
    assert not problems, "\n".join(problems)


def test_every_optimizer_kind_is_covered():
    kinds = {getattr(_lib, n) for n in dir(_lib) if n.startswith("NN_OPTIMIZER_")}
    assert kinds == {cls.kind for cls in OPTIMIZERS}


@pytest.mark.parametrize("cls", list(SCHEDULES), ids=lambda c: c.__name__)
def test_schedule_python_defaults_match_libnn(cls):
    kind, mapping = SCHEDULES[cls]
    problems = disagreements(cls.__name__, cls.__init__, mapping, c_schedule(kind))
    assert not problems, "\n".join(problems)


def test_early_stopping_python_defaults_match_libnn():
    problems = disagreements("EarlyStopping", callbacks.EarlyStopping.__init__, EARLY_STOPPING,
                             c_early_stopping())
    assert not problems, "\n".join(problems)


def test_huber_python_default_matches_libnn():
    problems = disagreements("Huber", losses.Huber.__init__,
                             [("delta", None, "huber_delta", as_c)], c_loss(_lib.NN_LOSS_HUBER))
    assert not problems, "\n".join(problems)


def test_fit_python_defaults_match_libnn():
    problems = disagreements("Sequential.fit", Sequential.fit, FIT, c_fit())
    assert not problems, "\n".join(problems)


def test_gradient_check_python_defaults_match_libnn():
    problems = disagreements("Sequential.gradient_check", Sequential.gradient_check,
                             GRADIENT_CHECK, c_gradient_check())
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------
# The check can fail: a drifted Python default is reported
# --------------------------------------------------------------------------

class DriftedAdam(optimizers.Adam):
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, epsilon=1e-7,
                 weight_decay=0.0, amsgrad=False, clipvalue=None, clipnorm=None,
                 global_clipnorm=None):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay, amsgrad,
                         clipvalue, clipnorm, global_clipnorm)


class DriftedRprop(optimizers.Rprop):
    def __init__(self, learning_rate=0.01, etas=(0.5, 1.25), step_sizes=(1e-6, 50),
                 clipvalue=None, clipnorm=None, global_clipnorm=None):
        super().__init__(learning_rate, etas, step_sizes, clipvalue, clipnorm, global_clipnorm)


def test_a_drifted_python_default_is_reported():
    problems = disagreements("DriftedAdam", DriftedAdam.__init__, OPTIMIZERS[optimizers.Adam],
                             c_optimizer(_lib.NN_OPTIMIZER_ADAM))
    assert len(problems) == 2, problems
    assert any("beta_2=0.99" in p and "beta2=0.999" in p for p in problems), problems
    assert any("epsilon=1e-07" in p and "epsilon=1e-08" in p for p in problems), problems
    problems = disagreements("DriftedRprop", DriftedRprop.__init__, OPTIMIZERS[optimizers.Rprop],
                             c_optimizer(_lib.NN_OPTIMIZER_RPROP))
    assert problems == ["DriftedRprop: Python etas[1]=1.25 but libnn's eta_plus=1.2"], problems


def test_a_wrong_mapping_is_reported():
    # AdamW's weight_decay (0.01) compared against Adam's libnn defaults (0).
    problems = disagreements("AdamW-vs-Adam", optimizers.AdamW.__init__,
                             OPTIMIZERS[optimizers.AdamW], c_optimizer(_lib.NN_OPTIMIZER_ADAM))
    assert problems == ["AdamW-vs-Adam: Python weight_decay=0.01 but libnn's weight_decay=0.0"]


# --------------------------------------------------------------------------
# include/nn.h's comments
# --------------------------------------------------------------------------

NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
VALUE = rf'(?:{NUM}|NaN|"[^"]*"|NN_[A-Z0-9_]+)'


def header_text():
    with open(HEADER, encoding="utf-8") as f:
        return f.read()


def struct_comments(name, text=None):
    """{field: its /**< ... */ comment, whitespace collapsed} of `typedef struct name`."""
    text = header_text() if text is None else text
    body = re.search(rf"typedef struct {name} \{{(.*?)\}} {name};", text, re.S)
    assert body, f"struct {name} not found in nn.h"
    fields = {}
    for field, comment in re.findall(r"\b(\w+);\s*/\*\*<(.*?)\*/", body.group(1), re.S):
        fields[field] = " ".join(comment.split())
    return fields


def literal(token):
    if token.startswith('"'):
        return token[1:-1]
    if token.startswith("NN_"):
        return getattr(_lib, token)
    return float(token)  # NaN included


def parse_default(comment):
    """The documented default of a field: {kind name or None (all kinds): value}, or
    None when the comment states no default. Understands
        "default X", "default X (Kind Y)", "X (default)",
        "default X for A, B and C, Y for D (...), ..." and "default X (KIND), Y (KIND2)"."""
    m = re.search(r"\bdefault\s+(.*)", comment)
    if m:
        rest = m.group(1)
        if re.match(rf"{NUM} for ", rest):
            values = {}
            for value, names in re.findall(
                    rf"({NUM}) for ([A-Za-z]\w*(?:(?:, | and )[A-Za-z]\w*)*)", rest):
                for kind in re.split(r", | and ", names):
                    values[kind] = literal(value)
            return values
        per_kind = re.match(rf"({NUM}) \(([A-Z_]+)\)((?:, {NUM} \([A-Z_]+\))*)", rest)
        if per_kind:
            pairs = re.findall(rf"({NUM}) \(([A-Z_]+)\)", per_kind.group(0))
            return {kind: literal(value) for value, kind in pairs}
        base = re.match(rf"({VALUE})(?: \(([A-Za-z]\w*) ({NUM})\))?", rest)
        assert base, f"unparsed default in nn.h comment: {comment!r}"
        values = {None: literal(base.group(1))}
        if base.group(2):
            values[base.group(2)] = literal(base.group(3))
        return values
    m = re.search(rf"({VALUE}) \(default\)", comment)
    if m:
        return {None: literal(m.group(1))}
    return None


def test_parse_default_forms():
    assert parse_default("> 0; default 0.01 for SGD (Keras), 0.001 for Adam and AdamW, "
                         "0.01 for RMSprop, Adagrad and Rprop (Rprop: the initial step)") == {
        "SGD": 0.01, "Adam": 0.001, "AdamW": 0.001, "RMSprop": 0.01, "Adagrad": 0.01,
        "Rprop": 0.01}
    assert parse_default("Adam, AdamW, RMSprop, Adagrad: > 0; default 1e-8 (Adagrad 1e-10)") == {
        None: 1e-8, "Adagrad": 1e-10}
    assert parse_default("STEP, EXPONENTIAL: decay factor > 0; default 0.1 (STEP), "
                         "0.95 (EXPONENTIAL)") == {"STEP": 0.1, "EXPONENTIAL": 0.95}
    assert parse_default('log name; default "val_loss"; copied') == {None: "val_loss"}
    assert parse_default("REDUCE_ON_PLATEAU: default NN_MONITOR_AUTO") == {None: _lib.NN_MONITOR_AUTO}
    assert parse_default("clip (Keras clipvalue); 0 (default) disables") == {None: 0.0}
    assert parse_default("rescale (Keras clipnorm); 0 disables") is None


# Kind names as nn.h's comments write them.
# (the Python class names: "SGD", "RMSprop", ...).
OPTIMIZER_KINDS = {cls.__name__: cls.kind for cls in optimizers._BY_NAME.values()}
SCHEDULE_KINDS = {"STEP": _lib.NN_SCHEDULE_STEP, "EXPONENTIAL": _lib.NN_SCHEDULE_EXPONENTIAL,
                  "COSINE": _lib.NN_SCHEDULE_COSINE,
                  "REDUCE_ON_PLATEAU": _lib.NN_SCHEDULE_REDUCE_ON_PLATEAU}


def applies_to(comment, kind_names):
    """The kinds a field's comment starts with ("SGD, RMSprop: ..."; "SGD only, ..."),
    or every kind when it names none."""
    head = re.match(r"([A-Za-z_]+(?:(?:, | and )[A-Za-z_]+)*)(?: only)?[:,]", comment)
    if head:
        names = re.split(r", | and ", head.group(1))
        if all(n in kind_names for n in names):
            return names
    return list(kind_names)


def header_disagreements(struct, c_for_kind, kind_names, text=None):
    """Messages for each field whose documented default differs from libnn's
    (text: the header's text, nn.h's by default)."""
    found = []
    for field, comment in struct_comments(struct, text).items():
        documented = parse_default(comment)
        if documented is None:
            continue
        for kind in applies_to(comment, kind_names) if kind_names else [None]:
            if None in documented:
                expected = documented.get(kind, documented[None])
            elif kind in documented:
                expected = documented[kind]
            else:
                continue  # a per-kind default that does not name this kind
            actual = getattr(c_for_kind(kind), field)
            if not same(expected, actual):
                found.append(f"nn.h {struct}.{field}" + (f" for {kind}" if kind else "")
                             + f": comment says default {expected!r}, libnn fills {actual!r}")
    return found


def test_optimizer_header_comments_match_libnn():
    problems = header_disagreements("nn_optimizer_options",
                                    lambda k: c_optimizer(OPTIMIZER_KINDS[k]), OPTIMIZER_KINDS)
    assert not problems, "\n".join(problems)


def test_every_optimizer_field_with_a_default_is_documented():
    # Which fields nn.h leaves without a "default": clip_norm and
    # global_clip_norm say only "0 disables" (libnn fills 0, checked by the
    # Python tests above through clipnorm/global_clipnorm=None).
    comments = struct_comments("nn_optimizer_options")
    undocumented = {f for f, c in comments.items() if parse_default(c) is None}
    assert undocumented == {"struct_size", "kind", "clip_norm", "global_clip_norm"}, undocumented


def test_schedule_header_comments_match_libnn():
    problems = header_disagreements("nn_schedule_options",
                                    lambda k: c_schedule(SCHEDULE_KINDS[k]), SCHEDULE_KINDS)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("struct,make", [
    ("nn_early_stopping_options", c_early_stopping),
    ("nn_fit_options", c_fit),
    ("nn_gradient_check_options", c_gradient_check),
    ("nn_dense_options", c_dense),
    ("nn_loss_options", lambda: c_loss(_lib.NN_LOSS_HUBER)),
])
def test_other_header_comments_match_libnn(struct, make):
    problems = header_disagreements(struct, lambda _kind: make(), None)
    assert not problems, "\n".join(problems)


def test_a_wrong_header_comment_is_reported():
    text = header_text().replace("step increase factor > 1; default 1.2",
                                 "step increase factor > 1; default 1.25")
    problems = header_disagreements("nn_optimizer_options",
                                    lambda k: c_optimizer(OPTIMIZER_KINDS[k]), OPTIMIZER_KINDS, text)
    assert problems == ["nn.h nn_optimizer_options.eta_plus for Rprop: comment says default 1.25, "
                        "libnn fills 1.2"], problems
