"""Seeing inside the network: gradient check, anomaly detection, per-layer
statistics, plots and diagnosis, through the Python API (nn.h, "Seeing
inside")."""

import os
import re
import struct
import sys

import numpy as np
import pytest

import nn
from nn import _lib
from nn.initializers import Constant


def _rng(seed=0):
    return np.random.default_rng(seed)


def _same_weights(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))


def _stats_count(model):
    return model._handle.get_size(_lib.nn_model_layer_statistics_count)


# --------------------------------------------------------------------------
# Gradient check
# --------------------------------------------------------------------------

def _every_kind_model(seed=0):
    """Dense with several activations and an L2 penalty, BatchNormalization,
    Dropout, Activation, softmax + categorical cross-entropy."""
    model = nn.Sequential([
        nn.layers.Dense(8, input_dim=5, activation="tanh",
                        kernel_regularizer=nn.regularizers.L2(0.01)),
        nn.layers.BatchNormalization(),
        nn.layers.Dense(7, activation="sigmoid"),
        nn.layers.Dropout(0.3),
        nn.layers.Dense(6, activation="elu", kernel_regularizer="l2"),
        nn.layers.Activation("relu"),
        nn.layers.Dense(5, activation="gelu"),
        nn.layers.Dense(5, activation="leaky_relu"),
        nn.layers.Dense(4, activation="softplus"),
        nn.layers.Dense(3, activation="softmax"),
    ], seed=seed)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def _cce_data(rows=16):
    rng = _rng(1)
    x = rng.normal(size=(rows, 5)).astype(np.float32)
    y = nn.utils.to_categorical(rng.integers(0, 3, size=rows), 3)
    return x, y


def test_gradient_check_double_every_layer_kind():
    model = _every_kind_model()
    x, y = _cce_data()
    before = model.get_weights()
    checks = model.gradient_check(x, y)
    assert isinstance(checks, nn.GradientCheck) and isinstance(checks, list)
    # one entry per layer with parameters, in layer order: not Dropout or Activation
    with_params = [i for i, layer in enumerate(model.layers) if layer.kind in
                   ("dense", "batch_normalization")]
    assert [c.layer for c in checks] == with_params
    assert {c.name for c in checks} >= {"dense", "batch_normalization", "dense_6"}
    for c in checks:
        assert c.relative_error < 1e-6, str(c)
        assert c.name == model.layers[c.layer].name
    assert checks.max_relative_error < 1e-6
    assert _same_weights(before, model.get_weights())


@pytest.mark.parametrize("loss,activation,outputs", [
    ("binary_crossentropy", "sigmoid", 2),
    ("mse", "linear", 3),
    ("sparse_categorical_crossentropy", "softmax", 4),
])
def test_gradient_check_double_other_losses(loss, activation, outputs):
    rng = _rng(2)
    x = rng.normal(size=(12, 4)).astype(np.float32)
    if loss == "binary_crossentropy":
        y = (rng.random((12, outputs)) > 0.5).astype(np.float32)
    elif loss == "mse":
        y = rng.normal(size=(12, outputs)).astype(np.float32)
    else:
        y = rng.integers(0, outputs, size=12)
    model = nn.Sequential([
        nn.layers.Dense(6, input_dim=4, activation="tanh",
                        kernel_regularizer=nn.regularizers.L1L2(0.0, 0.05)),
        nn.layers.BatchNormalization(),
        nn.layers.Dense(outputs, activation=activation),
    ])
    model.compile(optimizer="sgd", loss=loss)
    checks = model.gradient_check(x, y)
    assert [c.layer for c in checks] == [0, 1, 2]
    assert all(c.relative_error < 1e-6 for c in checks), str(checks)


