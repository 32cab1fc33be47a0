"""Inside an epoch (issue 13, item 4): Keras's progress bar, per-batch
callbacks (on_train_batch_end), and Ctrl-C during a long fit."""

import io
import math
import os
import signal
import threading
import time

import numpy as np
import pytest


import nn
from nn import _fit, _progress, callbacks
from nn.layers import Dense


def model(seed=1):
    m = nn.Sequential([Dense(8, input_dim=4, activation="relu"), Dense(2, activation="softmax")], seed=seed)
    m.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return m


def data(rows=200, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.float32)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_bar_drawing():
    assert _progress.bar(0, 10) == "[" + "." * 30 + "]"
    assert _progress.bar(312, 1875) == "[===>" + "." * 26 + "]"
    assert _progress.bar(10, 10) == "[" + "=" * 30 + "]"
    assert _progress.format_eta(4.2) == "4s" and _progress.format_eta(75) == "1:15"
    clock = iter([0.0, 0.05, 0.5, 0.55, 2.0, 3.0]).__next__
    out = Terminal()
    bar = _progress.ProgressBar(3, stream=out, clock=clock)
    bar.begin_epoch(0)                       # t = 0
    bar.batch(1, 4, {"loss": 0.5})           # t = 0.05: the first drawing
    bar.batch(2, 4, {"loss": 0.4})           # t = 0.5
    bar.batch(3, 4, {"loss": 0.3})           # t = 0.55: within 0.1 s of the last, skipped
    bar.end_epoch(4, 4, {"loss": 0.25, "val_loss": 0.3})   # t = 2.0
    text = out.getvalue()
    assert text.startswith("Epoch 1/3\n")
    assert "\r1/4 [" + "=" * 6 + ">" + "." * 23 + "] - ETA: 0s - loss: 0.5000" in text
    assert "2/4 [" in text and "3/4 [" not in text
    assert text.endswith("4/4 [==============================] - 2s 500ms/step - loss: 0.2500 - val_loss: 0.3000\n")
    assert bar.draws == 3


def test_fit_draws_the_bar_on_a_terminal_at_most_ten_times_a_second(monkeypatch):
    out = Terminal()
    monkeypatch.setattr("sys.stdout", out)
    x, y = data(160)
    slow = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: time.sleep(0.02))
    start = time.perf_counter()
    history = model().fit(x, y, epochs=2, batch_size=8, verbose=1, callbacks=[slow],
                          validation_data=(x[:20], y[:20]))
    seconds = time.perf_counter() - start
    text = out.getvalue()
    assert text.count("Epoch 1/2\n") == 1 and text.count("Epoch 2/2\n") == 1
    draws = text.count("\r")
    assert 2 * 2 <= draws <= seconds * 10 + 2 * 2     # + each epoch's final line and first drawing
    assert "ETA: " in text
    last = text.strip().split("\r")[-1]
    assert last.startswith("20/20 [==============================] - ")
    assert f"val_loss: {history.history['val_loss'][-1]:.4f}" in last


def test_verbose_without_a_terminal_prints_one_line_per_epoch_and_no_batch_callback(monkeypatch, capsys):
    x, y = data()
    m = model()
    made = []
    real = nn._lib.nn_batch_callback
    monkeypatch.setattr(nn._lib, "nn_batch_callback", lambda f: made.append(f) or real(f))
    m.fit(x, y, epochs=3, batch_size=16, verbose=1)
    out = capsys.readouterr().out
    assert out.count("\n") == 3 and "\r" not in out and out.startswith("Epoch 1/3 - ")
    m.fit(x, y, epochs=2, verbose=0, callbacks=[lambda epoch, logs: None])
    assert made == []                 # libnn called nothing per batch


def test_on_train_batch_end_gets_each_batch_and_the_running_logs():
    x, y = data(100)
    seen, epochs = [], []

    class Watch(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((batch, dict(logs)))

        def on_epoch_end(self, epoch, logs=None):
            epochs.append(dict(logs))
    model().fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[Watch()])
    assert [b for b, _ in seen] == [0, 1, 2, 3] * 2
    assert set(seen[0][1]) == {"loss", "accuracy"}
    for e in range(2):
        assert seen[4 * e + 3][1]["loss"] == pytest.approx(epochs[e]["loss"], rel=1e-12)
        assert seen[4 * e + 3][1]["accuracy"] == epochs[e]["accuracy"]


def test_keras2_on_batch_end_and_stop_training_from_a_batch():
    x, y = data(100)
    m = model()
    calls = []

    class Stopper(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            calls.append(batch)
            if len(calls) == 6:
                self.model.stop_training = True
    history = m.fit(x, y, epochs=5, batch_size=32, verbose=0, callbacks=[Stopper()])
    assert calls == [0, 1, 2, 3, 0, 1]
    assert len(history.epoch) == 2            # the second epoch ends after its batch 1


def test_an_exception_in_a_batch_callback_stops_fit_and_is_raised():
    x, y = data(100)

    def boom(batch, logs):
        if batch == 2:
            raise RuntimeError("from batch 2")
    ends = []
    m = model()
    with pytest.raises(RuntimeError, match="from batch 2"):
        m.fit(x, y, epochs=3, batch_size=16, verbose=0,
              callbacks=[callbacks.LambdaCallback(on_train_batch_end=boom,
                                                  on_epoch_end=lambda e, logs: ends.append(e))])
    assert ends == []                       # the epoch ended there: no epoch end ran
    assert m.history.epoch == []


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="POSIX signals")
def test_ctrl_c_stops_a_long_fit_within_a_batch(python_sigint):
    """SIGINT from a timer thread during a fit that would run for minutes:
    KeyboardInterrupt within a fraction of a second, a usable model, and
    the signal plumbing restored."""
    x, y = data(2000)
    m = model()
    before = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(before)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):       # (uninterrupted: some 10 s, not forever)
        m.fit(x, y, epochs=40_000, batch_size=8, verbose=0)
    elapsed = time.perf_counter() - start
    timer.join()
    assert elapsed < 3.0
    assert signal.set_wakeup_fd(-1) == before
    signal.set_wakeup_fd(before)
    assert all(np.isfinite(w).all() for w in m.get_weights())
    assert m.predict(x[:3]).shape == (3, 2)
    h = m.fit(x, y, epochs=1, verbose=0)                 # trains again
    assert len(h.epoch) == 1 and math.isfinite(h.history["loss"][0])


def test_needs_batch_callback():
    cbs = _fit.sort_callbacks([lambda e, l: None, callbacks.History()], None)
    assert not _fit.needs_batch_callback(cbs, None)
    cbs = _fit.sort_callbacks([callbacks.LambdaCallback(on_train_batch_end=print)], None)
    assert _fit.needs_batch_callback(cbs, None)
