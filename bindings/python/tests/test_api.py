"""The Keras-like API, used the way a user writes it."""

import gc
import threading
import weakref

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

import nn
from nn.layers import Dense
from nn.utils import to_categorical


# --------------------------------------------------------------------------
# The Keras tutorial, as acceptance test
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tutorial():
    X, y = make_classification(n_samples=200, n_features=20, n_classes=2, random_state=42)
    x_train, x_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
    y_train_1h = to_categorical(y_train)
    y_test_1h = to_categorical(y_test)
    model = nn.Sequential([
        Dense(10, input_dim=20, activation="relu"),
        Dense(2, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x_train, y_train_1h, epochs=100, batch_size=10,
                        validation_data=(x_test, y_test_1h), verbose=0)
    return dict(model=model, history=history, x_train=x_train, y_train=y_train,
                x_test=x_test, y_test=y_test, y_train_1h=y_train_1h, y_test_1h=y_test_1h)


def test_tutorial_learns(tutorial):
    h = tutorial["history"].history
    assert h["loss"][-1] < h["loss"][0]
    assert h["accuracy"][-1] >= 0.93
    assert h["val_accuracy"][-1] >= 0.6


def test_tutorial_history(tutorial):
    history = tutorial["history"]
    assert isinstance(history, nn.History)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 100 for v in history.history.values())
    assert history.epoch == list(range(100))
    assert history.params["epochs"] == 100
    assert history.params["steps"] == 16  # 160 samples / batch 10
    assert tutorial["model"].history is history
    assert all(np.isfinite(v) for vs in history.history.values() for v in vs)
    assert all(0.0 <= a <= 1.0 for a in history.history["accuracy"])


def test_tutorial_predict_agrees_with_evaluate(tutorial):
    model = tutorial["model"]
    probs = model.predict(tutorial["x_test"])
    assert probs.dtype == np.float32 and probs.shape == (40, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    accuracy = np.mean(probs.argmax(axis=1) == tutorial["y_test"])
    loss, acc = model.evaluate(tutorial["x_test"], tutorial["y_test_1h"])
    assert acc == pytest.approx(accuracy, abs=1e-9)
    eps = 1e-7
    ref_loss = -np.mean(np.log(np.clip(probs[np.arange(40), tutorial["y_test"]], eps, 1)))
    assert loss == pytest.approx(ref_loss, rel=1e-3, abs=1e-4)
    # the last val_ entries of the history are the same evaluation
    h = tutorial["history"].history
    assert h["val_loss"][-1] == pytest.approx(loss, rel=1e-5, abs=1e-6)
    assert h["val_accuracy"][-1] == pytest.approx(acc, abs=1e-9)


def test_tutorial_forward_matches_numpy(tutorial):
    model = tutorial["model"]
    w0, b0, w1, b1 = model.get_weights()
    x = tutorial["x_test"].astype(np.float64)
    hidden = np.maximum(x @ w0 + b0, 0)
    logits = hidden @ w1 + b1
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    ref = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict(tutorial["x_test"]), ref, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------
# Building, summary, weights
# --------------------------------------------------------------------------

def small_model(seed=0, **compile_kwargs):
    model = nn.Sequential([Dense(4, input_dim=3, activation="tanh"),
                           Dense(2, activation="softmax")], seed=seed)
    if compile_kwargs:
        model.compile(**compile_kwargs)
    return model


def test_shapes_layers_and_count_params():
    model = small_model()
    assert model.built
    assert model.input_shape == (None, 3)
    assert model.output_shape == (None, 2)
    assert model.count_params() == 3 * 4 + 4 + 4 * 2 + 2
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    assert [layer.units for layer in model.layers] == [4, 2]
    assert [layer.activation for layer in model.layers] == ["tanh", "softmax"]
    assert model.layers[1].input_shape == (None, 4)
    assert model.layers[0].count_params() == 16


def test_summary_text():
    model = small_model()
    lines = []
    model.summary(print_fn=lines.append)
    assert len(lines) == 1
    text = lines[0]
    rows = [line.split() for line in text.splitlines()]
    assert ["dense", "(Dense,", "tanh)", "(None,", "4)", "16"] in rows
    assert ["dense_1", "(Dense,", "softmax)", "(None,", "2)", "10"] in rows
    assert "Total params: 26" in text


def test_summary_prints(capsys):
    small_model().summary()
    out = capsys.readouterr().out
    assert "Total params: 26" in out


def test_get_weights_shapes_and_glorot_range():
    model = small_model()
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(3, 4), (4,), (4, 2), (2,)]
    assert all(w.dtype == np.float32 for w in weights)
    limit = np.sqrt(6.0 / (3 + 4))
    assert np.all(np.abs(weights[0]) <= limit) and np.any(weights[0] != 0)
    assert np.all(weights[1] == 0)  # bias_initializer zeros


def test_set_weights_round_trip():
    model = small_model()
    rng = np.random.default_rng(3)
    new = [rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()]
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    # get_weights returns copies: changing them does not change the model
    copy = model.get_weights()
    copy[0][:] = 123.0
    assert not np.any(model.get_weights()[0] == 123.0)
    # float64 and non-contiguous input are converted
    model.set_weights([np.asfortranarray(w.astype(np.float64)) for w in new])
    np.testing.assert_array_equal(model.get_weights()[0], new[0])


def test_layer_get_set_weights():
    model = small_model()
    kernel, bias = model.layers[1].get_weights()
    assert kernel.shape == (4, 2) and bias.shape == (2,)
    model.layers[1].set_weights([np.ones((4, 2)), np.full(2, 0.5)])
    np.testing.assert_array_equal(model.get_weights()[2], np.ones((4, 2), np.float32))
    np.testing.assert_array_equal(model.get_weights()[3], np.full(2, 0.5, np.float32))


def test_initializers():
    model = nn.Sequential([Dense(5, input_dim=4, kernel_initializer="ones",
                                 bias_initializer="ones"),
                           Dense(3, kernel_initializer="zeros"),
                           Dense(2, kernel_initializer="he_uniform")])
    w = model.get_weights()
    assert np.all(w[0] == 1) and np.all(w[1] == 1)
    assert np.all(w[2] == 0) and np.all(w[3] == 0)
    assert np.all(np.abs(w[4]) <= np.sqrt(6.0 / 3)) and np.any(w[4] != 0)


def test_input_layer_and_lazy_build():
    a = nn.Sequential([nn.Input(shape=(3,)), Dense(2)])
    assert a.built and a.input_shape == (None, 3)
    b = nn.Sequential(seed=5)
    b.add(Dense(4, activation="relu"))
    b.add(Dense(1))
    assert not b.built
    assert b.output_shape == (None, 1)
    out = b.predict(np.zeros((2, 6)))  # builds for 6 inputs
    assert b.built and b.input_shape == (None, 6) and out.shape == (2, 1)
    assert b.count_params() == 6 * 4 + 4 + 4 + 1
    c = nn.Sequential([Dense(3, input_shape=(7,))])
    assert c.input_shape == (None, 7)


def test_add_after_build_extends_the_c_model():
    model = nn.Sequential([Dense(3, input_dim=2)])
    model.add(Dense(5, activation="sigmoid"))
    assert model.output_shape == (None, 5)
    assert model.predict(np.zeros((1, 2))).shape == (1, 5)
    assert model.count_params() == 2 * 3 + 3 + 3 * 5 + 5


def test_determinism_same_seed_same_training():
    X, y = make_classification(n_samples=60, n_features=5, random_state=0)
    results = []
    for _ in range(2):
        model = nn.Sequential([Dense(8, input_dim=5, activation="relu"),
                               Dense(1, activation="sigmoid")], seed=123)
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        h = model.fit(X, y, epochs=5, batch_size=8, verbose=0)
        results.append((model.get_weights(), h.history["loss"]))
    for a, b in zip(results[0][0], results[1][0]):
        np.testing.assert_array_equal(a, b)
    assert results[0][1] == results[1][1]
    other = nn.Sequential([Dense(8, input_dim=5, activation="relu"),
                           Dense(1, activation="sigmoid")], seed=124)
    assert not np.array_equal(other.get_weights()[0], results[0][0][0])


def test_default_seed_is_fixed():
    a = nn.Sequential([Dense(3, input_dim=2)])
    b = nn.Sequential([Dense(3, input_dim=2)])
    np.testing.assert_array_equal(a.get_weights()[0], b.get_weights()[0])
    assert a.seed == 0


def test_fit_seed_controls_shuffling():
    X, y = make_classification(n_samples=40, n_features=4, random_state=1)

    def run(seed):
        model = nn.Sequential([Dense(1, input_dim=4, activation="sigmoid")], seed=9)
        model.compile(optimizer=nn.optimizers.SGD(0.1), loss="binary_crossentropy")
        model.fit(X, y, epochs=2, batch_size=4, seed=seed, verbose=0)
        return model.get_weights()[0]

    np.testing.assert_array_equal(run(11), run(11))
    assert not np.array_equal(run(11), run(12))


# --------------------------------------------------------------------------
# evaluate / predict forms
# --------------------------------------------------------------------------

def test_evaluate_forms():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3)).astype(np.float32)
    labels = rng.integers(0, 2, size=20)
    y = to_categorical(labels, 2)
    model = small_model(optimizer="sgd", loss="categorical_crossentropy")
    loss = model.evaluate(x, y)
    assert isinstance(loss, float) and loss > 0
    assert model.evaluate(x, y, return_dict=True) == {"loss": loss}
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    assert model.metrics_names == ["loss", "accuracy"]
    result = model.evaluate(x, y)
    assert isinstance(result, list) and len(result) == 2
    assert result[0] == pytest.approx(loss, rel=1e-6)
    acc = np.mean(model.predict(x).argmax(axis=1) == labels)
    assert result[1] == pytest.approx(acc)
    d = model.evaluate(x, y, return_dict=True, batch_size=4)
    assert d == {"loss": result[0], "accuracy": result[1]}
    # recompiling without metrics drops them again
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert model.evaluate(x, y) == pytest.approx(loss, rel=1e-6)