def test_gradient_check_float_precision():
    x, y = _cce_data()
    model = _every_kind_model()
    # float32 finite differences are coarse; a small step keeps the ReLU
    # kinks from being crossed
    checks = model.gradient_check(x, y, precision="float", epsilon=1e-3)
    assert checks.precision == "float" and checks.epsilon == 1e-3
    assert checks.max_relative_error < 1e-2, str(checks)
    # a smooth model with libnn's default float step
    smooth = nn.Sequential([
        nn.layers.Dense(8, input_dim=5, activation="tanh"),
        nn.layers.BatchNormalization(),
        nn.layers.Dense(3, activation="softmax"),
    ])
    smooth.compile(optimizer="adam", loss="categorical_crossentropy")
    checks = smooth.gradient_check(x, y, precision="float")
    assert checks.epsilon is None
    assert len(checks) == 3 and checks.max_relative_error < 1e-2, str(checks)
    # float32 with its default step (1e-2) is far coarser than double (1e-6,
    # about 1e-9 here): the float path really ran
    assert checks.max_relative_error > 1e-7
    assert smooth.gradient_check(x, y).max_relative_error < 1e-7
    # the step is the one asked for: 1e-2 in double has a truncation error
    assert smooth.gradient_check(x, y, epsilon=1e-2).max_relative_error > 1e-6


def test_gradient_check_fields():
    x, y = _cce_data()
    model = _every_kind_model()
    info = model.weight_info()
    shapes = [shape for _, shape, _ in info]
    checks = model.gradient_check(x, y, max_checks_per_array=3, seed=5)
    for c in checks:
        first = model._first_weight_index(c.layer)
        layer_arrays = range(first, first + model.layers[c.layer]._weight_count)
        assert c.weight_index in layer_arrays
        assert c.weight_name == info[c.weight_index][0]
        assert c.weight_name in ("kernel", "bias", "gamma", "beta")
        assert 0 <= c.element < int(np.prod(shapes[c.weight_index]))
        trainable = [i for i in layer_arrays if info[i][2]]
        assert 0 < c.checked <= 3 * len(trainable)
        assert c.analytic == pytest.approx(c.numeric, rel=1e-5, abs=1e-9)
        assert c.analytic != 0.0  # the largest gradient is always among the checked
    # the seed chooses the elements: the same seed, the same result
    again = model.gradient_check(x, y, max_checks_per_array=3, seed=5)
    other = model.gradient_check(x, y, max_checks_per_array=3, seed=6)
    assert again == checks and other != checks
    # 0 checks every element of every trainable array
    everything = model.gradient_check(x, y, max_checks_per_array=0)
    for c in everything:
        first = model._first_weight_index(c.layer)
        expected = sum(int(np.prod(shapes[i])) for i in
                       range(first, first + model.layers[c.layer]._weight_count) if info[i][2])
        assert c.checked + c.below_resolution == expected
    text = str(everything)
    assert "relative error" in text and "batch_normalization" in text and "kernel[" in text
    assert len(text.splitlines()) == 2 + len(everything)
    assert "dense_6" in str(everything[-1]) and "relative error" in str(everything[-1])


def test_gradient_check_leaves_the_model_unchanged():
    """Weights, optimizer state and random generator: a model that was
    checked trains exactly as its twin that was not."""
    x, y = _cce_data(32)
    checked, twin = _every_kind_model(seed=3), _every_kind_model(seed=3)
    checked.fit(x, y, epochs=1, batch_size=8, verbose=0)
    twin.fit(x, y, epochs=1, batch_size=8, verbose=0)
    checked.gradient_check(x, y)
    checked.gradient_check(x, y, precision="float", seed=7)
    assert _same_weights(checked.get_weights(), twin.get_weights())
    checked.fit(x, y, epochs=2, batch_size=8, verbose=0)
    twin.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert _same_weights(checked.get_weights(), twin.get_weights())


def test_gradient_check_errors():
    x, y = _cce_data()
    model = _every_kind_model()
    for kwargs in ({"precision": "half"}, {"precision": None}, {"epsilon": -1e-3},
                   {"epsilon": float("nan")}, {"epsilon": 0.0}, {"max_checks_per_array": -1},
                   {"max_checks_per_array": 1.5}, {"seed": -1}):
        with pytest.raises(ValueError):
            model.gradient_check(x, y, **kwargs)
    with pytest.raises(ValueError, match="column"):
        model.gradient_check(x[:, :4], y)
    with pytest.raises(ValueError):
        model.gradient_check(x, y[:5])
    with pytest.raises(ValueError):
        model.gradient_check(x, y[:, :2])
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(nn.InvalidArgumentError):
        model.gradient_check(bad, y)
    uncompiled = nn.Sequential([nn.layers.Dense(3, input_dim=5)])
    with pytest.raises(nn.InvalidStateError):
        uncompiled.gradient_check(x, y)


