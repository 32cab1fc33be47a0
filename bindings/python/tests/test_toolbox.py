"""The training toolbox (issue 3) through the public API: layers, activations,
initializers, regularizers, losses, optimizers, schedules, metrics, the
training loop's options, with numbers against numpy / scikit-learn
references and the errors a user meets."""

import math
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from sklearn.metrics import f1_score, precision_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import nn
from nn import _lib
from nn.layers import Activation, BatchNormalization, Dense, Dropout

TINY_LR = 1e-12  # an SGD step that leaves the weights as they are (to float32 precision)


# --------------------------------------------------------------------------
# Acceptance: scikit-learn's breast-cancer data
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    scaler = StandardScaler().fit(x_train)
    return (scaler.transform(x_train), scaler.transform(x_test), y_train.astype(np.float32),
            y_test.astype(np.float32))


def breast_cancer_model():
    model = nn.Sequential([Dense(16, activation="relu", input_dim=30),
                           Dense(1, activation="sigmoid")])
    model.compile(optimizer=nn.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def test_acceptance_breast_cancer_accuracy(breast_cancer, record_property):
    x_train, x_test, y_train, y_test = breast_cancer
    model = breast_cancer_model()
    model.fit(x_train, y_train, epochs=50, batch_size=32, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test)
    record_property("test_accuracy", accuracy)
    print(f"breast cancer: test accuracy {accuracy:.4f}, test loss {loss:.4f}")
    assert accuracy >= 0.95
    predicted = (model.predict(x_test)[:, 0] > 0.5).astype(np.float32)
    assert accuracy == pytest.approx(np.mean(predicted == y_test))


def test_acceptance_breast_cancer_early_stopping(breast_cancer, record_property):
    x_train, _, y_train, _ = breast_cancer
    model = breast_cancer_model()
    stopper = nn.callbacks.EarlyStopping(patience=5, restore_best_weights=True)
    history = model.fit(x_train, y_train, epochs=200, batch_size=32, validation_split=0.2,
                        callbacks=[stopper], verbose=0)
    epochs_run = len(history.epoch)
    val_loss = history.history["val_loss"]
    record_property("epochs_run", epochs_run)
    record_property("best_val_loss", min(val_loss))
    print(f"breast cancer: stopped after {epochs_run} epochs (stopped_epoch "
          f"{stopper.stopped_epoch}), best val_loss {min(val_loss):.6f} at epoch "
          f"{stopper.best_epoch}")
    assert epochs_run < 200
    # Keras's rule: the last epoch is patience epochs after the best one
    assert int(np.argmin(val_loss)) == epochs_run - 1 - 5
    assert stopper.stopped_epoch == epochs_run - 1
    assert stopper.best == min(val_loss) and stopper.best_epoch == int(np.argmin(val_loss))
    # the validation rows are the last 20% of the training arrays
    split_at = int(len(x_train) * 0.8)
    assert history.params["samples"] == split_at
    restored = model.evaluate(x_train[split_at:], y_train[split_at:], return_dict=True)
    assert restored["loss"] == pytest.approx(min(val_loss), abs=1e-5)
    assert restored["accuracy"] == pytest.approx(
        history.history["val_accuracy"][int(np.argmin(val_loss))])


# --------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------

def _identity_model(width, activation):
    """Dense(width) with an identity kernel and zero bias, then `activation`."""
    model = nn.Sequential([Dense(width, input_dim=width, activation=activation)])
    model.set_weights([np.eye(width), np.zeros(width)])
    return model


def _normal_cdf(z):
    return 0.5 * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))


ACTIVATION_REFERENCES = [
    ("linear", lambda z: z),
    ("sigmoid", lambda z: 1 / (1 + np.exp(-z))),
    ("tanh", np.tanh),
    ("relu", lambda z: np.maximum(z, 0)),
    ("leaky_relu", lambda z: np.where(z > 0, z, 0.2 * z)),   # keras.activations default 0.2
    ("elu", lambda z: np.where(z > 0, z, np.exp(z) - 1)),
    ("gelu", lambda z: z * _normal_cdf(z)),                  # exact form, not tanh
    ("softplus", lambda z: np.log1p(np.exp(z))),
    ("step", lambda z: (z > 0).astype(np.float64)),
    (nn.activations.LeakyReLU(negative_slope=0.1), lambda z: np.where(z > 0, z, 0.1 * z)),
    (nn.activations.ELU(alpha=0.5), lambda z: np.where(z > 0, z, 0.5 * (np.exp(z) - 1))),
]


@pytest.mark.parametrize("activation,reference", ACTIVATION_REFERENCES,
                         ids=[str(a) for a, _ in ACTIVATION_REFERENCES])
def test_activation_values(activation, reference):
    z = np.linspace(-3, 3, 25).reshape(5, 5)
    z[2, 2] = 0.0
    got = _identity_model(5, activation).predict(z)
    np.testing.assert_allclose(got, reference(z), rtol=1e-5, atol=1e-6)
    # the same through an Activation layer after a linear Dense
    model = nn.Sequential([Dense(5, input_dim=5), Activation(activation)])
    model.set_weights([np.eye(5), np.zeros(5)])
    np.testing.assert_allclose(model.predict(z), reference(z), rtol=1e-5, atol=1e-6)


def test_softmax_activation_layer():
    z = np.random.default_rng(0).normal(size=(4, 3))
    model = nn.Sequential([Dense(3, input_dim=3), Activation("softmax")])
    model.set_weights([np.eye(3), np.zeros(3)])
    e = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(model.predict(z), e / e.sum(axis=1, keepdims=True), rtol=1e-5)


def test_activation_objects_and_names():
    layer = Dense(3, activation=nn.activations.LeakyReLU(0.1))
    assert layer.activation == "leaky_relu"
    assert layer.get_config()["activation"] == {"name": "leaky_relu", "negative_slope": 0.1}
    assert Dense(3, activation="ELU").activation == "elu"
    assert Dense(3).activation == "linear"
    assert nn.activations.get(None) == nn.activations.Linear()
    with pytest.raises(ValueError, match=r"leaky_relu: negative_slope must be a finite number "
                                         r">= 0, got -1.0"):
        nn.activations.LeakyReLU(negative_slope=-1)
    with pytest.raises(ValueError, match=r"elu: alpha must be a finite number > 0, got 0.0"):
        nn.activations.ELU(alpha=0)
    with pytest.raises(ValueError, match="got nan"):
        nn.activations.ELU(alpha=float("nan"))


