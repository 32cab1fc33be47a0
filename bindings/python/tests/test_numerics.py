"""libnn's numbers against small numpy references (float64)."""

import ctypes

import numpy as np
import pytest

import nn
from nn import _lib
from nn._handle import _check
from nn.layers import Dense


def linear_model(inputs, outputs, weights, optimizer, loss="mse", activation=None):
    model = nn.Sequential([Dense(outputs, input_dim=inputs, activation=activation)])
    model.set_weights(weights)
    model.compile(optimizer=optimizer, loss=loss)
    return model


def mse_grads(x, y, w, b):
    """Gradients of mean((x·w + b - y)^2) over all elements."""
    p = x @ w + b
    dp = 2.0 * (p - y) / p.size
    return x.T @ dp, dp.sum(axis=0)


@pytest.fixture
def problem():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(8, 3)).astype(np.float32).astype(np.float64)
    y = rng.normal(size=(8, 2)).astype(np.float32).astype(np.float64)
    w = rng.normal(size=(3, 2)).astype(np.float32).astype(np.float64)
    b = rng.normal(size=2).astype(np.float32).astype(np.float64)
    return x, y, w, b


# --------------------------------------------------------------------------
# Optimizers: the PyTorch update rules, step by step
# --------------------------------------------------------------------------

@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_adam_three_steps_match_torch_formula(problem, weight_decay):
    """torch.optim.Adam (docs, "Algorithm"), amsgrad=False, maximize=False:
        g_t = grad + weight_decay * theta_{t-1}
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2
        m_hat = m_t / (1 - beta1^t);  v_hat = v_t / (1 - beta2^t)
        theta_t = theta_{t-1} - lr * m_hat / (sqrt(v_hat) + eps)
    """
    x, y, w, b = problem
    lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
    model = linear_model(3, 2, [w, b], nn.optimizers.Adam(learning_rate=lr,
                                                          weight_decay=weight_decay))
    params = [w.copy(), b.copy()]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t in range(1, 4):
        grads = mse_grads(x, y, *params)
        for i, (p, g) in enumerate(zip(params, grads)):
            g = g + weight_decay * p
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            m_hat = m[i] / (1 - beta1 ** t)
            v_hat = v[i] / (1 - beta2 ** t)
            params[i] = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        got = model.get_weights()
        np.testing.assert_allclose(got[0], params[0], rtol=0, atol=2e-6, err_msg=f"step {t}")
        np.testing.assert_allclose(got[1], params[1], rtol=0, atol=2e-6, err_msg=f"step {t}")
    # Adam's first steps move each weight by about lr: the test has teeth
    assert np.all(np.abs(params[0] - w) > 0.5 * lr)


def test_adam_defaults_are_pytorch():
    adam = nn.optimizers.Adam()
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon, adam.weight_decay) == (
        0.001, 0.9, 0.999, 1e-8, 0.0)
    options = adam._options()
    assert (options.learning_rate, options.beta1, options.beta2, options.epsilon) == (
        0.001, 0.9, 0.999, 1e-8)
    sgd = nn.optimizers.SGD()._options()
    assert (sgd.learning_rate, sgd.momentum, sgd.nesterov, sgd.weight_decay) == (0.01, 0, 0, 0)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_three_steps_match_torch_formula(problem, nesterov):
    """torch.optim.SGD (docs, "Algorithm"), dampening 0:
        g_t = grad + weight_decay * theta_{t-1}
        b_1 = g_1;  b_t = momentum * b_{t-1} + g_t
        g_t = g_t + momentum * b_t  if nesterov  else  b_t
        theta_t = theta_{t-1} - lr * g_t
    """
    x, y, w, b = problem
    lr, mu, wd = 0.05, 0.9, 0.01
    model = linear_model(3, 2, [w, b], nn.optimizers.SGD(learning_rate=lr, momentum=mu,
                                                         nesterov=nesterov, weight_decay=wd))
    params = [w.copy(), b.copy()]
    buf = [None, None]
    for t in range(1, 4):
        grads = mse_grads(x, y, *params)
        for i, (p, g) in enumerate(zip(params, grads)):
            g = g + wd * p
            buf[i] = g.copy() if buf[i] is None else mu * buf[i] + g
            step = g + mu * buf[i] if nesterov else buf[i]
            params[i] = p - lr * step
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        got = model.get_weights()
        np.testing.assert_allclose(got[0], params[0], rtol=1e-5, atol=1e-6, err_msg=f"step {t}")
        np.testing.assert_allclose(got[1], params[1], rtol=1e-5, atol=1e-6, err_msg=f"step {t}")


