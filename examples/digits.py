#!/usr/bin/env python3
"""Handwritten digits with libnn: what `make demo` runs.

scikit-learn's 8x8 digits (1797 images, 10 classes), 80/20 split, a
64 -> 128 relu -> 10 softmax network trained with Adam on sparse labels.
Prints one line per epoch and the test accuracy; exits with status 1 if
the accuracy is below 0.96.
"""

import os
import sys
import time

try:
    import nn
except ImportError:
    # Running from a checkout without `make python` or `pip install .`.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                    "bindings", "python"))
    import nn

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

REQUIRED_ACCURACY = 0.96


def load():
    """scikit-learn's digits as float32 pixels in [0, 1] and class labels,
    split 80/20 (x_train, x_test, y_train, y_test; examples/mpi_digits.py
    trains on the same split)."""
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)  # pixels are 0..16
    return train_test_split(x, digits.target, test_size=0.2, random_state=0)


def main():
    x_train, x_test, y_train, y_test = load()

    model = nn.Sequential([
        nn.layers.Dense(128, input_dim=64, activation="relu"),
        nn.layers.Dense(10, activation="softmax"),
    ], seed=0)
    model.compile(optimizer=nn.optimizers.Adam(learning_rate=0.002),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()

    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=40, batch_size=32, validation_data=(x_test, y_test),
              verbose=1)
    seconds = time.perf_counter() - start

    loss, accuracy = model.evaluate(x_test, y_test)
    predicted = model.predict(x_test).argmax(axis=1)
    assert abs(np.mean(predicted == y_test) - accuracy) < 1e-9
    print(f"trained in {seconds:.2f}s on {len(x_train)} images (libnn {nn.__version__})")
    print(f"test loss: {loss:.4f}")
    print(f"test accuracy: {accuracy:.3f}")
    if accuracy < REQUIRED_ACCURACY:
        print(f"FAILED: test accuracy {accuracy:.3f} is below {REQUIRED_ACCURACY}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