def test_step_cannot_be_trained_through():
    model = nn.Sequential([Dense(1, input_dim=2, activation="step")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    x = np.array([[1.0, 2.0], [-1.0, -2.0]])
    with pytest.raises(nn.InvalidStateError, match="step activation"):
        model.fit(x, np.array([1, 0]), verbose=0)
    # ... but it runs for inference, e.g. a hand-set perceptron
    model.set_weights([np.array([[1.0], [1.0]]), np.array([0.0])])
    np.testing.assert_array_equal(model.predict(x), [[1.0], [0.0]])


# --------------------------------------------------------------------------
# Initializers
# --------------------------------------------------------------------------

FAN_IN, FAN_OUT = 300, 200


@pytest.mark.parametrize("name,kind,variance", [
    ("glorot_uniform", "uniform", 2 / (FAN_IN + FAN_OUT)),
    ("he_uniform", "uniform", 2 / FAN_IN),
    ("lecun_uniform", "uniform", 1 / FAN_IN),
    ("glorot_normal", "normal", 2 / (FAN_IN + FAN_OUT)),
    ("he_normal", "normal", 2 / FAN_IN),
    ("lecun_normal", "normal", 1 / FAN_IN),
])
def test_random_initializers(name, kind, variance):
    """Keras's formulas: U(-l, l) with l = sqrt(3 * variance), or a normal
    truncated at 2 sigma whose spread is corrected so that the variance is
    `variance` (sigma = sqrt(variance) / 0.87962566)."""
    class_name = {"glorot_uniform": "GlorotUniform", "he_uniform": "HeUniform",
                  "lecun_uniform": "LecunUniform", "glorot_normal": "GlorotNormal",
                  "he_normal": "HeNormal", "lecun_normal": "LecunNormal"}[name]
    for init in (name, getattr(nn.initializers, class_name)()):
        model = nn.Sequential([Dense(FAN_OUT, input_dim=FAN_IN, kernel_initializer=init)])
        kernel, bias = model.get_weights()
        assert np.all(bias == 0)
        std = math.sqrt(variance)
        assert np.std(kernel) == pytest.approx(std, rel=0.02)
        assert abs(np.mean(kernel)) < 0.02 * std
        if kind == "uniform":
            limit = math.sqrt(3 * variance)
            assert np.max(np.abs(kernel)) <= limit
            assert np.max(np.abs(kernel)) > 0.99 * limit
        else:
            assert np.max(np.abs(kernel)) <= 2 * std / 0.87962566103423978 * (1 + 1e-6)
            # a normal shape: about 68% of a normal's mass within 1 std of 0
            # would be 0.6827 untruncated; the corrected truncated one puts
            # more there
            assert 0.65 < np.mean(np.abs(kernel) < std) < 0.80


def test_constant_initializers():
    model = nn.Sequential([
        Dense(3, input_dim=2, kernel_initializer=nn.initializers.Constant(0.25),
              bias_initializer=nn.initializers.Constant(-1.5)),
        Dense(2, kernel_initializer="ones", bias_initializer=nn.initializers.Ones()),
        Dense(2, kernel_initializer=nn.initializers.Zeros()),
    ])
    w = model.get_weights()
    np.testing.assert_array_equal(w[0], np.full((2, 3), 0.25, np.float32))
    np.testing.assert_array_equal(w[1], np.full(3, -1.5, np.float32))
    np.testing.assert_array_equal(w[2], np.ones((3, 2), np.float32))
    np.testing.assert_array_equal(w[3], np.ones(2, np.float32))
    np.testing.assert_array_equal(w[4], np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="Constant initializer value must be a finite number, "
                                         "got inf"):
        nn.initializers.Constant(float("inf"))


# --------------------------------------------------------------------------
# Regularizers
# --------------------------------------------------------------------------

@pytest.fixture
def regression():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(8, 3)).astype(np.float32).astype(np.float64)
    y = rng.normal(size=(8, 2)).astype(np.float32).astype(np.float64)
    w = rng.normal(size=(3, 2)).astype(np.float32).astype(np.float64)
    b = rng.normal(size=2).astype(np.float32).astype(np.float64)
    return x, y, w, b


def _linear(w, b, optimizer="sgd", loss="mse", **dense):
    model = nn.Sequential([Dense(w.shape[1], input_dim=w.shape[0], **dense)])
    model.set_weights([w, b])
    model.compile(optimizer=optimizer, loss=loss)
    return model


def _mse_grads(x, y, w, b):
    p = x @ w + b
    dp = 2.0 * (p - y) / p.size
    return x.T @ dp, dp.sum(axis=0)


@pytest.mark.parametrize("regularizer,l1,l2", [
    (nn.regularizers.L2(0.05), 0.0, 0.05),
    (nn.regularizers.L1(0.03), 0.03, 0.0),
    (nn.regularizers.L1L2(l1=0.02, l2=0.04), 0.02, 0.04),
    ("l2", 0.0, 0.01),
    ("l1", 0.01, 0.0),
])
def test_kernel_regularizer_penalty_and_step(regression, regularizer, l1, l2):
    """Keras: the loss gains l1 * sum|W| + l2 * sum W^2 (kernel only), in
    evaluate and in the training loss; its gradient l1 sign(W) + 2 l2 W
    joins the kernel's gradient."""
    x, y, w, b = regression
    lr = 0.1
    model = _linear(w, b, nn.optimizers.SGD(lr), kernel_regularizer=regularizer)
    mse = np.mean((x @ w + b - y) ** 2)
    penalty = l1 * np.abs(w).sum() + l2 * (w ** 2).sum()
    assert penalty > 0.01
    assert model.evaluate(x, y) == pytest.approx(mse + penalty, rel=1e-5)
    h = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert h.history["loss"][0] == pytest.approx(mse + penalty, rel=1e-5)
    gw, gb = _mse_grads(x, y, w, b)
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel, w - lr * (gw + l1 * np.sign(w) + 2 * l2 * w),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bias, b - lr * gb, rtol=1e-5, atol=1e-6)


def test_regularizer_arguments():
    assert nn.regularizers.L1().l1 == 0.01 and nn.regularizers.L2().l2 == 0.01
    assert (nn.regularizers.L1L2().l1, nn.regularizers.L1L2().l2) == (0.0, 0.0)
    with pytest.raises(ValueError, match="L2 regularizer l2 must be a finite number >= 0, "
                                         "got -0.1"):
        nn.regularizers.L2(-0.1)
    layer = Dense(2, kernel_regularizer="L2")
    assert layer.kernel_regularizer == nn.regularizers.L2(0.01)


# --------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------

def test_dropout_is_identity_in_inference():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 4))
    model = nn.Sequential([Dense(4, input_dim=4), Dropout(0.5), Dense(2)])
    w = model.get_weights()
    ref = (x @ w[0] + w[1]) @ w[2] + w[3]
    np.testing.assert_allclose(model.predict(x), ref, rtol=1e-5, atol=1e-5)
    model.compile(optimizer="sgd", loss="mse")
    assert model.evaluate(x, ref) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("rate", [0.25, 0.6])
def test_dropout_training_statistics(rate):
    """In training each input is kept with probability 1 - rate and scaled by
    1 / (1 - rate). With x = 1, a unit kernel and target 1, a sample's squared
    error is 1 when dropped and (rate / (1 - rate))^2 when kept, so the
    mean squared error is rate / (1 - rate). (Without the inverted scaling
    it would be rate.)"""
    n = 100_000
    model = nn.Sequential([Dropout(rate, input_dim=1), Dense(1)], seed=3)
    model.set_weights([np.ones((1, 1)), np.zeros(1)])
    model.compile(optimizer=nn.optimizers.SGD(TINY_LR), loss="mse")
    ones = np.ones((n, 1), np.float32)
    h = model.fit(ones, ones, batch_size=n, epochs=1, verbose=0)
    loss = h.history["loss"][0]
    assert loss == pytest.approx(rate / (1 - rate), rel=0.02)
    # the fraction dropped, solved from loss = f * 1 + (1 - f) * (rate / (1 - rate))^2
    kept_error = (rate / (1 - rate)) ** 2
    assert (loss - kept_error) / (1 - kept_error) == pytest.approx(rate, rel=0.02)
    # the masks come from the model's seed: the same seed, the same loss
    again = nn.Sequential([Dropout(rate, input_dim=1), Dense(1)], seed=3)
    again.set_weights([np.ones((1, 1)), np.zeros(1)])
    again.compile(optimizer=nn.optimizers.SGD(TINY_LR), loss="mse")
    assert again.fit(ones, ones, batch_size=n, epochs=1, verbose=0).history["loss"] == \
        h.history["loss"]


