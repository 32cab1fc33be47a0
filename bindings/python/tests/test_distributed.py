"""nn.distributed: data-parallel fit over MPI (issue 14).

Two real processes under mpirun train the digits (examples/mpi_digits.py)
to the same History on both ranks and >= 0.96 test accuracy, only rank 0
printing. In-process, threads stand in for the processes (a communicator
whose Allreduce sums across threads): replicas identical and equal to one
process within 1e-5, the all-reduce's own exception chained to the
CommunicationError, rank 0 alone saving, streams and train_on_batch
refused."""

import json
import os
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest

import nn
from nn import distributed
from nn.layers import Dense

from conftest import REPO_ROOT

# -- real processes -----------------------------------------------------------


def mpi_available():
    if shutil.which("mpirun") is None:
        return "mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)"
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install mpi4py)"
    return None


def test_two_processes_train_the_digits(tmp_path):
    missing = mpi_available()
    if missing:
        pytest.skip(missing)
    history = tmp_path / "history"
    result = subprocess.run([os.path.join(REPO_ROOT, "scripts", "run-mpi.sh"), "2", sys.executable,
                             os.path.join(REPO_ROOT, "examples", "mpi_digits.py"), "--history", str(history)],
                            capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, PYTHON=sys.executable))
    assert result.returncode == 0, result.stdout + result.stderr
    ranks = [json.loads((tmp_path / f"history.{r}").read_text()) for r in (0, 1)]
    assert ranks[0] == ranks[1]                    # the same global History, bit for bit
    assert ranks[0]["test_accuracy"] >= 0.96
    assert len(ranks[0]["history"]["loss"]) == 30
    # rank 0 prints each epoch once; rank 1 is silent
    assert result.stdout.count("Epoch 30/30") == 1
    assert "2 processes (MPI_Allreduce called" in result.stdout
    from nn import models
    if models._fast_predict is not None:            # the compiled helper is there: no Python per step
        assert "called from C" in result.stdout, result.stdout


def run_mpi(tmp_path, *args):
    return subprocess.run([os.path.join(REPO_ROOT, "scripts", "run-mpi.sh"), "2", sys.executable,
                           os.path.join(os.path.dirname(os.path.abspath(__file__)), "mpi_resume.py"), *args],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path,
                          env=dict(os.environ, PYTHON=sys.executable))


def test_a_process_that_dies_leaves_a_checkpoint_that_resumes_exactly(tmp_path):
    """Rank 1 dies after epoch 2 of 4: mpirun ends the job with an error,
    rank 0's checkpoint of epoch 2 is intact, and 2 processes resuming from
    it end with the weights of an uninterrupted run, bit for bit (Dropout
    and BatchNormalization included)."""
    missing = mpi_available()
    if missing:
        pytest.skip(missing)
    full = run_mpi(tmp_path, "--epochs", "4", "--out", str(tmp_path / "full.npz"))
    assert full.returncode == 0, full.stdout + full.stderr
    checkpoint = str(tmp_path / "checkpoint.safetensors")
    crashed = run_mpi(tmp_path, "--epochs", "4", "--die-after", "2", "--checkpoint", checkpoint)
    assert crashed.returncode != 0
    # what the user sees: mpirun names the process that exited
    assert "exit" in (crashed.stdout + crashed.stderr).lower()
    assert open(checkpoint + ".epoch").read() == "2"
    resumed = run_mpi(tmp_path, "--epochs", "4", "--resume", checkpoint, "--out", str(tmp_path / "resumed.npz"))
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    a, b = np.load(tmp_path / "full.npz"), np.load(tmp_path / "resumed.npz")
    assert len(a.files) == len(b.files) == 8       # 2 Dense (kernel, bias), BatchNorm (4)
    for name in a.files:
        assert np.array_equal(a[name], b[name]), name


# -- threads standing in for processes -------------------------------------------


class FakeMPI:
    IN_PLACE = object()
    FLOAT = "float"
    SUM = "sum"


class ThreadComm:
    """A communicator for `size` threads: Allreduce(IN_PLACE, [array,
    FLOAT], op=SUM) sums the ranks' arrays in rank order."""

    def __init__(self, group, rank):
        self.group, self.rank = group, rank

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.group.size

    def Allreduce(self, sendbuf, recvbuf, op):
        assert sendbuf is FakeMPI.IN_PLACE and recvbuf[1] == FakeMPI.FLOAT and op == FakeMPI.SUM
        self.group.allreduce(self.rank, recvbuf[0])


