"""Adamax and mish (added by issue 11 as the proof that a new optimizer or
activation is a local change), checked through the binding against
PyTorch's formulas written out in numpy: torch.optim.Adamax and
torch.nn.Mish."""

import numpy as np
import pytest

import nn


def mish(z):
    """torch.nn.functional.mish: z * tanh(softplus(z))."""
    return z * np.tanh(np.logaddexp(0.0, z))


def test_mish_by_name_and_class():
    assert isinstance(nn.activations.get("mish"), nn.activations.Mish)
    assert nn.activations.Mish().name == "mish"
    assert nn.activations.Mish().code == nn._lib.NN_ACTIVATION_MISH


def test_dense_mish_predicts_torchs_values():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(16, 3)).astype(np.float32) * 3
    model = nn.Sequential([nn.layers.Dense(5, activation="mish", input_dim=3)])
    kernel, bias = model.get_weights()
    want = mish(x.astype(np.float64) @ kernel.astype(np.float64) + bias)
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)


def test_mish_gradient_passes_the_gradient_check():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(8, 3)).astype(np.float32)
    y = rng.normal(size=(8, 2)).astype(np.float32)
    model = nn.Sequential([nn.layers.Dense(4, activation="mish", input_dim=3), nn.layers.Dense(2)])
    model.compile(loss="mse", optimizer="sgd")
    report = model.gradient_check(x, y)
    assert report.max_relative_error < 1e-6, report


def adamax_reference(w, b, x, y, epochs, lr, beta_1=0.9, beta_2=0.999, eps=1e-8):
    """Full-batch MSE on a linear Dense, trained by torch.optim.Adamax's rule
    in float64."""
    params = [w.astype(np.float64), b.astype(np.float64)]
    m = [np.zeros_like(p) for p in params]
    u = [np.zeros_like(p) for p in params]
    for t in range(1, epochs + 1):
        p = x @ params[0] + params[1]
        d = 2 * (p - y) / p.size
        grads = [x.T @ d, d.sum(axis=0)]
        for i, g in enumerate(grads):
            m[i] = beta_1 * m[i] + (1 - beta_1) * g
            u[i] = np.maximum(beta_2 * u[i], np.abs(g) + eps)
            params[i] = params[i] - lr / (1 - beta_1 ** t) * m[i] / u[i]
    return params


def test_adamax_training_follows_torchs_rule():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(32, 4)).astype(np.float32)
    y = (x @ rng.normal(size=(4, 2)) + 0.5).astype(np.float32)
    model = nn.Sequential([nn.layers.Dense(2, input_dim=4)])
    model.compile(loss="mse", optimizer=nn.optimizers.Adamax(learning_rate=0.05))
    w0, b0 = model.get_weights()
    model.fit(x, y, epochs=6, batch_size=32, shuffle=False, verbose=0)
    want = adamax_reference(w0, b0, x.astype(np.float64), y.astype(np.float64), 6, 0.05)
    for got, expected in zip(model.get_weights(), want):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_adamax_defaults_name_and_validation():
    opt = nn.optimizers.get("adamax")
    assert type(opt) is nn.optimizers.Adamax
    assert (opt.learning_rate, opt.beta_1, opt.beta_2, opt.epsilon, opt.weight_decay) == (
        0.002, 0.9, 0.999, 1e-8, 0.0)
    with pytest.raises(nn.InvalidArgumentError, match="beta_1"):
        nn.optimizers.Adamax(beta_1=1.0)
    with pytest.raises(nn.InvalidArgumentError, match="epsilon"):
        nn.optimizers.Adamax(epsilon=0.0)


def test_adamax_resumes_exactly_after_save_and_load(tmp_path):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = rng.normal(size=(40, 1)).astype(np.float32)

    def make():
        model = nn.Sequential([nn.layers.Dense(6, activation="mish", input_dim=3), nn.layers.Dense(1)],
                              seed=11)
        model.compile(loss="mse", optimizer=nn.optimizers.Adamax(learning_rate=0.01, weight_decay=0.01))
        return model

    straight = make()
    straight.fit(x, y, epochs=4, batch_size=8, verbose=0)
    first = make()
    first.fit(x, y, epochs=2, batch_size=8, verbose=0)
    first.save(tmp_path / "adamax.nn")
    loaded = nn.load_model(tmp_path / "adamax.nn")
    assert type(loaded.optimizer) is nn.optimizers.Adamax
    assert loaded.optimizer.weight_decay == 0.01
    assert loaded.layers[0].activation == "mish"
    loaded.fit(x, y, epochs=2, batch_size=8, verbose=0)
    for a, b in zip(straight.get_weights(), loaded.get_weights()):
        assert np.array_equal(a, b)
