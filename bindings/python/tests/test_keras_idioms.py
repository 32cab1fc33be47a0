"""Keras parity for the everyday idioms (issue 15, item 5).

Each test runs code written as the Keras guides write it, with only the
import changed (``import nn as keras``, ``from nn import layers, ...``),
and checks what Keras promises: values, call orders, files written,
learning rates per step against the schedule's formula worked by hand.
The guide and section each idiom comes from is named above it:

  [SEQ]   keras.io/guides/sequential_model        "The Sequential model"
  [TRAIN] keras.io/guides/training_with_built_in_methods
                                                  "Training & evaluation with the built-in methods"
  [CB]    keras.io/guides/writing_your_own_callbacks
                                                  "Writing your own callbacks"
  [SAVE]  keras.io/guides/serialization_and_saving
                                                  "Save, serialize, and export models"
"""

import math
import os

import numpy as np
import pytest

import nn as keras
from nn import _fit, _lib, callbacks, layers, metrics, optimizers


def data(rows=60, features=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features)).astype(np.float32)
    y = (x[:, :1] + 0.5 * x[:, 1:2] > 0).astype(np.float32)
    return x, y


def regression(rows=12, features=3, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(rows, features)).astype(np.float32),
            rng.normal(size=(rows, 1)).astype(np.float32))


def sgd_reference(weights, x, y, batch_size, rates):
    """A linear Dense(1) trained with SGD on the MSE loss in float64, the
    rows in order: step t uses rates[t]. Returns the kernel and bias."""
    kernel, bias = (w.astype(np.float64) for w in weights)
    t = 0
    for start in range(0, x.shape[0], batch_size):
        xb = x[start:start + batch_size].astype(np.float64)
        yb = y[start:start + batch_size].astype(np.float64)
        residual = xb @ kernel + bias - yb
        kernel = kernel - rates[t] * 2.0 * xb.T @ residual / xb.shape[0]
        bias = bias - rates[t] * 2.0 * residual.sum(axis=0) / xb.shape[0]
        t += 1
    return kernel, bias


def linear_model(learning_rate):
    model = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer=optimizers.SGD(learning_rate=learning_rate), loss="mse")
    return model


# ==========================================================================
# get_layer and pop
# ==========================================================================

# [SEQ] "Creating a Sequential model": layers by name, and pop()
def test_pop_and_get_layer_as_the_guide():
    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu", name="layer1"),
            layers.Dense(3, activation="relu", name="layer2"),
            layers.Dense(4, name="layer3"),
        ]
    )
    assert model.get_layer("layer2") is model.layers[1]
    assert model.get_layer(index=0).name == "layer1"
    assert model.get_layer(index=-1).name == "layer3"
    with pytest.raises(ValueError, match="not both"):  # Keras 3 refuses both
        model.get_layer("layer3", index=0)
    popped = model.pop()
    assert popped.name == "layer3"
    assert len(model.layers) == 2
    with pytest.raises(ValueError, match="no layer named 'layer3'; the model's layers are "
                                         "'layer1', 'layer2'"):
        model.get_layer("layer3")
    with pytest.raises(ValueError, match="index 2, but the model has 2 layers"):
        model.get_layer(index=2)
    with pytest.raises(ValueError, match="needs a layer name or an index"):
        model.get_layer()
    # the popped layer is free to join another model
    other = keras.Sequential([keras.Input(shape=(3,)), popped])
    assert other.output_shape == (None, 4)