def test_dropout_rate_is_checked():
    for rate in (1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match=rf"dropout rate must be in \[0, 1\), got {rate}"):
            Dropout(rate)
    assert Dropout(0.0).rate == 0.0


# --------------------------------------------------------------------------
# BatchNormalization
# --------------------------------------------------------------------------

def test_batch_normalization_weights_and_inference_formula():
    rng = np.random.default_rng(5)
    model = nn.Sequential([Dense(3, input_dim=4), BatchNormalization(epsilon=1e-3),
                           Activation("relu")])
    info = model.weight_info()
    assert [(name, shape, trainable) for name, shape, trainable in info] == [
        ("kernel", (4, 3), True), ("bias", (3,), True), ("gamma", (3,), True),
        ("beta", (3,), True), ("moving_mean", (3,), False), ("moving_variance", (3,), False)]
    w = model.get_weights()
    np.testing.assert_array_equal(w[2], np.ones(3))      # gamma starts at 1
    np.testing.assert_array_equal(w[3], np.zeros(3))     # beta at 0
    np.testing.assert_array_equal(w[4], np.zeros(3))     # moving_mean at 0
    np.testing.assert_array_equal(w[5], np.ones(3))      # moving_variance at 1
    assert model.count_params() == 4 * 3 + 3 + 4 * 3     # Keras counts the statistics
    assert model.count_trainable_params() == 4 * 3 + 3 + 2 * 3
    kernel, bias = rng.normal(size=(4, 3)), rng.normal(size=3)
    gamma, beta = rng.uniform(0.5, 2, 3), rng.normal(size=3)
    mean, var = rng.normal(size=3), rng.uniform(0.1, 3, 3)
    model.set_weights([kernel, bias, gamma, beta, mean, var])
    for got, want in zip(model.get_weights(), [kernel, bias, gamma, beta, mean, var]):
        np.testing.assert_allclose(got, want.astype(np.float32))
    np.testing.assert_allclose(model.layers[1].get_weights()[3], var.astype(np.float32))
    x = rng.normal(size=(10, 4))
    z = x @ kernel + bias
    ref = np.maximum(gamma * (z - mean) / np.sqrt(var + 1e-3) + beta, 0)
    np.testing.assert_allclose(model.predict(x), ref, rtol=1e-5, atol=1e-5)


def test_batch_normalization_training_statistics():
    """PyTorch BatchNorm1d: training normalizes with the batch mean and the
    BIASED variance; the running estimates move by momentum towards the
    batch mean and the UNBIASED variance."""
    rng = np.random.default_rng(6)
    x = rng.normal(loc=3.0, scale=2.0, size=(8, 2))
    momentum, eps = 0.3, 1e-5
    model = nn.Sequential([BatchNormalization(momentum=momentum, epsilon=eps, input_dim=2),
                           Dense(1)])
    gamma, beta = np.array([1.5, 0.5]), np.array([0.2, -0.1])
    model.set_weights([gamma, beta, np.zeros(2), np.ones(2), np.array([[1.0], [0.0]]),
                       np.zeros(1)])
    model.compile(optimizer=nn.optimizers.SGD(TINY_LR), loss="mse")
    h = model.fit(x, np.zeros((8, 1)), batch_size=8, epochs=1, shuffle=False, verbose=0)
    mu, biased, unbiased = x.mean(axis=0), x.var(axis=0), x.var(axis=0, ddof=1)
    normalized = gamma[0] * (x[:, 0] - mu[0]) / np.sqrt(biased[0] + eps) + beta[0]
    assert h.history["loss"][0] == pytest.approx(np.mean(normalized ** 2), rel=1e-5)
    w = model.get_weights()
    np.testing.assert_allclose(w[2], (1 - momentum) * 0 + momentum * mu, rtol=1e-5)
    np.testing.assert_allclose(w[3], (1 - momentum) * 1 + momentum * unbiased, rtol=1e-5)


def test_batch_normalization_arguments():
    layer = BatchNormalization()
    assert (layer.momentum, layer.epsilon) == (0.1, 1e-5)
    with pytest.warns(UserWarning, match="PyTorch's convention.*Keras.*0.01"):
        BatchNormalization(momentum=0.99)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BatchNormalization(momentum=0.5)   # no warning
    with pytest.raises(ValueError, match=r"batch normalization momentum must be in \[0, 1\], "
                                         "got 1.5"):
        BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match="epsilon must be a finite number > 0, got 0.0"):
        BatchNormalization(epsilon=0)
    model = nn.Sequential([Dense(3, input_dim=2), BatchNormalization()])
    new = model.get_weights()
    new[5] = np.array([1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="moving_variance"):
        model.set_weights(new)


# --------------------------------------------------------------------------
# Layers in a model
# --------------------------------------------------------------------------

def test_layer_kinds_names_and_widths():
    model = nn.Sequential([Dense(8, input_dim=4, activation="relu"), Dropout(0.2),
                           Dense(6), BatchNormalization(), Activation("tanh"), Dropout(0.1),
                           Dense(2, activation="softmax")])
    assert [layer.kind for layer in model.layers] == [
        "dense", "dropout", "dense", "batch_normalization", "activation", "dropout", "dense"]
    assert [layer.name for layer in model.layers] == [
        "dense", "dropout", "dense_1", "batch_normalization", "activation", "dropout_1",
        "dense_2"]
    assert [layer.output_shape for layer in model.layers] == [
        (None, 8), (None, 8), (None, 6), (None, 6), (None, 6), (None, 6), (None, 2)]
    assert model.count_params() == sum(layer.count_params() for layer in model.layers) == \
        4 * 8 + 8 + 8 * 6 + 6 + 4 * 6 + 6 * 2 + 2
    assert len(model.get_weights()) == 2 + 2 + 4 + 2
    assert model.layers[1].get_weights() == []
    kernel, bias = model.layers[6].get_weights()
    assert kernel.shape == (6, 2)
    model.layers[6].set_weights([np.full((6, 2), 0.5), np.ones(2)])
    np.testing.assert_array_equal(model.get_weights()[-2], np.full((6, 2), 0.5, np.float32))
    text = []
    model.summary(print_fn=text.append)
    assert "Non-trainable params: 12" in text[0]


def test_lazy_build_with_a_non_dense_first_layer():
    model = nn.Sequential([Dropout(0.5), Dense(3), BatchNormalization()])
    assert not model.built and model.output_shape == (None, 3)
    out = model.predict(np.ones((2, 5)))
    assert out.shape == (2, 3)
    assert [layer.input_dim for layer in model.layers] == [5, 5, 3]
    assert [layer.kind for layer in model.layers] == ["dropout", "dense", "batch_normalization"]


# --------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------

def test_mae_and_huber_values(regression):
    x, y, w, b = regression
    d = x @ w + b - y
    mae = np.mean(np.abs(d))
    for loss in ("mae", "mean_absolute_error", nn.losses.MeanAbsoluteError()):
        assert _linear(w, b, loss=loss).evaluate(x, y) == pytest.approx(mae, rel=1e-5)

    def huber(d, delta):
        a = np.abs(d)
        return np.mean(np.where(a <= delta, 0.5 * d ** 2, delta * (a - 0.5 * delta)))

    assert np.any(np.abs(d) > 1) and np.any(np.abs(d) < 1)  # both branches are used
    assert _linear(w, b, loss="huber").evaluate(x, y) == pytest.approx(huber(d, 1.0), rel=1e-5)
    assert _linear(w, b, loss=nn.losses.Huber(delta=0.5)).evaluate(x, y) == pytest.approx(
        huber(d, 0.5), rel=1e-5)
    assert huber(d, 0.5) != pytest.approx(huber(d, 1.0), rel=1e-3)
    with pytest.raises(ValueError, match="huber: delta must be a finite number > 0, got -1.0"):
        nn.losses.Huber(delta=-1)


@pytest.mark.parametrize("loss,grad", [
    ("mae", lambda d: np.sign(d)),
    (nn.losses.Huber(delta=0.5), lambda d: np.clip(d, -0.5, 0.5)),
])
def test_mae_and_huber_sgd_step(regression, loss, grad):
    x, y, w, b = regression
    lr = 0.2
    model = _linear(w, b, nn.optimizers.SGD(lr), loss=loss)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    dp = grad(x @ w + b - y) / y.size
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel, w - lr * x.T @ dp, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bias, b - lr * dp.sum(axis=0), rtol=1e-5, atol=1e-6)


