"""Data-parallel W1 training (issue 14), for `make bench`:

    mpirun -n 2 python benchmarks/mpi_bench.py      (2 processes x 1 thread)
    python benchmarks/mpi_bench.py --threads 2      (1 process x 2 threads)

W1 (784-256-128-10, ReLU, softmax + cross-entropy, Adam 1e-3) on synthetic
data, global batch 1024, best of 3 epochs of 16 steps. Rank 0 prints
bench= lines: samples/s, and with MPI the all-reduce's share of the step
(50 all-reduces of the step's buffer timed alone by the same processes,
times the epoch's steps, over the epoch's wall time).
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))

import numpy as np  # noqa: E402

import nn  # noqa: E402
import nn.distributed as dist  # noqa: E402

BATCH, STEPS = 1024, 16


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--mpi", action="store_true", help="data-parallel over mpi4py's COMM_WORLD")
    args = parser.parse_args()
    nn.set_num_threads(args.threads)
    if args.mpi:
        dist.init()
    rng = np.random.default_rng(0)
    rows = BATCH * STEPS
    x = rng.standard_normal((rows, 784), dtype=np.float32)
    y = rng.integers(0, 10, rows).astype(np.float32)
    model = nn.Sequential([nn.layers.Dense(256, activation="relu", input_dim=784),
                           nn.layers.Dense(128, activation="relu"),
                           nn.layers.Dense(10, activation="softmax")], seed=1)
    model.compile(optimizer=nn.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy")
    best = float("inf")
    for _ in range(4):
        t = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        best = min(best, time.perf_counter() - t)
    share = None
    if args.mpi:
        # the all-reduce alone: the step's buffer (the gradients and 3 slots)
        # summed by the same processes, as libnn's callback does each step
        from mpi4py import MPI
        comm = MPI.COMM_WORLD
        buffer = np.zeros(model.count_params() + 3, np.float32)
        comm.Barrier()
        t = time.perf_counter()
        for _ in range(50):
            comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        per_call = (time.perf_counter() - t) / 50
        share = per_call * STEPS / best
    system = f"libnn-{dist.size()}proc-{args.threads}thread"
    if dist.is_main():
        print(f"bench=w1_train_b1024_data_parallel system={system} threads={args.threads} "
              f"metric=samples_per_s value={rows / best:.4g}", flush=True)
        if share is not None:
            print(f"bench=w1_train_b1024_data_parallel system={system} threads={args.threads} "
                  f"metric=allreduce_share value={share:.4g}", flush=True)
            print(f"# each step's all-reduce called {'from C' if dist.reduces_in_c() else 'through Python'}",
                  flush=True)


if __name__ == "__main__":
    main()
