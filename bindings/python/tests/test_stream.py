"""Data bigger than memory (issue 13, item 3): fit, evaluate and predict on
generators, iterables, Sequence-like objects (Keras's PyDataset protocol)
and numpy memmaps, one batch at a time (nn._stream)."""

import os
import resource
import shutil
import signal
import threading
import time
import warnings

import numpy as np
import pytest


import nn
from nn import callbacks
from nn.layers import BatchNormalization, Dense, Dropout


def model(seed=6, metrics=("accuracy",), **compile_kwargs):
    m = nn.Sequential([Dense(16, input_dim=6, activation="relu"), BatchNormalization(), Dropout(0.1),
                       Dense(3, activation="softmax")], seed=seed)
    m.compile(loss="sparse_categorical_crossentropy", optimizer=compile_kwargs.pop("optimizer", "adam"),
              metrics=list(metrics))
    return m


def data(rows=96, seed=2):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 6)).astype(np.float32)
    y = ((x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.7)).astype(np.float32)
    return x, y


def batches(x, y, size, w=None):
    for i in range(0, len(x), size):
        yield (x[i:i + size], y[i:i + size]) if w is None else (x[i:i + size], y[i:i + size], w[i:i + size])


class Dataset:
    """Keras's PyDataset protocol."""

    def __init__(self, x, y, size):
        self.x, self.y, self.size = x, y, size
        self.epochs_ended = 0

    def __len__(self):
        return -(-len(self.x) // self.size)

    def __getitem__(self, i):
        return self.x[i * self.size:(i + 1) * self.size], self.y[i * self.size:(i + 1) * self.size]

    def on_epoch_end(self):
        self.epochs_ended += 1


class Batches:
    """An iterable (not an iterator) of batches."""

    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter(self.items)


def same_weights(a, b):
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v)


def endless(x, y, size):
    while True:
        yield from batches(x, y, size)


def test_a_generator_trains_as_the_same_batches_given_as_arrays():
    """The acceptance: the same weights, bit for bit (shuffle off), and the
    same logs (the epoch loss as the rows-weighted mean of the batches')."""
    x, y = data()
    w = np.linspace(0.5, 1.5, len(x)).astype(np.float32)
    arrays, streamed = model(), model()
    h1 = arrays.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, sample_weight=w,
                    class_weight={0: 1.0, 2: 2.0})
    h2 = streamed.fit(endless_weighted(x, y, w, 16), steps_per_epoch=6, epochs=3, verbose=0,
                      class_weight={0: 1.0, 2: 2.0})
    same_weights(arrays, streamed)
    assert h1.epoch == h2.epoch == [0, 1, 2]
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(h2.history[key], h1.history[key], rtol=1e-12)


def endless_weighted(x, y, w, size):
    while True:
        yield from batches(x, y, size, w)


def test_sequences_iterables_and_their_epochs():
    x, y = data()
    arrays = model()
    arrays.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    ds = Dataset(x, y, 16)
    seq = model()
    seq.fit(ds, epochs=2, shuffle=False, verbose=0)
    same_weights(arrays, seq)
    assert ds.epochs_ended == 2
    listed = model()
    history = listed.fit(Batches(list(batches(x, y, 16))), epochs=2, verbose=0)   # iterated afresh each epoch
    same_weights(arrays, listed)
    assert history.epoch == [0, 1]
    # shuffle=True shuffles the batch order, reproducibly with a seed
    a, b = model(), model()
    a.fit(Dataset(x, y, 16), epochs=2, shuffle=True, seed=5, verbose=0)
    b.fit(Dataset(x, y, 16), epochs=2, shuffle=True, seed=5, verbose=0)
    same_weights(a, b)
    assert not all(np.array_equal(u, v) for u, v in zip(a.get_weights(), arrays.get_weights()))


def test_a_one_shot_generator_ends_training_when_it_runs_out():
    x, y = data()
    m = model()
    with pytest.warns(UserWarning, match="ran out of batches"):
        history = m.fit(batches(x, y, 16), epochs=3, verbose=0)
    assert history.epoch == [0]


def test_a_generator_that_raises_stops_fit_with_its_own_exception():
    x, y = data()
    problem = OSError("the disk went away")

    def failing():
        for i, batch in enumerate(batches(x, y, 16)):
            if i == 3:
                raise problem
            yield batch
    m, reference = model(), model()
    with pytest.raises(OSError) as info:
        m.fit(failing(), epochs=1, verbose=0)
    assert info.value is problem
    for xb, yb in list(batches(x, y, 16))[:3]:          # the weights of the 3 batches before
        reference.train_on_batch(xb, yb)
    same_weights(m, reference)
    assert m.predict(x[:2]).shape == (2, 3)