def test_regressor_trains():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    for loss in ("mse", "mae", "huber"):
        model = nn.Sequential([Dense(8, input_dim=3, activation="elu"), Dense(1)], seed=1)
        model.compile(optimizer=nn.optimizers.Adam(0.02), loss=loss, metrics=["mae"])
        h = model.fit(x, y, epochs=60, batch_size=32, verbose=0)
        assert h.history["mean_absolute_error"][-1] < 0.15, loss


# --------------------------------------------------------------------------
# Optimizers against the PyTorch formulas
# --------------------------------------------------------------------------

def _run_steps(regression, optimizer, update, steps=3):
    """`steps` full-batch steps of `optimizer` against `update(t, i, p, g)`,
    a numpy reference returning the new parameter i at step t (from 1)."""
    x, y, w, b = regression
    model = _linear(w, b, optimizer)
    params = [w.copy(), b.copy()]
    for t in range(1, steps + 1):
        grads = _mse_grads(x, y, *params)
        params = [update(t, i, p, g) for i, (p, g) in enumerate(zip(params, grads))]
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        got = model.get_weights()
        for i in range(2):
            np.testing.assert_allclose(got[i], params[i], rtol=1e-5, atol=2e-6,
                                       err_msg=f"step {t}, weight {i}")
    return params


def test_sgd_dampening(regression):
    """torch.optim.SGD: b_1 = g_1, b_t = momentum b_{t-1} + (1 - dampening) g_t."""
    lr, mu, damp = 0.05, 0.9, 0.3
    buf = {}

    def update(t, i, p, g):
        buf[i] = g.copy() if t == 1 else mu * buf[i] + (1 - damp) * g
        return p - lr * buf[i]

    _run_steps(regression, nn.optimizers.SGD(lr, momentum=mu, dampening=damp), update)


@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_amsgrad_and_adamw(regression, decoupled):
    """torch.optim.Adam(amsgrad=True) and torch.optim.AdamW:
        AdamW: theta *= 1 - lr * weight_decay first;  Adam: g += weight_decay * theta
        m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  vmax = max(vmax, v)
        theta -= lr * (m / (1 - b1^t)) / (sqrt(vmax / (1 - b2^t)) + eps)"""
    lr, b1, b2, eps, wd = 0.01, 0.9, 0.999, 1e-8, 0.05
    state = {}

    def update(t, i, p, g):
        m, v, vmax = state.get(i, (0.0, 0.0, 0.0))
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        state[i] = (m, v, vmax)
        return p - lr * (m / (1 - b1 ** t)) / (np.sqrt(vmax / (1 - b2 ** t)) + eps)

    cls = nn.optimizers.AdamW if decoupled else nn.optimizers.Adam
    _run_steps(regression, cls(learning_rate=lr, weight_decay=wd, amsgrad=True), update,
               steps=4)


@pytest.mark.parametrize("centered,momentum,spelling", [
    (False, 0.0, "rho"), (True, 0.0, "alpha"), (True, 0.5, "rho"), (False, 0.7, "alpha")])
def test_rmsprop(regression, centered, momentum, spelling):
    """torch.optim.RMSprop:
        g += wd theta;  v = alpha v + (1 - alpha) g^2
        centered: a = alpha a + (1 - alpha) g;  d = sqrt(v - a^2) + eps;  else d = sqrt(v) + eps
        momentum: b = mu b + g / d;  theta -= lr b;  else theta -= lr g / d"""
    lr, alpha, eps, wd = 0.01, 0.9, 1e-8, 0.01
    state = {}

    def update(t, i, p, g):
        v, a, buf = state.get(i, (0.0, 0.0, 0.0))
        g = g + wd * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            a = alpha * a + (1 - alpha) * g
            d = np.sqrt(v - a * a) + eps
        else:
            d = np.sqrt(v) + eps
        if momentum > 0:
            buf = momentum * buf + g / d
            step = buf
        else:
            step = g / d
        state[i] = (v, a, buf)
        return p - lr * step

    kwargs = {spelling: alpha}
    opt = nn.optimizers.RMSprop(learning_rate=lr, momentum=momentum, centered=centered,
                                weight_decay=wd, **kwargs)
    assert opt.rho == opt.alpha == alpha
    _run_steps(regression, opt, update)


def test_adagrad(regression):
    """torch.optim.Adagrad: clr = lr / (1 + (t - 1) lr_decay); g += wd theta;
    s += g^2 (s_0 = initial_accumulator_value); theta -= clr g / (sqrt(s) + eps)"""
    lr, decay, init, eps, wd = 0.1, 0.2, 0.5, 1e-10, 0.01
    sums = {}

    def update(t, i, p, g):
        g = g + wd * p
        sums[i] = sums.get(i, init) + g * g
        return p - lr / (1 + (t - 1) * decay) * g / (np.sqrt(sums[i]) + eps)

    _run_steps(regression, nn.optimizers.Adagrad(learning_rate=lr, lr_decay=decay,
                                                 initial_accumulator_value=init,
                                                 weight_decay=wd), update)


def test_rprop(regression):
    """torch.optim.Rprop: s = sign(g prev); eta *= eta_plus (s > 0) or
    eta_minus (s < 0), clamped to step_sizes; g = 0 where s < 0;
    theta -= sign(g) eta; prev = g."""
    lr, etas, sizes = 0.05, (0.4, 1.3), (1e-4, 0.06)
    state = {}

    def update(t, i, p, g):
        prev, eta = state.get(i, (np.zeros_like(p), np.full_like(p, lr)))
        s = g * prev
        eta = np.clip(eta * np.where(s > 0, etas[1], np.where(s < 0, etas[0], 1.0)), *sizes)
        g = np.where(s < 0, 0.0, g)
        state[i] = (g, eta)
        return p - np.sign(g) * eta

    _run_steps(regression, nn.optimizers.Rprop(learning_rate=lr, etas=etas, step_sizes=sizes),
               update, steps=5)