def test_evaluate_verbose_prints(capsys):
    model = small_model(optimizer="sgd", loss="mse", metrics=["acc"])
    model.evaluate(np.zeros((3, 3)), np.zeros((3, 2)), verbose=1)
    out = capsys.readouterr().out
    assert "loss:" in out and "accuracy:" in out


def test_predict_inputs_are_not_copied_or_modified():
    model = small_model()
    x = np.ascontiguousarray(np.random.default_rng(1).normal(size=(5, 3)), dtype=np.float32)
    before = x.copy()
    a = model.predict(x)
    np.testing.assert_array_equal(x, before)
    b = model.predict(x.astype(np.float64))       # converted once
    c = model.predict(np.asfortranarray(x))        # converted once
    d = model.predict(x.tolist())                  # lists work too
    for other in (b, c, d):
        np.testing.assert_array_equal(a, other)
    assert model(x).shape == (5, 2)


def test_sparse_labels_and_1d_targets():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(30, 3)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    model = nn.Sequential([Dense(3, input_dim=3, activation="softmax")])
    model.compile(optimizer=nn.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    h = model.fit(x, labels, epochs=30, batch_size=10, verbose=0)   # int, 1-D labels
    assert h.history["loss"][-1] < h.history["loss"][0]
    loss_1d = model.evaluate(x, labels)
    loss_col = model.evaluate(x, labels.reshape(-1, 1).astype(np.float32))
    assert loss_1d == loss_col


# --------------------------------------------------------------------------
# fit: verbose, callbacks, validation
# --------------------------------------------------------------------------

def xor_data():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    return x, y


def test_xor_learns():
    x, y = xor_data()
    model = nn.Sequential([Dense(8, input_dim=2, activation="tanh"),
                           Dense(1, activation="sigmoid")], seed=1)
    model.compile(optimizer=nn.optimizers.Adam(learning_rate=0.05),
                  loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=300, batch_size=4, verbose=0)
    pred = model.predict(x)
    assert np.array_equal((pred > 0.5).astype(np.float32), y), pred
    assert history.history["accuracy"][-1] == 1.0
    assert history.history["loss"][-1] < 0.1


def test_verbose_lines(capsys):
    x, y = xor_data()
    model = nn.Sequential([Dense(2, input_dim=2, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="mse", metrics=["accuracy"])
    model.fit(x, np.hstack([y, 1 - y]), epochs=3, batch_size=2, verbose=1,
              validation_data=(x, np.hstack([y, 1 - y])))
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines):
        assert line.startswith(f"Epoch {i + 1}/3 - ")
        parts = line.split(" - ")
        assert parts[1].endswith("s")
        assert [p.split(":")[0] for p in parts[2:]] == ["loss", "accuracy", "val_loss",
                                                      "val_accuracy"]
    model.fit(x, np.hstack([y, 1 - y]), epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


def test_callables_and_callback_objects():
    x, y = xor_data()
    model = nn.Sequential([Dense(1, input_dim=2, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    seen = []
    events = []

    class Recorder(nn.callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"begin {epoch}")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"end {epoch}")
            assert self.model is model
            assert self.params["epochs"] == 3

        def on_train_end(self, logs=None):
            events.append("train_end")

    h = model.fit(x, y, epochs=3, verbose=0,
                  callbacks=[lambda epoch, logs: seen.append((epoch, dict(logs))), Recorder()])
    assert [e for e, _ in seen] == [0, 1, 2]
    assert [logs["loss"] for _, logs in seen] == h.history["loss"]
    assert events == ["train_begin", "begin 0", "end 0", "begin 1", "end 1", "begin 2",
                      "end 2", "train_end"]


def test_stop_training():
    x, y = xor_data()
    model = nn.Sequential([Dense(1, input_dim=2, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")

    def stop_at_2(epoch, logs):
        if epoch == 2:
            model.stop_training = True

    h = model.fit(x, y, epochs=50, verbose=0, callbacks=[stop_at_2])
    assert h.epoch == [0, 1, 2]
    assert len(h.history["loss"]) == 3
    # the next fit starts afresh
    h2 = model.fit(x, y, epochs=4, verbose=0)
    assert h2.epoch == [0, 1, 2, 3]


def test_early_stopping():
    x, y = xor_data()
    model = nn.Sequential([Dense(1, input_dim=2, activation="sigmoid")])
    model.compile(optimizer=nn.optimizers.SGD(1e-9), loss="binary_crossentropy")
    stopper = nn.callbacks.EarlyStopping(monitor="loss", min_delta=1e-3, patience=2)
    h = model.fit(x, y, epochs=100, verbose=0, callbacks=[stopper])
    # Keras's rule (libnn runs it): best at epoch 0, then epochs 1 and 2
    # without improvement; wait reaches patience=2 at epoch 2 and training stops
    assert len(h.epoch) == 3
    assert stopper.stopped_epoch == 2
    assert stopper.best == h.history["loss"][0] and stopper.best_epoch == 0


def test_exception_in_callback_stops_and_is_reraised():
    x, y = xor_data()
    model = nn.Sequential([Dense(1, input_dim=2, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    calls = []

    class Boom(Exception):
        pass

    def explode(epoch, logs):
        calls.append(epoch)
        if epoch == 1:
            raise Boom("callback failed")

    with pytest.raises(Boom, match="callback failed"):
        model.fit(x, y, epochs=10, verbose=0, callbacks=[explode])
    assert calls == [0, 1]
    assert len(model.history.epoch) == 2
    # the model is still usable
    assert model.predict(x).shape == (4, 1)


def test_callback_may_read_and_set_weights_but_not_nest_fit(predict_path):
    # nn.h: during the epoch callback the model may be read and its weights
    # replaced; training resumes from the weights it then holds.
    x, y = xor_data()
    model = nn.Sequential([Dense(1, input_dim=2, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    seen = []

    def reset(epoch, logs):
        seen.append(model.predict(x).copy())
        model.set_weights([np.zeros((2, 1), np.float32), np.zeros(1, np.float32)])

    model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0, callbacks=[reset])
    # after each reset, one full-batch SGD step from zero weights gives the
    # same prediction again
    np.testing.assert_array_equal(seen[1], seen[2])
    np.testing.assert_array_equal(model.get_weights()[0], np.zeros((2, 1), np.float32))

    def nested(epoch, logs):
        model.fit(x, y, epochs=1, verbose=0)

    with pytest.raises(nn.InvalidStateError, match="fit"):
        model.fit(x, y, epochs=3, verbose=0, callbacks=[nested])

    def close(epoch, logs):
        model.close()

    with pytest.raises(nn.InvalidStateError, match="close"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[close])
    assert model.get_weights()[0].shape == (2, 1)


def test_validation_split_takes_the_last_fraction():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(50, 3)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = nn.Sequential([Dense(1, input_dim=3, activation="sigmoid")], seed=2)
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=2, batch_size=8, validation_split=0.2, verbose=0)
    assert h.params["samples"] == 40
    val = model.evaluate(x[40:], y[40:], return_dict=True)
    assert h.history["val_loss"][-1] == pytest.approx(val["loss"], rel=1e-5)
    assert h.history["val_accuracy"][-1] == pytest.approx(val["accuracy"])
    other = model.evaluate(x[:10], y[:10], return_dict=True)
    assert other["loss"] != pytest.approx(val["loss"], rel=1e-5)


def test_epochs_zero_trains_nothing():
    x, y = xor_data()
    model = nn.Sequential([Dense(1, input_dim=2, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    before = model.get_weights()
    h = model.fit(x, y, epochs=0, verbose=0)
    assert h.epoch == [] and h.history == {}
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------
# Life cycle and threads
# --------------------------------------------------------------------------

def test_close_and_context_manager():
    with small_model() as model:
        assert model.predict(np.zeros((1, 3))).shape == (1, 2)
    assert model.closed
    with pytest.raises(nn.InvalidStateError, match="closed"):
        model.predict(np.zeros((1, 3)))
    model.close()  # twice is fine


def test_handle_freed_on_collection():
    model = small_model()
    finalizer = model._handle._finalizer
    assert finalizer.alive
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None
    assert not finalizer.alive  # nn_model_free ran; it cannot run again


def test_close_frees_once():
    model = small_model()
    handle = model._handle
    model.close()
    assert handle.closed and not handle._finalizer.alive
    handle.close()
    assert handle._pointer is None


def test_threads_share_one_model():
    model = small_model()
    x = np.random.default_rng(2).normal(size=(64, 3)).astype(np.float32)
    expected = model.predict(x)
    errors = []

    def worker():
        try:
            for _ in range(200):
                np.testing.assert_array_equal(model.predict(x), expected)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_threads_train_distinct_models_in_parallel():
    X, y = make_classification(n_samples=80, n_features=6, random_state=3)
    results = {}

    def train(i):
        model = nn.Sequential([Dense(6, input_dim=6, activation="relu"),
                               Dense(1, activation="sigmoid")], seed=42)
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(X, y, epochs=10, batch_size=8, verbose=0)
        results[i] = model.get_weights()

    threads = [threading.Thread(target=train, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3
    for i in (1, 2):
        for a, b in zip(results[0], results[i]):
            np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------
# Utilities and module
# --------------------------------------------------------------------------

def test_to_categorical():
    out = to_categorical([0, 2, 1, 2])
    np.testing.assert_array_equal(out, np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]],
                                                dtype=np.float32))
    assert out.dtype == np.float32
    assert to_categorical(np.array([[1], [0]]), num_classes=4).shape == (2, 4)
    with pytest.raises(ValueError):
        to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError):
        to_categorical([-1, 0])
    with pytest.raises(ValueError):
        to_categorical([0.5, 1.0])


def test_version():
    assert nn.__version__ == nn.__header_version__ == "0.8.0"
    assert nn.library_path.endswith(nn._lib.LIBRARY_NAME)


def test_exception_hierarchy():
    assert issubclass(nn.InvalidArgumentError, nn.Error)
    assert issubclass(nn.InvalidArgumentError, ValueError)
    assert issubclass(nn.InvalidStateError, RuntimeError)
    assert issubclass(nn.OutOfMemoryError, MemoryError)


def test_float32_contiguous_arrays_are_not_copied():
    from nn.models import _as_matrix, _as_targets
    x = np.zeros((4, 3), dtype=np.float32)
    assert _as_matrix(x, "x") is x
    assert _as_matrix(x[1:3], "x").base is x          # a row slice is still a view
    converted = _as_matrix(x.astype(np.float64), "x")
    assert converted.dtype == np.float32 and converted.flags.c_contiguous
    assert _as_matrix(np.asfortranarray(x), "x").flags.c_contiguous
    labels = np.array([0, 1, 2])
    col = _as_targets(labels, "y")
    assert col.shape == (3, 1) and col.dtype == np.float32


def test_c_model_agrees_with_python_layers():
    import ctypes
    from nn import _lib
    model = nn.Sequential([Dense(4, input_dim=3, activation="relu"), Dense(3),
                           Dense(2, activation="sigmoid")])
    assert model._handle.get_size(_lib.nn_model_layer_count) == 3
    for i, layer in enumerate(model.layers):
        units, act = ctypes.c_size_t(), ctypes.c_int()
        model._handle.call(_lib.nn_model_layer_info, i, ctypes.byref(units), ctypes.byref(act))
        assert units.value == layer.units
        assert nn.layers.ACTIVATION_NAMES[act.value] == layer.activation
    assert [layer.activation for layer in model.layers] == ["relu", "linear", "sigmoid"]


def test_threads_and_cpu_level():
    saved = nn.get_num_threads()
    try:
        nn.set_num_threads(2)
        assert nn.get_num_threads() == 2
        x = np.random.default_rng(0).normal(size=(256, 64)).astype(np.float32)
        y = (np.arange(256) % 4).astype(np.float32)
        results = []
        for threads in (1, 2):
            nn.set_num_threads(threads)
            model = nn.Sequential([Dense(256, input_dim=64, activation="relu"), Dense(4, activation="softmax")],
                                  seed=3)
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
            model.fit(x, y, epochs=2, batch_size=128, verbose=0)
            results.append(model.get_weights())
        for a, b in zip(*results):
            np.testing.assert_array_equal(a, b)   # bit-identical for any thread count
        with pytest.raises(ValueError, match="256"):
            nn.set_num_threads(1000)
        with pytest.raises(ValueError):
            nn.set_num_threads(-1)
    finally:
        nn.set_num_threads(saved)
    assert nn.cpu_level() in ("baseline", "avx2", "avx512")