@pytest.mark.parametrize("bad, index, kind, match", [
    ((np.zeros((16, 5), np.float32), np.zeros(16, np.float32)), 2, ValueError, "5 columns, the model takes 6"),
    ((np.array([["a"] * 6] * 16), np.zeros(16, np.float32)), 1, ValueError, "numeric"),
    (("not", "a", "batch", "tuple"), 1, ValueError, "tuple"),
    ((np.full((16, 6), np.nan, np.float32), np.zeros(16, np.float32)), 2, nn.InvalidArgumentError, "NaN|finite"),
])
def test_a_bad_batch_mid_epoch_is_an_error_naming_it(bad, index, kind, match):
    x, y = data()
    good = list(batches(x, y, 16))
    stream = good[:index] + [bad] + good[index:]
    with pytest.raises(kind, match=match) as info:
        model().fit(iter(stream), epochs=1, verbose=0)
    assert f"batch {index}" in str(info.value)


def test_validation_evaluate_and_predict_on_streams():
    x, y = data()
    vx, vy = data(40, seed=9)
    m = model()
    history = m.fit(Dataset(x, y, 16), epochs=2, verbose=0, validation_data=Dataset(vx, vy, 8))
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["val_loss"][-1] == pytest.approx(m.evaluate(vx, vy)[0], rel=1e-6)
    h2 = model().fit(Dataset(x, y, 16), epochs=1, verbose=0, validation_data=(vx, vy))
    assert "val_loss" in h2.history
    assert m.evaluate(batches(vx, vy, 7)) == pytest.approx(m.evaluate(vx, vy), rel=1e-6)
    assert m.evaluate(Dataset(vx, vy, 8), return_dict=True).keys() == {"loss", "accuracy"}
    # (a product's last bits depend on how many rows it has: the GEMM path)
    np.testing.assert_allclose(m.predict(b[0] for b in batches(vx, vy, 7)), m.predict(vx), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(m.predict(Dataset(vx, vy, 8)), m.predict(vx), rtol=1e-5, atol=1e-7)
    assert m.predict(endless(vx, vy, 8), steps=2).shape == (16, 3)


def test_the_next_batch_is_prepared_while_libnn_trains():
    """A source and a training step of 40 ms each: overlapped, ten batches
    take about 0.45 s (serially they would take 0.8 s)."""
    x, y = data(160)
    threads = set()

    def slow():
        for batch in batches(x, y, 16):
            threads.add(threading.current_thread().name)
            time.sleep(0.04)
            yield batch
    step = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: time.sleep(0.04))
    start = time.perf_counter()
    model().fit(slow(), epochs=1, verbose=0, callbacks=[step])
    elapsed = time.perf_counter() - start
    assert threads == {"nn-batch-prefetch"}
    assert elapsed < 0.7, elapsed


def test_early_stopping_on_a_stream():
    x, y = data()
    stop = callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=100.0, restore_best_weights=True)
    m = model()
    history = m.fit(Dataset(x, y, 16), epochs=10, shuffle=False, verbose=0, callbacks=[stop])
    assert history.epoch == [0, 1] and stop.stopped_epoch == 1
    reference = model()
    for xb, yb in batches(x, y, 16):                    # the best epoch: the first
        reference.train_on_batch(xb, yb)
    same_weights(m, reference)


