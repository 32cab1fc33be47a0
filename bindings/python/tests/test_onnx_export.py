"""model.export_onnx: the exported graph, run by onnxruntime, gives what
model.predict gives (to 1e-5) for every layer kind and every activation, for
any batch size (the batch dimension is dynamic). onnx and onnxruntime are
test dependencies (scripts/install-deps.sh installs them with pip)."""

import numpy as np
import pytest

import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "softmax", "gelu", "softplus", "step", "mish",
               nn.activations.LeakyReLU(negative_slope=0.1), nn.activations.ELU(alpha=0.5)]


def data(rows=48, width=5, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(rows, width)) * 3).astype(np.float32)   # large enough to reach every branch
    return x, (x[:, 0] > 0).astype(np.float32)


def run_onnx(path, x):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def trained(layers, seed=4, train=True):
    """A model with non-trivial weights (and BatchNormalization statistics)."""
    model = nn.Sequential(layers, seed=seed)
    model.compile(loss="mse", optimizer=nn.optimizers.Adam(learning_rate=0.01))
    if train:
        x, y = data()
        model.fit(x, np.repeat(y[:, None], model.output_shape[1], axis=1), epochs=3, batch_size=16, verbose=0)
    return model


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda a: getattr(a, "name", a))
def test_every_activation_round_trips(tmp_path, activation):
    # (step passes no gradient: that model keeps its initial weights)
    model = trained([nn.layers.Dense(12, activation=activation, input_dim=5),
                     nn.layers.Dense(3, activation=activation)], train=activation != "step")
    path = model.export_onnx(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(onnx.load(path))
    x, _ = data(seed=1)
    for rows in (1, 7, 48):   # the batch dimension is dynamic
        np.testing.assert_allclose(run_onnx(path, x[:rows]), model.predict(x[:rows]), rtol=1e-5, atol=1e-5)


def test_every_layer_kind_round_trips(tmp_path):
    model = trained([nn.layers.Input(shape=(5,)),
                     nn.layers.Dense(16, input_dim=5),
                     nn.layers.BatchNormalization(epsilon=1e-3),
                     nn.layers.Activation("relu"),
                     nn.layers.Dropout(0.4),
                     nn.layers.Dense(4, activation="softmax")])
    path = str(tmp_path / "m.onnx")
    model.export_onnx(path)
    graph = onnx.load(path).graph
    ops = [n.op_type for n in graph.node]
    assert ops.count("Gemm") == 2 and "BatchNormalization" in ops and "Softmax" in ops
    assert "Dropout" not in ops                       # the identity in inference
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert [d.dim_value for d in graph.output[0].type.tensor_type.shape.dim[1:]] == [4]
    x, _ = data(seed=2)
    np.testing.assert_allclose(run_onnx(path, x), model.predict(x), rtol=1e-5, atol=1e-5)


def test_a_loaded_model_exports_the_same_graph(tmp_path):
    model = trained([nn.layers.Dense(8, activation="tanh", input_dim=5), nn.layers.Dense(2)])
    model.save(str(tmp_path / "m.safetensors"))
    loaded = nn.load_model(str(tmp_path / "m.safetensors"))
    a, b = str(tmp_path / "a.onnx"), str(tmp_path / "b.onnx")
    model.export_onnx(a)
    loaded.export_onnx(b)
    x, _ = data(seed=3)
    np.testing.assert_array_equal(run_onnx(a, x), run_onnx(b, x))


def test_an_unbuilt_model_is_refused(tmp_path):
    model = nn.Sequential([nn.layers.Dense(3)])
    with pytest.raises(ValueError, match="not built"):
        model.export_onnx(str(tmp_path / "m.onnx"))
    assert not (tmp_path / "m.onnx").exists()
