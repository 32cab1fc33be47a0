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
        ("misaligned", misaligned(base)),
    ]


def misaligned(a):
    """A C-contiguous float32 copy of a whose data is not 4-byte aligned
    (numpy's ALIGNED flag off)."""
    raw = np.zeros(a.nbytes + 1, np.uint8)
    x = np.frombuffer(raw.data, dtype=np.float32, count=a.size, offset=1).reshape(a.shape)
    x[...] = a
    assert not x.flags.aligned and x.flags.c_contiguous
    return x


def bind_arrays_layout(good):
    """Switches the helper's in-place reading of ndarrays on (the checked
    layout) or off (a layout check that fails: the buffer protocol for every
    array); returns what bind_arrays said."""
    from nn import _speedups
    f32 = np.dtype(np.float32)
    probe = np.empty((3, 5), np.float32 if good else np.float64)
    return _speedups.bind_arrays(np.ndarray, f32, probe, probe[:, ::2])


@pytest.fixture(params=["in place", "buffer protocol"])
def array_reading(request):
    """Runs a test with the helper reading exact ndarrays in place, and
    again with it taking every array through the buffer protocol."""
    if models._fast_predict is None:
        pytest.skip("nn's compiled helper is not loaded here")
    if request.param == "buffer protocol":
        assert bind_arrays_layout(False) is False
    yield request.param
    assert bind_arrays_layout(True) is True


def outcome(net, x):
    try:
        y = net.predict(x)
    except Exception as exc:  # the same type and message on both paths
        return ("raised", type(exc), str(exc))
    return ("returned", y.dtype, y.shape, y.tobytes())


@pytest.mark.parametrize("name, x", inputs(), ids=[name for name, _ in inputs()])
def test_the_same_result_or_error_with_and_without_the_helper(monkeypatch, name, x, array_reading):
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
        # never asked (the general path calls libnn through ctypes); numpy
        # exports no buffer of a misaligned array either, so both ways of
        # reading arrays decline it
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


def test_arrays_are_read_in_place_where_the_layout_checks_out():
    """nn/_fast.py's bind_arrays: numpy's array fields agree with what the
    buffer protocol says for this numpy; a probe that does not agree (or is
    no ndarray) switches the in-place reading off, and a good one back on."""
    if models._fast_predict is None:
        pytest.skip("nn's compiled helper is not loaded here")
    from nn import _fast, _speedups
    assert _fast.arrays_in_place is True
    f32 = np.dtype(np.float32)
    probe = np.empty((3, 5), np.float32)
    try:
        for bad in [(np.ndarray, f32, np.empty((3, 5), np.float64), np.empty((3, 5), np.float64)[:, ::2]),
                    (np.ndarray, f32, np.empty((5, 3), np.float32), probe[:, ::2]),
                    (np.ndarray, f32, probe, probe),
                    (np.ndarray, f32, memoryview(probe), probe[:, ::2]),
                    (np.ndarray, np.dtype(np.float64), probe, probe[:, ::2]),
                    (list, f32, probe, probe[:, ::2])]:
            assert _speedups.bind_arrays(*bad) is False
        with pytest.raises(TypeError):
            _speedups.bind_arrays(np.ndarray, f32, probe)
    finally:
        assert bind_arrays_layout(True) is True


def test_the_helper_declines_what_it_cannot_pass_as_it_is(array_reading):
    """Called directly, with either way of reading the arrays: a strided x,
    an x with no rows, a read-only or Fortran-order output: None, nothing
    called."""
    from nn import _speedups
    out = np.zeros((2, 3), np.float32)
    readonly = out.copy()
    readonly.flags.writeable = False
    x = np.zeros((2, 5), np.float32)
    for args in [(np.zeros((2, 10), np.float32)[:, ::2], out), (np.zeros((0, 5), np.float32), out),
                 (x, readonly), (x, np.zeros((3, 2), np.float32).T), (x, "no array"), ([[0.0] * 5], out)]:
        assert _speedups.predict(12345, *args) is None, args