def test_pop_keeps_the_remaining_weights_and_the_compile_settings():
    x, y = data()
    model = keras.Sequential([layers.Dense(6, activation="tanh", input_shape=(4,)),
                              layers.BatchNormalization(),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    kept = model.get_weights()[:6]
    assert model.optimizer.iterations == 8
    optimizer = model.optimizer
    model.pop()
    assert [w.shape for w in model.get_weights()] == [w.shape for w in kept]
    for got, want in zip(model.get_weights(), kept):
        np.testing.assert_array_equal(got, want)
    # the outputs are the first two layers' (inference: running statistics)
    kernel, bias, gamma, beta, mean, var = (w.astype(np.float64) for w in kept)
    hidden = np.tanh(x @ kernel + bias)
    want = gamma * (hidden - mean) / np.sqrt(var + 1e-5) + beta
    np.testing.assert_allclose(model.predict(x), want, rtol=1e-4, atol=1e-5)
    # still compiled with the same optimizer object, loss and metrics (Keras
    # 3 keeps the compile settings); the optimizer's state starts afresh
    assert model.optimizer is optimizer and model.loss.name == "binary_crossentropy"
    assert model.optimizer.iterations == 0
    model.add(layers.Dense(1, activation="sigmoid"))
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert model.optimizer.iterations == 4
    assert model.metrics_names == ["loss", "accuracy"]


def test_pop_refusals():
    empty = keras.Sequential()
    with pytest.raises(TypeError, match="no layers"):
        empty.pop()
    x, y = data()
    model = keras.Sequential([layers.Dense(3, input_shape=(4,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")

    def pop_in_fit(batch, logs):
        model.pop()
    with pytest.raises(keras.InvalidStateError, match="cannot pop a layer while fit is running"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[callbacks.LambdaCallback(on_train_batch_end=pop_in_fit)])
    assert len(model.layers) == 2
    # an unbuilt model pops on the Python side only
    lazy = keras.Sequential([layers.Dense(3), layers.Dense(2)])
    lazy.pop()
    assert lazy.predict(x).shape == (60, 3)


# ==========================================================================
# Activation layers
# ==========================================================================

# [SEQ] layers of a Sequential model; keras.layers.ReLU / LeakyReLU / ELU / Softmax
def test_activation_layers_compute_keras_formulas():
    x, _ = data(rows=8)
    model = keras.Sequential([
        keras.Input(shape=(4,)),
        layers.Dense(5, name="d"),
        layers.LeakyReLU(),
        layers.Dense(5, name="e"),
        layers.ELU(alpha=0.5),
        layers.Dense(5, name="f"),
        layers.ReLU(),
        layers.Dense(3, name="g"),
        layers.Softmax(),
    ])
    assert [layer.name for layer in model.layers] == [
        "d", "leaky_re_lu", "e", "elu", "f", "re_lu", "g", "softmax"]
    assert [layer.kind for layer in model.layers[1::2]] == ["activation"] * 4
    assert model.get_layer("leaky_re_lu").negative_slope == 0.3  # Keras 3's layer default
    w = [a.astype(np.float64) for a in model.get_weights()]
    h = x @ w[0] + w[1]
    h = np.where(h > 0, h, 0.3 * h)
    h = h @ w[2] + w[3]
    h = np.where(h > 0, h, 0.5 * (np.exp(h) - 1))
    h = np.maximum(h @ w[4] + w[5], 0)
    z = h @ w[6] + w[7]
    want = np.exp(z - z.max(axis=1, keepdims=True))
    want /= want.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict(x), want, rtol=1e-5, atol=1e-6)
    # ReLU(negative_slope=...) is a leaky ReLU, as Keras's
    leaky = keras.Sequential([keras.Input(shape=(4,)), layers.ReLU(negative_slope=0.1)])
    np.testing.assert_allclose(leaky.predict(x), np.where(x > 0, x, 0.1 * x), rtol=1e-6)


def test_activation_layers_refuse_what_libnn_cannot_do():
    with pytest.raises(ValueError, match="max_value must be None"):
        layers.ReLU(max_value=6.0)
    with pytest.raises(ValueError, match="threshold must be 0"):
        layers.ReLU(threshold=0.5)
    with pytest.raises(ValueError, match="negative_slope must be >= 0"):
        layers.ReLU(negative_slope=-1.0)
    with pytest.raises(ValueError, match="axis must be -1"):
        layers.Softmax(axis=0)
    with pytest.raises(keras.InvalidArgumentError, match="elu"):
        layers.ELU(alpha=-1.0)
    with pytest.warns(DeprecationWarning, match="negative_slope"):
        assert layers.LeakyReLU(alpha=0.2).negative_slope == 0.2


def test_activation_layers_save_and_load(tmp_path):
    x, _ = data(rows=5)
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3), layers.LeakyReLU(0.25),
                              layers.Dense(2), layers.Softmax()])
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.load_model(path)
    # libnn stores them as Activation layers (leaky_relu with its slope, softmax)
    assert [type(layer).__name__ for layer in loaded.layers] == [
        "Dense", "Activation", "Dense", "Activation"]
    assert loaded.layers[1].activation_function == keras.activations.LeakyReLU(0.25)
    assert loaded.layers[3].activation == "softmax"
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


# ==========================================================================
# get_config / from_config / clone_model / to_json
# ==========================================================================

# [SAVE] "Config of a Sequential model" and "Layer example"
def test_get_config_and_from_config_as_the_guide():
    model = keras.Sequential([keras.Input((32,)), layers.Dense(1)])
    config = model.get_config()
    new_model = keras.Sequential.from_config(config)
    assert new_model.get_config() == config
    assert config["layers"][0] == {"class_name": "InputLayer",
                                   "config": {"batch_shape": [None, 32], "name": "input_layer"}}
    layer = layers.Dense(3, activation="relu")
    layer_config = layer.get_config()
    new_layer = layers.Dense.from_config(layer_config)
    assert new_layer.get_config() == layer_config and new_layer is not layer


def test_from_config_rebuilds_every_layer_kind():
    x, y = data()
    model = keras.Sequential([
        layers.Dense(6, input_shape=(4,), activation=keras.activations.LeakyReLU(0.1),
                     kernel_initializer=keras.initializers.Constant(0.05),
                     kernel_regularizer=keras.regularizers.L1L2(0.01, 0.02), name="first"),
        layers.BatchNormalization(momentum=0.2),
        layers.Dropout(0.25),
        layers.Activation("tanh"),
        layers.ELU(0.7),
        layers.Dense(1, activation="sigmoid", bias_initializer="ones"),
    ], seed=7, name="everything")
    config = model.get_config()
    assert (config["name"], config["seed"]) == ("everything", 7)
    rebuilt = keras.Sequential.from_config(config)
    assert rebuilt.get_config() == config
    # same seed and settings: the weights it starts with are the ones the
    # original started with (libnn's models are reproducible from the seed)
    for got, want in zip(rebuilt.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert not rebuilt._compiled
    with pytest.raises(ValueError, match="unknown layer class 'Conv2D'"):
        keras.Sequential.from_config({"layers": [{"class_name": "Conv2D", "config": {}}]})
    with pytest.raises(ValueError, match="cannot make Dense"):
        layers.Dense.from_config({"units": 3, "use_bias": False})


# [SAVE] "to_json() and keras.models.model_from_json()"
def test_to_json_and_model_from_json():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="relu"),
                              layers.Softmax()])
    json_config = model.to_json()
    new_model = keras.models.model_from_json(json_config)
    assert new_model.get_config() == model.get_config()
    with pytest.raises(ValueError, match="Sequential"):
        keras.models.model_from_json('{"class_name": "Functional", "config": {}}')


