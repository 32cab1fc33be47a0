"""libnn benchmarks: `make bench`.

Prints one line per measurement,
    bench=NAME system=SYSTEM threads=T metric=M value=V
and one ratio line per comparison measured in this same run,
    ratio=libnn/SYSTEM bench=NAME threads=T value=R
(R > 1 means libnn is faster).

Measured here:
  gemm_nN     square SGEMM GFLOP/s: libnn's nn_sgemm vs numpy's BLAS
  gemm_MxKxN  the shapes of an MLP layer (batch × in → out)
  w1_train    MLP 784-256-128-10, ReLU, softmax + cross-entropy, Adam 1e-3,
              batch 128 on synthetic data: training samples/s, libnn vs a
              numpy implementation of the same network and update rule
              (and PyTorch when it is installed)
  fit_overhead  model.fit through the Python binding vs the same training
              through the C library driven by ctypes directly

libnn runs on one thread today; numpy's BLAS is limited to the same thread
count in each comparison (the script re-runs itself with
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS set, since BLAS reads them at import).
The machine is noisy: every value is the best of several repetitions.
"""
import os
import subprocess
import sys
import time

THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def best_time(fn, repeat=5, min_time=0.2):
    """Best wall time of one call of fn over `repeat` rounds, each round
    calling it often enough to last about min_time."""
    fn()
    calls = 1
    while True:
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - t
        if elapsed >= min_time / 4 or calls > 1 << 16:
            break
        calls *= 2
    best = elapsed / calls
    for _ in range(repeat - 1):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t) / calls)
    return best


def emit(bench, system, threads, metric, value):
    print(f"bench={bench} system={system} threads={threads} metric={metric} value={value:.4g}", flush=True)


def ratio(bench, other, threads, libnn_value, other_value):
    print(f"ratio=libnn/{other} bench={bench} threads={threads} value={libnn_value / other_value:.3f}", flush=True)


def gemm_benchmarks(threads):
    import ctypes
    import numpy as np
    import nn

    lib = nn._lib
    rng = np.random.default_rng(0)
    shapes = [(n, n, n) for n in (256, 512, 1024)] + [(128, 784, 256), (128, 256, 128), (1, 784, 256), (32, 1024, 1024)]
    fp = ctypes.POINTER(ctypes.c_float)
    for m, k, n in shapes:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        c = np.zeros((m, n), dtype=np.float32)
        pa, pb, pc = (arr.ctypes.data_as(fp) for arr in (a, b, c))

        def libnn():
            status = lib.nn_sgemm(0, 0, m, n, k, 1.0, pa, k, pb, n, 0.0, pc, n)
            assert status == 0

        def numpy():
            np.matmul(a, b, out=c)

        libnn()
        reference = a @ b
        assert np.allclose(c, reference, rtol=1e-3, atol=1e-3 * np.sqrt(k)), "nn_sgemm disagrees with numpy"
        name = f"gemm_n{m}" if m == n == k else f"gemm_{m}x{k}x{n}"
        flops = 2.0 * m * n * k
        t_nn, t_np = best_time(libnn), best_time(numpy)
        emit(name, "libnn", 1, "gflops", flops / t_nn / 1e9)
        emit(name, "numpy", threads, "gflops", flops / t_np / 1e9)
        if threads == 1:
            ratio(name, "numpy", threads, t_np, t_nn)