def test_compile_resets_optimizer_state(problem):
    """Re-compiling sets a new optimizer: Adam's step count starts again."""
    x, y, w, b = problem
    a = linear_model(3, 2, [w, b], nn.optimizers.Adam(0.01))
    a.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    mid = a.get_weights()
    a.compile(optimizer=nn.optimizers.Adam(0.01), loss="mse")
    a.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    fresh = linear_model(3, 2, mid, nn.optimizers.Adam(0.01))
    fresh.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for p, q in zip(a.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(p, q)


def test_minibatches_and_epoch_loss(problem):
    """Two batches of 4 without shuffling: two SGD steps in order; the epoch
    loss reported is the sample-weighted mean of the batch losses (Keras)."""
    x, y, w, b = problem
    lr = 0.1
    model = linear_model(3, 2, [w, b], nn.optimizers.SGD(lr))
    params = [w.copy(), b.copy()]
    batch_losses = []
    for start in (0, 4):
        xb, yb = x[start:start + 4], y[start:start + 4]
        batch_losses.append(np.mean((xb @ params[0] + params[1] - yb) ** 2))
        gw, gb = mse_grads(xb, yb, *params)
        params = [params[0] - lr * gw, params[1] - lr * gb]
    h = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    got = model.get_weights()
    np.testing.assert_allclose(got[0], params[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], params[1], rtol=1e-5, atol=1e-6)
    assert h.history["loss"][0] == pytest.approx(np.mean(batch_losses), rel=1e-5)


# --------------------------------------------------------------------------
# Loss values
# --------------------------------------------------------------------------

def test_mse_value(problem):
    x, y, w, b = problem
    model = linear_model(3, 2, [w, b], "sgd")
    ref = np.mean((x @ w + b - y) ** 2)
    assert model.evaluate(x, y) == pytest.approx(ref, rel=1e-5)
    # the loss is zero at the target
    assert model.evaluate(x, x @ w + b) == pytest.approx(0.0, abs=1e-10)


def test_bce_value(problem):
    x, _, w, b = problem
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, size=(8, 2)).astype(np.float64)
    model = linear_model(3, 2, [w, b], "sgd", loss="binary_crossentropy", activation="sigmoid")
    p = 1 / (1 + np.exp(-(x @ w + b)))
    ref = np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)))
    assert model.evaluate(x, y) == pytest.approx(ref, rel=1e-5)
    np.testing.assert_allclose(model.predict(x), p, rtol=1e-5, atol=1e-6)
    # from_logits on a linear layer gives the same loss
    logits = linear_model(3, 2, [w, b], "sgd",
                          loss=nn.losses.BinaryCrossentropy(from_logits=True))
    assert logits.evaluate(x, y) == pytest.approx(ref, rel=1e-5)


