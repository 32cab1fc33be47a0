"""libnn benchmarks: `make bench`.

Prints one line per measurement,
    bench=NAME system=SYSTEM threads=T metric=M value=V
and one ratio line per comparison measured in this same run,
    ratio=libnn/SYSTEM bench=NAME threads=T value=R
with R > 1 meaning libnn is better (faster, or lower latency).

  gemm_*        SGEMM GFLOP/s, nn_sgemm vs numpy's BLAS, square and MLP shapes
                (from Python: each call's overhead is in the figure)
  gemm_c_*      the same kernels with no Python in the way: nn_sgemm vs
                OpenBLAS's cblas_sgemm (numpy's copy), both called from C
  w1_train      MLP 784-256-128-10, ReLU, softmax + cross-entropy, Adam 1e-3,
                batch 128, synthetic data: training samples/s, libnn vs a
                numpy implementation of the same network and vs PyTorch
  w2_xor_online MLP 2-8-1 sigmoid, MSE, SGD 0.5, batch 1, XOR: training
                steps/s, libnn (from C) vs FANN (from C) and PyTorch
  w3_predict_*  the W1 network: single-sample latency and batch-1024
                throughput, libnn (from C) vs FANN and PyTorch
  fit_overhead  model.fit through the Python binding vs the same nn_model_fit
                called directly through ctypes
  predict_after_numpy, w1_train_after_numpy, w1_train_busy_core, predict_busy_core
                2 threads next to numpy's spinning BLAS threads and next
                to a process that keeps a core busy, as ratios to libnn's
                own 1-thread figure in the same conditions (goal >= 0.9-1)
  libnn-python  W3's one-sample model.predict and W2's fit through Python,
                against the same from C (ratio > 1: faster than C; the
                goals of issue 12 are >= 0.77 and >= 1.0x FANN)
  predict_concurrent_python
                issue 13: 2 Python threads predicting one sample at a time
                on one W1 model, throughput over 1 thread's, with libnn at 1
                thread per call (threads=1: each request thread its own core,
                the serving setup; goal >= 1.6 on 2 cores) and at its default
                thread count (threads=N)
  w1_train_b1024_data_parallel
                issue 14: W1 training at batch 1024, 1 process x 2 threads
                vs 2 processes x 1 thread over MPI (loopback), and the
                all-reduce's share of the 2-process step
  w1_anomaly    the W1 fit with anomaly detection switched off explicitly vs
                never switched on (must be 1.00), and switched on (its price)

Each thread count runs in its own process with the BLAS thread variables set
(BLAS reads them at import), libnn set with nn.set_num_threads and PyTorch
with torch.set_num_threads. PyTorch and FANN are compared when installed
(FANN through benchmarks/bench_c.c, compiled here with -lfann when fann.h is
found). The machine is noisy: every value is the best of several rounds.
"""
import os
import subprocess
import sys
import time

THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# Some machines of this workplace set these for old OpenBLAS builds; they pin
# a current OpenBLAS to slower kernels (Haswell instead of SkylakeX here), so
# the reference runs without them (the kernel in use is printed).
BLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


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
    """libnn_value / other_value, for metrics where more is better."""
    print(f"ratio=libnn/{other} bench={bench} threads={threads} value={libnn_value / other_value:.3f}", flush=True)


def gemm_benchmarks(threads):
    import ctypes
    import numpy as np
    import nn

    lib = nn._lib
    nn.set_num_threads(threads)
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
        emit(name, "libnn", threads, "gflops", flops / t_nn / 1e9)
        emit(name, "numpy", threads, "gflops", flops / t_np / 1e9)
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

    nn.set_num_threads(threads)
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
    emit("w1_train", "libnn", threads, "samples_per_s", rows / t_nn)
    emit("w1_train", "numpy", threads, "samples_per_s", rows / t_np)
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

        # Anomaly detection costs nothing while off: the same raw fit with
        # detection switched off explicitly, against the runs above (never
        # switched on), and its price while on.
        handle.call(lib.nn_model_set_anomaly_detection, 0)
        t_off = best_time(raw_epoch, repeat=3, min_time=0)
        handle.call(lib.nn_model_set_anomaly_detection, 1)
        t_on = best_time(raw_epoch, repeat=3, min_time=0)
        handle.call(lib.nn_model_set_anomaly_detection, 0)
        t_off = min(t_off, best_time(raw_epoch, repeat=3, min_time=0))
        emit("w1_anomaly", "libnn-off", 1, "samples_per_s", rows / t_off)
        emit("w1_anomaly", "libnn-on", 1, "samples_per_s", rows / t_on)
        print(f"ratio=libnn-off/libnn-never bench=w1_anomaly threads=1 value={t_raw / t_off:.3f}", flush=True)
        print(f"ratio=libnn-on/libnn-off bench=w1_anomaly threads=1 value={t_off / t_on:.3f}", flush=True)


