"""Model files saved by libnn 0.3.0 load, predict and resume training
bit-identically with the current library (issue 11).

The fixtures in Tests/fixtures/v0.3.0 were written once by 0.3.0 (commit
5844253) with make_fixtures.py there (it says how to rebuild 0.3.0 and run
it); manifest.json lists them. Each has the model file, a fixed input and
0.3.0's predictions on it; the compiled ones also have training data and the
weights 0.3.0 reached after nn.load_model and one more fit epoch.

libnn's results are bit-identical for any thread count, not across kernel
levels (nn.cpu_level(): baseline, avx2, avx512), so the expectations were
computed by 0.3.0 once per level the generating machine had
(manifest["levels"]) and each run compares with those of its own level. On
a level without 0.3.0 expectations (avx512, when they were made on an AVX2
machine), predictions are compared with the closest level's to a tight
tolerance and the bit-for-bit checks are skipped; run with NN_CPU=avx2 or
NN_CPU=baseline to check those bit for bit there.
"""

import json
import os

import numpy as np
import pytest

import nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
FIXTURES = os.path.join(REPO_ROOT, "Tests", "fixtures", "v0.3.0")

with open(os.path.join(FIXTURES, "manifest.json")) as _f:
    MANIFEST = json.load(_f)
ENTRIES = MANIFEST["fixtures"]
COMPILED = [e for e in ENTRIES if e["compiled"]]
LEVEL = nn.cpu_level()
HAVE_LEVEL = LEVEL in MANIFEST["levels"]


def _path(name, suffix):
    return os.path.join(FIXTURES, name + suffix)


def _load_array(name, suffix):
    return np.load(_path(name, suffix), allow_pickle=False)


def _expected(name, what):
    """0.3.0's NAME.WHAT.LEVEL.npy for this process's kernel level (or the
    nearest level's, when 0.3.0's were not made for this one)."""
    level = LEVEL if HAVE_LEVEL else MANIFEST["levels"][-1]
    return _load_array(name, f".{what}.{level}.npy")


def _assert_bits_equal(actual, expected, what):
    actual = np.asarray(actual)
    assert actual.dtype == np.float32, f"{what}: dtype {actual.dtype}, expected float32"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    a, e = actual.view(np.uint32), expected.view(np.uint32)
    if not np.array_equal(a, e):
        diff = np.flatnonzero(a.ravel() != e.ravel())
        worst = np.max(np.abs(actual.ravel()[diff].astype(np.float64)
                              - expected.ravel()[diff].astype(np.float64)))
        pytest.fail(f"{what}: {diff.size} of {a.size} values differ from 0.3.0's "
                    f"(first at flat index {diff[0]}: {actual.ravel()[diff[0]]!r} vs "
                    f"{expected.ravel()[diff[0]]!r}; largest difference {worst:g})")


def _flat_weights(model):
    return np.concatenate([np.asarray(w, dtype=np.float32).ravel() for w in model.get_weights()])


def test_manifest_is_from_0_3_0():
    assert MANIFEST["library_version"] == "0.3.0"
    names = [e["name"] for e in ENTRIES]
    assert len(names) == len(set(names)) >= 5
    kinds = {kind for e in ENTRIES for kind in e["layers"]}
    assert kinds == {"dense", "dropout", "batch_normalization", "activation"}
    optimizers = {e["compile_settings"]["optimizer_class"] for e in COMPILED
                  if e["include_optimizer"]}
    assert {"Adam", "SGD", "Rprop"} <= optimizers
    assert MANIFEST["levels"], "no kernel level has expectations"
    for entry in ENTRIES:
        for level in MANIFEST["levels"]:
            assert os.path.exists(_path(entry["name"], f".predict.{level}.npy"))
            if entry["compiled"]:
                assert os.path.exists(_path(entry["name"], f".resume.{level}.npy"))


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["name"] for e in ENTRIES])
def test_loads_and_predicts_bit_identically(entry):
    name = entry["name"]
    expected = _expected(name, "predict")
    x = _load_array(name, ".x.npy")
    with nn.load_model(_path(name, ".safetensors")) as model:
        assert [layer.kind for layer in model.layers] == entry["layers"]
        assert [list(np.shape(w)) for w in model.get_weights()] == entry["weight_shapes"]
        predicted = model.predict(x)
        # what the current library writes back predicts the same, too
        data = model.to_bytes()
    with nn.load_model(data) as again:
        _assert_bits_equal(again.predict(x), predicted, f"{name}: predict after re-save")
    if not HAVE_LEVEL:
        np.testing.assert_allclose(predicted, expected, rtol=1e-5, atol=1e-6)
        pytest.skip(f"no 0.3.0 expectations for kernel level {LEVEL} (have "
                    f"{MANIFEST['levels']}): predictions checked to 1e-5 only")
    _assert_bits_equal(predicted, expected, f"{name}: predict ({LEVEL} kernels)")


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["name"] for e in ENTRIES])
def test_compile_settings_kept(entry):
    stored = entry["compile_settings"]
    with nn.load_model(_path(entry["name"], ".safetensors")) as model:
        if stored is None:
            assert model.optimizer is None and model.loss is None
            return
        assert model.loss.get_config() == stored["loss"]
        optimizer = model.optimizer
        assert type(optimizer).__name__ == stored["optimizer_class"]
        config = optimizer.get_config()
        for key, value in stored["optimizer"].items():
            if key == "initial_learning_rate":
                assert optimizer.initial_learning_rate == value
                continue
            assert key in config, f"optimizer setting {key!r} missing after load"
            actual = list(config[key]) if isinstance(config[key], tuple) else config[key]
            assert actual == value, f"optimizer setting {key!r}: {actual!r} != {value!r}"
        schedule = optimizer.schedule
        if stored["schedule"] is None:
            assert schedule is None
        else:
            assert type(schedule).__name__ == stored["schedule"]["kind"]
            want = {k: v for k, v in stored["schedule"].items() if k != "kind"}
            assert {k: schedule.get_config()[k] for k in want} == want
        assert list(model.metrics_names) == stored["metrics_names"]
        # the current rate, after the epochs trained under the schedule
        assert model.learning_rate == stored["learning_rate"]


@pytest.mark.parametrize("entry", COMPILED, ids=[e["name"] for e in COMPILED])
def test_resumes_training_bit_identically(entry):
    name = entry["name"]
    x = _load_array(name, ".train_x.npy")
    y = _load_array(name, ".train_y.npy")
    if not HAVE_LEVEL:
        pytest.skip(f"no 0.3.0 expectations for kernel level {LEVEL} (have "
                    f"{MANIFEST['levels']}); run with NN_CPU set to one of those")
    expected = _expected(name, "resume")
    with nn.load_model(_path(name, ".safetensors")) as model:
        model.fit(x, y, epochs=1, verbose=0, **entry["resume_fit"])
        _assert_bits_equal(_flat_weights(model), expected,
                           f"{name}: weights after one resumed epoch ({LEVEL} kernels)")
