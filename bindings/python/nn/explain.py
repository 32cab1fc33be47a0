"""Explanations: which inputs drove a prediction.

All of these rest on one libnn call, the gradient of the model's outputs
with respect to its inputs (nn.h ``nn_model_input_gradient``: a
vector-Jacobian product computed by back-propagation down to x), in
inference mode as PyTorch's ``torch.autograd.grad`` on a model in ``eval()``
mode: Dropout is the identity and BatchNorm uses its running statistics, so
each row is explained on its own and the model is not changed. Like
predict, they may run on several threads at once.

- ``input_gradients(model, x, output=None)``: ∂output/∂x per row
  (``Sequential.input_gradients``).
- ``loss_input_gradients(model, x, y)``: ∂loss/∂x of the compiled loss, the
  mean over rows as ``evaluate`` reports it (``nn_model_loss_input_gradient``).
- ``saliency(model, x, output=None)``: |∂output/∂x| (Simonyan, Vedaldi and
  Zisserman 2013, "Deep Inside Convolutional Networks").
- ``integrated_gradients(model, x, baseline=None, output=None, steps=50)``:
  (x − x′) ⊙ ∫₀¹ ∂F(x′ + α(x − x′))/∂x dα (Sundararajan, Taly and Yan 2017,
  "Axiomatic Attribution for Deep Networks"), whose attributions of a row
  add up to F(x) − F(x′) (completeness).

Which output is explained (``output``):

- ``None``: the only output of a one-output model; otherwise, for each row,
  the output the model predicts highest there (the predicted class), as
  saliency maps usually do;
- an int j: output j for every row;
- a sequence of ints, one per row (e.g. the true classes).

``grad_outputs`` (input_gradients only) instead gives the weights of every
output for every row, an array (rows, outputs): the result is then
Σ_j grad_outputs[r, j] ∂output[r, j]/∂x[r] (torch.autograd.grad's
``grad_outputs``).

Outputs are the model's predictions (after the last activation: softmax
probabilities, not logits). A pandas DataFrame x gives DataFrames with the
same columns and index.
"""

import numbers

import numpy as np

from . import _lib
from ._arrays import _as_matrix, _as_targets, _check_rows, _ptr

__all__ = ["input_gradients", "loss_input_gradients", "saliency", "integrated_gradients"]


def _is_dataframe(x):
    return type(x).__module__.startswith("pandas") and hasattr(x, "columns") and hasattr(x, "index")


def _like(x, values):
    """values shaped as x: a DataFrame with x's columns and index if x is one."""
    if _is_dataframe(x):
        return type(x)(values, columns=x.columns, index=x.index)
    return values


def _matrix(model, x):
    model._require_open()
    model._check_columns(x, "explain")
    x = _as_matrix(x, "x")
    model._ensure_built_from(x)
    return x


def _targets(model, x, output):
    """The output index explained for each row (an int array of len(x))."""
    outputs = model._output_dim
    rows = x.shape[0]
    if output is None:
        if outputs == 1:
            return np.zeros(rows, dtype=np.intp)
        return np.argmax(model.predict(x), axis=1)
    if isinstance(output, numbers.Integral) and not isinstance(output, bool):
        if not 0 <= output < outputs:
            raise ValueError(f"output must be an output index in [0, {outputs}), got {output}")
        return np.full(rows, int(output), dtype=np.intp)
    if isinstance(output, (str, bytes, bool)) or not hasattr(output, "__len__"):
        raise TypeError(f"output must be None, an int or a sequence of ints (one per row), got {output!r}")
    targets = np.asarray(output)
    if targets.ndim != 1 or targets.shape[0] != rows:
        raise ValueError(f"output must hold one output index per row ({rows}), got shape {targets.shape}")
    if targets.size and not np.issubdtype(targets.dtype, np.integer):
        raise TypeError(f"output indices must be integers, got dtype {targets.dtype}")
    if targets.size and (targets.min() < 0 or targets.max() >= outputs):
        raise ValueError(f"output indices must be in [0, {outputs}), got values from {targets.min()} to {targets.max()}")
    return targets.astype(np.intp)


def _one_hot(targets, outputs):
    weights = np.zeros((targets.shape[0], outputs), dtype=np.float32)
    weights[np.arange(targets.shape[0]), targets] = 1
    return weights


def _vjp(model, x, weights):
    """libnn's input gradient of Σ_j weights[r, j] output[r, j] for each row."""
    gradient = np.empty(x.shape, dtype=np.float32)
    model._handle.shared_call(_lib.nn_model_input_gradient, _ptr(x), x.shape[0], x.shape[1],
                              _ptr(weights), weights.shape[1], _ptr(gradient), gradient.size)
    return gradient


