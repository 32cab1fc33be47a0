#!/usr/bin/env python3
"""A network that does not learn, what libnn says about it, and the fix.

scikit-learn's 8x8 digits. The broken network is what people write when they
first stack layers: ten sigmoid layers with small initial weights. Its loss
stays at ln 10 = 2.30, the value of guessing, because the gradient that
reaches the first layers is many orders of magnitude smaller than at the
last. `model.diagnose` runs a few steps on a copy of the model and says so,
with the numbers and the usual remedy; the gradient check confirms that the
gradients themselves are right (the problem is the network, not a bug); the
fixed network (ReLU, He initialization, batch normalization) learns.

    python3 examples/debugging.py [output.png]

Writes the two learning curves side by side (debugging.png by default;
needs matplotlib) and per-layer gradient norms of both networks. Exits with
status 1 if the diagnosis or the fix does not behave as described.
"""

import os
import sys

try:
    import nn
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                    "bindings", "python"))
    import nn

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

EPOCHS = 30


def broken_network():
    model = nn.Sequential(seed=0)
    model.add(nn.layers.Input(shape=(64,)))
    for _ in range(9):
        model.add(nn.layers.Dense(32, activation="sigmoid",
                                  kernel_initializer=nn.initializers.Constant(0.01)))
    model.add(nn.layers.Dense(10, activation="softmax"))
    model.compile(optimizer=nn.optimizers.SGD(learning_rate=0.1),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def fixed_network():
    model = nn.Sequential(seed=0)
    model.add(nn.layers.Input(shape=(64,)))
    for _ in range(9):
        model.add(nn.layers.Dense(32, kernel_initializer="he_normal"))
        model.add(nn.layers.BatchNormalization())
        model.add(nn.layers.Activation("relu"))
    model.add(nn.layers.Dense(10, activation="softmax"))
    model.compile(optimizer=nn.optimizers.SGD(learning_rate=0.1),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "debugging.png"
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.2,
                                                        random_state=0)

    broken = broken_network()
    print("== the broken network: 10 sigmoid layers, initial weights 0.01 ==")
    diagnosis = broken.diagnose(x_train, y_train)
    print(diagnosis.report)
    checks = broken.gradient_check(x_train[:16], y_train[:16])
    print(checks)
    last = max(c.relative_error for c in checks[-3:])
    tiny = sum(c.below_resolution for c in checks)
    print(f"Backpropagation is right: where the derivatives are large enough for finite differences "
          f"(the last layers) the two agree to {last:.0e}. Layer by layer towards the input they "
          f"shrink, until {tiny} of them, in the first layers, are below what finite differences "
          f"can resolve at all: the gradient vanishes on its way down.\n")

    fixed = fixed_network()
    print("== the fix: ReLU + He initialization + batch normalization ==")
    print(fixed.diagnose(x_train, y_train).report)

    histories = {}
    for name, model in (("broken", broken), ("fixed", fixed)):
        histories[name] = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32,
                                    validation_data=(x_test, y_test), verbose=0,
                                    callbacks=[nn.callbacks.LayerStatistics()])
        loss, accuracy = model.evaluate(x_test, y_test)
        print(f"{name:>6}: test loss {loss:.3f}, test accuracy {accuracy:.3f}")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no picture (pip install matplotlib)")
    else:
        fig, axes = plt.subplots(1, 3, figsize=(15, 4))
        for (name, history), color in zip(histories.items(), ("C3", "C0")):
            h = history.history
            epochs = range(1, len(h["loss"]) + 1)
            axes[0].plot(epochs, h["loss"], color=color, label=f"{name} (training)")
            axes[0].plot(epochs, h["val_loss"], "--", color=color, label=f"{name} (validation)")
            axes[1].plot(epochs, h["val_accuracy"], color=color, label=name)
            final = history.layer_stats[-1]["layers"]
            norms = [layer["gradient_norm"] for layer in final if layer["gradient_norm"] is not None]
            axes[2].semilogy(range(1, len(norms) + 1), norms, "o-", color=color, label=name)
        axes[0].set_title("loss")
        axes[1].set_title("validation accuracy")
        axes[2].set_title("gradient norm per layer (last epoch)")
        axes[0].set_xlabel("epoch")
        axes[1].set_xlabel("epoch")
        axes[2].set_xlabel("layer with parameters")
        for ax in axes:
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize="small")
        fig.tight_layout()
        fig.savefig(out, dpi=100)
        plt.close(fig)
        print(f"wrote {out}")

    ok = bool(diagnosis.find("vanishing_gradients")) and last < 1e-6 and checks[0].below_resolution > 0
    ok = ok and histories["fixed"].history["val_accuracy"][-1] > 0.9
    ok = ok and histories["broken"].history["val_accuracy"][-1] < 0.3
    if not ok:
        print("FAILED: the example did not behave as described", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
