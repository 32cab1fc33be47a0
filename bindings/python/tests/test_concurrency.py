"""One model shared by threads (issue 13, item 1; nn.h "Threading").

predict and evaluate take no lock and release the GIL, so threads run them
in parallel and get the serial results; a call that changes the model
waits for running predictions instead of failing; a prediction made while
another thread trains the model waits for the fit; libnn's NN_ERROR_BUSY
is nn.BusyError where it reaches Python at all."""

import threading
import time

import numpy as np
import pytest

import nn
from nn import _lib
from nn.layers import BatchNormalization, Dense


@pytest.fixture(autouse=True)
def _both_predict_paths(predict_path):
    """Every test here runs with predict's compiled helper and without it."""


def trained_model(seed=0):
    model = nn.Sequential([Dense(32, input_dim=8, activation="relu"), BatchNormalization(),
                           Dense(16, activation="tanh"), Dense(3, activation="softmax")], seed=seed)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    x, y = data()
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    return model


def data(rows=300, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32) + (x[:, 1] > 0.5)
    return x, y


def run_threads(count, target):
    errors = []

    def guarded(i):
        try:
            target(i)
        except BaseException as exc:  # reported below
            errors.append(exc)
    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_threads_predict_and_evaluate_the_serial_results():
    model = trained_model()
    x, y = data()
    slices = [(i * 7 % 250, 1 if i % 3 == 0 else 2 + i % 40) for i in range(400)]
    expected = [model.predict(x[a:a + n]) for a, n in slices]
    evaluation = model.evaluate(x, y)

    def work(t):
        for i in range(t, len(slices), 4):
            a, n = slices[i]
            np.testing.assert_array_equal(model.predict(x[a:a + n]), expected[i])
            if i % 25 == 0:
                assert model.evaluate(x, y) == evaluation
    run_threads(4, work)


def test_set_weights_waits_for_running_predictions():
    """A thread predicts without pause; the main thread swaps the weights
    back and forth: every swap happens (it waits for the predictions that
    are running, and new ones wait for it), and every prediction is the
    output of one weight set or the other, never of a mix."""
    model = trained_model()
    x, _ = data(64)
    first = model.get_weights()
    second = [-w if w.ndim == 2 else w for w in first]
    with_first = model.predict(x)
    model.set_weights(second)
    with_second = model.predict(x)
    assert not np.array_equal(with_first, with_second)
    stop = threading.Event()
    seen = {"first": 0, "second": 0, "other": 0}

    def predict_until_stopped():
        while not stop.is_set():
            out = model.predict(x)
            key = ("first" if np.array_equal(out, with_first) else
                   "second" if np.array_equal(out, with_second) else "other")
            seen[key] += 1
    thread = threading.Thread(target=predict_until_stopped)
    thread.start()
    try:
        for i in range(200):
            model.set_weights(first if i % 2 == 0 else second)
    finally:
        stop.set()
        thread.join()
    assert seen["other"] == 0
    assert seen["first"] + seen["second"] > 0


def test_a_prediction_during_another_threads_fit_waits_for_it():
    """From inside a fit (its epoch callback), another thread predicts: libnn
    answers busy, so the prediction waits for the fit and then gives the
    trained model's output (not an error, not a half-trained one)."""
    model = trained_model()
    x, y = data()
    results = {}

    def predict_elsewhere():
        results["out"] = model.predict(x[:5])

    threads = []

    def on_epoch_end(epoch, logs):
        if epoch == 0:
            t = threading.Thread(target=predict_elsewhere)
            t.start()
            threads.append(t)
            time.sleep(0.05)           # the thread reaches libnn while the fit runs
            assert "out" not in results  # it waits
    model.fit(x, y, epochs=3, batch_size=32, verbose=0,
              callbacks=[nn.callbacks.LambdaCallback(on_epoch_end=on_epoch_end)])
    threads[0].join()
    np.testing.assert_array_equal(results["out"], model.predict(x[:5]))


def test_busy_is_an_invalid_state_error_with_libnns_message():
    """NN_ERROR_BUSY, raised when a call may not wait: nn.BusyError, an
    InvalidStateError carrying libnn's message."""
    model = trained_model()
    x, y = data()
    caught = {}

    def from_another_thread():
        # The raw call, as a C program makes it: libnn refuses it at once.
        status = _lib.nn_model_predict(model._handle._require(), nn.models._ptr(x[:1]), 1, 8,
                                       nn.models._ptr(np.empty((1, 3), np.float32)), 3)
        caught["status"] = status
        caught["error"] = nn._handle.error_for(status, _lib.nn_last_error().decode())

    def on_epoch_end(epoch, logs):
        if epoch == 0:
            t = threading.Thread(target=from_another_thread)
            t.start()
            t.join()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[nn.callbacks.LambdaCallback(on_epoch_end=on_epoch_end)])
    assert caught["status"] == _lib.NN_ERROR_BUSY
    assert isinstance(caught["error"], nn.BusyError)
    assert isinstance(caught["error"], nn.InvalidStateError)
    assert "busy" in str(caught["error"]) and "another thread" in str(caught["error"])
    assert nn.BusyError.__name__ in nn.__all__


def test_close_while_other_threads_predict():
    """close() while threads predict: each of their calls either runs or
    raises the closed-model error; none crashes."""
    model = trained_model()
    x, _ = data(16)
    outcomes = []
    started = threading.Barrier(3)

    def work(i):
        started.wait()
        for _ in range(2000):
            try:
                model.predict(x)
            except nn.InvalidStateError as exc:
                assert "closed" in str(exc)
                outcomes.append("closed")
                return
        outcomes.append("ran")
    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    started.wait()
    time.sleep(0.002)
    model.close()
    for t in threads:
        t.join()
    assert len(outcomes) == 2
    with pytest.raises(nn.InvalidStateError, match="closed"):
        model.predict(x)