def input_gradients(model, x, output=None, grad_outputs=None):
    """∂output/∂x for each row of x (samples, features), float32, shaped as x.

    output selects the output explained (see the module's docstring: None is
    the predicted class, or the only output); grad_outputs, an array
    (samples, outputs), weighs every output instead (not with output).
    libnn checks x (width, NaN) with the messages predict gives.
    """
    frame = x
    x = _matrix(model, x)
    if grad_outputs is not None:
        if output is not None:
            raise ValueError("give output or grad_outputs, not both")
        weights = _as_matrix(grad_outputs, "grad_outputs")
        # libnn checks the shape against the model (its message names it).
    else:
        weights = _one_hot(_targets(model, x, output), model._output_dim)
    return _like(frame, _vjp(model, x, weights))


def loss_input_gradients(model, x, y):
    """∂L/∂x of the model's compiled loss L on (x, y) as evaluate computes it
    (the mean over rows, as PyTorch's reduction='mean'; the regularization
    penalty does not depend on x): row r is ∂loss_r/∂x[r] / len(x), what
    ``torch.autograd.grad(loss_fn(model(x), y), x)`` gives. Multiply by
    len(x) for each sample's own loss gradient (adversarial examples: FGSM
    takes its sign)."""
    frame = x
    x = _matrix(model, x)
    y = _as_targets(y, "y")
    _check_rows(x, y, "loss_input_gradients")
    gradient = np.empty(x.shape, dtype=np.float32)
    model._handle.shared_call(_lib.nn_model_loss_input_gradient, _ptr(x), _ptr(y), x.shape[0], x.shape[1],
                              y.shape[1], _ptr(gradient), gradient.size)
    return _like(frame, gradient)


def saliency(model, x, output=None):
    """The saliency map |∂output/∂x| of each row (Simonyan et al. 2013)."""
    gradient = input_gradients(model, x, output)
    return np.abs(gradient) if not _is_dataframe(gradient) else gradient.abs()


def integrated_gradients(model, x, baseline=None, output=None, steps=50, return_delta=False):
    """Integrated gradients (Sundararajan et al. 2017) of each row of x.

    attribution_i = (x_i − x′_i) · ∫₀¹ ∂F(x′ + α(x − x′))/∂x_i dα, with F
    the explained output (chosen at x, see ``output``) and x′ the baseline:
    None (zeros), a scalar, one row (features,) for every row, or an array
    shaped as x. The integral is the trapezoidal rule on ``steps`` equal
    intervals (steps + 1 gradient evaluations per row, in batches), whose
    error falls as 1/steps² for a smooth model; captum's default is a
    Gauss-Legendre rule with 50 steps. Completeness: a row's attributions
    add up to F(x) − F(x′) up to that error; with return_delta=True the
    result is (attributions, delta) with delta[r] = Σ_i attribution[r, i] −
    (F(x[r]) − F(x′[r])), float64, to check it.
    """
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    steps = int(steps)
    frame = x
    x = _matrix(model, x)
    rows, cols = x.shape
    if baseline is None:
        base = np.zeros_like(x)
    else:
        base = np.asarray(baseline.values if _is_dataframe(baseline) else baseline, dtype=np.float32)
        if base.ndim == 0 or base.shape == (cols,):
            base = np.broadcast_to(base, x.shape)
        elif base.shape != x.shape:
            raise ValueError(f"baseline must be a scalar, one row of {cols} features or shaped as x {x.shape}, "
                             f"got shape {base.shape}")
        base = np.ascontiguousarray(base, dtype=np.float32)
    targets = _targets(model, x, output)
    outputs = model._output_dim
    alphas = np.linspace(0.0, 1.0, steps + 1)
    # Trapezoidal weights of the points α_k = k / steps.
    quadrature = np.full(steps + 1, 1.0 / steps)
    quadrature[0] = quadrature[-1] = 0.5 / steps
    difference = x.astype(np.float64) - base
    attributions = np.empty((rows, cols), dtype=np.float64)
    # A batch of path points of a few rows at a time: at most 2^22 floats
    # (16 MB) of points, as many of gradients, twice that in float64.
    chunk = max(1, (1 << 22) // ((steps + 1) * max(cols, 1)))
    for start in range(0, rows, chunk):
        stop = min(rows, start + chunk)
        d = difference[start:stop]
        points = base[start:stop, None, :] + alphas[None, :, None] * d[:, None, :]
        points = np.ascontiguousarray(points.reshape(-1, cols), dtype=np.float32)
        weights = _one_hot(np.repeat(targets[start:stop], steps + 1), outputs)
        gradients = _vjp(model, points, weights).reshape(stop - start, steps + 1, cols)
        attributions[start:stop] = d * np.einsum("k,rkc->rc", quadrature, gradients.astype(np.float64))
    result = _like(frame, attributions.astype(np.float32))
    if not return_delta:
        return result
    picked = np.arange(rows), targets
    gap = model.predict(x)[picked].astype(np.float64) - model.predict(base)[picked].astype(np.float64)
    return result, attributions.sum(axis=1) - gap