def test_cce_and_sparse_values(problem):
    x, _, w, b = problem
    labels = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    model = linear_model(3, 2, [w, b], "sgd", loss="categorical_crossentropy",
                         activation="softmax")
    z = x @ w + b
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    ref = -np.mean(log_p[np.arange(8), labels])
    assert model.evaluate(x, np.eye(2)[labels]) == pytest.approx(ref, rel=1e-5)
    np.testing.assert_allclose(model.predict(x).sum(axis=1), 1.0, atol=1e-6)
    sparse = linear_model(3, 2, [w, b], "sgd", loss="sparse_categorical_crossentropy",
                          activation="softmax")
    assert sparse.evaluate(x, labels) == pytest.approx(ref, rel=1e-5)
    logits = linear_model(3, 2, [w, b], "sgd",
                          loss=nn.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert logits.evaluate(x, labels) == pytest.approx(ref, rel=1e-5)


def test_accuracy_metric_variants(problem):
    x, _, w, b = problem
    z = x @ w + b
    # categorical: argmax of prediction vs argmax of target
    labels = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    m = linear_model(3, 2, [w, b], "sgd", loss="categorical_crossentropy", activation="softmax")
    m.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    ref = np.mean(z.argmax(axis=1) == labels)
    assert m.evaluate(x, np.eye(2)[labels])[1] == pytest.approx(ref)
    # binary: threshold 0.5 on each output
    yb = (np.arange(16).reshape(8, 2) % 3 == 0).astype(np.float64)
    m = linear_model(3, 2, [w, b], "sgd", activation="sigmoid")
    m.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    p = 1 / (1 + np.exp(-z))
    ref = np.mean((p > 0.5) == (yb > 0.5))
    assert m.evaluate(x, yb)[1] == pytest.approx(ref)


# --------------------------------------------------------------------------
# Stability
# --------------------------------------------------------------------------

def test_softmax_cross_entropy_with_huge_logits():
    """Logits of +-1e4: the loss is computed from the logits, so it is finite
    and exact (-log softmax = logsumexp(z) - z_label)."""
    model = nn.Sequential([Dense(3, input_dim=1, activation="softmax")])
    model.set_weights([np.array([[1e4, -1e4, 0.0]]), np.zeros(3)])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x = np.ones((1, 1))
    p = model.predict(x)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p, [[1.0, 0.0, 0.0]], atol=1e-7)
    assert model.evaluate(x, [[0, 1, 0]]) == pytest.approx(2e4, rel=1e-6)
    assert model.evaluate(x, [[0, 0, 1]]) == pytest.approx(1e4, rel=1e-6)
    assert model.evaluate(x, [[1, 0, 0]]) == pytest.approx(0.0, abs=1e-6)
    # and a training step stays finite
    model.fit(x, np.array([[0, 1, 0]]), epochs=1, verbose=0)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


def test_sigmoid_binary_crossentropy_with_huge_logits():
    model = nn.Sequential([Dense(2, input_dim=1, activation="sigmoid")])
    model.set_weights([np.array([[1e4, -1e4]]), np.zeros(2)])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    x = np.ones((1, 1))
    # -log sigmoid(-1e4) = 1e4 for each output, mean over the two outputs
    assert model.evaluate(x, [[0.0, 1.0]]) == pytest.approx(1e4, rel=1e-6)
    assert model.evaluate(x, [[1.0, 0.0]]) == pytest.approx(0.0, abs=1e-6)


# --------------------------------------------------------------------------
# The GEMM exported by nn.h
# --------------------------------------------------------------------------

@pytest.mark.parametrize("trans_a,trans_b", [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_sgemm_against_numpy(trans_a, trans_b):
    rng = np.random.default_rng(trans_a * 2 + trans_b)
    m, n, k = 5, 7, 3
    a = rng.normal(size=(k, m) if trans_a else (m, k)).astype(np.float32)
    b = rng.normal(size=(n, k) if trans_b else (k, n)).astype(np.float32)
    # C with a wider row stride (ldc = n + 2) to check leading dimensions
    c = rng.normal(size=(m, n + 2)).astype(np.float32)
    c_before = c.copy()
    alpha, beta = 1.5, -0.5
    fp = ctypes.POINTER(ctypes.c_float)
    _check(_lib.nn_sgemm(trans_a, trans_b, m, n, k, alpha, a.ctypes.data_as(fp), a.shape[1],
                         b.ctypes.data_as(fp), b.shape[1], beta, c.ctypes.data_as(fp), n + 2))
    op_a = a.T if trans_a else a
    op_b = b.T if trans_b else b
    ref = alpha * op_a.astype(np.float64) @ op_b + beta * c_before[:, :n]
    np.testing.assert_allclose(c[:, :n], ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(c[:, n:], c_before[:, n:])  # padding untouched


def test_sgemm_beta_zero_ignores_nan_in_c():
    fp = ctypes.POINTER(ctypes.c_float)
    a = np.ones((2, 2), np.float32)
    c = np.full((2, 2), np.nan, np.float32)
    _check(_lib.nn_sgemm(0, 0, 2, 2, 2, 1.0, a.ctypes.data_as(fp), 2, a.ctypes.data_as(fp), 2,
                         0.0, c.ctypes.data_as(fp), 2))
    np.testing.assert_array_equal(c, np.full((2, 2), 2.0, np.float32))
    with pytest.raises(nn.InvalidArgumentError, match="lda"):
        _check(_lib.nn_sgemm(0, 0, 2, 2, 2, 1.0, a.ctypes.data_as(fp), 1, a.ctypes.data_as(fp),
                             2, 0.0, c.ctypes.data_as(fp), 2))
