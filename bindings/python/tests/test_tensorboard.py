"""nn.callbacks.TensorBoard (issue 15): the event files it writes, read back
with TensorBoard's own reader (EventAccumulator), against the History, the
weights and the layer statistics of the fit; Keras's runs and tags
(keras.callbacks.TensorBoard: epoch_* in log_dir/train, the val_ logs
without their prefix in log_dir/validation, batch_* with update_freq); the
writer's fallback order; the arguments libnn refuses."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import nn
from nn import callbacks as callbacks_module
from nn.callbacks import TensorBoard
from nn.layers import BatchNormalization, Dense

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator")

BINDING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_run(path):
    """Every event of one run (a folder of event files), nothing sampled away."""
    guidance = {kind: 0 for kind in event_accumulator.DEFAULT_SIZE_GUIDANCE}
    accumulator = event_accumulator.EventAccumulator(str(path), size_guidance=guidance)
    accumulator.Reload()
    return accumulator


def scalars(run, tag):
    """[(step, value)] of a scalar tag."""
    return [(event.step, event.value) for event in run.Scalars(tag)]


def f32(values):
    """The values as the event file holds them (float32), as Python floats."""
    return [float(np.float32(v)) for v in values]


def data(rows=64, cols=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, cols)).astype(np.float32)
    y = (x[:, :1] + 0.5 * x[:, 1:2] > 0).astype(np.float32)
    return x, y


def small_model(optimizer="adam"):
    model = nn.Sequential([Dense(6, input_dim=5, activation="relu"),
                           Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    return model


class WeightRecorder(nn.callbacks.Callback):
    """The weights at the end of each epoch."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


# --------------------------------------------------------------------------
# The round trip: one fit with validation data, a metric, a schedule,
# histograms and layer statistics
# --------------------------------------------------------------------------

LR0, GAMMA, EPOCHS, HISTOGRAM_FREQ = 0.05, 0.7, 5, 2


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("tb") / "logs"
    x, y = data()
    x_val, y_val = data(32, seed=1)
    model = nn.Sequential([Dense(8, input_dim=5, activation="relu"), BatchNormalization(),
                           Dense(6, activation="tanh"), Dense(1, activation="sigmoid")])
    schedule = nn.schedules.ExponentialDecay(LR0, gamma=GAMMA)
    model.compile(optimizer=nn.optimizers.Adam(learning_rate=schedule),
                  loss="binary_crossentropy", metrics=["accuracy"])
    recorder = WeightRecorder()
    board = TensorBoard(log_dir=log_dir, histogram_freq=HISTOGRAM_FREQ)
    history = model.fit(x, y, epochs=EPOCHS, batch_size=16, verbose=0,
                        validation_data=(x_val, y_val),
                        callbacks=[board, nn.callbacks.LayerStatistics(), recorder])
    return {"model": model, "history": history, "weights": recorder.weights,
            "train": load_run(log_dir / "train"), "validation": load_run(log_dir / "validation"),
            "log_dir": log_dir}


def test_epoch_scalars_equal_the_history(trained):
    history, train, validation = trained["history"], trained["train"], trained["validation"]
    assert history.epoch == list(range(EPOCHS))
    steps = list(range(EPOCHS))
    for name in ("loss", "accuracy", "learning_rate"):
        events = scalars(train, "epoch_" + name)
        assert [s for s, _ in events] == steps
        assert [v for _, v in events] == f32(history.history[name])
    for name in ("loss", "accuracy"):
        events = scalars(validation, "epoch_" + name)
        assert [s for s, _ in events] == steps
        assert [v for _, v in events] == f32(history.history["val_" + name])


def test_runs_hold_keras_tags_only(trained):
    train_tags = set(trained["train"].Tags()["scalars"])
    validation_tags = set(trained["validation"].Tags()["scalars"])
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"} <= train_tags
    # no val_ prefix anywhere, the learning rate only in the train run
    assert validation_tags == {"epoch_loss", "epoch_accuracy"}
    assert not any("val_" in tag for tag in train_tags | validation_tags)
    # update_freq='epoch': no batch-level scalars; write_images=False: no images
    assert not any(tag.startswith("batch_") for tag in train_tags)
    assert trained["train"].Tags()["images"] == []


def test_learning_rates_are_the_schedules(trained):
    expected = [LR0 * GAMMA ** epoch for epoch in range(EPOCHS)]   # torch ExponentialLR
    events = scalars(trained["train"], "epoch_learning_rate")
    assert [v for _, v in events] == f32(expected)
    assert trained["history"].history["learning_rate"] == pytest.approx(expected, rel=1e-12)