def test_what_a_stream_cannot_do_is_refused_clearly():
    x, y = data()
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        model().fit(Dataset(x, y, 16), callbacks=[callbacks.ReduceLROnPlateau(monitor="loss")], verbose=0)
    with pytest.raises(ValueError, match="schedule"):
        model(optimizer=nn.optimizers.SGD(learning_rate=nn.schedules.StepDecay(0.1, 2, 0.5))).fit(
            Dataset(x, y, 16), verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model().fit(Dataset(x, y, 16), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model().fit(x, y, steps_per_epoch=3, verbose=0)
    with pytest.raises(ValueError, match="y must not be given"):
        model().fit(Dataset(x, y, 16), y, verbose=0)


def test_memmaps_train_batch_by_batch(tmp_path):
    x, y = data()
    mx = np.memmap(tmp_path / "x.f32", dtype=np.float32, mode="w+", shape=x.shape)
    my = np.memmap(tmp_path / "y.f32", dtype=np.float32, mode="w+", shape=y.shape)
    mx[:], my[:] = x, y
    mx.flush(), my.flush()
    rx = np.memmap(tmp_path / "x.f32", dtype=np.float32, mode="r", shape=x.shape)
    ry = np.memmap(tmp_path / "y.f32", dtype=np.float32, mode="r", shape=y.shape)
    arrays, mapped = model(), model()
    arrays.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    mapped.fit(rx, ry, batch_size=16, epochs=2, shuffle=False, verbose=0)
    same_weights(arrays, mapped)
    shuffled = model().fit(rx, ry, batch_size=16, epochs=2, shuffle=True, seed=3, verbose=0)
    assert len(shuffled.epoch) == 2
    np.testing.assert_array_equal(mapped.predict(rx), mapped.predict(x))
    assert mapped.evaluate(rx, ry) == pytest.approx(mapped.evaluate(x, y), rel=1e-6)


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_ctrl_c_stops_a_generator_fed_fit_within_a_batch(python_sigint):
    x, y = data()
    m = model()
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        m.fit(endless(x, y, 16), steps_per_epoch=300_000, epochs=1, verbose=0)   # (uninterrupted: seconds)
    timer.join()
    assert time.perf_counter() - start < 3
    assert all(np.isfinite(w).all() for w in m.get_weights())
    m.fit(Dataset(x, y, 16), epochs=1, verbose=0)        # usable
    time.sleep(0.2)
    assert not any(t.name == "nn-batch-prefetch" and t.is_alive() for t in threading.enumerate())


def _peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


@pytest.mark.skipif(os.environ.get("NN_TEST_BIG_MEMMAP") != "1",
                    reason="opt-in (NN_TEST_BIG_MEMMAP=1): writes a 4 GB file")
def test_a_4_gb_memmap_trains_one_epoch_in_little_memory(tmp_path):
    """The acceptance: one epoch over a 4 GB float32 memmap through fit, the
    process's resident memory growing by less than 300 MB: VmRSS sampled
    every 10 ms during the fit (the peak, ru_maxrss, may already be higher
    from writing the file), and ru_maxrss's own growth."""
    rows, cols = 1 << 20, 1024                    # 4 GiB of x
    need = rows * cols * 4 + rows * 4
    if shutil.disk_usage(tmp_path).free < need + (1 << 30):
        pytest.skip(f"not enough disk in {tmp_path} for a {need / 2 ** 30:.1f} GiB dataset")
    mx = np.memmap(tmp_path / "x.f32", dtype=np.float32, mode="w+", shape=(rows, cols))
    my = np.memmap(tmp_path / "y.f32", dtype=np.float32, mode="w+", shape=(rows, 1))
    rng = np.random.default_rng(0)
    chunk = 1 << 14
    for start in range(0, rows, chunk):              # written in chunks, each page given back
        block = rng.standard_normal((chunk, cols), dtype=np.float32)
        mx[start:start + chunk] = block
        my[start:start + chunk, 0] = block[:, 0] > 0
        mx.flush()
        mx._mmap.madvise(__import__("mmap").MADV_DONTNEED)
    del mx, my
    rx = np.memmap(tmp_path / "x.f32", dtype=np.float32, mode="r", shape=(rows, cols))
    ry = np.memmap(tmp_path / "y.f32", dtype=np.float32, mode="r", shape=(rows, 1))
    m = nn.Sequential([Dense(16, input_dim=cols, activation="relu"), Dense(1, activation="sigmoid")])
    m.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    m.predict(np.zeros((1, cols), np.float32))
    before, peak_before = _rss_mb(), _peak_rss_mb()
    samples, done = [before], threading.Event()

    def sample():
        while not done.wait(0.01):
            samples.append(_rss_mb())
    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.perf_counter()
    try:
        history = m.fit(rx, ry, batch_size=512, epochs=1, shuffle=True, seed=1, verbose=0)
    finally:
        done.set()
        sampler.join()
    seconds = time.perf_counter() - start
    growth, peak_growth = max(samples) - before, _peak_rss_mb() - peak_before
    print(f"4 GiB memmap: one epoch (shuffled, batch 512) in {seconds:.1f} s; VmRSS {before:.0f} MB before, "
          f"at most {max(samples):.0f} MB during ({len(samples)} samples): +{growth:.0f} MB; "
          f"ru_maxrss +{peak_growth:.0f} MB; accuracy {history.history['accuracy'][0]:.3f}")
    assert growth < 300, growth
    assert peak_growth < 300, peak_growth
    assert history.history["accuracy"][0] > 0.8