def torch_small_benchmarks():
    """PyTorch on W2 and W3, one thread; returns {(bench, metric): value}."""
    try:
        import torch
    except ImportError:
        print("# pytorch is not installed: the PyTorch W2 and W3 lines are skipped", flush=True)
        return {}
    import numpy as np
    torch.set_num_threads(1)
    results = {}
    x = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=torch.float32)
    y = torch.tensor([[0], [1], [1], [0]], dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Sigmoid(), torch.nn.Linear(8, 1), torch.nn.Sigmoid())
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    lossf = torch.nn.MSELoss()
    rows = [(x[i:i + 1], y[i:i + 1]) for i in range(4)]

    def epochs(n=250):
        for _ in range(n):
            for xi, yi in rows:
                opt.zero_grad()
                lossf(net(xi), yi).backward()
                opt.step()

    t = best_time(epochs, repeat=3, min_time=0)
    results[("w2_xor_online", "steps_per_s")] = 1000 / t
    w1 = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                             torch.nn.ReLU(), torch.nn.Linear(128, 10), torch.nn.Softmax(dim=1))
    data = torch.from_numpy(np.sin(np.arange(1024 * 784, dtype=np.float32) * 0.001).reshape(1024, 784))
    one = data[:1]
    with torch.inference_mode():
        results[("w3_predict_latency", "microseconds")] = best_time(lambda: w1(one), repeat=7) * 1e6
        results[("w3_predict_batch1024", "samples_per_s")] = 1024 / best_time(lambda: w1(data), repeat=5)
    for (bench, metric), value in results.items():
        emit(bench, "pytorch", 1, metric, value)
    return results


def _openblas_path():
    """The OpenBLAS library numpy uses (its own copy in numpy.libs, or the
    one threadpoolctl reports), for the C GEMM comparison; None if not found."""
    import glob
    try:
        import numpy
        found = glob.glob(os.path.join(os.path.dirname(numpy.__file__), "..", "numpy.libs", "*openblas*.so*"))
        if found:
            return os.path.realpath(found[0])
        from threadpoolctl import threadpool_info
        for info in threadpool_info():
            if info.get("internal_api") == "openblas":
                return info.get("filepath")
    except ImportError:
        pass
    return None


def c_gemm_ratios(c):
    """nn_sgemm ÷ OpenBLAS's cblas_sgemm, both called from C (bench_c.c)."""
    for (bench, system, threads, metric), value in sorted(c.items()):
        if bench.startswith("gemm_c_") and system == "libnn-c":
            other = c.get((bench, "openblas-c", threads, metric))
            if other:
                print(f"ratio=libnn-c/openblas-c bench={bench} threads={threads} value={value / other:.3f}",
                      flush=True)


def c_benchmarks():
    """Compiles and runs bench_c.c (libnn from C, and FANN when available);
    returns {(bench, system, threads, metric): value}."""
    import shutil
    import tempfile
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    libdir = os.path.join(root, ".build", "release")
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or not os.path.exists(os.path.join(libdir, "libnn.so")):
        print("# no C compiler or no .build/release/libnn.so: the C benchmarks are skipped", flush=True)
        return {}
    exe = os.path.join(tempfile.mkdtemp(), "bench_c")
    command = [cc, "-O2", os.path.join(root, "benchmarks", "bench_c.c"), "-I" + os.path.join(root, "include"),
               "-L" + libdir, "-lnn", "-Wl,-rpath," + libdir, "-lm", "-o", exe]
    if os.path.exists("/usr/include/fann.h"):
        command[2:2] = ["-DHAVE_FANN"]
        command.append("-lfann")
    command.append("-ldl")
    subprocess.run(command, check=True)
    openblas = _openblas_path()
    out = subprocess.run([exe] + ([openblas] if openblas else []), check=True, capture_output=True,
                         text=True).stdout
    results = {}
    for line in out.splitlines():
        print(line, flush=True)
        if line.startswith("bench="):
            fields = dict(part.split("=", 1) for part in line.split())
            results[(fields["bench"], fields["system"], int(fields["threads"]), fields["metric"])] = float(fields["value"])
    return results


