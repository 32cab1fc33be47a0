"""The model's configuration from libnn (nn_model_config) and nn.load_model
built on it: the JSON lists what the Python model holds; a loaded model's
Python objects come from that JSON (never from the file's header); and the
modules involved import one another without a cycle."""

import ast
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import nn
from nn import _config, callbacks, metrics, optimizers, regularizers, schedules
from nn.layers import Activation, BatchNormalization, Dense, Dropout

HERE = os.path.dirname(os.path.abspath(__file__))
BINDING_DIR = os.path.dirname(HERE)
PACKAGE_DIR = os.path.join(BINDING_DIR, "nn")


def every_layer_model(optimizer, loss="categorical_crossentropy", metric_list=("accuracy",)):
    model = nn.Sequential([
        Dense(6, input_dim=4, activation="relu", kernel_initializer="he_normal",
              kernel_regularizer=regularizers.L2(1e-3)),
        BatchNormalization(momentum=0.2, epsilon=1e-4),
        Dropout(0.25),
        Activation(nn.activations.LeakyReLU(0.1)),
        Dense(3, activation="softmax"),
    ], seed=11)
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metric_list))
    return model


def data(rows=40):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(rows, 4)).astype(np.float32)
    return x, nn.to_categorical((x[:, 0] > 0).astype(int) + (x[:, 1] > 1), 3)


def python_side(model):
    """What the Python objects of a model say, as plain data."""
    optimizer = model.optimizer
    return {
        "seed": model.seed,
        "layers": [(type(layer).__name__, layer.name, layer.get_config(), layer.input_dim,
                    layer.output_dim) for layer in model.layers],
        "optimizer": None if optimizer is None else (type(optimizer).__name__, {
            key: (value.get_config() if isinstance(value, schedules.LearningRateSchedule)
                  else value) for key, value in vars(optimizer).items()}),
        "loss": None if model.loss is None else (type(model.loss).__name__,
                                                 model.loss.get_config()),
        "metrics": [(type(m).__name__, m.get_config()) for m in model._metrics],
        "metrics_names": model.metrics_names,
        "plateau_key": model._plateau_key,
    }


# --------------------------------------------------------------------------
# nn_model_config
# --------------------------------------------------------------------------

def test_config_lists_the_layers_and_compile_settings():
    sgd = optimizers.SGD(schedules.ExponentialDecay(0.05, 0.9), momentum=0.9, nesterov=True,
                         clipnorm=1.5)
    model = every_layer_model(sgd, metric_list=("accuracy", metrics.TopKAccuracy(k=2)))
    config = _config.read(model._handle)
    assert set(config) == {"format", "architecture", "compile", "layer_names"}
    assert config["format"] == 1
    assert config["layer_names"] == [layer.name for layer in model.layers] == [
        "dense", "batch_normalization", "dropout", "activation", "dense_1"]

    architecture = config["architecture"]
    assert architecture["input_dim"] == 4 and architecture["seed"] == "11"
    layers = architecture["layers"]
    assert [layer["kind"] for layer in layers] == [
        "Dense", "BatchNormalization", "Dropout", "Activation", "Dense"]
    assert layers[0]["units"] == 6 and layers[4]["units"] == 3
    assert layers[0]["activation"]["name"] == "relu"
    assert layers[0]["kernel_initializer"]["name"] == "he_normal"
    assert layers[0]["kernel_regularizer"] == {"l1": 0.0, "l2": 1e-3}
    assert (layers[1]["momentum"], layers[1]["epsilon"]) == (0.2, 1e-4)
    assert layers[2]["rate"] == 0.25
    assert layers[3]["activation"] == {"name": "leaky_relu", "parameter": 0.1}
    assert layers[4]["activation"]["name"] == "softmax"

    compile = config["compile"]
    assert compile["loss"]["kind"] == "categorical_crossentropy"
    assert [m["kind"] for m in compile["metrics"]] == ["accuracy", "top_k_accuracy"]
    assert compile["metrics"][1]["parameter"] == 2
    optimizer = compile["optimizer"]
    assert optimizer["kind"] == "sgd"
    for key in ("learning_rate", "momentum", "dampening", "nesterov", "weight_decay",
                "clipvalue", "clipnorm", "global_clipnorm"):
        expected = sgd.schedule.initial_learning_rate if key == "learning_rate" else getattr(sgd, key)
        assert optimizer[key] == expected, key
    assert compile["schedule"] == {"kind": "exponential", "gamma": 0.9}