class Group:
    def __init__(self, size, fail_at_call=None):
        self.size, self.fail_at_call, self.calls = size, fail_at_call, 0
        self.arrays = [None] * size
        self.barrier = threading.Barrier(size)

    def allreduce(self, rank, array):
        self.arrays[rank] = array
        if self.barrier.wait() == 0:
            self.calls += 1
            total = self.arrays[0].copy()
            for a in self.arrays[1:]:
                total += a
            self.total = total
        self.barrier.wait()
        if self.fail_at_call == self.calls:
            raise ConnectionError(f"the network went away at call {self.calls}")
        array[:] = self.total
        self.barrier.wait()


def make_model(seed=3):
    model = nn.Sequential([Dense(16, activation="tanh", input_dim=8), Dense(3, activation="softmax")],
                          seed=seed)
    model.compile(optimizer=nn.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def data(rows=640):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(rows, 8)).astype(np.float32)
    return x, np.argmax(x[:, :3], axis=1).astype(np.float32)


@pytest.fixture
def thread_ranks(monkeypatch):
    """Runs fn(rank) on `size` threads, each rank's fits data-parallel on
    its own context; returns the results (or raises the first error)."""
    local = threading.local()
    monkeypatch.setattr(distributed, "active", lambda: getattr(local, "context", None))

    def run(size, fn, group=None):
        group = group or Group(size)
        results, errors = [None] * size, [None] * size

        def body(rank):
            local.context = distributed._Context(ThreadComm(group, rank), False, False, FakeMPI)
            try:
                results[rank] = fn(rank)
            except BaseException as exc:
                errors[rank] = exc
        threads = [threading.Thread(target=body, args=(r,), daemon=True) for r in range(size)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not any(t.is_alive() for t in threads), "a rank is still waiting: a hang"
        return results, errors
    return run


def test_thread_ranks_equal_one_process(thread_ranks):
    x, y = data()
    alone = make_model()
    h_alone = alone.fit(x, y, batch_size=64, epochs=2, seed=5, verbose=0)

    def train(rank):
        model = make_model()
        history = model.fit(x, y, batch_size=64, epochs=2, seed=5, verbose=0)
        return model.get_weights(), history.history
    results, errors = thread_ranks(2, train)
    assert errors == [None, None], errors
    (w0, h0), (w1, h1) = results
    for a, b, c in zip(w0, w1, alone.get_weights()):
        assert np.array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=0, atol=1e-5)
    assert h0 == h1
    np.testing.assert_allclose(h0["loss"], h_alone.history["loss"], rtol=1e-5)


def test_a_failing_allreduce_raises_a_communication_error_from_its_cause(thread_ranks):
    x, y = data()

    def train(rank):
        make_model().fit(x, y, batch_size=64, epochs=1, verbose=0)
    results, errors = thread_ranks(2, train, Group(2, fail_at_call=3))
    for error in errors:
        assert isinstance(error, nn.CommunicationError), error
        assert "batch 2" in str(error)
        assert isinstance(error.__cause__, ConnectionError)


def test_different_models_are_refused_on_every_rank(thread_ranks):
    x, y = data()

    def train(rank):
        make_model(seed=3 + rank).fit(x, y, batch_size=64, epochs=1, verbose=0)
    results, errors = thread_ranks(2, train)
    for error in errors:
        assert isinstance(error, nn.InvalidStateError) and "differ in: weights" in str(error), error


def test_rank_0_alone_saves_and_streams_and_train_on_batch_are_refused(tmp_path, thread_ranks, monkeypatch):
    x, y = data(128)
    # distributed.saves() with the calling thread's rank
    monkeypatch.setattr(distributed, "saves", lambda: distributed.active().rank == 0)

    def work(rank):
        model = make_model()
        model.fit(x, y, batch_size=64, epochs=1, verbose=0)
        model.save(tmp_path / f"model{rank}.safetensors")
        with pytest.raises(ValueError, match="not data-parallel"):
            model.fit(((x[:64], y[:64]) for _ in range(2)), epochs=1, steps_per_epoch=2, verbose=0)
        with pytest.raises(nn.InvalidStateError, match="train_on_batch is not data-parallel"):
            model.train_on_batch(x[:8], y[:8])
        return True
    results, errors = thread_ranks(2, work)
    assert errors == [None, None], errors
    assert (tmp_path / "model0.safetensors").exists()
    assert not (tmp_path / "model1.safetensors").exists()


def test_without_init_everything_is_one_process():
    assert distributed.active() is None
    assert (distributed.rank(), distributed.size(), distributed.is_main()) == (0, 1, True)
    x, y = data(128)
    model = make_model()
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    model.train_on_batch(x[:8], y[:8])
