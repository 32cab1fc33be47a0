"""nn.explain: input gradients (nn_model_input_gradient and
nn_model_loss_input_gradient through Python), saliency and integrated
gradients.

References: central finite differences of a float64 numpy copy of the
model (its weights from get_weights, the layers' formulas written out here),
so the analytic gradients are checked against an independent computation;
PyTorch's torch.autograd.grad on the same weights when torch is installed;
and the completeness axiom of integrated gradients (Sundararajan et al.
2017: a row's attributions add up to F(x) - F(baseline)).
"""

import threading

import numpy as np
import pytest

import nn
from nn import explain


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


_ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "softmax": _softmax,
    "linear": lambda z: z,
    "softplus": lambda z: np.log1p(np.exp(z)),
}


def _reference(model):
    """A float64 function computing the model (Dense layers only)."""
    layers = [(w.astype(np.float64), b.astype(np.float64), layer.activation)
              for layer, (w, b) in zip(model.layers, (l.get_weights() for l in model.layers))]

    def forward(x):
        a = np.asarray(x, dtype=np.float64)
        for w, b, activation in layers:
            a = _ACTIVATIONS[activation or "linear"](a @ w + b)
        return a
    return forward


def _numeric_gradient(f, x, h=1e-6):
    """Central differences of the scalar-per-row f at each x[r, i]."""
    x = x.astype(np.float64)
    g = np.empty_like(x)
    for i in range(x.shape[1]):
        up, down = x.copy(), x.copy()
        up[:, i] += h
        down[:, i] -= h
        g[:, i] = (f(up) - f(down)) / (2 * h)
    return g


def _classifier(seed=3, inputs=6, hidden=10, outputs=4):
    model = nn.Sequential([nn.layers.Dense(hidden, activation="tanh", input_dim=inputs),
                           nn.layers.Dense(8, activation="softplus"),
                           nn.layers.Dense(outputs, activation="softmax")], seed=seed)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (9, 6)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 9)]
    return x, y


@pytest.mark.parametrize("rows", [1, 9])
def test_input_gradients_match_finite_differences(data, rows):
    x = data[0][:rows]
    model = _classifier()
    forward = _reference(model)
    targets = np.arange(rows) % 4
    got = model.input_gradients(x, output=targets)
    want = _numeric_gradient(lambda z: forward(z)[np.arange(rows), targets], x)
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-6)
    # grad_outputs: any weights of the outputs (a vector-Jacobian product).
    weights = np.random.default_rng(1).normal(size=(rows, 4)).astype(np.float32)
    got = explain.input_gradients(model, x, grad_outputs=weights)
    want = _numeric_gradient(lambda z: (forward(z) * weights).sum(axis=1), x)
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-6)


def test_default_output_is_the_predicted_class(data):
    x = data[0]
    model = _classifier()
    predicted = np.argmax(model.predict(x), axis=1)
    np.testing.assert_array_equal(model.input_gradients(x), model.input_gradients(x, output=predicted))
    # an int: that output for every row
    np.testing.assert_array_equal(model.input_gradients(x, output=2),
                                  model.input_gradients(x, output=np.full(len(x), 2)))


def test_loss_input_gradients_match_finite_differences(data):
    x, y = data
    model = _classifier()
    forward = _reference(model)

    def row_losses(z):
        return -(y * np.log(forward(z))).sum(axis=1)

    got = model.loss_input_gradients(x, y)
    # the mean over rows (evaluate's loss): row r is d loss_r / d x_r / rows
    want = _numeric_gradient(row_losses, x) / len(x)
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=1e-6)
    # evaluate's loss moves as the gradient says (first order)
    step = 1e-3 * np.sign(got)
    before = model.evaluate(x, y)
    after = model.evaluate(x + step, y)
    assert after > before
    np.testing.assert_allclose(after - before, float(np.sum(np.abs(got)) * 1e-3), rtol=0.05)