@pytest.mark.parametrize("optimizer", [
    optimizers.Adam(0.003, beta_1=0.8, amsgrad=True, clipvalue=0.5),
    optimizers.AdamW(0.002, weight_decay=0.05, global_clipnorm=2.0),
    optimizers.RMSprop(0.004, rho=0.8, momentum=0.3, centered=True),
    optimizers.Adagrad(0.05, lr_decay=0.01, initial_accumulator_value=0.1),
    optimizers.Rprop(0.02, etas=(0.4, 1.3), step_sizes=(1e-5, 10.0)),
], ids=lambda o: type(o).__name__)
def test_objects_rebuilt_from_the_config_equal_the_model(optimizer):
    model = every_layer_model(optimizer, loss=nn.losses.CategoricalCrossentropy(from_logits=False))
    objects = _config.objects(_config.read(model._handle))
    assert objects.seed == model.seed and objects.input_dim == 4
    assert [(type(a), a.name, a.get_config()) for a in objects.layers] == [
        (type(b), b.name, b.get_config()) for b in model.layers]
    assert type(objects.optimizer) is type(optimizer)
    assert vars(objects.optimizer) == vars(optimizer)
    assert objects.loss.get_config() == model.loss.get_config()
    assert [m.get_config() for m in objects.metrics] == [m.get_config() for m in model._metrics]


def test_config_of_a_model_without_layers_or_compile():
    model = nn.Sequential([nn.layers.Input((3,))], seed=7)
    assert _config.read(model._handle) == {
        "format": 1, "architecture": {"input_dim": 3, "layers": [], "seed": "7"},
        "compile": {"loss": None, "metrics": [], "optimizer": None, "schedule": None},
        "layer_names": []}


# --------------------------------------------------------------------------
# load_model builds the Python side from nn_model_config
# --------------------------------------------------------------------------

@pytest.mark.parametrize("schedule", ["none", "step", "cosine", "plateau"])
def test_a_loaded_model_has_the_saved_ones_objects(schedule):
    rate = {"none": 0.01, "step": schedules.StepDecay(0.01, 2, gamma=0.5),
            "cosine": schedules.CosineDecay(0.01, 5, eta_min=1e-4), "plateau": 0.01}[schedule]
    model = every_layer_model(optimizers.Adam(rate, clipnorm=1.0),
                              metric_list=("accuracy", metrics.F1Macro(threshold=0.4)))
    x, y = data()
    fit_callbacks = [callbacks.ReduceLROnPlateau(monitor="loss", patience=1)] \
        if schedule == "plateau" else []
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=fit_callbacks)
    loaded = nn.load_model(model.to_bytes())
    assert python_side(loaded) == python_side(model)
    assert loaded._compiled
    assert np.array_equal(loaded.predict(x), model.predict(x))
    # Training goes on bit for bit.
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=fit_callbacks)
    loaded.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=fit_callbacks)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        assert np.array_equal(a.view(np.uint32), b.view(np.uint32))


def test_load_model_takes_its_objects_from_nn_model_config(monkeypatch):
    """Whatever nn_model_config says is what the Python side gets: the
    layer names, the optimizer's hyper-parameters (libnn's own model keeps
    what the file says)."""
    model = every_layer_model(optimizers.SGD(0.05, momentum=0.5))
    data_bytes = model.to_bytes()
    real = _config.read
    seen = []

    def read(handle):
        config = real(handle)
        seen.append(json.loads(json.dumps(config)))
        config["layer_names"] = [f"layer_{i}" for i in range(len(config["layer_names"]))]
        config["compile"]["optimizer"]["momentum"] = 0.25
        return config

    monkeypatch.setattr(_config, "read", read)
    loaded = nn.load_model(data_bytes)
    assert len(seen) == 1
    assert seen[0]["layer_names"] == [layer.name for layer in model.layers]
    assert [layer.name for layer in loaded.layers] == [f"layer_{i}" for i in range(5)]
    assert loaded.optimizer.momentum == 0.25