def contention_benchmarks():
    """Issue 12's "threads that never lose", 2 threads against libnn's own
    1-thread figure measured the same way in the same run:
    (a) a W1 Dense predict (batch 256) right after a numpy matmul, whose
        OpenBLAS threads are still spinning on the cores;
    (b) W1 training (Adam, batch 128) while another process keeps CPU 1
        busy;
    and each the other way round: W1 training (4 steps of 128) right after
    a numpy matmul, and the predict next to the busy process."""
    import multiprocessing
    import numpy as np
    import nn
    if (os.cpu_count() or 1) < 2:
        print("# one CPU: the contention benchmarks are skipped", flush=True)
        return
    rng = np.random.default_rng(0)
    m = rng.standard_normal((384, 384), dtype=np.float32)
    x = rng.standard_normal((256, 784), dtype=np.float32)
    net = nn.Sequential([nn.layers.Dense(256, activation="relu", input_dim=784),
                         nn.layers.Dense(128, activation="relu"), nn.layers.Dense(10, activation="softmax")])
    flops = 2 * 256 * (784 * 256 + 256 * 128 + 128 * 10)

    def after_numpy_medians(call, rounds):
        """The median times of call() right after a numpy matmul, with libnn
        at 1 and at 2 threads, the two interleaved round by round on the
        same model (the median: interference is the point, the best round
        would hide it). Interleaved, the two see the same machine and the
        same memory: measured one after the other, on two models, they
        differed by up to 10% at the same thread count, from where the
        buffers landed and from drift."""
        times = {1: [], 2: []}
        for _ in range(rounds):
            for threads in (1, 2):
                nn.set_num_threads(threads)
                m @ m
                t = time.perf_counter()
                call()
                times[threads].append(time.perf_counter() - t)
        return [sorted(times[n])[rounds // 2] for n in (1, 2)]

    one, two = after_numpy_medians(lambda: net.predict(x), 300)
    emit("predict_after_numpy", "libnn", 1, "gflops", flops / one / 1e9)
    emit("predict_after_numpy", "libnn", 2, "gflops", flops / two / 1e9)
    print(f"ratio=libnn-2-threads/libnn-1-thread bench=predict_after_numpy threads=2 value={one / two:.3f}",
          flush=True)

    # A short W1 fit (4 steps of 128) right after a numpy matmul.
    model = nn.Sequential([nn.layers.Dense(256, activation="relu", input_dim=784),
                           nn.layers.Dense(128, activation="relu"),
                           nn.layers.Dense(10, activation="softmax")], seed=1)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=nn.optimizers.Adam(learning_rate=1e-3))
    xs = rng.standard_normal((512, 784), dtype=np.float32)
    ys = rng.integers(0, 10, 512).astype(np.float32)
    one, two = after_numpy_medians(
        lambda: model.fit(xs, ys, epochs=1, batch_size=128, shuffle=False, verbose=0), 40)
    emit("w1_train_after_numpy", "libnn", 1, "samples_per_s", 512 / one)
    emit("w1_train_after_numpy", "libnn", 2, "samples_per_s", 512 / two)
    print(f"ratio=libnn-2-threads/libnn-1-thread bench=w1_train_after_numpy threads=2 value={one / two:.3f}",
          flush=True)

    def train_epoch_time(threads):
        nn.set_num_threads(threads)
        model = nn.Sequential([nn.layers.Dense(256, activation="relu", input_dim=784),
                               nn.layers.Dense(128, activation="relu"),
                               nn.layers.Dense(10, activation="softmax")], seed=1)
        model.compile(loss="sparse_categorical_crossentropy", optimizer=nn.optimizers.Adam(learning_rate=1e-3))
        rows = 3840
        xs = rng.standard_normal((rows, 784), dtype=np.float32)
        ys = rng.integers(0, 10, rows).astype(np.float32)
        return rows / best_time(lambda: model.fit(xs, ys, epochs=1, batch_size=128, shuffle=False, verbose=0),
                                repeat=3, min_time=0)

    def predict_time(threads):
        nn.set_num_threads(threads)
        return best_time(lambda: net.predict(x), repeat=5)

    busy = multiprocessing.Process(target=_spin_on_cpu, args=(1,), daemon=True)
    busy.start()
    try:
        time.sleep(0.2)
        one, two = train_epoch_time(1), train_epoch_time(2)
        predict_one, predict_two = predict_time(1), predict_time(2)
    finally:
        busy.terminate()
        busy.join()
    emit("predict_busy_core", "libnn", 1, "gflops", flops / predict_one / 1e9)
    emit("predict_busy_core", "libnn", 2, "gflops", flops / predict_two / 1e9)
    print(f"ratio=libnn-2-threads/libnn-1-thread bench=predict_busy_core threads=2 "
          f"value={predict_one / predict_two:.3f}", flush=True)
    emit("w1_train_busy_core", "libnn", 1, "samples_per_s", one)
    emit("w1_train_busy_core", "libnn", 2, "samples_per_s", two)
    print(f"ratio=libnn-2-threads/libnn-1-thread bench=w1_train_busy_core threads=2 value={two / one:.3f}",
          flush=True)
    nn.set_num_threads(os.cpu_count() or 1)


def concurrent_predict_benchmarks():
    """Issue 13's item 1: Python threads predicting one-sample batches on one
    model (W1), the throughput of 2 threads over 1 thread's, each the best of
    several interleaved rounds; with libnn at 1 thread per call, then at its
    default thread count."""
    import threading
    import numpy as np
    import nn
    if (os.cpu_count() or 1) < 2:
        print("# one CPU: the concurrent predict benchmark is skipped", flush=True)
        return
    net = nn.Sequential([nn.layers.Dense(256, activation="relu", input_dim=784),
                         nn.layers.Dense(128, activation="relu"), nn.layers.Dense(10, activation="softmax")])
    rng = np.random.default_rng(0)
    samples = [rng.standard_normal((1, 784), dtype=np.float32) for _ in range(2)]
    calls = 10000

    def rate(threads):
        def loop(x):
            for _ in range(calls):
                net.predict(x)
        workers = [threading.Thread(target=loop, args=(samples[i],)) for i in range(threads)]
        t = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return threads * calls / (time.perf_counter() - t)

    default = nn.get_num_threads()
    for libnn_threads in (1, default):
        nn.set_num_threads(libnn_threads)
        one = two = 0.0
        for _ in range(5):
            one, two = max(one, rate(1)), max(two, rate(2))
        emit("predict_concurrent_python", "libnn-1-thread", libnn_threads, "predicts_per_s", one)
        emit("predict_concurrent_python", "libnn-2-threads", libnn_threads, "predicts_per_s", two)
        print(f"ratio=libnn-2-threads/libnn-1-thread bench=predict_concurrent_python threads={libnn_threads} "
              f"value={two / one:.3f}", flush=True)
    nn.set_num_threads(default)


def data_parallel_benchmarks():
    """Issue 14: W1 training at batch 1024 as 1 process x 2 threads and as 2
    processes x 1 thread (data-parallel over MPI, loopback), and the
    all-reduce's share of the 2-process step (benchmarks/mpi_bench.py)."""
    import shutil
    here = os.path.dirname(os.path.abspath(__file__))
    script = os.path.join(here, "mpi_bench.py")
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        print("# mpi4py is not installed: the data-parallel benchmark is skipped", flush=True)
        return
    if shutil.which("mpirun") is None:
        print("# mpirun is not installed: the data-parallel benchmark is skipped", flush=True)
        return
    results = {}
    for label, command in (
            ("1x2", [sys.executable, script, "--threads", "2"]),
            ("2x1", [os.path.join(os.path.dirname(here), "scripts", "run-mpi.sh"), "2", sys.executable, script,
                     "--threads", "1", "--mpi"])):
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            print(line, flush=True)
            fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
            if fields.get("metric") == "samples_per_s":
                results[label] = float(fields["value"])
    if len(results) == 2:
        print(f"ratio=libnn-2proc-1thread/libnn-1proc-2thread bench=w1_train_b1024_data_parallel threads=2 "
              f"value={results['2x1'] / results['1x2']:.3f}", flush=True)


def _spin_on_cpu(cpu):
    """Keeps CPU `cpu` busy until terminated (another process's work)."""
    try:
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError):
        pass
    while True:
        pass