def test_matches_torch_autograd(data):
    torch = pytest.importorskip("torch")
    x, y = data
    model = _classifier()
    layers = []
    for layer in model.layers:
        w, b = layer.get_weights()
        linear = torch.nn.Linear(w.shape[0], w.shape[1]).double()
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.astype(np.float64)))
            linear.bias.copy_(torch.from_numpy(b.astype(np.float64)))
        layers.append(linear)
    net = torch.nn.Sequential(layers[0], torch.nn.Tanh(), layers[1], torch.nn.Softplus(), layers[2],
                              torch.nn.Softmax(dim=1)).eval()
    tx = torch.from_numpy(x.astype(np.float64)).requires_grad_(True)
    out = net(tx)
    weights = torch.from_numpy(np.eye(4)[np.arange(len(x)) % 4])
    (want,) = torch.autograd.grad(out, tx, grad_outputs=weights)
    got = model.input_gradients(x, output=np.arange(len(x)) % 4)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-4, atol=1e-6)
    # the loss: torch's cross-entropy on log-probabilities, reduction='mean'
    tx = torch.from_numpy(x.astype(np.float64)).requires_grad_(True)
    loss = torch.nn.functional.nll_loss(torch.log(net(tx)), torch.from_numpy(np.argmax(y, axis=1)))
    (want,) = torch.autograd.grad(loss, tx)
    np.testing.assert_allclose(model.loss_input_gradients(x, y), want.numpy(), rtol=1e-4, atol=1e-7)


def test_batchnorm_and_dropout_in_inference_mode(data):
    x, y = data
    model = nn.Sequential([nn.layers.Dense(10, activation="tanh", input_dim=6),
                           nn.layers.BatchNormalization(momentum=0.5),
                           nn.layers.Dropout(0.4),
                           nn.layers.Dense(4, activation="softmax")], seed=5)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x, y, epochs=3, batch_size=3, verbose=0)   # running statistics move
    (w1, b1), (gamma, beta, mean, var), (w2, b2) = (model.layers[0].get_weights(),
                                                    model.layers[1].get_weights(),
                                                    model.layers[3].get_weights())

    def forward(z):
        h = np.tanh(z @ w1 + b1)
        h = gamma * (h - mean) / np.sqrt(var.astype(np.float64) + 1e-5) + beta   # eval mode; Dropout: identity
        return _softmax(h @ w2 + b2)

    got = model.input_gradients(x, output=1)
    want = _numeric_gradient(lambda z: forward(z)[:, 1], x)
    np.testing.assert_allclose(got, want, rtol=5e-4, atol=5e-6)
    # inference mode: no randomness, the same result twice
    np.testing.assert_array_equal(got, model.input_gradients(x, output=1))


def test_model_unchanged_and_training_unaffected(data):
    x, y = data
    a, b = _classifier(), _classifier()
    before = a.get_weights()
    a.input_gradients(x)
    a.loss_input_gradients(x, y)
    explain.integrated_gradients(a, x, steps=8)
    for w0, w1 in zip(before, a.get_weights()):
        np.testing.assert_array_equal(w0, w1)
    a.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    b.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    for w0, w1 in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(w0, w1)


def test_integrated_gradients_completeness():
    # A trained classifier on the digits (64 inputs): a row's attributions
    # add up to F(x) - F(baseline) within 1e-3 (Sundararajan et al. 2017).
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, (200, 64)).astype(np.float32)
    labels = (x[:, :32].sum(axis=1) > x[:, 32:].sum(axis=1)).astype(int) + 2 * (x[:, 0] > 0.5)
    y = np.eye(4, dtype=np.float32)[labels]
    model = nn.Sequential([nn.layers.Dense(32, activation="tanh", input_dim=64),
                           nn.layers.Dense(16, activation="gelu"),
                           nn.layers.Dense(4, activation="softmax")], seed=7)
    model.compile(optimizer=nn.optimizers.Adam(0.01), loss="categorical_crossentropy")
    model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    sample = x[:20]
    attributions, delta = explain.integrated_gradients(model, sample, steps=64, return_delta=True)
    assert attributions.shape == sample.shape and attributions.dtype == np.float32
    predicted = np.argmax(model.predict(sample), axis=1)
    gap = model.predict(sample)[np.arange(20), predicted] - model.predict(np.zeros_like(sample))[np.arange(20), predicted]
    np.testing.assert_allclose(attributions.sum(axis=1, dtype=np.float64), gap, atol=1e-3)
    assert np.max(np.abs(delta)) < 1e-3
    # the gaps are not trivially small: the test can fail
    assert np.max(np.abs(gap)) > 0.1
    # too few steps leave a visible error (the quadrature is what closes it)
    _, coarse = explain.integrated_gradients(model, sample, steps=1, return_delta=True)
    assert np.max(np.abs(coarse)) > 10 * np.max(np.abs(delta))