def test_histograms_match_the_weights_of_their_epoch(trained):
    model, saved = trained["model"], trained["weights"]
    names = ["dense/kernel", "dense/bias", "batch_normalization/gamma",
             "batch_normalization/beta", "batch_normalization/moving_mean",
             "batch_normalization/moving_variance", "dense_1/kernel", "dense_1/bias",
             "dense_2/kernel", "dense_2/bias"]
    assert [name for name, _, _ in model.weight_info()] == [n.split("/")[1] for n in names]
    train = trained["train"]
    assert sorted(train.Tags()["histograms"]) == sorted(n + "/histogram" for n in names)
    steps = list(range(0, EPOCHS, HISTOGRAM_FREQ))
    assert steps == [0, 2, 4]
    for index, name in enumerate(names):
        events = train.Histograms(name + "/histogram")
        assert [event.step for event in events] == steps
        for event in events:
            weight = saved[event.step][index].astype(np.float64)
            value = event.histogram_value
            assert value.num == weight.size
            assert value.min == weight.min()
            assert value.max == weight.max()
            assert value.sum == pytest.approx(weight.sum(), rel=1e-9, abs=1e-9)
    # the weights did change between the histograms' epochs
    first, last = train.Histograms("dense/kernel/histogram")[0], train.Histograms(
        "dense/kernel/histogram")[-1]
    assert first.histogram_value.sum != last.histogram_value.sum


def test_layer_statistics_scalars_equal_history_layer_stats(trained):
    history, train = trained["history"], trained["train"]
    assert len(history.layer_stats) == EPOCHS
    tags = set(train.Tags()["scalars"])
    written = 0
    for key in ("activation_mean", "activation_std", "dead_fraction", "saturated_fraction",
                "gradient_norm", "weight_norm", "update_ratio", "batches"):
        for layer in range(4):
            name = history.layer_stats[0]["layers"][layer]["name"]
            values = [entry["layers"][layer][key] for entry in history.layer_stats]
            tag = f"layer_stats/{name}/{key}"
            if values[0] is None:        # does not apply to this layer: not written
                assert all(v is None for v in values)
                assert tag not in tags
                continue
            events = scalars(train, tag)
            assert [s for s, _ in events] == list(range(EPOCHS))
            assert [v for _, v in events] == f32(values)
            written += 1
    # dead units for the relu layer, saturation for tanh and sigmoid,
    # gradient/weight/update figures for the three Dense and the batch norm
    assert "layer_stats/dense/dead_fraction" in tags
    assert "layer_stats/dense_1/saturated_fraction" in tags
    assert "layer_stats/batch_normalization/gradient_norm" in tags
    assert "layer_stats/dense/saturated_fraction" not in tags
    assert written >= 4 * 4


def test_model_summary_is_written_as_text(trained):
    events = trained["train"].Tensors("model_summary/text_summary")
    assert [event.step for event in events] == [0]
    text = events[0].tensor_proto.string_val[0].decode()
    lines = []
    trained["model"].summary(print_fn=lines.append)
    assert "\n".join(lines) in text
    assert "dense_2" in text


def test_event_files_are_closed_and_one_per_run(trained):
    for run in ("train", "validation"):
        files = os.listdir(trained["log_dir"] / run)
        assert len(files) == 1 and files[0].startswith("events.out.tfevents.")


# --------------------------------------------------------------------------
# Learning rate without a schedule, batch-level scalars, two fits
# --------------------------------------------------------------------------

def test_a_fit_after_one_that_raised(tmp_path):
    x, y = data()
    model = small_model()
    board = TensorBoard(tmp_path)

    def fail(epoch, logs):
        if epoch == 1:
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        model.fit(x, y, epochs=4, verbose=0, callbacks=[board, fail])
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[board])
    # the failed fit's two finished epochs (its files closed by the next
    # fit), then the new fit's
    events = scalars(load_run(tmp_path / "train"), "epoch_loss")
    assert [s for s, _ in events] == [0, 1, 2, 3]
    assert [v for _, v in events[2:]] == f32(history.history["loss"])


