#!/usr/bin/env python3
"""Handwritten digits trained data-parallel over MPI (nn.distributed).

    mpirun -n 2 python examples/mpi_digits.py [--history FILE]

Every process loads the same data and builds the same model; fit then
trains data-parallel: each global batch of 64 rows is shared among the
processes and their gradients are summed with MPI_Allreduce (mpi4py) before
each step. Rank 0 prints the epochs and the test accuracy (every process
computes the same). --history FILE: each rank writes its History as JSON
to FILE.<rank> (the test compares them). Exits with status 1 if the test
accuracy is below 0.96.
"""

import json
import sys

import digits  # examples/digits.py: the data, and `import nn` from a checkout
import nn
import nn.distributed as dist

REQUIRED_ACCURACY = 0.96


def main():
    dist.init()
    x_train, x_test, y_train, y_test = digits.load()

    model = nn.Sequential([nn.layers.Dense(128, activation="relu", input_dim=64),
                           nn.layers.Dense(10, activation="softmax")], seed=42)
    model.compile(optimizer=nn.optimizers.Adam(learning_rate=0.003),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=64, epochs=30, seed=7,
                        verbose=2)            # rank 0 prints; the others are silent
    loss, accuracy = model.evaluate(x_test, y_test)
    if "--history" in sys.argv:
        path = sys.argv[sys.argv.index("--history") + 1]
        with open(f"{path}.{dist.rank()}", "w") as f:
            json.dump({"history": history.history, "test_accuracy": accuracy}, f)
    if dist.is_main():
        path = "from C" if dist.reduces_in_c() else "through Python"
        print(f"{dist.size()} processes (MPI_Allreduce called {path}): test loss {loss:.4f}, "
              f"test accuracy {accuracy:.4f}", flush=True)
    return 0 if accuracy >= REQUIRED_ACCURACY else 1


if __name__ == "__main__":
    sys.exit(main())
