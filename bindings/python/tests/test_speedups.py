"""The compiled helper of Sequential.predict (nn/_speedups.c, issue 12 item
1): it is built and loaded where it should be, it is taken for the arrays it
can pass as they are and declines the others, and predict gives the same
outputs and the same errors with it as through ctypes, for every kind of
input."""

import os
import subprocess
import sys

import numpy as np
import pytest

import nn
from nn import models
from nn.layers import Dense

from conftest import BINDING_DIR, speedups_expected


def test_the_helper_is_loaded_where_it_is_built():
    if not speedups_expected():
        pytest.skip("not a CPython >= 3.11 with Python.h (or NN_NO_SPEEDUPS is set): "
                    "the package uses ctypes only")
    assert models._fast_predict is not None, (
        "nn/_speedups.abi3.so is missing or did not load: `make python` builds it")


def test_nn_no_speedups_turns_it_off():
    code = "from nn import models; print(models._fast_predict is None)"
    env = dict(os.environ, NN_NO_SPEEDUPS="1", PYTHONPATH=BINDING_DIR)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def model():
    return nn.Sequential([Dense(4, input_dim=5, activation="tanh"), Dense(3, activation="softmax")], seed=3)


def inputs():
    """(name, x): every kind of x a user may hand predict."""
    rng = np.random.default_rng(0)
    base = rng.normal(size=(7, 5)).astype(np.float32)
    readonly = base.copy()
    readonly.flags.writeable = False
    nan = base.copy()
    nan[2, 3] = np.nan
    inf = base.copy()
    inf[0, 0] = np.inf
    wide = rng.normal(size=(3, 10)).astype(np.float32)
    return [
        ("one row", base[:1].copy()),
        ("seven rows", base),
        ("read-only", readonly),
        ("Fortran order", np.asfortranarray(base)),
        ("a strided view", wide[:, ::2]),
        ("a row slice", base[2:5]),
        ("big-endian", base.astype(">f4")),
        ("float64", base.astype(np.float64)),
        ("int32", np.arange(10, dtype=np.int32).reshape(2, 5)),
        ("a list", base[:2].tolist()),
        ("1-D", base[0].copy()),
        ("3-D", base.reshape(7, 5, 1)),
        ("no rows", np.zeros((0, 5), np.float32)),
        ("no columns", np.zeros((3, 0), np.float32)),
        ("the wrong width", np.zeros((2, 4), np.float32)),
        ("a NaN", nan),
        ("an infinity", inf),
        ("a string", "not an array"),
    ]


def outcome(net, x):
    try:
        y = net.predict(x)
    except Exception as exc:  # the same type and message on both paths
        return ("raised", type(exc), str(exc))
    return ("returned", y.dtype, y.shape, y.tobytes())


@pytest.mark.parametrize("name, x", inputs(), ids=[name for name, _ in inputs()])
def test_the_same_result_or_error_with_and_without_the_helper(monkeypatch, name, x):
    if models._fast_predict is None:
        pytest.skip("nn's compiled helper is not loaded here")
    net = model()
    net.predict(np.zeros((1, 5), np.float32))      # built
    calls = []
    fast = models._fast_predict

    def counted(address, xs, out):
        status = fast(address, xs, out)
        calls.append(status)
        return status

    monkeypatch.setattr(models, "_fast_predict", counted)
    with_helper = outcome(net, x)
    monkeypatch.setattr(models, "_fast_predict", None)
    without = outcome(net, x)
    assert with_helper == without
    if name in ("one row", "seven rows", "read-only", "a row slice"):
        # C-contiguous float32 matrices go through the helper, once
        assert calls == [0]
    elif name in ("the wrong width", "a NaN", "an infinity"):
        # passed as they are; libnn refuses them (its status, its message)
        assert calls and calls[0] not in (None, 0) and with_helper[0] == "raised"
    else:
        # converted or refused in Python first: the helper declined or was
        # never asked (the general path calls libnn through ctypes)
        assert calls in ([], [None])


def test_a_closed_model_raises_the_same_error(monkeypatch):
    if models._fast_predict is None:
        pytest.skip("nn's compiled helper is not loaded here")
    net = model()
    x = np.zeros((2, 5), np.float32)
    net.predict(x)
    net._handle.close()
    with_helper = outcome(net, x)
    monkeypatch.setattr(models, "_fast_predict", None)
    assert with_helper == outcome(net, x)
    assert with_helper[0] == "raised" and "closed" in with_helper[2]


def test_the_helper_refuses_wrong_calls():
    if models._fast_predict is None:
        pytest.skip("nn's compiled helper is not loaded here")
    from nn import _speedups
    x = np.zeros((1, 5), np.float32)
    out = np.zeros((1, 3), np.float32)
    with pytest.raises(TypeError):
        _speedups.predict(0, x)
    with pytest.raises(TypeError):
        _speedups.predict("a model", x, out)
    with pytest.raises(ValueError):
        _speedups.bind(0)
    # an output it may not write: declined, nothing called
    readonly = out.copy()
    readonly.flags.writeable = False
    assert _speedups.predict(0, x, readonly) is None
    # an address that is no model: libnn's status (INVALID_HANDLE), no crash
    status = _speedups.predict(12345, x, out)
    assert status == nn._lib.NN_ERROR_INVALID_HANDLE
    # an output too small for the rows: libnn's size check, nothing written past it
    net = model()
    net.predict(x)
    address = net._handle._address_value
    small = np.full(5, 7.0, np.float32)
    status = _speedups.predict(address, np.zeros((2, 5), np.float32), small[:2])
    assert status == nn._lib.NN_ERROR_SHAPE_MISMATCH
    assert np.all(small == 7.0)
    assert _speedups.predict(address, x, out) == 0 and np.isclose(out.sum(), 1.0)