def test_constant_learning_rate_is_written(tmp_path):
    x, y = data()
    model = small_model(nn.optimizers.SGD(learning_rate=0.03))
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[TensorBoard(tmp_path)])
    assert "learning_rate" not in history.history
    train = load_run(tmp_path / "train")
    assert scalars(train, "epoch_learning_rate") == [(0, f32([0.03])[0]), (1, f32([0.03])[0]),
                                                     (2, f32([0.03])[0])]
    assert [v for _, v in scalars(train, "epoch_loss")] == f32(history.history["loss"])
    # no validation data: no validation run
    assert not (tmp_path / "validation").exists()


class BatchRecorder(nn.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.logs = []

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append(dict(logs))


@pytest.mark.parametrize("update_freq, every", [("batch", 1), (1, 1), (3, 3)])
def test_batch_level_scalars(tmp_path, update_freq, every):
    x, y = data()                     # 64 rows, batch_size 16: 4 batches per epoch
    model = small_model()
    recorder = BatchRecorder()
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0,
                        callbacks=[TensorBoard(tmp_path, update_freq=update_freq), recorder])
    assert len(recorder.logs) == 4 * 3
    train = load_run(tmp_path / "train")
    for name in ("loss", "accuracy"):
        events = scalars(train, "batch_" + name)
        # Keras 3's steps: the batches trained so far, counting from 1
        steps = [n for n in range(1, 13) if n % every == 0]
        assert [s for s, _ in events] == steps
        assert [v for _, v in events] == f32(recorder.logs[s - 1][name] for s in steps)
        # the epoch-level scalars are still written
        assert [v for _, v in scalars(train, "epoch_" + name)] == f32(history.history[name])


def test_epoch_updates_need_no_batch_callback():
    # libnn calls back after every batch only for callbacks that want it
    assert not callbacks_module.wants_batches(TensorBoard("unused"))
    assert callbacks_module.wants_batches(TensorBoard("unused", update_freq="batch"))
    assert callbacks_module.wants_batches(TensorBoard("unused", update_freq=5))
    assert callbacks_module.wants_batches(TensorBoard("unused", write_steps_per_second=True))


def test_steps_per_second(tmp_path):
    x, y = data()
    model = small_model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0,
              callbacks=[TensorBoard(tmp_path, update_freq=2, write_steps_per_second=True)])
    train = load_run(tmp_path / "train")
    epoch_rates = scalars(train, "epoch_steps_per_second")
    batch_rates = scalars(train, "batch_steps_per_second")
    assert [s for s, _ in epoch_rates] == [0, 1]
    assert [s for s, _ in batch_rates] == [2, 4, 6, 8]
    assert all(v > 0 for _, v in epoch_rates + batch_rates)


def test_two_fits_continue_the_steps(tmp_path):
    x, y = data()
    x_val, y_val = data(16, seed=2)
    model = small_model()
    board = TensorBoard(tmp_path, update_freq="batch", histogram_freq=2)
    first = model.fit(x, y, epochs=2, batch_size=32, verbose=0, validation_data=(x_val, y_val),
                      callbacks=[board])
    second = model.fit(x, y, epochs=3, batch_size=32, verbose=0, validation_data=(x_val, y_val),
                       callbacks=[board])
    train, validation = load_run(tmp_path / "train"), load_run(tmp_path / "validation")
    # as Keras with fit(..., initial_epoch=2): the second fit's epochs are steps 2, 3, 4
    assert scalars(train, "epoch_loss") == list(zip(range(5), f32(
        first.history["loss"] + second.history["loss"])))
    assert scalars(validation, "epoch_loss") == list(zip(range(5), f32(
        first.history["val_loss"] + second.history["val_loss"])))
    assert [s for s, _ in scalars(train, "batch_loss")] == list(range(1, 11))
    assert [e.step for e in train.Histograms("dense/kernel/histogram")] == [0, 2, 4]
    # each fit added its own file to each run; none was overwritten
    assert len(os.listdir(tmp_path / "train")) == 2
    assert len(os.listdir(tmp_path / "validation")) == 2
    # the model summary at each fit's first step
    assert [e.step for e in train.Tensors("model_summary/text_summary")] == [0, 2]


# --------------------------------------------------------------------------
# Images, write_graph, other fits
# --------------------------------------------------------------------------