def python_small_benchmarks():
    """What a Python user sees on the small workloads, one thread: W3's
    one-sample model.predict and W2's model.fit(xor, epochs=50000,
    batch_size=1, verbose=0); returns {(bench, metric): value}."""
    import numpy as np
    import nn
    nn.set_num_threads(1)
    results = {}
    # The model bench_c.c times from C (seed 1, its first input row): the
    # same weights and input, so that the ratio is only the binding's cost.
    w1 = nn.Sequential([nn.layers.Dense(256, activation="relu", input_dim=784),
                        nn.layers.Dense(128, activation="relu"), nn.layers.Dense(10, activation="softmax")],
                       seed=1)
    one = np.sin(np.arange(784, dtype=np.float32) * 0.001).reshape(1, 784)
    results[("w3_predict_latency", "microseconds")] = best_time(lambda: w1.predict(one), repeat=7) * 1e6
    from nn import models
    helper = models._fast_predict
    if helper is not None:
        # the same predict without the compiled helper (nn/_speedups.c):
        # what Python versions without it get, through ctypes
        models._fast_predict = None
        try:
            latency = best_time(lambda: w1.predict(one), repeat=7) * 1e6
        finally:
            models._fast_predict = helper
        emit("w3_predict_latency", "libnn-python-ctypes", 1, "microseconds", latency)
    else:
        print("# predict's compiled helper (nn/_speedups.c) is not loaded: Python's predict goes through ctypes",
              flush=True)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    xor = nn.Sequential([nn.layers.Dense(8, activation="sigmoid", input_dim=2),
                         nn.layers.Dense(1, activation="sigmoid")])
    xor.compile(loss="mse", optimizer=nn.optimizers.SGD(learning_rate=0.5))
    t = best_time(lambda: xor.fit(x, y, epochs=50000, batch_size=1, shuffle=False, verbose=0),
                  repeat=3, min_time=0)
    results[("w2_xor_online", "steps_per_s")] = 200000 / t
    for (bench, metric), value in results.items():
        emit(bench, "libnn-python", 1, metric, value)
    return results