@pytest.mark.parametrize("clip", ["clipvalue", "clipnorm", "global_clipnorm"])
def test_gradient_clipping(regression, clip):
    """Keras's clipping before the SGD step: element-wise to [-c, c]; each
    weight array's gradient to norm <= c; the whole gradient to norm <= c."""
    x, y, w, b = regression
    lr, c = 0.5, 0.05
    grads = list(_mse_grads(x, y, w, b))
    if clip == "clipvalue":
        clipped = [np.clip(g, -c, c) for g in grads]
    elif clip == "clipnorm":
        clipped = [g * min(1.0, c / np.linalg.norm(g)) for g in grads]
    else:
        total = math.sqrt(sum(float((g ** 2).sum()) for g in grads))
        clipped = [g * min(1.0, c / total) for g in grads]
    assert not np.allclose(clipped[0], grads[0])  # the clipping is active
    model = _linear(w, b, nn.optimizers.SGD(lr, **{clip: c}))
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for got, p, g in zip(model.get_weights(), (w, b), clipped):
        np.testing.assert_allclose(got, p - lr * g, rtol=1e-5, atol=1e-6)


def test_optimizer_defaults_are_pytorch():
    sgd = nn.optimizers.SGD()._options()
    assert (sgd.learning_rate, sgd.momentum, sgd.dampening, sgd.nesterov) == (0.01, 0, 0, 0)
    adamw = nn.optimizers.AdamW()._options()
    assert (adamw.kind, adamw.learning_rate, adamw.weight_decay, adamw.epsilon,
            adamw.amsgrad) == (_lib.NN_OPTIMIZER_ADAMW, 0.001, 0.01, 1e-8, 0)
    rms = nn.optimizers.RMSprop()._options()
    assert (rms.learning_rate, rms.alpha, rms.momentum, rms.epsilon, rms.centered) == (
        0.01, 0.99, 0.0, 1e-8, 0)
    ada = nn.optimizers.Adagrad()._options()
    assert (ada.learning_rate, ada.lr_decay, ada.initial_accumulator_value, ada.epsilon) == (
        0.01, 0.0, 0.0, 1e-10)
    rprop = nn.optimizers.Rprop()._options()
    assert (rprop.learning_rate, rprop.eta_minus, rprop.eta_plus, rprop.step_size_min,
            rprop.step_size_max) == (0.01, 0.5, 1.2, 1e-6, 50.0)
    assert (sgd.clip_value, sgd.clip_norm, sgd.global_clip_norm) == (0, 0, 0)
    for name, cls in [("sgd", nn.optimizers.SGD), ("adam", nn.optimizers.Adam),
                      ("adamw", nn.optimizers.AdamW), ("rmsprop", nn.optimizers.RMSprop),
                      ("adagrad", nn.optimizers.Adagrad), ("rprop", nn.optimizers.Rprop)]:
        assert type(nn.optimizers.get(name)) is cls
        assert type(nn.optimizers.get(name.upper())) is cls


def test_every_optimizer_trains():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 3))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.float32)
    for name in ("sgd", "adam", "adamw", "rmsprop", "adagrad", "rprop"):
        model = nn.Sequential([Dense(6, input_dim=3, activation="tanh"),
                               Dense(1, activation="sigmoid")], seed=4)
        model.compile(optimizer=name, loss="binary_crossentropy", metrics=["accuracy"])
        h = model.fit(x, y, epochs=30, batch_size=64, verbose=0)
        assert h.history["loss"][-1] < h.history["loss"][0], name


def test_optimizer_argument_errors():
    with pytest.raises(ValueError, match=r"sgd: learning_rate must be a finite number > 0, "
                                         r"got -0.5"):
        nn.optimizers.SGD(learning_rate=-0.5)
    with pytest.raises(ValueError, match=r"sgd: momentum must be a finite number >= 0, got -0.1"):
        nn.optimizers.SGD(momentum=-0.1)
    with pytest.raises(ValueError, match=r"rmsprop: momentum must be a finite number >= 0, "
                                         r"got -1.0"):
        nn.optimizers.RMSprop(momentum=-1)
    with pytest.raises(ValueError, match=r"clipvalue must be > 0 \(or None to disable "
                                         r"clipping\), got 0"):
        nn.optimizers.Adam(clipvalue=0)
    with pytest.raises(ValueError, match="clipnorm must be a finite number > 0, got -1.0"):
        nn.optimizers.SGD(clipnorm=-1)
    with pytest.raises(ValueError, match="rho=0.5 and alpha=0.9 disagree"):
        nn.optimizers.RMSprop(rho=0.5, alpha=0.9)
    with pytest.raises(ValueError, match=r"rprop: eta_minus must be in \(0, 1\), got 1.5"):
        nn.optimizers.Rprop(etas=(1.5, 1.2))
    with pytest.raises(ValueError, match="etas must be a pair of numbers"):
        nn.optimizers.Rprop(etas=0.5)
    with pytest.raises(ValueError, match="adagrad: lr_decay must be a finite number >= 0"):
        nn.optimizers.Adagrad(lr_decay=-1)
    with pytest.raises(ValueError, match="amsgrad must be True or False"):
        nn.optimizers.AdamW(amsgrad=1)


# --------------------------------------------------------------------------
# Learning-rate schedules
# --------------------------------------------------------------------------

@pytest.mark.parametrize("schedule,formula", [
    (nn.schedules.StepDecay(0.1, step_size=2, gamma=0.5),
     lambda e: 0.1 * 0.5 ** (e // 2)),
    (nn.schedules.ExponentialDecay(0.1, gamma=0.8),
     lambda e: 0.1 * 0.8 ** e),
    (nn.schedules.CosineDecay(0.1, t_max=4, eta_min=0.01),
     lambda e: 0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * e / 4)) / 2),
])
def test_schedule_learning_rate_logs(schedule, formula):
    """The epoch counts every epoch the model has trained, across fits."""
    x, y = np.ones((4, 1)), np.zeros((4, 1))
    model = nn.Sequential([Dense(1, input_dim=1)])
    model.compile(optimizer=nn.optimizers.SGD(learning_rate=schedule), loss="mse")
    h1 = model.fit(x, y, epochs=5, verbose=0)
    h2 = model.fit(x, y, epochs=3, verbose=0)
    logged = h1.history["learning_rate"] + h2.history["learning_rate"]
    np.testing.assert_allclose(logged, [formula(e) for e in range(8)], rtol=1e-12)
    assert model.learning_rate == pytest.approx(formula(7), rel=1e-12)
    # compiling with a constant rate removes the schedule and its log
    model.compile(optimizer=nn.optimizers.SGD(0.05), loss="mse")
    h3 = model.fit(x, y, epochs=2, verbose=0)
    assert "learning_rate" not in h3.history and model.learning_rate == 0.05


def test_schedule_drives_the_updates(regression):
    """SGD under StepDecay(0.2, 1, 0.5): the steps use 0.2, 0.1, 0.05."""
    lr = [0.2, 0.1, 0.05]
    _run_steps(regression, nn.optimizers.SGD(nn.schedules.StepDecay(0.2, 1, gamma=0.5)),
               lambda t, i, p, g: p - lr[t - 1] * g)


def test_schedule_arguments():
    with pytest.raises(ValueError, match="initial_learning_rate must be a finite number > 0, "
                                         "got -0.1"):
        nn.schedules.StepDecay(-0.1, 2)
    with pytest.raises(ValueError, match="step_size must be an integer >= 1, got 0"):
        nn.schedules.StepDecay(0.1, 0)
    with pytest.raises(ValueError, match="t_max must be an integer >= 1, got -3"):
        nn.schedules.CosineDecay(0.1, -3)
    with pytest.raises(ValueError, match="gamma must be a finite number > 0, got -1.0"):
        nn.schedules.ExponentialDecay(0.1, -1)
    with pytest.raises(ValueError, match="eta_min must be a finite number >= 0, got -0.5"):
        nn.schedules.CosineDecay(0.1, 5, eta_min=-0.5)
    opt = nn.optimizers.Adam(learning_rate=nn.schedules.ExponentialDecay(0.003, 0.9))
    assert opt.initial_learning_rate == 0.003 and opt._options().learning_rate == 0.003