def test_weight_images(tmp_path):
    x, y = data()
    model = small_model()
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[TensorBoard(tmp_path, histogram_freq=1, write_images=True)])
    train = load_run(tmp_path / "train")
    # Keras's layout: kernel (5, 6) as is, kernel (6, 1) transposed, a bias as a column
    sizes = {"dense/kernel": (6, 5), "dense/bias": (1, 6), "dense_1/kernel": (6, 1),
             "dense_1/bias": (1, 1)}
    assert sorted(train.Tags()["images"]) == sorted(f"{n}/image" for n in sizes)
    for name, (width, height) in sizes.items():
        events = train.Images(f"{name}/image")
        assert [e.step for e in events] == [0, 1]
        assert all((e.width, e.height) == (width, height) for e in events)
        assert all(e.encoded_image_string.startswith(b"\x89PNG") for e in events)


def test_write_graph_false_writes_no_summary(tmp_path):
    x, y = data()
    small_model().fit(x, y, epochs=1, verbose=0,
                      callbacks=[TensorBoard(tmp_path, write_graph=False)])
    train = load_run(tmp_path / "train")
    assert train.Tags()["tensors"] == []
    assert "epoch_loss" in train.Tags()["scalars"]


class Batches:
    """A Sequence-like source (Keras's PyDataset protocol)."""

    def __init__(self, x, y, size):
        self.x, self.y, self.size = x, y, size

    def __len__(self):
        return len(self.x) // self.size

    def __getitem__(self, i):
        rows = slice(i * self.size, (i + 1) * self.size)
        return self.x[rows], self.y[rows]


def test_fit_on_a_sequence_and_a_lazily_built_model(tmp_path):
    x, y = data()
    model = nn.Sequential([Dense(4, activation="relu"), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(Batches(x, y, 16), epochs=2, verbose=0,
                        callbacks=[TensorBoard(tmp_path, update_freq="batch")])
    train = load_run(tmp_path / "train")
    assert scalars(train, "epoch_loss") == list(zip(range(2), f32(history.history["loss"])))
    assert [s for s, _ in scalars(train, "batch_loss")] == list(range(1, 9))
    # the model was built by the first batch: its summary still comes at step 0
    assert [e.step for e in train.Tensors("model_summary/text_summary")] == [0]


def test_only_rank_0_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(nn.distributed, "is_main", lambda: False)
    x, y = data()
    board = TensorBoard(tmp_path / "logs", histogram_freq=1, update_freq="batch")
    small_model().fit(x, y, epochs=2, verbose=0, validation_data=(x, y), callbacks=[board])
    assert not (tmp_path / "logs").exists()


def test_statistics_handed_to_on_layer_stats_are_written_once(tmp_path):
    # fit hands each epoch's statistics to every callback with an
    # on_layer_stats (nn/_fit.py), and the callback also reads the History
    # at on_epoch_end: each entry is written once.
    x, y = data()
    received = []

    class Watcher(nn.callbacks.Callback):
        def on_layer_stats(self, epoch, stats):
            received.append(epoch)

    history = small_model().fit(x, y, epochs=3, verbose=0, callbacks=[
        TensorBoard(tmp_path), Watcher(), nn.callbacks.LayerStatistics()])
    assert received == [0, 1, 2]
    events = scalars(load_run(tmp_path / "train"), "layer_stats/dense/gradient_norm")
    assert events == list(zip(range(3), f32(
        entry["layers"][0]["gradient_norm"] for entry in history.layer_stats)))


def test_no_statistics_without_layer_statistics(tmp_path):
    x, y = data()
    small_model().fit(x, y, epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path)])
    tags = load_run(tmp_path / "train").Tags()["scalars"]
    assert not any(tag.startswith("layer_stats/") for tag in tags)


# --------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"log_dir": None}, "log_dir"),
    ({"log_dir": ""}, "log_dir"),
    ({"log_dir": b"logs"}, "log_dir"),
    ({"histogram_freq": -1}, "histogram_freq"),
    ({"histogram_freq": 1.5}, "histogram_freq"),
    ({"histogram_freq": True}, "histogram_freq"),
    ({"update_freq": "step"}, "update_freq"),
    ({"update_freq": 0}, "update_freq"),
    ({"update_freq": True}, "update_freq"),
    ({"write_graph": "yes"}, "write_graph"),
    ({"write_images": 1}, "write_images"),
    ({"write_images": True}, "histogram_freq"),
    ({"write_steps_per_second": None}, "write_steps_per_second"),
    ({"profile_batch": 2}, "no profiler"),
    ({"profile_batch": (10, 20)}, "no profiler"),
    ({"profile_batch": "x"}, "no profiler"),
    ({"embeddings_freq": 1}, "Embedding"),
    ({"embeddings_freq": True}, "Embedding"),
    ({"embeddings_metadata": {"embedding": "meta.tsv"}}, "Embedding"),
])
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TensorBoard(**kwargs)