def python_ratios(c, python, torch):
    """The Python rows of issue 12's table: each against libnn from C, FANN
    and PyTorch in this run."""
    latency = python.get(("w3_predict_latency", "microseconds"))
    if latency is not None:
        reference = c.get(("w3_predict_latency", "libnn-c", 1, "microseconds"))
        if reference is not None:
            print(f"ratio=libnn-python/libnn-c bench=w3_predict_latency threads=1 "
                  f"value={reference / latency:.3f}", flush=True)
        if ("w3_predict_latency", "microseconds") in torch:
            print(f"ratio=libnn-python/pytorch bench=w3_predict_latency threads=1 "
                  f"value={torch[('w3_predict_latency', 'microseconds')] / latency:.3f}", flush=True)
    steps = python.get(("w2_xor_online", "steps_per_s"))
    if steps is not None:
        for system in ("libnn-c", "fann"):
            reference = c.get(("w2_xor_online", system, 1, "steps_per_s"))
            if reference is not None:
                print(f"ratio=libnn-python/{system} bench=w2_xor_online threads=1 "
                      f"value={steps / reference:.3f}", flush=True)


def small_network_ratios(c, torch):
    for threads in (1, 2):
        for bench, metric in (("w2_xor_online", "steps_per_s"), ("w3_predict_batch1024", "samples_per_s")):
            mine = c.get((bench, "libnn-c", threads, metric))
            if mine is None:
                continue
            if (bench, "fann", 1, metric) in c:
                ratio(bench, "fann", threads, mine, c[(bench, "fann", 1, metric)])
            if (bench, metric) in torch:
                ratio(bench, "pytorch", threads, mine, torch[(bench, metric)])
        latency = c.get(("w3_predict_latency", "libnn-c", threads, "microseconds"))
        if latency is not None:
            if ("w3_predict_latency", "fann", 1, "microseconds") in c:
                ratio("w3_predict_latency", "fann", threads, c[("w3_predict_latency", "fann", 1, "microseconds")], latency)
            if ("w3_predict_latency", "microseconds") in torch:
                ratio("w3_predict_latency", "pytorch", threads, torch[("w3_predict_latency", "microseconds")], latency)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--threads":
        threads = int(sys.argv[2])
        try:
            import numpy  # noqa: F401 - loads the BLAS threadpoolctl reports on
            from threadpoolctl import threadpool_info
            kernels = ", ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}"
                                for i in threadpool_info())
            print(f"# threads={threads}: numpy's BLAS: {kernels}", flush=True)
        except ImportError:
            pass
        gemm_benchmarks(threads)
        training_benchmarks(threads)
        if threads == 1:
            torch_small_benchmarks()
        return
    import platform
    print(f"# machine: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}", flush=True)
    import nn
    print(f"# libnn {nn.__version__}, kernels: {nn.cpu_level()}", flush=True)
    for threads in (1, 2):
        env = {k: v for k, v in os.environ.items() if k not in BLAS_OVERRIDES}
        for name in THREAD_ENV:
            env[name] = str(threads)
        subprocess.run([sys.executable, __file__, "--threads", str(threads)], env=env, check=True)
    env = dict(os.environ)
    for name in THREAD_ENV:
        env[name] = "1"
    os.environ.update(env)
    c = c_benchmarks()
    c_gemm_ratios(c)
    torch = torch_small_benchmarks()
    small_network_ratios(c, torch)
    python_ratios(c, python_small_benchmarks(), torch)
    contention_benchmarks()
    concurrent_predict_benchmarks()
    data_parallel_benchmarks()


if __name__ == "__main__":
    main()