def test_integrated_gradients_of_a_linear_model_are_exact():
    # F(x) = w.x + b: the attribution of x_i is (x_i - x'_i) w_i for any steps.
    model = nn.Sequential([nn.layers.Dense(1, input_dim=5)], seed=1)
    w = model.layers[0].get_weights()[0][:, 0]
    x = np.random.default_rng(3).normal(size=(4, 5)).astype(np.float32)
    baseline = np.full(5, 0.5, dtype=np.float32)
    got = explain.integrated_gradients(model, x, baseline=baseline, steps=3)
    np.testing.assert_allclose(got, (x - baseline) * w, rtol=1e-5, atol=1e-6)


def test_saliency_is_the_absolute_gradient(data):
    x = data[0]
    model = _classifier()
    np.testing.assert_array_equal(explain.saliency(model, x, output=0),
                                  np.abs(model.input_gradients(x, output=0)))


def test_dataframes_keep_columns(data):
    pd = pytest.importorskip("pandas")
    x = data[0]
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(6)], index=range(10, 19))
    model = _classifier()
    got = model.input_gradients(frame, output=1)
    assert isinstance(got, pd.DataFrame)
    assert list(got.columns) == list(frame.columns) and list(got.index) == list(frame.index)
    np.testing.assert_array_equal(got.to_numpy(), model.input_gradients(x, output=1))
    ig = explain.integrated_gradients(model, frame, steps=4)
    assert list(ig.columns) == list(frame.columns)


def test_threads_share_a_model(data):
    x = data[0]
    model = _classifier()
    want = model.input_gradients(x, output=3)
    results, errors = [], []

    def work():
        try:
            for _ in range(50):
                results.append(model.input_gradients(x, output=3))
        except Exception as exc:      # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 150
    for r in results:
        np.testing.assert_array_equal(r, want)


def test_bad_input(data):
    x, y = data
    model = _classifier()
    with pytest.raises(ValueError, match=r"output must be an output index in \[0, 4\), got 4"):
        model.input_gradients(x, output=4)
    with pytest.raises(ValueError, match="one output index per row"):
        model.input_gradients(x, output=[0, 1])
    with pytest.raises(TypeError, match="integers"):
        model.input_gradients(x, output=np.zeros(len(x)))
    with pytest.raises(ValueError, match="not both"):
        explain.input_gradients(model, x, output=0, grad_outputs=np.zeros((9, 4)))
    with pytest.raises(nn.ShapeMismatchError if hasattr(nn, "ShapeMismatchError") else ValueError,
                       match="output_gradient must have the model's 4 output columns, got 3"):
        explain.input_gradients(model, x, grad_outputs=np.zeros((9, 3)))
    bad = x.copy()
    bad[2, 3] = np.nan
    with pytest.raises(ValueError, match=r"non-finite value \(nan\) at row 2, column 3"):
        model.input_gradients(bad, output=0)
    with pytest.raises(ValueError, match="expected 6 input columns, got 5"):
        model.input_gradients(x[:, :5], output=0)
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        explain.integrated_gradients(model, x, steps=0)
    with pytest.raises(ValueError, match="baseline must be"):
        explain.integrated_gradients(model, x, baseline=np.zeros(5))
    with pytest.raises(ValueError, match="different numbers of samples"):
        model.loss_input_gradients(x, y[:3])
    # no loss: the loss gradient is refused with libnn's message
    plain = nn.Sequential([nn.layers.Dense(2, input_dim=6)])
    with pytest.raises(nn.InvalidStateError, match="no loss is set"):
        plain.loss_input_gradients(x, y[:, :2])
    # a step activation passes no gradient
    step = nn.Sequential([nn.layers.Dense(3, activation="step", input_dim=6), nn.layers.Dense(2)])
    with pytest.raises(nn.InvalidStateError, match="step activation"):
        step.input_gradients(x, output=0)