# --------------------------------------------------------------------------
# Anomaly detection
# --------------------------------------------------------------------------

def _overflow_model(anomaly_detection):
    model = nn.Sequential([
        nn.layers.Dense(3, input_dim=4, activation="relu", kernel_initializer=Constant(1.0)),
        nn.layers.Dense(1),
    ])
    model.anomaly_detection = anomaly_detection
    model.compile(optimizer="sgd", loss="mse")
    return model


def _overflow_data():
    x = np.full((8, 4), 0.5, dtype=np.float32)
    x[5, :2] = 3e38  # finite, but 3e38 + 3e38 overflows in the first Dense
    return x, np.ones((8, 1), dtype=np.float32)


def test_anomaly_detection_names_layer_stage_epoch_batch():
    x, y = _overflow_data()
    model = _overflow_model(True)
    assert model.anomaly_detection is True
    with pytest.raises(nn.InvalidArgumentError) as info:
        model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    error = info.value
    assert error.status == _lib.NN_ERROR_NON_FINITE
    message = str(error)
    assert "in forward of layer 0 (dense, relu)" in message
    # row 5 is the second row of the second batch of 4
    assert "at epoch 1, batch 2" in message
    assert "element [1, " in message


def test_anomaly_detection_off_gives_another_error():
    x, y = _overflow_data()
    model = _overflow_model(False)
    assert model.anomaly_detection is False
    with pytest.raises(nn.InvalidArgumentError) as info:
        model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    assert info.value.status == _lib.NN_ERROR_NON_FINITE
    assert "in forward of layer" not in str(info.value)
    assert "loss became" in str(info.value)


def test_anomaly_detection_set_before_build_and_as_context_manager():
    x, y = _overflow_data()
    # no input width: the model is built by fit, and gets the setting then
    lazy = nn.Sequential([nn.layers.Dense(3, activation="relu", kernel_initializer=Constant(1.0)),
                          nn.layers.Dense(1)])
    lazy.anomaly_detection = True
    assert not lazy.built
    lazy.compile(optimizer="sgd", loss="mse")
    with pytest.raises(nn.InvalidArgumentError, match=r"in forward of layer 0 \(dense, relu\)"):
        lazy.fit(x, y, batch_size=4, shuffle=False, verbose=0)

    model = _overflow_model(False)
    with nn.detect_anomaly(model) as same:
        assert same is model and model.anomaly_detection is True
        with pytest.raises(nn.InvalidArgumentError, match="in forward of layer 0"):
            model.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    assert model.anomaly_detection is False
    with pytest.raises(nn.InvalidArgumentError, match="loss became"):
        model.fit(x, y, batch_size=4, shuffle=False, verbose=0)

    with pytest.raises(ValueError):
        model.anomaly_detection = "yes"
    model.close()
    with pytest.raises(nn.InvalidStateError):
        model.anomaly_detection = True


def test_anomaly_detection_does_not_change_training():
    rng = _rng(3)
    x = rng.normal(size=(64, 6)).astype(np.float32)
    y = nn.utils.to_categorical(rng.integers(0, 3, size=64), 3)
    weights = []
    for enabled in (True, False):
        model = nn.Sequential([
            nn.layers.Dense(16, input_dim=6, activation="relu"),
            nn.layers.Dropout(0.2),
            nn.layers.BatchNormalization(),
            nn.layers.Dense(3, activation="softmax"),
        ], seed=11)
        model.anomaly_detection = enabled
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
        weights.append((model.get_weights(), history.history["loss"]))
    assert _same_weights(weights[0][0], weights[1][0])
    assert weights[0][1] == weights[1][1]


# --------------------------------------------------------------------------
# Per-layer statistics
# --------------------------------------------------------------------------