# [SAVE] "keras.models.clone_model()" and "Transferring weights from one model to another"
def test_clone_model_is_new_uncompiled_and_newly_initialized():
    x, y = data()
    model = keras.Sequential([keras.Input((4,)), layers.Dense(5, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    initial = model.get_weights()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    new_model = keras.models.clone_model(model)
    assert new_model.get_config() == model.get_config()
    assert new_model is not model and all(a is not b for a, b in zip(new_model.layers,
                                                                     model.layers))
    for got, fresh, trained in zip(new_model.get_weights(), initial, model.get_weights()):
        np.testing.assert_array_equal(got, fresh)          # newly initialized
        assert not np.array_equal(got, trained)           # not the trained weights
    with pytest.raises(keras.InvalidStateError, match="must be compiled"):
        new_model.fit(x, y, verbose=0)                    # uncompiled, as Keras
    new_model.set_weights(model.get_weights())
    np.testing.assert_array_equal(new_model.predict(x), model.predict(x))
    # clone_function makes each layer, as in Keras
    renamed = keras.models.clone_model(
        model, clone_function=lambda layer: type(layer).from_config(
            dict(layer.get_config(), name="copy_of_" + layer.name)))
    assert [layer.name for layer in renamed.layers] == ["copy_of_dense", "copy_of_dense_1"]
    with pytest.raises(ValueError, match="input_tensors and call_function"):
        keras.models.clone_model(model, input_tensors=[x])


# ==========================================================================
# Callbacks: the Keras hooks and their order
# ==========================================================================

class Recorder(callbacks.Callback):
    """Records every hook call, as the guide's CustomCallback prints them
    (logs keys)."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin", None, sorted(logs.keys())))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end", None, sorted(logs.keys())))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch, sorted(logs.keys())))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, sorted(logs.keys())))

    def on_test_begin(self, logs=None):
        self.calls.append(("test_begin", None, sorted(logs.keys())))

    def on_test_end(self, logs=None):
        self.calls.append(("test_end", None, sorted(logs.keys())))

    def on_predict_begin(self, logs=None):
        self.calls.append(("predict_begin", None, sorted(logs.keys())))

    def on_predict_end(self, logs=None):
        self.calls.append(("predict_end", None, sorted(logs.keys())))

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("train_batch_begin", batch, sorted(logs.keys())))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("train_batch_end", batch, sorted(logs.keys())))

    def on_test_batch_begin(self, batch, logs=None):
        self.calls.append(("test_batch_begin", batch, sorted(logs.keys())))

    def on_test_batch_end(self, batch, logs=None):
        self.calls.append(("test_batch_end", batch, sorted(logs.keys())))

    def on_predict_batch_begin(self, batch, logs=None):
        self.calls.append(("predict_batch_begin", batch, sorted(logs.keys())))

    def on_predict_batch_end(self, batch, logs=None):
        self.calls.append(("predict_batch_end", batch, sorted(logs.keys())))


def guide_model():
    # [CB] "A basic example": get_model()
    model = keras.Sequential()
    model.add(layers.Dense(1, input_shape=(4,)))
    model.compile(optimizer=optimizers.RMSprop(learning_rate=0.1), loss="mean_squared_error",
                  metrics=["mean_absolute_error"])
    return model


def keras_fit_order(epochs, batches, val_batches, train_keys, val_keys):
    """The call order Keras documents (the Callback docstring's loop, and
    fit running evaluate with the same callbacks for the validation):
    on_train_begin; per epoch on_epoch_begin, per batch
    on_train_batch_begin/on_train_batch_end, on_test_begin, per validation
    batch on_test_batch_begin/on_test_batch_end, on_test_end,
    on_epoch_end; on_train_end."""
    epoch_keys = sorted(train_keys + ["val_" + k for k in val_keys])
    calls = [("train_begin", None, [])]
    for epoch in range(epochs):
        calls.append(("epoch_begin", epoch, []))
        for batch in range(batches):
            calls += [("train_batch_begin", batch, []), ("train_batch_end", batch, sorted(train_keys))]
        calls.append(("test_begin", None, []))
        for batch in range(val_batches):
            calls += [("test_batch_begin", batch, []), ("test_batch_end", batch, sorted(val_keys))]
        calls += [("test_end", None, sorted(val_keys)), ("epoch_end", epoch, epoch_keys)]
    calls.append(("train_end", None, epoch_keys))
    return calls


# [CB] "A basic example": CustomCallback in fit with validation, evaluate and predict
@pytest.mark.parametrize("validation", ["validation_data", "validation_split"])
def test_fit_calls_every_hook_in_keras_order(validation):
    x, y = data(rows=60)
    model = guide_model()
    recorder = Recorder()
    if validation == "validation_data":
        # 2 epochs of 3 batches (batch_size 10 over 30 rows), 30 validation
        # rows in 3 batches of 10
        model.fit(x[:30], y[:30], batch_size=10, epochs=2, verbose=0,
                  validation_data=(x[30:], y[30:]), callbacks=[recorder])
    else:
        # validation_split=0.5 of 60 rows: 30 train in 3 batches, 30 held out
        model.fit(x, y, batch_size=10, epochs=2, verbose=0, validation_split=0.5,
                  callbacks=[recorder])
    keys = ["loss", "mean_absolute_error"]
    assert recorder.calls == keras_fit_order(2, 3, 3, keys, keys)


def test_fit_without_validation_and_with_a_last_short_batch():
    x, y = data(rows=25)
    model = guide_model()
    recorder = Recorder()
    model.fit(x, y, batch_size=10, epochs=2, verbose=0, callbacks=[recorder])
    names = [c[:2] for c in recorder.calls]
    want = [("train_begin", None)]
    for epoch in range(2):
        want.append(("epoch_begin", epoch))
        for batch in range(3):
            want += [("train_batch_begin", batch), ("train_batch_end", batch)]
        want.append(("epoch_end", epoch))
    assert names == want + [("train_end", None)]


# [CB] "Usage of logs dict" / "Examples of Keras callback applications"
def test_batch_and_validation_logs_are_keras_running_means():
    x, y = data(rows=50)
    model = guide_model()
    train_logs, test_logs, epoch_logs = [], [], []
    model.fit(x[:30], y[:30], batch_size=10, epochs=1, verbose=0, shuffle=False,
              validation_data=(x[30:], y[30:]),
              callbacks=[callbacks.LambdaCallback(
                  on_train_batch_end=lambda batch, logs: train_logs.append(dict(logs)),
                  on_test_batch_end=lambda batch, logs: test_logs.append(dict(logs)),
                  on_epoch_end=lambda epoch, logs: epoch_logs.append(dict(logs)))])
    assert len(train_logs) == 3 and len(test_logs) == 2
    # the validation batches' logs: the mean so far over the rows seen,
    # which evaluate on those rows gives
    for i, logs in enumerate(test_logs):
        rows = 10 * (i + 1)
        want = model.evaluate(x[30:30 + rows], y[30:30 + rows], return_dict=True)
        assert logs == pytest.approx(want, rel=1e-5)
    assert test_logs[-1]["loss"] == pytest.approx(epoch_logs[0]["val_loss"], rel=1e-5)
    assert train_logs[-1]["loss"] == pytest.approx(epoch_logs[0]["loss"], rel=1e-5)


# [CB] "A basic example": res = model.evaluate(..., callbacks=[CustomCallback()])
def test_evaluate_with_callbacks():
    x, y = data(rows=70)
    model = guide_model()
    recorder = Recorder()
    result = model.evaluate(x, y, batch_size=32, verbose=0, callbacks=[recorder])
    keys = ["loss", "mean_absolute_error"]
    assert recorder.calls == [("test_begin", None, [])] + [
        call for b in range(3) for call in (("test_batch_begin", b, []),
                                            ("test_batch_end", b, keys))] + [
        ("test_end", None, keys)]
    assert recorder.params == {"verbose": 0, "epochs": 1, "steps": 3}
    assert recorder.model is model
    assert result == pytest.approx(model.evaluate(x, y), rel=1e-6)  # callbacks change nothing
    # the default batch_size is 32, as Keras's
    recorder = Recorder()
    model.evaluate(x, y, callbacks=[recorder])
    assert sum(c[0] == "test_batch_end" for c in recorder.calls) == 3


def test_evaluate_logs_and_stop_evaluating():
    x, y = data(rows=40)
    model = guide_model()
    batch_logs, end_logs = [], []

    def batch_end(batch, logs):
        batch_logs.append(dict(logs))
        if batch == 1:
            model.stop_evaluating = True      # Keras 3: ends after this batch
    result = model.evaluate(x, y, batch_size=10, return_dict=True, callbacks=[
        callbacks.LambdaCallback(on_test_batch_end=batch_end,
                                 on_test_end=lambda logs: end_logs.append(dict(logs)))])
    assert len(batch_logs) == 2
    want = model.evaluate(x[:20], y[:20], return_dict=True)   # the rows run
    assert result == pytest.approx(want, rel=1e-6) and end_logs == [result]
    assert batch_logs[1] == pytest.approx(want, rel=1e-5)


# [CB] "A basic example": res = model.predict(x_test, batch_size=128, callbacks=[CustomCallback()])
def test_predict_with_callbacks():
    x, _ = data(rows=45)
    model = guide_model()
    recorder = Recorder()
    outputs = []
    collect = callbacks.LambdaCallback(
        on_predict_batch_end=lambda batch, logs: outputs.append(logs["outputs"]))
    result = model.predict(x, batch_size=20, callbacks=[recorder, collect])
    assert recorder.calls == [("predict_begin", None, [])] + [
        call for b in range(3) for call in (("predict_batch_begin", b, []),
                                            ("predict_batch_end", b, ["outputs"]))] + [
        ("predict_end", None, [])]
    assert [o.shape for o in outputs] == [(20, 1), (20, 1), (5, 1)]
    np.testing.assert_array_equal(np.concatenate(outputs), result)
    np.testing.assert_array_equal(result, model.predict(x))
    stopper = callbacks.LambdaCallback(
        on_predict_batch_end=lambda batch, logs: setattr(model, "stop_predicting", True))
    assert model.predict(x, batch_size=20, callbacks=[stopper]).shape == (20, 1)


def test_no_batch_work_without_batch_hooks(monkeypatch):
    """Callbacks without batch hooks cost nothing per batch: fit asks libnn
    for no per-batch callback, evaluate and predict run in one call."""
    x, y = data(rows=64)
    model = guide_model()
    counts = {"batch": 0, "test_on_batch": 0, "predict": 0}
    original_batch = _fit.EpochBridge.on_batch_end

    def count_batch(self, *args):
        counts["batch"] += 1
        return original_batch(self, *args)
    monkeypatch.setattr(_fit.EpochBridge, "on_batch_end", count_batch)
    original_test = _lib.nn_model_test_on_batch

    def count_test(*args):
        counts["test_on_batch"] += 1
        return original_test(*args)
    monkeypatch.setattr(_lib, "nn_model_test_on_batch", count_test)
    original_predict = keras.Sequential.predict

    def count_predict(self, *args, **kwargs):
        counts["predict"] += 1
        return original_predict(self, *args, **kwargs)
    monkeypatch.setattr(keras.Sequential, "predict", count_predict)

    epoch_level = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: None,
                                           on_test_begin=lambda logs: None,
                                           on_test_end=lambda logs: None,
                                           on_predict_begin=lambda logs: None)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_split=0.25,
              callbacks=[epoch_level])
    model.evaluate(x, y, batch_size=8, callbacks=[epoch_level])
    model.predict(x, batch_size=8, callbacks=[epoch_level])
    assert counts == {"batch": 0, "test_on_batch": 0, "predict": 2}  # predict: outer + one call
    # with batch hooks: 6 batches per epoch; 2 validation batches per epoch,
    # 8 evaluate batches; 8 predict batches
    batchy = Recorder()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_split=0.25, callbacks=[batchy])
    model.evaluate(x, y, batch_size=8, callbacks=[batchy])
    model.predict(x, batch_size=8, callbacks=[batchy])
    assert counts == {"batch": 12, "test_on_batch": 2 * 2 + 8, "predict": 2 + 1 + 8}


# [CB] LambdaCallback (keras.callbacks.LambdaCallback) with every hook
def test_lambda_callback_takes_every_hook():
    x, y = data(rows=20)
    model = guide_model()
    calls = []
    hook = callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: calls.append(f"epoch_begin {epoch}"),
        on_train_batch_begin=lambda batch, logs: calls.append(f"batch_begin {batch}"),
        on_train_batch_end=lambda batch, logs: calls.append(f"batch_end {batch}"),
        on_test_begin=lambda logs: calls.append("test_begin"),
        on_test_batch_begin=lambda batch, logs: calls.append(f"test_batch_begin {batch}"),
        on_test_batch_end=lambda batch, logs: calls.append(f"test_batch_end {batch}"),
        on_test_end=lambda logs: calls.append("test_end"),
        on_epoch_end=lambda epoch, logs: calls.append(f"epoch_end {epoch}"),
        on_train_end=lambda logs: calls.append("train_end"),
        on_predict_begin=lambda logs: calls.append("predict_begin"),
        on_predict_batch_begin=lambda batch, logs: calls.append(f"predict_batch_begin {batch}"),
        on_predict_batch_end=lambda batch, logs: calls.append(f"predict_batch_end {batch}"),
        on_predict_end=lambda logs: calls.append("predict_end"))
    model.fit(x[:10], y[:10], batch_size=5, epochs=1, verbose=0,
              validation_data=(x[10:15], y[10:15]), callbacks=[hook])
    model.predict(x, batch_size=10, callbacks=[hook])
    assert calls == ["train_begin", "epoch_begin 0", "batch_begin 0", "batch_end 0",
                     "batch_begin 1", "batch_end 1", "test_begin", "test_batch_begin 0",
                     "test_batch_end 0", "test_end", "epoch_end 0", "train_end",
                     "predict_begin", "predict_batch_begin 0", "predict_batch_end 0",
                     "predict_batch_begin 1", "predict_batch_end 1", "predict_end"]
    with pytest.raises(TypeError):
        callbacks.LambdaCallback(on_sunrise=lambda logs: None)
    with pytest.raises(ValueError, match="on_epoch_end must be callable"):
        callbacks.LambdaCallback(on_epoch_end=3)


# [TRAIN] "Using callbacks": LossHistory with Keras 2's on_batch_end
def test_keras2_batch_names_still_work():
    x, y = data(rows=40)

    class LossHistory(keras.callbacks.Callback):
        def on_train_begin(self, logs):
            self.per_batch_losses = []
            self.begins = []

        def on_batch_begin(self, batch, logs):
            self.begins.append(batch)

        def on_batch_end(self, batch, logs):
            self.per_batch_losses.append(logs.get("loss"))
    history = LossHistory()
    model = guide_model()
    model.fit(x, y, batch_size=10, epochs=2, verbose=0, callbacks=[history])
    assert len(history.per_batch_losses) == 8 and history.begins == [0, 1, 2, 3] * 2
    assert all(isinstance(loss, float) for loss in history.per_batch_losses)


def test_stop_training_from_a_batch_and_early_stopping_end_the_hooks_at_once():
    x, y = data(rows=40)
    model = guide_model()
    recorder = Recorder()

    def stop(batch, logs):
        if batch == 1:
            model.stop_training = True
    model.fit(x, y, batch_size=10, epochs=3, verbose=0,
              callbacks=[callbacks.LambdaCallback(on_train_batch_end=stop), recorder])
    # no begin for a batch or an epoch that does not run
    assert [c[:2] for c in recorder.calls] == [
        ("train_begin", None), ("epoch_begin", 0), ("train_batch_begin", 0),
        ("train_batch_end", 0), ("train_batch_begin", 1), ("train_batch_end", 1),
        ("epoch_end", 0), ("train_end", None)]
    # libnn's EarlyStopping: the epoch it stops after gets no successor's begin
    recorder = Recorder()
    stopper = callbacks.EarlyStopping(monitor="loss", min_delta=100.0, patience=0)
    history = model.fit(x, y, batch_size=40, epochs=5, verbose=0, callbacks=[stopper, recorder])
    assert len(history.epoch) == 2 and stopper.stopped_epoch == 1
    assert [c[1] for c in recorder.calls if c[0] == "epoch_begin"] == [0, 1]
    assert [c[1] for c in recorder.calls if c[0] == "epoch_end"] == [0, 1]


# [TRAIN] "Using callbacks": EarlyStopping as the guide writes it
def test_early_stopping_as_the_guide(capsys):
    x, y = data(rows=40)
    model = guide_model()
    callbacks_list = [
        keras.callbacks.EarlyStopping(
            # Stop training when `val_loss` is no longer improving
            monitor="val_loss",
            # "no longer improving" being defined as "no better than 1e-2 less"
            min_delta=1e-2,
            # "no longer improving" being further defined as "for at least 2 epochs"
            patience=2,
            verbose=1,
        )
    ]
    history = model.fit(x, y, epochs=20, batch_size=64, callbacks=callbacks_list,
                        validation_split=0.2, verbose=0)
    stopped = callbacks_list[0].stopped_epoch
    assert 0 < stopped < 19 and len(history.epoch) == stopped + 1
    assert f"Epoch {stopped + 1}: early stopping" in capsys.readouterr().out
    with pytest.raises(ValueError, match="no baseline"):
        keras.callbacks.EarlyStopping(baseline=0.5)
    with pytest.raises(ValueError, match="leave it 0"):
        keras.callbacks.EarlyStopping(start_from_epoch=3)


# ==========================================================================
# ModelCheckpoint
# ==========================================================================

def checkpoint_model():
    """A model whose val_loss (validation_split=0.25 of data(80), 6 epochs of
    batch 16) improves for a few epochs and then does not."""
    model = keras.Sequential([layers.Dense(4, activation="relu", input_shape=(4,)),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.SGD(learning_rate=2.0), loss="binary_crossentropy")
    return model


# [TRAIN] "Checkpointing models": save_best_only on val_loss, {epoch} in the name
def test_model_checkpoint_saves_the_best_epochs_as_the_guide(tmp_path, capsys):
    x, y = data(rows=80)
    model = checkpoint_model()
    callbacks_list = [
        keras.callbacks.ModelCheckpoint(
            # Path where to save the model; overwritten only when `val_loss`
            # improves; the name includes the current epoch
            filepath=str(tmp_path / "mymodel_{epoch}.keras"),
            save_best_only=True,
            monitor="val_loss",
            verbose=1,
        )
    ]
    history = model.fit(x, y, epochs=6, batch_size=16, callbacks=callbacks_list,
                        validation_split=0.25, verbose=0)
    val = history.history["val_loss"]
    improving = [e for e in range(6) if val[e] < min(val[:e], default=math.inf)]
    assert 1 < len(improving) < 6          # both cases happen
    assert sorted(os.listdir(tmp_path)) == sorted(f"mymodel_{e + 1}.keras" for e in improving)
    # each file is the model of that epoch: its val_loss is the logged one
    for e in improving:
        loaded = keras.load_model(tmp_path / f"mymodel_{e + 1}.keras")
        assert loaded.evaluate(x[60:], y[60:]) == pytest.approx(val[e], rel=1e-5)
    out = capsys.readouterr().out
    assert f"Epoch 1: val_loss improved from inf to {val[0]:.5f}, saving model to" in out
    assert out.count("improved from") == len(improving)
    assert out.count("did not improve") == 6 - len(improving)
    assert callbacks_list[0].best == min(val)


def test_model_checkpoint_formats_keras_fields_and_replaces_atomically(tmp_path):
    x, y = data(rows=80)
    model = checkpoint_model()
    # the Callbacks API page's example: 'model.{epoch:02d}-{val_loss:.2f}'
    pattern = callbacks.ModelCheckpoint(str(tmp_path / "model.{epoch:02d}-{val_loss:.2f}.keras"))
    best = tmp_path / "nested" / "best.keras"
    fixed = callbacks.ModelCheckpoint(best, monitor="val_loss", save_best_only=True)
    inodes = []
    history = model.fit(x, y, epochs=6, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[pattern, fixed, callbacks.LambdaCallback(
                            on_epoch_end=lambda e, logs: inodes.append(
                                os.stat(best).st_ino if best.exists() else None))])
    names = {f"model.{e + 1:02d}-{v:.2f}.keras" for e, v in enumerate(history.history["val_loss"])}
    assert names <= set(os.listdir(tmp_path))
    assert sorted(os.listdir(tmp_path / "nested")) == ["best.keras"]  # no temporary file left
    # each better model was written to a new file renamed over the old one
    # (Sequential.save's atomic write), never into the old file in place
    val = history.history["val_loss"]
    replaced = [val[e] < min(val[:e]) for e in range(1, 6)]
    assert any(replaced) and not all(replaced)
    for e in range(1, 6):
        assert (inodes[e] != inodes[e - 1]) == replaced[e - 1]
    # the best file holds the best epoch's model
    assert keras.load_model(best).evaluate(x[60:], y[60:]) == pytest.approx(min(val), rel=1e-5)


# [TRAIN] "Checkpointing models": save_freq=100 and "{loss:.2f}" in the name
def test_model_checkpoint_every_n_batches(tmp_path):
    x, y = data(rows=60)
    model = guide_model()
    checkpoint = keras.callbacks.ModelCheckpoint(
        filepath=str(tmp_path / "ckpt-{epoch}-{batch}-loss={loss:.2f}.keras"), save_freq=2)
    seen = []
    model.fit(x, y, epochs=2, batch_size=20, verbose=0, callbacks=[
        checkpoint, callbacks.LambdaCallback(
            on_train_batch_end=lambda batch, logs: seen.append((batch, logs["loss"])))])
    # 3 batches an epoch, a save every 2 batches across epochs: after global
    # batches 2, 4 and 6, i.e. epoch 1 batch 2, epoch 2 batch 1, epoch 2 batch 3
    saves = [(1, 2, seen[1][1]), (2, 1, seen[3][1]), (2, 3, seen[5][1])]
    assert sorted(os.listdir(tmp_path)) == sorted(
        f"ckpt-{e}-{b}-loss={loss:.2f}.keras" for e, b, loss in saves)
    # the guide's make_or_restore_model: the latest checkpoint loads
    e, b, loss = saves[-1]
    latest = str(tmp_path / f"ckpt-{e}-{b}-loss={loss:.2f}.keras")
    np.testing.assert_array_equal(keras.models.load_model(latest).predict(x), model.predict(x))


def test_model_checkpoint_weights_only_and_threshold(tmp_path):
    x, y = data(rows=40)
    model = guide_model()
    path = tmp_path / "checkpoint.weights.h5"
    model.fit(x, y, epochs=2, verbose=0, callbacks=[
        callbacks.ModelCheckpoint(path, save_weights_only=True, monitor="loss")])
    fresh = guide_model()
    fresh.load_weights(path)
    for got, want in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)
    # a threshold no epoch beats: nothing is saved
    never = tmp_path / "never.keras"
    model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.ModelCheckpoint(
        never, monitor="loss", save_best_only=True, initial_value_threshold=-1.0)])
    assert not never.exists()


def test_model_checkpoint_refusals(tmp_path):
    x, y = data(rows=40)
    model = guide_model()
    with pytest.raises(ValueError, match="monitors 'val_loss', but the epoch logs have only "
                                         "loss, mean_absolute_error \\(give validation data\\)"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[
            callbacks.ModelCheckpoint(tmp_path / "m.keras", save_best_only=True)])
    with pytest.raises(KeyError, match="names 'val_acc'"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[
            callbacks.ModelCheckpoint(str(tmp_path / "m-{val_acc}.keras"))])
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or an integer"):
        callbacks.ModelCheckpoint(tmp_path / "m.keras", save_freq="batch")
    with pytest.raises(ValueError, match="mode must be"):
        callbacks.ModelCheckpoint(tmp_path / "m.keras", mode="best")
    assert os.listdir(tmp_path) == []


# ==========================================================================
# Learning-rate schedules (per optimizer step)
# ==========================================================================

def test_schedule_formulas_by_hand():
    s = optimizers.schedules
    exp = s.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert [exp(t) for t in (0, 5, 10, 25)] == pytest.approx(
        [0.1, 0.1 * 0.5 ** 0.5, 0.05, 0.1 * 0.5 ** 2.5])
    stair = s.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert [stair(t) for t in (0, 9, 10, 25)] == pytest.approx([0.1, 0.1, 0.05, 0.025])
    piece = s.PiecewiseConstantDecay(boundaries=[100, 110], values=[1.0, 0.5, 0.1])
    assert [piece(t) for t in (0, 100, 101, 110, 111)] == [1.0, 1.0, 0.5, 0.5, 0.1]
    cos = s.CosineDecay(0.1, decay_steps=100, alpha=0.2)
    assert [cos(t) for t in (0, 50, 100, 150)] == pytest.approx(
        [0.1, 0.1 * (0.8 * 0.5 + 0.2), 0.02, 0.02])
    warm = s.CosineDecay(0.1, decay_steps=10, warmup_target=1.0, warmup_steps=4)
    assert [warm(t) for t in (0, 2, 4, 9, 14, 20)] == pytest.approx(
        [0.1, 0.55, 1.0, 0.5 * (1 + math.cos(math.pi * 0.5)), 0.0, 0.0], abs=1e-12)
    inv = s.InverseTimeDecay(0.1, decay_steps=1.0, decay_rate=0.5)
    assert [inv(t) for t in (0, 1, 4)] == pytest.approx([0.1, 0.1 / 1.5, 0.1 / 3])
    inv_stair = s.InverseTimeDecay(0.1, decay_steps=4, decay_rate=1.0, staircase=True)
    assert [inv_stair(t) for t in (3, 4, 9)] == pytest.approx([0.1, 0.05, 0.1 / 3])
    # get_config / from_config round trips
    for schedule in (exp, stair, piece, cos, warm, inv):
        again = type(schedule).from_config(schedule.get_config())
        assert again.get_config() == schedule.get_config()
    with pytest.raises(ValueError, match="one more value than boundaries"):
        s.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="decay_steps must be > 0"):
        s.ExponentialDecay(0.1, 0, 0.9)
    # not the per-epoch nn.schedules of the same names
    assert s.ExponentialDecay is not keras.schedules.ExponentialDecay


# [TRAIN] "Using learning rate schedules": ExponentialDecay given to an optimizer
def test_exponential_decay_steps_per_optimizer_step_across_fits():
    x, y = regression()
    initial_learning_rate = 0.1
    lr_schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate, decay_steps=4, decay_rate=0.5, staircase=False)
    model = linear_model(lr_schedule)
    start = model.get_weights()
    rates = []
    record = callbacks.LambdaCallback(
        on_train_batch_begin=lambda batch, logs: rates.append(model.learning_rate))
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, callbacks=[record])
    assert model.optimizer.iterations == 6
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0, callbacks=[record])
    assert model.optimizer.iterations == 9
    want = [0.1 * 0.5 ** (t / 4) for t in range(9)]
    assert rates == pytest.approx(want, rel=1e-12)
    # the rates the updates used: the weights of SGD by hand with them
    kernel, bias = sgd_reference(start, np.concatenate([x, x, x]), np.concatenate([y, y, y]),
                                 4, want)
    np.testing.assert_allclose(model.get_weights()[0], kernel, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.get_weights()[1], bias, rtol=1e-4, atol=1e-6)


# [TRAIN] "Using learning rate schedules": the guide's code, rates per step
def test_guide_exponential_decay_with_rmsprop():
    x, y = regression(rows=40)
    initial_learning_rate = 0.1
    lr_schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate, decay_steps=3, decay_rate=0.96, staircase=True
    )
    optimizer = keras.optimizers.RMSprop(learning_rate=lr_schedule)
    model = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer=optimizer, loss="mse")
    rates = []
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[callbacks.LambdaCallback(
        on_train_batch_begin=lambda batch, logs: rates.append(model.learning_rate))])
    assert rates == pytest.approx([0.1 * 0.96 ** (t // 3) for t in range(10)], rel=1e-12)
    assert optimizer.iterations == 10 and optimizer.learning_rate is lr_schedule


class LinearWarmup(optimizers.schedules.LearningRateSchedule):
    """A schedule of one's own, as Keras's docs write them."""

    def __init__(self, peak, warmup_steps):
        self.peak = peak
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        return self.peak * min(1.0, (step + 1) / self.warmup_steps)

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps}


def test_user_schedule_with_fit_and_train_on_batch():
    x, y = regression()
    schedule = LinearWarmup(0.2, warmup_steps=5)
    model = linear_model(schedule)
    start = model.get_weights()
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)        # steps 0, 1, 2
    for start_row in range(0, 12, 4):                                         # steps 3, 4, 5
        model.train_on_batch(x[start_row:start_row + 4], y[start_row:start_row + 4])
    assert model.optimizer.iterations == 6
    kernel, bias = sgd_reference(start, np.concatenate([x, x]), np.concatenate([y, y]), 4,
                                 [schedule(t) for t in range(6)])
    np.testing.assert_allclose(model.get_weights()[0], kernel, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.get_weights()[1], bias, rtol=1e-4, atol=1e-6)
    again = LinearWarmup.from_config(schedule.get_config())
    assert (again.peak, again.warmup_steps) == (0.2, 5)
    # compile starts a new optimizer: iterations and the schedule from 0
    model.compile(optimizer=optimizers.SGD(learning_rate=schedule), loss="mse")
    assert model.optimizer.iterations == 0
    assert model.learning_rate == pytest.approx(schedule(0))


def test_schedules_in_generator_fits_and_every_built_in():
    x, y = regression()

    def batches():
        for start in range(0, 12, 4):
            yield x[start:start + 4], y[start:start + 4]
    s = optimizers.schedules
    for schedule in (s.PiecewiseConstantDecay([1, 3], [0.1, 0.05, 0.02]),
                     s.CosineDecay(0.1, decay_steps=6),
                     s.CosineDecay(0.05, decay_steps=3, warmup_target=0.1, warmup_steps=3),
                     s.InverseTimeDecay(0.1, decay_steps=2, decay_rate=1.0, staircase=True)):
        model = linear_model(schedule)
        start = model.get_weights()
        model.fit(batches(), epochs=1, verbose=0)                             # nn._stream
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        kernel, bias = sgd_reference(start, np.concatenate([x, x]), np.concatenate([y, y]), 4,
                                     [schedule(t) for t in range(6)])
        np.testing.assert_allclose(model.get_weights()[0], kernel, rtol=1e-4, atol=1e-6,
                                   err_msg=repr(schedule))


def test_schedule_refusals():
    x, y = regression()
    model = linear_model(optimizers.schedules.ExponentialDecay(0.1, 10, 0.9))
    with pytest.raises(ValueError, match="ReduceLROnPlateau cannot be combined"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ReduceLROnPlateau()])
    with pytest.raises(ValueError, match="learning_rate must be a number or a schedule"):
        optimizers.SGD(learning_rate=lambda step: 0.1)
    with pytest.raises(ValueError, match="gave -0.1 at step 0"):
        linear_model(LinearWarmup(-0.1, 1))


# [CB] "Learning rate scheduling": CustomLearningRateScheduler sets
# self.model.optimizer.learning_rate in on_epoch_begin
def test_optimizer_learning_rate_assignment_as_the_guide(capsys):
    class CustomLearningRateScheduler(keras.callbacks.Callback):
        """Learning rate scheduler which sets the learning rate according to schedule."""

        def __init__(self, schedule):
            super().__init__()
            self.schedule = schedule

        def on_epoch_begin(self, epoch, logs=None):
            if not hasattr(self.model.optimizer, "learning_rate"):
                raise ValueError('Optimizer must have a "learning_rate" attribute.')
            # Get the current learning rate from model's optimizer.
            lr = self.model.optimizer.learning_rate
            # Call schedule function to get the scheduled learning rate.
            scheduled_lr = self.schedule(epoch, lr)
            # Set the value back to the optimizer before this epoch starts
            self.model.optimizer.learning_rate = scheduled_lr
            print(f"\nEpoch {epoch}: Learning rate is {float(np.array(scheduled_lr))}.")

    LR_SCHEDULE = [
        # (epoch to start, learning rate) tuples
        (1, 0.05),
        (2, 0.01),
    ]

    def lr_schedule(epoch, lr):
        """Helper function to retrieve the scheduled learning rate based on epoch."""
        if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
            return lr
        for i in range(len(LR_SCHEDULE)):
            if epoch == LR_SCHEDULE[i][0]:
                return LR_SCHEDULE[i][1]
        return lr

    x, y = regression()
    model = linear_model(0.1)
    start = model.get_weights()
    model.fit(x, y, batch_size=4, epochs=4, shuffle=False, verbose=0,
              callbacks=[CustomLearningRateScheduler(lr_schedule)])
    assert "Epoch 1: Learning rate is 0.05." in capsys.readouterr().out
    rates = [0.1] * 3 + [0.05] * 3 + [0.01] * 6
    kernel, bias = sgd_reference(start, np.concatenate([x] * 4), np.concatenate([y] * 4), 4, rates)
    np.testing.assert_allclose(model.get_weights()[0], kernel, rtol=1e-4, atol=1e-6)
    assert model.optimizer.learning_rate == 0.01 and model.learning_rate == 0.01


def test_optimizer_learning_rate_assignment_rules():
    optimizer = optimizers.Adam(0.01)
    optimizer.learning_rate = 0.02             # not compiled: a setting only
    model = keras.Sequential([layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    optimizer.learning_rate = 0.03             # compiled, not built: used at build
    model.build((None, 3))
    assert model.learning_rate == 0.03
    optimizer.learning_rate = 0.04             # built: libnn's rate at once
    assert model.learning_rate == 0.04
    with pytest.raises(keras.InvalidArgumentError, match="learning_rate must be a finite number"):
        optimizer.learning_rate = -1.0
    assert optimizer.learning_rate == 0.04 and model.learning_rate == 0.04
    schedule = optimizers.schedules.ExponentialDecay(0.5, 10, 0.5)
    optimizer.learning_rate = schedule         # a schedule may replace a number, as Keras
    assert model.learning_rate == 0.5
    with pytest.raises(TypeError, match="cannot be set to a number"):
        optimizer.learning_rate = 0.1          # ... not the other way round (Keras's TypeError)
    epoch_model = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    epoch_model.compile(optimizer=optimizers.SGD(keras.schedules.StepDecay(0.1, 2)), loss="mse")
    with pytest.raises(TypeError, match="compile again"):
        epoch_model.optimizer.learning_rate = 0.5


# ==========================================================================
# Metric objects with Keras's names
# ==========================================================================

# [TRAIN] "The compile() method: specifying a loss, metrics, and an optimizer"
def test_metric_objects_with_keras_names():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(90, 4)).astype(np.float32)
    labels = rng.integers(0, 5, size=90)
    model = keras.Sequential([layers.Dense(5, activation="softmax", input_shape=(4,))])
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(),
                 keras.metrics.SparseTopKCategoricalAccuracy(k=2)],
    )
    result = model.evaluate(x, labels, return_dict=True)
    p = model.predict(x)
    top2 = np.argsort(-p, axis=1)[:, :2]
    assert result["sparse_categorical_accuracy"] == pytest.approx(
        np.mean(p.argmax(axis=1) == labels))
    assert result["top_k_accuracy"] == pytest.approx(np.mean((top2 == labels[:, None]).any(axis=1)))
    # the string names give the same metrics
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy"])
    assert model.metrics_names == ["loss", "sparse_categorical_accuracy", "top_k_accuracy"]
    onehot = keras.utils.to_categorical(labels, 5)
    model.compile(optimizer="adam", loss="categorical_crossentropy",
                  metrics=[metrics.TopKCategoricalAccuracy(k=2), metrics.CategoricalAccuracy()])
    result = model.evaluate(x, onehot, return_dict=True)
    assert result["top_k_accuracy"] == pytest.approx(np.mean((top2 == labels[:, None]).any(axis=1)))
    assert result["categorical_accuracy"] == pytest.approx(np.mean(p.argmax(axis=1) == labels))


def test_binary_metric_objects_match_their_strings():
    x, y = data(rows=80)
    model = keras.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    objects = [metrics.BinaryAccuracy(), metrics.Precision(thresholds=0.3), metrics.Recall(),
               metrics.F1Score(), metrics.MeanAbsoluteError()]
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=objects)
    by_object = model.evaluate(x, y, return_dict=True)
    p = model.predict(x)[:, 0]
    decided = p > 0.3
    assert by_object["precision"] == pytest.approx(
        np.sum(decided & (y[:, 0] > 0.5)) / max(np.sum(decided), 1))
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[
        "binary_accuracy", metrics.Precision(threshold=0.3), "recall", "f1_score", "mae"])
    assert model.evaluate(x, y, return_dict=True) == pytest.approx(by_object)
    assert metrics.Precision(thresholds=[0.3]) == metrics.Precision(threshold=0.3)
    assert metrics.TopKCategoricalAccuracy(k=3) == metrics.TopKAccuracy(k=3)


def test_metric_arguments_libnn_cannot_honour():
    with pytest.raises(ValueError, match="logs this metric as 'binary_accuracy'"):
        metrics.BinaryAccuracy(name="acc")
    assert metrics.BinaryAccuracy(name="binary_accuracy").threshold == 0.5
    with pytest.raises(ValueError, match="use nn.metrics.F1Macro"):
        metrics.F1Score(average="macro")
    with pytest.raises(ValueError, match="use nn.metrics.F1Macro"):
        metrics.F1Score("macro")                     # Keras's first argument is average
    assert metrics.F1Score(0.3).threshold == 0.3     # libnn 0.7's positional threshold
    assert metrics.F1Score(threshold=None).threshold == 0.5
    # Keras's default names of the top-k metrics are accepted (logged as libnn's)
    assert metrics.TopKCategoricalAccuracy(k=2, name="top_k_categorical_accuracy").name == "top_k_accuracy"
    with pytest.raises(ValueError, match="top_k and class_id are not supported"):
        metrics.Precision(top_k=1)
    with pytest.raises(ValueError, match="one threshold per metric"):
        metrics.Recall(thresholds=[0.3, 0.6])


# Review findings: a per-step schedule with a model built by its first
# batch (a generator fit), and a schedule replaced from a callback.
def test_schedule_on_a_model_built_by_a_generator_fit():
    schedules = optimizers.schedules
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3)).astype(np.float32)
    y = rng.normal(size=(20, 1)).astype(np.float32)

    def batches():
        for i in range(0, 20, 4):
            yield x[i:i + 4], y[i:i + 4]

    model = keras.Sequential([layers.Dense(4, activation="relu"), layers.Dense(1)])
    schedule = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    model.compile(optimizer=optimizers.SGD(learning_rate=schedule), loss="mse")
    seen = []
    model.fit(batches(), epochs=1, verbose=0,
              callbacks=[callbacks.LambdaCallback(
                  on_train_batch_end=lambda b, logs: seen.append(model.learning_rate))])
    assert model.optimizer.iterations == 5
    # at the end of batch b the next step's rate is set: schedule(b + 1)
    np.testing.assert_allclose(seen, [0.1 * 0.5 ** (t / 10) for t in range(1, 6)], rtol=1e-12)
    # after the fit: the rate of the next step, schedule(iterations)
    assert model.learning_rate == pytest.approx(0.1 * 0.5 ** 0.5, rel=1e-12)


def test_schedule_replaced_during_fit_takes_over_at_the_next_step():
    schedules = optimizers.schedules
    x = np.linspace(-1, 1, 24, dtype=np.float32).reshape(12, 2)
    y = x.sum(axis=1, keepdims=True)
    model = keras.Sequential([layers.Dense(1, input_dim=2)], seed=1)
    model.compile(optimizer=optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.1, 1, 0.5)),
                  loss="mse")
    rates = []

    def swap(epoch, logs):
        if epoch == 0:
            model.optimizer.learning_rate = schedules.PiecewiseConstantDecay([0], [0.3, 0.2])

    model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0,
              callbacks=[callbacks.LambdaCallback(
                  on_epoch_end=swap,
                  on_train_batch_begin=lambda b, logs: rates.append(model.learning_rate))])
    np.testing.assert_allclose(rates, [0.1, 0.05, 0.025, 0.2, 0.2, 0.2], rtol=1e-12)
