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