def _stats_data():
    rng = _rng(4)
    x = rng.normal(size=(64, 6)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    return x, y


def _stats_model():
    model = nn.Sequential([
        nn.layers.Dense(8, input_dim=6, activation="sigmoid", kernel_initializer=Constant(50.0)),
        nn.layers.Dense(8, activation="relu", bias_initializer=Constant(-100.0)),
        nn.layers.Dropout(0.2),
        nn.layers.Dense(4, activation="tanh"),
        nn.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    return model


KEYS = {"layer", "name", "activation_mean", "activation_std", "dead_fraction",
        "saturated_fraction", "gradient_norm", "weight_norm", "update_ratio", "batches"}


def test_layer_statistics_dead_saturated_and_not_applicable():
    x, y = _stats_data()
    model = _stats_model()
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0,
                        callbacks=[nn.callbacks.LayerStatistics()])
    stats = history.layer_stats
    assert [entry["epoch"] for entry in stats] == [0, 1]
    for entry in stats:
        layers = entry["layers"]
        assert [s["layer"] for s in layers] == [0, 1, 2, 3, 4]
        assert [s["name"] for s in layers] == [layer.name for layer in model.layers]
        assert all(set(s) == KEYS for s in layers)
        sigmoid, dead, dropout, tanh, _ = layers
        assert sigmoid["saturated_fraction"] > 0.8
        assert dead["dead_fraction"] == 1.0
        assert dead["activation_mean"] == 0.0 and dead["activation_std"] == 0.0
        assert dead["gradient_norm"] == 0.0  # nothing flows through a dead layer
        assert tanh["gradient_norm"] > 0.0
        # not applicable: None
        assert sigmoid["dead_fraction"] is None and tanh["dead_fraction"] is None
        assert dead["saturated_fraction"] is None
        assert dropout["gradient_norm"] is None and dropout["weight_norm"] is None
        assert dropout["update_ratio"] is None
        assert dropout["dead_fraction"] is None and dropout["saturated_fraction"] is None
        assert all(s["batches"] == 8 for s in layers)
    # weight_norm: the parameters' norm at the end of the (last) epoch
    kernel, bias = model.layers[3].get_weights()
    expected = np.sqrt(np.sum(kernel.astype(np.float64) ** 2) + np.sum(bias.astype(np.float64) ** 2))
    assert stats[-1]["layers"][3]["weight_norm"] == pytest.approx(expected, rel=1e-6)


def test_layer_statistics_every_batches_epochs_and_switch_off():
    x, y = _stats_data()
    model = _stats_model()
    seen = []

    class Recorder(nn.callbacks.LayerStatistics):
        def on_layer_stats(self, epoch, stats):
            seen.append((epoch, stats["epoch"], model.history.epoch[:]))

    recorder = Recorder(every_batches=3)
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[recorder])
    # 8 batches per epoch; every third one sampled: batches 1, 4, 7
    assert [s["batches"] for e in history.layer_stats for s in e["layers"]] == [3] * 10
    # called after each epoch, before History records it
    assert seen == [(0, 0, []), (1, 1, [0])]
    assert recorder.stats == history.layer_stats

    # a fit without the callback collects nothing, but counts its epoch
    count = _stats_count(model)
    assert count == 2
    plain = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert plain.layer_stats == [] and _stats_count(model) == count

    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0,
                        callbacks=[nn.callbacks.LayerStatistics()])
    assert [entry["epoch"] for entry in history.layer_stats] == [3, 4]
    assert [entry["layers"][0]["batches"] for entry in history.layer_stats] == [4, 4]
    assert _stats_count(model) == 4

    # switched off also when fit raises
    def boom(epoch, logs):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        model.fit(x, y, epochs=3, batch_size=8, verbose=0,
                  callbacks=[nn.callbacks.LayerStatistics(), boom])
    count = _stats_count(model)
    assert count == 5  # the one epoch that ran
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert _stats_count(model) == count


def test_layer_statistics_arguments():
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError):
            nn.callbacks.LayerStatistics(every_batches=bad)
    x, y = _stats_data()
    model = _stats_model()
    with pytest.raises(ValueError, match="at most one LayerStatistics"):
        model.fit(x, y, verbose=0, callbacks=[nn.callbacks.LayerStatistics(),
                                              nn.callbacks.LayerStatistics(2)])
    assert repr(nn.callbacks.LayerStatistics(4)) == "LayerStatistics(every_batches=4)"


