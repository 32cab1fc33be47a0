"""The lean Python paths of issue 12: predict on a float32 matrix goes
straight to libnn, and fit without verbose output or callbacks runs every
epoch inside libnn and reads the History once at the end
(nn_model_fit_logs). Both must give exactly what the general paths give,
errors included (libnn's messages)."""

import numpy as np
import pytest

import nn
from nn import _fit


def mlp(seed=3):
    model = nn.Sequential([nn.layers.Dense(16, activation="relu", input_dim=6),
                           nn.layers.Dense(3, activation="softmax")], seed=seed)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def data(rows=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32) + (x[:, 1] > 1)
    return x, y.astype(np.float32)


# -- predict ---------------------------------------------------------------

def test_predict_fast_path_equals_the_general_path(predict_path):
    model = mlp()
    x, _ = data()
    fast = model.predict(x)                       # float32, C-contiguous: the lean path
    general = model.predict(x.astype(np.float64))  # converted first: the general path
    assert fast.dtype == np.float32 and fast.shape == (64, 3)
    assert np.array_equal(fast, general)
    assert np.array_equal(model.predict(x.tolist()), fast)
    readonly = x.copy()
    readonly.setflags(write=False)                 # from_buffer refuses it: the fallback pointer
    assert np.array_equal(model.predict(readonly), fast)
    assert np.array_equal(model.predict(np.asfortranarray(x)), fast)


@pytest.mark.parametrize("bad, match", [
    (np.zeros((2, 5), np.float32), "5"),            # wrong width: libnn's message
    (np.zeros((0, 6), np.float32), "rows"),         # no rows
    (np.full((2, 6), np.nan, np.float32), "NaN|finite"),
])
def test_predict_errors_are_the_same_on_both_paths(bad, match, predict_path):
    model = mlp()
    with pytest.raises(nn.InvalidArgumentError, match=match) as fast:
        model.predict(bad)
    with pytest.raises(nn.InvalidArgumentError) as general:
        model.predict(bad.astype(np.float64))
    assert str(fast.value) == str(general.value)


def test_predict_calls_libnn_once_without_the_lock(monkeypatch, predict_path):
    """Every direct predict, one row or many, is one call into libnn that
    releases the GIL (so that threads run it in parallel), without the
    handle's lock: the compiled helper's (nn/_speedups.c), or, without it,
    nn_model_predict_ready (a CDLL prototype with ready-made arguments);
    the same results as the general path's nn_model_predict."""
    import ctypes
    from nn import _lib, models
    assert not _lib.nn_model_predict_ready._flags_ & ctypes._FUNCFLAG_PYTHONAPI
    model = mlp()
    x, _ = data(64)
    calls = []

    def spy(owner, name, label):
        real = getattr(owner, name)
        monkeypatch.setattr(owner, name, lambda *a: calls.append(label) or real(*a))
    direct = "helper" if predict_path == "helper" else "nn_model_predict_ready"
    if predict_path == "helper":
        spy(models, "_fast_predict", "helper")
    spy(_lib, "nn_model_predict_ready", "nn_model_predict_ready")
    spy(_lib, "nn_model_predict", "nn_model_predict")

    class NoLock:
        def __enter__(self):
            raise AssertionError("predict took the handle's lock")

        def __exit__(self, *exc):
            return False
    real_lock = model._handle._lock
    model._handle._lock = NoLock()
    try:
        one, many = model.predict(x[:1]), model.predict(x)
    finally:
        model._handle._lock = real_lock
    assert calls == [direct] * 2
    general = model.predict(x.astype(np.float64))
    assert calls[-1] == "nn_model_predict"
    assert np.array_equal(many, general) and np.array_equal(one, general[:1])
    model.add(nn.layers.Dense(2))                 # new widths: new ready-made sizes
    assert model.predict(x[:1]).shape == (1, 2)


def test_predict_on_a_closed_model(predict_path):
    model = mlp()
    x, _ = data(4)
    model.close()
    with pytest.raises(nn.InvalidStateError, match="closed"):
        model.predict(x)


# -- fit without a per-epoch callback --------------------------------------

