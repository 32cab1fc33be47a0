#!/usr/bin/env python3
"""Golden reference data for libnn: a float64 numpy model of a dense MLP.

For each case this script builds fixed inputs, targets and initial weights
(all float32-representable), then computes in float64:

  * the forward pass (predict),
  * the loss (mean over samples, Keras/PyTorch definitions),
  * the gradient of the loss with respect to every weight (checked here
    against central finite differences before anything is written),
  * the weights after one plain SGD step (momentum 0) on the whole batch.

The results are written to Tests/golden/<case>.txt, which the Swift tests,
the cmocka tests and the pytest suite all read. See README.md for the
format.

Usage:
    python3 Tests/golden/gen_golden.py          # (re)write the .txt files
    python3 Tests/golden/gen_golden.py --check  # exit 1 if the files differ
"""

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


# --------------------------------------------------------------------------
# Values that float32 can hold exactly (libnn computes in float32)
# --------------------------------------------------------------------------

def f32(a):
    """Round a float64 array to the nearest float32 value, kept as float64."""
    return np.asarray(a, dtype=np.float64).astype(np.float32).astype(np.float64)


# --------------------------------------------------------------------------
# Activations: forward f(z) and the backward product dz = f'(z) * da
# --------------------------------------------------------------------------

ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "softmax")


def act_forward(name, z):
    if name == "linear":
        return z.copy()
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise ValueError(f"unknown activation {name!r}")


def act_backward(name, z, a, da):
    """Given z, a = f(z) and dL/da, return dL/dz."""
    if name == "linear":
        return da.copy()
    if name == "sigmoid":
        return da * a * (1.0 - a)
    if name == "tanh":
        return da * (1.0 - a * a)
    if name == "relu":
        return da * (z > 0.0)
    if name == "softmax":
        # Jacobian-vector product of the row-wise softmax:
        # dz_j = a_j * (da_j - sum_i da_i a_i)
        return a * (da - (da * a).sum(axis=1, keepdims=True))
    raise ValueError(f"unknown activation {name!r}")


# --------------------------------------------------------------------------
# Losses: value (mean over samples) and dL/dp
# --------------------------------------------------------------------------

LOSSES = (
    "mean_squared_error",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
)


def loss_value(name, p, y):
    n = p.shape[0]
    if name == "mean_squared_error":
        return float(np.mean((y - p) ** 2))
    if name == "binary_crossentropy":
        return float(np.mean(-(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))))
    if name == "categorical_crossentropy":
        return float(np.mean(-(y * np.log(p)).sum(axis=1)))
    if name == "sparse_categorical_crossentropy":
        labels = y[:, 0].astype(np.int64)
        return float(np.mean(-np.log(p[np.arange(n), labels])))
    raise ValueError(f"unknown loss {name!r}")


def loss_grad(name, p, y):
    """dL/dp for the mean loss."""
    n, k = p.shape
    if name == "mean_squared_error":
        return 2.0 * (p - y) / (n * k)
    if name == "binary_crossentropy":
        return (p - y) / (p * (1.0 - p)) / (n * k)
    if name == "categorical_crossentropy":
        return -y / p / n
    if name == "sparse_categorical_crossentropy":
        labels = y[:, 0].astype(np.int64)
        g = np.zeros_like(p)
        g[np.arange(n), labels] = -1.0 / p[np.arange(n), labels] / n
        return g
    raise ValueError(f"unknown loss {name!r}")


# --------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------

def forward(x, weights, acts):
    """Returns (output, cache); weights = [w0, b0, w1, b1, ...], b as 1×units."""
    cache = []
    a = x
    for i, act in enumerate(acts):
        w, b = weights[2 * i], weights[2 * i + 1]
        z = a @ w + b
        out = act_forward(act, z)
        cache.append((a, z, out))
        a = out
    return a, cache


def loss_of(x, y, weights, acts, loss):
    p, _ = forward(x, weights, acts)
    return loss_value(loss, p, y)


def backward(x, y, weights, acts, loss):
    """Gradients of the mean loss with respect to every weight array."""
    p, cache = forward(x, weights, acts)
    grads = [None] * len(weights)
    da = loss_grad(loss, p, y)
    for i in reversed(range(len(acts))):
        a_in, z, out = cache[i]
        dz = act_backward(acts[i], z, out, da)
        grads[2 * i] = a_in.T @ dz
        grads[2 * i + 1] = dz.sum(axis=0, keepdims=True)
        da = dz @ weights[2 * i].T
    return grads