# --------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------

def _png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _check_png(path):
    data = path.read_bytes()
    width, height = _png_size(data)
    assert width > 100 and height > 100
    image = pytest.importorskip("matplotlib.image").imread(str(path))
    assert image.shape[:2] == (height, width)
    assert image.min() != image.max()  # something was drawn


@pytest.fixture(scope="module")
def trained_history():
    pytest.importorskip("matplotlib")
    x, y = _stats_data()
    model = nn.Sequential([
        nn.layers.Dense(8, input_dim=6, activation="relu"),
        nn.layers.Dense(8, activation="tanh"),
        nn.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model.fit(x, y, epochs=4, batch_size=16, verbose=0, validation_split=0.25,
                     callbacks=[nn.callbacks.LayerStatistics()])


def test_history_plot_writes_a_png(trained_history, tmp_path):
    path = tmp_path / "curves.png"
    assert trained_history.plot(path, title="training") == path
    _check_png(path)
    other = tmp_path / "again.png"
    nn.plot_history(trained_history, str(other))
    _check_png(other)


def test_plot_layer_stats_writes_a_png(trained_history, tmp_path):
    path = tmp_path / "layers.png"
    nn.plot_layer_stats(trained_history, path, title="layers")
    _check_png(path)


def test_plots_need_something_to_plot(tmp_path):
    with pytest.raises(ValueError, match="no logs"):
        nn.History().plot(tmp_path / "empty.png")
    with pytest.raises(ValueError, match="LayerStatistics"):
        nn.plot_layer_stats(nn.History(), tmp_path / "empty.png")
    assert not (tmp_path / "empty.png").exists()


def test_plots_without_matplotlib(trained_history, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    with pytest.raises(ImportError, match="pip install matplotlib"):
        trained_history.plot(tmp_path / "curves.png")
    with pytest.raises(ImportError, match="matplotlib"):
        nn.plot_layer_stats(trained_history, tmp_path / "layers.png")


# --------------------------------------------------------------------------
# Diagnosis
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits():
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_digits()
    x = data.data.astype(np.float64)
    standardized = ((x - x.mean(0)) / (x.std(0) + 1e-8)).astype(np.float32)
    return standardized, (x / 16.0).astype(np.float32), data.target


def _digits_model(hidden, loss="categorical_crossentropy"):
    model = nn.Sequential(hidden + [nn.layers.Dense(10, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss=loss)
    return model


def _diagnose(model, x, y, **kwargs):
    before = model.get_weights()
    diagnosis = model.diagnose(x, y, **kwargs)
    assert _same_weights(before, model.get_weights())
    assert isinstance(diagnosis, nn.Diagnosis)
    assert str(diagnosis) == diagnosis.report and diagnosis.report.startswith("Diagnosis")
    for finding in diagnosis:
        assert finding.message in diagnosis.report and finding.suggestion in diagnosis.report
        assert f"[{finding.kind}]" in diagnosis.report
    return diagnosis


def test_diagnose_vanishing_gradients(digits):
    x, _, labels = digits
    small = Constant(0.01)
    hidden = [nn.layers.Dense(32, input_dim=64, activation="sigmoid", kernel_initializer=small)]
    hidden += [nn.layers.Dense(32, activation="sigmoid", kernel_initializer=small) for _ in range(8)]
    model = _digits_model(hidden)
    diagnosis = _diagnose(model, x, nn.utils.to_categorical(labels, 10))
    finding = diagnosis["vanishing_gradients"]
    assert finding.layer == 0
    assert 0 < finding.value < 1e-3
    # the ratio is in the message, as libnn writes numbers (3 significant digits)
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?e-?\d+", finding.message)]
    assert any(n == pytest.approx(finding.value, rel=0.01) for n in numbers), finding.message
    assert "vanishing_gradients" in diagnosis and diagnosis.find("vanishing_gradients") is finding


def test_diagnose_dead_units(digits):
    x, _, labels = digits
    model = _digits_model([nn.layers.Dense(32, input_dim=64, activation="relu",
                                           bias_initializer=Constant(-20.0))])
    diagnosis = _diagnose(model, x, nn.utils.to_categorical(labels, 10))
    dead = diagnosis["dead_units"]
    assert dead.layer == 0 and dead.value >= 0.9
    assert diagnosis.find_all("dead_units") == [dead]
    assert len(diagnosis) == len(diagnosis.findings) >= 1 and diagnosis


def test_diagnose_unscaled_inputs(digits):
    _, x01, labels = digits
    x = x01.copy()
    x[:, 20] *= 1e4
    model = _digits_model([nn.layers.Dense(32, input_dim=64, activation="relu")])
    diagnosis = _diagnose(model, x, nn.utils.to_categorical(labels, 10))
    finding = diagnosis["unscaled_inputs"]
    assert finding.layer is None and finding.value >= 1e3
    assert "feature 20" in finding.message


def test_diagnose_label_mismatch(digits):
    x, _, labels = digits
    model = _digits_model([nn.layers.Dense(32, input_dim=64, activation="relu")])
    diagnosis = _diagnose(model, x, labels)  # class indices with categorical_crossentropy
    finding = diagnosis["label_mismatch"]
    assert finding.layer == 1
    assert "sparse_categorical_crossentropy" in finding.message + finding.suggestion


def test_diagnose_healthy_model_finds_nothing(digits):
    x, _, labels = digits
    model = _digits_model([nn.layers.Dense(32, input_dim=64, activation="relu")],
                          loss="sparse_categorical_crossentropy")
    diagnosis = _diagnose(model, x, labels)
    assert not diagnosis and len(diagnosis) == 0 and diagnosis.findings == []
    assert "nothing looks wrong" in diagnosis.report
    assert diagnosis.find("dead_units") is None and "dead_units" not in diagnosis
    with pytest.raises(KeyError, match="dead_units"):
        diagnosis["dead_units"]
    with pytest.raises(ValueError, match="unknown finding kind"):
        diagnosis.find("dead_unit")


def test_diagnose_leaves_training_unchanged(digits):
    """The diagnosed model trains exactly as its twin (weights, optimizer
    state and generator untouched)."""
    x, _, labels = digits
    x, labels = x[:256], labels[:256]
    twins = [_digits_model([nn.layers.Dense(16, input_dim=64, activation="relu"),
                            nn.layers.Dropout(0.2)], loss="sparse_categorical_crossentropy")
             for _ in range(2)]
    for model in twins:
        model.fit(x, labels, epochs=1, verbose=0)
    twins[0].diagnose(x, labels, steps=5, batch_size=16)
    for model in twins:
        model.fit(x, labels, epochs=1, verbose=0)
    assert _same_weights(twins[0].get_weights(), twins[1].get_weights())


def test_diagnose_errors(digits):
    x, _, labels = digits
    model = _digits_model([nn.layers.Dense(8, input_dim=64, activation="relu")],
                          loss="sparse_categorical_crossentropy")
    for kwargs in ({"steps": 1}, {"steps": 2.5}, {"batch_size": 0}, {"batch_size": -3},
                   {"steps": 10 ** 6}):
        with pytest.raises(ValueError):
            model.diagnose(x, labels, **kwargs)
    with pytest.raises(ValueError):
        model.diagnose(x[:, :10], labels)
    uncompiled = nn.Sequential([nn.layers.Dense(10, input_dim=64, activation="softmax")])
    with pytest.raises(nn.InvalidStateError):
        uncompiled.diagnose(x, labels)


def test_the_debugging_example_runs_as_described(tmp_path):
    """examples/debugging.py: the diagnosis finds the vanishing gradients of
    the broken network, the fix learns (the script checks both and exits 1
    otherwise), and the picture is written."""
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    out = tmp_path / "debugging.png"
    run = subprocess.run([sys.executable, os.path.join(root, "examples", "debugging.py"), str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "[vanishing_gradients]" in run.stdout
    assert "nothing looks wrong" in run.stdout
    assert out.stat().st_size > 10_000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