def fit_both_ways(**kwargs):
    """(History without a callback, History with a callback that does
    nothing), from two identical models."""
    x, y = data()
    quiet, watched = mlp(), mlp()
    h1 = quiet.fit(x, y, verbose=0, **kwargs)
    h2 = watched.fit(x, y, verbose=0, callbacks=[lambda epoch, logs: None], **kwargs)
    for a, b in zip(quiet.get_weights(), watched.get_weights()):
        assert np.array_equal(a, b)
    return h1, h2


def test_history_without_callback_equals_the_callbacks():
    h1, h2 = fit_both_ways(epochs=7, batch_size=16, validation_split=0.25)
    assert h1.epoch == h2.epoch == list(range(7))
    assert h1.history == h2.history
    assert set(h1.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_early_stopping_history_without_callback():
    x, y = data()
    stop = nn.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    model = mlp()
    history = model.fit(x, y, epochs=50, verbose=0, callbacks=[stop])
    assert len(history.epoch) < 50          # libnn stopped it


def test_fit_without_callback_does_not_call_back(monkeypatch):
    calls = []
    original = _fit.EpochBridge.on_epoch_end
    monkeypatch.setattr(_fit.EpochBridge, "on_epoch_end",
                        lambda self, *args: calls.append(args[1]) or original(self, *args))
    x, y = data()
    model = mlp()
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert calls == []
    assert len(history.history["loss"]) == 5 and model.history is history
    model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[lambda e, logs: None])
    assert calls == [0, 1, 2]


def test_failed_fit_keeps_the_epochs_before_the_failure():
    """A diverging fit raises libnn's error; model.history then holds the
    epochs completed before it, as the callback path's does."""
    x, y = data()
    histories = []
    for callbacks in (None, [lambda epoch, logs: None]):
        model = nn.Sequential([nn.layers.Dense(1, input_dim=6)])
        model.compile(loss="mse", optimizer=nn.optimizers.SGD(learning_rate=2.0))
        with pytest.raises(nn.InvalidArgumentError, match="the loss became inf at epoch"):
            model.fit(x, y.reshape(-1, 1), epochs=200, batch_size=64, verbose=0, callbacks=callbacks)
        histories.append(model.history)
    quiet, watched = histories
    # (the epoch of divergence may differ between CPU levels, not between paths)
    assert quiet.epoch == watched.epoch == list(range(len(quiet.epoch)))
    assert 0 < len(quiet.epoch) < 200
    assert quiet.history == watched.history
    assert all(np.isfinite(quiet.history["loss"]))


def test_refused_fit_shows_no_older_logs():
    """A fit libnn refuses before training (batch_size 0) leaves an empty
    History, not the previous fit's epochs."""
    x, y = data()
    model = mlp()
    model.fit(x, y, epochs=3, verbose=0)
    with pytest.raises(nn.InvalidArgumentError, match="batch_size"):
        model.fit(x, y, epochs=3, batch_size=0, verbose=0)
    assert model.history.epoch == [] and model.history.history == {}


# -- evaluate --------------------------------------------------------------

def test_evaluate_names_follow_every_compile(tmp_path):
    """evaluate asks libnn for the log names once per compile (a cache on the
    handle): a new compile, a model built later and a loaded model all give
    their own names, and the values are libnn's."""
    model = mlp()
    x, y = data(32)
    first = model.evaluate(x, y, return_dict=True)
    assert list(first) == ["loss", "accuracy"]
    assert model._handle._metric_names == ["loss", "accuracy"]
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                  metrics=["accuracy", "f1_macro"])
    assert model._handle._metric_names is None       # forgotten by the compile
    second = model.evaluate(x, y, return_dict=True)
    assert list(second)[:2] == ["loss", "accuracy"] and len(second) == 3
    assert second["loss"] == first["loss"] and second["accuracy"] == first["accuracy"]
    assert model.metrics_names == list(second)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    assert model.evaluate(x, y) == first["loss"]      # no metrics: the loss alone
    path = str(tmp_path / "m.safetensors")
    mlp().save(path)
    loaded = nn.load_model(path)
    assert list(loaded.evaluate(x, y, return_dict=True)) == ["loss", "accuracy"]