def keras_reduce_lr_on_plateau(values, lr, factor, patience, cooldown, min_delta, min_lr):
    """Keras's ReduceLROnPlateau (mode 'min'), written from its source:
    returns the rate of each epoch and the rate after the last one."""
    best, wait, cooldown_counter = math.inf, 0, 0
    rates = []
    for current in values:
        rates.append(lr)
        if cooldown_counter > 0:
            cooldown_counter -= 1
            wait = 0
        if current < best - min_delta:
            best, wait = current, 0
        elif not cooldown_counter > 0:
            wait += 1
            if wait >= patience and lr > min_lr:
                lr = max(lr * factor, min_lr)
                cooldown_counter = cooldown
                wait = 0
    return rates, lr


def test_reduce_lr_on_plateau():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(16, 2))
    y = rng.normal(size=(16, 1))
    model = nn.Sequential([Dense(1, input_dim=2)])
    # a tiny rate: the loss barely moves, so it plateaus at once
    model.compile(optimizer=nn.optimizers.SGD(1e-4), loss="mse")
    callback = nn.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2,
                                              cooldown=1, min_delta=1e-2, min_lr=2e-6)
    h = model.fit(x, y, epochs=14, verbose=0, callbacks=[callback])
    rates, final = keras_reduce_lr_on_plateau(h.history["loss"], 1e-4, 0.5, 2, 1, 1e-2, 2e-6)
    np.testing.assert_allclose(h.history["learning_rate"], rates, rtol=1e-12)
    assert len(set(rates)) >= 4 and min(rates) == 2e-6    # it reduced, down to min_lr
    # the reduced rate stays after fit, and a later fit with the callback goes on from it
    assert model.learning_rate == pytest.approx(final, rel=1e-12)
    h2 = model.fit(x, y, epochs=2, verbose=0, callbacks=[callback])
    assert h2.history["learning_rate"][0] == pytest.approx(final, rel=1e-12)
    # a fit without it keeps the reduced rate (Keras: the callback changed the
    # optimizer's rate); compiling again starts from the optimizer's rate
    h3 = model.fit(x, y, epochs=1, verbose=0)
    assert "learning_rate" not in h3.history
    assert model.learning_rate == pytest.approx(final, rel=1e-12)
    model.compile(optimizer=nn.optimizers.SGD(1e-4), loss="mse")
    assert model.learning_rate == 1e-4


def test_reduce_lr_on_plateau_errors():
    with pytest.raises(ValueError, match=r"factor must be in \(0, 1\), got 1.5"):
        nn.callbacks.ReduceLROnPlateau(factor=1.5)
    with pytest.raises(ValueError, match="patience must be an integer >= 0, got -1"):
        nn.callbacks.ReduceLROnPlateau(patience=-1)
    x, y = np.ones((4, 1)), np.zeros((4, 1))
    model = nn.Sequential([Dense(1, input_dim=1)])
    model.compile(optimizer=nn.optimizers.SGD(nn.schedules.StepDecay(0.1, 2)), loss="mse")
    with pytest.raises(ValueError, match="cannot be combined with an optimizer whose "
                                         "learning_rate is a schedule"):
        model.fit(x, y, verbose=0, callbacks=[nn.callbacks.ReduceLROnPlateau(monitor="loss")])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(nn.InvalidArgumentError, match="reduce-on-plateau monitors 'val_loss', "
                                                      "but this fit logs loss"):
        model.fit(x, y, verbose=0, callbacks=[nn.callbacks.ReduceLROnPlateau()])


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def binary_problem():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(300, 4))
    y = (x[:, 0] + 0.7 * rng.normal(size=300) > 0.2).astype(np.float32)
    model = nn.Sequential([Dense(1, input_dim=4, activation="sigmoid")], seed=2)
    model.compile(optimizer=nn.optimizers.Adam(0.05), loss="binary_crossentropy")
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)   # a partly trained model
    return model, x, y


@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_binary_metrics_against_sklearn(binary_problem, threshold):
    model, x, y = binary_problem
    p = model.predict(x)[:, 0]
    decided = (p > threshold).astype(np.float32)
    assert 0.1 < decided.mean() < 0.9 and 0.6 < np.mean(decided == y) < 0.98
    if threshold == 0.5:
        metrics = ["precision", "recall", "f1_score", "binary_accuracy", "mae"]
    else:
        metrics = [nn.metrics.Precision(threshold), nn.metrics.Recall(threshold),
                   nn.metrics.F1Score(threshold), nn.metrics.BinaryAccuracy(threshold),
                   nn.metrics.MeanAbsoluteError()]
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=metrics)
    got = model.evaluate(x, y, return_dict=True)
    assert list(got) == ["loss", "precision", "recall", "f1_score", "binary_accuracy",
                         "mean_absolute_error"]
    assert got["precision"] == pytest.approx(precision_score(y, decided), abs=1e-12)
    assert got["recall"] == pytest.approx(recall_score(y, decided), abs=1e-12)
    assert got["f1_score"] == pytest.approx(f1_score(y, decided), abs=1e-12)
    assert got["binary_accuracy"] == pytest.approx(np.mean(decided == y), abs=1e-12)
    assert got["mean_absolute_error"] == pytest.approx(np.mean(np.abs(y - p)), rel=1e-5)


@pytest.fixture(scope="module")
def multiclass_problem():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(400, 5))
    labels = np.argmax(x[:, :4] + 0.8 * rng.normal(size=(400, 4)), axis=1)
    model = nn.Sequential([Dense(4, input_dim=5, activation="softmax")], seed=3)
    model.compile(optimizer=nn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, labels, epochs=2, batch_size=32, verbose=0)
    return model, x, labels


def test_multiclass_metrics(multiclass_problem):
    model, x, labels = multiclass_problem
    p = model.predict(x)
    predicted = p.argmax(axis=1)
    assert set(predicted) == set(labels) == {0, 1, 2, 3}
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["acc", "f1_macro", "sparse_categorical_accuracy",
                           nn.metrics.TopKAccuracy(k=2), "categorical_accuracy"])
    got = model.evaluate(x, labels, return_dict=True)
    assert list(got) == ["loss", "accuracy", "f1_macro", "sparse_categorical_accuracy",
                         "top_k_accuracy", "categorical_accuracy"]
    accuracy = np.mean(predicted == labels)
    assert got["accuracy"] == got["sparse_categorical_accuracy"] == pytest.approx(accuracy)
    assert got["categorical_accuracy"] == pytest.approx(accuracy)
    assert got["f1_macro"] == pytest.approx(f1_score(labels, predicted, average="macro"),
                                            abs=1e-12)
    top2 = np.argsort(-p, axis=1)[:, :2]
    in_top2 = np.mean([labels[i] in top2[i] for i in range(len(labels))])
    assert in_top2 > accuracy
    assert got["top_k_accuracy"] == pytest.approx(in_top2, abs=1e-12)


