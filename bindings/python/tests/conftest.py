"""Shared fixtures for the pytest suite of the nn binding."""

import os
import signal
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BINDING_DIR = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(os.path.dirname(BINDING_DIR))
GOLDEN_DIR = os.path.join(REPO_ROOT, "Tests", "golden")
HEADER = os.path.join(REPO_ROOT, "include", "nn.h")

# Test the package of this checkout, installed or not.
if BINDING_DIR not in sys.path:
    sys.path.insert(0, BINDING_DIR)


@pytest.fixture(scope="session")
def header_path():
    return HEADER


@pytest.fixture
def python_sigint():
    """Python's own SIGINT handler (KeyboardInterrupt) for the test: a
    process started in the background by a non-interactive shell (make
    under CI, setsid) inherits SIGINT ignored, and Python then installs
    none, so Ctrl-C would be ignored - by a test's timer too."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def speedups_expected():
    """Whether this interpreter should have nn's compiled helper
    (nn/_speedups.abi3.so): a CPython >= 3.11 with its headers, as
    scripts/link-python.sh and cmake/PythonWheel.cmake build it, unless
    NN_NO_SPEEDUPS turns it off."""
    import sysconfig
    return (sys.implementation.name == "cpython" and sys.version_info >= (3, 11)
            and not sysconfig.get_config_var("Py_GIL_DISABLED")
            and os.environ.get("NN_NO_SPEEDUPS", "") in ("", "0")
            and os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))


@pytest.fixture(params=["helper", "ctypes"])
def predict_path(request, monkeypatch):
    """Runs a test once with Sequential.predict's compiled helper
    (nn/_speedups.c) and once through ctypes (the path of interpreters
    without it); the helper's run is skipped where it is not loaded."""
    from nn import models
    if request.param == "helper":
        if models._fast_predict is None:
            pytest.skip("nn's compiled helper is not loaded here (nn/_speedups.c)")
    else:
        monkeypatch.setattr(models, "_fast_predict", None)
    return request.param