def check_gradients(x, y, weights, acts, loss, case):
    """Central finite differences in float64 against backward()."""
    grads = backward(x, y, weights, acts, loss)
    h = 1e-6
    for wi, w in enumerate(weights):
        numeric = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            plus = [v.copy() for v in weights]
            minus = [v.copy() for v in weights]
            plus[wi][idx] += h
            minus[wi][idx] -= h
            numeric[idx] = (loss_of(x, y, plus, acts, loss)
                            - loss_of(x, y, minus, acts, loss)) / (2.0 * h)
        err = np.max(np.abs(numeric - grads[wi]) / np.maximum(1.0, np.abs(numeric)))
        assert err < 1e-7, (
            f"{case}: gradient of weight {wi} differs from finite differences "
            f"(max rel err {err:.3g})\nanalytic:\n{grads[wi]}\nnumeric:\n{numeric}")
        # A test of nothing is no test: make sure each array gets a real gradient.
        assert np.any(np.abs(grads[wi]) > 1e-6), f"{case}: gradient of weight {wi} is ~0"
    return grads


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------

def glorot_uniform(rng, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return f32(rng.uniform(-limit, limit, size=(fan_in, fan_out)))


def small_bias(rng, units):
    # nonzero, so a bias that is ignored shows up in the outputs
    mag = rng.uniform(0.02, 0.2, size=(1, units))
    sign = rng.choice([-1.0, 1.0], size=(1, units))
    return f32(mag * sign)


def make_weights(rng, input_dim, layers):
    weights = []
    fan_in = input_dim
    for units, _ in layers:
        weights.append(glorot_uniform(rng, fan_in, units))
        weights.append(small_bias(rng, units))
        fan_in = units
    return weights


def relu_margin_ok(x, weights, acts, margin=1e-3):
    """True if every relu pre-activation is at least `margin` away from 0 and
    each relu layer has both active and inactive units (both branches tested)."""
    _, cache = forward(x, weights, acts)
    for act, (_, z, _) in zip(acts, cache):
        if act != "relu":
            continue
        if np.min(np.abs(z)) < margin:
            return False
        if not (np.any(z > 0) and np.any(z < 0)):
            return False
        # every unit active for at least one sample, so no weight column is dead
        if not np.all(np.any(z > 0, axis=0)):
            return False
    return True


def build_case(name, seed, input_dim, layers, loss, lr, samples):
    acts = [act for _, act in layers]
    for attempt in range(1000):
        rng = np.random.default_rng(seed + 7919 * attempt)
        x = f32(rng.uniform(-1.0, 1.0, size=(samples, input_dim)))
        out_units = layers[-1][0]
        if loss == "categorical_crossentropy":
            labels = rng.integers(0, out_units, size=samples)
            labels[:out_units] = np.arange(out_units)  # every class appears
            rng.shuffle(labels)
            y = np.eye(out_units)[labels]
        elif loss == "sparse_categorical_crossentropy":
            labels = rng.integers(0, out_units, size=samples)
            labels[:out_units] = np.arange(out_units)
            rng.shuffle(labels)
            y = labels.astype(np.float64).reshape(samples, 1)
        elif loss == "binary_crossentropy":
            y = rng.integers(0, 2, size=(samples, out_units)).astype(np.float64)
            if np.all(y == y.flat[0]):
                continue
        elif loss == "mean_squared_error":
            y = f32(rng.uniform(-1.0, 1.0, size=(samples, out_units)))
        else:
            raise ValueError(loss)
        weights = make_weights(rng, input_dim, layers)
        if relu_margin_ok(x, weights, acts):
            break
    else:
        raise RuntimeError(f"{name}: no draw kept relu pre-activations away from 0")

    out, _ = forward(x, weights, acts)
    loss_val = loss_value(loss, out, y)
    grads = check_gradients(x, y, weights, acts, loss, name)
    # Plain SGD (momentum 0, no weight decay) on the whole batch: w -= lr * g.
    stepped = [w - lr * g for w, g in zip(weights, grads)]

    return dict(name=name, seed=seed, input_dim=input_dim, layers=layers, loss=loss,
                lr=lr, x=x, y=y, weights=weights, out=out, loss_val=loss_val,
                stepped=stepped)


CASES = [
    dict(name="mlp_softmax_cce", seed=1001, input_dim=4,
         layers=[(5, "tanh"), (3, "softmax")], loss="categorical_crossentropy",
         lr=0.1, samples=6),
    dict(name="mlp_sigmoid_bce", seed=2002, input_dim=3,
         layers=[(4, "relu"), (2, "sigmoid")], loss="binary_crossentropy",
         lr=0.1, samples=5),
    dict(name="mlp_linear_mse", seed=3003, input_dim=2,
         layers=[(3, "sigmoid"), (1, "linear")], loss="mean_squared_error",
         lr=0.25, samples=7),
    dict(name="sparse_softmax", seed=4004, input_dim=4,
         layers=[(3, "linear"), (4, "softmax")], loss="sparse_categorical_crossentropy",
         lr=0.5, samples=6),
]


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

def fmt_tensor(name, a):
    a = np.asarray(a, dtype=np.float64)
    assert a.ndim == 2, name
    assert np.all(np.isfinite(a)), name
    values = " ".join("%.9g" % v for v in a.ravel())
    return f"tensor {name} {a.shape[0]} {a.shape[1]}\n{values}\n"


def render(case):
    lines = []
    lines.append(f"# libnn golden case '{case['name']}', written by Tests/golden/gen_golden.py\n")
    lines.append("# (numpy float64 reference; do not edit by hand, regenerate instead).\n")
    lines.append(f"# rng: numpy default_rng, base seed {case['seed']}\n")
    lines.append(f"input_dim {case['input_dim']}\n")
    for units, act in case["layers"]:
        lines.append(f"layer {units} {act}\n")
    lines.append(f"loss {case['loss']}\n")
    lines.append("lr %.9g\n" % case["lr"])
    lines.append(fmt_tensor("x", case["x"]))
    lines.append(fmt_tensor("y", case["y"]))
    nlayers = len(case["layers"])
    for i in range(nlayers):
        lines.append(fmt_tensor(f"w{i}", case["weights"][2 * i]))
        lines.append(fmt_tensor(f"b{i}", case["weights"][2 * i + 1]))
    lines.append(fmt_tensor("out", case["out"]))
    lines.append("scalar loss %.9g\n" % case["loss_val"])
    for i in range(nlayers):
        lines.append(fmt_tensor(f"w{i}_step", case["stepped"][2 * i]))
        lines.append(fmt_tensor(f"b{i}_step", case["stepped"][2 * i + 1]))
    return "".join(lines)


def self_check_format(text, case):
    """Parse what we are about to write, the way the test suites will."""
    parsed = parse(text)
    assert parsed["input_dim"] == case["input_dim"]
    assert parsed["layers"] == [(u, a) for u, a in case["layers"]]
    # %.9g round-trips float32: read back as float32, x is bit-exact
    assert np.array_equal(f32(parsed["tensors"]["x"]), case["x"])
    for i, w in enumerate(case["weights"]):
        key = f"w{i // 2}" if i % 2 == 0 else f"b{i // 2}"
        assert np.array_equal(f32(parsed["tensors"][key]), w), key
    assert np.allclose(parsed["tensors"]["out"], case["out"], rtol=1e-8, atol=0)
    assert abs(parsed["scalars"]["loss"] - case["loss_val"]) <= 1e-8 * abs(case["loss_val"])


def parse(text):
    """Minimal reader of the golden format (the same logic the suites use)."""
    result = {"layers": [], "tensors": {}, "scalars": {}}
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    i = 0
    while i < len(lines):
        parts = lines[i].split()
        key = parts[0]
        if key == "input_dim":
            result["input_dim"] = int(parts[1])
        elif key == "layer":
            result["layers"].append((int(parts[1]), parts[2]))
        elif key == "loss":
            result["loss"] = parts[1]
        elif key == "lr":
            result["lr"] = float(parts[1])
        elif key == "scalar":
            result["scalars"][parts[1]] = float(parts[2])
        elif key == "tensor":
            rows, cols = int(parts[2]), int(parts[3])
            i += 1
            vals = np.array([float(v) for v in lines[i].split()], dtype=np.float64)
            assert vals.size == rows * cols, f"tensor {parts[1]}: {vals.size} values"
            result["tensors"][parts[1]] = vals.reshape(rows, cols)
        else:
            raise ValueError(f"unknown line {lines[i]!r}")
        i += 1
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if any file differs from what would be written")
    ap.add_argument("--out-dir", default=HERE, help="where to write the .txt files")
    args = ap.parse_args()

    stale = []
    for spec in CASES:
        case = build_case(**spec)
        text = render(case)
        self_check_format(text, case)
        path = os.path.join(args.out_dir, case["name"] + ".txt")
        if args.check:
            try:
                with open(path) as f:
                    if f.read() != text:
                        stale.append(path)
            except FileNotFoundError:
                stale.append(path)
        else:
            with open(path, "w") as f:
                f.write(text)
            print(f"wrote {path}  (loss {case['loss_val']:.6f})")
    if stale:
        print("out of date (run gen_golden.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
