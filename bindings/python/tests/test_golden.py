"""The Python binding against the shared numpy oracle in Tests/golden.

For each golden case: build the model, set the initial weights, and check
predict, evaluate and the weights after one SGD step (one fit epoch, the
whole data as one batch, no shuffling) against the float64 reference.
"""

import glob
import os
import subprocess
import sys

import numpy as np
import pytest

import nn
from nn.layers import Dense, Input

from conftest import GOLDEN_DIR

CASE_FILES = sorted(glob.glob(os.path.join(GOLDEN_DIR, "*.txt")))
CASE_IDS = [os.path.splitext(os.path.basename(p))[0] for p in CASE_FILES]


def read_golden(path):
    """Parse the golden format described in Tests/golden/README.md."""
    case = {"layers": [], "tensors": {}, "scalars": {}}
    with open(path) as f:
        lines = [ln.rstrip("\n") for ln in f if ln.strip() and not ln.startswith("#")]
    i = 0
    while i < len(lines):
        parts = lines[i].split()
        key = parts[0]
        if key == "input_dim":
            case["input_dim"] = int(parts[1])
        elif key == "layer":
            case["layers"].append((int(parts[1]), parts[2]))
        elif key == "loss":
            case["loss"] = parts[1]
        elif key == "lr":
            case["lr"] = float(parts[1])
        elif key == "scalar":
            case["scalars"][parts[1]] = float(parts[2])
        elif key == "tensor":
            rows, cols = int(parts[2]), int(parts[3])
            i += 1
            values = np.array(lines[i].split(), dtype=np.float64)
            assert values.size == rows * cols, f"{path}: tensor {parts[1]}"
            case["tensors"][parts[1]] = values.reshape(rows, cols)
        else:
            raise AssertionError(f"{path}: unknown line {lines[i]!r}")
        i += 1
    return case


def initial_weights(case, suffix=""):
    weights = []
    for i in range(len(case["layers"])):
        weights.append(case["tensors"][f"w{i}{suffix}"])
        weights.append(case["tensors"][f"b{i}{suffix}"].reshape(-1))
    return weights


def build(case):
    model = nn.Sequential([Input(shape=(case["input_dim"],))]
                          + [Dense(units, activation=act) for units, act in case["layers"]],
                          seed=7)
    model.set_weights(initial_weights(case))
    model.compile(optimizer=nn.optimizers.SGD(learning_rate=case["lr"]), loss=case["loss"])
    return model


def test_all_cases_present():
    assert CASE_IDS == ["mlp_linear_mse", "mlp_sigmoid_bce", "mlp_softmax_cce",
                        "sparse_softmax"]


def test_golden_files_are_up_to_date():
    """The committed files are what the generator writes now."""
    script = os.path.join(GOLDEN_DIR, "gen_golden.py")
    result = subprocess.run([sys.executable, script, "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", CASE_FILES, ids=CASE_IDS)
def test_predict(path):
    case = read_golden(path)
    with build(case) as model:
        # the weights went in unchanged (they are float32-representable)
        for got, want in zip(model.get_weights(), initial_weights(case)):
            np.testing.assert_array_equal(got, want.astype(np.float32))
        out = model.predict(case["tensors"]["x"])
        assert out.dtype == np.float32
        assert out.shape == case["tensors"]["out"].shape
        np.testing.assert_allclose(out, case["tensors"]["out"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("path", CASE_FILES, ids=CASE_IDS)
def test_evaluate_loss(path):
    case = read_golden(path)
    with build(case) as model:
        loss = model.evaluate(case["tensors"]["x"], case["tensors"]["y"])
        want = case["scalars"]["loss"]
        assert isinstance(loss, float)
        assert abs(loss - want) <= 1e-5 * max(1.0, abs(want)), (loss, want)


@pytest.mark.parametrize("path", CASE_FILES, ids=CASE_IDS)
def test_one_sgd_step(path):
    case = read_golden(path)
    x, y = case["tensors"]["x"], case["tensors"]["y"]
    with build(case) as model:
        history = model.fit(x, y, batch_size=x.shape[0], epochs=1, shuffle=False, verbose=0)
        # one batch: the loss fit reports is the loss before the step
        assert history.history["loss"][0] == pytest.approx(case["scalars"]["loss"],
                                                           rel=1e-5, abs=1e-5)
        got = model.get_weights()
        want = initial_weights(case, "_step")
        assert len(got) == len(want)
        for i, (g, w) in enumerate(zip(got, want)):
            assert g.shape == w.shape, i
            np.testing.assert_allclose(g, w, rtol=0, atol=1e-5, err_msg=f"weight {i}")
        # and the step did move every array (the check above is not trivial)
        for g, w0 in zip(got, initial_weights(case)):
            assert np.max(np.abs(g - w0)) > 1e-4


@pytest.mark.parametrize("path", CASE_FILES, ids=CASE_IDS)
def test_one_sgd_step_independent_of_row_order_in_batch(path):
    """A full batch step is a mean over rows: permuting the rows gives the
    same result (shuffle=True changes nothing when batch = all rows)."""
    case = read_golden(path)
    x, y = case["tensors"]["x"], case["tensors"]["y"]
    with build(case) as model:
        model.fit(x, y, batch_size=x.shape[0], epochs=1, shuffle=True, verbose=0)
        for g, w in zip(model.get_weights(), initial_weights(case, "_step")):
            np.testing.assert_allclose(g, w, rtol=0, atol=1e-5)