def test_metrics_in_fit_logs_and_recompile(binary_problem):
    model, x, y = binary_problem
    model.compile(optimizer=nn.optimizers.SGD(TINY_LR), loss="binary_crossentropy",
                  metrics=["accuracy", "precision", "recall"])
    h = model.fit(x[:200], y[:200], batch_size=200, epochs=1, shuffle=False, verbose=0,
                  validation_data=(x[200:], y[200:]))
    assert list(h.history) == ["loss", "accuracy", "precision", "recall", "val_loss",
                               "val_accuracy", "val_precision", "val_recall"]
    val = model.evaluate(x[200:], y[200:], return_dict=True)
    for name in ("loss", "accuracy", "precision", "recall"):
        assert h.history["val_" + name][0] == pytest.approx(val[name], rel=1e-6)
    train = (model.predict(x[:200])[:, 0] > 0.5).astype(np.float32)
    assert h.history["precision"][0] == pytest.approx(precision_score(y[:200], train))
    # fewer metrics after re-compiling: libnn drops the others
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["recall"])
    assert model.metrics_names == ["loss", "recall"]
    assert list(model.evaluate(x, y, return_dict=True)) == ["loss", "recall"]
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    assert isinstance(model.evaluate(x, y), float)
    h = model.fit(x, y, epochs=1, verbose=0)
    assert list(h.history) == ["loss"]


def test_metric_errors(binary_problem):
    model, x, y = binary_problem
    with pytest.raises(ValueError, match=r"precision: threshold must be in \(0, 1\).*got 1.5"):
        nn.metrics.Precision(threshold=1.5)
    with pytest.raises(ValueError, match="top_k_accuracy: k must be a whole number >= 1"):
        nn.metrics.TopKAccuracy(k=0)
    with pytest.raises(ValueError, match="would both be logged as 'precision'"):
        model.compile(optimizer="sgd", loss="binary_crossentropy",
                      metrics=[nn.metrics.Precision(0.3), nn.metrics.Precision(0.7)])
    # the same metric twice is kept once
    model.compile(optimizer="sgd", loss="binary_crossentropy",
                  metrics=["acc", "accuracy", nn.metrics.Precision(), "precision"])
    assert model.metrics_names == ["loss", "accuracy", "precision"]
    multi = nn.Sequential([Dense(3, input_dim=4, activation="softmax")])
    multi.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["precision"])
    with pytest.raises(nn.InvalidStateError, match="precision is a binary metric.*f1_macro"):
        multi.evaluate(x, np.zeros(len(x)))


# --------------------------------------------------------------------------
# Confusion matrix
# --------------------------------------------------------------------------

def test_confusion_matrix_binary(binary_problem):
    model, x, y = binary_problem
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    cm = model.confusion_matrix(x, y)
    decided = (model.predict(x)[:, 0] > 0.5).astype(int)
    assert cm.shape == (2, 2) and cm.dtype == np.int64
    np.testing.assert_array_equal(cm, sk_confusion_matrix(y.astype(int), decided))
    assert cm.sum() == len(x) and np.all(cm > 0)


def test_confusion_matrix_multiclass(multiclass_problem):
    model, x, labels = multiclass_problem
    predicted = model.predict(x).argmax(axis=1)
    expected = np.zeros((4, 4), dtype=np.int64)
    np.add.at(expected, (labels, predicted), 1)
    np.testing.assert_array_equal(model.confusion_matrix(x, labels), expected)
    # one-hot targets with categorical cross-entropy: the same counts
    onehot = nn.Sequential([Dense(4, input_dim=5, activation="softmax")], seed=3)
    onehot.set_weights(model.get_weights())
    onehot.compile(optimizer="sgd", loss="categorical_crossentropy")
    np.testing.assert_array_equal(
        onehot.confusion_matrix(x, nn.utils.to_categorical(labels, 4)), expected)