class NumpyMLP:
    """The W1 network in numpy (float32): ReLU MLP, softmax + cross-entropy,
    torch.optim.Adam's update. The reference that libnn's training is timed
    against."""

    def __init__(self, sizes, rng):
        import numpy as np
        self.np = np
        self.params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            self.params.append(rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32))
            self.params.append(np.zeros(fan_out, dtype=np.float32))
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def step(self, x, labels, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        np = self.np
        acts = [x]
        layers = len(self.params) // 2
        for i in range(layers):
            z = acts[-1] @ self.params[2 * i] + self.params[2 * i + 1]
            acts.append(np.maximum(z, 0) if i < layers - 1 else z)
        z = acts[-1]
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        n = x.shape[0]
        p[np.arange(n), labels] -= 1
        dz = p / n
        grads = [None] * len(self.params)
        for i in reversed(range(layers)):
            grads[2 * i] = acts[i].T @ dz
            grads[2 * i + 1] = dz.sum(axis=0)
            if i > 0:
                dz = (dz @ self.params[2 * i].T) * (acts[i] > 0)
        self.t += 1
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for p_, g, m, v in zip(self.params, grads, self.m, self.v):
            m += (1 - b1) * (g - m)
            v *= b2
            v += (1 - b2) * g * g
            p_ -= (lr / c1) * m / (np.sqrt(v) / np.sqrt(c2) + eps)


def training_benchmarks(threads):
    import numpy as np
    import nn

    rng = np.random.default_rng(0)
    rows, batch = 7680, 128
    x = rng.standard_normal((rows, 784), dtype=np.float32)
    labels = rng.integers(0, 10, rows)
    y = labels.astype(np.float32)

    def make_model():
        model = nn.Sequential([
            nn.layers.Dense(256, activation="relu", input_dim=784),
            nn.layers.Dense(128, activation="relu"),
            nn.layers.Dense(10, activation="softmax"),
        ], seed=1)
        model.compile(loss="sparse_categorical_crossentropy", optimizer=nn.optimizers.Adam(learning_rate=1e-3))
        return model

    model = make_model()

    def libnn_epoch():
        model.fit(x, y, epochs=1, batch_size=batch, shuffle=False, verbose=0)

    reference = NumpyMLP([784, 256, 128, 10], rng)

    def numpy_epoch():
        for start in range(0, rows, batch):
            reference.step(x[start:start + batch], labels[start:start + batch])

    t_nn = best_time(libnn_epoch, repeat=3, min_time=0)
    t_np = best_time(numpy_epoch, repeat=3, min_time=0)
    emit("w1_train", "libnn", 1, "samples_per_s", rows / t_nn)
    emit("w1_train", "numpy", threads, "samples_per_s", rows / t_np)
    if threads == 1:
        ratio("w1_train", "numpy", threads, rows / t_nn, rows / t_np)

    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(threads)
        net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                  torch.nn.ReLU(), torch.nn.Linear(128, 10))
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        tx, ty = torch.from_numpy(x), torch.from_numpy(labels)
        lossf = torch.nn.CrossEntropyLoss()

        def torch_epoch():
            for start in range(0, rows, batch):
                opt.zero_grad()
                lossf(net(tx[start:start + batch]), ty[start:start + batch]).backward()
                opt.step()

        t_torch = best_time(torch_epoch, repeat=3, min_time=0)
        emit("w1_train", "pytorch", threads, "samples_per_s", rows / t_torch)
        if threads == 1:
            ratio("w1_train", "pytorch", threads, rows / t_nn, rows / t_torch)
    elif threads == 1:
        print("# pytorch is not installed: the w1_train comparison with PyTorch is skipped", flush=True)

    # The binding's overhead: the same fit through nn.Sequential and through
    # the raw C calls (one nn_model_fit call either way).
    if threads == 1:
        import ctypes
        lib = nn._lib
        handle = model._handle  # noqa: SLF001 - benchmark of the binding itself
        fp = ctypes.POINTER(ctypes.c_float)
        opts = lib.nn_fit_options()
        lib.nn_fit_options_init(ctypes.byref(opts))
        opts.epochs, opts.batch_size, opts.shuffle = 1, batch, 0

        def raw_epoch():
            handle.call(lib.nn_model_fit, x.ctypes.data_as(fp), y.ctypes.data_as(fp), rows, 784, 1,
                        ctypes.byref(opts))

        t_raw = best_time(raw_epoch, repeat=3, min_time=0)
        t_api = best_time(libnn_epoch, repeat=3, min_time=0)
        emit("fit_overhead", "libnn-python", 1, "samples_per_s", rows / t_api)
        emit("fit_overhead", "libnn-c", 1, "samples_per_s", rows / t_raw)
        print(f"ratio=libnn-python/libnn-c bench=fit_overhead threads=1 value={t_raw / t_api:.3f}", flush=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--threads":
        threads = int(sys.argv[2])
        gemm_benchmarks(threads)
        training_benchmarks(threads)
        return
    import platform
    print(f"# machine: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}", flush=True)
    for threads in (1, 2):
        env = dict(os.environ)
        for name in THREAD_ENV:
            env[name] = str(threads)
        subprocess.run([sys.executable, __file__, "--threads", str(threads)], env=env, check=True)


if __name__ == "__main__":
    main()
