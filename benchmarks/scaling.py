"""Thread scaling of libnn against PyTorch on a many-core machine.

    NN_LIBRARY=... python3 benchmarks/scaling.py [max_threads | t1,t2,...] [--no-torch]

For 1, 2, 4, ... threads (or the listed counts): SGEMM n = 1024 and 1008
GFLOP/s (libnn vs torch.mm; 1024 has rows 4 KiB apart, 1008 not), W1
training samples/s (784-256-128-10, Adam, batch 128 and 1024; libnn vs
PyTorch), and a tiny MLP (2-8-1, batch 1) to show that small networks do not
slow down with more threads. Prints the make-bench line format.

Run it a second time with NN_GEMM_SHARED_B=1 to measure the shared packed B
panel (ParallelGemm.sharesPackedB, off by default: measured only on 2 vCPUs,
where it did not pay): the threads of a product split into row parts pack B
once, together, instead of each part packing or reading its own.
"""
import ctypes
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))
import nn  # noqa: E402

try:
    import torch
except ImportError:
    torch = None


def best(fn, repeat=3):
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def emit(bench, system, threads, metric, value):
    print(f"bench={bench} system={system} threads={threads} metric={metric} value={value:.4g}", flush=True)


def main():
    global torch
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--no-torch" in sys.argv:
        torch = None
    if args and "," in args[0]:
        counts = [int(t) for t in args[0].split(",")]
    else:
        top = int(args[0]) if args else os.cpu_count()
        counts = [t for t in (1, 2, 4, 8, 16, 32) if t <= top]
    print(f"# {os.cpu_count()} CPUs, libnn {nn.__version__} ({nn.cpu_level()}), torch {torch.__version__ if torch else 'absent'}",
          flush=True)
    rng = np.random.default_rng(0)
    n = 1024
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.zeros((n, n), np.float32)
    fp = ctypes.POINTER(ctypes.c_float)
    rows = 8192
    x = rng.standard_normal((rows, 784), dtype=np.float32)
    labels = rng.integers(0, 10, rows)
    y = labels.astype(np.float32)
    xor = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    xor_y = np.array([0, 1, 1, 0], np.float32)
    for threads in counts:
        nn.set_num_threads(threads)
        for size in (1024, 1008):
            t = best(lambda: nn._lib.nn_sgemm(0, 0, size, size, size, 1.0, a.ctypes.data_as(fp), size,
                                              b.ctypes.data_as(fp), size, 0.0, c.ctypes.data_as(fp), size), repeat=5)
            emit(f"gemm_n{size}", "libnn", threads, "gflops", 2 * size ** 3 / t / 1e9)
        for batch in (128, 1024):
            model = nn.Sequential([nn.layers.Dense(256, activation="relu", input_dim=784),
                                   nn.layers.Dense(128, activation="relu"),
                                   nn.layers.Dense(10, activation="softmax")], seed=1)
            model.compile(loss="sparse_categorical_crossentropy", optimizer=nn.optimizers.Adam(learning_rate=1e-3))
            t = best(lambda: model.fit(x, y, epochs=1, batch_size=batch, shuffle=False, verbose=0))
            emit(f"w1_train_b{batch}", "libnn", threads, "samples_per_s", rows / t)
        tiny = nn.Sequential([nn.layers.Dense(8, activation="sigmoid", input_dim=2),
                              nn.layers.Dense(1, activation="sigmoid")], seed=1)
        tiny.compile(loss="mse", optimizer=nn.optimizers.SGD(learning_rate=0.5))
        t = best(lambda: tiny.fit(xor, xor_y, epochs=20000, batch_size=1, shuffle=False, verbose=0))
        emit("w2_xor_online", "libnn", threads, "steps_per_s", 80000 / t)
        if torch is not None:
            torch.set_num_threads(threads)
            for size in (1024, 1008):
                ta, tb = torch.from_numpy(a[:size, :size].copy()), torch.from_numpy(b[:size, :size].copy())
                t = best(lambda: torch.mm(ta, tb), repeat=5)
                emit(f"gemm_n{size}", "pytorch", threads, "gflops", 2 * size ** 3 / t / 1e9)
            tx, ty = torch.from_numpy(x), torch.from_numpy(labels)
            for batch in (128, 1024):
                net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                          torch.nn.ReLU(), torch.nn.Linear(128, 10))
                opt = torch.optim.Adam(net.parameters(), lr=1e-3)
                lossf = torch.nn.CrossEntropyLoss()

                def epoch():
                    for s in range(0, rows, batch):
                        opt.zero_grad()
                        lossf(net(tx[s:s + batch]), ty[s:s + batch]).backward()
                        opt.step()
                t = best(epoch)
                emit(f"w1_train_b{batch}", "pytorch", threads, "samples_per_s", rows / t)
    nn.set_num_threads(0)


if __name__ == "__main__":
    main()