def test_keras_defaults_and_off_values_are_accepted(tmp_path):
    board = TensorBoard()
    assert (board.log_dir, board.histogram_freq, board.write_graph, board.write_images,
            board.update_freq, board.profile_batch, board.embeddings_freq) == (
        "logs", 0, True, False, "epoch", 0, 0)
    assert TensorBoard(update_freq="batch").update_freq == 1    # Keras's synonym
    assert TensorBoard(tmp_path, profile_batch=(0, 0), embeddings_freq=0,
                       embeddings_metadata=None).log_dir == str(tmp_path)
    assert not os.listdir(tmp_path)    # nothing is written before a fit


def test_bad_weights_stop_the_fit_with_a_clear_error(tmp_path, monkeypatch):
    x, y = data()
    model = small_model()
    board = TensorBoard(tmp_path, histogram_freq=1)

    def broken():
        weights = nn.Sequential.get_weights(model)
        weights[0][0, 0] = np.nan
        return weights

    monkeypatch.setattr(model, "get_weights", broken)
    with pytest.raises(ValueError, match="dense/kernel holds NaN"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[board])
    board.close()


# --------------------------------------------------------------------------
# The writer: tensorboardX, else PyTorch's, else a clear ImportError
# --------------------------------------------------------------------------

def test_tensorboardx_comes_first():
    import tensorboardX
    assert TensorBoard("unused")._writer_class is tensorboardX.SummaryWriter


def test_pytorch_writer_when_tensorboardx_is_missing(tmp_path, monkeypatch):
    torch_tensorboard = pytest.importorskip("torch.utils.tensorboard")
    monkeypatch.setitem(sys.modules, "tensorboardX", None)    # import fails
    board = TensorBoard(tmp_path, histogram_freq=1, write_images=True, update_freq="batch")
    assert board._writer_class is torch_tensorboard.SummaryWriter
    x, y = data()
    history = small_model().fit(x, y, epochs=2, batch_size=32, verbose=0,
                                validation_data=(x, y), callbacks=[board])
    train, validation = load_run(tmp_path / "train"), load_run(tmp_path / "validation")
    assert scalars(train, "epoch_loss") == list(zip(range(2), f32(history.history["loss"])))
    assert scalars(validation, "epoch_loss") == list(zip(range(2), f32(
        history.history["val_loss"])))
    assert [s for s, _ in scalars(train, "batch_loss")] == [1, 2, 3, 4]
    assert [e.histogram_value.num for e in train.Histograms("dense/kernel/histogram")] == [30, 30]
    assert len(train.Images("dense/kernel/image")) == 2
    assert [e.step for e in train.Tensors("model_summary/text_summary")] == [0]


def test_import_error_without_any_writer(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match="pip install tensorboardX"):
        TensorBoard("unused")


# --------------------------------------------------------------------------
# In a process of its own: imports, and a fit that raises
# --------------------------------------------------------------------------

def run_python(code):
    env = dict(os.environ, PYTHONPATH=BINDING_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_order_and_no_writer_imported_by_nn():
    out = run_python("""
        import sys
        import nn
        from nn._tensorboard import TensorBoard
        from nn.callbacks import Callback
        assert issubclass(TensorBoard, Callback)
        print("tensorboardX" in sys.modules, "torch" in sys.modules)
    """)
    assert out.split() == ["False", "False"]


def test_a_fit_that_raises_keeps_its_finished_epochs(tmp_path):
    # The process ends without on_train_end or close(): the files are
    # closed at exit, with every epoch finished before the error.
    run_python(f"""
        import numpy as np
        import nn
        from nn._tensorboard import TensorBoard
        x = np.random.default_rng(0).normal(size=(32, 5)).astype(np.float32)
        y = (x[:, :1] > 0).astype(np.float32)
        model = nn.Sequential([nn.layers.Dense(1, input_dim=5, activation="sigmoid")])
        model.compile(optimizer="sgd", loss="binary_crossentropy")

        def fail(epoch, logs):
            if epoch == 2:
                raise RuntimeError("stop here")

        try:
            model.fit(x, y, epochs=5, verbose=0, callbacks=[TensorBoard({str(tmp_path)!r}), fail])
        except RuntimeError:
            pass
        else:
            raise SystemExit("the fit did not raise")
    """)
    train = load_run(tmp_path / "train")
    assert [s for s, _ in scalars(train, "epoch_loss")] == [0, 1, 2]