def test_confusion_matrix_multilabel_pools_outputs():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(60, 3))
    y = (rng.uniform(size=(60, 3)) > 0.5).astype(np.float32)
    model = nn.Sequential([Dense(3, input_dim=3, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    decided = (model.predict(x) > 0.5).astype(int)
    expected = sk_confusion_matrix(y.astype(int).ravel(), decided.ravel())
    np.testing.assert_array_equal(model.confusion_matrix(x, y), expected)


def test_confusion_matrix_needs_a_classification_loss():
    model = nn.Sequential([Dense(1, input_dim=2)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(nn.InvalidStateError, match="needs a classification loss"):
        model.confusion_matrix(np.zeros((2, 2)), np.zeros(2))


# --------------------------------------------------------------------------
# fit: sample_weight, class_weight, validation, early stopping
# --------------------------------------------------------------------------

@pytest.fixture
def weighted_problem():
    rng = np.random.default_rng(13)
    x = rng.normal(size=(20, 3))
    y = (rng.uniform(size=20) > 0.4).astype(np.float32)
    return x, y


def _bce_per_sample(model, x, y):
    p = model.predict(x)[:, 0].astype(np.float64)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def test_sample_and_class_weights_scale_the_loss(weighted_problem):
    """Keras: each sample's loss times its weight (sample weight times class
    weight), summed and divided by the number of samples."""
    x, y = weighted_problem
    model = nn.Sequential([Dense(1, input_dim=3, activation="sigmoid")], seed=5)
    model.compile(optimizer=nn.optimizers.SGD(TINY_LR), loss="binary_crossentropy")
    losses = _bce_per_sample(model, x, y)
    sample_weight = np.linspace(0.0, 2.0, 20)
    class_weight = {0: 0.5, 1: 3.0}
    per_class = np.where(y == 1, 3.0, 0.5)
    cases = [
        (dict(), np.ones(20)),
        (dict(sample_weight=sample_weight), sample_weight),
        (dict(class_weight=class_weight), per_class),
        (dict(sample_weight=sample_weight, class_weight=class_weight), sample_weight * per_class),
        (dict(class_weight={1: 2.0}), np.where(y == 1, 2.0, 1.0)),   # class 0 left out: 1.0
    ]
    for kwargs, weights in cases:
        h = model.fit(x, y, batch_size=20, epochs=1, shuffle=False, verbose=0, **kwargs)
        expected = np.sum(weights * losses) / len(y)
        assert h.history["loss"][0] == pytest.approx(expected, rel=1e-5), kwargs
    # evaluate is unweighted
    assert model.evaluate(x, y) == pytest.approx(np.mean(losses), rel=1e-5)


def test_sample_weight_scales_the_gradient(regression):
    x, y, w, b = regression
    lr = 0.1
    sw = np.array([0.0, 1.0, 2.0, 0.5, 1.5, 3.0, 1.0, 0.25])
    model = _linear(w, b, nn.optimizers.SGD(lr))
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0, sample_weight=sw)
    p = x @ w + b
    dp = 2.0 * (p - y) * sw[:, None] / p.size
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel, w - lr * x.T @ dp, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bias, b - lr * dp.sum(axis=0), rtol=1e-5, atol=1e-6)


def test_class_weight_with_sparse_labels(multiclass_problem):
    model, x, labels = multiclass_problem
    clone = nn.Sequential([Dense(4, input_dim=5, activation="softmax")])
    clone.set_weights(model.get_weights())
    clone.compile(optimizer=nn.optimizers.SGD(TINY_LR), loss="sparse_categorical_crossentropy")
    p = clone.predict(x).astype(np.float64)
    losses = -np.log(p[np.arange(len(labels)), labels])
    weights = np.array([1.0, 2.0, 0.0, 4.0])
    h = clone.fit(x, labels, batch_size=len(x), epochs=1, shuffle=False, verbose=0,
                  class_weight={0: 1.0, 1: 2.0, 2: 0.0, 3: 4.0})
    assert h.history["loss"][0] == pytest.approx(np.mean(weights[labels] * losses), rel=1e-5)


def test_weight_errors(weighted_problem):
    x, y = weighted_problem
    model = nn.Sequential([Dense(1, input_dim=3, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    with pytest.raises(ValueError, match="sample_weight has 19 values but x has 20 samples"):
        model.fit(x, y, sample_weight=np.ones(19), verbose=0)
    with pytest.raises(ValueError, match=r"sample_weight must be a 1-D array .* \(20, 2\)"):
        model.fit(x, y, sample_weight=np.ones((20, 2)), verbose=0)
    bad = np.ones(20)
    bad[4] = -1
    with pytest.raises(nn.InvalidArgumentError, match="sample_weight 4 is -1.0"):
        model.fit(x, y, sample_weight=bad, verbose=0)
    with pytest.raises(ValueError, match="class_weight keys must be class indices"):
        model.fit(x, y, class_weight={"cat": 2.0}, verbose=0)
    with pytest.raises(ValueError, match=r"class_weight must be a dict"):
        model.fit(x, y, class_weight=[1.0, 2.0], verbose=0)
    with pytest.raises(nn.InvalidArgumentError, match="class_weight of class 1 is -2.0"):
        model.fit(x, y, class_weight={1: -2.0}, verbose=0)


def test_validation_data_wins_over_validation_split():
    rng = np.random.default_rng(14)
    x = rng.normal(size=(30, 2))
    y = (x[:, :1] > 0).astype(np.float32)
    xv, yv = rng.normal(size=(7, 2)), rng.integers(0, 2, size=(7, 1))
    model = nn.Sequential([Dense(1, input_dim=2, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=2, validation_split=0.5, validation_data=(xv, yv), verbose=0)
    assert h.params["samples"] == 30     # nothing split off
    assert h.history["val_loss"][-1] == pytest.approx(model.evaluate(xv, yv)[0], rel=1e-6)


def test_early_stopping_restores_the_best_weights():
    """libnn restores the weights of the best epoch; a callback records the
    weights after every epoch to check which."""
    rng = np.random.default_rng(15)
    x = rng.normal(size=(60, 4))
    y = (x[:, 0] + rng.normal(size=60) > 0).astype(np.float32)
    model = nn.Sequential([Dense(32, input_dim=4, activation="relu"),
                           Dense(1, activation="sigmoid")], seed=8)
    model.compile(optimizer=nn.optimizers.Adam(0.05), loss="binary_crossentropy")
    seen = []
    stopper = nn.callbacks.EarlyStopping(monitor="val_loss", patience=3,
                                         restore_best_weights=True)
    h = model.fit(x[:40], y[:40], epochs=300, batch_size=8, verbose=0,
                  validation_data=(x[40:], y[40:]),
                  callbacks=[stopper, lambda epoch, logs: seen.append(model.get_weights())])
    val = h.history["val_loss"]
    best = int(np.argmin(val))
    assert len(val) < 300 and len(val) == best + 1 + 3
    assert stopper.stopped_epoch == len(val) - 1 and stopper.best_epoch == best
    for got, want in zip(model.get_weights(), seen[best]):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(seen[-1][0], seen[best][0])
    # without restoring, the model keeps the last epoch's weights
    model2 = nn.Sequential([Dense(32, input_dim=4, activation="relu"),
                            Dense(1, activation="sigmoid")], seed=8)
    model2.compile(optimizer=nn.optimizers.Adam(0.05), loss="binary_crossentropy")
    h2 = model2.fit(x[:40], y[:40], epochs=300, batch_size=8, verbose=0,
                    validation_data=(x[40:], y[40:]),
                    callbacks=[nn.callbacks.EarlyStopping(patience=3)])
    assert h2.history["val_loss"] == val
    np.testing.assert_array_equal(model2.get_weights()[0], seen[-1][0])


def test_early_stopping_mode_and_monitor():
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1], dtype=np.float32)
    model = nn.Sequential([Dense(1, input_dim=1, activation="sigmoid")])
    model.compile(optimizer=nn.optimizers.SGD(TINY_LR), loss="binary_crossentropy",
                  metrics=["accuracy"])
    # accuracy never changes: 'auto' means 'max' for it, so it stops after patience epochs
    stopper = nn.callbacks.EarlyStopping(monitor="accuracy", patience=2)
    h = model.fit(x, y, epochs=50, verbose=0, callbacks=[stopper])
    assert len(h.epoch) == 3 and stopper.stopped_epoch == 2
    assert stopper.best == h.history["accuracy"][0]


def test_early_stopping_errors():
    with pytest.raises(ValueError, match="patience must be an integer >= 0, got -1"):
        nn.callbacks.EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max', got 'down'"):
        nn.callbacks.EarlyStopping(mode="down")
    model = nn.Sequential([Dense(1, input_dim=1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 1)), np.zeros((4, 1))
    with pytest.raises(nn.InvalidArgumentError, match="early stopping monitors 'val_loss'.*"
                                                      "give validation data"):
        model.fit(x, y, verbose=0, callbacks=[nn.callbacks.EarlyStopping()])
    with pytest.raises(ValueError, match="at most one EarlyStopping"):
        model.fit(x, y, verbose=0, callbacks=[nn.callbacks.EarlyStopping(monitor="loss"),
                                              nn.callbacks.EarlyStopping(monitor="loss")])


# --------------------------------------------------------------------------
# Bad input named in the issue
# --------------------------------------------------------------------------

def test_binary_crossentropy_with_class_labels_is_an_error():
    rng = np.random.default_rng(16)
    x = rng.normal(size=(20, 4))
    labels = np.arange(20) % 10          # integer labels 0..9
    model = nn.Sequential([Dense(10, input_dim=4, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    with pytest.raises(nn.InvalidArgumentError,
                       match="expects 10 target columns, got 1; for class labels use sparse_categorical"):
        model.fit(x, labels, verbose=0)
    with pytest.raises(nn.InvalidArgumentError,
                       match=r"targets must lie in \[0, 1\]; found 2.0 .*class labels\? use "
                             "sparse_categorical_crossentropy"):
        model.fit(x, np.repeat(labels[:, None], 10, axis=1), verbose=0)
    one = nn.Sequential([Dense(1, input_dim=4, activation="sigmoid")])
    one.compile(optimizer="adam", loss="binary_crossentropy")
    with pytest.raises(nn.InvalidArgumentError, match="class labels"):
        one.fit(x, labels, verbose=0)
    assert one.get_weights()[0].shape == (4, 1)


def test_compile_checks_everything_before_changing_anything():
    lazy = nn.Sequential([Dense(1)])  # not built: libnn checks on a scratch model
    bad = nn.optimizers.Adam()
    bad.beta_1 = 1.5
    with pytest.raises(ValueError, match=r"adam: beta_1 must be in \[0, 1\), got 1.5"):
        lazy.compile(optimizer=bad, loss="mse")
    assert lazy.optimizer is None
    model = nn.Sequential([Dense(1, input_dim=2)])
    model.compile(optimizer=nn.optimizers.SGD(0.5), loss="mse", metrics=["mae"])
    huber = nn.losses.Huber()
    huber.delta = -1.0
    with pytest.raises(ValueError, match="huber: delta must be a finite number > 0, got -1.0"):
        model.compile(optimizer="adam", loss=huber)
    assert model.learning_rate == 0.5 and isinstance(model.optimizer, nn.optimizers.SGD)
    assert model.metrics_names == ["loss", "mean_absolute_error"]
    assert model.loss.name == "mean_squared_error"