def test_a_config_this_binding_cannot_read_is_an_invalid_file_and_frees_the_model(monkeypatch):
    model = every_layer_model("adam")
    data_bytes = model.to_bytes()
    real = _config.read
    handles = []

    def newer(handle):
        handles.append(handle)
        return dict(real(handle), format=2)

    monkeypatch.setattr(_config, "read", newer)
    with pytest.raises(nn.InvalidFileError, match="format 2"):
        nn.load_model(data_bytes)
    assert handles and handles[0].closed

    def unknown_layer(handle):
        handles.append(handle)
        config = real(handle)
        config["architecture"]["layers"][2]["kind"] = "Conv2D"
        return config

    monkeypatch.setattr(_config, "read", unknown_layer)
    with pytest.raises(nn.InvalidFileError, match=r"layers\[2\].*Conv2D"):
        nn.load_model(data_bytes)
    assert handles[-1].closed


def test_load_model_errors_are_unchanged(tmp_path):
    with pytest.raises(nn.InvalidFileError):
        nn.load_model(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    with pytest.raises(nn.FileError):
        nn.load_model(tmp_path / "missing.safetensors")
    with pytest.raises(TypeError):
        nn.load_model(12)
    with pytest.raises(TypeError):
        nn.load_model(b"", compile=1)
    assert nn.load_model is nn.models.load_model is nn.saving.load_model


# --------------------------------------------------------------------------
# No import cycle
# --------------------------------------------------------------------------

def package_imports():
    """{module: the package modules it imports, at any depth of its code}."""
    graph = {}
    for filename in os.listdir(PACKAGE_DIR):
        if not filename.endswith(".py") or filename == "__init__.py":
            continue
        tree = ast.parse(open(os.path.join(PACKAGE_DIR, filename)).read())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names = [node.module] if node.module else [alias.name for alias in node.names]
                imported.update(name.split(".")[0] for name in names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and \
                    (node.module or "").split(".")[0] == "nn":
                parts = node.module.split(".")
                imported.update([parts[1]] if len(parts) > 1 else
                                [alias.name for alias in node.names])
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    if parts[0] == "nn" and len(parts) > 1:
                        imported.add(parts[1])
        graph[filename[:-3]] = imported
    return graph


def test_the_package_modules_import_without_a_cycle():
    graph = package_imports()
    assert graph["saving"] == {"models"}
    assert "saving" not in graph["models"]
    assert not graph["_config"] & {"models", "saving"}
    state = {}

    def visit(module, path):
        state[module] = "open"
        for dep in sorted(graph.get(module, ())):
            if state.get(dep) == "open":
                pytest.fail("import cycle: " + " -> ".join(path + [module, dep]))
            if dep not in state:
                visit(dep, path + [module])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


def test_imports_in_functions_are_gone_from_saving_and_models():
    """models, saving and _config import at the top of the module only."""
    for name in ("models", "saving", "_config", "_files"):
        tree = ast.parse(open(os.path.join(PACKAGE_DIR, name + ".py")).read())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = [n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))]
                assert not inner, f"{name}.{node.name} imports inside a function"


@pytest.mark.parametrize("order", [("nn.saving", "nn.models"), ("nn.models", "nn.saving"),
                                   ("nn._config", "nn.saving"), ("nn.saving",)])
def test_fresh_interpreters_import_the_modules_in_any_order(order):
    code = ("import importlib, sys\n"
            f"sys.path.insert(0, {BINDING_DIR!r})\n"
            f"for name in {list(order)!r}:\n"
            "    importlib.import_module(name)\n"
            "import nn\n"
            "assert nn.saving.load_model is nn.models.load_model is nn.load_model\n"
            "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
